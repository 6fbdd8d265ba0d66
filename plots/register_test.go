package plots

import (
	"context"
	"strings"
	"testing"

	"github.com/pit-lab/pit/core/experiment"
)

// parserRegistry is a fresh experiment registry with a trivial task and
// stage and the [[plot]] section, as pit's binary has it.
func parserRegistry() *experiment.Registry {
	r := experiment.NewRegistry()
	r.RegisterTask("toy", func() any { return &struct{}{} })
	r.RegisterStage("sft", experiment.StageKind{})
	r.RegisterSection(SectionName, NewSection)
	return r
}

const parserFile = `
name = "toy"
seeds = [1]

[task]
kind = "toy"

[stages.sft]

[[plot]]
kind = "curve"
metric = "loss"
stage = "sft"
filter = { lr = 0.001 }
temperature = 0.4

[[plot]]
kind = "sweep"
x = "temperature"
judges = ["oracle", "bt"]
`

func TestParserDecodesPlots(t *testing.T) {
	exp, err := parserRegistry().Parse(context.Background(), "toy.toml", []byte(parserFile))
	if err != nil {
		t.Fatal(err)
	}
	specs := DeclaredSpecs(exp.Baseline().Config)
	if len(specs) != 2 {
		t.Fatalf("%d specs", len(specs))
	}
	if s := specs[0]; s.Kind != Curve || s.Metric != "loss" || s.Filter["lr"] != 0.001 || s.Temperature == nil || *s.Temperature != 0.4 {
		t.Errorf("curve spec %+v", s)
	}
	if s := specs[1]; s.Kind != Sweep || len(s.Judges) != 2 {
		t.Errorf("sweep spec %+v", s)
	}
}

func TestParserRejectsBadPlots(t *testing.T) {
	for _, tc := range []struct {
		name, old, new, want string
	}{
		{"unknown key", `metric = "loss"`, "metric = \"loss\"\ncolour = \"red\"", "toy.toml:13: plot[0].colour: unknown key (known keys: bins, ci,"},
		{"invalid value", `kind = "sweep"`, "kind = \"sweep\"\nsmoothing = 2.0", "plot[1].smoothing: 2 is not in [0, 1)"},
		{"bad kind", `kind = "curve"`, `kind = "pie"`, `plot[0].kind: "pie" is not a figure kind`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := parserRegistry().Parse(context.Background(), "toy.toml", []byte(strings.Replace(parserFile, tc.old, tc.new, 1)))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %v, want one containing %q", err, tc.want)
			}
		})
	}
}
