package experiment

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/BurntSushi/toml"
)

var update = flag.Bool("update", false, "rewrite golden files under testdata/")

func load(t *testing.T, path string) (*Experiment, *fakePlugins) {
	t.Helper()
	r, p := newTestRegistry()
	exp, err := r.Load(context.Background(), path)
	if err != nil {
		t.Fatalf("Load(%s): %v", path, err)
	}
	return exp, p
}

func TestLoadAblation(t *testing.T) {
	exp, plugins := load(t, "testdata/valid/ablation.toml")
	if exp.Name != "curriculum-ablation" || exp.Out != "results" || !reflect.DeepEqual(exp.Seeds, []int64{1, 2}) {
		t.Errorf("got name %q out %q seeds %v", exp.Name, exp.Out, exp.Seeds)
	}
	if len(exp.Arms) != 6 {
		t.Fatalf("got %d arms, want 3 curricula x 2 consistency weights = 6", len(exp.Arms))
	}
	wantLabels := []string{
		"consistency=0.0,curriculum=two-round",
		"consistency=0.5,curriculum=two-round",
		"consistency=0.0,curriculum=round0-only",
		"consistency=0.5,curriculum=round0-only",
		"consistency=0.0,curriculum=round1-only",
		"consistency=0.5,curriculum=round1-only",
	}
	for i, a := range exp.Arms {
		if a.Label != wantLabels[i] {
			t.Errorf("arm %d: label %q, want %q", i, a.Label, wantLabels[i])
		}
		if a.Baseline != (i == 0) {
			t.Errorf("arm %d (%s): baseline %v", i, a.Label, a.Baseline)
		}
	}
	// Arm 3: round0-only with consistency 0.5; check the resolved settings.
	c := exp.Arms[3].Config
	if c.Task.Kind != "synthetic" || c.Model == nil || c.Model.Kind != "transformer" {
		t.Fatalf("task %q model %+v", c.Task.Kind, c.Model)
	}
	task := c.Task.Settings.(*testTask)
	if task.Tau != 0.25 || task.Letters != 26 || task.Splits.Train != 500 || task.PairMode != "independent" {
		t.Errorf("task settings %+v: want file values over defaults", task)
	}
	model := c.Model.Settings.(*testModel)
	if *model != (testModel{DModel: 32, Layers: 2, Heads: 4, Dropout: 0.1}) {
		t.Errorf("model settings %+v", model)
	}
	var names []string
	for _, s := range c.Stages {
		names = append(names, s.Name)
	}
	if want := []string{"sft", "rm_bt", "rlhf", "pit_rm", "pit_rl", "eval"}; !reflect.DeepEqual(names, want) {
		t.Errorf("stages %v, want file order %v", names, want)
	}
	rl, _ := c.Stage("pit_rl")
	s := rl.Settings.(*testRL)
	if s.Steps != 100 || s.LR != 1e-4 || s.Beta != 0.05 || s.Timeout.Minutes() != 10 {
		t.Errorf("pit_rl settings %+v", s)
	}
	cur, _ := rl.Plugin("curriculum")
	if cur.Name != "round0-only" {
		t.Errorf("curriculum %q, want round0-only", cur.Name)
	}
	rew, _ := rl.Plugin("reward")
	if rew.Name != "pit-gap" || rew.Config["consistency_weight"] != 0.5 {
		t.Errorf("reward %+v", rew)
	}
	alg, _ := rl.Plugin("algorithm")
	if alg.Name != "ppo" || alg.Config["clip"] != 0.2 || alg.Config["epochs"] != int64(4) {
		t.Errorf("default algorithm with plugin defaults: got %+v", alg)
	}
	rm, _ := c.Stage("rm_bt")
	if rm.Kind != "rm" {
		t.Errorf("rm_bt kind %q", rm.Kind)
	}
	plots := c.Sections["plot"].(*[]testPlot)
	if len(*plots) != 2 || (*plots)[1].Metric != "delta" {
		t.Errorf("plots %+v", plots)
	}
	// Plugin validation is memoised: a distinct plugin config is checked
	// once, not once per arm.
	if n := plugins.count(); n > 12 {
		t.Errorf("plugin validator called %d times for 6 arms; want memoisation (at most 12 distinct refs)", n)
	}
}

func TestExpand(t *testing.T) {
	exp, _ := load(t, "testdata/valid/ablation.toml")
	runs, err := Expand(exp)
	if err != nil {
		t.Fatal(err)
	}
	if len(runs) != 12 {
		t.Fatalf("got %d runs, want 6 arms x 2 seeds", len(runs))
	}
	ids := map[string]bool{}
	for _, r := range runs {
		if ids[r.ID] {
			t.Errorf("duplicate run ID %s", r.ID)
		}
		ids[r.ID] = true
		if !strings.HasPrefix(r.ID, r.Arm+"/seed=") {
			t.Errorf("run ID %q does not start with its arm %q", r.ID, r.Arm)
		}
	}
	if runs[0].ID != "consistency=0.0,curriculum=two-round/seed=1" || !runs[0].Baseline || runs[1].Seed != 2 {
		t.Errorf("first runs: %+v / %+v", runs[0].ID, runs[1].ID)
	}
	f := runs[2].FactorMap()
	if !reflect.DeepEqual(f, map[string]any{"curriculum": "two-round", "consistency": 0.5}) {
		t.Errorf("factors %v", f)
	}
	// Stages the grid does not touch hash equally across arms; the one it
	// changes does not.
	for _, r := range runs[1:] {
		for _, st := range []string{"stages.sft", "stages.rlhf", "task", "model"} {
			if h0, h := mustHash(t, runs[0], st), mustHash(t, r, st); h0 != h {
				t.Errorf("%s: %s hash differs from %s's", r.ID, st, runs[0].ID)
			}
		}
		if r.Arm != runs[0].Arm && mustHash(t, r, "stages.pit_rl") == mustHash(t, runs[0], "stages.pit_rl") {
			t.Errorf("%s: stages.pit_rl hash equals the baseline's", r.ID)
		}
	}
	if _, err := Canonical(runs[0], "stages.nope"); err == nil {
		t.Error("Canonical of a missing path: no error")
	}
	if b, err := Canonical(runs[0], "stages.sft.steps"); err != nil || string(b) != "steps = 200\n" {
		t.Errorf("Canonical of a scalar: %q, %v", b, err)
	}
}

func mustHash(t *testing.T, r Run, path string) string {
	t.Helper()
	h, err := Hash(r, path)
	if err != nil {
		t.Fatal(err)
	}
	return h
}

// A run's config.toml is itself an experiment file that resolves to the
// same configuration.
func TestRunTOMLRoundTrip(t *testing.T) {
	for _, file := range []string{"testdata/valid/ablation.toml", "testdata/valid/zip.toml", "testdata/valid/minimal.toml"} {
		exp, _ := load(t, file)
		runs, err := Expand(exp)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range []Run{runs[0], runs[len(runs)-1]} {
			data, err := r.TOML()
			if err != nil {
				t.Fatal(err)
			}
			reg, _ := newTestRegistry()
			exp2, err := reg.Parse(context.Background(), "config.toml", data)
			if err != nil {
				t.Fatalf("%s %s: config.toml does not load:\n%v\n%s", file, r.ID, err, data)
			}
			runs2, err := Expand(exp2)
			if err != nil || len(runs2) != 1 {
				t.Fatalf("%s: %d runs, %v", file, len(runs2), err)
			}
			data2, _ := runs2[0].TOML()
			if !bytes.Equal(data, data2) {
				t.Errorf("%s %s: config.toml changes when reloaded:\n%s\n---\n%s", file, r.ID, data, data2)
			}
		}
	}
}

func TestZipAndTableValues(t *testing.T) {
	exp, _ := load(t, "testdata/valid/zip.toml")
	if len(exp.Arms) != 4 {
		t.Fatalf("got %d arms, want 2 (zip group) x 2 (model) = 4", len(exp.Arms))
	}
	var labels []string
	for _, a := range exp.Arms {
		labels = append(labels, a.Label)
		rl, _ := a.Config.Stage("pit_rl")
		cur, _ := rl.Plugin("curriculum")
		steps := rl.Settings.(*testRL).Steps
		if sw := cur.Config["switch_step"]; (steps == 100) != (sw == int64(50)) {
			t.Errorf("%s: steps %d with switch_step %v: zip group did not move together", a.Label, steps, sw)
		}
	}
	want := []string{"model=small,schedule=short", "model=large,schedule=short", "model=small,schedule=long", "model=large,schedule=long"}
	if !reflect.DeepEqual(labels, want) {
		t.Errorf("labels %v, want %v", labels, want)
	}
	b := exp.Baseline()
	if b == nil || b.Label != "model=small,schedule=short" {
		t.Errorf("baseline %+v", b)
	}
	// A table value replaces the whole table: defaults fill the rest.
	m := exp.Arms[1].Config.Model.Settings.(*testModel)
	if m.DModel != 64 || m.Heads != 4 {
		t.Errorf("large model %+v", m)
	}
}

func TestBaselineSelection(t *testing.T) {
	base := `name = "b"
seeds = [1]
[task]
kind = "synthetic"
[stages.sft]
steps = 1
[grid.axes.lr]
path = "stages.sft.lr"
values = [0.1, 0.01]
[grid.axes.batch]
path = "stages.sft.batch"
values = [8, 16]
`
	tests := []struct {
		baseline string
		want     string
	}{
		{"", "batch=8,lr=0.1"},
		{`baseline = "batch=16,lr=0.01"`, "batch=16,lr=0.01"},
		{`baseline = { lr = 0.01, batch = 8 }`, "batch=8,lr=0.01"},
		{`baseline = { lr = "0.01", batch = "16" }`, "batch=16,lr=0.01"},
	}
	for _, tt := range tests {
		r, _ := newTestRegistry()
		exp, err := r.Parse(context.Background(), "b.toml", []byte(base+"[grid]\n"+tt.baseline+"\n"))
		if err != nil {
			t.Errorf("%s: %v", tt.baseline, err)
			continue
		}
		if got := exp.Baseline().Label; got != tt.want {
			t.Errorf("%s: baseline %s, want %s", tt.baseline, got, tt.want)
		}
		n := 0
		for _, a := range exp.Arms {
			if a.Baseline {
				n++
			}
		}
		if n != 1 {
			t.Errorf("%s: %d baseline arms", tt.baseline, n)
		}
	}
}

// Run IDs and hashes do not depend on the order of axes or unrelated keys.
func TestIDsStableUnderReordering(t *testing.T) {
	a := `name = "s"
seeds = [3, 4]
[task]
kind = "synthetic"
tau = 0.1
[model]
layers = 1
[stages.sft]
steps = 5
lr = 0.5
[stages.eval]
iterations = 2
[grid.axes.lr]
path = "stages.sft.lr"
values = [0.5, 0.25]
[grid.axes.layers]
path = "model.layers"
values = [1, 3]
`
	b := `seeds = [3, 4]
name = "s"
[grid.axes.layers]
values = [1, 3]
path = "model.layers"
[grid.axes.lr]
values = [0.5, 0.25]
path = "stages.sft.lr"
[stages.eval]
iterations = 2
[stages.sft]
lr = 0.5
steps = 5
[model]
layers = 1
[task]
tau = 0.1
kind = "synthetic"
`
	hashes := func(src string) map[string]string {
		r, _ := newTestRegistry()
		exp, err := r.Parse(context.Background(), "s.toml", []byte(src))
		if err != nil {
			t.Fatal(err)
		}
		runs, err := Expand(exp)
		if err != nil {
			t.Fatal(err)
		}
		m := map[string]string{}
		for _, r := range runs {
			m[r.ID] = mustHash(t, r, "")
		}
		return m
	}
	ha, hb := hashes(a), hashes(b)
	if len(ha) != 8 || !reflect.DeepEqual(ha, hb) {
		t.Errorf("reordered file gives other runs or hashes:\n%v\n%v", ha, hb)
	}
}

func TestDiff(t *testing.T) {
	exp, _ := load(t, "testdata/valid/ablation.toml")
	base := exp.Baseline().Config
	var got []string
	for _, c := range Diff(base, exp.Arms[3].Config) {
		got = append(got, c.String())
	}
	want := []string{
		`stages.pit_rl.curriculum.config.switch_step: 250 → (absent)`,
		`stages.pit_rl.curriculum.plugin: "two-round" → "round0-only"`,
		`stages.pit_rl.reward.config.consistency_weight: 0.0 → 0.5`,
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("diff:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if d := Diff(base, base); len(d) != 0 {
		t.Errorf("diff with itself: %v", d)
	}
}

// Golden files: testdata/valid/*.toml print a summary and a plan;
// testdata/errors/*.toml print their errors. Run with -update to rewrite.
func TestGolden(t *testing.T) {
	files, _ := filepath.Glob("testdata/*/*.toml")
	if len(files) < 10 {
		t.Fatalf("only %d golden inputs", len(files))
	}
	for _, file := range files {
		t.Run(file, func(t *testing.T) {
			r, _ := newTestRegistry()
			exp, err := r.Load(context.Background(), file)
			if err == nil {
				// What Load cannot see, Preflight must: an error file
				// may be one that loads.
				env := CheckEnv{ResultsDir: filepath.Join(t.TempDir(), exp.Out, exp.Name)}
				err = r.Preflight(context.Background(), exp, env)
			}
			var out bytes.Buffer
			isErr := filepath.Base(filepath.Dir(file)) == "errors"
			switch {
			case isErr && err == nil:
				t.Fatalf("no error for an invalid file")
			case isErr:
				var list ErrorList
				if !errors.As(err, &list) {
					t.Fatalf("error is %T, want ErrorList: %v", err, err)
				}
				for _, e := range list {
					if e.File != file || e.Msg == "" {
						t.Errorf("bad error %#v", e)
					}
				}
				out.WriteString(err.Error() + "\n")
			case err != nil:
				t.Fatal(err)
			default:
				runs, err := Expand(exp)
				if err != nil {
					t.Fatal(err)
				}
				if err := Summary(&out, exp); err != nil {
					t.Fatal(err)
				}
				out.WriteString("\n")
				if err := PrintPlan(&out, runs); err != nil {
					t.Fatal(err)
				}
				cfg, err := runs[len(runs)-1].TOML()
				if err != nil {
					t.Fatal(err)
				}
				out.WriteString("\n# config.toml of " + runs[len(runs)-1].ID + "\n")
				out.Write(cfg)
			}
			golden := strings.TrimSuffix(file, ".toml") + ".golden"
			if *update {
				if err := os.WriteFile(golden, out.Bytes(), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run go test -update)", err)
			}
			if !bytes.Equal(out.Bytes(), want) {
				t.Errorf("output differs from %s:\n%s", golden, out.Bytes())
			}
		})
	}
}

func TestParseErrorPosition(t *testing.T) {
	r, _ := newTestRegistry()
	_, err := r.Parse(context.Background(), "x.toml", []byte("name = \"x\"\nseeds = [1,\n\n[task"))
	var list ErrorList
	if !errors.As(err, &list) || len(list) != 1 || list[0].Line < 2 || !strings.HasPrefix(list[0].Msg, "invalid TOML") {
		t.Errorf("got %#v", err)
	}
}

func TestRegisterPanics(t *testing.T) {
	tests := []struct {
		name string
		f    func(r *Registry)
	}{
		{"duplicate task", func(r *Registry) { r.RegisterTask("synthetic", func() any { return &testTask{} }) }},
		{"bad name", func(r *Registry) { r.RegisterTask("Bad Name", func() any { return &testTask{} }) }},
		{"non-pointer", func(r *Registry) { r.RegisterModel("m2", func() any { return testModel{} }) }},
		{"slot clashes with setting", func(r *Registry) {
			r.RegisterStage("x", StageKind{New: func() any {
				return &struct {
					Reward string `toml:"reward"`
				}{}
			}, Plugins: []Slot{{Kind: "reward"}}})
		}},
		{"reserved section", func(r *Registry) { r.RegisterSection("grid", func() any { return &testPlot{} }) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, _ := newTestRegistry()
			defer func() {
				if recover() == nil {
					t.Error("no panic")
				}
			}()
			tt.f(r)
		})
	}
}

// Every key BurntSushi/toml reports has a position, at the right line.
func TestPositions(t *testing.T) {
	src := `a = 1 # comment
"quoted.key" = """
multi
line = "no key"
"""
b.c = [
  1,
  { d = 2 },
]
[t]
x = '''
[not.a.table]
'''
[[arr]]
y = 1
[[arr]]
y = 2
[arr.sub]
z = 3
[[arr.list]]
w = 4
`
	var raw map[string]any
	md, err := toml.Decode(src, &raw)
	if err != nil {
		t.Fatal(err)
	}
	pos := scanPositions(src)
	for _, k := range md.Keys() {
		p := ""
		for _, part := range k {
			p = joinKey(p, part)
		}
		if !hasStripped(pos, p) {
			t.Errorf("no position for %s", p)
		}
	}
	want := map[string]int{
		"a": 1, `"quoted.key"`: 2, "b.c": 6, "b.c[1]": 8, "b.c[1].d": 8, "t.x": 11,
		"arr[0].y": 15, "arr[1]": 16, "arr[1].y": 17, "arr[1].sub.z": 19, "arr[1].list[0].w": 21,
	}
	for p, line := range want {
		if got := pos.line[p]; got != line {
			t.Errorf("%s: line %d, want %d", p, got, line)
		}
	}
	if _, ok := pos.line["line"]; ok {
		t.Error("key inside a multi-line string recorded")
	}
	if _, ok := pos.line["not.a.table"]; ok {
		t.Error("table header inside a multi-line string recorded")
	}
}

// hasStripped reports whether some recorded path equals p once array
// indices are removed.
func hasStripped(pos *positions, p string) bool {
	for q := range pos.line {
		if stripIndices(q) == p {
			return true
		}
	}
	return false
}

func stripIndices(p string) string {
	var b strings.Builder
	depth := 0
	inQuote := false
	for i := 0; i < len(p); i++ {
		c := p[i]
		switch {
		case inQuote:
			if c == '\\' && i+1 < len(p) {
				b.WriteByte(c)
				i++
				c = p[i]
			} else if c == '"' {
				inQuote = false
			}
		case c == '"':
			inQuote = true
		case c == '[':
			depth++
			continue
		case c == ']':
			depth--
			continue
		}
		if depth == 0 {
			b.WriteByte(c)
		}
	}
	return b.String()
}

func TestExternalPluginPath(t *testing.T) {
	dir := t.TempDir()
	exe := filepath.Join(dir, "bin", "my-reward")
	if err := os.MkdirAll(filepath.Dir(exe), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(exe, []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "plain"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	sum := strings.Repeat("ab", 32)
	src := `name = "ext"
seeds = [1]
[task]
kind = "synthetic"
[stages.rm]
steps = 1
reward = { plugin = "my-reward", path = "bin/my-reward", sha256 = "` + sum + `", config = { margin = 2 } }
`
	file := filepath.Join(dir, "exp.toml")
	if err := os.WriteFile(file, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	r := NewRegistry()
	r.RegisterTask("synthetic", func() any { return &testTask{PairMode: "edit"} })
	r.RegisterStage("rm", StageKind{New: func() any { return &testTrain{} }, Plugins: []Slot{{Kind: "reward", Required: true}}})
	var seen []PluginRef
	r.SetPluginValidator(PluginValidatorFunc(func(_ context.Context, ref PluginRef) []error {
		seen = append(seen, ref)
		return nil
	}))
	exp, err := r.Load(context.Background(), file)
	if err != nil {
		t.Fatal(err)
	}
	if len(seen) != 1 || seen[0].Path != exe || seen[0].SHA256 != sum || seen[0].Config["margin"] != int64(2) {
		t.Errorf("validator saw %+v, want path %s", seen, exe)
	}
	st, _ := exp.Arms[0].Config.Stage("rm")
	if p, _ := st.Plugin("reward"); p.Path != exe {
		t.Errorf("resolved path %q", p.Path)
	}
	// A file that is not executable is rejected before any plugin starts.
	bad := strings.Replace(src, "bin/my-reward", "plain", 1)
	_, err = r.Parse(context.Background(), file, []byte(bad))
	if err == nil || !strings.Contains(err.Error(), `stages.rm.reward.path: expected an executable file, relative paths from the experiment file's directory (got "plain": not executable)`) {
		t.Errorf("non-executable plugin: %v", err)
	}
}

func TestNoPluginValidator(t *testing.T) {
	r := NewRegistry()
	r.RegisterTask("synthetic", func() any { return &testTask{PairMode: "edit"} })
	r.RegisterStage("rm", StageKind{New: func() any { return &testTrain{} }, Plugins: []Slot{{Kind: "reward", Required: true}}})
	src := "name = \"n\"\nseeds = [1]\n[task]\nkind = \"synthetic\"\n[stages.rm]\nsteps = 1\nreward = { plugin = \"anything\", config = { x = 1 } }\n"
	exp, err := r.Parse(context.Background(), "n.toml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	st, _ := exp.Arms[0].Config.Stage("rm")
	if p, _ := st.Plugin("reward"); p.Name != "anything" || p.Config["x"] != int64(1) {
		t.Errorf("plugin %+v", p)
	}
}

func TestCancelledContext(t *testing.T) {
	r, _ := newTestRegistry()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := r.Load(ctx, "testdata/valid/ablation.toml")
	if !errors.Is(err, context.Canceled) {
		t.Errorf("got %v, want context.Canceled", err)
	}
}

type keyedErr struct{ key, msg string }

func (e keyedErr) Error() string     { return e.msg }
func (e keyedErr) ConfigKey() string { return e.key }

// Plugin validators outside this package point at config keys through a
// ConfigKey method; unkeyed errors land on the config table.
func TestPluginErrorAttribution(t *testing.T) {
	r := NewRegistry()
	r.RegisterTask("synthetic", func() any { return &testTask{PairMode: "edit"} })
	r.RegisterStage("rm", StageKind{Plugins: []Slot{{Kind: "reward", Required: true}}})
	r.SetPluginValidator(PluginValidatorFunc(func(_ context.Context, ref PluginRef) []error {
		return []error{keyedErr{"margin", "margin: want a number, got string"}, errors.New("config is odd")}
	}))
	src := `name = "n"
seeds = [1]
[task]
kind = "synthetic"
[stages.rm.reward]
plugin = "x"
[stages.rm.reward.config]
other = 1
margin = "wide"
`
	_, err := r.Parse(context.Background(), "n.toml", []byte(src))
	want := "n.toml:7: stages.rm.reward.config: config is odd\n" +
		"n.toml:9: stages.rm.reward.config.margin: margin: want a number, got string"
	if err == nil || err.Error() != want {
		t.Errorf("got\n%v\nwant\n%s", err, want)
	}
}

func TestLongArmLabelsGiveShortIDs(t *testing.T) {
	long := strings.Repeat("x", 150)
	src := `name = "long"
seeds = [1]
[task]
kind = "synthetic"
[stages.sft]
steps = 1
[stages.rlhf]
steps = 1
reward = "bradley-terry"
[grid.axes.` + long + `]
path = "stages.sft.lr"
values = [0.1, 0.2]
`
	r, _ := newTestRegistry()
	exp, err := r.Parse(context.Background(), "long.toml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	runs, err := Expand(exp)
	if err != nil {
		t.Fatal(err)
	}
	if len(runs) != 2 || runs[0].ID == runs[1].ID {
		t.Errorf("two arms share ID %s", runs[0].ID)
	}
	for _, r := range runs {
		dir, _, _ := strings.Cut(r.ID, "/")
		if len(dir) > 120 || !strings.HasPrefix(r.Arm, dir[:100]) {
			t.Errorf("ID %s (%d bytes) for arm %s", r.ID, len(dir), r.Arm)
		}
	}
}

// TestFactorMapLabelsTables: a table-valued axis is recorded in manifests
// (and so in exports and figures) by its label, scalars as themselves.
func TestFactorMapLabelsTables(t *testing.T) {
	exp, _ := load(t, "testdata/valid/zip.toml")
	runs, err := Expand(exp)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[any]bool{}
	for _, r := range runs {
		v, ok := r.FactorMap()["model"]
		if !ok {
			t.Fatalf("run %s has no model factor: %v", r.ID, r.FactorMap())
		}
		if _, isString := v.(string); !isString {
			t.Errorf("run %s: table-valued factor recorded as %T %v, want its label", r.ID, v, v)
		}
		seen[v] = true
	}
	if !seen["small"] || !seen["large"] {
		t.Errorf("model factor values %v, want the labels small and large", seen)
	}
}
