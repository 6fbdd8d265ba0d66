package nn

import (
	"fmt"
)

// pit builds its gradient graphs itself instead of calling Gorgonia's Grad. The
// graphs hold nothing but kernelOps, and Gorgonia's backpropagation would
// add its own elementwise "+" wherever a node feeds two ops (the residual
// stream feeds the next residual add and the next layer norm). In a CUDA
// build that "+" is a GPU op, so every training graph, even a CPU model's,
// would need a GPU. Here the sums are kernelOps too (GradSum, with a GPU
// twin), and each parameter's gradient is copied into a host buffer by a
// GradOut op, which also replaces Gorgonia's dual values.

// graphOp is a kernelOp as applied to a graph: itself or its GPU form.
type graphOp interface {
	kernel() *kernelOp
}

func (op *kernelOp) kernel() *kernelOp { return op }

// backprop builds the gradient of the scalar cost with respect to params
// and returns, per parameter, the host tensor its gradient is written to
// each time the graph runs.
func backprop(g *exprGraph, cost *node, params []*node) ([]array, error) {
	dt := cost.Dtype()
	one := any(float32(1))
	if dt == dtFloat64 {
		one = float64(1)
	}
	seed := scalarNode(g, dt, "dcost", one)

	// Reverse topological order: a node comes after every node that reads
	// it.
	var order []*node
	seen := map[*node]bool{}
	var visit func(n *node) error
	visit = func(n *node) error {
		if seen[n] {
			return nil
		}
		seen[n] = true
		if n.Op() == nil {
			return nil // input or parameter
		}
		op, ok := n.Op().(graphOp)
		if !ok {
			return fmt.Errorf("nn: backprop: node %v has op %T, not one of pit's", n, n.Op())
		}
		for _, in := range op.kernel().inputs {
			if err := visit(in); err != nil {
				return err
			}
		}
		order = append(order, n)
		return nil
	}
	if err := visit(cost); err != nil {
		return nil, err
	}

	pending := map[*node][]*node{cost: {seed}}
	total := map[*node]*node{}
	for i := len(order) - 1; i >= 0; i-- {
		n := order[i]
		gn, err := sumGrads(pending[n])
		if err != nil {
			return nil, err
		}
		if gn == nil {
			continue // does not reach the cost
		}
		op := n.Op().(graphOp).kernel()
		if op.grad == nil {
			return nil, fmt.Errorf("nn: backprop: op %s has no gradient", op.name)
		}
		var ins nodes
		if in0 := op.inputs[0]; op.gradInto != nil && len(pending[in0]) > 0 {
			// Fold what in0 has received so far into this op's gradient
			// for it (one pass instead of a GradSum after it): the sum is
			// the same left to right as sumGrads would make.
			acc, err := sumGrads(pending[in0])
			if err != nil {
				return nil, err
			}
			ins, err = op.gradInto(op.inputs, n, gn, acc)
			if err != nil {
				return nil, fmt.Errorf("nn: backprop through %s: %w", op.name, err)
			}
			pending[in0] = nil
		} else if ins, err = op.grad(op.inputs, n, gn); err != nil {
			return nil, fmt.Errorf("nn: backprop through %s: %w", op.name, err)
		}
		for j, in := range op.inputs {
			if j < len(ins) && ins[j] != nil {
				pending[in] = append(pending[in], ins[j])
			}
		}
		delete(pending, n)
	}
	for _, p := range params {
		gn, err := sumGrads(pending[p])
		if err != nil {
			return nil, err
		}
		if gn == nil {
			return nil, fmt.Errorf("nn: backprop: the cost does not depend on %s", p.Name())
		}
		total[p] = gn
	}

	out := make([]array, len(params))
	for i, p := range params {
		buf := newArray(dt, p.Shape()...)
		if _, err := gradOut(total[p], buf); err != nil {
			return nil, err
		}
		out[i] = buf
	}
	return out, nil
}

// sumGrads adds a node's gradient contributions, in the order they came.
func sumGrads(gs []*node) (*node, error) {
	if len(gs) == 0 {
		return nil, nil
	}
	sum := gs[0]
	for _, g := range gs[1:] {
		var err error
		if sum, err = gradSum(sum, g); err != nil {
			return nil, err
		}
	}
	return sum, nil
}

// gradSum adds two gradients of one node.
func gradSum(a, b *node) (*node, error) {
	dt := a.Dtype()
	op := newKernelOp("GradSum", dt, a.Shape(), a.Dims(), b.Dims())
	if a.Dims() == 2 {
		op.dev = devSpec{kind: devResidual, n: a.Shape()[0], k: a.Shape()[1]}
	}
	op.forward = addForward(dt)
	return apply(op, a, b)
}

// gradOut copies a gradient into buf, on the host, when the graph runs.
func gradOut(grad *node, buf array) (*node, error) {
	dt := grad.Dtype()
	op := newKernelOp("GradOut", dt, nil, grad.Dims())
	op.forward = func(_ array, in []value) (float64, error) {
		if dt == dtFloat64 {
			copy(data[float64](buf), data[float64](in[0]))
		} else {
			copy(data[float32](buf), data[float32](in[0]))
		}
		return 0, nil
	}
	return apply(op, grad)
}
