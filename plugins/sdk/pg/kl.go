package pg

import (
	"encoding/json"
	"fmt"
	"math"
)

// KLController holds the coefficient β of the KL penalty. A fixed controller
// never changes β; an adaptive one follows Ziegler et al. (2019): after each
// batch, e = clip(KL/target − 1, −0.2, 0.2) and β ← β·(1 + e·n/horizon),
// where KL is the batch's mean summed KL per sequence and n the number of
// sequences in the batch.
type KLController struct {
	Beta     float64 `json:"beta"`
	Adaptive bool    `json:"adaptive"`
	Target   float64 `json:"target"`
	Horizon  float64 `json:"horizon"`
}

// Validate reports a controller that cannot work.
func (c KLController) Validate() error {
	if c.Beta < 0 || !finite(c.Beta) {
		return fmt.Errorf("kl_coef must be a finite number ≥ 0, got %v", c.Beta)
	}
	if c.Adaptive {
		if c.Target <= 0 || !finite(c.Target) {
			return fmt.Errorf("kl_target must be > 0 for the adaptive controller, got %v", c.Target)
		}
		if c.Horizon <= 0 || !finite(c.Horizon) {
			return fmt.Errorf("kl_horizon must be > 0 for the adaptive controller, got %v", c.Horizon)
		}
	}
	return nil
}

// Update moves β after a batch of n sequences whose mean KL was kl.
func (c *KLController) Update(kl float64, n int) {
	if !c.Adaptive {
		return
	}
	e := math.Max(-0.2, math.Min(0.2, kl/c.Target-1))
	c.Beta *= 1 + e*float64(n)/c.Horizon
}

// MarshalState encodes the controller for a checkpoint.
func (c KLController) MarshalState() ([]byte, error) { return json.Marshal(c) }

// UnmarshalState restores β from a checkpoint made by MarshalState. Only β
// is taken from the checkpoint: target and horizon come from the config.
func (c *KLController) UnmarshalState(b []byte) error {
	var saved KLController
	if err := json.Unmarshal(b, &saved); err != nil {
		return fmt.Errorf("decode KL controller state: %w", err)
	}
	if saved.Beta < 0 || !finite(saved.Beta) {
		return fmt.Errorf("KL controller state: β = %v is not a finite number ≥ 0", saved.Beta)
	}
	c.Beta = saved.Beta
	return nil
}
