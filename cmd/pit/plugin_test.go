package main

import (
	"bytes"
	"context"
	"os"
	"strings"
	"testing"

	"github.com/BurntSushi/toml"
	"github.com/pit-lab/pit/plugins/builtin"
	"github.com/pit-lab/pit/plugins/host"
	"github.com/pit-lab/pit/plugins/sdk"
)

func TestPluginsListsEveryBuiltin(t *testing.T) {
	var out, errOut bytes.Buffer
	if code := realMain([]string{"plugins"}, &out, &errOut); code != 0 {
		t.Fatalf("exit %d: %s", code, errOut.String())
	}
	lines := strings.Split(out.String(), "\n")
	if !strings.HasPrefix(lines[0], "KIND") {
		t.Fatalf("no header:\n%s", out.String())
	}
	for kind, names := range builtin.Names {
		for _, name := range names {
			found := false
			for _, l := range lines {
				f := strings.Fields(l)
				found = found || (len(f) >= 4 && f[0] == kind && f[1] == name && f[3] == "builtin")
			}
			if !found {
				t.Errorf("%s/%s missing from:\n%s", kind, name, out.String())
			}
		}
	}
}

func TestPluginsDescribePrintsSchemaAndDefaults(t *testing.T) {
	var out, errOut bytes.Buffer
	if code := realMain([]string{"plugins", "describe", "pit-gap"}, &out, &errOut); code != 0 {
		t.Fatalf("exit %d: %s", code, errOut.String())
	}
	s := out.String()
	d, err := host.DescribeBuiltin(context.Background(), sdk.KindReward, "pit-gap")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(s, "reward plugin pit-gap "+d.Version) || !strings.Contains(s, "reference-conditioned: yes") {
		t.Errorf("header:\n%s", s)
	}
	_, tomlPart, ok := strings.Cut(s, "Defaults as TOML")
	if !ok {
		t.Fatalf("no TOML defaults:\n%s", s)
	}
	_, tomlPart, _ = strings.Cut(tomlPart, "\n")
	var defaults map[string]any
	if _, err := toml.Decode(tomlPart, &defaults); err != nil {
		t.Fatalf("defaults are not TOML: %v\n%s", err, tomlPart)
	}
	for _, f := range d.Config {
		if !strings.Contains(s, f.Name) {
			t.Errorf("key %q missing", f.Name)
		}
	}
	// The printed defaults are a config the plugin accepts.
	if errs := host.Validate("reward", "pit-gap", defaults); errs != nil {
		t.Errorf("printed defaults rejected: %v", errs)
	}

	out.Reset()
	errOut.Reset()
	if code := realMain([]string{"plugins", "describe", "no-such-plugin"}, &out, &errOut); code != 1 || !strings.Contains(errOut.String(), "reward/pit-gap") {
		t.Errorf("unknown plugin: exit %d, stderr %s", code, errOut.String())
	}
}

func TestPluginServeRunsBuiltinsInTheirOwnProcess(t *testing.T) {
	pit := buildPit(t)
	ctx := context.Background()
	m := host.NewManager(ctx, host.Options{Executable: pit})
	defer m.Close()
	for _, s := range []host.Spec{
		{Kind: sdk.KindReward, Name: "pit-gap"},
		{Kind: sdk.KindAlgorithm, Name: "rloo"},
		{Kind: sdk.KindCurriculum, Name: "two-round"},
	} {
		p, err := m.Launch(ctx, s)
		if err != nil {
			t.Fatal(err)
		}
		if p.PID() <= 0 || p.PID() == os.Getpid() {
			t.Errorf("%s: pid %d, test pid %d", s, p.PID(), os.Getpid())
		}
		if p.Description.Name != s.Name || p.Description.Kind != s.Kind {
			t.Errorf("%s: described as %+v", s, p.Description)
		}
	}
	if _, err := m.Launch(ctx, host.Spec{Kind: sdk.KindReward, Name: "no-such"}); err == nil {
		t.Error("launched a built-in that does not exist")
	}
}
