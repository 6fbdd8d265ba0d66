// Package prefstage runs reward models and the PIT method on real human
// preference data (package pref), as stage kinds of package runner:
//
//	pref_data     loads and tokenizes the [task] kind = "preference"
//	              dataset (train and eval splits) with the model's
//	              tokenizer (bytes, or a pretrained model's own), records
//	              what loading skipped and tokenization cut, and scores the
//	              length-only baseline (always prefer the longer response)
//	pref_rm       trains a reward model on one split (train_split) through
//	              the comparisons of its reward plugin (default
//	              bradley-terry; pit-gap for the PIT gap model
//	              r_gap(x, y_ref, y)) and reports on the other split the
//	              pairwise accuracy with a bootstrap CI beside the length
//	              baseline's, and for a reference-conditioned model the
//	              share of pairs in the intended order and the four gap
//	              scores (gaps.jsonl)
//	pref_sft      the policy: SFT on the chosen responses
//	pref_pit_sft  the PIT improver: SFT from (x, y_l) to y_w
//	pref_pit_rl   PIT's RL of the improver on the training prompts, y_ref
//	              from the policy (or the rejected response), the reward
//	              r_gap(x, y_ref, y) from pref_rm's model, through the
//	              reward and algorithm plugins and core/rl's loop
//	pref_eval     rewrites of the policy's answers on held-out prompts by
//	              the RL improver and by its SFT start, rated by pref_rm's
//	              model and by a judge held out from training (a stage
//	              pref_judge of kind pref_rm with train_split = "eval")
//
// Preference data have no oracle: reward models stand in for it as judges,
// and pref_eval reports both (the reward RL optimised, and the held-out
// judge), with the response lengths beside them.
//
// A blank import registers them:
//
//	import _ "github.com/pit-lab/pit/core/task/pref/prefstage"
//
// The model is the experiment's [model] (kind "transformer", package
// core/model's Settings): a random one over pref's byte-level vocabulary
// sized for the longest reference-conditioned input, or a pretrained one
// ([model] init) with its own tokenizer.
package prefstage

import (
	"errors"
	"fmt"
	"path/filepath"

	"github.com/pit-lab/pit/core/experiment"
	"github.com/pit-lab/pit/core/model"
	"github.com/pit-lab/pit/core/nn"
	"github.com/pit-lab/pit/core/results"
	"github.com/pit-lab/pit/core/runner"
	"github.com/pit-lab/pit/core/stats"
	"github.com/pit-lab/pit/core/task/pref"
	"github.com/pit-lab/pit/plugins/sdk"
)

// Artefact file names.
const (
	DatasetFile = "dataset.json"   // pref_data: the tokenized dataset (pref.Dataset)
	DataFile    = "pref_data.json" // pref_data: DataSummary, published to the run
	RMFile      = "pref_rm.json"   // pref_rm: Report, published to the run
	ModelFile   = "model.bin"      // pref_rm: the trained reward model
)

func init() {
	runner.Register(runner.Kind{
		Name:    "pref_data",
		Doc:     "a real preference dataset ([task] kind = \"preference\"), tokenized, with the length baseline on its eval split",
		Publish: []string{DataFile},
		Version: "3",
		Run:     runData,
	})
	runner.Register(runner.Kind{
		Name:     "pref_rm",
		Doc:      "reward model trained on a real preference dataset through its reward plugin (default bradley-terry), evaluated on held-out pairs",
		Needs:    []string{"pref_data"},
		Plugins:  []runner.Slot{{Kind: string(sdk.KindReward), Default: "bradley-terry"}},
		Settings: func() any { s := DefaultSettings(); return &s },
		Publish:  []string{RMFile, results.GapsFile},
		Version:  "1",
		Run:      runRM,
	})
}

// Settings configure pref_rm.
type Settings struct {
	Steps       int     `toml:"steps"`        // optimiser steps
	BatchSize   int     `toml:"batch_size"`   // preference pairs per step
	LR          float64 `toml:"lr"`           // peak learning rate
	WeightDecay float64 `toml:"weight_decay"` // AdamW decoupled weight decay
	ClipNorm    float64 `toml:"clip_norm"`    // global gradient-norm clip; 0 for none
	Warmup      int     `toml:"warmup_steps"` // linear warm-up
	Schedule    string  `toml:"schedule"`     // constant, linear or cosine
	EvalEvery   int     `toml:"eval_every"`   // held-out accuracy every this many steps; 0: only at the end
	EvalBatch   int     `toml:"eval_batch"`   // sequences scored per forward pass
	Resamples   int     `toml:"resamples"`    // bootstrap resamples of the CIs
	// TrainSplit is the split trained on: "train" (the default), or
	// "eval" for a judge held out from everything trained on "train"; the
	// other split is the held-out one it reports on.
	TrainSplit string `toml:"train_split"`
}

// DefaultSettings are sized for a few thousand pairs on two CPU cores.
func DefaultSettings() Settings {
	return Settings{Steps: 300, BatchSize: 16, LR: 1e-3, WeightDecay: 0.01, ClipNorm: 1, Warmup: 20,
		Schedule: nn.ScheduleCosine, EvalEvery: 0, EvalBatch: 64, Resamples: 2000, TrainSplit: "train"}
}

// Validate reports bad settings.
func (s *Settings) Validate() error {
	var errs []error
	bad := func(key, format string, args ...any) {
		errs = append(errs, &experiment.FieldError{Key: key, Msg: fmt.Sprintf(format, args...)})
	}
	if s.Steps < 1 {
		bad("steps", "must be at least 1 (got %d)", s.Steps)
	}
	if s.BatchSize < 1 {
		bad("batch_size", "must be at least 1 (got %d)", s.BatchSize)
	}
	if !(s.LR > 0) {
		bad("lr", "must be > 0 (got %v)", s.LR)
	}
	if s.Warmup < 0 || (s.Schedule != nn.ScheduleConstant && s.Warmup >= s.Steps) {
		bad("warmup_steps", "must be ≥ 0 and below steps (%d) unless the schedule is constant (got %d)", s.Steps, s.Warmup)
	}
	switch s.Schedule {
	case nn.ScheduleConstant, nn.ScheduleLinear, nn.ScheduleCosine:
	default:
		bad("schedule", "want constant, linear or cosine (got %q)", s.Schedule)
	}
	if s.EvalEvery < 0 {
		bad("eval_every", "must be ≥ 0 (got %d)", s.EvalEvery)
	}
	if s.EvalBatch < 1 {
		bad("eval_batch", "must be at least 1 (got %d)", s.EvalBatch)
	}
	if s.Resamples < 1 {
		bad("resamples", "must be at least 1 (got %d)", s.Resamples)
	}
	if s.TrainSplit != "train" && s.TrainSplit != "eval" {
		bad("train_split", `want "train" or "eval" (got %q)`, s.TrainSplit)
	}
	return errors.Join(errs...)
}

// Interval is an estimate with its bootstrap CI and the sample size.
type Interval struct {
	Point float64 `json:"point"`
	Lo    float64 `json:"lo"`
	Hi    float64 `json:"hi"`
	N     int     `json:"n"`
}

// String formats iv as "point [lo, hi] (n=N)".
func (iv Interval) String() string {
	return fmt.Sprintf("%.3f [%.3f, %.3f] (n=%d)", iv.Point, iv.Lo, iv.Hi, iv.N)
}

// SplitSummary is what pref_data records of a split.
type SplitSummary struct {
	Source            pref.Source `json:"source"`
	Load              pref.Stats  `json:"load"`
	PromptTruncRate   float64     `json:"prompt_truncation_rate"`
	ResponseTruncRate float64     `json:"response_truncation_rate"`
	// IdenticalAfterCut counts pairs whose responses are the same tokens
	// after truncation (ties for every model).
	IdenticalAfterCut int     `json:"identical_after_truncation"`
	MeanChosenBytes   float64 `json:"mean_chosen_bytes"`
	MeanRejectedBytes float64 `json:"mean_rejected_bytes"`
}

// DataSummary is pref_data.json.
type DataSummary struct {
	Format pref.Format  `json:"format"`
	Train  SplitSummary `json:"train"`
	Eval   SplitSummary `json:"eval"`
	// LengthBaseline is the eval-split accuracy of always preferring the
	// longer response (ties count ½).
	LengthBaseline Interval `json:"length_baseline"`
}

func settingsOf(c *runner.Context) (*pref.Settings, error) {
	s, ok := c.Task.(*pref.Settings)
	if !ok {
		return nil, fmt.Errorf("stage %s needs [task] kind = %q (got %T)", c.Stage, pref.TaskKind, c.Task)
	}
	return s, nil
}

func summarize(sp pref.Split) SplitSummary {
	var w, l float64
	for _, e := range sp.Examples {
		w += float64(e.ChosenLen)
		l += float64(e.RejectedLen)
	}
	n := float64(max(len(sp.Examples), 1))
	return SplitSummary{Source: sp.Source, Load: sp.Load, PromptTruncRate: sp.Truncation.PromptRate(),
		ResponseTruncRate: sp.Truncation.ResponseRate(), IdenticalAfterCut: sp.Truncation.Identical, MeanChosenBytes: w / n, MeanRejectedBytes: l / n}
}

func ci(xs []float64, seed int64, resamples int) (Interval, error) {
	iv, err := stats.Bootstrap{Seed: uint64(seed), Resamples: resamples}.CI(xs, stats.Mean)
	if err != nil {
		return Interval{}, fmt.Errorf("bootstrap: %w", err)
	}
	return Interval{Point: iv.Point, Lo: iv.Lo, Hi: iv.Hi, N: len(xs)}, nil
}

func lengthBaseline(ex []pref.Example, seed int64, resamples int) (Interval, error) {
	xs := make([]float64, len(ex))
	for i, e := range ex {
		xs[i] = pref.LengthPrefers(e)
	}
	return ci(xs, seed, resamples)
}

func runData(c *runner.Context) error {
	s, err := settingsOf(c)
	if err != nil {
		return err
	}
	tok, err := tokenizerFor(c.Model)
	if err != nil {
		return err
	}
	d, err := pref.Build(c, *s, tok)
	if err != nil {
		return err
	}
	if err := results.WriteJSON(filepath.Join(c.Out, DatasetFile), d); err != nil {
		return err
	}
	sum := DataSummary{Format: s.Format, Train: summarize(d.Train), Eval: summarize(d.Eval)}
	if sum.LengthBaseline, err = lengthBaseline(d.Eval.Examples, c.Seed("bootstrap"), stats.DefaultResamples); err != nil {
		return err
	}
	if err := results.WriteJSON(filepath.Join(c.Out, DataFile), sum); err != nil {
		return err
	}
	for name, sp := range map[string]SplitSummary{"train": sum.Train, "eval": sum.Eval} {
		for k, v := range map[string]float64{
			"pairs": float64(sp.Load.Pairs), "malformed": float64(sp.Load.Malformed), "identical": float64(sp.Load.Identical),
			"prompt_truncation_rate": sp.PromptTruncRate, "response_truncation_rate": sp.ResponseTruncRate,
			"identical_after_truncation": float64(sp.IdenticalAfterCut),
		} {
			if err := c.Metric(0, name+"/"+k, v); err != nil {
				return err
			}
		}
	}
	if err := c.Metric(0, "eval/length_baseline_accuracy", sum.LengthBaseline.Point); err != nil {
		return err
	}
	c.Log.Info("dataset", "train", sum.Train.Load.Pairs, "eval", sum.Eval.Load.Pairs,
		"identical", sum.Train.Load.Identical+sum.Eval.Load.Identical, "malformed", sum.Train.Load.Malformed+sum.Eval.Load.Malformed,
		"length_baseline", sum.LengthBaseline.String())
	c.Progress(1, 1)
	return nil
}

// layoutFor lays out a plugin's input as the model reads it, in
// vocabulary v: the gap layout when it has a reference.
func layoutFor(v pref.Vocab) func(it sdk.Input) ([]int, error) {
	return func(it sdk.Input) ([]int, error) {
		if len(it.Reference) > 0 {
			return v.LayoutGap(model.Ints(it.Prompt), model.Ints(it.Reference), model.Ints(it.Response)), nil
		}
		return v.Layout(model.Ints(it.Prompt), model.Ints(it.Response)), nil
	}
}

// tokenizerFor returns the tokenizer of the experiment's model: pref's
// bytes, or a pretrained model's own (model.Settings.Init) with BOS and
// EOS on the model's tokens, PAD on its EOS (padding is masked) and SEP
// and REF added as the two ids after its vocabulary.
func tokenizerFor(settings any) (pref.Tokenizer, error) {
	ms, _ := settings.(*model.Settings)
	if ms == nil || ms.Init == "" {
		return pref.Bytes(), nil
	}
	p := ms.Pretrained()
	if p == nil {
		return pref.Tokenizer{}, fmt.Errorf("model: init %q was not opened (settings not resolved from an experiment file)", ms.Init)
	}
	bos, eos, err := p.Specials()
	if err != nil {
		return pref.Tokenizer{}, err
	}
	V := p.Vocab()
	v := pref.Vocab{Tokenizer: p.Arch() + ":" + ms.Init, Size: V + 2, PAD: eos, BOS: bos, SEP: V, REF: V + 1, EOS: eos}
	return pref.Tokenizer{Vocab: v, Encode: p.Tokenizer.Encode}, nil
}

// newModel returns the model pref_rm trains: a pretrained one with the
// dataset's added tokens, or a random one over the dataset's vocabulary
// sized for the longest reference-conditioned input.
func newModel(c *runner.Context, s *pref.Settings, v pref.Vocab) (*nn.Model, error) {
	ms, _ := c.Model.(*model.Settings)
	if ms != nil && ms.Init != "" {
		p := ms.Pretrained()
		if p == nil {
			return nil, fmt.Errorf("model: init %q was not opened", ms.Init)
		}
		if want, err := tokenizerFor(ms); err != nil {
			return nil, err
		} else if want.Vocab != v {
			return nil, fmt.Errorf("the dataset was tokenized for %s (%d ids), not for the model %s (%d ids)", v.Tokenizer, v.Size, want.Vocab.Tokenizer, want.Vocab.Size)
		}
		if n := s.GapContext(); n > p.Context() {
			return nil, fmt.Errorf("the longest input (%d tokens at most) exceeds the model's context %d: lower max_prompt_bytes or max_response_bytes", n, p.Context())
		}
		return p.Load(v.Size-p.Vocab(), ms.Device, uint64(c.Seed("init")))
	}
	cfg, err := model.NNConfig(c.Model, v.Size, s.GapContext(), v.PAD, c.Seed("init"))
	if err != nil {
		return nil, err
	}
	m, err := nn.New(cfg)
	if err != nil {
		return nil, fmt.Errorf("model: %w", err)
	}
	return m, nil
}
