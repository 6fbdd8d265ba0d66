package prefstage

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"time"

	"github.com/pit-lab/pit/core/checkpoint"
	"github.com/pit-lab/pit/core/experiment"
	"github.com/pit-lab/pit/core/model"
	"github.com/pit-lab/pit/core/nn"
	"github.com/pit-lab/pit/core/results"
	"github.com/pit-lab/pit/core/rl"
	"github.com/pit-lab/pit/core/runner"
	"github.com/pit-lab/pit/core/task/pref"
	"github.com/pit-lab/pit/plugins/sdk"
)

// What pref_sft and pref_pit_sft publish (SFTReport).
const (
	SFTFile    = "pref_sft.json"
	PITSFTFile = "pref_pit_sft.json"
)

// The PIT stages on preference data. Without the synthetic task's oracle,
// reward models stand in as judges (pref_eval).
func init() {
	for _, k := range []struct {
		name, doc, file string
		improver        bool
	}{
		{"pref_sft", "policy SFT on the chosen responses of the training split (BOS x SEP y_w EOS), from [model]", SFTFile, false},
		{"pref_pit_sft", "PIT improver SFT on the training split: from (x, y_l) to y_w (BOS x SEP y_l REF y_w EOS), from [model]", PITSFTFile, true},
	} {
		runner.Register(runner.Kind{
			Name: k.name, Doc: k.doc, Needs: []string{"pref_data"},
			Settings: func() any { s := DefaultSettings(); return &s },
			Publish:  []string{k.file}, Version: "2", Run: sftRunner(k.improver, k.file),
		})
	}
	runner.Register(runner.Kind{
		Name:  "pref_pit_rl",
		Doc:   "PIT RL of the improver on the training split's prompts: y_ref from the pref_sft policy (or the rejected response), reward r_gap(x, y_ref, y) from pref_rm's model",
		Needs: []string{"pref_data", "pref_sft", "pref_pit_sft", "pref_rm"},
		Plugins: []runner.Slot{
			{Kind: string(sdk.KindReward), Default: "pit-gap"},
			{Kind: string(sdk.KindAlgorithm), Default: "rloo"},
		},
		Settings: func() any { s := DefaultPITRLSettings(); return &s },
		Version:  "1",
		Run:      runPITRL,
	})
	runner.Register(runner.Kind{
		Name:     "pref_eval",
		Doc:      "improvement of the pref_sft policy's answers on held-out prompts by the RL and the SFT improvers, judged by pref_rm and by the held-out judge pref_judge",
		Needs:    []string{"pref_data", "pref_sft", "pref_pit_sft", "pref_pit_rl", "pref_rm", "pref_judge"},
		Settings: func() any { s := DefaultEvalSettings(); return &s },
		Publish:  []string{EvalFile, EvalTable},
		Version:  "2",
		Run:      runEval,
	})
}

// SFTReport is pref_sft.json (pref_pit_sft.json for the improver).
type SFTReport struct {
	Improver      bool    `json:"improver"`
	TrainExamples int     `json:"train_examples"`
	Steps         int     `json:"steps"`
	Params        int     `json:"params"`
	TrainSeconds  float64 `json:"train_seconds"`
	TrainLoss     float64 `json:"train_loss"` // the last step's
	// HeldOutLoss is the mean per-token negative log-likelihood of the
	// held-out split's targets (y_w and EOS) before and after training.
	HeldOutLossBefore float64 `json:"heldout_loss_before"`
	HeldOutLoss       float64 `json:"heldout_loss"`
}

// sftCheckpoint is the SFT stages' own state in their checkpoints.
type sftCheckpoint struct {
	HeldOutLossBefore float64 `json:"heldout_loss_before"`
}

// sftExample lays out e for SFT with the loss on the target y_w and EOS:
// the policy's input or, for the improver, the one starting from y_l.
func sftExample(v pref.Vocab, e pref.Example, improver bool) ([]int, []bool) {
	var ref []int
	if improver {
		ref = e.Rejected
	}
	seq := append(v.Prefix(e.Prompt, ref), e.Chosen...)
	seq = append(seq, v.EOS)
	mask := make([]bool, len(seq))
	for i := len(seq) - len(e.Chosen) - 1; i < len(seq); i++ {
		mask[i] = true
	}
	return seq, mask
}

// heldOutLoss is the mean per-token NLL of the targets of ex.
func heldOutLoss(ctx context.Context, m *nn.Model, v pref.Vocab, ex []pref.Example, improver bool, batch int) (float64, error) {
	var sum, n float64
	for i := 0; i < len(ex); i += batch {
		part := ex[i:min(i+batch, len(ex))]
		seqs, masks := make([][]int, len(part)), make([][]bool, len(part))
		for j, e := range part {
			seqs[j], masks[j] = sftExample(v, e, improver)
		}
		sc, err := m.ScoreTokens(ctx, seqs, 1)
		if err != nil {
			return 0, fmt.Errorf("held-out loss: %w", err)
		}
		for j, mask := range masks {
			for t, on := range mask {
				if on {
					sum -= sc.LogProbs[j][t]
					n++
				}
			}
		}
	}
	return sum / max(n, 1), nil
}

func sftRunner(improver bool, file string) func(c *runner.Context) error {
	return func(c *runner.Context) error {
		var saved sftCheckpoint
		t, err := startTraining(c, &saved)
		if err != nil {
			return err
		}
		defer t.tr.Close()
		s, v := t.s, t.d.Vocab
		rep := SFTReport{Improver: improver, TrainExamples: len(t.train), Steps: s.Steps, Params: t.m.NumParams()}
		if t.done > 0 {
			rep.HeldOutLossBefore = saved.HeldOutLossBefore
		} else if rep.HeldOutLossBefore, err = heldOutLoss(c, t.m, v, t.out, improver, s.EvalBatch); err != nil {
			return err
		}
		save := func(string, int) (any, []string, error) { return sftCheckpoint{rep.HeldOutLossBefore}, nil, nil }
		start := time.Now()
		next := t.batches(c, s.BatchSize)
		for step := 1; step <= s.Steps; step++ {
			if err := c.Err(); err != nil {
				return err
			}
			examples := next()
			if step <= t.done {
				continue // resumed: the checkpoint covers this step
			}
			var b nn.Batch
			for _, e := range examples {
				seq, mask := sftExample(v, e, improver)
				b.Seqs, b.Mask = append(b.Seqs, seq), append(b.Mask, mask)
			}
			if rep.TrainLoss, err = t.tr.SFTStep(b); err != nil {
				return fmt.Errorf("step %d: %w", step, err)
			}
			if err := t.ck.Metric(step, "loss", rep.TrainLoss); err != nil {
				return err
			}
			if s.EvalEvery > 0 && step%s.EvalEvery == 0 && step < s.Steps {
				l, err := heldOutLoss(c, t.m, v, t.out, improver, s.EvalBatch)
				if err != nil {
					return err
				}
				if err := t.ck.Metric(step, "heldout_loss", l); err != nil {
					return err
				}
			}
			c.Progress(step, s.Steps)
			if err := t.ck.MaybeSaveWith(t.tr, step, s.Steps, save); err != nil {
				return err
			}
		}
		rep.TrainSeconds = time.Since(start).Seconds()
		if rep.HeldOutLoss, err = heldOutLoss(c, t.m, v, t.out, improver, s.EvalBatch); err != nil {
			return err
		}
		if err := c.Metric(s.Steps, "heldout_loss", rep.HeldOutLoss); err != nil {
			return err
		}
		c.Log.Info("held-out loss", "before", rep.HeldOutLossBefore, "after", rep.HeldOutLoss)
		if err := results.WriteJSON(filepath.Join(c.Out, file), rep); err != nil {
			return err
		}
		if err := t.m.Save(filepath.Join(c.Out, ModelFile)); err != nil {
			return fmt.Errorf("save model: %w", err)
		}
		return nil
	}
}

// PITRLSettings configure pref_pit_rl.
type PITRLSettings struct {
	rl.Settings `toml:",squash"`
	// Reference is where y_ref comes from (never empty: pref_data keeps no
	// pair with an empty response): "policy" (a sample of the
	// pref_sft policy at the rollout temperature, as PIT's second
	// curriculum round; an empty sample falls back to the rejected
	// response, counted by the metric empty_references) or "rejected"
	// (the pair's rejected response, as its first).
	Reference string `toml:"reference"`
}

// DefaultPITRLSettings are rl's defaults with policy references.
func DefaultPITRLSettings() PITRLSettings {
	return PITRLSettings{Settings: rl.DefaultSettings(), Reference: "policy"}
}

// Validate reports bad settings.
func (s *PITRLSettings) Validate() error {
	err := s.Settings.Validate()
	if s.Reference != "policy" && s.Reference != "rejected" {
		err = errors.Join(err, &experiment.FieldError{Key: "reference", Msg: fmt.Sprintf(`want "policy" or "rejected" (got %q)`, s.Reference)})
	}
	return err
}

// prefTask is the preference task as the RL loop's Task: the dataset's
// layouts, responses up to max_response_bytes tokens, and no oracle.
type prefTask struct {
	v       pref.Vocab
	maxResp int
	decode  func([]int) string
}

func (p prefTask) Prefix(prompt, ref []int) []int         { return p.v.Prefix(prompt, ref) }
func (p prefTask) MaxResponse() int                       { return p.maxResp }
func (p prefTask) EOS() int                               { return p.v.EOS }
func (p prefTask) Cut(sample []int) ([]int, bool)         { return p.v.Cut(sample) }
func (prefTask) Quality(rl.Prompt, []int) (float64, bool) { return 0, false }
func (p prefTask) Decode(ids []int) string                { return p.decode(ids) }
func newPrefTask(c *runner.Context, d *pref.Dataset) prefTask {
	return prefTask{v: d.Vocab, maxResp: d.Settings.MaxResponseBytes, decode: decoder(c)}
}

// tokens is a preference prompt as the RL loop's Prompt.
type tokens []int

func (t tokens) Tokens() []int { return t }

// decoder renders ids as text with the model's tokenizer (bytes or the
// pretrained one), for messages.
func decoder(c *runner.Context) func([]int) string {
	if ms, ok := c.Model.(*model.Settings); ok && ms.Pretrained() != nil {
		tok := ms.Pretrained().Tokenizer
		return func(ids []int) string {
			s, err := tok.Decode(ids)
			if err != nil {
				return fmt.Sprint(ids)
			}
			return s
		}
	}
	return pref.Decode
}

// loadStageModel loads the model a stage before this one saved.
func loadStageModel(c *runner.Context, stage string) (*nn.Model, error) {
	m, err := nn.Load(filepath.Join(c.Input(stage), ModelFile))
	if err != nil {
		return nil, fmt.Errorf("the %s model: %w", stage, err)
	}
	return m, nil
}

func readRMReport(c *runner.Context, stage string) (*Report, error) {
	var rep Report
	if err := results.ReadJSON(filepath.Join(c.Input(stage), RMFile), &rep); err != nil {
		return nil, fmt.Errorf("the %s report: %w", stage, err)
	}
	return &rep, nil
}

func runPITRL(c *runner.Context) error {
	s := c.Settings.(*PITRLSettings)
	d, err := readDataset(c)
	if err != nil {
		return err
	}
	models := map[string]*nn.Model{}
	for _, name := range []string{"pref_sft", "pref_pit_sft", "pref_rm"} {
		if models[name], err = loadStageModel(c, name); err != nil {
			return err
		}
	}
	rmRep, err := readRMReport(c, "pref_rm")
	if err != nil {
		return err
	}
	rew, desc, err := model.RewardPlugin(c, model.NewService(models["pref_rm"], layoutFor(d.Vocab), nil))
	if err != nil {
		return err
	}
	if desc.NeedsLearnedModel && desc.ReferenceConditioned != rmRep.ReferenceConditioned {
		return fmt.Errorf("reward plugin %q (reference-conditioned: %v) cannot score with the model pref_rm trained with %q (reference-conditioned: %v); give both stages the same formulation",
			desc.Name, desc.ReferenceConditioned, rmRep.Plugin, rmRep.ReferenceConditioned)
	}
	alg, _, err := model.AlgorithmPlugin(c)
	if err != nil {
		return err
	}
	task := newPrefTask(c, d)
	loop, err := rl.NewLoopFor(c, &s.Settings, task, models["pref_pit_sft"], rew, alg)
	if err != nil {
		return err
	}
	defer loop.Close()
	ck, done, save, err := checkpoint.StartRL(loop, c, alg)
	if err != nil {
		return err
	}
	if frozen := model.Frozen(c.Model); frozen != nil {
		loop.Trainer.Freeze(frozen)
	}
	train := d.Train.Examples
	rng := c.Rand("prompts")
	for step := 1; step <= s.Steps; step++ {
		if err := c.Err(); err != nil {
			return err
		}
		ex := make([]pref.Example, s.Prompts)
		for i := range ex {
			ex[i] = train[rng.IntN(len(train))]
		}
		if step <= done {
			continue // resumed: the checkpoint covers this step
		}
		qs := make([]rl.Query, len(ex))
		if s.Reference == "rejected" {
			for i, e := range ex {
				qs[i] = rl.Query{Prompt: tokens(e.Prompt), Ref: e.Rejected}
			}
		} else {
			prefixes := make([][]int, len(ex))
			for i, e := range ex {
				prefixes[i] = d.Vocab.Prefix(e.Prompt, nil)
			}
			smp, err := model.Sample(c, models["pref_sft"], prefixes, s.Temperature, task.maxResp, d.Vocab.EOS, d.Vocab.Cut, c.Rand(fmt.Sprintf("references-%d", step)))
			if err != nil {
				return fmt.Errorf("step %d: references: %w", step, err)
			}
			empty := 0
			for i, e := range ex {
				ref := smp[i].Resp
				if len(ref) == 0 {
					// A reference-conditioned input needs a reference:
					// an empty answer of the policy falls back to the
					// pair's rejected response, and is counted.
					ref, empty = e.Rejected, empty+1
				}
				qs[i] = rl.Query{Prompt: tokens(e.Prompt), Ref: ref}
			}
			if err := ck.Metric(step, "empty_references", float64(empty)/float64(len(ex))); err != nil {
				return err
			}
		}
		knobs, err := loop.Knobs()
		if err != nil {
			return err
		}
		if _, err := loop.Step(step, qs, knobs); err != nil {
			return fmt.Errorf("%w", err)
		}
		c.Progress(step, s.Steps)
		if err := ck.MaybeSaveWith(loop.Trainer, step, s.Steps, save); err != nil {
			return err
		}
	}
	if err := loop.Policy.Save(filepath.Join(c.Out, ModelFile)); err != nil {
		return fmt.Errorf("save model: %w", err)
	}
	return nil
}
