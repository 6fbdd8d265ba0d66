package synth

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
)

// Order is the order a prompt asks for, if any.
type Order int

// Orders a prompt can state.
const (
	NoOrder Order = iota
	Ascending
	Descending
)

// String returns "none", "asc" or "desc".
func (o Order) String() string {
	switch o {
	case NoOrder:
		return "none"
	case Ascending:
		return "asc"
	case Descending:
		return "desc"
	}
	return fmt.Sprintf("Order(%d)", int(o))
}

// Prompt is a prompt x: the constraints it states. Include and Exclude hold
// distinct lower-case letters in alphabetical order and share none. A Prompt
// is comparable, so it can key a map.
type Prompt struct {
	Include string `json:"include"` // letters that must appear
	Exclude string `json:"exclude"` // letters that must not appear
	Length  int    `json:"length"`  // target length, 1..MaxTarget
	Order   Order  `json:"order"`   // order asked for, NoOrder if none
}

// Tokens lays the prompt out as tokens, without BOS or separators:
//
//	[+ include...] [- exclude...] #length [<asc>|<desc>]
//
// where the include and exclude parts are left out when empty. It panics on
// a prompt whose letters or length have no token (see Validate).
func (p Prompt) Tokens() []int {
	ids := make([]int, 0, 4+len(p.Include)+len(p.Exclude))
	if p.Include != "" {
		ids = append(ids, IncludeMark)
		for i := 0; i < len(p.Include); i++ {
			ids = append(ids, Letter(p.Include[i]))
		}
	}
	if p.Exclude != "" {
		ids = append(ids, ExcludeMark)
		for i := 0; i < len(p.Exclude); i++ {
			ids = append(ids, Letter(p.Exclude[i]))
		}
	}
	ids = append(ids, LengthToken(p.Length))
	switch p.Order {
	case Ascending:
		ids = append(ids, AscMark)
	case Descending:
		ids = append(ids, DescMark)
	}
	return ids
}

// String renders the prompt's tokens, e.g. "+ab -xz #6 <asc>".
func (p Prompt) String() string { return Decode(p.Tokens()) }

// Validate reports whether the prompt is well formed.
func (p Prompt) Validate() error {
	var seen [26]bool
	check := func(field, s string) error {
		for i := 0; i < len(s); i++ {
			c := s[i]
			if c < 'a' || c > 'z' {
				return fmt.Errorf("synth: prompt %s %q: %q is not a lower-case letter", field, s, c)
			}
			if i > 0 && s[i-1] >= c {
				return fmt.Errorf("synth: prompt %s %q: letters must be distinct and sorted", field, s)
			}
			if seen[c-'a'] {
				return fmt.Errorf("synth: prompt: letter %q both included and excluded", c)
			}
			seen[c-'a'] = true
		}
		return nil
	}
	if err := check("include", p.Include); err != nil {
		return err
	}
	if err := check("exclude", p.Exclude); err != nil {
		return err
	}
	if p.Length < 1 || p.Length > MaxTarget {
		return fmt.Errorf("synth: prompt length %d out of range 1..%d", p.Length, MaxTarget)
	}
	if p.Order < NoOrder || p.Order > Descending {
		return fmt.Errorf("synth: prompt order %d unknown", int(p.Order))
	}
	return nil
}

// ParsePrompt reads a prompt from its tokens (as laid out by Prompt.Tokens; a
// leading BOS is allowed). It is what a plugin that receives token ids uses
// to recover the constraints.
func ParsePrompt(ids []int) (Prompt, error) {
	if len(ids) > 0 && ids[0] == BOS {
		ids = ids[1:]
	}
	var p Prompt
	fail := func(msg string) (Prompt, error) {
		return Prompt{}, fmt.Errorf("synth: parse prompt %q: %s", Decode(ids), msg)
	}
	i := 0
	letters := func() string {
		var b strings.Builder
		for i < len(ids) && IsLetter(ids[i]) {
			c, _ := LetterOf(ids[i])
			b.WriteByte(c)
			i++
		}
		return b.String()
	}
	if i < len(ids) && ids[i] == IncludeMark {
		i++
		if p.Include = letters(); p.Include == "" {
			return fail("include marker without letters")
		}
	}
	if i < len(ids) && ids[i] == ExcludeMark {
		i++
		if p.Exclude = letters(); p.Exclude == "" {
			return fail("exclude marker without letters")
		}
	}
	if i >= len(ids) {
		return fail("no length token")
	}
	n, ok := LengthOf(ids[i])
	if !ok {
		return fail(fmt.Sprintf("token %d (%s) where the length token belongs", i, TokenString(ids[i])))
	}
	p.Length = n
	i++
	if i < len(ids) {
		switch ids[i] {
		case AscMark:
			p.Order = Ascending
			i++
		case DescMark:
			p.Order = Descending
			i++
		}
	}
	if i != len(ids) {
		return fail(fmt.Sprintf("unexpected token %d (%s)", i, TokenString(ids[i])))
	}
	if err := p.Validate(); err != nil {
		return Prompt{}, errors.Join(fmt.Errorf("synth: parse prompt %q", Decode(ids)), err)
	}
	return p, nil
}

// RandomPrompt draws a prompt from the distribution that s describes.
func RandomPrompt(rng *rand.Rand, s PromptSettings) Prompt {
	perm := rng.Perm(26)
	nInc := s.MinInclude + rng.IntN(s.MaxInclude-s.MinInclude+1)
	nExc := s.MinExclude + rng.IntN(s.MaxExclude-s.MinExclude+1)
	length := s.MinLength + rng.IntN(s.MaxLength-s.MinLength+1)
	nInc = min(nInc, length)
	sorted := func(idx []int) string {
		b := make([]byte, len(idx))
		for i, k := range idx {
			b[i] = byte('a' + k)
		}
		slices.Sort(b)
		return string(b)
	}
	p := Prompt{
		Include: sorted(perm[:nInc]),
		Exclude: sorted(perm[nInc : nInc+nExc]),
		Length:  length,
	}
	if rng.Float64() < s.OrderProb {
		p.Order = Ascending
		if rng.IntN(2) == 1 {
			p.Order = Descending
		}
	}
	return p
}
