package synth

import (
	"fmt"
	"math/rand/v2"
	"strings"

	"github.com/pit-lab/pit/core/task"
)

// CriterionID names one of the oracle's criteria.
type CriterionID int

// The oracle's criteria, in the order of Score.Criteria.
const (
	CritInclude CriterionID = iota
	CritExclude
	CritLength
	CritOrder
	CritNoRepeat
	CritClose
	CritVowelEnd
	NumCriteria
)

var criterionNames = [NumCriteria]string{"include", "exclude", "length", "order", "no_repeat", "close", "vowel_end"}

// String returns the criterion's key in the settings, e.g. "no_repeat".
func (c CriterionID) String() string {
	if c >= 0 && c < NumCriteria {
		return criterionNames[c]
	}
	return fmt.Sprintf("CriterionID(%d)", int(c))
}

// Score is the oracle's verdict on one response, broken down for logs.
type Score struct {
	Oracle   float64 // q(x, y) in [0, 1], hidden preferences included
	Rubric   float64 // the stated criteria only, in [0, 1]
	Stated   float64 // weighted mean of the applicable stated criteria (1 if none applies)
	Hidden   float64 // weighted mean of the applicable hidden criteria (1 if none applies)
	Validity float64 // fraction of response tokens that are letters
	// Criteria holds each criterion's credit in [0, 1]; Applies says which
	// ones the prompt and settings switch on.
	Criteria [NumCriteria]float64
	Applies  [NumCriteria]bool
}

// Task is the synthetic task built from validated Settings. It is safe for
// concurrent use.
type Task struct {
	s      Settings
	weight [NumCriteria]float64
	hidden [NumCriteria]bool
}

var _ task.Task = (*Task)(nil)

// New validates s and returns the task it describes.
func New(s Settings) (*Task, error) {
	if err := s.Validate(); err != nil {
		return nil, err
	}
	t := &Task{s: s}
	o := s.Oracle
	for id, c := range [NumCriteria]Criterion{o.Include, o.Exclude, o.Length, o.Order, o.NoRepeat, o.Close, o.VowelEnd} {
		t.weight[id] = c.Weight
		t.hidden[id] = c.Hidden
	}
	return t, nil
}

// Settings returns the settings the task was built from.
func (t *Task) Settings() Settings { return t.s }

func isVowel(l int) bool {
	switch l {
	case 0, 'e' - 'a', 'i' - 'a', 'o' - 'a', 'u' - 'a':
		return true
	}
	return false
}

// letterMask is the set of lower-case letters in s as a bit mask; other
// bytes are ignored.
func letterMask(s string) uint32 {
	var m uint32
	for i := 0; i < len(s); i++ {
		if c := s[i]; c >= 'a' && c <= 'z' {
			m |= 1 << (c - 'a')
		}
	}
	return m
}

// Score scores response y (token ids, EOS cut off) for prompt x. Non-letter
// tokens in y are skipped by the criteria and lower Validity, which
// multiplies both the oracle and the rubric. x should be valid (as
// ParsePrompt and RandomPrompt make them); for an invalid one the scores
// are still in [0, 1] but mean little.
func (t *Task) Score(x Prompt, y []int) Score {
	var sc Score
	var buf [32]int
	letters := buf[:0]
	for _, id := range y {
		if IsLetter(id) {
			letters = append(letters, id-FirstLetter)
		}
	}
	n := len(letters)
	if n == 0 {
		return sc
	}
	sc.Validity = float64(n) / float64(len(y))

	cr := &sc.Criteria
	// Stated constraints.
	if want := letterMask(x.Include); want != 0 {
		sc.Applies[CritInclude] = true
		var have uint32
		for _, l := range letters {
			have |= 1 << l
		}
		cr[CritInclude] = float64(popcount(have&want)) / float64(popcount(want))
	}
	if banned := letterMask(x.Exclude); banned != 0 {
		sc.Applies[CritExclude] = true
		bad := 0
		for _, l := range letters {
			if banned&(1<<l) != 0 {
				bad++
			}
		}
		cr[CritExclude] = 1 - float64(bad)/float64(n)
	}
	sc.Applies[CritLength] = true
	d := n - x.Length
	if d < 0 {
		d = -d
	}
	cr[CritLength] = min(1, max(0, 1-float64(d)/float64(max(x.Length, 1))))
	if x.Order != NoOrder {
		sc.Applies[CritOrder] = true
		if n == 1 {
			cr[CritOrder] = 1
		} else {
			ok := 0
			for i := 1; i < n; i++ {
				if (x.Order == Ascending && letters[i-1] <= letters[i]) ||
					(x.Order == Descending && letters[i-1] >= letters[i]) {
					ok++
				}
			}
			cr[CritOrder] = float64(ok) / float64(n-1)
		}
	}
	// Hidden preferences.
	sc.Applies[CritNoRepeat] = true
	sc.Applies[CritClose] = true
	sc.Applies[CritVowelEnd] = true
	if n == 1 {
		cr[CritNoRepeat], cr[CritClose] = 1, 1
	} else {
		rep := 0
		close := 0.0
		g := float64(t.s.Oracle.CloseGap)
		for i := 1; i < n; i++ {
			gap := letters[i] - letters[i-1]
			if gap == 0 {
				rep++
			}
			if gap < 0 {
				gap = -gap
			}
			close += min(1, max(0, 1-(float64(gap)-g)/g))
		}
		cr[CritNoRepeat] = 1 - float64(rep)/float64(n-1)
		cr[CritClose] = close / float64(n-1)
	}
	if isVowel(letters[n-1]) {
		cr[CritVowelEnd] = 1
	}

	var sum, wsum [2]float64 // index 0: stated, 1: hidden
	for id := range NumCriteria {
		w := t.weight[id]
		if w == 0 || !sc.Applies[id] {
			sc.Applies[id] = false
			continue
		}
		g := 0
		if t.hidden[id] {
			g = 1
		}
		sum[g] += w * cr[id]
		wsum[g] += w
	}
	sc.Stated, sc.Hidden = 1, 1
	if wsum[0] > 0 {
		sc.Stated = sum[0] / wsum[0]
	}
	if wsum[1] > 0 {
		sc.Hidden = sum[1] / wsum[1]
	}
	ss, hs := t.s.Oracle.StatedShare, t.s.Oracle.HiddenShare
	if wsum[0] == 0 {
		ss = 0
	}
	if wsum[1] == 0 {
		hs = 0
	}
	q := 1.0
	if ss+hs > 0 {
		q = (ss*sc.Stated + hs*sc.Hidden) / (ss + hs)
	}
	sc.Oracle = q * sc.Validity
	sc.Rubric = sc.Stated * sc.Validity
	return sc
}

func popcount(m uint32) int {
	n := 0
	for ; m != 0; m &= m - 1 {
		n++
	}
	return n
}

// String renders a score breakdown, e.g. "q=0.83 rubric=0.90 include=1.00 …".
func (sc Score) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "q=%.3f rubric=%.3f stated=%.3f hidden=%.3f valid=%.2f", sc.Oracle, sc.Rubric, sc.Stated, sc.Hidden, sc.Validity)
	for id := range NumCriteria {
		if sc.Applies[id] {
			fmt.Fprintf(&b, " %s=%.3f", id, sc.Criteria[id])
		}
	}
	return b.String()
}

// Quality is the oracle q(x, y) for a parsed prompt.
func (t *Task) Quality(x Prompt, y []int) float64 { return t.Score(x, y).Oracle }

// VocabSize returns VocabSize.
func (t *Task) VocabSize() int { return VocabSize }

// Decode renders token ids; see the package function Decode.
func (t *Task) Decode(ids []int) string { return Decode(ids) }

// Oracle is q(x, y) for prompt tokens (as Prompt.Tokens lays them out) and a
// response's tokens (EOS cut off).
func (t *Task) Oracle(prompt, response []int) (float64, error) {
	x, err := ParsePrompt(prompt)
	if err != nil {
		return 0, err
	}
	return t.Score(x, response).Oracle, nil
}

// Rubric is the stated-criteria score for prompt tokens and a response's
// tokens.
func (t *Task) Rubric(prompt, response []int) (float64, error) {
	x, err := ParsePrompt(prompt)
	if err != nil {
		return 0, err
	}
	return t.Score(x, response).Rubric, nil
}

// Prefer flips the Bradley–Terry coin for responses a and b to the prompt
// tokens and reports whether a wins; see PreferQ.
func (t *Task) Prefer(rng *rand.Rand, prompt, a, b []int) (bool, error) {
	x, err := ParsePrompt(prompt)
	if err != nil {
		return false, err
	}
	return PreferQ(rng, t.Quality(x, a), t.Quality(x, b), t.s.Tau), nil
}
