package rl

import (
	"strings"
	"testing"
)

func TestHackAlarm(t *testing.T) {
	noise := []float64{0.01, -0.02, 0.015, -0.005, 0.02, -0.01, 0.005, -0.015}
	tests := []struct {
		name           string
		reward, oracle func(i int) float64
		want           bool
	}{
		{"reward up, oracle down", func(i int) float64 { return 0.1*float64(i) + noise[i%8] }, func(i int) float64 { return 0.8 - 0.01*float64(i) + noise[(i+3)%8]/4 }, true},
		{"both up", func(i int) float64 { return 0.1 * float64(i) }, func(i int) float64 { return 0.5 + 0.01*float64(i) }, false},
		{"reward up, oracle noisy flat", func(i int) float64 { return 0.1 * float64(i) }, func(i int) float64 { return 0.7 + 3*noise[i%8] }, false},
		{"reward flat, oracle down", func(i int) float64 { return 1 + noise[i%8] }, func(i int) float64 { return 0.8 - 0.02*float64(i) }, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := HackAlarm{Window: 5, Tolerance: 0.01}
			fired := 0
			for i := 0; i < 30; i++ {
				if msg, ok := h.Observe(i+1, tt.reward(i), tt.oracle(i), 0.5); ok {
					fired++
					if !strings.Contains(msg, "rose") {
						t.Errorf("message %q", msg)
					}
				}
			}
			if (fired > 0) != tt.want {
				t.Errorf("alarm fired %d times, want fired=%v", fired, tt.want)
			}
			if fired > 30/5 {
				t.Errorf("alarm fired %d times in 30 steps with window 5: more than once per window", fired)
			}
		})
	}
}

// TestHackAlarmCorrelation: the alarm fires once when the reward's batch
// correlation with the oracle falls below hack_corr after starting above
// it, and never when it starts below (nothing was tracked to lose).
func TestHackAlarmCorrelation(t *testing.T) {
	for _, tc := range []struct {
		name  string
		corrs func(i int) float64
		want  int
	}{
		{"falls", func(i int) float64 { return 0.5 - 0.05*float64(i) }, 1},
		{"stays", func(i int) float64 { return 0.4 + 0.01*float64(i%3) }, 0},
		{"never tracked", func(i int) float64 { return 0.02 }, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := HackAlarm{Window: 4, CorrTol: 0.1}
			fired := 0
			for i := range 30 {
				// reward and oracle both flat: only the correlation can fire
				if msg, ok := h.Observe(i+1, 1, 0.5, tc.corrs(i)); ok {
					fired++
					if !strings.Contains(msg, "no longer tracks") {
						t.Errorf("message %q", msg)
					}
				}
			}
			if fired != tc.want {
				t.Errorf("fired %d times, want %d", fired, tc.want)
			}
		})
	}
}

func TestHackAlarmReset(t *testing.T) {
	h := HackAlarm{Window: 3}
	for i := 0; i < 5; i++ {
		h.Observe(i+1, float64(i), 1-0.1*float64(i)+0.001*float64(i%2), 0)
	}
	h.Reset()
	for i := 0; i < 5; i++ {
		if _, ok := h.Observe(10+i, 10+float64(i), 0.5-0.1*float64(i)+0.001*float64(i%2), 0); ok {
			t.Fatalf("alarm %d observations after a reset, window 3", i+1)
		}
	}
	if _, ok := h.Observe(20, 16, -0.2, 0); !ok {
		t.Error("no alarm after two full windows of rising reward and falling oracle")
	}
}
