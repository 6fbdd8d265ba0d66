package pluginhost

import (
	"context"
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/pit-lab/pit/core/experiment"
	"github.com/pit-lab/pit/plugins/host"
)

func TestPolicyFromExperimentFile(t *testing.T) {
	base, err := os.ReadFile("testdata/rl.toml")
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name, section string
		want          host.Policy
		err           string
	}{
		{"default", "", DefaultPolicy, ""},
		{"set", "[plugins]\ncall_timeout = \"750ms\"\nretries = 4\n", host.Policy{CallTimeout: 750 * time.Millisecond, Retries: 4, MaxRestarts: DefaultPolicy.MaxRestarts}, ""},
		{"no deadline", "[plugins]\ncall_timeout = \"0s\"\n", host.Policy{Retries: DefaultPolicy.Retries, MaxRestarts: DefaultPolicy.MaxRestarts}, ""},
		{"negative", "[plugins]\nretries = -1\n", host.Policy{}, "plugins.retries"},
		{"too short", "[plugins]\ncall_timeout = \"1ms\"\n", host.Policy{}, "too short"},
		{"typo", "[plugins]\ncall_timout = \"1m\"\n", host.Policy{}, "call_timout"},
		{"grid over it", "[plugins]\nretries = 1\n[grid.axes.retries]\npath = \"plugins.retries\"\nvalues = [1, 2]\n", host.Policy{}, "share the plugin fault policy"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			exp, err := experiment.Parse(context.Background(), "rl.toml", append(append([]byte{}, base...), "\n"+c.section...))
			var pol host.Policy
			if err == nil {
				var runs []experiment.Run
				if runs, err = experiment.Expand(exp); err == nil {
					pol, err = PolicyFor(runs)
				}
			}
			if c.err != "" {
				if err == nil || !strings.Contains(err.Error(), c.err) {
					t.Fatalf("err %v, want one containing %q", err, c.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if pol != c.want {
				t.Errorf("policy %+v, want %+v", pol, c.want)
			}
		})
	}
}

// TestEnvFromExperimentFile: [plugins] env reaches the runs' host and each
// plugin reference (so that validation starts plugins as runs do); bad
// names are reported at their file line.
func TestEnvFromExperimentFile(t *testing.T) {
	base, err := os.ReadFile("testdata/rl.toml")
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Count(string(base), "\n") + 1
	cases := []struct {
		name, section string
		want          []string
		err           string
	}{
		{"default", "", nil, ""},
		{"set", "[plugins]\nenv = [\"HF_HOME\", \"CUDA_VISIBLE_DEVICES\"]\n", []string{"HF_HOME", "CUDA_VISIBLE_DEVICES"}, ""},
		{"not a name", "[plugins]\nenv = [\"HF_HOME\",\n  \"A=B\"]\n", nil, fmt.Sprintf("rl.toml:%d: plugins.env[1]: \"A=B\" is not an environment variable name", lines+3)},
		{"reserved", "[plugins]\nenv = [\"PLUGIN_CLIENT_CERT\"]\n", nil, "plugins.env[0]: \"PLUGIN_CLIENT_CERT\" is set by pit"},
		{"not a list", "[plugins]\nenv = \"HOME\"\n", nil, "plugins.env"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			exp, err := experiment.Parse(context.Background(), "rl.toml", append(append([]byte{}, base...), "\n"+c.section...))
			var env []string
			var runs []experiment.Run
			if err == nil {
				if runs, err = experiment.Expand(exp); err == nil {
					env, err = EnvFor(runs)
				}
			}
			if c.err != "" {
				if err == nil || !strings.Contains(err.Error(), c.err) {
					t.Fatalf("err %v, want one containing %q", err, c.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(env, c.want) {
				t.Errorf("env %q, want %q", env, c.want)
			}
			for _, st := range runs[0].Config.Stages {
				for _, p := range st.Plugins {
					if !slices.Equal(p.Env, c.want) {
						t.Errorf("stage %s plugin %s: Env %q, want %q", st.Name, p.Name, p.Env, c.want)
					}
				}
			}
		})
	}
}
