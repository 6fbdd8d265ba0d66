package nn

import (
	"math"
	"math/rand/v2"
	"testing"
)

// TestGemmForMatchesCPU checks the cuBLAS arguments of every matrix
// product of the CUDA path: colMajorGemm computes what cuBLAS's Sgemm
// computes, and must give the Go kernels' results.
func TestGemmForMatchesCPU(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	randv := func(n int) []float32 {
		v := make([]float32, n)
		for i := range v {
			v[i] = float32(rng.NormFloat64())
		}
		return v
	}
	for _, sz := range [][3]int{{1, 1, 1}, {3, 5, 7}, {16, 9, 4}, {2, 33, 17}} {
		m, n, k := sz[0], sz[1], sz[2]
		x, w, dy := randv(m*k), randv(k*n), randv(m*n)
		tests := []struct {
			kind      devKind
			in0, in1  []float32 // the op's inputs, in order
			want, got []float32
		}{
			{devLinear, x, w, make([]float32, m*n), make([]float32, m*n)},
			{devLinearGX, dy, w, make([]float32, m*k), make([]float32, m*k)},
			{devLinearGW, x, dy, make([]float32, k*n), make([]float32, k*n)},
		}
		mulNN(m, n, k, x, w, tests[0].want, false)
		mulNT(m, k, n, dy, w, tests[1].want)
		mulTN(k, n, m, x, dy, tests[2].want)
		for _, tc := range tests {
			// cuBLAS's A is the op's second input, B its first (runDev).
			colMajorGemm(gemmFor(tc.kind, m, n, k), tc.in1, tc.in0, tc.got)
			for i := range tc.want {
				if d := math.Abs(float64(tc.want[i] - tc.got[i])); d > 1e-4*(1+math.Abs(float64(tc.want[i]))) {
					t.Fatalf("kind %d, m,n,k = %d,%d,%d: element %d = %v, want %v", tc.kind, m, n, k, i, tc.got[i], tc.want[i])
				}
			}
		}
	}
}

// TestGraphsHaveOnlyPitOps checks that the training and scoring graphs
// hold nothing but pit's ops (backprop.go): a stock Gorgonia op would be a
// GPU op in the CUDA build whatever the model's device, and would need a
// GPU kernel pit does not have.
func TestGraphsHaveOnlyPitOps(t *testing.T) {
	m := mustModel(t, smallConfig(1))
	for _, kind := range []graphKind{kindSFT, kindCompare, kindPG, kindEvalPolicy, kindEvalReward} {
		gr, err := m.buildGraph(graphKey{kind: kind, B: 2, T: 8})
		if err != nil {
			t.Fatal(err)
		}
		gpu := 0
		for _, n := range gr.tr.g.AllNodes() {
			switch op := n.Op().(type) {
			case nil: // inputs and parameters
			case *kernelOp:
				if op.dev.kind != devNone {
					gpu++
				}
			default:
				t.Errorf("%v graph: stock op %v (%T) on %v %v", kind, op, op, n.Dtype(), n.Shape())
			}
		}
		if gpu == 0 {
			t.Errorf("%v graph: no op has a GPU kernel", kind)
		}
		gr.vm.Close()
	}
}
