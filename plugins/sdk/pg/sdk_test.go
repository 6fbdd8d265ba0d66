package pg

import (
	"strings"
	"testing"

	"github.com/pit-lab/pit/plugins/sdk"
)

func TestFromRequestAndBack(t *testing.T) {
	req := &sdk.AdvantagesRequest{
		LogProbs:      [][]float64{{9, -1, -2, 9}, {-3, 9, 9, 9}},
		RefLogProbs:   [][]float64{{9, -1.5, -1, 9}, {-3, 9, 9, 9}},
		Values:        [][]float64{{9, .2, .4, 9}, {.7, 9, 9, 9}},
		Mask:          [][]float64{{0, 1, 1, 0}, {1, 0, 0, 0}},
		Rewards:       []float64{1, 2},
		Groups:        []int{4, 5},
		GreedyRewards: []float64{.5, .25},
	}
	seqs, pos, err := FromRequest(req, true, true)
	if err != nil {
		t.Fatal(err)
	}
	nearAll(t, "logprobs of seq 0", seqs[0].LogProbs, []float64{-1, -2})
	nearAll(t, "values of seq 0", seqs[0].Values, []float64{.2, .4})
	nearAll(t, "ref of seq 1", seqs[1].RefLogProbs, []float64{-3})
	if seqs[1].Group != 5 || seqs[1].Baseline != .25 || seqs[0].Reward != 1 {
		t.Errorf("seq 1 = %+v", seqs[1])
	}
	res := Result{
		Advantages: [][]float64{{10, 20}, {30}},
		Returns:    [][]float64{{1, 2}, {3}},
		Stats:      map[string]float64{"x": 1},
	}
	out := ToResponse(res, pos, req)
	nearAll(t, "advantages row 0", out.Advantages[0], []float64{0, 10, 20, 0})
	nearAll(t, "advantages row 1", out.Advantages[1], []float64{30, 0, 0, 0})
	nearAll(t, "returns row 0", out.Returns[0], []float64{0, 1, 2, 0})
	if out.Stats["x"] != 1 {
		t.Errorf("stats lost: %v", out.Stats)
	}
}

func TestFromRequestErrors(t *testing.T) {
	good := func() *sdk.AdvantagesRequest {
		return &sdk.AdvantagesRequest{
			LogProbs: [][]float64{{-1, -1}}, RefLogProbs: [][]float64{{-1, -1}},
			Values: [][]float64{{0, 0}}, Mask: [][]float64{{1, 1}}, Rewards: []float64{1},
		}
	}
	tests := []struct {
		name       string
		edit       func(*sdk.AdvantagesRequest)
		needValues bool
		needGreedy bool
		want       string
	}{
		{"no rewards", func(r *sdk.AdvantagesRequest) { r.Rewards = nil }, false, false, "empty batch"},
		{"rows", func(r *sdk.AdvantagesRequest) { r.Rewards = []float64{1, 2} }, false, false, "rows for 2 rewards"},
		{"values missing", func(r *sdk.AdvantagesRequest) { r.Values = nil }, true, false, "values has 0 rows"},
		{"ragged", func(r *sdk.AdvantagesRequest) { r.LogProbs[0] = []float64{-1} }, false, false, "different lengths"},
		{"groups", func(r *sdk.AdvantagesRequest) { r.Groups = []int{1, 2} }, false, false, "groups has 2"},
		{"greedy", func(r *sdk.AdvantagesRequest) {}, false, true, "greedy_rewards"},
		{"all masked", func(r *sdk.AdvantagesRequest) { r.Mask[0] = []float64{0, 0} }, false, false, "no response tokens"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := good()
			tt.edit(r)
			_, _, err := FromRequest(r, tt.needValues, tt.needGreedy)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want one containing %q", err, tt.want)
			}
		})
	}
}
