package synth

import (
	"context"
	"fmt"
	"math/rand/v2"
	"runtime"
	"sync"
)

// Dataset is the synthetic task's data for one seed. No prompt appears in
// two splits (nor twice in one).
type Dataset struct {
	Seed     int64    `json:"seed"`
	Settings Settings `json:"settings"`
	SFT      []Pair   `json:"sft"`     // pairs for policy SFT (x → y_w) and PIT SFT ((x, y_l) → y_w)
	RM       []Pair   `json:"rm"`      // pairs for the reward models
	RL       []Pair   `json:"rl"`      // pairs for the RL stages: their prompts, and data references (y_l, y_w) for PIT RL round 0
	Eval     []Prompt `json:"eval"`    // prompts for evaluation
	RMEval   []Pair   `json:"rm_eval"` // held-out pairs to evaluate reward models
}

// Random streams of a seed; each item draws from its own stream so that
// items can be made in parallel and the same seed gives the same data.
const (
	streamPrompts = iota + 1
	streamSFT
	streamRM
	streamRMEval
	streamRL
)

// splitmix64 scrambles x; it derives independent stream ids.
func splitmix64(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9
	x = (x ^ (x >> 27)) * 0x94d049bb133111eb
	return x ^ (x >> 31)
}

// NewRand returns the random stream (stream, index) of seed. Streams with
// different (stream, index) are independent. Build uses streams below 100;
// the pipeline can use streams from 100 up for its own draws from the task
// (e.g. labelling policy samples).
func NewRand(seed int64, stream, index uint64) *rand.Rand {
	return rand.New(rand.NewPCG(splitmix64(uint64(seed)), splitmix64(stream<<40^index)))
}

// Build makes the dataset that settings s and seed describe. It validates s
// first and stops early when ctx is done.
func Build(ctx context.Context, s Settings, seed int64) (*Dataset, error) {
	t, err := New(s)
	if err != nil {
		return nil, err
	}
	sp := s.Splits
	total := sp.SFT + sp.RM + sp.RMEval + sp.RL + sp.Eval
	prompts, err := UniquePrompts(NewRand(seed, streamPrompts, 0), s.Prompts, total)
	if err != nil {
		return nil, fmt.Errorf("synth: build dataset (seed %d): %w", seed, err)
	}
	take := func(n int) []Prompt {
		p := prompts[:n:n]
		prompts = prompts[n:]
		return p
	}
	d := &Dataset{Seed: seed, Settings: s}
	sftPrompts, rmPrompts, rmEvalPrompts, rlPrompts := take(sp.SFT), take(sp.RM), take(sp.RMEval), take(sp.RL)
	d.Eval = take(sp.Eval)
	for _, job := range []struct {
		dst     *[]Pair
		prompts []Prompt
		stream  uint64
	}{{&d.SFT, sftPrompts, streamSFT}, {&d.RM, rmPrompts, streamRM}, {&d.RMEval, rmEvalPrompts, streamRMEval}, {&d.RL, rlPrompts, streamRL}} {
		pairs, err := t.makePairs(ctx, seed, job.stream, job.prompts)
		if err != nil {
			return nil, fmt.Errorf("synth: build dataset (seed %d): %w", seed, err)
		}
		*job.dst = pairs
	}
	return d, nil
}

// PromptsOf returns the prompts of pairs, in order.
func PromptsOf(pairs []Pair) []Prompt {
	out := make([]Prompt, len(pairs))
	for i, p := range pairs {
		out[i] = p.Prompt
	}
	return out
}

// UniquePrompts draws n distinct prompts. It fails when the prompt settings
// cannot give n distinct prompts in a reasonable number of draws.
func UniquePrompts(rng *rand.Rand, s PromptSettings, n int) ([]Prompt, error) {
	seen := make(map[Prompt]bool, n)
	out := make([]Prompt, 0, n)
	for tries, limit := 0, 50*n+1000; len(out) < n; tries++ {
		if tries >= limit {
			return nil, fmt.Errorf("only %d distinct prompts in %d draws, %d wanted: widen the prompt settings or shrink the splits", len(out), tries, n)
		}
		p := RandomPrompt(rng, s)
		if !seen[p] {
			seen[p] = true
			out = append(out, p)
		}
	}
	return out, nil
}

// makePairs makes one pair per prompt, pair i from stream (stream, i).
func (t *Task) makePairs(ctx context.Context, seed int64, stream uint64, prompts []Prompt) ([]Pair, error) {
	pairs := make([]Pair, len(prompts))
	err := parallel(ctx, len(prompts), func(i int) {
		pairs[i] = t.MakePair(NewRand(seed, stream, uint64(i)), prompts[i])
	})
	return pairs, err
}

// parallel runs f(0..n-1) on GOMAXPROCS workers, checking ctx between items.
func parallel(ctx context.Context, n int, f func(i int)) error {
	workers := min(runtime.GOMAXPROCS(0), n)
	var wg sync.WaitGroup
	var mu sync.Mutex
	next := 0
	for range workers {
		wg.Go(func() {
			for {
				if ctx.Err() != nil {
					return
				}
				mu.Lock()
				i := next
				next++
				mu.Unlock()
				if i >= n {
					return
				}
				f(i)
			}
		})
	}
	wg.Wait()
	return ctx.Err()
}
