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
	// empty: <out>/.cache, shared by every experiment of the results root.
	// Point several results roots (or a cluster's shared filesystem) at one
	// directory to share their stages too.
	Dir string `toml:"dir"`
}

func init() {
	experiment.RegisterSection(cacheSection, func() any { return &CacheSettings{} })
}

// cacheDir is where pit run keeps the stage cache: --cache, else the file's
// [cache] dir (relative to the file), else <root>/.cache, which every
// experiment under the results root shares (an ablation reuses the stages
// it has in common with the default experiment).
func cacheDir(flagValue string, exp *experiment.Experiment, root string) (string, error) {
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
		dir = filepath.Join(root, runner.CacheDir)
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return "", fmt.Errorf("cache directory %s: %w", dir, err)
	}
	return abs, nil
}
