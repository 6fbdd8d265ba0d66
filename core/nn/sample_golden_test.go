package nn

import (
	"crypto/sha256"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
)

// sampleHash samples twice from a model of cfg (prompts of 1 to 12
// tokens, so that some decode from a prefill and some token by token)
// and hashes the tokens and the IEEE bits of the log-probs.
func sampleHash(t *testing.T, cfg Config, batch int) string {
	t.Helper()
	m := mustModel(t, cfg)
	rng := rand.New(rand.NewPCG(3, 4))
	prompts := make([][]int, batch)
	for i := range prompts {
		prompts[i] = []int{1 + i%5, 2, 3}
		if i%3 == 0 {
			prompts[i] = append(prompts[i], make([]int, 9)...)
		}
	}
	h := sha256.New()
	for range 2 {
		gens, err := m.Sample(t.Context(), prompts, SampleOptions{Temperature: 1, MaxNew: cfg.Context, EOS: -1}, rng)
		if err != nil {
			t.Fatal(err)
		}
		for _, g := range gens {
			fmt.Fprint(h, g.Tokens, g.Finished)
			for _, l := range g.LogProbs {
				fmt.Fprint(h, math.Float64bits(l))
			}
		}
	}
	return fmt.Sprintf("%x", h.Sum(nil))
}

// TestSampleGolden pins sampled tokens and log-probs bit for bit
// (testdata/sample.sha256, one line per case and goldenVariant; -update
// rewrites this variant's lines) on shapes that exercise the decode
// paths: two halves on two goroutines (batch 32) and one graph (batch 8,
// and batch 32 with the split disabled, which must give the same bits as
// the two halves), head sizes 16, 32 and 64, prefill and token by token.
// The decode steps multiply by packed weights and run attention on the
// vector kernels; none of it may change a bit.
func TestSampleGolden(t *testing.T) {
	cases := []struct {
		name      string
		cfg       Config
		batch     int
		noSplit   bool
		sameAsPre string // the case whose hash this one must equal
	}{
		{name: "d64-h4-b32", cfg: Config{Vocab: 64, Context: 32, DModel: 64, Layers: 2, Heads: 4, MLP: 256, Seed: 7}, batch: 32},
		{name: "d96-h3-b32", cfg: Config{Vocab: 64, Context: 40, DModel: 96, Layers: 2, Heads: 3, MLP: 384, Seed: 7}, batch: 32},
		{name: "d96-h3-b32-onegraph", cfg: Config{Vocab: 64, Context: 40, DModel: 96, Layers: 2, Heads: 3, MLP: 384, Seed: 7}, batch: 32, noSplit: true, sameAsPre: "d96-h3-b32"},
		{name: "d128-h2-b8", cfg: Config{Vocab: 64, Context: 48, DModel: 128, Layers: 2, Heads: 2, MLP: 512, Seed: 7}, batch: 8},
		{name: "d128-h2-b5", cfg: Config{Vocab: 64, Context: 48, DModel: 128, Layers: 2, Heads: 2, MLP: 512, Seed: 7}, batch: 5},
	}
	variant := goldenVariant()
	var got []string
	byName := map[string]string{}
	for _, tc := range cases {
		if tc.noSplit {
			old := splitDecodeMaxBytes
			splitDecodeMaxBytes = 0
			byName[tc.name] = sampleHash(t, tc.cfg, tc.batch)
			splitDecodeMaxBytes = old
		} else {
			byName[tc.name] = sampleHash(t, tc.cfg, tc.batch)
		}
		if tc.sameAsPre != "" && byName[tc.name] != byName[tc.sameAsPre] {
			t.Errorf("%s: samples differ from %s", tc.name, tc.sameAsPre)
		}
		got = append(got, fmt.Sprintf("%s %s %s", byName[tc.name], tc.name, variant))
	}
	path := filepath.Join("testdata", "sample.sha256")
	old, err := os.ReadFile(path)
	if err != nil && !(*updateGolden && errors.Is(err, os.ErrNotExist)) {
		t.Fatal(err)
	}
	var want, others []string
	for _, line := range strings.Split(strings.TrimSpace(string(old)), "\n") {
		if f := strings.Fields(line); len(f) == 3 && f[2] == variant {
			want = append(want, line)
		} else if line != "" {
			others = append(others, line)
		}
	}
	if *updateGolden {
		lines := append(others, got...)
		slices.Sort(lines)
		if err := os.WriteFile(path, []byte(strings.Join(lines, "\n")+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	if len(want) == 0 {
		t.Skipf("%s has no samples for %s; run go test -run SampleGolden -update on such a machine to add them", path, variant)
	}
	slices.Sort(got)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("samples differ from %s:\ngot:\n%s\nwant:\n%s", path, strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// TestSampleSameOnAnyThreads samples a batch big enough to decode in
// halves, with prompts of different lengths in each half (so that each
// half prefills a different number of positions: see prefillLen), once
// with one thread and once with two, and wants the same tokens and log-prob bits: the
// split of a batch must not depend on the machine. Before it did, and the
// RL stages of the default experiment ended a few last bits apart under
// GOMAXPROCS=1.
func TestSampleSameOnAnyThreads(t *testing.T) {
	cfg := Config{Vocab: 64, Context: 32, DModel: 64, Layers: 2, Heads: 4, MLP: 256, Seed: 11}
	sample := func(procs int) []Generation {
		defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(procs))
		m := mustModel(t, cfg)
		prompts := make([][]int, 32)
		for i := range prompts {
			// Rows 0-15 of 2 to 6 tokens (no prefill), rows 16-31 of 17
			// to 21 (a prefill of 16 positions when they decode apart).
			n := 2 + i%5
			if i >= 16 {
				n += 15
			}
			for j := range n {
				prompts[i] = append(prompts[i], 1+(i*7+j*3)%60)
			}
		}
		gens, err := m.Sample(t.Context(), prompts, SampleOptions{Temperature: 1, MaxNew: cfg.Context, EOS: -1}, rand.New(rand.NewPCG(5, 6)))
		if err != nil {
			t.Fatal(err)
		}
		return gens
	}
	one, two := sample(1), sample(2)
	for i := range one {
		if !slices.Equal(one[i].Tokens, two[i].Tokens) {
			t.Fatalf("row %d: tokens differ between 1 and 2 threads", i)
		}
		for j := range one[i].LogProbs {
			if math.Float64bits(one[i].LogProbs[j]) != math.Float64bits(two[i].LogProbs[j]) {
				t.Fatalf("row %d, token %d: log-prob %v with 1 thread, %v with 2", i, j, one[i].LogProbs[j], two[i].LogProbs[j])
			}
		}
	}
}
