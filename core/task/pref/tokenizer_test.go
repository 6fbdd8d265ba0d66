package pref

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func TestEncodeDecodeRoundTrip(t *testing.T) {
	all := make([]byte, 256)
	for i := range all {
		all[i] = byte(i)
	}
	for _, s := range []string{"", "a", "\n\nHuman: hi\n\nAssistant: héllo — ✓ 日本語", string(all), "\xff\xfe invalid utf-8"} {
		ids := Encode(s)
		if len(ids) != len(s) {
			t.Errorf("Encode(%q): %d ids for %d bytes", s, len(ids), len(s))
		}
		for _, id := range ids {
			if id < ByteOffset || id >= VocabSize {
				t.Fatalf("Encode(%q): id %d outside the byte range [%d, %d)", s, id, ByteOffset, VocabSize)
			}
		}
		if got := Decode(ids); got != s {
			t.Errorf("Decode(Encode(%q)) = %q", s, got)
		}
	}
}

func TestDecodeSpecials(t *testing.T) {
	got := Decode(append(append([]int{BOS}, Encode("x")...), SEP, REF, EOS, PAD, VocabSize, -1))
	want := "⟨bos⟩x⟨sep⟩⟨ref⟩⟨eos⟩⟨pad⟩⟨?261⟩⟨?-1⟩"
	if got != want {
		t.Errorf("Decode = %q, want %q", got, want)
	}
}

func TestTruncate(t *testing.T) {
	for _, tc := range []struct {
		name string
		s    string
		max  int
		keep Keep
		want string
		cut  bool
	}{
		{"fits", "hello", 5, KeepStart, "hello", false},
		{"no limit", "hello", -1, KeepEnd, "hello", false},
		{"start", "hello world", 5, KeepStart, "hello", true},
		{"end", "hello world", 5, KeepEnd, "world", true},
		{"zero", "hello", 0, KeepStart, "", true},
		// "é" is two bytes: never split it.
		{"start utf8", "aé", 2, KeepStart, "a", true},
		{"end utf8", "éa", 2, KeepEnd, "a", true},
		{"end dialogue", "\n\nHuman: one\n\nAssistant: two\n\nHuman: three\n\nAssistant:", 25, KeepEnd, "\nHuman: three\n\nAssistant:", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, cut := Truncate(tc.s, tc.max, tc.keep)
			if got != tc.want || cut != tc.cut {
				t.Errorf("Truncate(%q, %d, %v) = %q, %v; want %q, %v", tc.s, tc.max, tc.keep, got, cut, tc.want, tc.cut)
			}
			if tc.max >= 0 && len(got) > tc.max {
				t.Errorf("kept %d bytes, more than %d", len(got), tc.max)
			}
		})
	}
}

// Truncating valid UTF-8 keeps it valid, within the limit and close to it.
func TestTruncateKeepsUTF8(t *testing.T) {
	s := strings.Repeat("aé日✓𝄞", 20)
	for max := 0; max <= len(s); max++ {
		for _, keep := range []Keep{KeepStart, KeepEnd} {
			got, _ := Truncate(s, max, keep)
			if !utf8.ValidString(got) || len(got) > max || len(got) < max-3 {
				t.Fatalf("Truncate(…, %d, %v) = %d bytes, valid %v", max, keep, len(got), utf8.ValidString(got))
			}
			if keep == KeepStart && !strings.HasPrefix(s, got) || keep == KeepEnd && !strings.HasSuffix(s, got) {
				t.Fatalf("Truncate(…, %d, %v) is not a prefix/suffix", max, keep)
			}
		}
	}
}

func TestTokenizeTruncationRate(t *testing.T) {
	pairs := []Pair{
		{Prompt: "short", Chosen: "ok", Rejected: "no"},
		{Prompt: "a much longer prompt", Chosen: "a much longer answer", Rejected: "no"},
		{Prompt: "p", Chosen: "same start, then yes", Rejected: "same start, then no"},
	}
	ex, tr := Tokenize(pairs, 10, 8, KeepEnd)
	if tr.Pairs != 3 || tr.Prompts != 1 || tr.Responses != 3 || tr.Identical != 1 {
		t.Fatalf("truncation %+v, want 1 of 3 prompts and 3 of 6 responses cut, 1 pair identical after the cut", tr)
	}
	if tr.PromptRate() != 1.0/3 || tr.ResponseRate() != 0.5 {
		t.Errorf("rates %v %v, want 1/3 1/2", tr.PromptRate(), tr.ResponseRate())
	}
	if got := Decode(ex[1].Prompt); got != "ger prompt" {
		t.Errorf("prompt kept %q, want its end", got)
	}
	if got := Decode(ex[1].Chosen); got != "a much l" {
		t.Errorf("response kept %q, want its start", got)
	}
	if ex[1].ChosenLen != 20 || ex[1].RejectedLen != 2 || LengthPrefers(ex[1]) != 1 || LengthPrefers(ex[0]) != 0.5 {
		t.Errorf("lengths %d %d, verdicts %v %v", ex[1].ChosenLen, ex[1].RejectedLen, LengthPrefers(ex[1]), LengthPrefers(ex[0]))
	}
}

func TestLayout(t *testing.T) {
	x, r, y := Encode("x"), Encode("r"), Encode("y")
	if got := Decode(Layout(x, y)); got != "⟨bos⟩x⟨sep⟩y⟨eos⟩" {
		t.Errorf("Layout = %q", got)
	}
	if got := Decode(LayoutGap(x, r, y)); got != "⟨bos⟩x⟨sep⟩r⟨ref⟩y⟨eos⟩" {
		t.Errorf("LayoutGap = %q", got)
	}
	s := DefaultSettings()
	px, py := make([]int, s.MaxPromptBytes), make([]int, s.MaxResponseBytes)
	if n := len(LayoutGap(px, py, py)); n != s.GapContext() {
		t.Errorf("longest gap input %d tokens, GapContext %d", n, s.GapContext())
	}
	if n := len(Layout(px, py)); n != s.PolicyContext() {
		t.Errorf("longest policy input %d tokens, PolicyContext %d", n, s.PolicyContext())
	}
}
