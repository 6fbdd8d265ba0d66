// Package plugintest tests pit plugins: an in-process harness that talks to
// a plugin over a real gRPC connection (Connect), a deterministic fake of
// the host's model service (HashModels), and the conformance suite every
// plugin, built-in or external, must pass (Run).
//
// A plugin author's whole test can be:
//
//	func TestConformance(t *testing.T) {
//		plugintest.Run(t, plugintest.Suite{New: func() sdk.Plugin { return &myReward{} }})
//	}
package plugintest

import (
	"context"
	"encoding/binary"
	"hash/fnv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hashicorp/go-plugin"
	"github.com/pit-lab/pit/plugins/sdk"
	"github.com/pit-lab/pit/plugins/sdk/hostconn"
)

// Connect serves p inside this process over a real gRPC connection (with
// go-plugin's broker, so model-service callbacks work) and returns the
// host's view of it: a value of p's kind whose calls cross the wire. Reward
// plugins get models as their model service. The connection closes when
// the test ends.
func Connect(t testing.TB, p sdk.Plugin, models sdk.ModelService) sdk.Plugin {
	t.Helper()
	ps, err := hostconn.Loopback(p, models)
	if err != nil {
		t.Fatal(err)
	}
	kind, _ := sdk.KindOf(p)
	client, server := plugin.TestPluginGRPCConn(t, false, ps)
	t.Cleanup(func() {
		// Close asks the server to stop (go-plugin's controller); stopping
		// it here as well would race with that.
		client.Close()
		select {
		case <-server.DoneCh:
		case <-time.After(2 * time.Second):
			server.Stop()
		}
	})
	raw, err := client.Dispense(string(kind))
	if err != nil {
		t.Fatal(err)
	}
	return raw.(sdk.Plugin)
}

// HashModels is a deterministic stand-in for the host's model service: the
// score of an input is a pseudo-random number in [-2, 2) fixed by the model
// name and the input's tokens. Calls counts the calls made.
type HashModels struct {
	Calls atomic.Int64
}

// Score implements sdk.ModelService.
func (h *HashModels) Score(_ context.Context, model string, items []sdk.Input) ([]float64, error) {
	h.Calls.Add(1)
	out := make([]float64, len(items))
	for i, it := range items {
		f := fnv.New64a()
		f.Write([]byte(model))
		for _, part := range [][]int32{it.Prompt, it.Reference, it.Response} {
			binary.Write(f, binary.LittleEndian, int32(len(part)))
			binary.Write(f, binary.LittleEndian, part)
		}
		out[i] = float64(f.Sum64()>>11)/float64(1<<53)*4 - 2
	}
	return out, nil
}
