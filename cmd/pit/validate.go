package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/pit-lab/pit/core/experiment"
	"github.com/pit-lab/pit/core/runner/slurm"
)

func init() {
	register(&command{
		name:    "validate",
		summary: "check experiment files and summarise their grids",
		run:     runValidate,
	})
}

// runValidate checks each file (experiments.toml by default). A valid file
// prints "OK" and a summary; an invalid one prints every problem as
// file:line: key: message on stderr, and the exit status is 1.
func runValidate(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("validate", flag.ContinueOnError)
	fs.SetOutput(stderr)
	plan := fs.Bool("plan", false, "also print the expanded runs and each arm's differences from the baseline")
	out := fs.String("out", "", "results root to check paths against, as pit run --out (default: the file's out)")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "Usage: pit validate [-plan] [-out DIR] [FILE ...]\n\nChecks experiment files (default experiments.toml) before any work starts:")
		fmt.Fprintln(stderr, "every check pit run makes before computing (settings, plugins, stage dependencies,")
		fmt.Fprintln(stderr, "cross-stage plugin compatibility, path lengths, memory on this machine unless the")
		fmt.Fprintln(stderr, "file's [executor] is slurm).")
		fs.PrintDefaults()
	}
	files, err := parseInterspersed(fs, args)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return exitError{2}
	}
	if len(files) == 0 {
		if _, err := os.Stat(defaultExperiment); errors.Is(err, os.ErrNotExist) {
			fmt.Fprint(stderr, noExperimentHint("validate"))
			return exitError{2}
		}
		files = []string{defaultExperiment}
	}
	failed := false
	for i, file := range files {
		if i > 0 {
			fmt.Fprintln(stdout)
		}
		exp, err := experiment.Load(ctx, file)
		if err != nil {
			failed = true
			var list experiment.ErrorList
			if errors.As(err, &list) {
				fmt.Fprintln(stderr, list.Error())
				fmt.Fprintf(stderr, "%s: %d problem(s)\n", file, len(list))
			} else {
				fmt.Fprintf(stderr, "%v\n", err)
			}
			continue
		}
		runs, err := experiment.Expand(exp)
		if err != nil {
			failed = true
			fmt.Fprintf(stderr, "%s: %v\n", file, err)
			continue
		}
		root := exp.Out
		if *out != "" {
			root = *out
		}
		local := slurm.FromExperiment(exp).Kind != slurm.Slurm
		cache, err := cacheDir("", exp)
		if err != nil {
			return err
		}
		if err := preflight(ctx, exp, filepath.Join(root, exp.Name), cache, local, stderr, ""); err != nil {
			if _, ok := err.(exitError); !ok {
				return err
			}
			failed = true
			continue
		}
		fmt.Fprintf(stdout, "OK %s\n", file)
		if err := experiment.Summary(stdout, exp); err != nil {
			return err
		}
		if *plan {
			fmt.Fprintln(stdout)
			if err := experiment.PrintPlan(stdout, runs); err != nil {
				return err
			}
		}
	}
	if failed {
		return exitError{1}
	}
	return nil
}
