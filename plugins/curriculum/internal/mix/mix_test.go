package mix

import (
	"math"
	"math/rand/v2"
	"reflect"
	"testing"

	"github.com/pit-lab/pit/plugins/sdk"
)

func TestRound(t *testing.T) {
	tests := []struct {
		expected []float64
		total    int
	}{
		{[]float64{0.3, 1.7, 2, 0}, 4},
		{[]float64{2.5, 2.5, 0, 0}, 5},
		{[]float64{0.25, 0.25, 0.25, 0.25}, 1},
		{[]float64{3, 0, 5, 0}, 8},
		{[]float64{1.0 / 3, 1.0 / 3, 1.0 / 3, 0}, 1},
	}
	for _, tt := range tests {
		r := rand.New(rand.NewPCG(1, 2))
		ups := make([]float64, len(tt.expected))
		const draws = 20000
		for range draws {
			c := Round(tt.expected, tt.total, r)
			sum := 0
			for i, v := range c {
				sum += v
				lo := math.Floor(tt.expected[i] + 1e-9)
				if float64(v) != lo && float64(v) != lo+1 {
					t.Fatalf("Round(%v) = %v: count %d is neither floor nor ceiling", tt.expected, c, i)
				}
				if float64(v) > lo {
					ups[i]++
				}
			}
			if sum != tt.total {
				t.Fatalf("Round(%v) = %v sums to %d, want %d", tt.expected, c, sum, tt.total)
			}
		}
		// Each count is rounded up with probability equal to its fraction.
		for i, e := range tt.expected {
			frac := e - math.Floor(e+1e-9)
			if got := ups[i] / draws; math.Abs(got-frac) > 0.02 {
				t.Errorf("Round(%v): source %d rounded up %.3f of the time, want %.3f", tt.expected, i, got, frac)
			}
		}
	}
}

func plan(t *testing.T, m *Mixer, step, batch int, p float64, round int) *sdk.NextResponse {
	t.Helper()
	resp, err := m.Plan(&sdk.NextRequest{Step: step, TotalSteps: 100, BatchSize: batch}, p, round, "x")
	if err != nil {
		t.Fatal(err)
	}
	sum := 0
	for _, n := range resp.Counts {
		sum += n
	}
	if sum != batch {
		t.Fatalf("counts %v sum to %d, want %d", resp.Counts, sum, batch)
	}
	return resp
}

func TestPlanSplitsAndSelf(t *testing.T) {
	c := DefaultCommon()
	c.ChosenFraction, c.SelfFraction = 0.25, 0.5
	var m Mixer
	m.Reset(c, 1)
	// Step 0 has no earlier outputs: 8 data references, a quarter chosen.
	r := plan(t, &m, 0, 8, 0, 0)
	want := map[sdk.Source]int{sdk.SourceDataRejected: 6, sdk.SourceDataChosen: 2, sdk.SourcePolicy: 0, sdk.SourceSelf: 0}
	if !reflect.DeepEqual(r.Counts, want) {
		t.Errorf("step 0: counts %v, want %v", r.Counts, want)
	}
	// From step 1: half self, the other half policy (p = 1).
	r = plan(t, &m, 1, 8, 1, 1)
	want = map[sdk.Source]int{sdk.SourceDataRejected: 0, sdk.SourceDataChosen: 0, sdk.SourcePolicy: 4, sdk.SourceSelf: 4}
	if !reflect.DeepEqual(r.Counts, want) {
		t.Errorf("step 1: counts %v, want %v", r.Counts, want)
	}
}

func TestRefreshOnRoundChange(t *testing.T) {
	tests := []struct {
		name    string
		refresh bool
		rounds  []int
		want    []bool
	}{
		{"off", false, []int{0, 0, 1, 1}, []bool{false, false, false, false}},
		{"on", true, []int{0, 0, 1, 1, 2}, []bool{false, false, true, false, true}},
		{"first step never refreshes", true, []int{1, 1}, []bool{false, false}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := DefaultCommon()
			c.RefreshAtRoundChange = tt.refresh
			var m Mixer
			m.Reset(c, 1)
			for i, round := range tt.rounds {
				if got := plan(t, &m, i, 4, 0, round).RefreshReward; got != tt.want[i] {
					t.Errorf("step %d (round %d): refresh %v, want %v", i, round, got, tt.want[i])
				}
			}
		})
	}
}

func sequence(t *testing.T, m *Mixer, from, n int) []map[sdk.Source]int {
	var out []map[sdk.Source]int
	for s := from; s < from+n; s++ {
		out = append(out, plan(t, m, s, 7, 0.3, 0).Counts)
	}
	return out
}

func TestDeterminismAndState(t *testing.T) {
	c := DefaultCommon()
	c.SelfFraction = 0.1
	var a, b, other Mixer
	a.Reset(c, 42)
	b.Reset(c, 42)
	other.Reset(c, 43)
	sa, sb, so := sequence(t, &a, 0, 30), sequence(t, &b, 0, 30), sequence(t, &other, 0, 30)
	if !reflect.DeepEqual(sa, sb) {
		t.Fatal("same seed gave different counts")
	}
	if reflect.DeepEqual(sa, so) {
		t.Fatal("seeds 42 and 43 gave the same 30 steps of counts")
	}

	saved, err := a.Save(map[string]int{"k": 3})
	if err != nil {
		t.Fatal(err)
	}
	want := sequence(t, &a, 30, 20)
	var c2 Mixer
	c2.Reset(c, 7) // a different seed: Restore must replace it
	var extra map[string]int
	if err := c2.Restore(saved, &extra); err != nil {
		t.Fatal(err)
	}
	if extra["k"] != 3 {
		t.Errorf("extra state = %v", extra)
	}
	if got := sequence(t, &c2, 30, 20); !reflect.DeepEqual(got, want) {
		t.Fatalf("restored mixer diverged:\n got %v\nwant %v", got, want)
	}
	for _, bad := range []string{"", "{", `{"rng": "AAAA"}`} {
		if err := c2.Restore([]byte(bad), nil); err == nil {
			t.Errorf("Restore(%q) = nil error", bad)
		}
	}
}

func TestPlanErrors(t *testing.T) {
	var m Mixer
	if _, err := m.Plan(&sdk.NextRequest{BatchSize: 1}, 0, 0, ""); err == nil {
		t.Error("Plan before Reset = nil error")
	}
	m.Reset(DefaultCommon(), 1)
	for _, req := range []*sdk.NextRequest{nil, {BatchSize: 0}, {Step: -1, BatchSize: 2}} {
		if _, err := m.Plan(req, 0, 0, ""); err == nil {
			t.Errorf("Plan(%+v) = nil error", req)
		}
	}
	if _, err := m.Plan(&sdk.NextRequest{BatchSize: 2}, 1.5, 0, ""); err == nil {
		t.Error("Plan with p = 1.5 = nil error")
	}
	for _, c := range []Common{{ChosenFraction: 2, RefreshPairs: 1}, {SelfFraction: -1, RefreshPairs: 1}, {ChosenFraction: math.NaN(), RefreshPairs: 1}, {RefreshPairs: 0}} {
		if c.Validate() == nil {
			t.Errorf("Validate(%+v) = nil", c)
		}
	}
}
