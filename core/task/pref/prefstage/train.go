package prefstage

import (
	"context"
	"fmt"
	"path/filepath"
	"time"

	"github.com/pit-lab/pit/core/checkpoint"

	"github.com/pit-lab/pit/core/model"
	"github.com/pit-lab/pit/core/nn"
	"github.com/pit-lab/pit/core/results"
	"github.com/pit-lab/pit/core/runner"
	"github.com/pit-lab/pit/core/task/pref"
	"github.com/pit-lab/pit/plugins/sdk"
)

// Report is pref_rm.json: how the reward model does on the eval split.
type Report struct {
	Plugin               string  `json:"plugin"`
	Version              string  `json:"version"`
	ReferenceConditioned bool    `json:"reference_conditioned"`
	TrainPairs           int     `json:"train_pairs"`
	Steps                int     `json:"steps"`
	Params               int     `json:"params"`
	TrainSeconds         float64 `json:"train_seconds"`
	// Accuracy is the share of eval pairs the model ranks as the humans
	// did (ties ½): r(x, y_w) > r(x, y_l), or for a reference-conditioned
	// model g_wl > g_lw.
	Accuracy Interval `json:"accuracy"`
	// LengthBaseline is the accuracy of always preferring the longer
	// response on the same pairs.
	LengthBaseline Interval `json:"length_baseline"`
	// PrefersLonger is the share of pairs where the model prefers the
	// longer response (ties in length left out).
	PrefersLonger float64 `json:"prefers_longer"`
	// Order holds, for a reference-conditioned model, the shares of pairs
	// with g_wl > g_ww, g_ll > g_lw, both, and the whole intended order
	// g_wl > g_ww, g_wl > g_ll, g_ww > g_lw, g_ll > g_lw.
	Order map[string]Interval `json:"order,omitempty"`
	// Train is the last step's loss and comparison accuracy.
	TrainLoss     float64 `json:"train_loss"`
	TrainAccuracy float64 `json:"train_accuracy"`
}

// training is what every training stage of the preference task starts
// from: its settings, the dataset, the split it trains on and the one it
// reports on, the model (pretrained or random) and its trainer with the
// [model]'s frozen parameters.
type training struct {
	s          *Settings
	ps         *pref.Settings
	d          *pref.Dataset
	train, out []pref.Example // the split trained on, the held-out one
	m          *nn.Model
	tr         *nn.Trainer
	ck         *checkpoint.Checkpointer
	done       int // steps a checkpoint covers: the loop replays their batches and skips them
}

// startTraining sets a training stage up and resumes it from its
// checkpoint when there is one, decoding the stage's own state into extra
// (when not nil).
func startTraining(c *runner.Context, extra any) (*training, error) {
	s := c.Settings.(*Settings)
	ps, err := settingsOf(c)
	if err != nil {
		return nil, err
	}
	d, err := readDataset(c)
	if err != nil {
		return nil, err
	}
	t := &training{s: s, ps: ps, d: d, train: d.Train.Examples, out: d.Eval.Examples}
	if s.TrainSplit == "eval" {
		t.train, t.out = t.out, t.train
	}
	if t.m, err = newModel(c, ps, d.Vocab); err != nil {
		return nil, err
	}
	t.tr, err = nn.NewTrainer(t.m, nn.OptimConfig{LR: s.LR, WeightDecay: s.WeightDecay, ClipNorm: s.ClipNorm, Schedule: s.Schedule,
		WarmupSteps: s.Warmup, TotalSteps: s.Steps, MinLRFrac: 0.1})
	if err != nil {
		return nil, fmt.Errorf("trainer: %w", err)
	}
	ck, tr, done, err := checkpoint.Start(c, extra)
	if err != nil {
		t.tr.Close()
		return nil, err
	}
	if tr != nil {
		t.tr.Close()
		t.tr, t.m = tr, tr.Model()
	}
	t.ck, t.done = ck, done
	if frozen := model.Frozen(c.Model); frozen != nil {
		c.Log.Info("frozen", "parameters", t.tr.Freeze(frozen))
	}
	return t, nil
}

// readDataset reads pref_data's tokenized dataset.
func readDataset(c *runner.Context) (*pref.Dataset, error) {
	var d pref.Dataset
	if err := results.ReadJSON(filepath.Join(c.Input("pref_data"), DatasetFile), &d); err != nil {
		return nil, fmt.Errorf("read the dataset: %w", err)
	}
	if len(d.Train.Examples) == 0 || len(d.Eval.Examples) == 0 {
		return nil, fmt.Errorf("the dataset has %d training and %d eval pairs; both must be non-empty", len(d.Train.Examples), len(d.Eval.Examples))
	}
	if d.Vocab.Size == 0 {
		return nil, fmt.Errorf("the dataset names no vocabulary (written by an older pit): rerun pref_data")
	}
	return &d, nil
}

// batches returns a function that draws the next batch of n training
// examples, without replacement within an epoch, from the stage's
// "batches" stream.
func (t *training) batches(c *runner.Context, n int) func() []pref.Example {
	rng := c.Rand("batches")
	order, next := rng.Perm(len(t.train)), 0
	return func() []pref.Example {
		batch := make([]pref.Example, 0, n)
		for len(batch) < n {
			if next == len(order) {
				order, next = rng.Perm(len(t.train)), 0
			}
			batch = append(batch, t.train[order[next]])
			next++
		}
		return batch
	}
}

func runRM(c *runner.Context) error {
	t, err := startTraining(c, nil)
	if err != nil {
		return err
	}
	defer t.tr.Close()
	s, d, m, tr := t.s, t.d, t.m, t.tr
	layout := layoutFor(d.Vocab)
	rew, desc, err := model.RewardPlugin(c, model.NewService(m, layout, nil))
	if err != nil {
		return err
	}
	if !desc.NeedsLearnedModel {
		return fmt.Errorf("reward plugin %q needs no learned model, so there is nothing to train; choose bradley-terry, pit-gap or reward-difference", desc.Name)
	}

	start := time.Now()
	next := t.batches(c, s.BatchSize)
	var last nn.CompareStats
	for step := 1; step <= s.Steps; step++ {
		if err := c.Err(); err != nil {
			return err
		}
		batch := next()
		if step <= t.done {
			continue // resumed: the checkpoint covers this step
		}
		seqs, cmp, err := comparisons(c, rew, layout, batch)
		if err != nil {
			return fmt.Errorf("step %d: %w", step, err)
		}
		if last, err = tr.ComparisonStep(seqs, cmp); err != nil {
			return fmt.Errorf("step %d: %w", step, err)
		}
		if err := t.ck.Metric(step, "loss", last.Loss); err != nil {
			return err
		}
		if err := t.ck.Metric(step, "accuracy", last.Accuracy); err != nil {
			return err
		}
		if s.EvalEvery > 0 && step%s.EvalEvery == 0 && step < s.Steps {
			sc, err := Score(c, m, d.Vocab, t.out, desc.ReferenceConditioned, s.EvalBatch)
			if err != nil {
				return err
			}
			if err := t.ck.Metric(step, "heldout_accuracy", sc.accuracy()); err != nil {
				return err
			}
		}
		c.Progress(step, s.Steps)
		if err := t.ck.MaybeSave(tr, step, s.Steps); err != nil {
			return err
		}
	}
	trainSec := time.Since(start).Seconds()

	sc, err := Score(c, m, d.Vocab, t.out, desc.ReferenceConditioned, s.EvalBatch)
	if err != nil {
		return err
	}
	rep := Report{Plugin: desc.Name, Version: desc.Version, ReferenceConditioned: desc.ReferenceConditioned,
		TrainPairs: len(t.train), Steps: s.Steps, Params: m.NumParams(), TrainSeconds: trainSec,
		TrainLoss: last.Loss, TrainAccuracy: last.Accuracy}
	seed, n := c.Seed("bootstrap"), s.Resamples
	if rep.Accuracy, err = ci(sc.Correct, seed, n); err != nil {
		return err
	}
	if rep.LengthBaseline, err = lengthBaseline(t.out, seed, n); err != nil {
		return err
	}
	rep.PrefersLonger = sc.prefersLonger(t.out)
	var gaps []results.GapScore
	if desc.ReferenceConditioned {
		rep.Order = map[string]Interval{}
		for name, xs := range sc.order() {
			if rep.Order[name], err = ci(xs, seed, n); err != nil {
				return err
			}
		}
		gaps = sc.Gaps
	}
	if err := c.Metric(s.Steps, "heldout_accuracy", rep.Accuracy.Point); err != nil {
		return err
	}
	if err := results.WriteJSONL(filepath.Join(c.Out, results.GapsFile), gaps); err != nil {
		return err
	}
	if err := results.WriteJSON(filepath.Join(c.Out, RMFile), rep); err != nil {
		return err
	}
	c.Log.Info("held-out", "plugin", desc.Name, "accuracy", rep.Accuracy.String(), "length_baseline", rep.LengthBaseline.String())
	if err := m.Save(filepath.Join(c.Out, ModelFile)); err != nil {
		return fmt.Errorf("save model: %w", err)
	}
	return nil
}

// comparisons asks the reward plugin for the comparisons of a batch and
// lays out their inputs.
func comparisons(ctx context.Context, rew sdk.Reward, layout func(sdk.Input) ([]int, error), batch []pref.Example) ([][]int, []nn.Pair, error) {
	req := &sdk.ComparisonsRequest{Pairs: make([]sdk.Pair, len(batch))}
	for i, e := range batch {
		req.Pairs[i] = sdk.Pair{Prompt: model.Int32s(e.Prompt), Chosen: model.Int32s(e.Chosen), Rejected: model.Int32s(e.Rejected)}
	}
	resp, err := rew.Comparisons(ctx, req)
	if err != nil {
		return nil, nil, fmt.Errorf("comparisons: %w", err)
	}
	if len(resp.Comparisons) == 0 {
		return nil, nil, fmt.Errorf("comparisons: the reward plugin returned none for %d pairs", len(batch))
	}
	seqs := make([][]int, len(resp.Inputs))
	for i, in := range resp.Inputs {
		seqs[i], _ = layout(in) // preference layouts cannot fail
	}
	cmp := make([]nn.Pair, len(resp.Comparisons))
	for i, cm := range resp.Comparisons {
		if cm.Better < 0 || cm.Better >= len(seqs) || cm.Worse < 0 || cm.Worse >= len(seqs) {
			return nil, nil, fmt.Errorf("comparisons: comparison %d indexes input %d or %d of %d", i, cm.Better, cm.Worse, len(seqs))
		}
		w := cm.Weight
		if w == 0 {
			w = 1
		}
		cmp[i] = nn.Pair{I: cm.Better, J: cm.Worse, Margin: cm.Margin, Weight: w}
	}
	return seqs, cmp, nil
}

// Scores are a reward model's verdicts on eval pairs.
type Scores struct {
	// Correct is 1 where the model ranks the pair as the humans did, 0
	// where it ranks it the other way, ½ on a tie.
	Correct []float64
	Gaps    []results.GapScore // reference-conditioned models only
}

func (s *Scores) accuracy() float64 {
	var t float64
	for _, x := range s.Correct {
		t += x
	}
	return t / float64(max(len(s.Correct), 1))
}

func (s *Scores) prefersLonger(ex []pref.Example) float64 {
	var n, k float64
	for i, e := range ex {
		if e.ChosenLen == e.RejectedLen {
			continue
		}
		n++
		switch {
		case s.Correct[i] == 0.5:
			k += 0.5
		case (s.Correct[i] == 1) == (e.ChosenLen > e.RejectedLen):
			k++
		}
	}
	if n == 0 {
		return 0
	}
	return k / n
}

func indicator(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

func (s *Scores) order() map[string][]float64 {
	out := map[string][]float64{"wl_gt_ww": nil, "ll_gt_lw": nil, "both": nil, "full": nil}
	for _, g := range s.Gaps {
		a, b := g.WL > g.WW, g.LL > g.LW
		out["wl_gt_ww"] = append(out["wl_gt_ww"], indicator(a))
		out["ll_gt_lw"] = append(out["ll_gt_lw"], indicator(b))
		out["both"] = append(out["both"], indicator(a && b))
		out["full"] = append(out["full"], indicator(a && b && g.WL > g.LL && g.WW > g.LW))
	}
	return out
}

// Score runs m over eval examples: r(x, y_w) against r(x, y_l), or for a
// reference-conditioned model the four gap scores, batch sequences at a
// time.
func Score(ctx context.Context, m *nn.Model, v pref.Vocab, ex []pref.Example, refCnd bool, batch int) (*Scores, error) {
	per := 2
	if refCnd {
		per = 4
	}
	seqs := make([][]int, 0, per*len(ex))
	for _, e := range ex {
		x, w, l := e.Prompt, e.Chosen, e.Rejected
		if refCnd {
			seqs = append(seqs, v.LayoutGap(x, l, w), v.LayoutGap(x, w, w), v.LayoutGap(x, l, l), v.LayoutGap(x, w, l))
		} else {
			seqs = append(seqs, v.Layout(x, w), v.Layout(x, l))
		}
	}
	sc := make([]float64, 0, len(seqs))
	for i := 0; i < len(seqs); i += batch {
		r, err := m.Rewards(ctx, seqs[i:min(i+batch, len(seqs))])
		if err != nil {
			return nil, fmt.Errorf("held-out scores: %w", err)
		}
		sc = append(sc, r...)
	}
	out := &Scores{Correct: make([]float64, len(ex))}
	for i := range ex {
		var w, l float64
		if refCnd {
			g := results.GapScore{Pair: i, WL: sc[4*i], WW: sc[4*i+1], LL: sc[4*i+2], LW: sc[4*i+3]}
			out.Gaps = append(out.Gaps, g)
			w, l = g.WL, g.LW
		} else {
			w, l = sc[2*i], sc[2*i+1]
		}
		switch {
		case w > l:
			out.Correct[i] = 1
		case w == l:
			out.Correct[i] = 0.5
		}
	}
	return out, nil
}
