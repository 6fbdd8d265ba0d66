package synth

import (
	"slices"
	"testing"
)

// bytesToIDs maps fuzz bytes to token ids, mostly inside the vocabulary.
func bytesToIDs(b []byte) []int {
	ids := make([]int, len(b))
	for i, c := range b {
		ids[i] = int(c) - 2 // -2..253: a few negative, many beyond the vocabulary
		if c < 200 {
			ids[i] = int(c) % VocabSize
		}
	}
	return ids
}

// FuzzDecode: Decode never panics, and Encode reads back what Decode wrote
// for ids inside the vocabulary.
func FuzzDecode(f *testing.F) {
	f.Add([]byte{1, 5, 9, 10, 35, 4, 9, 2})
	f.Add([]byte{})
	f.Add([]byte{250, 0, 6, 6, 40})
	f.Fuzz(func(t *testing.T, b []byte) {
		ids := bytesToIDs(b)
		text := Decode(ids)
		back, err := Encode(text)
		inVocab := !slices.ContainsFunc(ids, func(id int) bool { return id < 0 || id >= VocabSize })
		if inVocab && (err != nil || !slices.Equal(back, ids)) {
			t.Fatalf("Encode(Decode(%v)) = %v, %v (text %q)", ids, back, err, text)
		}
	})
}

// FuzzOracle: the oracle and the prompt parser never panic; scores stay in
// [0, 1]; a parsed prompt lays out to the same tokens.
func FuzzOracle(f *testing.F) {
	tk, err := New(DefaultSettings())
	if err != nil {
		f.Fatal(err)
	}
	f.Add([]byte{5, 9, 10, 6, 30, 40, 7}, []byte{9, 10, 11})
	f.Add([]byte{40}, []byte{})
	f.Add([]byte{1, 58}, []byte{2, 9, 250, 34, 34, 34})
	f.Fuzz(func(t *testing.T, pb, yb []byte) {
		prompt, y := bytesToIDs(pb), bytesToIDs(yb)
		x, err := ParsePrompt(prompt)
		q, oerr := tk.Oracle(prompt, y)
		r, rerr := tk.Rubric(prompt, y)
		if (err == nil) != (oerr == nil) || (err == nil) != (rerr == nil) {
			t.Fatalf("ParsePrompt err %v, Oracle err %v, Rubric err %v", err, oerr, rerr)
		}
		if err != nil {
			return
		}
		want := prompt
		if len(want) > 0 && want[0] == BOS {
			want = want[1:]
		}
		if !slices.Equal(x.Tokens(), want) {
			t.Fatalf("ParsePrompt(%v) = %v laid out as %v", prompt, x, x.Tokens())
		}
		if !(q >= 0 && q <= 1 && r >= 0 && r <= 1) {
			t.Fatalf("q = %v, rubric = %v for %v %v", q, r, x, y)
		}
	})
}
