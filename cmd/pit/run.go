package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/pit-lab/pit/core/experiment"
	"github.com/pit-lab/pit/core/runner"
	"github.com/pit-lab/pit/core/runner/slurm"
	"github.com/pit-lab/pit/plots"
	"golang.org/x/sys/unix"
)

// defaultExperiment is the file pit run and pit status read when given none.
const defaultExperiment = "experiments.toml"

func init() {
	register(&command{
		name:    "run",
		summary: "run an experiment's grid (default experiments.toml)",
		run:     runCmd,
	})
}

func runCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("pit run", flag.ContinueOnError)
	fs.SetOutput(stderr)
	out := fs.String("out", "", "results root (default: the file's out, or \"results\")")
	jobs := fs.Int("jobs", 1, "stages to compute at once")
	force := fs.Bool("force", false, "recompute every stage even if it is in the cache")
	dry := fs.Bool("dry-run", false, "print the expanded runs and each arm's difference from the baseline, run nothing")
	progress := fs.String("progress", "auto", "progress display: auto (live on a terminal), live or plain")
	executor := fs.String("executor", "", "where stages run: local or slurm (default: the file's [executor] kind, else local)")
	wait := fs.Bool("wait", false, "with --executor slurm: wait until the jobs end and report the runs")
	codeVersion := fs.String("code-version", "", "pin the code version in stage keys (default: the executable's SHA-256); reuses\nartefacts across rebuilds, so use it only when no stage's code changed")
	device := fs.String("device", "", "where the models run, cpu or cuda: overrides the file's [model] device (cuda needs\nthe CUDA build of pit, see the README's GPU section)")
	cacheFlag := fs.String("cache", "", "the stage cache's directory, shared by every experiment (default: the file's [cache] dir,\nelse $PIT_CACHE, $XDG_CACHE_HOME/pit or ~/.cache/pit)")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "Usage: pit run [FILE] [--out DIR] [--cache DIR] [--jobs N] [--force] [--dry-run] [--progress MODE] [--executor local|slurm [--wait]] [--device cpu|cuda]")
		fmt.Fprintln(stderr, "\nRuns the experiment's grid; FILE defaults to "+defaultExperiment+".")
		fmt.Fprintln(stderr, "Stages whose key is in the stage cache (the user's, ~/.cache/pit, unless --cache,")
		fmt.Fprintln(stderr, "[cache] dir or $PIT_CACHE say otherwise) are reused, by any experiment that shares")
		fmt.Fprintln(stderr, "them, so running the same command again after an interruption finishes the grid.")
		fmt.Fprintln(stderr, "--dry-run says why each stage is not reused; pit cache ls|du|gc|verify manage it.")
		fmt.Fprintln(stderr, "\nFlags:")
		fs.PrintDefaults()
	}
	pos, err := parseInterspersed(fs, args)
	if errors.Is(err, flag.ErrHelp) {
		return nil
	}
	if err != nil {
		return exitError{2}
	}
	if len(pos) > 1 {
		fmt.Fprintf(stderr, "pit run: want at most one experiment file, got %d: %s\n", len(pos), strings.Join(pos, " "))
		return exitError{2}
	}
	if *jobs < 1 {
		fmt.Fprintf(stderr, "pit run: --jobs %d: want at least 1\n", *jobs)
		return exitError{2}
	}
	file := defaultExperiment
	if len(pos) == 1 {
		file = pos[0]
	}

	if len(pos) == 0 {
		if _, err := os.Stat(file); errors.Is(err, os.ErrNotExist) {
			fmt.Fprint(stderr, noExperimentHint("run"))
			return exitError{2}
		}
	}
	exp, runs, err := loadExperiment(ctx, file, stderr, deviceOverride(*device)...)
	if err != nil {
		return err
	}
	root := exp.Out
	if *out != "" {
		root = *out
	}
	dir := filepath.Join(root, exp.Name)
	cache, err := cacheDir(*cacheFlag, exp)
	if err != nil {
		return err
	}
	onSlurm := *executor == slurm.Slurm || (*executor == "" && slurm.FromExperiment(exp).Kind == slurm.Slurm)
	if err := preflight(ctx, exp, dir, cache, !onSlurm, stderr, "; nothing was run"); err != nil {
		return err
	}

	live := false
	switch *progress {
	case "auto":
		f, ok := stderr.(*os.File)
		live = ok && runner.IsTerminal(f)
	case "live":
		live = true
	case "plain":
	default:
		fmt.Fprintf(stderr, "pit run: --progress %q: want auto, live or plain\n", *progress)
		return exitError{2}
	}
	display := runner.NewProgress(stderr, live)
	if f, ok := stderr.(*os.File); ok && live {
		if ws, err := unix.IoctlGetWinsize(int(f.Fd()), unix.TIOCGWINSZ); err == nil {
			display.SetWidth(int(ws.Col))
		}
	}
	plugins, closePlugins, err := newPluginHost(ctx, display.Writer())
	if err != nil {
		return err
	}
	defer closePlugins()
	if err := prepareRun(plugins, runs, dir, *dry); err != nil {
		fmt.Fprintf(stderr, "pit run: %s: %v\n", file, err)
		return exitError{1}
	}

	plan, err := runner.PlanFor(exp, runs)
	if err != nil {
		return err
	}
	if *dry {
		if err := experiment.PrintPlan(stdout, runs); err != nil {
			return err
		}
		ps, err := runner.Preview(ctx, plan, runner.Options{Dir: dir, Cache: cache, Force: *force, Plugins: plugins, CodeVersion: *codeVersion})
		if err != nil {
			return err
		}
		if err := runner.WritePreview(stdout, ps); err != nil {
			return err
		}
		_, err = fmt.Fprintf(stdout, "stage cache: %s\n", cache)
		return err
	}

	execSettings := slurm.FromExperiment(exp)
	if *executor == "" {
		*executor = execSettings.Kind
	}
	switch *executor {
	case slurm.Local:
		// Computing what queued Slurm jobs will compute wastes both.
		if ids, err := slurm.LiveJobs(ctx, dir, nil); err == nil && len(ids) > 0 {
			fmt.Fprintf(stderr, "pit run: %d Slurm job(s) of this grid are pending or running (%s ...); wait for them, add --executor slurm, or pit cancel them first\n", len(ids), ids[0])
			return exitError{1}
		}
	case slurm.Slurm:
		opts := runner.Options{Dir: dir, Cache: cache, Force: *force, Plugins: plugins, CodeVersion: *codeVersion}
		return runSlurm(ctx, file, dir, *codeVersion, *device, *force, *wait, execSettings, plan, opts, stdout)
	default:
		fmt.Fprintf(stderr, "pit run: --executor %q: want local or slurm\n", *executor)
		return exitError{2}
	}

	// A second SIGINT/SIGTERM while the grid winds down exits at once;
	// plugins watch their parent and exit too.
	go func() {
		<-ctx.Done()
		ch := make(chan os.Signal, 1)
		signal.Notify(ch, os.Interrupt, syscall.SIGTERM)
		fmt.Fprintln(display.Writer(), "pit run: stopping; interrupted runs resume when the same command runs again (signal again to quit now)")
		<-ch
		os.Exit(130)
	}()

	sum, err := runner.Execute(ctx, plan, runner.Options{
		Dir:         dir,
		Cache:       cache,
		Jobs:        *jobs,
		Force:       *force,
		Plugins:     plugins,
		Display:     display,
		CodeVersion: *codeVersion,
	})
	interrupted := errors.Is(err, runner.ErrInterrupted)
	if err != nil && !interrupted {
		return err
	}
	fmt.Fprintf(stdout, "%d runs: %d done, %d failed", sum.Runs, sum.Done, sum.Failed)
	if sum.Interrupted+sum.Pending > 0 {
		fmt.Fprintf(stdout, ", %d interrupted, %d not started", sum.Interrupted, sum.Pending)
	}
	fmt.Fprintf(stdout, "; %d stages computed, %d reused from the cache\n", sum.Computed, sum.Cached)
	for _, r := range sum.FailedRuns {
		fmt.Fprintf(stdout, "failed: %s (see %s)\n", r, filepath.Join(dir, filepath.FromSlash(r), "manifest.json"))
	}
	for _, report := range reports {
		if err := report(stdout, dir); err != nil {
			fmt.Fprintf(stderr, "pit run: %v\n", err)
		}
	}
	fmt.Fprintf(stdout, "results: %s\n", dir)
	plotsFailed := false
	if !interrupted {
		plotsFailed = drawDeclared(ctx, exp, dir, stdout, stderr)
	}
	switch {
	case interrupted:
		fmt.Fprintf(stdout, "interrupted: run the same command again to finish the grid\n")
		return exitError{130}
	case sum.Failed > 0 || plotsFailed:
		return exitError{1}
	}
	return nil
}

// drawDeclared draws the figures the experiment declares ([[plot]]) from
// its results and prints where they went; it reports whether drawing failed.
func drawDeclared(ctx context.Context, exp *experiment.Experiment, dir string, stdout, stderr io.Writer) bool {
	base := exp.Baseline()
	if base == nil {
		return false
	}
	specs := plots.DeclaredSpecs(base.Config)
	if len(specs) == 0 {
		return false
	}
	outs, err := plots.DrawExperiment(ctx, dir, specs, plots.Options{})
	for _, o := range outs {
		fmt.Fprintf(stdout, "figure: %s\n", o.Path)
		for _, n := range o.Notes {
			fmt.Fprintf(stdout, "  note: %s\n", n)
		}
	}
	if err != nil {
		fmt.Fprintf(stderr, "pit run: figures: %v\n", err)
		return true
	}
	return false
}

// loadExperiment loads and expands an experiment file, printing every
// validation problem.
func loadExperiment(ctx context.Context, file string, stderr io.Writer, opts ...experiment.Option) (*experiment.Experiment, []experiment.Run, error) {
	exp, err := experiment.Load(ctx, file, opts...)
	if err != nil {
		var list experiment.ErrorList
		if errors.As(err, &list) {
			for _, e := range list {
				fmt.Fprintln(stderr, e)
			}
			fmt.Fprintf(stderr, "%s: %d problem(s); nothing was run\n", file, len(list))
			return nil, nil, exitError{1}
		}
		return nil, nil, err
	}
	runs, err := experiment.Expand(exp)
	if err != nil {
		return nil, nil, err
	}
	return exp, runs, nil
}

// preflight runs every check a run would otherwise fail after work
// (experiment.Preflight: stage dependencies, cross-stage plugin
// compatibility, path lengths, memory) for results in dir and the stage
// cache in cache (a path: its length counts), printing each
// problem at file:line, then "FILE: N problem(s)" and suffix. pit validate
// and pit run both call it, so the two cannot disagree about a file; the
// error is exitError{1} when the file has problems. Memory is checked
// against this machine only when the stages run here (localMemory): Slurm
// jobs run on other nodes.
func preflight(ctx context.Context, exp *experiment.Experiment, dir, cache string, localMemory bool, stderr io.Writer, suffix string) error {
	env := experiment.MachineEnv(dir)
	env.CacheDir = cache
	if !localMemory {
		env.MemAvailable = 0
	}
	err := experiment.Preflight(ctx, exp, env)
	if err == nil {
		return nil
	}
	var list experiment.ErrorList
	if !errors.As(err, &list) {
		return err
	}
	for _, e := range list {
		fmt.Fprintln(stderr, e)
	}
	fmt.Fprintf(stderr, "%s: %d problem(s)%s\n", exp.File, len(list), suffix)
	return exitError{1}
}

// noExperimentHint explains what pit looks for when it is given no file
// and the working directory has no experiments.toml.
func noExperimentHint(cmd string) string {
	wd, _ := os.Getwd()
	then := "then runs it"
	if cmd != "run" {
		then = "then checks it"
	}
	return fmt.Sprintf(`pit %s: no experiment file given, and there is no %s in %s.
pit %s reads the experiment file named on the command line (pit %s FILE),
else %s in the working directory. To start one here:
  pit init            # writes a commented minimal %s (and, with --plugin go|python, a plugin skeleton)
  pit %-15s # %s
or use one of the shipped experiments from a checkout of pit, e.g. pit %s experiments/curriculum-ablation.toml
`, cmd, defaultExperiment, wd, cmd, cmd, defaultExperiment, defaultExperiment, cmd, then, cmd)
}

// deviceOverride is the experiment option of --device: none when the flag
// is empty, else [model] device set to its value (validated with the file,
// so a bad value or cuda in a CPU-only binary is reported like a file
// error).
func deviceOverride(device string) []experiment.Option {
	if device == "" {
		return nil
	}
	return []experiment.Option{experiment.Set("model.device", device)}
}
