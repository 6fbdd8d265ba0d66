package pg

import (
	"math"
	"strings"
	"testing"
)

func near(a, b float64) bool { return math.Abs(a-b) < 1e-9 }

func nearAll(t *testing.T, what string, got, want []float64) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: got %d values %v, want %v", what, len(got), got, want)
	}
	for i := range got {
		if math.Abs(got[i]-want[i]) > 1e-9 {
			t.Fatalf("%s: got %v, want %v", what, got, want)
		}
	}
}

func TestGAE(t *testing.T) {
	tests := []struct {
		name                string
		rewards, values     []float64
		gamma, lambda       float64
		wantAdv, wantReturn []float64
	}{
		// δ = [0, 0, 0.5]; A_2 = .5, A_1 = .5·.5, A_0 = .5·.25.
		{"lambda half", []float64{0, 0, 1}, []float64{.5, .5, .5}, 1, .5, []float64{.125, .25, .5}, []float64{.625, .75, 1}},
		// λ = 1: returns are discounted Monte Carlo returns 1 + .9·3 and 3.
		{"monte carlo", []float64{1, 3}, []float64{1, 2}, .9, 1, []float64{2.7, 1}, []float64{3.7, 3}},
		// λ = 0: A_t = δ_t, the one-step TD error.
		{"td0", []float64{1, 3}, []float64{1, 2}, .9, 0, []float64{1.8, 1}, []float64{2.8, 3}},
		{"one token", []float64{2}, []float64{.5}, 1, .95, []float64{1.5}, []float64{2}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			adv, ret := GAE(tt.rewards, tt.values, tt.gamma, tt.lambda)
			nearAll(t, "advantages", adv, tt.wantAdv)
			nearAll(t, "returns", ret, tt.wantReturn)
		})
	}
}

func TestTokenRewardsAndKL(t *testing.T) {
	s := Sequence{LogProbs: []float64{-1, -2}, RefLogProbs: []float64{-1.5, -1}, Reward: 2}
	nearAll(t, "token rewards", TokenRewards(s, .1), []float64{-.05, 2.1})
	if got := KL(s); !near(got, -.5) {
		t.Errorf("KL = %v, want -0.5", got)
	}
	if got := PenalisedReward(s, .1); !near(got, 2.05) {
		t.Errorf("PenalisedReward = %v, want 2.05", got)
	}
}

func TestWhiten(t *testing.T) {
	a := [][]float64{{1, 3}, {5}}
	Whiten(a)
	s := math.Sqrt(8.0 / 3)
	nearAll(t, "first", a[0], []float64{-2 / s, 0})
	nearAll(t, "second", a[1], []float64{2 / s})

	same := [][]float64{{2, 2}, {2}}
	Whiten(same)
	nearAll(t, "constant", append(same[0], same[1]...), []float64{0, 0, 0})
}

func TestGroups(t *testing.T) {
	b := []Sequence{{Group: 7}, {Group: 3}, {Group: 7}, {Group: 3}, {Group: 9}}
	got := Groups(b)
	want := [][]int{{0, 2}, {1, 3}, {4}}
	if len(got) != len(want) {
		t.Fatalf("Groups = %v, want %v", got, want)
	}
	for i := range want {
		if len(got[i]) != len(want[i]) {
			t.Fatalf("Groups = %v, want %v", got, want)
		}
		for j := range want[i] {
			if got[i][j] != want[i][j] {
				t.Fatalf("Groups = %v, want %v", got, want)
			}
		}
	}
}

func TestKLController(t *testing.T) {
	tests := []struct {
		name     string
		c        KLController
		kl       float64
		n        int
		wantBeta float64
	}{
		{"fixed ignores KL", KLController{Beta: .1, Target: 6, Horizon: 100}, 60, 10, .1},
		{"above target, clipped at +0.2", KLController{Beta: .1, Adaptive: true, Target: 6, Horizon: 100}, 9, 10, .1 * 1.02},
		{"below target, clipped at -0.2", KLController{Beta: .1, Adaptive: true, Target: 6, Horizon: 100}, 3, 10, .1 * .98},
		{"proportional inside the clip", KLController{Beta: .1, Adaptive: true, Target: 6, Horizon: 100}, 6.6, 10, .1 * 1.01},
		{"on target", KLController{Beta: .1, Adaptive: true, Target: 6, Horizon: 100}, 6, 10, .1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := tt.c
			c.Update(tt.kl, tt.n)
			if !near(c.Beta, tt.wantBeta) {
				t.Errorf("β = %v, want %v", c.Beta, tt.wantBeta)
			}
		})
	}
}

func TestKLControllerState(t *testing.T) {
	c := KLController{Beta: .1, Adaptive: true, Target: 6, Horizon: 100}
	c.Update(9, 50)
	b, err := c.MarshalState()
	if err != nil {
		t.Fatal(err)
	}
	fresh := KLController{Beta: .1, Adaptive: true, Target: 6, Horizon: 100}
	if err := fresh.UnmarshalState(b); err != nil {
		t.Fatal(err)
	}
	if fresh.Beta != c.Beta {
		t.Fatalf("restored β = %v, want %v", fresh.Beta, c.Beta)
	}
	for _, bad := range []string{`{`, `{"beta": -1}`} {
		if err := fresh.UnmarshalState([]byte(bad)); err == nil {
			t.Errorf("UnmarshalState(%s) = nil error", bad)
		}
	}
}

func TestCheck(t *testing.T) {
	ok := Sequence{LogProbs: []float64{-1}, RefLogProbs: []float64{-1}, Values: []float64{0}}
	tests := []struct {
		name       string
		batch      []Sequence
		needValues bool
		want       string
	}{
		{"ok", []Sequence{ok}, true, ""},
		{"empty", nil, false, "empty batch"},
		{"no tokens", []Sequence{{}}, false, "no response tokens"},
		{"ref length", []Sequence{{LogProbs: []float64{-1, -1}, RefLogProbs: []float64{-1}}}, false, "reference log-probs"},
		{"values missing", []Sequence{{LogProbs: []float64{-1}, RefLogProbs: []float64{-1}}}, true, "values"},
		{"nan reward", []Sequence{{LogProbs: []float64{-1}, RefLogProbs: []float64{-1}, Reward: math.NaN()}}, false, "not finite"},
		{"inf logprob", []Sequence{{LogProbs: []float64{math.Inf(-1)}, RefLogProbs: []float64{-1}}}, false, "not finite"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := Check(tt.batch, tt.needValues)
			if tt.want == "" {
				if err != nil {
					t.Fatalf("Check = %v, want nil", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Check = %v, want an error containing %q", err, tt.want)
			}
		})
	}
}
