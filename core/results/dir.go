package results

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"syscall"
)

// RunDir is the results directory of one run: <out>/<experiment>/<run>.
// Run IDs may contain slashes ("curriculum=two-round/seed=1").
func RunDir(out, experiment, run string) string {
	return filepath.Join(out, experiment, filepath.FromSlash(run))
}

// RunState is a run's state as found on disk.
type RunState struct {
	Dir      string   // the run's directory
	Manifest Manifest // its manifest
	// Stale is set when the manifest says running but the process that
	// wrote it (same host, Extra["pid"]) is gone: the run was killed hard
	// and needs the same pit run command again.
	Stale bool
}

// Effective is the run's status, reading a stale "running" as interrupted.
func (s RunState) Effective() Status {
	if s.Stale {
		return StatusInterrupted
	}
	return s.Manifest.Status
}

// ScanRuns reads every run manifest under dir, which may be one experiment's
// directory or a results root holding several experiments. Hidden
// directories (the stage cache) are skipped. Runs are sorted by experiment,
// then directory.
func ScanRuns(dir string) ([]RunState, error) {
	if _, err := os.Stat(dir); err != nil {
		return nil, fmt.Errorf("results: %w", err)
	}
	host, _ := os.Hostname()
	var out []RunState
	var errs []error
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			errs = append(errs, err)
			return nil
		}
		if d.IsDir() && path != dir && len(d.Name()) > 0 && d.Name()[0] == '.' {
			return filepath.SkipDir
		}
		if d.IsDir() || d.Name() != ManifestFile {
			return nil
		}
		var m Manifest
		if err := ReadJSON(path, &m); err != nil {
			errs = append(errs, err)
			return nil
		}
		st := RunState{Dir: filepath.Dir(path), Manifest: m}
		if m.Status == StatusRunning && m.Host == host {
			if pid, err := strconv.Atoi(m.Extra["pid"]); err == nil && !processAlive(pid) {
				st.Stale = true
			}
		}
		out = append(out, st)
		return nil
	})
	if err != nil {
		errs = append(errs, err)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Manifest.Experiment != out[j].Manifest.Experiment {
			return out[i].Manifest.Experiment < out[j].Manifest.Experiment
		}
		return out[i].Dir < out[j].Dir
	})
	return out, errors.Join(errs...)
}

// processAlive reports whether a process with this pid exists on this host.
func processAlive(pid int) bool {
	if pid <= 0 {
		return false
	}
	if pid == os.Getpid() {
		return true
	}
	err := syscall.Kill(pid, 0)
	return err == nil || errors.Is(err, syscall.EPERM)
}
