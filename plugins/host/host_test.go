package host_test

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/pit-lab/pit/plugins/examples/toy"
	"github.com/pit-lab/pit/plugins/host"
	"github.com/pit-lab/pit/plugins/host/registry"
	"github.com/pit-lab/pit/plugins/sdk"
)

func TestMain(m *testing.M) {
	toy.Register()
	registry.ServeBuiltinIfChild() // when a test launches this binary as a plugin
	if os.Getenv(envHelperHost) != "" {
		helperHost()
		return
	}
	code := m.Run()
	if builtDir != "" {
		os.RemoveAll(builtDir)
	}
	os.Exit(code)
}

// sumModel scores an input by the sum of its response tokens, and counts
// its calls.
type sumModel struct {
	mu     sync.Mutex
	calls  int
	models []string
	items  int
}

func (s *sumModel) Score(_ context.Context, model string, items []sdk.Input) ([]float64, error) {
	s.mu.Lock()
	s.calls++
	s.models = append(s.models, model)
	s.items += len(items)
	s.mu.Unlock()
	out := make([]float64, len(items))
	for i, it := range items {
		for _, t := range it.Response {
			out[i] += float64(t)
		}
	}
	return out, nil
}

func newManager(t *testing.T, opts host.Options) *host.Manager {
	t.Helper()
	m := host.NewManager(context.Background(), opts)
	t.Cleanup(func() { m.Close() })
	return m
}

// alive reports whether pid is a live (not zombie) process.
func alive(pid int) bool {
	if syscall.Kill(pid, 0) != nil {
		return false
	}
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return true // no procfs: trust kill(0)
	}
	// The state follows the parenthesised command name.
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	return i < 0 || i+2 >= len(s) || s[i+2] != 'Z'
}

func waitGone(t *testing.T, pid int, within time.Duration) {
	t.Helper()
	deadline := time.Now().Add(within)
	for alive(pid) {
		if time.Now().After(deadline) {
			t.Fatalf("plugin process %d still alive after %v", pid, within)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestBuiltinsRunOutOfProcess(t *testing.T) {
	ctx := context.Background()
	m := newManager(t, host.Options{})
	var pids []int
	for _, s := range []host.Spec{
		{Kind: sdk.KindReward, Name: "toy-difference"},
		{Kind: sdk.KindAlgorithm, Name: "toy-reinforce"},
		{Kind: sdk.KindCurriculum, Name: "toy-two-stage"},
	} {
		p, err := m.Launch(ctx, s)
		if err != nil {
			t.Fatal(err)
		}
		if p.PID() <= 0 || p.PID() == os.Getpid() {
			t.Fatalf("%s: pid %d, host pid %d", s, p.PID(), os.Getpid())
		}
		if !alive(p.PID()) {
			t.Fatalf("%s: pid %d is not a live process", s, p.PID())
		}
		if err := p.Ping(); err != nil {
			t.Fatalf("%s: health check: %v", s, err)
		}
		if p.Description.Kind != s.Kind || p.Description.Name != s.Name || p.Description.Version == "" {
			t.Errorf("%s: described as %+v", s, p.Description)
		}
		if id := p.Identity(); len(id.SHA256) != 64 || id.Name != s.Name {
			t.Errorf("%s: identity %+v", s, id)
		}
		pids = append(pids, p.PID())
	}
	if pids[0] == pids[1] || pids[1] == pids[2] {
		t.Fatalf("plugins share a process: %v", pids)
	}
	plugins := m.Plugins()
	m.Close()
	for _, pid := range pids {
		waitGone(t, pid, 5*time.Second)
	}
	if err := plugins[0].Ping(); err == nil {
		t.Error("health check of a killed plugin succeeded")
	}
}

func TestRewardCallsModelServiceThroughBroker(t *testing.T) {
	ctx := context.Background()
	models := &sumModel{}
	logs := &syncWriter{w: &bytes.Buffer{}}
	logger := hclog.New(&hclog.LoggerOptions{Output: logs, Level: hclog.Debug})
	m := newManager(t, host.Options{Models: models, Logger: logger})
	p, err := m.Launch(ctx, host.Spec{Kind: sdk.KindReward, Name: "toy-difference"})
	if err != nil {
		t.Fatal(err)
	}
	r, err := p.Reward()
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Configure(ctx, &sdk.ConfigureRequest{Config: map[string]any{"scale": 2.0}, Seed: 1}); err != nil {
		t.Fatal(err)
	}
	items := []sdk.Input{
		{Prompt: []int32{1}, Reference: []int32{1, 2}, Response: []int32{5, 5}},
		{Prompt: []int32{2}, Reference: []int32{9}, Response: []int32{1}},
		{Prompt: []int32{3}, Reference: nil, Response: []int32{4}},
	}
	resp, err := r.Score(ctx, &sdk.ScoreRequest{Items: items})
	if err != nil {
		t.Fatal(err)
	}
	want := []float64{2 * (10 - 3), 2 * (1 - 9), 2 * 4}
	for i := range want {
		if resp.Rewards[i] != want[i] {
			t.Errorf("reward %d = %v, want %v", i, resp.Rewards[i], want[i])
		}
	}
	if got := resp.Components["reference"]; len(got) != 3 || got[1] != 9 {
		t.Errorf("component reference = %v", got)
	}
	// A second call reuses the broker connection.
	if _, err := r.Score(ctx, &sdk.ScoreRequest{Items: items}); err != nil {
		t.Fatal(err)
	}
	models.mu.Lock()
	defer models.mu.Unlock()
	if models.calls != 2 || models.items != 12 || models.models[0] != "reward" {
		t.Errorf("model service saw %d calls, %d items, models %v; want 2 batched calls of 6 items to \"reward\"", models.calls, models.items, models.models)
	}
	// The plugin's log line reached the host's logger under its name.
	deadline := time.Now().Add(2 * time.Second)
	for !strings.Contains(logs.String(), "configured") && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if s := logs.String(); !strings.Contains(s, "plugin.reward.toy-difference") || !strings.Contains(s, "configured") {
		t.Errorf("plugin log not relayed with its name; host log:\n%s", s)
	}
}

func TestNoModelServiceIsAClearError(t *testing.T) {
	ctx := context.Background()
	m := newManager(t, host.Options{})
	p, err := m.Launch(ctx, host.Spec{Kind: sdk.KindReward, Name: "toy-difference"})
	if err != nil {
		t.Fatal(err)
	}
	r, _ := p.Reward()
	_, err = r.Score(ctx, &sdk.ScoreRequest{Items: []sdk.Input{{Response: []int32{1}}}})
	if err == nil || !strings.Contains(err.Error(), "offers no models") || !strings.Contains(err.Error(), "toy-difference") {
		t.Fatalf("err = %v", err)
	}
}

func TestAlgorithmStateTravelsBetweenProcesses(t *testing.T) {
	ctx := context.Background()
	m := newManager(t, host.Options{})
	launch := func() sdk.Algorithm {
		p, err := m.Launch(ctx, host.Spec{Kind: sdk.KindAlgorithm, Name: "toy-reinforce"})
		if err != nil {
			t.Fatal(err)
		}
		a, err := p.Algorithm()
		if err != nil {
			t.Fatal(err)
		}
		if err := a.Configure(ctx, &sdk.ConfigureRequest{Config: map[string]any{"k": int64(2)}, Seed: 3}); err != nil {
			t.Fatal(err)
		}
		return a
	}
	a := launch()
	req := &sdk.AdvantagesRequest{
		LogProbs:    [][]float64{{0, -1, -1}, {0, -2, 0}},
		RefLogProbs: [][]float64{{0, -1, -1}, {0, -1, 0}},
		Mask:        [][]float64{{0, 1, 1}, {0, 1, 0}},
		Rewards:     []float64{1, 0},
		Groups:      []int{0, 0},
	}
	resp, err := a.Advantages(ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	if resp.Advantages[0][1] != 0.5 || resp.Advantages[1][1] != -0.5 || resp.Advantages[1][2] != 0 || resp.Knobs.SamplesPerPrompt != 2 {
		t.Fatalf("advantages %v knobs %+v", resp.Advantages, resp.Knobs)
	}
	if err := a.Observe(ctx, &sdk.ObserveRequest{Step: 1, Stats: map[string]float64{"kl": 1}}); err != nil {
		t.Fatal(err)
	}
	k1, _ := a.Knobs(ctx)
	if k1.KLCoef <= 0.05 {
		t.Fatalf("KL controller did not raise β: %v", k1.KLCoef)
	}
	state, err := a.(sdk.Stateful).SaveState(ctx)
	if err != nil {
		t.Fatal(err)
	}
	b := launch()
	if err := b.(sdk.Stateful).RestoreState(ctx, state); err != nil {
		t.Fatal(err)
	}
	k2, _ := b.Knobs(ctx)
	if *k1 != *k2 {
		t.Fatalf("restored knobs %+v, saved %+v", k2, k1)
	}
	// A ragged request is refused before it is sent.
	bad := *req
	bad.Mask = [][]float64{{0, 1}, {0, 1, 0}}
	if _, err := b.Advantages(ctx, &bad); err == nil || !strings.Contains(err.Error(), "mask row 0") {
		t.Fatalf("ragged mask: err = %v", err)
	}
}

func TestCurriculumOverProcessIsDeterministic(t *testing.T) {
	ctx := context.Background()
	m := newManager(t, host.Options{})
	run := func(seed int64) []string {
		p, err := m.Launch(ctx, host.Spec{Kind: sdk.KindCurriculum, Name: "toy-two-stage"})
		if err != nil {
			t.Fatal(err)
		}
		c, _ := p.Curriculum()
		if err := c.Configure(ctx, &sdk.ConfigureRequest{Seed: seed}); err != nil {
			t.Fatal(err)
		}
		var out []string
		for step := range 6 {
			r, err := c.Next(ctx, &sdk.NextRequest{Step: step, TotalSteps: 6, BatchSize: 16})
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, fmt.Sprint(r.Round, r.Counts, r.RefreshReward))
		}
		return out
	}
	a, b, c := run(7), run(7), run(8)
	if strings.Join(a, ";") != strings.Join(b, ";") {
		t.Fatalf("same seed, different plans:\n%v\n%v", a, b)
	}
	if strings.Join(a, ";") == strings.Join(c, ";") {
		t.Fatalf("seeds 7 and 8 gave the same plans: %v", a)
	}
	if !strings.HasPrefix(a[3], "1 ") || !strings.HasSuffix(a[3], "true") {
		t.Fatalf("step 3 should switch to round 1 and refresh: %v", a)
	}
}

func TestConfigErrorsComeBackPerKey(t *testing.T) {
	ctx := context.Background()
	m := newManager(t, host.Options{})
	p, err := m.Launch(ctx, host.Spec{Kind: sdk.KindReward, Name: "toy-difference"})
	if err != nil {
		t.Fatal(err)
	}
	cfg := map[string]any{"scale": "big", "sclae": 2.0, "delay": "soon"}
	r, _ := p.Reward()
	remote := sdk.SplitErrors(r.Configure(ctx, &sdk.ConfigureRequest{Config: cfg}))
	local := host.Validate("reward", "toy-difference", cfg)
	for name, errs := range map[string][]error{"process": remote, "local": local} {
		if len(errs) != 3 {
			t.Fatalf("%s: want 3 problems, got %d: %v", name, len(errs), errs)
		}
		all := fmt.Sprint(errs)
		for _, want := range []string{`key "sclae": unknown key`, `key "scale": expected a number`, `key "delay": expected a duration`} {
			if !strings.Contains(all, want) {
				t.Errorf("%s: %q missing from %v", name, want, errs)
			}
		}
	}
	if errs := host.Validate("reward", "toy-difference", map[string]any{"scale": int64(3)}); errs != nil {
		t.Errorf("valid config rejected: %v", errs)
	}
	if errs := host.Validate("reward", "no-such", nil); len(errs) != 1 || !strings.Contains(errs[0].Error(), "toy-difference") {
		t.Errorf("unknown plugin: %v", errs)
	}
}

func TestLargeBatchesPassMessageLimits(t *testing.T) {
	// ~6 MB each way to the plugin and ~4 MB in the broker callback: both
	// over gRPC's default 4 MiB limit.
	ctx := context.Background()
	models := &sumModel{}
	m := newManager(t, host.Options{Models: models})
	p, err := m.Launch(ctx, host.Spec{Kind: sdk.KindReward, Name: "toy-difference"})
	if err != nil {
		t.Fatal(err)
	}
	r, _ := p.Reward()
	if err := r.Configure(ctx, &sdk.ConfigureRequest{}); err != nil {
		t.Fatal(err)
	}
	seq := make([]int32, 1000)
	for i := range seq {
		seq[i] = int32(i % 30)
	}
	items := make([]sdk.Input, 2000)
	for i := range items {
		items[i] = sdk.Input{Prompt: seq, Reference: seq, Response: seq}
	}
	resp, err := r.Score(ctx, &sdk.ScoreRequest{Items: items})
	if err != nil {
		t.Fatal(err)
	}
	if len(resp.Rewards) != len(items) || resp.Rewards[0] != 0 {
		t.Fatalf("%d rewards, first %v", len(resp.Rewards), resp.Rewards[0])
	}
	if models.items != 2*len(items) {
		t.Fatalf("model service saw %d items", models.items)
	}
}
