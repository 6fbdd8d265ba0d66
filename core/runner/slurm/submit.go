package slurm

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/pit-lab/pit/core/results"
	"github.com/pit-lab/pit/core/runner"
)

// LogsDir is the directory inside a run's results directory that links to
// the output files of the jobs that computed its stages.
const LogsDir = "logs"

// Config configures Submit.
type Config struct {
	Settings *Settings // sbatch settings; the defaults if nil
	Client   *Client   // a zero Client if nil
	// Exe is the pit executable the jobs run; it must be reachable at this
	// path from the compute nodes (a shared filesystem).
	Exe string
	// JobArgs are the arguments after "pit slurm-job" that rebuild the
	// plan on the node (experiment file, results root, code version...);
	// Submit adds "--tasks FILE".
	JobArgs []string
	// Log receives one line per submitted array; nothing if nil.
	Log io.Writer
}

// Submission is the outcome of Submit.
type Submission struct {
	Instances int      // distinct stage instances in the plan
	Cached    int      // in the cache already
	Queued    int      // computed by jobs submitted earlier that are still pending or running
	Submitted int      // array tasks submitted now
	Jobs      []string // the array jobs submitted now
}

// Submit submits the plan's missing stage instances as Slurm array jobs
// (see the package doc) and writes every run's results directory with the
// jobs' states. Instances in the cache, or computed by a live job of an
// earlier Submit, are not submitted again; failed ones are.
func Submit(ctx context.Context, plan runner.Plan, opts runner.Options, cfg Config) (Submission, error) {
	var sub Submission
	if cfg.Settings == nil {
		cfg.Settings = &Settings{Kind: Slurm}
	}
	if cfg.Client == nil {
		cfg.Client = &Client{}
	}
	if cfg.Exe == "" {
		return sub, errors.New("slurm: no pit executable for the jobs")
	}
	insts, err := runner.Instances(ctx, plan, opts)
	if err != nil {
		return sub, err
	}
	sub.Instances = len(insts)
	jobs, err := cfg.Client.Jobs(ctx)
	if err != nil {
		return sub, err
	}
	dir := opts.Dir
	if err := os.MkdirAll(filepath.Join(recordsDir(dir), "logs"), 0o755); err != nil {
		return sub, fmt.Errorf("slurm: %w", err)
	}

	held := map[string]bool{}
	jobOf := make([]string, len(insts)) // the job computing each instance
	need := make([]bool, len(insts))
	for i, in := range insts {
		if in.Cached {
			sub.Cached++
			continue
		}
		rec, have, err := ReadRecord(dir, in.Stage, in.Key)
		if err != nil {
			return sub, err
		}
		if _, alive := state(rec, have, jobs); alive {
			jobOf[i] = rec.Job
			sub.Queued++
			if j := jobs[rec.Job]; j.State == "PENDING" && j.Reason == "JobHeldUser" {
				// Submitted held by a pit killed before it released the
				// array: release it now.
				held[strings.SplitN(rec.Job, "_", 2)[0]] = true
			}
			continue
		}
		need[i] = true
	}

	for id := range held {
		if _, err := cfg.Client.run(ctx, "", "scontrol", "release", id); err != nil {
			return sub, err
		}
	}

	// Submit level by level: an instance is submitted once each input is
	// cached or has a job; siblings waiting for the same jobs share one
	// array.
	for {
		groups := map[string][]int{}
		var order []string
		for i, in := range insts {
			if !need[i] || jobOf[i] != "" {
				continue
			}
			var deps []string
			ready := true
			for _, d := range in.Inputs {
				switch {
				case insts[d].Cached:
				case jobOf[d] != "":
					deps = append(deps, jobOf[d])
				default:
					ready = false
				}
			}
			if !ready {
				continue
			}
			sort.Strings(deps)
			deps = compact(deps)
			g := in.Stage + "\x00" + strings.Join(deps, ":")
			if _, ok := groups[g]; !ok {
				order = append(order, g)
			}
			groups[g] = append(groups[g], i)
		}
		if len(order) == 0 {
			break
		}
		for _, g := range order {
			_, deps, _ := strings.Cut(g, "\x00")
			id, err := submitArray(ctx, plan, dir, cfg, insts, groups[g], deps)
			if err != nil {
				return sub, err
			}
			for t, i := range groups[g] {
				jobOf[i] = id + "_" + strconv.Itoa(t)
			}
			sub.Jobs = append(sub.Jobs, id)
			sub.Submitted += len(groups[g])
		}
	}
	for i := range insts {
		if need[i] && jobOf[i] == "" {
			return sub, fmt.Errorf("slurm: stage %s %s was not submitted (its inputs were not)", insts[i].Stage, insts[i].Key)
		}
	}

	// Write the runs with the jobs' states as slurmctld now sees them.
	jobs, err = cfg.Client.Jobs(ctx)
	if err != nil {
		return sub, err
	}
	opts.Force = false
	return sub, runner.SyncRuns(ctx, plan, opts, stateFunc(dir, jobs))
}

func compact(s []string) []string {
	out := s[:0]
	for i, v := range s {
		if i == 0 || v != s[i-1] {
			out = append(out, v)
		}
	}
	return out
}

// submitArray submits one array job, held until its tasks' records are
// written (so a task's own record is never overwritten by the submitter).
func submitArray(ctx context.Context, plan runner.Plan, dir string, cfg Config, insts []runner.Instance, tasks []int, deps string) (string, error) {
	stage := insts[tasks[0]].Stage
	var list strings.Builder
	for _, i := range tasks {
		fmt.Fprintf(&list, "%s %s\n", insts[i].Stage, insts[i].Key)
	}
	sum := sha256.Sum256([]byte(list.String() + deps + time.Now().String()))
	tasksFile := filepath.Join(recordsDir(dir), "arrays", stage+"-"+hex.EncodeToString(sum[:6])+".tasks")
	if err := os.MkdirAll(filepath.Dir(tasksFile), 0o755); err != nil {
		return "", fmt.Errorf("slurm: %w", err)
	}
	if err := results.WriteFileAtomic(tasksFile, []byte(list.String())); err != nil {
		return "", err
	}
	logs, err := filepath.Abs(filepath.Join(recordsDir(dir), "logs"))
	if err != nil {
		return "", fmt.Errorf("slurm: %w", err)
	}
	array := fmt.Sprintf("0-%d", len(tasks)-1)
	if cfg.Settings.MaxConcurrent > 0 {
		array += fmt.Sprintf("%%%d", cfg.Settings.MaxConcurrent)
	}
	args := append(cfg.Settings.sbatchArgs(),
		"--job-name=pit-"+plan.Experiment+"-"+stage,
		"--array="+array,
		"--output="+filepath.Join(logs, "%A_%a.out"),
		"--hold",
	)
	if deps != "" {
		args = append(args, "--dependency=afterok:"+deps, "--kill-on-invalid-dep=yes")
	}
	absTasks, err := filepath.Abs(tasksFile)
	if err != nil {
		return "", fmt.Errorf("slurm: %w", err)
	}
	words := []string{cfg.Exe, "slurm-job"}
	words = append(words, cfg.JobArgs...)
	words = append(words, "--tasks", absTasks)
	for i, w := range words {
		words[i] = shellQuote(w)
	}
	script := "#!/bin/sh\n# pit stage " + stage + " (" + strconv.Itoa(len(tasks)) + " task(s))\nexec " + strings.Join(words, " ") + "\n"
	id, err := cfg.Client.Sbatch(ctx, args, script)
	if err != nil {
		return "", err
	}
	now := time.Now()
	var errs []error
	for t, i := range tasks {
		job := id + "_" + strconv.Itoa(t)
		log := filepath.Join(logs, job+".out")
		rec := Record{Stage: insts[i].Stage, Key: insts[i].Key, Job: job, State: Submitted, Log: log, Submitted: now}
		if err := writeRecord(dir, rec); err != nil {
			errs = append(errs, err)
		}
		for _, run := range insts[i].Runs {
			link := filepath.Join(dir, filepath.FromSlash(run), LogsDir, insts[i].Stage+"-"+job+".out")
			if err := symlink(log, link); err != nil {
				errs = append(errs, err)
			}
		}
	}
	if err := errors.Join(errs...); err != nil {
		cfg.Client.Cancel(context.WithoutCancel(ctx), []string{id})
		return "", fmt.Errorf("slurm: job %s cancelled: %w", id, err)
	}
	if _, err := cfg.Client.run(ctx, "", "scontrol", "release", id); err != nil {
		return "", err
	}
	if cfg.Log != nil {
		dep := ""
		if deps != "" {
			dep = " after " + strings.ReplaceAll(deps, ":", ", ")
		}
		fmt.Fprintf(cfg.Log, "submitted job %s: %s x%d%s\n", id, stage, len(tasks), dep)
	}
	return id, nil
}

// symlink points link at target, replacing an older link.
func symlink(target, link string) error {
	if err := os.MkdirAll(filepath.Dir(link), 0o755); err != nil {
		return fmt.Errorf("slurm: %w", err)
	}
	if rel, err := filepath.Rel(filepath.Dir(link), target); err == nil {
		target = rel // the results directory may move
	}
	os.Remove(link)
	if err := os.Symlink(target, link); err != nil {
		return fmt.Errorf("slurm: %w", err)
	}
	return nil
}

// shellQuote quotes s for /bin/sh.
func shellQuote(s string) string {
	if s != "" && strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_./=:,+@%") == "" {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
