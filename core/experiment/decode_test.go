package experiment

import (
	"reflect"
	"strings"
	"testing"
	"time"
)

type checkTarget struct {
	Small  int8              `toml:"small"`
	Count  uint16            `toml:"count"`
	Ratio  float32           `toml:"ratio"`
	Pair   [2]int            `toml:"pair"`
	Names  map[string]string `toml:"names"`
	Ptr    *int              `toml:"ptr"`
	When   time.Time         `toml:"when"`
	Wait   time.Duration     `toml:"wait"`
	Any    any               `toml:"any"`
	Nested struct {
		Deep []struct {
			X bool `toml:"x"`
		} `toml:"deep"`
	} `toml:"nested"`
	Skipped  string `toml:"-"`
	internal int
}

// Settings are decoded by package table; decodeSettings words every
// mismatch in TOML terms, with the key path under the table's own path.
func TestDecodeSettingsProblems(t *testing.T) {
	tests := []struct {
		key  string
		val  any
		want string // "" if accepted
	}{
		{"small", int64(127), ""},
		{"small", int64(128), "small: expected an integer that fits in 8 bits (got 128)"},
		{"count", int64(-1), "count: expected a non-negative integer (got integer -1)"},
		{"count", int64(70000), "count: expected a non-negative integer that fits in 16 bits (got 70000)"},
		{"ratio", int64(2), ""},
		{"ratio", 1e39, "ratio: expected a number that fits in 32 bits (got 1e+39)"},
		{"pair", []any{int64(1), int64(2)}, ""},
		{"pair", []any{int64(1)}, "pair: expected an array of 2 integers (got 1)"},
		{"names", map[string]any{"a": "b", "c": int64(1)}, "names.c: expected a string (got integer 1)"},
		{"ptr", int64(3), ""},
		{"ptr", "x", `ptr: expected an integer (got string "x")`},
		{"when", time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), ""},
		{"when", "today", `when: expected a datetime (got string "today")`},
		{"wait", "1m30s", ""},
		{"wait", "90", `wait: expected a duration string such as "30s" or "1m30s" (got string "90")`},
		{"any", []any{map[string]any{}}, ""},
		{"nested", map[string]any{"deep": []any{map[string]any{"x": true}, map[string]any{"x": "no"}}}, `nested.deep[1].x: expected a boolean (got string "no")`},
		{"nested", map[string]any{"deep": "none"}, `nested.deep: expected an array of tables (got string "none")`},
		{"Skipped", "x", "Skipped: unknown key"},
		{"internal", int64(1), "internal: unknown key"},
	}
	for _, tt := range tests {
		_, probs := decodeSettings(map[string]any{tt.key: tt.val}, func() any { return new(checkTarget) }, "s")
		var got []string
		for _, p := range probs {
			got = append(got, strings.TrimPrefix(p.key, "s.")+": "+p.msg)
		}
		g := strings.Join(got, "; ")
		if tt.want == "" && g != "" || tt.want != "" && !strings.HasPrefix(g, tt.want) {
			t.Errorf("%s = %v: got %q, want %q", tt.key, tt.val, g, tt.want)
		}
	}
}

func TestParentPath(t *testing.T) {
	tests := []struct{ path, parent string }{
		{"a", ""},
		{"a.b", "a"},
		{"a.b[2]", "a.b"},
		{"a.b[2].c", "a.b[2]"},
		{`a."b.c"`, "a"},
		{`a."b.c".d`, `a."b.c"`},
		{`"x\"y".z`, `"x\"y"`},
	}
	for _, tt := range tests {
		if got := parentPath(tt.path); got != tt.parent {
			t.Errorf("parentPath(%s) = %q, want %q", tt.path, got, tt.parent)
		}
	}
	if !isWithin("a.b[1]", "a.b") || !isWithin("a.b.c", "a.b") || isWithin("a.bc", "a.b") || !isWithin("a", "a") {
		t.Error("isWithin")
	}
}

func TestNormalize(t *testing.T) {
	v := checkTarget{Small: -3, Count: 7, Ratio: 0.1, Pair: [2]int{1, 2}, Wait: 90 * time.Second, Any: uint(5)}
	v.Nested.Deep = append(v.Nested.Deep, struct {
		X bool `toml:"x"`
	}{true})
	got, ok := normalize(reflect.ValueOf(&v))
	if !ok {
		t.Fatal("not ok")
	}
	m := got.(map[string]any)
	want := map[string]any{
		"small": int64(-3), "count": int64(7), "ratio": 0.1, "pair": []any{int64(1), int64(2)},
		"names": map[string]any{}, "when": time.Time{}, "wait": "1m30s", "any": int64(5),
		"nested": map[string]any{"deep": []any{map[string]any{"x": true}}},
	}
	if !reflect.DeepEqual(m, want) {
		t.Errorf("normalize:\n%#v\nwant\n%#v", m, want)
	}
}
