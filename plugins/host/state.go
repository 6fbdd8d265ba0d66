package host

import (
	"context"
	"fmt"

	"github.com/pit-lab/pit/plugins/sdk"
)

// SaveState saves p's state for a checkpoint. An algorithm that keeps no
// state need not implement sdk.Stateful (the SDK answers for it over the
// wire); in process, its state is empty, as it is over the wire.
func SaveState(ctx context.Context, p sdk.Plugin) ([]byte, error) {
	if s, ok := p.(sdk.Stateful); ok {
		return s.SaveState(ctx)
	}
	if _, ok := p.(sdk.Algorithm); ok {
		return []byte{}, nil
	}
	return nil, fmt.Errorf("%T keeps no state to save", p)
}

// RestoreState restores what SaveState saved. A stateless algorithm accepts
// only empty state.
func RestoreState(ctx context.Context, p sdk.Plugin, state []byte) error {
	if s, ok := p.(sdk.Stateful); ok {
		return s.RestoreState(ctx, state)
	}
	if _, ok := p.(sdk.Algorithm); ok && len(state) == 0 {
		return nil
	}
	return fmt.Errorf("%T keeps no state, got %d bytes", p, len(state))
}
