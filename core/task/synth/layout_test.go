package synth

import (
	"slices"
	"testing"
)

func TestLayout(t *testing.T) {
	x := Prompt{Include: "a", Length: 3}.Tokens()
	ref, resp := MustLetters("abc"), MustLetters("bad")
	tests := []struct {
		name     string
		ex       Example
		text     string
		wantMask string // 1 where the loss counts
	}{
		{"policy", PolicyExample(x, resp), "<bos> +a #3 <resp> bad <eos>", "000001111"},
		{"improver", ImproverExample(x, ref, resp), "<bos> +a #3 <ref> abc <resp> bad <eos>", "0000000001111"},
		{"empty response", PolicyExample(x, nil), "<bos> +a #3 <resp> <eos>", "000001"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := Decode(tc.ex.Tokens); got != tc.text {
				t.Errorf("tokens %q, want %q", got, tc.text)
			}
			mask := make([]byte, len(tc.ex.Mask))
			for i, m := range tc.ex.Mask {
				mask[i] = '0'
				if m {
					mask[i] = '1'
				}
			}
			if string(mask) != tc.wantMask {
				t.Errorf("mask %s, want %s", mask, tc.wantMask)
			}
			p, r, y, err := SplitInput(tc.ex.Tokens)
			if err != nil || !slices.Equal(p, x) || !slices.Equal(y, tc.ex.Tokens[slices.Index(tc.ex.Tokens, SepResp)+1:len(tc.ex.Tokens)-1]) {
				t.Errorf("SplitInput = %v %v %v %v", p, r, y, err)
			}
			if tc.name == "improver" && !slices.Equal(r, ref) {
				t.Errorf("SplitInput reference = %v, want %v", r, ref)
			}
		})
	}
	if !slices.Equal(PolicyPrefix(x), PolicyExample(x, resp).Tokens[:5]) {
		t.Error("PolicyPrefix is not the start of PolicyExample")
	}
	if _, _, _, err := SplitInput(x); err == nil {
		t.Error("SplitInput without BOS succeeded")
	}
	if _, _, _, err := SplitInput([]int{BOS, LengthToken(2)}); err == nil {
		t.Error("SplitInput without SEP_RESP succeeded")
	}
}

func TestCutResponse(t *testing.T) {
	y, done := CutResponse([]int{Letter('a'), Letter('b'), EOS, Letter('c')})
	if !done || Text(y) != "ab" {
		t.Errorf("CutResponse = %q, %v", Text(y), done)
	}
	y, done = CutResponse(MustLetters("abc"))
	if done || Text(y) != "abc" {
		t.Errorf("unfinished CutResponse = %q, %v", Text(y), done)
	}
	if got := PadTo([]int{BOS}, 3); !slices.Equal(got, []int{BOS, PAD, PAD}) {
		t.Errorf("PadTo = %v", got)
	}
}

// TestContextBudget: with default settings the longest improver input fits
// in 48 tokens, and the dataset's actual inputs stay within the stated
// bounds.
func TestContextBudget(t *testing.T) {
	s := DefaultSettings()
	if n := s.ImproverContext(); n > 48 || n > s.MaxContext {
		t.Fatalf("ImproverContext = %d, want <= 48", n)
	}
	s.Splits = SplitSettings{SFT: 300, RM: 100}
	for _, mode := range []PairMode{Independent, Edit} {
		s.PairMode = mode
		d := mustBuild(t, s, 4)
		for _, p := range append(d.SFT, d.RM...) {
			if n := len(ImproverExample(p.Prompt.Tokens(), p.Rejected, p.Chosen).Tokens); n > s.ImproverContext() {
				t.Fatalf("%s: improver input of %d tokens > %d: %v", mode, n, s.ImproverContext(), p)
			}
			if n := len(PolicyExample(p.Prompt.Tokens(), p.Chosen).Tokens); n > s.PolicyContext() {
				t.Fatalf("%s: policy input of %d tokens > %d", mode, n, s.PolicyContext())
			}
		}
	}
}
