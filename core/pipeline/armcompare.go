package pipeline

import (
	"fmt"
	"io"
	"path/filepath"
	"sort"
	"strings"

	"github.com/pit-lab/pit/core/results"
	"github.com/pit-lab/pit/core/stats"
)

// armOutcomes are one run's judged items, for paired comparisons.
type armOutcomes struct {
	arm      string
	baseline bool
	seed     int64
	rlhf     string // the rlhf stage's key: equal keys mean the same y_0
	improver string // the improver's method name
	// verdicts by (temperature, method, iteration, judge), item j = prompt
	// j / draws, draw j % draws
	verdicts map[cellKey][]int
	draws    int
}

type cellKey struct {
	temp   float64
	method string
	iter   int
	judge  string
}

func loadArmOutcomes(r doneRun) (*armOutcomes, error) {
	outs, err := results.ReadJSONL[results.Outcome](filepath.Join(r.dir, results.OutcomesFile))
	if err != nil {
		return nil, err
	}
	a := &armOutcomes{arm: r.m.Arm, baseline: r.m.Baseline, seed: r.m.Seed, verdicts: map[cellKey][]int{}, draws: 1}
	for _, st := range r.m.Stages {
		if st.Name == "rlhf" {
			a.rlhf = st.Key
		}
	}
	for _, row := range r.rows {
		if row.Iteration == 0 {
			a.improver = row.Method
		}
		if row.Draws > 1 {
			a.draws = row.Draws
		}
	}
	type item struct{ prompt, draw int }
	byCell := map[cellKey]map[item]int{}
	for _, o := range outs {
		k := cellKey{o.Temperature, o.Method, o.Iteration, o.Judge}
		if byCell[k] == nil {
			byCell[k] = map[item]int{}
		}
		byCell[k][item{o.Prompt, o.Draw}] = o.Result
	}
	for k, m := range byCell {
		vs := make([]int, len(m))
		for it, v := range m {
			j := it.prompt*a.draws + it.draw
			if j >= len(vs) {
				return nil, fmt.Errorf("%s: outcomes of %v are not prompts × draws", r.dir, k)
			}
			vs[j] = v
		}
		a.verdicts[k] = vs
	}
	return a, nil
}

// diffGroups lays out 100·(a − b) item by item as seeds → prompts → draws
// for a hierarchical bootstrap; ok is false when some seed lacks either side
// or their items differ in number.
func diffGroups(as, bs map[int64][]int, draws int) ([][][]float64, bool) {
	var seeds []int64
	for s := range as {
		seeds = append(seeds, s)
	}
	sort.Slice(seeds, func(i, j int) bool { return seeds[i] < seeds[j] })
	var groups [][][]float64
	for _, s := range seeds {
		a, b := as[s], bs[s]
		if len(a) == 0 || len(a) != len(b) || len(a)%draws != 0 {
			return nil, false
		}
		clusters := make([][]float64, len(a)/draws)
		for p := range clusters {
			cl := make([]float64, draws)
			for d := range cl {
				j := p*draws + d
				cl[d] = 100 * float64(a[j]-b[j])
			}
			clusters[p] = cl
		}
		groups = append(groups, clusters)
	}
	return groups, len(groups) > 0
}

// compareArms prints, for a grid, two paired comparisons pooled over seeds
// with intervals that resample seeds, then prompts (stats.HierarchicalMean):
// each arm's improver against its own null (Δ(improver) − Δ(null) on the
// same y_0), and each arm's improver against the baseline arm's, item by
// item on the same seeds, prompts and draws. The latter shares y_0 when the
// arms share their rlhf stage; otherwise only the seeds and prompts are
// shared, and the line says so.
func compareArms(w io.Writer, runs []doneRun) error {
	byArm := map[string][]*armOutcomes{}
	var arms []string
	var base string
	for _, r := range runs {
		a, err := loadArmOutcomes(r)
		if err != nil {
			return fmt.Errorf("report: %w", err)
		}
		if _, ok := byArm[a.arm]; !ok {
			arms = append(arms, a.arm)
		}
		byArm[a.arm] = append(byArm[a.arm], a)
		if a.baseline {
			base = a.arm
		}
	}
	boot := stats.Bootstrap{Seed: 1}
	cell := func(groups [][][]float64, ok bool) string {
		if !ok {
			return fmt.Sprintf("%-22s", "-")
		}
		iv, err := boot.HierarchicalMean(groups)
		if err != nil {
			return fmt.Sprintf("%-22s", "n/a")
		}
		return fmt.Sprintf("%+6.1f [%+6.1f,%+6.1f]", iv.Point, iv.Lo, iv.Hi)
	}
	// The cells of the improver at iterations ≥ 1, in a stable order.
	cellsOf := func(as []*armOutcomes) []cellKey {
		var ks []cellKey
		for k := range as[0].verdicts {
			if k.method == as[0].improver && k.iter > 0 && k.judge == JudgeOracle {
				ks = append(ks, k)
			}
		}
		sort.Slice(ks, func(i, j int) bool {
			if ks[i].temp != ks[j].temp {
				return ks[i].temp < ks[j].temp
			}
			return ks[i].iter < ks[j].iter
		})
		return ks
	}
	collect := func(as []*armOutcomes, k cellKey) map[int64][]int {
		out := map[int64][]int{}
		for _, a := range as {
			kk := k
			kk.method = a.improver
			if v, ok := a.verdicts[kk]; ok {
				out[a.seed] = v
			}
		}
		return out
	}
	fmt.Fprintf(w, "\npaired, pooled over seeds [95%% CI: seeds, then prompts resampled]:\n")
	fmt.Fprintf(w, "  %-28s %5s %4s  %-22s  %-22s  %-22s  %-22s\n", "arm", "T", "iter",
		"vs null: oracle", "vs null: bt", "vs baseline: oracle", "vs baseline: bt")
	for _, name := range arms {
		as := byArm[name]
		for _, k := range cellsOf(as) {
			var cols []string
			for _, judge := range []string{JudgeOracle, JudgeBT} {
				k.judge = judge
				null := map[int64][]int{}
				for _, a := range as {
					null[a.seed] = a.verdicts[cellKey{k.temp, MethodNull, 1, judge}]
				}
				g, ok := diffGroups(collect(as, k), null, as[0].draws)
				cols = append(cols, cell(g, ok))
			}
			note := ""
			for _, judge := range []string{JudgeOracle, JudgeBT} {
				k.judge = judge
				if base == "" || name == base {
					cols = append(cols, fmt.Sprintf("%-22s", "(baseline)"))
					continue
				}
				g, ok := diffGroups(collect(as, k), collect(byArm[base], k), as[0].draws)
				cols = append(cols, cell(g, ok))
				if as[0].rlhf != byArm[base][0].rlhf {
					note = "  (y_0 differs: own rlhf)"
				}
			}
			label := name
			if name == base {
				label += " (baseline)"
			}
			fmt.Fprintf(w, "  %-28s %5g %4d  %s%s\n", label, k.temp, k.iter, strings.Join(cols, "  "), note)
		}
	}
	return nil
}
