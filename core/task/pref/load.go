// Package pref loads human preference data for pit: Anthropic HH-RLHF
// dialogues, OpenAI summarize-from-feedback (TL;DR) comparisons and a
// generic JSONL of {prompt, chosen, rejected}; encodes them with a
// byte-level tokenizer that needs no vocabulary file, truncating what does
// not fit at the end that matters less; and registers the "preference" task
// kind of experiment files, which names a dataset's format, its files and
// the splits to train and evaluate on.
//
// The data are not part of pit: point an experiment at your own copy of a
// dataset (see the README section "Real preference data").
package pref

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
)

// Pair is one human preference: two responses to a prompt, Chosen preferred
// over Rejected.
type Pair struct {
	Prompt   string `json:"prompt"`
	Chosen   string `json:"chosen"`
	Rejected string `json:"rejected"`
	Line     int    `json:"line"` // 1-based line of the source file
}

// Format names a file format.
type Format string

// The formats Load reads.
const (
	// HHRLHF is Anthropic's hh-rlhf: one {"chosen", "rejected"} dialogue
	// pair per line; the prompt is the shared prefix up to the last
	// "\n\nAssistant:".
	HHRLHF Format = "hh-rlhf"
	// TLDR is OpenAI's summarize-from-feedback comparisons: a post, two
	// summaries and the index of the preferred one per line.
	TLDR Format = "tldr"
	// JSONL is a generic {"prompt", "chosen", "rejected"} per line.
	JSONL Format = "jsonl"
)

// Formats lists the formats Load reads.
var Formats = []Format{HHRLHF, TLDR, JSONL}

// Options control Load.
type Options struct {
	// Split keeps only rows of this split (TL;DR's "split" field, e.g.
	// "valid1"); "" keeps all. Formats without splits reject a Split.
	Split string
	// SkipMalformed skips and counts lines that do not parse; otherwise
	// the first one fails the load with its file and line.
	SkipMalformed bool
	// Limit stops after this many pairs (0: no limit).
	Limit int
}

// Stats count what Load read and left out.
type Stats struct {
	Lines      int `json:"lines"`       // non-blank lines read
	Pairs      int `json:"pairs"`       // pairs returned
	Malformed  int `json:"malformed"`   // lines skipped because they did not parse
	Identical  int `json:"identical"`   // pairs skipped because chosen == rejected
	Empty      int `json:"empty"`       // pairs skipped because a response is empty once parsed (an HH turn of only spaces)
	OtherSplit int `json:"other_split"` // rows of another split
}

// LineError is a line that does not parse.
type LineError struct {
	File string
	Line int
	Err  error
}

func (e *LineError) Error() string { return fmt.Sprintf("%s:%d: %v", e.File, e.Line, e.Err) }
func (e *LineError) Unwrap() error { return e.Err }

// ErrMalformed is wrapped by the errors of lines that do not parse.
var ErrMalformed = errors.New("malformed preference row")

// LoadFile reads the preference pairs of a file in format f. Gzip-compressed
// files (by their magic bytes, whatever their name) are decompressed.
func LoadFile(ctx context.Context, path string, f Format, o Options) ([]Pair, Stats, error) {
	fh, err := os.Open(path)
	if err != nil {
		return nil, Stats{}, fmt.Errorf("pref: %w", err)
	}
	defer fh.Close()
	return Load(ctx, fh, path, f, o)
}

// Load reads preference pairs in format f from r; name is the file's name
// for errors.
func Load(ctx context.Context, r io.Reader, name string, f Format, o Options) ([]Pair, Stats, error) {
	parse, err := parser(f)
	if err != nil {
		return nil, Stats{}, err
	}
	if o.Split != "" && f != TLDR {
		return nil, Stats{}, fmt.Errorf("pref: %s: format %s has no splits (split %q)", name, f, o.Split)
	}
	br := bufio.NewReaderSize(r, 1<<16)
	if magic, _ := br.Peek(2); len(magic) == 2 && magic[0] == 0x1f && magic[1] == 0x8b {
		zr, err := gzip.NewReader(br)
		if err != nil {
			return nil, Stats{}, fmt.Errorf("pref: %s: %w", name, err)
		}
		defer zr.Close()
		br = bufio.NewReaderSize(zr, 1<<16)
	}
	var (
		st    Stats
		pairs []Pair
	)
	for n := 1; ; n++ {
		line, rerr := br.ReadBytes('\n')
		if rerr != nil && rerr != io.EOF {
			return nil, st, fmt.Errorf("pref: %s:%d: %w", name, n, rerr)
		}
		if len(bytes.TrimSpace(line)) > 0 {
			if n%1024 == 0 {
				if err := ctx.Err(); err != nil {
					return nil, st, err
				}
			}
			st.Lines++
			p, split, err := parse(line)
			switch {
			case err != nil:
				if !o.SkipMalformed {
					return nil, st, &LineError{File: name, Line: n, Err: err}
				}
				st.Malformed++
			case o.Split != "" && split != o.Split:
				st.OtherSplit++
			case p.Chosen == p.Rejected:
				st.Identical++
			case p.Chosen == "" || p.Rejected == "":
				st.Empty++
			default:
				p.Line = n
				pairs = append(pairs, p)
				if o.Limit > 0 && len(pairs) == o.Limit {
					st.Pairs = len(pairs)
					return pairs, st, nil
				}
			}
		}
		if rerr == io.EOF {
			break
		}
	}
	st.Pairs = len(pairs)
	return pairs, st, nil
}

type parseFunc func(line []byte) (p Pair, split string, err error)

func parser(f Format) (parseFunc, error) {
	switch f {
	case HHRLHF:
		return parseHH, nil
	case TLDR:
		return parseTLDR, nil
	case JSONL:
		return parseJSONL, nil
	}
	return nil, fmt.Errorf("pref: unknown format %q (want %s, %s or %s)", f, HHRLHF, TLDR, JSONL)
}

// decodeStrict decodes one JSON object and nothing after it.
func decodeStrict(line []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(line))
	if err := dec.Decode(v); err != nil {
		return fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	if dec.More() {
		return fmt.Errorf("%w: data after the JSON object", ErrMalformed)
	}
	return nil
}

func missing(field string) error { return fmt.Errorf("%w: missing or empty %q", ErrMalformed, field) }

// AssistantTurn starts each assistant turn of an HH-RLHF dialogue.
const AssistantTurn = "\n\nAssistant:"

func parseHH(line []byte) (Pair, string, error) {
	var row struct {
		Chosen   *string `json:"chosen"`
		Rejected *string `json:"rejected"`
	}
	if err := decodeStrict(line, &row); err != nil {
		return Pair{}, "", err
	}
	if row.Chosen == nil || *row.Chosen == "" {
		return Pair{}, "", missing("chosen")
	}
	if row.Rejected == nil || *row.Rejected == "" {
		return Pair{}, "", missing("rejected")
	}
	p, err := SplitDialogues(*row.Chosen, *row.Rejected)
	return p, "", err
}

// SplitDialogues splits two HH-RLHF dialogues into their shared prompt (up
// to and including the last "\n\nAssistant:" both share) and the two final
// assistant responses (leading spaces trimmed).
func SplitDialogues(chosen, rejected string) (Pair, error) {
	n := 0
	for n < len(chosen) && n < len(rejected) && chosen[n] == rejected[n] {
		n++
	}
	// The prompt ends at the last assistant turn that both dialogues
	// contain whole.
	cut := strings.LastIndex(chosen[:n], AssistantTurn)
	if cut < 0 {
		return Pair{}, fmt.Errorf("%w: chosen and rejected share no %q turn", ErrMalformed, strings.TrimSpace(AssistantTurn))
	}
	cut += len(AssistantTurn)
	p := Pair{
		Prompt:   chosen[:cut],
		Chosen:   strings.TrimLeft(chosen[cut:], " "),
		Rejected: strings.TrimLeft(rejected[cut:], " "),
	}
	return p, nil
}

func parseTLDR(line []byte) (Pair, string, error) {
	var row struct {
		Info *struct {
			Post      string `json:"post"`
			Title     string `json:"title"`
			Subreddit string `json:"subreddit"`
		} `json:"info"`
		Summaries []struct {
			Text *string `json:"text"`
		} `json:"summaries"`
		Choice *int   `json:"choice"`
		Split  string `json:"split"`
	}
	if err := decodeStrict(line, &row); err != nil {
		return Pair{}, "", err
	}
	switch {
	case row.Info == nil:
		return Pair{}, "", missing("info")
	case row.Info.Post == "":
		return Pair{}, "", missing("info.post")
	case len(row.Summaries) != 2:
		return Pair{}, "", fmt.Errorf("%w: want 2 summaries, got %d", ErrMalformed, len(row.Summaries))
	case row.Choice == nil:
		return Pair{}, "", missing("choice")
	case *row.Choice != 0 && *row.Choice != 1:
		return Pair{}, "", fmt.Errorf("%w: choice %d is not 0 or 1", ErrMalformed, *row.Choice)
	}
	for i, s := range row.Summaries {
		if s.Text == nil {
			return Pair{}, "", missing(fmt.Sprintf("summaries[%d].text", i))
		}
	}
	c := *row.Choice
	return Pair{
		Prompt:   TLDRPrompt(row.Info.Subreddit, row.Info.Title, row.Info.Post),
		Chosen:   strings.TrimSpace(*row.Summaries[c].Text),
		Rejected: strings.TrimSpace(*row.Summaries[1-c].Text),
	}, row.Split, nil
}

// TLDRPrompt lays out a Reddit post as the summarisation prompt. The
// subreddit may be written with or without its "r/".
func TLDRPrompt(subreddit, title, post string) string {
	subreddit = strings.TrimPrefix(strings.TrimSpace(subreddit), "r/")
	return "SUBREDDIT: r/" + subreddit + "\nTITLE: " + strings.TrimSpace(title) + "\nPOST: " + strings.TrimSpace(post) + "\nTL;DR:"
}

func parseJSONL(line []byte) (Pair, string, error) {
	var row struct {
		Prompt   *string `json:"prompt"`
		Chosen   *string `json:"chosen"`
		Rejected *string `json:"rejected"`
	}
	if err := decodeStrict(line, &row); err != nil {
		return Pair{}, "", err
	}
	switch {
	case row.Prompt == nil:
		return Pair{}, "", missing("prompt")
	case row.Chosen == nil:
		return Pair{}, "", missing("chosen")
	case row.Rejected == nil:
		return Pair{}, "", missing("rejected")
	}
	return Pair{Prompt: *row.Prompt, Chosen: *row.Chosen, Rejected: *row.Rejected}, "", nil
}
