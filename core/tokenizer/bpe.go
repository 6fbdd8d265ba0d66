// Package tokenizer implements byte-level byte-pair encoding as GPT-2 and
// many later models use it, read from a Hugging Face tokenizer.json or
// from GPT-2's vocab.json + merges.txt.
//
// Text is cut into pieces by GPT-2's pre-tokenisation rule (see splitGPT2),
// each piece's UTF-8 bytes are mapped to printable characters by GPT-2's
// byte-to-unicode table, and the pieces are merged pairwise by rank. Every
// byte sequence has an encoding, and Decode(Encode(s)) == s for every
// valid UTF-8 string.
//
// Special tokens (tokenizer.json's added tokens, such as "<|endoftext|>")
// have ids of their own. Encode treats their text as ordinary text, so data
// cannot inject them; EncodeWithSpecials recognises them.
package tokenizer

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
)

// BPE is a byte-level BPE tokenizer. It is safe for concurrent use.
type BPE struct {
	vocab    map[string]int // symbol string (byte-unicode form) → id
	inverse  []string       // id → symbol string ("" for unused ids)
	ranks    map[[2]string]int
	specials map[string]int // special token text → id
	special  map[int]string // id → special token text

	mu    sync.Mutex
	cache map[string][]int
}

const cacheLimit = 1 << 16

// newBPE builds a tokenizer from a vocabulary and ordered merges.
func newBPE(vocab map[string]int, merges [][2]string) (*BPE, error) {
	b := &BPE{vocab: vocab, ranks: make(map[[2]string]int, len(merges)),
		specials: map[string]int{}, special: map[int]string{}, cache: map[string][]int{}}
	size := 0
	for s, id := range vocab {
		if id < 0 {
			return nil, fmt.Errorf("token %q has negative id %d", s, id)
		}
		size = max(size, id+1)
	}
	b.inverse = make([]string, size)
	for s, id := range vocab {
		if b.inverse[id] != "" {
			return nil, fmt.Errorf("id %d is both %q and %q", id, b.inverse[id], s)
		}
		b.inverse[id] = s
	}
	// every byte must be a symbol, or some text has no encoding
	for c := 0; c < 256; c++ {
		if _, ok := vocab[string(byteToRune[c])]; !ok {
			return nil, fmt.Errorf("vocabulary lacks the symbol of byte %#02x (%q): not a byte-level vocabulary", c, string(byteToRune[c]))
		}
	}
	for i, m := range merges {
		if _, ok := vocab[m[0]+m[1]]; !ok {
			return nil, fmt.Errorf("merge %d (%q %q) makes %q, which is not in the vocabulary", i+1, m[0], m[1], m[0]+m[1])
		}
		if _, dup := b.ranks[m]; !dup {
			b.ranks[m] = i
		}
	}
	return b, nil
}

// addSpecial registers a special token.
func (b *BPE) addSpecial(content string, id int) error {
	if content == "" {
		return fmt.Errorf("special token with id %d has no text", id)
	}
	if s, ok := b.vocab[content]; ok && s != id {
		return fmt.Errorf("special token %q has id %d but the vocabulary gives it %d", content, id, s)
	}
	b.specials[content] = id
	b.special[id] = content
	if id >= len(b.inverse) {
		b.inverse = append(b.inverse, make([]string, id+1-len(b.inverse))...)
	}
	return nil
}

// VocabSize is one more than the largest id, special tokens included.
func (b *BPE) VocabSize() int { return len(b.inverse) }

// SpecialID returns the id of a special token by its text, for example
// "<|endoftext|>".
func (b *BPE) SpecialID(text string) (int, bool) {
	id, ok := b.specials[text]
	return id, ok
}

// Specials returns the special tokens' texts, sorted.
func (b *BPE) Specials() []string { return slices.Sorted(maps.Keys(b.specials)) }

// Encode returns the token ids of text. Special tokens' texts are encoded
// as ordinary text.
func (b *BPE) Encode(text string) []int {
	var ids []int
	for _, piece := range splitGPT2(text) {
		ids = append(ids, b.encodePiece(piece)...)
	}
	return ids
}

// EncodeWithSpecials is Encode except that occurrences of special tokens'
// texts become their ids (the longest match wins where they overlap).
func (b *BPE) EncodeWithSpecials(text string) []int {
	if len(b.specials) == 0 {
		return b.Encode(text)
	}
	var ids []int
	for len(text) > 0 {
		at, tok := -1, ""
		for s := range b.specials {
			if i := strings.Index(text, s); i >= 0 && (at < 0 || i < at || i == at && len(s) > len(tok)) {
				at, tok = i, s
			}
		}
		if at < 0 {
			return append(ids, b.Encode(text)...)
		}
		ids = append(ids, b.Encode(text[:at])...)
		ids = append(ids, b.specials[tok])
		text = text[at+len(tok):]
	}
	return ids
}

// Decode returns the text of ids. Byte sequences that are not valid UTF-8
// (a piece cut inside a character) are kept as bytes; an id outside the
// vocabulary is an error.
func (b *BPE) Decode(ids []int) (string, error) {
	var sb strings.Builder
	for i, id := range ids {
		if s, ok := b.special[id]; ok {
			sb.WriteString(s)
			continue
		}
		if id < 0 || id >= len(b.inverse) || b.inverse[id] == "" {
			return "", fmt.Errorf("tokenizer: id %d at position %d is not in the vocabulary", id, i)
		}
		for _, r := range b.inverse[id] {
			c, ok := runeToByte[r]
			if !ok {
				return "", fmt.Errorf("tokenizer: token %d (%q) has a character outside the byte alphabet", id, b.inverse[id])
			}
			sb.WriteByte(c)
		}
	}
	return sb.String(), nil
}

func (b *BPE) encodePiece(piece string) []int {
	b.mu.Lock()
	ids, ok := b.cache[piece]
	b.mu.Unlock()
	if ok {
		return ids
	}
	syms := make([]string, len(piece))
	for i := 0; i < len(piece); i++ {
		syms[i] = string(byteToRune[piece[i]])
	}
	for len(syms) > 1 {
		best, at := -1, -1
		for i := 0; i+1 < len(syms); i++ {
			if r, ok := b.ranks[[2]string{syms[i], syms[i+1]}]; ok && (best < 0 || r < best) {
				best, at = r, i
			}
		}
		if at < 0 {
			break
		}
		// merge every occurrence of the best pair, left to right
		pair := [2]string{syms[at], syms[at+1]}
		out := syms[:0:0]
		for i := 0; i < len(syms); i++ {
			if i+1 < len(syms) && syms[i] == pair[0] && syms[i+1] == pair[1] {
				out = append(out, pair[0]+pair[1])
				i++
				continue
			}
			out = append(out, syms[i])
		}
		syms = out
	}
	ids = make([]int, len(syms))
	for i, s := range syms {
		ids[i] = b.vocab[s] // every merge result and byte is in the vocabulary
	}
	b.mu.Lock()
	if len(b.cache) >= cacheLimit {
		clear(b.cache)
	}
	b.cache[piece] = ids
	b.mu.Unlock()
	return ids
}

// byteToRune is GPT-2's byte-to-unicode table: printable Latin-1 bytes map
// to themselves, the other 68 bytes to U+0100 onwards in byte order, so
// that every byte has a visible, non-space character.
var byteToRune, runeToByte = func() ([256]rune, map[rune]byte) {
	var fwd [256]rune
	inv := map[rune]byte{}
	next := rune(256)
	for c := 0; c < 256; c++ {
		if c >= '!' && c <= '~' || c >= 0xA1 && c <= 0xAC || c >= 0xAE && c <= 0xFF {
			fwd[c] = rune(c)
		} else {
			fwd[c] = next
			next++
		}
		inv[fwd[c]] = byte(c)
	}
	return fwd, inv
}()

// ByteSymbol returns the vocabulary symbol of byte c in GPT-2's
// byte-to-unicode form ("Ġ" for a space), for writing vocabularies.
func ByteSymbol(c byte) string { return string(byteToRune[c]) }
