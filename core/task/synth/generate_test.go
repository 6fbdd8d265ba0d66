package synth

import (
	"math"
	"slices"
	"testing"
)

// TestPreferRate: the coin's rate matches σ((qa − qb)/τ).
func TestPreferRate(t *testing.T) {
	const n = 20000
	tests := []struct{ qa, qb, tau float64 }{
		{0.8, 0.6, 0.1},
		{0.6, 0.8, 0.1},
		{0.7, 0.65, 0.05},
		{0.5, 0.5, 0.2},
		{0.9, 0.1, 1},
		{0.3, 0.35, 0.02},
	}
	for i, tc := range tests {
		rng := NewRand(int64(i), 1, 0)
		wins := 0
		for range n {
			if PreferQ(rng, tc.qa, tc.qb, tc.tau) {
				wins++
			}
		}
		p := Sigmoid((tc.qa - tc.qb) / tc.tau)
		got := float64(wins) / n
		if tol := 4 * math.Sqrt(p*(1-p)/n); math.Abs(got-p) > tol {
			t.Errorf("qa=%v qb=%v tau=%v: a won %.4f, want %.4f ± %.4f", tc.qa, tc.qb, tc.tau, got, p, tol)
		}
	}
}

// TestPreferNoiseless: τ = 0 always picks the better response, ties are an
// even coin.
func TestPreferNoiseless(t *testing.T) {
	rng := NewRand(1, 2, 0)
	ties := 0
	for i := range 4000 {
		qa, qb := rng.Float64(), rng.Float64()
		if i%4 == 0 {
			qb = qa
		}
		got := PreferQ(rng, qa, qb, 0)
		switch {
		case qa == qb:
			if got {
				ties++
			}
		case got != (qa > qb):
			t.Fatalf("tau 0: qa=%v qb=%v gave a wins=%v", qa, qb, got)
		}
	}
	if ties < 400 || ties > 600 {
		t.Errorf("ties: a won %d of 1000, want about 500", ties)
	}

	// A noiseless dataset agrees with the oracle on every pair it can.
	s := smallSettings()
	s.Tau = 0
	st := ComputePairStats(mustBuild(t, s, 5).RM)
	if st.Agreement < 0.995 {
		t.Errorf("tau 0: agreement %.3f, want ~1", st.Agreement)
	}
}

// TestPreferDrawsOnce: the coin draws one number whatever τ, so changing τ
// does not shift the rest of a seed's stream.
func TestPreferDrawsOnce(t *testing.T) {
	a, b := NewRand(9, 9, 9), NewRand(9, 9, 9)
	PreferQ(a, 0.2, 0.9, 0)
	PreferQ(b, 0.5, 0.5, 0.3)
	if a.Uint64() != b.Uint64() {
		t.Error("streams diverged")
	}
}

// TestGenerators: the strong generator beats the weak one on average and in
// most labelled pairs, in both pair modes; label noise follows τ.
func TestGenerators(t *testing.T) {
	for _, mode := range []PairMode{Independent, Edit} {
		s := smallSettings()
		s.PairMode = mode
		d := mustBuild(t, s, 11)
		st := ComputePairStats(d.SFT)
		t.Logf("%s: %v", mode, st)
		if st.FirstChosen < 0.7 {
			t.Errorf("%s: strong generator won %.3f of pairs, want > 0.7", mode, st.FirstChosen)
		}
		if st.MeanChosen < st.MeanRejected+0.1 {
			t.Errorf("%s: chosen %.3f not clearly above rejected %.3f", mode, st.MeanChosen, st.MeanRejected)
		}
		if st.Agreement < 0.75 || st.Agreement > 0.99 {
			t.Errorf("%s: agreement %.3f; with tau %.2f want noisy but mostly right", mode, st.Agreement, s.Tau)
		}
	}
	s := smallSettings()
	tk := mustTask(t, s)
	d := mustBuild(t, s, 12)
	strong, err := tk.GeneratorScores(t.Context(), s.Strong, d.Eval, 12, 1000)
	if err != nil {
		t.Fatal(err)
	}
	weak, _ := tk.GeneratorScores(t.Context(), s.Weak, d.Eval, 12, 1000)
	t.Logf("strong %+v weak %+v", strong, weak)
	if strong.Oracle < weak.Oracle+0.1 || strong.Hidden < weak.Hidden || strong.Rubric < weak.Rubric {
		t.Errorf("strong %+v not above weak %+v", strong, weak)
	}
}

// TestEditPairsShareStructure: chosen and rejected are closer in edit mode
// than in independent mode.
func TestEditPairsShareStructure(t *testing.T) {
	s := smallSettings()
	ind := ComputePairStats(mustBuild(t, s, 13).SFT)
	s.PairMode = Edit
	d := mustBuild(t, s, 13)
	edit := ComputePairStats(d.SFT)
	t.Logf("edit distance: independent %.2f, edit %.2f", ind.MeanEditDistance, edit.MeanEditDistance)
	if edit.MeanEditDistance > 0.75*ind.MeanEditDistance {
		t.Errorf("edit pairs (%.2f) not much closer than independent ones (%.2f)", edit.MeanEditDistance, ind.MeanEditDistance)
	}
	var toDraft float64
	for _, p := range d.SFT {
		if len(p.Draft) == 0 {
			t.Fatal("edit pair without a draft")
		}
		toDraft += float64(EditDistance(p.Draft, p.Chosen))
	}
	if toDraft /= float64(len(d.SFT)); toDraft >= ind.MeanEditDistance {
		t.Errorf("chosen is %.2f edits from its draft, no closer than an independent answer (%.2f)", toDraft, ind.MeanEditDistance)
	}
}

// TestRepair: without noise a repair never lowers the oracle and leaves its
// draft alone.
func TestRepair(t *testing.T) {
	s := DefaultSettings()
	tk := mustTask(t, s)
	rng := NewRand(1, 3, 0)
	better := 0
	for range 300 {
		x := RandomPrompt(rng, s.Prompts)
		draft := tk.Generate(rng, s.Draft, x)
		keep := slices.Clone(draft)
		y := tk.Repair(rng, GeneratorSettings{Steps: 30}, x, draft)
		if !slices.Equal(draft, keep) {
			t.Fatal("Repair changed its draft")
		}
		q0, q1 := tk.Quality(x, draft), tk.Quality(x, y)
		if q1 < q0 {
			t.Fatalf("repair lowered q %.3f -> %.3f", q0, q1)
		}
		if q1 > q0 {
			better++
		}
	}
	if better < 250 {
		t.Errorf("only %d of 300 repairs improved their draft", better)
	}
}

// TestLabel: labelling policy samples uses the same coin and records the
// oracle.
func TestLabel(t *testing.T) {
	s := DefaultSettings()
	s.Tau = 0
	tk := mustTask(t, s)
	x := Prompt{Include: "e", Length: 3}
	good, bad := MustLetters("dea"), MustLetters("zzz")
	for _, order := range [][2][]int{{good, bad}, {bad, good}} {
		p := tk.Label(NewRand(1, 1, 1), x, order[0], order[1])
		if !slices.Equal(p.Chosen, good) || p.QChosen != tk.Quality(x, good) || p.QRejected != tk.Quality(x, bad) {
			t.Errorf("Label chose %q over %q", Text(p.Chosen), Text(p.Rejected))
		}
		if p.FirstChosen != slices.Equal(order[0], good) {
			t.Errorf("FirstChosen = %v", p.FirstChosen)
		}
		win, err := tk.Prefer(NewRand(1, 1, 1), x.Tokens(), order[0], order[1])
		if err != nil || win != p.FirstChosen {
			t.Errorf("Prefer = %v, %v; Label says %v", win, err, p.FirstChosen)
		}
	}
}

func TestEditDistance(t *testing.T) {
	tests := []struct {
		a, b string
		want int
	}{
		{"", "", 0}, {"abc", "", 3}, {"", "ab", 2}, {"kitten", "sitting", 3}, {"abcd", "abdc", 2}, {"same", "same", 0},
	}
	for _, tc := range tests {
		if got := EditDistance(MustLetters(tc.a), MustLetters(tc.b)); got != tc.want {
			t.Errorf("EditDistance(%q, %q) = %d, want %d", tc.a, tc.b, got, tc.want)
		}
	}
}
