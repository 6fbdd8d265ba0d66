package sdk_test

import (
	"context"
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/pit-lab/pit/plugins/sdk"
)

type lengthConfig struct {
	Scale float64 `toml:"scale" range:"> 0" doc:"multiplies the length"`
	Unit  string  `toml:"unit" doc:"tokens or chars"`
}

func (c lengthConfig) validate() error {
	if c.Unit != "tokens" && c.Unit != "chars" {
		return fmt.Errorf("unit must be tokens or chars, got %q", c.Unit)
	}
	return nil
}

func newLength() (*sdk.Configurable[lengthConfig], *[]int64) {
	c := sdk.NewConfigurable(sdk.Description{Name: "length", Version: "1.0.0", Summary: "longer is better"},
		func() lengthConfig { return lengthConfig{Scale: 1, Unit: "tokens"} }, lengthConfig.validate)
	var seeds []int64
	c.OnConfigure = func(_ lengthConfig, seed int64) { seeds = append(seeds, seed) }
	c.Adjust = func(cfg lengthConfig, d *sdk.Description) { d.ReferenceConditioned = cfg.Unit == "chars" }
	return &c, &seeds
}

func TestConfigurable(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name    string
		config  map[string]any
		want    lengthConfig
		wantErr string
	}{
		{"defaults", nil, lengthConfig{Scale: 1, Unit: "tokens"}, ""},
		{"a key over the defaults", map[string]any{"unit": "chars"}, lengthConfig{Scale: 1, Unit: "chars"}, ""},
		{"unknown key", map[string]any{"scal": 2.0}, lengthConfig{Scale: 1, Unit: "tokens"}, `length config: key "scal": unknown key (did you mean "scale"?`},
		{"out of range", map[string]any{"scale": -1.0}, lengthConfig{Scale: 1, Unit: "tokens"}, `length config: key "scale": expected a number > 0 (got -1)`},
		{"every problem on its own", map[string]any{"scal": 2.0, "unit": 3}, lengthConfig{Scale: 1, Unit: "tokens"}, `length config: key "scal": unknown key`},
		{"validate", map[string]any{"unit": "words"}, lengthConfig{Scale: 1, Unit: "tokens"}, `length config: unit must be tokens or chars, got "words"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, seeds := newLength()
			err := c.Configure(ctx, &sdk.ConfigureRequest{Config: tt.config, Seed: 7})
			if tt.wantErr != "" {
				if err == nil || !strings.HasPrefix(err.Error(), tt.wantErr) {
					t.Fatalf("Configure = %v, want an error starting %q", err, tt.wantErr)
				}
				for _, e := range sdk.SplitErrors(err) {
					if !strings.HasPrefix(e.Error(), "length config: ") {
						t.Errorf("problem %q does not name the plugin", e)
					}
				}
				if n := len(sdk.SplitErrors(err)); n != len(tt.config) {
					t.Errorf("%d problems for %d bad keys: %v", n, len(tt.config), err)
				}
				if len(*seeds) != 0 {
					t.Error("OnConfigure ran for a rejected config")
				}
			} else {
				if err != nil {
					t.Fatal(err)
				}
				if !reflect.DeepEqual(*seeds, []int64{7}) || c.Seed != 7 {
					t.Errorf("OnConfigure seeds %v, Seed %d; want [7], 7", *seeds, c.Seed)
				}
			}
			if c.Config != tt.want {
				t.Errorf("Config = %+v, want %+v", c.Config, tt.want)
			}
			d, err := c.Describe(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if d.ReferenceConditioned != (tt.want.Unit == "chars") {
				t.Errorf("Adjust not applied: %+v", d)
			}
			if !reflect.DeepEqual(d.Config, sdk.SchemaOf(lengthConfig{Scale: 1, Unit: "tokens"})) {
				t.Errorf("schema %+v, want the defaults'", d.Config)
			}
		})
	}
}
