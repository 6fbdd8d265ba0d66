package nn

// This file is pit's one boundary to Gorgonia (gorgonia.org/gorgonia and
// its tensor package): no other file of the package outside tests names
// either, except gorgonia_cuda.go, its twin for the CUDA build.
//
// What pit takes from Gorgonia:
//   - the expression graph (exprGraph, node): a model's graph for one kind
//     and batch shape is built once, as nodes that hold the weights'
//     arrays and the ops applied to them, and reused for every step;
//   - the tape machine (machine): it compiles a graph once into a linear
//     program and runs it again and again (on the CPU it leaves an op's
//     output memory to the op: pit's ops take theirs from the graph's
//     arena, arena.go, which shares arrays by liveness);
//   - the CUDA machine (a -tags cuda build, gorgonia_cuda.go): the same
//     tape machine placing ops that have a GPU form on the GPU, with the
//     device memory, the host/device copies and cuBLAS handled for pit;
//   - dense n-dimensional arrays (array, shape, dtype) that the graph
//     values are.
//
// Everything else is pit's: each op is a kernelOp (ops.go, matmul.go,
// losses.go, sample.go) whose forward pass is a Go function (and a CUDA
// kernel in cuda/kernels.cu), gradients are built by pit (backprop.go), and
// training, sampling and checkpoints never reach into Gorgonia. pit keeps
// Gorgonia for the graph compiler and the CUDA machine: writing a tape
// compiler and a CUDA executor with its memory manager would be more code
// than the model itself, and both are well tested there.
// Gorgonia's own ops, its symbolic differentiation and its dual values are
// not used (gorgonia_traps_test.go records why). A newcomer reading the
// rest of the package sees pit's op system only: kernelOp, apply,
// backprop. TestGorgoniaBoundary keeps it so: a new file that needs
// something of Gorgonia gets a pit name for it here.

import (
	"fmt"
	"hash"
	"hash/fnv"
	"runtime"

	"github.com/chewxy/hm"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// Gorgonia's types under pit's names.
type (
	// exprGraph is a graph of nodes; Model.newGraph makes one.
	exprGraph = G.ExprGraph
	// node is one value of a graph: a weight, an input or an op's result.
	node = G.Node
	// nodes is a list of nodes (the inputs of an op, its gradients).
	nodes = G.Nodes
	// value is what a node holds when the graph runs: an array or a
	// scalar.
	value = G.Value
	// machine runs a compiled graph (newTapeMachine).
	machine = G.VM
	// runOp is an op as the machine sees it: a kernelOp, or its GPU form
	// in a CUDA build (placeOp).
	runOp = G.Op
	// array is a dense n-dimensional array of float32 or float64.
	array = tensor.Tensor
	// dense is the concrete array type every array of pit has.
	dense = tensor.Dense
	// shape is an array's dimensions.
	shape = tensor.Shape
	// dtype is an array's element type: dtFloat32 or dtFloat64.
	dtype = tensor.Dtype
)

// The element types pit's models use.
var (
	dtFloat32 = tensor.Float32
	dtFloat64 = tensor.Float64
)

// newArray makes a zero array of element type dt and the given dimensions.
func newArray(dt dtype, dims ...int) *dense {
	return tensor.New(tensor.Of(dt), tensor.WithShape(dims...))
}

// newExprGraph makes an empty graph.
func newExprGraph() *exprGraph { return G.NewGraph() }

// graphOps returns the ops of g (pit's kernelOps; for a GPU form, its
// kernelOp), in the order the nodes were added.
func graphOps(g *exprGraph) []*kernelOp {
	var ops []*kernelOp
	for _, n := range g.AllNodes() {
		if op := producer(n); op != nil {
			ops = append(ops, op)
		}
	}
	return ops
}

// viewOf returns an array of shape s over the first n elements of base.
func viewOf(base *dense, s shape, n int) *dense {
	if base.Dtype() == dtFloat64 {
		return tensor.New(tensor.WithShape(s.Clone()...), tensor.WithBacking(data[float64](base)[:n]))
	}
	return tensor.New(tensor.WithShape(s.Clone()...), tensor.WithBacking(data[float32](base)[:n]))
}

// reshape gives d the shape s (the same number of elements).
func reshape(d *dense, s shape) {
	if err := d.Reshape(s...); err != nil {
		panic(fmt.Sprintf("nn: reshape %v to %v: %v", d.Shape(), s, err))
	}
}

// newTapeMachine compiles g into a machine that runs it. In a CUDA build,
// startMachine keeps the compilation on one OS thread and repairs what
// Gorgonia's CUDA machine leaves to chance (device_cuda.go).
func newTapeMachine(g *exprGraph) machine {
	return startMachine(func() machine { return G.NewTapeMachine(g) })
}

// closeMachine releases vm. Gorgonia sets a finalizer on every tape
// machine that does what Close does (on a CUDA build, destroying its
// contexts); left in place, it would keep a closed machine, its graph and
// everything the graph holds (the model's weights among them) alive until
// one more garbage collection, and run the release a second time.
func closeMachine(vm machine) {
	vm.Close()
	runtime.SetFinalizer(vm, nil)
}

// sharedNode makes a graph node named name that holds t itself (not a
// copy): a weight of the model, which the optimiser updates in place
// between runs. t is a vector or a matrix.
func sharedNode(g *exprGraph, t array, s shape, name string) *node {
	if len(s) == 1 {
		return G.NewVector(g, t.Dtype(), G.WithShape(s...), G.WithName(name), G.WithValue(t))
	}
	return G.NewMatrix(g, t.Dtype(), G.WithShape(s...), G.WithName(name), G.WithValue(t))
}

// scalarNode makes a graph node named name holding the scalar v (a
// float32 or a float64, matching dt).
func scalarNode(g *exprGraph, dt dtype, name string, v any) *node {
	return G.NewScalar(g, dt, G.WithName(name), G.WithValue(v))
}

// apply applies op to the nodes; on a CUDA graph an op with a GPU kernel
// is applied as its GPU form.
func apply(op *kernelOp, in ...*node) (*node, error) {
	n, err := G.ApplyOp(placeOp(op, in), in...)
	if err != nil {
		return nil, fmt.Errorf("nn: apply %s: %w", op.name, err)
	}
	op.inputs = in
	return n, nil
}

// data returns the backing slice of a value (without the reflection that
// Dense.Data uses).
func data[T float](v value) []T {
	if d, ok := v.(*dense); ok {
		var z T
		if _, is32 := any(z).(float32); is32 {
			return any(d.Float32s()).([]T)
		}
		return any(d.Float64s()).([]T)
	}
	return v.Data().([]T)
}

// scalarOf reads a scalar value (a Gorgonia scalar or a one-element array).
func scalarOf(v value) float64 {
	switch s := v.(type) {
	case *G.F32:
		return float64(*s)
	case *G.F64:
		return float64(*s)
	}
	switch d := v.Data().(type) {
	case float32:
		return float64(d)
	case float64:
		return d
	case []float32:
		return float64(d[0])
	case []float64:
		return d[0]
	}
	panic(fmt.Sprintf("nn: not a scalar: %T", v))
}

// ---- kernelOp as a Gorgonia op ----
//
// The methods below are Gorgonia's op interface (G.Op, G.SDOp); pit's own
// code calls none of them but Do, through the machine.

var _ G.SDOp = (*kernelOp)(nil)

func tensorType(dims int, a hm.TypeVariable) hm.Type {
	if dims == 0 {
		return a
	}
	return G.TensorType{Dims: dims, Of: a}
}

func (op *kernelOp) Arity() int { return len(op.inDims) }

func (op *kernelOp) Type() hm.Type {
	a := hm.TypeVariable('a')
	ts := make([]hm.Type, 0, len(op.inDims)+1)
	for _, d := range op.inDims {
		ts = append(ts, tensorType(d, a))
	}
	ts = append(ts, tensorType(len(op.out), a))
	return hm.NewFnType(ts...)
}

func (op *kernelOp) InferShape(...G.DimSizer) (tensor.Shape, error) {
	if len(op.out) == 0 {
		return tensor.ScalarShape(), nil
	}
	return op.out.Clone(), nil
}

// Do runs the op's forward pass into its output array (from the graph's
// arena, arena.go; or without one, made on the first run and then reused)
// or, for a scalar op, into a new scalar.
func (op *kernelOp) Do(in ...G.Value) (G.Value, error) {
	if len(in) != len(op.inDims) {
		return nil, fmt.Errorf("nn: op %s wants %d inputs, got %d", op.name, len(op.inDims), len(in))
	}
	var out array
	switch {
	case op.ar != nil:
		if d := op.ar.start(op); d != nil {
			out = d
		}
	case len(op.out) > 0:
		if op.buf == nil {
			op.buf = tensor.New(tensor.Of(op.dtype), tensor.WithShape(op.out.Clone()...))
		}
		out = op.buf
	}
	v, err := op.forward(out, in)
	if op.ar != nil {
		op.ar.ran(op)
	}
	if err != nil {
		return nil, err
	}
	if len(op.out) > 0 {
		return out, nil
	}
	if op.dtype == tensor.Float64 {
		return G.NewF64(v), nil
	}
	return G.NewF32(float32(v)), nil
}

func (op *kernelOp) ReturnsPtr() bool     { return false }
func (op *kernelOp) CallsExtern() bool    { return false }
func (op *kernelOp) OverwritesInput() int { return -1 }
func (op *kernelOp) WriteHash(h hash.Hash) {
	fmt.Fprintf(h, "nn.%s#%d", op.name, op.id)
}
func (op *kernelOp) Hashcode() uint32 {
	h := fnv.New32a()
	op.WriteHash(h)
	return h.Sum32()
}
func (op *kernelOp) String() string { return op.name }

// DiffWRT reports which inputs the op has gradients for.
func (op *kernelOp) DiffWRT(n int) []bool {
	out := make([]bool, n)
	if op.grad != nil {
		for i := range out {
			out[i] = true
		}
	}
	return out
}

// SymDiff builds the gradient nodes.
func (op *kernelOp) SymDiff(inputs G.Nodes, output, grad *G.Node) (G.Nodes, error) {
	if op.grad == nil {
		return nil, fmt.Errorf("nn: op %s has no gradient", op.name)
	}
	return op.grad(inputs, output, grad)
}
