package rewarddiff

import (
	"context"
	"reflect"
	"strings"
	"testing"

	"github.com/pit-lab/pit/plugins/reward/bradleyterry"
	"github.com/pit-lab/pit/plugins/sdk"
	"github.com/pit-lab/pit/plugins/sdk/plugintest/rewardtest"
)

func TestComparisonsAreBradleyTerrys(t *testing.T) {
	ctx := context.Background()
	req := &sdk.ComparisonsRequest{Pairs: rewardtest.Pairs(3, 7)}
	got, err := New().Comparisons(ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	want, _ := bradleyterry.New().Comparisons(ctx, req)
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("comparisons differ from bradley-terry's:\n got %+v\nwant %+v", got, want)
	}
}

func TestScoreIsADifference(t *testing.T) {
	ctx := context.Background()
	models := &rewardtest.Models{Funcs: map[string]func(sdk.Input) float64{
		sdk.ModelReward: func(in sdk.Input) float64 {
			if in.Reference != nil {
				t.Errorf("the BT model was given a reference: %+v", in)
			}
			return float64(in.Response[0])
		},
	}}
	items := []sdk.Input{
		{Prompt: []int32{1}, Reference: []int32{2}, Response: []int32{5}},
		{Prompt: []int32{1}, Reference: []int32{8}, Response: []int32{3}},
	}
	res, err := New().Score(ctx, &sdk.ScoreRequest{Items: items, Models: models})
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(res.Rewards, []float64{3, -5}) ||
		!reflect.DeepEqual(res.Components["r_response"], []float64{5, 3}) ||
		!reflect.DeepEqual(res.Components["r_reference"], []float64{2, 8}) {
		t.Fatalf("res = %+v", res)
	}
	if len(models.Calls) != 1 || len(models.Calls[0].Items) != 4 {
		t.Fatalf("want one batched call of 4 items, got %+v", models.Calls)
	}
	_, err = New().Score(ctx, &sdk.ScoreRequest{Items: []sdk.Input{{Prompt: []int32{1}, Response: []int32{3}}}, Models: models})
	if err == nil || !strings.Contains(err.Error(), "no reference") {
		t.Fatalf("err = %v, want a missing-reference error", err)
	}
	d, _ := New().Describe(ctx)
	if !d.NeedsLearnedModel || !d.ReferenceConditioned {
		t.Errorf("description = %+v", d)
	}
}
