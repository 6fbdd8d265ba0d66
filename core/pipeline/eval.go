package pipeline

import (
	"errors"
	"fmt"
	"maps"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"

	"github.com/pit-lab/pit/core/experiment"
	"github.com/pit-lab/pit/core/nn"
	"github.com/pit-lab/pit/core/results"
	"github.com/pit-lab/pit/core/runner"
	"github.com/pit-lab/pit/core/stats"
	"github.com/pit-lab/pit/core/task/synth"
)

// EvalSettings configure the eval stage.
type EvalSettings struct {
	// Temperatures at which y_0 ~ M_P^RL and every improvement are
	// sampled; each gives its own rows.
	Temperatures []float64 `toml:"temperatures"`
	Iterations   int       `toml:"iterations"` // K: improvement steps y_{i+1} = M_PIT(x, y_i)
	// Epsilon is the oracle judge's tie band: |q(y_i) − q(y_0)| < Epsilon
	// is a tie.
	Epsilon float64 `toml:"epsilon"`
	// BTEpsilon is the BT judge's tie band on r(x, y_i) − r(x, y_0).
	BTEpsilon float64 `toml:"bt_epsilon"`
	Prompts   int     `toml:"prompts"` // evaluation prompts used; 0 means the whole eval split
	// Draws is the number of y_0 sampled per prompt, each improved and
	// judged on its own: prompts × draws judgements per row. Intervals
	// resample prompts (a prompt's draws together).
	Draws    int `toml:"draws"`
	BestOfN  int `toml:"best_of_n"` // n of the best-of-n baseline by the BT model (2 matches one improvement step)
	GapPairs int `toml:"gap_pairs"` // held-out pairs for the PIT reward model's four scores; 0 means all
	// OracleBestOf lists the n of the oracle's best-of-n rows: the best of
	// y_0 and n−1 more samples of M_P^RL by the oracle, an upper reference
	// that shows how much a perfect selector gains (empty for none).
	OracleBestOf []int `toml:"oracle_best_of"`
}

// defaultDraws × the default experiment's 200 eval prompts is 1600
// judgements per row: the null's 95% interval is then about ±4 points
// (RESULTS.md), where 200 × 1 gave about ±10.
const defaultDraws = 8

func defaultEval() *EvalSettings {
	return &EvalSettings{Temperatures: []float64{0.4}, Iterations: 3, Epsilon: 0.01, BestOfN: 2, Draws: defaultDraws, OracleBestOf: []int{2, 4}}
}

// Validate reports bad settings.
func (s *EvalSettings) Validate() error {
	var errs []error
	bad := func(key, format string, args ...any) {
		errs = append(errs, &experiment.FieldError{Key: key, Msg: fmt.Sprintf(format, args...)})
	}
	if len(s.Temperatures) == 0 {
		bad("temperatures", "give at least one temperature")
	}
	for i, t := range s.Temperatures {
		if !(t >= 0) || math.IsInf(t, 0) {
			bad("temperatures", "temperature %d is %v, want a finite number ≥ 0", i+1, t)
		}
	}
	if s.Iterations < 1 {
		bad("iterations", "must be at least 1 (got %d)", s.Iterations)
	}
	if s.Epsilon < 0 || s.BTEpsilon < 0 {
		bad("epsilon", "epsilon and bt_epsilon must be ≥ 0")
	}
	if s.Prompts < 0 || s.GapPairs < 0 {
		bad("prompts", "prompts and gap_pairs must be ≥ 0")
	}
	if s.BestOfN < 2 {
		bad("best_of_n", "must be at least 2 (got %d)", s.BestOfN)
	}
	if s.Draws < 1 {
		bad("draws", "must be at least 1 (got %d)", s.Draws)
	}
	for _, n := range s.OracleBestOf {
		if n < 2 {
			bad("oracle_best_of", "each n must be at least 2 (got %d)", n)
		}
	}
	return errors.Join(errs...)
}

// TableFile is the eval stage's human-readable table, published into every
// run directory.
const TableFile = "eval.txt"

func init() {
	runner.Register(runner.Kind{
		Name:     "eval",
		Doc:      "evaluation: y_0 ~ M_P^RL, K improvement steps of M_PIT, judged by the oracle and the BT model, with the null and best-of-n baselines and the gap model's four scores",
		Needs:    []string{"data", "rm", "pit_rm", "rlhf", "pit_rl"},
		Settings: func() any { return defaultEval() },
		Publish:  []string{results.EvalFile, results.OutcomesFile, results.GapsFile, TableFile},
		Version:  "3", // 3: draws, intervals, paired differences against the null, oracle best-of-n
		Run:      runEval,
	})
}

// Judges.
const (
	JudgeOracle = "oracle"
	JudgeBT     = "bt"
)

// Methods of the eval table besides the improver's.
const (
	MethodNull    = "null"
	MethodBestOfN = "best-of-n"
	// MethodOracleBestOf prefixes the oracle's best-of-n rows:
	// "oracle-best-of-4".
	MethodOracleBestOf = "oracle-best-of-"
	MethodPIT          = "pit"
	MethodRubric       = "rubric"
	gapTolerance       = 0 // a gap order holds when the difference is > 0
	improverPrefix     = "pit-"
)

// methodName names the improver's rows after the reward that trained it:
// "pit" for pit-gap, "rubric" for the rubric baseline, "pit-<reward>"
// otherwise.
func methodName(reward string) string {
	switch reward {
	case "pit-gap", "":
		return MethodPIT
	case "rubric":
		return MethodRubric
	}
	return improverPrefix + reward
}

func runEval(c *runner.Context) error {
	s := c.Settings.(*EvalSettings)
	d, task, err := loadDataset(c)
	if err != nil {
		return err
	}
	prompts := d.Eval
	if s.Prompts > 0 && s.Prompts < len(prompts) {
		prompts = prompts[:s.Prompts]
	}
	if len(prompts) == 0 {
		return fmt.Errorf("no evaluation prompts")
	}
	policy, err := loadModel(c, "rlhf")
	if err != nil {
		return err
	}
	improver, err := loadModel(c, "pit_rl")
	if err != nil {
		return err
	}
	bt, err := loadModel(c, "rm")
	if err != nil {
		return err
	}
	btInfo, err := readRewardInfo(c, "rm")
	if err != nil {
		return err
	}
	if btInfo.ReferenceConditioned {
		return fmt.Errorf("the rm stage trained a reference-conditioned model (%q); the BT judge needs r(x, y)", btInfo.Plugin)
	}
	gap, err := loadModel(c, "pit_rm")
	if err != nil {
		return err
	}
	gapInfo, err := readRewardInfo(c, "pit_rm")
	if err != nil {
		return err
	}
	var imp improverInfo
	if err := results.ReadJSON(filepath.Join(c.Input("pit_rl"), improverFile), &imp); err != nil {
		return fmt.Errorf("%w", err)
	}
	method := methodName(imp.Reward)
	ev := &evaluator{c: c, s: s, task: task, prompts: prompts, policy: policy, improver: improver, bt: bt, maxResp: d.Settings.MaxResponse,
		btMemo: map[string]float64{}}
	ev.items = make([]synth.Prompt, 0, len(prompts)*s.Draws)
	for _, p := range prompts {
		for range s.Draws {
			ev.items = append(ev.items, p)
		}
	}

	var rows []results.EvalRow
	var outs []results.Outcome
	total := len(s.Temperatures) + 1
	for ti, temp := range s.Temperatures {
		r, o, err := ev.atTemperature(temp, method)
		if err != nil {
			return err
		}
		rows = append(rows, r...)
		outs = append(outs, o...)
		c.Progress(ti+1, total)
	}
	gaps, gapStats, err := gapScores(c, gap, gapInfo.ReferenceConditioned, d.RMEval, s.GapPairs)
	if err != nil {
		return err
	}
	for _, k := range slices.Sorted(maps.Keys(gapStats)) {
		if err := metric(c, 0, "gap/"+k, gapStats[k]); err != nil {
			return err
		}
	}
	for _, k := range slices.Sorted(maps.Keys(btInfo.Heldout)) {
		c.Metric(0, "rm/heldout_"+k, btInfo.Heldout[k])
	}
	for _, k := range slices.Sorted(maps.Keys(gapInfo.Heldout)) {
		c.Metric(0, "pit_rm/heldout_"+k, gapInfo.Heldout[k])
	}
	if err := results.WriteJSONL(filepath.Join(c.Out, results.EvalFile), rows); err != nil {
		return err
	}
	if err := results.WriteJSONL(filepath.Join(c.Out, results.OutcomesFile), outs); err != nil {
		return err
	}
	if err := results.WriteJSONL(filepath.Join(c.Out, results.GapsFile), gaps); err != nil {
		return err
	}
	table := FormatTable(rows, gapStats)
	if err := results.WriteFileAtomic(filepath.Join(c.Out, TableFile), []byte(table)); err != nil {
		return err
	}
	c.Log.Info("eval table\n" + table)
	c.Progress(total, total)
	return nil
}

type evaluator struct {
	c        *runner.Context
	s        *EvalSettings
	task     *synth.Task
	prompts  []synth.Prompt
	policy   *nn.Model
	improver *nn.Model
	bt       *nn.Model
	maxResp  int
	// items are the judged (prompt, draw) pairs, draws of a prompt
	// consecutive: item j is prompt j / Draws, draw j % Draws.
	items []synth.Prompt
	// btMemo holds the BT model's score of every sequence it has scored
	// (the model is frozen here): the null sample is y_0's second
	// candidate, best-of-n picks among scored candidates, and improvers
	// often copy y_{i-1}; each is scored once (batchRewards).
	btMemo map[string]float64
}

// judged holds one method's responses at one iteration.
type judged struct {
	method string
	iter   int
	ys     [][]int
	prev   [][]int // the previous iteration's responses, for the copy rate (nil if none)
}

func (ev *evaluator) atTemperature(temp float64, method string) ([]results.EvalRow, []results.Outcome, error) {
	c := ev.c
	tag := strconv.FormatFloat(temp, 'g', -1, 64)
	n := len(ev.items)
	policyPrefixes := make([][]int, n)
	for i, p := range ev.items {
		policyPrefixes[i] = synth.PolicyPrefix(p.Tokens())
	}
	draw := func(purpose string) ([][]int, error) {
		smp, err := sample(c, ev.policy, policyPrefixes, temp, ev.maxResp, c.Rand(purpose+"@"+tag))
		if err != nil {
			return nil, err
		}
		ys := make([][]int, len(smp))
		for i, s := range smp {
			ys[i] = s.Resp
		}
		return ys, nil
	}
	y0, err := draw("y0")
	if err != nil {
		return nil, nil, err
	}
	// Iteration 0 is y_0 itself (a tie with itself), filed under the
	// improver's method so that its rows start at y_0.
	sets := []judged{{method: method, iter: 0, ys: y0}}
	prev := y0
	for i := 1; i <= ev.s.Iterations; i++ {
		prefixes := make([][]int, n)
		for j, p := range ev.items {
			prefixes[j] = synth.ImproverPrefix(p.Tokens(), nonEmpty(prev[j]))
		}
		smp, err := sample(c, ev.improver, prefixes, temp, ev.maxResp, c.Rand(fmt.Sprintf("improve-%d@%s", i, tag)))
		if err != nil {
			return nil, nil, err
		}
		ys := make([][]int, len(smp))
		for j, s := range smp {
			ys[j] = s.Resp
		}
		sets = append(sets, judged{method: method, iter: i, ys: ys, prev: prev})
		prev = ys
	}
	null, err := draw("null")
	if err != nil {
		return nil, nil, err
	}
	sets = append(sets, judged{method: MethodNull, iter: 1, ys: null})
	// Best of n by the BT model, and by the oracle: y_0, the null sample
	// and more samples of M_P^RL as needed.
	cands := [][][]int{y0, null}
	most := ev.s.BestOfN
	for _, k := range ev.s.OracleBestOf {
		most = max(most, k)
	}
	for k := 2; k < most; k++ {
		more, err := draw(fmt.Sprintf("best-of-n-%d", k))
		if err != nil {
			return nil, nil, err
		}
		cands = append(cands, more)
	}
	candScores := make([][]float64, ev.s.BestOfN)
	for k := range candScores {
		if candScores[k], err = ev.btScores(cands[k]); err != nil {
			return nil, nil, err
		}
	}
	sets = append(sets, judged{method: MethodBestOfN, iter: 1, ys: bestOf(cands[:ev.s.BestOfN], candScores)})
	if len(ev.s.OracleBestOf) > 0 {
		q := make([][]float64, most)
		for k := range q {
			q[k] = ev.oracle(cands[k])
		}
		for _, k := range ev.s.OracleBestOf {
			sets = append(sets, judged{method: fmt.Sprintf("%s%d", MethodOracleBestOf, k), iter: 1, ys: bestOf(cands[:k], q[:k])})
		}
	}

	q0 := ev.oracle(y0)
	r0 := candScores[0]
	var rows []results.EvalRow
	var outs []results.Outcome
	// results[judge][set] are the per-item verdicts, for the paired
	// differences against the null.
	verdicts := map[string][][]int{}
	nullIdx := -1
	for si, set := range sets {
		if set.method == MethodNull {
			nullIdx = si
		}
		q := ev.oracle(set.ys)
		r := r0
		if set.iter != 0 {
			if r, err = ev.btScores(set.ys); err != nil {
				return nil, nil, err
			}
		}
		var copyRate float64
		if set.prev != nil {
			for j := range set.ys {
				if slices.Equal(set.ys[j], set.prev[j]) {
					copyRate++
				}
			}
			copyRate /= float64(n)
		}
		for _, judge := range []struct {
			name  string
			a, b  []float64
			delta float64
		}{{JudgeOracle, q, q0, ev.s.Epsilon}, {JudgeBT, r, r0, ev.s.BTEpsilon}} {
			row := results.EvalRow{Method: set.method, Iteration: set.iter, Judge: judge.name, Temperature: temp,
				N: n, Prompts: len(ev.prompts), Draws: ev.s.Draws, MeanOracle: stats.Mean(q), CopyRate: copyRate}
			vs := make([]int, n)
			for j := range ev.items {
				res := verdict(judge.a[j]-judge.b[j], judge.delta)
				if set.iter == 0 {
					res = 0
				}
				vs[j] = res
				switch res {
				case 1:
					row.Win++
				case -1:
					row.Lose++
				default:
					row.Tie++
				}
				outs = append(outs, results.Outcome{Method: set.method, Iteration: set.iter, Judge: judge.name, Temperature: temp,
					Prompt: j / ev.s.Draws, Draw: j % ev.s.Draws, Result: res})
			}
			verdicts[judge.name] = append(verdicts[judge.name], vs)
			fn := float64(n)
			row.Win, row.Tie, row.Lose = row.Win/fn, row.Tie/fn, row.Lose/fn
			row.Delta = 100 * (row.Win - row.Lose)
			if set.iter != 0 {
				if row.DeltaCI, err = ev.clusterCI(vs, nil, "delta/"+set.method+"/"+judge.name+"@"+tag); err != nil {
					return nil, nil, err
				}
			}
			rows = append(rows, row)
			name := fmt.Sprintf("T=%s/%s/%s", tag, set.method, judge.name)
			c.Metric(set.iter, name+"/delta", row.Delta)
		}
		stated, hidden := ev.parts(set.ys)
		name := fmt.Sprintf("T=%s/%s", tag, set.method)
		c.Metric(set.iter, name+"/mean_oracle", stats.Mean(q))
		c.Metric(set.iter, name+"/mean_stated", stated)
		c.Metric(set.iter, name+"/mean_hidden", hidden)
		if set.prev != nil {
			c.Metric(set.iter, name+"/copy_rate", copyRate)
		}
	}
	// Paired differences against the null: the same y_0, the same prompts.
	for i := range rows {
		row := &rows[i]
		if row.Iteration == 0 || row.Method == MethodNull {
			continue
		}
		judges := []string{JudgeOracle, JudgeBT}
		si := i / len(judges)
		vs := verdicts[row.Judge][si]
		ref := verdicts[row.Judge][nullIdx]
		iv, err := ev.clusterCI(vs, ref, "vs-null/"+row.Method+"/"+strconv.Itoa(row.Iteration)+"/"+row.Judge+"@"+tag)
		if err != nil {
			return nil, nil, err
		}
		row.VsNull = iv
		c.Metric(row.Iteration, fmt.Sprintf("T=%s/%s/%s/vs_null", tag, row.Method, row.Judge), iv.Point)
	}
	return rows, outs, nil
}

// bestOf picks, per item, the candidate with the highest score (the first
// on ties).
func bestOf(cands [][][]int, scores [][]float64) [][]int {
	best := make([][]int, len(cands[0]))
	for j := range best {
		bk := 0
		for k := 1; k < len(cands); k++ {
			if scores[k][j] > scores[bk][j] {
				bk = k
			}
		}
		best[j] = cands[bk][j]
	}
	return best
}

// clusterCI is 100 × the mean of the verdicts vs (minus ref's, item by item,
// when ref is not nil) with a 95% bootstrap interval that resamples prompts,
// each with all its draws. The resampling is seeded from the stage's seed
// and purpose.
func (ev *evaluator) clusterCI(vs, ref []int, purpose string) (*results.CI, error) {
	d := ev.s.Draws
	clusters := make([][]float64, len(vs)/d)
	for p := range clusters {
		cl := make([]float64, d)
		for k := range cl {
			j := p*d + k
			cl[k] = 100 * float64(vs[j])
			if ref != nil {
				cl[k] -= 100 * float64(ref[j])
			}
		}
		clusters[p] = cl
	}
	iv, err := stats.Bootstrap{Seed: uint64(ev.c.Seed("bootstrap/" + purpose))}.ClusterMean(clusters)
	if err != nil {
		return nil, fmt.Errorf("eval interval: %w", err)
	}
	return &results.CI{Point: iv.Point, Lo: iv.Lo, Hi: iv.Hi}, nil
}

// verdict is +1, 0 or −1 for a score difference with tie band eps (a
// difference of exactly 0 is always a tie).
func verdict(diff, eps float64) int {
	switch {
	case diff == 0 || math.Abs(diff) < eps:
		return 0
	case diff > 0:
		return 1
	}
	return -1
}

func (ev *evaluator) oracle(ys [][]int) []float64 {
	q := make([]float64, len(ys))
	for j, y := range ys {
		q[j] = ev.task.Quality(ev.items[j], y)
	}
	return q
}

// parts returns the mean stated and hidden scores of ys.
func (ev *evaluator) parts(ys [][]int) (stated, hidden float64) {
	for j, y := range ys {
		sc := ev.task.Score(ev.items[j], y)
		stated += sc.Stated * sc.Validity
		hidden += sc.Hidden * sc.Validity
	}
	n := float64(len(ys))
	return stated / n, hidden / n
}

// btScores are the BT reward model's r(x, y).
func (ev *evaluator) btScores(ys [][]int) ([]float64, error) {
	seqs := make([][]int, len(ys))
	for j, y := range ys {
		seqs[j] = synth.PolicyExample(ev.items[j].Tokens(), y).Tokens
	}
	r, err := batchRewards(ev.c, ev.bt, seqs, ev.btMemo)
	if err != nil {
		return nil, fmt.Errorf("BT judge: %w", err)
	}
	return r, nil
}

// gapScores are the PIT reward model's four scores on held-out pairs
// (g_ab = the score of y_a against reference y_b), with the fraction of
// pairs where each intended order holds and the mean |g_ww − g_ll|. For a
// model that is not reference-conditioned g_ab = r(x, a) − r(x, b).
func gapScores(c *runner.Context, m *nn.Model, refCnd bool, pairs []synth.Pair, limit int) ([]results.GapScore, map[string]float64, error) {
	if limit > 0 && limit < len(pairs) {
		pairs = pairs[:limit]
	}
	if len(pairs) == 0 {
		return nil, map[string]float64{}, nil
	}
	var seqs [][]int
	for _, p := range pairs {
		x := p.Prompt.Tokens()
		if refCnd {
			seqs = append(seqs,
				synth.ImproverExample(x, p.Rejected, p.Chosen).Tokens,   // wl
				synth.ImproverExample(x, p.Chosen, p.Chosen).Tokens,     // ww
				synth.ImproverExample(x, p.Rejected, p.Rejected).Tokens, // ll
				synth.ImproverExample(x, p.Chosen, p.Rejected).Tokens,   // lw
			)
		} else {
			seqs = append(seqs, synth.PolicyExample(x, p.Chosen).Tokens, synth.PolicyExample(x, p.Rejected).Tokens)
		}
	}
	sc, err := batchRewards(c, m, seqs, nil)
	if err != nil {
		return nil, nil, fmt.Errorf("gap scores: %w", err)
	}
	out := make([]results.GapScore, len(pairs))
	for i := range pairs {
		g := results.GapScore{Pair: i}
		if refCnd {
			g.WL, g.WW, g.LL, g.LW = sc[4*i], sc[4*i+1], sc[4*i+2], sc[4*i+3]
		} else {
			w, l := sc[2*i], sc[2*i+1]
			g.WL, g.LW = w-l, l-w
		}
		out[i] = g
	}
	return out, gapOrders(out), nil
}

// gapOrders are the fractions of pairs where each intended order of the
// four gap scores holds (order_wl>ww … order_all), the mean
// |g_ww − g_ll| and the mean of each score.
func gapOrders(gs []results.GapScore) map[string]float64 {
	st := map[string]float64{}
	if len(gs) == 0 {
		return st
	}
	for _, g := range gs {
		for name, ok := range map[string]bool{
			"wl>ww": g.WL > g.WW, "wl>ll": g.WL > g.LL, "wl>lw": g.WL > g.LW, "ww>lw": g.WW > g.LW, "ll>lw": g.LL > g.LW,
		} {
			if ok {
				st["order_"+name]++
			}
		}
		if g.WL > g.WW && g.WL > g.LL && g.WL > g.LW && g.WW > g.LW && g.LL > g.LW {
			st["order_all"]++
		}
		st["mean_abs_ww_ll"] += math.Abs(g.WW - g.LL)
		st["mean_wl"] += g.WL
		st["mean_ww"] += g.WW
		st["mean_ll"] += g.LL
		st["mean_lw"] += g.LW
	}
	n := float64(len(gs))
	for _, k := range []string{"order_wl>ww", "order_wl>ll", "order_wl>lw", "order_ww>lw", "order_ll>lw", "order_all",
		"mean_abs_ww_ll", "mean_wl", "mean_ww", "mean_ll", "mean_lw"} {
		st[k] /= n
	}
	return st
}

// readTable reads a run directory's eval table, if it has one.
func readTable(dir string) (string, bool) {
	b, err := os.ReadFile(filepath.Join(dir, TableFile))
	if err != nil {
		return "", false
	}
	return string(b), true
}
