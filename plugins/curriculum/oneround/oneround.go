// Package oneround holds pit's two single-round curricula, the paper's
// ablations: round0-only takes every reference from the data pair
// {y_l, y_w}; round1-only takes every reference from samples of the RLHF
// policy M_P^RL.
package oneround

import (
	"context"
	"fmt"

	"github.com/pit-lab/pit/plugins/curriculum/internal/mix"
	"github.com/pit-lab/pit/plugins/sdk"
)

// The plugins' registered names.
const (
	Round0Name = "round0-only"
	Round1Name = "round1-only"
)

// Config is the single-round curricula's configuration: only the shared
// keys.
type Config struct {
	mix.Common `toml:",squash"`
}

// DefaultConfig returns mix.DefaultCommon.
func DefaultConfig() Config { return Config{Common: mix.DefaultCommon()} }

// Curriculum stays in one round. It implements sdk.Curriculum.
type Curriculum struct {
	mix.Base[Config]
	round int
}

// New returns round0-only (round 0) or round1-only (round 1) with the
// default config and seed 0. Configure restarts it from the request's seed.
func New(round int) *Curriculum {
	c := &Curriculum{round: round}
	switch round {
	case 0:
		c.Init(Round0Name, "ablation: every reference from the data pair {y_l, y_w} (round 0 only)", DefaultConfig, nil, nil)
	case 1:
		c.Init(Round1Name, "ablation: every reference a sample of the RLHF policy (round 1 only)", DefaultConfig, nil, nil)
	default:
		panic(fmt.Sprintf("oneround.New: round %d, want 0 or 1", round))
	}
	return c
}

// Next implements sdk.Curriculum.
func (c *Curriculum) Next(_ context.Context, req *sdk.NextRequest) (*sdk.NextResponse, error) {
	return c.Plan(req, float64(c.round), c.round, fmt.Sprintf("round%d", c.round))
}
