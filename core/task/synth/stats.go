package synth

import (
	"context"
	"fmt"

	"github.com/pit-lab/pit/plugins/sdk/table"
)

// PairStats summarise a set of preference pairs.
type PairStats struct {
	N            int     `json:"n"`
	MeanChosen   float64 `json:"mean_q_chosen"`   // mean oracle of the chosen responses
	MeanRejected float64 `json:"mean_q_rejected"` // mean oracle of the rejected responses
	// Agreement is the fraction of pairs whose label agrees with the
	// oracle (chosen has the higher q); ties count one half.
	Agreement float64 `json:"agreement"`
	// FirstChosen is the fraction of pairs whose first response (the strong
	// generator's) won.
	FirstChosen float64 `json:"first_chosen"`
	// MeanEditDistance is the mean Levenshtein distance between chosen and
	// rejected: small when the pair shares structure (edit mode).
	MeanEditDistance float64 `json:"mean_edit_distance"`
}

// ComputePairStats summarises pairs; it returns the zero PairStats for none.
func ComputePairStats(pairs []Pair) PairStats {
	st := PairStats{N: len(pairs)}
	if len(pairs) == 0 {
		return st
	}
	var agree, first, dist float64
	for _, p := range pairs {
		st.MeanChosen += p.QChosen
		st.MeanRejected += p.QRejected
		switch {
		case p.QChosen > p.QRejected:
			agree++
		case p.QChosen == p.QRejected:
			agree += 0.5
		}
		if p.FirstChosen {
			first++
		}
		dist += float64(EditDistance(p.Chosen, p.Rejected))
	}
	n := float64(len(pairs))
	st.MeanChosen /= n
	st.MeanRejected /= n
	st.Agreement = agree / n
	st.FirstChosen = first / n
	st.MeanEditDistance = dist / n
	return st
}

// String renders the statistics on one line.
func (st PairStats) String() string {
	return fmt.Sprintf("n=%d q_chosen=%.3f q_rejected=%.3f agreement=%.3f first_chosen=%.3f edit_distance=%.2f",
		st.N, st.MeanChosen, st.MeanRejected, st.Agreement, st.FirstChosen, st.MeanEditDistance)
}

// ScoreStats are mean scores of a set of responses.
type ScoreStats struct {
	N      int     `json:"n"`
	Oracle float64 `json:"oracle"`
	Rubric float64 `json:"rubric"`
	Stated float64 `json:"stated"`
	Hidden float64 `json:"hidden"`
}

// MeanScores averages the scores of responses[i] to prompts[i].
func (t *Task) MeanScores(prompts []Prompt, responses [][]int) (ScoreStats, error) {
	if len(prompts) != len(responses) {
		return ScoreStats{}, fmt.Errorf("synth: mean scores: %d prompts but %d responses", len(prompts), len(responses))
	}
	st := ScoreStats{N: len(prompts)}
	if st.N == 0 {
		return st, nil
	}
	for i, x := range prompts {
		sc := t.Score(x, responses[i])
		st.Oracle += sc.Oracle
		st.Rubric += sc.Rubric
		st.Stated += sc.Stated
		st.Hidden += sc.Hidden
	}
	n := float64(st.N)
	st.Oracle /= n
	st.Rubric /= n
	st.Stated /= n
	st.Hidden /= n
	return st, nil
}

// GeneratorScores answers each prompt with generator g (answer i from
// stream (stream, i) of seed) and returns the mean scores: how good a
// generator is.
func (t *Task) GeneratorScores(ctx context.Context, g GeneratorSettings, prompts []Prompt, seed int64, stream uint64) (ScoreStats, error) {
	responses := make([][]int, len(prompts))
	err := parallel(ctx, len(prompts), func(i int) {
		responses[i] = t.Generate(NewRand(seed, stream, uint64(i)), g, prompts[i])
	})
	if err != nil {
		return ScoreStats{}, fmt.Errorf("synth: generator scores: %w", err)
	}
	return t.MeanScores(prompts, responses)
}

// EditDistance is the Levenshtein distance between two token sequences.
func EditDistance(a, b []int) int { return table.Levenshtein(a, b) }

// Summary holds the pair statistics of each of a dataset's pair splits, for
// a run's log or manifest.
type Summary struct {
	SFT    PairStats `json:"sft"`
	RM     PairStats `json:"rm"`
	RMEval PairStats `json:"rm_eval"`
	RL     PairStats `json:"rl"`
}

// Summary computes the pair statistics of every pair split.
func (d *Dataset) Summary() Summary {
	return Summary{
		SFT:    ComputePairStats(d.SFT),
		RM:     ComputePairStats(d.RM),
		RMEval: ComputePairStats(d.RMEval),
		RL:     ComputePairStats(d.RL),
	}
}
