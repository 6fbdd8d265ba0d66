package sdk_test

import (
	"math"
	"testing"

	"github.com/pit-lab/pit/plugins/sdk"
)

type rangedConfig struct {
	Epochs int     `toml:"epochs" range:">= 1"`
	Clip   float64 `toml:"clip" range:"> 0"`
	Gamma  float64 `toml:"gamma" range:"[0, 1]"`
	Decay  float64 `toml:"decay" range:"[0, 1)"`
	Open   float64 `toml:"open" range:"(-1, 1)"`
	Free   float64 `toml:"free"`
}

func TestCheckRanges(t *testing.T) {
	ok := rangedConfig{Epochs: 1, Clip: .2, Gamma: 1, Decay: 0, Open: .5, Free: -7}
	tests := []struct {
		name string
		edit func(*rangedConfig)
		want string // "" means in range
	}{
		{"all in range, bounds included", func(*rangedConfig) {}, ""},
		{">= below", func(c *rangedConfig) { c.Epochs = 0 }, `key "epochs": expected an integer ≥ 1 (got 0)`},
		{"> at the bound", func(c *rangedConfig) { c.Clip = 0 }, `key "clip": expected a number > 0 (got 0)`},
		{"closed interval above", func(c *rangedConfig) { c.Gamma = 1.5 }, `key "gamma": expected a number in [0, 1] (got 1.5)`},
		{"half-open at the open end", func(c *rangedConfig) { c.Decay = 1 }, `key "decay": expected a number in [0, 1) (got 1)`},
		{"open at the low end", func(c *rangedConfig) { c.Open = -1 }, `key "open": expected a number in (-1, 1) (got -1)`},
		{"NaN is out of range", func(c *rangedConfig) { c.Gamma = math.NaN() }, `key "gamma": expected a number in [0, 1] (got NaN)`},
		{"every one, in field order", func(c *rangedConfig) { c.Decay, c.Epochs = 2, -1 }, `key "epochs": expected an integer ≥ 1 (got -1)` + "\n" + `key "decay": expected a number in [0, 1) (got 2)`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := ok
			tt.edit(&c)
			err := sdk.CheckRanges(c)
			switch {
			case tt.want == "" && err != nil:
				t.Fatalf("CheckRanges = %v, want nil", err)
			case tt.want != "" && (err == nil || err.Error() != tt.want):
				t.Fatalf("CheckRanges = %v, want %q", err, tt.want)
			}
		})
	}
}

func TestCheckRangesPanicsOnABadTag(t *testing.T) {
	for name, cfg := range map[string]any{
		"not a number": struct {
			X float64 `range:">= x"`
		}{},
		"no comma": struct {
			X float64 `range:"[0 1]"`
		}{},
		"on a string": struct {
			X string `range:">= 0"`
		}{},
	} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("%s: no panic", name)
				}
			}()
			_ = sdk.CheckRanges(cfg)
		}()
	}
}
