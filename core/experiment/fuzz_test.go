package experiment

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/BurntSushi/toml"
)

// FuzzParse feeds arbitrary files to the parser and validator: it must
// never panic, every rejection must be an ErrorList of positioned messages,
// and every accepted file must expand into runs whose config.toml loads
// back to itself. The seed corpus is testdata/fuzz/FuzzParse plus the
// golden inputs.
func FuzzParse(f *testing.F) {
	files, _ := filepath.Glob("testdata/*/*.toml")
	for _, file := range files {
		data, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		r, _ := newTestRegistry()
		exp, err := r.Parse(context.Background(), "fuzz.toml", data)
		lines := bytes.Count(data, []byte("\n")) + 1
		if err != nil {
			var list ErrorList
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
		} else {
			runs, err := Expand(exp)
			if err != nil {
				t.Fatalf("valid file does not expand: %v", err)
			}
			for _, run := range runs[:min(len(runs), 3)] {
				cfg, err := run.TOML()
				if err != nil {
					t.Fatalf("%s: %v", run.ID, err)
				}
				r2, _ := newTestRegistry()
				exp2, err := r2.Parse(context.Background(), "config.toml", cfg)
				if err != nil {
					t.Fatalf("%s: config.toml does not load: %v\n%s", run.ID, err, cfg)
				}
				runs2, err := Expand(exp2)
				if err != nil {
					t.Fatal(err)
				}
				cfg2, _ := runs2[0].TOML()
				if !bytes.Equal(cfg, cfg2) {
					t.Fatalf("%s: config.toml changes when reloaded:\n%s\n---\n%s", run.ID, cfg, cfg2)
				}
			}
		}
		// The position scanner covers every key of any valid document.
		var raw map[string]any
		md, err := toml.Decode(string(data), &raw)
		if err != nil {
			return
		}
		pos := scanPositions(string(data))
		stripped := map[string]bool{}
		for p := range pos.line {
			stripped[stripIndices(p)] = true
		}
		for _, k := range md.Keys() {
			p := ""
			for _, part := range k {
				p = joinKey(p, part)
			}
			if !stripped[p] {
				t.Fatalf("no position for key %s", p)
			}
		}
	})
}
