package plugintest

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"

	"github.com/pit-lab/pit/plugins/sdk"
	"github.com/pit-lab/pit/plugins/sdk/table"
)

// Suite describes the plugin under test.
type Suite struct {
	// New makes fresh, unconfigured values of the plugin. Required.
	New func() sdk.Plugin
	// Configs are further valid configs to exercise besides the defaults.
	Configs []map[string]any
	// Invalid are configs the plugin must reject (e.g. out-of-range values).
	Invalid []map[string]any
	// Models serves reward plugins' model calls; nil means a HashModels.
	Models sdk.ModelService
	// Seed is the seed the checks configure the plugin with (a second,
	// different seed is derived from it).
	Seed int64
	// Steps is how many steps (batches) each exercise runs; 0 means 6.
	Steps int

	// Process, when set, also runs the exercise against the plugin in its
	// own process: it launches the plugin described by desc, offering reward
	// plugins models, and returns the
	// host's view of it, closed when the test ends. pit's module provides
	// launchers for a built-in served by the test binary and for an
	// executable (package github.com/pit-lab/pit/plugins/host/hosttest);
	// the suite itself imports nothing of pit's engine.
	Process func(t testing.TB, desc *sdk.Description, models sdk.ModelService) sdk.Plugin
}

// Run checks the plugin against pit's plugin contract, each check a
// subtest:
//
//   - describe: Describe works on a fresh value, is stable, names the
//     plugin, its version and kind, and lists well-formed config fields;
//   - defaults: the empty config and the schema's own defaults are accepted,
//     in process and over the wire;
//   - unknown-key, wrong-type, invalid: bad configs are rejected; unknown
//     keys and wrong types with a problem that names the key the way
//     package table does (`key "k": ...`, what DecodeConfig returns), so
//     that pit reports it at the key's line of the experiment file;
//   - shapes: every response fits its batch (one reward per input,
//     comparisons in range, B×T advantages zero off the mask, counts that
//     sum to the batch size, ...) for empty, single and larger batches;
//   - determinism: two fresh values with the same config and seed give the
//     same outputs;
//   - state: stateful plugins saved mid-way and restored into a fresh value
//     continue exactly as the original;
//   - wire: the same outputs through a real gRPC connection (Connect);
//   - process: the same outputs from the plugin in its own process (when
//     Process is set).
func Run(t *testing.T, s Suite) {
	t.Helper()
	if s.New == nil {
		t.Fatal("plugintest.Suite.New is nil")
	}
	if s.Models == nil {
		s.Models = &HashModels{}
	}
	if s.Steps == 0 {
		s.Steps = 6
	}
	ctx := context.Background()
	probe := s.New()
	kind, err := sdk.KindOf(probe)
	if err != nil {
		t.Fatal(err)
	}
	desc, err := sdk.Describe(ctx, probe)
	if err != nil {
		t.Fatalf("Describe: %v", err)
	}
	configs := append([]map[string]any{nil}, s.Configs...)

	t.Run("describe", func(t *testing.T) { checkDescribe(t, s, kind, desc) })
	t.Run("defaults", func(t *testing.T) {
		defaults := map[string]any{}
		for _, f := range desc.Config {
			if f.Default != nil && !strings.Contains(f.Name, ".") {
				defaults[f.Name] = f.Default
			}
		}
		for _, d := range nestDefaults(desc.Config) {
			defaults[d.key] = d.val
		}
		for _, cfg := range []map[string]any{nil, {}, defaults} {
			if err := s.New().Configure(ctx, &sdk.ConfigureRequest{Config: cfg, Seed: s.Seed}); err != nil {
				t.Errorf("config %v rejected in process: %v", cfg, err)
			}
			if err := Connect(t, s.New(), s.Models).Configure(ctx, &sdk.ConfigureRequest{Config: cfg, Seed: s.Seed}); err != nil {
				t.Errorf("config %v rejected over the wire: %v", cfg, err)
			}
		}
		for _, cfg := range s.Configs {
			if err := s.New().Configure(ctx, &sdk.ConfigureRequest{Config: cfg, Seed: s.Seed}); err != nil {
				t.Errorf("Suite.Configs entry %v rejected: %v", cfg, err)
			}
		}
	})
	t.Run("unknown-key", func(t *testing.T) {
		const key = "pit_conformance_no_such_key"
		err := s.New().Configure(ctx, &sdk.ConfigureRequest{Config: map[string]any{key: 1.0}, Seed: s.Seed})
		if !namesKey(err, key) {
			t.Errorf("unknown key: want a problem naming %q as `key %q: ...` (see sdk/table), got %v", key, key, err)
		}
	})
	t.Run("wrong-type", func(t *testing.T) {
		for _, f := range desc.Config {
			bad, ok := wrongValue(f.Type)
			if !ok {
				continue
			}
			cfg := nestedConfig(f.Name, bad)
			err := s.New().Configure(ctx, &sdk.ConfigureRequest{Config: cfg, Seed: s.Seed})
			if !namesKey(err, f.Name) {
				t.Errorf("key %q (%s) set to %#v: want a problem naming the key as `key %q: ...` (see sdk/table), got %v", f.Name, f.Type, bad, f.Name, err)
			}
		}
	})
	t.Run("invalid", func(t *testing.T) {
		for _, cfg := range s.Invalid {
			if err := s.New().Configure(ctx, &sdk.ConfigureRequest{Config: cfg, Seed: s.Seed}); err == nil {
				t.Errorf("invalid config %v accepted", cfg)
			}
		}
	})

	ex := exerciser{kind: kind, models: s.Models, seed: s.Seed, steps: s.Steps}
	for i, cfg := range configs {
		name := fmt.Sprintf("config%d", i)
		t.Run("shapes/"+name, func(t *testing.T) {
			p := configured(t, s.New(), cfg, s.Seed)
			if _, err := ex.run(ctx, p, 0, s.Steps); err != nil {
				t.Fatal(err)
			}
		})
		t.Run("determinism/"+name, func(t *testing.T) {
			a := mustRun(t, ex, configured(t, s.New(), cfg, s.Seed), 0, s.Steps)
			b := mustRun(t, ex, configured(t, s.New(), cfg, s.Seed), 0, s.Steps)
			sameTranscript(t, "two fresh values, same seed", a, b)
		})
		if _, ok := probe.(sdk.Stateful); ok {
			t.Run("state/"+name, func(t *testing.T) {
				half := s.Steps / 2
				orig := configured(t, s.New(), cfg, s.Seed)
				mustRun(t, ex, orig, 0, half)
				state, err := orig.(sdk.Stateful).SaveState(ctx)
				if err != nil {
					t.Fatalf("SaveState: %v", err)
				}
				want := mustRun(t, ex, orig, half, s.Steps)
				restored := configured(t, s.New(), cfg, s.Seed)
				if err := restored.(sdk.Stateful).RestoreState(ctx, state); err != nil {
					t.Fatalf("RestoreState: %v", err)
				}
				got := mustRun(t, ex, restored, half, s.Steps)
				sameTranscript(t, "restored vs original", want, got)
				if err := s.New().(sdk.Stateful).RestoreState(ctx, []byte("\x00not a state")); err == nil {
					t.Error("RestoreState accepted garbage")
				}
			})
		}
		t.Run("wire/"+name, func(t *testing.T) {
			want := mustRun(t, ex, configured(t, s.New(), cfg, s.Seed), 0, s.Steps)
			got := mustRun(t, ex, configured(t, Connect(t, s.New(), s.Models), cfg, s.Seed), 0, s.Steps)
			sameTranscript(t, "over gRPC vs in process", want, got)
		})
		if s.Process != nil {
			t.Run("process/"+name, func(t *testing.T) {
				remote := s.Process(t, desc, s.Models)
				want := mustRun(t, ex, configured(t, s.New(), cfg, s.Seed), 0, s.Steps)
				got := mustRun(t, ex, configured(t, remote, cfg, s.Seed), 0, s.Steps)
				sameTranscript(t, "in its own process vs in process", want, got)
			})
		}
	}
}

func checkDescribe(t *testing.T, s Suite, kind sdk.Kind, d *sdk.Description) {
	ctx := context.Background()
	if d.Name == "" || strings.ContainsAny(d.Name, " /\t\n") {
		t.Errorf("name %q: want a non-empty name without spaces or slashes", d.Name)
	}
	if d.Version == "" {
		t.Error("empty version")
	}
	if d.Kind != kind {
		t.Errorf("kind %q, the value is a %s plugin", d.Kind, kind)
	}
	if kind != sdk.KindReward && (d.NeedsLearnedModel || d.ReferenceConditioned) {
		t.Errorf("a %s plugin claims reward-only traits", kind)
	}
	seen := map[string]bool{}
	for _, f := range d.Config {
		if f.Name == "" || f.Type == "" {
			t.Errorf("config field %+v: want a name and a type", f)
		}
		if seen[f.Name] {
			t.Errorf("config key %q listed twice", f.Name)
		}
		seen[f.Name] = true
	}
	again, err := sdk.Describe(ctx, s.New())
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(d, again) {
		t.Errorf("Describe is not stable:\n%+v\n%+v", d, again)
	}
	// Describe after Configure still describes the plugin, not its config.
	p := s.New()
	if err := p.Configure(ctx, &sdk.ConfigureRequest{Seed: s.Seed}); err != nil {
		t.Fatalf("default config rejected: %v", err)
	}
	after, err := sdk.Describe(ctx, p)
	if err != nil {
		t.Fatal(err)
	}
	if after.Name != d.Name || after.Version != d.Version {
		t.Errorf("Describe after Configure names %s %s, before %s %s", after.Name, after.Version, d.Name, d.Version)
	}
	wire, err := Connect(t, s.New(), s.Models).Describe(ctx)
	if err != nil {
		t.Fatalf("Describe over the wire: %v", err)
	}
	if wire.Name != d.Name || wire.Kind != d.Kind || len(wire.Config) != len(d.Config) || wire.ReferenceConditioned != d.ReferenceConditioned || wire.NeedsLearnedModel != d.NeedsLearnedModel {
		t.Errorf("Describe over the wire differs:\n%+v\n%+v", wire, d)
	}
}

type keyVal struct {
	key string
	val any
}

// nestDefaults rebuilds nested tables from dotted schema keys.
func nestDefaults(fields []sdk.ConfigField) []keyVal {
	tables := map[string]map[string]any{}
	var order []string
	for _, f := range fields {
		top, rest, ok := strings.Cut(f.Name, ".")
		if !ok || f.Default == nil {
			continue
		}
		if tables[top] == nil {
			tables[top] = map[string]any{}
			order = append(order, top)
		}
		setPath(tables[top], rest, f.Default)
	}
	var out []keyVal
	for _, k := range order {
		out = append(out, keyVal{k, tables[k]})
	}
	return out
}

func setPath(m map[string]any, path string, v any) {
	head, rest, ok := strings.Cut(path, ".")
	if !ok {
		m[path] = v
		return
	}
	sub, _ := m[head].(map[string]any)
	if sub == nil {
		sub = map[string]any{}
		m[head] = sub
	}
	setPath(sub, rest, v)
}

func nestedConfig(key string, v any) map[string]any {
	m := map[string]any{}
	setPath(m, key, v)
	return m
}

// wrongValue returns a value no field of type typ accepts.
func wrongValue(typ string) (any, bool) {
	switch {
	case typ == "float", typ == "int", typ == "duration":
		return "not-a-number", true
	case typ == "bool":
		return "not-a-bool", true
	case typ == "string":
		return []any{1.0, 2.0}, true
	case strings.HasPrefix(typ, "[]"), strings.HasPrefix(typ, "map["), typ == "table":
		return "not-a-collection", true
	}
	return nil, false
}

func configured(t testing.TB, p sdk.Plugin, cfg map[string]any, seed int64) sdk.Plugin {
	t.Helper()
	if err := p.Configure(context.Background(), &sdk.ConfigureRequest{Config: cfg, Seed: seed}); err != nil {
		t.Fatalf("config %v rejected: %v", cfg, err)
	}
	return p
}

func mustRun(t testing.TB, ex exerciser, p sdk.Plugin, from, to int) []string {
	t.Helper()
	out, err := ex.run(context.Background(), p, from, to)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func sameTranscript(t testing.TB, what string, want, got []string) {
	t.Helper()
	if len(want) != len(got) {
		t.Fatalf("%s: %d outputs vs %d", what, len(want), len(got))
	}
	for i := range want {
		if want[i] != got[i] {
			t.Fatalf("%s: output %d differs:\n want %s\n  got %s", what, i, want[i], got[i])
		}
	}
}

// exerciser drives a plugin through a scripted sequence of steps whose
// inputs depend only on the seed and the step, and records its outputs.
type exerciser struct {
	kind   sdk.Kind
	models sdk.ModelService
	seed   int64
	steps  int
}

func (e exerciser) rng(step, salt int) *rand.Rand {
	return rand.New(rand.NewPCG(uint64(e.seed)^0x5bd1e995, uint64(step)<<8|uint64(salt)))
}

func seq(r *rand.Rand, minLen, maxLen int) []int32 {
	s := make([]int32, minLen+r.IntN(maxLen-minLen+1))
	for i := range s {
		s[i] = r.Int32N(32)
	}
	return s
}

// batchSize cycles through empty, single and larger batches.
func batchSize(step int) int { return []int{3, 0, 1, 7}[step%4] }

// record appends v to the transcript as JSON, with empty lists and maps
// written as null: the wire does not tell them apart.
func record(out *[]string, label string, v any) {
	b, err := json.Marshal(v)
	if err == nil {
		var generic any
		if err = json.Unmarshal(b, &generic); err == nil {
			b, err = json.Marshal(emptyToNil(generic))
		}
	}
	if err != nil {
		b = []byte(fmt.Sprintf("%#v", v))
	}
	*out = append(*out, label+" "+string(b))
}

func emptyToNil(v any) any {
	switch x := v.(type) {
	case []any:
		if len(x) == 0 {
			return nil
		}
		for i := range x {
			x[i] = emptyToNil(x[i])
		}
	case map[string]any:
		if len(x) == 0 {
			return nil
		}
		for k := range x {
			x[k] = emptyToNil(x[k])
		}
	}
	return v
}

func (e exerciser) run(ctx context.Context, p sdk.Plugin, from, to int) ([]string, error) {
	var out []string
	for step := from; step < to; step++ {
		var err error
		switch e.kind {
		case sdk.KindReward:
			err = e.rewardStep(ctx, p.(sdk.Reward), step, &out)
		case sdk.KindAlgorithm:
			err = e.algorithmStep(ctx, p.(sdk.Algorithm), step, &out)
		case sdk.KindCurriculum:
			err = e.curriculumStep(ctx, p.(sdk.Curriculum), step, &out)
		}
		if err != nil {
			return out, fmt.Errorf("step %d: %w", step, err)
		}
	}
	return out, nil
}

func (e exerciser) rewardStep(ctx context.Context, p sdk.Reward, step int, out *[]string) error {
	r := e.rng(step, 1)
	n := batchSize(step)
	pairs := make([]sdk.Pair, n)
	for i := range pairs {
		pairs[i] = sdk.Pair{Prompt: seq(r, 1, 8), Chosen: seq(r, 1, 12), Rejected: seq(r, 1, 12)}
	}
	cmp, err := p.Comparisons(ctx, &sdk.ComparisonsRequest{Pairs: pairs})
	if err != nil {
		return fmt.Errorf("Comparisons: %w", err)
	}
	if err := cmp.Check(n); err != nil {
		return err
	}
	d, err := p.Describe(ctx)
	if err != nil {
		return err
	}
	if d.NeedsLearnedModel && n > 0 && len(cmp.Comparisons) == 0 {
		return fmt.Errorf("Comparisons: needs a learned model but gave no comparisons for %d pairs", n)
	}
	record(out, "comparisons", cmp)
	items := make([]sdk.Input, n)
	for i := range items {
		items[i] = sdk.Input{Prompt: seq(r, 1, 8), Response: seq(r, 1, 12)}
		if d.ReferenceConditioned {
			items[i].Reference = seq(r, 1, 12)
		}
	}
	sc, err := p.Score(ctx, &sdk.ScoreRequest{Items: items, Models: e.models})
	if err != nil {
		return fmt.Errorf("Score: %w", err)
	}
	if err := sc.Check(n); err != nil {
		return err
	}
	record(out, "score", sc)
	return nil
}

func (e exerciser) algorithmStep(ctx context.Context, p sdk.Algorithm, step int, out *[]string) error {
	k, err := p.Knobs(ctx)
	if err != nil {
		return fmt.Errorf("Knobs: %w", err)
	}
	if err := k.Check(); err != nil {
		return err
	}
	record(out, "knobs", k)
	r := e.rng(step, 2)
	groups := []int{2, 1, 3}[step%3]
	b, t := groups*k.SamplesPerPrompt, 10
	req := &sdk.AdvantagesRequest{Step: step}
	for i := range b {
		prompt := 1 + r.IntN(3)
		resp := 1 + r.IntN(t-prompt)
		lp, ref, mask, val := make([]float64, t), make([]float64, t), make([]float64, t), make([]float64, t)
		for j := prompt; j < prompt+resp; j++ {
			mask[j] = 1
			lp[j] = -3 * r.Float64()
			ref[j] = lp[j] + 0.3*r.NormFloat64()
			val[j] = r.NormFloat64()
		}
		req.LogProbs = append(req.LogProbs, lp)
		req.RefLogProbs = append(req.RefLogProbs, ref)
		req.Mask = append(req.Mask, mask)
		if k.ValueCoef > 0 {
			req.Values = append(req.Values, val)
		}
		req.Rewards = append(req.Rewards, r.NormFloat64())
		req.Groups = append(req.Groups, i/k.SamplesPerPrompt)
	}
	if k.GreedyBaseline {
		for range b {
			req.GreedyRewards = append(req.GreedyRewards, r.NormFloat64())
		}
	}
	resp, err := p.Advantages(ctx, req)
	if err != nil {
		return fmt.Errorf("Advantages: %w", err)
	}
	if err := resp.Check(req); err != nil {
		return err
	}
	record(out, "advantages", resp)
	kl := math.Abs(r.NormFloat64()) * []float64{0.01, 0.1, 1}[step%3]
	if err := p.Observe(ctx, &sdk.ObserveRequest{Step: step, Stats: map[string]float64{"kl": kl, "reward": r.NormFloat64()}}); err != nil {
		return fmt.Errorf("Observe: %w", err)
	}
	return nil
}

func (e exerciser) curriculumStep(ctx context.Context, p sdk.Curriculum, step int, out *[]string) error {
	r := e.rng(step, 3)
	size := []int{16, 1, 9}[step%3]
	resp, err := p.Next(ctx, &sdk.NextRequest{Step: step, TotalSteps: e.steps, BatchSize: size, Stats: map[string]float64{"reward": r.NormFloat64()}})
	if err != nil {
		return fmt.Errorf("Next: %w", err)
	}
	if err := resp.Check(size); err != nil {
		return err
	}
	record(out, "next", resp)
	stats := map[string]float64{"reward": r.NormFloat64(), "oracle_gain": r.NormFloat64(), "kl": math.Abs(r.NormFloat64())}
	if err := p.Observe(ctx, &sdk.ObserveRequest{Step: step, Stats: stats}); err != nil {
		return fmt.Errorf("Observe: %w", err)
	}
	return nil
}

// namesKey reports whether one of err's problems names key in the form
// table.CutKey reads (what crosses the wire to the host).
func namesKey(err error, key string) bool {
	for _, e := range sdk.SplitErrors(err) {
		if k, _, ok := table.CutKey(e.Error()); ok && k == key {
			return true
		}
	}
	return false
}
