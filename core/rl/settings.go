package rl

import (
	"errors"
	"fmt"

	"github.com/pit-lab/pit/core/experiment"
)

// Settings configure an RL stage (rlhf and pit_rl read them from their
// tables).
type Settings struct {
	Steps       int     `toml:"steps"`            // RL steps (one batch of rollouts each)
	Prompts     int     `toml:"prompts_per_step"` // prompts per step; the algorithm's samples_per_prompt multiplies it
	LR          float64 `toml:"lr"`               // learning rate
	WeightDecay float64 `toml:"weight_decay"`     // AdamW decoupled weight decay
	ClipNorm    float64 `toml:"clip_norm"`        // global gradient-norm clip; 0 for none
	Temperature float64 `toml:"temperature"`      // sampling temperature of the rollouts (also used to score them)
	// HackWindow and HackTolerance tune the reward-hacking alarm: when the
	// mean reward of the last HackWindow steps is above that of the window
	// before while the mean oracle measure fell by more than HackTolerance,
	// the stage warns (in its log and the run's manifest).
	HackWindow    int     `toml:"hack_window"`
	HackTolerance float64 `toml:"hack_tolerance"`
	// HackCorr also raises the alarm when the batch correlation between the
	// reward and the oracle measure, averaged over the last HackWindow
	// steps, falls below it after the first window was at or above it: the
	// reward stopped tracking what it should (0: off).
	HackCorr float64 `toml:"hack_corr"`
}

// DefaultSettings are the RL settings a stage table leaves out.
func DefaultSettings() Settings {
	return Settings{Steps: 100, Prompts: 16, LR: 3e-4, ClipNorm: 1, Temperature: 1, HackWindow: 10, HackTolerance: 0.01, HackCorr: 0.1}
}

// Validate reports bad settings.
func (s *Settings) Validate() error { return s.Check(1) }

// Check is Validate with the least number of steps allowed (pit_rl allows
// 0: no RL).
func (s *Settings) Check(minSteps int) error {
	var errs []error
	bad := func(key, format string, args ...any) {
		errs = append(errs, &experiment.FieldError{Key: key, Msg: fmt.Sprintf(format, args...)})
	}
	if s.Steps < minSteps {
		bad("steps", "must be at least %d (got %d)", minSteps, s.Steps)
	}
	if s.Prompts < 1 {
		bad("prompts_per_step", "must be at least 1 (got %d)", s.Prompts)
	}
	if !(s.LR > 0) {
		bad("lr", "must be > 0 (got %v)", s.LR)
	}
	if !(s.Temperature > 0) {
		bad("temperature", "must be > 0 (got %v)", s.Temperature)
	}
	if s.HackWindow < 1 {
		bad("hack_window", "must be at least 1 (got %d)", s.HackWindow)
	}
	if s.HackTolerance < 0 {
		bad("hack_tolerance", "must be ≥ 0 (got %v)", s.HackTolerance)
	}
	if s.HackCorr < 0 || s.HackCorr > 1 {
		bad("hack_corr", "must be in [0, 1] (got %v)", s.HackCorr)
	}
	return errors.Join(errs...)
}
