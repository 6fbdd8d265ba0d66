package stats

import (
	"math/rand/v2"
	"testing"
)

// BenchmarkCI: a 2000-resample interval of the mean of 5 seeds, as drawn per
// step of a learning curve.
func BenchmarkCI(b *testing.B) {
	xs := []float64{0.1, 0.4, 0.3, 0.8, 0.5}
	for i := 0; b.Loop(); i++ {
		if _, err := (Bootstrap{Seed: uint64(i)}).CI(xs, Mean); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkDeltaOverSeeds: Δ of 5 seeds × 500 prompts, 2000 resamples.
func BenchmarkDeltaOverSeeds(b *testing.B) {
	r := rand.New(rand.NewPCG(1, 1))
	groups := make([][]int, 5)
	for g := range groups {
		groups[g] = make([]int, 500)
		for i := range groups[g] {
			groups[g][i] = r.IntN(3) - 1
		}
	}
	for i := 0; b.Loop(); i++ {
		if _, err := (Bootstrap{Seed: uint64(i)}).DeltaOverSeeds(groups); err != nil {
			b.Fatal(err)
		}
	}
}
