package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"path/filepath"

	"github.com/pit-lab/pit/core/results"
	"github.com/pit-lab/pit/plots"

	// The PIT pipeline's stage kinds (data, sft, rm, rlhf, pit_sft, pit_rm,
	// pit_rl, eval), the "synthetic" task kind and the "transformer" model
	// kind.
	"github.com/pit-lab/pit/core/pipeline"
)

// reports print summaries of an experiment's results directory at the end
// of pit run, before the line that says where the results are.
var reports = []func(w io.Writer, dir string) error{
	pipeline.PrintReport, // the eval table of every run that has one
	writeSummary,         // a grid's per-arm summary CSV
}

// SummaryFile is the per-arm summary (statistic over seeds with bootstrap
// 95% intervals, plots.WriteSummaryCSV) that pit run writes next to the
// runs of a grid.
const SummaryFile = "summary.csv"

// writeSummary writes SummaryFile for a grid of more than one done run.
func writeSummary(w io.Writer, dir string) error {
	ctx := context.Background()
	res, err := plots.Load(ctx, dir)
	if err != nil {
		return nil // nothing to summarise (PrintReport said so, if anything)
	}
	done := 0
	for _, r := range res.Runs {
		if r.Manifest.Status == results.StatusDone {
			done++
		}
	}
	if done < 2 {
		return nil
	}
	var buf bytes.Buffer
	if err := plots.WriteSummaryCSV(ctx, &buf, res, plots.SummaryOptions{Stat: "mean", Seed: 1}); err != nil {
		return fmt.Errorf("summary: %w", err)
	}
	path := filepath.Join(dir, SummaryFile)
	if err := results.WriteFileAtomic(path, buf.Bytes()); err != nil {
		return err
	}
	fmt.Fprintf(w, "per-arm summary with bootstrap 95%% CIs over seeds: %s\n", path)
	return nil
}
