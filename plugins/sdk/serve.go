package sdk

import (
	"context"
	"fmt"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/go-plugin"
)

var (
	hookCalled atomic.Bool

	loggerMu sync.Mutex
	logger   hclog.Logger = hclog.New(&hclog.LoggerOptions{Name: "plugin", Output: os.Stderr, Level: hclog.Info})
)

// Logger returns the plugin's logger. In a served plugin it writes
// structured lines to stderr, which the host relays into its own log under
// the plugin's name. Plugins must never write to stdout: go-plugin's
// handshake owns it.
func Logger() hclog.Logger {
	loggerMu.Lock()
	defer loggerMu.Unlock()
	return logger
}

// Serve runs p as a plugin process and returns when the host is done with
// it. It is the only call in a plugin's main function. p must implement
// exactly one of Reward, Algorithm and Curriculum. Run by hand rather than
// by a host, it explains that it is a plugin and exits with status 1.
func Serve(p Plugin) {
	kind, err := KindOf(p)
	if err != nil {
		fmt.Fprintln(os.Stderr, "pit plugin:", err)
		os.Exit(1)
	}
	name := string(kind)
	if d, err := p.Describe(context.Background()); err == nil && d != nil && d.Name != "" {
		name = string(kind) + "." + d.Name
	}
	l := hclog.New(&hclog.LoggerOptions{
		Name:       name,
		Output:     os.Stderr, // captured before go-plugin redirects os.Stderr
		Level:      hclog.Trace,
		JSONFormat: true,
	})
	loggerMu.Lock()
	logger = l
	loggerMu.Unlock()

	if os.Getenv(Handshake().MagicCookieKey) == Handshake().MagicCookieValue {
		watchParent(l)
	}
	plugin.Serve(&plugin.ServeConfig{
		HandshakeConfig: Handshake(),
		Plugins:         plugin.PluginSet{string(kind): &grpcPlugin{kind: kind, impl: p}},
		GRPCServer:      newGRPCServer,
		Logger:          l.Named("go-plugin"),
	})
}

// watchParent exits the process when its parent, the host, goes away, so
// that a host killed hard (SIGKILL) does not leave plugins behind.
func watchParent(l hclog.Logger) {
	parent := os.Getppid()
	go func() {
		for {
			time.Sleep(250 * time.Millisecond)
			if os.Getppid() != parent {
				l.Error("host process went away; plugin exiting", "host_pid", parent)
				os.Exit(3)
			}
		}
	}()
}

// ServeBuiltin serves the registered built-in kind/name (see
// RegisterBuiltin). The pit binary calls it for "pit plugin serve KIND
// NAME". It returns an error only if there is no such built-in.
func ServeBuiltin(kind Kind, name string) error {
	f, ok := Builtin(kind, name)
	if !ok {
		return fmt.Errorf("no built-in %s plugin %q (have: %s)", kind, name, builtinNames(kind))
	}
	Serve(f())
	return nil
}

func builtinNames(kind Kind) string {
	var names []string
	for _, b := range Builtins() {
		if b.Kind == kind {
			names = append(names, b.Name)
		}
	}
	if len(names) == 0 {
		return "none"
	}
	return strings.Join(names, ", ")
}

// ServeBuiltinIfChild serves a built-in and exits if this process was
// launched by a pit host to serve one (EnvBuiltin is set); otherwise it
// returns at once. Test binaries call it first in TestMain so that a host
// under test can launch built-ins from os.Executable(), as the pit binary
// does:
//
//	func TestMain(m *testing.M) {
//		sdk.ServeBuiltinIfChild()
//		os.Exit(m.Run())
//	}
func ServeBuiltinIfChild() {
	hookCalled.Store(true)
	spec := os.Getenv(EnvBuiltin)
	if spec == "" || os.Getenv(Handshake().MagicCookieKey) != Handshake().MagicCookieValue {
		return
	}
	k, name, _ := strings.Cut(spec, "/")
	kind, err := ParseKind(k)
	if err == nil {
		err = ServeBuiltin(kind, name)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "pit plugin:", err)
		os.Exit(1)
	}
	os.Exit(0)
}

// CanServeBuiltins reports whether this process's executable serves
// built-ins when a host launches it: always for a normal binary (whose main
// must route "plugin serve" to ServeBuiltin, as pit's does), and for a test
// binary only once ServeBuiltinIfChild has run (from TestMain). Without the
// hook, a test binary launched as a plugin would run its tests instead.
func CanServeBuiltins() bool {
	return !testing.Testing() || hookCalled.Load()
}
