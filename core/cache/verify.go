package cache

import (
	"bufio"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/pit-lab/pit/internal/filehash"
)

// SumsFile is the name of the file inside every committed entry that lists
// the SHA-256 of each of its other files, in sha256sum's format ("<hex>  <path>"
// per line, paths relative to the entry), so that `sha256sum -c SHA256SUMS`
// checks an entry by hand too. It is written after every other file and
// before the entry is renamed into place, so a committed entry always has
// one.
const SumsFile = "SHA256SUMS"

// QuarantineDir is the directory under a stage's directory where entries
// that fail their checksums are moved, with a REASON file: never deleted
// silently.
const QuarantineDir = ".quarantine"

// CorruptError reports an entry whose files do not match its checksums.
type CorruptError struct {
	Dir    string // the entry's directory
	Reason string // what did not match
}

func (e *CorruptError) Error() string {
	return fmt.Sprintf("cache entry %s is corrupt: %s", e.Dir, e.Reason)
}

// writeSums writes dir's SumsFile covering every other regular file under
// dir.
func writeSums(dir string) error {
	sums, err := hashTree(dir)
	if err != nil {
		return err
	}
	var b strings.Builder
	for _, p := range slices.Sorted(maps.Keys(sums)) {
		fmt.Fprintf(&b, "%s  %s\n", sums[p], p)
	}
	return os.WriteFile(filepath.Join(dir, SumsFile), []byte(b.String()), 0o644)
}

// hashTree returns the SHA-256 of every regular file under dir but the
// SumsFile, by slash-separated path relative to dir.
func hashTree(dir string) (map[string]string, error) {
	sums := map[string]string{}
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.Type().IsRegular() {
			return nil
		}
		rel, err := filepath.Rel(dir, path)
		if err != nil {
			return err
		}
		rel = filepath.ToSlash(rel)
		if rel == SumsFile {
			return nil
		}
		sum, err := FileSHA256(path)
		if err != nil {
			return err
		}
		sums[rel] = sum
		return nil
	})
	return sums, err
}

// FileSHA256 is the lower-case hex SHA-256 of a file's content.
func FileSHA256(path string) (string, error) { return filehash.SHA256(path) }

// readSums parses a SumsFile.
func readSums(path string) (map[string]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	sums := map[string]string{}
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		sum, name, ok := strings.Cut(sc.Text(), "  ")
		if _, err := hex.DecodeString(sum); !ok || err != nil || len(sum) != 64 || name == "" {
			return nil, fmt.Errorf("%s:%d: not a \"<sha256>  <file>\" line", path, n)
		}
		sums[name] = sum
	}
	return sums, sc.Err()
}

// VerifyDir checks the entry in dir against its SumsFile: every listed file
// must exist with its checksum, and no other file may have appeared. It
// returns a *CorruptError when they differ.
func VerifyDir(dir string) error {
	want, err := readSums(filepath.Join(dir, SumsFile))
	if errors.Is(err, fs.ErrNotExist) {
		return &CorruptError{Dir: dir, Reason: "it has no " + SumsFile + " (written by a pit without checksums, or damaged)"}
	}
	if err != nil {
		return &CorruptError{Dir: dir, Reason: err.Error()}
	}
	have, err := hashTree(dir)
	if err != nil {
		return fmt.Errorf("cache: verify %s: %w", dir, err)
	}
	var bad []string
	for _, name := range slices.Sorted(maps.Keys(want)) {
		switch h, ok := have[name]; {
		case !ok:
			bad = append(bad, name+" is missing")
		case h != want[name]:
			bad = append(bad, name+" has another SHA-256")
		}
	}
	for _, name := range slices.Sorted(maps.Keys(have)) {
		if _, ok := want[name]; !ok {
			bad = append(bad, name+" is not in "+SumsFile)
		}
	}
	if len(bad) > 0 {
		return &CorruptError{Dir: dir, Reason: strings.Join(bad, "; ")}
	}
	return nil
}

// Verify checks the committed entry (stage, key) against its checksums.
func (s *Store) Verify(stage, key string) error { return VerifyDir(s.Dir(stage, key)) }

// Get is Lookup for an entry about to be used: it also verifies the entry's
// checksums and, when they do not match, moves the entry aside
// (Quarantine) and reports it as absent, with the *CorruptError (whose
// message names the entry, what differed and where it went).
func (s *Store) Get(stage, key string) (Meta, bool, error) {
	m, ok := s.Lookup(stage, key)
	if !ok {
		return m, false, nil
	}
	err := s.Verify(stage, key)
	var ce *CorruptError
	if !errors.As(err, &ce) {
		if err == nil {
			s.Touch(stage, key) // for pit cache gc --older-than
		}
		return m, err == nil, err
	}
	to, qerr := s.Quarantine(stage, key, ce.Reason)
	if qerr != nil {
		return m, false, fmt.Errorf("%w; moving it aside failed: %v", ce, qerr)
	}
	ce.Reason += "; moved to " + to + ", the stage will be computed again"
	return m, false, ce
}

// Quarantine moves the committed entry (stage, key) into the stage's
// QuarantineDir with a REASON file, and returns where it went.
func (s *Store) Quarantine(stage, key, reason string) (string, error) {
	return QuarantinePath(s.Dir(stage, key), reason)
}

// QuarantinePath moves dir (a cache entry or a checkpoint directory) into
// the QuarantineDir beside it, named after it and the time, with a REASON
// file, and returns where it went.
func QuarantinePath(dir, reason string) (string, error) {
	q := filepath.Join(filepath.Dir(dir), QuarantineDir)
	if err := os.MkdirAll(q, 0o755); err != nil {
		return "", fmt.Errorf("cache: %w", err)
	}
	to := filepath.Join(q, fmt.Sprintf("%s-%s", strings.TrimPrefix(filepath.Base(dir), "."), time.Now().UTC().Format("20060102T150405.000000000")))
	if err := os.Rename(dir, to); err != nil {
		return "", fmt.Errorf("cache: %w", err)
	}
	_ = os.WriteFile(filepath.Join(to, "REASON"), []byte(reason+"\n"), 0o644)
	return to, nil
}
