//go:build !cuda

package nn

import (
	"math/rand/v2"
	"testing"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// Finite-difference checks of the Llama family's ops (see checkOpGrad).
func TestLlamaOpGradients(t *testing.T) {
	ids := []int{3, 0, 4, 4, 1, 2}
	gqa := gqaShape{B: 2, T: 4, H: 4, KV: 2, Dh: 4}
	mha := gqaShape{B: 1, T: 5, H: 2, KV: 2, Dh: 6}
	cases := []opCase{
		{name: "RMSNorm", shapes: []tensor.Shape{{5, 6}, {6}},
			build: func(in []*G.Node) (*G.Node, error) { return rmsNorm(in[0], in[1], 1e-5) },
			init: func(i int, v []float64, rng *rand.Rand) {
				for j := range v {
					v[j] = rng.NormFloat64() + float64(i) // gains near 1
				}
			}},
		{name: "ResidualRMSNorm", shapes: []tensor.Shape{{5, 6}, {6}, {6}}, fused: "RMSNormGradXAcc",
			build: func(in []*G.Node) (*G.Node, error) {
				return residualNormChain(in[0], func(x *G.Node, l int) (*G.Node, error) {
					return rmsNorm(x, in[1+l], 1e-5)
				})
			},
			init: func(i int, v []float64, rng *rand.Rand) {
				for j := range v {
					v[j] = rng.NormFloat64() + float64(min(i, 1)) // gains near 1
				}
			}},
		{name: "RoPE", shapes: []tensor.Shape{{gqa.B * gqa.T, gqa.width()}},
			build: func(in []*G.Node) (*G.Node, error) { return rope(in[0], gqa, 10000) }},
		{name: "RoPEBigTheta", shapes: []tensor.Shape{{mha.B * mha.T, mha.width()}},
			build: func(in []*G.Node) (*G.Node, error) { return rope(in[0], mha, 5e5) }},
		{name: "GQAttention", shapes: []tensor.Shape{{gqa.B * gqa.T, gqa.width()}},
			build: func(in []*G.Node) (*G.Node, error) { return gqAttention(in[0], gqa) }},
		{name: "GQAttentionMHA", shapes: []tensor.Shape{{mha.B * mha.T, mha.width()}},
			build: func(in []*G.Node) (*G.Node, error) { return gqAttention(in[0], mha) }},
		{name: "SwiGLU", shapes: []tensor.Shape{{4, 10}},
			build: func(in []*G.Node) (*G.Node, error) { return swiglu(in[0]) }},
		{name: "TokenEmbed", shapes: []tensor.Shape{{5, 4}},
			build: func(in []*G.Node) (*G.Node, error) { return tokenEmbed(in[0], &ids) }},
		{name: "LlamaBlock", shapes: []tensor.Shape{{gqa.B * gqa.T, 8}, {8}, {8, gqa.width()}},
			build: func(in []*G.Node) (*G.Node, error) {
				h, err := rmsNorm(in[0], in[1], 1e-6)
				if err != nil {
					return nil, err
				}
				qkv, err := matmul(h, in[2], nil)
				if err != nil {
					return nil, err
				}
				if qkv, err = rope(qkv, gqa, 100); err != nil {
					return nil, err
				}
				return gqAttention(qkv, gqa)
			}},
	}
	for _, oc := range cases {
		t.Run(oc.name, func(t *testing.T) { checkOpGrad(t, oc) })
	}
}

// With KV = H and no rotation, grouped-query attention is pit's causal
// attention.
func TestGQAttentionIsMultiHeadWhenKVEqualsH(t *testing.T) {
	a := gqaShape{B: 2, T: 5, H: 3, KV: 3, Dh: 4}
	rng := rand.New(rand.NewPCG(1, 2))
	qkv := make([]float64, a.B*a.T*a.width())
	for i := range qkv {
		qkv[i] = rng.NormFloat64()
	}
	got := make([]float64, a.B*a.T*a.H*a.Dh)
	want := make([]float64, len(got))
	gqaForward(qkv, got, a)
	attnForward(qkv, want, attnShape{B: a.B, T: a.T, H: a.H, D: a.H * a.Dh})
	for i := range got {
		if d := got[i] - want[i]; d > 1e-12 || d < -1e-12 {
			t.Fatalf("entry %d: %g vs %g", i, got[i], want[i])
		}
	}
	// position 0 is not rotated; position 1 rotates pair (0, Dh/2) by 1 rad
	rt := newRopeTable(a.T, a.Dh, 10000)
	out := make([]float64, len(qkv))
	ropeApply(qkv, out, a, rt, 1)
	W := a.width()
	if out[0] != qkv[0] || out[2*W-1] != qkv[2*W-1] {
		t.Errorf("position 0 or a value head was changed")
	}
}
