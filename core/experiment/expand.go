package experiment

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/BurntSushi/toml"
	"github.com/pit-lab/pit/plugins/sdk/table"
)

// Run is one arm of the grid with one seed: the unit the runner executes.
type Run struct {
	// ID is the run's directory name under <out>/<experiment>/, e.g.
	// "curriculum=two-round,steps=100/seed=1", or "seed=1" without a grid.
	// Factor parts are sorted by axis name, so reordering the file's axes
	// (or any unrelated key) does not change it. Arm labels longer than 120
	// bytes are shortened to a prefix and a hash of the whole label.
	ID       string
	Arm      string   // the arm's label, shared by its seeds
	Seed     int64    // the run's root seed
	Baseline bool     // the run belongs to the baseline arm
	Factors  []Factor // the arm's grid coordinates, in axis order
	Config   *Config  // the arm's resolved configuration; shared, do not modify
}

// FactorMap returns the run's factors as axis (or zip group) name -> value,
// the form results.Manifest records: a scalar value as itself (numbers stay
// numbers for sweeps), a table or array value as its label (the file's
// labels, which such values must have), so that exports, filters and
// figures name it as the file does.
func (r Run) FactorMap() map[string]any {
	m := make(map[string]any, len(r.Factors))
	for _, f := range r.Factors {
		switch f.Value.(type) {
		case map[string]any, []any:
			m[f.Name] = f.Label
		default:
			m[f.Name] = deepCopy(f.Value)
		}
	}
	return m
}

// Tree returns the run's fully resolved experiment as a TOML-shaped tree:
// the arm's configuration with seeds = [the run's seed] and no grid.
func (r Run) Tree() map[string]any {
	t := r.Config.Tree()
	t["seeds"] = []any{r.Seed}
	return t
}

// TOML encodes the run's resolved experiment, the config.toml of its run
// directory. Keys are sorted, so equal configurations encode equally. The
// result is itself a valid experiment file that reproduces the run (with
// its own registered sections and plugins available).
func (r Run) TOML() ([]byte, error) {
	return canonicalTOML(r.Tree())
}

// Expand crosses the experiment's arms with its seeds: arms in grid order
// (the first axis varying slowest), seeds in file order within each arm.
func Expand(exp *Experiment) ([]Run, error) {
	if exp == nil || len(exp.Arms) == 0 {
		return nil, fmt.Errorf("experiment: nothing to expand (no arms)")
	}
	if len(exp.Seeds) == 0 {
		return nil, fmt.Errorf("experiment: %s: no seeds", exp.Name)
	}
	runs := make([]Run, 0, len(exp.Arms)*len(exp.Seeds))
	ids := map[string]bool{}
	for _, a := range exp.Arms {
		if a.Config == nil {
			return nil, fmt.Errorf("experiment: %s: arm %s has no resolved configuration", exp.Name, a.Label)
		}
		for _, s := range exp.Seeds {
			id := "seed=" + strconv.FormatInt(s, 10)
			if len(exp.Axes) > 0 {
				id = armDir(a.Label) + "/" + id
			}
			if ids[id] {
				return nil, fmt.Errorf("experiment: %s: two runs have the ID %q", exp.Name, id)
			}
			ids[id] = true
			runs = append(runs, Run{ID: id, Arm: a.Label, Seed: s, Baseline: a.Baseline, Factors: a.Factors, Config: a.Config})
		}
	}
	return runs, nil
}

// maxDirLen keeps run directory names well under the usual 255-byte limit
// of a path component.
const maxDirLen = 120

// armDir is an arm's directory name: its label, or for very long labels a
// prefix of it and a hash of the whole label.
func armDir(label string) string {
	if len(label) <= maxDirLen {
		return label
	}
	sum := sha256.Sum256([]byte(label))
	return label[:maxDirLen-17] + "~" + hex.EncodeToString(sum[:8])
}

// Canonical returns a deterministic encoding of the sub-tree of the run's
// resolved experiment at key path (dotted, e.g. "stages.sft"; "" for the
// whole run): TOML with sorted keys. A scalar or array is encoded as a
// one-key table named after its last key. Stage cache keys hash it.
func Canonical(r Run, path string) ([]byte, error) {
	v, err := lookupPath(r.Tree(), path)
	if err != nil {
		return nil, err
	}
	if m, ok := v.(map[string]any); ok {
		return canonicalTOML(m)
	}
	keys := strings.Split(path, ".")
	return canonicalTOML(map[string]any{keys[len(keys)-1]: v})
}

// Hash returns the hex SHA-256 of Canonical(r, path).
func Hash(r Run, path string) (string, error) {
	b, err := Canonical(r, path)
	if err != nil {
		return "", err
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:]), nil
}

func lookupPath(tree map[string]any, path string) (any, error) {
	if path == "" {
		return tree, nil
	}
	var v any = tree
	for _, k := range strings.Split(path, ".") {
		m, ok := v.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("experiment: key path %q: %s is not a table", path, k)
		}
		if v, ok = m[k]; !ok {
			return nil, fmt.Errorf("experiment: key path %q: no key %q", path, k)
		}
	}
	return v, nil
}

func canonicalTOML(m map[string]any) ([]byte, error) {
	var buf bytes.Buffer
	enc := toml.NewEncoder(&buf)
	enc.Indent = ""
	if err := enc.Encode(m); err != nil {
		return nil, fmt.Errorf("experiment: encoding the resolved configuration: %w", err)
	}
	return buf.Bytes(), nil
}

// canonicalKey is a cheap deterministic encoding of a tree value for
// comparisons and memo keys (not for hashing: Canonical is the stable
// format). Types are tagged so that 1 and 1.0 differ.
func canonicalKey(v any) string {
	var b strings.Builder
	writeKey(&b, v)
	return b.String()
}

func writeKey(b *strings.Builder, v any) {
	switch x := v.(type) {
	case map[string]any:
		b.WriteByte('{')
		for _, k := range sortedKeys(x) {
			b.WriteString(strconv.Quote(k))
			b.WriteByte(':')
			writeKey(b, x[k])
			b.WriteByte(',')
		}
		b.WriteByte('}')
	case []any:
		b.WriteByte('[')
		for _, e := range x {
			writeKey(b, e)
			b.WriteByte(',')
		}
		b.WriteByte(']')
	case string:
		b.WriteString(strconv.Quote(x))
	case int64:
		b.WriteByte('i')
		b.WriteString(strconv.FormatInt(x, 10))
	case float64:
		b.WriteByte('f')
		b.WriteString(strconv.FormatFloat(x, 'g', -1, 64))
	default:
		fmt.Fprintf(b, "%T:%v", v, v)
	}
}

// Change is one difference between two resolved configurations.
type Change struct {
	Path string // dotted key path
	From any    // value in the baseline; nil if absent there
	To   any    // value in the arm; nil if absent there
}

func (c Change) String() string {
	return fmt.Sprintf("%s: %s → %s", c.Path, formatValue(c.From), formatValue(c.To))
}

// Diff lists the leaf keys whose values differ between two configurations
// (usually the baseline arm's and another arm's), sorted by path. Arrays
// are compared whole.
func Diff(base, arm *Config) []Change {
	var out []Change
	diffTrees("", base.tree, arm.tree, &out)
	sort.Slice(out, func(i, j int) bool { return out[i].Path < out[j].Path })
	return out
}

func diffTrees(path string, a, b any, out *[]Change) {
	am, aIsMap := a.(map[string]any)
	bm, bIsMap := b.(map[string]any)
	if aIsMap && bIsMap {
		keys := map[string]bool{}
		for k := range am {
			keys[k] = true
		}
		for k := range bm {
			keys[k] = true
		}
		for _, k := range sortedKeys(keys) {
			av, aok := am[k]
			bv, bok := bm[k]
			p := joinKey(path, k)
			switch {
			case !aok:
				leaves(p, bv, func(p string, v any) { *out = append(*out, Change{Path: p, To: v}) })
			case !bok:
				leaves(p, av, func(p string, v any) { *out = append(*out, Change{Path: p, From: v}) })
			default:
				diffTrees(p, av, bv, out)
			}
		}
		return
	}
	if !equalValues(a, b) {
		*out = append(*out, Change{Path: path, From: a, To: b})
	}
}

func leaves(path string, v any, f func(string, any)) {
	m, ok := v.(map[string]any)
	if !ok {
		f(path, v)
		return
	}
	if len(m) == 0 {
		f(path, m)
		return
	}
	for _, k := range sortedKeys(m) {
		leaves(joinKey(path, k), m[k], f)
	}
}

// formatValue writes a tree value as TOML would, on one line.
func formatValue(v any) string {
	switch x := v.(type) {
	case nil:
		return "(absent)"
	case string:
		return strconv.Quote(x)
	case float64:
		return table.FormatFloat(x)
	case []any:
		parts := make([]string, len(x))
		for i, e := range x {
			parts[i] = formatValue(e)
		}
		return "[" + strings.Join(parts, ", ") + "]"
	case map[string]any:
		parts := make([]string, 0, len(x))
		for _, k := range sortedKeys(x) {
			parts = append(parts, quoteKey(k)+" = "+formatValue(x[k]))
		}
		return "{" + strings.Join(parts, ", ") + "}"
	}
	return fmt.Sprint(v)
}
