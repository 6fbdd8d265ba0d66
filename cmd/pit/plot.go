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

	"github.com/pit-lab/pit/plots"
)

func init() {
	register(&command{
		name:    "plot",
		summary: "draw the figures of an experiment (declared [[plot]]s or a default set)",
		run:     runPlot,
	})
}

// openResults reads the results named by target: an experiment file (its
// name and out locate the results; its [[plot]] tables are returned) or an
// experiment's results directory.
func openResults(ctx context.Context, target string) (*plots.Results, []plots.Spec, error) {
	st, err := os.Stat(target)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, nil, fmt.Errorf("%s: no such experiment file or results directory", target)
		}
		return nil, nil, err
	}
	var specs []plots.Spec
	dir := target
	if !st.IsDir() {
		d, err := plots.ReadExperiment(target)
		if err != nil {
			return nil, nil, err
		}
		dir, specs = d.ResultsDir, d.Plots
	}
	res, err := plots.Load(ctx, dir)
	if err != nil {
		return nil, nil, err
	}
	return res, specs, nil
}

func defaultTarget(pos []string) (string, error) {
	switch len(pos) {
	case 0:
		return "experiments.toml", nil
	case 1:
		return pos[0], nil
	}
	return "", fmt.Errorf("want one experiment file or results directory, got %d arguments", len(pos))
}

func runPlot(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("plot", flag.ContinueOnError)
	fs.SetOutput(stderr)
	out := fs.String("out", "", "directory for the figures (default <results>/figures)")
	format := fs.String("format", "", "png, svg or pdf for every figure (default: each figure's own, else png)")
	dpi := fs.Int("dpi", 0, "PNG resolution of every figure (default: each figure's own, else 300)")
	defaults := fs.Bool("defaults", false, "draw the default set even if the experiment declares figures")
	all := fs.Bool("all", false, "draw every logged metric's learning curve, not only the curated ones (implies --defaults)")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "Usage: pit plot [FILE|DIR] [--out DIR] [--format png|svg|pdf] [--dpi N] [--defaults] [--all]")
		fmt.Fprintln(stderr, "\nDraws the [[plot]] figures of an experiment file, or a default set for the")
		fmt.Fprintln(stderr, "results directory of an experiment (<out>/<name>). FILE defaults to experiments.toml.")
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
	res, specs, err := openResults(ctx, target)
	if err != nil {
		return err
	}
	switch {
	case *all:
		specs = plots.AllSpecs(res)
	case len(specs) == 0 || *defaults:
		specs = plots.DefaultSpecs(res)
	}
	opt := plots.Options{OutDir: *out, Format: *format, DPI: *dpi}
	if opt.OutDir == "" {
		opt.OutDir = filepath.Join(res.Dir, "figures")
	}
	outs, err := plots.DrawAll(ctx, res, specs, opt)
	for _, o := range outs {
		if o.Path != "" {
			fmt.Fprintln(stdout, o.Path)
		}
	}
	printNotes(stderr, outs)
	return err
}

// printNotes reports each distinct note once, with the figures it concerns.
func printNotes(w io.Writer, outs []plots.Output) {
	var order []string
	figs := map[string][]string{}
	for _, o := range outs {
		for _, n := range o.Notes {
			if figs[n] == nil {
				order = append(order, n)
			}
			figs[n] = append(figs[n], displayName(o))
		}
	}
	for _, n := range order {
		which := strings.Join(figs[n], ", ")
		if len(figs[n]) == len(outs) && len(outs) > 1 {
			which = "all figures"
		}
		fmt.Fprintf(w, "note: %s [%s]\n", n, which)
	}
}

func displayName(o plots.Output) string {
	if o.Path == "" {
		return "(not drawn)"
	}
	return filepath.Base(o.Path)
}
