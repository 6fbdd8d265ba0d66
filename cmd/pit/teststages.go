//go:build pittest

package main

// Built with -tags pittest, pit also knows the small test stages of
// core/runner/runnertest (test-gen, test-train, test-eval and the test-task
// task kind). The end-to-end tests of pit run (run_test.go) build pit this
// way; the default binary does not include them.
import _ "github.com/pit-lab/pit/core/runner/runnertest"
