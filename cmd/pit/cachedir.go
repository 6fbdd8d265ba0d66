package main

import (
	"fmt"
	"path/filepath"

	"github.com/pit-lab/pit/core/experiment"
	"github.com/pit-lab/pit/core/runner"
)

// cacheSection is the experiment file's [cache] table.
const cacheSection = "cache"

// CacheSettings is the [cache] table: where the stage cache lives.
type CacheSettings struct {
	// Dir is the stage cache's directory, relative to the experiment file;
	// empty: the user's cache (runner.DefaultCacheDir), shared by every
	// experiment. Point it at a cluster's shared filesystem for the Slurm
	// executor.
	Dir string `toml:"dir"`
}

func init() {
	experiment.RegisterSection(cacheSection, func() any { return &CacheSettings{} })
}

// cacheDir is where pit run keeps the stage cache: --cache, else the file's
// [cache] dir (relative to the file), else the user's cache
// ($PIT_CACHE, $XDG_CACHE_HOME/pit or ~/.cache/pit), which every experiment
// shares (an ablation reuses the stages it has in common with the default
// experiment, whatever their results roots).
func cacheDir(flagValue string, exp *experiment.Experiment) (string, error) {
	dir := flagValue
	if dir == "" {
		if b := exp.Baseline(); b != nil {
			if s, ok := b.Config.Sections[cacheSection].(*CacheSettings); ok && s.Dir != "" {
				dir = s.Dir
				if !filepath.IsAbs(dir) {
					dir = filepath.Join(filepath.Dir(exp.File), dir)
				}
			}
		}
	}
	if dir == "" {
		return runner.DefaultCacheDir()
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return "", fmt.Errorf("cache directory %s: %w", dir, err)
	}
	return abs, nil
}
