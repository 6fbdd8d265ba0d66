package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/pit-lab/pit/core/results"
	"github.com/pit-lab/pit/core/runner"
	"github.com/pit-lab/pit/core/runner/slurm"
)

func init() {
	register(&command{
		name:    "status",
		summary: "show the state of a grid's runs (and why runs failed)",
		run:     statusCmd,
	})
}

func statusCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("pit status", flag.ContinueOnError)
	fs.SetOutput(stderr)
	out := fs.String("out", "", "results root, for an experiment FILE (default: the file's out)")
	stages := fs.Bool("stages", false, "also list each run's stages with their compute time in seconds")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "Usage: pit status [FILE|DIR] [--out DIR] [--stages]")
		fmt.Fprintln(stderr, "\nShows each run's state: FILE is an experiment file (its runs not started")
		fmt.Fprintln(stderr, "yet are listed too), DIR a results directory (one experiment's or a root).")
		fmt.Fprintln(stderr, "Default: "+defaultExperiment+" if it exists, else results/.")
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
		fmt.Fprintln(stderr, "pit status: want at most one FILE or DIR")
		return exitError{2}
	}
	target := ""
	if len(pos) == 1 {
		target = pos[0]
	} else if _, err := os.Stat(defaultExperiment); err == nil {
		target = defaultExperiment
	} else {
		target = "results"
	}
	st, err := os.Stat(target)
	if err != nil && len(pos) == 0 {
		fmt.Fprintf(stderr, "pit status: no %s and no results/ in the working directory; give an experiment FILE or a results DIR (pit status FILE|DIR), or start with pit init\n", defaultExperiment)
		return exitError{2}
	}
	if err != nil {
		return err
	}
	var dir string
	var expected []string
	if st.IsDir() {
		dir = target
	} else {
		exp, runs, err := loadExperiment(ctx, target, stderr)
		if err != nil {
			return err
		}
		root := exp.Out
		if *out != "" {
			root = *out
		}
		dir = filepath.Join(root, exp.Name)
		for _, r := range runs {
			expected = append(expected, r.ID)
		}
	}
	var states []results.RunState
	unreadable := map[string]bool{} // run IDs whose manifest could not be read
	failed := false
	if _, err := os.Stat(dir); err == nil {
		states, err = results.ScanRuns(dir)
		if err != nil {
			// A manifest that cannot be read (cut short, no permission)
			// leaves the run's state unknown: say which file, and exit
			// non-zero rather than report the run as not started.
			failed = true
			bad := results.ManifestErrors(err)
			for _, me := range bad {
				fmt.Fprintf(stderr, "pit status: %v; the run's state is unknown (run the experiment again to rewrite it)\n", me)
				if rel, err := filepath.Rel(dir, filepath.Dir(me.Path)); err == nil {
					unreadable[filepath.ToSlash(rel)] = true
				}
			}
			if len(bad) == 0 {
				fmt.Fprintf(stderr, "pit status: %v\n", err)
			}
		}
	} else if expected == nil {
		return err
	}
	if err := slurm.Refresh(ctx, states, nil); err != nil {
		fmt.Fprintf(stderr, "pit status: Slurm job states unknown: %v\n", err)
	}
	var missing []string
	if expected != nil {
		have := map[string]bool{}
		for _, s := range states {
			have[s.Manifest.Run] = true
		}
		for _, id := range expected {
			if !have[id] && !unreadable[id] {
				missing = append(missing, id)
			}
		}
	}
	fmt.Fprintf(stdout, "results: %s\n", dir)
	if err := runner.WriteStatus(stdout, states, missing, time.Now()); err != nil {
		return err
	}
	if *stages && len(states) > 0 {
		fmt.Fprintln(stdout)
		if err := runner.WriteStageTimes(stdout, states); err != nil {
			return err
		}
	}
	if failed {
		return exitError{1}
	}
	return nil
}
