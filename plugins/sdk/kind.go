package sdk

import (
	"context"
	"fmt"
)

// Describe calls p.Describe and completes the description with what the
// SDK knows: the kind and the stateful capability. Served plugins answer
// the host with it.
func Describe(ctx context.Context, p Plugin) (*Description, error) {
	d, err := p.Describe(ctx)
	if err != nil {
		return nil, err
	}
	if d == nil {
		return nil, fmt.Errorf("Describe returned nothing")
	}
	dd := *d
	kind, err := KindOf(p)
	if err != nil {
		return nil, err
	}
	if dd.Kind != "" && dd.Kind != kind {
		return nil, fmt.Errorf("Describe says kind %q but %T is a %s plugin", dd.Kind, p, kind)
	}
	dd.Kind = kind
	// Algorithms are stateful on the wire even when they keep no state: the
	// SDK answers SaveState for them with empty state (see Algorithm).
	if _, ok := p.(Stateful); (ok || kind == KindAlgorithm) && !dd.Has(CapStateful) {
		dd.Capabilities = append(append([]string(nil), dd.Capabilities...), CapStateful)
	}
	return &dd, nil
}

// KindOf says which kind of plugin p is, by the interface it implements.
func KindOf(p Plugin) (Kind, error) {
	var kinds []Kind
	if _, ok := p.(Reward); ok {
		kinds = append(kinds, KindReward)
	}
	if _, ok := p.(Algorithm); ok {
		kinds = append(kinds, KindAlgorithm)
	}
	if _, ok := p.(Curriculum); ok {
		kinds = append(kinds, KindCurriculum)
	}
	switch len(kinds) {
	case 1:
		return kinds[0], nil
	case 0:
		return "", fmt.Errorf("%T implements none of sdk.Reward, sdk.Algorithm, sdk.Curriculum (check the method sets; a Curriculum also needs SaveState/RestoreState)", p)
	}
	return "", fmt.Errorf("%T implements more than one plugin kind (%v)", p, kinds)
}
