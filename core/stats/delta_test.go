package stats

import (
	"testing"
)

func TestTally(t *testing.T) {
	// 5 wins, 3 ties, 2 losses of 10: win 50%, tie 30%, lose 20%, Δ = 30.
	tl, err := Count([]int{1, 1, 0, -1, 1, 0, 1, -1, 0, 1})
	if err != nil {
		t.Fatal(err)
	}
	if tl != (Tally{Win: 5, Tie: 3, Lose: 2}) || tl.N() != 10 {
		t.Fatalf("tally %+v", tl)
	}
	for _, c := range []struct {
		name      string
		got, want float64
	}{{"win", tl.WinPct(), 50}, {"tie", tl.TiePct(), 30}, {"lose", tl.LosePct(), 20}, {"delta", tl.Delta(), 30}} {
		if !near(c.got, c.want, 1e-12) {
			t.Errorf("%s = %v, want %v", c.name, c.got, c.want)
		}
	}
	if _, err := Count([]int{1, 3}); err == nil {
		t.Error("judgement 3 accepted")
	}
	if d := (Tally{}).Delta(); d == d {
		t.Errorf("empty tally Δ = %v, want NaN", d)
	}
}

// exactDelta enumerates every per-prompt resample within groups.
func exactDelta(groups [][]int) []float64 {
	var strata [][]float64
	for _, g := range groups {
		var s []float64
		for _, r := range g {
			s = append(s, float64(r))
		}
		strata = append(strata, s)
	}
	// Δ in percent is 100 × the mean of the ±1/0 codes.
	return exactDist(strata, func(xs []float64) float64 { return 100 * Mean(xs) })
}

func TestDeltaMatchesExactBootstrap(t *testing.T) {
	groups := [][]int{{1, 0, -1, 1}, {1, 1, -1}}
	iv, err := Bootstrap{Resamples: 40000, Seed: 1}.Delta(groups)
	if err != nil {
		t.Fatal(err)
	}
	// Pooled: 4 wins, 1 tie, 2 losses of 7: Δ = 100·2/7.
	if !near(iv.Point, 200.0/7, 1e-9) {
		t.Errorf("point %v, want %v", iv.Point, 200.0/7)
	}
	checkAgainstExact(t, iv, exactDelta(groups))
}

func TestDeltaOverSeedsWidensWhenSeedsDisagree(t *testing.T) {
	// Seed A always wins, seed B always loses. Resampling prompts within
	// seeds cannot move Δ (0); resampling seeds can.
	groups := [][]int{{1, 1, 1, 1, 1}, {-1, -1, -1, -1, -1}}
	within, err := Bootstrap{Seed: 2}.Delta(groups)
	if err != nil {
		t.Fatal(err)
	}
	if within != (Interval{0, 0, 0}) {
		t.Errorf("per-prompt interval %+v, want all 0", within)
	}
	over, err := Bootstrap{Seed: 2}.DeltaOverSeeds(groups)
	if err != nil {
		t.Fatal(err)
	}
	// Drawing two seeds: both A (Δ=100, p=¼), both B (−100, ¼), mixed (0, ½).
	if over.Point != 0 || over.Lo != -100 || over.Hi != 100 {
		t.Errorf("over-seeds interval %+v, want 0 in [-100, 100]", over)
	}
}
