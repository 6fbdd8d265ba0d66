package nn

import (
	"context"
	"errors"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"gorgonia.org/tensor"
)

// Tokens of the toy tasks.
const (
	tBOS = 1
	tSEP = 2
)

func mustModel(t testing.TB, cfg Config) *Model {
	t.Helper()
	m, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func mustTrainer(t testing.TB, m *Model, oc OptimConfig) *Trainer {
	t.Helper()
	tr, err := NewTrainer(m, oc)
	if err != nil {
		t.Fatal(err)
	}
	return tr
}

func smallConfig(seed uint64) Config {
	return Config{Vocab: 16, Context: 16, DModel: 32, Layers: 2, Heads: 4, Seed: seed}
}

// copyBatch makes BOS a1..ak SEP a1..ak with the loss on the copy only.
func copyBatch(rng *rand.Rand, n, k int) Batch {
	var b Batch
	for i := 0; i < n; i++ {
		s := []int{tBOS}
		for j := 0; j < k; j++ {
			s = append(s, 3+rng.IntN(10))
		}
		s = append(s, tSEP)
		s = append(s, s[1:1+k]...)
		mask := make([]bool, len(s))
		for j := k + 2; j < len(s); j++ {
			mask[j] = true
		}
		b.Seqs = append(b.Seqs, s)
		b.Mask = append(b.Mask, mask)
	}
	return b
}

func TestConfigValidate(t *testing.T) {
	good := smallConfig(1).WithDefaults()
	if err := good.Validate(); err != nil {
		t.Fatalf("good config: %v", err)
	}
	type testCase struct {
		name string
		edit func(*Config)
		want string
	}
	tests := []testCase{
		{"heads do not divide", func(c *Config) { c.Heads = 5 }, "must divide"},
		{"zero vocab", func(c *Config) { c.Vocab = 0 }, "vocab must be positive"},
		{"pad outside vocab", func(c *Config) { c.PadID = 16 }, "pad_id"},
		{"dtype", func(c *Config) { c.DType = "float16" }, "dtype"},
		{"unknown device", func(c *Config) { c.Device = "tpu" }, `device "tpu" unknown`},
	}
	if CUDABuilt() {
		tests = append(tests,
			testCase{"cuda float64", func(c *Config) { c.Device, c.DType = "cuda", "float64" }, "float32 models only"},
			testCase{"cuda wide heads", func(c *Config) { c.Device, c.DModel, c.Heads, c.MLP = "cuda", 512, 1, 64 }, "heads of width at most 256"})
	} else {
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

func TestSameSeedSameNumbers(t *testing.T) {
	a, b := mustModel(t, smallConfig(42)), mustModel(t, smallConfig(42))
	if !reflect.DeepEqual(a.Weights(), b.Weights()) {
		t.Fatal("same seed gave different weights")
	}
	if reflect.DeepEqual(a.Weights(), mustModel(t, smallConfig(43)).Weights()) {
		t.Fatal("different seeds gave the same weights")
	}
	ta, tb := mustTrainer(t, a, OptimConfig{LR: 1e-3}), mustTrainer(t, b, OptimConfig{LR: 1e-3})
	ra, rb := rand.New(rand.NewPCG(1, 2)), rand.New(rand.NewPCG(1, 2))
	for i := 0; i < 5; i++ {
		la, err := ta.SFTStep(copyBatch(ra, 8, 4))
		if err != nil {
			t.Fatal(err)
		}
		lb, err := tb.SFTStep(copyBatch(rb, 8, 4))
		if err != nil {
			t.Fatal(err)
		}
		if la != lb {
			t.Fatalf("step %d: losses %v and %v differ", i, la, lb)
		}
	}
	if !reflect.DeepEqual(a.Weights(), b.Weights()) {
		t.Fatal("same seed and data gave different trained weights")
	}
	ga, err := a.Sample(t.Context(), [][]int{{tBOS, 3, 4}}, SampleOptions{Temperature: 1, MaxNew: 8, EOS: -1}, rand.New(rand.NewPCG(9, 9)))
	if err != nil {
		t.Fatal(err)
	}
	gb, err := b.Sample(t.Context(), [][]int{{tBOS, 3, 4}}, SampleOptions{Temperature: 1, MaxNew: 8, EOS: -1}, rand.New(rand.NewPCG(9, 9)))
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(ga, gb) {
		t.Fatal("same rng gave different samples")
	}
}

func TestSFTCopyTask(t *testing.T) {
	for _, tc := range []struct {
		arch string
		cfg  Config
	}{{"gpt", smallConfig(1)}, {"llama", llamaConfig(1)}} {
		t.Run(tc.arch, func(t *testing.T) { testSFTCopyTask(t, tc.cfg) })
	}
}

// testSFTCopyTask: a model of cfg learns the copy task with SFT, and
// greedy sampling (with the key/value cache) then copies held-out prompts.
func testSFTCopyTask(t *testing.T, cfg Config) {
	m := mustModel(t, cfg)
	tr := mustTrainer(t, m, OptimConfig{LR: 3e-3, WarmupSteps: 20, ClipNorm: 1})
	defer tr.Close()
	rng := rand.New(rand.NewPCG(1, 2))
	const k = 5
	first, err := tr.SFTStep(copyBatch(rng, 16, k))
	if err != nil {
		t.Fatal(err)
	}
	var last float64
	for step := 0; step < 250; step++ {
		if last, err = tr.SFTStep(copyBatch(rng, 16, k)); err != nil {
			t.Fatal(err)
		}
	}
	// The copy is deterministic, so the loss floor is 0; chance is log 10.
	t.Logf("loss %.3f -> %.4f", first, last)
	if first < 2 || last > 0.05 {
		t.Fatalf("copy-task loss went %.3f -> %.4f, want from > 2 to < 0.05", first, last)
	}
	held := copyBatch(rand.New(rand.NewPCG(99, 99)), 32, k)
	prompts := make([][]int, len(held.Seqs))
	for i, s := range held.Seqs {
		prompts[i] = s[:k+2]
	}
	gens, err := m.Sample(t.Context(), prompts, SampleOptions{Greedy: true, MaxNew: k, EOS: -1}, nil)
	if err != nil {
		t.Fatal(err)
	}
	right := 0
	for i, g := range gens {
		if reflect.DeepEqual(g.Tokens, held.Seqs[i]) {
			right++
		}
	}
	if right < 30 {
		t.Fatalf("greedy copies right on %d of 32 held-out prompts", right)
	}
}

// rankScore is the hidden quality of a sequence in the ranking task.
func rankScore(s []int) int {
	n := 0
	for _, v := range s {
		switch v {
		case 3:
			n++
		case 4:
			n--
		}
	}
	return n
}

func rankPairs(rng *rand.Rand, n int) ([][]int, []Pair) {
	var seqs [][]int
	var pairs []Pair
	for len(pairs) < n {
		a, b := randSeqs(rng, 1, 6, 10, 8)[0], randSeqs(rng, 1, 6, 10, 8)[0]
		a[0], b[0] = tBOS, tBOS
		sa, sb := rankScore(a), rankScore(b)
		if sa == sb {
			continue
		}
		if sa < sb {
			a, b = b, a
		}
		seqs = append(seqs, a, b)
		pairs = append(pairs, Pair{I: len(seqs) - 2, J: len(seqs) - 1, Weight: 1})
	}
	return seqs, pairs
}

func TestComparisonLearnsRanking(t *testing.T) {
	m := mustModel(t, Config{Vocab: 8, Context: 12, DModel: 32, Layers: 2, Heads: 4, Seed: 3})
	tr := mustTrainer(t, m, OptimConfig{LR: 2e-3, WeightDecay: 0.01})
	rng := rand.New(rand.NewPCG(5, 6))
	testSeqs, testPairs := rankPairs(rand.New(rand.NewPCG(77, 77)), 200)
	acc := func() float64 {
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
		return float64(ok) / float64(len(testPairs))
	}
	before := acc()
	var st CompareStats
	for step := 0; step < 150; step++ {
		seqs, pairs := rankPairs(rng, 16)
		var err error
		if st, err = tr.ComparisonStep(seqs, pairs); err != nil {
			t.Fatal(err)
		}
	}
	after := acc()
	t.Logf("held-out pair accuracy %.2f -> %.2f (train loss %.3f)", before, after, st.Loss)
	if after < 0.85 {
		t.Fatalf("held-out accuracy %.2f, want ≥ 0.85", after)
	}
}

func TestPolicyGradientRaisesReward(t *testing.T) {
	m := mustModel(t, Config{Vocab: 8, Context: 10, DModel: 32, Layers: 1, Heads: 2, Seed: 4})
	ref := m.Copy()
	tr := mustTrainer(t, m, OptimConfig{LR: 3e-3})
	rng := rand.New(rand.NewPCG(8, 8))
	const target, n, newTok = 5, 32, 6
	prompts := make([][]int, n)
	for i := range prompts {
		prompts[i] = []int{tBOS}
	}
	reward := func(g Generation) float64 {
		c := 0
		for _, v := range g.Response() {
			if v == target {
				c++
			}
		}
		return float64(c) / newTok
	}
	var curve []float64
	knobs := PGKnobs{ClipRange: 0.2, KLCoef: 0.01, KLInLoss: true, EntropyCoef: 0.001}
	for it := 0; it < 25; it++ {
		gens, err := m.Sample(t.Context(), prompts, SampleOptions{Temperature: 1, MaxNew: newTok, EOS: -1}, rng)
		if err != nil {
			t.Fatal(err)
		}
		ro := Rollouts{}
		var mean float64
		rs := make([]float64, n)
		for i, g := range gens {
			rs[i] = reward(g)
			mean += rs[i] / n
		}
		curve = append(curve, mean)
		for i, g := range gens {
			L := len(g.Tokens)
			mask, old, adv := make([]bool, L), make([]float64, L), make([]float64, L)
			for j := g.PromptLen; j < L; j++ {
				mask[j] = true
				old[j] = g.LogProbs[j-g.PromptLen]
				adv[j] = rs[i] - mean
			}
			ro.Seqs = append(ro.Seqs, g.Tokens)
			ro.Mask = append(ro.Mask, mask)
			ro.OldLogProbs = append(ro.OldLogProbs, old)
			ro.Advantages = append(ro.Advantages, adv)
		}
		sc, err := ref.ScoreTokens(t.Context(), ro.Seqs, 1)
		if err != nil {
			t.Fatal(err)
		}
		ro.RefLogProbs = sc.LogProbs
		for epoch := 0; epoch < 2; epoch++ {
			if _, err := tr.PolicyGradientStep(ro, knobs); err != nil {
				t.Fatal(err)
			}
		}
	}
	early := (curve[0] + curve[1] + curve[2]) / 3
	late := (curve[len(curve)-1] + curve[len(curve)-2] + curve[len(curve)-3]) / 3
	t.Logf("mean reward %.3f -> %.3f", early, late)
	if late < early+0.25 {
		t.Fatalf("mean reward went %.3f -> %.3f, want a rise of at least 0.25", early, late)
	}
}

func TestLowTemperatureEqualsGreedy(t *testing.T) {
	m := mustModel(t, smallConfig(6))
	for _, p := range m.params { // spread the logits apart
		d := p.t.Data().([]float32)
		r := rand.New(rand.NewPCG(6, uint64(p.idx)))
		for i := range d {
			if !hasSuffix(p.name, ".g") {
				d[i] = float32(0.3 * r.NormFloat64())
			}
		}
	}
	prompts := [][]int{{tBOS, 3}, {tBOS, 5, 6, 7}, {tBOS}}
	greedy, err := m.Sample(t.Context(), prompts, SampleOptions{Greedy: true, MaxNew: 8, EOS: -1}, nil)
	if err != nil {
		t.Fatal(err)
	}
	zero, err := m.Sample(t.Context(), prompts, SampleOptions{Temperature: 0, MaxNew: 8, EOS: -1}, nil)
	if err != nil {
		t.Fatal(err)
	}
	cold, err := m.Sample(t.Context(), prompts, SampleOptions{Temperature: 1e-4, MaxNew: 8, EOS: -1}, rand.New(rand.NewPCG(1, 1)))
	if err != nil {
		t.Fatal(err)
	}
	for i := range prompts {
		if !reflect.DeepEqual(greedy[i].Tokens, cold[i].Tokens) || !reflect.DeepEqual(greedy[i].Tokens, zero[i].Tokens) {
			t.Fatalf("prompt %d: greedy %v, T=0 %v, T=1e-4 %v", i, greedy[i].Tokens, zero[i].Tokens, cold[i].Tokens)
		}
	}
	hot, err := m.Sample(t.Context(), prompts, SampleOptions{Temperature: 2, MaxNew: 8, EOS: -1}, rand.New(rand.NewPCG(1, 1)))
	if err != nil {
		t.Fatal(err)
	}
	if reflect.DeepEqual(hot, greedy) {
		t.Fatal("sampling at T=2 gave the greedy sequences")
	}
}

func TestSampleMatchesScoring(t *testing.T) {
	m := mustModel(t, smallConfig(7))
	tr := mustTrainer(t, m, OptimConfig{LR: 3e-3})
	rng := rand.New(rand.NewPCG(2, 3))
	for i := 0; i < 30; i++ {
		if _, err := tr.SFTStep(copyBatch(rng, 8, 4)); err != nil {
			t.Fatal(err)
		}
	}
	prompts := [][]int{{tBOS, 3, 4}, {tBOS}, {tBOS, 5, 6, 7, 8, tSEP}}
	for _, opts := range []SampleOptions{
		{Temperature: 0.7, MaxNew: 9, EOS: tSEP},
		{Temperature: 1.3, TopK: 3, MaxNew: 5, EOS: -1},
	} {
		gens, err := m.Sample(t.Context(), prompts, opts, rng)
		if err != nil {
			t.Fatal(err)
		}
		seqs := make([][]int, len(gens))
		for i, g := range gens {
			seqs[i] = g.Tokens
			if !reflect.DeepEqual(g.Tokens[:g.PromptLen], prompts[i]) {
				t.Fatalf("prompt not kept: %v", g.Tokens)
			}
			resp := g.Response()
			if len(resp) > opts.MaxNew || len(resp) != len(g.LogProbs) {
				t.Fatalf("response %v with %d log-probs, MaxNew %d", resp, len(g.LogProbs), opts.MaxNew)
			}
			for j, v := range resp {
				if v == opts.EOS && j != len(resp)-1 {
					t.Fatalf("generation went on after EOS: %v", resp)
				}
			}
			if g.Finished != (len(resp) > 0 && resp[len(resp)-1] == opts.EOS) {
				t.Fatalf("Finished = %v for %v", g.Finished, resp)
			}
			if !g.Finished && len(resp) != opts.MaxNew {
				t.Fatalf("stopped early without EOS: %v", resp)
			}
		}
		sc, err := m.ScoreTokens(t.Context(), seqs, opts.Temperature)
		if err != nil {
			t.Fatal(err)
		}
		for i, g := range gens {
			for j, lp := range g.LogProbs {
				if d := math.Abs(lp - sc.LogProbs[i][g.PromptLen+j]); d > 1e-4 {
					t.Fatalf("seq %d token %d: sampled log-prob %v, scored %v", i, j, lp, sc.LogProbs[i][g.PromptLen+j])
				}
			}
		}
	}
}

func TestCheckpointRoundTrip(t *testing.T) {
	dir := t.TempDir()
	m := mustModel(t, smallConfig(8))
	tr := mustTrainer(t, m, OptimConfig{LR: 1e-3, WeightDecay: 0.1, Schedule: ScheduleLinear, WarmupSteps: 2, TotalSteps: 50, ClipNorm: 1})
	rng := rand.New(rand.NewPCG(4, 4))
	for i := 0; i < 4; i++ {
		if _, err := tr.SFTStep(copyBatch(rng, 8, 4)); err != nil {
			t.Fatal(err)
		}
	}
	path := filepath.Join(dir, "ckpt", "policy.ckpt")
	if err := tr.Save(path); err != nil {
		t.Fatal(err)
	}
	tr2, err := LoadTrainer(path)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(m.Weights(), tr2.Model().Weights()) || tr2.Steps() != tr.Steps() || tr2.LR() != tr.LR() {
		t.Fatal("loaded trainer differs from the saved one")
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
	if _, err := LoadTrainer(mpath); err == nil {
		t.Fatal("LoadTrainer accepted a model-only checkpoint")
	}
	if err := os.WriteFile(filepath.Join(dir, "bad.ckpt"), []byte("not a checkpoint"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Load(filepath.Join(dir, "bad.ckpt")); err == nil {
		t.Fatal("Load accepted garbage")
	}
	matches, _ := filepath.Glob(filepath.Join(dir, "ckpt", ".*"))
	if len(matches) != 0 {
		t.Fatalf("temporary files left behind: %v", matches)
	}
}

func TestNonFiniteStepChangesNothing(t *testing.T) {
	m := mustModel(t, smallConfig(9))
	tr := mustTrainer(t, m, OptimConfig{LR: 1e-3})
	b := copyBatch(rand.New(rand.NewPCG(1, 1)), 4, 3)
	fresh := mustTrainer(t, m.Copy(), OptimConfig{LR: 1e-3})

	// A NaN in one embedding row poisons the loss of the sequences using it.
	wte := m.byName["wte"].t.Data().([]float32)
	saved := wte[tBOS*32]
	wte[tBOS*32] = float32(math.NaN())
	before := m.Weights()
	if _, err := tr.SFTStep(b); err == nil || !strings.Contains(err.Error(), "update skipped") && !strings.Contains(err.Error(), "not finite") {
		t.Fatalf("SFTStep with a NaN weight: err = %v", err)
	}
	after := m.Weights()
	for name, w := range before {
		for i := range w {
			if w[i] != after[name][i] && !(math.IsNaN(w[i]) && math.IsNaN(after[name][i])) {
				t.Fatalf("%s changed after a failed step", name)
			}
		}
	}
	if tr.Steps() != 0 {
		t.Fatalf("failed step counted: %d", tr.Steps())
	}
	// The failed step leaves no gradient behind: the next step matches a
	// fresh trainer's.
	wte[tBOS*32] = saved
	if _, err := tr.SFTStep(b); err != nil {
		t.Fatal(err)
	}
	if _, err := fresh.SFTStep(b); err != nil {
		t.Fatal(err)
	}
	if tr.LastGradNorm() != fresh.LastGradNorm() {
		t.Fatalf("gradient norm %v after a failed step, fresh trainer %v", tr.LastGradNorm(), fresh.LastGradNorm())
	}
	if !reflect.DeepEqual(m.Weights(), fresh.Model().Weights()) {
		t.Fatal("weights differ from a fresh trainer's after the same step")
	}
}

func TestBadInputs(t *testing.T) {
	m := mustModel(t, smallConfig(10))
	tr := mustTrainer(t, m, OptimConfig{})
	ctx := context.Background()
	long := make([]int, 17)
	tests := []struct {
		name string
		err  func() error
		want string
	}{
		{"empty batch", func() error { _, err := tr.SFTStep(Batch{}); return err }, "empty batch"},
		{"token outside vocab", func() error { _, err := tr.SFTStep(Batch{Seqs: [][]int{{1, 16}}}); return err }, "outside vocabulary"},
		{"too long", func() error { _, err := m.ScoreTokens(ctx, [][]int{long}, 1); return err }, "context is 16"},
		{"empty mask", func() error {
			_, err := tr.SFTStep(Batch{Seqs: [][]int{{1, 2}}, Mask: [][]bool{{true, false}}})
			return err
		}, "selects no token"},
		{"pair out of range", func() error { _, err := tr.ComparisonStep([][]int{{1, 2}}, []Pair{{0, 1, 0, 1}}); return err }, "outside"},
		{"no pairs", func() error { _, err := tr.ComparisonStep([][]int{{1, 2}}, nil); return err }, "no pairs"},
		{"pg without advantages", func() error {
			_, err := tr.PolicyGradientStep(Rollouts{Seqs: [][]int{{1, 2}}, Mask: [][]bool{{false, true}}, OldLogProbs: [][]float64{{0, -1}}}, PGKnobs{})
			return err
		}, "Advantages missing"},
		{"pg bad estimator", func() error { _, err := tr.PolicyGradientStep(Rollouts{}, PGKnobs{KLEstimator: "k2"}); return err }, "estimator"},
		{"sample empty prompt", func() error {
			_, err := m.Sample(ctx, [][]int{{}}, SampleOptions{MaxNew: 2}, rand.New(rand.NewPCG(1, 1)))
			return err
		}, "empty"},
		{"sample nil rng", func() error {
			_, err := m.Sample(ctx, [][]int{{1}}, SampleOptions{Temperature: 1, MaxNew: 2}, nil)
			return err
		}, "rng"},
		{"bad schedule", func() error { _, err := NewTrainer(m, OptimConfig{Schedule: "step"}); return err }, "schedule"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.err()
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want one containing %q", err, tc.want)
			}
		})
	}
}

func TestLRSchedule(t *testing.T) {
	tests := []struct {
		cfg  OptimConfig
		step int
		want float64
	}{
		{OptimConfig{LR: 1}, 0, 1},
		{OptimConfig{LR: 1, WarmupSteps: 4}, 0, 0.25},
		{OptimConfig{LR: 1, WarmupSteps: 4}, 3, 1},
		{OptimConfig{LR: 1, Schedule: ScheduleLinear, WarmupSteps: 2, TotalSteps: 12}, 7, 0.5},
		{OptimConfig{LR: 1, Schedule: ScheduleLinear, TotalSteps: 10, MinLRFrac: 0.1}, 10, 0.1},
		{OptimConfig{LR: 1, Schedule: ScheduleLinear, TotalSteps: 10}, 50, 0},
		{OptimConfig{LR: 2, Schedule: ScheduleCosine, TotalSteps: 10}, 5, 1},
	}
	for _, tc := range tests {
		if got := tc.cfg.WithDefaults().LRAt(tc.step); math.Abs(got-tc.want) > 1e-12 {
			t.Errorf("%+v step %d: lr %v, want %v", tc.cfg, tc.step, got, tc.want)
		}
	}
}

func TestCopyIsIndependent(t *testing.T) {
	m := mustModel(t, smallConfig(11))
	c := m.Copy()
	tr := mustTrainer(t, m, OptimConfig{LR: 1e-2})
	if _, err := tr.SFTStep(copyBatch(rand.New(rand.NewPCG(1, 1)), 4, 3)); err != nil {
		t.Fatal(err)
	}
	if reflect.DeepEqual(m.Weights(), c.Weights()) {
		t.Fatal("training the original changed nothing or also changed the copy")
	}
	if !reflect.DeepEqual(c.Weights(), mustModel(t, smallConfig(11)).Weights()) {
		t.Fatal("the copy changed")
	}
}

func TestConcurrentScoringAndSampling(t *testing.T) {
	m := mustModel(t, smallConfig(12))
	seqs := [][]int{{1, 2, 3}, {1, 4}}
	want, err := m.ScoreTokens(t.Context(), seqs, 1)
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 8)
	for i := 0; i < 8; i++ {
		go func(i int) {
			if i%2 == 0 {
				got, err := m.ScoreTokens(context.Background(), seqs, 1)
				if err == nil && !reflect.DeepEqual(got, want) {
					err = errors.New("scores differ under concurrency")
				}
				done <- err
				return
			}
			_, err := m.Sample(context.Background(), seqs, SampleOptions{Temperature: 1, MaxNew: 4, EOS: -1}, rand.New(rand.NewPCG(uint64(i), 1)))
			done <- err
		}(i)
	}
	for i := 0; i < 8; i++ {
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	}
}

// TestAdamWStep checks one update against the formulas: the gradient is
// clipped to norm 1, Adam's first step moves each weight by lr·sign(g), and
// decoupled weight decay applies to matrices only.
func TestAdamWStep(t *testing.T) {
	mat := &param{name: "w", shape: []int{1, 2}, decay: true, t: tensorOf([]float32{1, 2})}
	vec := &param{name: "b", shape: []int{2}, idx: 1, t: tensorOf([]float32{1, 2})}
	params := []*param{mat, vec}
	cfg := OptimConfig{LR: 0.1, WeightDecay: 0.5, ClipNorm: 1}.WithDefaults()
	o := newAdamW(cfg, params)
	g := tensorOf([]float32{3, 0})
	g2 := tensorOf([]float32{0, -4})
	norm, err := gradNorm([]tensor.Tensor{g, g2})
	if err != nil || norm != 5 {
		t.Fatalf("gradNorm = %v, %v; want 5", norm, err)
	}
	o.update(params, []tensor.Tensor{g, g2}, norm)
	w := mat.t.Data().([]float32)
	b := vec.t.Data().([]float32)
	// w: 1 − 0.1·(1 + 0.5·1) = 0.85; 2 − 0.1·(0 + 0.5·2) = 1.9 (zero gradient: no Adam move).
	// b: no decay: 1 − 0 = 1; 2 − 0.1·(−1) = 2.1.
	want := []float32{0.85, 1.9, 1, 2.1}
	got := []float32{w[0], w[1], b[0], b[1]}
	for i := range want {
		if math.Abs(float64(got[i]-want[i])) > 1e-6 {
			t.Fatalf("after one step: %v, want %v", got, want)
		}
	}
	// m holds the clipped gradient: (1−β1)·0.2·g (float32 moments by
	// default).
	if math.Abs(o.m[0].at(0)-0.1*0.6) > 1e-8 || math.Abs(o.m[1].at(1)-0.1*-0.8) > 1e-8 || o.m[0].f32 == nil {
		t.Fatalf("first moments %v %v", o.m[0], o.m[1])
	}
	if _, err := gradNorm([]tensor.Tensor{tensorOf([]float32{float32(math.Inf(1))})}); err == nil {
		t.Fatal("gradNorm accepted an infinite gradient")
	}
}

func tensorOf(v []float32) tensor.Tensor {
	return tensor.New(tensor.WithShape(len(v)), tensor.WithBacking(v))
}

func TestHeadsStartAtZero(t *testing.T) {
	m := mustModel(t, smallConfig(13))
	seqs := [][]int{{1, 5, 6, 7}, {1, 9}}
	sc, err := m.ScoreTokens(t.Context(), seqs, 1)
	if err != nil {
		t.Fatal(err)
	}
	r, err := m.Rewards(t.Context(), seqs)
	if err != nil {
		t.Fatal(err)
	}
	for i, s := range seqs {
		for j := range s {
			if sc.Values[i][j] != 0 {
				t.Fatalf("value head not zero at init: %v", sc.Values[i])
			}
		}
		if r[i] != 0 {
			t.Fatalf("reward head not zero at init: %v", r)
		}
		for j := 1; j < len(s); j++ {
			if lp := sc.LogProbs[i][j]; lp > 0 || lp < -2*math.Log(16) {
				t.Fatalf("log-prob %v far from uniform at init", lp)
			}
		}
	}
}

// TestPrefillMatchesTokenByToken samples long prompts (one full-sequence
// prefill pass, then incremental decoding) and checks the result against
// decoding the prompts token by token and against teacher-forced scoring.
func TestPrefillMatchesTokenByToken(t *testing.T) {
	m := mustModel(t, Config{Vocab: 16, Context: 40, DModel: 32, Layers: 2, Heads: 4, Seed: 14})
	randomizeWeights32(m, 14)
	rng := rand.New(rand.NewPCG(5, 5))
	prompts := randSeqs(rng, 20, 17, 30, 16)
	opts := SampleOptions{Temperature: 0.8, MaxNew: 7, EOS: -1}
	fast, err := m.Sample(t.Context(), prompts, opts, rand.New(rand.NewPCG(1, 1)))
	if err != nil {
		t.Fatal(err)
	}
	m.noPrefill = true
	slow, err := m.Sample(t.Context(), prompts, opts, rand.New(rand.NewPCG(1, 1)))
	if err != nil {
		t.Fatal(err)
	}
	m.noPrefill = false
	seqs := make([][]int, len(fast))
	for i := range fast {
		if !reflect.DeepEqual(fast[i].Tokens, slow[i].Tokens) {
			t.Fatalf("row %d: prefill %v, token by token %v", i, fast[i].Tokens, slow[i].Tokens)
		}
		for j := range fast[i].LogProbs {
			if math.Abs(fast[i].LogProbs[j]-slow[i].LogProbs[j]) > 1e-4 {
				t.Fatalf("row %d: log-probs %v vs %v", i, fast[i].LogProbs, slow[i].LogProbs)
			}
		}
		seqs[i] = fast[i].Tokens
	}
	sc, err := m.ScoreTokens(t.Context(), seqs, opts.Temperature)
	if err != nil {
		t.Fatal(err)
	}
	for i, g := range fast {
		for j, lp := range g.LogProbs {
			if math.Abs(lp-sc.LogProbs[i][g.PromptLen+j]) > 1e-4 {
				t.Fatalf("row %d token %d: sampled %v, scored %v", i, j, lp, sc.LogProbs[i][g.PromptLen+j])
			}
		}
	}
}

// randomizeWeights32 spreads a float32 model's weights so that its
// distributions are far from uniform.
func randomizeWeights32(m *Model, seed uint64) {
	rng := rand.New(rand.NewPCG(seed, 3))
	for _, p := range m.params {
		d := p.t.Data().([]float32)
		for i := range d {
			if hasSuffix(p.name, ".g") {
				d[i] = float32(1 + 0.2*rng.NormFloat64())
			} else {
				d[i] = float32(0.2 * rng.NormFloat64())
			}
		}
	}
}

// TestManyShapes cycles through more batch shapes than the graph caches
// hold, so graphs are evicted and rebuilt, and checks that results do not
// depend on which graph ran.
func TestManyShapes(t *testing.T) {
	m := mustModel(t, Config{Vocab: 16, Context: 48, DModel: 16, Layers: 1, Heads: 2, Seed: 15})
	tr := mustTrainer(t, m, OptimConfig{LR: 1e-3})
	rng := rand.New(rand.NewPCG(7, 7))
	probe := [][]int{{1, 2, 3, 4, 5}}
	want, err := m.ScoreTokens(t.Context(), probe, 1)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 24; i++ {
		n, l := 1+i%5, 2+(i*7)%46
		seqs := randSeqs(rng, n, l, l, 16)
		got, err := m.ScoreTokens(t.Context(), append(seqs, probe[0]), 1)
		if err != nil {
			t.Fatal(err)
		}
		for j, v := range want.LogProbs[0] {
			if math.Abs(got.LogProbs[n][j]-v) > 1e-5 {
				t.Fatalf("shape %d×%d: probe log-probs %v, want %v", n+1, l, got.LogProbs[n], want.LogProbs[0])
			}
		}
		if _, err := m.Sample(t.Context(), seqs, SampleOptions{Temperature: 1, MaxNew: 3, EOS: -1}, rng); err != nil {
			t.Fatal(err)
		}
	}
	for i := 0; i < 20; i++ {
		l := 2 + (i*5)%46
		if loss, err := tr.SFTStep(Batch{Seqs: randSeqs(rng, 1+i%4, l, l, 16)}); err != nil || math.IsNaN(loss) {
			t.Fatalf("step %d: loss %v, err %v", i, loss, err)
		}
	}
	if len(tr.graphs.m) > tr.graphs.max || len(m.eval.m) > m.eval.max {
		t.Fatalf("caches hold %d and %d graphs", len(tr.graphs.m), len(m.eval.m))
	}
}

func TestSampleStopsOnCancel(t *testing.T) {
	m := mustModel(t, smallConfig(16))
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if _, err := m.Sample(ctx, [][]int{{1}}, SampleOptions{Temperature: 1, MaxNew: 5, EOS: -1}, rand.New(rand.NewPCG(1, 1))); !errors.Is(err, context.Canceled) {
		t.Fatalf("Sample on a cancelled context: %v", err)
	}
	if _, err := m.ScoreTokens(ctx, [][]int{{1, 2}}, 1); !errors.Is(err, context.Canceled) {
		t.Fatalf("ScoreTokens on a cancelled context: %v", err)
	}
}
