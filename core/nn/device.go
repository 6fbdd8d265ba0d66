package nn

import "errors"

// Devices.
//
// A model runs on the CPU (the default) or, in a binary built with
// `-tags cuda` (scripts/cuda/build.sh), on a CUDA GPU: Config.Device
// "cuda". The CUDA path keeps the design of the CPU one: the weights,
// AdamW and the KV caches of sampling stay in host memory, and each op of
// a graph that has a GPU kernel (devSpec below) runs on the GPU through
// Gorgonia's CUDA tape machine, which copies values between host and
// device where a GPU op meets a CPU one. The ops that stay on the CPU are
// the fused losses (their per-row bookkeeping reads Go-side batch data),
// Capture, GradOut (which hands each parameter's gradient to AdamW on the
// host) and the sampling ops that read or write the KV caches. Graphs hold
// no stock Gorgonia op (backprop.go), so a CPU model never touches the GPU,
// even in the CUDA build. Matrix
// products go to cuBLAS; the other GPU kernels are pit's own, in
// core/nn/cuda/kernels.cu, each the twin of a Go kernel in kernels.go or
// llama_kernels.go.
// Only float32 models run on the GPU.

// devKind names the GPU kernel of an op.
type devKind int

const (
	devNone          devKind = iota // no GPU kernel: the op runs on the CPU
	devLinear                       // y = x·w (+ b)
	devLinearGX                     // dx = dy·wᵀ
	devLinearGW                     // dw = xᵀ·dy
	devResidual                     // y = a + b
	devLayerNorm                    // layer norm forward
	devLNGradX                      // layer norm, gradient wrt x
	devLNGradXAcc                   // layer norm, gradient wrt x plus x's incoming gradient
	devLNGradG                      // layer norm, gradient wrt the gain
	devColSum                       // column sums
	devBiasAdd                      // y = x + b (rows)
	devBiasGelu                     // y = gelu(x + b)
	devBiasGeluGrad                 // dx = gelu'(x + b)·dy
	devEmbed                        // token + position embedding
	devEmbedGradTok                 // token table gradient
	devEmbedGradPos                 // position table gradient
	devAttention                    // causal attention forward
	devAttentionGrad                // causal attention backward
	devTokenEmbed                   // token embedding without positions (Llama)
	devRMSNorm                      // RMSNorm forward
	devRMSGradX                     // RMSNorm, gradient wrt x
	devRMSGradXAcc                  // RMSNorm, gradient wrt x plus x's incoming gradient
	devRMSGradG                     // RMSNorm, gradient wrt the gain
	devRoPE                         // rotary positions (or back, for the gradient)
	devGQA                          // causal grouped-query attention forward
	devGQAGrad                      // causal grouped-query attention backward
	devSwiGLU                       // silu(gate) ⊙ up
	devSwiGLUGrad                   // SwiGLU backward
)

// devSpec tells the CUDA build which GPU kernel computes an op and the
// sizes that kernel needs. The CPU build ignores it.
type devSpec struct {
	kind    devKind
	m, n, k int     // Linear: x [m×k]·w [k×n]; other ops: n rows of width k
	bias    bool    // Linear: with a bias
	eps     float64 // LayerNorm
	a       attnShape
	ids     *[]int // Embed: the token ids, read when the op runs
	seqLen  int    // Embed: positions per sequence
	rows    int    // EmbedGradTok/Pos: rows of the table
	g       gqaShape
	theta   float64 // RoPE: base of the frequencies
	back    bool    // RoPE: rotate back (the gradient)
}

// gemm is one cuBLAS call (column-major, as cuBLAS wants) that computes a
// row-major product: transA/transB, the column-major sizes M, N, K and the
// leading dimensions. cuBLAS's A is always the op's second input and B its
// first.
type gemm struct {
	transA, transB bool
	M, N, K        int
	lda, ldb, ldc  int
}

// gemmFor returns the cuBLAS call for a Linear op or one of its gradients,
// with x [m×k], w [k×n], y [m×n]. A row-major matrix read as column-major
// is its transpose, so each row-major product C = A·B is computed as
// Cᵀ = Bᵀ·Aᵀ with the operands swapped.
//
//   - devLinear:   y = x·w,   inputs (x, w):  yᵀ = wᵀ·xᵀ
//   - devLinearGX: dx = dy·wᵀ, inputs (dy, w): dxᵀ = w·dyᵀ
//   - devLinearGW: dw = xᵀ·dy, inputs (x, dy): dwᵀ = dyᵀ·x
func gemmFor(kind devKind, m, n, k int) gemm {
	switch kind {
	case devLinear:
		return gemm{M: n, N: m, K: k, lda: n, ldb: k, ldc: n}
	case devLinearGX:
		return gemm{transA: true, M: k, N: m, K: n, lda: n, ldb: n, ldc: k}
	case devLinearGW:
		return gemm{transB: true, M: n, N: k, K: m, lda: n, ldb: k, ldc: n}
	}
	panic("nn: gemmFor: not a matrix product")
}

// colMajorGemm computes C = op(A)·op(B) for column-major matrices, as
// cuBLAS's Sgemm with alpha 1 and beta 0 does; the tests use it to check
// gemmFor without a GPU.
func colMajorGemm(g gemm, a, b, c []float32) {
	at := func(i, l int) float32 { // op(A)[i, l]
		if g.transA {
			return a[l+i*g.lda]
		}
		return a[i+l*g.lda]
	}
	bt := func(l, j int) float32 { // op(B)[l, j]
		if g.transB {
			return b[j+l*g.ldb]
		}
		return b[l+j*g.ldb]
	}
	for j := 0; j < g.N; j++ {
		for i := 0; i < g.M; i++ {
			var s float32
			for l := 0; l < g.K; l++ {
				s += at(i, l) * bt(l, j)
			}
			c[i+j*g.ldc] = s
		}
	}
}

// maxCUDAHeadWidth is the widest attention head the GPU kernels take
// (PIT_MAX_DH in cuda/kernels.cu: per-thread accumulators).
const maxCUDAHeadWidth = 256

// CUDABuilt reports whether this binary was built with CUDA support
// (-tags cuda), so that Config.Device may be "cuda".
func CUDABuilt() bool { return cudaBuilt }

// errNoCUDABuild is what asking for device "cuda" gives in a CPU-only
// binary.
var errNoCUDABuild = errors.New(`device "cuda" needs the CUDA build of pit, and this binary is CPU-only: build it with scripts/cuda/build.sh (README, section GPU)`)
