package pref

import (
	"context"
	"fmt"
)

// Example is a preference pair as the models read it: byte tokens of the
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
	Train    Split    `json:"train"`
	Eval     Split    `json:"eval"`
}

// Build loads and tokenizes both splits of s.
func Build(ctx context.Context, s Settings) (*Dataset, error) {
	if err := s.Validate(); err != nil {
		return nil, fmt.Errorf("pref: settings: %w", err)
	}
	d := &Dataset{Settings: s}
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
		sp.out.Examples, sp.out.Truncation = Tokenize(pairs, s.MaxPromptBytes, s.MaxResponseBytes, s.Keep())
	}
	return d, nil
}

// Tokenize encodes pairs: prompts cut to maxPrompt bytes keeping the given
// end, responses to maxResponse bytes keeping their start.
func Tokenize(pairs []Pair, maxPrompt, maxResponse int, keep Keep) ([]Example, Truncation) {
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
		out[i] = Example{Prompt: Encode(x), Chosen: Encode(w), Rejected: Encode(l), ChosenLen: len(p.Chosen), RejectedLen: len(p.Rejected), Line: p.Line}
	}
	return out, tr
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

// Layout lays out a model input: BOS prompt SEP response EOS. The reward
// head reads the EOS.
func Layout(prompt, response []int) []int {
	seq := make([]int, 0, len(prompt)+len(response)+3)
	seq = append(seq, BOS)
	seq = append(seq, prompt...)
	seq = append(seq, SEP)
	seq = append(seq, response...)
	return append(seq, EOS)
}

// LayoutGap lays out a reference-conditioned input (y judged against
// y_ref): BOS prompt SEP reference REF response EOS.
func LayoutGap(prompt, reference, response []int) []int {
	seq := make([]int, 0, len(prompt)+len(reference)+len(response)+4)
	seq = append(seq, BOS)
	seq = append(seq, prompt...)
	seq = append(seq, SEP)
	seq = append(seq, reference...)
	seq = append(seq, REF)
	seq = append(seq, response...)
	return append(seq, EOS)
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
