package runner

import (
	"bytes"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/pit-lab/pit/core/results"
)

// fakeClock advances by a fixed step on every reading.
type fakeClock struct {
	t    time.Time
	step time.Duration
}

func (c *fakeClock) now() time.Time { c.t = c.t.Add(c.step); return c.t }

func TestProgressPlain(t *testing.T) {
	var buf bytes.Buffer
	p := NewProgress(&buf, false)
	clk := &fakeClock{t: time.Date(2026, 11, 28, 4, 0, 0, 0, time.UTC), step: time.Second}
	p.now = clk.now
	p.SetLogEvery(5 * time.Second)
	s := StageInfo{Run: "lr=0.3/seed=1", Runs: 2, Stage: "train", Key: "0123456789abcdef"}
	p.Start(2, map[string]int{"gen": 1, "train": 1, "eval": 1}, 1)
	p.StageCached(StageInfo{Run: "lr=0.3/seed=1", Runs: 2, Stage: "gen", Key: "fedcba9876543210"})
	p.StageStarted(s)
	for step := 1; step <= 10; step++ {
		p.StageProgress(s, step, 10)
	}
	p.StageFinished(s, results.StatusDone, nil, 12*time.Second)
	p.StageFinished(StageInfo{Run: "lr=0.3/seed=2", Runs: 1, Stage: "eval", Key: "aa"}, results.StatusFailed, errors.New("boom"), time.Second)
	p.RunFinished("lr=0.3/seed=1", results.StatusDone, "")
	p.RunFinished("lr=0.3/seed=2", results.StatusFailed, "stage eval: boom")
	p.Close()
	golden(t, "progress-plain.golden", buf.Bytes())
}

func TestProgressLive(t *testing.T) {
	var buf bytes.Buffer
	p := NewProgress(&buf, true)
	clk := &fakeClock{t: time.Date(2026, 11, 28, 4, 0, 0, 0, time.UTC), step: time.Second}
	p.now = clk.now
	s := StageInfo{Run: "r1", Runs: 1, Stage: "train", Key: "k"}
	p.Start(1, map[string]int{"gen": 1, "train": 1}, 1)
	p.StageStarted(StageInfo{Run: "r1", Runs: 1, Stage: "gen", Key: "g"})
	p.StageFinished(StageInfo{Run: "r1", Runs: 1, Stage: "gen", Key: "g"}, results.StatusDone, nil, 10*time.Second)
	p.StageStarted(s)
	for step := 1; step <= 4; step++ {
		p.StageProgress(s, step, 100)
	}
	p.mu.Lock()
	p.redraw()
	p.mu.Unlock()
	p.Close()
	out := buf.String()
	// A narrow terminal gets cut lines.
	var narrow bytes.Buffer
	q := NewProgress(&narrow, true)
	q.SetWidth(20)
	q.now = clk.now
	q.Start(1, map[string]int{"train": 1}, 1)
	q.StageStarted(s)
	q.mu.Lock()
	q.redraw()
	q.mu.Unlock()
	q.Close()
	for _, l := range strings.Split(narrow.String(), "\n") {
		if i := strings.LastIndex(l, "\x1b[J"); i >= 0 {
			l = l[i+len("\x1b[J"):]
		}
		if n := len([]rune(l)); n > 19 {
			t.Errorf("line of %d runes on a 20-column terminal: %q", n, l)
		}
	}
	// The block is redrawn in place: cursor up and clear before each redraw.
	if !strings.Contains(out, "\x1b[2F\x1b[J") {
		t.Errorf("no in-place redraw in %q", out)
	}
	last := out[strings.LastIndex(out, "\x1b[J")+len("\x1b[J"):]
	for _, want := range []string{"runs 0/1 done", "stages 1/2 (0 cached)", "ETA ~", "train [r1]", "step 4/100", "1.0 step/s", "ETA 1m36s"} {
		if !strings.Contains(last, want) {
			t.Errorf("last frame lacks %q:\n%s", want, last)
		}
	}
}

func TestProgressWriter(t *testing.T) {
	var buf bytes.Buffer
	p := NewProgress(&buf, false)
	p.now = (&fakeClock{t: time.Date(2026, 11, 28, 4, 0, 0, 0, time.UTC), step: time.Second}).now
	w := p.Writer()
	w.Write([]byte("plugin says "))
	w.Write([]byte("hello\nand bye\n"))
	if got, want := buf.String(), "04:00:01 plugin says hello\n04:00:02 and bye\n"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}

// The ETA weighs each stage not started by the mean time of its own stage.
func TestProgressETAPerStage(t *testing.T) {
	p := NewProgress(&bytes.Buffer{}, false)
	t0 := time.Date(2026, 11, 28, 4, 0, 0, 0, time.UTC)
	p.now = func() time.Time { return t0 }
	p.Start(2, map[string]int{"data": 2, "train": 2}, 1)
	for _, st := range []struct {
		stage string
		took  time.Duration
	}{{"data", time.Second}, {"train", 100 * time.Second}} {
		s := StageInfo{Run: "r1", Stage: st.stage, Key: "k1"}
		p.StageStarted(s)
		p.StageFinished(s, results.StatusDone, nil, st.took)
	}
	eta, ok := p.eta(t0)
	if !ok || eta != 101*time.Second {
		t.Errorf("eta = %v, %v; want 1m41s (one data, one train left)", eta, ok)
	}
	p.jobs = 2
	if eta, _ := p.eta(t0); eta != 50500*time.Millisecond {
		t.Errorf("eta with 2 workers = %v, want 50.5s", eta)
	}
}
