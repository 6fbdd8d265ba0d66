package nn

import (
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"flag"
	"fmt"
	"maps"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"slices"
	"strings"
	"testing"

	"github.com/pit-lab/pit/core/nn/internal/f32"
)

var updateGolden = flag.Bool("update", false, "rewrite testdata/weights.sha256")

// weightsHash is the SHA-256 of a model's weights: each parameter's name
// and the IEEE bits of its values, in name order.
func weightsHash(m *Model) string {
	h := sha256.New()
	w := m.Weights()
	var buf [8]byte
	for _, name := range slices.Sorted(maps.Keys(w)) {
		fmt.Fprintf(h, "%s\n", name)
		for _, v := range w[name] {
			binary.LittleEndian.PutUint64(buf[:], math.Float64bits(v))
			h.Write(buf[:])
		}
	}
	return fmt.Sprintf("%x", h.Sum(nil))
}

// trainReference runs every kind of training step pit has (SFT,
// comparison, policy gradient with a value head, KL and entropy) and
// sampling on the reference shape, and returns the weights' hash.
// With moments64 AdamW keeps float64 moments (OptimConfig.Moments64).
func trainReference(t *testing.T, dtype string, moments64 bool) string {
	cfg := refConfig()
	cfg.DType = dtype
	m := mustModel(t, cfg)
	ref := m.Copy()
	tr := mustTrainer(t, m, OptimConfig{LR: 1e-3, WarmupSteps: 2, ClipNorm: 1, TotalSteps: 10, Schedule: ScheduleCosine, WeightDecay: 0.01, Moments64: moments64})
	defer tr.Close()
	rng := rand.New(rand.NewPCG(3, 3))
	for range 2 {
		if _, err := tr.SFTStep(refBatchData(rng, cfg)); err != nil {
			t.Fatal(err)
		}
	}
	seqs := refBatchData(rng, cfg).Seqs[:8]
	pairs := []Pair{{I: 0, J: 1, Weight: 1}, {I: 2, J: 3, Margin: 0.5, Weight: 1}, {I: 4, J: 5, Weight: 2}, {I: 6, J: 7, Weight: 1}}
	if _, err := tr.ComparisonStep(seqs, pairs); err != nil {
		t.Fatal(err)
	}
	prompts := make([][]int, 8)
	for i := range prompts {
		prompts[i] = []int{1 + i, 2}
	}
	gens, err := m.Sample(t.Context(), prompts, SampleOptions{Temperature: 1, MaxNew: 12, EOS: -1}, rng)
	if err != nil {
		t.Fatal(err)
	}
	ro := Rollouts{}
	for i, g := range gens {
		L := len(g.Tokens)
		mask, old, adv, ret := make([]bool, L), make([]float64, L), make([]float64, L), make([]float64, L)
		for j := g.PromptLen; j < L; j++ {
			mask[j] = true
			old[j] = g.LogProbs[j-g.PromptLen]
			adv[j] = float64(i%3) - 1
			ret[j] = float64(g.Tokens[j]%4) / 4
		}
		ro.Seqs = append(ro.Seqs, g.Tokens)
		ro.Mask = append(ro.Mask, mask)
		ro.OldLogProbs = append(ro.OldLogProbs, old)
		ro.Advantages = append(ro.Advantages, adv)
		ro.Returns = append(ro.Returns, ret)
	}
	sc, err := ref.ScoreTokens(t.Context(), ro.Seqs, 1)
	if err != nil {
		t.Fatal(err)
	}
	ro.RefLogProbs = sc.LogProbs
	knobs := PGKnobs{ClipRange: 0.2, KLCoef: 0.05, KLInLoss: true, EntropyCoef: 0.01, ValueCoef: 0.5}
	for range 2 {
		if _, err := tr.PolicyGradientStep(ro, knobs); err != nil {
			t.Fatal(err)
		}
	}
	return weightsHash(m)
}

// goldenVariant names what the weights' bits depend on besides pit's code:
// the architecture, its GOAMD64 level (v3 lets the compiler fuse
// multiply-adds) and whether internal/f32's FMA kernels run (the AVX2 and
// AVX-512 kernels agree bit for bit; the pure-Go fallback does not).
func goldenVariant() string {
	level := "v1"
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, s := range bi.Settings {
			if s.Key == "GOAMD64" {
				level = s.Value
			}
		}
	}
	kernel := "go"
	if f32.Accelerated() {
		kernel = "fma"
	}
	return runtime.GOARCH + "-" + level + "-" + kernel
}

// TestWeightsGolden pins the weights after a few steps of every kind of
// training on the reference shape, bit for bit: a refactor of core/nn
// must leave them unchanged. testdata/weights.sha256 holds one line per
// model dtype (float32 with float32 or float64 AdamW moments, float64) and
// variant (goldenVariant); a variant without lines is
// skipped. go test -run WeightsGolden -update rewrites this variant's
// lines when a change of numbers is intended.
func TestWeightsGolden(t *testing.T) {
	variant := goldenVariant()
	var got []string
	// float32+moments64: float32 weights with float64 AdamW moments (a
	// float64 model's moments are float64 anyway). In the file's order.
	for _, dt := range []string{"float32", "float32+moments64", "float64"} {
		dtype, m64 := strings.CutSuffix(dt, "+moments64")
		got = append(got, fmt.Sprintf("%s %s %s", trainReference(t, dtype, m64), dt, variant))
	}
	path := filepath.Join("testdata", "weights.sha256")
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
		slices.SortFunc(lines, func(a, b string) int {
			fa, fb := strings.Fields(a), strings.Fields(b)
			return strings.Compare(fa[2]+" "+fa[1], fb[2]+" "+fb[1])
		})
		if err := os.WriteFile(path, []byte(strings.Join(lines, "\n")+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	if len(want) == 0 {
		t.Skipf("%s has no weights for %s; run go test -run WeightsGolden -update on such a machine to add them", path, variant)
	}
	if !slices.Equal(got, want) {
		t.Errorf("weights after training differ from %s:\ngot:\n%s\nwant:\n%s", path, strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}
