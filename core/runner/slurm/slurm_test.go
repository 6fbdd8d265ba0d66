package slurm

import (
	"context"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/pit-lab/pit/core/results"
)

// testdata/scontrol-show-job.txt is real "scontrol show job -o" output of
// Slurm 22.05: array 19 (4 tasks, at most 2 at once) with task 1 cancelled
// while it ran, job 20 waiting for 19_1 (so cancelled by
// --kill-on-invalid-dep), job 21 exiting with 3, job 22 running.
func TestParseJobs(t *testing.T) {
	b, err := os.ReadFile("testdata/scontrol-show-job.txt")
	if err != nil {
		t.Fatal(err)
	}
	got := parseJobs(string(b) + "JobId=30 ArrayJobId=30 ArrayTaskId=4-6%2 JobName=x JobState=PENDING Reason=Dependency Dependency=afterok:19_0 ExitCode=0:0\n")
	want := map[string]Job{
		"19_0": {ID: "19_0", State: "RUNNING", Reason: "None", ExitCode: "0:0"},
		"19_1": {ID: "19_1", State: "CANCELLED", Reason: "None", ExitCode: "0:15"},
		"19_2": {ID: "19_2", State: "RUNNING", Reason: "None", ExitCode: "0:0"},
		"19_3": {ID: "19_3", State: "PENDING", Reason: "JobArrayTaskLimit", ExitCode: "0:0"},
		"20":   {ID: "20", State: "CANCELLED", Reason: "DependencyNeverSatisfied", ExitCode: "0:0"},
		"21":   {ID: "21", State: "FAILED", Reason: "NonZeroExitCode", ExitCode: "3:0"},
		"22":   {ID: "22", State: "RUNNING", Reason: "None", ExitCode: "0:0"},
		"30_4": {ID: "30_4", State: "PENDING", Reason: "Dependency", ExitCode: "0:0"},
		"30_5": {ID: "30_5", State: "PENDING", Reason: "Dependency", ExitCode: "0:0"},
		"30_6": {ID: "30_6", State: "PENDING", Reason: "Dependency", ExitCode: "0:0"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("parseJobs:\n got %v\nwant %v", got, want)
	}
	if len(parseJobs("No jobs in the system\n")) != 0 {
		t.Error("jobs parsed from an empty system")
	}
}

func TestExpandTasks(t *testing.T) {
	for _, tt := range []struct {
		in   string
		want []int
	}{
		{"3", []int{3}},
		{"0-3", []int{0, 1, 2, 3}},
		{"0-7%2", []int{0, 1, 2, 3, 4, 5, 6, 7}},
		{"1,4-5", []int{1, 4, 5}},
		{"0-6:3", []int{0, 3, 6}},
		{"x", nil},
	} {
		if got := expandTasks(tt.in); !reflect.DeepEqual(got, tt.want) {
			t.Errorf("expandTasks(%q) = %v, want %v", tt.in, got, tt.want)
		}
	}
}

func TestSettings(t *testing.T) {
	for _, tt := range []struct {
		s    Settings
		errs string // substrings of the error, "" for none
		args string
	}{
		{Settings{Kind: Local}, "", ""},
		{Settings{Kind: Slurm, Partition: "gpu", Account: "lab", Time: "2:00:00", CPUs: 4, Mem: "8G", Gres: "gpu:1", Flags: []string{"--qos=short"}},
			"", "--partition=gpu --account=lab --time=2:00:00 --cpus-per-task=4 --mem=8G --gres=gpu:1 --qos=short"},
		{Settings{Kind: Slurm, Time: "1-12:00"}, "", "--time=1-12:00"},
		{Settings{Kind: "k8s"}, `kind: "k8s": want "local" or "slurm"`, ""},
		{Settings{Kind: Slurm, CPUs: -1, MaxConcurrent: -2}, "cpus: -1|max_concurrent: -2", ""},
		{Settings{Kind: Slurm, Time: "two hours"}, `time: "two hours"`, ""},
		{Settings{Kind: Slurm, Flags: []string{"qos", "--array=0-3", "--dependency"}}, `flags: "qos": want an sbatch flag|"--array=0-3": pit sets --array itself|"--dependency": pit sets`, ""},
	} {
		err := tt.s.Validate()
		if tt.errs == "" {
			if err != nil {
				t.Errorf("%+v: %v", tt.s, err)
			}
			if got := strings.Join(tt.s.sbatchArgs(), " "); got != tt.args {
				t.Errorf("%+v: sbatch args %q, want %q", tt.s, got, tt.args)
			}
			continue
		}
		for _, want := range strings.Split(tt.errs, "|") {
			if err == nil || !strings.Contains(err.Error(), want) {
				t.Errorf("%+v: error %v, want %q", tt.s, err, want)
			}
		}
	}
}

func TestState(t *testing.T) {
	jobs := map[string]Job{
		"5_0": {ID: "5_0", State: "PENDING", Reason: "Dependency"},
		"5_1": {ID: "5_1", State: "RUNNING"},
		"5_2": {ID: "5_2", State: "CANCELLED", Reason: "None", ExitCode: "0:15"},
		"5_3": {ID: "5_3", State: "CANCELLED", Reason: "DependencyNeverSatisfied"},
		"5_4": {ID: "5_4", State: "COMPLETED", ExitCode: "0:0"},
		"5_5": {ID: "5_5", State: "TIMEOUT", ExitCode: "0:15"},
	}
	for _, tt := range []struct {
		rec    Record
		have   bool
		jobs   map[string]Job
		status results.Status
		alive  bool
		err    string
	}{
		{Record{}, false, jobs, results.StatusPending, false, ""},
		{Record{Job: "5_0", State: Submitted}, true, jobs, results.StatusPending, true, ""},
		{Record{Job: "5_0", State: Running}, true, jobs, results.StatusRunning, true, ""},
		{Record{Job: "5_1", State: Submitted}, true, jobs, results.StatusRunning, true, ""},
		{Record{Job: "5_2", State: Running, Log: "x.out"}, true, jobs, results.StatusFailed, false, "slurm job 5_2 CANCELLED (exit code 0:15; see x.out)"},
		{Record{Job: "5_3", State: Submitted}, true, jobs, results.StatusFailed, false, "slurm job 5_3 cancelled: an input's job failed"},
		{Record{Job: "5_4", State: Running}, true, jobs, results.StatusFailed, false, "completed without committing"},
		{Record{Job: "5_5", State: Running}, true, jobs, results.StatusFailed, false, "slurm job 5_5 TIMEOUT"},
		{Record{Job: "9_0", State: Submitted}, true, jobs, results.StatusFailed, false, "is gone"},
		{Record{Job: "5_1", State: Failed, Error: "boom"}, true, jobs, results.StatusFailed, false, "slurm job 5_1: boom"},
		{Record{Job: "5_1", State: Done}, true, jobs, results.StatusPending, false, ""},
		// Without slurmctld's view (inside a job) the record is trusted.
		{Record{Job: "9_0", State: Running}, true, nil, results.StatusRunning, true, ""},
		{Record{Job: "9_0", State: Submitted}, true, nil, results.StatusPending, true, ""},
	} {
		st, alive := state(tt.rec, tt.have, tt.jobs)
		if st.Status != tt.status || alive != tt.alive || !strings.Contains(st.Error, tt.err) || (tt.err == "" && st.Error != "") {
			t.Errorf("state(%+v, %v) = %s alive=%v %q, want %s alive=%v %q", tt.rec, tt.have, st.Status, alive, st.Error, tt.status, tt.alive, tt.err)
		}
		if tt.have && st.Extra["slurm.job."+tt.rec.Stage] != tt.rec.Job {
			t.Errorf("state(%+v): extra %v does not name the job", tt.rec, st.Extra)
		}
	}
}

// fakeScontrol puts an scontrol on PATH that prints the testdata.
func fakeScontrol(t *testing.T) {
	t.Helper()
	bin := t.TempDir()
	data, err := filepath.Abs("testdata/scontrol-show-job.txt")
	if err != nil {
		t.Fatal(err)
	}
	script := "#!/bin/sh\n[ \"$*\" = \"show job -o\" ] || exit 9\ncat '" + data + "'\n"
	if err := os.WriteFile(filepath.Join(bin, "scontrol"), []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PATH", bin+string(os.PathListSeparator)+os.Getenv("PATH"))
}

func TestRefresh(t *testing.T) {
	fakeScontrol(t)
	st := func(name string, s results.Status) results.StageRecord {
		return results.StageRecord{Name: name, Status: s}
	}
	runs := []results.RunState{
		{Manifest: results.Manifest{Run: "a", Status: results.StatusRunning,
			Stages: []results.StageRecord{st("gen", results.StatusDone), st("train", results.StatusRunning), st("eval", results.StatusPending)},
			Extra:  map[string]string{"slurm.job.train": "19_1", "slurm.job.eval": "20"}}},
		{Manifest: results.Manifest{Run: "b", Status: results.StatusPending,
			Stages: []results.StageRecord{st("gen", results.StatusPending), st("train", results.StatusPending)},
			Extra:  map[string]string{"slurm.job.gen": "19_0", "slurm.job.train": "19_3"}}},
		{Manifest: results.Manifest{Run: "c", Status: results.StatusRunning,
			Stages: []results.StageRecord{st("gen", results.StatusRunning)},
			Extra:  map[string]string{"slurm.job.gen": "77"}}},
		{Manifest: results.Manifest{Run: "d", Status: results.StatusDone, Stages: []results.StageRecord{st("gen", results.StatusDone)}}},
	}
	if err := Refresh(context.Background(), runs, nil); err != nil {
		t.Fatal(err)
	}
	want := []struct {
		status results.Status
		text   string // in Error or the detail
	}{
		{results.StatusFailed, "stage train: slurm job 19_1 CANCELLED (exit code 0:15)"},
		{results.StatusRunning, "gen: job 19_0 RUNNING; train: job 19_3 PENDING (JobArrayTaskLimit)"},
		{results.StatusFailed, "stage gen: slurm job 77 is gone"},
		{results.StatusDone, ""},
	}
	for i, w := range want {
		m := runs[i].Manifest
		text := m.Error + m.Extra["status.detail"]
		if m.Status != w.status || !strings.Contains(text, w.text) {
			t.Errorf("run %s: %s %q, want %s %q", m.Run, m.Status, text, w.status, w.text)
		}
	}
	if s := runs[0].Manifest.Stages[2]; s.Status != results.StatusFailed || !strings.HasPrefix(s.Error, "not run:") {
		t.Errorf("eval of run a, whose job was cancelled for its dependency: %+v", s)
	}
}

func TestTaskAndQuote(t *testing.T) {
	f := filepath.Join(t.TempDir(), "x.tasks")
	os.WriteFile(f, []byte("train abc\neval def\n"), 0o644)
	if s, k, err := Task(f, 1); s != "eval" || k != "def" || err != nil {
		t.Errorf("Task 1: %s %s %v", s, k, err)
	}
	if _, _, err := Task(f, 2); err == nil || !strings.Contains(err.Error(), "has no task 2") {
		t.Errorf("Task 2: %v", err)
	}
	for in, want := range map[string]string{"/a/b-c.toml": "/a/b-c.toml", "it's here": `'it'\''s here'`, "": "''", "a b": "'a b'"} {
		if got := shellQuote(in); got != want {
			t.Errorf("shellQuote(%q) = %s, want %s", in, got, want)
		}
	}
}
