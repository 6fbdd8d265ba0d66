// Package serve runs a pit plugin as a plugin process: a plugin's main
// function is one call,
//
//	func main() { serve.Run(&myReward{}) }
//
// It is the only package besides sdk that a plugin author imports. It speaks
// go-plugin's handshake and gRPC with the host through the SDK's internal
// wire code, so the author never sees either.
package serve

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/go-plugin"
	"github.com/pit-lab/pit/plugins/sdk"
	"github.com/pit-lab/pit/plugins/sdk/internal/logging"
	"github.com/pit-lab/pit/plugins/sdk/internal/wire"
)

// Run serves p as a plugin process and returns when the host is done with
// it. p must implement exactly one of sdk.Reward, sdk.Algorithm and
// sdk.Curriculum. Calls into p are serialised: p needs no locks. Run by hand
// rather than by a host, it explains that it is a plugin and exits with
// status 1.
func Run(p sdk.Plugin) {
	kind, err := sdk.KindOf(p)
	if err != nil {
		fmt.Fprintln(os.Stderr, "pit plugin:", err)
		os.Exit(1)
	}
	name := string(kind)
	if d, err := p.Describe(context.Background()); err == nil && d != nil && d.Name != "" {
		name = string(kind) + "." + d.Name
	}
	// Captured before go-plugin redirects os.Stderr.
	logging.Set(logging.New(name, os.Stderr, slog.LevelDebug))
	gpLog := hclog.New(&hclog.LoggerOptions{Name: name, Output: os.Stderr, Level: hclog.Trace, JSONFormat: true})

	hs := wire.Handshake()
	if os.Getenv(hs.MagicCookieKey) == hs.MagicCookieValue {
		watchParent()
	}
	plugin.Serve(&plugin.ServeConfig{
		HandshakeConfig: hs,
		Plugins:         wire.PluginSet(kind, p),
		GRPCServer:      wire.NewGRPCServer,
		Logger:          gpLog.Named("go-plugin"),
	})
}

// watchParent exits the process when its parent, the host, goes away, so
// that a host killed hard (SIGKILL) does not leave plugins behind.
func watchParent() {
	parent := os.Getppid()
	go func() {
		for {
			time.Sleep(250 * time.Millisecond)
			if os.Getppid() != parent {
				logging.Logger().Error("host process went away; plugin exiting", "host_pid", parent)
				os.Exit(3)
			}
		}
	}()
}
