package nn_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"

	"github.com/pit-lab/pit/core/nn"
)

// A stage drives training one step at a time: it can log, checkpoint and
// stop on its context between steps.
func Example() {
	ctx := context.Background()
	m, err := nn.New(nn.Config{Vocab: 16, Context: 16, DModel: 32, Layers: 2, Heads: 4, PadID: 0, Seed: 1})
	if err != nil {
		panic(err)
	}
	tr, err := nn.NewTrainer(m, nn.OptimConfig{LR: 3e-3, WarmupSteps: 10, ClipNorm: 1})
	if err != nil {
		panic(err)
	}
	// Prompt "1 a b c 2", response "a b c": train on the response only.
	rng := rand.New(rand.NewPCG(1, 2))
	batch := func() nn.Batch {
		var b nn.Batch
		for i := 0; i < 16; i++ {
			a, c, d := 3+rng.IntN(10), 3+rng.IntN(10), 3+rng.IntN(10)
			b.Seqs = append(b.Seqs, []int{1, a, c, d, 2, a, c, d})
			b.Mask = append(b.Mask, []bool{false, false, false, false, false, true, true, true})
		}
		return b
	}
	first, _ := tr.SFTStep(batch())
	var last float64
	for step := 0; step < 150 && ctx.Err() == nil; step++ {
		if last, err = tr.SFTStep(batch()); err != nil {
			panic(err) // a NaN/Inf loss or gradient is an error; nothing was applied
		}
	}
	fmt.Println("loss fell below a tenth:", last < first/10)

	// Greedy decoding continues the prompt; log-probs come with each token.
	gens, err := m.Sample(ctx, [][]int{{1, 7, 8, 9, 2}}, nn.SampleOptions{Greedy: true, MaxNew: 3, EOS: -1}, nil)
	if err != nil {
		panic(err)
	}
	fmt.Println("copied:", gens[0].Response(), len(gens[0].LogProbs))

	// The frozen reference of RL is a copy; checkpoints round-trip exactly.
	ref := m.Copy()
	dir, _ := os.MkdirTemp("", "nn-example")
	defer os.RemoveAll(dir)
	if err := tr.Save(filepath.Join(dir, "sft.ckpt")); err != nil {
		panic(err)
	}
	back, err := nn.LoadTrainer(filepath.Join(dir, "sft.ckpt"))
	if err != nil {
		panic(err)
	}
	seqs := [][]int{gens[0].Tokens}
	a, _ := ref.ScoreTokens(ctx, seqs, 1)
	b, _ := back.Model().ScoreTokens(ctx, seqs, 1)
	fmt.Println("same log-probs after reload:", fmt.Sprint(a.LogProbs) == fmt.Sprint(b.LogProbs))

	// A reward model is a Model trained on comparisons: Bradley–Terry is one
	// pair per preference, PIT's gap loss five pairs over four sequences.
	rm, _ := nn.New(nn.Config{Vocab: 16, Context: 16, DModel: 32, Layers: 1, Heads: 2, Seed: 2})
	rt, _ := nn.NewTrainer(rm, nn.OptimConfig{LR: 1e-3})
	st, err := rt.ComparisonStep([][]int{{1, 5, 5}, {1, 6, 6}}, []nn.Pair{{I: 0, J: 1, Weight: 1}})
	if err != nil {
		panic(err)
	}
	fmt.Printf("BT loss at init: %.4f\n", st.Loss)
	// Output:
	// loss fell below a tenth: true
	// copied: [7 8 9] 3
	// same log-probs after reload: true
	// BT loss at init: 0.6931
}

// The memory estimates of the shipped GPT-2 small experiment files
// (experiments/hh-rlhf-gpt2.toml, tldr-gpt2.toml): GPT-2 small with the
// two added tokens, the gap model's training step on 4 pairs × 4 inputs,
// and pref_pit_rl's on 4 prompts × 4 samples, at the longest input each
// task allows (388 and 516 tokens).
func ExampleStepBytes() {
	gpt2 := nn.Config{Vocab: 50257 + 2, Context: 1024, DModel: 768, Layers: 12, Heads: 12, MLP: 3072}
	gib := func(b int64) float64 { return float64(b) / (1 << 30) }
	for _, task := range []struct {
		name string
		T    int
	}{{"HH", 388}, {"TL;DR", 516}} {
		fmt.Printf("%s: gap model %.0f GiB, pref_pit_rl %.0f GiB\n", task.name,
			gib(nn.StepBytes(gpt2, 16, task.T, true, false)), gib(nn.StepBytes(gpt2, 16, task.T, true, true)))
	}
	// Output:
	// HH: gap model 8 GiB, pref_pit_rl 12 GiB
	// TL;DR: gap model 11 GiB, pref_pit_rl 15 GiB
}
