package prefstage

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"path/filepath"
	"slices"
	"strings"

	"github.com/pit-lab/pit/core/experiment"
	"github.com/pit-lab/pit/core/model"
	"github.com/pit-lab/pit/core/nn"
	"github.com/pit-lab/pit/core/results"
	"github.com/pit-lab/pit/core/runner"
	"github.com/pit-lab/pit/core/task/pref"
	"github.com/pit-lab/pit/internal/atomicfile"
)

// What pref_eval publishes: the report (EvalReport) and its table.
const (
	EvalFile  = "pref_eval.json"
	EvalTable = "pref_eval.md"
)

// EvalSettings configure pref_eval.
type EvalSettings struct {
	Prompts     int     `toml:"prompts"`     // held-out prompts: the eval split's first N (0: all)
	Draws       int     `toml:"draws"`       // answers y_0 of the policy per prompt
	Temperature float64 `toml:"temperature"` // sampling temperature of y_0 and of the improvers
	EvalBatch   int     `toml:"eval_batch"`  // sequences a judge scores per forward pass
	Resamples   int     `toml:"resamples"`   // bootstrap resamples of the CIs
}

// DefaultEvalSettings: 64 prompts, 4 draws each, temperature 0.7.
func DefaultEvalSettings() EvalSettings {
	return EvalSettings{Prompts: 64, Draws: 4, Temperature: 0.7, EvalBatch: 64, Resamples: 2000}
}

// Validate reports bad settings.
func (s *EvalSettings) Validate() error {
	var errs []error
	bad := func(key, format string, args ...any) {
		errs = append(errs, &experiment.FieldError{Key: key, Msg: fmt.Sprintf(format, args...)})
	}
	if s.Prompts < 0 {
		bad("prompts", "must be ≥ 0 (got %d)", s.Prompts)
	}
	if s.Draws < 1 {
		bad("draws", "must be at least 1 (got %d)", s.Draws)
	}
	if !(s.Temperature > 0) {
		bad("temperature", "must be > 0 (got %v)", s.Temperature)
	}
	if s.EvalBatch < 1 {
		bad("eval_batch", "must be at least 1 (got %d)", s.EvalBatch)
	}
	if s.Resamples < 1 {
		bad("resamples", "must be at least 1 (got %d)", s.Resamples)
	}
	return errors.Join(errs...)
}

// Judged is how one judge rates one improver's rewrites y_1 of the
// policy's answers y_0.
type Judged struct {
	// Gain is the judge's improvement score of y_1 over y_0, averaged
	// over a prompt's draws, with a bootstrap CI over prompts: r(x, y_1)
	// − r(x, y_0) for a Bradley–Terry judge, g(x, y_0 → y_1) − g(x, y_1 →
	// y_0) for a reference-conditioned one. Leaving y_0 unchanged scores
	// exactly 0 under both, so the null improver is 0.
	Gain Interval `json:"gain"`
	// WinRate is the share of draws the judge rates above y_0 (ties ½).
	WinRate Interval `json:"win_rate"`
}

// JudgeInfo says what a judge is.
type JudgeInfo struct {
	Stage                string   `json:"stage"`
	Plugin               string   `json:"plugin"`
	ReferenceConditioned bool     `json:"reference_conditioned"`
	HeldOutAccuracy      Interval `json:"heldout_accuracy"` // on the split it did not train on
}

// EvalReport is pref_eval.json.
type EvalReport struct {
	Prompts     int                  `json:"prompts"`
	Draws       int                  `json:"draws"`
	Temperature float64              `json:"temperature"`
	Judges      map[string]JudgeInfo `json:"judges"` // "rm" (the RL reward's model), "judge" (held out)
	// Improvers maps "pit_rl" (the RL improver) and "pit_sft" (its SFT
	// start, no RL) to each judge's verdict.
	Improvers map[string]map[string]Judged `json:"improvers"`
	// RLOverSFT is the paired difference of the two improvers' gains, per
	// judge: what RL added.
	RLOverSFT map[string]Interval `json:"rl_over_sft"`
	// Length is the mean length in tokens of y_0 ("policy") and of each
	// improver's y_1: a reward model's taste for length shows here.
	Length map[string]float64 `json:"length"`
}

// judge is a reward model used to rate rewrites.
type judge struct {
	name string
	info JudgeInfo
	m    *nn.Model
}

// gains rates each y1 against its y0 (see Judged.Gain).
func (j judge) gains(ctx context.Context, v pref.Vocab, xs, y0, y1 [][]int, batch int) ([]float64, error) {
	var seqs [][]int
	for i := range xs {
		if j.info.ReferenceConditioned {
			seqs = append(seqs, v.LayoutGap(xs[i], y0[i], y1[i]), v.LayoutGap(xs[i], y1[i], y0[i]))
		} else {
			seqs = append(seqs, v.Layout(xs[i], y1[i]), v.Layout(xs[i], y0[i]))
		}
	}
	r := make([]float64, 0, len(seqs))
	for i := 0; i < len(seqs); i += batch {
		part, err := j.m.Rewards(ctx, seqs[i:min(i+batch, len(seqs))])
		if err != nil {
			return nil, fmt.Errorf("judge %s: %w", j.name, err)
		}
		r = append(r, part...)
	}
	out := make([]float64, len(xs))
	for i := range out {
		out[i] = r[2*i] - r[2*i+1]
	}
	return out, nil
}

func runEval(c *runner.Context) error {
	s := c.Settings.(*EvalSettings)
	d, err := readDataset(c)
	if err != nil {
		return err
	}
	ex := d.Eval.Examples
	if s.Prompts > 0 && s.Prompts < len(ex) {
		ex = ex[:s.Prompts]
	}
	policy, err := loadStageModel(c, "pref_sft")
	if err != nil {
		return err
	}
	improvers := map[string]*nn.Model{}
	for name, stage := range map[string]string{"pit_rl": "pref_pit_rl", "pit_sft": "pref_pit_sft"} {
		if improvers[name], err = loadStageModel(c, stage); err != nil {
			return err
		}
	}
	var judges []judge
	for _, j := range []struct{ name, stage string }{{"rm", "pref_rm"}, {"judge", "pref_judge"}} {
		rep, err := readRMReport(c, j.stage)
		if err != nil {
			return err
		}
		m, err := loadStageModel(c, j.stage)
		if err != nil {
			return err
		}
		judges = append(judges, judge{name: j.name, m: m, info: JudgeInfo{Stage: j.stage, Plugin: rep.Plugin, ReferenceConditioned: rep.ReferenceConditioned, HeldOutAccuracy: rep.Accuracy}})
	}

	v, maxResp := d.Vocab, d.Settings.MaxResponseBytes
	var xs, prefixes [][]int
	var group []int // per draw: its prompt
	for i, e := range ex {
		for range s.Draws {
			xs = append(xs, e.Prompt)
			prefixes = append(prefixes, v.Prefix(e.Prompt, nil))
			group = append(group, i)
		}
	}
	sample := func(m *nn.Model, prefixes [][]int, stream string) ([][]int, error) {
		smp, err := model.Sample(c, m, prefixes, s.Temperature, maxResp, v.EOS, v.Cut, c.Rand(stream))
		if err != nil {
			return nil, fmt.Errorf("%s: %w", stream, err)
		}
		out := make([][]int, len(smp))
		for i, x := range smp {
			out[i] = x.Resp
		}
		return out, nil
	}
	y0, err := sample(policy, prefixes, "policy")
	if err != nil {
		return err
	}
	rep := EvalReport{Prompts: len(ex), Draws: s.Draws, Temperature: s.Temperature, Judges: map[string]JudgeInfo{},
		Improvers: map[string]map[string]Judged{}, RLOverSFT: map[string]Interval{}, Length: map[string]float64{"policy": meanLen(y0)}}
	for _, j := range judges {
		rep.Judges[j.name] = j.info
	}
	seed := c.Seed("bootstrap")
	perPrompt := func(xs []float64) []float64 {
		sum, n := make([]float64, len(ex)), make([]float64, len(ex))
		for i, x := range xs {
			sum[group[i]] += x
			n[group[i]]++
		}
		for i := range sum {
			sum[i] /= n[i]
		}
		return sum
	}
	gains := map[string]map[string][]float64{}
	for _, name := range []string{"pit_rl", "pit_sft"} {
		imp := make([][]int, len(xs))
		for i := range xs {
			imp[i] = v.Prefix(xs[i], y0[i])
		}
		y1, err := sample(improvers[name], imp, name)
		if err != nil {
			return err
		}
		rep.Length[name] = meanLen(y1)
		rep.Improvers[name] = map[string]Judged{}
		gains[name] = map[string][]float64{}
		for _, j := range judges {
			g, err := j.gains(c, v, xs, y0, y1, s.EvalBatch)
			if err != nil {
				return err
			}
			wins := make([]float64, len(g))
			for i, x := range g {
				wins[i] = indicator(x > 0) + 0.5*indicator(x == 0)
			}
			var jd Judged
			if jd.Gain, err = ci(perPrompt(g), seed, s.Resamples); err != nil {
				return err
			}
			if jd.WinRate, err = ci(perPrompt(wins), seed, s.Resamples); err != nil {
				return err
			}
			rep.Improvers[name][j.name] = jd
			gains[name][j.name] = g
			if err := c.Metric(0, fmt.Sprintf("%s/%s/gain", name, j.name), jd.Gain.Point); err != nil {
				return err
			}
		}
	}
	for _, j := range judges {
		diff := make([]float64, len(xs))
		for i := range diff {
			diff[i] = gains["pit_rl"][j.name][i] - gains["pit_sft"][j.name][i]
		}
		if rep.RLOverSFT[j.name], err = ci(perPrompt(diff), seed, s.Resamples); err != nil {
			return err
		}
	}
	c.Log.Info("improvement", "pit_rl/rm", rep.Improvers["pit_rl"]["rm"].Gain.String(), "pit_rl/judge", rep.Improvers["pit_rl"]["judge"].Gain.String(),
		"pit_sft/judge", rep.Improvers["pit_sft"]["judge"].Gain.String(), "rl_over_sft/judge", rep.RLOverSFT["judge"].String())
	if err := results.WriteJSON(filepath.Join(c.Out, EvalFile), rep); err != nil {
		return err
	}
	return atomicfile.Write(filepath.Join(c.Out, EvalTable), []byte(rep.Table()))
}

// Table renders the report as a Markdown table: each improver's gain and
// win rate under each judge, what RL added, and the response lengths.
func (r *EvalReport) Table() string {
	var b strings.Builder
	fmt.Fprintf(&b, "Rewrites y_1 of the policy's answers y_0 on %d held-out prompts (%d draws each, temperature %g); 95%% bootstrap intervals over prompts. ", r.Prompts, r.Draws, r.Temperature)
	b.WriteString("Gain: the judge's r(x, y_1) − r(x, y_0) (Bradley–Terry) or g(x, y_0 → y_1) − g(x, y_1 → y_0) (gap model); leaving y_0 unchanged scores 0.\n\n")
	judges := slices.Sorted(maps.Keys(r.Judges))
	b.WriteString("| improver |")
	for _, j := range judges {
		info := r.Judges[j]
		fmt.Fprintf(&b, " %s: %s (%s, held-out acc. %.3f) gain | win rate |", j, info.Stage, info.Plugin, info.HeldOutAccuracy.Point)
	}
	b.WriteString("\n|---|")
	for range judges {
		b.WriteString("---|---|")
	}
	b.WriteString("\n")
	for _, name := range []string{"pit_rl", "pit_sft"} {
		fmt.Fprintf(&b, "| %s |", name)
		for _, j := range judges {
			jd := r.Improvers[name][j]
			fmt.Fprintf(&b, " %+.4g [%+.4g, %+.4g] | %.3f |", jd.Gain.Point, jd.Gain.Lo, jd.Gain.Hi, jd.WinRate.Point)
		}
		b.WriteString("\n")
	}
	b.WriteString("| RL − SFT (paired) |")
	for _, j := range judges {
		d := r.RLOverSFT[j]
		fmt.Fprintf(&b, " %+.4g [%+.4g, %+.4g] | |", d.Point, d.Lo, d.Hi)
	}
	fmt.Fprintf(&b, "\n\nMean length in tokens: y_0 %.1f, pit_rl %.1f, pit_sft %.1f.\n", r.Length["policy"], r.Length["pit_rl"], r.Length["pit_sft"])
	return b.String()
}

func meanLen(ys [][]int) float64 {
	var n float64
	for _, y := range ys {
		n += float64(len(y))
	}
	return n / float64(max(len(ys), 1))
}
