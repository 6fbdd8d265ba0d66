package main

import (
	"context"
	"io"

	"github.com/pit-lab/pit/core/runner"
)

// newPluginHost returns the plugin host pit run gives the runner, and a
// function that kills every plugin it launched.
func newPluginHost(ctx context.Context, stderr io.Writer) (runner.PluginHost, func(), error) {
	return nil, func() {}, nil
}
