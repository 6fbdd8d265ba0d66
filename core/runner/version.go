package runner

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/pit-lab/pit/internal/filehash"
)

var codeVersion = sync.OnceValues(func() (string, error) {
	if v, ok := sourceVersion(); ok {
		return v, nil
	}
	return exeVersion()
})

// CodeVersion identifies the running code. It enters every cache key, so a
// stage is recomputed when the code that computes it changes, and reused
// when it does not:
//
//   - "src-sha256:…" when the source tree the binary was built from is
//     still on disk and unchanged since the build: a hash of the Go
//     toolchain, the build settings, the dependency modules and every
//     source file of the main module (what go run and go build compile, so
//     `go run ./cmd/pit` and a `go build` of the same tree agree, and a
//     rebuild of an unchanged tree keeps every stage);
//   - "exe-sha256:…" otherwise (a binary built elsewhere, with -trimpath,
//     or from a tree edited since): the executable's own hash, so artefacts
//     written by other code are never trusted.
//
// pit run --code-version pins it by hand.
func CodeVersion() (string, error) { return codeVersion() }

func exeVersion() (string, error) {
	exe, err := os.Executable()
	if err != nil {
		return "", fmt.Errorf("runner: code version: %w", err)
	}
	sum, err := filehash.SHA256(exe)
	if err != nil {
		return "", fmt.Errorf("runner: code version: %w", err)
	}
	return fmt.Sprintf("%s exe-sha256:%s", moduleVersion(), sum[:16]), nil
}

func moduleVersion() string {
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" {
		return bi.Main.Version
	}
	return "(devel)"
}

// sourceVersion hashes the main module's source tree, found from this
// file's compiled-in path; ok is false when there is no such tree, or when
// a file in it is newer than the executable (the binary may not be what
// the tree says).
func sourceVersion() (string, bool) {
	_, self, _, ok := runtime.Caller(0)
	if !ok || !filepath.IsAbs(self) {
		return "", false // built with -trimpath
	}
	root := filepath.Dir(filepath.Dir(filepath.Dir(self))) // <root>/core/runner/version.go
	exe, err := os.Executable()
	if err != nil {
		return "", false
	}
	exeInfo, err := os.Stat(exe)
	if err != nil {
		return "", false
	}
	sum, newest, err := SourceHash(root)
	if err != nil || newest.After(exeInfo.ModTime()) {
		return "", false
	}
	h := sha256.New()
	fmt.Fprintf(h, "go %s\n", runtime.Version())
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, s := range bi.Settings {
			if !strings.HasPrefix(s.Key, "vcs.") {
				fmt.Fprintf(h, "setting %s=%s\n", s.Key, s.Value)
			}
		}
		for _, d := range bi.Deps {
			fmt.Fprintf(h, "dep %s %s %s\n", d.Path, d.Version, d.Sum)
			if d.Replace != nil {
				fmt.Fprintf(h, "replace %s %s %s\n", d.Replace.Path, d.Replace.Version, d.Replace.Sum)
			}
		}
	}
	fmt.Fprintf(h, "source %s\n", sum)
	return fmt.Sprintf("%s src-sha256:%s", moduleVersion(), hex.EncodeToString(h.Sum(nil))[:16]), true
}

// sourceDirs are the directories of the module that hold the code compiled
// into pit (experiment files, docs, scripts and results are not code).
var sourceDirs = []string{"cmd", "core", "plots", "plugins"}

// SourceHash hashes the files of the module rooted at root that a build of
// pit compiles or embeds: go.mod, go.sum and every file under sourceDirs
// but tests, documentation and test data. It also returns the newest
// modification time among them.
func SourceHash(root string) (sum string, newest time.Time, err error) {
	files := []string{filepath.Join(root, "go.mod"), filepath.Join(root, "go.sum")}
	skipDir := map[string]bool{"testdata": true, "node_modules": true, "__pycache__": true}
	walk := func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		name := d.Name()
		if d.IsDir() {
			if skipDir[name] || strings.HasPrefix(name, ".") {
				return filepath.SkipDir
			}
			return nil
		}
		if !d.Type().IsRegular() || strings.HasSuffix(name, "_test.go") || strings.HasSuffix(name, ".md") || strings.HasPrefix(name, ".") {
			return nil
		}
		files = append(files, path)
		return nil
	}
	for _, dir := range sourceDirs {
		err := filepath.WalkDir(filepath.Join(root, dir), walk)
		if err != nil && !errors.Is(err, fs.ErrNotExist) {
			return "", newest, err
		}
	}
	slices.Sort(files)
	h := sha256.New()
	for _, path := range files {
		info, err := os.Stat(path)
		if err != nil {
			return "", newest, err
		}
		if info.ModTime().After(newest) {
			newest = info.ModTime()
		}
		rel, _ := filepath.Rel(root, path)
		sum, err := filehash.SHA256(path)
		if err != nil {
			return "", newest, err
		}
		fmt.Fprintf(h, "%s  %s\n", sum, filepath.ToSlash(rel))
	}
	return hex.EncodeToString(h.Sum(nil)), newest, nil
}
