package experiment

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/pit-lab/pit/plugins/sdk"
)

// knobs is both a stage's settings and a plugin's config in
// TestPluginAndSettingsErrorsShareAShape.
type knobs struct {
	Beta  float64 `toml:"beta"`
	Steps int     `toml:"steps" range:">= 1"`
}

// TestPluginAndSettingsErrorsShareAShape: the same mistake gives the same
// "file:line: key: message" whether it is in a stage's settings (decoded by
// the experiment loader) or in a plugin's config (decoded by the plugin
// with the SDK, its problems sent back as text as over the plugin wire);
// the plugin's message only adds its name.
func TestPluginAndSettingsErrorsShareAShape(t *testing.T) {
	r := NewRegistry()
	r.RegisterTask("synthetic", func() any { return &testTask{PairMode: "edit"} })
	r.RegisterStage("rm", StageKind{New: func() any { return &knobs{Steps: 1} }, Plugins: []Slot{{Kind: "reward", Required: true}}})
	plugin := sdk.NewConfigurable(sdk.Description{Name: "x"}, func() knobs { return knobs{Steps: 1} }, nil)
	r.SetPluginValidator(PluginValidatorFunc(func(ctx context.Context, ref PluginRef) []error {
		var errs []error
		for _, e := range sdk.SplitErrors(plugin.Configure(ctx, &sdk.ConfigureRequest{Config: ref.Config})) {
			errs = append(errs, errors.New(e.Error())) // only the text crosses the wire
		}
		return errs
	}))
	const head = "name = \"n\"\nseeds = [1]\n[task]\nkind = \"synthetic\"\n"
	for _, tc := range []struct {
		name, body string
		want       []string
	}{{
		name: "types and unknown keys",
		body: "[stages.rm]\nbeta = \"high\"\nstep = 2\n" +
			"[stages.rm.reward]\nplugin = \"x\"\n[stages.rm.reward.config]\nbeta = \"high\"\nstep = 2\n",
		want: []string{
			`n.toml:6: stages.rm.beta: expected a number (got string "high")`,
			`n.toml:7: stages.rm.step: unknown key (did you mean "steps"? known keys: beta, kind, reward, steps)`,
			`n.toml:11: stages.rm.reward.config.beta: x config: expected a number (got string "high")`,
			`n.toml:12: stages.rm.reward.config.step: x config: unknown key (did you mean "steps"? known keys: beta, steps)`,
		},
	}, {
		name: "ranges",
		body: "[stages.rm]\nbeta = 1\nsteps = 0\n" +
			"[stages.rm.reward]\nplugin = \"x\"\n[stages.rm.reward.config]\nbeta = 1\nsteps = 0\n",
		want: []string{
			`n.toml:7: stages.rm.steps: expected an integer ≥ 1 (got 0)`,
			`n.toml:12: stages.rm.reward.config.steps: x config: expected an integer ≥ 1 (got 0)`,
		},
	}} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := r.Parse(context.Background(), "n.toml", []byte(head+tc.body))
			var list ErrorList
			if !errors.As(err, &list) {
				t.Fatalf("Parse = %v, want an ErrorList", err)
			}
			if got := strings.Split(list.Error(), "\n"); strings.Join(got, "\n") != strings.Join(tc.want, "\n") {
				t.Fatalf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(tc.want, "\n"))
			}
		})
	}
}
