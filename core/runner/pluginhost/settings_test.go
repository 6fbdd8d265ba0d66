package pluginhost

import (
	"context"
	"os"
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
