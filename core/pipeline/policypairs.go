package pipeline

import (
	"fmt"
	"maps"
	"math"
	"slices"

	"github.com/pit-lab/pit/core/results"
	"github.com/pit-lab/pit/core/rl"
	"github.com/pit-lab/pit/core/stats"
	"github.com/pit-lab/pit/core/task/synth"
)

// policyPairs measures, on held-out prompts, how the stage's reward orders
// the pairs RL actually sees: y_ref ~ M_P^RL at the reference temperature
// and y ~ the current improver given y_ref at the rollout temperature,
// labelled by the oracle. It logs at step, under policy_pairs/:
//
//	corr_oracle   Pearson correlation of the reward r(x, y_ref, y) with the
//	              oracle gain q(y) − q(y_ref), over every pair
//	accuracy      share of pairs the oracle does not tie where the reward
//	              scores the better answer against the worse one above the
//	              reverse (g_wl > g_lw)
//	order_*       the gap model's four-score orders (as gap/order_* on
//	              held-out data pairs), on the pairs the oracle does not tie
//	oracle_gain   mean oracle gain of y over y_ref
//	n             pairs the oracle does not tie
//
// Held-out data pairs (pit_rm's report) are drawn from the data's
// generators; these are what the gap model meets in RL, where it was found
// to track improvement far worse (RESULTS.md: correlation with the oracle
// gain 0.12–0.29 on policy pairs, where a PyTorch probe of the method found
// 0.38–0.49).
func (st *pitState) policyPairs(step int) error {
	n := min(st.s.DiagnosticPrompts, len(st.d.RMEval))
	if n == 0 {
		return nil
	}
	c := st.c
	prompts := make([]synth.Prompt, n)
	for i := range prompts {
		prompts[i] = st.d.RMEval[i].Prompt
	}
	refs, err := st.policyRefs(prompts, fmt.Sprintf("diagnostic-refs-%d", step))
	if err != nil {
		return err
	}
	prefixes := make([][]int, n)
	for i, p := range prompts {
		prefixes[i] = synth.ImproverPrefix(p.Tokens(), refs[i])
	}
	smp, err := sample(c, st.loop.Policy, prefixes, st.s.Temperature, st.loop.MaxResp, c.Rand(fmt.Sprintf("diagnostic-samples-%d", step)))
	if err != nil {
		return fmt.Errorf("policy-pair diagnostics: %w", err)
	}
	qs := make([]rl.Query, n)
	ys := make([][]int, n)
	gain := make([]float64, n)
	for i, p := range prompts {
		qs[i] = rl.Query{Prompt: p, Ref: refs[i]}
		ys[i] = nonEmpty(smp[i].Resp)
		gain[i] = st.task.Quality(p, ys[i]) - st.task.Quality(p, refs[i])
	}
	r, err := st.loop.Score(qs, ys)
	if err != nil {
		return fmt.Errorf("policy-pair diagnostics: %w", err)
	}
	// The four scores of each pair the oracle orders: w the better answer,
	// l the worse, g_ab the reward of a against reference b.
	var four []rl.Query
	var fourY [][]int
	for i, p := range prompts {
		if gain[i] == 0 {
			continue
		}
		w, l := ys[i], refs[i]
		if gain[i] < 0 {
			w, l = l, w
		}
		four = append(four, rl.Query{Prompt: p, Ref: l}, rl.Query{Prompt: p, Ref: w}, rl.Query{Prompt: p, Ref: l}, rl.Query{Prompt: p, Ref: w})
		fourY = append(fourY, w, w, l, l)
	}
	pp := map[string]float64{"corr_oracle": stats.Correlation(r, gain), "oracle_gain": stats.Mean(gain), "n": float64(len(four) / 4)}
	if len(four) > 0 {
		g, err := st.loop.Score(four, fourY)
		if err != nil {
			return fmt.Errorf("policy-pair diagnostics: %w", err)
		}
		gs := make([]results.GapScore, len(g)/4)
		for i := range gs {
			gs[i] = results.GapScore{Pair: i, WL: g[4*i], WW: g[4*i+1], LL: g[4*i+2], LW: g[4*i+3]}
		}
		for k, v := range gapOrders(gs) {
			pp[k] = v
		}
		pp["accuracy"] = pp["order_wl>lw"]
	}
	for _, k := range slices.Sorted(maps.Keys(pp)) {
		v := pp[k]
		if math.IsNaN(v) {
			continue
		}
		if err := st.loop.Metric(step, "policy_pairs/"+k, v); err != nil {
			return err
		}
	}
	c.Log.Info("gap reward on policy pairs", "step", step, "corr_oracle", pp["corr_oracle"], "accuracy", pp["accuracy"], "pairs", pp["n"])
	return nil
}
