package host_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/pit-lab/pit/plugins/host"
	"github.com/pit-lab/pit/plugins/host/registry"
	"github.com/pit-lab/pit/plugins/sdk"
)

// envFaults names a directory of fault markers for the "faulty" test
// plugin: in Score, a file "crash" makes it write to stderr and exit, a
// file "hang" makes it block; each marker is removed first, so it fires in
// one process only. A marker "always-hang" is never removed.
const envFaults = "PIT_TEST_FAULTS"

func init() {
	registry.Register(sdk.KindReward, "faulty", func() sdk.Plugin { return &faulty{} })
}

type faulty struct{ seed int64 }

func (f *faulty) Describe(context.Context) (*sdk.Description, error) {
	return &sdk.Description{Name: "faulty", Version: "0.0.1", Summary: "crashes or hangs on request (tests)"}, nil
}

func (f *faulty) Configure(_ context.Context, req *sdk.ConfigureRequest) error {
	f.seed = req.Seed
	return sdk.DecodeConfig(req.Config, &struct{}{})
}

func (f *faulty) Comparisons(context.Context, *sdk.ComparisonsRequest) (*sdk.ComparisonsResponse, error) {
	return &sdk.ComparisonsResponse{}, nil
}

func (f *faulty) Score(ctx context.Context, req *sdk.ScoreRequest) (*sdk.ScoreResponse, error) {
	dir := os.Getenv(envFaults)
	if dir != "" {
		if os.Remove(filepath.Join(dir, "crash")) == nil {
			panic("the plugin's own bug") // kills the process: gRPC does not recover

		}
		_, err := os.Stat(filepath.Join(dir, "always-hang"))
		if os.Remove(filepath.Join(dir, "hang")) == nil || err == nil {
			time.Sleep(time.Hour)
		}
	}
	out := &sdk.ScoreResponse{Rewards: make([]float64, len(req.Items))}
	for i, it := range req.Items {
		out.Rewards[i] = float64(f.seed) + float64(len(it.Response))
	}
	return out, nil
}

func mark(t *testing.T, dir, name string) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(dir, name), nil, 0o644); err != nil {
		t.Fatal(err)
	}
}

func supervise(t *testing.T, name string, pol host.Policy) (*host.Supervised, *[]host.Fault) {
	t.Helper()
	// The plugin reads its fault markers' directory from the environment,
	// which plugins only get when the host passes the name on.
	m := newManager(t, host.Options{Env: []string{envFaults}})
	s, err := m.Supervise(context.Background(), host.Spec{Kind: sdk.KindReward, Name: name}, &sdk.ConfigureRequest{Seed: 40}, pol)
	if err != nil {
		t.Fatal(err)
	}
	var faults []host.Fault
	s.SetFaultHandler(func(f host.Fault) { faults = append(faults, f) })
	return s, &faults
}

var items = []sdk.Input{{Response: []int32{1, 2}}, {Response: []int32{3}}}

func checkRewards(t *testing.T, resp *sdk.ScoreResponse) {
	t.Helper()
	if resp == nil || len(resp.Rewards) != 2 || resp.Rewards[0] != 42 || resp.Rewards[1] != 41 {
		t.Fatalf("rewards %+v, want [42 41] (seed 40 + length: the restarted process was configured)", resp)
	}
}

// A plugin that exits during a call is restarted, reconfigured, and the
// call retried; the fault names the plugin, the call and its stderr.
func TestSupervisedCrashIsRestartedAndRetried(t *testing.T) {
	dir := t.TempDir()
	t.Setenv(envFaults, dir)
	s, faults := supervise(t, "faulty", host.Policy{Retries: 2})
	r, _ := s.Reward()
	pid := s.PID()
	mark(t, dir, "crash")
	resp, err := r.Score(context.Background(), &sdk.ScoreRequest{Items: items})
	if err != nil {
		t.Fatal(err)
	}
	checkRewards(t, resp)
	if s.PID() == pid || s.Restarts() != 1 {
		t.Errorf("pid %d → %d, %d restarts: want a new process, one restart", pid, s.PID(), s.Restarts())
	}
	if len(*faults) != 1 {
		t.Fatalf("%d faults reported, want 1", len(*faults))
	}
	msg := (*faults)[0].String()
	for _, want := range []string{`reward plugin "faulty"`, fmt.Sprintf("(pid %d) exited during Score", pid), "restarted it", "the plugin's own bug"} {
		if !strings.Contains(msg, want) {
			t.Errorf("fault %q lacks %q", msg, want)
		}
	}
}

// A plugin that does not answer within the call deadline is killed and
// treated as crashed.
func TestSupervisedHangIsKilled(t *testing.T) {
	dir := t.TempDir()
	t.Setenv(envFaults, dir)
	s, faults := supervise(t, "faulty", host.Policy{CallTimeout: 500 * time.Millisecond, Retries: 1})
	r, _ := s.Reward()
	pid := s.PID()
	mark(t, dir, "hang")
	start := time.Now()
	resp, err := r.Score(context.Background(), &sdk.ScoreRequest{Items: items})
	if err != nil {
		t.Fatal(err)
	}
	checkRewards(t, resp)
	if d := time.Since(start); d < 500*time.Millisecond || d > 20*time.Second {
		t.Errorf("the call took %v: want the deadline (500ms) plus a restart", d)
	}
	if syscall.Kill(pid, 0) == nil {
		time.Sleep(200 * time.Millisecond)
		if syscall.Kill(pid, 0) == nil {
			t.Errorf("hung process %d still alive", pid)
		}
	}
	if len(*faults) != 1 || !(*faults)[0].Hung || !strings.Contains((*faults)[0].String(), "did not answer Score within 500ms; killed it") {
		t.Errorf("faults %v", *faults)
	}
}

// A plugin that keeps failing fails the call after the bounded retries,
// with a message saying what happened.
func TestSupervisedGivesUp(t *testing.T) {
	dir := t.TempDir()
	t.Setenv(envFaults, dir)
	s, faults := supervise(t, "faulty", host.Policy{CallTimeout: 300 * time.Millisecond, Retries: 2})
	r, _ := s.Reward()
	mark(t, dir, "always-hang")
	_, err := r.Score(context.Background(), &sdk.ScoreRequest{Items: items})
	if err == nil {
		t.Fatal("Score succeeded on a plugin that always hangs")
	}
	if !strings.Contains(err.Error(), "did not answer Score within 300ms; killed it; gave up after 3 attempt(s)") {
		t.Errorf("error: %v", err)
	}
	if len(*faults) != 3 || !(*faults)[2].GaveUp || s.Restarts() != 2 {
		t.Errorf("%d faults (want 3, the last giving up), %d restarts (want 2)", len(*faults), s.Restarts())
	}
}

// An error the plugin returns is not a fault: no restart, no retry.
func TestSupervisedPluginErrorIsNotAFault(t *testing.T) {
	m := newManager(t, host.Options{}) // no models: toy-difference's Score fails
	s, err := m.Supervise(context.Background(), host.Spec{Kind: sdk.KindReward, Name: "toy-difference"}, nil, host.Policy{Retries: 2})
	if err != nil {
		t.Fatal(err)
	}
	r, _ := s.Reward()
	if _, err := r.Score(context.Background(), &sdk.ScoreRequest{Items: items}); err == nil || !strings.Contains(err.Error(), "offers no models") {
		t.Errorf("err %v", err)
	}
	if s.Restarts() != 0 {
		t.Errorf("%d restarts for a plugin's own error", s.Restarts())
	}
}

// A stateful plugin killed between calls continues from the state it had:
// the transcript equals that of an undisturbed process.
func TestSupervisedRestoresState(t *testing.T) {
	run := func(kill bool) []string {
		m := newManager(t, host.Options{})
		cfg := &sdk.ConfigureRequest{Config: map[string]any{"kl_target": 0.05, "k": 2}, Seed: 3}
		s, err := m.Supervise(context.Background(), host.Spec{Kind: sdk.KindAlgorithm, Name: "toy-reinforce"}, cfg, host.Policy{Retries: 1})
		if err != nil {
			t.Fatal(err)
		}
		if !s.Description().Has(sdk.CapStateful) {
			t.Fatal("toy-reinforce is not stateful; the test needs a stateful plugin")
		}
		a, _ := s.Algorithm()
		ctx := context.Background()
		var out []string
		for step := range 6 {
			if kill && (step == 2 || step == 4) {
				syscall.Kill(s.PID(), syscall.SIGKILL)
			}
			if err := a.Observe(ctx, &sdk.ObserveRequest{Step: step, Stats: map[string]float64{"kl": 0.3 * float64(step)}}); err != nil {
				t.Fatal(err)
			}
			k, err := a.Knobs(ctx)
			if err != nil {
				t.Fatal(err)
			}
			b, _ := json.Marshal(k)
			out = append(out, string(b))
		}
		if want := map[bool]int{false: 0, true: 2}[kill]; s.Restarts() != want {
			t.Errorf("kill=%v: %d restarts, want %d", kill, s.Restarts(), want)
		}
		return out
	}
	want, got := run(false), run(true)
	if strings.Join(want, "\n") != strings.Join(got, "\n") {
		t.Errorf("after kills:\n%s\nundisturbed:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if want[0] == want[5] {
		t.Error("the KL coefficient never moved: the test does not exercise the state")
	}
}
