// Package cache is pit's content-addressed store of stage artefacts.
//
// A stage's output is stored under a key that hashes everything the stage
// reads (see Key). The store lays entries out as
//
//	<root>/<stage>/<key>/            a committed entry (complete, never modified)
//	<root>/<stage>/<key>/entry.json  Meta: what made the entry and when
//	<root>/<stage>/<key>/SHA256SUMS  the SHA-256 of every other file (Verify)
//	<root>/<stage>/.quarantine/      entries that failed their checksums
//	<root>/<stage>/.tmp-<key>-<host>-<pid>-<n>/   an entry being written
//	<root>/<stage>/.scratch-<key>/   checkpoints of an entry being computed
//
// An entry is written into a temporary directory and renamed into place when
// the stage succeeds, so a committed entry is always complete: a process
// killed mid-stage leaves only a temporary directory, which Clean removes once
// its writer is gone. Every committed entry carries the SHA-256 of its files
// (SumsFile); Get verifies them before an entry is used and moves an entry
// that does not match into the stage's QuarantineDir.
package cache

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// MetaFile is the name of the file inside every committed entry that records
// its Meta.
const MetaFile = "entry.json"

const tmpPrefix = ".tmp-"

// Meta describes a committed entry: the inputs its key was made from and
// who computed it.
type Meta struct {
	Stage    string            `json:"stage"`
	Key      string            `json:"key"`
	Inputs   map[string]string `json:"inputs,omitempty"` // human-readable key parts (see KeyBuilder.Parts)
	Run      string            `json:"run,omitempty"`    // "<experiment>/<run>" that computed it
	PID      int               `json:"pid,omitempty"`    // process that computed it
	Started  time.Time         `json:"started"`
	Finished time.Time         `json:"finished"`
	Seconds  float64           `json:"seconds"`
	Warnings []string          `json:"warnings,omitempty"` // the stage's warnings, repeated in every run that uses it
}

// Store is a content-addressed store rooted at a directory.
type Store struct {
	root string
}

// Open returns the store rooted at root, creating the directory if needed.
func Open(root string) (*Store, error) {
	if root == "" {
		return nil, errors.New("cache: empty root directory")
	}
	if err := os.MkdirAll(root, 0o755); err != nil {
		return nil, fmt.Errorf("cache: %w", err)
	}
	return &Store{root: root}, nil
}

// At returns the store rooted at root without creating anything, for
// lookups (a missing directory holds no entries).
func At(root string) *Store { return &Store{root: root} }

// Root is the store's directory.
func (s *Store) Root() string { return s.root }

// Dir is where the committed entry (stage, key) lives, whether or not it
// exists.
func (s *Store) Dir(stage, key string) string {
	return filepath.Join(s.root, stage, key)
}

// ScratchDir is a directory for the entry (stage, key) that survives a
// killed computation (Begin's directory does not): a long stage keeps its
// checkpoints there to resume from them. It is not created; RemoveScratch
// removes it once the entry is committed.
func (s *Store) ScratchDir(stage, key string) string {
	return filepath.Join(s.root, stage, ".scratch-"+key)
}

// RemoveScratch removes the entry's scratch directory.
func (s *Store) RemoveScratch(stage, key string) error {
	if err := os.RemoveAll(s.ScratchDir(stage, key)); err != nil {
		return fmt.Errorf("cache: %w", err)
	}
	return nil
}

// Lookup reports whether the entry (stage, key) is committed and returns its
// Meta.
func (s *Store) Lookup(stage, key string) (Meta, bool) {
	var m Meta
	b, err := os.ReadFile(filepath.Join(s.Dir(stage, key), MetaFile))
	if err != nil {
		return m, false
	}
	if err := json.Unmarshal(b, &m); err != nil {
		return m, false
	}
	return m, true
}

// Entries returns the Meta of every committed entry of stage, for telling
// why a key is missing (its Inputs hold the key's parts).
func (s *Store) Entries(stage string) []Meta {
	dirs, err := os.ReadDir(filepath.Join(s.root, stage))
	if err != nil {
		return nil
	}
	var out []Meta
	for _, d := range dirs {
		if !d.IsDir() || strings.HasPrefix(d.Name(), ".") {
			continue
		}
		if m, ok := s.Lookup(stage, d.Name()); ok {
			out = append(out, m)
		}
	}
	return out
}

var tmpCounter atomic.Int64

// Pending is an entry being written. Write the stage's files under Dir, then
// Commit or Abort.
type Pending struct {
	store      *Store
	stage, key string
	dir        string
	done       bool
}

// Begin starts writing the entry (stage, key) into a fresh temporary
// directory.
func (s *Store) Begin(stage, key string) (*Pending, error) {
	if err := checkName(stage); err != nil {
		return nil, err
	}
	if err := checkName(key); err != nil {
		return nil, err
	}
	parent := filepath.Join(s.root, stage)
	if err := os.MkdirAll(parent, 0o755); err != nil {
		return nil, fmt.Errorf("cache: %w", err)
	}
	name := fmt.Sprintf("%s%s-%s-%d-%d", tmpPrefix, key, hostTag(), os.Getpid(), tmpCounter.Add(1))
	dir := filepath.Join(parent, name)
	if err := os.Mkdir(dir, 0o755); err != nil {
		return nil, fmt.Errorf("cache: %w", err)
	}
	return &Pending{store: s, stage: stage, key: key, dir: dir}, nil
}

// Dir is the temporary directory to write the entry's files into.
func (p *Pending) Dir() string { return p.dir }

// Commit writes meta into the entry, syncs its files and renames the entry
// into place. If a committed entry with the same key exists already (another
// process computed it meanwhile), it is kept and this one is discarded,
// unless replace is set (a forced recomputation), in which case the old
// entry is replaced.
func (p *Pending) Commit(meta Meta, replace bool) error {
	if p.done {
		return errors.New("cache: entry already committed or aborted")
	}
	p.done = true
	meta.Stage, meta.Key = p.stage, p.key
	b, err := json.MarshalIndent(meta, "", "  ")
	if err != nil {
		os.RemoveAll(p.dir)
		return fmt.Errorf("cache: encode meta: %w", err)
	}
	if err := os.WriteFile(filepath.Join(p.dir, MetaFile), append(b, '\n'), 0o644); err != nil {
		os.RemoveAll(p.dir)
		return fmt.Errorf("cache: %w", err)
	}
	if err := writeSums(p.dir); err != nil {
		os.RemoveAll(p.dir)
		return fmt.Errorf("cache: checksums of %s: %w", p.dir, err)
	}
	if err := syncTree(p.dir); err != nil {
		os.RemoveAll(p.dir)
		return fmt.Errorf("cache: sync %s: %w", p.dir, err)
	}
	final := p.store.Dir(p.stage, p.key)
	if _, err := os.Stat(final); err == nil {
		if !replace {
			os.RemoveAll(p.dir)
			return nil
		}
		// Move the old entry aside first: a rename cannot replace a
		// non-empty directory.
		old := filepath.Join(filepath.Dir(final), fmt.Sprintf("%sold-%s-%s-%d-%d", tmpPrefix, p.key, hostTag(), os.Getpid(), tmpCounter.Add(1)))
		if err := os.Rename(final, old); err != nil {
			os.RemoveAll(p.dir)
			return fmt.Errorf("cache: %w", err)
		}
		defer os.RemoveAll(old)
	}
	if err := os.Rename(p.dir, final); err != nil {
		os.RemoveAll(p.dir)
		return fmt.Errorf("cache: %w", err)
	}
	return syncDir(filepath.Dir(final))
}

// Abort discards the entry. It is safe to call after Commit (it does
// nothing then), so it can be deferred.
func (p *Pending) Abort() error {
	if p.done {
		return nil
	}
	p.done = true
	if err := os.RemoveAll(p.dir); err != nil {
		return fmt.Errorf("cache: %w", err)
	}
	return nil
}

// Clean removes temporary directories left by processes of this host that
// no longer run (for example a pit run killed with SIGKILL). Directories of
// live processes, and of processes on other hosts sharing the directory,
// are kept, so Clean is safe while another pit process uses the store.
func (s *Store) Clean() error {
	stages, err := os.ReadDir(s.root)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil
		}
		return fmt.Errorf("cache: %w", err)
	}
	var errs []error
	for _, st := range stages {
		if !st.IsDir() {
			continue
		}
		entries, err := os.ReadDir(filepath.Join(s.root, st.Name()))
		if err != nil {
			errs = append(errs, err)
			continue
		}
		for _, e := range entries {
			host, pid, ok := tmpOwner(e.Name())
			if !ok || host != hostTag() || processAlive(pid) {
				// Not ours to judge: a live writer, or one on another host
				// sharing the directory.
				continue
			}
			if err := os.RemoveAll(filepath.Join(s.root, st.Name(), e.Name())); err != nil {
				errs = append(errs, err)
			}
		}
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("cache: clean: %w", err)
	}
	return nil
}

// tmpOwner parses the writer's host tag and pid out of a temporary
// directory name ".tmp-<key>-<host>-<pid>-<n>" or
// ".tmp-old-<key>-<host>-<pid>-<n>".
func tmpOwner(name string) (host string, pid int, ok bool) {
	if !strings.HasPrefix(name, tmpPrefix) {
		return "", 0, false
	}
	parts := strings.Split(name, "-")
	if len(parts) < 5 {
		return "", 0, false
	}
	pid, err := strconv.Atoi(parts[len(parts)-2])
	if err != nil || pid <= 0 {
		return "", 0, false
	}
	return parts[len(parts)-3], pid, true
}

// hostTag names this host in temporary directory names: the host name with
// anything but letters and digits dropped (so it parses back), or "host".
var hostTag = sync.OnceValue(func() string {
	h, _ := os.Hostname()
	h = strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' {
			return r
		}
		return -1
	}, h)
	if h == "" {
		return "host"
	}
	return h
})

// processAlive reports whether a process with this pid exists on this host.
func processAlive(pid int) bool {
	if pid == os.Getpid() {
		return true
	}
	err := syscall.Kill(pid, 0)
	return err == nil || errors.Is(err, syscall.EPERM)
}

func checkName(s string) error {
	if s == "" || s == "." || s == ".." || strings.ContainsAny(s, `/\`) || strings.HasPrefix(s, ".") {
		return fmt.Errorf("cache: bad name %q", s)
	}
	return nil
}

// syncTree fsyncs every regular file and directory under dir, so a rename
// that publishes dir cannot expose files whose data is not on disk yet.
func syncTree(dir string) error {
	return filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() && !d.Type().IsRegular() {
			return nil
		}
		f, err := os.Open(path)
		if err != nil {
			return err
		}
		serr := f.Sync()
		cerr := f.Close()
		if serr != nil && !d.IsDir() {
			return serr
		}
		return cerr
	})
}

func syncDir(dir string) error {
	f, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("cache: %w", err)
	}
	defer f.Close()
	_ = f.Sync() // some file systems do not support syncing directories
	return nil
}

// KeyBuilder hashes the named parts that determine a stage's output into a
// key. Parts are length-prefixed, so no two different sequences of parts
// give the same bytes to the hash. Add parts in a fixed order.
type KeyBuilder struct {
	parts [][2]string
}

// Add appends a named part (for example "settings" and the canonical
// encoding of the stage's settings).
func (b *KeyBuilder) Add(name, value string) *KeyBuilder {
	b.parts = append(b.parts, [2]string{name, value})
	return b
}

// Key returns the hex SHA-256 of the parts, shortened to 32 hex digits
// (128 bits).
func (b *KeyBuilder) Key() string {
	h := sha256.New()
	var n [8]byte
	write := func(s string) {
		binary.LittleEndian.PutUint64(n[:], uint64(len(s)))
		h.Write(n[:])
		h.Write([]byte(s))
	}
	for _, p := range b.parts {
		write(p[0])
		write(p[1])
	}
	return hex.EncodeToString(h.Sum(nil))[:32]
}

// Parts returns the parts as a map, for recording in Meta.Inputs. A part
// added twice under one name keeps its last value.
func (b *KeyBuilder) Parts() map[string]string {
	m := make(map[string]string, len(b.parts))
	for _, p := range b.parts {
		m[p[0]] = p[1]
	}
	return m
}
