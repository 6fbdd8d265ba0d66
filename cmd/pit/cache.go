package main

import (
	"sort"
	"strconv"
	"text/tabwriter"
	"time"

	"github.com/pit-lab/pit/core/checkpoint"

	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/pit-lab/pit/core/results"

	"github.com/pit-lab/pit/core/cache"
	"github.com/pit-lab/pit/core/runner"
)

func init() {
	register(&command{name: "cache", summary: "the stage cache: ls, du, gc (by age or unreferenced), verify checksums", run: runCache})
}

const cacheUsage = `Usage:
  pit cache ls     [--cache DIR]   list the entries: stage, key, size, last use, run that computed it
  pit cache du     [--cache DIR]   size per stage, and of the quarantined entries
  pit cache gc     [--cache DIR] [--older-than AGE] [--unreferenced RESULTS...] [--dry-run]
                                   remove the entries last used longer than AGE ago (30d, 36h, ...),
                                   and/or not used by any run under the RESULTS trees (both flags: an
                                   entry must be both); --older-than also removes quarantined folders
  pit cache verify [DIR...]        check every entry and checkpoint under each DIR (a stage cache, or a results tree,
                                   whose stage links are followed; default: the stage cache) against
                                   its SHA256SUMS and list the quarantined ones; changes nothing, exits 1
                                   when an entry is corrupt (the next pit run moves it aside and recomputes)

The stage cache is shared by every experiment: --cache DIR, else $PIT_CACHE, else
$XDG_CACHE_HOME/pit, else ~/.cache/pit (pit run also reads an experiment's [cache] dir).
`

func runCache(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		fmt.Fprint(stderr, cacheUsage)
		if len(args) == 0 {
			return exitError{2}
		}
		return nil
	}
	sub := args[0]
	fs := flag.NewFlagSet("cache "+sub, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, cacheUsage) }
	dirFlag := fs.String("cache", "", "the stage cache (default: $PIT_CACHE, $XDG_CACHE_HOME/pit or ~/.cache/pit)")
	var olderThan *string
	var unref, dry *bool
	if sub == "gc" {
		olderThan = fs.String("older-than", "", "remove entries last used longer ago than this (30d, 36h, ...)")
		unref = fs.Bool("unreferenced", false, "remove entries that no run under the RESULTS trees uses")
		dry = fs.Bool("dry-run", false, "list what would be removed, remove nothing")
	}
	pos, err := parseInterspersed(fs, args[1:])
	if errors.Is(err, flag.ErrHelp) {
		return nil
	}
	if err != nil {
		return exitError{2}
	}
	root := *dirFlag
	if root == "" {
		if root, err = runner.DefaultCacheDir(); err != nil {
			return err
		}
	}
	switch sub {
	case "ls", "du":
		if len(pos) > 0 {
			fmt.Fprintf(stderr, "pit cache %s: unexpected arguments %s (use --cache DIR)\n", sub, strings.Join(pos, " "))
			return exitError{2}
		}
		if sub == "ls" {
			return cacheLs(cache.At(root), stdout)
		}
		return cacheDu(cache.At(root), stdout)
	case "gc":
		return cacheGc(cache.At(root), *olderThan, *unref, pos, *dry, stdout, stderr)
	case "verify":
		if len(pos) == 0 {
			pos = []string{root}
		}
		return cacheVerify(ctx, pos, stdout)
	}
	fmt.Fprintf(stderr, "pit cache: unknown subcommand %q\n\n%s", sub, cacheUsage)
	return exitError{2}
}

func cacheVerify(ctx context.Context, dirs []string, stdout io.Writer) error {
	var ok, bad, quarantined int
	seen := map[string]bool{}
	for _, dir := range dirs {
		if _, err := os.Stat(dir); err != nil {
			return fmt.Errorf("%w", err)
		}
		err := walkEntries(ctx, dir, func(entry string) {
			if real, err := filepath.EvalSymlinks(entry); err == nil {
				entry = real
			}
			if seen[entry] {
				return
			}
			seen[entry] = true
			if err := cache.VerifyDir(entry); err != nil {
				bad++
				fmt.Fprintf(stdout, "CORRUPT %v\n", err)
				return
			}
			ok++
		}, func(dir string) {
			if err := checkpoint.Verify(dir); err != nil {
				bad++
				fmt.Fprintf(stdout, "CORRUPT checkpoint: %v\n", err)
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
		fmt.Fprintln(stdout, "the next pit run moves each corrupt entry or checkpoint into .quarantine/ beside it (keeping it) and computes the stage again")
	}
	if bad > 0 {
		return exitError{1}
	}
	return nil
}

// walkEntries calls entry for every committed cache entry under root (a
// directory holding cache.MetaFile, or the target of a run's stage link),
// checkpoint for every checkpoint directory (.scratch-*) and quarantined
// for every directory in a cache.QuarantineDir.
func walkEntries(ctx context.Context, root string, entry, checkpoint, quarantined func(string)) error {
	return filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		if d.Type()&fs.ModeSymlink != 0 && filepath.Base(filepath.Dir(path)) == runner.StagesDir {
			// A run's link to its stage's entry, which may live in a
			// cache outside the tree.
			if target, err := filepath.EvalSymlinks(path); err == nil {
				if _, err := os.Stat(filepath.Join(target, cache.MetaFile)); err == nil {
					entry(target)
				}
			}
			return nil
		}
		if !d.IsDir() {
			return nil
		}
		if filepath.Base(filepath.Dir(path)) == cache.QuarantineDir {
			quarantined(path)
			return filepath.SkipDir
		}
		if strings.HasPrefix(d.Name(), ".scratch-") {
			checkpoint(path)
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

func cacheLs(s *cache.Store, stdout io.Writer) error {
	ents, err := s.List()
	if err != nil {
		return err
	}
	tw := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "STAGE\tKEY\tSIZE\tLAST USED\tCOMPUTED BY")
	for _, e := range ents {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", e.Stage, e.Key, humanBytes(e.Bytes), e.LastUsed.Format("2006-01-02 15:04"), e.Meta.Run)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	_, err = fmt.Fprintf(stdout, "%d entries in %s\n", len(ents), s.Root())
	return err
}

func cacheDu(s *cache.Store, stdout io.Writer) error {
	ents, err := s.List()
	if err != nil {
		return err
	}
	type agg struct {
		n     int
		bytes int64
	}
	by := map[string]*agg{}
	var total int64
	for _, e := range ents {
		a := by[e.Stage]
		if a == nil {
			a = &agg{}
			by[e.Stage] = a
		}
		a.n++
		a.bytes += e.Bytes
		total += e.Bytes
	}
	stages := make([]string, 0, len(by))
	for st := range by {
		stages = append(stages, st)
	}
	sort.Strings(stages)
	tw := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "STAGE\tENTRIES\tSIZE\t")
	for _, st := range stages {
		fmt.Fprintf(tw, "%s\t%d\t%s\t\n", st, by[st].n, humanBytes(by[st].bytes))
	}
	q, err := s.Quarantined()
	if err != nil {
		return err
	}
	if len(q) > 0 {
		var qb int64
		for _, e := range q {
			qb += e.Bytes
		}
		fmt.Fprintf(tw, "%s\t%d\t%s\t\n", cache.QuarantineDir, len(q), humanBytes(qb))
		total += qb
	}
	fmt.Fprintf(tw, "total\t%d\t%s\t\n", len(ents), humanBytes(total))
	if err := tw.Flush(); err != nil {
		return err
	}
	_, err = fmt.Fprintf(stdout, "in %s\n", s.Root())
	return err
}

// parseAge reads a duration with an optional day suffix ("30d").
func parseAge(s string) (time.Duration, error) {
	if d, ok := strings.CutSuffix(s, "d"); ok {
		n, err := strconv.ParseFloat(d, 64)
		if err != nil || n < 0 {
			return 0, fmt.Errorf("--older-than %q: want a duration such as 30d or 36h", s)
		}
		return time.Duration(n * float64(24*time.Hour)), nil
	}
	d, err := time.ParseDuration(s)
	if err != nil || d < 0 {
		return 0, fmt.Errorf("--older-than %q: want a duration such as 30d or 36h", s)
	}
	return d, nil
}

// referencedKeys returns "stage/key" of every stage of every run found
// under the results trees.
func referencedKeys(trees []string) (map[string]bool, int, error) {
	refs := map[string]bool{}
	runs := 0
	for _, t := range trees {
		states, err := results.ScanRuns(t)
		if err != nil {
			return nil, 0, err
		}
		for _, st := range states {
			runs++
			for _, s := range st.Manifest.Stages {
				refs[s.Name+"/"+s.Key] = true
			}
		}
	}
	return refs, runs, nil
}

func cacheGc(s *cache.Store, olderThan string, unref bool, trees []string, dry bool, stdout, stderr io.Writer) error {
	if olderThan == "" && !unref {
		fmt.Fprintln(stderr, "pit cache gc: say what to remove: --older-than AGE, --unreferenced RESULTS..., or both (then an entry must be both)")
		return exitError{2}
	}
	if unref && len(trees) == 0 {
		fmt.Fprintln(stderr, "pit cache gc --unreferenced: name the results trees whose runs keep their entries (e.g. results)")
		return exitError{2}
	}
	if !unref && len(trees) > 0 {
		fmt.Fprintf(stderr, "pit cache gc: unexpected arguments %s (results trees go with --unreferenced)\n", strings.Join(trees, " "))
		return exitError{2}
	}
	var cutoff time.Time
	if olderThan != "" {
		age, err := parseAge(olderThan)
		if err != nil {
			fmt.Fprintf(stderr, "pit cache gc: %v\n", err)
			return exitError{2}
		}
		cutoff = time.Now().Add(-age)
	}
	var refs map[string]bool
	if unref {
		var runs int
		var err error
		if refs, runs, err = referencedKeys(trees); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "%d runs under %s reference %d entries\n", runs, strings.Join(trees, ", "), len(refs))
	}
	ents, err := s.List()
	if err != nil {
		return err
	}
	verb := "removed"
	if dry {
		verb = "would remove"
	}
	var n int
	var freed int64
	var errs []error
	for _, e := range ents {
		if !cutoff.IsZero() && !e.LastUsed.Before(cutoff) {
			continue
		}
		if refs != nil && refs[e.Stage+"/"+e.Key] {
			continue
		}
		if !dry {
			if err := s.Remove(e.Stage, e.Key); err != nil {
				if errors.Is(err, cache.ErrBusy) {
					fmt.Fprintf(stdout, "kept %s/%s: in use by a running pit\n", e.Stage, e.Key)
					continue
				}
				errs = append(errs, err)
				continue
			}
		}
		n++
		freed += e.Bytes
		fmt.Fprintf(stdout, "%s %s/%s (%s, last used %s)\n", verb, e.Stage, e.Key, humanBytes(e.Bytes), e.LastUsed.Format("2006-01-02 15:04"))
	}
	if !cutoff.IsZero() {
		q, err := s.Quarantined()
		if err != nil {
			errs = append(errs, err)
		}
		for _, e := range q {
			if !e.LastUsed.Before(cutoff) {
				continue
			}
			if !dry {
				if err := os.RemoveAll(e.Dir); err != nil {
					errs = append(errs, err)
					continue
				}
			}
			n++
			freed += e.Bytes
			fmt.Fprintf(stdout, "%s quarantined %s (%s)\n", verb, e.Key, humanBytes(e.Bytes))
		}
	}
	fmt.Fprintf(stdout, "%s %d entries, %s, from %s\n", verb, n, humanBytes(freed), s.Root())
	return errors.Join(errs...)
}

func humanBytes(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTPE"[exp])
}
