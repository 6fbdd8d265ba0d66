package pipeline

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"

	"github.com/pit-lab/pit/core/checkpoint"

	"github.com/pit-lab/pit/core/experiment"
	"github.com/pit-lab/pit/core/model"
	"github.com/pit-lab/pit/core/nn"
	"github.com/pit-lab/pit/core/runner"
	"github.com/pit-lab/pit/core/task/synth"
	"github.com/pit-lab/pit/plugins/sdk"
)

// RMSettings configure the rm and pit_rm stages.
type RMSettings struct {
	Steps       int     `toml:"steps"`        // optimiser steps
	BatchSize   int     `toml:"batch_size"`   // preference pairs per step
	LR          float64 `toml:"lr"`           // peak learning rate
	WeightDecay float64 `toml:"weight_decay"` // AdamW decoupled weight decay
	ClipNorm    float64 `toml:"clip_norm"`    // global gradient-norm clip; 0 for none
	Warmup      int     `toml:"warmup_steps"` // linear warm-up
	Schedule    string  `toml:"schedule"`     // constant, linear or cosine
	EvalEvery   int     `toml:"eval_every"`   // held-out accuracy every this many steps; 0 only at the end
	EvalPairs   int     `toml:"eval_pairs"`   // held-out pairs (rm_eval split); 0 means all
}

func defaultRM() *RMSettings {
	return &RMSettings{Steps: 200, BatchSize: 32, LR: 1e-3, WeightDecay: 0.01, ClipNorm: 1, Warmup: 10,
		Schedule: nn.ScheduleCosine, EvalEvery: 50}
}

// Validate reports bad settings.
func (s *RMSettings) Validate() error {
	var errs []error
	bad := func(key, format string, args ...any) {
		errs = append(errs, &experiment.FieldError{Key: key, Msg: fmt.Sprintf(format, args...)})
	}
	checkSize(bad, s.Steps, s.BatchSize, s.LR)
	if s.EvalEvery < 0 || s.EvalPairs < 0 || s.Warmup < 0 {
		bad("eval_every", "eval_every, eval_pairs and warmup_steps must be ≥ 0")
	}
	checkSchedule(bad, s.Steps, s.Warmup, s.Schedule)
	return errors.Join(errs...)
}

func (s *RMSettings) optim() nn.OptimConfig {
	return optimConfig(s.LR, s.WeightDecay, s.ClipNorm, s.Warmup, s.Steps, s.Schedule)
}

func init() {
	runner.Register(runner.Kind{
		Name:     "rm",
		Doc:      "reward model trained on the comparisons of its reward plugin (default bradley-terry)",
		Needs:    []string{"data", "sft"},
		Plugins:  []runner.Slot{{Kind: string(sdk.KindReward), Default: "bradley-terry"}},
		Settings: func() any { return defaultRM() },
		InitFrom: "sft", CheckInit: checkInit, Model: true,
		Version: "2", // 2: init_from replaces init
		Run:     runRM,
	})
	runner.Register(runner.Kind{
		Name:     "pit_rm",
		Doc:      "PIT reward model r_gap(x, y_ref, y) trained on the comparisons of its reward plugin (default pit-gap)",
		Needs:    []string{"data", "pit_sft"},
		Plugins:  []runner.Slot{{Kind: string(sdk.KindReward), Default: "pit-gap"}},
		Settings: func() any { return defaultRM() },
		InitFrom: "pit_sft", CheckInit: checkInit, Model: true,
		Version: "2", // 2: init_from replaces init
		Run:     runRM,
	})
}

func runRM(c *runner.Context) error {
	s := c.Settings.(*RMSettings)
	d, task, err := loadDataset(c)
	if err != nil {
		return err
	}
	if len(d.RM) == 0 {
		return fmt.Errorf("the rm split is empty")
	}
	ck, tr, done, err := checkpoint.Start(c, nil)
	if err != nil {
		return err
	}
	var m *nn.Model
	if tr != nil {
		m = tr.Model()
		logDevice(c, m)
	} else if m, err = startModel(c, d.Settings); err != nil {
		return err
	}
	if tr == nil {
		if tr, err = nn.NewTrainer(m, s.optim()); err != nil {
			return fmt.Errorf("%w", err)
		}
	}
	defer tr.Close()
	rew, desc, err := model.RewardPlugin(c, NewModelService(task, m))
	if err != nil {
		return err
	}
	if !desc.NeedsLearnedModel {
		return fmt.Errorf("reward plugin %q needs no learned model, so this stage has nothing to train; choose a formulation that does (bradley-terry, pit-gap, reward-difference)", desc.Name)
	}

	held := d.RMEval
	if s.EvalPairs > 0 && s.EvalPairs < len(held) {
		held = held[:s.EvalPairs]
	}
	ev, err := newRMEval(c, rew, held, desc.ReferenceConditioned)
	if err != nil {
		return err
	}
	rng := c.Rand("batches")
	order := rng.Perm(len(d.RM))
	next := 0
	var last map[string]float64
	for step := 1; step <= s.Steps; step++ {
		if err := c.Err(); err != nil {
			return err
		}
		batch := make([]synth.Pair, 0, s.BatchSize)
		for len(batch) < s.BatchSize {
			if next == len(order) {
				order, next = rng.Perm(len(d.RM)), 0
			}
			batch = append(batch, d.RM[order[next]])
			next++
		}
		if step <= done {
			continue // resumed: the checkpoint covers this batch
		}
		st, err := comparisonStep(c, rew, tr, batch)
		if err != nil {
			return fmt.Errorf("step %d: %w", step, err)
		}
		if err := ck.Metric(step, "loss", st.Loss); err != nil {
			return err
		}
		if err := ck.Metric(step, "accuracy", st.Accuracy); err != nil {
			return err
		}
		if step == s.Steps || (s.EvalEvery > 0 && step%s.EvalEvery == 0) {
			if last, err = ev.run(c, m); err != nil {
				return err
			}
			for _, k := range slices.Sorted(maps.Keys(last)) {
				if err := ck.Metric(step, "heldout_"+k, last[k]); err != nil {
					return err
				}
			}
		}
		c.Progress(step, s.Steps)
		if err := ck.MaybeSave(tr, step, s.Steps); err != nil {
			return err
		}
	}
	c.Log.Info("held-out", "figures", mustJSON(last))
	if err := writeJSON(c, rewardFile, rewardInfo{Plugin: desc.Name, Version: desc.Version, ReferenceConditioned: desc.ReferenceConditioned, Heldout: last}); err != nil {
		return err
	}
	return saveModel(c, m)
}

// comparisonStep turns pairs into the reward plugin's comparisons and takes
// one step of the comparison loss on them.
func comparisonStep(ctx context.Context, rew sdk.Reward, tr *nn.Trainer, pairs []synth.Pair) (nn.CompareStats, error) {
	seqs, cmp, _, err := comparisons(ctx, rew, pairs)
	if err != nil {
		return nn.CompareStats{}, err
	}
	return tr.ComparisonStep(seqs, cmp)
}

// comparisons asks the reward plugin for the comparisons of pairs and lays
// out their inputs as model sequences.
func comparisons(ctx context.Context, rew sdk.Reward, pairs []synth.Pair) ([][]int, []nn.Pair, *sdk.ComparisonsResponse, error) {
	req := &sdk.ComparisonsRequest{Pairs: make([]sdk.Pair, len(pairs))}
	for i, p := range pairs {
		req.Pairs[i] = sdkPair(p)
	}
	resp, err := rew.Comparisons(ctx, req)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("comparisons: %w", err)
	}
	if len(resp.Comparisons) == 0 {
		return nil, nil, nil, fmt.Errorf("comparisons: the reward plugin returned none for %d pairs", len(pairs))
	}
	seqs := make([][]int, len(resp.Inputs))
	for i, in := range resp.Inputs {
		if seqs[i], err = layoutInput(in); err != nil {
			return nil, nil, nil, fmt.Errorf("comparisons: input %d: %w", i, err)
		}
	}
	cmp := make([]nn.Pair, len(resp.Comparisons))
	for i, cm := range resp.Comparisons {
		if cm.Better < 0 || cm.Better >= len(seqs) || cm.Worse < 0 || cm.Worse >= len(seqs) {
			return nil, nil, nil, fmt.Errorf("comparisons: comparison %d indexes input %d or %d of %d", i, cm.Better, cm.Worse, len(seqs))
		}
		w := cm.Weight
		if w == 0 {
			w = 1
		}
		cmp[i] = nn.Pair{I: cm.Better, J: cm.Worse, Margin: cm.Margin, Weight: w}
	}
	return seqs, cmp, resp, nil
}

// rmEval measures a reward model on held-out pairs: the share of the
// plugin's comparisons it satisfies, and how often it ranks a pair's two
// responses as the data's label ("label_accuracy") and as the oracle
// ("oracle_accuracy", oracle ties left out) do. A reference-conditioned
// model ranks a over b when g(x, b→a) > g(x, a→b).
//
// Both measures read one scoring of the union of their sequences: the
// ranked responses are usually among the plugin's inputs (bradley-terry's
// two, pit-gap's g_wl and g_lw), and batchRewards scores each distinct
// sequence once.
type rmEval struct {
	pairs []synth.Pair
	seqs  [][]int   // the plugin's inputs, then each pair's two ranked sequences (pairSeqs)
	nIn   int       // how many of seqs are the plugin's inputs
	cmp   []nn.Pair // the plugin's comparisons, indexing seqs[:nIn]
}

func newRMEval(c *runner.Context, rew sdk.Reward, pairs []synth.Pair, refCnd bool) (*rmEval, error) {
	ev := &rmEval{pairs: pairs}
	if len(pairs) == 0 {
		return ev, nil
	}
	in, cmp, _, err := comparisons(c, rew, pairs)
	if err != nil {
		return nil, fmt.Errorf("held-out %w", err)
	}
	ev.seqs, ev.nIn, ev.cmp = append(in, pairSeqs(pairs, refCnd)...), len(in), cmp
	return ev, nil
}

func (ev *rmEval) run(c *runner.Context, m *nn.Model) (map[string]float64, error) {
	out := map[string]float64{}
	if len(ev.pairs) == 0 {
		return out, nil
	}
	sc, err := batchRewards(c, m, ev.seqs, nil)
	if err != nil {
		return nil, fmt.Errorf("held-out scores: %w", err)
	}
	var ok float64
	for _, p := range ev.cmp {
		if sc[p.I] > sc[p.J] {
			ok++
		}
	}
	out["comparison_accuracy"] = ok / float64(len(ev.cmp))
	out["label_accuracy"], out["oracle_accuracy"] = pairAccuracy(ev.pairs, sc[ev.nIn:])
	return out, nil
}

// pairSeqs lays out each pair's chosen and rejected responses as a reward
// model reads them: two sequences per pair, the chosen one first. A
// reference-conditioned model reads each against the other.
func pairSeqs(pairs []synth.Pair, refCnd bool) [][]int {
	seqs := make([][]int, 0, 2*len(pairs))
	for _, p := range pairs {
		x := p.Prompt.Tokens()
		if refCnd {
			seqs = append(seqs, synth.ImproverExample(x, p.Rejected, p.Chosen).Tokens, synth.ImproverExample(x, p.Chosen, p.Rejected).Tokens)
		} else {
			seqs = append(seqs, synth.PolicyExample(x, p.Chosen).Tokens, synth.PolicyExample(x, p.Rejected).Tokens)
		}
	}
	return seqs
}

// pairAccuracy is how often the scores sc of pairSeqs rank each pair's
// chosen response above its rejected one (label), and as the oracle does
// (oracle ties left out).
func pairAccuracy(pairs []synth.Pair, sc []float64) (label, oracle float64) {
	var nl, no, okl, oko float64
	for i, p := range pairs {
		w, l := sc[2*i], sc[2*i+1]
		nl++
		if w > l {
			okl++
		}
		if p.QChosen != p.QRejected {
			no++
			if (w > l) == (p.QChosen > p.QRejected) {
				oko++
			}
		}
	}
	if no == 0 {
		no = 1
	}
	return okl / nl, oko / no
}
