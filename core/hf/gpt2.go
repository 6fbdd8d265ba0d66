package hf

import (
	"fmt"
	"math"
	"slices"
	"strings"

	"github.com/pit-lab/pit/core/nn"
)

// ImportOptions choose where and how an imported model runs.
type ImportOptions struct {
	Device string // "cpu" (default) or "cuda"
	// DType is "float32" (default) or "float64" (for gradient checks
	// against other implementations; the weights are float32 values either
	// way).
	DType string
	// Context caps the model's context (the longest sequence, prompt
	// included) below the checkpoint's n_positions or
	// max_position_embeddings; 0 keeps the checkpoint's. A smaller context
	// keeps the decode caches small (they hold Context positions per
	// sampled row); GPT-2 keeps the first Context rows of its position
	// table, Llama's rotary positions need nothing.
	Context int
}

func (o ImportOptions) dtype() string {
	if o.DType == "" {
		return "float32"
	}
	return o.DType
}

// context returns the model's context for a checkpoint of n positions.
func (o ImportOptions) context(n int) int {
	if o.Context > 0 && o.Context < n {
		return o.Context
	}
	return n
}

// LoadModel reads a model folder (config.json and safetensors weights)
// into pit's transformer: a GPT-2-family folder into the "gpt"
// architecture (loadGPT2), a Llama-family one into "llama" (loadLlama).
// Either trains with every step nn.Trainer has and samples with a
// key/value cache. A context cap above the checkpoint's is an error.
func LoadModel(dir string, o ImportOptions) (*nn.Model, *ModelConfig, error) {
	mc, err := ReadConfig(dir)
	if err != nil {
		return nil, nil, err
	}
	if o.Context < 0 {
		return nil, nil, fmt.Errorf("hf: %s: context %d must not be negative", dir, o.Context)
	}
	switch {
	case mc.GPT2 != nil:
		if o.Context > mc.GPT2.NPositions {
			return nil, nil, fmt.Errorf("hf: %s: context %d exceeds n_positions %d", mc.Path, o.Context, mc.GPT2.NPositions)
		}
		m, err := loadGPT2(dir, mc, o)
		return m, mc, err
	case mc.Llama != nil:
		if o.Context > mc.Llama.MaxPositionEmbeddings {
			return nil, nil, fmt.Errorf("hf: %s: context %d exceeds max_position_embeddings %d", mc.Path, o.Context, mc.Llama.MaxPositionEmbeddings)
		}
		m, err := loadLlama(dir, mc, o)
		return m, mc, err
	}
	return nil, nil, fmt.Errorf("hf: %s: no architecture", mc.Path)
}

// GPT2NNConfig maps a GPT-2 config onto pit's model config. The pad id is
// the end-of-text token (GPT-2 has no pad token; padded positions are
// masked out anyway).
func GPT2NNConfig(g *GPT2Config, o ImportOptions) nn.Config {
	pad := g.VocabSize - 1
	if g.EOSTokenID != nil && *g.EOSTokenID >= 0 && *g.EOSTokenID < g.VocabSize {
		pad = *g.EOSTokenID
	}
	return nn.Config{Vocab: g.VocabSize, Context: o.context(g.NPositions), DModel: g.NEmbd, Layers: g.NLayer,
		Heads: g.NHead, MLP: g.MLP(), PadID: pad, Device: o.Device, DType: o.dtype()}
}

// gpt2Buffers are non-weight tensors older GPT-2 checkpoints carry (the
// causal mask), ignored on import.
var gpt2Buffers = []string{".attn.bias", ".attn.masked_bias"}

// loadGPT2 maps Hugging Face's GPT-2 tensors onto pit's parameters. The
// layouts agree: Conv1D weights are stored [in, out], as pit's are, and
// c_attn's columns are queries, keys, values with heads contiguous, as
// pit's attention reads them. The LM head is tied to wte in GPT-2; pit's
// head.w [D, V+1] starts as wte transposed (or lm_head.weight when the file
// has one) with a zero value-head column, and is trained untied. The
// reward head starts at zero.
func loadGPT2(dir string, mc *ModelConfig, o ImportOptions) (*nn.Model, error) {
	g := mc.GPT2
	if math.Abs(g.LayerNormEpsilon-nn.LayerNormEps) > 1e-12 {
		return nil, fmt.Errorf("hf: %s: layer_norm_epsilon %g unsupported (pit's layer norm uses %g)", mc.Path, g.LayerNormEpsilon, nn.LayerNormEps)
	}
	w, err := OpenWeights(dir)
	if err != nil {
		return nil, err
	}
	// GPT2LMHeadModel saves "transformer.h.0…", GPT2Model "h.0…"
	prefix := ""
	if w.Has("transformer.wte.weight") {
		prefix = "transformer."
	}
	D, V, C, M := g.NEmbd, g.VocabSize, g.NPositions, g.MLP()
	used := map[string]bool{}
	out := map[string][]float32{}
	var errs []string
	get := func(hfName string, shape ...int) []float32 {
		used[hfName] = true
		v, err := w.Get(hfName, shape...)
		if err != nil {
			errs = append(errs, err.Error())
		}
		return v
	}
	set := func(pit, hfName string, shape ...int) {
		out[pit] = get(prefix+hfName, shape...)
	}
	set("wte", "wte.weight", V, D)
	set("wpe", "wpe.weight", C, D)
	for l := range g.NLayer {
		h, p := fmt.Sprintf("h.%d.", l), fmt.Sprintf("h%d.", l)
		set(p+"ln1.g", h+"ln_1.weight", D)
		set(p+"ln1.b", h+"ln_1.bias", D)
		set(p+"attn.w", h+"attn.c_attn.weight", D, 3*D)
		set(p+"attn.b", h+"attn.c_attn.bias", 3*D)
		set(p+"proj.w", h+"attn.c_proj.weight", D, D)
		set(p+"proj.b", h+"attn.c_proj.bias", D)
		set(p+"ln2.g", h+"ln_2.weight", D)
		set(p+"ln2.b", h+"ln_2.bias", D)
		set(p+"mlp.w1", h+"mlp.c_fc.weight", D, M)
		set(p+"mlp.b1", h+"mlp.c_fc.bias", M)
		set(p+"mlp.w2", h+"mlp.c_proj.weight", M, D)
		set(p+"mlp.b2", h+"mlp.c_proj.bias", D)
	}
	set("lnf.g", "ln_f.weight", D)
	set("lnf.b", "ln_f.bias", D)
	lm := out["wte"]
	if w.Has("lm_head.weight") {
		lm = get("lm_head.weight", V, D)
	}
	for _, name := range w.Names() {
		if used[name] || slices.ContainsFunc(gpt2Buffers, func(s string) bool { return strings.HasSuffix(name, s) }) {
			continue
		}
		errs = append(errs, fmt.Sprintf("hf: %s: tensor %q is not part of a GPT-2 model", dir, name))
	}
	if err := joinErrors(errs); err != nil {
		return nil, err
	}
	out["wpe"] = out["wpe"][:o.context(C)*D]
	addHeads(out, lm, V, D)
	m, err := nn.FromWeights(GPT2NNConfig(g, o), out)
	if err != nil {
		return nil, fmt.Errorf("hf: %s: %w", dir, err)
	}
	return m, nil
}
