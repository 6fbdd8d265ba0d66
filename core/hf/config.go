package hf

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// ConfigFile is the name of a model folder's configuration.
const ConfigFile = "config.json"

// GPT2Config holds the fields of a GPT-2-family config.json (model_type
// "gpt2") that shape the model.
type GPT2Config struct {
	NEmbd              int     `json:"n_embd"`
	NLayer             int     `json:"n_layer"`
	NHead              int     `json:"n_head"`
	NPositions         int     `json:"n_positions"`
	NInner             *int    `json:"n_inner"` // MLP width; null means 4·n_embd
	VocabSize          int     `json:"vocab_size"`
	LayerNormEpsilon   float64 `json:"layer_norm_epsilon"`
	ActivationFunction string  `json:"activation_function"`
	BOSTokenID         *int    `json:"bos_token_id"`
	EOSTokenID         *int    `json:"eos_token_id"`
}

// MLP returns the hidden width of the MLP.
func (c GPT2Config) MLP() int {
	if c.NInner != nil && *c.NInner > 0 {
		return *c.NInner
	}
	return 4 * c.NEmbd
}

// LlamaConfig holds the fields of a Llama-family config.json (model_type
// "llama") that shape the model.
type LlamaConfig struct {
	HiddenSize            int     `json:"hidden_size"`
	IntermediateSize      int     `json:"intermediate_size"`
	NumHiddenLayers       int     `json:"num_hidden_layers"`
	NumAttentionHeads     int     `json:"num_attention_heads"`
	NumKeyValueHeads      int     `json:"num_key_value_heads"` // 0 in the file means = heads
	VocabSize             int     `json:"vocab_size"`
	MaxPositionEmbeddings int     `json:"max_position_embeddings"`
	RMSNormEps            float64 `json:"rms_norm_eps"`
	RopeTheta             float64 `json:"rope_theta"`
	TieWordEmbeddings     bool    `json:"tie_word_embeddings"`
	HiddenAct             string  `json:"hidden_act"`
	HeadDim               int     `json:"head_dim"` // 0 or hidden_size/num_attention_heads
	AttentionBias         bool    `json:"attention_bias"`
	MLPBias               bool    `json:"mlp_bias"`
	// RopeScaling is kept raw: pit supports only its absence (null).
	RopeScaling json.RawMessage `json:"rope_scaling"`
	BOSTokenID  *int            `json:"bos_token_id"`
	EOSTokenID  *int            `json:"eos_token_id"`
}

// ModelConfig is a parsed config.json: its model_type and the fields of
// that family (exactly one of GPT2 and Llama is set).
type ModelConfig struct {
	Path      string
	ModelType string
	GPT2      *GPT2Config
	Llama     *LlamaConfig
}

// ReadConfig reads dir/config.json. An unknown model_type, a missing or
// non-positive size, heads that do not divide the width, or an activation
// other than the family's is an error naming the file and the key.
func ReadConfig(dir string) (*ModelConfig, error) {
	path := filepath.Join(dir, ConfigFile)
	buf, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("hf: %w", err)
	}
	c, err := ParseConfig(buf)
	if err != nil {
		return nil, fmt.Errorf("hf: %s: %w", path, err)
	}
	c.Path = path
	return c, nil
}

// ParseConfig parses the contents of a config.json.
func ParseConfig(buf []byte) (*ModelConfig, error) {
	var head struct {
		ModelType string `json:"model_type"`
	}
	if err := json.Unmarshal(buf, &head); err != nil {
		return nil, err
	}
	c := &ModelConfig{ModelType: head.ModelType}
	var errs []error
	pos := func(key string, v int) {
		if v <= 0 {
			errs = append(errs, fmt.Errorf("%s must be a positive integer, got %d", key, v))
		}
	}
	switch head.ModelType {
	case "gpt2":
		g := GPT2Config{LayerNormEpsilon: 1e-5, ActivationFunction: "gelu_new"}
		if err := json.Unmarshal(buf, &g); err != nil {
			return nil, err
		}
		pos("n_embd", g.NEmbd)
		pos("n_layer", g.NLayer)
		pos("n_head", g.NHead)
		pos("n_positions", g.NPositions)
		pos("vocab_size", g.VocabSize)
		if g.NInner != nil {
			pos("n_inner", *g.NInner)
		}
		if g.NHead > 0 && g.NEmbd%g.NHead != 0 {
			errs = append(errs, fmt.Errorf("n_head (%d) must divide n_embd (%d)", g.NHead, g.NEmbd))
		}
		if !(g.LayerNormEpsilon > 0) {
			errs = append(errs, fmt.Errorf("layer_norm_epsilon must be positive, got %g", g.LayerNormEpsilon))
		}
		switch g.ActivationFunction {
		case "gelu_new", "gelu_pytorch_tanh":
		default:
			errs = append(errs, fmt.Errorf("activation_function %q unsupported (pit's GPT-2 uses the tanh GELU: gelu_new or gelu_pytorch_tanh)", g.ActivationFunction))
		}
		c.GPT2 = &g
	case "llama":
		l := LlamaConfig{RMSNormEps: 1e-6, RopeTheta: 10000, HiddenAct: "silu"}
		if err := json.Unmarshal(buf, &l); err != nil {
			return nil, err
		}
		if l.NumKeyValueHeads == 0 {
			l.NumKeyValueHeads = l.NumAttentionHeads
		}
		pos("hidden_size", l.HiddenSize)
		pos("intermediate_size", l.IntermediateSize)
		pos("num_hidden_layers", l.NumHiddenLayers)
		pos("num_attention_heads", l.NumAttentionHeads)
		pos("num_key_value_heads", l.NumKeyValueHeads)
		pos("vocab_size", l.VocabSize)
		pos("max_position_embeddings", l.MaxPositionEmbeddings)
		if l.NumAttentionHeads > 0 && l.HiddenSize%l.NumAttentionHeads != 0 {
			errs = append(errs, fmt.Errorf("num_attention_heads (%d) must divide hidden_size (%d)", l.NumAttentionHeads, l.HiddenSize))
		} else if l.NumAttentionHeads > 0 && (l.HiddenSize/l.NumAttentionHeads)%2 != 0 {
			errs = append(errs, fmt.Errorf("head width hidden_size/num_attention_heads = %d must be even for rotary positions", l.HiddenSize/l.NumAttentionHeads))
		}
		if l.NumKeyValueHeads > 0 && l.NumAttentionHeads%l.NumKeyValueHeads != 0 {
			errs = append(errs, fmt.Errorf("num_key_value_heads (%d) must divide num_attention_heads (%d)", l.NumKeyValueHeads, l.NumAttentionHeads))
		}
		if !(l.RMSNormEps > 0) {
			errs = append(errs, fmt.Errorf("rms_norm_eps must be positive, got %g", l.RMSNormEps))
		}
		if !(l.RopeTheta > 0) {
			errs = append(errs, fmt.Errorf("rope_theta must be positive, got %g", l.RopeTheta))
		}
		if l.HeadDim != 0 && l.NumAttentionHeads > 0 && l.HeadDim != l.HiddenSize/l.NumAttentionHeads {
			errs = append(errs, fmt.Errorf("head_dim %d unsupported (pit needs hidden_size/num_attention_heads = %d)", l.HeadDim, l.HiddenSize/max(l.NumAttentionHeads, 1)))
		}
		if l.AttentionBias || l.MLPBias {
			errs = append(errs, errors.New("attention_bias and mlp_bias unsupported (Llama has no biases)"))
		}
		if r := strings.TrimSpace(string(l.RopeScaling)); r != "" && r != "null" {
			errs = append(errs, fmt.Errorf("rope_scaling %s unsupported", r))
		}
		if l.HiddenAct != "silu" {
			errs = append(errs, fmt.Errorf("hidden_act %q unsupported (Llama uses silu)", l.HiddenAct))
		}
		c.Llama = &l
	case "":
		return nil, errors.New("model_type missing (want gpt2 or llama)")
	default:
		return nil, fmt.Errorf("model_type %q is an architecture pit cannot import (want gpt2 or llama)", head.ModelType)
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return c, nil
}
