package nn

import (
	"fmt"
	"slices"
)

// ParamShape is the name and shape of one of a model's parameters.
type ParamShape struct {
	Name  string
	Shape []int
}

// ParamShapes lists the parameters a model of cfg (defaults filled in) has,
// in order, with pit's names: wte [V, D], wpe [C, D]; per layer l "h<l>."
// ln1.g/b [D], attn.w [D, 3D] (queries, keys, values side by side, heads
// contiguous inside each), attn.b [3D], proj.w [D, D], proj.b [D],
// ln2.g/b [D], mlp.w1 [D, M], mlp.b1 [M], mlp.w2 [M, D], mlp.b2 [D]; then
// lnf.g/b [D], head.w [D, V+1] (column V is the value head), head.b [V+1],
// rm.w [D, 1], rm.b [1]. Matrices are row-major [in, out]: y = x·W + b.
// A "llama" model has no wpe and no biases in its body: wte, per layer
// attn_norm.g, qkv.w, o.w, mlp_norm.g, gate_up.w, down.w (addLlamaBody),
// norm.g, then the same heads.
func ParamShapes(cfg Config) []ParamShape {
	var out []ParamShape
	layout(cfg.WithDefaults(), func(name string, _ bool, dims ...int) {
		out = append(out, ParamShape{Name: name, Shape: slices.Clone(dims)})
	})
	return out
}

// LayerNormEps is the epsilon of every layer norm of pit's transformer.
const LayerNormEps = lnEps

// FromWeights builds a model of cfg with the given parameters (by the names
// of ParamShapes), for importing checkpoints written by other programs.
// Every parameter must be present with its shape's number of values; an
// unknown name is an error.
func FromWeights(cfg Config, weights map[string][]float32) (*Model, error) {
	cfg = cfg.WithDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if err := checkDevice(cfg); err != nil {
		return nil, err
	}
	m := newShell(cfg)
	for name := range weights {
		if _, ok := m.byName[name]; !ok {
			return nil, fmt.Errorf("nn: from weights: unknown parameter %q", name)
		}
	}
	for _, p := range m.params {
		w, ok := weights[p.name]
		if !ok {
			return nil, fmt.Errorf("nn: from weights: parameter %q missing", p.name)
		}
		if len(w) != p.shape.TotalSize() {
			return nil, fmt.Errorf("nn: from weights: parameter %q has %d values, shape %v needs %d", p.name, len(w), p.shape, p.shape.TotalSize())
		}
		switch d := p.t.Data().(type) {
		case []float32:
			copy(d, w)
		case []float64:
			for i, v := range w {
				d[i] = float64(v)
			}
		}
	}
	return m, nil
}
