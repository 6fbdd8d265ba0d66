// Package annealed is pit's built-in annealed curriculum: the probability
// that a reference is a policy (M_P^RL) sample rises linearly from p0 at the
// first step to p1 at step anneal_steps−1 and stays there; the other
// references come from the data pair {y_l, y_w}. The round is 0 while fewer
// than half the references are policy samples (p < 0.5) and 1 from then on,
// so refresh_at_round_change refreshes once, when policy references become
// the majority.
package annealed

import (
	"context"
	"fmt"
	"github.com/pit-lab/pit/plugins/host/registry"
	"math"
	"sync"

	"github.com/pit-lab/pit/plugins/curriculum/internal/mix"
	"github.com/pit-lab/pit/plugins/sdk"
)

// Name is the plugin's registered name.
const Name = "annealed"

func init() {
	registry.Register(sdk.KindCurriculum, Name, func() sdk.Plugin { return New() })
}

// Config is annealed's configuration.
type Config struct {
	P0          float64 `mapstructure:"p0" doc:"probability of a policy reference at the first step"`
	P1          float64 `mapstructure:"p1" doc:"probability of a policy reference at the end of the ramp"`
	AnnealSteps int     `mapstructure:"anneal_steps" doc:"length of the linear ramp in steps; 0 means the whole stage"`
	mix.Common  `mapstructure:",squash"`
}

// DefaultConfig returns the defaults: from 0 to 1 over the whole stage, and
// the shared defaults of mix.DefaultCommon.
func DefaultConfig() Config { return Config{P0: 0, P1: 1, Common: mix.DefaultCommon()} }

// Validate reports the first setting out of range.
func (c Config) Validate() error {
	switch {
	case !(c.P0 >= 0 && c.P0 <= 1):
		return fmt.Errorf("p0 must be in [0, 1], got %v", c.P0)
	case !(c.P1 >= 0 && c.P1 <= 1):
		return fmt.Errorf("p1 must be in [0, 1], got %v", c.P1)
	case c.AnnealSteps < 0:
		return fmt.Errorf("anneal_steps must be ≥ 0, got %d", c.AnnealSteps)
	}
	return c.Common.Validate()
}

// Prob is the probability of a policy reference at step of a ramp of n
// steps: p0 + (p1 − p0)·min(1, step/(n−1)).
func (c Config) Prob(step, n int) float64 {
	if n <= 1 {
		return c.P1
	}
	t := math.Min(1, float64(step)/float64(n-1))
	return c.P0 + (c.P1-c.P0)*t
}

// Curriculum is the annealed strategy. It implements sdk.Curriculum.
type Curriculum struct {
	mu  sync.Mutex
	cfg Config
	mix mix.Mixer
}

// New returns an annealed curriculum with the default config and seed 0.
func New() *Curriculum {
	c := &Curriculum{cfg: DefaultConfig()}
	c.mix.Reset(c.cfg.Common, 0)
	return c
}

// Describe implements sdk.Plugin.
func (c *Curriculum) Describe(context.Context) (*sdk.Description, error) {
	return &sdk.Description{
		Name: Name, Version: mix.Version, Kind: sdk.KindCurriculum,
		Summary: "probability of a policy reference rises linearly from p0 to p1; data references otherwise",
		Config:  sdk.SchemaOf(DefaultConfig()),
	}, nil
}

// Configure implements sdk.Plugin and restarts from the request's seed.
func (c *Curriculum) Configure(_ context.Context, req *sdk.ConfigureRequest) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	cfg := DefaultConfig()
	if err := sdk.DecodeConfig(req.Config, &cfg); err != nil {
		return fmt.Errorf("%s config: %w", Name, err)
	}
	if err := cfg.Validate(); err != nil {
		return fmt.Errorf("%s config: %w", Name, err)
	}
	c.cfg = cfg
	c.mix.Reset(cfg.Common, req.Seed)
	return nil
}

// Next implements sdk.Curriculum.
func (c *Curriculum) Next(_ context.Context, req *sdk.NextRequest) (*sdk.NextResponse, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if req == nil {
		return nil, fmt.Errorf("%s: nil next request", Name)
	}
	n := c.cfg.AnnealSteps
	if n == 0 {
		if req.TotalSteps < 1 {
			return nil, fmt.Errorf("%s: anneal_steps is 0 (the whole stage) but the request has total_steps %d", Name, req.TotalSteps)
		}
		n = req.TotalSteps
	}
	p := c.cfg.Prob(req.Step, n)
	round := 0
	if p >= 0.5 {
		round = 1
	}
	resp, err := c.mix.Plan(req, p, round, fmt.Sprintf("p_policy=%.3f", p))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", Name, err)
	}
	return resp, nil
}

// Observe implements sdk.Curriculum; the ramp depends on the step only.
func (c *Curriculum) Observe(_ context.Context, req *sdk.ObserveRequest) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if req == nil {
		return fmt.Errorf("%s: nil observe request", Name)
	}
	return nil
}

// SaveState implements sdk.Stateful.
func (c *Curriculum) SaveState(context.Context) ([]byte, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.mix.Save(nil)
}

// RestoreState implements sdk.Stateful.
func (c *Curriculum) RestoreState(_ context.Context, b []byte) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if err := c.mix.Restore(b, nil); err != nil {
		return fmt.Errorf("%s: %w", Name, err)
	}
	return nil
}
