package nn

import (
	"fmt"
	"sync/atomic"
)

// opSeq gives every op instance a unique identity. Gorgonia merges nodes
// whose ops hash alike (that is how SoftMax and LogSoftMax of one node end
// up as one), so each of our ops hashes its own instance number.
var opSeq atomic.Uint64

// kernelOp is one of pit's ops: its forward pass is a Go function and whose
// gradient, when it has one, is built from other kernelOps. The output
// shape is fixed when the op is made: every graph in this package is built
// for one batch shape.
type kernelOp struct {
	name   string
	id     uint64
	inDims []int // dimensions of each input (0 = scalar)
	out    shape
	dtype  dtype
	// forward computes the output into out (a tensor of shape op.out, or
	// nil for a scalar output, in which case it returns the scalar).
	forward func(out array, in []value) (float64, error)
	// grad builds the gradient nodes, one per input (nil where the op is
	// not differentiable with respect to that input).
	grad func(inputs nodes, output, grad *node) (nodes, error)
	// gradInto, when set, is grad for an op that can fold into its
	// gradient for inputs[0] the gradient inputs[0] has already received
	// from the ops that read it after this one (acc, never nil): the node
	// it returns for inputs[0] is that sum, computed in the same pass
	// (backprop.go). The layer norms use it for the residual stream, whose
	// gradient is the norm's plus the next residual's.
	gradInto func(inputs nodes, output, grad, acc *node) (nodes, error)
	// buf is the output buffer reused across runs of a graph.
	buf array
	// dev names the op's GPU kernel (device.go); zero keeps it on the CPU.
	dev devSpec
	// inputs are the nodes the op was applied to (backprop.go).
	inputs nodes

	// Buffers of a graph with an arena (arena.go): ar hands out cur, the
	// output array of this run; readers ops of the graph read it, left of
	// them are still to run; inOps are the ops whose outputs inputs are
	// (nil for weights and inputs); keeps are the arrays the forward pass
	// fills for the gradient ops, frees those of another op this op reads.
	ar            *arena
	cur           *dense
	slot          slot
	readers, left int
	inOps         []*kernelOp
	keeps, frees  []*kept
}

// drop lets go of what the op holds once its graph is closed.
func (op *kernelOp) drop() {
	op.forward, op.grad = nil, nil
	op.buf, op.cur, op.ar, op.slot = nil, nil, nil, slot{}
	op.inputs, op.inOps = nil, nil
	op.keeps, op.frees = nil, nil
	op.dev = devSpec{}
}

func newKernelOp(name string, dtype dtype, out shape, inDims ...int) *kernelOp {
	return &kernelOp{name: name, id: opSeq.Add(1), inDims: inDims, out: out, dtype: dtype}
}

// ---- ops ----

// layerNorm normalises each row of x [n, d] and applies gain g and bias b.
// The float32 version keeps each row's mean and rstd for the backward pass.
func layerNorm(x, g, b *node, eps float64) (*node, error) {
	dt := x.Dtype()
	d := x.Shape()[1]
	op := newKernelOp("LayerNorm", dt, x.Shape(), 2, 1, 1)
	op.dev = devSpec{kind: devLayerNorm, n: x.Shape()[0], k: d, eps: eps}
	var stats []float32
	if dt == dtFloat32 {
		stats = make([]float32, 2*x.Shape()[0])
	}
	op.forward = func(out array, in []value) (float64, error) {
		if dt == dtFloat64 {
			lnForward(data[float64](in[0]), data[float64](in[1]), data[float64](in[2]), data[float64](out), d, eps)
		} else {
			lnForward32(data[float32](in[0]), data[float32](in[1]), data[float32](in[2]), data[float32](out), stats, d, eps)
		}
		return 0, nil
	}
	// The gradient with respect to x, with acc the gradient x has
	// received from elsewhere (nil: none) added in the same pass.
	gradX := func(inputs nodes, grad, acc *node) (*node, error) {
		name, kind, ins, dims := "LayerNormGradX", devLNGradX, nodes{inputs[0], inputs[1], grad}, []int{2, 1, 2}
		if acc != nil {
			name, kind, ins, dims = "LayerNormGradXAcc", devLNGradXAcc, append(ins, acc), append(dims, 2)
		}
		gx := newKernelOp(name, dt, x.Shape(), dims...)
		gx.dev = devSpec{kind: kind, n: x.Shape()[0], k: d, eps: eps}
		gx.forward = func(out array, in []value) (float64, error) {
			if dt == dtFloat64 {
				lnBackwardX(data[float64](in[0]), data[float64](in[1]), data[float64](in[2]), accIn[float64](in), data[float64](out), d, eps)
			} else {
				lnBackwardX32(data[float32](in[0]), data[float32](in[1]), data[float32](in[2]), accIn[float32](in), data[float32](out), stats, d)
			}
			return 0, nil
		}
		return apply(gx, ins...)
	}
	op.gradInto = func(inputs nodes, _, grad, acc *node) (nodes, error) {
		dx, err := gradX(inputs, grad, acc)
		if err != nil {
			return nil, err
		}
		gg := newKernelOp("LayerNormGradG", dt, g.Shape(), 2, 2)
		gg.dev = devSpec{kind: devLNGradG, n: x.Shape()[0], k: d, eps: eps}
		gg.forward = func(out array, in []value) (float64, error) {
			if dt == dtFloat64 {
				lnBackwardG(data[float64](in[0]), data[float64](in[1]), data[float64](out), d, eps)
			} else {
				lnBackwardG32(data[float32](in[0]), data[float32](in[1]), data[float32](out), stats, d)
			}
			return 0, nil
		}
		dg, err := apply(gg, inputs[0], grad)
		if err != nil {
			return nil, err
		}
		db, err := colSumNode(grad, b.Shape())
		if err != nil {
			return nil, err
		}
		return nodes{dx, dg, db}, nil
	}
	op.grad = func(inputs nodes, output, grad *node) (nodes, error) {
		return op.gradInto(inputs, output, grad, nil)
	}
	return apply(op, x, g, b)
}

// accIn is the fourth input of a norm's input-gradient op, the gradient
// to fold in (LayerNormGradXAcc, RMSNormGradXAcc), or nil when the op
// has three (LayerNormGradX, RMSNormGradX).
func accIn[T float](in []value) []T {
	if len(in) < 4 {
		return nil
	}
	return data[T](in[3])
}

// colSumNode sums the rows of x [n, d] into a vector of shape [d].
func colSumNode(x *node, outShape shape) (*node, error) {
	dt := x.Dtype()
	d := x.Shape()[1]
	op := newKernelOp("ColSum", dt, outShape, 2)
	op.dev = devSpec{kind: devColSum, n: x.Shape()[0], k: d}
	op.forward = func(out array, in []value) (float64, error) {
		if dt == dtFloat64 {
			colSum(data[float64](in[0]), data[float64](out), d)
		} else {
			colSum(data[float32](in[0]), data[float32](out), d)
		}
		return 0, nil
	}
	return apply(op, x)
}

// biasAdd adds the vector b to every row of x.
func biasAdd(x, b *node) (*node, error) {
	dt := x.Dtype()
	d := x.Shape()[1]
	op := newKernelOp("BiasAdd", dt, x.Shape(), 2, 1)
	op.dev = devSpec{kind: devBiasAdd, n: x.Shape()[0], k: d}
	op.forward = func(out array, in []value) (float64, error) {
		if dt == dtFloat64 {
			addBias(data[float64](in[0]), data[float64](in[1]), data[float64](out), d)
		} else {
			addBias(data[float32](in[0]), data[float32](in[1]), data[float32](out), d)
		}
		return 0, nil
	}
	op.grad = func(_ nodes, _, grad *node) (nodes, error) {
		db, err := colSumNode(grad, b.Shape())
		if err != nil {
			return nil, err
		}
		return nodes{grad, db}, nil
	}
	return apply(op, x, b)
}

// biasGelu computes gelu(x + b) with b added to every row.
func biasGelu(x, b *node) (*node, error) {
	dt := x.Dtype()
	d := x.Shape()[1]
	op := newKernelOp("BiasGelu", dt, x.Shape(), 2, 1)
	op.dev = devSpec{kind: devBiasGelu, n: x.Shape()[0], k: d}
	op.forward = func(out array, in []value) (float64, error) {
		if dt == dtFloat64 {
			biasGeluForward(data[float64](in[0]), data[float64](in[1]), data[float64](out), d)
		} else {
			biasGeluForward(data[float32](in[0]), data[float32](in[1]), data[float32](out), d)
		}
		return 0, nil
	}
	op.grad = func(inputs nodes, _, grad *node) (nodes, error) {
		gop := newKernelOp("BiasGeluGrad", dt, x.Shape(), 2, 1, 2)
		gop.dev = devSpec{kind: devBiasGeluGrad, n: x.Shape()[0], k: d}
		gop.forward = func(out array, in []value) (float64, error) {
			if dt == dtFloat64 {
				biasGeluBackward(data[float64](in[0]), data[float64](in[1]), data[float64](in[2]), data[float64](out), d)
			} else {
				biasGeluBackward(data[float32](in[0]), data[float32](in[1]), data[float32](in[2]), data[float32](out), d)
			}
			return 0, nil
		}
		dx, err := apply(gop, inputs[0], inputs[1], grad)
		if err != nil {
			return nil, err
		}
		db, err := colSumNode(dx, b.Shape())
		if err != nil {
			return nil, err
		}
		return nodes{dx, db}, nil
	}
	return apply(op, x, b)
}

// embed looks up token and position embeddings for the ids in *ids
// (B*T of them, row-major) and adds them: out is [B*T, D].
func embed(wte, wpe *node, ids *[]int, seqLen int) (*node, error) {
	dt := wte.Dtype()
	d := wte.Shape()[1]
	vocab := wte.Shape()[0]
	n := len(*ids)
	op := newKernelOp("Embed", dt, shape{n, d}, 2, 2)
	op.dev = devSpec{kind: devEmbed, n: n, k: d, ids: ids, seqLen: seqLen, rows: vocab}
	op.forward = func(out array, in []value) (float64, error) {
		for _, id := range *ids {
			if id < 0 || id >= vocab {
				return 0, fmt.Errorf("nn: token id %d outside vocabulary [0, %d)", id, vocab)
			}
		}
		if dt == dtFloat64 {
			embedForward(data[float64](in[0]), data[float64](in[1]), data[float64](out), *ids, seqLen, d)
		} else {
			embedForward(data[float32](in[0]), data[float32](in[1]), data[float32](out), *ids, seqLen, d)
		}
		return 0, nil
	}
	op.grad = func(_ nodes, _, grad *node) (nodes, error) {
		gt := newKernelOp("EmbedGradTok", dt, wte.Shape(), 2)
		gt.dev = devSpec{kind: devEmbedGradTok, n: n, k: d, ids: ids, seqLen: seqLen, rows: vocab}
		gt.forward = func(out array, in []value) (float64, error) {
			if dt == dtFloat64 {
				embedGradTok(data[float64](in[0]), data[float64](out), *ids, d)
			} else {
				embedGradTok(data[float32](in[0]), data[float32](out), *ids, d)
			}
			return 0, nil
		}
		gp := newKernelOp("EmbedGradPos", dt, wpe.Shape(), 2)
		gp.dev = devSpec{kind: devEmbedGradPos, n: n, k: d, ids: ids, seqLen: seqLen, rows: wpe.Shape()[0]}
		gp.forward = func(out array, in []value) (float64, error) {
			if dt == dtFloat64 {
				embedGradPos(data[float64](in[0]), data[float64](out), seqLen, d)
			} else {
				embedGradPos(data[float32](in[0]), data[float32](out), seqLen, d)
			}
			return 0, nil
		}
		dwte, err := apply(gt, grad)
		if err != nil {
			return nil, err
		}
		dwpe, err := apply(gp, grad)
		if err != nil {
			return nil, err
		}
		return nodes{dwte, dwpe}, nil
	}
	return apply(op, wte, wpe)
}

// attention applies causal multi-head self-attention to a fused qkv
// matrix [B*T, 3D], giving [B*T, D].
func attention(qkv *node, a attnShape) (*node, error) {
	dt := qkv.Dtype()
	op := newKernelOp("CausalAttention", dt, shape{a.B * a.T, a.D}, 2)
	op.dev = devSpec{kind: devAttention, a: a}
	var probs *kept // float32: softmax kept for the backward pass
	if dt == dtFloat32 {
		probs = op.keep(a.B * a.H * a.T * a.T)
	}
	op.forward = func(out array, in []value) (float64, error) {
		if dt == dtFloat64 {
			attnForward(data[float64](in[0]), data[float64](out), a)
		} else {
			attnForward32(data[float32](in[0]), data[float32](out), probs.f32(), a)
		}
		return 0, nil
	}
	op.grad = func(inputs nodes, _, grad *node) (nodes, error) {
		gop := newKernelOp("CausalAttentionGrad", dt, qkv.Shape(), 2, 2)
		gop.dev = devSpec{kind: devAttentionGrad, a: a}
		gop.forward = func(out array, in []value) (float64, error) {
			if dt == dtFloat64 {
				attnBackward(data[float64](in[0]), data[float64](in[1]), data[float64](out), a)
			} else {
				attnBackward32(data[float32](in[0]), data[float32](in[1]), data[float32](out), probs.f32(), a)
			}
			return 0, nil
		}
		if probs != nil {
			gop.use(probs)
		}
		d, err := apply(gop, inputs[0], grad)
		if err != nil {
			return nil, err
		}
		return nodes{d}, nil
	}
	return apply(op, qkv)
}

// lossFunc computes a scalar loss from a matrix x and writes dloss/dx into
// grad (same layout as x). Losses cache their gradient in the forward pass
// because it falls out of the same computation; the backward op scales it.
type lossFunc[T float] func(x []T, grad []T) (float64, error)

// lossNode applies a fused loss to x [n, k]: the forward pass computes the
// loss and its gradient together.
func lossNode(name string, x *node, f32 lossFunc[float32], f64 lossFunc[float64]) (*node, error) {
	dt := x.Dtype()
	op := newKernelOp(name, dt, nil, 2)
	cached := op.keep(x.Shape().TotalSize()) // dloss/dx
	op.forward = func(_ array, in []value) (float64, error) {
		if dt == dtFloat64 {
			return f64(data[float64](in[0]), data[float64](cached.array()))
		}
		return f32(data[float32](in[0]), data[float32](cached.array()))
	}
	op.grad = func(_ nodes, _, grad *node) (nodes, error) {
		gop := newKernelOp(name+"Grad", dt, x.Shape(), 0)
		gop.forward = func(out array, in []value) (float64, error) {
			s := scalarOf(in[0])
			if dt == dtFloat64 {
				scaleInto(data[float64](cached.array()), data[float64](out), s)
			} else {
				scaleInto(data[float32](cached.array()), data[float32](out), s)
			}
			return 0, nil
		}
		gop.use(cached)
		d, err := apply(gop, grad)
		if err != nil {
			return nil, err
		}
		return nodes{d}, nil
	}
	return apply(op, x)
}

func scaleInto[T float](src, dst []T, s float64) {
	st := T(s)
	for i, v := range src {
		dst[i] = v * st
	}
}

// capture copies x into a Go-side buffer when the graph runs, and returns a
// scalar zero; it keeps results safe from register reuse inside the VM.
func capture(x *node, into *[]float64) (*node, error) {
	dt := x.Dtype()
	op := newKernelOp("Capture", dt, nil, 2)
	op.forward = func(_ array, in []value) (float64, error) {
		switch d := in[0].Data().(type) {
		case []float32:
			*into = growF64(*into, len(d))
			for i, v := range d {
				(*into)[i] = float64(v)
			}
		case []float64:
			*into = growF64(*into, len(d))
			copy(*into, d)
		}
		return 0, nil
	}
	return apply(op, x)
}

func growF64(s []float64, n int) []float64 {
	if cap(s) < n {
		return make([]float64, n)
	}
	return s[:n]
}
