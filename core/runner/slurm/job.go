package slurm

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/pit-lab/pit/core/cache"
	"github.com/pit-lab/pit/core/results"
	"github.com/pit-lab/pit/core/runner"
)

// Task returns the stage instance that task number index of an array
// computes, from the array's tasks file.
func Task(tasksFile string, index int) (stage, key string, err error) {
	f, err := os.Open(tasksFile)
	if err != nil {
		return "", "", fmt.Errorf("slurm: %w", err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for i := 0; sc.Scan(); i++ {
		if i == index {
			stage, key, ok := strings.Cut(strings.TrimSpace(sc.Text()), " ")
			if !ok {
				return "", "", fmt.Errorf("slurm: %s line %d: want \"stage key\"", tasksFile, i+1)
			}
			return stage, key, nil
		}
	}
	if err := sc.Err(); err != nil {
		return "", "", fmt.Errorf("slurm: %s: %w", tasksFile, err)
	}
	return "", "", fmt.Errorf("slurm: %s has no task %d", tasksFile, index)
}

// RunJob is the body of one job: it computes the instance (stage, key) of
// the plan (runner.ComputeInstance), records the job's state (job is its
// id, "12_3") and rewrites the results of the runs that use the instance.
// The instance's error, if any, is returned.
func RunJob(ctx context.Context, plan runner.Plan, opts runner.Options, stage, key, job string) error {
	dir := opts.Dir
	rec, have, err := ReadRecord(dir, stage, key)
	if err != nil {
		return err
	}
	if !have {
		rec = Record{Stage: stage, Key: key, Submitted: time.Now()}
	}
	if job != "" {
		rec.Job = job
	}
	rec.State, rec.Error = Running, ""
	rec.Host, _ = os.Hostname()
	rec.PID = os.Getpid()
	rec.Started, rec.Finished = time.Now(), time.Time{}
	if err := writeRecord(dir, rec); err != nil {
		return err
	}
	cerr := runner.ComputeInstance(ctx, plan, opts, stage, key)
	rec.Finished = time.Now()
	rec.State = Done
	if cerr != nil {
		rec.State = Failed
		rec.Error = cerr.Error()
		if ctx.Err() != nil {
			rec.Error = "cancelled (SIGTERM: scancel or time limit?): " + rec.Error
		}
	}
	// Finish the bookkeeping even when cancelled: Slurm sends SIGKILL only
	// KillWait seconds after SIGTERM.
	wctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 20*time.Second)
	defer cancel()
	var errs []error
	if cerr != nil {
		errs = append(errs, cerr)
	}
	if err := writeRecord(dir, rec); err != nil {
		errs = append(errs, err)
	}
	opts.Force = false
	if err := runner.SyncRuns(wctx, plan, opts, stateFunc(dir, nil), stage, key); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// Progress counts a plan's instances by state (see Poll).
type Progress struct {
	Done, Queued, Running, Failed, Missing int
}

// Poll reports the state of the instances (from runner.Instances) of the
// experiment whose results directory is dir, from the cache, the records
// and slurmctld.
// The cache is cacheDir (dir/.cache when empty).
func Poll(ctx context.Context, dir, cacheDir string, insts []runner.Instance, client *Client) (Progress, error) {
	var p Progress
	if client == nil {
		client = &Client{}
	}
	jobs, err := client.Jobs(ctx)
	if err != nil {
		return p, err
	}
	if cacheDir == "" {
		cacheDir = filepath.Join(dir, runner.CacheDir)
	}
	store := cache.At(cacheDir)
	for _, in := range insts {
		if _, ok := store.Lookup(in.Stage, in.Key); ok {
			p.Done++
			continue
		}
		rec, have, err := ReadRecord(dir, in.Stage, in.Key)
		if err != nil {
			return p, err
		}
		st, alive := state(rec, have, jobs)
		switch {
		case !have:
			p.Missing++
		case alive && st.Status == results.StatusRunning:
			p.Running++
		case alive:
			p.Queued++
		default:
			p.Failed++
		}
	}
	return p, nil
}

// Wait polls until no job of the plan is pending or running, then rewrites
// the runs' results (jobs killed hard cannot) and returns their outcome.
func Wait(ctx context.Context, plan runner.Plan, opts runner.Options, client *Client, every time.Duration) (runner.Summary, error) {
	sum := runner.Summary{Dir: opts.Dir, Runs: len(plan.Runs)}
	if client == nil {
		client = &Client{}
	}
	opts.Force = false
	insts, err := runner.Instances(ctx, plan, opts) // once: keys may need plugin processes
	if err != nil {
		return sum, err
	}
	for {
		p, err := Poll(ctx, opts.Dir, opts.Cache, insts, client)
		if err != nil {
			return sum, err
		}
		if p.Queued+p.Running == 0 {
			break
		}
		select {
		case <-ctx.Done():
			return sum, fmt.Errorf("%w: the jobs go on; pit status shows them", runner.ErrInterrupted)
		case <-time.After(every):
		}
	}
	jobs, err := client.Jobs(ctx)
	if err != nil {
		return sum, err
	}
	if err := runner.SyncRuns(ctx, plan, opts, stateFunc(opts.Dir, jobs)); err != nil {
		return sum, err
	}
	for _, r := range plan.Runs {
		var m results.Manifest
		if err := results.ReadJSON(filepath.Join(opts.Dir, filepath.FromSlash(r.ID), results.ManifestFile), &m); err != nil {
			return sum, err
		}
		switch m.Status {
		case results.StatusDone:
			sum.Done++
		case results.StatusFailed:
			sum.Failed++
			sum.FailedRuns = append(sum.FailedRuns, r.ID)
		default:
			sum.Pending++
		}
	}
	return sum, nil
}

// Cancel cancels the pending and running jobs of the experiment whose
// results directory is dir and returns their ids.
func Cancel(ctx context.Context, dir string, client *Client) ([]string, error) {
	if client == nil {
		client = &Client{}
	}
	ids, err := LiveJobs(ctx, dir, client)
	if err != nil {
		return nil, err
	}
	return ids, client.Cancel(ctx, ids)
}

// LiveJobs returns the pending and running jobs of the experiment whose
// results directory is dir, without asking slurmctld when no job was ever
// submitted for it.
func LiveJobs(ctx context.Context, dir string, client *Client) ([]string, error) {
	if client == nil {
		client = &Client{}
	}
	recs, err := Records(dir)
	if err != nil || len(recs) == 0 {
		return nil, err
	}
	jobs, err := client.Jobs(ctx)
	if err != nil {
		return nil, err
	}
	var ids []string
	for _, r := range recs {
		if _, alive := state(r, true, jobs); alive {
			ids = append(ids, r.Job)
		}
	}
	sort.Strings(ids)
	return ids, nil
}

// HasJobs reports whether any run of runs was given to Slurm.
func HasJobs(runs []results.RunState) bool {
	for _, r := range runs {
		for k := range r.Manifest.Extra {
			if strings.HasPrefix(k, "slurm.job.") {
				return true
			}
		}
	}
	return false
}

// Refresh updates, in memory, the runs that Slurm jobs compute with the
// jobs' current states, for pit status: a stage whose job died without
// saying so (scancel before it started, SIGKILL, node failure) shows as
// failed, and pending or running runs get a detail naming their jobs
// (Extra runner.StatusDetail).
func Refresh(ctx context.Context, runs []results.RunState, client *Client) error {
	if !HasJobs(runs) {
		return nil
	}
	if client == nil {
		client = &Client{}
	}
	jobs, err := client.Jobs(ctx)
	if err != nil {
		return err
	}
	for i := range runs {
		m := &runs[i].Manifest
		if m.Status != results.StatusPending && m.Status != results.StatusRunning {
			continue
		}
		var details []string
		for s := range m.Stages {
			st := &m.Stages[s]
			id := m.Extra["slurm.job."+st.Name]
			if id == "" || (st.Status != results.StatusPending && st.Status != results.StatusRunning) {
				continue
			}
			j, ok := jobs[id]
			switch {
			case !ok:
				st.Status, st.Error = results.StatusFailed, fmt.Sprintf("slurm job %s is gone (unknown to slurmctld) before it finished", id)
			case j.Alive():
				if j.State != "PENDING" {
					st.Status = results.StatusRunning
				}
				d := fmt.Sprintf("%s: job %s %s", st.Name, id, j.State)
				if j.State == "PENDING" && j.Reason != "" && j.Reason != "None" {
					d += " (" + j.Reason + ")"
				}
				details = append(details, d)
			case j.State == "COMPLETED":
				// Its job is writing the results now.
			case j.State == "CANCELLED" && strings.HasPrefix(j.Reason, "Dependency"):
				st.Status, st.Error = results.StatusFailed, fmt.Sprintf("not run: slurm job %s cancelled because an input's job failed", id)
			default:
				st.Status, st.Error = results.StatusFailed, fmt.Sprintf("slurm job %s %s (exit code %s)", id, j.State, j.ExitCode)
			}
		}
		settle(m)
		if len(details) > 0 && (m.Status == results.StatusPending || m.Status == results.StatusRunning) {
			if m.Extra == nil {
				m.Extra = map[string]string{}
			}
			m.Extra[runner.StatusDetail] = strings.Join(details, "; ")
		}
	}
	return nil
}

// settle recomputes a manifest's status from its stages'.
func settle(m *results.Manifest) {
	all, failed, open, started := true, false, false, false
	m.Error = ""
	for _, s := range m.Stages {
		switch s.Status {
		case results.StatusDone:
			started = true
			continue
		case results.StatusFailed:
			failed = true
			if m.Error == "" && !strings.HasPrefix(s.Error, "not run:") {
				m.Error = "stage " + s.Name + ": " + s.Error
			}
		case results.StatusRunning:
			open, started = true, true
		default:
			open = true
		}
		all = false
	}
	switch {
	case all:
		m.Status = results.StatusDone
	case failed && !open:
		m.Status = results.StatusFailed
		if m.Error == "" {
			m.Error = "failed"
		}
	case started:
		m.Status = results.StatusRunning
	default:
		m.Status = results.StatusPending
	}
}

// jobIndex is $SLURM_ARRAY_TASK_ID.
func jobIndex() (int, error) {
	s := os.Getenv("SLURM_ARRAY_TASK_ID")
	i, err := strconv.Atoi(s)
	if err != nil {
		return 0, fmt.Errorf("slurm: SLURM_ARRAY_TASK_ID=%q: not inside an array job", s)
	}
	return i, nil
}

// FromEnvironment returns the instance and job id of the array task this
// process runs in, from $SLURM_ARRAY_TASK_ID and $SLURM_ARRAY_JOB_ID.
func FromEnvironment(tasksFile string) (stage, key, job string, err error) {
	i, err := jobIndex()
	if err != nil {
		return "", "", "", err
	}
	stage, key, err = Task(tasksFile, i)
	if err != nil {
		return "", "", "", err
	}
	if a := os.Getenv("SLURM_ARRAY_JOB_ID"); a != "" {
		job = a + "_" + strconv.Itoa(i)
	}
	return stage, key, job, nil
}
