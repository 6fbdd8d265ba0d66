package rl

import (
	"fmt"
	"math"

	"github.com/pit-lab/pit/core/stats"
)

// HackAlarm watches an RL stage for reward hacking: the plugin's reward
// rising while the oracle measure falls, the mean of the last window of
// steps against the window before. Both changes must exceed twice their
// standard error (from the steps' spread), and the oracle's fall must also
// exceed the tolerance, so that batch noise alone rarely raises it. It also
// warns once when the reward stops tracking the oracle: the batch
// correlation of the two, averaged over the last window, falls below
// CorrTol after the first window was at or above it.
type HackAlarm struct {
	Window       int     // steps per window
	Tolerance    float64 // the least fall of the oracle measure that counts
	CorrTol      float64 // the correlation below which the reward stopped tracking (0: off)
	rewards, orc []float64
	corrs        []float64 // per step: batch correlation of reward and oracle measure
	lastAlarm    int
	corrAlarmed  bool
}

// Observe adds one step's mean reward, mean oracle measure and their batch
// correlation, and returns a warning when the alarm fires.
func (h *HackAlarm) Observe(step int, reward, oracle, corr float64) (string, bool) {
	h.rewards = append(h.rewards, reward)
	h.orc = append(h.orc, oracle)
	h.corrs = append(h.corrs, corr)
	w := h.Window
	n := len(h.rewards)
	if w < 2 || n < 2*w {
		return "", false
	}
	if h.CorrTol > 0 && !h.corrAlarmed {
		c0, c1 := stats.Mean(h.corrs[:w]), stats.Mean(h.corrs[n-w:])
		if c0 >= h.CorrTol && c1 < h.CorrTol {
			h.corrAlarmed = true
			return fmt.Sprintf("at step %d the reward's batch correlation with the oracle measure is %.3f over the last %d steps, from %.3f over the first %d: it no longer tracks it", step, c1, w, c0, w), true
		}
	}
	if h.lastAlarm > 0 && step-h.lastAlarm < w {
		return "", false
	}
	r0, r1 := h.rewards[n-2*w:n-w], h.rewards[n-w:]
	o0, o1 := h.orc[n-2*w:n-w], h.orc[n-w:]
	dr, dq := stats.Mean(r1)-stats.Mean(r0), stats.Mean(o1)-stats.Mean(o0)
	if dr > 2*stderrDiff(r0, r1) && -dq > max(h.Tolerance, 2*stderrDiff(o0, o1)) {
		h.lastAlarm = step
		return fmt.Sprintf("at step %d the mean reward of the last %d steps rose %.4f → %.4f while the oracle measure fell %.4f → %.4f", step, w, stats.Mean(r0), stats.Mean(r1), stats.Mean(o0), stats.Mean(o1)), true
	}
	return "", false
}

// Reset forgets the history, e.g. when a curriculum changes the
// distribution of references and both measures jump.
func (h *HackAlarm) Reset() {
	h.rewards, h.orc, h.corrs, h.corrAlarmed = h.rewards[:0], h.orc[:0], h.corrs[:0], false
}

// HackState is a HackAlarm's history, for checkpoints.
type HackState struct {
	Rewards     []float64 `json:"rewards"`
	Oracle      []float64 `json:"oracle"`
	Corrs       []float64 `json:"corrs,omitempty"`
	LastAlarm   int       `json:"last_alarm"`
	CorrAlarmed bool      `json:"corr_alarmed,omitempty"`
}

// Save returns the alarm's history for a checkpoint.
func (h *HackAlarm) Save() HackState {
	return HackState{Rewards: append([]float64(nil), h.rewards...), Oracle: append([]float64(nil), h.orc...),
		Corrs: append([]float64(nil), h.corrs...), LastAlarm: h.lastAlarm, CorrAlarmed: h.corrAlarmed}
}

// Restore puts a saved history back.
func (h *HackAlarm) Restore(s HackState) {
	h.rewards, h.orc, h.corrs, h.lastAlarm, h.corrAlarmed = s.Rewards, s.Oracle, s.Corrs, s.LastAlarm, s.CorrAlarmed
}

// Corrs returns the batch correlations observed since the start or the
// last Reset.
func (h *HackAlarm) Corrs() []float64 { return h.corrs }

// stderrDiff is the standard error of mean(b) − mean(a).
func stderrDiff(a, b []float64) float64 {
	return math.Sqrt(stats.Variance(a)/float64(len(a)) + stats.Variance(b)/float64(len(b)))
}
