package runner

import (
	"context"
	"fmt"
	"testing"

	"github.com/pit-lab/pit/core/experiment"
)

type extraSection struct {
	Level int `toml:"level"`
}

type taskSettings struct {
	Size int `toml:"size"`
}

// Keys follow what a stage reads: the task for every stage, an extra
// section only for the kinds that Read it.
func TestPlanForKeysFollowReads(t *testing.T) {
	ereg := experiment.NewRegistry()
	ereg.RegisterTask("toy", func() any { return &taskSettings{Size: 1} })
	ereg.RegisterSection("extra", func() any { return &extraSection{} })
	ereg.RegisterStage("reader", experiment.StageKind{})
	ereg.RegisterStage("blind", experiment.StageKind{})
	seen := map[string]any{}
	reg := NewRegistry()
	reg.Register(Kind{Name: "reader", Reads: []string{"extra"}, Run: func(c *Context) error {
		seen["reader.extra"] = c.Sections["extra"]
		seen["reader.task"] = c.Task
		return nil
	}})
	reg.Register(Kind{Name: "blind", Run: func(c *Context) error { return nil }})

	keys := func(size, level int) map[string]string {
		src := fmt.Sprintf("name = \"k\"\nseeds = [1]\n[task]\nkind = \"toy\"\nsize = %d\n[extra]\nlevel = %d\n[stages.reader]\n[stages.blind]\n", size, level)
		exp, err := ereg.Parse(context.Background(), "k.toml", []byte(src))
		if err != nil {
			t.Fatal(err)
		}
		runs, err := experiment.Expand(exp)
		if err != nil {
			t.Fatal(err)
		}
		plan, err := planFor(reg, exp, runs)
		if err != nil {
			t.Fatal(err)
		}
		dir := t.TempDir()
		if _, err := Execute(context.Background(), plan, Options{Dir: dir, Registry: reg, CodeVersion: "test"}); err != nil {
			t.Fatal(err)
		}
		out := map[string]string{}
		for _, s := range readManifest(t, dir, runs[0].ID).Stages {
			out[s.Name] = s.Key
		}
		return out
	}
	base := keys(1, 1)
	if e, ok := seen["reader.extra"].(*extraSection); !ok || e.Level != 1 {
		t.Errorf("reader's Sections[extra] = %#v", seen["reader.extra"])
	}
	if ts, ok := seen["reader.task"].(*taskSettings); !ok || ts.Size != 1 {
		t.Errorf("reader's Task = %#v", seen["reader.task"])
	}
	extra := keys(1, 2)
	if extra["reader"] == base["reader"] || extra["blind"] != base["blind"] {
		t.Errorf("changing [extra]: reader %s→%s (want a change), blind %s→%s (want none)", base["reader"], extra["reader"], base["blind"], extra["blind"])
	}
	task := keys(2, 1)
	if task["reader"] == base["reader"] || task["blind"] == base["blind"] {
		t.Errorf("changing [task] must change every key: %v → %v", base, task)
	}
}
