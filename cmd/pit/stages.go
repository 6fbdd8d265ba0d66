package main

import (
	"io"

	// The PIT pipeline's stage kinds (data, sft, rm, rlhf, pit_sft, pit_rm,
	// pit_rl, eval), the "synthetic" task kind and the "transformer" model
	// kind.
	"github.com/pit-lab/pit/core/pipeline"
)

// reports print summaries of an experiment's results directory at the end
// of pit run, before the line that says where the results are.
var reports = []func(w io.Writer, dir string) error{
	pipeline.PrintReport, // the eval table of every run that has one
}
