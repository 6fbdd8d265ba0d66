// Package hosttest runs plugins under test in their own processes through
// pit's host, for the conformance suite's process check
// (plugintest.Suite.Process), which lives in the SDK module and so cannot
// reach the host itself.
//
//	func TestMain(m *testing.M) { hosttest.Main(m) }
//
//	func TestConformance(t *testing.T) {
//		plugintest.Run(t, plugintest.Suite{New: newMine, Process: hosttest.Builtin})
//	}
package hosttest

import (
	"context"
	"os"
	"testing"

	"github.com/pit-lab/pit/plugins/host"
	"github.com/pit-lab/pit/plugins/host/registry"
	"github.com/pit-lab/pit/plugins/sdk"
)

// Main is for a test package's TestMain when its tests launch built-ins in
// real processes (Builtin): the test binary then serves as the plugin
// executable, as the pit binary does.
func Main(m *testing.M) {
	registry.ServeBuiltinIfChild()
	os.Exit(m.Run())
}

// Builtin launches the registered built-in that desc names, served by this
// test binary (whose TestMain must call Main), and returns the host's view
// of it. The process is killed when the test ends.
func Builtin(t testing.TB, desc *sdk.Description, models sdk.ModelService) sdk.Plugin {
	t.Helper()
	if !registry.CanServeBuiltins() {
		t.Fatal("hosttest.Builtin needs the test binary to serve built-ins: add func TestMain(m *testing.M) { hosttest.Main(m) }")
	}
	return launch(t, host.Spec{Kind: desc.Kind, Name: desc.Name}, models)
}

// Executable returns a launcher of the plugin executable at path, pinned to
// the checksum sha256 (hex) when that is not empty.
func Executable(path, sha256 string) func(testing.TB, *sdk.Description, sdk.ModelService) sdk.Plugin {
	return func(t testing.TB, desc *sdk.Description, models sdk.ModelService) sdk.Plugin {
		t.Helper()
		return launch(t, host.Spec{Kind: desc.Kind, Name: desc.Name, Path: path, SHA256: sha256}, models)
	}
}

// launch starts spec in its own process, checks that it is one, and returns
// the plugin of its kind.
func launch(t testing.TB, spec host.Spec, models sdk.ModelService) sdk.Plugin {
	ctx := context.Background()
	m := host.NewManager(ctx, host.Options{Models: models})
	t.Cleanup(func() { m.Close() })
	proc, err := m.Launch(ctx, spec)
	if err != nil {
		t.Fatal(err)
	}
	if proc.PID() == os.Getpid() || proc.PID() <= 0 {
		t.Fatalf("plugin pid %d, test pid %d: not a separate process", proc.PID(), os.Getpid())
	}
	var remote sdk.Plugin
	switch spec.Kind {
	case sdk.KindReward:
		remote, err = proc.Reward()
	case sdk.KindAlgorithm:
		remote, err = proc.Algorithm()
	case sdk.KindCurriculum:
		remote, err = proc.Curriculum()
	}
	if err != nil {
		t.Fatal(err)
	}
	return remote
}
