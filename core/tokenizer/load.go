package tokenizer

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// File names of a tokenizer in a Hugging Face model folder.
const (
	TokenizerJSON = "tokenizer.json"
	VocabJSON     = "vocab.json"
	MergesTxt     = "merges.txt"
)

// LoadDir reads the tokenizer of a model folder: tokenizer.json when
// present, else vocab.json + merges.txt (GPT-2's "<|endoftext|>" is then
// the special token when the vocabulary has it).
func LoadDir(dir string) (*BPE, error) {
	tj := filepath.Join(dir, TokenizerJSON)
	if _, err := os.Stat(tj); err == nil {
		return LoadTokenizerJSON(tj)
	}
	b, err := LoadVocabMerges(filepath.Join(dir, VocabJSON), filepath.Join(dir, MergesTxt))
	if err != nil {
		return nil, fmt.Errorf("%w (and no %s)", err, TokenizerJSON)
	}
	return b, nil
}

// LoadVocabMerges reads GPT-2's vocab.json (symbol → id) and merges.txt
// (one "left right" pair a line in rank order, after an optional
// "#version" line).
func LoadVocabMerges(vocabPath, mergesPath string) (*BPE, error) {
	buf, err := os.ReadFile(vocabPath)
	if err != nil {
		return nil, fmt.Errorf("tokenizer: %w", err)
	}
	var vocab map[string]int
	if err := json.Unmarshal(buf, &vocab); err != nil {
		return nil, fmt.Errorf("tokenizer: %s: %w", vocabPath, err)
	}
	mbuf, err := os.ReadFile(mergesPath)
	if err != nil {
		return nil, fmt.Errorf("tokenizer: %w", err)
	}
	var merges [][2]string
	sc := bufio.NewScanner(bytes.NewReader(mbuf))
	sc.Buffer(make([]byte, 1<<16), 1<<20)
	for line := 1; sc.Scan(); line++ {
		text := strings.TrimRight(sc.Text(), "\r")
		if line == 1 && strings.HasPrefix(text, "#version") || text == "" {
			continue
		}
		l, r, ok := strings.Cut(text, " ")
		if !ok || l == "" || r == "" || strings.Contains(r, " ") {
			return nil, fmt.Errorf("tokenizer: %s:%d: want two symbols separated by one space, got %q", mergesPath, line, text)
		}
		merges = append(merges, [2]string{l, r})
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("tokenizer: %s: %w", mergesPath, err)
	}
	b, err := newBPE(vocab, merges)
	if err != nil {
		return nil, fmt.Errorf("tokenizer: %s, %s: %w", vocabPath, mergesPath, err)
	}
	if id, ok := vocab[EndOfText]; ok {
		if err := b.addSpecial(EndOfText, id); err != nil {
			return nil, fmt.Errorf("tokenizer: %s: %w", vocabPath, err)
		}
	}
	return b, nil
}

// EndOfText is GPT-2's one special token.
const EndOfText = "<|endoftext|>"

// tokenizerFile is the part of tokenizer.json this package reads.
type tokenizerFile struct {
	AddedTokens []struct {
		ID      int    `json:"id"`
		Content string `json:"content"`
		Special bool   `json:"special"`
	} `json:"added_tokens"`
	Normalizer   json.RawMessage `json:"normalizer"`
	PreTokenizer json.RawMessage `json:"pre_tokenizer"`
	Model        struct {
		Type         string          `json:"type"`
		Vocab        map[string]int  `json:"vocab"`
		Merges       json.RawMessage `json:"merges"`
		ByteFallback bool            `json:"byte_fallback"`
	} `json:"model"`
}

// LoadTokenizerJSON reads a Hugging Face tokenizer.json of a byte-level BPE
// model: model type BPE, a ByteLevel pre-tokenizer with GPT-2's splitting
// rule and no prefix space, no normaliser. Other tokenizers (SentencePiece
// style Metaspace, digit splitting, …) are errors that say what the file
// uses.
func LoadTokenizerJSON(path string) (*BPE, error) {
	buf, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("tokenizer: %w", err)
	}
	var f tokenizerFile
	if err := json.Unmarshal(buf, &f); err != nil {
		return nil, fmt.Errorf("tokenizer: %s: %w", path, err)
	}
	fail := func(format string, args ...any) error {
		return fmt.Errorf("tokenizer: %s: %s", path, fmt.Sprintf(format, args...))
	}
	if f.Model.Type != "BPE" {
		return nil, fail("model type %q unsupported (want BPE)", f.Model.Type)
	}
	if f.Model.ByteFallback {
		return nil, fail("model.byte_fallback is set: a SentencePiece-style BPE, not byte-level (unsupported)")
	}
	if n := strings.TrimSpace(string(f.Normalizer)); n != "" && n != "null" {
		return nil, fail("normalizer %s unsupported (byte-level BPE has none)", n)
	}
	if err := checkPreTokenizer(f.PreTokenizer); err != nil {
		return nil, fail("pre_tokenizer: %v", err)
	}
	merges, err := parseMerges(f.Model.Merges)
	if err != nil {
		return nil, fail("model.merges: %v", err)
	}
	b, err := newBPE(f.Model.Vocab, merges)
	if err != nil {
		return nil, fail("%v", err)
	}
	for _, t := range f.AddedTokens {
		if !t.Special {
			if _, ok := f.Model.Vocab[t.Content]; !ok {
				return nil, fail("added token %q (id %d) is not special and not in the vocabulary (unsupported)", t.Content, t.ID)
			}
			continue
		}
		if err := b.addSpecial(t.Content, t.ID); err != nil {
			return nil, fail("added_tokens: %v", err)
		}
	}
	return b, nil
}

// checkPreTokenizer accepts GPT-2's: ByteLevel with add_prefix_space false
// and its regex on, alone or as the only step of a Sequence.
func checkPreTokenizer(raw json.RawMessage) error {
	var p struct {
		Type           string            `json:"type"`
		AddPrefixSpace bool              `json:"add_prefix_space"`
		UseRegex       *bool             `json:"use_regex"`
		PreTokenizers  []json.RawMessage `json:"pretokenizers"`
	}
	if len(raw) == 0 || string(raw) == "null" {
		return errors.New("missing (want ByteLevel)")
	}
	if err := json.Unmarshal(raw, &p); err != nil {
		return err
	}
	switch {
	case p.Type == "Sequence" && len(p.PreTokenizers) == 1:
		return checkPreTokenizer(p.PreTokenizers[0])
	case p.Type != "ByteLevel":
		return fmt.Errorf("type %q unsupported (want ByteLevel with GPT-2's splitting)", p.Type)
	case p.AddPrefixSpace:
		return errors.New("add_prefix_space true unsupported")
	case p.UseRegex != nil && !*p.UseRegex:
		return errors.New("use_regex false unsupported")
	}
	return nil
}

// parseMerges reads merges written as "a b" strings (older files) or as
// ["a", "b"] pairs (newer ones).
func parseMerges(raw json.RawMessage) ([][2]string, error) {
	var strs []string
	if err := json.Unmarshal(raw, &strs); err == nil {
		out := make([][2]string, len(strs))
		for i, s := range strs {
			l, r, ok := strings.Cut(s, " ")
			if !ok || strings.Contains(r, " ") {
				return nil, fmt.Errorf("merge %d %q is not two symbols separated by one space", i+1, s)
			}
			out[i] = [2]string{l, r}
		}
		return out, nil
	}
	var pairs [][]string
	if err := json.Unmarshal(raw, &pairs); err != nil {
		return nil, errors.New("want a list of \"a b\" strings or of [a, b] pairs")
	}
	out := make([][2]string, len(pairs))
	for i, p := range pairs {
		if len(p) != 2 {
			return nil, fmt.Errorf("merge %d has %d symbols, want 2", i+1, len(p))
		}
		out[i] = [2]string{p[0], p[1]}
	}
	return out, nil
}
