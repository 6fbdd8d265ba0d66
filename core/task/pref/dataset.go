package pref

import (
	"context"
	"fmt"
)

// Example is a preference pair as the models read it: tokens of the
// truncated prompt and responses, and the responses' full lengths in bytes
// (for the length baseline).
type Example struct {
	Prompt      []int `json:"prompt"`
	Chosen      []int `json:"chosen"`
	Rejected    []int `json:"rejected"`
	ChosenLen   int   `json:"chosen_len"`
	RejectedLen int   `json:"rejected_len"`
	Line        int   `json:"line"`
}

// Truncation counts what tokenization cut.
type Truncation struct {
	Prompts   int `json:"prompts"`   // prompts cut
	Responses int `json:"responses"` // responses cut (two per pair)
	Pairs     int `json:"pairs"`
	// Identical counts pairs whose two responses became the same tokens
	// after truncation (they differ only past the cut): no model can rank
	// them, and the accuracies count them as ties.
	Identical int `json:"identical"`
}

// PromptRate is the share of prompts cut.
func (t Truncation) PromptRate() float64 { return rate(t.Prompts, t.Pairs) }

// ResponseRate is the share of responses cut.
func (t Truncation) ResponseRate() float64 { return rate(t.Responses, 2*t.Pairs) }

func rate(k, n int) float64 {
	if n == 0 {
		return 0
	}
	return float64(k) / float64(n)
}

// Split is one side of a dataset: its examples and what loading and
// tokenizing left out or cut.
type Split struct {
	Source     Source     `json:"source"`
	Examples   []Example  `json:"examples"`
	Load       Stats      `json:"load"`
	Truncation Truncation `json:"truncation"`
}

// Dataset is a tokenized preference dataset: a training and an evaluation
// split.
type Dataset struct {
	Settings Settings `json:"settings"`
	// Vocab is the ids the examples use and the layouts' special tokens.
	Vocab Vocab `json:"vocab"`
	Train Split `json:"train"`
	Eval  Split `json:"eval"`
}

// Build loads both splits of s and tokenizes them with tok.
func Build(ctx context.Context, s Settings, tok Tokenizer) (*Dataset, error) {
	if err := s.Validate(); err != nil {
		return nil, fmt.Errorf("pref: settings: %w", err)
	}
	d := &Dataset{Settings: s, Vocab: tok.Vocab}
	for _, sp := range []struct {
		name string
		src  Source
		out  *Split
	}{{"train", s.Train, &d.Train}, {"eval", s.Eval, &d.Eval}} {
		pairs, st, err := LoadFile(ctx, sp.src.Path, s.Format, Options{Split: sp.src.Split, SkipMalformed: s.SkipMalformed, Limit: sp.src.Limit})
		if err != nil {
			return nil, fmt.Errorf("%s split: %w", sp.name, err)
		}
		if len(pairs) == 0 {
			return nil, fmt.Errorf("%s split: %s holds no usable pairs (split %q; %d lines, %d malformed, %d identical, %d of other splits)",
				sp.name, sp.src.Path, sp.src.Split, st.Lines, st.Malformed, st.Identical, st.OtherSplit)
		}
		*sp.out = Split{Source: sp.src, Load: st}
		sp.out.Examples, sp.out.Truncation = TokenizeWith(tok, pairs, s.MaxPromptBytes, s.MaxResponseBytes, s.Keep())
	}
	return d, nil
}

// Tokenize encodes pairs into byte tokens: prompts cut to maxPrompt bytes
// keeping the given end, responses to maxResponse bytes keeping their
// start.
func Tokenize(pairs []Pair, maxPrompt, maxResponse int, keep Keep) ([]Example, Truncation) {
	return TokenizeWith(Bytes(), pairs, maxPrompt, maxResponse, keep)
}

// TokenizeWith is Tokenize with another tokenizer. Texts are cut in bytes
// before they are encoded, so an input never has more tokens than the
// byte bounds (Settings.PolicyContext, GapContext) allow.
func TokenizeWith(tok Tokenizer, pairs []Pair, maxPrompt, maxResponse int, keep Keep) ([]Example, Truncation) {
	out := make([]Example, len(pairs))
	tr := Truncation{Pairs: len(pairs)}
	for i, p := range pairs {
		x, cx := Truncate(p.Prompt, maxPrompt, keep)
		w, cw := Truncate(p.Chosen, maxResponse, KeepStart)
		l, cl := Truncate(p.Rejected, maxResponse, KeepStart)
		tr.Prompts += b2i(cx)
		tr.Responses += b2i(cw) + b2i(cl)
		if w == l {
			tr.Identical++
		}
		out[i] = Example{Prompt: tok.Encode(x), Chosen: tok.Encode(w), Rejected: tok.Encode(l), ChosenLen: len(p.Chosen), RejectedLen: len(p.Rejected), Line: p.Line}
	}
	return out, tr
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

// Layout lays out a model input in the byte vocabulary (see
// Vocab.Layout).
func Layout(prompt, response []int) []int { return ByteVocab().Layout(prompt, response) }

// LayoutGap lays out a reference-conditioned input in the byte vocabulary
// (see Vocab.LayoutGap).
func LayoutGap(prompt, reference, response []int) []int {
	return ByteVocab().LayoutGap(prompt, reference, response)
}

// LengthPrefers is the length baseline's verdict on an example: 1 if it
// prefers the chosen response (the longer one, in full bytes), 0 if the
// rejected one, ½ on a tie.
func LengthPrefers(e Example) float64 {
	switch {
	case e.ChosenLen > e.RejectedLen:
		return 1
	case e.ChosenLen < e.RejectedLen:
		return 0
	}
	return 0.5
}
