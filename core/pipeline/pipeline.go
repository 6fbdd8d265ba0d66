// Package pipeline holds the stages of the PIT method (policy SFT, reward
// model, RLHF, improver SFT, gap reward model, improver RL, eval) as stage
// kinds of package runner, the "synthetic" task kind of experiment files,
// and the synthetic task's model service for reward plugins (the
// "transformer" model kind, the model service itself and the RL loop live in
// core/model and core/rl).
//
// The stages and what they read (their Needs):
//
//	data     the synthetic task's dataset for the run's seed (every other stage reads it)
//	sft      policy SFT on x → y_w                                         (data)
//	rm       reward model trained on its reward plugin's comparisons,
//	         default bradley-terry                                          (data, sft)
//	rlhf     RL of the SFT policy: reward and algorithm plugins (default
//	         bradley-terry, rloo), KL to the frozen SFT policy              (data, sft, rm)
//	pit_sft  improver SFT on (x, y_l) → y_w                                 (data)
//	pit_rm   reward model of the PIT reward plugin, default pit-gap         (data, pit_sft)
//	pit_rl   improver RL: references per step from the curriculum plugin
//	         (default two-round), reward pit-gap, KL to the PIT SFT model;
//	         optional reward-model refresh                                 (data, pit_sft, pit_rm, rlhf)
//	eval     y_0 ~ M_P^RL, K improvement steps, win/tie/lose and Δ per
//	         iteration under the oracle and the BT judge, the null and
//	         best-of-n baselines, the gap model's four scores               (data, rm, pit_rm, rlhf, pit_rl)
//
// A blank import registers them all:
//
//	import _ "github.com/pit-lab/pit/core/pipeline"
//
// Each stage's settings are a struct of this package (SFTSettings,
// RMSettings, RLSettings, PITRLSettings, EvalSettings) whose toml tags are
// the keys of its [stages.NAME] table; the defaults are the values the
// default* functions return. The rubric baseline (an improver trained with
// the explicit rubric reward) is the pit_rl stage with reward = "rubric"
// (mode "gain"): a grid arm, whose eval rows are named "rubric" and share
// y_0 with the other arms of the seed (see experiments/reward-formulation.toml).
//
// RL stages log per step the plugin's reward, the oracle measure (q(x, y)
// for the policy, the oracle gain q(x, y) − q(x, y_ref) for the improver,
// also per reference source), their correlation over the batch, the KL to
// the reference and the loss terms, and warn (log and manifest) when the
// reward keeps rising while the oracle measure falls.
//
// Every random choice flows from the run's seed through runner.Context.Seed;
// models are initialised from it, so a stage computed twice gives the same
// numbers. A training step whose loss, gradient or reward is NaN or infinite
// fails its stage with the step and the value in the error.
//
// PrintReport prints the eval tables (or, for a grid, each arm's mean Δ with
// bootstrap intervals) at the end of pit run.
package pipeline

import (
	"encoding/json"
	"fmt"
	"path/filepath"

	"github.com/pit-lab/pit/core/experiment"
	"github.com/pit-lab/pit/core/model"
	"github.com/pit-lab/pit/core/nn"
	"github.com/pit-lab/pit/core/results"
	"github.com/pit-lab/pit/core/runner"
	"github.com/pit-lab/pit/core/task/synth"
)

// TaskKind is the task kind of the synthetic task in experiment files:
// [task] kind = "synthetic"; the rest of the table is synth.Settings.
const TaskKind = "synthetic"

func init() {
	experiment.RegisterTask(TaskKind, func() any { s := synth.DefaultSettings(); return &s })
}

// taskOf returns the run's synthetic task settings.
func taskOf(c *runner.Context) (synth.Settings, error) {
	switch t := c.Task.(type) {
	case *synth.Settings:
		return *t, nil
	case nil:
		return synth.DefaultSettings(), nil
	default:
		return synth.Settings{}, fmt.Errorf("task of type %T is not the %q task", c.Task, TaskKind)
	}
}

// modelConfig is the nn configuration of a fresh model for the run: sizes
// from [model], vocabulary and context from the task, initialised from seed.
func modelConfig(c *runner.Context, task synth.Settings, seed int64) (nn.Config, error) {
	return modelConfigFor(task, c.Model, seed)
}

// modelConfigFor is modelConfig for decoded model settings (nil: the
// defaults).
func modelConfigFor(task synth.Settings, settings any, seed int64) (nn.Config, error) {
	return model.NNConfig(settings, synth.VocabSize, max(task.MaxContext, task.ImproverContext()), synth.PAD, seed)
}

// startModel returns the model a training stage starts from, as its
// init_from says: fresh weights from the run's seed ("scratch"), the model
// of a needed stage, or a checkpoint file; either way built for the run's
// model settings (device included).
func startModel(c *runner.Context, task synth.Settings) (*nn.Model, error) {
	cfg, err := modelConfig(c, task, c.Seed("init"))
	if err != nil {
		return nil, err
	}
	var m *nn.Model
	switch {
	case c.InitPath != "":
		if m, err = nn.LoadWeights(cfg, c.InitPath); err != nil {
			return nil, fmt.Errorf("init_from: %w", err)
		}
		c.Log.Info("model initialised from a checkpoint file", "path", c.InitPath)
	case c.InitFrom != "" && c.InitFrom != experiment.InitScratch:
		src, err := nn.Load(filepath.Join(c.Input(c.InitFrom), modelFile))
		if err != nil {
			return nil, fmt.Errorf("init_from: load the %s model: %w", c.InitFrom, err)
		}
		if m, err = nn.WithWeightsOf(cfg, src); err != nil {
			return nil, fmt.Errorf("init_from %s: %w", c.InitFrom, err)
		}
		c.Log.Info("model initialised from another stage", "stage", c.InitFrom)
	default:
		if m, err = nn.New(cfg); err != nil {
			return nil, fmt.Errorf("%w", err)
		}
	}
	logDevice(c, m)
	return m, nil
}

// checkInit is the training stages' runner.Kind.CheckInit: the checkpoint
// file's architecture must be the one the run's task and model tables
// give.
func checkInit(path string, task, model any) error {
	ts, ok := task.(*synth.Settings)
	if !ok {
		return nil // another task kind: the stage reports it when it runs
	}
	want, err := modelConfigFor(*ts, model, 0)
	if err != nil {
		return err
	}
	have, err := nn.CheckpointConfig(path)
	if err != nil {
		return err
	}
	if d := nn.ArchMismatch(have, want); d != "" {
		return fmt.Errorf("its shape differs from this experiment's model: %s", d)
	}
	return nil
}

// Artefact file names inside stage directories.
const (
	datasetFile = "dataset.json"
	modelFile   = "model.bin"
	rewardFile  = "reward.json"
)

// loadDataset reads the data stage's dataset.
func loadDataset(c *runner.Context) (*synth.Dataset, *synth.Task, error) {
	var d synth.Dataset
	if err := results.ReadJSON(filepath.Join(c.Input("data"), datasetFile), &d); err != nil {
		return nil, nil, fmt.Errorf("read dataset: %w", err)
	}
	task, err := synth.New(d.Settings)
	if err != nil {
		return nil, nil, fmt.Errorf("%w", err)
	}
	return &d, task, nil
}

// loadModel reads the model a needed stage saved.
func loadModel(c *runner.Context, stage string) (*nn.Model, error) {
	m, err := nn.Load(filepath.Join(c.Input(stage), modelFile))
	if err != nil {
		return nil, fmt.Errorf("load the %s model: %w", stage, err)
	}
	logDevice(c, m)
	return m, nil
}

// logDevice logs which GPU a CUDA model runs on, for the stage's log.
func logDevice(c *runner.Context, m *nn.Model) {
	if m.Config().Device == "cuda" {
		c.Log.Info("model on the GPU", "device", "cuda", "gpu", nn.DeviceName())
	}
}

// saveModel writes m to the stage's output directory.
func saveModel(c *runner.Context, m *nn.Model) error {
	if err := m.Save(filepath.Join(c.Out, modelFile)); err != nil {
		return fmt.Errorf("save model: %w", err)
	}
	return nil
}

// rewardInfo records which reward formulation trained a reward model, so
// the stages that use the model can check that they score with a matching
// one.
type rewardInfo struct {
	Plugin               string `json:"plugin"`
	Version              string `json:"version"`
	ReferenceConditioned bool   `json:"reference_conditioned"`
	// Heldout holds the model's held-out figures: "comparison_accuracy"
	// (comparisons of the plugin satisfied) and "oracle_accuracy" (pairs
	// ranked as the oracle ranks them).
	Heldout map[string]float64 `json:"heldout"`
}

func readRewardInfo(c *runner.Context, stage string) (rewardInfo, error) {
	var ri rewardInfo
	if err := results.ReadJSON(filepath.Join(c.Input(stage), rewardFile), &ri); err != nil {
		return ri, fmt.Errorf("%w", err)
	}
	return ri, nil
}

func writeJSON(c *runner.Context, name string, v any) error {
	return results.WriteJSON(filepath.Join(c.Out, name), v)
}

// metric logs a scalar, failing on non-finite values (model.Metric).
func metric(c *runner.Context, step int, name string, v float64) error {
	return model.Metric(c, step, name, v)
}

func mustJSON(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}
