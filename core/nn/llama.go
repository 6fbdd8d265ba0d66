package nn

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
)

// LlamaConfig describes a Llama-family decoder: RMSNorm before attention
// and MLP, rotary positions, grouped-query attention without biases, a
// SwiGLU MLP, a final RMSNorm and a linear LM head.
type LlamaConfig struct {
	Vocab     int     // token ids
	Context   int     // longest sequence
	DModel    int     // width of the residual stream
	Layers    int     // blocks
	Heads     int     // query heads; must divide DModel
	KVHeads   int     // key/value heads; must divide Heads
	MLP       int     // SwiGLU hidden width
	RMSEps    float64 // epsilon of every RMSNorm
	RopeTheta float64 // base of the rotary frequencies
}

// Validate reports what is wrong with c, all problems at once.
func (c LlamaConfig) Validate() error {
	var errs []error
	for _, f := range []struct {
		name string
		v    int
	}{{"vocab", c.Vocab}, {"context", c.Context}, {"d_model", c.DModel}, {"layers", c.Layers}, {"heads", c.Heads}, {"kv_heads", c.KVHeads}, {"mlp", c.MLP}} {
		if f.v <= 0 {
			errs = append(errs, fmt.Errorf("%s must be positive, got %d", f.name, f.v))
		}
	}
	if c.Heads > 0 && c.DModel%c.Heads != 0 {
		errs = append(errs, fmt.Errorf("heads (%d) must divide d_model (%d)", c.Heads, c.DModel))
	} else if c.Heads > 0 && (c.DModel/c.Heads)%2 != 0 {
		errs = append(errs, fmt.Errorf("head width d_model/heads = %d must be even for rotary positions", c.DModel/c.Heads))
	}
	if c.KVHeads > 0 && c.Heads%c.KVHeads != 0 {
		errs = append(errs, fmt.Errorf("kv_heads (%d) must divide heads (%d)", c.KVHeads, c.Heads))
	}
	if !(c.RMSEps > 0) || !(c.RopeTheta > 0) {
		errs = append(errs, fmt.Errorf("rms_eps (%g) and rope_theta (%g) must be positive", c.RMSEps, c.RopeTheta))
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("nn: invalid llama config: %w", err)
	}
	return nil
}

// LlamaParamShapes lists a Llama model's parameters with pit's names and
// [in, out] layouts: wte [V, D]; per layer "h<l>." attn_norm.g [D], qkv.w
// [D, (H+2KV)·Dh] (query heads, then key heads, then value heads), o.w
// [D, D], mlp_norm.g [D], gate_up.w [D, 2M] (gate columns, then up), down.w
// [M, D]; norm.g [D], head.w [D, V].
func LlamaParamShapes(c LlamaConfig) []ParamShape {
	D, M := c.DModel, c.MLP
	dh := 1
	if c.Heads > 0 {
		dh = D / c.Heads
	}
	out := []ParamShape{{"wte", []int{c.Vocab, D}}}
	for l := range c.Layers {
		p := fmt.Sprintf("h%d.", l)
		out = append(out,
			ParamShape{p + "attn_norm.g", []int{D}},
			ParamShape{p + "qkv.w", []int{D, (c.Heads + 2*c.KVHeads) * dh}},
			ParamShape{p + "o.w", []int{D, D}},
			ParamShape{p + "mlp_norm.g", []int{D}},
			ParamShape{p + "gate_up.w", []int{D, 2 * M}},
			ParamShape{p + "down.w", []int{M, D}})
	}
	return append(out, ParamShape{"norm.g", []int{D}}, ParamShape{"head.w", []int{D, c.Vocab}})
}

// Llama is a Llama-family model for forward passes (logits) on the CPU in
// float32. It is not yet a Model: it has no value or reward head, no
// training step, no sampling and no CUDA kernels (docs/pretrained.md).
type Llama struct {
	cfg    LlamaConfig
	params map[string]*dense

	mu    sync.Mutex // Logits runs one graph at a time
	graph map[int]*llamaGraph
}

type llamaGraph struct {
	vm  machine
	ids []int
	out []float64
}

// NewLlama builds a Llama model from its parameters (named as
// LlamaParamShapes lists them).
func NewLlama(cfg LlamaConfig, weights map[string][]float32) (*Llama, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	shapes := LlamaParamShapes(cfg)
	m := &Llama{cfg: cfg, params: map[string]*dense{}, graph: map[int]*llamaGraph{}}
	for _, ps := range shapes {
		w, ok := weights[ps.Name]
		if !ok {
			return nil, fmt.Errorf("nn: llama: parameter %q missing", ps.Name)
		}
		n := 1
		for _, d := range ps.Shape {
			n *= d
		}
		if len(w) != n {
			return nil, fmt.Errorf("nn: llama: parameter %q has %d values, shape %v needs %d", ps.Name, len(w), ps.Shape, n)
		}
		t := newArray(dtFloat32, ps.Shape...)
		copy(t.Float32s(), w)
		m.params[ps.Name] = t
	}
	if len(weights) != len(shapes) {
		for name := range weights {
			if _, ok := m.params[name]; !ok {
				return nil, fmt.Errorf("nn: llama: unknown parameter %q", name)
			}
		}
	}
	return m, nil
}

// Config returns the model's configuration.
func (m *Llama) Config() LlamaConfig { return m.cfg }

// Logits returns the LM logits (V per position) of one sequence.
func (m *Llama) Logits(ctx context.Context, seq []int) ([][]float64, error) {
	if len(seq) == 0 || len(seq) > m.cfg.Context {
		return nil, fmt.Errorf("nn: llama: sequence of %d tokens (context %d)", len(seq), m.cfg.Context)
	}
	for t, id := range seq {
		if id < 0 || id >= m.cfg.Vocab {
			return nil, fmt.Errorf("nn: llama: token %d: id %d outside vocabulary [0, %d)", t, id, m.cfg.Vocab)
		}
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	T := len(seq)
	gr, ok := m.graph[T]
	if !ok {
		var err error
		if gr, err = m.build(T); err != nil {
			return nil, err
		}
		m.graph[T] = gr
	}
	copy(gr.ids, seq)
	defer gr.vm.Reset()
	if err := gr.vm.RunAll(); err != nil {
		return nil, fmt.Errorf("nn: llama forward: %w", err)
	}
	V := m.cfg.Vocab
	out := make([][]float64, T)
	for t := range out {
		out[t] = slices.Clone(gr.out[t*V : (t+1)*V])
	}
	return out, nil
}

// build makes the forward graph of one sequence of T tokens.
func (m *Llama) build(T int) (*llamaGraph, error) {
	c := m.cfg
	g := newExprGraph()
	param := func(name string) *node {
		t := m.params[name]
		return sharedNode(g, t, t.Shape(), name)
	}
	gr := &llamaGraph{ids: make([]int, T)}
	a := gqaShape{B: 1, T: T, H: c.Heads, KV: c.KVHeads, Dh: c.DModel / c.Heads}
	x, err := tokenEmbed(param("wte"), &gr.ids)
	if err != nil {
		return nil, err
	}
	for l := range c.Layers {
		p := fmt.Sprintf("h%d.", l)
		steps := []func() error{
			func() error {
				h, err := rmsNorm(x, param(p+"attn_norm.g"), c.RMSEps)
				if err != nil {
					return err
				}
				qkv, err := matmul(h, param(p+"qkv.w"), nil)
				if err != nil {
					return err
				}
				if qkv, err = rope(qkv, a, c.RopeTheta); err != nil {
					return err
				}
				att, err := gqAttention(qkv, a)
				if err != nil {
					return err
				}
				o, err := matmul(att, param(p+"o.w"), nil)
				if err != nil {
					return err
				}
				x, err = residual(x, o)
				return err
			},
			func() error {
				h, err := rmsNorm(x, param(p+"mlp_norm.g"), c.RMSEps)
				if err != nil {
					return err
				}
				gu, err := matmul(h, param(p+"gate_up.w"), nil)
				if err != nil {
					return err
				}
				u, err := swiglu(gu)
				if err != nil {
					return err
				}
				o, err := matmul(u, param(p+"down.w"), nil)
				if err != nil {
					return err
				}
				x, err = residual(x, o)
				return err
			},
		}
		for _, step := range steps {
			if err := step(); err != nil {
				return nil, err
			}
		}
	}
	h, err := rmsNorm(x, param("norm.g"), c.RMSEps)
	if err != nil {
		return nil, err
	}
	logits, err := matmul(h, param("head.w"), nil)
	if err != nil {
		return nil, err
	}
	if _, err := capture(logits, &gr.out); err != nil {
		return nil, err
	}
	gr.vm = newTapeMachine(g)
	return gr, nil
}
