package oneround

import (
	"context"
	"testing"

	"github.com/pit-lab/pit/plugins/sdk"
)

func TestSingleRound(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		round  int
		name   string
		source sdk.Source
	}{
		{0, Round0Name, ""},
		{1, Round1Name, sdk.SourcePolicy},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := New(tt.round)
			if d, _ := c.Describe(ctx); d.Name != tt.name {
				t.Fatalf("name %q, want %q", d.Name, tt.name)
			}
			if err := c.Configure(ctx, &sdk.ConfigureRequest{Config: map[string]any{"chosen_fraction": 0.0, "refresh_at_round_change": true}}); err != nil {
				t.Fatal(err)
			}
			for step := range 5 {
				r, err := c.Next(ctx, &sdk.NextRequest{Step: step, TotalSteps: 5, BatchSize: 6})
				if err != nil {
					t.Fatal(err)
				}
				want := map[sdk.Source]int{sdk.SourceDataRejected: 6, sdk.SourceDataChosen: 0, sdk.SourcePolicy: 0, sdk.SourceSelf: 0}
				if tt.round == 1 {
					want = map[sdk.Source]int{sdk.SourceDataRejected: 0, sdk.SourceDataChosen: 0, sdk.SourcePolicy: 6, sdk.SourceSelf: 0}
				}
				for s, n := range want {
					if r.Counts[s] != n {
						t.Fatalf("step %d: counts %v, want %v", step, r.Counts, want)
					}
				}
				if r.Round != tt.round || r.RefreshReward {
					t.Fatalf("step %d: %+v", step, r)
				}
			}
		})
	}
}
