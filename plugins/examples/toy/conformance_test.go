package toy_test

import (
	"context"
	"encoding/json"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pit-lab/pit/plugins/examples/toy"
	"github.com/pit-lab/pit/plugins/host/hosttest"
	"github.com/pit-lab/pit/plugins/sdk"
	"github.com/pit-lab/pit/plugins/sdk/plugintest"
)

func TestMain(m *testing.M) {
	toy.Register()
	hosttest.Main(m)
}

func TestToyPluginsConform(t *testing.T) {
	for _, s := range []plugintest.Suite{
		{New: func() sdk.Plugin { return toy.NewDifference() }, Configs: []map[string]any{{"scale": 0.5, "model": "oracle"}}, Invalid: []map[string]any{{"scale": -1.0}}},
		{New: func() sdk.Plugin { return toy.NewReinforce() }, Configs: []map[string]any{{"k": int64(2), "kl_target": 0.0}}, Invalid: []map[string]any{{"k": int64(0)}}},
		{New: func() sdk.Plugin { return toy.NewTwoStage() }, Configs: []map[string]any{{"switch_at": 0.25}}, Invalid: []map[string]any{{"switch_at": 2.0}}},
	} {
		d, _ := s.New().Describe(context.Background())
		t.Run(d.Name, func(t *testing.T) {
			s.Seed = 11
			s.Process = hosttest.Builtin
			plugintest.Run(t, s)
		})
	}
}

func TestExternalPluginConformsByPath(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a plugin executable; skipped with -short")
	}
	exe := filepath.Join(t.TempDir(), "toyreward")
	if b, err := exec.Command("go", "build", "-o", exe, "./testdata/toyreward").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, b)
	}
	plugintest.Run(t, plugintest.Suite{New: func() sdk.Plugin { return toy.NewDifference() }, Process: hosttest.Executable(exe, ""), Seed: 5, Steps: 4})
}

func TestConnectCrossesTheWire(t *testing.T) {
	ctx := context.Background()
	models := &plugintest.HashModels{}
	r := plugintest.Connect(t, toy.NewDifference(), models).(sdk.Reward)
	if err := r.Configure(ctx, &sdk.ConfigureRequest{}); err != nil {
		t.Fatal(err)
	}
	items := []sdk.Input{{Prompt: []int32{1}, Reference: []int32{2}, Response: []int32{3}}}
	got, err := r.Score(ctx, &sdk.ScoreRequest{Items: items})
	if err != nil {
		t.Fatal(err)
	}
	want, _ := models.Score(ctx, "reward", []sdk.Input{{Prompt: []int32{1}, Response: []int32{3}}, {Prompt: []int32{1}, Response: []int32{2}}})
	if got.Rewards[0] != want[0]-want[1] {
		t.Fatalf("reward %v, want %v", got.Rewards[0], want[0]-want[1])
	}
	if models.Calls.Load() != 2 { // one from the plugin through the broker, one here
		t.Fatalf("model service called %d times, want 2", models.Calls.Load())
	}
}

// Broken plugins: the suite must fail each, in the check that names its
// defect. They run in a child test process so that their failures do not
// fail this test.

const envBroken = "PIT_PLUGINTEST_BROKEN"

type shortReward struct{ *toy.Difference }

func (s shortReward) Score(ctx context.Context, req *sdk.ScoreRequest) (*sdk.ScoreResponse, error) {
	resp, err := s.Difference.Score(ctx, req)
	if err == nil && len(resp.Rewards) > 1 {
		resp.Rewards = resp.Rewards[1:]
	}
	return resp, err
}

type lenientReward struct{ *toy.Difference }

func (lenientReward) Configure(context.Context, *sdk.ConfigureRequest) error { return nil }

type randomCurriculum struct{ *toy.TwoStage }

func (randomCurriculum) Next(_ context.Context, req *sdk.NextRequest) (*sdk.NextResponse, error) {
	k := rand.IntN(req.BatchSize + 1) // not from the seed
	return &sdk.NextResponse{Counts: map[sdk.Source]int{sdk.SourceDataChosen: k, sdk.SourceDataRejected: req.BatchSize - k}}, nil
}

type forgetfulAlgorithm struct{ *toy.Reinforce }

func (forgetfulAlgorithm) RestoreState(context.Context, []byte) error { return nil }

func (f forgetfulAlgorithm) SaveState(ctx context.Context) ([]byte, error) {
	return json.Marshal("nothing")
}

func TestBrokenHelper(t *testing.T) {
	var s plugintest.Suite
	switch os.Getenv(envBroken) {
	case "":
		t.Skip("run by TestSuiteCatchesBrokenPlugins")
	case "short":
		s.New = func() sdk.Plugin { return shortReward{toy.NewDifference()} }
	case "lenient":
		s.New = func() sdk.Plugin { return lenientReward{toy.NewDifference()} }
	case "random":
		s.New = func() sdk.Plugin { return randomCurriculum{toy.NewTwoStage()} }
	case "forgetful":
		s.New = func() sdk.Plugin { return forgetfulAlgorithm{toy.NewReinforce()} }
	}
	plugintest.Run(t, s)
}

func TestSuiteCatchesBrokenPlugins(t *testing.T) {
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	for broken, wantFail := range map[string]string{
		"short":     "--- FAIL: TestBrokenHelper/shapes",
		"lenient":   "--- FAIL: TestBrokenHelper/unknown-key",
		"random":    "--- FAIL: TestBrokenHelper/determinism",
		"forgetful": "--- FAIL: TestBrokenHelper/state",
	} {
		t.Run(broken, func(t *testing.T) {
			cmd := exec.Command(self, "-test.run=^TestBrokenHelper$", "-test.v")
			cmd.Env = append(os.Environ(), envBroken+"="+broken)
			out, err := cmd.CombinedOutput()
			if err == nil {
				t.Fatalf("the suite passed a broken plugin:\n%s", out)
			}
			if !strings.Contains(string(out), wantFail) {
				t.Fatalf("want %q in the output:\n%s", wantFail, out)
			}
		})
	}
}
