//go:build !cuda

// These tests pin stock Gorgonia ops on the CPU; in a -tags cuda build
// those ops are GPU ops (and need a GPU), so they run in CPU builds only.

package nn

// These tests pin down the Gorgonia v0.9.18 / tensor v0.9.24 behaviours that
// issue 2 warned about and that this package works around with its own ops.
// They assert the upstream behaviour as observed; if one fails after an
// upgrade, the trap is gone (or changed) and the note in the package docs
// should be revisited.

import (
	"math"
	"testing"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

func runGraph(t *testing.T, g *G.ExprGraph, opts ...G.VMOpt) G.VM {
	t.Helper()
	vm := G.NewTapeMachine(g, opts...)
	t.Cleanup(func() { vm.Close() })
	if err := vm.RunAll(); err != nil {
		t.Fatal(err)
	}
	vm.Reset()
	return vm
}

// Trap: InverseSqrt's gradient is wrong (a layer norm built from it trains
// silently wrong). Our layerNorm op has its own, checked gradient.
func TestTrapInverseSqrtGradient(t *testing.T) {
	g := G.NewGraph()
	xv := []float64{0.5, 2, 4}
	x := G.NewVector(g, tensor.Float64, G.WithShape(3), G.WithName("x"), G.WithValue(tensor.New(tensor.WithBacking(append([]float64(nil), xv...)))))
	y := G.Must(G.Sum(G.Must(G.InverseSqrt(x))))
	if _, err := G.Grad(y, x); err != nil {
		t.Fatal(err)
	}
	runGraph(t, g, G.BindDualValues(x))
	gv, err := x.Grad()
	if err != nil {
		t.Fatal(err)
	}
	got := gv.Data().([]float64)
	wrong := 0
	for i, v := range xv {
		want := -0.5 * math.Pow(v, -1.5)
		if math.Abs(got[i]-want) > 1e-9 {
			wrong++
		}
		t.Logf("d/dx x^-1/2 at %v: gorgonia %v, true %v", v, got[i], want)
	}
	if wrong == 0 {
		t.Fatal("InverseSqrt's gradient is right now: the trap is gone")
	}
}

// Trap: tensor's softmax starts every row's running max at the tensor's
// first element, so a row far below that element underflows to −Inf.
func TestTrapSoftmaxGlobalMax(t *testing.T) {
	x := tensor.New(tensor.WithShape(2, 3), tensor.WithBacking([]float64{1000, 1001, 1002, 0, 1, 2}))
	out, err := tensor.LogSoftMax(x, 1)
	if err != nil {
		t.Fatal(err)
	}
	row1 := out.Data().([]float64)[3:]
	finite := true
	for _, v := range row1 {
		finite = finite && !math.IsInf(v, 0) && !math.IsNaN(v)
	}
	t.Logf("tensor.LogSoftMax of row [0 1 2] below a row [1000 1001 1002]: %v", row1)
	if finite {
		t.Fatal("tensor.LogSoftMax handles rows of different scale now: the trap is gone")
	}
	p := make([]float64, 3)
	for _, row := range [][]float64{{0, 1, 2}, {1000, 1001, 1002}} {
		lse := logSoftmaxRow(row, 1, p)
		if math.IsInf(lse, 0) || math.Abs(lse-row[2]-math.Log(1+math.Exp(-1)+math.Exp(-2))) > 1e-12 {
			t.Fatalf("our log-softmax of %v: lse %v", row, lse)
		}
	}
}

// Trap: SoftMax(x) and LogSoftMax(x) hash alike, so one graph merges them
// into one node. Our ops hash their instance number.
func TestTrapSoftmaxLogSoftmaxMerge(t *testing.T) {
	g := G.NewGraph()
	x := G.NewMatrix(g, tensor.Float64, G.WithShape(1, 3), G.WithName("x"), G.WithValue(tensor.New(tensor.WithShape(1, 3), tensor.WithBacking([]float64{1, 2, 3}))))
	sm := G.Must(G.SoftMax(x))
	lsm := G.Must(G.LogSoftMax(x))
	if sm != lsm {
		t.Fatal("SoftMax and LogSoftMax of one node are distinct nodes now: the trap is gone")
	}
	a := newKernelOp("Same", tensor.Float64, tensor.Shape{1, 3}, 2)
	b := newKernelOp("Same", tensor.Float64, tensor.Shape{1, 3}, 2)
	if a.Hashcode() == b.Hashcode() {
		t.Fatal("two kernelOps with one name hash alike")
	}
}

// Trap: LogSumExp along axis 1 of a matrix fails.
func TestTrapLogSumExpAxis1(t *testing.T) {
	g := G.NewGraph()
	x := G.NewMatrix(g, tensor.Float64, G.WithShape(2, 3), G.WithName("x"), G.WithValue(tensor.New(tensor.WithShape(2, 3), tensor.WithBacking([]float64{1, 2, 3, 4, 5, 6}))))
	failed := func() (failed bool) {
		defer func() {
			if recover() != nil {
				failed = true
			}
		}()
		n, err := G.LogSumExp(x, 1)
		if err != nil {
			return true
		}
		vm := G.NewTapeMachine(g)
		defer vm.Close()
		if err := vm.RunAll(); err != nil {
			return true
		}
		want := []float64{3 + math.Log(1+math.Exp(-1)+math.Exp(-2)), 6 + math.Log(1+math.Exp(-1)+math.Exp(-2))}
		got, ok := n.Value().Data().([]float64)
		return !ok || len(got) != 2 || math.Abs(got[0]-want[0]) > 1e-9 || math.Abs(got[1]-want[1]) > 1e-9
	}()
	if !failed {
		t.Fatal("LogSumExp(x, 1) works now: the trap is gone")
	}
}

// Trap: gradients bound with BindDualValues accumulate across RunAll until
// someone zeroes them. Trainer.step zeroes them after every step, failed
// or not (TestNonFiniteStepChangesNothing checks the trainer side).
func TestTrapGradientsAccumulate(t *testing.T) {
	g := G.NewGraph()
	x := G.NewVector(g, tensor.Float64, G.WithShape(2), G.WithName("x"), G.WithValue(tensor.New(tensor.WithBacking([]float64{1, 2}))))
	y := G.Must(G.Sum(G.Must(G.Square(x))))
	if _, err := G.Grad(y, x); err != nil {
		t.Fatal(err)
	}
	vm := runGraph(t, g, G.BindDualValues(x))
	if err := vm.RunAll(); err != nil {
		t.Fatal(err)
	}
	vm.Reset()
	gv, _ := x.Grad()
	got := gv.Data().([]float64)
	t.Logf("gradient of Σx² at (1, 2) after two runs: %v (one run: [2 4])", got)
	if got[0] != 4 || got[1] != 8 {
		t.Fatalf("gradient after two runs is %v, not the accumulated [4 8]: the trap changed", got)
	}
}
