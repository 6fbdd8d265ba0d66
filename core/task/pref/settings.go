package pref

import (
	"errors"
	"fmt"

	"github.com/pit-lab/pit/core/experiment"
)

// TaskKind is the task kind of preference datasets in experiment files:
// [task] kind = "preference"; the rest of the table is Settings.
const TaskKind = "preference"

func init() {
	experiment.RegisterTask(TaskKind, func() any { s := DefaultSettings(); return &s })
}

// Settings select a preference dataset, the file (or split) to train on and
// the one to evaluate on, and how to tokenize it. In an experiment file:
//
//	[task]
//	kind = "preference"
//	format = "hh-rlhf"                 # hh-rlhf, tldr or jsonl
//	[task.train]
//	path = "../shared/data/hh-rlhf/helpful-rejection-sampled/test.jsonl.gz"
//	[task.eval]
//	path = "../shared/data/hh-rlhf/helpful-online/test.jsonl.gz"
//
// Relative paths are resolved against the directory pit runs in.
type Settings struct {
	Format Format `toml:"format" json:"format"`
	Train  Source `toml:"train" json:"train"`
	Eval   Source `toml:"eval" json:"eval"`
	// SkipMalformed skips and counts rows that do not parse instead of
	// failing on the first with its file and line.
	SkipMalformed bool `toml:"skip_malformed" json:"skip_malformed"`
	// MaxPromptBytes and MaxResponseBytes bound the byte tokens of a
	// prompt and of each response in a model input.
	MaxPromptBytes   int `toml:"max_prompt_bytes" json:"max_prompt_bytes"`
	MaxResponseBytes int `toml:"max_response_bytes" json:"max_response_bytes"`
	// KeepPrompt is the end of a prompt that truncation keeps: "end" (the
	// last turns of a dialogue) or "start" (the start of a post); ""
	// chooses by format (end for hh-rlhf, start otherwise). Responses keep
	// their start.
	KeepPrompt string `toml:"keep_prompt" json:"keep_prompt,omitempty"`
}

// Source is one file, optionally one split of it, and how many pairs to
// take (the first ones, in file order).
type Source struct {
	Path  string `toml:"path" json:"path"`
	Split string `toml:"split" json:"split,omitempty"` // e.g. TL;DR's "valid1"; "" for all rows
	Limit int    `toml:"limit" json:"limit,omitempty"` // 0: all pairs
}

// DefaultSettings are a small CPU-sized tokenization; the file names paths.
func DefaultSettings() Settings {
	return Settings{Format: HHRLHF, MaxPromptBytes: 96, MaxResponseBytes: 64}
}

// Keep returns the end of prompts that truncation keeps.
func (s *Settings) Keep() Keep {
	switch s.KeepPrompt {
	case "end":
		return KeepEnd
	case "start":
		return KeepStart
	}
	if s.Format == HHRLHF {
		return KeepEnd
	}
	return KeepStart
}

// PolicyContext is the longest policy or Bradley–Terry input:
// BOS prompt SEP response EOS.
func (s *Settings) PolicyContext() int { return s.MaxPromptBytes + s.MaxResponseBytes + 3 }

// GapContext is the longest reference-conditioned input:
// BOS prompt SEP reference REF response EOS.
func (s *Settings) GapContext() int { return s.MaxPromptBytes + 2*s.MaxResponseBytes + 4 }

// Validate reports bad settings (it does not open the files).
func (s *Settings) Validate() error {
	var errs []error
	bad := func(key, format string, args ...any) {
		errs = append(errs, &experiment.FieldError{Key: key, Msg: fmt.Sprintf(format, args...)})
	}
	if _, err := parser(s.Format); err != nil {
		bad("format", "want %q, %q or %q (got %q)", HHRLHF, TLDR, JSONL, s.Format)
	}
	for _, src := range []struct {
		key string
		s   Source
	}{{"train", s.Train}, {"eval", s.Eval}} {
		if src.s.Path == "" {
			bad(src.key+".path", "name the %s file", src.key)
		}
		if src.s.Limit < 0 {
			bad(src.key+".limit", "must be ≥ 0 (got %d)", src.s.Limit)
		}
		if src.s.Split != "" && s.Format != TLDR {
			bad(src.key+".split", "format %q has no splits; use separate files", s.Format)
		}
	}
	if s.Train.Path != "" && s.Train.Path == s.Eval.Path && s.Train.Split == s.Eval.Split {
		bad("eval", "evaluates on the training data (same path and split); name another file or split")
	}
	if s.MaxPromptBytes < 1 {
		bad("max_prompt_bytes", "must be at least 1 (got %d)", s.MaxPromptBytes)
	}
	if s.MaxResponseBytes < 1 {
		bad("max_response_bytes", "must be at least 1 (got %d)", s.MaxResponseBytes)
	}
	switch s.KeepPrompt {
	case "", "start", "end":
	default:
		bad("keep_prompt", "want \"start\" or \"end\" (got %q)", s.KeepPrompt)
	}
	return errors.Join(errs...)
}
