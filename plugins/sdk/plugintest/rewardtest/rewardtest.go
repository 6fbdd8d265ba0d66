// Package rewardtest holds test helpers for pit's built-in reward
// formulations: a fake host model service that records its calls, a toy
// preference task with a known quality, and a tiny reference trainer that
// fits a linear scorer to a formulation's comparisons.
package rewardtest

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"sync"

	"github.com/pit-lab/pit/plugins/sdk"
)

// Models is a fake model service: each named model is a function of one
// input. It records every call.
type Models struct {
	Funcs map[string]func(sdk.Input) float64
	Err   error // returned by every call when set

	mu    sync.Mutex
	Calls []Call
}

// Call is one recorded model-service call.
type Call struct {
	Model string
	Items []sdk.Input
}

// Score implements sdk.ModelService.
func (m *Models) Score(_ context.Context, model string, items []sdk.Input) ([]float64, error) {
	m.mu.Lock()
	m.Calls = append(m.Calls, Call{model, items})
	m.mu.Unlock()
	if m.Err != nil {
		return nil, m.Err
	}
	f, ok := m.Funcs[model]
	if !ok {
		return nil, fmt.Errorf("no model %q", model)
	}
	out := make([]float64, len(items))
	for i, it := range items {
		out[i] = f(it)
	}
	return out, nil
}

// Quality is the toy task's ground truth: the mean token id over 9, in
// [0, 1] for tokens 1..9.
func Quality(y []int32) float64 {
	if len(y) == 0 {
		return 0
	}
	var s float64
	for _, t := range y {
		s += float64(t)
	}
	return s / float64(len(y)) / 9
}

// Pairs draws n preference pairs of the toy task from seed: a one-token
// prompt and two responses of 5 tokens in 1..9, the one of higher Quality
// chosen (ties redrawn).
func Pairs(n int, seed uint64) []sdk.Pair {
	r := rand.New(rand.NewPCG(seed, 1))
	draw := func() []int32 {
		y := make([]int32, 5)
		for i := range y {
			y[i] = 1 + r.Int32N(9)
		}
		return y
	}
	out := make([]sdk.Pair, 0, n)
	for len(out) < n {
		a, b := draw(), draw()
		qa, qb := Quality(a), Quality(b)
		switch {
		case qa > qb:
			out = append(out, sdk.Pair{Prompt: []int32{1}, Chosen: a, Rejected: b})
		case qb > qa:
			out = append(out, sdk.Pair{Prompt: []int32{1}, Chosen: b, Rejected: a})
		}
	}
	return out
}

// Fit trains a linear scorer w·features(input) on a formulation's
// comparisons by full-batch gradient descent on the weighted loss
// −weight·log σ(s_better − s_worse − margin), and returns the weights.
func Fit(resp *sdk.ComparisonsResponse, features func(sdk.Input) []float64, steps int, lr float64) []float64 {
	f := make([][]float64, len(resp.Inputs))
	for i, in := range resp.Inputs {
		f[i] = features(in)
	}
	w := make([]float64, len(f[0]))
	grad := make([]float64, len(w))
	score := func(i int) float64 {
		var s float64
		for j := range w {
			s += w[j] * f[i][j]
		}
		return s
	}
	for range steps {
		clear(grad)
		var total float64
		for _, c := range resp.Comparisons {
			weight := c.Weight
			if weight == 0 {
				weight = 1
			}
			d := score(c.Better) - score(c.Worse) - c.Margin
			g := weight / (1 + math.Exp(d)) // weight·σ(−d)
			for j := range w {
				grad[j] += g * (f[c.Better][j] - f[c.Worse][j])
			}
			total += weight
		}
		for j := range w {
			w[j] += lr * grad[j] / total
		}
	}
	return w
}

// Dot is w·x.
func Dot(w, x []float64) float64 {
	var s float64
	for i := range w {
		s += w[i] * x[i]
	}
	return s
}
