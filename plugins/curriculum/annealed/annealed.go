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
	"math"

	"github.com/pit-lab/pit/plugins/curriculum/internal/mix"
	"github.com/pit-lab/pit/plugins/sdk"
)

// Name is the plugin's registered name.
const Name = "annealed"

// Config is annealed's configuration.
type Config struct {
	P0          float64 `toml:"p0" doc:"probability of a policy reference at the first step" range:"[0, 1]"`
	P1          float64 `toml:"p1" doc:"probability of a policy reference at the end of the ramp" range:"[0, 1]"`
	AnnealSteps int     `toml:"anneal_steps" doc:"length of the linear ramp in steps; 0 means the whole stage" range:">= 0"`
	mix.Common  `toml:",squash"`
}

// DefaultConfig returns the defaults: from 0 to 1 over the whole stage, and
// the shared defaults of mix.DefaultCommon.
func DefaultConfig() Config { return Config{P0: 0, P1: 1, Common: mix.DefaultCommon()} }

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
type Curriculum struct{ mix.Base[Config] }

// New returns an annealed curriculum with the default config and seed 0.
// Configure restarts it from the request's seed.
func New() *Curriculum {
	c := &Curriculum{}
	c.Init(Name, "probability of a policy reference rises linearly from p0 to p1; data references otherwise",
		DefaultConfig, nil, nil)
	return c
}

// Next implements sdk.Curriculum.
func (c *Curriculum) Next(_ context.Context, req *sdk.NextRequest) (*sdk.NextResponse, error) {
	n, err := c.Span(req, c.Config.AnnealSteps, "anneal_steps", "the whole stage", 1)
	if err != nil {
		return nil, err
	}
	p := c.Config.Prob(req.Step, n)
	round := 0
	if p >= 0.5 {
		round = 1
	}
	return c.Plan(req, p, round, fmt.Sprintf("p_policy=%.3f", p))
}
