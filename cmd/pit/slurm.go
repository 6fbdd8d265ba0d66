package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/pit-lab/pit/core/runner"
	"github.com/pit-lab/pit/core/runner/slurm"
)

// The Slurm executor: "pit run --executor slurm" (runSlurm) submits the
// grid, each job runs the hidden "pit slurm-job", and "pit cancel" cancels
// a grid's jobs.

func init() {
	register(&command{
		name:    "slurm-job",
		summary: "compute one stage instance inside a Slurm array task (internal)",
		hidden:  true,
		run:     slurmJobCmd,
	})
	register(&command{
		name:    "cancel",
		summary: "cancel the Slurm jobs of a grid",
		run:     cancelCmd,
	})
}

// runSlurm is pit run with the Slurm executor.
func runSlurm(ctx context.Context, file, dir, codeVersion, device string, force, wait bool, settings *slurm.Settings, plan runner.Plan, opts runner.Options, stdout io.Writer) error {
	exe, err := os.Executable()
	if err != nil {
		return err
	}
	absFile, err := filepath.Abs(file)
	if err != nil {
		return err
	}
	absDir, err := filepath.Abs(dir)
	if err != nil {
		return err
	}
	args := []string{"--file", absFile, "--dir", absDir, "--cache", opts.Cache}
	if codeVersion != "" {
		args = append(args, "--code-version", codeVersion)
	}
	if device != "" {
		args = append(args, "--device", device)
	}
	if force {
		args = append(args, "--force")
	}
	sub, err := slurm.Submit(ctx, plan, opts, slurm.Config{Settings: settings, Exe: exe, JobArgs: args, Log: stdout})
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "%d stage instances: %d in the cache, %d already queued, %d submitted now in %d job(s)\n",
		sub.Instances, sub.Cached, sub.Queued, sub.Submitted, len(sub.Jobs))
	if !wait {
		fmt.Fprintf(stdout, "results: %s\nfollow with: pit status %s   (cancel with: pit cancel %s)\n", dir, file, file)
		return nil
	}
	sum, err := slurm.Wait(ctx, plan, opts, nil, time.Second)
	if errors.Is(err, runner.ErrInterrupted) {
		fmt.Fprintln(stdout, "stopped waiting; the jobs go on (pit status shows them)")
		return exitError{130}
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "%d runs: %d done, %d failed\n", sum.Runs, sum.Done, sum.Failed)
	for _, r := range sum.FailedRuns {
		fmt.Fprintf(stdout, "failed: %s (see %s)\n", r, filepath.Join(dir, filepath.FromSlash(r), "manifest.json"))
	}
	fmt.Fprintf(stdout, "results: %s\n", dir)
	if sum.Failed > 0 {
		return exitError{1}
	}
	return nil
}

func slurmJobCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("pit slurm-job", flag.ContinueOnError)
	fs.SetOutput(stderr)
	file := fs.String("file", "", "experiment file")
	dir := fs.String("dir", "", "the experiment's results directory")
	cacheFlag := fs.String("cache", "", "the stage cache's directory (default: DIR/.cache)")
	tasks := fs.String("tasks", "", "the array's tasks file")
	codeVersion := fs.String("code-version", "", "code version of the stage keys")
	force := fs.Bool("force", false, "recompute the stage even if it is in the cache")
	device := fs.String("device", "", "pit run's --device, if it was given")
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return exitError{2}
	}
	if *file == "" || *dir == "" || *tasks == "" || len(pos) > 0 {
		fmt.Fprintln(stderr, "Usage: pit slurm-job --file FILE --dir DIR --tasks FILE [--cache DIR] [--code-version V] [--device D] [--force]\n(run by the Slurm jobs that pit run --executor slurm submits)")
		return exitError{2}
	}
	stage, key, job, err := slurm.FromEnvironment(*tasks)
	if err != nil {
		return err
	}
	fmt.Fprintf(stderr, "pit slurm-job: job %s: stage %s key %s\n", job, stage, key)
	exp, runs, err := loadExperiment(ctx, *file, stderr, deviceOverride(*device)...)
	if err != nil {
		return err
	}
	plan, err := runner.PlanFor(exp, runs)
	if err != nil {
		return err
	}
	plugins, closePlugins, err := newPluginHost(ctx, stderr)
	if err != nil {
		return err
	}
	defer closePlugins()
	opts := runner.Options{Dir: *dir, Cache: *cacheFlag, Force: *force, Plugins: plugins, CodeVersion: *codeVersion}
	if err := slurm.RunJob(ctx, plan, opts, stage, key, job); err != nil {
		return err
	}
	fmt.Fprintf(stderr, "pit slurm-job: job %s: stage %s done\n", job, stage)
	return nil
}

func cancelCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("pit cancel", flag.ContinueOnError)
	fs.SetOutput(stderr)
	out := fs.String("out", "", "results root, for an experiment FILE (default: the file's out)")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "Usage: pit cancel [FILE|DIR] [--out DIR]")
		fmt.Fprintln(stderr, "\nCancels the pending and running Slurm jobs of a grid that pit run --executor slurm")
		fmt.Fprintln(stderr, "submitted. FILE is the experiment file, DIR its results directory; default "+defaultExperiment+".")
		fmt.Fprintln(stderr, "\nFlags:")
		fs.PrintDefaults()
	}
	pos, err := parseInterspersed(fs, args)
	if errors.Is(err, flag.ErrHelp) {
		return nil
	}
	if err != nil || len(pos) > 1 {
		return exitError{2}
	}
	target := defaultExperiment
	if len(pos) == 1 {
		target = pos[0]
	}
	st, err := os.Stat(target)
	if err != nil {
		return err
	}
	dir := target
	if !st.IsDir() {
		exp, _, err := loadExperiment(ctx, target, stderr)
		if err != nil {
			return err
		}
		root := exp.Out
		if *out != "" {
			root = *out
		}
		dir = filepath.Join(root, exp.Name)
	}
	ids, err := slurm.Cancel(ctx, dir, nil)
	if err != nil {
		return err
	}
	if len(ids) == 0 {
		fmt.Fprintf(stdout, "no pending or running jobs for %s\n", dir)
		return nil
	}
	fmt.Fprintf(stdout, "cancelled %d job(s): %s\n", len(ids), strings.Join(ids, " "))
	return nil
}
