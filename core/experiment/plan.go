package experiment

import (
	"fmt"
	"io"
	"path/filepath"
	"strings"
)

// Summary writes a short description of a validated experiment: its name,
// seeds, stages with their plugins, and grid size. pit validate prints it.
func Summary(w io.Writer, exp *Experiment) error {
	ew := &errWriter{w: w}
	ew.printf("experiment %s (%s)\n", exp.Name, exp.File)
	if exp.Description != "" {
		ew.printf("  %s\n", exp.Description)
	}
	seeds := make([]string, len(exp.Seeds))
	for i, s := range exp.Seeds {
		seeds[i] = fmt.Sprint(s)
	}
	ew.printf("  seeds:  %s\n", strings.Join(seeds, ", "))
	ew.printf("  out:    %s\n", filepath.Join(exp.Out, exp.Name))
	if b := exp.Baseline(); b != nil && b.Config != nil {
		c := b.Config
		ew.printf("  task:   %s\n", c.Task.Kind)
		if c.Model != nil {
			ew.printf("  model:  %s\n", c.Model.Kind)
		}
		ew.printf("  stages:")
		for i, s := range c.Stages {
			sep := ","
			if i == 0 {
				sep = ""
			}
			ew.printf("%s %s", sep, stageString(s))
		}
		ew.printf("\n")
	}
	ew.printf("  grid:   %d arm(s) x %d seed(s) = %d run(s)", len(exp.Arms), len(exp.Seeds), len(exp.Arms)*len(exp.Seeds))
	if b := exp.Baseline(); b != nil && len(exp.Axes) > 0 {
		ew.printf("; baseline %s", b.Label)
	}
	ew.printf("\n")
	for _, a := range exp.Axes {
		ew.printf("    %s: %s = %s\n", a.Name, a.Path, strings.Join(a.Labels, " | "))
	}
	return ew.err
}

func stageString(s Stage) string {
	if len(s.Plugins) == 0 && s.Kind == s.Name {
		return s.Name
	}
	var parts []string
	if s.Kind != s.Name {
		parts = append(parts, "kind "+s.Kind)
	}
	for _, p := range s.Plugins {
		parts = append(parts, p.Kind+" "+p.Name)
	}
	return s.Name + " (" + strings.Join(parts, ", ") + ")"
}

// PrintPlan writes the expanded runs grouped by arm, the baseline first,
// with each other arm's differences from the baseline. pit run --dry-run
// prints it.
func PrintPlan(w io.Writer, runs []Run) error {
	if len(runs) == 0 {
		_, err := fmt.Fprintln(w, "no runs")
		return err
	}
	ew := &errWriter{w: w}
	type armRuns struct {
		label string
		runs  []Run
	}
	var arms []*armRuns
	byLabel := map[string]*armRuns{}
	var base *Config
	for _, r := range runs {
		a, ok := byLabel[r.Arm]
		if !ok {
			a = &armRuns{label: r.Arm}
			byLabel[r.Arm] = a
			arms = append(arms, a)
		}
		a.runs = append(a.runs, r)
		if r.Baseline {
			base = r.Config
		}
	}
	c := runs[0].Config
	ew.printf("experiment %s: %d arm(s), %d run(s), results in %s\n", c.Name, len(arms), len(runs), filepath.Join(c.Out, c.Name))
	// Baseline first.
	for i, a := range arms {
		if a.runs[0].Baseline && i > 0 {
			copy(arms[1:i+1], arms[:i])
			arms[0] = a
			break
		}
	}
	for _, a := range arms {
		r0 := a.runs[0]
		ew.printf("\narm %s", a.label)
		if r0.Baseline {
			ew.printf(" (baseline)")
		}
		ew.printf("\n")
		if !r0.Baseline && base != nil {
			changes := Diff(base, r0.Config)
			if len(changes) == 0 {
				ew.printf("  same configuration as the baseline\n")
			}
			for _, ch := range changes {
				ew.printf("  %s\n", ch)
			}
		}
		for _, r := range a.runs {
			ew.printf("  run %s\n", r.ID)
		}
	}
	return ew.err
}

type errWriter struct {
	w   io.Writer
	err error
}

func (e *errWriter) printf(format string, args ...any) {
	if e.err == nil {
		_, e.err = fmt.Fprintf(e.w, format, args...)
	}
}
