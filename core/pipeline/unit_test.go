package pipeline

import (
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/pit-lab/pit/core/model"
	"github.com/pit-lab/pit/core/nn"
	"github.com/pit-lab/pit/core/results"
	"github.com/pit-lab/pit/core/rl"
	"github.com/pit-lab/pit/core/runner"
	"github.com/pit-lab/pit/core/task/synth"
	"github.com/pit-lab/pit/plugins/sdk"
)

var update = flag.Bool("update", false, "rewrite golden files")

func TestVerdict(t *testing.T) {
	tests := []struct {
		diff, eps float64
		want      int
	}{
		{0.05, 0.01, 1}, {-0.05, 0.01, -1}, {0.005, 0.01, 0}, {-0.009, 0.01, 0},
		{0, 0, 0}, {1e-12, 0, 1}, {-1e-12, 0, -1}, {0.01, 0.01, 1},
	}
	for _, tt := range tests {
		if got := verdict(tt.diff, tt.eps); got != tt.want {
			t.Errorf("verdict(%v, %v) = %d, want %d", tt.diff, tt.eps, got, tt.want)
		}
	}
}

func TestMethodName(t *testing.T) {
	for reward, want := range map[string]string{"pit-gap": "pit", "rubric": "rubric", "reward-difference": "pit-reward-difference", "oracle": "pit-oracle"} {
		if got := methodName(reward); got != want {
			t.Errorf("methodName(%q) = %q, want %q", reward, got, want)
		}
	}
}

func TestModelService(t *testing.T) {
	ctx := context.Background()
	task, err := synth.New(synth.DefaultSettings())
	if err != nil {
		t.Fatal(err)
	}
	x := synth.Prompt{Include: "ab", Exclude: "z", Length: 4}
	y := synth.MustLetters("abca")
	ref := synth.MustLetters("zzz")
	items := []sdk.Input{
		{Prompt: model.Int32s(x.Tokens()), Response: model.Int32s(y)},
		{Prompt: append([]int32{synth.BOS}, model.Int32s(x.Tokens())...), Response: model.Int32s(y)}, // a leading BOS is allowed
		{Prompt: model.Int32s(x.Tokens()), Reference: model.Int32s(ref), Response: model.Int32s(y)},
	}
	svc := NewModelService(task, nil)
	q, err := svc.Score(ctx, sdk.ModelOracle, items)
	if err != nil {
		t.Fatal(err)
	}
	rb, err := svc.Score(ctx, sdk.ModelRubric, items)
	if err != nil {
		t.Fatal(err)
	}
	sc := task.Score(x, y)
	for i := range items {
		if q[i] != sc.Oracle || rb[i] != sc.Rubric {
			t.Errorf("item %d: oracle %v rubric %v, want %v %v", i, q[i], rb[i], sc.Oracle, sc.Rubric)
		}
	}
	if _, err := svc.Score(ctx, sdk.ModelReward, items); err == nil {
		t.Error("reward without a model: no error")
	}
	if _, err := svc.Score(ctx, "judge", items); err == nil || !strings.Contains(err.Error(), "unknown model") {
		t.Errorf("unknown model: %v", err)
	}

	cfg := nn.Config{Vocab: synth.VocabSize, Context: 48, DModel: 16, Layers: 1, Heads: 2, PadID: synth.PAD, Seed: 7}
	m, err := nn.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	svc.SetReward(m)
	r, err := svc.Score(ctx, sdk.ModelReward, items)
	if err != nil {
		t.Fatal(err)
	}
	want, err := m.Rewards(ctx, [][]int{
		synth.PolicyExample(x.Tokens(), y).Tokens,
		synth.PolicyExample(x.Tokens(), y).Tokens,
		synth.ImproverExample(x.Tokens(), ref, y).Tokens,
	})
	if err != nil {
		t.Fatal(err)
	}
	for i := range want {
		if r[i] != want[i] {
			t.Errorf("reward %d = %v, want %v (the layout the model service uses differs)", i, r[i], want[i])
		}
	}
	long := sdk.Input{Prompt: model.Int32s(x.Tokens()), Reference: make([]int32, 40), Response: model.Int32s(y)}
	if _, err := svc.Score(ctx, sdk.ModelReward, []sdk.Input{long}); err == nil {
		t.Error("an input longer than the context: no error")
	}
}

func TestPicker(t *testing.T) {
	p := newPicker(7, runner.NewRand(1))
	for epoch := 0; epoch < 3; epoch++ {
		seen := map[int]bool{}
		for i := 0; i < 7; i++ {
			seen[p.next()] = true
		}
		if len(seen) != 7 {
			t.Errorf("epoch %d drew %d distinct indices of 7", epoch, len(seen))
		}
	}
}

// TestReferences checks that a step's references follow the curriculum's
// plan: the counts per source, data references from the RL pairs, policy
// references sampled from M_P^RL, and self references falling back to
// policy ones before the improver has written anything.
func TestReferences(t *testing.T) {
	ctx := context.Background()
	s := synth.DefaultSettings()
	s.Splits = synth.SplitSettings{SFT: 10, RM: 10, RL: 20, Eval: 5, RMEval: 5}
	d, err := synth.Build(ctx, s, 1)
	if err != nil {
		t.Fatal(err)
	}
	task, _ := synth.New(s)
	m, err := nn.New(nn.Config{Vocab: synth.VocabSize, Context: 48, DModel: 16, Layers: 1, Heads: 2, PadID: synth.PAD, Seed: 3})
	if err != nil {
		t.Fatal(err)
	}
	c := &runner.Context{Context: ctx, Stage: "pit_rl"}
	st := &pitState{c: c, s: defaultPITRL(), d: d, task: task, loop: &rl.Loop{MaxResp: s.MaxResponse}, policy: m,
		pick: newPicker(len(d.RL), runner.NewRand(2)), rng: runner.NewRand(3)}
	st.s.Prompts = 8
	plan := &sdk.NextResponse{Counts: map[sdk.Source]int{sdk.SourceDataRejected: 2, sdk.SourceDataChosen: 1, sdk.SourcePolicy: 2, sdk.SourceSelf: 3}}
	qs, srcs, err := st.references(1, plan)
	if err != nil {
		t.Fatal(err)
	}
	count := map[sdk.Source]int{}
	for i, q := range qs {
		count[srcs[i]]++
		if len(q.Ref) == 0 {
			t.Errorf("reference %d (%s) is empty", i, srcs[i])
		}
		if srcs[i] == sdk.SourceDataRejected || srcs[i] == sdk.SourceDataChosen {
			found := false
			for _, p := range d.RL {
				if p.Prompt == q.Prompt && (slices.Equal(q.Ref, p.Rejected) && srcs[i] == sdk.SourceDataRejected || slices.Equal(q.Ref, p.Chosen) && srcs[i] == sdk.SourceDataChosen) {
					found = true
				}
			}
			if !found {
				t.Errorf("data reference %d is not the %s of an RL pair", i, srcs[i])
			}
		}
	}
	want := map[sdk.Source]int{sdk.SourceDataRejected: 2, sdk.SourceDataChosen: 1, sdk.SourcePolicy: 5}
	for src, n := range want {
		if count[src] != n {
			t.Errorf("%s: %d references, want %d (counts %v)", src, count[src], n, count)
		}
	}
	// With earlier outputs, self references come from them.
	st.self = []rl.Query{{Prompt: d.RL[0].Prompt, Ref: synth.MustLetters("abc")}}
	qs, srcs, err = st.references(2, plan)
	if err != nil {
		t.Fatal(err)
	}
	for i := range qs {
		if srcs[i] == sdk.SourceSelf && !slices.Equal(qs[i].Ref, synth.MustLetters("abc")) {
			t.Errorf("self reference %v is not the improver's output", qs[i].Ref)
		}
	}
	if _, _, err := st.references(3, &sdk.NextResponse{Counts: map[sdk.Source]int{sdk.SourcePolicy: 3}}); err == nil {
		t.Error("counts that do not sum to the batch size: no error")
	}
	// Probabilities are sampled: all mass on data_chosen gives only those.
	qs, srcs, err = st.references(4, &sdk.NextResponse{Probs: map[sdk.Source]float64{sdk.SourceDataChosen: 1}})
	if err != nil || len(qs) != 8 {
		t.Fatalf("probabilities: %d references, %v", len(qs), err)
	}
	for _, src := range srcs {
		if src != sdk.SourceDataChosen {
			t.Errorf("source %s with all probability on data_chosen", src)
		}
	}
}

func TestFormatTableGolden(t *testing.T) {
	rows := []results.EvalRow{
		{Method: MethodPIT, Iteration: 0, Judge: JudgeOracle, Temperature: 0.4, N: 10, Tie: 1, MeanOracle: 0.8},
		{Method: MethodPIT, Iteration: 0, Judge: JudgeBT, Temperature: 0.4, N: 10, Tie: 1, MeanOracle: 0.8},
		{Method: MethodPIT, Iteration: 1, Judge: JudgeOracle, Temperature: 0.4, N: 10, Win: 0.5, Tie: 0.2, Lose: 0.3, Delta: 20, MeanOracle: 0.82, CopyRate: 0.1,
			Prompts: 5, Draws: 2, DeltaCI: &results.CI{Point: 20, Lo: -10, Hi: 50}, VsNull: &results.CI{Point: 20, Lo: -20.5, Hi: 60}},
		{Method: MethodPIT, Iteration: 1, Judge: JudgeBT, Temperature: 0.4, N: 10, Win: 0.4, Tie: 0, Lose: 0.6, Delta: -20, MeanOracle: 0.82, CopyRate: 0.1},
		{Method: MethodNull, Iteration: 1, Judge: JudgeOracle, Temperature: 0.4, N: 10, Win: 0.3, Tie: 0.4, Lose: 0.3, MeanOracle: 0.8},
		{Method: MethodBestOfN, Iteration: 1, Judge: JudgeBT, Temperature: 0.4, N: 10, Win: 0.6, Tie: 0.4, Delta: 60, MeanOracle: 0.81},
		{Method: MethodOracleBestOf + "4", Iteration: 1, Judge: JudgeOracle, Temperature: 0.4, N: 10, Win: 0.7, Tie: 0.3, Delta: 70, MeanOracle: 0.9,
			DeltaCI: &results.CI{Point: 70, Lo: 40, Hi: 90}},
		{Method: MethodPIT, Iteration: 1, Judge: JudgeOracle, Temperature: 1, N: 10, Win: 0.1, Tie: 0.1, Lose: 0.8, Delta: -70, MeanOracle: 0.6},
	}
	got := FormatTable(rows, map[string]float64{"order_wl>ww": 0.7, "order_all": 0.3, "mean_abs_ww_ll": 0.25})
	path := filepath.Join("testdata", "table.golden")
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if got != string(want) {
		t.Errorf("table differs from %s:\n%s\nwant:\n%s", path, got, want)
	}
}

func TestSettingsValidate(t *testing.T) {
	bad := []interface{ Validate() error }{
		&SFTSettings{Steps: 0, BatchSize: 1, LR: 1, Schedule: "constant"},
		&SFTSettings{Steps: 10, BatchSize: 1, LR: 1, Schedule: "cosine", Warmup: 10},
		&RMSettings{Steps: 10, BatchSize: 0, LR: 1, Schedule: "constant"},
		&RLSettings{Steps: 1, Prompts: 1, LR: 1, Temperature: 0, HackWindow: 1},
		&EvalSettings{Temperatures: nil, Iterations: 1, BestOfN: 2},
		&EvalSettings{Temperatures: []float64{0.4}, Iterations: 1, BestOfN: 1},
		&model.Settings{DModel: 30, Layers: 1, Heads: 4},
	}
	for i, s := range bad {
		if err := s.Validate(); err == nil {
			t.Errorf("%d: %+v validated", i, s)
		}
	}
	good := []interface{ Validate() error }{defaultSFT(), defaultRM(), defaultPITRL(), defaultEval(), func() *model.Settings { m := model.DefaultSettings(); return &m }()}
	for i, s := range good {
		if err := s.Validate(); err != nil {
			t.Errorf("default %d: %v", i, err)
		}
	}
}

// TestPrintReportGrid writes a fake grid of two arms × two seeds and checks
// the report's per-arm means and the summary CSV.
func TestPrintReportGrid(t *testing.T) {
	dir := t.TempDir()
	for _, arm := range []string{"curriculum=two-round", "curriculum=round1-only"} {
		for seed := int64(1); seed <= 2; seed++ {
			run := arm + "/seed=" + strconv.FormatInt(seed, 10)
			rd := filepath.Join(dir, filepath.FromSlash(run))
			m := results.Manifest{Experiment: "x", Run: run, Arm: arm, Seed: seed, Baseline: arm == "curriculum=two-round",
				Factors: map[string]any{"curriculum": strings.TrimPrefix(arm, "curriculum=")}, Status: results.StatusDone}
			if err := results.WriteJSON(filepath.Join(rd, results.ManifestFile), m); err != nil {
				t.Fatal(err)
			}
			d := float64(10 * seed)
			if !m.Baseline {
				d = -d
			}
			rows := []results.EvalRow{
				{Method: MethodPIT, Judge: JudgeOracle, Temperature: 0.4, N: 4, Tie: 1, MeanOracle: 0.8},
				{Method: MethodPIT, Iteration: 1, Judge: JudgeOracle, Temperature: 0.4, N: 4, Win: 0.5, Lose: 0.5 - d/100, Tie: d / 100, Delta: d, MeanOracle: 0.8},
				{Method: MethodPIT, Iteration: 1, Judge: JudgeBT, Temperature: 0.4, N: 4, Win: 0.5, Lose: 0.5, Delta: 0, MeanOracle: 0.8},
			}
			if err := results.WriteJSONL(filepath.Join(rd, results.EvalFile), rows); err != nil {
				t.Fatal(err)
			}
			if err := results.WriteFileAtomic(filepath.Join(rd, results.MetricsFile), []byte(`{"stage":"sft","step":1,"metric":"loss","value":1}`+"\n")); err != nil {
				t.Fatal(err)
			}
		}
	}
	var b strings.Builder
	if err := PrintReport(&b, dir); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	t.Log(out)
	if i, j := strings.Index(out, "two-round (baseline)"), strings.Index(out, "round1-only, 2"); i < 0 || j < i {
		t.Errorf("the baseline arm is not listed first")
	}
	for _, want := range []string{"curriculum=two-round (baseline), 2 seed(s)", "+15.0", "-15.0", "curriculum=round1-only, 2 seed(s)"} {
		if !strings.Contains(out, want) {
			t.Errorf("report lacks %q", want)
		}
	}
}

func TestEarlyStop(t *testing.T) {
	for _, tc := range []struct {
		name      string
		threshold float64
		corrs     []float64
		want      bool
	}{
		{"off", 0, []float64{-1, -1, -1}, false},
		{"window not full", 0.1, []float64{-1, -1}, false},
		{"tracks", 0.1, []float64{-1, 0.3, 0.2, 0.1}, false},
		{"stopped tracking", 0.1, []float64{0.5, 0.1, 0.05, 0.0}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var warned string
			st := &pitState{s: &PITRLSettings{RLSettings: RLSettings{HackWindow: 3, Steps: 10}, EarlyStopCorr: tc.threshold},
				loop: loopWithCorrs(tc.corrs, func(f string, a ...any) { warned = fmt.Sprintf(f, a...) })}
			if got := st.earlyStop(len(tc.corrs)); got != tc.want {
				t.Errorf("earlyStop = %v, want %v", got, tc.want)
			}
			if tc.want && !strings.Contains(warned, "early stop at step 4 of 10") {
				t.Errorf("warning %q", warned)
			}
		})
	}
}

// loopWithCorrs is an RL loop whose hacking alarm has observed the given
// batch correlations (and nothing else that could fire it).
func loopWithCorrs(corrs []float64, warn func(string, ...any)) *rl.Loop {
	l := &rl.Loop{Warn: warn}
	for i, c := range corrs {
		l.Hack.Observe(i+1, 1, 0.5, c)
	}
	return l
}
