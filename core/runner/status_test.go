package runner

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/pit-lab/pit/core/results"
)

var update = flag.Bool("update", false, "rewrite golden files under testdata/")

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("output differs from %s:\n--- got\n%s\n--- want\n%s", path, got, want)
	}
}

func TestWriteStatus(t *testing.T) {
	t0 := time.Date(2026, 11, 28, 4, 0, 0, 0, time.UTC)
	stage := func(name string, st results.Status, cached bool, secs float64) results.StageRecord {
		return results.StageRecord{Name: name, Status: st, Cached: cached, Seconds: secs}
	}
	runs := []results.RunState{
		{Manifest: results.Manifest{Experiment: "toy", Run: "lr=0.3/seed=1", Status: results.StatusDone, Started: t0, Finished: t0.Add(95 * time.Second),
			Stages: []results.StageRecord{stage("gen", results.StatusDone, false, 5), stage("train", results.StatusDone, false, 80), stage("eval", results.StatusDone, false, 10)}}},
		{Manifest: results.Manifest{Experiment: "toy", Run: "lr=0.3/seed=2", Status: results.StatusFailed, Error: "stage train: loss is NaN at step 12", Started: t0, Finished: t0.Add(7 * time.Second),
			Stages: []results.StageRecord{stage("gen", results.StatusDone, true, 5), stage("train", results.StatusFailed, false, 2), stage("eval", results.StatusFailed, false, 0)}}},
		{Manifest: results.Manifest{Experiment: "toy", Run: "lr=0.1/seed=1", Status: results.StatusRunning, Started: t0, Warnings: []string{"train: slope 0.50 far from 3"},
			Stages: []results.StageRecord{stage("gen", results.StatusDone, true, 5), stage("train", results.StatusRunning, false, 0), stage("eval", results.StatusPending, false, 0)}}},
		{Stale: true, Manifest: results.Manifest{Experiment: "toy", Run: "lr=0.1/seed=2", Status: results.StatusRunning, Host: "box", Extra: map[string]string{"pid": "4242"}, Started: t0,
			Stages: []results.StageRecord{stage("gen", results.StatusDone, false, 4), stage("train", results.StatusRunning, false, 0), stage("eval", results.StatusPending, false, 0)}}},
		{Manifest: results.Manifest{Experiment: "toy", Run: "lr=0.01/seed=1", Status: results.StatusInterrupted,
			Stages: []results.StageRecord{stage("gen", results.StatusDone, false, 4), stage("train", results.StatusInterrupted, false, 3), stage("eval", results.StatusPending, false, 0)}}},
	}
	var buf bytes.Buffer
	if err := WriteStatus(&buf, runs, []string{"lr=0.01/seed=2"}, t0.Add(2*time.Minute)); err != nil {
		t.Fatal(err)
	}
	golden(t, "status.golden", buf.Bytes())

	buf.Reset()
	if err := WriteStageTimes(&buf, runs); err != nil {
		t.Fatal(err)
	}
	golden(t, "stagetimes.golden", buf.Bytes())
}
