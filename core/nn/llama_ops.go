package nn

import (
	"fmt"
)

// The Llama family's ops. Each has a hand-written backward pass with a
// finite-difference test (llama_grad_test.go) and a CUDA kernel in
// cuda/kernels.cu (devSpec), checked against the Go kernels by the
// emulated-GPU tests (cudaemu_test.go).

// forEach runs the float32 or float64 instance of a kernel on the op's
// inputs and output.
func forEach(dt dtype, f64 func(in [][]float64, out []float64), f32 func(in [][]float32, out []float32)) func(out array, in []value) (float64, error) {
	return func(out array, in []value) (float64, error) {
		if dt == dtFloat64 {
			vs := make([][]float64, len(in))
			for i, v := range in {
				vs[i] = data[float64](v)
			}
			f64(vs, data[float64](out))
		} else {
			vs := make([][]float32, len(in))
			for i, v := range in {
				vs[i] = data[float32](v)
			}
			f32(vs, data[float32](out))
		}
		return 0, nil
	}
}

// rmsNorm normalises each row of x [n, d] by its root mean square and
// scales it by g [d].
func rmsNorm(x, g *node, eps float64) (*node, error) {
	dt, d := x.Dtype(), x.Shape()[1]
	op := newKernelOp("RMSNorm", dt, x.Shape(), 2, 1)
	op.dev = devSpec{kind: devRMSNorm, n: x.Shape()[0], k: d, eps: eps}
	op.forward = forEach(dt,
		func(in [][]float64, out []float64) { rmsForward(in[0], in[1], out, d, eps) },
		func(in [][]float32, out []float32) { rmsForward(in[0], in[1], out, d, eps) })
	// The gradient with respect to x, with acc the gradient x has
	// received from elsewhere (nil: none) added in the same pass, as for
	// layerNorm.
	gradX := func(inputs nodes, grad, acc *node) (*node, error) {
		name, kind, ins, dims := "RMSNormGradX", devRMSGradX, nodes{inputs[0], inputs[1], grad}, []int{2, 1, 2}
		if acc != nil {
			name, kind, ins, dims = "RMSNormGradXAcc", devRMSGradXAcc, append(ins, acc), append(dims, 2)
		}
		gx := newKernelOp(name, dt, x.Shape(), dims...)
		gx.dev = devSpec{kind: kind, n: x.Shape()[0], k: d, eps: eps}
		gx.forward = func(out array, in []value) (float64, error) {
			if dt == dtFloat64 {
				rmsBackwardX(data[float64](in[0]), data[float64](in[1]), data[float64](in[2]), accIn[float64](in), data[float64](out), d, eps)
			} else {
				rmsBackwardX(data[float32](in[0]), data[float32](in[1]), data[float32](in[2]), accIn[float32](in), data[float32](out), d, eps)
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
		gg := newKernelOp("RMSNormGradG", dt, g.Shape(), 2, 2)
		gg.dev = devSpec{kind: devRMSGradG, n: x.Shape()[0], k: d, eps: eps}
		gg.forward = forEach(dt,
			func(in [][]float64, out []float64) { rmsBackwardG(in[0], in[1], out, d, eps) },
			func(in [][]float32, out []float32) { rmsBackwardG(in[0], in[1], out, d, eps) })
		dg, err := apply(gg, inputs[0], grad)
		if err != nil {
			return nil, err
		}
		return nodes{dx, dg}, nil
	}
	op.grad = func(inputs nodes, output, grad *node) (nodes, error) {
		return op.gradInto(inputs, output, grad, nil)
	}
	return apply(op, x, g)
}

// rope rotates the query and key heads of a fused qkv matrix
// [B*T, (H+2KV)·Dh] by their positions (row mod T) with base theta.
func rope(qkv *node, a gqaShape, theta float64) (*node, error) {
	if a.Dh%2 != 0 {
		return nil, fmt.Errorf("nn: rotary positions need an even head width, got %d", a.Dh)
	}
	dt := qkv.Dtype()
	rt := newRopeTable(a.T, a.Dh, theta)
	mk := func(name string, sign float64) *kernelOp {
		op := newKernelOp(name, dt, qkv.Shape(), 2)
		op.dev = devSpec{kind: devRoPE, g: a, theta: theta, back: sign < 0}
		op.forward = forEach(dt,
			func(in [][]float64, out []float64) { ropeApply(in[0], out, a, rt, sign) },
			func(in [][]float32, out []float32) { ropeApply(in[0], out, a, rt, sign) })
		return op
	}
	op := mk("RoPE", 1)
	op.grad = func(_ nodes, _, grad *node) (nodes, error) {
		// a rotation's transpose is the rotation back
		d, err := apply(mk("RoPEGrad", -1), grad)
		if err != nil {
			return nil, err
		}
		return nodes{d}, nil
	}
	return apply(op, qkv)
}

// gqAttention applies causal grouped-query attention to a fused qkv matrix
// [B*T, (H+2KV)·Dh], giving [B*T, H·Dh].
func gqAttention(qkv *node, a gqaShape) (*node, error) {
	if a.KV <= 0 || a.H%a.KV != 0 {
		return nil, fmt.Errorf("nn: %d key/value heads do not divide %d query heads", a.KV, a.H)
	}
	dt := qkv.Dtype()
	op := newKernelOp("GQAttention", dt, shape{a.B * a.T, a.H * a.Dh}, 2)
	op.dev = devSpec{kind: devGQA, g: a}
	op.forward = forEach(dt,
		func(in [][]float64, out []float64) { gqaForward(in[0], out, a) },
		func(in [][]float32, out []float32) { gqaForward(in[0], out, a) })
	op.grad = func(inputs nodes, _, grad *node) (nodes, error) {
		gop := newKernelOp("GQAttentionGrad", dt, qkv.Shape(), 2, 2)
		gop.dev = devSpec{kind: devGQAGrad, g: a}
		gop.forward = forEach(dt,
			func(in [][]float64, out []float64) { gqaBackward(in[0], in[1], out, a) },
			func(in [][]float32, out []float32) { gqaBackward(in[0], in[1], out, a) })
		d, err := apply(gop, inputs[0], grad)
		if err != nil {
			return nil, err
		}
		return nodes{d}, nil
	}
	return apply(op, qkv)
}

// swiglu computes silu(gate) ⊙ up of a fused [n, 2M] matrix whose first M
// columns are the gate and last M the up projection, giving [n, M].
func swiglu(x *node) (*node, error) {
	dt := x.Dtype()
	n, m := x.Shape()[0], x.Shape()[1]/2
	op := newKernelOp("SwiGLU", dt, shape{n, m}, 2)
	op.dev = devSpec{kind: devSwiGLU, n: n, k: m}
	op.forward = forEach(dt,
		func(in [][]float64, out []float64) { swigluForward(in[0], out, m) },
		func(in [][]float32, out []float32) { swigluForward(in[0], out, m) })
	op.grad = func(inputs nodes, _, grad *node) (nodes, error) {
		gop := newKernelOp("SwiGLUGrad", dt, x.Shape(), 2, 2)
		gop.dev = devSpec{kind: devSwiGLUGrad, n: n, k: m}
		gop.forward = forEach(dt,
			func(in [][]float64, out []float64) { swigluBackward(in[0], in[1], out, m) },
			func(in [][]float32, out []float32) { swigluBackward(in[0], in[1], out, m) })
		d, err := apply(gop, inputs[0], grad)
		if err != nil {
			return nil, err
		}
		return nodes{d}, nil
	}
	return apply(op, x)
}

// tokenEmbed looks up the rows of wte [V, D] for the ids in *ids (no
// position embedding: Llama's positions are rotary).
func tokenEmbed(wte *node, ids *[]int) (*node, error) {
	dt := wte.Dtype()
	vocab, d := wte.Shape()[0], wte.Shape()[1]
	n := len(*ids)
	op := newKernelOp("TokenEmbed", dt, shape{n, d}, 2)
	op.dev = devSpec{kind: devTokenEmbed, n: n, k: d, ids: ids, rows: vocab}
	op.forward = func(out array, in []value) (float64, error) {
		for _, id := range *ids {
			if id < 0 || id >= vocab {
				return 0, fmt.Errorf("nn: token id %d outside vocabulary [0, %d)", id, vocab)
			}
		}
		return forEach(dt,
			func(in [][]float64, out []float64) { tokenEmbedForward(in[0], out, *ids, d) },
			func(in [][]float32, out []float32) { tokenEmbedForward(in[0], out, *ids, d) })(out, in)
	}
	op.grad = func(_ nodes, _, grad *node) (nodes, error) {
		gt := newKernelOp("TokenEmbedGrad", dt, wte.Shape(), 2)
		gt.dev = devSpec{kind: devEmbedGradTok, n: n, k: d, ids: ids, rows: vocab}
		gt.forward = forEach(dt,
			func(in [][]float64, out []float64) { embedGradTok(in[0], out, *ids, d) },
			func(in [][]float32, out []float32) { embedGradTok(in[0], out, *ids, d) })
		dw, err := apply(gt, grad)
		if err != nil {
			return nil, err
		}
		return nodes{dw}, nil
	}
	return apply(op, wte)
}
