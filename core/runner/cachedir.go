package runner

import (
	"errors"
	"os"
	"path/filepath"
)

// CacheEnv names the environment variable that, when set, is the default
// stage cache (before XDG_CACHE_HOME): tests and CI point it at a
// temporary directory so they never write into the user's cache.
const CacheEnv = "PIT_CACHE"

// DefaultCacheDir is the user's stage cache, shared by every experiment:
// $PIT_CACHE, else $XDG_CACHE_HOME/pit, else ~/.cache/pit. The result is
// absolute.
func DefaultCacheDir() (string, error) {
	if d := os.Getenv(CacheEnv); d != "" {
		return filepath.Abs(d)
	}
	if d := os.Getenv("XDG_CACHE_HOME"); d != "" && filepath.IsAbs(d) {
		return filepath.Join(d, "pit"), nil
	}
	home, err := os.UserHomeDir()
	if err != nil || home == "" {
		return "", errors.New("runner: no directory for the stage cache: set XDG_CACHE_HOME or HOME, or pass --cache")
	}
	return filepath.Join(home, ".cache", "pit"), nil
}
