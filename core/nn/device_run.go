package nn

import (
	"fmt"
)

// devRunner launches GPU kernels by name: on a GPU in the CUDA build
// (device_cuda.go), or emulated on the CPU by the cudaemu tests. Kernel
// arguments are graph values (device tensors), scratch buffers from
// scratch or ids, ints and float32s, in the order of the kernel's
// parameters in cuda/kernels.cu.
type devRunner interface {
	launch(name string, threads int, args ...any) error
	// gemm computes c from a and b with one cuBLAS Sgemm (see gemmFor).
	gemm(g gemm, a, b, c value) error
	// scratch returns the op's scratch buffer of at least size bytes.
	scratch(size int64) (any, error)
	// ids returns the token ids (already checked) in the op's scratch,
	// as int32s.
	ids(ids []int) (any, error)
}

// runDev computes an op's output into out from in with the op's GPU
// kernels (s names them), launched by r.
func runDev(r devRunner, s devSpec, out value, in []value) error {
	o := out
	switch s.kind {
	case devLinear:
		if err := r.gemm(gemmFor(devLinear, s.m, s.n, s.k), in[1], in[0], out); err != nil {
			return err
		}
		if s.bias {
			return r.launch("pit_add_bias", s.m*s.n, o, in[2], o, s.m, s.n)
		}
		return nil
	case devLinearGX: // inputs dy, w
		return r.gemm(gemmFor(devLinearGX, s.m, s.n, s.k), in[1], in[0], out)
	case devLinearGW: // inputs x, dy
		return r.gemm(gemmFor(devLinearGW, s.m, s.n, s.k), in[1], in[0], out)
	case devResidual:
		return r.launch("pit_add", s.n*s.k, in[0], in[1], o, s.n*s.k)
	case devBiasAdd:
		return r.launch("pit_add_bias", s.n*s.k, in[0], in[1], o, s.n, s.k)
	case devColSum:
		return r.launch("pit_col_sum", s.k, in[0], o, s.n, s.k)
	case devBiasGelu:
		return r.launch("pit_bias_gelu", s.n*s.k, in[0], in[1], o, s.n, s.k)
	case devBiasGeluGrad: // inputs x, b, dy
		return r.launch("pit_bias_gelu_backward", s.n*s.k, in[0], in[1], in[2], o, s.n, s.k)
	case devLayerNorm, devLNGradX, devLNGradXAcc, devLNGradG:
		stats, err := r.scratch(int64(2 * s.n * 4))
		if err != nil {
			return err
		}
		x := in[0]
		if err := r.launch("pit_ln_stats", s.n, x, stats, s.n, s.k, float32(s.eps)); err != nil {
			return err
		}
		switch s.kind {
		case devLayerNorm: // inputs x, g, b
			return r.launch("pit_ln_apply", s.n*s.k, x, in[1], in[2], stats, o, s.n, s.k)
		case devLNGradX: // inputs x, g, dy
			return r.launch("pit_ln_backward_x", s.n, x, in[1], in[2], stats, o, s.n, s.k)
		case devLNGradXAcc: // inputs x, g, dy, acc
			return r.launch("pit_ln_backward_x_acc", s.n, x, in[1], in[2], in[3], stats, o, s.n, s.k)
		default: // inputs x, dy
			return r.launch("pit_ln_backward_g", s.k, x, in[1], stats, o, s.n, s.k)
		}
	case devEmbed: // inputs wte, wpe
		ids, err := devIDs(r, *s.ids, s.rows)
		if err != nil {
			return err
		}
		return r.launch("pit_embed", s.n*s.k, in[0], in[1], ids, o, s.n, s.seqLen, s.k)
	case devEmbedGradTok: // input dy
		ids, err := devIDs(r, *s.ids, s.rows)
		if err != nil {
			return err
		}
		return r.launch("pit_embed_grad_tok", s.rows*s.k, in[0], ids, o, s.n, s.rows, s.k)
	case devEmbedGradPos: // input dy
		return r.launch("pit_embed_grad_pos", s.rows*s.k, in[0], o, s.n, s.seqLen, s.rows, s.k)
	case devAttention:
		a := s.a
		return r.launch("pit_attn_forward", a.B*a.H*a.T, in[0], o, a.B, a.T, a.H, a.D)
	case devAttentionGrad: // inputs qkv, dy
		a := s.a
		rows, err := r.scratch(int64(3 * a.B * a.H * a.T * 4))
		if err != nil {
			return err
		}
		qkv, dy := in[0], in[1]
		if err := r.launch("pit_attn_backward_q", a.B*a.H*a.T, qkv, dy, o, rows, a.B, a.T, a.H, a.D); err != nil {
			return err
		}
		return r.launch("pit_attn_backward_kv", a.B*a.H*a.T, qkv, dy, o, rows, a.B, a.T, a.H, a.D)
	case devTokenEmbed: // input wte
		ids, err := devIDs(r, *s.ids, s.rows)
		if err != nil {
			return err
		}
		return r.launch("pit_token_embed", s.n*s.k, in[0], ids, o, s.n, s.k)
	case devRMSNorm, devRMSGradX, devRMSGradXAcc, devRMSGradG:
		rstd, err := r.scratch(int64(s.n * 4))
		if err != nil {
			return err
		}
		x := in[0]
		if err := r.launch("pit_rms_stats", s.n, x, rstd, s.n, s.k, float32(s.eps)); err != nil {
			return err
		}
		switch s.kind {
		case devRMSNorm: // inputs x, g
			return r.launch("pit_rms_apply", s.n*s.k, x, in[1], rstd, o, s.n, s.k)
		case devRMSGradX: // inputs x, g, dy
			return r.launch("pit_rms_backward_x", s.n, x, in[1], in[2], rstd, o, s.n, s.k)
		case devRMSGradXAcc: // inputs x, g, dy, acc
			return r.launch("pit_rms_backward_x_acc", s.n, x, in[1], in[2], in[3], rstd, o, s.n, s.k)
		default: // inputs x, dy
			return r.launch("pit_rms_backward_g", s.k, x, in[1], rstd, o, s.n, s.k)
		}
	case devRoPE:
		g, back := s.g, 0
		if s.back {
			back = 1
		}
		return r.launch("pit_rope", g.B*g.T*g.width(), in[0], o, g.B*g.T, g.T, g.H, g.KV, g.Dh, float32(s.theta), back)
	case devGQA:
		g := s.g
		return r.launch("pit_gqa_forward", g.B*g.H*g.T, in[0], o, g.B, g.T, g.H, g.KV, g.Dh)
	case devGQAGrad: // inputs qkv, dy
		g := s.g
		rows, err := r.scratch(int64(3 * g.B * g.H * g.T * 4))
		if err != nil {
			return err
		}
		qkv, dy := in[0], in[1]
		if err := r.launch("pit_gqa_backward_q", g.B*g.H*g.T, qkv, dy, o, rows, g.B, g.T, g.H, g.KV, g.Dh); err != nil {
			return err
		}
		return r.launch("pit_gqa_backward_kv", g.B*g.KV*g.T, qkv, dy, o, rows, g.B, g.T, g.H, g.KV, g.Dh)
	case devSwiGLU: // x [n, 2k] → [n, k]
		return r.launch("pit_swiglu", s.n*s.k, in[0], o, s.n, s.k)
	case devSwiGLUGrad: // inputs x, dy
		return r.launch("pit_swiglu_backward", s.n*2*s.k, in[0], in[1], o, s.n, s.k)
	}
	return fmt.Errorf("no GPU kernel for op kind %d", s.kind)
}

// devIDs checks token ids against the table size, as the CPU embedding
// does, and hands them to r.
func devIDs(r devRunner, ids []int, vocab int) (any, error) {
	for _, id := range ids {
		if id < 0 || id >= vocab {
			return nil, fmt.Errorf("nn: token id %d outside vocabulary [0, %d)", id, vocab)
		}
	}
	return r.ids(ids)
}
