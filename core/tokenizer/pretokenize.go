package tokenizer

import (
	"unicode"
	"unicode/utf8"
)

// splitGPT2 cuts text into the pieces GPT-2's pre-tokenisation regex
//
//	's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+
//
// matches, written by hand because Go's regexp has no lookahead. The
// alternatives are tried in order at each position, as the regex does:
// English contractions; an optional space and a run of letters, of digits
// or of other non-space characters; then a run of whitespace that, when a
// non-space follows, leaves its last character to the next piece (so that
// " word" keeps its space), or a single whitespace character when nothing
// else remains. Whitespace is Unicode's White_Space, letters L, digits N.
func splitGPT2(text string) []string {
	var out []string
	for i := 0; i < len(text); {
		n := gpt2Piece(text[i:])
		out = append(out, text[i:i+n])
		i += n
	}
	return out
}

type runeClass int

const (
	classSpace runeClass = iota
	classLetter
	classNumber
	classOther
)

func classify(r rune) runeClass {
	switch {
	case unicode.IsSpace(r):
		return classSpace
	case unicode.IsLetter(r):
		return classLetter
	case unicode.IsNumber(r):
		return classNumber
	}
	return classOther
}

// gpt2Piece returns the byte length of the piece at the start of s
// (non-empty).
func gpt2Piece(s string) int {
	if s[0] == '\'' && len(s) >= 2 {
		if len(s) >= 3 {
			switch s[1:3] {
			case "re", "ve", "ll":
				return 3
			}
		}
		switch s[1] {
		case 's', 't', 'm', 'd':
			return 2
		}
	}
	// ` ?X+` for X = letters, numbers, other non-space
	start := 0
	if s[0] == ' ' && len(s) > 1 {
		start = 1
	}
	r, w := utf8.DecodeRuneInString(s[start:])
	if c := classify(r); c != classSpace {
		n := start + w
		for n < len(s) {
			r, w := utf8.DecodeRuneInString(s[n:])
			if classify(r) != c {
				break
			}
			n += w
		}
		return n
	}
	// whitespace: the run minus its last character when a non-space
	// follows and the run is longer than one character; else the run
	r, w = utf8.DecodeRuneInString(s)
	if classify(r) != classSpace {
		// a lone space at the very end is handled above; here s[0] is a
		// space followed by a space, so this cannot happen
		return w
	}
	n, last := 0, 0
	for n < len(s) {
		r, w := utf8.DecodeRuneInString(s[n:])
		if classify(r) != classSpace {
			break
		}
		last = n
		n += w
	}
	if n == len(s) || last == 0 {
		return n
	}
	return last
}
