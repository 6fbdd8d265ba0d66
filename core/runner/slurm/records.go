package slurm

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/pit-lab/pit/core/results"
	"github.com/pit-lab/pit/core/runner"
)

// Record states, written by the submitter and then by the job itself.
const (
	Submitted = "submitted"
	Running   = "running"
	Done      = "done"
	Failed    = "failed"
)

// Record is what is known of the job that computes one stage instance; it
// lives in RecordPath.
type Record struct {
	Stage     string    `json:"stage"`
	Key       string    `json:"key"`
	Job       string    `json:"job"`   // "12_3": array job 12, task 3
	State     string    `json:"state"` // Submitted, Running, Done or Failed
	Error     string    `json:"error,omitempty"`
	Log       string    `json:"log,omitempty"` // the job's output file
	Host      string    `json:"host,omitempty"`
	PID       int       `json:"pid,omitempty"`
	Submitted time.Time `json:"submitted"`
	Started   time.Time `json:"started,omitzero"`
	Finished  time.Time `json:"finished,omitzero"`
}

// recordsDir is where an experiment's job records live.
func recordsDir(dir string) string { return filepath.Join(dir, runner.ExternalDir, "slurm") }

// RecordPath is the record of the instance (stage, key) of the experiment
// whose results directory is dir.
func RecordPath(dir, stage, key string) string {
	return filepath.Join(recordsDir(dir), stage, key+".json")
}

// ReadRecord reads an instance's record; ok is false if it has none.
func ReadRecord(dir, stage, key string) (rec Record, ok bool, err error) {
	err = results.ReadJSON(RecordPath(dir, stage, key), &rec)
	if errors.Is(err, fs.ErrNotExist) {
		return rec, false, nil
	}
	if err != nil {
		return rec, false, err
	}
	return rec, true, nil
}

// writeRecord writes an instance's record atomically.
func writeRecord(dir string, rec Record) error {
	path := RecordPath(dir, rec.Stage, rec.Key)
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return fmt.Errorf("slurm: %w", err)
	}
	b, err := json.MarshalIndent(rec, "", "  ")
	if err != nil {
		return fmt.Errorf("slurm: %w", err)
	}
	return results.WriteFileAtomic(path, append(b, '\n'))
}

// Records lists every record of the experiment in dir.
func Records(dir string) ([]Record, error) {
	var out []Record
	var errs []error
	root := recordsDir(dir)
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return nil
			}
			return err
		}
		if d.IsDir() || !strings.HasSuffix(d.Name(), ".json") || strings.HasPrefix(d.Name(), ".") {
			return nil
		}
		var r Record
		if err := results.ReadJSON(path, &r); err != nil {
			errs = append(errs, err)
			return nil
		}
		out = append(out, r)
		return nil
	})
	if err != nil {
		errs = append(errs, err)
	}
	return out, errors.Join(errs...)
}

// state is an instance's effective state from its record and, when jobs
// is not nil, slurmctld's view of its job. alive reports a job that is
// still pending or running (it must not be submitted again).
func state(rec Record, have bool, jobs map[string]Job) (st runner.ExternalState, alive bool) {
	st.Status = results.StatusPending
	if !have {
		return st, false
	}
	st.Started, st.Finished = rec.Started, rec.Finished
	st.Extra = map[string]string{"slurm.job." + rec.Stage: rec.Job}
	switch rec.State {
	case Failed:
		st.Status, st.Error = results.StatusFailed, fmt.Sprintf("slurm job %s: %s", rec.Job, rec.Error)
		return st, false
	case Done:
		// The job committed the entry; the cache, read first, says done.
		// Here the entry is gone (or --force is on): compute it again.
		return st, false
	}
	if jobs == nil { // trust the record
		if rec.State == Running {
			st.Status = results.StatusRunning
		}
		return st, true
	}
	j, ok := jobs[rec.Job]
	switch {
	case !ok:
		st.Status, st.Error = results.StatusFailed, fmt.Sprintf("slurm job %s is gone (unknown to slurmctld) before it finished", rec.Job)
		return st, false
	case j.Alive():
		st.Extra["slurm.state."+rec.Stage] = j.State
		if j.State == "PENDING" {
			st.Status = results.StatusPending
			if rec.State == Running { // the record is newer than the job's state
				st.Status = results.StatusRunning
			}
		} else {
			st.Status = results.StatusRunning
		}
		return st, true
	case j.State == "CANCELLED" && strings.HasPrefix(j.Reason, "Dependency"):
		st.Status, st.Error = results.StatusFailed, fmt.Sprintf("slurm job %s cancelled: an input's job failed", rec.Job)
	case j.State == "COMPLETED":
		st.Status, st.Error = results.StatusFailed, fmt.Sprintf("slurm job %s completed without committing its stage (see %s)", rec.Job, rec.Log)
	default:
		st.Status, st.Error = results.StatusFailed, fmt.Sprintf("slurm job %s %s (exit code %s; see %s)", rec.Job, j.State, j.ExitCode, rec.Log)
	}
	st.Extra["slurm.state."+rec.Stage] = j.State
	return st, false
}

// stateFunc returns the state function runner.SyncRuns needs, reading the
// records of the experiment in dir when asked.
func stateFunc(dir string, jobs map[string]Job) func(stage, key string) (runner.ExternalState, bool) {
	return func(stage, key string) (runner.ExternalState, bool) {
		rec, have, err := ReadRecord(dir, stage, key)
		if err != nil || !have {
			return runner.ExternalState{}, false
		}
		st, _ := state(rec, true, jobs)
		return st, true
	}
}
