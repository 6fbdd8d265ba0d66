package nn

import (
	"fmt"
	"math"
	"math/rand/v2"
	"sync"
)

// param is one named weight tensor of a model.
type param struct {
	name  string
	shape shape
	decay bool // weight decay applies (matrices)
	idx   int  // position in Model.params
	t     array
}

// Model is a decoder-only transformer with a language-model head, a value
// head and a reward head. Its weights are shared by every graph built for
// it (training, scoring and sampling graphs of each shape).
type Model struct {
	cfg    Config
	dtype  dtype
	params []*param
	byName map[string]*param

	// mu serialises the read-only paths (scoring, sampling), which share
	// compiled graphs; training is not covered (see Trainer).
	mu     sync.Mutex
	eval   *graphCache // forward-only graphs, keyed by kind and shape
	decode map[[2]int]*decoder
	packs  weightPacks // decode steps' packed weights (sample.go)

	noPrefill bool // tests: decode prompts token by token
}

// New builds a model from cfg (defaults filled in), initialised from
// cfg.Seed: the same config gives bit-identical weights.
func New(cfg Config) (*Model, error) {
	cfg = cfg.WithDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if err := checkDevice(cfg); err != nil {
		return nil, err
	}
	m := newShell(cfg)
	m.init()
	return m, nil
}

// newShell allocates a model's parameters (zeroed) without initialising
// them.
func newShell(cfg Config) *Model {
	m := &Model{cfg: cfg, byName: map[string]*param{}, decode: map[[2]int]*decoder{}}
	m.dtype = dtFloat32
	if cfg.DType == "float64" {
		m.dtype = dtFloat64
	}
	layout(cfg, func(name string, decay bool, dims ...int) {
		p := &param{name: name, shape: shape(dims), decay: decay, idx: len(m.params),
			t: newArray(m.dtype, dims...)}
		m.params = append(m.params, p)
		m.byName[name] = p
	})
	m.eval = newGraphCache(8, func(k graphKey) int64 { return graphBytes(m.cfg, k) })
	return m
}

// layout calls add for each parameter of a model of cfg, in order, with
// its name, whether weight decay applies and its dimensions (see
// ParamShapes). It allocates nothing, so shapes and counts of models too
// large to build can be known.
func layout(cfg Config, add func(name string, decay bool, dims ...int)) {
	D, V, C, M := cfg.DModel, cfg.Vocab, cfg.Context, cfg.MLP
	add("wte", true, V, D)
	if cfg.llama() {
		addLlamaBody(cfg, add)
	} else {
		add("wpe", true, C, D)
		for l := 0; l < cfg.Layers; l++ {
			pre := fmt.Sprintf("h%d.", l)
			add(pre+"ln1.g", false, D)
			add(pre+"ln1.b", false, D)
			add(pre+"attn.w", true, D, 3*D)
			add(pre+"attn.b", false, 3*D)
			add(pre+"proj.w", true, D, D)
			add(pre+"proj.b", false, D)
			add(pre+"ln2.g", false, D)
			add(pre+"ln2.b", false, D)
			add(pre+"mlp.w1", true, D, M)
			add(pre+"mlp.b1", false, M)
			add(pre+"mlp.w2", true, M, D)
			add(pre+"mlp.b2", false, D)
		}
		add("lnf.g", false, D)
		add("lnf.b", false, D)
	}
	add("head.w", true, D, V+1) // column V is the value head
	add("head.b", false, V+1)
	add("rm.w", true, D, 1)
	add("rm.b", false, 1)
}

func (m *Model) init() {
	rng := rand.New(rand.NewPCG(m.cfg.Seed, 0x9e3779b97f4a7c15))
	resid := 0.02 / math.Sqrt(2*float64(m.cfg.Layers))
	V := m.cfg.Vocab
	for _, p := range m.params {
		n := p.shape.TotalSize()
		vals := make([]float64, n)
		name := p.name
		switch {
		case hasSuffix(name, ".g"):
			for i := range vals {
				vals[i] = 1
			}
		case len(p.shape) == 1, name == "rm.w":
			// biases and the reward head start at zero
		case hasSuffix(name, "proj.w"), hasSuffix(name, "mlp.w2"), hasSuffix(name, ".o.w"), hasSuffix(name, ".down.w"):
			for i := range vals {
				vals[i] = rng.NormFloat64() * resid
			}
		case name == "head.w":
			for i := range vals {
				if i%(V+1) == V {
					continue // value head starts at zero
				}
				vals[i] = rng.NormFloat64() * 0.02
			}
		default:
			for i := range vals {
				vals[i] = rng.NormFloat64() * 0.02
			}
		}
		setFloats(p.t, vals)
	}
}

func hasSuffix(s, suf string) bool { return len(s) >= len(suf) && s[len(s)-len(suf):] == suf }

func setFloats(t array, vals []float64) {
	switch d := t.Data().(type) {
	case []float32:
		for i, v := range vals {
			d[i] = float32(v)
		}
	case []float64:
		copy(d, vals)
	}
}

// Config returns the model's configuration.
func (m *Model) Config() Config { return m.cfg }

// NumParams returns the number of scalar parameters.
func (m *Model) NumParams() int {
	n := 0
	for _, p := range m.params {
		n += p.shape.TotalSize()
	}
	return n
}

// Copy returns an independent model with the same weights (for example the
// frozen reference model of RL, copied from the SFT policy).
func (m *Model) Copy() *Model {
	c := newShell(m.cfg)
	for i, p := range m.params {
		copyData(c.params[i].t, p.t)
	}
	return c
}

// CopyWeightsFrom overwrites m's weights with src's; the configs must
// describe the same architecture.
func (m *Model) CopyWeightsFrom(src *Model) error {
	if !sameArch(m.cfg, src.cfg) {
		return fmt.Errorf("nn: copy weights: architectures differ")
	}
	for i, p := range m.params {
		copyData(p.t, src.params[i].t)
	}
	return nil
}

func sameArch(a, b Config) bool {
	return a.Vocab == b.Vocab && a.Context == b.Context && a.DModel == b.DModel &&
		a.Layers == b.Layers && a.Heads == b.Heads && a.MLP == b.MLP && a.DType == b.DType &&
		a.arch() == b.arch() && a.KVHeads == b.KVHeads && a.RMSEps == b.RMSEps && a.RopeTheta == b.RopeTheta
}

func copyData(dst, src array) {
	switch d := dst.Data().(type) {
	case []float32:
		copy(d, src.Data().([]float32))
	case []float64:
		copy(d, src.Data().([]float64))
	}
}

// Weights returns a copy of every parameter as float64, by name; for tests
// and inspection.
func (m *Model) Weights() map[string][]float64 {
	out := make(map[string][]float64, len(m.params))
	for _, p := range m.params {
		out[p.name] = toF64(p.t)
	}
	return out
}

func toF64(t array) []float64 {
	switch d := t.Data().(type) {
	case []float32:
		o := make([]float64, len(d))
		for i, v := range d {
			o[i] = float64(v)
		}
		return o
	case []float64:
		return append([]float64(nil), d...)
	}
	return nil
}

// paramNode makes a graph node that shares the parameter's tensor.
func paramNode(g *exprGraph, p *param) *node {
	return sharedNode(g, p.t, p.shape, p.name)
}

// trunk holds what building the shared body of a graph produced.
type trunk struct {
	g      *exprGraph
	nodes  map[string]*node // parameter nodes by name
	order  []*param         // parameters used, in node order
	hidden *node            // final layer-normed hidden states [B*T, D]
}

func (tr *trunk) p(m *Model, name string) *node {
	if n, ok := tr.nodes[name]; ok {
		return n
	}
	p := m.byName[name]
	n := paramNode(tr.g, p)
	tr.nodes[name] = n
	tr.order = append(tr.order, p)
	return n
}

const lnEps = 1e-5

// buildTrunk builds embedding and transformer blocks for a batch of B rows
// of T tokens whose ids are read from *ids at run time.
func (m *Model) buildTrunk(B, T int, ids *[]int) (*trunk, error) {
	if m.cfg.llama() {
		return m.buildLlamaTrunk(B, T, ids)
	}
	a := attnShape{B: B, T: T, H: m.cfg.Heads, D: m.cfg.DModel}
	return m.buildBlocks(m.newGraph(),
		func(wte, wpe *node) (*node, error) { return embed(wte, wpe, ids, T) },
		func(qkv *node, _ int) (*node, error) { return attention(qkv, a) })
}

// buildBlocks builds the transformer in g around the given embedding and
// attention ops (full sequences for training, one position for decoding).
func (m *Model) buildBlocks(g *exprGraph, emb func(wte, wpe *node) (*node, error), attn func(qkv *node, layer int) (*node, error)) (*trunk, error) {
	cfg := m.cfg
	tr := &trunk{g: g, nodes: map[string]*node{}}
	x, err := emb(tr.p(m, "wte"), tr.p(m, "wpe"))
	if err != nil {
		return nil, err
	}
	for l := 0; l < cfg.Layers; l++ {
		pre := fmt.Sprintf("h%d.", l)
		h, err := layerNorm(x, tr.p(m, pre+"ln1.g"), tr.p(m, pre+"ln1.b"), lnEps)
		if err != nil {
			return nil, err
		}
		qkv, err := linear(h, tr.p(m, pre+"attn.w"), tr.p(m, pre+"attn.b"))
		if err != nil {
			return nil, err
		}
		att, err := attn(qkv, l)
		if err != nil {
			return nil, err
		}
		o, err := linear(att, tr.p(m, pre+"proj.w"), tr.p(m, pre+"proj.b"))
		if err != nil {
			return nil, err
		}
		if x, err = residual(x, o); err != nil {
			return nil, err
		}
		h, err = layerNorm(x, tr.p(m, pre+"ln2.g"), tr.p(m, pre+"ln2.b"), lnEps)
		if err != nil {
			return nil, err
		}
		u, err := matmul(h, tr.p(m, pre+"mlp.w1"), nil)
		if err != nil {
			return nil, err
		}
		if u, err = biasGelu(u, tr.p(m, pre+"mlp.b1")); err != nil {
			return nil, err
		}
		if o, err = linear(u, tr.p(m, pre+"mlp.w2"), tr.p(m, pre+"mlp.b2")); err != nil {
			return nil, err
		}
		if x, err = residual(x, o); err != nil {
			return nil, err
		}
	}
	h, err := layerNorm(x, tr.p(m, "lnf.g"), tr.p(m, "lnf.b"), lnEps)
	if err != nil {
		return nil, err
	}
	tr.hidden = h
	return tr, nil
}

// policyHead gives [B*T, V+1]: LM logits and, in the last column, values.
func (m *Model) policyHead(tr *trunk) (*node, error) {
	return linear(tr.hidden, tr.p(m, "head.w"), tr.p(m, "head.b"))
}

// rewardHead gives [B*T, 1]: a reward score at every position.
func (m *Model) rewardHead(tr *trunk) (*node, error) {
	return linear(tr.hidden, tr.p(m, "rm.w"), tr.p(m, "rm.b"))
}

func linear(x, w, b *node) (*node, error) { return matmul(x, w, b) }
