package hf

import (
	"fmt"
	"strings"

	"github.com/pit-lab/pit/core/nn"
)

// LlamaNNConfig maps a Llama config onto pit's model config (arch
// "llama"). The pad id is eos_token_id when the config has one in range,
// else 0 (padded positions are masked out anyway).
func LlamaNNConfig(l *LlamaConfig, o ImportOptions) nn.Config {
	pad := 0
	if l.EOSTokenID != nil && *l.EOSTokenID >= 0 && *l.EOSTokenID < l.VocabSize {
		pad = *l.EOSTokenID
	}
	return nn.Config{Arch: nn.ArchLlama, Vocab: l.VocabSize, Context: o.context(l.MaxPositionEmbeddings),
		DModel: l.HiddenSize, Layers: l.NumHiddenLayers, Heads: l.NumAttentionHeads, KVHeads: l.NumKeyValueHeads,
		MLP: l.IntermediateSize, RMSEps: l.RMSNormEps, RopeTheta: l.RopeTheta, PadID: pad,
		Device: o.Device, DType: o.dtype()}
}

// LoadLlama is LoadModel for a folder that must hold a Llama-family model.
func LoadLlama(dir string, o ImportOptions) (*nn.Model, *ModelConfig, error) {
	mc, err := ReadConfig(dir)
	if err != nil {
		return nil, nil, err
	}
	if mc.Llama == nil {
		return nil, nil, fmt.Errorf("hf: %s: model_type %q is not a Llama-family model", mc.Path, mc.ModelType)
	}
	m, err := loadLlama(dir, mc, o)
	return m, mc, err
}

// loadLlama reads a Llama-family folder into a trainable nn.Model of arch
// "llama". Hugging Face stores linear layers as [out, in]; they are
// transposed to pit's [in, out], q/k/v are joined into one matrix (query
// heads, then key heads, then value heads, as pit's grouped-query
// attention reads them) and gate/up into another. The LM head comes from
// lm_head.weight or, with tie_word_embeddings, from the embedding; either
// way pit's head.w [D, V+1] starts as that matrix transposed with a zero
// value-head column and trains untied, as for GPT-2. head.b and the reward
// head start at zero.
func loadLlama(dir string, mc *ModelConfig, o ImportOptions) (*nn.Model, error) {
	l := mc.Llama
	w, err := OpenWeights(dir)
	if err != nil {
		return nil, err
	}
	D, V, M := l.HiddenSize, l.VocabSize, l.IntermediateSize
	H, KV := l.NumAttentionHeads, l.NumKeyValueHeads
	dh := D / H
	used := map[string]bool{}
	var errs []string
	get := func(name string, shape ...int) []float32 {
		used[name] = true
		v, err := w.Get(name, shape...)
		if err != nil {
			errs = append(errs, err.Error())
		}
		return v
	}
	out := map[string][]float32{}
	out["wte"] = get("model.embed_tokens.weight", V, D)
	for i := range l.NumHiddenLayers {
		h, p := fmt.Sprintf("model.layers.%d.", i), fmt.Sprintf("h%d.", i)
		out[p+"attn_norm.g"] = get(h+"input_layernorm.weight", D)
		out[p+"qkv.w"] = joinTransposed(D,
			get(h+"self_attn.q_proj.weight", H*dh, D),
			get(h+"self_attn.k_proj.weight", KV*dh, D),
			get(h+"self_attn.v_proj.weight", KV*dh, D))
		out[p+"o.w"] = joinTransposed(H*dh, get(h+"self_attn.o_proj.weight", D, H*dh))
		out[p+"mlp_norm.g"] = get(h+"post_attention_layernorm.weight", D)
		out[p+"gate_up.w"] = joinTransposed(D,
			get(h+"mlp.gate_proj.weight", M, D),
			get(h+"mlp.up_proj.weight", M, D))
		out[p+"down.w"] = joinTransposed(M, get(h+"mlp.down_proj.weight", D, M))
	}
	out["norm.g"] = get("model.norm.weight", D)
	var lm []float32
	switch {
	case w.Has("lm_head.weight"):
		lm = get("lm_head.weight", V, D)
	case l.TieWordEmbeddings:
		lm = out["wte"]
	default:
		errs = append(errs, fmt.Sprintf("hf: %s: tensor \"lm_head.weight\" missing and tie_word_embeddings is false", dir))
	}
	for _, name := range w.Names() {
		if !used[name] && !strings.HasSuffix(name, ".rotary_emb.inv_freq") {
			errs = append(errs, fmt.Sprintf("hf: %s: tensor %q is not part of a Llama model", dir, name))
		}
	}
	if err := joinErrors(errs); err != nil {
		return nil, err
	}
	addHeads(out, lm, V, D)
	m, err := nn.FromWeights(LlamaNNConfig(l, o), out)
	if err != nil {
		return nil, fmt.Errorf("hf: %s: %w", dir, err)
	}
	return m, nil
}

// joinErrors returns the first five problems (and how many more) as one
// error, or nil.
func joinErrors(errs []string) error {
	if len(errs) == 0 {
		return nil
	}
	if len(errs) > 5 {
		errs = append(errs[:5], fmt.Sprintf("… and %d more", len(errs)-5))
	}
	return fmt.Errorf("%s", strings.Join(errs, "\n"))
}

// addHeads sets pit's heads: head.w [D, V+1] is the LM matrix lm [V, D]
// transposed with a zero value-head column, head.b, rm.w and rm.b are
// zero.
func addHeads(out map[string][]float32, lm []float32, V, D int) {
	head := make([]float32, D*(V+1))
	for v := range V {
		for d := range D {
			head[d*(V+1)+v] = lm[v*D+d]
		}
	}
	out["head.w"] = head
	out["head.b"] = make([]float32, V+1)
	out["rm.w"] = make([]float32, D)
	out["rm.b"] = make([]float32, 1)
}

// joinTransposed takes matrices stored [rows_i, in] (nil after an error)
// and returns [in, Σ rows_i]: each transposed, side by side.
func joinTransposed(in int, mats ...[]float32) []float32 {
	cols := 0
	for _, m := range mats {
		if m == nil {
			return nil
		}
		cols += len(m) / in
	}
	out := make([]float32, in*cols)
	off := 0
	for _, m := range mats {
		rows := len(m) / in
		for r := range rows {
			for c := range in {
				out[c*cols+off+r] = m[r*in+c]
			}
		}
		off += rows
	}
	return out
}
