package pref

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestLoadMalformedFixtures(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		file    string
		format  Format
		split   string
		errLine string // error of a strict load
		stats   Stats  // of a load that skips malformed lines
	}{
		{"hh_bad.jsonl", HHRLHF, "", "hh_bad.jsonl:4: malformed preference row: unexpected EOF", Stats{Lines: 7, Pairs: 2, Malformed: 3, Identical: 1, Empty: 1}},
		{"tldr_bad.jsonl", TLDR, "", "tldr_bad.jsonl:3: malformed preference row: choice 2 is not 0 or 1", Stats{Lines: 6, Pairs: 2, Malformed: 3, Identical: 1}},
		{"tldr_bad.jsonl", TLDR, "valid1", "tldr_bad.jsonl:3: malformed preference row: choice 2 is not 0 or 1", Stats{Lines: 6, Pairs: 1, Malformed: 3, Identical: 1, OtherSplit: 1}},
		{"generic_bad.jsonl", JSONL, "", `generic_bad.jsonl:2: malformed preference row: missing or empty "rejected"`, Stats{Lines: 6, Pairs: 1, Malformed: 3, Identical: 1, Empty: 1}},
	} {
		t.Run(tc.file+"/"+tc.split, func(t *testing.T) {
			path := filepath.Join("testdata", tc.file)
			_, _, err := LoadFile(ctx, path, tc.format, Options{Split: tc.split})
			var le *LineError
			if !errors.As(err, &le) || !errors.Is(err, ErrMalformed) || err.Error() != filepath.Join("testdata", tc.errLine) {
				t.Errorf("strict load: error %v, want %s", err, filepath.Join("testdata", tc.errLine))
			}
			pairs, st, err := LoadFile(ctx, path, tc.format, Options{Split: tc.split, SkipMalformed: true})
			if err != nil {
				t.Fatal(err)
			}
			if st != tc.stats || len(pairs) != tc.stats.Pairs {
				t.Errorf("stats %+v (%d pairs), want %+v", st, len(pairs), tc.stats)
			}
			for _, p := range pairs {
				if p.Chosen == p.Rejected || p.Line < 1 {
					t.Errorf("pair %+v: identical or without a line", p)
				}
			}
		})
	}
}

func TestLoadParsesFixtures(t *testing.T) {
	ctx := context.Background()
	pairs, _, err := LoadFile(ctx, "testdata/hh_bad.jsonl", HHRLHF, Options{SkipMalformed: true})
	if err != nil {
		t.Fatal(err)
	}
	want := Pair{Prompt: "\n\nHuman: What is 2+2?\n\nAssistant: 4\n\nHuman: Sure?\n\nAssistant:", Chosen: "Yes, 4.", Rejected: "No.", Line: 7}
	if pairs[1] != want {
		t.Errorf("multi-turn dialogue parsed as %+v, want %+v", pairs[1], want)
	}
	pairs, _, err = LoadFile(ctx, "testdata/tldr_bad.jsonl", TLDR, Options{SkipMalformed: true})
	if err != nil {
		t.Fatal(err)
	}
	want = Pair{Prompt: "SUBREDDIT: r/pets\nTITLE: Cat trouble\nPOST: My cat ate my homework.\nTL;DR:", Chosen: "Cat ate homework.", Rejected: "Pets are hard.", Line: 1}
	if pairs[0] != want {
		t.Errorf("TL;DR row parsed as %+v, want %+v", pairs[0], want)
	}
	// choice 1, subreddit written "r/Advice".
	if p := pairs[1]; !strings.HasPrefix(p.Prompt, "SUBREDDIT: r/Advice\n") || p.Chosen != "two" || p.Rejected != "one" {
		t.Errorf("second TL;DR row parsed as %+v", p)
	}
}

func TestLoadGzipAndLimit(t *testing.T) {
	raw, err := os.ReadFile("testdata/generic_bad.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	zw.Write(raw)
	zw.Close()
	path := filepath.Join(t.TempDir(), "pairs.jsonl") // compressed whatever the name says
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	pairs, st, err := LoadFile(context.Background(), path, JSONL, Options{SkipMalformed: true, Limit: 1})
	if err != nil || len(pairs) != 1 || st.Pairs != 1 || pairs[0] != (Pair{Prompt: "Say hi.", Chosen: "Hi!", Rejected: "No.", Line: 1}) {
		t.Fatalf("gzip load: %+v %+v %v", pairs, st, err)
	}
}

func TestLoadBadRequests(t *testing.T) {
	ctx := context.Background()
	if _, _, err := LoadFile(ctx, "testdata/hh_bad.jsonl", HHRLHF, Options{Split: "valid1"}); err == nil || !strings.Contains(err.Error(), "has no splits") {
		t.Errorf("split on hh-rlhf: %v", err)
	}
	if _, _, err := LoadFile(ctx, "testdata/hh_bad.jsonl", "csv", Options{}); err == nil || !strings.Contains(err.Error(), "unknown format") {
		t.Errorf("unknown format: %v", err)
	}
	if _, _, err := LoadFile(ctx, "testdata/missing.jsonl", HHRLHF, Options{}); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing file: %v", err)
	}
}

func TestSettingsValidate(t *testing.T) {
	ok := DefaultSettings()
	ok.Train.Path, ok.Eval.Path = "a.jsonl", "b.jsonl"
	for _, tc := range []struct {
		name string
		edit func(*Settings)
		key  string // "" for valid
	}{
		{"valid", func(*Settings) {}, ""},
		{"format", func(s *Settings) { s.Format = "csv" }, "format"},
		{"no train", func(s *Settings) { s.Train.Path = "" }, "train.path"},
		{"split without splits", func(s *Settings) { s.Eval.Split = "valid1" }, "eval.split"},
		{"same data", func(s *Settings) { s.Eval.Path = "a.jsonl" }, "eval"},
		{"tldr splits of one file", func(s *Settings) {
			s.Format, s.Eval.Path, s.Train.Split, s.Eval.Split = TLDR, "a.jsonl", "valid2", "valid1"
		}, ""},
		{"limit", func(s *Settings) { s.Train.Limit = -1 }, "train.limit"},
		{"prompt bytes", func(s *Settings) { s.MaxPromptBytes = 0 }, "max_prompt_bytes"},
		{"keep", func(s *Settings) { s.KeepPrompt = "middle" }, "keep_prompt"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := ok
			tc.edit(&s)
			err := s.Validate()
			if tc.key == "" {
				if err != nil {
					t.Fatalf("unexpected error %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.key) {
				t.Fatalf("error %v, want one about %s", err, tc.key)
			}
		})
	}
}

func TestKeepByFormat(t *testing.T) {
	s := DefaultSettings()
	if s.Keep() != KeepEnd {
		t.Error("hh-rlhf prompts should keep their end (the last turns)")
	}
	s.Format = TLDR
	if s.Keep() != KeepStart {
		t.Error("TL;DR prompts should keep their start")
	}
	s.KeepPrompt = "end"
	if s.Keep() != KeepEnd {
		t.Error("keep_prompt overrides the format's default")
	}
}
