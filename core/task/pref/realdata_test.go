package pref

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// sharedData returns ../shared/data beside the module root, where the
// project keeps slices of the public datasets (it does not ship them). The
// tests that read it are required when CI is set and skipped otherwise.
func sharedData(t *testing.T) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			break
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("no go.mod above the test's directory")
		}
		dir = parent
	}
	data := filepath.Join(dir, "..", "shared", "data")
	if _, err := os.Stat(data); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("CI is set but the real preference data are missing: %v", err)
		}
		t.Skipf("real preference data not found at %s (set up ../shared/data beside the repository; required when CI is set)", data)
	}
	return data
}

func TestRealHHRLHF(t *testing.T) {
	data := sharedData(t)
	for _, tc := range []struct {
		file                    string
		pairs, identical, empty int
	}{
		{"hh-rlhf/helpful-online/test.jsonl.gz", 1132, 2, 3}, // three rejected turns of one space
		{"hh-rlhf/helpful-rejection-sampled/test.jsonl.gz", 2717, 32, 0},
	} {
		t.Run(tc.file, func(t *testing.T) {
			pairs, st, err := LoadFile(context.Background(), filepath.Join(data, tc.file), HHRLHF, Options{})
			if err != nil {
				t.Fatal(err)
			}
			if st.Pairs != tc.pairs || st.Identical != tc.identical || st.Empty != tc.empty || st.Malformed != 0 || st.Lines != tc.pairs+tc.identical+tc.empty {
				t.Errorf("stats %+v, want %d pairs, %d identical and %d empty", st, tc.pairs, tc.identical, tc.empty)
			}
			for _, p := range pairs {
				if !strings.HasPrefix(p.Prompt, "\n\nHuman:") || !strings.HasSuffix(p.Prompt, AssistantTurn) {
					t.Fatalf("line %d: prompt %q is not a dialogue ending on an assistant turn", p.Line, p.Prompt)
				}
				// The two responses are the final turns, never another
				// assistant turn (the prompt takes the shared part).
				if p.Chosen == p.Rejected {
					t.Fatalf("line %d: identical pair kept", p.Line)
				}
			}
			ex, tr := Tokenize(pairs, 64, 96, KeepEnd)
			if tr.PromptRate() <= 0 || tr.PromptRate() >= 1 {
				t.Errorf("prompt truncation rate %v: want some prompts cut, not all", tr.PromptRate())
			}
			for i, e := range ex {
				if len(e.Prompt) > 64 || len(e.Chosen) > 96 || len(e.Rejected) > 96 {
					t.Fatalf("pair %d over its budget", i)
				}
				if !strings.HasSuffix(pairs[i].Prompt, Decode(e.Prompt)) {
					t.Fatalf("pair %d: truncation did not keep the end of the dialogue", i)
				}
			}
		})
	}
}

func TestRealTLDR(t *testing.T) {
	data := sharedData(t)
	ctx := context.Background()
	path := filepath.Join(data, "summarize-from-feedback/batch13.json.gz")
	all, st, err := LoadFile(ctx, path, TLDR, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if st.Lines != 1097 || st.Malformed != 0 || st.Pairs+st.Identical != 1097 {
		t.Errorf("stats %+v, want 1097 rows", st)
	}
	v1, s1, err := LoadFile(ctx, path, TLDR, Options{Split: "valid1"})
	if err != nil {
		t.Fatal(err)
	}
	v2, s2, err := LoadFile(ctx, path, TLDR, Options{Split: "valid2"})
	if err != nil {
		t.Fatal(err)
	}
	if len(v1)+len(v2) != len(all) || s1.OtherSplit+s1.Identical+len(v1) != 1097 || s2.OtherSplit != 265 || s1.OtherSplit != 832 {
		t.Errorf("valid1 %d (%+v) + valid2 %d (%+v) != %d", len(v1), s1, len(v2), s2, len(all))
	}
	posts := map[string]bool{}
	for _, p := range v1 {
		posts[p.Prompt] = true
	}
	for _, p := range v2 {
		if posts[p.Prompt] {
			t.Fatalf("line %d: a valid2 post is also in valid1", p.Line)
		}
	}
	for _, p := range all {
		if !strings.HasPrefix(p.Prompt, "SUBREDDIT: r/") || strings.HasPrefix(p.Prompt, "SUBREDDIT: r/r/") || !strings.HasSuffix(p.Prompt, "\nTL;DR:") {
			t.Fatalf("line %d: prompt %q", p.Line, p.Prompt[:min(60, len(p.Prompt))])
		}
		if strings.HasPrefix(p.Chosen, " ") || strings.HasPrefix(p.Rejected, " ") {
			t.Fatalf("line %d: summary keeps its leading space", p.Line)
		}
	}
	// The quirky file: no info.id and subreddits written "r/…".
	quirky, qs, err := LoadFile(ctx, filepath.Join(data, "summarize-from-feedback/edit_b2_eval_test.json"), TLDR, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if qs.Lines != 5 || len(quirky)+qs.Identical != 5 {
		t.Fatalf("edit_b2_eval_test: %+v", qs)
	}
	if !strings.HasPrefix(quirky[0].Prompt, "SUBREDDIT: r/relationships\nTITLE: ") {
		t.Errorf("quirky subreddit laid out as %q", quirky[0].Prompt[:40])
	}
}
