package main

import (
	"fmt"
	"os"
	"testing"

	"github.com/pit-lab/pit/core/runner"
)

// TestMain points the default stage cache at a temporary folder ($PIT_CACHE,
// not XDG_CACHE_HOME, which also moves Go's build cache): no test
// of pit, in process or through the binary it builds, writes into the
// user's cache. Tests that run pit give each grid a cache of its own
// (testCache); this is the safety net.
func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "pit-test-cache-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	os.Setenv(runner.CacheEnv, dir)
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}
