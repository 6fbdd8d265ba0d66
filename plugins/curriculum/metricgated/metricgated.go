// Package metricgated is pit's built-in metric-gated curriculum: references
// come from the data pair {y_l, y_w} (round 0) until the mean of a metric
// the host reports through Observe (by default "reward", the mean gap
// reward of a step) over the last window steps reaches threshold, then from
// samples of the RLHF policy M_P^RL (round 1) for the rest of the stage.
// min_round0_steps keeps round 0 from ending too early and
// max_round0_steps, when set, ends it even if the gate never opens.
package metricgated

import (
	"context"
	"fmt"
	"math"

	"github.com/pit-lab/pit/plugins/curriculum/internal/mix"
	"github.com/pit-lab/pit/plugins/sdk"
)

// Name is the plugin's registered name.
const Name = "metric-gated"

// Config is metric-gated's configuration.
type Config struct {
	Metric         string  `toml:"metric" doc:"name of the Observe statistic to watch (the mean gap reward of a step is \"reward\")"`
	Threshold      float64 `toml:"threshold" doc:"advance to round 1 when the metric's mean over the window is ≥ this (in the metric's units)"`
	Window         int     `toml:"window" doc:"number of most recent observations averaged" range:">= 1"`
	MinRound0Steps int     `toml:"min_round0_steps" doc:"round 0 lasts at least this many steps" range:">= 0"`
	MaxRound0Steps int     `toml:"max_round0_steps" doc:"advance after this many steps even if the gate stays shut; 0 means never" range:">= 0"`
	mix.Common     `toml:",squash"`
}

// DefaultConfig returns the defaults: watch "reward", threshold 0.5 over a
// window of 10 observations, at least 10 steps of round 0 and no cap, and
// the shared defaults of mix.DefaultCommon.
func DefaultConfig() Config {
	return Config{Metric: "reward", Threshold: 0.5, Window: 10, MinRound0Steps: 10, Common: mix.DefaultCommon()}
}

// Validate checks the metric and the steps; the `range` tags bound the
// rest.
func (c Config) Validate() error {
	switch {
	case c.Metric == "":
		return fmt.Errorf("metric must name a statistic")
	case math.IsNaN(c.Threshold) || math.IsInf(c.Threshold, 0):
		return fmt.Errorf("threshold must be finite, got %v", c.Threshold)
	case c.MaxRound0Steps > 0 && c.MaxRound0Steps < c.MinRound0Steps:
		return fmt.Errorf("max_round0_steps (%d) is below min_round0_steps (%d)", c.MaxRound0Steps, c.MinRound0Steps)
	}
	return nil
}

// gate is the strategy's own state, saved with checkpoints.
type gate struct {
	Recent   []float64 `json:"recent"`    // the last ≤ window observations, oldest first
	Open     bool      `json:"open"`      // round 1 reached (for good)
	OpenedAt int       `json:"opened_at"` // the step that first ran in round 1
}

// Curriculum is the metric-gated strategy. It implements sdk.Curriculum.
type Curriculum struct {
	mix.Base[Config]
	gate gate
}

// New returns a metric-gated curriculum with the default config and seed 0.
// Configure restarts it from the request's seed with a closed gate.
func New() *Curriculum {
	c := &Curriculum{}
	c.Init(Name, "data references until a metric's windowed mean passes a threshold, then policy samples",
		DefaultConfig, Config.Validate, func(Config) { c.gate = gate{} })
	return c
}

// windowMean is the mean of the recent observations and whether the window
// is full.
func (c *Curriculum) windowMean() (float64, bool) {
	if len(c.gate.Recent) < c.Config.Window {
		return 0, false
	}
	var s float64
	for _, v := range c.gate.Recent {
		s += v
	}
	return s / float64(len(c.gate.Recent)), true
}

// Next implements sdk.Curriculum. The gate opens at the first step at or
// after min_round0_steps whose window of observations is full and has a
// mean ≥ threshold (or at max_round0_steps), and stays open.
func (c *Curriculum) Next(_ context.Context, req *sdk.NextRequest) (*sdk.NextResponse, error) {
	if req == nil {
		return nil, fmt.Errorf("%s: nil next request", Name)
	}
	phase := "round1"
	if !c.gate.Open {
		mean, full := c.windowMean()
		passed := full && mean >= c.Config.Threshold
		capped := c.Config.MaxRound0Steps > 0 && req.Step >= c.Config.MaxRound0Steps
		switch {
		case (passed && req.Step >= c.Config.MinRound0Steps) || capped:
			c.gate.Open, c.gate.OpenedAt = true, req.Step
		case full:
			phase = fmt.Sprintf("round0 (%s mean %.4g < %.4g)", c.Config.Metric, mean, c.Config.Threshold)
		default:
			phase = fmt.Sprintf("round0 (%d/%d observations of %s)", len(c.gate.Recent), c.Config.Window, c.Config.Metric)
		}
	}
	p, round := 0.0, 0
	if c.gate.Open {
		p, round = 1, 1
	}
	return c.Plan(req, p, round, phase)
}

// Observe implements sdk.Curriculum: it records the watched metric when the
// stats hold it (other stats are ignored). A non-finite value is an error.
func (c *Curriculum) Observe(_ context.Context, req *sdk.ObserveRequest) error {
	if req == nil {
		return fmt.Errorf("%s: nil observe request", Name)
	}
	v, ok := req.Stats[c.Config.Metric]
	if !ok {
		return nil
	}
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return fmt.Errorf("%s: observed %s = %v at step %d", Name, c.Config.Metric, v, req.Step)
	}
	c.gate.Recent = append(c.gate.Recent, v)
	if extra := len(c.gate.Recent) - c.Config.Window; extra > 0 {
		c.gate.Recent = append(c.gate.Recent[:0:0], c.gate.Recent[extra:]...)
	}
	return nil
}

// SaveState implements sdk.Stateful: the mixer's state and the gate.
func (c *Curriculum) SaveState(context.Context) ([]byte, error) {
	return c.Mix.Save(c.gate)
}

// RestoreState implements sdk.Stateful.
func (c *Curriculum) RestoreState(_ context.Context, b []byte) error {
	var g gate
	if err := c.Mix.Restore(b, &g); err != nil {
		return fmt.Errorf("%s: %w", Name, err)
	}
	if len(g.Recent) > c.Config.Window {
		g.Recent = g.Recent[len(g.Recent)-c.Config.Window:]
	}
	c.gate = g
	return nil
}
