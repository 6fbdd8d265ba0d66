package pref

import "unicode/utf8"

// Token ids of the byte-level vocabulary. Id 0 is padding, four special
// tokens follow, and byte b is id ByteOffset+b, so any text encodes without
// an external vocabulary file and decodes back to the same bytes.
const (
	PAD = 0 // padding
	BOS = 1 // start of a model input
	SEP = 2 // end of the prompt
	REF = 3 // end of the reference response (gap-model inputs)
	EOS = 4 // end of the response; the reward head reads here

	// ByteOffset is the id of byte 0.
	ByteOffset = 5
	// VocabSize is the number of token ids.
	VocabSize = ByteOffset + 256
)

// Keep says which end of a text truncation keeps.
type Keep int

const (
	// KeepStart keeps the beginning (the start of a post, of a summary).
	KeepStart Keep = iota
	// KeepEnd keeps the end (the last turns of a dialogue).
	KeepEnd
)

// String names k as experiment files do.
func (k Keep) String() string {
	if k == KeepEnd {
		return "end"
	}
	return "start"
}

// Encode returns the byte tokens of s.
func Encode(s string) []int {
	out := make([]int, len(s))
	for i := 0; i < len(s); i++ {
		out[i] = ByteOffset + int(s[i])
	}
	return out
}

// Decode renders token ids as text: byte tokens as their bytes, special
// tokens as ⟨bos⟩, ⟨sep⟩, ⟨ref⟩, ⟨eos⟩, ⟨pad⟩ and ids outside the vocabulary
// as ⟨?N⟩. Decode(Encode(s)) == s for every string s.
func Decode(ids []int) string {
	b := make([]byte, 0, len(ids))
	for _, id := range ids {
		switch {
		case id >= ByteOffset && id < VocabSize:
			b = append(b, byte(id-ByteOffset))
		case id == PAD:
			b = append(b, "⟨pad⟩"...)
		case id == BOS:
			b = append(b, "⟨bos⟩"...)
		case id == SEP:
			b = append(b, "⟨sep⟩"...)
		case id == REF:
			b = append(b, "⟨ref⟩"...)
		case id == EOS:
			b = append(b, "⟨eos⟩"...)
		default:
			b = append(b, "⟨?"...)
			b = appendInt(b, id)
			b = append(b, "⟩"...)
		}
	}
	return string(b)
}

func appendInt(b []byte, v int) []byte {
	if v < 0 {
		b = append(b, '-')
		v = -v
	}
	var d [20]byte
	i := len(d)
	for {
		i--
		d[i] = byte('0' + v%10)
		v /= 10
		if v == 0 {
			break
		}
	}
	return append(b, d[i:]...)
}

// Truncate returns at most max bytes of s, keeping its start or its end, and
// whether it cut anything. The cut falls on a UTF-8 character boundary (so
// it may keep a few bytes fewer than max) unless s is not valid UTF-8 there.
// max < 0 means no limit.
func Truncate(s string, max int, keep Keep) (string, bool) {
	if max < 0 || len(s) <= max {
		return s, false
	}
	if keep == KeepEnd {
		i := len(s) - max
		for j := i; j <= len(s) && j <= i+utf8.UTFMax; j++ {
			if j == len(s) || utf8.RuneStart(s[j]) {
				i = j
				break
			}
		}
		return s[i:], true
	}
	i := max
	for j := i; j >= 0 && j >= max-utf8.UTFMax; j-- {
		if j == 0 || utf8.RuneStart(s[j]) {
			i = j
			break
		}
	}
	return s[:i], true
}
