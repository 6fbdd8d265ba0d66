package nn

import (
	"slices"
	"testing"
)

// The graph cache evicts the least recently used graphs by count and by
// estimated bytes, always keeping the graph just asked for.
func TestGraphCacheBudget(t *testing.T) {
	sizes := map[int]int64{8: 100, 16: 300, 24: 50, 32: 700, 64: 2000}
	c := newGraphCache(3, func(k graphKey) int64 { return sizes[k.T] })
	c.budget = 1000
	builds := 0
	for i, step := range []struct {
		T      int
		want   []int // cached shapes, least recently used first
		builds int
	}{
		{8, []int{8}, 1},
		{16, []int{8, 16}, 2},
		{8, []int{16, 8}, 2},  // a hit moves to the back, no build
		{32, []int{8, 32}, 3}, // 300+100+700 > 1000: 16 goes first
		{64, []int{64}, 4},    // over the budget alone: everything else goes, it stays
		{8, []int{8}, 5},      // 2000+100 > 1000: 64 goes
		{16, []int{8, 16}, 6}, // 400
		{24, []int{8, 16, 24}, 7},
		{32, []int{24, 32}, 8}, // the count (3) and then the bytes: 8 and 16 go
	} {
		if _, err := c.get(graphKey{kind: kindSFT, B: 1, T: step.T}, func() (*graph, error) { builds++; return &graph{}, nil }); err != nil {
			t.Fatal(err)
		}
		var got []int
		for _, k := range c.order {
			got = append(got, k.T)
		}
		if !slices.Equal(got, step.want) || builds != step.builds {
			t.Fatalf("step %d (T=%d): cache %v after %d builds, want %v after %d", i, step.T, got, builds, step.want, step.builds)
		}
		if len(c.order) > 1 && c.total > c.budget {
			t.Fatalf("step %d: %d bytes cached, over the budget %d", i, c.total, c.budget)
		}
	}
}

// StepBytes counts the weights once, grows with the batch and the length
// (the attention weights quadratically), a training step costs more than a
// scoring pass, and the LM head more than the reward head alone.
func TestStepBytes(t *testing.T) {
	cfg := smallConfig(1)
	var params int64
	for _, p := range ParamShapes(cfg.WithDefaults()) {
		n := int64(1)
		for _, d := range p.Shape {
			n *= int64(d)
		}
		params += n
	}
	one := StepBytes(cfg, 1, 1, false, false)
	if one <= 4*params || one > 4*params+1<<20 {
		t.Errorf("one token scored: %d bytes for %d float32 parameters", one, params)
	}
	b1, b2 := StepBytes(cfg, 4, 32, true, true), StepBytes(cfg, 8, 32, true, true)
	t1, t2 := StepBytes(cfg, 4, 64, true, true)-4*params*4, StepBytes(cfg, 4, 32, true, true)-4*params*4
	if !(b2 > b1) || !(t1 > 2*t2) || !(StepBytes(cfg, 4, 32, true, true) > StepBytes(cfg, 4, 32, false, true)) {
		t.Errorf("batch %d -> %d, length 32 -> 64: %d -> %d, training vs scoring", b1, b2, t2, t1)
	}
	if !(StepBytes(cfg, 4, 32, true, true) > StepBytes(cfg, 4, 32, true, false)) {
		t.Error("the LM head's logits cost nothing")
	}
}
