package pipeline

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"

	"github.com/pit-lab/pit/core/checkpoint"

	"github.com/pit-lab/pit/core/experiment"
	"github.com/pit-lab/pit/core/model"
	"github.com/pit-lab/pit/core/nn"
	"github.com/pit-lab/pit/core/runner"
	"github.com/pit-lab/pit/core/task/synth"
)

// SFTSettings configure the sft and pit_sft stages.
type SFTSettings struct {
	Steps       int     `toml:"steps"`        // optimiser steps
	BatchSize   int     `toml:"batch_size"`   // examples per step
	LR          float64 `toml:"lr"`           // peak learning rate
	WeightDecay float64 `toml:"weight_decay"` // AdamW decoupled weight decay
	ClipNorm    float64 `toml:"clip_norm"`    // global gradient-norm clip; 0 for none
	Warmup      int     `toml:"warmup_steps"` // linear warm-up
	Schedule    string  `toml:"schedule"`     // constant, linear or cosine
	EvalEvery   int     `toml:"eval_every"`   // held-out loss every this many steps; 0 only at the end
	EvalPairs   int     `toml:"eval_pairs"`   // held-out pairs (rm_eval split) for the held-out loss and samples
	Temperature float64 `toml:"temperature"`  // of the samples drawn at the end to measure the oracle
}

func defaultSFT() *SFTSettings {
	return &SFTSettings{Steps: 300, BatchSize: 32, LR: 3e-3, WeightDecay: 0.01, ClipNorm: 1, Warmup: 20,
		Schedule: nn.ScheduleCosine, EvalEvery: 50, EvalPairs: 128, Temperature: 0.4}
}

// Validate reports bad settings.
func (s *SFTSettings) Validate() error {
	var errs []error
	bad := func(key, format string, args ...any) {
		errs = append(errs, &experiment.FieldError{Key: key, Msg: fmt.Sprintf(format, args...)})
	}
	checkSize(bad, s.Steps, s.BatchSize, s.LR)
	if s.EvalEvery < 0 || s.EvalPairs < 0 || s.Warmup < 0 {
		bad("eval_every", "eval_every, eval_pairs and warmup_steps must be ≥ 0")
	}
	if s.Temperature < 0 {
		bad("temperature", "must be ≥ 0 (got %v)", s.Temperature)
	}
	checkSchedule(bad, s.Steps, s.Warmup, s.Schedule)
	return errors.Join(errs...)
}

func (s *SFTSettings) optim() nn.OptimConfig {
	return optimConfig(s.LR, s.WeightDecay, s.ClipNorm, s.Warmup, s.Steps, s.Schedule)
}

func init() {
	runner.Register(runner.Kind{
		Name:     "sft",
		Doc:      "policy SFT: M_P learns y_w given x",
		Needs:    []string{"data"},
		Settings: func() any { return defaultSFT() },
		InitFrom: "scratch", CheckInit: checkInit, Model: true,
		Version: "2", // 2: init_from
		Run:     func(c *runner.Context) error { return runSFT(c, false) },
	})
	runner.Register(runner.Kind{
		Name:     "pit_sft",
		Doc:      "PIT SFT: the improver M_PIT learns y_w given (x, y_l)",
		Needs:    []string{"data"},
		Settings: func() any { return defaultSFT() },
		// The paper starts the improver from the policy's pretrained LM;
		// here the SFT policy is that LM (RESULTS.md: from scratch, the
		// improver is a weaker generator and learns to ignore y_ref).
		InitFrom: "sft", CheckInit: checkInit, Model: true,
		Version: "2", // 2: init_from
		Run:     func(c *runner.Context) error { return runSFT(c, true) },
	})
}

// example lays out a pair for SFT: x → y_w (policy) or (x, y_l) → y_w
// (improver).
func example(p synth.Pair, improver bool) synth.Example {
	if improver {
		return synth.ImproverExample(p.Prompt.Tokens(), p.Rejected, p.Chosen)
	}
	return synth.PolicyExample(p.Prompt.Tokens(), p.Chosen)
}

func runSFT(c *runner.Context, improver bool) error {
	s := c.Settings.(*SFTSettings)
	d, task, err := loadDataset(c)
	if err != nil {
		return err
	}
	if len(d.SFT) == 0 {
		return fmt.Errorf("the sft split is empty")
	}
	ck, tr, done, err := checkpoint.Start(c, nil)
	if err != nil {
		return err
	}
	if tr == nil {
		m, err := startModel(c, d.Settings)
		if err != nil {
			return err
		}
		if tr, err = nn.NewTrainer(m, s.optim()); err != nil {
			return fmt.Errorf("%w", err)
		}
	}
	defer tr.Close()
	m := tr.Model()

	train := make([]synth.Example, len(d.SFT))
	for i, p := range d.SFT {
		train[i] = example(p, improver)
	}
	held := d.RMEval[:min(s.EvalPairs, len(d.RMEval))]
	heldEx := make([]synth.Example, len(held))
	for i, p := range held {
		heldEx[i] = example(p, improver)
	}

	rng := c.Rand("batches")
	order := rng.Perm(len(train))
	next := 0
	for step := 1; step <= s.Steps; step++ {
		if err := c.Err(); err != nil {
			return err
		}
		var b nn.Batch
		for len(b.Seqs) < s.BatchSize {
			if next == len(order) {
				order, next = rng.Perm(len(train)), 0
			}
			ex := train[order[next]]
			next++
			b.Seqs = append(b.Seqs, ex.Tokens)
			b.Mask = append(b.Mask, ex.Mask)
		}
		if step <= done {
			continue // resumed: the checkpoint covers this batch
		}
		loss, err := tr.SFTStep(b)
		if err != nil {
			return fmt.Errorf("step %d: %w", step, err)
		}
		if err := ck.Metric(step, "loss", loss); err != nil {
			return err
		}
		if len(heldEx) > 0 && (step == s.Steps || (s.EvalEvery > 0 && step%s.EvalEvery == 0)) {
			hl, err := heldoutLoss(c, m, heldEx)
			if err != nil {
				return err
			}
			if err := ck.Metric(step, "heldout_loss", hl); err != nil {
				return err
			}
		}
		c.Progress(step, s.Steps)
		if err := ck.MaybeSave(tr, step, s.Steps); err != nil {
			return err
		}
	}
	if len(held) > 0 {
		if err := sampleReport(c, m, task, d.Settings, held, improver, s.Temperature, s.Steps); err != nil {
			return err
		}
	}
	return saveModel(c, m)
}

// heldoutLoss is the masked mean negative log-likelihood of examples.
func heldoutLoss(c *runner.Context, m *nn.Model, exs []synth.Example) (float64, error) {
	seqs := make([][]int, len(exs))
	for i, ex := range exs {
		seqs[i] = ex.Tokens
	}
	sc, err := m.ScoreTokens(c, seqs, 1)
	if err != nil {
		return 0, fmt.Errorf("held-out loss: %w", err)
	}
	var sum float64
	var n int
	for i, ex := range exs {
		for t := 1; t < len(ex.Tokens); t++ {
			if ex.Mask[t] {
				sum -= sc.LogProbs[i][t]
				n++
			}
		}
	}
	if n == 0 {
		return 0, nil
	}
	return sum / float64(n), nil
}

// sampleReport samples the trained model on held-out prompts and logs the
// mean oracle of its answers (and, for an improver answering y_l, the mean
// oracle gain over y_l and how often it copies y_l).
func sampleReport(c *runner.Context, m *nn.Model, task *synth.Task, s synth.Settings, held []synth.Pair, improver bool, temp float64, step int) error {
	prefixes := make([][]int, len(held))
	refs := make([][]int, len(held))
	for i, p := range held {
		if improver {
			prefixes[i] = synth.ImproverPrefix(p.Prompt.Tokens(), p.Rejected)
			refs[i] = p.Rejected
		} else {
			prefixes[i] = synth.PolicyPrefix(p.Prompt.Tokens())
		}
	}
	ys, err := sample(c, m, prefixes, temp, s.MaxResponse, c.Rand("samples"))
	if err != nil {
		return err
	}
	var q, gain, copies float64
	for i, p := range held {
		qi := task.Quality(p.Prompt, ys[i].Resp)
		q += qi
		if improver {
			gain += qi - p.QRejected
			if slices.Equal(ys[i].Resp, refs[i]) {
				copies++
			}
		}
	}
	n := float64(len(held))
	if err := metric(c, step, "sample_oracle", q/n); err != nil {
		return err
	}
	if improver {
		if err := metric(c, step, "sample_gain", gain/n); err != nil {
			return err
		}
		if err := metric(c, step, "copy_rate", copies/n); err != nil {
			return err
		}
	}
	return nil
}

// sample continues each prefix at temperature temp (0: greedy), with at
// most maxResp response tokens plus EOS (model.Sample with the synthetic
// task's end of response).
func sample(c *runner.Context, m *nn.Model, prefixes [][]int, temp float64, maxResp int, rng *rand.Rand) ([]model.Sampled, error) {
	return model.Sample(c, m, prefixes, temp, maxResp, synth.EOS, synth.CutResponse, rng)
}

// finite reports whether v is a finite number.
func finite(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }
