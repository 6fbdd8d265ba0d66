package experiment

import (
	"context"
	"errors"
	"strings"
	"testing"
)

func TestSet(t *testing.T) {
	tests := []struct {
		name    string
		set     []Option
		layers  int    // want the model's layers
		dmodel  int    // and d_model
		wantErr string // or an error containing this
	}{
		{"no override", nil, 2, 64, ""},
		{"override a model key", []Option{Set("model.layers", 6)}, 6, 64, ""},
		{"two overrides", []Option{Set("model.layers", 3), Set("model.d_model", 32)}, 3, 32, ""},
		{"bad value is a file error with the key", []Option{Set("model.layers", "six")}, 0, 0, "model.layers: expected an integer (got string \"six\") (value set on the command line)"},
		{"unknown key", []Option{Set("model.wings", 2)}, 0, 0, "model.wings"},
		{"through a non-table", []Option{Set("name.x", 1)}, 0, 0, "name is not a table"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r, _ := newTestRegistry()
			exp, err := r.Load(context.Background(), "testdata/valid/minimal.toml", tc.set...)
			if tc.wantErr != "" {
				var list ErrorList
				if !errors.As(err, &list) || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("got %v, want an ErrorList mentioning %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			m := exp.Arms[0].Config.Model.Settings.(*testModel)
			if m.Layers != tc.layers || m.DModel != tc.dmodel {
				t.Fatalf("model %+v, want layers %d d_model %d", m, tc.layers, tc.dmodel)
			}
			if got := exp.Arms[0].Config.Tree()["model"].(map[string]any)["layers"]; got != int64(tc.layers) {
				t.Errorf("resolved tree has layers %v (%T), want %d: stage keys and manifests must see the override", got, got, tc.layers)
			}
		})
	}
}
