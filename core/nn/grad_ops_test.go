//go:build !cuda

// The op-level checks build their test losses from stock Gorgonia ops and
// differentiate with G.Grad; in a -tags cuda build those are GPU ops, so
// these run in CPU builds only. The model-level checks (grad_test.go) run
// in both.

package nn

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// ---- op-level finite-difference checks ----

// opCase builds y = op(inputs) for random float64 inputs; the check
// differentiates L = Σ c⊙y with respect to every input.
type opCase struct {
	name   string
	shapes []tensor.Shape
	build  func(in []*G.Node) (*G.Node, error)
	init   func(i int, v []float64, rng *rand.Rand) // optional input init
	// fused, when set, differentiates with pit's backprop instead of
	// G.Grad (so that gradInto folds gradients) and names an op the
	// gradient graph must hold; it must then hold no GradSum.
	fused string
}

func dotLoss(y *G.Node, c []float64) (*G.Node, error) {
	f64 := func(x, grad []float64) (float64, error) {
		var s float64
		for i := range x {
			s += c[i] * x[i]
			grad[i] = c[i]
		}
		return s, nil
	}
	f32 := func(x, grad []float32) (float64, error) { return 0, fmt.Errorf("float64 only") }
	return lossNode("Dot", y, f32, f64)
}

func checkOpGrad(t *testing.T, oc opCase) {
	t.Helper()
	rng := rand.New(rand.NewPCG(7, uint64(len(oc.name))))
	g := G.NewGraph()
	var nodes []*G.Node
	var vals [][]float64
	for i, sh := range oc.shapes {
		v := make([]float64, sh.TotalSize())
		if oc.init != nil {
			oc.init(i, v, rng)
		} else {
			for j := range v {
				v[j] = rng.NormFloat64()
			}
		}
		tt := tensor.New(tensor.WithShape(sh...), tensor.WithBacking(v))
		var n *G.Node
		if len(sh) == 1 {
			n = G.NewVector(g, tensor.Float64, G.WithShape(sh...), G.WithValue(tt), G.WithName(fmt.Sprint("in", i)))
		} else {
			n = G.NewMatrix(g, tensor.Float64, G.WithShape(sh...), G.WithValue(tt), G.WithName(fmt.Sprint("in", i)))
		}
		nodes = append(nodes, n)
		vals = append(vals, v)
	}
	y, err := oc.build(nodes)
	if err != nil {
		t.Fatal(err)
	}
	c := make([]float64, y.Shape().TotalSize())
	for i := range c {
		c[i] = rng.NormFloat64()
	}
	var loss float64
	cost, err := dotLoss(y, c)
	if err != nil {
		t.Fatal(err)
	}
	var lv G.Value
	G.Read(cost, &lv)
	var pitGrads []array
	var vm G.VM
	if oc.fused == "" {
		if _, err := G.Grad(cost, nodes...); err != nil {
			t.Fatal(err)
		}
		vm = G.NewTapeMachine(g, G.BindDualValues(nodes...))
	} else {
		if pitGrads, err = backprop(g, cost, nodes); err != nil {
			t.Fatal(err)
		}
		ops := map[string]int{}
		for _, n := range g.AllNodes() {
			if op, ok := n.Op().(*kernelOp); ok {
				ops[op.name]++
			}
		}
		if ops[oc.fused] == 0 || ops["GradSum"] > 0 {
			t.Fatalf("%s: gradient graph has %d %s and %d GradSum ops, want some and none", oc.name, ops[oc.fused], oc.fused, ops["GradSum"])
		}
		vm = G.NewTapeMachine(g)
	}
	defer vm.Close()
	run := func() float64 {
		if err := vm.RunAll(); err != nil {
			t.Fatal(err)
		}
		vm.Reset()
		return scalarOf(lv)
	}
	loss = run()
	analytic := make([][]float64, len(nodes))
	for i, n := range nodes {
		if pitGrads != nil {
			analytic[i] = toF64(pitGrads[i])
			continue
		}
		gv, err := n.Grad()
		if err != nil {
			t.Fatal(err)
		}
		analytic[i] = append([]float64(nil), gv.Data().([]float64)...)
		clear(gv.Data().([]float64))
	}
	_ = loss
	const h = 1e-6
	for i := range nodes {
		for j := range vals[i] {
			old := vals[i][j]
			vals[i][j] = old + h
			lp := run()
			vals[i][j] = old - h
			lm := run()
			vals[i][j] = old
			num := (lp - lm) / (2 * h)
			if d := math.Abs(num - analytic[i][j]); d > 1e-6+1e-5*math.Abs(num) {
				t.Errorf("%s: input %d[%d]: analytic %.9g, numeric %.9g", oc.name, i, j, analytic[i][j], num)
			}
		}
		for _, n := range nodes {
			if gv, err := n.Grad(); err == nil {
				clear(gv.Data().([]float64))
			}
		}
	}
}

func TestOpGradients(t *testing.T) {
	ids := []int{3, 0, 4, 4, 1, 2}
	cases := []opCase{
		{name: "LayerNorm", shapes: []tensor.Shape{{5, 6}, {6}, {6}},
			build: func(in []*G.Node) (*G.Node, error) { return layerNorm(in[0], in[1], in[2], lnEps) }},
		{name: "ResidualLayerNorm", shapes: []tensor.Shape{{5, 6}, {6}, {6}, {6}, {6}}, fused: "LayerNormGradXAcc",
			build: func(in []*G.Node) (*G.Node, error) {
				return residualNormChain(in[0], func(x *G.Node, l int) (*G.Node, error) {
					return layerNorm(x, in[1+2*l], in[2+2*l], lnEps)
				})
			}},
		{name: "Linear", shapes: []tensor.Shape{{5, 4}, {4, 3}, {3}},
			build: func(in []*G.Node) (*G.Node, error) { return matmul(in[0], in[1], in[2]) }},
		{name: "MatMul", shapes: []tensor.Shape{{5, 4}, {4, 3}},
			build: func(in []*G.Node) (*G.Node, error) { return matmul(in[0], in[1], nil) }},
		{name: "Residual", shapes: []tensor.Shape{{3, 4}, {3, 4}},
			build: func(in []*G.Node) (*G.Node, error) { return residual(in[0], in[1]) }},
		{name: "BiasAdd", shapes: []tensor.Shape{{4, 3}, {3}},
			build: func(in []*G.Node) (*G.Node, error) { return biasAdd(in[0], in[1]) }},
		{name: "BiasGelu", shapes: []tensor.Shape{{4, 5}, {5}},
			build: func(in []*G.Node) (*G.Node, error) { return biasGelu(in[0], in[1]) }},
		{name: "Embed", shapes: []tensor.Shape{{5, 4}, {3, 4}},
			build: func(in []*G.Node) (*G.Node, error) { return embed(in[0], in[1], &ids, 3) }},
		{name: "CausalAttention", shapes: []tensor.Shape{{2 * 5, 3 * 8}},
			build: func(in []*G.Node) (*G.Node, error) {
				return attention(in[0], attnShape{B: 2, T: 5, H: 2, D: 8})
			}},
	}
	for _, oc := range cases {
		t.Run(oc.name, func(t *testing.T) { checkOpGrad(t, oc) })
	}
}

// residualNormChain builds two residual steps on the stream x, each
// adding a function of norm(x, step) (here GELU of it) as a block does:
// the stream feeds both the norm and the next residual, so its gradient is
// the norm's plus the residual's, which backprop folds into the norm's
// gradient op.
func residualNormChain(x *G.Node, norm func(x *G.Node, step int) (*G.Node, error)) (*G.Node, error) {
	for step := 0; step < 2; step++ {
		h, err := norm(x, step)
		if err != nil {
			return nil, err
		}
		zero := G.NewVector(x.Graph(), x.Dtype(), G.WithShape(x.Shape()[1]), G.WithName(fmt.Sprint("zero", step)),
			G.WithValue(tensor.New(tensor.Of(x.Dtype()), tensor.WithShape(x.Shape()[1]))))
		if h, err = biasGelu(h, zero); err != nil {
			return nil, err
		}
		if x, err = residual(x, h); err != nil {
			return nil, err
		}
	}
	return x, nil
}

// ---- model-level checks of every loss (float64 model) ----
