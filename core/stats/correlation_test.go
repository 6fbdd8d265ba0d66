package stats

import (
	"math"
	"testing"
)

func TestCorrelation(t *testing.T) {
	tests := []struct {
		a, b []float64
		want float64
	}{
		{[]float64{1, 2, 3}, []float64{2, 4, 6}, 1},
		{[]float64{1, 2, 3}, []float64{3, 2, 1}, -1},
		{[]float64{1, 2, 3, 4}, []float64{1, 3, 2, 4}, 0.8},
		{[]float64{1, 1, 1}, []float64{1, 2, 3}, 0}, // constant side
		{[]float64{1}, []float64{1}, 0},
	}
	for _, tt := range tests {
		if got := Correlation(tt.a, tt.b); math.Abs(got-tt.want) > 1e-12 {
			t.Errorf("stats.Correlation(%v, %v) = %v, want %v", tt.a, tt.b, got, tt.want)
		}
	}
}
