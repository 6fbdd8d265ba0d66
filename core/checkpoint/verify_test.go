package checkpoint

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pit-lab/pit/core/cache"
	"github.com/pit-lab/pit/core/results"
)

// writeTestCheckpoint writes a checkpoint state file as MaybeSaveWith
// does: the files, then the envelope naming them with their SHA-256.
func writeTestCheckpoint(t *testing.T, dir, name string, files map[string]string) {
	t.Helper()
	st := checkpointState{Step: 3, Trainer: "trainer-3.bin", Sums: map[string]string{}}
	for f, data := range files {
		if err := os.WriteFile(filepath.Join(dir, f), []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
		sum, err := cache.FileSHA256(filepath.Join(dir, f))
		if err != nil {
			t.Fatal(err)
		}
		st.Sums[f] = sum
		if f != st.Trainer {
			st.Files = append(st.Files, f)
		}
	}
	raw, err := json.Marshal(st)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(raw)
	if err := results.WriteJSON(filepath.Join(dir, name), ckptEnvelope{SHA256: hex.EncodeToString(sum[:]), State: raw}); err != nil {
		t.Fatal(err)
	}
}

func TestVerify(t *testing.T) {
	tests := []struct {
		name   string
		damage func(dir string)
		want   string // "" for no problem
	}{
		{"intact", func(string) {}, ""},
		{"no checkpoint", func(d string) { os.Remove(filepath.Join(d, ckptStateFile)) }, ""},
		{"trainer flipped", func(d string) { os.WriteFile(filepath.Join(d, "trainer-3.bin"), []byte("weightz"), 0o644) }, "trainer-3.bin does not match its SHA-256"},
		{"own file missing", func(d string) { os.Remove(filepath.Join(d, "plugin-3.state")) }, "names plugin-3.state"},
		{"state garbled", func(d string) {
			os.WriteFile(filepath.Join(d, ckptStateFile), []byte(`{"sha256":"00","state":{"step":4}}`), 0o644)
		}, "state.json does not match its SHA-256"},
		{"state cut short", func(d string) { os.WriteFile(filepath.Join(d, ckptStateFile), []byte(`{"sha`), 0o644) }, "state.json does not decode"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			writeTestCheckpoint(t, dir, ckptStateFile, map[string]string{"trainer-3.bin": "weights", "plugin-3.state": "s"})
			tt.damage(dir)
			err := Verify(dir)
			switch {
			case tt.want == "" && err != nil:
				t.Errorf("Verify = %v, want nil", err)
			case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want) || !strings.Contains(err.Error(), dir)):
				t.Errorf("Verify = %v, want an error in %s saying %q", err, dir, tt.want)
			}
		})
	}
}
