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

func TestHierarchicalMean(t *testing.T) {
	b := Bootstrap{Seed: 5}
	// Three seeds whose prompts agree within a seed but whose levels differ:
	// the interval must reflect the spread between seeds.
	var groups [][][]float64
	for _, level := range []float64{-10, 20, 50} {
		var clusters [][]float64
		for p := range 39 {
			clusters = append(clusters, []float64{level + float64(p%3-1), level})
		}
		groups = append(groups, clusters)
	}
	iv, err := b.HierarchicalMean(groups)
	if err != nil {
		t.Fatal(err)
	}
	if math.Abs(iv.Point-20) > 1e-9 {
		t.Errorf("point %v, want 20", iv.Point)
	}
	if !(iv.Lo < 0 && iv.Hi > 40) {
		t.Errorf("interval [%.1f, %.1f] does not span the seeds' spread (−10 … 50)", iv.Lo, iv.Hi)
	}
	// One group: the same as ClusterMean.
	one, _ := b.HierarchicalMean(groups[:1])
	cm, _ := b.ClusterMean(groups[0])
	if one.Point != cm.Point || one.Hi-one.Lo > 3*(cm.Hi-cm.Lo)+1e-9 {
		t.Errorf("one group %+v, cluster mean %+v", one, cm)
	}
	if _, err := b.HierarchicalMean([][][]float64{{}}); err == nil {
		t.Error("a group without clusters: no error")
	}
}
