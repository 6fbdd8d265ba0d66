package synth

import (
	"math"
	"math/rand/v2"
	"slices"
)

// PreferQ flips a Bradley–Terry coin between responses of oracle quality qa
// and qb at temperature tau: it reports true (a wins) with probability
// σ((qa − qb)/tau). With tau = 0 the better response always wins and a tie
// is an even coin. It draws exactly one number from rng whatever the inputs.
func PreferQ(rng *rand.Rand, qa, qb, tau float64) bool {
	u := rng.Float64()
	if tau == 0 || qa == qb {
		switch {
		case qa > qb:
			return true
		case qa < qb:
			return false
		}
		return u < 0.5
	}
	return u < Sigmoid((qa-qb)/tau)
}

// Sigmoid is the logistic function σ(z) = 1/(1 + e^−z).
func Sigmoid(z float64) float64 { return 1 / (1 + math.Exp(-z)) }

// Generate answers prompt x as the noisy solver g does: random letters of a
// random length (1..MaxResponse), improved by local search, then noised.
func (t *Task) Generate(rng *rand.Rand, g GeneratorSettings, x Prompt) []int {
	n := 1 + rng.IntN(t.s.MaxResponse)
	start := make([]int, n)
	for i := range start {
		start[i] = FirstLetter + rng.IntN(26)
	}
	return t.Repair(rng, g, x, start)
}

// Repair improves draft as the noisy solver g does: g.Steps proposals of
// local search (change, insert, delete or swap letters), each kept only when
// it raises the oracle, then each letter replaced by a random one with
// probability g.Noise. The draft is not modified; the result has at most
// MaxResponse letters unless the draft was longer.
func (t *Task) Repair(rng *rand.Rand, g GeneratorSettings, x Prompt, draft []int) []int {
	out, _ := t.search(rng, x, draft, g.Steps, -1)
	t.noise(rng, g.Noise, out)
	return out
}

// search runs steps proposals of local search from start and returns the
// result and, when 0 <= snapAt <= steps, a copy of the state after snapAt
// proposals.
func (t *Task) search(rng *rand.Rand, x Prompt, start []int, steps, snapAt int) (final, snap []int) {
	maxLen := max(t.s.MaxResponse, len(start))
	cur := make([]int, len(start), maxLen+1)
	copy(cur, start)
	cand := make([]int, 0, maxLen+1)
	q := t.Quality(x, cur)
	for step := range steps {
		if step == snapAt {
			snap = slices.Clone(cur)
		}
		cand = append(cand[:0], cur...)
		n := len(cand)
		r := rng.IntN(10)
		pos := rng.IntN(n + 1)
		letter := FirstLetter + rng.IntN(26)
		switch {
		case r < 5 && n > 0: // change a letter
			cand[min(pos, n-1)] = letter
		case r < 7 || n == 0: // insert a letter
			if n >= maxLen {
				continue
			}
			cand = slices.Insert(cand, pos, letter)
		case r < 9: // delete a letter
			if n <= 1 {
				continue
			}
			cand = slices.Delete(cand, min(pos, n-1), min(pos, n-1)+1)
		default: // swap two neighbours
			if n < 2 {
				continue
			}
			i := min(pos, n-2)
			cand[i], cand[i+1] = cand[i+1], cand[i]
		}
		if qc := t.Quality(x, cand); qc > q {
			cur, cand, q = cand, cur, qc
		}
	}
	if snapAt == steps {
		snap = slices.Clone(cur)
	}
	return slices.Clip(cur), snap
}

// noise replaces each letter of y with a random letter with probability p.
// It draws the same numbers from rng whatever p is.
func (t *Task) noise(rng *rand.Rand, p float64, y []int) {
	for i := range y {
		u := rng.Float64()
		l := FirstLetter + rng.IntN(26)
		if u < p {
			y[i] = l
		}
	}
}

// Pair is a labelled preference pair: Chosen ≻ Rejected for Prompt.
// Responses are letter tokens without EOS.
type Pair struct {
	Prompt    Prompt  `json:"prompt"`
	Chosen    []int   `json:"chosen"`
	Rejected  []int   `json:"rejected"`
	QChosen   float64 `json:"q_chosen"`   // oracle of Chosen
	QRejected float64 `json:"q_rejected"` // oracle of Rejected
	// FirstChosen says whether the first response won the coin: the strong
	// generator's (or strong repair's) for generated pairs, a for Label.
	FirstChosen bool `json:"first_chosen"`
	// Draft is the shared draft both responses repaired (edit mode only).
	Draft []int `json:"draft,omitempty"`
}

// Label makes a preference pair of responses a and b to prompt x, labelled
// by the task's Bradley–Terry coin: the way a reward model's data are
// refreshed with policy samples (simulated online preference collection).
func (t *Task) Label(rng *rand.Rand, x Prompt, a, b []int) Pair {
	qa, qb := t.Quality(x, a), t.Quality(x, b)
	p := Pair{Prompt: x, FirstChosen: PreferQ(rng, qa, qb, t.s.Tau)}
	if p.FirstChosen {
		p.Chosen, p.Rejected, p.QChosen, p.QRejected = a, b, qa, qb
	} else {
		p.Chosen, p.Rejected, p.QChosen, p.QRejected = b, a, qb, qa
	}
	return p
}

// MakePair answers prompt x twice as the settings' pair mode says and labels
// the answers.
//
// Independent: one answer from the strong generator, one from the weak.
//
// Edit: a draft from the draft generator, then two partial repairs of it
// along one local-search path: the strong repair takes Strong.Steps
// proposals, the weak one stops after Weak.Steps of the same proposals (the
// fewer of the two, if Weak has more), and each then gets its generator's
// noise. So the rejected response tends to lie on the way from the draft to
// the chosen one, and the pair shares the draft's structure.
func (t *Task) MakePair(rng *rand.Rand, x Prompt) Pair {
	if t.s.PairMode == Edit {
		draft := t.Generate(rng, t.s.Draft, x)
		steps := max(t.s.Strong.Steps, t.s.Weak.Steps)
		full, part := t.search(rng, x, draft, steps, min(t.s.Strong.Steps, t.s.Weak.Steps))
		strong, weak := full, part
		if t.s.Weak.Steps > t.s.Strong.Steps {
			strong, weak = part, full
		}
		t.noise(rng, t.s.Strong.Noise, strong)
		t.noise(rng, t.s.Weak.Noise, weak)
		p := t.Label(rng, x, strong, weak)
		p.Draft = draft
		return p
	}
	strong := t.Generate(rng, t.s.Strong, x)
	weak := t.Generate(rng, t.s.Weak, x)
	return t.Label(rng, x, strong, weak)
}
