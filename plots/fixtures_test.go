package plots

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"io/fs"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/pit-lab/pit/core/results"
)

var update = flag.Bool("update", false, "rewrite the fixtures and golden files under testdata/")

// The fixtures under testdata/results are two small fake experiments in
// pit's results format, written by writeFixtures. They are synthetic (made
// to look like what a toy-scale PyTorch probe of PIT found, not measured) and exist so the
// figures can be built and tested before the PIT stages exist.
//
//	fake-ablation: 4 arms (curricula two-round, round0-only, round1-only
//	  with the pit-gap reward; the rubric reward as baseline) × 3 seeds;
//	  rm and pit_rl curves, eval of pit (iterations 1–3) and null with two
//	  judges, per-prompt outcomes, gap scores. round1-only seed 3 failed
//	  (NaN), rubric seed 2 finished with a NaN kl at one step.
//	fake-sweep: 2 curricula × kl_beta ∈ {0.01, 0.05, 0.1, 0.2} × 2 seeds;
//	  eval rows (no outcomes) at temperatures 0.4, 0.7 and 1.0.
const fixturesDir = "testdata/results"

func TestFixturesAreReproducible(t *testing.T) {
	if *update {
		if err := os.RemoveAll(fixturesDir); err != nil {
			t.Fatal(err)
		}
		if err := writeFixtures(fixturesDir); err != nil {
			t.Fatal(err)
		}
	}
	tmp := t.TempDir()
	if err := writeFixtures(tmp); err != nil {
		t.Fatal(err)
	}
	n := 0
	err := filepath.WalkDir(tmp, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(tmp, path)
		want, err := os.ReadFile(filepath.Join(fixturesDir, rel))
		if err != nil {
			return fmt.Errorf("%s: %w (run go test ./plots -run Fixtures -update)", rel, err)
		}
		got, _ := os.ReadFile(path)
		if !bytes.Equal(got, want) && !sameJSONLines(got, want) {
			t.Errorf("%s differs from the generator's output (run go test ./plots -run Fixtures -update)", rel)
		}
		n++
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if n < 50 {
		t.Errorf("only %d fixture files", n)
	}
}

// sameJSONLines compares two JSON or JSON-lines files value by value,
// numbers to 1e-9 relative: floating-point results may differ in the last
// bit between architectures (fused multiply-add on arm64).
func sameJSONLines(a, b []byte) bool {
	la, lb := bytes.Split(bytes.TrimSpace(a), []byte("\n")), bytes.Split(bytes.TrimSpace(b), []byte("\n"))
	if bytes.HasPrefix(bytes.TrimSpace(a), []byte("{\n")) { // one indented JSON document
		la, lb = [][]byte{a}, [][]byte{b}
	}
	if len(la) != len(lb) {
		return false
	}
	for i := range la {
		var x, y any
		if json.Unmarshal(la[i], &x) != nil || json.Unmarshal(lb[i], &y) != nil || !sameValueTree(x, y) {
			return false
		}
	}
	return true
}

func sameValueTree(x, y any) bool {
	switch a := x.(type) {
	case float64:
		b, ok := y.(float64)
		return ok && math.Abs(a-b) <= 1e-9*math.Max(1, math.Abs(a))
	case map[string]any:
		b, ok := y.(map[string]any)
		if !ok || len(a) != len(b) {
			return false
		}
		for k, v := range a {
			if !sameValueTree(v, b[k]) {
				return false
			}
		}
		return true
	case []any:
		b, ok := y.([]any)
		if !ok || len(a) != len(b) {
			return false
		}
		for i := range a {
			if !sameValueTree(a[i], b[i]) {
				return false
			}
		}
		return true
	}
	return x == y
}

var fixtureTime = time.Date(2026, 11, 28, 3, 0, 0, 0, time.UTC)

type fakeArm struct {
	label      string
	factors    map[string]any
	baseline   bool
	delta      []float64 // true Δ (percentage points) of the oracle per iteration
	rewardRate float64   // how fast the RL reward climbs
	gaps       bool
}

func writeFixtures(root string) error {
	arms := []fakeArm{
		{"two-round", map[string]any{"curriculum": "two-round", "reward": "pit-gap"}, false, []float64{12, 8, 5}, 1.0, true},
		{"round0-only", map[string]any{"curriculum": "round0-only", "reward": "pit-gap"}, false, []float64{10, 7, 6}, 0.8, true},
		{"round1-only", map[string]any{"curriculum": "round1-only", "reward": "pit-gap"}, false, []float64{-20, -25, -28}, 1.4, true},
		{"rubric", map[string]any{"curriculum": "two-round", "reward": "rubric"}, true, []float64{-8, -12, -15}, 1.1, false},
	}
	for ai, arm := range arms {
		for seed := int64(1); seed <= 3; seed++ {
			r := rand.New(rand.NewPCG(uint64(ai*100)+uint64(seed), 7))
			dir := filepath.Join(root, "fake-ablation", fmt.Sprintf("curriculum=%s,reward=%s", arm.factors["curriculum"], arm.factors["reward"]), fmt.Sprintf("seed=%d", seed))
			m := manifest("fake-ablation", dir, root, arm, seed)
			diverged := arm.label == "round1-only" && seed == 3
			var metrics []results.Metric
			for step := 0; step <= 40; step += 2 {
				x := float64(step) / 40
				metrics = append(metrics,
					results.Metric{Stage: "rm", Step: step, Name: "loss", Value: 0.69 - 0.25*(1-math.Exp(-4*x)) + 0.02*r.NormFloat64(), Seed: seed},
					results.Metric{Stage: "rm", Step: step, Name: "accuracy", Value: 0.5 + 0.22*(1-math.Exp(-4*x)) + 0.015*r.NormFloat64(), Seed: seed})
			}
			offset := 0.1 * r.NormFloat64()
			for step := 0; step <= 60; step += 3 {
				x := float64(step) / 60
				reward := offset + arm.rewardRate*(1-math.Exp(-3*x)) + 0.05*r.NormFloat64()
				kl := 0.02 + 0.3*x*arm.rewardRate + 0.01*r.NormFloat64()
				if diverged && step >= 36 {
					reward, kl = math.NaN(), math.Inf(1)
				}
				if arm.label == "rubric" && seed == 2 && step == 30 {
					kl = math.NaN() // a finished run with one bad logged value
				}
				gain := arm.delta[0]/100*x + 0.02*r.NormFloat64()
				metrics = append(metrics,
					results.Metric{Stage: "pit_rl", Step: step, Name: "reward", Value: reward, Seed: seed},
					results.Metric{Stage: "pit_rl", Step: step, Name: "kl", Value: kl, Seed: seed},
					results.Metric{Stage: "pit_rl", Step: step, Name: "oracle_gain", Value: gain, Seed: seed})
				if diverged && step >= 36 {
					break
				}
			}
			if diverged {
				m.Status = results.StatusFailed
				m.Error = "stage pit_rl: reward is NaN at step 36"
				if err := writeRun(dir, m, metrics, nil, nil, nil); err != nil {
					return err
				}
				continue
			}
			seedShift := 6 * r.NormFloat64()
			var eval []results.EvalRow
			var outs []results.Outcome
			for _, judge := range []string{"oracle", "bt"} {
				hack := 0.0
				if judge == "bt" {
					hack = 9 // the learned judge is fooled a little
				}
				cells := []struct {
					method string
					iter   int
					delta  float64
				}{{"null", 1, 0}}
				for i, d := range arm.delta {
					cells = append(cells, struct {
						method string
						iter   int
						delta  float64
					}{"pit", i + 1, d + seedShift + hack})
				}
				for _, c := range cells {
					var tl [3]int
					for p := range 30 {
						res := judgement(r, c.delta)
						tl[res+1]++
						outs = append(outs, results.Outcome{Method: c.method, Iteration: c.iter, Judge: judge, Temperature: 0.4, Prompt: p, Result: res})
					}
					n := 30.0
					eval = append(eval, results.EvalRow{Method: c.method, Iteration: c.iter, Judge: judge, Temperature: 0.4, N: 30,
						Win: float64(tl[2]) / n, Tie: float64(tl[1]) / n, Lose: float64(tl[0]) / n, Delta: 100 * float64(tl[2]-tl[0]) / n,
						MeanOracle: 0.86 + float64(tl[2]-tl[0])/n/10})
				}
			}
			var gaps []results.GapScore
			if arm.gaps {
				leak := 0.4 // g_ww − g_ll: the model leaks absolute quality
				for p := range 60 {
					gaps = append(gaps, results.GapScore{Pair: p,
						WL: 1.0 + 0.6*r.NormFloat64(), WW: 0.1 + leak/2 + 0.5*r.NormFloat64(),
						LL: 0.1 - leak/2 + 0.5*r.NormFloat64(), LW: -0.9 + 0.6*r.NormFloat64()})
				}
			}
			if err := writeRun(dir, m, metrics, eval, outs, gaps); err != nil {
				return err
			}
		}
	}
	// A stage cache with a stray manifest that Load must not read.
	stray := filepath.Join(root, "fake-ablation", ".cache", "pit_rl", "abc123")
	if err := results.WriteJSON(filepath.Join(stray, results.ManifestFile), results.Manifest{Experiment: "not-this-one"}); err != nil {
		return err
	}
	return writeSweep(root)
}

func writeSweep(root string) error {
	for ci, cur := range []string{"two-round", "round0-only"} {
		for bi, beta := range []float64{0.01, 0.05, 0.1, 0.2} {
			for seed := int64(1); seed <= 2; seed++ {
				r := rand.New(rand.NewPCG(uint64(1000+ci*100+bi*10)+uint64(seed), 9))
				arm := fakeArm{label: fmt.Sprintf("%s,kl_beta=%v", cur, beta), factors: map[string]any{"curriculum": cur, "kl_beta": beta}}
				dir := filepath.Join(root, "fake-sweep", fmt.Sprintf("curriculum=%s,kl_beta=%v", cur, beta), fmt.Sprintf("seed=%d", seed))
				m := manifest("fake-sweep", dir, root, arm, seed)
				var metrics []results.Metric
				for step := 0; step <= 30; step += 5 {
					x := float64(step) / 30
					metrics = append(metrics, results.Metric{Stage: "pit_rl", Step: step, Name: "kl", Value: 0.5 * x / (1 + 20*beta) * (1 + 0.05*r.NormFloat64()), Seed: seed})
				}
				var eval []results.EvalRow
				for _, temp := range []float64{0.4, 0.7, 1.0} {
					for it := 1; it <= 2; it++ {
						// Best at moderate β and low temperature; round0-only a bit lower.
						d := 15 - 60*math.Abs(beta-0.07) - 30*(temp-0.4) - 3*float64(ci) - 2*float64(it-1) + 5*r.NormFloat64()
						win := math.Max(0, math.Min(0.7, (0.7+d/100)/2))
						lose := math.Max(0, 0.7-win)
						eval = append(eval, results.EvalRow{Method: "pit", Iteration: it, Judge: "oracle", Temperature: temp, N: 200,
							Win: win, Tie: 1 - win - lose, Lose: lose, Delta: 100 * (win - lose)})
					}
				}
				if err := writeRun(dir, m, metrics, eval, nil, nil); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

// judgement draws +1, 0 or −1 with 30% ties and win − lose = delta/100.
func judgement(r *rand.Rand, delta float64) int {
	pw := math.Max(0, math.Min(0.7, (0.7+delta/100)/2))
	u := r.Float64()
	switch {
	case u < pw:
		return 1
	case u < pw+0.3:
		return 0
	}
	return -1
}

func manifest(exp, dir, root string, arm fakeArm, seed int64) results.Manifest {
	rel, _ := filepath.Rel(filepath.Join(root, exp), dir)
	return results.Manifest{
		Experiment: exp, Run: filepath.ToSlash(rel), Arm: arm.label, Seed: seed, Baseline: arm.baseline,
		Factors: arm.factors, Status: results.StatusDone, CodeVersion: "fixture", GoVersion: "go1.26",
		Started: fixtureTime, Finished: fixtureTime.Add(time.Minute),
	}
}

func writeRun(dir string, m results.Manifest, metrics []results.Metric, eval []results.EvalRow, outs []results.Outcome, gaps []results.GapScore) error {
	if err := results.WriteJSON(filepath.Join(dir, results.ManifestFile), m); err != nil {
		return err
	}
	if err := results.WriteJSONL(filepath.Join(dir, results.MetricsFile), metrics); err != nil {
		return err
	}
	if eval != nil {
		if err := results.WriteJSONL(filepath.Join(dir, results.EvalFile), eval); err != nil {
			return err
		}
	}
	if outs != nil {
		if err := results.WriteJSONL(filepath.Join(dir, results.OutcomesFile), outs); err != nil {
			return err
		}
	}
	if gaps != nil {
		if err := results.WriteJSONL(filepath.Join(dir, results.GapsFile), gaps); err != nil {
			return err
		}
	}
	return nil
}

func TestSameJSONLines(t *testing.T) {
	for _, tc := range []struct {
		a, b string
		want bool
	}{
		{`{"v":0.30000000000000004}` + "\n", `{"v":0.3}` + "\n", true},
		{`{"v":0.31}`, `{"v":0.3}`, false},
		{`{"v":1}` + "\n" + `{"v":2}`, `{"v":1}`, false},
		{"{\n  \"a\": [1, \"x\"]\n}\n", "{\n  \"a\": [1.0000000000001, \"x\"]\n}\n", true},
		{`{"a":"x"}`, `{"a":"y"}`, false},
	} {
		if got := sameJSONLines([]byte(tc.a), []byte(tc.b)); got != tc.want {
			t.Errorf("sameJSONLines(%q, %q) = %v", tc.a, tc.b, got)
		}
	}
}
