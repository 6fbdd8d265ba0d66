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
	"strings"
	"testing"

	"github.com/pit-lab/pit/core/nn"
)

// tinyGPT2 describes a random GPT-2 checkpoint written in Hugging Face's
// on-disk format.
type tinyGPT2 struct {
	D, L, H, C, V, M int
	DType            string // F32 or BF16
	Sharded          bool   // two shards and an index instead of one file
	Prefix           string // "" (GPT2Model) or "transformer." (GPT2LMHeadModel)
	LMHead           bool   // write an untied lm_head.weight
}

// write puts config.json and the weights into dir; drop leaves tensors
// out and reshape gives some another shape, for the error tests.
func (g tinyGPT2) write(t testing.TB, dir string, seed uint64, drop map[string]bool, reshape map[string][]int) {
	t.Helper()
	rng := rand.New(rand.NewPCG(seed, 7))
	var ts []Tensor
	add := func(name string, std, mean float64, shape ...int) {
		if drop[name] {
			return
		}
		n := numel(shape)
		if s, ok := reshape[name]; ok {
			shape = s
		}
		v := make([]float32, n)
		for i := range v {
			v[i] = float32(mean + std*rng.NormFloat64())
		}
		raw := Float32Bytes(v)
		if g.DType == BF16 { // keep the upper half of each float32
			raw = make([]byte, 2*n)
			for i, x := range v {
				binary.LittleEndian.PutUint16(raw[2*i:], uint16(math.Float32bits(x)>>16))
			}
		}
		ts = append(ts, Tensor{Name: name, DType: g.DType, Shape: shape, Raw: raw})
	}
	p, D, M := g.Prefix, g.D, g.M
	add(p+"wte.weight", 0.3, 0, g.V, D)
	add(p+"wpe.weight", 0.1, 0, g.C, D)
	for l := range g.L {
		h := fmt.Sprintf("%sh.%d.", p, l)
		add(h+"ln_1.weight", 0.2, 1, D)
		add(h+"ln_1.bias", 0.1, 0, D)
		add(h+"attn.c_attn.weight", 1/math.Sqrt(float64(D)), 0, D, 3*D)
		add(h+"attn.c_attn.bias", 0.1, 0, 3*D)
		add(h+"attn.c_proj.weight", 1/math.Sqrt(float64(D)), 0, D, D)
		add(h+"attn.c_proj.bias", 0.1, 0, D)
		add(h+"ln_2.weight", 0.2, 1, D)
		add(h+"ln_2.bias", 0.1, 0, D)
		add(h+"mlp.c_fc.weight", 1/math.Sqrt(float64(D)), 0, D, M)
		add(h+"mlp.c_fc.bias", 0.1, 0, M)
		add(h+"mlp.c_proj.weight", 1/math.Sqrt(float64(M)), 0, M, D)
		add(h+"mlp.c_proj.bias", 0.1, 0, D)
	}
	add(p+"ln_f.weight", 0.2, 1, D)
	add(p+"ln_f.bias", 0.1, 0, D)
	if g.LMHead {
		add("lm_head.weight", 0.3, 0, g.V, D)
	}
	inner := "null"
	if M != 4*D {
		inner = fmt.Sprint(M)
	}
	cfg := fmt.Sprintf(`{"model_type":"gpt2","architectures":["GPT2LMHeadModel"],"n_embd":%d,"n_layer":%d,"n_head":%d,"n_positions":%d,"n_ctx":%d,"vocab_size":%d,"n_inner":%s,"layer_norm_epsilon":1e-05,"activation_function":"gelu_new","bos_token_id":%d,"eos_token_id":%d}`,
		D, g.L, g.H, g.C, g.C, g.V, inner, g.V-1, g.V-1)
	if err := os.WriteFile(filepath.Join(dir, ConfigFile), []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	if !g.Sharded {
		if err := WriteSafetensors(filepath.Join(dir, SingleFile), ts, map[string]string{"format": "pt"}); err != nil {
			t.Fatal(err)
		}
		return
	}
	half := len(ts) / 2
	shards := [2]string{"model-00001-of-00002.safetensors", "model-00002-of-00002.safetensors"}
	weightMap := map[string]string{}
	for i, part := range [2][]Tensor{ts[:half], ts[half:]} {
		if err := WriteSafetensors(filepath.Join(dir, shards[i]), part, map[string]string{"format": "pt"}); err != nil {
			t.Fatal(err)
		}
		for _, x := range part {
			weightMap[x.Name] = shards[i]
		}
	}
	idx, _ := json.Marshal(map[string]any{"metadata": map[string]any{}, "weight_map": weightMap})
	if err := os.WriteFile(filepath.Join(dir, IndexFile), idx, 0o644); err != nil {
		t.Fatal(err)
	}
}

// torchPython finds a Python with torch (Debian's python3-torch lives under
// /usr/bin/python3; PIT_TORCH_PYTHON names another) or skips.
func torchPython(t *testing.T) string {
	t.Helper()
	cands := []string{os.Getenv("PIT_TORCH_PYTHON"), "/usr/bin/python3", "python3"}
	for _, c := range cands {
		if c == "" {
			continue
		}
		if exec.Command(c, "-c", "import torch").Run() == nil {
			return c
		}
	}
	t.Skip("no Python with torch found (apt-get install python3-torch, or set PIT_TORCH_PYTHON): the PyTorch reference comparison is skipped")
	return ""
}

type reference struct {
	Logits [][][]float64 `json:"logits"`
	Loss   []float64     `json:"loss"`
}

func runReference(t *testing.T, python, dir string, seqs [][]int) reference {
	t.Helper()
	in, _ := json.Marshal(seqs)
	cmd := exec.Command(python, filepath.Join("testdata", "reference.py"), dir)
	cmd.Stdin = bytes.NewReader(in)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("reference forward: %v\n%s", err, stderr.String())
	}
	var ref reference
	if err := json.Unmarshal(out, &ref); err != nil || len(ref.Logits) != len(seqs) {
		t.Fatalf("reference output: %v", err)
	}
	return ref
}

// TestGPT2MatchesPyTorch writes tiny random GPT-2 checkpoints in the HF
// format, imports them and compares pit's float32 logits and loss with an
// independent float64 PyTorch forward of the published architecture.
func TestGPT2MatchesPyTorch(t *testing.T) {
	python := torchPython(t)
	for _, g := range []tinyGPT2{
		{D: 32, L: 2, H: 4, C: 16, V: 97, M: 128, DType: F32, Sharded: true},
		{D: 24, L: 3, H: 3, C: 12, V: 50, M: 40, DType: BF16, Prefix: "transformer.", LMHead: true},
	} {
		name := fmt.Sprintf("%s-sharded=%v-prefix=%q-lmhead=%v", g.DType, g.Sharded, g.Prefix, g.LMHead)
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			g.write(t, dir, 1, nil, nil)
			m, mc, err := LoadModel(dir, ImportOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if c := m.Config(); c.Vocab != g.V || c.Context != g.C || c.DModel != g.D || c.Layers != g.L || c.Heads != g.H || c.MLP != g.M || mc.GPT2 == nil {
				t.Fatalf("imported config %+v", c)
			}
			matchPyTorch(t, python, dir, m, g.V, []int{g.C, 5, g.C - 3}, 2, 3)
		})
	}
}

func TestGPT2ImportErrors(t *testing.T) {
	g := tinyGPT2{D: 8, L: 1, H: 2, C: 6, V: 20, M: 32, DType: F32}
	for _, tc := range []struct {
		name    string
		drop    map[string]bool
		reshape map[string][]int
		edit    func(dir string)
		parts   []string
	}{
		{name: "missing tensor", drop: map[string]bool{"h.0.mlp.c_fc.bias": true},
			parts: []string{`"h.0.mlp.c_fc.bias"`, "missing"}},
		{name: "shape", reshape: map[string][]int{"h.0.attn.c_attn.weight": {24, 8}},
			parts: []string{SingleFile, `"h.0.attn.c_attn.weight"`, "[24 8]", "[8 24]"}},
		{name: "foreign tensor", edit: func(dir string) {
			w, _ := ReadSafetensors(filepath.Join(dir, SingleFile))
			var ts []Tensor
			for _, x := range w {
				ts = append(ts, *x)
			}
			ts = append(ts, Tensor{Name: "h.0.attn.q_norm.weight", DType: F32, Shape: []int{8}, Raw: make([]byte, 32)})
			WriteSafetensors(filepath.Join(dir, SingleFile), ts, nil)
		}, parts: []string{`"h.0.attn.q_norm.weight"`, "not part of a GPT-2"}},
		{name: "dtype", edit: func(dir string) {
			w, _ := ReadSafetensors(filepath.Join(dir, SingleFile))
			var ts []Tensor
			for _, x := range w {
				if x.Name == "wpe.weight" {
					x = &Tensor{Name: x.Name, DType: "F64", Shape: x.Shape, Raw: make([]byte, 8*numel(x.Shape))}
				}
				ts = append(ts, *x)
			}
			WriteSafetensors(filepath.Join(dir, SingleFile), ts, nil)
		}, parts: []string{SingleFile, `"wpe.weight"`, "unsupported dtype F64"}},
		{name: "epsilon", edit: func(dir string) { editConfig(t, dir, `"layer_norm_epsilon":1e-05`, `"layer_norm_epsilon":1e-06`) },
			parts: []string{ConfigFile, "layer_norm_epsilon 1e-06"}},
		{name: "llama", edit: func(dir string) {
			os.WriteFile(filepath.Join(dir, ConfigFile), []byte(`{"model_type":"llama","hidden_size":8,"intermediate_size":16,"num_hidden_layers":1,"num_attention_heads":2,"vocab_size":20,"max_position_embeddings":6}`), 0o644)
		}, parts: []string{`"model.embed_tokens.weight"`, "missing", "… and 23 more"}},
		{name: "unknown architecture", edit: func(dir string) { editConfig(t, dir, `"model_type":"gpt2"`, `"model_type":"gpt_neox"`) },
			parts: []string{ConfigFile, `"gpt_neox"`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			g.write(t, dir, 1, tc.drop, tc.reshape)
			if tc.edit != nil {
				tc.edit(dir)
			}
			_, _, err := LoadModel(dir, ImportOptions{})
			wantErr(t, err, tc.parts...)
		})
	}
	// the fixture itself imports
	dir := t.TempDir()
	g.write(t, dir, 1, nil, nil)
	if _, _, err := LoadModel(dir, ImportOptions{}); err != nil {
		t.Fatal(err)
	}
}

func editConfig(t *testing.T, dir, from, to string) {
	t.Helper()
	p := filepath.Join(dir, ConfigFile)
	buf, _ := os.ReadFile(p)
	if !strings.Contains(string(buf), from) {
		t.Fatalf("config has no %s", from)
	}
	os.WriteFile(p, []byte(strings.Replace(string(buf), from, to, 1)), 0o644)
}

// The import keeps nn's layout assumptions: every parameter ParamShapes
// lists is filled and the heads pit adds start as documented.
func TestGPT2ImportHeads(t *testing.T) {
	g := tinyGPT2{D: 8, L: 1, H: 2, C: 6, V: 20, M: 32, DType: F32}
	dir := t.TempDir()
	g.write(t, dir, 4, nil, nil)
	m, _, err := LoadModel(dir, ImportOptions{})
	if err != nil {
		t.Fatal(err)
	}
	w := m.Weights()
	wts, _ := OpenWeights(dir)
	wte, _ := wts.Get("wte.weight", g.V, g.D)
	for v := range g.V {
		for d := range g.D {
			if w["head.w"][d*(g.V+1)+v] != float64(wte[v*g.D+d]) {
				t.Fatalf("head.w[%d,%d] is not wte[%d,%d]", d, v, v, d)
			}
		}
	}
	for d := range g.D {
		if w["head.w"][d*(g.V+1)+g.V] != 0 || w["rm.w"][d] != 0 {
			t.Fatal("value and reward heads must start at zero")
		}
	}
	if len(nn.ParamShapes(m.Config())) != len(w) || m.Config().PadID != g.V-1 {
		t.Errorf("%d parameters, pad %d", len(w), m.Config().PadID)
	}
	// a context cap keeps the first rows of the position table and the
	// outputs on sequences that fit
	small, _, err := LoadModel(dir, ImportOptions{Context: 4})
	if err != nil {
		t.Fatal(err)
	}
	if c := small.Config().Context; c != 4 || !slices.Equal(small.Weights()["wpe"], w["wpe"][:4*g.D]) {
		t.Fatalf("capped context %d, wpe %d values", c, len(small.Weights()["wpe"]))
	}
	seq := [][]int{{3, 1, 4, 1}}
	a, _ := m.ScoreTokens(context.Background(), seq, 1)
	b, err := small.ScoreTokens(context.Background(), seq, 1)
	if err != nil || !slices.Equal(a.LogProbs[0], b.LogProbs[0]) {
		t.Fatalf("capped model scores %v (%v), full %v", b.LogProbs, err, a.LogProbs)
	}
	_, _, err = LoadModel(dir, ImportOptions{Context: 7})
	wantErr(t, err, ConfigFile, "context 7 exceeds n_positions 6")
}

// matchPyTorch checks an imported model against reference.py's
// independent PyTorch forward of the same folder, on random sequences of
// the given lengths (drawn from seed s1, s2): logits within 1e-5 of the
// largest, each sequence's next-token loss within 1e-5 relative, the first
// SFT step's loss equal to PyTorch's batch loss, and five steps lowering it.
func matchPyTorch(t *testing.T, python, dir string, m *nn.Model, V int, lens []int, s1, s2 uint64) {
	t.Helper()
	rng := rand.New(rand.NewPCG(s1, s2))
	var seqs [][]int
	for _, n := range lens {
		s := make([]int, n)
		for i := range s {
			s[i] = rng.IntN(V)
		}
		seqs = append(seqs, s)
	}
	ref := runReference(t, python, dir, seqs)
	ctx := context.Background()
	scores, err := m.ScoreTokens(ctx, seqs, 1)
	if err != nil {
		t.Fatal(err)
	}
	var worst, scale float64
	for i, s := range seqs {
		logits, err := m.Logits(ctx, s)
		if err != nil {
			t.Fatal(err)
		}
		for p := range s {
			for v := range V {
				worst = max(worst, math.Abs(logits[p][v]-ref.Logits[i][p][v]))
				scale = max(scale, math.Abs(ref.Logits[i][p][v]))
			}
		}
		var nll float64
		for _, lp := range scores.LogProbs[i][1:] {
			nll -= lp
		}
		nll /= float64(len(s) - 1)
		if rel := math.Abs(nll-ref.Loss[i]) / ref.Loss[i]; rel > 1e-5 {
			t.Errorf("sequence %d: loss %.7f, PyTorch %.7f (relative error %.2g)", i, nll, ref.Loss[i], rel)
		}
	}
	if scale < 1 {
		t.Fatalf("reference logits are too small (max |logit| %g) to test anything", scale)
	}
	if worst/scale > 1e-5 {
		t.Errorf("max |logit − PyTorch| = %.3g, %.3g relative to the largest logit %.3g", worst, worst/scale, scale)
	}
	t.Logf("max logit error %.3g relative to max |logit| %.3g; loss %.5f", worst/scale, scale, ref.Loss[0])

	// The training graph sees the same model: the SFT loss of the batch
	// (mean over its predicted tokens) is PyTorch's, and a few steps lower
	// it.
	var want, n float64
	for i, s := range seqs {
		want += ref.Loss[i] * float64(len(s)-1)
		n += float64(len(s) - 1)
	}
	want /= n
	tr, err := nn.NewTrainer(m, nn.OptimConfig{LR: 1e-3})
	if err != nil {
		t.Fatal(err)
	}
	defer tr.Close()
	first, err := tr.SFTStep(nn.Batch{Seqs: seqs})
	if err != nil {
		t.Fatal(err)
	}
	if rel := math.Abs(first-want) / want; rel > 1e-5 {
		t.Errorf("SFT loss %.7f, PyTorch %.7f (relative error %.2g)", first, want, rel)
	}
	last := first
	for range 5 {
		if last, err = tr.SFTStep(nn.Batch{Seqs: seqs}); err != nil {
			t.Fatal(err)
		}
	}
	if !(last < first) {
		t.Errorf("SFT loss did not fall on the imported model: %.5f → %.5f", first, last)
	}
}
