package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestWriteSummary: at the end of a grid pit run writes the per-arm summary
// CSV (plots.WriteSummaryCSV), which core/pipeline no longer does (core does
// not import plots).
func TestWriteSummary(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "fake-ablation")
	if err := os.CopyFS(dir, os.DirFS("../../plots/testdata/results/fake-ablation")); err != nil {
		t.Fatal(err)
	}
	var out strings.Builder
	if err := writeSummary(&out, dir); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(dir, SummaryFile))
	if err != nil {
		t.Fatalf("no %s: %v (said %q)", SummaryFile, err, out.String())
	}
	if lines := strings.Split(strings.TrimSpace(string(b)), "\n"); len(lines) < 5 || !strings.Contains(lines[0], "arm") {
		t.Errorf("summary CSV: %d lines, header %q", len(lines), lines[0])
	}
	if !strings.Contains(out.String(), SummaryFile) {
		t.Errorf("pit run does not say where the summary is: %q", out.String())
	}
	// A single run has no arms to summarise.
	if err := writeSummary(&out, t.TempDir()); err != nil {
		t.Errorf("empty results: %v", err)
	}
}
