package hf

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"
)

// tinyLlama describes a random Llama checkpoint in Hugging Face's format
// (linear weights stored [out, in]).
type tinyLlama struct {
	D, L, H, KV, C, V, M int
	Theta                float64
	Tied                 bool
	DType                string
	Sharded              bool
}

func (g tinyLlama) write(t *testing.T, dir string, seed uint64, drop map[string]bool) {
	t.Helper()
	rng := rand.New(rand.NewPCG(seed, 9))
	var ts []Tensor
	add := func(name string, std, mean float64, shape ...int) {
		if drop[name] {
			return
		}
		n := numel(shape)
		v := make([]float32, n)
		for i := range v {
			v[i] = float32(mean + std*rng.NormFloat64())
		}
		raw := Float32Bytes(v)
		if g.DType == BF16 {
			raw = make([]byte, 2*n)
			for i, x := range v {
				binary.LittleEndian.PutUint16(raw[2*i:], uint16(math.Float32bits(x)>>16))
			}
		}
		ts = append(ts, Tensor{Name: name, DType: g.DType, Shape: shape, Raw: raw})
	}
	D, M, dh := g.D, g.M, g.D/g.H
	s := func(in int) float64 { return 1 / math.Sqrt(float64(in)) }
	add("model.embed_tokens.weight", 0.5, 0, g.V, D)
	for l := range g.L {
		p := fmt.Sprintf("model.layers.%d.", l)
		add(p+"input_layernorm.weight", 0.2, 1, D)
		add(p+"self_attn.q_proj.weight", 2*s(D), 0, g.H*dh, D)
		add(p+"self_attn.k_proj.weight", 2*s(D), 0, g.KV*dh, D)
		add(p+"self_attn.v_proj.weight", s(D), 0, g.KV*dh, D)
		add(p+"self_attn.o_proj.weight", s(D), 0, D, g.H*dh)
		add(p+"post_attention_layernorm.weight", 0.2, 1, D)
		add(p+"mlp.gate_proj.weight", s(D), 0, M, D)
		add(p+"mlp.up_proj.weight", s(D), 0, M, D)
		add(p+"mlp.down_proj.weight", s(M), 0, D, M)
	}
	add("model.norm.weight", 0.2, 1, D)
	if !g.Tied {
		add("lm_head.weight", 0.5, 0, g.V, D)
	}
	cfg, _ := json.Marshal(map[string]any{"model_type": "llama", "architectures": []string{"LlamaForCausalLM"},
		"hidden_size": D, "intermediate_size": M, "num_hidden_layers": g.L, "num_attention_heads": g.H,
		"num_key_value_heads": g.KV, "vocab_size": g.V, "max_position_embeddings": g.C, "rms_norm_eps": 1e-5,
		"rope_theta": g.Theta, "tie_word_embeddings": g.Tied, "hidden_act": "silu", "rope_scaling": nil,
		"attention_bias": false})
	if err := os.WriteFile(filepath.Join(dir, ConfigFile), cfg, 0o644); err != nil {
		t.Fatal(err)
	}
	if !g.Sharded {
		if err := WriteSafetensors(filepath.Join(dir, SingleFile), ts, nil); err != nil {
			t.Fatal(err)
		}
		return
	}
	wm := map[string]string{}
	for i, part := range [2][]Tensor{ts[:len(ts)/2], ts[len(ts)/2:]} {
		name := fmt.Sprintf("model-%05d-of-00002.safetensors", i+1)
		if err := WriteSafetensors(filepath.Join(dir, name), part, nil); err != nil {
			t.Fatal(err)
		}
		for _, x := range part {
			wm[x.Name] = name
		}
	}
	idx, _ := json.Marshal(map[string]any{"weight_map": wm})
	if err := os.WriteFile(filepath.Join(dir, IndexFile), idx, 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestLlamaMatchesPyTorch writes tiny random Llama checkpoints (grouped
// and plain multi-head attention, tied and untied heads) in the HF format
// and compares nn.Llama's float32 logits and loss with the plain-PyTorch
// float64 reference.
func TestLlamaMatchesPyTorch(t *testing.T) {
	python := torchPython(t)
	for _, g := range []tinyLlama{
		{D: 32, L: 2, H: 4, KV: 2, C: 16, V: 61, M: 48, Theta: 10000, Tied: true, DType: F32},
		{D: 24, L: 2, H: 3, KV: 3, C: 12, V: 40, M: 40, Theta: 500000, DType: BF16, Sharded: true},
		{D: 32, L: 1, H: 8, KV: 1, C: 10, V: 30, M: 24, Theta: 100, DType: F32},
	} {
		t.Run(fmt.Sprintf("H%d-KV%d-tied=%v-%s", g.H, g.KV, g.Tied, g.DType), func(t *testing.T) {
			dir := t.TempDir()
			g.write(t, dir, 5, nil)
			m, _, err := LoadLlama(dir)
			if err != nil {
				t.Fatal(err)
			}
			rng := rand.New(rand.NewPCG(6, 7))
			var seqs [][]int
			for _, n := range []int{g.C, 3} {
				s := make([]int, n)
				for i := range s {
					s[i] = rng.IntN(g.V)
				}
				seqs = append(seqs, s)
			}
			ref := runReference(t, python, dir, seqs)
			var worst, scale float64
			for i, s := range seqs {
				logits, err := m.Logits(context.Background(), s)
				if err != nil {
					t.Fatal(err)
				}
				var nll float64
				for p := range s {
					mx := math.Inf(-1)
					for v := range g.V {
						worst = max(worst, math.Abs(logits[p][v]-ref.Logits[i][p][v]))
						scale = max(scale, math.Abs(ref.Logits[i][p][v]))
						mx = max(mx, logits[p][v])
					}
					if p+1 < len(s) {
						var z float64
						for v := range g.V {
							z += math.Exp(logits[p][v] - mx)
						}
						nll -= logits[p][s[p+1]] - mx - math.Log(z)
					}
				}
				nll /= float64(len(s) - 1)
				if rel := math.Abs(nll-ref.Loss[i]) / ref.Loss[i]; rel > 1e-5 {
					t.Errorf("sequence %d: loss %.7f, PyTorch %.7f (relative error %.2g)", i, nll, ref.Loss[i], rel)
				}
			}
			if scale < 1 {
				t.Fatalf("reference logits too small (max %g) to test anything", scale)
			}
			if worst/scale > 1e-5 {
				t.Errorf("max |logit − PyTorch| = %.3g, %.3g relative to the largest logit %.3g", worst, worst/scale, scale)
			}
			t.Logf("max logit error %.3g relative to max |logit| %.3g; loss %.5f", worst/scale, scale, ref.Loss[0])
		})
	}
}

func TestLlamaImportErrors(t *testing.T) {
	g := tinyLlama{D: 8, L: 1, H: 2, KV: 1, C: 6, V: 20, M: 12, Theta: 10000, DType: F32}
	for _, tc := range []struct {
		name  string
		drop  map[string]bool
		edit  func(dir string)
		parts []string
	}{
		{name: "missing", drop: map[string]bool{"model.layers.0.mlp.up_proj.weight": true},
			parts: []string{`"model.layers.0.mlp.up_proj.weight"`, "missing"}},
		{name: "untied without head", drop: map[string]bool{"lm_head.weight": true},
			parts: []string{`"lm_head.weight"`, "tie_word_embeddings is false"}},
		{name: "rope scaling", edit: func(dir string) {
			editConfig(t, dir, `"rope_scaling":null`, `"rope_scaling":{"rope_type":"llama3","factor":8}`)
		}, parts: []string{ConfigFile, "rope_scaling"}},
		{name: "gpt2 folder", edit: func(dir string) {
			os.WriteFile(filepath.Join(dir, ConfigFile), []byte(`{"model_type":"gpt2","n_embd":8,"n_layer":1,"n_head":2,"n_positions":6,"vocab_size":20}`), 0o644)
		}, parts: []string{ConfigFile, `"gpt2" is not a Llama`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			g.write(t, dir, 1, tc.drop)
			if tc.edit != nil {
				tc.edit(dir)
			}
			_, _, err := LoadLlama(dir)
			wantErr(t, err, tc.parts...)
		})
	}
}
