package hf

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"testing"

	"github.com/pit-lab/pit/core/nn"
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

func (g tinyLlama) write(t testing.TB, dir string, seed uint64, drop map[string]bool) {
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
// and plain multi-head attention, tied and untied heads) in the HF format,
// imports them with LoadModel into a trainable nn.Model and compares its
// float32 logits and loss with the plain-PyTorch float64 reference; the
// first SFT step reports PyTorch's batch loss, and a few steps lower it.
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
			m, mc, err := LoadModel(dir, ImportOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if c := m.Config(); c.Arch != nn.ArchLlama || c.Vocab != g.V || c.Context != g.C || c.DModel != g.D || c.Layers != g.L ||
				c.Heads != g.H || c.KVHeads != g.KV || c.MLP != g.M || c.RopeTheta != g.Theta || c.RMSEps != 1e-5 || mc.Llama == nil {
				t.Fatalf("imported config %+v", c)
			}
			matchPyTorch(t, python, dir, m, g.V, []int{g.C, 3, g.C - 2}, 6, 7)
		})
	}
}

type gradReference struct {
	Loss  float64              `json:"loss"`
	Grads map[string][]float64 `json:"grads"`
}

func runGradReference(t *testing.T, python, dir string, seqs [][]int) gradReference {
	t.Helper()
	in, _ := json.Marshal(seqs)
	cmd := exec.Command(python, filepath.Join("testdata", "reference.py"), dir, "--grad")
	cmd.Stdin = bytes.NewReader(in)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("reference gradients: %v\n%s", err, stderr.String())
	}
	var ref gradReference
	if err := json.Unmarshal(out, &ref); err != nil || len(ref.Grads) == 0 {
		t.Fatalf("reference output: %v", err)
	}
	return ref
}

// splitTransposed is the inverse of joinTransposed for one block: the
// columns [from, to) of w [in, cols], transposed to [to−from, in].
func splitTransposed(w []float64, in, cols, from, to int) []float64 {
	out := make([]float64, 0, (to-from)*in)
	for c := from; c < to; c++ {
		for r := range in {
			out = append(out, w[r*cols+c])
		}
	}
	return out
}

// llamaGradsAsHF maps pit's gradients of an imported Llama onto the
// checkpoint's tensor names and layouts. With a tied head the
// embedding's gradient is the sum of pit's wte and head gradients, as
// it is for the one shared tensor in PyTorch.
func llamaGradsAsHF(g tinyLlama, pit map[string][]float64) map[string][]float64 {
	D, V, M, dh := g.D, g.V, g.M, g.D/g.H
	W := (g.H + 2*g.KV) * dh
	out := map[string][]float64{"model.embed_tokens.weight": pit["wte"], "model.norm.weight": pit["norm.g"]}
	lm := splitTransposed(pit["head.w"], D, V+1, 0, V)
	if g.Tied {
		emb := slices.Clone(pit["wte"])
		for i := range emb {
			emb[i] += lm[i]
		}
		out["model.embed_tokens.weight"] = emb
	} else {
		out["lm_head.weight"] = lm
	}
	for l := range g.L {
		p, h := fmt.Sprintf("h%d.", l), fmt.Sprintf("model.layers.%d.", l)
		out[h+"input_layernorm.weight"] = pit[p+"attn_norm.g"]
		out[h+"post_attention_layernorm.weight"] = pit[p+"mlp_norm.g"]
		out[h+"self_attn.q_proj.weight"] = splitTransposed(pit[p+"qkv.w"], D, W, 0, g.H*dh)
		out[h+"self_attn.k_proj.weight"] = splitTransposed(pit[p+"qkv.w"], D, W, g.H*dh, (g.H+g.KV)*dh)
		out[h+"self_attn.v_proj.weight"] = splitTransposed(pit[p+"qkv.w"], D, W, (g.H+g.KV)*dh, W)
		out[h+"self_attn.o_proj.weight"] = splitTransposed(pit[p+"o.w"], g.H*dh, D, 0, D)
		out[h+"mlp.gate_proj.weight"] = splitTransposed(pit[p+"gate_up.w"], D, 2*M, 0, M)
		out[h+"mlp.up_proj.weight"] = splitTransposed(pit[p+"gate_up.w"], D, 2*M, M, 2*M)
		out[h+"mlp.down_proj.weight"] = splitTransposed(pit[p+"down.w"], M, D, 0, D)
	}
	return out
}

// TestLlamaGradientsMatchPyTorch compares the loss and the gradient of
// one SFT step of an imported Llama, for every tensor of the checkpoint,
// with torch.autograd through the independent float64 reference: a
// float64 import must agree to rounding (it computes from the same
// float32 weights), the float32 model pit trains with to float32
// accuracy. Tied and untied heads, grouped and multi-head attention.
func TestLlamaGradientsMatchPyTorch(t *testing.T) {
	python := torchPython(t)
	for _, g := range []tinyLlama{
		{D: 16, L: 2, H: 4, KV: 2, C: 10, V: 23, M: 24, Theta: 10000, Tied: true, DType: F32},
		{D: 12, L: 1, H: 2, KV: 2, C: 9, V: 17, M: 20, Theta: 1000, DType: BF16},
	} {
		dir := t.TempDir()
		g.write(t, dir, 11, nil)
		rng := rand.New(rand.NewPCG(12, 13))
		var seqs [][]int
		for _, n := range []int{g.C, 4, g.C - 1} {
			s := make([]int, n)
			for i := range s {
				s[i] = rng.IntN(g.V)
			}
			seqs = append(seqs, s)
		}
		ref := runGradReference(t, python, dir, seqs)
		for _, tc := range []struct {
			dtype     string
			loss, rel float64
		}{{"float64", 1e-12, 1e-9}, {"float32", 1e-6, 1e-4}} {
			t.Run(fmt.Sprintf("H%d-KV%d-tied=%v-%s", g.H, g.KV, g.Tied, tc.dtype), func(t *testing.T) {
				m, _, err := LoadModel(dir, ImportOptions{DType: tc.dtype})
				if err != nil {
					t.Fatal(err)
				}
				tr, err := nn.NewTrainer(m, nn.OptimConfig{LR: 1e-3})
				if err != nil {
					t.Fatal(err)
				}
				defer tr.Close()
				loss, grads, err := tr.SFTGradients(nn.Batch{Seqs: seqs})
				if err != nil {
					t.Fatal(err)
				}
				if rel := math.Abs(loss-ref.Loss) / ref.Loss; rel > tc.loss {
					t.Errorf("loss %.12g, PyTorch %.12g (relative error %.2g)", loss, ref.Loss, rel)
				}
				got := llamaGradsAsHF(g, grads)
				if len(got) != len(ref.Grads) {
					t.Fatalf("%d gradients mapped, the checkpoint has %d tensors", len(got), len(ref.Grads))
				}
				var worstRel float64
				for name, want := range ref.Grads {
					have := got[name]
					if len(have) != len(want) {
						t.Fatalf("%s: %d values, PyTorch %d", name, len(have), len(want))
					}
					var diff, scale float64
					for i := range want {
						diff = max(diff, math.Abs(have[i]-want[i]))
						scale = max(scale, math.Abs(want[i]))
					}
					if scale == 0 {
						t.Fatalf("%s: PyTorch's gradient is zero", name)
					}
					if diff > tc.rel*scale {
						t.Errorf("%s: max |Δgrad| %.3g, %.3g of its largest entry %.3g", name, diff, diff/scale, scale)
					}
					worstRel = max(worstRel, diff/scale)
				}
				t.Logf("loss %.6f (PyTorch %.6f); worst gradient error %.3g of the tensor's largest entry", loss, ref.Loss, worstRel)
			})
		}
	}
}

// TestLlamaImportHeads: pit's head starts as the checkpoint's (tied
// embedding or lm_head) with a zero value column and reward head, the
// imported model samples and scores consistently, and a context cap
// shrinks the model without changing its outputs on short sequences.
func TestLlamaImportHeads(t *testing.T) {
	for _, tied := range []bool{true, false} {
		g := tinyLlama{D: 8, L: 1, H: 2, KV: 1, C: 20, V: 20, M: 12, Theta: 10000, Tied: tied, DType: F32}
		dir := t.TempDir()
		g.write(t, dir, 3, nil)
		m, _, err := LoadLlama(dir, ImportOptions{})
		if err != nil {
			t.Fatal(err)
		}
		w := m.Weights()
		wts, _ := OpenWeights(dir)
		name := "lm_head.weight"
		if tied {
			name = "model.embed_tokens.weight"
		}
		lm, _ := wts.Get(name, g.V, g.D)
		for v := range g.V {
			for d := range g.D {
				if w["head.w"][d*(g.V+1)+v] != float64(lm[v*g.D+d]) {
					t.Fatalf("tied=%v: head.w[%d,%d] is not %s[%d,%d]", tied, d, v, name, v, d)
				}
			}
		}
		for d := range g.D {
			if w["head.w"][d*(g.V+1)+g.V] != 0 || w["rm.w"][d] != 0 {
				t.Fatal("value and reward heads must start at zero")
			}
		}
		if len(nn.ParamShapes(m.Config())) != len(w) {
			t.Errorf("%d parameters, ParamShapes lists %d", len(w), len(nn.ParamShapes(m.Config())))
		}
		small, _, err := LoadModel(dir, ImportOptions{Context: 8})
		if err != nil {
			t.Fatal(err)
		}
		if small.Config().Context != 8 {
			t.Fatalf("context cap: %d", small.Config().Context)
		}
		seq := []int{1, 5, 7, 2, 9}
		a, _ := m.ScoreTokens(context.Background(), [][]int{seq}, 1)
		b, err := small.ScoreTokens(context.Background(), [][]int{seq}, 1)
		if err != nil || !slices.Equal(a.LogProbs[0], b.LogProbs[0]) {
			t.Fatalf("capped model scores %v (%v), full %v", b.LogProbs, err, a.LogProbs)
		}
		gens, err := small.Sample(context.Background(), [][]int{seq}, nn.SampleOptions{Greedy: true, MaxNew: 10, EOS: -1}, nil)
		if err != nil || len(gens[0].Tokens) != 8 {
			t.Fatalf("sampling within the capped context: %v, %v", gens, err)
		}
		sc, _ := small.ScoreTokens(context.Background(), [][]int{gens[0].Tokens}, 1)
		for j, lp := range gens[0].LogProbs {
			if math.Abs(lp-sc.LogProbs[0][len(seq)+j]) > 1e-5 {
				t.Fatalf("sampled log-prob %v, scored %v", lp, sc.LogProbs[0][len(seq)+j])
			}
		}
	}
	dir := t.TempDir()
	tinyLlama{D: 8, L: 1, H: 2, KV: 1, C: 6, V: 20, M: 12, Theta: 10000, DType: F32}.write(t, dir, 1, nil)
	_, _, err := LoadModel(dir, ImportOptions{Context: 7})
	wantErr(t, err, ConfigFile, "context 7 exceeds max_position_embeddings 6")
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
		{name: "odd head width", edit: func(dir string) {
			editConfig(t, dir, `"num_attention_heads":2`, `"num_attention_heads":8`)
			editConfig(t, dir, `"num_key_value_heads":1`, `"num_key_value_heads":8`)
		}, parts: []string{ConfigFile, "head width", "must be even"}},
		{name: "cuda in a CPU build", edit: func(string) {}, parts: []string{`device "cuda"`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			g.write(t, dir, 1, tc.drop)
			if tc.edit != nil {
				tc.edit(dir)
			}
			o := ImportOptions{}
			if tc.name == "cuda in a CPU build" {
				if nn.CUDABuilt() {
					t.Skip("this binary is the CUDA build")
				}
				o.Device = "cuda"
			}
			_, _, err := LoadModel(dir, o)
			wantErr(t, err, tc.parts...)
			_, _, err = LoadLlama(dir, o)
			wantErr(t, err, tc.parts...)
		})
	}
	// LoadLlama refuses another family
	dir := t.TempDir()
	tinyGPT2{D: 8, L: 1, H: 2, C: 6, V: 20, M: 32, DType: F32}.write(t, dir, 1, nil, nil)
	_, _, err := LoadLlama(dir, ImportOptions{})
	wantErr(t, err, ConfigFile, `"gpt2" is not a Llama`)
}
