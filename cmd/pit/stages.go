package main

// The PIT pipeline's stage kinds (data, sft, rm, rlhf, pit_sft, pit_rm,
// pit_rl, eval), the "synthetic" task kind and the "transformer" model kind.
import _ "github.com/pit-lab/pit/core/pipeline"
