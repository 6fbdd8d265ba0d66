package runner

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"runtime/debug"
	"sync"
)

var codeVersion = sync.OnceValues(func() (string, error) {
	exe, err := os.Executable()
	if err != nil {
		return "", fmt.Errorf("runner: code version: %w", err)
	}
	f, err := os.Open(exe)
	if err != nil {
		return "", fmt.Errorf("runner: code version: %w", err)
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", fmt.Errorf("runner: code version: %w", err)
	}
	v := "(devel)"
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" {
		v = bi.Main.Version
	}
	return fmt.Sprintf("%s exe-sha256:%s", v, hex.EncodeToString(h.Sum(nil))[:16]), nil
})

// CodeVersion identifies the running code: the main module's version and
// the SHA-256 of the executable. It enters every cache key, so a rebuilt
// binary recomputes its stages rather than trusting artefacts that older
// code wrote.
func CodeVersion() (string, error) { return codeVersion() }
