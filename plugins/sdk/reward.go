package sdk

import "context"

// Reward is a reward formulation.
type Reward interface {
	Plugin
	// Comparisons turns a batch of preference pairs into the scored inputs
	// and weighted comparisons that train this formulation's learned model.
	// Formulations with NeedsLearnedModel false may return an empty response.
	Comparisons(ctx context.Context, req *ComparisonsRequest) (*ComparisonsResponse, error)
	// Score gives one reward per input, plus optional named components for
	// logging. It calls the host's models through req.Models.
	Score(ctx context.Context, req *ScoreRequest) (*ScoreResponse, error)
}

// Pair is one preference pair: Chosen (y_w) is preferred to Rejected (y_l)
// as an answer to Prompt (x). Sequences are token ids.
type Pair struct {
	Prompt   []int32
	Chosen   []int32
	Rejected []int32
}

// Input is one thing to score: response y to prompt x, judged against
// reference y_ref. Reference is empty for formulations that are not
// reference-conditioned.
type Input struct {
	Prompt    []int32
	Reference []int32
	Response  []int32
}

// Comparison says that input Better should score above input Worse, by at
// least Margin, with loss weight Weight (0 means 1). Better and Worse index
// ComparisonsResponse.Inputs.
type Comparison struct {
	Better, Worse int
	Margin        float64
	Weight        float64
}

// ComparisonsRequest is a batch of preference pairs.
type ComparisonsRequest struct {
	Pairs []Pair
}

// ComparisonsResponse holds the inputs to score and the comparisons between
// them. Pair and Tag (one per input, optional) say where each input came
// from, for logging: for the PIT gap, Tag is "wl", "ww", "ll" or "lw".
type ComparisonsResponse struct {
	Inputs      []Input
	Pair        []int    // index into the request's Pairs, per input; may be nil
	Tag         []string // a label per input; may be nil
	Comparisons []Comparison
}

// ScoreRequest is a batch of inputs to score.
type ScoreRequest struct {
	Items []Input
	// Models is the host's model service. The SDK fills it on the plugin
	// side; plugins call it, they never set it.
	Models ModelService
}

// ScoreResponse holds one reward per input, in order, and optional named
// components (each also one value per input) that the host logs.
type ScoreResponse struct {
	Rewards    []float64
	Components map[string][]float64
}

// ModelService scores inputs with a model the host holds. The host names
// its models: "reward" is the learned model for the formulation being
// served, "oracle" and "rubric" are the task's scorers. Calls are batched:
// one call per batch, one score per item.
type ModelService interface {
	Score(ctx context.Context, model string, items []Input) ([]float64, error)
}

// Host model names.
const (
	ModelReward = "reward"
	ModelOracle = "oracle"
	ModelRubric = "rubric"
)
