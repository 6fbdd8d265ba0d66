package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/pit-lab/pit/core/results"
	"github.com/pit-lab/pit/plots"
)

func init() {
	register(&command{
		name:    "export",
		summary: "write an experiment's results as one tidy CSV (pandas, rliable)",
		run:     runExport,
	})
}

func runExport(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("export", flag.ContinueOnError)
	fs.SetOutput(stderr)
	out := fs.String("o", "", "write the CSV to this file (atomically) instead of stdout")
	outcomes := fs.Bool("outcomes", false, "include one row per judged prompt (outcomes.jsonl)")
	summary := fs.Bool("summary", false, "write one row per arm × quantity instead: statistic over seeds, bootstrap CI, P(arm > baseline)")
	stat := fs.String("stat", "mean", "with --summary: mean, median or iqm")
	seed := fs.Uint64("seed", 1, "with --summary: bootstrap seed")
	includeFailed := fs.Bool("include-failed", false, "also export runs that failed, were interrupted or never finished (their tables may be partial)")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "Usage: pit export [FILE|DIR] [-o results.csv] [--outcomes | --summary [--stat S] [--seed N]] [--include-failed]")
		fmt.Fprintln(stderr, "\nWrites one row per run × step/iteration × metric, with the arm's factor values as columns;")
		fmt.Fprintln(stderr, "with --summary, one row per arm × final metric or eval measure.")
		fs.PrintDefaults()
	}
	pos, err := parseInterspersed(fs, args)
	if errors.Is(err, flag.ErrHelp) {
		return nil
	}
	if err != nil {
		return exitError{2}
	}
	target, err := defaultTarget(pos)
	if err != nil {
		return err
	}
	res, _, err := openResults(ctx, target)
	if err != nil {
		return err
	}
	if !*includeFailed {
		var kept []*plots.Run
		for _, r := range res.Runs {
			if r.Manifest.Status == results.StatusDone {
				kept = append(kept, r)
			}
		}
		if n := len(res.Runs) - len(kept); n > 0 {
			fmt.Fprintf(stderr, "pit export: left out %d run(s) that did not finish (--include-failed exports them)\n", n)
		}
		res.Runs = kept
	}
	var buf bytes.Buffer
	if *summary {
		err = plots.WriteSummaryCSV(ctx, &buf, res, plots.SummaryOptions{Stat: *stat, Seed: *seed})
	} else {
		err = plots.WriteCSV(ctx, &buf, res, plots.ExportOptions{Outcomes: *outcomes})
	}
	if err != nil {
		return err
	}
	if *out == "" {
		_, err := stdout.Write(buf.Bytes())
		return err
	}
	if err := results.WriteFileAtomic(*out, buf.Bytes()); err != nil {
		return err
	}
	if err := os.Chmod(*out, 0o644); err != nil { // a file to share, like any the user makes
		return err
	}
	fmt.Fprintln(stdout, *out)
	return nil
}
