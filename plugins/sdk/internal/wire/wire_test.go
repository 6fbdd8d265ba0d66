package wire_test

import (
	"context"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hashicorp/go-plugin"
	"github.com/pit-lab/pit/plugins/sdk"
	"github.com/pit-lab/pit/plugins/sdk/hostconn"
)

// lockless is a stateless algorithm without a lock that records how many
// of its calls ever ran at once.
type lockless struct {
	inside, most atomic.Int32
}

func (a *lockless) enter() func() {
	n := a.inside.Add(1)
	for {
		m := a.most.Load()
		if n <= m || a.most.CompareAndSwap(m, n) {
			break
		}
	}
	time.Sleep(time.Millisecond) // widen the window a race would need
	return func() { a.inside.Add(-1) }
}

func (a *lockless) Describe(context.Context) (*sdk.Description, error) {
	defer a.enter()()
	return &sdk.Description{Name: "lockless", Version: "0"}, nil
}

func (a *lockless) Configure(context.Context, *sdk.ConfigureRequest) error {
	defer a.enter()()
	return nil
}

func (a *lockless) Knobs(context.Context) (*sdk.Knobs, error) {
	defer a.enter()()
	return &sdk.Knobs{KLEstimator: sdk.KLk1, Epochs: 1, SamplesPerPrompt: 1}, nil
}

func (a *lockless) Advantages(_ context.Context, req *sdk.AdvantagesRequest) (*sdk.AdvantagesResponse, error) {
	defer a.enter()()
	z := make([][]float64, len(req.Mask))
	for i := range z {
		z[i] = make([]float64, len(req.Mask[i]))
	}
	return &sdk.AdvantagesResponse{Advantages: z, Returns: z, Knobs: sdk.Knobs{KLEstimator: sdk.KLk1, Epochs: 1, SamplesPerPrompt: 1}}, nil
}

func (a *lockless) Observe(context.Context, *sdk.ObserveRequest) error {
	defer a.enter()()
	return nil
}

func connect(t *testing.T, p sdk.Plugin) sdk.Plugin {
	ps, err := hostconn.Loopback(p, nil)
	if err != nil {
		t.Fatal(err)
	}
	client, _ := plugin.TestPluginGRPCConn(t, false, ps)
	t.Cleanup(func() { client.Close() })
	raw, err := client.Dispense(string(sdk.KindAlgorithm))
	if err != nil {
		t.Fatal(err)
	}
	return raw.(sdk.Plugin)
}

// TestCallsAreSerialised is why plugins need no locks: however many calls
// the host makes at once, the SDK runs one at a time.
func TestCallsAreSerialised(t *testing.T) {
	impl := &lockless{}
	remote := connect(t, impl).(sdk.Algorithm)
	ctx := context.Background()
	req := &sdk.AdvantagesRequest{
		LogProbs: [][]float64{{-1, -1}}, RefLogProbs: [][]float64{{-1, -1}},
		Mask: [][]float64{{1, 1}}, Rewards: []float64{1},
	}
	var wg sync.WaitGroup
	errs := make(chan error, 64)
	for i := range 16 {
		wg.Go(func() {
			var err error
			switch i % 5 {
			case 0:
				_, err = remote.Knobs(ctx)
			case 1:
				_, err = remote.Advantages(ctx, req)
			case 2:
				err = remote.Observe(ctx, &sdk.ObserveRequest{Step: i})
			case 3:
				err = remote.Configure(ctx, &sdk.ConfigureRequest{})
			case 4:
				_, err = remote.Describe(ctx)
			}
			if err != nil {
				errs <- err
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if got := impl.most.Load(); got != 1 {
		t.Fatalf("%d calls ran at once in the plugin, want 1", got)
	}
}

// TestStatelessAlgorithmState: an algorithm without SaveState and
// RestoreState saves empty state over the wire, restores only empty state,
// and is described as stateful (its state is checkpointed like any other).
func TestStatelessAlgorithmState(t *testing.T) {
	ctx := context.Background()
	remote := connect(t, &lockless{})
	st, ok := remote.(sdk.Stateful)
	if !ok {
		t.Fatal("the host's view of an algorithm is not sdk.Stateful")
	}
	b, err := st.SaveState(ctx)
	if err != nil || len(b) != 0 {
		t.Fatalf("SaveState = %q, %v; want empty, nil", b, err)
	}
	if err := st.RestoreState(ctx, nil); err != nil {
		t.Fatalf("RestoreState(empty) = %v", err)
	}
	if err := st.RestoreState(ctx, []byte("{}")); err == nil || !strings.Contains(err.Error(), "keeps no state") {
		t.Fatalf("RestoreState(non-empty) = %v, want a keeps-no-state error", err)
	}
	d, err := remote.Describe(ctx)
	if err != nil || !d.Has(sdk.CapStateful) {
		t.Fatalf("Describe = %+v, %v; want the stateful capability", d, err)
	}
}
