package main

import (
	"errors"
	"fmt"
	"os"

	"github.com/pit-lab/pit/core/experiment"
	"github.com/pit-lab/pit/core/runner"
	"github.com/pit-lab/pit/core/runner/pluginhost"
	"golang.org/x/sys/unix"
)

// minFreeBytes is the free space pit run wants on the results file system
// before it starts (checkpoints and artefacts of small runs fit well
// within it; a full disk mid-run fails the stage that hits it, and
// atomic writes keep every finished file whole).
const minFreeBytes = 64 << 20

// prepareRun does what pit run checks before any work: it applies the
// experiment's [plugins] section (call deadline, retries, the environment
// plugins get; see pluginhost.Settings) to the plugin host and, unless
// dry, checks that the results directory dir can take files.
func prepareRun(ph runner.PluginHost, runs []experiment.Run, dir string, dry bool) error {
	pol, err := pluginhost.PolicyFor(runs)
	if err != nil {
		return err
	}
	h, ok := ph.(*pluginhost.Host)
	if !ok {
		return fmt.Errorf("plugin host is a %T: cannot set the fault policy", ph)
	}
	h.SetPolicy(pol)
	env, err := pluginhost.EnvFor(runs)
	if err != nil {
		return err
	}
	h.SetEnv(env)
	if dry {
		return nil
	}
	return checkWritable(dir, minFreeBytes)
}

// checkWritable fails with a clear message when dir cannot be created or
// written to, or its file system has less than minFree bytes free.
func checkWritable(dir string, minFree uint64) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		var pe *os.PathError
		if errors.As(err, &pe) {
			err = fmt.Errorf("%s: %w", pe.Path, pe.Err)
		}
		return fmt.Errorf("results directory %s cannot be created (%v); choose another with --out or the file's out key", dir, err)
	}
	f, err := os.CreateTemp(dir, ".pit-write-check-*")
	if err != nil {
		return fmt.Errorf("results directory %s is not writable (%v); choose another with --out or the file's out key", dir, errors.Unwrap(err))
	}
	name := f.Name()
	defer os.Remove(name)
	_, werr := f.Write(make([]byte, 64<<10))
	if werr == nil {
		werr = f.Sync()
	}
	if cerr := f.Close(); werr == nil {
		werr = cerr
	}
	if werr != nil {
		return fmt.Errorf("results directory %s: writing a test file failed (%v); is the disk full?", dir, errors.Unwrap(werr))
	}
	var st unix.Statfs_t
	if err := unix.Statfs(dir, &st); err == nil {
		if free := st.Bavail * uint64(st.Bsize); free < minFree {
			return fmt.Errorf("results directory %s: only %s free on its file system, pit run wants at least %s; free some space or choose another with --out", dir, bytesString(free), bytesString(minFree))
		}
	}
	return nil
}

func bytesString(n uint64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.1f GiB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d B", n)
}
