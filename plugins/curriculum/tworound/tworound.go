// Package tworound is pit's built-in two-round curriculum, the paper's:
// round 0 takes the improver's references from the data pair {y_l, y_w}
// (easy to improve) for round0_steps steps, then round 1 takes them from
// samples of the RLHF policy M_P^RL (its own good answers: hard).
package tworound

import (
	"context"

	"github.com/pit-lab/pit/plugins/curriculum/internal/mix"
	"github.com/pit-lab/pit/plugins/sdk"
)

// Name is the plugin's registered name.
const Name = "two-round"

// Config is two-round's configuration.
type Config struct {
	Round0Steps int `toml:"round0_steps" doc:"steps of round 0 (data references) before round 1 (policy references); 0 means half of the stage's steps" range:">= 0"`
	mix.Common  `toml:",squash"`
}

// DefaultConfig returns the defaults: round 0 for half the stage, and the
// shared defaults of mix.DefaultCommon.
func DefaultConfig() Config { return Config{Common: mix.DefaultCommon()} }

// Curriculum is the two-round strategy. It implements sdk.Curriculum.
type Curriculum struct{ mix.Base[Config] }

// New returns a two-round curriculum with the default config and seed 0.
// Configure restarts it from the request's seed.
func New() *Curriculum {
	c := &Curriculum{}
	c.Init(Name, "the paper's curriculum: round 0 data references {y_l, y_w}, then round 1 policy samples",
		DefaultConfig, nil, nil)
	return c
}

// Next implements sdk.Curriculum.
func (c *Curriculum) Next(_ context.Context, req *sdk.NextRequest) (*sdk.NextResponse, error) {
	r0, err := c.Span(req, c.Config.Round0Steps, "round0_steps", "half the stage", 2)
	if err != nil {
		return nil, err
	}
	p, round, phase := 0.0, 0, "round0"
	if req.Step >= r0 {
		p, round, phase = 1, 1, "round1"
	}
	return c.Plan(req, p, round, phase)
}
