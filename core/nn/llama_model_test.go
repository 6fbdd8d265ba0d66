package nn

import (
	"bytes"
	"encoding/gob"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// llamaConfig is a small Llama-family model with grouped-query attention
// (four query heads over two key/value heads).
func llamaConfig(seed uint64) Config {
	return Config{Arch: ArchLlama, Vocab: 16, Context: 24, DModel: 32, Layers: 2, Heads: 4, KVHeads: 2,
		MLP: 64, RMSEps: 1e-5, RopeTheta: 10000, Seed: seed}
}

func TestLlamaConfigValidate(t *testing.T) {
	good := llamaConfig(1).WithDefaults()
	if err := good.Validate(); err != nil {
		t.Fatalf("good config: %v", err)
	}
	d := Config{Arch: ArchLlama, Vocab: 8, Context: 8, DModel: 16, Layers: 1, Heads: 2}.WithDefaults()
	if d.KVHeads != 2 || d.RMSEps != 1e-6 || d.RopeTheta != 10000 || d.MLP != 64 {
		t.Errorf("llama defaults %+v", d)
	}
	if g := smallConfig(1).WithDefaults(); g.Arch != "" || g.KVHeads != 0 || g.RMSEps != 0 || g.RopeTheta != 0 {
		t.Errorf("gpt config got llama defaults: %+v", g)
	}
	type testCase struct {
		name string
		edit func(*Config)
		want string
	}
	tests := []testCase{
		{"unknown arch", func(c *Config) { c.Arch = "mamba" }, `arch "mamba" unknown`},
		{"kv heads do not divide", func(c *Config) { c.KVHeads = 3 }, "kv_heads (3) must divide heads (4)"},
		{"odd head width", func(c *Config) { c.DModel, c.Heads, c.KVHeads = 36, 4, 4 }, "must be even for rotary"},
		{"negative eps", func(c *Config) { c.RMSEps = -1 }, "rms_eps must be positive"},
		{"theta", func(c *Config) { c.RopeTheta = math.Inf(1) }, "rope_theta must be positive"},
		{"llama fields on gpt", func(c *Config) { c.Arch = ArchGPT }, `apply to arch "llama" only`},
		{"llama fields on default arch", func(c *Config) { c.Arch = "" }, `apply to arch "llama" only`},
	}
	if !CUDABuilt() {
		tests = append(tests, testCase{"cuda in a CPU build", func(c *Config) { c.Device = "cuda" }, "scripts/cuda/build.sh"})
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := good
			tc.edit(&c)
			err := c.Validate()
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Validate() = %v, want error containing %q", err, tc.want)
			}
			if _, err := New(c); err == nil {
				t.Fatal("New accepted a bad config")
			}
		})
	}
}

// The Llama body has its own parameters (no position table, no biases)
// and pit's heads; the value and reward heads start at zero as GPT's do.
func TestLlamaParams(t *testing.T) {
	cfg := llamaConfig(2)
	m := mustModel(t, cfg)
	D, V, M, dh := cfg.DModel, cfg.Vocab, cfg.MLP, cfg.DModel/cfg.Heads
	want := map[string][]int{"wte": {V, D}, "norm.g": {D}, "head.w": {D, V + 1}, "head.b": {V + 1}, "rm.w": {D, 1}, "rm.b": {1}}
	for l := range cfg.Layers {
		p := fmt.Sprintf("h%d.", l)
		want[p+"attn_norm.g"] = []int{D}
		want[p+"qkv.w"] = []int{D, (cfg.Heads + 2*cfg.KVHeads) * dh}
		want[p+"o.w"] = []int{D, D}
		want[p+"mlp_norm.g"] = []int{D}
		want[p+"gate_up.w"] = []int{D, 2 * M}
		want[p+"down.w"] = []int{M, D}
	}
	got := map[string][]int{}
	n := 0
	for _, ps := range ParamShapes(cfg) {
		got[ps.Name] = ps.Shape
		n += numel(ps.Shape)
	}
	if !reflect.DeepEqual(got, want) || n != m.NumParams() {
		t.Fatalf("parameters %v (%d values), want %v (model has %d)", got, n, want, m.NumParams())
	}
	w := m.Weights()
	for _, name := range []string{"norm.g", "h1.attn_norm.g"} {
		for _, v := range w[name] {
			if v != 1 {
				t.Fatalf("%s starts at %v, want 1", name, v)
			}
		}
	}
	for d := range D {
		if w["head.w"][d*(V+1)+V] != 0 || w["rm.w"][d] != 0 {
			t.Fatal("value and reward heads must start at zero")
		}
	}
	if reflect.DeepEqual(w, mustModel(t, llamaConfig(3)).Weights()) || !reflect.DeepEqual(w, mustModel(t, cfg).Weights()) {
		t.Fatal("initialisation does not follow the seed")
	}
}

func numel(s []int) int {
	n := 1
	for _, d := range s {
		n *= d
	}
	return n
}

// A Llama reward model learns the ranking task through ComparisonStep and
// Rewards.
func TestLlamaComparisonLearnsRanking(t *testing.T) {
	m := mustModel(t, Config{Arch: ArchLlama, Vocab: 8, Context: 12, DModel: 32, Layers: 2, Heads: 4, KVHeads: 1, Seed: 3})
	tr := mustTrainer(t, m, OptimConfig{LR: 2e-3, WeightDecay: 0.01})
	defer tr.Close()
	rng := rand.New(rand.NewPCG(5, 6))
	testSeqs, testPairs := rankPairs(rand.New(rand.NewPCG(77, 77)), 200)
	for step := 0; step < 150; step++ {
		seqs, pairs := rankPairs(rng, 16)
		if _, err := tr.ComparisonStep(seqs, pairs); err != nil {
			t.Fatal(err)
		}
	}
	r, err := m.Rewards(t.Context(), testSeqs)
	if err != nil {
		t.Fatal(err)
	}
	ok := 0
	for _, p := range testPairs {
		if r[p.I] > r[p.J] {
			ok++
		}
	}
	if acc := float64(ok) / float64(len(testPairs)); acc < 0.85 {
		t.Fatalf("held-out accuracy %.2f, want ≥ 0.85", acc)
	}
}

// decodeRows feeds seq through the decoder of m one position at a time
// (or, with prefill, its first P positions in one pass) and returns the
// head output [V+1] the decoder computed at every position.
func decodeRows(t *testing.T, m *Model, seq []int, P int) [][]float64 {
	t.Helper()
	d, err := m.decoder(1, 0)
	if err != nil {
		t.Fatal(err)
	}
	V := m.cfg.Vocab
	var rows [][]float64
	start := 0
	if P > 0 {
		pf, err := m.prefiller(d, P)
		if err != nil {
			t.Fatal(err)
		}
		copy(pf.ids, seq[:P])
		if err := pf.vm.RunAll(); err != nil {
			t.Fatal(err)
		}
		pf.vm.Reset()
		start = P
		rows = make([][]float64, P) // the prefill computes no head
	}
	for pos := start; pos < len(seq); pos++ {
		d.ids[0], d.pos = seq[pos], pos
		if err := d.vm.RunAll(); err != nil {
			t.Fatal(err)
		}
		d.vm.Reset()
		rows = append(rows, append([]float64(nil), d.out[:V+1]...))
	}
	return rows
}

// TestLlamaDecodeMatchesFullRecompute: the logits and values the decoder
// computes with its key/value cache (rotated keys, grouped heads), token
// by token and after a prefill pass, equal the full-sequence forward's at
// every position: to rounding in float64, to 1e-5 in float32.
func TestLlamaDecodeMatchesFullRecompute(t *testing.T) {
	for _, tc := range []struct {
		dtype   string
		prefill int
		tol     float64
	}{{"float64", 0, 1e-12}, {"float32", 0, 1e-5}, {"float32", 8, 1e-5}, {"float32", 16, 1e-5}} {
		t.Run(fmt.Sprintf("%s-prefill%d", tc.dtype, tc.prefill), func(t *testing.T) {
			cfg := llamaConfig(4)
			cfg.DType = tc.dtype
			m := mustModel(t, cfg)
			if tc.dtype == "float64" {
				randomizeWeights(m, 4)
			} else {
				randomizeWeights32(m, 4)
			}
			seq := randSeqs(rand.New(rand.NewPCG(8, 8)), 1, cfg.Context, cfg.Context, cfg.Vocab)[0]
			// the full forward: logits and, in column V, values
			var full [][]float64
			err := m.forward(t.Context(), kindEvalPolicy, [][]int{seq}, func(_ int, rows []float64, W int) {
				for p := range seq {
					full = append(full, rows[p*W:(p+1)*W])
				}
			})
			if err != nil {
				t.Fatal(err)
			}
			dec := decodeRows(t, m, seq, tc.prefill)
			var worst, scale float64
			for p := tc.prefill; p < len(seq); p++ {
				for v := range dec[p] {
					worst = max(worst, math.Abs(dec[p][v]-full[p][v]))
					scale = max(scale, math.Abs(full[p][v]))
				}
			}
			if scale < 0.5 {
				t.Fatalf("outputs too small (max %g) to test anything", scale)
			}
			if worst > tc.tol*scale {
				t.Fatalf("max |decode − full| = %.3g (max |output| %.3g)", worst, scale)
			}
			t.Logf("max |decode − full| = %.3g of max |output| %.3g", worst, scale)
		})
	}
}

// Sampling (prefill and cache) reports the log-probs that teacher-forced
// scoring gives the same tokens, and prefill does not change the tokens.
func TestLlamaSampleMatchesScoring(t *testing.T) {
	m := mustModel(t, llamaConfig(5))
	randomizeWeights32(m, 5)
	rng := rand.New(rand.NewPCG(5, 5))
	prompts := randSeqs(rng, 12, 9, 14, 16)
	opts := SampleOptions{Temperature: 0.8, MaxNew: 8, EOS: 3}
	fast, err := m.Sample(t.Context(), prompts, opts, rand.New(rand.NewPCG(1, 1)))
	if err != nil {
		t.Fatal(err)
	}
	m.noPrefill = true
	slow, err := m.Sample(t.Context(), prompts, opts, rand.New(rand.NewPCG(1, 1)))
	m.noPrefill = false
	if err != nil {
		t.Fatal(err)
	}
	seqs := make([][]int, len(fast))
	for i := range fast {
		if !reflect.DeepEqual(fast[i].Tokens, slow[i].Tokens) {
			t.Fatalf("row %d: prefill %v, token by token %v", i, fast[i].Tokens, slow[i].Tokens)
		}
		seqs[i] = fast[i].Tokens
	}
	sc, err := m.ScoreTokens(t.Context(), seqs, opts.Temperature)
	if err != nil {
		t.Fatal(err)
	}
	for i, g := range fast {
		if len(g.Response()) == 0 {
			t.Fatalf("row %d: nothing sampled", i)
		}
		for j, lp := range g.LogProbs {
			if math.Abs(lp-sc.LogProbs[i][g.PromptLen+j]) > 1e-4 {
				t.Fatalf("row %d token %d: sampled %v, scored %v", i, j, lp, sc.LogProbs[i][g.PromptLen+j])
			}
		}
	}
}

// TestLlamaCheckpointRoundTrip: a Llama trainer saved mid-run resumes
// exactly, a saved model loads with its architecture, and Copy,
// WithWeightsOf, LoadWeights and FromWeights keep the weights and refuse a
// GPT-shaped target.
func TestLlamaCheckpointRoundTrip(t *testing.T) {
	dir := t.TempDir()
	cfg := llamaConfig(8)
	m := mustModel(t, cfg)
	tr := mustTrainer(t, m, OptimConfig{LR: 1e-3, WeightDecay: 0.1, WarmupSteps: 2, ClipNorm: 1})
	defer tr.Close()
	rng := rand.New(rand.NewPCG(4, 4))
	for range 3 {
		if _, err := tr.SFTStep(copyBatch(rng, 8, 4)); err != nil {
			t.Fatal(err)
		}
	}
	path := filepath.Join(dir, "policy.ckpt")
	if err := tr.Save(path); err != nil {
		t.Fatal(err)
	}
	tr2, err := LoadTrainer(path)
	if err != nil {
		t.Fatal(err)
	}
	defer tr2.Close()
	if tr2.Model().Config() != m.Config() {
		t.Fatalf("config %+v, saved %+v", tr2.Model().Config(), m.Config())
	}
	b := copyBatch(rng, 8, 4)
	l1, err := tr.SFTStep(b)
	if err != nil {
		t.Fatal(err)
	}
	l2, err := tr2.SFTStep(b)
	if err != nil {
		t.Fatal(err)
	}
	if l1 != l2 || !reflect.DeepEqual(m.Weights(), tr2.Model().Weights()) {
		t.Fatalf("resumed training diverged: losses %v vs %v", l1, l2)
	}
	mpath := filepath.Join(dir, "model.ckpt")
	if err := m.Save(mpath); err != nil {
		t.Fatal(err)
	}
	m2, err := Load(mpath)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(m.Weights(), m2.Weights()) || m2.Config() != m.Config() {
		t.Fatal("model round trip is not exact")
	}
	if c, err := CheckpointConfig(mpath); err != nil || c.Arch != ArchLlama || c.KVHeads != 2 {
		t.Fatalf("CheckpointConfig = %+v, %v", c, err)
	}
	seqs := [][]int{{1, 2, 3, 4}, {5, 6}}
	want, err := m.ScoreTokens(t.Context(), seqs, 1)
	if err != nil {
		t.Fatal(err)
	}
	target := cfg
	target.Seed, target.PadID = 99, 3
	fromModel, err := WithWeightsOf(target, m)
	if err != nil {
		t.Fatal(err)
	}
	fromFile, err := LoadWeights(target, mpath)
	if err != nil {
		t.Fatal(err)
	}
	w32 := map[string][]float32{}
	for name, v := range m.Weights() {
		for _, x := range v {
			w32[name] = append(w32[name], float32(x))
		}
	}
	fromWeights, err := FromWeights(cfg, w32)
	if err != nil {
		t.Fatal(err)
	}
	for name, c := range map[string]*Model{"Copy": m.Copy(), "Load": m2, "WithWeightsOf": fromModel, "LoadWeights": fromFile, "FromWeights": fromWeights} {
		got, err := c.ScoreTokens(t.Context(), seqs, 1)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s: scores differ from the source model's", name)
		}
	}
	gpt := Config{Vocab: cfg.Vocab, Context: cfg.Context, DModel: cfg.DModel, Layers: cfg.Layers, Heads: cfg.Heads, MLP: cfg.MLP}
	if _, err := WithWeightsOf(gpt, m); err == nil || !strings.Contains(err.Error(), "arch llama (want gpt)") {
		t.Errorf("WithWeightsOf a gpt config from a llama model: %v", err)
	}
	if _, err := LoadWeights(gpt, mpath); err == nil || !strings.Contains(err.Error(), "arch llama (want gpt)") {
		t.Errorf("LoadWeights into a gpt config: %v", err)
	}
	other := cfg
	other.KVHeads = 4
	if d := ArchMismatch(cfg, other); d != "kv_heads 2 (want 4)" {
		t.Errorf("ArchMismatch = %q", d)
	}
	if err := mustModel(t, other).CopyWeightsFrom(m); err == nil {
		t.Error("CopyWeightsFrom accepted another key/value head count")
	}
}

// configV1 is Config as checkpoints stored it before architectures
// existed.
type configV1 struct {
	Vocab, Context, DModel, Layers, Heads, MLP, PadID int
	Seed                                              uint64
	Device, DType                                     string
}

// A checkpoint written before Config had Arch (and the Llama fields) loads
// as the GPT model it was, with the same weights and outputs.
func TestOldCheckpointLoadsAsGPT(t *testing.T) {
	m := mustModel(t, smallConfig(21))
	c := m.toCheckpoint()
	old := struct {
		Version int
		Config  configV1
		Names   []string
		F32     [][]float32
	}{c.Version, configV1{c.Config.Vocab, c.Config.Context, c.Config.DModel, c.Config.Layers, c.Config.Heads, c.Config.MLP, c.Config.PadID, c.Config.Seed, c.Config.Device, c.Config.DType}, c.Names, c.F32}
	var buf bytes.Buffer
	if err := gob.NewEncoder(&buf).Encode(old); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "old.ckpt")
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	m2, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if m2.Config() != m.Config() || m2.Config().Arch != "" || !reflect.DeepEqual(m2.Weights(), m.Weights()) {
		t.Fatalf("old checkpoint loaded as %+v", m2.Config())
	}
}
