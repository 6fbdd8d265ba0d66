package table_test

import (
	"errors"
	"math"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/pit-lab/pit/plugins/sdk/table"
)

type inner struct {
	X int     `toml:"x"`
	Y float64 `toml:"y" range:"[0, 1]"`
}

type common struct {
	Shared string `toml:"shared" doc:"from the embedded struct"`
}

type squashed struct {
	Deep bool `toml:"deep"`
}

type target struct {
	common                      // flattened: no key name
	Sq       squashed           `toml:",squash"`
	Untagged int                // key "Untagged"
	Skipped  int                `toml:"-"`
	hidden   int                //nolint:unused // unexported: no key
	Name     string             `toml:"name,required" doc:"a name"`
	Count    int                `toml:"count" range:">= 1"`
	Small    int8               `toml:"small"`
	Unsigned uint16             `toml:"unsigned"`
	Ratio    float32            `toml:"ratio"`
	Rate     float64            `toml:"rate"`
	On       bool               `toml:"on"`
	Wait     time.Duration      `toml:"wait"`
	When     time.Time          `toml:"when"`
	Tags     []string           `toml:"tags"`
	Pair     [2]int             `toml:"pair"`
	Weights  map[string]float64 `toml:"weights"`
	Inner    inner              `toml:"inner"`
	Items    []inner            `toml:"items"`
	Ptr      *int               `toml:"ptr"`
	Any      any                `toml:"any"`
	ByName   map[string]inner   `toml:"by_name"`
	Nested   map[string][]inner `toml:"nested"`
}

func defaults() target {
	return target{Name: "n", Count: 2, Rate: 0.5, Wait: time.Second, Tags: []string{"a", "b"},
		Weights: map[string]float64{"a": 1, "b": 2}, Inner: inner{X: 1, Y: 0.5}}
}

// TestDecode holds every rule of the package doc: one row per rule, with
// the value it decodes to or the problems it reports.
func TestDecode(t *testing.T) {
	when := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	three := 3
	tests := []struct {
		name string
		raw  map[string]any
		want func(*target) // edits of the defaults; nil when errs
		errs []string      // Error() of each problem, in order; "..." ends a prefix
	}{
		{"absent keys keep defaults", map[string]any{"name": "n"}, func(*target) {}, nil},
		{"tag names the key", map[string]any{"name": "m", "rate": 0.25}, func(c *target) { c.Name, c.Rate = "m", 0.25 }, nil},
		{"untagged field: its name", map[string]any{"name": "n", "Untagged": int64(4)}, func(c *target) { c.Untagged = 4 }, nil},
		{"keys are exact", map[string]any{"name": "n", "Rate": 0.1},
			nil, []string{`key "Rate": unknown key (did you mean "rate"? known keys: Untagged, any, by_name, count, deep, inner, items, name, nested, on, pair, ptr, rate, ratio, shared, small, tags, unsigned, wait, weights, when)`}},
		{"- and unexported fields are no keys", map[string]any{"name": "n", "Skipped": int64(1), "hidden": int64(1)},
			nil, []string{`key "Skipped": unknown key (known keys: Untagged, ...`, `key "hidden": unknown key (known keys: Untagged, ...`}},
		{"embedded struct flattened", map[string]any{"name": "n", "shared": "s"}, func(c *target) { c.Shared = "s" }, nil},
		{",squash flattens", map[string]any{"name": "n", "deep": true}, func(c *target) { c.Sq.Deep = true }, nil},
		{"required key missing", map[string]any{}, nil, []string{`key "name": missing required value (expected a string)`}},
		{"nested table over its defaults", map[string]any{"name": "n", "inner": map[string]any{"y": 0.75}}, func(c *target) { c.Inner.Y = 0.75 }, nil},
		{"unknown nested key", map[string]any{"name": "n", "inner": map[string]any{"z": int64(1)}},
			nil, []string{`key "inner.z": unknown key (did you mean "x"? known keys: x, y)`}},
		{"map merged onto the default", map[string]any{"name": "n", "weights": map[string]any{"b": int64(3), "c": 0.5}},
			func(c *target) { c.Weights = map[string]float64{"a": 1, "b": 3, "c": 0.5} }, nil},
		{"array replaces the default", map[string]any{"name": "n", "tags": []any{"z"}}, func(c *target) { c.Tags = []string{"z"} }, nil},
		{"array of tables", map[string]any{"name": "n", "items": []any{map[string]any{"x": int64(1)}, map[string]any{"y": 1.0}}},
			func(c *target) { c.Items = []inner{{X: 1}, {Y: 1}} }, nil},
		{"bad element of an array of tables", map[string]any{"name": "n", "items": []any{map[string]any{"x": "1"}}},
			nil, []string{`key "items[0].x": expected an integer (got string "1")`}},
		{"map of arrays of tables", map[string]any{"name": "n", "nested": map[string]any{"a b": []any{map[string]any{"x": true}}}},
			nil, []string{`key "nested.\"a b\"[0].x": expected an integer (got boolean true)`}},
		{"integer from a whole float", map[string]any{"name": "n", "count": 8.0, "small": 2e1}, func(c *target) { c.Count, c.Small = 8, 20 }, nil},
		{"integer from a fraction", map[string]any{"name": "n", "count": 1.5}, nil, []string{`key "count": expected an integer (got float 1.5)`}},
		{"integer too big", map[string]any{"name": "n", "small": int64(128), "count": 1e30},
			nil, []string{`key "count": expected an integer that fits in 64 bits (got 1e+30)`, `key "small": expected an integer that fits in 8 bits (got 128)`}},
		{"unsigned", map[string]any{"name": "n", "unsigned": int64(-1)}, nil, []string{`key "unsigned": expected a non-negative integer (got integer -1)`}},
		{"unsigned too big", map[string]any{"name": "n", "unsigned": int64(70000)}, nil, []string{`key "unsigned": expected a non-negative integer that fits in 16 bits (got 70000)`}},
		{"float from an integer", map[string]any{"name": "n", "rate": int64(2)}, func(c *target) { c.Rate = 2 }, nil},
		{"float32 range", map[string]any{"name": "n", "ratio": 1e39}, nil, []string{`key "ratio": expected a number that fits in 32 bits (got 1e+39)`}},
		{"string for a number", map[string]any{"name": "n", "rate": "high"}, nil, []string{`key "rate": expected a number (got string "high")`}},
		{"bool", map[string]any{"name": "n", "on": "yes"}, nil, []string{`key "on": expected a boolean (got string "yes")`}},
		{"duration string", map[string]any{"name": "n", "wait": "1m30s"}, func(c *target) { c.Wait = 90 * time.Second }, nil},
		{"duration as a number", map[string]any{"name": "n", "wait": int64(30)}, nil, []string{`key "wait": expected a duration string such as "30s" or "1m30s" (got integer 30)`}},
		{"bad duration", map[string]any{"name": "n", "wait": "soon"}, nil, []string{`key "wait": expected a duration string such as "30s" or "1m30s" (got string "soon")`}},
		{"datetime", map[string]any{"name": "n", "when": when}, func(c *target) { c.When = when }, nil},
		{"datetime as a string", map[string]any{"name": "n", "when": "today"}, nil, []string{`key "when": expected a datetime (got string "today")`}},
		{"fixed-length array", map[string]any{"name": "n", "pair": []any{int64(1), int64(2)}}, func(c *target) { c.Pair = [2]int{1, 2} }, nil},
		{"fixed-length array, wrong length", map[string]any{"name": "n", "pair": []any{int64(1)}}, nil, []string{`key "pair": expected an array of 2 integers (got 1)`}},
		{"array expected", map[string]any{"name": "n", "tags": "a"}, nil, []string{`key "tags": expected an array of strings (got string "a")`}},
		{"table expected", map[string]any{"name": "n", "inner": int64(1)}, nil, []string{`key "inner": expected a table (got integer 1)`}},
		{"pointer allocated", map[string]any{"name": "n", "ptr": int64(3)}, func(c *target) { c.Ptr = &three }, nil},
		{"any as it is", map[string]any{"name": "n", "any": []any{"x", int64(1)}}, func(c *target) { c.Any = []any{"x", int64(1)} }, nil},
		{"null keeps the default", map[string]any{"name": "n", "rate": nil}, func(*target) {}, nil},
		{"Go values", map[string]any{"name": "n", "count": 5, "ratio": float32(0.5), "tags": []string{"q"}, "weights": map[string]int{"a": 7}},
			func(c *target) { c.Count, c.Ratio, c.Tags, c.Weights["a"] = 5, 0.5, []string{"q"}, 7 }, nil},
		{"every problem at once, in key order", map[string]any{"name": int64(1), "rate": "x", "zzz": int64(1)},
			nil, []string{`key "name": expected a string (got integer 1)`, `key "rate": expected a number (got string "x")`, `key "zzz": unknown key (known keys: Untagged, any, by_name, count, deep, inner, items, name, nested, on, pair, ptr, rate, ratio, shared, small, tags, unsigned, wait, weights, when)`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := defaults()
			err := table.Decode(tt.raw, &got)
			var msgs []string
			for i, e := range unwrap(err) {
				m := e.Error()
				if i < len(tt.errs) {
					if p, ok := strings.CutSuffix(tt.errs[i], "..."); ok && strings.HasPrefix(m, p) {
						m = tt.errs[i]
					}
				}
				msgs = append(msgs, m)
			}
			if !reflect.DeepEqual(msgs, tt.errs) {
				t.Fatalf("problems\n%q\nwant\n%q", msgs, tt.errs)
			}
			want := defaults()
			if tt.want != nil {
				tt.want(&want)
			}
			// On error nothing changes.
			if !reflect.DeepEqual(got, want) {
				t.Errorf("decoded\n%+v\nwant\n%+v", got, want)
			}
		})
	}
}

func unwrap(err error) []error {
	if err == nil {
		return nil
	}
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		return j.Unwrap()
	}
	return []error{err}
}

func TestDecodeArrayOfTables(t *testing.T) {
	var got []inner
	if err := table.Decode([]any{map[string]any{"x": int64(2)}}, &got); err != nil || !reflect.DeepEqual(got, []inner{{X: 2}}) {
		t.Fatalf("got %v, %v", got, err)
	}
	err := table.Decode([]any{map[string]any{}, map[string]any{"q": 1.0}}, &got)
	var te *table.Error
	if !errors.As(err, &te) || te.Key != "[1].q" || !te.Unknown {
		t.Fatalf("error %#v", err)
	}
	if table.JoinPath("plot", te.Key) != "plot[1].q" || table.JoinPath("a.b", "c") != "a.b.c" || table.JoinPath("", "c") != "c" || table.JoinPath("a", "") != "a" {
		t.Error("JoinPath")
	}
	if err := table.Decode(map[string]any{}, inner{}); err == nil {
		t.Error("a non-pointer was accepted")
	}
}

func TestFields(t *testing.T) {
	fs := table.Fields(reflect.TypeFor[target]())
	byKey := map[string]table.Field{}
	var keys []string
	for _, f := range fs {
		byKey[f.Key] = f
		keys = append(keys, f.Key)
	}
	if want := "shared deep Untagged name count"; strings.Join(keys[:5], " ") != want {
		t.Errorf("first keys %q, want %q (field order, embedded in place)", keys[:5], want)
	}
	if f := byKey["shared"]; f.Doc != "from the embedded struct" || !reflect.DeepEqual(f.Index, []int{0, 0}) {
		t.Errorf("shared: %+v", f)
	}
	if f := byKey["name"]; !f.Required || f.Doc != "a name" {
		t.Errorf("name: %+v", f)
	}
	if f := byKey["count"]; f.Range != ">= 1" || f.Type != reflect.TypeFor[int]() {
		t.Errorf("count: %+v", f)
	}
}

func TestCheckRanges(t *testing.T) {
	c := defaults()
	if err := table.CheckRanges(&c); err != nil {
		t.Fatalf("defaults out of range: %v", err)
	}
	c.Count = 0
	c.Inner.Y = math.NaN()
	c.Items = []inner{{Y: 0.5}, {Y: 2}}
	var msgs []string
	for _, e := range unwrap(table.CheckRanges(c)) {
		msgs = append(msgs, e.Error())
	}
	want := []string{
		`key "count": expected an integer ≥ 1 (got 0)`,
		`key "inner.y": expected a number in [0, 1] (got NaN)`,
		`key "items[1].y": expected a number in [0, 1] (got 2)`,
	}
	if !reflect.DeepEqual(msgs, want) {
		t.Errorf("got %q\nwant %q", msgs, want)
	}
}

// TestCutKey: a problem's text keeps its key through any prefix (the
// plugin's name, the wire) and CutKey reads it back.
func TestCutKey(t *testing.T) {
	tests := []struct {
		text, key, rest string
		ok              bool
	}{
		{`key "k": expected an integer (got float 1.5)`, "k", "expected an integer (got float 1.5)", true},
		{`rloo config: key "kl.target": unknown key (known keys: a)`, "kl.target", "rloo config: unknown key (known keys: a)", true},
		{(&table.Error{Key: `a."b \"c\""`, Msg: "m"}).Error(), `a."b \"c\""`, "m", true},
		{`rloo config: k must be ≥ 2, got 0`, "", `rloo config: k must be ≥ 2, got 0`, false},
		{`monkey "x": no`, "", `monkey "x": no`, false},
		{`key "": empty`, "", `key "": empty`, false},
	}
	for _, tt := range tests {
		key, rest, ok := table.CutKey(tt.text)
		if key != tt.key || rest != tt.rest || ok != tt.ok {
			t.Errorf("CutKey(%q) = %q, %q, %v; want %q, %q, %v", tt.text, key, rest, ok, tt.key, tt.rest, tt.ok)
		}
	}
	if got := table.Errorf("", "whole table").Error(); got != "whole table" {
		t.Errorf("keyless Error() = %q", got)
	}
}
