// Package hftest writes small random checkpoints in the Hugging Face
// on-disk format (config.json, model.safetensors, vocab.json and
// merges.txt), so that tests and examples exercise pretrained-model
// loading without a network or a real download.
package hftest

import (
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"

	"github.com/pit-lab/pit/core/hf"
	"github.com/pit-lab/pit/core/tokenizer"
)

// GPT2 sizes a tiny GPT-2 checkpoint. Its vocabulary is GPT-2's 256 byte
// symbols, then Merges (a fixed list of common English merges), then
// "<|endoftext|>" as the last id (bos and eos, as in GPT-2).
type GPT2 struct {
	DModel, Layers, Heads, Context int
}

// merges are the tiny tokenizer's merges, in rank order.
var merges = [][2]string{
	{"Ġ", "t"}, {"h", "e"}, {"i", "n"}, {"Ġ", "a"}, {"e", "r"}, {"o", "n"},
	{"Ġt", "he"}, {"r", "e"}, {"a", "n"}, {"o", "u"}, {"Ġ", "s"}, {"e", "n"},
	{"Ġ", "w"}, {"Ġ", "c"}, {"i", "s"}, {"a", "t"}, {"Ġ", "I"}, {"Ġ", "y"},
	{"Ġy", "ou"}, {"Ġ", "o"}, {"e", "d"}, {"in", "g"}, {"Ġ", "b"}, {"Ġ", "p"},
}

// Vocab is the vocabulary size of every tiny checkpoint.
var Vocab = 256 + len(merges) + 1

// WriteGPT2 writes a random GPT-2 checkpoint of size g, drawn from seed,
// with its tokenizer into dir (which must exist).
func WriteGPT2(dir string, g GPT2, seed uint64) error {
	if g.DModel <= 0 || g.Layers <= 0 || g.Heads <= 0 || g.Context <= 0 || g.DModel%g.Heads != 0 {
		return fmt.Errorf("hftest: bad sizes %+v", g)
	}
	rng := rand.New(rand.NewPCG(seed, 0x9e3779b9))
	D, M, V := g.DModel, 4*g.DModel, Vocab
	w := &randomTensors{rng: rng}
	add := w.add
	inv := 1 / math.Sqrt(float64(D))
	add("transformer.wte.weight", 0.3, 0, V, D)
	add("transformer.wpe.weight", 0.1, 0, g.Context, D)
	for l := range g.Layers {
		h := fmt.Sprintf("transformer.h.%d.", l)
		add(h+"ln_1.weight", 0.1, 1, D)
		add(h+"ln_1.bias", 0.05, 0, D)
		add(h+"attn.c_attn.weight", inv, 0, D, 3*D)
		add(h+"attn.c_attn.bias", 0.05, 0, 3*D)
		add(h+"attn.c_proj.weight", inv, 0, D, D)
		add(h+"attn.c_proj.bias", 0.05, 0, D)
		add(h+"ln_2.weight", 0.1, 1, D)
		add(h+"ln_2.bias", 0.05, 0, D)
		add(h+"mlp.c_fc.weight", inv, 0, D, M)
		add(h+"mlp.c_fc.bias", 0.05, 0, M)
		add(h+"mlp.c_proj.weight", 1/math.Sqrt(float64(M)), 0, M, D)
		add(h+"mlp.c_proj.bias", 0.05, 0, D)
	}
	add("transformer.ln_f.weight", 0.1, 1, D)
	add("transformer.ln_f.bias", 0.05, 0, D)
	if err := hf.WriteSafetensors(filepath.Join(dir, hf.SingleFile), w.ts, map[string]string{"format": "pt"}); err != nil {
		return err
	}
	cfg := map[string]any{
		"model_type": "gpt2", "architectures": []string{"GPT2LMHeadModel"},
		"n_embd": D, "n_layer": g.Layers, "n_head": g.Heads, "n_positions": g.Context, "n_ctx": g.Context,
		"vocab_size": V, "n_inner": nil, "layer_norm_epsilon": 1e-5, "activation_function": "gelu_new",
		"bos_token_id": V - 1, "eos_token_id": V - 1,
	}
	if err := writeJSON(filepath.Join(dir, hf.ConfigFile), cfg); err != nil {
		return err
	}
	return writeTokenizer(dir)
}

// Llama sizes a tiny Llama-family checkpoint (grouped-query attention when
// KVHeads < Heads; a tied head when Tied). Its tokenizer is the tiny
// GPT-2 one (byte-level BPE, "<|endoftext|>" the last id, bos and eos).
type Llama struct {
	DModel, Layers, Heads, KVHeads, MLP, Context int
	Tied                                         bool
}

// WriteLlama writes a random Llama checkpoint of size g, drawn from seed,
// with its tokenizer into dir (which must exist).
func WriteLlama(dir string, g Llama, seed uint64) error {
	if g.DModel <= 0 || g.Layers <= 0 || g.Heads <= 0 || g.KVHeads <= 0 || g.MLP <= 0 || g.Context <= 0 ||
		g.DModel%g.Heads != 0 || g.Heads%g.KVHeads != 0 || (g.DModel/g.Heads)%2 != 0 {
		return fmt.Errorf("hftest: bad sizes %+v", g)
	}
	rng := rand.New(rand.NewPCG(seed, 0x11a3a))
	D, M, V, dh := g.DModel, g.MLP, Vocab, g.DModel/g.Heads
	w := &randomTensors{rng: rng}
	add := w.add
	inv := 1 / math.Sqrt(float64(D))
	add("model.embed_tokens.weight", 0.3, 0, V, D)
	for l := range g.Layers {
		p := fmt.Sprintf("model.layers.%d.", l)
		add(p+"input_layernorm.weight", 0.1, 1, D)
		add(p+"self_attn.q_proj.weight", inv, 0, g.Heads*dh, D)
		add(p+"self_attn.k_proj.weight", inv, 0, g.KVHeads*dh, D)
		add(p+"self_attn.v_proj.weight", inv, 0, g.KVHeads*dh, D)
		add(p+"self_attn.o_proj.weight", inv, 0, D, D)
		add(p+"post_attention_layernorm.weight", 0.1, 1, D)
		add(p+"mlp.gate_proj.weight", inv, 0, M, D)
		add(p+"mlp.up_proj.weight", inv, 0, M, D)
		add(p+"mlp.down_proj.weight", 1/math.Sqrt(float64(M)), 0, D, M)
	}
	add("model.norm.weight", 0.1, 1, D)
	if !g.Tied {
		add("lm_head.weight", 0.3, 0, V, D)
	}
	if err := hf.WriteSafetensors(filepath.Join(dir, hf.SingleFile), w.ts, map[string]string{"format": "pt"}); err != nil {
		return err
	}
	cfg := map[string]any{
		"model_type": "llama", "architectures": []string{"LlamaForCausalLM"},
		"hidden_size": D, "intermediate_size": M, "num_hidden_layers": g.Layers, "num_attention_heads": g.Heads,
		"num_key_value_heads": g.KVHeads, "vocab_size": V, "max_position_embeddings": g.Context,
		"rms_norm_eps": 1e-5, "rope_theta": 10000.0, "tie_word_embeddings": g.Tied, "hidden_act": "silu",
		"rope_scaling": nil, "attention_bias": false, "bos_token_id": V - 1, "eos_token_id": V - 1,
	}
	if err := writeJSON(filepath.Join(dir, hf.ConfigFile), cfg); err != nil {
		return err
	}
	return writeTokenizer(dir)
}

// writeTokenizer writes the tiny byte-level BPE tokenizer (vocab.json and
// merges.txt).
func writeTokenizer(dir string) error {
	vocab := map[string]int{}
	for c := range 256 {
		vocab[tokenizer.ByteSymbol(byte(c))] = c
	}
	text := "#version: 0.2\n"
	for i, m := range merges {
		vocab[m[0]+m[1]] = 256 + i
		text += m[0] + " " + m[1] + "\n"
	}
	vocab[tokenizer.EndOfText] = Vocab - 1
	if err := writeJSON(filepath.Join(dir, tokenizer.VocabJSON), vocab); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, tokenizer.MergesTxt), []byte(text), 0o644)
}

func writeJSON(path string, v any) error {
	buf, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return os.WriteFile(path, buf, 0o644)
}

// randomTensors collects float32 tensors of Gaussian values.
type randomTensors struct {
	rng *rand.Rand
	ts  []hf.Tensor
}

// add appends a tensor of the given shape with values drawn from
// N(mean, std²).
func (w *randomTensors) add(name string, std, mean float64, shape ...int) {
	n := 1
	for _, s := range shape {
		n *= s
	}
	v := make([]float32, n)
	for i := range v {
		v[i] = float32(mean + std*w.rng.NormFloat64())
	}
	w.ts = append(w.ts, hf.Tensor{Name: name, DType: hf.F32, Shape: shape, Raw: hf.Float32Bytes(v)})
}
