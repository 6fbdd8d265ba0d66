package runner

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/pit-lab/pit/core/results"
)

// WriteStatus prints a grid's state, one line per run: status, stages done,
// time, and why a run failed. runs come from results.ScanRuns; missing
// names runs the experiment expects that have no results yet. now is used
// for the age of running runs.
func WriteStatus(w io.Writer, runs []results.RunState, missing []string, now time.Time) error {
	counts := map[results.Status]int{}
	byExp := map[string][]results.RunState{}
	var exps []string
	for _, r := range runs {
		e := r.Manifest.Experiment
		if _, ok := byExp[e]; !ok {
			exps = append(exps, e)
		}
		byExp[e] = append(byExp[e], r)
		counts[r.Effective()]++
	}
	total := len(runs) + len(missing)
	var parts []string
	for _, s := range []results.Status{results.StatusDone, results.StatusRunning, results.StatusFailed, results.StatusInterrupted, results.StatusPending} {
		if counts[s] > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", counts[s], s))
		}
	}
	if len(missing) > 0 {
		parts = append(parts, fmt.Sprintf("%d not started", len(missing)))
	}
	fmt.Fprintf(w, "%d runs: %s\n", total, strings.Join(parts, ", "))

	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	for _, e := range exps {
		fmt.Fprintf(tw, "\nexperiment %s\n", e)
		fmt.Fprintln(tw, "RUN\tSTATUS\tSTAGES\tTIME\tDETAIL")
		for _, r := range byExp[e] {
			m := r.Manifest
			done, cached := 0, 0
			var current []string
			for _, s := range m.Stages {
				switch s.Status {
				case results.StatusDone:
					done++
					if s.Cached {
						cached++
					}
				case results.StatusRunning:
					current = append(current, s.Name)
				}
			}
			stages := fmt.Sprintf("%d/%d", done, len(m.Stages))
			if cached > 0 {
				stages += fmt.Sprintf(" (%d reused)", cached)
			}
			// TIME: for a running run the time since it started, otherwise
			// the compute time of its stages (reused ones included).
			var took time.Duration
			if m.Status == results.StatusRunning && !r.Stale && !m.Started.IsZero() {
				took = now.Sub(m.Started)
			} else {
				for _, s := range m.Stages {
					took += time.Duration(s.Seconds * float64(time.Second))
				}
			}
			tstr := ""
			if took > 0 {
				tstr = took.Round(time.Second).String()
			}
			detail := ""
			switch {
			case r.Stale:
				detail = fmt.Sprintf("process %s on %s is gone (killed?); run the same pit run command to resume", m.Extra["pid"], m.Host)
			case m.Status == results.StatusFailed:
				detail = m.Error
			case m.Extra[StatusDetail] != "":
				detail = m.Extra[StatusDetail]
			case m.Status == results.StatusRunning && len(current) > 0:
				for i, c := range current {
					if p, ok := m.Extra[ProgressPrefix+c]; ok {
						current[i] += " (step " + p + ")"
					}
				}
				detail = "running " + strings.Join(current, ", ")
			case m.Status == results.StatusInterrupted:
				detail = "interrupted; run the same pit run command to resume"
			}
			if len(m.Warnings) > 0 {
				if detail != "" {
					detail += "; "
				}
				detail += fmt.Sprintf("%d warning(s): %s", len(m.Warnings), m.Warnings[0])
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", m.Run, r.Effective(), stages, tstr, detail)
		}
	}
	if len(missing) > 0 {
		fmt.Fprintln(tw, "\nnot started:")
		for _, id := range missing {
			fmt.Fprintf(tw, "%s\n", id)
		}
	}
	return tw.Flush()
}

// WriteStageTimes prints each run's stages in the order the run lists
// them, with their status and compute time in seconds (a reused stage,
// "done, reused", shows the time of the run that computed it), and the
// run's total: where the time of a run went.
func WriteStageTimes(w io.Writer, runs []results.RunState) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	for i, r := range runs {
		m := r.Manifest
		if i > 0 {
			fmt.Fprintln(tw)
		}
		fmt.Fprintf(tw, "experiment %s, run %s\n", m.Experiment, m.Run)
		fmt.Fprintln(tw, "STAGE\tSTATUS\tSECONDS")
		var total float64
		for _, s := range m.Stages {
			secs, status := "-", string(s.Status)
			if s.Seconds > 0 {
				secs = fmt.Sprintf("%.1f", s.Seconds)
				total += s.Seconds
			}
			if s.Cached {
				status += ", reused"
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\n", s.Name, status, secs)
		}
		fmt.Fprintf(tw, "total\t\t%.1f\n", total)
	}
	return tw.Flush()
}
