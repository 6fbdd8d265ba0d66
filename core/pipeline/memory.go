package pipeline

import (
	"context"
	"fmt"
	"strings"

	"github.com/pit-lab/pit/core/experiment"
	"github.com/pit-lab/pit/core/model"
	"github.com/pit-lab/pit/core/nn"
	"github.com/pit-lab/pit/core/task/synth"
)

// Peak memory of a stage, estimated before any work from the model's shape,
// the stage's batch and the context (docs/memory.md explains the formula;
// TestMemoryEstimateCalibrated checks it against the measured peak RSS of
// real training steps):
//
//	peak = base + trained·(w·P·trainedCopies + act·actTrained)
//	            + frozen·w·P·frozenCopies + frozenGraphs·act·actFrozen
//
//	P      parameters of one model, exactly as nn.New lays them out:
//	       V·D + T·D + L·(12·D² + 2·D·M + 13·D + M) + (D+1)·(V+1) + 3·D + 1
//	w      4 bytes (float32)
//	act    nn.ActivationBytes: w·B·T·(L·(8·D + 3·M + H·T) + 6·D + 3·M +
//	       3·(V+1)), the arrays a training graph holds at its peak for B
//	       sequences of T tokens (the activations its backward pass needs,
//	       attention weights H·T² a sequence, the logits V+1 a token)
//
// A trainer compiles a graph per sequence-length bucket (8, 16, … tokens,
// up to 8 kept) and each graph holds its own arrays, so a stage whose
// batches vary in length holds several. Fitted to the peak RSS of one step
// at every bucket (the worst case), models of 0.1M to 3.2M parameters
// (d_model 64 to 256, 2 to 4 layers, 16 to 32 sequences of 48 tokens), the
// measure is about 25 MiB + 14·w·P + 2.6·act (arrays shared by liveness,
// issue 17); the constants below round that up, so the estimate is 1.6 to
// 1.9 times the measure. Frozen models (the KL reference, reward models,
// the eval's policies) only score and sample: their weights, and a
// forward graph without gradients for each used at the same time
// (frozenGraphs, counted as act although a forward graph now holds much
// less), calibrated only through whole runs (docs/memory.md).
const (
	memBase          = 64 << 20
	memTrainedCopies = 20
	memActTrained    = 4
	memFrozenCopies  = 4
	memActFrozen     = 1
)

// memEstimate is a stage's estimated peak and what it is made of.
type memEstimate struct {
	Bytes    uint64
	Params   int    // parameters of one model
	Models   string // e.g. "1 trained + 2 frozen"
	Batch    int    // sequences per step
	Context  int
	BatchKey string // the setting that sets Batch, for the suggestion
}

// estimateStage estimates the peak memory of one stage of an arm; ok is
// false for stages with no model.
func estimateStage(cfg *experiment.Config, st experiment.Stage) (memEstimate, bool) {
	task := synth.DefaultSettings()
	if t, ok := cfg.Task.Settings.(*synth.Settings); ok {
		task = *t
	}
	var ms any
	if cfg.Model != nil {
		ms = cfg.Model.Settings
	}
	nc, err := modelConfigFor(task, ms, 0)
	if err != nil {
		return memEstimate{}, false // the model's own validation reports it
	}
	e := memEstimate{Params: int(nn.CountParams(nc)), Context: nc.Context}
	trained, frozen := 1, 0
	frozenActs := uint64(0) // forward graphs of frozen models alive at once
	switch s := st.Settings.(type) {
	case *SFTSettings:
		e.Batch, e.BatchKey = s.BatchSize, "batch_size"
	case *RMSettings:
		// A comparison step scores both sides of each pair; the PIT
		// formulation's five comparisons read three sequences per pair.
		per := 2
		if st.Kind == "pit_rm" {
			per = 3
		}
		e.Batch, e.BatchKey = per*s.BatchSize, "batch_size"
	case *RLSettings, *PITRLSettings:
		rl, _ := s.(*RLSettings)
		if p, ok := s.(*PITRLSettings); ok {
			rl = &p.RLSettings
		}
		e.Batch, e.BatchKey = rl.Prompts*model.SamplesPerPrompt(st), "prompts_per_step"
		frozen = 2 // the KL reference and the reward model
		if st.Kind == "pit_rl" {
			frozen = 3 // and the rlhf policy that writes round-1 references
		}
		frozenActs = uint64(frozen)
	case *EvalSettings:
		// Both policies, both reward models and the improver, used one
		// after the other on every eval prompt's draws at once.
		trained, frozen, frozenActs = 0, 5, 1
		prompts := task.Splits.Eval
		if s.Prompts > 0 && s.Prompts < prompts {
			prompts = s.Prompts
		}
		e.Batch, e.BatchKey = max(prompts, 1)*max(s.Draws, 1), "prompts"
	default:
		return e, false
	}
	const w = 4 // float32; the pipeline's models are never float64
	P := uint64(e.Params)
	act := uint64(nn.ActivationBytes(nc, e.Batch, nc.Context, true))
	tr, fr := uint64(trained), uint64(frozen)
	e.Bytes = memBase + tr*(w*P*memTrainedCopies+act*memActTrained) + fr*w*P*memFrozenCopies + frozenActs*act*memActFrozen
	var parts []string
	if trained > 0 {
		parts = append(parts, fmt.Sprintf("%d trained", trained))
	}
	if frozen > 0 {
		parts = append(parts, fmt.Sprintf("%d frozen", frozen))
	}
	e.Models = strings.Join(parts, " + ")
	return e, true
}

// checkMemory refuses, before any work, a stage whose estimated peak
// memory exceeds what the machine has available, and a run whose stages
// together do: the stages of a run share one pit process, and the memory
// one stage used is not all returned to the system before the next starts
// (measured: docs/memory.md), so the run's peak is bounded by the sum of
// what each stage adds to the process.
func checkMemory(_ context.Context, arm *experiment.Arm, env experiment.CheckEnv) []experiment.Problem {
	if env.MemAvailable == 0 {
		return nil
	}
	var probs []experiment.Problem
	total := estimateRun(arm.Config)
	for _, st := range arm.Config.Stages {
		e, ok := estimateStage(arm.Config, st)
		if !ok || e.Bytes <= env.MemAvailable {
			continue
		}
		hint := "shrink [model] (d_model, layers) or the task's lengths, or run on a machine with more memory"
		if e.BatchKey != "" {
			batch := fmt.Sprintf("lower stages.%s.%s", st.Name, e.BatchKey)
			if fit := fitBatch(arm.Config, st, env.MemAvailable); fit > 0 {
				batch = fmt.Sprintf("stages.%s.%s = %d would fit", st.Name, e.BatchKey, fit)
			}
			hint = batch + ", or " + hint
		}
		probs = append(probs, experiment.Problem{
			Key: "stages." + st.Name,
			Msg: fmt.Sprintf("needs about %s at its peak (%s model(s) of %s parameters, %d sequences of %d tokens per step), but this machine has %s available (MemAvailable)",
				bytesString(e.Bytes), e.Models, countString(e.Params), e.Batch, e.Context, bytesString(env.MemAvailable)),
			Hint: hint,
		})
	}
	if len(probs) == 0 && total > env.MemAvailable {
		probs = append(probs, experiment.Problem{
			Key: "stages",
			Msg: fmt.Sprintf("each stage fits, but together they may need about %s in one pit process (a stage's memory is not all returned before the next starts; an upper bound, see docs/memory.md), and this machine has %s available (MemAvailable)",
				bytesString(total), bytesString(env.MemAvailable)),
			Hint: "lower the stages' batch_size or prompts_per_step, or shrink [model], or run on a machine with more memory (or with the Slurm executor, one stage per job)",
		})
	}
	return probs
}

// estimateRun bounds the peak memory of a run's process: the base, plus
// what each stage adds.
func estimateRun(cfg *experiment.Config) uint64 {
	total := uint64(memBase)
	for _, st := range cfg.Stages {
		if e, ok := estimateStage(cfg, st); ok {
			total += e.Bytes - memBase
		}
	}
	return total
}

// fitBatch returns the largest value of the stage's batch setting whose
// estimate fits in avail, or 0 when not even 1 does.
func fitBatch(cfg *experiment.Config, st experiment.Stage, avail uint64) int {
	set := func(n int) any {
		switch s := st.Settings.(type) {
		case *SFTSettings:
			c := *s
			c.BatchSize = n
			return &c
		case *RMSettings:
			c := *s
			c.BatchSize = n
			return &c
		case *RLSettings:
			c := *s
			c.Prompts = n
			return &c
		case *PITRLSettings:
			c := *s
			c.Prompts = n
			return &c
		case *EvalSettings:
			c := *s
			c.Prompts = n
			return &c
		}
		return nil
	}
	lo, hi := 0, 1
	for {
		s := st
		if s.Settings = set(hi); s.Settings == nil {
			return 0
		}
		if e, _ := estimateStage(cfg, s); e.Bytes > avail || hi > 1<<20 {
			break
		}
		lo, hi = hi, hi*2
	}
	for hi-lo > 1 {
		mid := (lo + hi) / 2
		s := st
		s.Settings = set(mid)
		if e, _ := estimateStage(cfg, s); e.Bytes <= avail {
			lo = mid
		} else {
			hi = mid
		}
	}
	return lo
}

func bytesString(b uint64) string {
	switch {
	case b >= 1<<30:
		return fmt.Sprintf("%.1f GiB", float64(b)/(1<<30))
	default:
		return fmt.Sprintf("%d MiB", b>>20)
	}
}

func countString(n int) string {
	switch {
	case n >= 1e9:
		return fmt.Sprintf("%.1fB", float64(n)/1e9)
	case n >= 1e6:
		return fmt.Sprintf("%.1fM", float64(n)/1e6)
	case n >= 1e3:
		return fmt.Sprintf("%.0fk", float64(n)/1e3)
	}
	return fmt.Sprint(n)
}
