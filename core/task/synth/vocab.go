// Package synth is pit's synthetic instruction-following task: a CPU-sized
// stand-in for the PIT paper's synthetic set, with a ground-truth oracle.
//
// A prompt states constraints on a short string of letters: letters that must
// appear, letters that must not, a target length and sometimes an order
// (ascending or descending). The oracle q(x, y) in [0, 1] scores those stated
// constraints and hidden preferences the prompt never states (no immediate
// repeats, neighbouring letters close in the alphabet, ending on a vowel);
// the rubric scores the stated constraints only. Two noisy solvers of
// different skill answer prompts, and a Bradley–Terry coin on the oracle
// labels their answers as preference pairs. Everything is drawn from a seed.
//
// Build makes a whole Dataset (SFT pairs, reward-model pairs, RL prompts,
// evaluation prompts and held-out reward-model pairs) from Settings and a
// seed; a Task scores, generates and labels one item at a time.
package synth

import (
	"fmt"
	"strconv"
	"strings"
)

// Token ids of the vocabulary. Ids 0..8 are special tokens, then come the 26
// letters a..z, then one length token per target length 1..MaxTarget.
const (
	PAD         = 0 // padding
	BOS         = 1 // start of every model input
	EOS         = 2 // end of a response
	SepRef      = 3 // separates the prompt from the reference response (improver input)
	SepResp     = 4 // separates the prompt (or reference) from the response
	IncludeMark = 5 // followed by the letters that must appear
	ExcludeMark = 6 // followed by the letters that must not appear
	AscMark     = 7 // the response must be in ascending order
	DescMark    = 8 // the response must be in descending order

	// FirstLetter is the id of 'a'; letter c has id FirstLetter + (c - 'a').
	FirstLetter = 9
	// FirstLength is the id of the length token for a target length of 1.
	FirstLength = FirstLetter + 26
	// MaxTarget is the largest target length a length token can state.
	MaxTarget = 24
	// VocabSize is the number of token ids.
	VocabSize = FirstLength + MaxTarget
)

var specialNames = [...]string{
	PAD:         "<pad>",
	BOS:         "<bos>",
	EOS:         "<eos>",
	SepRef:      "<ref>",
	SepResp:     "<resp>",
	IncludeMark: "+",
	ExcludeMark: "-",
	AscMark:     "<asc>",
	DescMark:    "<desc>",
}

// Letter returns the token id of the lower-case letter c; it panics if c is
// not in a..z.
func Letter(c byte) int {
	if c < 'a' || c > 'z' {
		panic(fmt.Sprintf("synth: Letter(%q): not a lower-case letter", c))
	}
	return FirstLetter + int(c-'a')
}

// IsLetter reports whether id is a letter token.
func IsLetter(id int) bool { return id >= FirstLetter && id < FirstLetter+26 }

// LetterOf returns the letter of a letter token id; ok is false for any other
// id.
func LetterOf(id int) (c byte, ok bool) {
	if !IsLetter(id) {
		return 0, false
	}
	return byte('a' + id - FirstLetter), true
}

// LengthToken returns the token id that states target length n, for
// 1 <= n <= MaxTarget; it panics otherwise.
func LengthToken(n int) int {
	if n < 1 || n > MaxTarget {
		panic(fmt.Sprintf("synth: LengthToken(%d): out of range 1..%d", n, MaxTarget))
	}
	return FirstLength + n - 1
}

// LengthOf returns the target length stated by a length token; ok is false
// for any other id.
func LengthOf(id int) (n int, ok bool) {
	if id < FirstLength || id >= FirstLength+MaxTarget {
		return 0, false
	}
	return id - FirstLength + 1, true
}

// Letters returns the token ids of a string of lower-case letters, or an
// error naming the first byte that is not one.
func Letters(s string) ([]int, error) {
	ids := make([]int, len(s))
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < 'a' || c > 'z' {
			return nil, fmt.Errorf("synth: %q: byte %d (%q) is not a lower-case letter", s, i, c)
		}
		ids[i] = FirstLetter + int(c-'a')
	}
	return ids, nil
}

// MustLetters is Letters for constant strings in tests and examples; it
// panics on a byte that is not a lower-case letter.
func MustLetters(s string) []int {
	ids, err := Letters(s)
	if err != nil {
		panic(err)
	}
	return ids
}

// TokenString renders one token id: a letter as itself, a length token as
// "#n", a special token by its name ("<bos>", "+", ...) and an unknown id as
// "<?id>".
func TokenString(id int) string {
	switch {
	case id >= 0 && id < len(specialNames):
		return specialNames[id]
	case IsLetter(id):
		return string(rune('a' + id - FirstLetter))
	case id >= FirstLength && id < VocabSize:
		return "#" + strconv.Itoa(id-FirstLength+1)
	default:
		return "<?" + strconv.Itoa(id) + ">"
	}
}

// Decode renders token ids as one line of text, for logs: letters run
// together, the include and exclude markers stick to the letters that follow
// them, and every other token stands alone, e.g.
//
//	<bos> +ab -xz #6 <asc> <resp> abcdef <eos>
//
// Encode turns such a line back into the same ids (unknown ids, shown as
// "<?id>", excepted).
func Decode(ids []int) string {
	var b strings.Builder
	for i, id := range ids {
		if i > 0 {
			prev := ids[i-1]
			glued := IsLetter(id) && (IsLetter(prev) || prev == IncludeMark || prev == ExcludeMark)
			if !glued {
				b.WriteByte(' ')
			}
		}
		b.WriteString(TokenString(id))
	}
	return b.String()
}

// Encode parses text in Decode's format back into token ids. Spaces between
// tokens are optional except where they separate two tokens that would
// otherwise read as one (a length token and a following one).
func Encode(s string) ([]int, error) {
	var ids []int
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n':
			i++
		case c >= 'a' && c <= 'z':
			ids = append(ids, FirstLetter+int(c-'a'))
			i++
		case c == '+':
			ids = append(ids, IncludeMark)
			i++
		case c == '-':
			ids = append(ids, ExcludeMark)
			i++
		case c == '#':
			j := i + 1
			for j < len(s) && s[j] >= '0' && s[j] <= '9' {
				j++
			}
			n, err := strconv.Atoi(s[i+1 : j])
			if err != nil || n < 1 || n > MaxTarget {
				return nil, fmt.Errorf("synth: encode %q: bad length token %q at byte %d (want #1..#%d)", s, s[i:j], i, MaxTarget)
			}
			ids = append(ids, LengthToken(n))
			i = j
		case c == '<':
			j := strings.IndexByte(s[i:], '>')
			if j < 0 {
				return nil, fmt.Errorf("synth: encode %q: unclosed '<' at byte %d", s, i)
			}
			name := s[i : i+j+1]
			id := -1
			for k, sn := range specialNames {
				if sn == name {
					id = k
					break
				}
			}
			if id < 0 {
				return nil, fmt.Errorf("synth: encode %q: unknown token %q at byte %d", s, name, i)
			}
			ids = append(ids, id)
			i += j + 1
		default:
			return nil, fmt.Errorf("synth: encode %q: unexpected byte %q at byte %d", s, c, i)
		}
	}
	return ids, nil
}

// Text renders a response (letter tokens) as a plain string; any non-letter
// token is shown by TokenString.
func Text(response []int) string {
	var b strings.Builder
	for _, id := range response {
		b.WriteString(TokenString(id))
	}
	return b.String()
}
