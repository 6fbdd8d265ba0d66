package pitgap_test

import (
	"context"
	"fmt"

	"github.com/pit-lab/pit/plugins/reward/pitgap"
	"github.com/pit-lab/pit/plugins/sdk"
)

// One preference pair becomes four gap inputs and the paper's five
// comparisons; a consistency weight adds ww ≻ ll and ll ≻ ww.
func ExampleReward_Comparisons() {
	ctx := context.Background()
	r := pitgap.New()
	if err := r.Configure(ctx, &sdk.ConfigureRequest{Config: map[string]any{"consistency_weight": 0.5}}); err != nil {
		panic(err)
	}
	pair := sdk.Pair{Prompt: []int32{1}, Chosen: []int32{7}, Rejected: []int32{3}}
	out, err := r.Comparisons(ctx, &sdk.ComparisonsRequest{Pairs: []sdk.Pair{pair}})
	if err != nil {
		panic(err)
	}
	for i, in := range out.Inputs {
		fmt.Printf("g_%s = r_gap(x, y_ref=%v, y=%v)\n", out.Tag[i], in.Reference, in.Response)
	}
	for _, c := range out.Comparisons {
		fmt.Printf("g_%s ≻ g_%s (weight %v)\n", out.Tag[c.Better], out.Tag[c.Worse], c.Weight)
	}
	// Output:
	// g_wl = r_gap(x, y_ref=[3], y=[7])
	// g_lw = r_gap(x, y_ref=[7], y=[3])
	// g_ww = r_gap(x, y_ref=[7], y=[7])
	// g_ll = r_gap(x, y_ref=[3], y=[3])
	// g_wl ≻ g_ww (weight 1)
	// g_wl ≻ g_ll (weight 1)
	// g_wl ≻ g_lw (weight 1)
	// g_ww ≻ g_lw (weight 1)
	// g_ll ≻ g_lw (weight 1)
	// g_ww ≻ g_ll (weight 0.5)
	// g_ll ≻ g_ww (weight 0.5)
}
