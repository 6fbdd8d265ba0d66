package nn

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestLoadGarbledNamesFileAndHint: a file that is not a gob checkpoint
// fails with its path and a hint, not a bare gob message.
func TestLoadGarbledNamesFileAndHint(t *testing.T) {
	path := filepath.Join(t.TempDir(), "model.bin")
	if err := os.WriteFile(path, []byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01}, 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := Load(path)
	var de *DecodeError
	if !errors.As(err, &de) || de.Path != path {
		t.Fatalf("Load = %v, want a *DecodeError for %s", err, path)
	}
	if msg := err.Error(); !strings.Contains(msg, path) || !strings.Contains(msg, "pit cache verify") {
		t.Errorf("message lacks the path or the hint: %s", msg)
	}
}
