package sdk_test

import (
	"context"
	"strings"
	"testing"

	"github.com/pit-lab/pit/plugins/sdk"
)

func TestDescribeCompletesKind(t *testing.T) {
	d, err := sdk.Describe(context.Background(), &scaledBT{})
	if err != nil {
		t.Fatal(err)
	}
	if d.Kind != sdk.KindReward || d.Has(sdk.CapStateful) {
		t.Fatalf("description %+v", d)
	}
	if _, err := sdk.KindOf(struct{ sdk.Plugin }{}); err == nil {
		t.Error("a value of no kind was given one")
	}
	if _, err := sdk.ParseKind("policy"); err == nil {
		t.Error(`ParseKind("policy") succeeded`)
	}
}

func knobs() sdk.Knobs {
	return sdk.Knobs{ClipRange: 0.2, KLCoef: 0.05, KLEstimator: sdk.KLk3, Epochs: 2, SamplesPerPrompt: 4}
}

func TestChecks(t *testing.T) {
	req := &sdk.AdvantagesRequest{
		LogProbs:    [][]float64{{0, -1}, {0, -2}},
		RefLogProbs: [][]float64{{0, -1}, {0, -2}},
		Mask:        [][]float64{{0, 1}, {0, 1}},
		Rewards:     []float64{1, 2},
	}
	good := &sdk.AdvantagesResponse{Advantages: [][]float64{{0, 1}, {0, -1}}, Returns: [][]float64{{0, 1}, {0, 2}}, Knobs: knobs()}
	for _, tc := range []struct {
		name string
		err  error
		want string // "" means no error
	}{
		{"score ok", (&sdk.ScoreResponse{Rewards: []float64{1, 2}, Components: map[string][]float64{"a": {0, 0}}}).Check(2), ""},
		{"score count", (&sdk.ScoreResponse{Rewards: []float64{1}}).Check(2), "1 rewards for 2 inputs"},
		{"score component", (&sdk.ScoreResponse{Rewards: []float64{1}, Components: map[string][]float64{"a": {}}}).Check(1), `component "a"`},
		{"comparisons ok", (&sdk.ComparisonsResponse{Inputs: make([]sdk.Input, 2), Comparisons: []sdk.Comparison{{Better: 0, Worse: 1}}}).Check(1), ""},
		{"comparisons range", (&sdk.ComparisonsResponse{Inputs: make([]sdk.Input, 2), Comparisons: []sdk.Comparison{{Better: 0, Worse: 2}}}).Check(1), "out of range"},
		{"comparisons self", (&sdk.ComparisonsResponse{Inputs: make([]sdk.Input, 2), Comparisons: []sdk.Comparison{{Better: 1, Worse: 1}}}).Check(1), "itself"},
		{"comparisons pair", (&sdk.ComparisonsResponse{Inputs: make([]sdk.Input, 1), Pair: []int{3}}).Check(1), "names pair 3"},
		{"advantages ok", good.Check(req), ""},
		{"advantages off mask", (&sdk.AdvantagesResponse{Advantages: [][]float64{{1, 1}, {0, 1}}, Returns: good.Returns, Knobs: knobs()}).Check(req), "where the mask is 0"},
		{"advantages rows", (&sdk.AdvantagesResponse{Advantages: good.Advantages[:1], Returns: good.Returns, Knobs: knobs()}).Check(req), "1 rows for 2 sequences"},
		{"knobs estimator", (&sdk.Knobs{Epochs: 1, SamplesPerPrompt: 1, KLEstimator: "k2"}).Check(), `"k2"`},
		{"knobs epochs", (&sdk.Knobs{SamplesPerPrompt: 1, KLEstimator: sdk.KLk1}).Check(), "epochs 0"},
		{"next counts ok", (&sdk.NextResponse{Counts: map[sdk.Source]int{sdk.SourcePolicy: 3, sdk.SourceSelf: 1}}).Check(4), ""},
		{"next counts sum", (&sdk.NextResponse{Counts: map[sdk.Source]int{sdk.SourcePolicy: 3}}).Check(4), "sum to 3"},
		{"next probs", (&sdk.NextResponse{Probs: map[sdk.Source]float64{sdk.SourcePolicy: 0.5}}).Check(4), "sum to 0.5"},
		{"next source", (&sdk.NextResponse{Counts: map[sdk.Source]int{"web": 4}}).Check(4), `unknown source "web"`},
		{"next empty", (&sdk.NextResponse{}).Check(4), "neither"},
	} {
		switch {
		case tc.want == "" && tc.err != nil:
			t.Errorf("%s: unexpected error %v", tc.name, tc.err)
		case tc.want != "" && (tc.err == nil || !strings.Contains(tc.err.Error(), tc.want)):
			t.Errorf("%s: error %v, want one containing %q", tc.name, tc.err, tc.want)
		}
	}
	ragged := *req
	ragged.RefLogProbs = [][]float64{{0}, {0, 1}}
	if _, _, err := ragged.Shape(); err == nil || !strings.Contains(err.Error(), "ref_logprobs row 0") {
		t.Errorf("ragged request: %v", err)
	}
}
