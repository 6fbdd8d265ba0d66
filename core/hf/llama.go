package hf

import (
	"fmt"
	"strings"

	"github.com/pit-lab/pit/core/nn"
)

// LlamaNNConfig maps a Llama config onto nn.LlamaConfig.
func LlamaNNConfig(l *LlamaConfig) nn.LlamaConfig {
	return nn.LlamaConfig{Vocab: l.VocabSize, Context: l.MaxPositionEmbeddings, DModel: l.HiddenSize,
		Layers: l.NumHiddenLayers, Heads: l.NumAttentionHeads, KVHeads: l.NumKeyValueHeads,
		MLP: l.IntermediateSize, RMSEps: l.RMSNormEps, RopeTheta: l.RopeTheta}
}

// LoadLlama reads a Llama-family folder into nn.Llama, which runs forward
// passes only (see docs/pretrained.md). Hugging Face stores linear layers
// as [out, in]; they are transposed to pit's [in, out], q/k/v are joined
// into one matrix and gate/up into another. With tie_word_embeddings the
// head is the token embedding; otherwise lm_head.weight must be present.
func LoadLlama(dir string) (*nn.Llama, *ModelConfig, error) {
	mc, err := ReadConfig(dir)
	if err != nil {
		return nil, nil, err
	}
	if mc.Llama == nil {
		return nil, nil, fmt.Errorf("hf: %s: model_type %q is not a Llama-family model", mc.Path, mc.ModelType)
	}
	l := mc.Llama
	w, err := OpenWeights(dir)
	if err != nil {
		return nil, nil, err
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
	switch {
	case w.Has("lm_head.weight"):
		out["head.w"] = joinTransposed(D, get("lm_head.weight", V, D))
	case l.TieWordEmbeddings:
		out["head.w"] = joinTransposed(D, out["wte"])
	default:
		errs = append(errs, fmt.Sprintf("hf: %s: tensor \"lm_head.weight\" missing and tie_word_embeddings is false", dir))
	}
	for _, name := range w.Names() {
		if !used[name] && !strings.HasSuffix(name, ".rotary_emb.inv_freq") {
			errs = append(errs, fmt.Sprintf("hf: %s: tensor %q is not part of a Llama model", dir, name))
		}
	}
	if len(errs) > 0 {
		if len(errs) > 5 {
			errs = append(errs[:5], fmt.Sprintf("… and %d more", len(errs)-5))
		}
		return nil, nil, fmt.Errorf("%s", strings.Join(errs, "\n"))
	}
	m, err := nn.NewLlama(LlamaNNConfig(l), out)
	if err != nil {
		return nil, nil, fmt.Errorf("hf: %s: %w", dir, err)
	}
	return m, mc, nil
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
