// Package atomicfile writes files so that a reader, or a run killed in the
// middle of the write, sees either the old file or the whole new one: the
// one way pit writes results, manifests, figures and checkpoints.
package atomicfile

import (
	"fmt"
	"os"
	"path/filepath"
)

// Mode is the permission of every file Write makes, whatever the umask:
// readable by everyone who can enter the directory, writable by its owner.
// Results and checkpoints are meant to be read by collaborators and by
// jobs of other users of a shared cluster; the directories guard them
// (MkdirAll makes them 0755 before the umask).
const Mode os.FileMode = 0o644

// Write writes data to path through a temporary file ".NAME.tmp-*" in the
// same directory (made if missing), synced, set to Mode and renamed into
// place. On an error the temporary file is removed and path is untouched.
// A process killed mid-write can leave the temporary file behind; the
// runner removes such files when it starts (core/runner).
func Write(path string, data []byte) error {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	defer os.Remove(tmp) // no-op after a successful rename
	if _, err := f.Write(data); err != nil {
		f.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := f.Chmod(Mode); err != nil {
		f.Close()
		return fmt.Errorf("chmod %s: %w", path, err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return fmt.Errorf("sync %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("close %s: %w", path, err)
	}
	return os.Rename(tmp, path)
}
