// Package registry holds pit's built-in plugins: each registers a factory
// from its init function, and the pit binary (or a test binary, see
// ServeBuiltinIfChild) serves one of them in its own process when a host
// launches it with EnvBuiltin set.
package registry

import (
	"fmt"
	"os"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/pit-lab/pit/plugins/sdk"
	"github.com/pit-lab/pit/plugins/sdk/hostconn"
	"github.com/pit-lab/pit/plugins/sdk/serve"
)

// EnvBuiltin holds "KIND/NAME" when a host launches its own executable to
// serve a built-in; see ServeBuiltinIfChild.
const EnvBuiltin = "PIT_PLUGIN_BUILTIN"

var hookCalled atomic.Bool

// Factory makes a fresh, unconfigured plugin value. It must be cheap and
// have no side effects: the registry and the host call it to describe and
// validate.
type Factory func() sdk.Plugin

// BuiltinRef names one registered built-in plugin.
type BuiltinRef struct {
	Kind sdk.Kind
	Name string
}

var (
	builtinsMu sync.RWMutex
	builtins   = map[BuiltinRef]Factory{}
)

// Register makes a plugin available as a built-in of the pit binary,
// served by "pit plugin serve KIND NAME". Built-in packages call it from
// init. It panics on a bad kind, an empty name, a duplicate, or a factory
// whose value is not of the given kind: all programming errors.
func Register(kind sdk.Kind, name string, f Factory) {
	if _, err := sdk.ParseKind(string(kind)); err != nil {
		panic("registry.Register: " + err.Error())
	}
	if name == "" || f == nil {
		panic("registry.Register: empty name or nil factory")
	}
	if got, err := sdk.KindOf(f()); err != nil || got != kind {
		panic(fmt.Sprintf("registry.Register(%s, %s): factory makes a %T, which is not a %s plugin", kind, name, f(), kind))
	}
	builtinsMu.Lock()
	defer builtinsMu.Unlock()
	ref := BuiltinRef{kind, name}
	if _, dup := builtins[ref]; dup {
		panic(fmt.Sprintf("registry.Register: %s/%s registered twice", kind, name))
	}
	builtins[ref] = f
}

// Builtin returns the factory of a registered built-in.
func Builtin(kind sdk.Kind, name string) (Factory, bool) {
	builtinsMu.RLock()
	defer builtinsMu.RUnlock()
	f, ok := builtins[BuiltinRef{kind, name}]
	return f, ok
}

// Builtins lists the registered built-ins, sorted by kind (in sdk.Kinds order)
// and name.
func Builtins() []BuiltinRef {
	builtinsMu.RLock()
	defer builtinsMu.RUnlock()
	out := make([]BuiltinRef, 0, len(builtins))
	for r := range builtins {
		out = append(out, r)
	}
	order := map[sdk.Kind]int{}
	for i, k := range sdk.Kinds {
		order[k] = i
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Kind != out[j].Kind {
			return order[out[i].Kind] < order[out[j].Kind]
		}
		return out[i].Name < out[j].Name
	})
	return out
}

// ServeBuiltin serves the registered built-in kind/name (see
// Register). The pit binary calls it for "pit plugin serve KIND
// NAME". It returns an error only if there is no such built-in.
func ServeBuiltin(kind sdk.Kind, name string) error {
	f, ok := Builtin(kind, name)
	if !ok {
		return fmt.Errorf("no built-in %s plugin %q (have: %s)", kind, name, builtinNames(kind))
	}
	serve.Run(f())
	return nil
}

func builtinNames(kind sdk.Kind) string {
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
//		registry.ServeBuiltinIfChild()
//		os.Exit(m.Run())
//	}
func ServeBuiltinIfChild() {
	hookCalled.Store(true)
	spec := os.Getenv(EnvBuiltin)
	if spec == "" || os.Getenv(hostconn.Handshake().MagicCookieKey) != hostconn.Handshake().MagicCookieValue {
		return
	}
	k, name, _ := strings.Cut(spec, "/")
	kind, err := sdk.ParseKind(k)
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
