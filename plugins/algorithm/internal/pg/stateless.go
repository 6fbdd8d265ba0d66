package pg

import (
	"context"
	"fmt"
)

// Stateless provides SaveState and RestoreState for algorithms that keep no
// state between batches: the state is empty, and only empty state restores.
type Stateless struct{}

// SaveState implements sdk.Stateful with no state.
func (Stateless) SaveState(context.Context) ([]byte, error) { return []byte{}, nil }

// RestoreState implements sdk.Stateful: it accepts only empty state.
func (Stateless) RestoreState(_ context.Context, b []byte) error {
	if len(b) != 0 {
		return fmt.Errorf("this algorithm keeps no state, got %d bytes", len(b))
	}
	return nil
}
