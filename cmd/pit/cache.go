package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/pit-lab/pit/core/cache"
)

func init() {
	register(&command{name: "cache", summary: "inspect the stage cache: verify every entry's checksums", run: runCache})
}

func runCache(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] != "verify" {
		fmt.Fprintln(stderr, "Usage: pit cache verify [DIR...]\n\nChecks every cache entry under each DIR (a results directory such as\nresults/pit-default, its .cache, or a whole results root; default\n\"results\") against its SHA256SUMS, and every quarantined entry is listed.\nNothing is changed: the next pit run moves a corrupt entry aside and\ncomputes the stage again. Exits 1 when an entry is corrupt.")
		return exitError{2}
	}
	fs := flag.NewFlagSet("cache verify", flag.ContinueOnError)
	fs.SetOutput(stderr)
	dirs, err := parseInterspersed(fs, args[1:])
	if err != nil {
		return exitError{2}
	}
	if len(dirs) == 0 {
		dirs = []string{"results"}
	}
	var ok, bad, quarantined int
	for _, dir := range dirs {
		if _, err := os.Stat(dir); err != nil {
			return fmt.Errorf("%w", err)
		}
		err := walkEntries(ctx, dir, func(entry string) {
			if err := cache.VerifyDir(entry); err != nil {
				bad++
				fmt.Fprintf(stdout, "CORRUPT %v\n", err)
				return
			}
			ok++
		}, func(q string) {
			quarantined++
			reason, _ := os.ReadFile(filepath.Join(q, "REASON"))
			fmt.Fprintf(stdout, "QUARANTINED %s: %s", q, reason)
		})
		if err != nil {
			return err
		}
	}
	fmt.Fprintf(stdout, "%d entries verified, %d corrupt, %d in quarantine\n", ok, bad, quarantined)
	if bad > 0 {
		return exitError{1}
	}
	return nil
}

// walkEntries calls entry for every committed cache entry under root (a
// directory holding cache.MetaFile) and quarantined for every directory in
// a cache.QuarantineDir.
func walkEntries(ctx context.Context, root string, entry, quarantined func(string)) error {
	return filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		if !d.IsDir() {
			return nil
		}
		if filepath.Base(filepath.Dir(path)) == cache.QuarantineDir {
			quarantined(path)
			return filepath.SkipDir
		}
		if _, err := os.Stat(filepath.Join(path, cache.MetaFile)); err == nil {
			entry(path)
			return filepath.SkipDir
		} else if !errors.Is(err, fs.ErrNotExist) {
			return err
		}
		return nil
	})
}
