package main

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pit-lab/pit/core/experiment"
)

// FuzzValidate feeds arbitrary experiment files to pit validate's loader
// with the real plugin validator (built-ins checked in process): no
// panics, and every rejection an ErrorList of messages positioned in the
// file. Plugins named by path are not launched while fuzzing (a fuzzed
// path could name any executable on the machine).
func FuzzValidate(f *testing.F) {
	var files []string
	for _, pattern := range []string{"testdata/validate/*.toml", "../../experiments/*.toml", "../../experiments.toml"} {
		m, _ := filepath.Glob(pattern)
		files = append(files, m...)
	}
	for _, file := range files {
		data, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	experiment.SetPluginValidator(experiment.PluginValidatorFunc(func(ctx context.Context, r experiment.PluginRef) []error {
		if r.Path != "" {
			return nil
		}
		return validatePlugin(ctx, r)
	}))
	f.Cleanup(func() { experiment.SetPluginValidator(experiment.PluginValidatorFunc(validatePlugin)) })
	f.Fuzz(func(t *testing.T, data []byte) {
		_, err := experiment.Parse(context.Background(), "fuzz.toml", data)
		if err == nil {
			return
		}
		lines := bytes.Count(data, []byte("\n")) + 1
		var list experiment.ErrorList
		if !errors.As(err, &list) || len(list) == 0 {
			t.Fatalf("error is %T, not a non-empty ErrorList: %v", err, err)
		}
		for _, e := range list {
			if e.File != "fuzz.toml" || e.Msg == "" || e.Line < 0 || e.Line > lines {
				t.Fatalf("bad error %#v for %d lines", e, lines)
			}
			if strings.Contains(e.Msg, "%!") {
				t.Fatalf("badly formatted message %q", e.Msg)
			}
		}
	})
}
