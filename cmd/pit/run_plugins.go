package main

import (
	"context"
	"io"

	"github.com/hashicorp/go-hclog"
	"github.com/pit-lab/pit/core/runner"
	"github.com/pit-lab/pit/core/runner/pluginhost"
)

// newPluginHost returns the plugin host pit run gives the runner, and a
// function that kills every plugin it launched. Plugins' warnings and
// errors reach stderr under the plugin's name.
func newPluginHost(ctx context.Context, stderr io.Writer) (runner.PluginHost, func(), error) {
	logger := hclog.New(&hclog.LoggerOptions{Name: "pit", Output: stderr, Level: hclog.Warn})
	h := pluginhost.New(ctx, logger, "")
	return h, func() { h.Close() }, nil
}
