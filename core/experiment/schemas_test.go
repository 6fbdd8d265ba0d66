package experiment

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"
)

// Test schemas: a small task, a model and the PIT pipeline's stage kinds,
// registered with a registry of the test's own.

type testTask struct {
	Letters  int     `toml:"letters"`
	Tau      float64 `toml:"tau"`
	PairMode string  `toml:"pair_mode"`
	Splits   struct {
		Train int `toml:"train"`
		Test  int `toml:"test"`
	} `toml:"splits"`
}

func (t *testTask) Validate() error {
	if t.PairMode != "independent" && t.PairMode != "edit" {
		return Errorf("pair_mode", `expected "independent" or "edit" (got %q)`, t.PairMode)
	}
	return nil
}

type testModel struct {
	DModel  int     `toml:"d_model"`
	Layers  int     `toml:"layers"`
	Heads   int     `toml:"heads"`
	Dropout float32 `toml:"dropout"`
}

func (m *testModel) Validate() error {
	if m.Heads <= 0 || m.DModel%m.Heads != 0 {
		return Errorf("heads", "expected a positive divisor of d_model %d (got %d)", m.DModel, m.Heads)
	}
	return nil
}

type testTrain struct {
	Steps   int           `toml:"steps,required"`
	LR      float64       `toml:"lr"`
	Batch   int           `toml:"batch"`
	Timeout time.Duration `toml:"timeout"`
}

type testRL struct {
	testTrain   `toml:",squash"`
	Beta        float64 `toml:"beta"`
	Temperature float64 `toml:"temperature"`
}

type testEval struct {
	Iterations   int       `toml:"iterations"`
	Temperatures []float64 `toml:"temperatures"`
	Judges       []string  `toml:"judges"`
}

type testPlot struct {
	Kind   string   `toml:"kind,required"`
	Metric string   `toml:"metric"`
	Arms   []string `toml:"arms"`
	Size   testSize `toml:"size"`
}

func (p testPlot) Validate() error {
	if p.Kind != "delta-vs-iteration" && p.Kind != "ablation-bars" {
		return Errorf("kind", `expected "delta-vs-iteration" or "ablation-bars" (got %q)`, p.Kind)
	}
	return nil
}

type testSize struct {
	Width  float64 `toml:"width"`
	Height float64 `toml:"height"`
}

func (s *testSize) Validate() error {
	var errs []error
	if s.Width < 0 {
		errs = append(errs, Errorf("width", "expected a positive width in cm (got %g)", s.Width))
	}
	if s.Height < 0 {
		errs = append(errs, Errorf("height", "expected a positive height in cm (got %g)", s.Height))
	}
	return errors.Join(errs...)
}

func newTestRegistry() (*Registry, *fakePlugins) {
	r := NewRegistry()
	r.RegisterTask("synthetic", func() any {
		t := &testTask{Letters: 26, Tau: 0.5, PairMode: "independent"}
		t.Splits.Train, t.Splits.Test = 2000, 200
		return t
	})
	r.RegisterModel("transformer", func() any { return &testModel{DModel: 64, Layers: 2, Heads: 4, Dropout: 0.1} })
	r.RegisterStage("sft", StageKind{New: func() any { return &testTrain{Steps: 1000, LR: 1e-3, Batch: 32} }})
	r.RegisterStage("rm", StageKind{
		New:     func() any { return &testTrain{LR: 1e-3, Batch: 32} },
		Plugins: []Slot{{Kind: "reward", Required: true}},
	})
	newRL := func() any {
		return &testRL{testTrain: testTrain{Steps: 500, LR: 1e-4, Batch: 16}, Beta: 0.05, Temperature: 1}
	}
	r.RegisterStage("rlhf", StageKind{New: newRL, Needs: []string{"sft"}, Plugins: []Slot{{Kind: "reward", Required: true}, {Kind: "algorithm", Default: "ppo"}}})
	r.RegisterStage("pit_rl", StageKind{New: newRL, Needs: []string{"sft"}, Plugins: []Slot{
		{Kind: "reward", Required: true}, {Kind: "algorithm", Default: "ppo"}, {Kind: "curriculum", Default: "two-round"},
	}})
	r.RegisterStage("eval", StageKind{New: func() any {
		return &testEval{Iterations: 3, Temperatures: []float64{0.4, 1}, Judges: []string{"oracle"}}
	}})
	r.RegisterStage("marker", StageKind{}) // a stage without settings
	r.RegisterSection("plot", func() any { return &[]testPlot{} })
	r.RegisterCheck("test-reward-match", checkRewardMatch)
	p := &fakePlugins{calls: map[string]int{}}
	r.SetPluginValidator(p)
	return r, p
}

// checkRewardMatch is a cross-stage check in the manner of the pipeline's:
// the test registry's pit_rl stage must score with the reward plugin of
// the rm stage, when there is one.
func checkRewardMatch(_ context.Context, arm *Arm, _ CheckEnv) []Problem {
	rm, ok := arm.Config.Stage("rm")
	if !ok {
		return nil
	}
	want, _ := rm.Plugin("reward")
	var probs []Problem
	for _, st := range arm.Config.Stages {
		if st.Kind != "pit_rl" {
			continue
		}
		if got, _ := st.Plugin("reward"); got.Name != want.Name {
			probs = append(probs, Problem{
				Key:  "stages." + st.Name + ".reward",
				Msg:  fmt.Sprintf("reward plugin %s cannot score with the model rm trained with %s", got.Name, want.Name),
				Hint: "give both stages the same reward plugin",
			})
		}
	}
	return probs
}

// fakePlugins stands in for the plugin host: it knows a few plugins and
// their config keys, validates configs the way a plugin would, and fills in
// defaults.
type fakePlugins struct {
	mu    sync.Mutex
	calls map[string]int
}

type fakeKey struct {
	def any
	ok  func(v any) string // "" if v is acceptable, else what was expected
}

func nonNegNumber(v any) string {
	switch x := v.(type) {
	case float64:
		if x >= 0 {
			return ""
		}
	case int64:
		if x >= 0 {
			return ""
		}
	}
	return "a non-negative number"
}

func intAtLeast(n int64) func(any) string {
	return func(v any) string {
		if x, ok := v.(int64); ok && x >= n {
			return ""
		}
		return fmt.Sprintf("an integer >= %d", n)
	}
}

var fakeCatalog = map[string]map[string]map[string]fakeKey{
	"reward": {
		"bradley-terry": {},
		"pit-gap":       {"consistency_weight": {def: 0.0, ok: nonNegNumber}},
		"rubric":        {},
	},
	"algorithm": {
		"ppo":  {"clip": {def: 0.2, ok: nonNegNumber}, "epochs": {def: int64(4), ok: intAtLeast(1)}},
		"rloo": {"k": {def: int64(4), ok: intAtLeast(2)}},
	},
	"curriculum": {
		"two-round":   {"switch_step": {def: int64(250), ok: intAtLeast(0)}},
		"round0-only": {},
		"round1-only": {},
	},
}

func (f *fakePlugins) Validate(_ context.Context, ref PluginRef) []error {
	f.mu.Lock()
	f.calls[ref.Kind+"/"+ref.Name]++
	f.mu.Unlock()
	byName, ok := fakeCatalog[ref.Kind]
	if !ok {
		return []error{fmt.Errorf("no plugins of kind %q", ref.Kind)}
	}
	keys, ok := byName[ref.Name]
	if !ok {
		names := make([]string, 0, len(byName))
		for n := range byName {
			names = append(names, n)
		}
		sort.Strings(names)
		return []error{fmt.Errorf("%w: no %s plugin %q (available: %s)", ErrUnknownPlugin, ref.Kind, ref.Name, strings.Join(names, ", "))}
	}
	var errs []error
	for _, k := range sortedKeys(ref.Config) {
		spec, known := keys[k]
		if !known {
			errs = append(errs, Errorf(k, "unknown config key for %s plugin %s", ref.Kind, ref.Name))
			continue
		}
		if want := spec.ok(ref.Config[k]); want != "" {
			errs = append(errs, Errorf(k, "expected %s (got %s)", want, got(ref.Config[k])))
		}
	}
	return errs
}

func (f *fakePlugins) Defaults(_ context.Context, ref PluginRef) (map[string]any, error) {
	out := map[string]any{}
	for k, spec := range fakeCatalog[ref.Kind][ref.Name] {
		out[k] = spec.def
	}
	for k, v := range ref.Config {
		out[k] = v
	}
	return out, nil
}

func (f *fakePlugins) count() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := 0
	for _, c := range f.calls {
		n += c
	}
	return n
}
