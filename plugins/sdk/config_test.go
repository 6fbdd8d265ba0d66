package sdk_test

import (
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pit-lab/pit/plugins/sdk"
)

var update = flag.Bool("update", false, "rewrite golden files")

type klConfig struct {
	Target  float64 `toml:"target" doc:"target KL"`
	Horizon int     `toml:"horizon"`
}

type testConfig struct {
	Beta     float64            `toml:"beta" doc:"KL coefficient"`
	K        int                `toml:"k" doc:"samples per prompt"`
	Whiten   bool               `toml:"whiten"`
	Name     string             `toml:"name"`
	Warmup   time.Duration      `toml:"warmup"`
	Sources  []string           `toml:"sources"`
	Weights  map[string]float64 `toml:"weights"`
	KL       klConfig           `toml:"kl"`
	internal int
}

func defaults() testConfig {
	return testConfig{Beta: 0.05, K: 4, Name: "x", Warmup: time.Minute, Sources: []string{"policy"}, KL: klConfig{Target: 6, Horizon: 100}}
}

func TestDecodeConfig(t *testing.T) {
	for _, tc := range []struct {
		name string
		raw  map[string]any
		want func(*testConfig)
		errs []string // substrings, one per expected problem
	}{
		{name: "nil keeps defaults", raw: nil, want: func(*testConfig) {}},
		{name: "toml types", raw: map[string]any{"beta": 0.1, "k": int64(8), "whiten": true, "warmup": "90s", "sources": []any{"self", "policy"}},
			want: func(c *testConfig) {
				c.Beta, c.K, c.Whiten, c.Warmup, c.Sources = 0.1, 8, true, 90*time.Second, []string{"self", "policy"}
			}},
		{name: "wire numbers are float64", raw: map[string]any{"k": 8.0, "kl": map[string]any{"horizon": 10.0}},
			want: func(c *testConfig) { c.K, c.KL.Horizon = 8, 10 }},
		{name: "int into float", raw: map[string]any{"beta": int64(1)}, want: func(c *testConfig) { c.Beta = 1 }},
		{name: "keys are exact", raw: map[string]any{"Beta": 0.2}, errs: []string{`key "Beta": unknown key (did you mean "beta"?`}},
		{name: "go numbers", raw: map[string]any{"k": 3, "beta": float32(0.5)}, want: func(c *testConfig) { c.K, c.Beta = 3, 0.5 }},
		{name: "null keeps the default", raw: map[string]any{"k": nil}, want: func(*testConfig) {}},
		{name: "nested table", raw: map[string]any{"kl": map[string]any{"target": 3.0}}, want: func(c *testConfig) { c.KL.Target = 3 }},
		{name: "unknown key", raw: map[string]any{"betta": 0.1}, errs: []string{`key "betta": unknown key (did you mean "beta"? known keys: beta, k, kl, name, sources, warmup, weights, whiten)`}},
		{name: "unknown nested key", raw: map[string]any{"kl": map[string]any{"targte": 1.0}}, errs: []string{`key "kl.targte": unknown key (did you mean "target"? known keys: horizon, target)`}},
		{name: "every problem at once", raw: map[string]any{"beta": "high", "k": 1.5, "whiten": "yes", "warmup": "soon", "nope": 1},
			errs: []string{`key "nope": unknown key`, `key "beta": expected a number (got string "high")`, `key "k": expected an integer (got float 1.5)`,
				`key "warmup": expected a duration string such as "30s" or "1m30s" (got string "soon")`, `key "whiten": expected a boolean (got string "yes")`}},
		{name: "list of wrong type", raw: map[string]any{"sources": "policy"}, errs: []string{`key "sources": expected an array of strings (got string "policy")`}},
		{name: "wrong element", raw: map[string]any{"sources": []any{"a", 1.0}, "weights": map[string]any{"x": "y"}},
			errs: []string{`key "sources[1]": expected a string (got float 1.0)`, `key "weights.x": expected a number (got string "y")`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := defaults()
			err := sdk.DecodeConfig(tc.raw, &c)
			errs := sdk.SplitErrors(err)
			if len(errs) != len(tc.errs) {
				t.Fatalf("got %d problems %v, want %d", len(errs), errs, len(tc.errs))
			}
			all := ""
			for _, e := range errs {
				all += e.Error() + "\n"
			}
			for _, want := range tc.errs {
				if !strings.Contains(all, want) {
					t.Errorf("no problem mentions %q:\n%s", want, all)
				}
			}
			if tc.want != nil {
				w := defaults()
				tc.want(&w)
				gb, _ := json.Marshal(c)
				wb, _ := json.Marshal(w)
				if string(gb) != string(wb) {
					t.Errorf("decoded %s, want %s", gb, wb)
				}
			}
		})
	}
	if err := sdk.DecodeConfig(nil, testConfig{}); err == nil {
		t.Error("a non-pointer target was accepted")
	}
}

func TestSchemaOfGolden(t *testing.T) {
	got, err := json.MarshalIndent(sdk.SchemaOf(defaults()), "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	golden := filepath.Join("testdata", "schema.golden.json")
	if *update {
		if err := os.WriteFile(golden, append(got, '\n'), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if strings.TrimSpace(string(want)) != string(got) {
		t.Errorf("SchemaOf changed:\n%s\nwant:\n%s", got, want)
	}
}

func TestSchemaDefaultsDecodeBack(t *testing.T) {
	// A config written from the schema's defaults decodes to the defaults.
	raw := map[string]any{}
	for _, f := range sdk.SchemaOf(defaults()) {
		if f.Default == nil {
			continue
		}
		if top, leaf, ok := strings.Cut(f.Name, "."); ok {
			m, _ := raw[top].(map[string]any)
			if m == nil {
				m = map[string]any{}
				raw[top] = m
			}
			m[leaf] = f.Default
			continue
		}
		raw[f.Name] = f.Default
	}
	var c testConfig
	if err := sdk.DecodeConfig(raw, &c); err != nil {
		t.Fatal(err)
	}
	gb, _ := json.Marshal(c)
	wb, _ := json.Marshal(defaults())
	if string(gb) != string(wb) {
		t.Errorf("round trip %s, want %s", gb, wb)
	}
}
