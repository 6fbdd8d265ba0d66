package results

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

var lineErrRE = regexp.MustCompile(`^results: fuzz\.jsonl:\d+: `)

// roundTrip checks that rows decoded from arbitrary bytes either fail with
// an error naming the file and line, or encode and decode again to the same
// JSON (what the readers accept, the writers reproduce).
func roundTrip[T any](t *testing.T, data []byte) {
	rows, err := DecodeJSONL[T](bytes.NewReader(data), "fuzz.jsonl")
	if err != nil {
		if !lineErrRE.MatchString(err.Error()) {
			t.Fatalf("error does not name the file and line: %v", err)
		}
		return
	}
	path := filepath.Join(t.TempDir(), "rows.jsonl")
	if err := WriteJSONL(path, rows); err != nil {
		// Only values JSON cannot carry may fail, and they come from the
		// encoder, not from a panic.
		if !strings.Contains(err.Error(), "encode") {
			t.Fatalf("WriteJSONL: %v", err)
		}
		return
	}
	again, err := ReadJSONL[T](path)
	if err != nil {
		t.Fatalf("re-read what WriteJSONL wrote: %v", err)
	}
	if len(again) != len(rows) {
		t.Fatalf("%d rows, re-read %d", len(rows), len(again))
	}
	for i := range rows {
		a, _ := json.Marshal(rows[i])
		b, _ := json.Marshal(again[i])
		if !bytes.Equal(a, b) {
			t.Fatalf("row %d changed in a round trip:\n%s\n%s", i, a, b)
		}
	}
}

// FuzzReadJSONL feeds arbitrary bytes to the JSON-lines readers of every
// results row type (metrics.jsonl, eval.jsonl, outcomes.jsonl, gaps).
func FuzzReadJSONL(f *testing.F) {
	for _, s := range []string{
		`{"stage":"sft","step":1,"metric":"loss","value":0.5,"seed":1,"t":0.1}`,
		`{"stage":"rlhf","step":2,"metric":"reward","value":null}` + "\n\n" + `{"stage":"rlhf","step":3,"metric":"kl","value":1e308}`,
		`{"method":"pit","iteration":1,"judge":"oracle","temperature":0.4,"n":48,"win":0.5,"tie":0.1,"lose":0.4,"delta":10}`,
		`{"method":"pit","iteration":1,"judge":"oracle","result":-1,"prompt":3}`,
		`{"stage":"sft","step":1,"metric":"loss","value":0.5` + "\n", // a line cut by a crash
		"\xff\xfe{}",
		`{"step":"three"}`,
		`[1,2,3]`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		roundTrip[Metric](t, data)
		roundTrip[EvalRow](t, data)
		roundTrip[Outcome](t, data)
		roundTrip[GapScore](t, data)
	})
}

// FuzzReadManifest feeds arbitrary bytes to the manifest reader: an error
// names the file, or the manifest writes and reads back the same.
func FuzzReadManifest(f *testing.F) {
	f.Add([]byte(`{"experiment":"e","run":"seed=1","arm":"","seed":1,"baseline":true,"factors":{},"status":"failed","error":"stage rlhf: step 3: reward is NaN","code_version":"x","go_version":"go1.26","stages":[{"name":"rlhf","key":"k","status":"failed","cached":false,"failed_step":3,"failed_value":"NaN"}],"started":"2026-11-28T04:00:00Z"}`))
	f.Add([]byte(`{"status":"done","started":"not a time"}`))
	f.Add([]byte(`{"factors":{"a":[1,{"b":null}]},"seed":1e30}`))
	f.Add([]byte(``))
	f.Fuzz(func(t *testing.T, data []byte) {
		dir := t.TempDir()
		path := filepath.Join(dir, ManifestFile)
		if err := os.WriteFile(path, data, 0o644); err != nil {
			t.Fatal(err)
		}
		var m Manifest
		if err := ReadJSON(path, &m); err != nil {
			if !strings.Contains(err.Error(), path) {
				t.Fatalf("error does not name the file: %v", err)
			}
			return
		}
		out := filepath.Join(dir, "again.json")
		if err := WriteJSON(out, &m); err != nil {
			return // e.g. a factor value JSON cannot encode
		}
		var again Manifest
		if err := ReadJSON(out, &again); err != nil {
			t.Fatalf("re-read what WriteJSON wrote: %v", err)
		}
		a, _ := json.Marshal(m)
		b, _ := json.Marshal(again)
		if !bytes.Equal(a, b) {
			t.Fatalf("manifest changed in a round trip:\n%s\n%s", a, b)
		}
	})
}
