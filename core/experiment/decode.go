package experiment

import (
	"errors"
	"fmt"
	"math"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/go-viper/mapstructure/v2"
	"github.com/pit-lab/pit/internal/editdist"
)

const tagName = "toml"

var (
	durationType = reflect.TypeFor[time.Duration]()
	timeType     = reflect.TypeFor[time.Time]()
)

// problem is one validation finding, before it is given a file position.
type problem struct {
	key     string
	msg     string
	unknown bool // the key itself is not allowed (as opposed to its value)
}

type field struct {
	name     string
	index    []int
	typ      reflect.Type
	required bool
}

var fieldCache sync.Map // reflect.Type -> []field

// structFields lists the settable fields of struct type t under their key
// names, the way mapstructure sees them with TagName "toml" (embedded
// structs tagged ",squash" are flattened).
func structFields(t reflect.Type) []field {
	if fs, ok := fieldCache.Load(t); ok {
		return fs.([]field)
	}
	fs := scanFields(t)
	fieldCache.Store(t, fs)
	return fs
}

func scanFields(t reflect.Type) []field {
	var out []field
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		tag := f.Tag.Get(tagName)
		parts := strings.Split(tag, ",")
		name := parts[0]
		if name == "-" {
			continue
		}
		opts := map[string]bool{}
		for _, o := range parts[1:] {
			opts[strings.TrimSpace(o)] = true
		}
		if f.Anonymous && opts["squash"] {
			ft := f.Type
			if ft.Kind() == reflect.Pointer {
				ft = ft.Elem()
			}
			if ft.Kind() == reflect.Struct {
				for _, sf := range scanFields(ft) {
					sf.index = append([]int{i}, sf.index...)
					out = append(out, sf)
				}
				continue
			}
		}
		if !f.IsExported() {
			continue
		}
		if name == "" {
			name = f.Name
		}
		out = append(out, field{name: name, index: []int{i}, typ: f.Type, required: opts["required"]})
	}
	return out
}

// expected describes, for an error message, what a value of type t looks
// like in TOML.
func expected(t reflect.Type) string {
	if t == durationType {
		return `a duration string such as "30s" or "1m30s"`
	}
	if t == timeType {
		return "a datetime"
	}
	switch t.Kind() {
	case reflect.Pointer:
		return expected(t.Elem())
	case reflect.Bool:
		return "a boolean"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return "an integer"
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "a non-negative integer"
	case reflect.Float32, reflect.Float64:
		return "a number"
	case reflect.String:
		return "a string"
	case reflect.Slice:
		return "an array of " + plural(t.Elem())
	case reflect.Array:
		return fmt.Sprintf("an array of %d %s", t.Len(), plural(t.Elem()))
	case reflect.Map, reflect.Struct:
		return "a table"
	case reflect.Interface:
		return "a value"
	}
	return "a " + t.String()
}

func plural(t reflect.Type) string {
	switch e := expected(t); {
	case strings.HasPrefix(e, "a duration"):
		return "duration strings"
	case strings.HasPrefix(e, "an integer"):
		return "integers"
	case strings.HasPrefix(e, "a non-negative integer"):
		return "non-negative integers"
	case strings.HasPrefix(e, "an array"):
		return "arrays"
	default:
		return strings.TrimPrefix(strings.TrimPrefix(e, "an "), "a ") + "s"
	}
}

// got describes a TOML value for an error message: its type and, for
// scalars, the value.
func got(v any) string {
	switch x := v.(type) {
	case nil:
		return "nothing"
	case string:
		if len(x) > 40 {
			x = x[:37] + "..."
		}
		return "string " + strconv.Quote(x)
	case int64:
		return "integer " + strconv.FormatInt(x, 10)
	case float64:
		return "float " + formatFloat(x)
	case bool:
		return "boolean " + strconv.FormatBool(x)
	case time.Time:
		return "datetime " + x.Format(time.RFC3339Nano)
	case []any:
		return fmt.Sprintf("array of %d", len(x))
	case map[string]any:
		return "table"
	}
	return fmt.Sprintf("%T", v)
}

func formatFloat(f float64) string {
	s := strconv.FormatFloat(f, 'g', -1, 64)
	if !strings.ContainsAny(s, ".eEnN") { // keep floats recognisable: 2 -> 2.0
		s += ".0"
	}
	return s
}

// check compares a raw TOML value with the Go type it will be decoded into
// and reports every mismatch, unknown key and missing required key, with
// the key paths the file uses. mapstructure stops at the first problem of a
// field and words its errors in Go terms; check gives the researcher all of
// them in TOML terms.
func check(v any, t reflect.Type, path string, out *[]problem) {
	bad := func() {
		*out = append(*out, problem{key: path, msg: fmt.Sprintf("expected %s (got %s)", expected(t), got(v))})
	}
	if t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch {
	case t == durationType:
		s, ok := v.(string)
		if !ok {
			bad()
			return
		}
		if _, err := time.ParseDuration(s); err != nil {
			bad()
		}
		return
	case t == timeType:
		if _, ok := v.(time.Time); !ok {
			bad()
		}
		return
	}
	switch t.Kind() {
	case reflect.Interface:
		return
	case reflect.Bool:
		if _, ok := v.(bool); !ok {
			bad()
		}
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		i, ok := v.(int64)
		if !ok {
			bad()
			return
		}
		if bits := t.Bits(); bits < 64 && (i < -1<<(bits-1) || i > 1<<(bits-1)-1) {
			*out = append(*out, problem{key: path, msg: fmt.Sprintf("expected an integer that fits in %d bits (got %d)", bits, i)})
		}
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		i, ok := v.(int64)
		if !ok || i < 0 {
			bad()
			return
		}
		if bits := t.Bits(); bits < 64 && uint64(i) > 1<<bits-1 {
			*out = append(*out, problem{key: path, msg: fmt.Sprintf("expected a non-negative integer that fits in %d bits (got %d)", bits, i)})
		}
	case reflect.Float32, reflect.Float64:
		switch x := v.(type) {
		case int64:
		case float64:
			if t.Kind() == reflect.Float32 && !math.IsInf(x, 0) && math.Abs(x) > math.MaxFloat32 {
				*out = append(*out, problem{key: path, msg: fmt.Sprintf("expected a number that fits in 32 bits (got %s)", formatFloat(x))})
			}
		default:
			bad()
		}
	case reflect.String:
		if _, ok := v.(string); !ok {
			bad()
		}
	case reflect.Slice, reflect.Array:
		a, ok := v.([]any)
		if !ok {
			bad()
			return
		}
		if t.Kind() == reflect.Array && len(a) != t.Len() {
			*out = append(*out, problem{key: path, msg: fmt.Sprintf("expected %s (got %d)", expected(t), len(a))})
			return
		}
		for i, e := range a {
			check(e, t.Elem(), joinIndex(path, i), out)
		}
	case reflect.Map:
		m, ok := v.(map[string]any)
		if !ok || t.Key().Kind() != reflect.String {
			bad()
			return
		}
		for _, k := range sortedKeys(m) {
			check(m[k], t.Elem(), joinKey(path, k), out)
		}
	case reflect.Struct:
		m, ok := v.(map[string]any)
		if !ok {
			bad()
			return
		}
		fs := structFields(t)
		byName := map[string]field{}
		for _, f := range fs {
			byName[f.name] = f
		}
		for _, k := range sortedKeys(m) {
			f, ok := byName[k]
			if !ok {
				*out = append(*out, problem{key: joinKey(path, k), unknown: true, msg: unknownKeyMsg(k, fs)})
				continue
			}
			check(m[k], f.typ, joinKey(path, k), out)
		}
		for _, f := range fs {
			if _, ok := m[f.name]; f.required && !ok {
				*out = append(*out, problem{key: joinKey(path, f.name), msg: fmt.Sprintf("missing required value (expected %s)", expected(f.typ))})
			}
		}
	default:
		bad()
	}
}

func unknownKeyMsg(k string, fs []field) string {
	names := make([]string, len(fs))
	for i, f := range fs {
		names[i] = f.name
	}
	return unknownMsg("key", k, names)
}

// unknownMsg says that name is not one of known, suggesting the closest.
func unknownMsg(what, name string, known []string) string {
	if len(known) == 0 {
		if what == "key" {
			return "unknown key (this table takes no keys)"
		}
		return fmt.Sprintf("unknown %s %q (none are registered)", what, name)
	}
	known = append([]string(nil), known...)
	sort.Strings(known)
	subject := "unknown key"
	if what != "key" {
		subject = fmt.Sprintf("unknown %s %q", what, name)
	}
	list := "known keys"
	if what != "key" {
		list = "known"
	}
	if s := closest(name, known); s != "" {
		return fmt.Sprintf("%s (did you mean %q? %s: %s)", subject, s, list, strings.Join(known, ", "))
	}
	return fmt.Sprintf("%s (%s: %s)", subject, list, strings.Join(known, ", "))
}

func closest(k string, names []string) string {
	best, bestD := "", 3 // at most two edits
	for _, n := range names {
		if d := editdist.Levenshtein([]byte(k), []byte(n)); d < bestD || d == bestD && n < best {
			best, bestD = n, d
		}
	}
	if best == "" || bestD > len(k)/3+1 {
		return ""
	}
	return best
}

// decodeSettings checks v (a table, or an array for sections that are arrays
// of tables) against the type behind newSettings, decodes it with
// mapstructure onto the defaults, and runs the settings' Validate method.
// path is the table's key path; extra names keys of the table that the
// caller handles itself (for the known-keys hint of unknown-key messages).
func decodeSettings(v any, newSettings func() any, path string, extra ...string) (any, []problem) {
	settings := newSettings()
	t := reflect.TypeOf(settings).Elem()
	var probs []problem
	if m, ok := v.(map[string]any); ok && t.Kind() == reflect.Struct && len(extra) > 0 {
		fs := append([]field(nil), structFields(t)...) // cached: do not append in place
		for _, e := range extra {
			fs = append(fs, field{name: e})
		}
		known := map[string]bool{}
		for _, f := range fs {
			known[f.name] = true
		}
		kept := map[string]any{}
		for _, k := range sortedKeys(m) {
			if !known[k] {
				probs = append(probs, problem{key: joinKey(path, k), unknown: true, msg: unknownKeyMsg(k, fs)})
				continue
			}
			kept[k] = m[k]
		}
		v = kept
	}
	check(v, t, path, &probs)
	probs = dedupProblems(probs)
	if len(probs) > 0 {
		return nil, probs
	}
	dec, err := mapstructure.NewDecoder(&mapstructure.DecoderConfig{
		Result:           settings,
		TagName:          tagName,
		ErrorUnused:      true,
		WeaklyTypedInput: false,
		MatchName:        func(mapKey, fieldName string) bool { return mapKey == fieldName },
		DecodeHook:       mapstructure.StringToTimeDurationHookFunc(),
	})
	if err != nil {
		return nil, []problem{{key: path, msg: err.Error()}}
	}
	if err := dec.Decode(v); err != nil {
		// check should have caught everything; report what mapstructure saw.
		for _, e := range flatten(err) {
			key := path
			var de *mapstructure.DecodeError
			if errors.As(e, &de) && de.Name() != "" {
				key = path + "." + de.Name()
				e = de.Unwrap()
			}
			probs = append(probs, problem{key: key, msg: e.Error()})
		}
		return nil, probs
	}
	probs = append(probs, validateTree(reflect.ValueOf(settings), path, 0)...)
	if len(probs) > 0 {
		return nil, probs
	}
	return settings, nil
}

type validator interface{ Validate() error }

// validateTree calls the Validate method of the decoded settings and of
// every value inside them that has one (nested tables, elements of arrays of
// tables), each with keys relative to its own path.
func validateTree(v reflect.Value, path string, depth int) []problem {
	if depth > 32 || !v.IsValid() {
		return nil
	}
	var probs []problem
	switch {
	case v.Kind() == reflect.Pointer:
		if v.IsNil() {
			return nil
		}
		if val, ok := v.Interface().(validator); ok {
			probs = append(probs, fieldProblems(val.Validate(), path, "")...)
		}
		return append(probs, validateInside(v.Elem(), path, depth)...)
	case v.Kind() == reflect.Interface:
		if v.IsNil() {
			return nil
		}
		return validateTree(v.Elem(), path, depth+1)
	case v.CanAddr():
		if val, ok := v.Addr().Interface().(validator); ok {
			probs = append(probs, fieldProblems(val.Validate(), path, "")...)
		}
	case v.CanInterface():
		if val, ok := v.Interface().(validator); ok {
			probs = append(probs, fieldProblems(val.Validate(), path, "")...)
		}
	}
	return append(probs, validateInside(v, path, depth)...)
}

func validateInside(v reflect.Value, path string, depth int) []problem {
	var probs []problem
	switch v.Kind() {
	case reflect.Struct:
		if v.Type() == timeType {
			return nil
		}
		for _, f := range structFields(v.Type()) {
			if fv, err := v.FieldByIndexErr(f.index); err == nil {
				probs = append(probs, validateTree(fv, joinKey(path, f.name), depth+1)...)
			}
		}
	case reflect.Slice, reflect.Array:
		for i := 0; i < v.Len(); i++ {
			probs = append(probs, validateTree(v.Index(i), joinIndex(path, i), depth+1)...)
		}
	case reflect.Map:
		if v.Type().Key().Kind() != reflect.String {
			return nil
		}
		keys := v.MapKeys()
		sort.Slice(keys, func(i, j int) bool { return keys[i].String() < keys[j].String() })
		for _, k := range keys {
			probs = append(probs, validateTree(v.MapIndex(k), joinKey(path, k.String()), depth+1)...)
		}
	}
	return probs
}

// fieldProblems turns errors from a Validate method or plugin validator into
// problems: *FieldError keys are taken relative to path, other errors are
// reported at fallback (or path if fallback is "").
func fieldProblems(err error, path, fallback string) []problem {
	var probs []problem
	if fallback == "" {
		fallback = path
	}
	for _, e := range flatten(err) {
		var fe *FieldError
		if errors.As(e, &fe) && fe.Key != "" {
			probs = append(probs, problem{key: path + "." + fe.Key, msg: fe.Msg})
			continue
		}
		if fe != nil {
			probs = append(probs, problem{key: fallback, msg: fe.Msg})
			continue
		}
		var keyed interface{ ConfigKey() string }
		if errors.As(e, &keyed) && keyed.ConfigKey() != "" {
			probs = append(probs, problem{key: path + "." + keyed.ConfigKey(), msg: e.Error()})
			continue
		}
		probs = append(probs, problem{key: fallback, msg: e.Error()})
	}
	return probs
}

// normalize turns a decoded settings value into the canonical tree types
// (int64, float64, string, bool, time.Time, []any, map[string]any); ok is
// false for values to leave out (nil pointers and interfaces).
func normalize(v reflect.Value) (out any, ok bool) {
	if !v.IsValid() {
		return nil, false
	}
	t := v.Type()
	switch {
	case t == durationType:
		return time.Duration(v.Int()).String(), true
	case t == timeType:
		return v.Interface(), true
	}
	switch v.Kind() {
	case reflect.Pointer, reflect.Interface:
		if v.IsNil() {
			return nil, false
		}
		return normalize(v.Elem())
	case reflect.Bool:
		return v.Bool(), true
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return v.Int(), true
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		u := v.Uint()
		if u > math.MaxInt64 {
			return float64(u), true
		}
		return int64(u), true
	case reflect.Float32:
		// Print at 32-bit precision so 0.1 stays 0.1, not 0.10000000149.
		f, _ := strconv.ParseFloat(strconv.FormatFloat(v.Float(), 'g', -1, 32), 64)
		return f, true
	case reflect.Float64:
		return v.Float(), true
	case reflect.String:
		return v.String(), true
	case reflect.Slice, reflect.Array:
		a := make([]any, 0, v.Len())
		for i := 0; i < v.Len(); i++ {
			if e, ok := normalize(v.Index(i)); ok {
				a = append(a, e)
			}
		}
		return a, true
	case reflect.Map:
		m := make(map[string]any, v.Len())
		iter := v.MapRange()
		for iter.Next() {
			if e, ok := normalize(iter.Value()); ok {
				m[fmt.Sprint(iter.Key().Interface())] = e
			}
		}
		return m, true
	case reflect.Struct:
		m := map[string]any{}
		for _, f := range structFields(t) {
			fv, err := v.FieldByIndexErr(f.index)
			if err != nil {
				continue
			}
			if e, ok := normalize(fv); ok {
				m[f.name] = e
			}
		}
		return m, true
	}
	return fmt.Sprint(v.Interface()), true
}

// normalizeRaw converts what BurntSushi/toml decodes into the canonical tree
// types: arrays of tables become []any.
func normalizeRaw(v any) any {
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			x[k] = normalizeRaw(e)
		}
		return x
	case []map[string]any:
		a := make([]any, len(x))
		for i, e := range x {
			a[i] = normalizeRaw(e)
		}
		return a
	case []any:
		for i, e := range x {
			x[i] = normalizeRaw(e)
		}
		return x
	}
	return v
}

// deepCopy copies a canonical tree.
func deepCopy(v any) any {
	switch x := v.(type) {
	case map[string]any:
		m := make(map[string]any, len(x))
		for k, e := range x {
			m[k] = deepCopy(e)
		}
		return m
	case []any:
		a := make([]any, len(x))
		for i, e := range x {
			a[i] = deepCopy(e)
		}
		return a
	}
	return v
}

func dedupProblems(ps []problem) []problem {
	seen := map[problem]bool{}
	out := ps[:0]
	for _, p := range ps {
		if !seen[p] {
			seen[p] = true
			out = append(out, p)
		}
	}
	return out
}
