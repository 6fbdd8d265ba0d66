package nn

import (
	"context"
	"fmt"
	"math"
)

// evalChunk is the largest batch a scoring graph takes at once.
const evalChunk = 64

// TokenScores are teacher-forced per-token results, aligned with the
// scored sequences (entry 0 of each row is 0: nothing predicts it).
type TokenScores struct {
	LogProbs [][]float64 // log softmax(logits/T)[token]
	Values   [][]float64 // value head before each token
	Entropy  [][]float64 // entropy of softmax(logits/T) before each token
}

// forward runs an eval graph over seqs in chunks and calls visit with each
// sequence's index and the head rows of its positions.
func (m *Model) forward(ctx context.Context, kind graphKind, seqs [][]int, visit func(i int, rows []float64, width int)) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	maxLen, err := m.checkSeqs(seqs)
	if err != nil {
		return err
	}
	B := min(len(seqs), evalChunk)
	T := bucketLen(maxLen, m.cfg.Context)
	k := graphKey{kind: kind, B: B, T: T}
	gr, err := m.eval.get(k, func() (*graph, error) { return m.buildGraph(k) })
	if err != nil {
		return err
	}
	width := 1
	if kind == kindEvalPolicy {
		width = m.cfg.Vocab + 1
	}
	for lo := 0; lo < len(seqs); lo += B {
		if err := ctx.Err(); err != nil {
			return err
		}
		hi := min(lo+B, len(seqs))
		gr.st.fillIDs(seqs[lo:hi], m.cfg.PadID)
		if err := gr.run(); err != nil {
			return err
		}
		for i := lo; i < hi; i++ {
			b := i - lo
			visit(i, gr.st.out[b*T*width:(b+1)*T*width], width)
		}
	}
	return nil
}

// ScoreTokens returns per-token log-probs (at temperature, 0 → 1), values
// and entropies of the given sequences, without touching any training
// gradient.
func (m *Model) ScoreTokens(ctx context.Context, seqs [][]int, temperature float64) (TokenScores, error) {
	if temperature == 0 {
		temperature = 1
	}
	if !(temperature > 0) || math.IsInf(temperature, 0) {
		return TokenScores{}, fmt.Errorf("nn: score: temperature %v must be positive", temperature)
	}
	V := m.cfg.Vocab
	out := TokenScores{
		LogProbs: make([][]float64, len(seqs)),
		Values:   make([][]float64, len(seqs)),
		Entropy:  make([][]float64, len(seqs)),
	}
	p := make([]float64, V)
	err := m.forward(ctx, kindEvalPolicy, seqs, func(i int, rows []float64, W int) {
		s := seqs[i]
		lp, val, ent := make([]float64, len(s)), make([]float64, len(s)), make([]float64, len(s))
		for t := 1; t < len(s); t++ {
			z := rows[(t-1)*W : (t-1)*W+V]
			lse := logSoftmaxRow(z, temperature, p)
			lp[t] = z[s[t]]/temperature - lse
			var pu float64
			for j, v := range z {
				pu += p[j] * v / temperature
			}
			ent[t] = lse - pu
			val[t] = rows[(t-1)*W+V]
		}
		out.LogProbs[i], out.Values[i], out.Entropy[i] = lp, val, ent
	})
	return out, err
}

// Rewards returns the reward head's score of each sequence, read at its
// last token.
func (m *Model) Rewards(ctx context.Context, seqs [][]int) ([]float64, error) {
	out := make([]float64, len(seqs))
	err := m.forward(ctx, kindEvalReward, seqs, func(i int, rows []float64, _ int) {
		out[i] = rows[len(seqs[i])-1]
	})
	return out, err
}

// Logits returns the language-model logits (V per position) of one
// sequence; for tests and inspection.
func (m *Model) Logits(ctx context.Context, seq []int) ([][]float64, error) {
	V := m.cfg.Vocab
	var out [][]float64
	err := m.forward(ctx, kindEvalPolicy, [][]int{seq}, func(_ int, rows []float64, W int) {
		for t := range seq {
			out = append(out, append([]float64(nil), rows[t*W:t*W+V]...))
		}
	})
	return out, err
}
