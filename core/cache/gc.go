package cache

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"time"
)

// LocksDir is the directory under a store's root that holds the lock file
// of each stage instance ("<stage>-<key>"), held (flock) by the process
// computing it. The runner takes these locks; Remove respects them.
const LocksDir = ".locks"

// Entry describes a committed entry for listings (pit cache ls, du, gc).
type Entry struct {
	Stage, Key string
	Dir        string
	Meta       Meta
	Bytes      int64     // total size of its files
	LastUsed   time.Time // when a run last computed or reused it (the directory's mtime, see Touch)
}

// List returns the store's committed entries, sorted by stage and key.
// Temporary, scratch, lock and quarantine directories are not entries.
func (s *Store) List() ([]Entry, error) {
	stages, err := os.ReadDir(s.root)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("cache: %w", err)
	}
	var out []Entry
	for _, st := range stages {
		if !st.IsDir() || strings.HasPrefix(st.Name(), ".") {
			continue
		}
		keys, err := os.ReadDir(filepath.Join(s.root, st.Name()))
		if err != nil {
			return nil, fmt.Errorf("cache: %w", err)
		}
		for _, k := range keys {
			if !k.IsDir() || strings.HasPrefix(k.Name(), ".") {
				continue
			}
			m, ok := s.Lookup(st.Name(), k.Name())
			if !ok {
				continue
			}
			e := Entry{Stage: st.Name(), Key: k.Name(), Dir: s.Dir(st.Name(), k.Name()), Meta: m}
			if fi, err := os.Stat(e.Dir); err == nil {
				e.LastUsed = fi.ModTime()
			}
			e.Bytes, _ = DirSize(e.Dir)
			out = append(out, e)
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Stage != out[j].Stage {
			return out[i].Stage < out[j].Stage
		}
		return out[i].Key < out[j].Key
	})
	return out, nil
}

// Quarantined lists the folders in the stages' QuarantineDir (damaged
// entries and checkpoints moved aside), as Entries whose Key is the
// folder's name and LastUsed its modification time.
func (s *Store) Quarantined() ([]Entry, error) {
	dirs, err := filepath.Glob(filepath.Join(s.root, "*", QuarantineDir, "*"))
	if err != nil {
		return nil, fmt.Errorf("cache: %w", err)
	}
	var out []Entry
	for _, d := range dirs {
		fi, err := os.Stat(d)
		if err != nil || !fi.IsDir() {
			continue
		}
		e := Entry{Stage: filepath.Base(filepath.Dir(filepath.Dir(d))), Key: filepath.Base(d), Dir: d, LastUsed: fi.ModTime()}
		e.Bytes, _ = DirSize(d)
		out = append(out, e)
	}
	return out, nil
}

// DirSize is the total size of the regular files under dir.
func DirSize(dir string) (int64, error) {
	var n int64
	err := filepath.WalkDir(dir, func(_ string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.Type().IsRegular() {
			if fi, err := d.Info(); err == nil {
				n += fi.Size()
			}
		}
		return nil
	})
	return n, err
}

// Touch records that the entry was used now (its directory's modification
// time), for pit cache gc --older-than. Errors are ignored: a read-only
// store is still usable.
func (s *Store) Touch(stage, key string) {
	now := time.Now()
	_ = os.Chtimes(s.Dir(stage, key), now, now)
}

// ErrBusy is returned (wrapped) by Remove when a process holds the entry's
// lock (it is computing or recomputing it).
var ErrBusy = errors.New("cache: entry in use by another process")

// Remove deletes the committed entry (stage, key) unless a process holds
// its lock (ErrBusy). The entry is first renamed out of place, so a
// concurrent Lookup sees it whole or not at all.
func (s *Store) Remove(stage, key string) error {
	if err := checkName(stage); err != nil {
		return err
	}
	if err := checkName(key); err != nil {
		return err
	}
	lock := filepath.Join(s.root, LocksDir, stage+"-"+key)
	if err := os.MkdirAll(filepath.Dir(lock), 0o755); err != nil {
		return fmt.Errorf("cache: %w", err)
	}
	f, err := os.OpenFile(lock, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return fmt.Errorf("cache: %w", err)
	}
	defer f.Close()
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return fmt.Errorf("%w: %s %s", ErrBusy, stage, key)
		}
		return fmt.Errorf("cache: lock %s: %w", lock, err)
	}
	defer syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
	dir := s.Dir(stage, key)
	gone := filepath.Join(s.root, stage, fmt.Sprintf("%sgc-%s-%s-%d-%d", tmpPrefix, key, hostTag(), os.Getpid(), tmpCounter.Add(1)))
	if err := os.Rename(dir, gone); err != nil {
		return fmt.Errorf("cache: remove %s: %w", dir, err)
	}
	if err := os.RemoveAll(gone); err != nil {
		return fmt.Errorf("cache: remove %s: %w", dir, err)
	}
	return nil
}
