package nn

import (
	"math"
	"math/rand/v2"
	"runtime"
	"runtime/debug"
	"testing"
)

// withArena runs f with the arena's reuse and poisoning set, and restores
// them.
func withArena(t *testing.T, reuse, poison bool, f func()) {
	t.Helper()
	r0, p0 := arenaReuse, arenaPoison
	arenaReuse, arenaPoison = reuse, poison
	defer func() { arenaReuse, arenaPoison = r0, p0 }()
	f()
}

// arenaRun trains a fresh model of cfg a few steps (SFT, comparison,
// policy gradient) and scores a batch, and returns every number it saw:
// losses, statistics, scores and the final weights.
func arenaRun(t *testing.T, cfg Config) []float64 {
	t.Helper()
	m := mustModel(t, cfg)
	tr := mustTrainer(t, m, OptimConfig{LR: 1e-2, ClipNorm: 1})
	defer tr.Close()
	rng := rand.New(rand.NewPCG(7, 7))
	batch := batchData(rng, cfg, 3)
	batch.Seqs[1] = batch.Seqs[1][:cfg.Context/2] // padding and a second shape
	var got []float64
	for i := 0; i < 2; i++ {
		l, err := tr.SFTStep(batch)
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, l, tr.LastGradNorm())
	}
	cs, err := tr.ComparisonStep(batch.Seqs, []Pair{{I: 0, J: 1, Weight: 1}, {I: 2, J: 1, Weight: 0.5}})
	if err != nil {
		t.Fatal(err)
	}
	got = append(got, cs.Loss, cs.GradNorm)
	got = append(got, cs.Scores...)
	r := Rollouts{Seqs: batch.Seqs}
	for _, s := range batch.Seqs {
		mask, old, adv := make([]bool, len(s)), make([]float64, len(s)), make([]float64, len(s))
		for j := range s {
			mask[j] = j > len(s)/2
			old[j] = -math.Log(float64(cfg.Vocab))
			adv[j] = float64(j%3) - 1
		}
		r.Mask, r.OldLogProbs, r.Advantages = append(r.Mask, mask), append(r.OldLogProbs, old), append(r.Advantages, adv)
	}
	ps, err := tr.PolicyGradientStep(r, PGKnobs{})
	if err != nil {
		t.Fatal(err)
	}
	got = append(got, ps.Loss, ps.GradNorm)
	sc, err := m.ScoreTokens(t.Context(), batch.Seqs, 1)
	if err != nil {
		t.Fatal(err)
	}
	for _, row := range sc.LogProbs {
		got = append(got, row...)
	}
	rw, err := m.Rewards(t.Context(), batch.Seqs)
	if err != nil {
		t.Fatal(err)
	}
	got = append(got, rw...)
	for _, p := range m.params {
		got = append(got, toF64(p.t)...)
	}
	return got
}

// Sharing arrays between ops changes no number: training, comparison,
// policy-gradient and scoring runs with reuse (every array poisoned with
// NaN when the arena hands it out, so a kernel that reads what it did not
// write shows) give bit-identical results to runs where every op keeps
// arrays of its own, for both architectures.
func TestArenaMatchesPrivateBuffers(t *testing.T) {
	for _, tc := range []struct {
		name string
		cfg  Config
	}{
		{"gpt", Config{Vocab: 24, Context: 16, DModel: 32, Layers: 2, Heads: 4, Seed: 3}},
		{"llama", llamaConfig(3)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var shared, private []float64
			withArena(t, true, true, func() { shared = arenaRun(t, tc.cfg) })
			withArena(t, false, false, func() { private = arenaRun(t, tc.cfg) })
			if len(shared) != len(private) {
				t.Fatalf("%d numbers with reuse, %d without", len(shared), len(private))
			}
			for i := range shared {
				if math.Float64bits(shared[i]) != math.Float64bits(private[i]) {
					t.Fatalf("number %d: %v with reuse, %v without", i, shared[i], private[i])
				}
			}
		})
	}
}

// arenaBytes builds the graph of kind for B sequences of T tokens on a
// model of cfg, runs it once and returns the bytes its arena made.
func arenaBytes(t *testing.T, cfg Config, kind graphKind, B, T int) int64 {
	t.Helper()
	m := mustModel(t, cfg)
	cfg = m.cfg
	k := graphKey{kind: kind, B: B, T: T}
	gr, err := m.buildGraph(k)
	if err != nil {
		t.Fatal(err)
	}
	defer gr.close()
	if gr.ar == nil {
		t.Fatal("a CPU model's graph has no arena")
	}
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range gr.st.ids {
		gr.st.ids[i] = rng.IntN(cfg.Vocab)
	}
	switch kind {
	case kindSFT:
		for i := range gr.st.targets {
			gr.st.targets[i], gr.st.weights[i] = rng.IntN(cfg.Vocab), 1
		}
	case kindEvalPolicy:
	default:
		t.Fatalf("arenaBytes: kind %v", kind)
	}
	if err := gr.run(); err != nil {
		t.Fatal(err)
	}
	return gr.ar.bytes()
}

// A compiled training graph holds what its backward pass needs, not every
// value it computes: its arena stays within the estimate graphBytes makes
// for the cache and pit validate (itself about the activations a
// transformer keeps for its gradient: per layer and token 8·D + 2·MLP
// values and H·T attention weights), while the same graph with an array
// per op needs more than that. A scoring graph's arena does not grow with
// the number of layers at all.
func TestArenaBytes(t *testing.T) {
	for _, tc := range []struct {
		name string
		cfg  Config
	}{
		{"gpt", Config{Vocab: 64, Context: 32, DModel: 64, Layers: 4, Heads: 4, Seed: 1}},
		{"llama", Config{Arch: ArchLlama, Vocab: 64, Context: 32, DModel: 64, Layers: 4, Heads: 4, KVHeads: 2, Seed: 1}},
		{"gpt-narrow-mlp", Config{Vocab: 64, Context: 32, DModel: 128, Layers: 3, Heads: 8, MLP: 64, Seed: 1}},
		{"llama-narrow-mlp", Config{Arch: ArchLlama, Vocab: 64, Context: 32, DModel: 128, Layers: 2, Heads: 2, KVHeads: 2, MLP: 128, Seed: 1}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			const B, T = 8, 32
			est := graphBytes(tc.cfg, graphKey{kind: kindSFT, B: B, T: T})
			var reuse, private int64
			withArena(t, true, false, func() { reuse = arenaBytes(t, tc.cfg, kindSFT, B, T) })
			withArena(t, false, false, func() { private = arenaBytes(t, tc.cfg, kindSFT, B, T) })
			t.Logf("training graph: %d bytes with reuse, %d without, estimate %d", reuse, private, est)
			if reuse > est || reuse < est/2 {
				t.Errorf("training graph's arena holds %d bytes; the estimate %d should bound it within 2×", reuse, est)
			}
			if private <= est {
				t.Errorf("without reuse the graph holds %d bytes, within the estimate %d: the test no longer tells reuse from none", private, est)
			}
			deep := tc.cfg
			deep.Layers = 3 * tc.cfg.Layers
			var shallow, deeper int64
			withArena(t, true, false, func() {
				shallow = arenaBytes(t, tc.cfg, kindEvalPolicy, B, T)
				deeper = arenaBytes(t, deep, kindEvalPolicy, B, T)
			})
			t.Logf("scoring graph: %d bytes at %d layers, %d at %d", shallow, tc.cfg.Layers, deeper, deep.Layers)
			if deeper != shallow {
				t.Errorf("scoring graph holds %d bytes at %d layers and %d at %d: forward values outlive their readers", shallow, tc.cfg.Layers, deeper, deep.Layers)
			}
			if e := graphBytes(deep, graphKey{kind: kindEvalPolicy, B: B, T: T}); deeper > e {
				t.Errorf("scoring graph holds %d bytes, over the estimate %d", deeper, e)
			}
		})
	}
}

// A trainer collects once the heap has grown by more than its slack since
// the last collection, and not before.
func TestCollectGarbage(t *testing.T) {
	defer debug.SetGCPercent(debug.SetGCPercent(-1)) // only explicit collections
	runtime.GC()
	var sink [][]byte
	for range 8 {
		sink = append(sink, make([]byte, 1<<20))
	}
	if collectGarbage() {
		t.Fatal("collected after 8 MiB")
	}
	for range 80 {
		sink = append(sink, make([]byte, 1<<20))
	}
	sink = nil
	if !collectGarbage() {
		t.Fatal("88 MiB over a small heap left alone")
	}
	if collectGarbage() {
		t.Fatal("collected twice")
	}
	_ = sink
}
