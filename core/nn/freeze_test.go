package nn

import (
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
)

// A frozen parameter keeps its values through training (no gradient step,
// no weight decay) while the others move and the loss still falls.
func TestTrainerFreeze(t *testing.T) {
	m := mustModel(t, smallConfig(1))
	tr := mustTrainer(t, m, OptimConfig{LR: 3e-3, WeightDecay: 0.1, ClipNorm: 1})
	frozen := func(name string) bool { return name == "wte" || name == "wpe" || strings.HasPrefix(name, "h0.") }
	n := tr.Freeze(frozen)
	want := 0
	for _, p := range ParamShapes(m.Config()) {
		if frozen(p.Name) {
			want++
		}
	}
	if n != want || n < 3 {
		t.Fatalf("Freeze froze %d parameters, want %d", n, want)
	}
	before := m.Weights()
	rng := rand.New(rand.NewPCG(1, 2))
	first, err := tr.SFTStep(copyBatch(rng, 16, 5))
	if err != nil {
		t.Fatal(err)
	}
	var last float64
	for range 60 {
		if last, err = tr.SFTStep(copyBatch(rng, 16, 5)); err != nil {
			t.Fatal(err)
		}
	}
	if !(last < first) {
		t.Errorf("loss %v -> %v did not fall with the embeddings frozen", first, last)
	}
	after := m.Weights()
	for name, w := range before {
		same := slices.Equal(w, after[name])
		if frozen(name) && !same {
			t.Errorf("frozen %s changed", name)
		}
		if !frozen(name) && same && name != "rm.w" && name != "rm.b" {
			t.Errorf("trained %s did not change", name)
		}
	}
}
