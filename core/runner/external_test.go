package runner

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/pit-lab/pit/core/results"
)

func TestInstancesDAG(t *testing.T) {
	reg := testRegistry(&counters{n: map[string]int{}}, nil)
	plan := testPlan([]int64{1, 2}, []float64{0.3, 0.1}, []float64{0.4, 1.0})
	insts, err := Instances(context.Background(), plan, Options{Dir: t.TempDir(), Registry: reg, CodeVersion: "test"})
	if err != nil {
		t.Fatal(err)
	}
	perStage := map[string]int{}
	for i, in := range insts {
		perStage[in.Stage]++
		if in.Cached {
			t.Errorf("%s %s cached in an empty directory", in.Stage, in.Key)
		}
		wantRuns := map[string]int{"gen": 4, "train": 2, "eval": 1}[in.Stage]
		if len(in.Runs) != wantRuns {
			t.Errorf("%s used by %d runs, want %d", in.Stage, len(in.Runs), wantRuns)
		}
		wantInputs := map[string]string{"gen": "", "train": "gen", "eval": "train"}[in.Stage]
		var got []string
		for _, d := range in.Inputs {
			if d >= i {
				t.Errorf("%s: input %d does not come before it (%d)", in.Stage, d, i)
			}
			got = append(got, insts[d].Stage)
		}
		if strings.Join(got, ",") != wantInputs {
			t.Errorf("%s: inputs %v, want %q", in.Stage, got, wantInputs)
		}
	}
	if perStage["gen"] != 2 || perStage["train"] != 4 || perStage["eval"] != 8 {
		t.Errorf("instances per stage %v, want gen 2, train 4, eval 8", perStage)
	}
}

// ComputeInstance, called for every instance in dependency order, twice
// at once as two duplicate jobs would, computes each once and, with
// SyncRuns, leaves the same results as Execute.
func TestComputeInstanceMatchesExecute(t *testing.T) {
	ctx := context.Background()
	plan := testPlan([]int64{1, 2}, []float64{0.3}, []float64{0.4, 1.0})

	local := t.TempDir()
	if _, err := Execute(ctx, plan, Options{Dir: local, Registry: testRegistry(&counters{n: map[string]int{}}, nil), CodeVersion: "test"}); err != nil {
		t.Fatal(err)
	}

	cnt := &counters{n: map[string]int{}}
	opts := Options{Dir: t.TempDir(), Registry: testRegistry(cnt, nil), CodeVersion: "test"}
	insts, err := Instances(ctx, plan, opts)
	if err != nil {
		t.Fatal(err)
	}
	if err := ComputeInstance(ctx, plan, opts, insts[len(insts)-1].Stage, insts[len(insts)-1].Key); err == nil || !strings.Contains(err.Error(), "not in the cache") {
		t.Errorf("computing an instance before its inputs: %v", err)
	}
	if err := ComputeInstance(ctx, plan, opts, "train", "0123"); !errors.Is(err, ErrUnknownInstance) {
		t.Errorf("unknown instance: %v", err)
	}
	for _, in := range insts {
		var wg sync.WaitGroup
		errs := make([]error, 2)
		for j := range errs {
			wg.Add(1)
			go func() {
				defer wg.Done()
				errs[j] = ComputeInstance(ctx, plan, opts, in.Stage, in.Key)
			}()
		}
		wg.Wait()
		if err := errors.Join(errs...); err != nil {
			t.Fatal(err)
		}
		if err := SyncRuns(ctx, plan, opts, nil, in.Stage, in.Key); err != nil {
			t.Fatal(err)
		}
	}
	if cnt.total() != len(insts) {
		t.Errorf("%d computations for %d instances: %v", cnt.total(), len(insts), cnt.n)
	}
	for _, r := range plan.Runs {
		got, want := readManifest(t, opts.Dir, r.ID), readManifest(t, local, r.ID)
		if got.Status != results.StatusDone {
			t.Errorf("run %s: %s", r.ID, got.Status)
		}
		if _, ok := got.Extra["pid"]; ok {
			t.Errorf("run %s: manifest names a process: %v", r.ID, got.Extra)
		}
		for i := range want.Stages {
			g, w := got.Stages[i], want.Stages[i]
			if g.Name != w.Name || g.Key != w.Key || g.Status != w.Status || g.Cached != w.Cached {
				t.Errorf("run %s stage %d: %+v, Execute gave %+v", r.ID, i, g, w)
			}
		}
		for _, f := range []string{results.MetricsFile, results.EvalFile} {
			gm, err1 := os.ReadFile(filepath.Join(opts.Dir, r.ID, f))
			wm, err2 := os.ReadFile(filepath.Join(local, r.ID, f))
			if err1 != nil || err2 != nil {
				t.Fatal(err1, err2)
			}
			if f == results.EvalFile && string(gm) != string(wm) {
				t.Errorf("run %s: %s differs", r.ID, f)
			}
			if f == results.MetricsFile && strings.Count(string(gm), "\n") != strings.Count(string(wm), "\n") {
				t.Errorf("run %s: %s has %d lines, Execute's %d", r.ID, f, strings.Count(string(gm), "\n"), strings.Count(string(wm), "\n"))
			}
		}
	}
}

// SyncRuns reports an executor's states: a failed instance fails its runs
// and the instances that need it are "not run".
func TestSyncRunsExternalStates(t *testing.T) {
	ctx := context.Background()
	plan := testPlan([]int64{1}, []float64{0.3}, []float64{0.4, 1.0})
	opts := Options{Dir: t.TempDir(), Registry: testRegistry(&counters{n: map[string]int{}}, nil), CodeVersion: "test"}
	insts, err := Instances(ctx, plan, opts)
	if err != nil {
		t.Fatal(err)
	}
	if err := ComputeInstance(ctx, plan, opts, insts[0].Stage, insts[0].Key); err != nil { // gen
		t.Fatal(err)
	}
	state := func(stage, key string) (ExternalState, bool) {
		switch stage {
		case "train":
			return ExternalState{Status: results.StatusFailed, Error: "job 7 CANCELLED", Extra: map[string]string{"job.train": "7"}}, true
		case "eval":
			return ExternalState{Status: results.StatusPending, Extra: map[string]string{"job.eval": "8"}}, true
		}
		return ExternalState{}, false
	}
	if err := SyncRuns(ctx, plan, opts, state); err != nil {
		t.Fatal(err)
	}
	for _, r := range plan.Runs {
		m := readManifest(t, opts.Dir, r.ID)
		got := fmt.Sprintf("%s %q", m.Status, m.Error)
		for _, s := range m.Stages {
			got += fmt.Sprintf(" %s:%s:%q", s.Name, s.Status, s.Error)
		}
		want := `failed "stage train: job 7 CANCELLED" gen:done:"" train:failed:"job 7 CANCELLED" eval:failed:"not run: stage train failed"`
		if got != want {
			t.Errorf("run %s:\n got %s\nwant %s", r.ID, got, want)
		}
		if m.Extra["job.train"] != "7" || m.Extra["job.eval"] != "8" {
			t.Errorf("run %s: extra %v", r.ID, m.Extra)
		}
	}
}
