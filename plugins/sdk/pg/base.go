package pg

import (
	"context"
	"fmt"

	"github.com/pit-lab/pit/plugins/sdk"
)

// Base is a policy-gradient algorithm with config C but for its
// arithmetic: Describe and Configure (sdk.Configurable), Knobs from the
// config, Advantages that runs Compute on the batch (see Run), and an
// Observe that learns nothing. Embed it and set Compute (and Needs); an
// algorithm with an adaptive controller writes its own Knobs or Observe,
// and SaveState/RestoreState.
type Base[C any] struct {
	sdk.Configurable[C]
	// KnobsOf returns the loss knobs of a config.
	KnobsOf func(C) sdk.Knobs
	// Needs says what Compute needs in a batch.
	Needs Needs
	// Compute turns a checked batch into advantages, returns, knobs and
	// statistics.
	Compute func([]Sequence) (Result, error)
}

// NewBase returns a Base holding the defaults. Its description carries
// name, summary, Version and the algorithm kind.
func NewBase[C any](name, summary string, defaults func() C, validate func(C) error, knobs func(C) sdk.Knobs) Base[C] {
	d := sdk.Description{Name: name, Version: Version, Kind: sdk.KindAlgorithm, Summary: summary}
	return Base[C]{Configurable: sdk.NewConfigurable(d, defaults, validate), KnobsOf: knobs}
}

// Knobs implements sdk.Algorithm with the knobs of the current config.
func (b *Base[C]) Knobs(context.Context) (*sdk.Knobs, error) {
	k := b.KnobsOf(b.Config)
	return &k, nil
}

// Advantages implements sdk.Algorithm with Compute (see Run).
func (b *Base[C]) Advantages(_ context.Context, req *sdk.AdvantagesRequest) (*sdk.AdvantagesResponse, error) {
	return b.Run(req, b.Needs, b.Compute)
}

// Observe implements sdk.Algorithm for an algorithm that learns nothing
// from the statistics of a step.
func (b *Base[C]) Observe(_ context.Context, req *sdk.ObserveRequest) error {
	if req == nil {
		return fmt.Errorf("%s: nil observe request", b.Description.Name)
	}
	return nil
}

// Needs says what an algorithm asks of a batch beyond log-probabilities,
// mask and rewards.
type Needs struct {
	Values bool // the value head's estimates
	Greedy bool // the greedy decode's reward per sequence (Knobs.GreedyBaseline)
	Groups bool // prompt group ids (Knobs.SamplesPerPrompt > 1)
}

// Run answers an Advantages request: it turns the host's batch into
// sequences (FromRequest), computes, and scatters the result back into the
// host's padded shape (ToResponse). Problems with the batch are errors
// prefixed with the algorithm's name; compute's errors pass unchanged.
func (b *Base[C]) Run(req *sdk.AdvantagesRequest, need Needs, compute func([]Sequence) (Result, error)) (*sdk.AdvantagesResponse, error) {
	name := b.Description.Name
	if need.Groups && req.Groups == nil {
		return nil, fmt.Errorf("%s: the batch has no group ids", name)
	}
	batch, pos, err := FromRequest(req, need.Values, need.Greedy)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	res, err := compute(batch)
	if err != nil {
		return nil, err
	}
	return ToResponse(res, pos, req), nil
}
