// Package oneround holds pit's two single-round curricula, the paper's
// ablations: round0-only takes every reference from the data pair
// {y_l, y_w}; round1-only takes every reference from samples of the RLHF
// policy M_P^RL.
package oneround

import (
	"context"
	"fmt"
	"github.com/pit-lab/pit/plugins/host/registry"
	"sync"

	"github.com/pit-lab/pit/plugins/curriculum/internal/mix"
	"github.com/pit-lab/pit/plugins/sdk"
)

// The plugins' registered names.
const (
	Round0Name = "round0-only"
	Round1Name = "round1-only"
)

func init() {
	registry.Register(sdk.KindCurriculum, Round0Name, func() sdk.Plugin { return New(0) })
	registry.Register(sdk.KindCurriculum, Round1Name, func() sdk.Plugin { return New(1) })
}

// Config is the single-round curricula's configuration: only the shared
// keys.
type Config struct {
	mix.Common `mapstructure:",squash"`
}

// DefaultConfig returns mix.DefaultCommon.
func DefaultConfig() Config { return Config{Common: mix.DefaultCommon()} }

// Curriculum stays in one round. It implements sdk.Curriculum.
type Curriculum struct {
	mu    sync.Mutex
	round int
	mix   mix.Mixer
}

// New returns round0-only (round 0) or round1-only (round 1) with the
// default config and seed 0.
func New(round int) *Curriculum {
	if round != 0 && round != 1 {
		panic(fmt.Sprintf("oneround.New: round %d, want 0 or 1", round))
	}
	c := &Curriculum{round: round}
	c.mix.Reset(DefaultConfig().Common, 0)
	return c
}

func (c *Curriculum) name() string {
	if c.round == 0 {
		return Round0Name
	}
	return Round1Name
}

// Describe implements sdk.Plugin.
func (c *Curriculum) Describe(context.Context) (*sdk.Description, error) {
	summary := "ablation: every reference from the data pair {y_l, y_w} (round 0 only)"
	if c.round == 1 {
		summary = "ablation: every reference a sample of the RLHF policy (round 1 only)"
	}
	return &sdk.Description{
		Name: c.name(), Version: mix.Version, Kind: sdk.KindCurriculum, Summary: summary,
		Config: sdk.SchemaOf(DefaultConfig()),
	}, nil
}

// Configure implements sdk.Plugin and restarts from the request's seed.
func (c *Curriculum) Configure(_ context.Context, req *sdk.ConfigureRequest) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	cfg := DefaultConfig()
	if err := sdk.DecodeConfig(req.Config, &cfg); err != nil {
		return fmt.Errorf("%s config: %w", c.name(), err)
	}
	if err := cfg.Validate(); err != nil {
		return fmt.Errorf("%s config: %w", c.name(), err)
	}
	c.mix.Reset(cfg.Common, req.Seed)
	return nil
}

// Next implements sdk.Curriculum.
func (c *Curriculum) Next(_ context.Context, req *sdk.NextRequest) (*sdk.NextResponse, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	resp, err := c.mix.Plan(req, float64(c.round), c.round, fmt.Sprintf("round%d", c.round))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", c.name(), err)
	}
	return resp, nil
}

// Observe implements sdk.Curriculum; a single round ignores metrics.
func (c *Curriculum) Observe(_ context.Context, req *sdk.ObserveRequest) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if req == nil {
		return fmt.Errorf("%s: nil observe request", c.name())
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
		return fmt.Errorf("%s: %w", c.name(), err)
	}
	return nil
}
