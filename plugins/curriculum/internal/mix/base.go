package mix

import (
	"context"
	"fmt"

	"github.com/pit-lab/pit/plugins/sdk"
)

// Shared returns the shared keys of a curriculum's config; a config that
// embeds Common has it.
func (c Common) Shared() Common { return c }

// Base is what pit's curricula share: Describe and Configure
// (sdk.Configurable) of a config embedding Common, the seeded Mixer reset
// by every Configure, an Observe that only checks its input, and
// SaveState/RestoreState of the mixer. Embed it, call Init from the
// constructor, and write Next (with Plan).
type Base[C interface{ Shared() Common }] struct {
	sdk.Configurable[C]
	Mix Mixer
}

// Init sets the curriculum up with the defaults and seed 0. reset, when not
// nil, also runs at every successful Configure, after the mixer's reset, to
// reset the strategy's own state.
func (b *Base[C]) Init(name, summary string, defaults func() C, validate func(C) error, reset func(C)) {
	d := sdk.Description{Name: name, Version: Version, Kind: sdk.KindCurriculum, Summary: summary}
	b.Configurable = sdk.NewConfigurable(d, defaults, validate)
	b.OnConfigure = func(c C, seed int64) {
		b.Mix.Reset(c.Shared(), seed)
		if reset != nil {
			reset(c)
		}
	}
	b.Mix.Reset(b.Config.Shared(), 0)
}

// Span is a length in steps from the config that may be 0 for a share of
// the stage: n itself, or the request's total steps divided by div when n
// is 0 (key and share name them in the error of a request without a
// total). It also rejects a nil request.
func (b *Base[C]) Span(req *sdk.NextRequest, n int, key, share string, div int) (int, error) {
	name := b.Description.Name
	switch {
	case req == nil:
		return 0, fmt.Errorf("%s: nil next request", name)
	case n != 0:
		return n, nil
	case req.TotalSteps < 1:
		return 0, fmt.Errorf("%s: %s is 0 (%s) but the request has total_steps %d", name, key, share, req.TotalSteps)
	}
	return req.TotalSteps / div, nil
}

// Plan plans a step with the mixer (see Mixer.Plan); errors name the
// curriculum.
func (b *Base[C]) Plan(req *sdk.NextRequest, p float64, round int, phase string) (*sdk.NextResponse, error) {
	resp, err := b.Mix.Plan(req, p, round, phase)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", b.Description.Name, err)
	}
	return resp, nil
}

// Observe implements sdk.Curriculum for a strategy that ignores metrics.
func (b *Base[C]) Observe(_ context.Context, req *sdk.ObserveRequest) error {
	if req == nil {
		return fmt.Errorf("%s: nil observe request", b.Description.Name)
	}
	return nil
}

// SaveState implements sdk.Stateful: the mixer's state.
func (b *Base[C]) SaveState(context.Context) ([]byte, error) { return b.Mix.Save(nil) }

// RestoreState implements sdk.Stateful.
func (b *Base[C]) RestoreState(_ context.Context, state []byte) error {
	if err := b.Mix.Restore(state, nil); err != nil {
		return fmt.Errorf("%s: %w", b.Description.Name, err)
	}
	return nil
}
