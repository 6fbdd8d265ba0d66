package sdk

import "context"

// Curriculum is a curriculum strategy for the improver's RL stage: each step
// it decides where the references y_ref come from. It is stateful.
type Curriculum interface {
	Plugin
	Stateful
	// Next plans one step.
	Next(ctx context.Context, req *NextRequest) (*NextResponse, error)
	// Observe feeds metrics from a finished step back (e.g. "reward",
	// "oracle_gain"), for metric-gated strategies.
	Observe(ctx context.Context, req *ObserveRequest) error
}

// Source is where a reference y_ref comes from.
type Source string

// Reference sources.
const (
	SourceDataRejected Source = "data_rejected" // y_l of a data pair
	SourceDataChosen   Source = "data_chosen"   // y_w of a data pair
	SourcePolicy       Source = "policy"        // a sample of the RLHF policy M_P^RL
	SourceSelf         Source = "self"          // the improver's own earlier output
)

// Sources lists every reference source in a fixed order.
var Sources = []Source{SourceDataRejected, SourceDataChosen, SourcePolicy, SourceSelf}

// NextRequest asks for the plan of one step.
type NextRequest struct {
	Step       int // 0-based
	TotalSteps int // of the stage
	BatchSize  int // references needed this step
	Stats      map[string]float64
}

// NextResponse is one step's plan. Give either Counts (exact numbers of
// references per source, summing to BatchSize) or Probs (probabilities per
// source, summing to 1, sampled by the host with its seeded stream).
type NextResponse struct {
	Counts map[Source]int
	Probs  map[Source]float64
	Round  int    // the round this step belongs to (0: data references, 1: policy references, ...)
	Phase  string // a free-form label for logs and plots
	// RefreshReward asks the host to refresh the reward model before this
	// step (e.g. on pairs built from policy samples).
	RefreshReward bool
}
