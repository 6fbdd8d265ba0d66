package nn

import "fmt"

// Fused residual + norm. In a transformer block the residual stream x
// takes the output o of an attention or MLP sublayer, s = x + o, and the
// next sublayer reads norm(s), while s itself goes on to the next
// residual. Done as two ops, the add writes s and the norm reads it back
// (a pass over [B·T, D] each), and in the backward pass the stream's
// gradient is the norm's plus the next residual's, one more pass (a
// GradSum). Here:
//
//   - forward: one op (ResidualLayerNorm, ResidualRMSNorm) adds and
//     normalises row by row, the row still in cache, and outputs y =
//     norm(s). Its ops have one output, so s is the output of a second op,
//     ResidualSum: on the CPU the first op writes the sum straight into
//     ResidualSum's output array (kernelOp.output), which then has no work
//     left; on the GPU ResidualSum adds again;
//   - backward: the norm's input gradient folds in the gradient the
//     stream has received from the next residual (gradInto,
//     LayerNormGradXAcc / RMSNormGradXAcc), and the same node is the
//     gradient of both x and o.
//
// The floats are those of the unfused ops, in the same order, so weights
// stay bit-identical.

// residualNorm returns the new residual stream s = x + o and its layer
// norm y = LN(s)·g + b, for x and o [n, d].
func residualNorm(x, o, g, b *node, eps float64) (s, y *node, err error) {
	dt := x.Dtype()
	n, d := x.Shape()[0], x.Shape()[1]
	var stats []float32
	if dt == dtFloat32 {
		stats = make([]float32, 2*n)
	}
	sum := &sumShare{}
	op := newKernelOp("ResidualLayerNorm", dt, x.Shape(), 2, 2, 1, 1)
	op.dev = devSpec{kind: devResidualLN, n: n, k: d, eps: eps}
	op.forward = func(out array, in []value) (float64, error) {
		dst := sum.target()
		if dt == dtFloat64 {
			resLNForward(data[float64](in[0]), data[float64](in[1]), data[float64](in[2]), data[float64](in[3]),
				data[float64](dst), data[float64](out), d, eps)
		} else {
			resLNForward32(data[float32](in[0]), data[float32](in[1]), data[float32](in[2]), data[float32](in[3]),
				data[float32](dst), data[float32](out), stats, d, eps)
		}
		return 0, nil
	}
	lg := lnGrads{dt: dt, n: n, d: d, eps: eps, stats: stats}
	op.fold = []int{0, 1}
	op.gradInto = func(inputs nodes, _, grad *node, acc []*node) (nodes, error) {
		dx, do, err := foldedNormGrad(acc, func(a *node) (*node, error) { return lg.x(s, inputs[2], grad, a) })
		if err != nil {
			return nil, err
		}
		dg, err := lg.gain(s, grad)
		if err != nil {
			return nil, err
		}
		db, err := colSumNode(grad, b.Shape())
		if err != nil {
			return nil, err
		}
		return nodes{dx, do, dg, db}, nil
	}
	op.grad = func(inputs nodes, output, grad *node) (nodes, error) {
		return op.gradInto(inputs, output, grad, make([]*node, len(inputs)))
	}
	if y, err = apply(op, x, o, g, b); err != nil {
		return nil, nil, err
	}
	if s, err = residualSum(y, x, o, sum); err != nil {
		return nil, nil, err
	}
	return s, y, nil
}

// residualRMSNorm returns the new residual stream s = x + o and its
// RMSNorm y = s/rms(s)·g, for x and o [n, d].
func residualRMSNorm(x, o, g *node, eps float64) (s, y *node, err error) {
	dt := x.Dtype()
	n, d := x.Shape()[0], x.Shape()[1]
	sum := &sumShare{}
	op := newKernelOp("ResidualRMSNorm", dt, x.Shape(), 2, 2, 1)
	op.dev = devSpec{kind: devResidualRMS, n: n, k: d, eps: eps}
	op.forward = forEach(dt,
		func(in [][]float64, out []float64) {
			resRMSForward(in[0], in[1], in[2], data[float64](sum.target()), out, d, eps)
		},
		func(in [][]float32, out []float32) {
			resRMSForward(in[0], in[1], in[2], data[float32](sum.target()), out, d, eps)
		})
	rg := rmsGrads{dt: dt, n: n, d: d, eps: eps}
	op.fold = []int{0, 1}
	op.gradInto = func(inputs nodes, _, grad *node, acc []*node) (nodes, error) {
		dx, do, err := foldedNormGrad(acc, func(a *node) (*node, error) { return rg.x(s, inputs[2], grad, a) })
		if err != nil {
			return nil, err
		}
		dg, err := rg.gain(s, grad)
		if err != nil {
			return nil, err
		}
		return nodes{dx, do, dg}, nil
	}
	op.grad = func(inputs nodes, output, grad *node) (nodes, error) {
		return op.gradInto(inputs, output, grad, make([]*node, len(inputs)))
	}
	if y, err = apply(op, x, o, g); err != nil {
		return nil, nil, err
	}
	if s, err = residualSum(y, x, o, sum); err != nil {
		return nil, nil, err
	}
	return s, y, nil
}

// foldedNormGrad returns the gradients of x and o (inputs 0 and 1 of a
// fused residual norm) from gx, which builds the norm's input gradient
// plus an incoming one: both are the gradient of s = x + o, so when x and
// o have received the same (in a block: what ResidualSum passed on, or
// nothing) one node serves both.
func foldedNormGrad(acc []*node, gx func(acc *node) (*node, error)) (dx, do *node, err error) {
	if dx, err = gx(acc[0]); err != nil {
		return nil, nil, err
	}
	if acc[1] == acc[0] {
		return dx, dx, nil
	}
	if do, err = gx(acc[1]); err != nil {
		return nil, nil, err
	}
	return dx, do, nil
}

// sumShare hands the sum of a fused residual norm from the op that
// computes it to ResidualSum, whose output it is.
type sumShare struct {
	op    *kernelOp // ResidualSum
	wrote *dense    // where the fused op wrote the sum in this run
}

// target returns the array the fused op writes the sum into:
// ResidualSum's output array for this run.
func (s *sumShare) target() *dense {
	s.wrote = s.op.output()
	return s.wrote
}

// output returns the array op's output goes to in this run, made on first
// use (Do then runs the op into the same array). Another op may write it
// before op runs: the fused residual norms do (sumShare).
func (op *kernelOp) output() *dense {
	if op.buf == nil {
		op.buf = newArray(op.dtype, op.out...)
	}
	return op.buf.(*dense)
}

// residualSum is the stream s = x + o of a fused residual norm whose
// output is y. On the CPU the fused op has already written s into this
// op's output array (sum.target), so it does nothing (it copies only
// should it run into another array than the one the fused op wrote); it
// reads y so that it runs after it. On the GPU (and in the emulation) it
// adds x and o itself. Its gradient passes to x and o.
func residualSum(y, x, o *node, sum *sumShare) (*node, error) {
	dt := x.Dtype()
	op := newKernelOp("ResidualSum", dt, x.Shape(), 2, 2, 2)
	op.dev = devSpec{kind: devResidualSum, n: x.Shape()[0], k: x.Shape()[1]}
	sum.op = op
	op.forward = func(out array, _ []value) (float64, error) {
		if sum.wrote == nil {
			return 0, fmt.Errorf("nn: ResidualSum ran before its fused residual norm")
		}
		if out != array(sum.wrote) {
			copyData(out, sum.wrote)
		}
		return 0, nil
	}
	op.grad = func(_ nodes, _, grad *node) (nodes, error) {
		return nodes{nil, grad, grad}, nil
	}
	return apply(op, y, x, o)
}
