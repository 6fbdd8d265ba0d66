package experiment

import (
	"fmt"
	"math"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/pit-lab/pit/plugins/sdk/table"
)

// MaxRuns bounds the number of runs (arms × seeds) an experiment may
// expand to. The bound is checked from the axes' sizes before any arm is
// built, so a huge grid is refused at once.
const MaxRuns = 10000

type zipGroup struct {
	name   string
	axes   []int
	labels []string
}

type gridSpec struct {
	axes        []Axis
	zips        []zipGroup
	baseline    any
	hasBaseline bool
	ok          bool   // well-formed: arms can be built
	broken      []Axis // malformed axes whose path and values are usable
}

var axisNameRE = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_-]*$`)

// grid parses the [grid] table's structure; values are checked against the
// schemas later, arm by arm.
func (l *loader) grid(raw map[string]any) *gridSpec {
	g := &gridSpec{ok: true}
	v, has := raw["grid"]
	if !has {
		return g
	}
	gm, isMap := v.(map[string]any)
	if !isMap {
		l.add("grid", "expected a table (got %s)", got(v))
		g.ok = false
		return g
	}
	for _, k := range sortedKeys(gm) {
		if k != "axes" && k != "zip" && k != "baseline" {
			l.add(joinKey("grid", k), "%s", unknownMsg("key", k, []string{"axes", "baseline", "zip"}))
			g.ok = false
		}
	}
	av, has := gm["axes"]
	if !has {
		l.add("grid", "expected at least one axis, e.g. [grid.axes.curriculum] with path and values (got none)")
		g.ok = false
		return g
	}
	am, isMap := av.(map[string]any)
	if !isMap || len(am) == 0 {
		l.add("grid.axes", "expected a table of axes, e.g. [grid.axes.curriculum] with path and values (got %s)", got(av))
		g.ok = false
		return g
	}
	for _, name := range l.fileOrder("grid.axes", am) {
		a, ok := l.axis(name, am[name])
		if !ok {
			g.ok = false
			if a.Path != "" && len(a.Values) > 0 {
				g.broken = append(g.broken, a) // its values can still be checked
			}
			continue
		}
		g.axes = append(g.axes, a)
	}
	for j := range g.axes {
		for i := 0; i < j; i++ {
			a, b := g.axes[i], g.axes[j]
			if isWithin(a.Path, b.Path) || isWithin(b.Path, a.Path) {
				l.add(joinKey("grid.axes", b.Name)+".path", "expected a key no other axis sets (got %q, which overlaps axis %q's %q)", b.Path, a.Name, a.Path)
				g.ok = false
			}
		}
	}
	if zv, has := gm["zip"]; has {
		if !l.zips(g, zv) {
			g.ok = false
		}
	}
	g.baseline, g.hasBaseline = gm["baseline"]
	return g
}

func (l *loader) axis(name string, v any) (Axis, bool) {
	path := joinKey("grid.axes", name)
	a := Axis{Name: name, zip: -1}
	ok := true
	if !axisNameRE.MatchString(name) {
		l.add(path, "expected an axis name of letters, digits, '_' and '-', starting with a letter")
		ok = false
	}
	m, isMap := v.(map[string]any)
	if !isMap {
		l.add(path, "expected a table with path and values (got %s)", got(v))
		return a, false
	}
	for _, k := range sortedKeys(m) {
		if k != "path" && k != "values" && k != "labels" {
			l.add(joinKey(path, k), "%s", unknownMsg("key", k, []string{"labels", "path", "values"}))
			ok = false
		}
	}
	// path
	sections := []string{"model", "stages", "task"}
	sections = append(sections, sortedKeys(l.reg.sections)...)
	switch pv, has := m["path"]; {
	case !has:
		l.add(path, `missing required value path (expected a key path such as "stages.sft.lr")`)
		ok = false
	default:
		s, isStr := pv.(string)
		keys, valid := splitAxisPath(s)
		if !isStr || !valid {
			l.add(path+".path", "expected a dotted key path of bare keys such as \"stages.sft.lr\" (got %s)", got(pv))
			ok = false
			break
		}
		top := false
		for _, sec := range sections {
			top = top || keys[0] == sec
		}
		if !top || keys[0] == "stages" && len(keys) < 2 {
			l.add(path+".path", "expected a key path inside %s (got %q)", strings.Join(sections, ", "), s)
			ok = false
			break
		}
		a.Path = s
	}
	// values
	vv, has := m["values"]
	vals, isArr := vv.([]any)
	switch {
	case !has:
		l.add(path, "missing required value values (expected a non-empty array)")
		return a, false
	case !isArr || len(vals) == 0:
		l.add(path+".values", "expected a non-empty array of values (got %s)", got(vv))
		return a, false
	}
	a.Values = vals
	for j := range vals {
		for i := 0; i < j; i++ {
			if equalValues(vals[i], vals[j]) {
				l.add(joinIndex(path+".values", j), "duplicate value (same as values[%d]); each value makes one arm", i)
				ok = false
			}
		}
	}
	// labels
	a.Labels = make([]string, len(vals))
	if lv, has := m["labels"]; has {
		labels, isArr := lv.([]any)
		if !isArr || len(labels) != len(vals) {
			l.add(path+".labels", "expected an array of %d labels, one per value (got %s)", len(vals), got(lv))
			return a, false
		}
		for i, e := range labels {
			s, isStr := e.(string)
			if !isStr || !safeNameRE.MatchString(s) {
				l.add(joinIndex(path+".labels", i), "expected a label of letters, digits, '.', '_', '+' and '-' (got %s)", got(e))
				ok = false
				continue
			}
			a.Labels[i] = s
		}
	} else {
		for i, e := range vals {
			s, isScalar := defaultLabel(e)
			if !isScalar {
				l.add(joinIndex(path+".values", i), "a %s value needs a label (expected labels = [...] beside values)", got(e))
				ok = false
				continue
			}
			a.Labels[i] = s
		}
	}
	if ok {
		for j := range a.Labels {
			for i := 0; i < j; i++ {
				if a.Labels[i] == a.Labels[j] && !equalValues(vals[i], vals[j]) {
					key := joinIndex(path+".values", j)
					if _, has := m["labels"]; has {
						key = joinIndex(path+".labels", j)
					}
					l.add(key, "expected a distinct label (got %q, also the label of value %d); set labels = [...]", a.Labels[j], i)
					ok = false
				}
			}
		}
	}
	return a, ok
}

func (l *loader) zips(g *gridSpec, zv any) bool {
	zs, isArr := zv.([]any)
	if !isArr {
		l.add("grid.zip", "expected an array of tables, [[grid.zip]] with axes = [...] (got %s)", got(zv))
		return false
	}
	ok := true
	byName := map[string]int{}
	for i, a := range g.axes {
		byName[a.Name] = i
	}
	groupNames := map[string]bool{}
	for zi, z := range zs {
		path := joinIndex("grid.zip", zi)
		m, isMap := z.(map[string]any)
		if !isMap {
			l.add(path, "expected a table with axes = [...] (got %s)", got(z))
			ok = false
			continue
		}
		zg := zipGroup{}
		good := true
		for _, k := range sortedKeys(m) {
			if k != "axes" && k != "name" && k != "labels" {
				l.add(joinKey(path, k), "%s", unknownMsg("key", k, []string{"axes", "labels", "name"}))
				good = false
			}
		}
		av, has := m["axes"]
		names, isArr := av.([]any)
		switch {
		case !has:
			l.add(path, "missing required value axes (expected an array of at least two axis names)")
			good = false
		case !isArr || len(names) < 2:
			l.add(path+".axes", "expected an array of at least two axis names (got %s)", got(av))
			good = false
		default:
			seen := map[string]bool{}
			for j, e := range names {
				key := joinIndex(path+".axes", j)
				s, isStr := e.(string)
				if !isStr {
					l.add(key, "expected an axis name (got %s)", got(e))
					good = false
					continue
				}
				ai, known := byName[s]
				switch {
				case !known:
					l.add(key, "%s", unknownMsg("axis", s, sortedKeys(byName)))
					good = false
				case seen[s]:
					l.add(key, "axis %q is listed twice", s)
					good = false
				case g.axes[ai].zip >= 0:
					l.add(key, "axis %q is already in grid.zip[%d]; an axis can be in one zip group only", s, g.axes[ai].zip)
					good = false
				default:
					zg.axes = append(zg.axes, ai)
				}
				seen[s] = true
			}
		}
		if good {
			n := len(g.axes[zg.axes[0]].Values)
			var counts []string
			same := true
			for _, ai := range zg.axes {
				counts = append(counts, fmt.Sprintf("%s has %d", g.axes[ai].Name, len(g.axes[ai].Values)))
				same = same && len(g.axes[ai].Values) == n
			}
			if !same {
				l.add(path+".axes", "expected axes with the same number of values, since they move together (got %s)", strings.Join(counts, ", "))
				good = false
			}
		}
		if nv, has := m["name"]; has {
			s, isStr := nv.(string)
			_, clash := byName[s]
			switch {
			case !isStr || !axisNameRE.MatchString(s):
				l.add(path+".name", "expected a name of letters, digits, '_' and '-', starting with a letter (got %s)", got(nv))
				good = false
			case clash || groupNames[s]:
				l.add(path+".name", "expected a name no axis or other zip group has (got %q)", s)
				good = false
			default:
				zg.name = s
				groupNames[s] = true
			}
		}
		if lv, has := m["labels"]; has && good {
			n := len(g.axes[zg.axes[0]].Values)
			labels, isArr := lv.([]any)
			switch {
			case zg.name == "":
				l.add(path+".labels", "labels need a group name (expected name = \"...\" beside labels)")
				good = false
			case !isArr || len(labels) != n:
				l.add(path+".labels", "expected an array of %d labels, one per value (got %s)", n, got(lv))
				good = false
			default:
				seen := map[string]int{}
				for i, e := range labels {
					s, isStr := e.(string)
					if !isStr || !safeNameRE.MatchString(s) {
						l.add(joinIndex(path+".labels", i), "expected a label of letters, digits, '.', '_', '+' and '-' (got %s)", got(e))
						good = false
						continue
					}
					if j, dup := seen[s]; dup {
						l.add(joinIndex(path+".labels", i), "expected a distinct label (got %q, also labels[%d])", s, j)
						good = false
					}
					seen[s] = i
					zg.labels = append(zg.labels, s)
				}
			}
		}
		if !good {
			ok = false
			continue
		}
		if zg.name != "" && zg.labels == nil {
			n := len(g.axes[zg.axes[0]].Values)
			for i := 0; i < n; i++ {
				parts := make([]string, len(zg.axes))
				for j, ai := range zg.axes {
					parts[j] = g.axes[ai].Labels[i]
				}
				zg.labels = append(zg.labels, strings.Join(parts, "_"))
			}
		}
		for _, ai := range zg.axes {
			g.axes[ai].zip = len(g.zips)
			g.axes[ai].Group = zg.name
		}
		g.zips = append(g.zips, zg)
	}
	return ok
}

// defaultLabel is the label of a scalar axis value: its text, with
// characters that are unsafe in directory names replaced by '_'.
func defaultLabel(v any) (string, bool) {
	var s string
	switch x := v.(type) {
	case string:
		s = x
	case int64:
		s = strconv.FormatInt(x, 10)
	case float64:
		s = table.FormatFloat(x)
	case bool:
		s = strconv.FormatBool(x)
	default:
		return "", false
	}
	b := []byte(s)
	for i, c := range b {
		if !(isBareKeyChar(c) || c == '.' || c == '+') {
			b[i] = '_'
		}
	}
	if len(b) == 0 || b[0] == '.' || b[0] == '-' && len(b) == 1 {
		b = append([]byte("_"), b...)
	}
	return string(b), true
}

func equalValues(a, b any) bool {
	return canonicalKey(a) == canonicalKey(b)
}

// dimension is one factor of the cartesian product: an axis alone, or a zip
// group of axes moving together.
type dimension struct {
	axes []int
	zip  int // -1 for a lone axis
	n    int
}

func (g *gridSpec) dimensions() []dimension {
	var dims []dimension
	seenZip := map[int]bool{}
	for i, a := range g.axes {
		if a.zip < 0 {
			dims = append(dims, dimension{axes: []int{i}, zip: -1, n: len(a.Values)})
			continue
		}
		if seenZip[a.zip] {
			continue
		}
		seenZip[a.zip] = true
		dims = append(dims, dimension{axes: g.zips[a.zip].axes, zip: a.zip, n: len(a.Values)})
	}
	return dims
}

// arms builds and validates every arm of the grid.
func (l *loader) arms(exp *Experiment, g *gridSpec, base map[string]any) {
	if !g.ok || len(g.axes) == 0 {
		// No grid, or a broken one: check the base experiment alone, and
		// each usable axis value on its own.
		cfg, probs := l.resolve(deepCopy(base).(map[string]any))
		l.addProblems(probs)
		exp.Arms = []Arm{{Label: "baseline", Baseline: true, Config: cfg}}
		if g.ok {
			return
		}
		axes := append(append([]Axis(nil), g.axes...), g.broken...)
		for _, a := range axes {
			one := &gridSpec{axes: []Axis{a}}
			for vi, v := range a.Values {
				tree := deepCopy(base).(map[string]any)
				keys, _ := splitAxisPath(a.Path)
				if msg := setPath(tree, keys, deepCopy(v)); msg != "" {
					probs = []problem{{key: a.Path, unknown: true, msg: msg}}
				} else {
					_, probs = l.resolve(tree)
				}
				for _, p := range probs {
					e, _ := l.attribute(p, one, []int{vi})
					l.errs = append(l.errs, &e)
				}
			}
		}
		return
	}
	dims := g.dimensions()
	total := 1
	seeds := max(len(exp.Seeds), 1)
	for _, d := range dims {
		total *= d.n
		if total*seeds > MaxRuns {
			l.add("grid.axes", "expected at most %d runs (arms × seeds); the axes multiply to %s arm(s) × %d seed(s); drop axis values or seeds, or split the grid into several files",
				MaxRuns, armCount(dims), seeds)
			return
		}
	}
	// Odometer over the dimensions, the first varying slowest.
	counter := make([]int, len(dims))
	type finding struct {
		e    Error
		arms []string
	}
	shared := map[Error]*finding{}
	var sharedOrder []Error
	for n := 0; n < total; n++ {
		if l.ctx.Err() != nil {
			return // Parse reports the context's error
		}
		arm := Arm{values: make([]int, len(g.axes))}
		var parts []string
		for di, d := range dims {
			vi := counter[di]
			for _, ai := range d.axes {
				arm.values[ai] = vi
			}
			if d.zip >= 0 && g.zips[d.zip].name != "" {
				z := g.zips[d.zip]
				arm.Factors = append(arm.Factors, Factor{Name: z.name, Value: z.labels[vi], Label: z.labels[vi]})
				parts = append(parts, z.name+"="+z.labels[vi])
				continue
			}
			for _, ai := range d.axes {
				a := g.axes[ai]
				arm.Factors = append(arm.Factors, Factor{Name: a.Name, Value: deepCopy(a.Values[vi]), Label: a.Labels[vi]})
				parts = append(parts, a.Name+"="+a.Labels[vi])
			}
		}
		sort.Strings(parts)
		arm.Label = strings.Join(parts, ",")

		tree := deepCopy(base).(map[string]any)
		var probs []problem
		for ai, a := range g.axes {
			keys, _ := splitAxisPath(a.Path)
			if err := setPath(tree, keys, deepCopy(a.Values[arm.values[ai]])); err != "" {
				probs = append(probs, problem{key: a.Path, unknown: true, msg: err})
			}
		}
		var cfg *Config
		if len(probs) == 0 {
			cfg, probs = l.resolve(tree)
		}
		arm.Config = cfg
		for _, p := range dedupProblems(probs) {
			e, specific := l.attribute(p, g, arm.values)
			if specific {
				l.errs = append(l.errs, &e)
				continue
			}
			f, seen := shared[e]
			if !seen {
				f = &finding{e: e}
				shared[e] = f
				sharedOrder = append(sharedOrder, e)
			}
			f.arms = append(f.arms, arm.Label)
		}
		exp.Arms = append(exp.Arms, arm)
		for di := len(dims) - 1; di >= 0; di-- {
			counter[di]++
			if counter[di] < dims[di].n {
				break
			}
			counter[di] = 0
		}
	}
	for _, k := range sharedOrder {
		f := shared[k]
		e := f.e
		if len(f.arms) < total {
			e.Msg += armNote(f.arms, total)
		}
		l.errs = append(l.errs, &e)
	}
	if len(l.errs) > 0 {
		return
	}
	// Two arms with the same configuration would run the same thing twice.
	seen := map[string]string{}
	for _, a := range exp.Arms {
		c := canonicalKey(a.Config.tree)
		if other, dup := seen[c]; dup {
			l.add("grid.axes", "expected arms that differ (got %s and %s, which resolve to the same configuration)", other, a.Label)
			continue
		}
		seen[c] = a.Label
	}
	l.baseline(exp, g)
}

func armNote(arms []string, total int) string {
	if len(arms) == 1 {
		return " (in arm " + arms[0] + ")"
	}
	const show = 3
	if len(arms) <= show {
		return fmt.Sprintf(" (in arms %s)", strings.Join(arms, "; "))
	}
	return fmt.Sprintf(" (in %d of %d arms, e.g. %s)", len(arms), total, strings.Join(arms[:show], "; "))
}

// attribute gives a problem found in one arm its place in the file. A
// problem with a value the grid set is reported at that value in [grid]
// (specific is true); an unknown key path at the axis's path; anything else
// at the key in the base file.
func (l *loader) attribute(p problem, g *gridSpec, values []int) (e Error, specific bool) {
	for ai, a := range g.axes {
		axisKey := joinKey("grid.axes", a.Name)
		switch {
		case p.unknown && isWithin(a.Path, p.key) && !l.pos.has(p.key):
			// The path names a key that no schema has (or a new stage of an
			// unknown kind).
			key := axisKey + ".path"
			return Error{File: l.file, Line: l.pos.lookup(key), Key: key, Msg: p.key + ": " + p.msg}, false
		case isWithin(p.key, a.Path):
			key := joinIndex(axisKey+".values", values[ai])
			return Error{File: l.file, Line: l.pos.lookup(key), Key: key, Msg: p.key + ": " + p.msg}, true
		case isWithin(a.Path, p.key) && !l.pos.has(p.key):
			key := axisKey + ".path"
			return Error{File: l.file, Line: l.pos.lookup(key), Key: key, Msg: p.key + ": " + p.msg}, false
		}
	}
	return Error{File: l.file, Line: l.pos.lookup(p.key), Key: p.key, Msg: p.msg}, false
}

// setPath sets keys in tree to v, creating tables on the way; it returns a
// message if the path runs through a value that is not a table.
func setPath(tree map[string]any, keys []string, v any) string {
	m := tree
	for i, k := range keys[:len(keys)-1] {
		next, has := m[k]
		if !has {
			nm := map[string]any{}
			m[k] = nm
			m = nm
			continue
		}
		nm, isMap := next.(map[string]any)
		if !isMap {
			return fmt.Sprintf("cannot set this key: %s is %s, not a table", strings.Join(keys[:i+1], "."), got(next))
		}
		m = nm
	}
	m[keys[len(keys)-1]] = v
	return ""
}

func (l *loader) baseline(exp *Experiment, g *gridSpec) {
	if !g.hasBaseline {
		exp.Arms[0].Baseline = true
		return
	}
	labels := make([]string, len(exp.Arms))
	for i, a := range exp.Arms {
		labels[i] = a.Label
	}
	switch b := g.baseline.(type) {
	case string:
		for i := range exp.Arms {
			if exp.Arms[i].Label == b {
				exp.Arms[i].Baseline = true
				return
			}
		}
		l.add("grid.baseline", "%s", unknownList("arm", b, labels))
	case map[string]any:
		factorNames := map[string]bool{}
		for _, f := range exp.Arms[0].Factors {
			factorNames[f.Name] = true
		}
		good := true
		for _, k := range sortedKeys(b) {
			if !factorNames[k] {
				l.add(joinKey("grid.baseline", k), "%s", unknownMsg("factor", k, sortedKeys(factorNames)))
				good = false
			}
		}
		if !good {
			return
		}
		var match []int
		for i, a := range exp.Arms {
			all := true
			for _, f := range a.Factors {
				if want, has := b[f.Name]; has && want != f.Label && !equalValues(want, f.Value) {
					all = false
				}
			}
			if all {
				match = append(match, i)
			}
		}
		switch len(match) {
		case 1:
			exp.Arms[match[0]].Baseline = true
		case 0:
			l.add("grid.baseline", "expected factor values of one arm (got values that match no arm; arms: %s)", shortList(labels))
		default:
			l.add("grid.baseline", "expected factor values of one arm (got values that match %d arms; name a value for each of: %s)", len(match), strings.Join(sortedKeys(factorNames), ", "))
		}
	default:
		l.add("grid.baseline", "expected an arm label or a table of factor values (got %s)", got(b))
	}
}

func shortList(items []string) string {
	const show = 6
	if len(items) <= show {
		return strings.Join(items, "; ")
	}
	return fmt.Sprintf("%s; ... and %d more", strings.Join(items[:show], "; "), len(items)-show)
}

func unknownList(what, name string, known []string) string {
	if s := table.Closest(name, known); s != "" {
		return fmt.Sprintf("unknown %s %q (did you mean %q?)", what, name, s)
	}
	return fmt.Sprintf("unknown %s %q (%ss: %s)", what, name, what, shortList(known))
}

// armCount is the product of the dimensions' sizes as text, saturating at
// "more than 10^18" rather than overflowing.
func armCount(dims []dimension) string {
	n := uint64(1)
	for _, d := range dims {
		if d.n > 0 && n > math.MaxInt64/uint64(d.n) {
			return "more than 10^18"
		}
		n *= uint64(d.n)
	}
	return strconv.FormatUint(n, 10)
}
