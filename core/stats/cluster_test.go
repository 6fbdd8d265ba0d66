package stats

import (
	"math"
	"testing"
)

func TestClusterMean(t *testing.T) {
	// 50 clusters of 8 identical values each (perfectly correlated draws):
	// the cluster bootstrap's interval must be as wide as that of the 50
	// cluster means, not the narrower one of 400 independent values.
	var clusters [][]float64
	var flat, means []float64
	for i := range 50 {
		v := float64(i%2) * 100 // half the prompts win, half lose
		c := make([]float64, 8)
		for k := range c {
			c[k] = v
		}
		clusters = append(clusters, c)
		flat = append(flat, c...)
		means = append(means, v)
	}
	b := Bootstrap{Seed: 3}
	got, err := b.ClusterMean(clusters)
	if err != nil {
		t.Fatal(err)
	}
	if got.Point != 50 {
		t.Errorf("point %v, want 50", got.Point)
	}
	byCluster, _ := b.CI(means, Mean)
	iid, _ := b.CI(flat, Mean)
	if w, want := got.Hi-got.Lo, byCluster.Hi-byCluster.Lo; math.Abs(w-want) > 0.25*want {
		t.Errorf("cluster interval width %.1f, want about %.1f (one value per cluster)", w, want)
	}
	if w, iw := got.Hi-got.Lo, iid.Hi-iid.Lo; w < 2*iw {
		t.Errorf("cluster interval width %.1f is not wider than the independent-values one %.1f", w, iw)
	}
	// Unequal cluster sizes: the point is the mean of all values.
	iv, err := b.ClusterMean([][]float64{{1, 1, 1}, {4}})
	if err != nil || iv.Point != 7.0/4 {
		t.Errorf("unequal clusters: %+v, %v", iv, err)
	}
	if _, err := b.ClusterMean(nil); err == nil {
		t.Error("no clusters: no error")
	}
	if _, err := b.ClusterMean([][]float64{{1, math.NaN()}}); err == nil {
		t.Error("NaN: no error")
	}
}
