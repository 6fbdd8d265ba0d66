package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"

	"github.com/pit-lab/pit/core/experiment"
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
	fs.Usage = func() {
		fmt.Fprintln(stderr, "Usage: pit validate [-plan] [FILE ...]\n\nChecks experiment files (default experiments.toml) before any work starts.")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return exitError{2}
	}
	files := fs.Args()
	if len(files) == 0 {
		files = []string{"experiments.toml"}
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
