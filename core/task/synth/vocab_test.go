package synth

import (
	"slices"
	"strings"
	"testing"
)

func TestVocabulary(t *testing.T) {
	seen := map[string]int{}
	for id := range VocabSize {
		s := TokenString(id)
		if strings.HasPrefix(s, "<?") {
			t.Errorf("id %d inside the vocabulary renders as unknown %q", id, s)
		}
		if prev, dup := seen[s]; dup {
			t.Errorf("ids %d and %d both render as %q", prev, id, s)
		}
		seen[s] = id
	}
	if TokenString(VocabSize) != "<?59>" || TokenString(-1) != "<?-1>" {
		t.Errorf("ids outside the vocabulary: %q, %q", TokenString(VocabSize), TokenString(-1))
	}
	if c, ok := LetterOf(Letter('q')); !ok || c != 'q' {
		t.Errorf("LetterOf(Letter('q')) = %q, %v", c, ok)
	}
	if n, ok := LengthOf(LengthToken(MaxTarget)); !ok || n != MaxTarget {
		t.Errorf("LengthOf(LengthToken(%d)) = %d, %v", MaxTarget, n, ok)
	}
	if _, ok := LengthOf(Letter('z')); ok {
		t.Error("a letter read as a length token")
	}
	if PAD != 0 {
		t.Error("PAD must be 0")
	}
}

func TestEncodeDecode(t *testing.T) {
	tests := []struct {
		text string
		ids  []int
	}{
		{"", nil},
		{"abc", []int{Letter('a'), Letter('b'), Letter('c')}},
		{"<bos> +ab -xz #6 <asc> <resp> abcdef <eos>", append(append(
			[]int{BOS, IncludeMark, Letter('a'), Letter('b'), ExcludeMark, Letter('x'), Letter('z'), LengthToken(6), AscMark, SepResp},
			MustLetters("abcdef")...), EOS)},
		{"<bos> #12 <desc> <ref> cb <resp> <eos> <pad> <pad>", []int{BOS, LengthToken(12), DescMark, SepRef, Letter('c'), Letter('b'), SepResp, EOS, PAD, PAD}},
		{"+ #3", []int{IncludeMark, LengthToken(3)}},
	}
	for _, tc := range tests {
		if got := Decode(tc.ids); got != tc.text {
			t.Errorf("Decode(%v) = %q, want %q", tc.ids, got, tc.text)
		}
		got, err := Encode(tc.text)
		if err != nil || !slices.Equal(got, tc.ids) {
			t.Errorf("Encode(%q) = %v, %v; want %v", tc.text, got, err, tc.ids)
		}
	}
	// Spaces are optional where tokens cannot run together.
	if got, err := Encode("<bos>+ab#6<resp>ab<eos>"); err != nil || Decode(got) != "<bos> +ab #6 <resp> ab <eos>" {
		t.Errorf("compact text: %v, %v", Decode(got), err)
	}
}

func TestEncodeErrors(t *testing.T) {
	for _, text := range []string{"A", "#0", "#25", "#", "<bos", "<nope>", "a?b", "<?7>"} {
		if _, err := Encode(text); err == nil {
			t.Errorf("Encode(%q) succeeded", text)
		}
	}
	if _, err := Letters("abC"); err == nil || !strings.Contains(err.Error(), "byte 2") {
		t.Errorf("Letters(abC): err = %v", err)
	}
}

func TestPromptTokens(t *testing.T) {
	tests := []struct {
		p    Prompt
		text string
	}{
		{Prompt{Include: "ab", Exclude: "xz", Length: 6, Order: Ascending}, "+ab -xz #6 <asc>"},
		{Prompt{Length: 1}, "#1"},
		{Prompt{Exclude: "q", Length: 24, Order: Descending}, "-q #24 <desc>"},
		{Prompt{Include: "m", Length: 3}, "+m #3"},
	}
	for _, tc := range tests {
		if got := tc.p.String(); got != tc.text {
			t.Errorf("%#v.String() = %q, want %q", tc.p, got, tc.text)
		}
		back, err := ParsePrompt(tc.p.Tokens())
		if err != nil || back != tc.p {
			t.Errorf("ParsePrompt(%q) = %#v, %v", tc.text, back, err)
		}
	}
	s := DefaultSettings()
	rng := NewRand(1, 5, 0)
	for range 1000 {
		p := RandomPrompt(rng, s.Prompts)
		if err := p.Validate(); err != nil {
			t.Fatalf("RandomPrompt gave an invalid prompt: %v", err)
		}
		back, err := ParsePrompt(p.Tokens())
		if err != nil || back != p {
			t.Fatalf("round trip of %v: %v, %v", p, back, err)
		}
		if n := len(p.Tokens()); n > s.MaxPrompt() {
			t.Fatalf("prompt %v has %d tokens, MaxPrompt says %d", p, n, s.MaxPrompt())
		}
	}
}

func TestParsePromptErrors(t *testing.T) {
	for _, text := range []string{
		"",               // no length
		"+ab -cd",        // no length
		"+ #3",           // include marker without letters
		"-ab #3 +c",      // include after exclude
		"+ab -bc #3",     // b included and excluded
		"+ba #3",         // unsorted
		"+aa #3",         // repeated
		"#3 <asc> <asc>", // trailing token
		"#3 abc",         // a response where none belongs
		"<bos> <bos> #3", // two BOS
	} {
		ids, err := Encode(text)
		if err != nil {
			t.Fatalf("Encode(%q): %v", text, err)
		}
		if p, err := ParsePrompt(ids); err == nil {
			t.Errorf("ParsePrompt(%q) = %v, want an error", text, p)
		}
	}
}
