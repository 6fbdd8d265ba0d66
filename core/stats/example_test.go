package stats_test

import (
	"fmt"

	"github.com/pit-lab/pit/core/stats"
)

func ExampleBootstrap_CI() {
	// Final oracle score of one arm, one value per seed.
	scores := []float64{0.81, 0.84, 0.79, 0.88, 0.83}
	iv, err := stats.Bootstrap{Seed: 1}.CI(scores, stats.Mean)
	if err != nil {
		panic(err)
	}
	fmt.Printf("mean %.3f, 95%% CI [%.3f, %.3f]\n", iv.Point, iv.Lo, iv.Hi)
	// Output: mean 0.830, 95% CI [0.806, 0.858]
}

func ExampleBootstrap_Delta() {
	// Judgements of y_1 against y_0 (+1 win, 0 tie, −1 lose), one list per seed.
	seeds := [][]int{{1, 1, 0, -1, 1, 0}, {1, -1, -1, 0, 1, 1}}
	iv, err := stats.Bootstrap{Seed: 1}.Delta(seeds)
	if err != nil {
		panic(err)
	}
	fmt.Printf("Δ = %.1f, 95%% CI [%.1f, %.1f]\n", iv.Point, iv.Lo, iv.Hi)
	// Output: Δ = 25.0, 95% CI [-16.7, 75.0]
}
