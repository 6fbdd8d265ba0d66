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
			errs = append(errs, &ManifestError{Path: path, Err: err})
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

// RemoveStale removes the files (or stage links) in paths from a run's
// directory: the published tables (eval.jsonl, outcomes.jsonl, gaps.jsonl,
// …) and stage links that an earlier invocation wrote for a stage that this
// invocation did not finish (it failed, was interrupted or never ran), so a
// failed rerun cannot leave the previous run's tables looking current.
// Nothing is lost: the earlier outputs stay in the stage cache. A path that
// keep (pairs of source, destination) still publishes is left alone.
func RemoveStale(paths []string, keep [][2]string) error {
	kept := map[string]bool{}
	for _, k := range keep {
		kept[k[1]] = true
	}
	var errs []error
	for _, p := range paths {
		if kept[p] {
			continue
		}
		if fi, err := os.Lstat(p); err != nil || fi.IsDir() {
			continue // absent, or a directory pit did not make
		}
		if err := os.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
			errs = append(errs, fmt.Errorf("results: remove stale %w", err))
		}
	}
	return errors.Join(errs...)
}

// ManifestError is a run manifest ScanRuns could not read: missing
// permissions, or a file cut short (a full disk, a copy interrupted). The
// run's state is unknown; ScanRuns returns the other runs and one
// ManifestError per such file (joined with errors.Join).
type ManifestError struct {
	Path string // the manifest.json
	Err  error
}

func (e *ManifestError) Error() string {
	return fmt.Sprintf("%s: unreadable run manifest: %v", e.Path, errors.Unwrap(e.Err))
}

func (e *ManifestError) Unwrap() error { return e.Err }

// ManifestErrors returns the ManifestErrors among err (as ScanRuns returns
// them).
func ManifestErrors(err error) []*ManifestError {
	var out []*ManifestError
	var walk func(error)
	walk = func(e error) {
		if me, ok := e.(*ManifestError); ok {
			out = append(out, me)
			return
		}
		if j, ok := e.(interface{ Unwrap() []error }); ok {
			for _, x := range j.Unwrap() {
				walk(x)
			}
		}
	}
	walk(err)
	return out
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
