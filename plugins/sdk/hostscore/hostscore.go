// Package hostscore holds what pit's built-in reward formulations share:
// calls to the host's model service with checks on what comes back, and the
// plain "score with a host model" formulation behind rubric and oracle.
package hostscore

import (
	"context"
	"fmt"
	"math"

	"github.com/pit-lab/pit/plugins/sdk"
)

// Version is the version of every built-in reward formulation.
const Version = "1.0.0"

// Call scores items with the host's model and checks that one finite score
// came back per item.
func Call(ctx context.Context, models sdk.ModelService, model string, items []sdk.Input) ([]float64, error) {
	if models == nil {
		return nil, fmt.Errorf("no model service in the score request (the host must provide %q)", model)
	}
	if len(items) == 0 {
		return nil, nil
	}
	s, err := models.Score(ctx, model, items)
	if err != nil {
		return nil, fmt.Errorf("model %q: %w", model, err)
	}
	if len(s) != len(items) {
		return nil, fmt.Errorf("model %q returned %d scores for %d items", model, len(s), len(items))
	}
	for i, v := range s {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return nil, fmt.Errorf("model %q returned %v for item %d", model, v, i)
		}
	}
	return s, nil
}

// Unconditioned returns the items with their references dropped: (x, y).
func Unconditioned(items []sdk.Input) []sdk.Input {
	out := make([]sdk.Input, len(items))
	for i, it := range items {
		out[i] = sdk.Input{Prompt: it.Prompt, Response: it.Response}
	}
	return out
}

// References returns (x, y_ref) for each item, as inputs to score without a
// reference. Every item must have a reference.
func References(items []sdk.Input) ([]sdk.Input, error) {
	out := make([]sdk.Input, len(items))
	for i, it := range items {
		if len(it.Reference) == 0 {
			return nil, fmt.Errorf("item %d has no reference", i)
		}
		out[i] = sdk.Input{Prompt: it.Prompt, Response: it.Reference}
	}
	return out, nil
}

// Difference scores y and y_ref of every item without a reference, in one
// call, and returns s(x, y), s(x, y_ref) and their difference.
func Difference(ctx context.Context, models sdk.ModelService, model string, items []sdk.Input) (resp, ref, diff []float64, err error) {
	refs, err := References(items)
	if err != nil {
		return nil, nil, nil, err
	}
	all := append(Unconditioned(items), refs...)
	s, err := Call(ctx, models, model, all)
	if err != nil {
		return nil, nil, nil, err
	}
	n := len(items)
	resp, ref = s[:n:n], s[n:]
	diff = make([]float64, n)
	for i := range diff {
		diff[i] = resp[i] - ref[i]
	}
	return resp, ref, diff, nil
}

// CheckPairs reports a nil request or a pair with an empty prompt or
// response.
func CheckPairs(req *sdk.ComparisonsRequest) error {
	if req == nil {
		return fmt.Errorf("nil comparisons request")
	}
	for i, p := range req.Pairs {
		switch {
		case len(p.Prompt) == 0:
			return fmt.Errorf("pair %d: empty prompt", i)
		case len(p.Chosen) == 0:
			return fmt.Errorf("pair %d: empty chosen response", i)
		case len(p.Rejected) == 0:
			return fmt.Errorf("pair %d: empty rejected response", i)
		}
	}
	return nil
}
