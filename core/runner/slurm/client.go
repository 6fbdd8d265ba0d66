package slurm

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
)

// Client runs Slurm's commands. Its zero value uses sbatch, scontrol and
// scancel from PATH with the environment's SLURM_CONF.
type Client struct {
	// Env is added to the commands' environment (e.g. "SLURM_CONF=...").
	Env []string
}

func (c *Client) run(ctx context.Context, stdin string, name string, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, name, args...)
	if len(c.Env) > 0 {
		cmd.Env = append(cmd.Environ(), c.Env...)
	}
	if stdin != "" {
		cmd.Stdin = strings.NewReader(stdin)
	}
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		if errors.Is(err, exec.ErrNotFound) {
			return "", fmt.Errorf("slurm: %s not found on PATH: is this a Slurm login node (or is Slurm installed)?", name)
		}
		msg := strings.TrimSpace(errb.String())
		if msg == "" {
			msg = strings.TrimSpace(out.String())
		}
		return out.String(), fmt.Errorf("slurm: %s %s: %v: %s", name, strings.Join(args, " "), err, msg)
	}
	return out.String(), nil
}

// Sbatch submits a batch script and returns the job id ("--parsable"
// output may be "ID;cluster").
func (c *Client) Sbatch(ctx context.Context, args []string, script string) (string, error) {
	out, err := c.run(ctx, script, "sbatch", append([]string{"--parsable"}, args...)...)
	if err != nil {
		return "", err
	}
	id := strings.TrimSpace(out)
	if i := strings.IndexByte(id, ';'); i >= 0 {
		id = id[:i]
	}
	if _, err := strconv.Atoi(id); err != nil {
		return "", fmt.Errorf("slurm: sbatch printed %q, want a job id", out)
	}
	return id, nil
}

// Cancel cancels jobs or array tasks ("12", "12_3").
func (c *Client) Cancel(ctx context.Context, ids []string) error {
	if len(ids) == 0 {
		return nil
	}
	_, err := c.run(ctx, "", "scancel", ids...)
	return err
}

// Job is a job's state as slurmctld reports it.
type Job struct {
	ID       string // "12" or, for an array task, "12_3"
	State    string // PENDING, RUNNING, COMPLETED, FAILED, CANCELLED, TIMEOUT, ...
	Reason   string // why it is pending ("Dependency", "DependencyNeverSatisfied", ...)
	ExitCode string // "code:signal"
}

// Alive reports whether the job may still run (it has not ended).
func (j Job) Alive() bool {
	switch j.State {
	case "COMPLETED", "FAILED", "CANCELLED", "TIMEOUT", "NODE_FAIL", "OUT_OF_MEMORY",
		"PREEMPTED", "BOOT_FAIL", "DEADLINE", "SPECIAL_EXIT", "REVOKED":
		return false
	}
	return true
}

// Jobs returns every job slurmctld knows (finished ones stay known for
// MinJobAge), by id; a pending array's tasks are listed one by one.
func (c *Client) Jobs(ctx context.Context) (map[string]Job, error) {
	out, err := c.run(ctx, "", "scontrol", "show", "job", "-o")
	if err != nil {
		return nil, err
	}
	return parseJobs(out), nil
}

var fieldRE = regexp.MustCompile(`(?:^|\s)(JobId|ArrayJobId|ArrayTaskId|JobState|Reason|ExitCode)=(\S*)`)

// parseJobs parses "scontrol show job -o" output, one job per line.
func parseJobs(out string) map[string]Job {
	jobs := map[string]Job{}
	for _, line := range strings.Split(out, "\n") {
		f := map[string]string{}
		for _, m := range fieldRE.FindAllStringSubmatch(line, -1) {
			if _, dup := f[m[1]]; !dup {
				f[m[1]] = m[2]
			}
		}
		if f["JobId"] == "" || f["JobState"] == "" {
			continue
		}
		j := Job{ID: f["JobId"], State: f["JobState"], Reason: f["Reason"], ExitCode: f["ExitCode"]}
		arr, task := f["ArrayJobId"], f["ArrayTaskId"]
		if arr == "" || task == "" {
			jobs[j.ID] = j
			continue
		}
		for _, t := range expandTasks(task) {
			j.ID = arr + "_" + strconv.Itoa(t)
			jobs[j.ID] = j
		}
	}
	return jobs
}

// expandTasks expands an array task list such as "3", "0-7%2" or "1,4-5".
func expandTasks(s string) []int {
	if i := strings.IndexByte(s, '%'); i >= 0 {
		s = s[:i]
	}
	var out []int
	for _, part := range strings.Split(s, ",") {
		lo, hi, isRange := strings.Cut(part, "-")
		a, err := strconv.Atoi(lo)
		if err != nil {
			continue
		}
		b := a
		if isRange {
			step := 1
			if h, st, ok := strings.Cut(hi, ":"); ok {
				hi = h
				if v, err := strconv.Atoi(st); err == nil && v > 0 {
					step = v
				}
			}
			if b, err = strconv.Atoi(hi); err != nil {
				continue
			}
			for t := a; t <= b; t += step {
				out = append(out, t)
			}
			continue
		}
		out = append(out, b)
	}
	return out
}
