package synth

import (
	"math"
	"strings"
	"testing"
)

func mustTask(t testing.TB, s Settings) *Task {
	t.Helper()
	tk, err := New(s)
	if err != nil {
		t.Fatal(err)
	}
	return tk
}

func near(a, b float64) bool { return math.Abs(a-b) < 1e-9 }

// TestCriteria checks each criterion on hand-written cases.
func TestCriteria(t *testing.T) {
	tk := mustTask(t, DefaultSettings())
	tests := []struct {
		name   string
		prompt Prompt
		y      string
		crit   CriterionID
		want   float64
	}{
		{"include all", Prompt{Include: "abc", Length: 3}, "cab", CritInclude, 1},
		{"include one of three", Prompt{Include: "abc", Length: 3}, "axx", CritInclude, 1.0 / 3},
		{"include none", Prompt{Include: "ab", Length: 3}, "xyz", CritInclude, 0},
		{"include counts a letter once", Prompt{Include: "ab", Length: 3}, "aaa", CritInclude, 0.5},
		{"exclude clean", Prompt{Exclude: "xz", Length: 4}, "abcd", CritExclude, 1},
		{"exclude one position of four", Prompt{Exclude: "xz", Length: 4}, "abxd", CritExclude, 0.75},
		{"exclude every position", Prompt{Exclude: "x", Length: 2}, "xx", CritExclude, 0},
		{"length exact", Prompt{Length: 5}, "abcde", CritLength, 1},
		{"length one short", Prompt{Length: 5}, "abcd", CritLength, 0.8},
		{"length two long", Prompt{Length: 5}, "abcdefg", CritLength, 0.6},
		{"length far too long", Prompt{Length: 2}, "abcdefg", CritLength, 0},
		{"ascending", Prompt{Length: 4, Order: Ascending}, "aceg", CritOrder, 1},
		{"ascending ties allowed", Prompt{Length: 4, Order: Ascending}, "aacd", CritOrder, 1},
		{"ascending one break of three", Prompt{Length: 4, Order: Ascending}, "acbd", CritOrder, 2.0 / 3},
		{"descending", Prompt{Length: 4, Order: Descending}, "gec", CritOrder, 1},
		{"descending but ascending", Prompt{Length: 4, Order: Descending}, "abcd", CritOrder, 0},
		{"order of one letter", Prompt{Length: 1, Order: Descending}, "a", CritOrder, 1},
		{"no repeats", Prompt{Length: 4}, "abab", CritNoRepeat, 1},
		{"one repeat of three", Prompt{Length: 4}, "aabc", CritNoRepeat, 2.0 / 3},
		{"all repeats", Prompt{Length: 3}, "ccc", CritNoRepeat, 0},
		{"close within gap", Prompt{Length: 3}, "aei", CritClose, 1}, // gaps 4, 4 with close_gap 4
		{"close gap 6 half", Prompt{Length: 2}, "ag", CritClose, 0.5},
		{"close gap 8 zero", Prompt{Length: 2}, "ai", CritClose, 0},
		{"close far apart", Prompt{Length: 2}, "az", CritClose, 0},
		{"close mixed", Prompt{Length: 3}, "abz", CritClose, 0.5},
		{"vowel end", Prompt{Length: 3}, "bcu", CritVowelEnd, 1},
		{"consonant end", Prompt{Length: 3}, "abc", CritVowelEnd, 0},
		{"y is no vowel", Prompt{Length: 3}, "aby", CritVowelEnd, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			sc := tk.Score(tc.prompt, MustLetters(tc.y))
			if !sc.Applies[tc.crit] {
				t.Fatalf("%s does not apply to %v", tc.crit, tc.prompt)
			}
			if got := sc.Criteria[tc.crit]; !near(got, tc.want) {
				t.Errorf("%s(%v, %q) = %v, want %v (%v)", tc.crit, tc.prompt, tc.y, got, tc.want, sc)
			}
		})
	}
}

// TestApplicability: include, exclude and order count only when stated.
func TestApplicability(t *testing.T) {
	tk := mustTask(t, DefaultSettings())
	sc := tk.Score(Prompt{Length: 3}, MustLetters("abc"))
	for id, want := range map[CriterionID]bool{
		CritInclude: false, CritExclude: false, CritOrder: false,
		CritLength: true, CritNoRepeat: true, CritClose: true, CritVowelEnd: true,
	} {
		if sc.Applies[id] != want {
			t.Errorf("Applies[%s] = %v, want %v", id, sc.Applies[id], want)
		}
	}
}

// TestOracleCombination checks the formula: weighted group means and shares.
func TestOracleCombination(t *testing.T) {
	tk := mustTask(t, DefaultSettings())
	// +ab #4: include 0.5 (only a), length 1 -> stated 0.75.
	// "axcx": no repeats 1, close: gaps 23, 21, 21 -> 0, vowel end 0 -> hidden 1/3.
	sc := tk.Score(Prompt{Include: "ab", Length: 4}, MustLetters("axcx"))
	wantStated, wantHidden := 0.75, 1.0/3
	if !near(sc.Stated, wantStated) || !near(sc.Hidden, wantHidden) {
		t.Fatalf("stated, hidden = %v, %v; want %v, %v (%v)", sc.Stated, sc.Hidden, wantStated, wantHidden, sc)
	}
	if want := 0.5*wantStated + 0.5*wantHidden; !near(sc.Oracle, want) {
		t.Errorf("oracle = %v, want %v", sc.Oracle, want)
	}
	if !near(sc.Rubric, wantStated) {
		t.Errorf("rubric = %v, want stated %v", sc.Rubric, wantStated)
	}

	// Weights within a group: include weight 3 -> stated = (3·0.5 + 1)/4.
	s := DefaultSettings()
	s.Oracle.Include.Weight = 3
	s.Oracle.StatedShare, s.Oracle.HiddenShare = 3, 1
	sc = mustTask(t, s).Score(Prompt{Include: "ab", Length: 4}, MustLetters("axcx"))
	if want := (3*0.5 + 1) / 4; !near(sc.Stated, want) {
		t.Errorf("weighted stated = %v, want %v", sc.Stated, want)
	}
	if want := (3*sc.Stated + 1*sc.Hidden) / 4; !near(sc.Oracle, want) {
		t.Errorf("shares 3:1 oracle = %v, want %v", sc.Oracle, want)
	}
}

// TestRubricIgnoresHidden: responses differing only in hidden preferences
// get the same rubric and different oracle scores.
func TestRubricIgnoresHidden(t *testing.T) {
	tk := mustTask(t, DefaultSettings())
	x := Prompt{Include: "c", Exclude: "z", Length: 4, Order: Ascending}
	good := tk.Score(x, MustLetters("bcde")) // close steps, ends on a vowel
	bad := tk.Score(x, MustLetters("ccmw"))  // a repeat, far steps, consonant end
	if good.Rubric != 1 || bad.Rubric != 1 {
		t.Fatalf("both meet every stated constraint; rubric = %v, %v", good.Rubric, bad.Rubric)
	}
	if !(good.Oracle > bad.Oracle+0.3) {
		t.Errorf("oracle should punish the hidden violations: %v vs %v", good, bad)
	}

	// Hidden share 0: the oracle is the rubric.
	s := DefaultSettings()
	s.Oracle.HiddenShare = 0
	tk0 := mustTask(t, s)
	for _, y := range []string{"bcde", "ccmw", "zzz"} {
		sc := tk0.Score(x, MustLetters(y))
		if !near(sc.Oracle, sc.Rubric) {
			t.Errorf("hidden share 0: oracle %v != rubric %v for %q", sc.Oracle, sc.Rubric, y)
		}
	}

	// A preference marked stated enters the rubric; a constraint marked
	// hidden leaves it.
	s = DefaultSettings()
	s.Oracle.VowelEnd.Hidden = false
	s.Oracle.Order.Hidden = true
	tk1 := mustTask(t, s)
	a, b := tk1.Score(x, MustLetters("bcde")), tk1.Score(x, MustLetters("bcdf"))
	if !(a.Rubric > b.Rubric) {
		t.Errorf("vowel_end stated: rubric should prefer the vowel end: %v vs %v", a.Rubric, b.Rubric)
	}
	c := tk1.Score(x, MustLetters("edca"))
	if c.Rubric != 1 || !(c.Oracle < 1) {
		t.Errorf("order hidden: descending answer should keep rubric 1 and lose oracle: %v", c)
	}
}

func TestValidity(t *testing.T) {
	tk := mustTask(t, DefaultSettings())
	x := Prompt{Length: 2}
	if sc := tk.Score(x, nil); sc.Oracle != 0 || sc.Rubric != 0 {
		t.Errorf("empty response scored %v", sc)
	}
	if sc := tk.Score(x, []int{EOS, PAD}); sc.Oracle != 0 {
		t.Errorf("no letters scored %v", sc)
	}
	clean := tk.Score(x, MustLetters("de"))
	dirty := tk.Score(x, []int{Letter('d'), BOS, Letter('e'), SepRef})
	if dirty.Validity != 0.5 || !near(dirty.Oracle, clean.Oracle/2) || !near(dirty.Rubric, clean.Rubric/2) {
		t.Errorf("half-letter response: %v, clean %v", dirty, clean)
	}
}

func TestOracleRange(t *testing.T) {
	tk := mustTask(t, DefaultSettings())
	s := DefaultSettings()
	rng := NewRand(3, 77, 0)
	for i := range 2000 {
		x := RandomPrompt(rng, s.Prompts)
		y := tk.Generate(rng, GeneratorSettings{Steps: i % 40, Noise: 0.2}, x)
		sc := tk.Score(x, y)
		for _, v := range []float64{sc.Oracle, sc.Rubric, sc.Stated, sc.Hidden} {
			if !(v >= 0 && v <= 1) {
				t.Fatalf("score out of [0,1]: %v for %v %q", sc, x, Text(y))
			}
		}
	}
}

// TestTokenLevel: the task.Task methods agree with Score and reject bad
// prompts.
func TestTokenLevel(t *testing.T) {
	tk := mustTask(t, DefaultSettings())
	x := Prompt{Include: "ae", Exclude: "q", Length: 5, Order: Descending}
	y := MustLetters("ecbaa")
	q, err := tk.Oracle(x.Tokens(), y)
	if err != nil || q != tk.Quality(x, y) {
		t.Errorf("Oracle = %v, %v; want %v", q, err, tk.Quality(x, y))
	}
	r, err := tk.Rubric(append([]int{BOS}, x.Tokens()...), y)
	if err != nil || r != tk.Score(x, y).Rubric {
		t.Errorf("Rubric = %v, %v", r, err)
	}
	if _, err := tk.Oracle(MustLetters("abc"), y); err == nil || !strings.Contains(err.Error(), "parse prompt") {
		t.Errorf("Oracle on a bad prompt: err = %v", err)
	}
	if tk.VocabSize() != VocabSize || tk.Decode(y) != "ecbaa" {
		t.Errorf("VocabSize/Decode wrong")
	}
}

// TestScoreInvalidPrompt: a malformed prompt still gives scores in [0, 1].
func TestScoreInvalidPrompt(t *testing.T) {
	tk := mustTask(t, DefaultSettings())
	for _, x := range []Prompt{{}, {Length: -3}, {Include: "A?", Exclude: "#", Length: 2}, {Order: 9, Length: 2}} {
		sc := tk.Score(x, MustLetters("abcab"))
		for _, v := range []float64{sc.Oracle, sc.Rubric, sc.Stated, sc.Hidden} {
			if !(v >= 0 && v <= 1) {
				t.Errorf("Score(%#v) = %v", x, sc)
			}
		}
	}
}
