package experiment

import (
	"errors"
	"fmt"
	"math"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/pit-lab/pit/plugins/sdk/table"
)

// problem is one validation finding, before it is given a file position.
type problem struct {
	key     string
	msg     string
	unknown bool // the key itself is not allowed (as opposed to its value)
}

var timeType = reflect.TypeFor[time.Time]()

// Settings tables are decoded by package table of the plugin SDK, the one
// config decoder that plugin configs use too; the rules (tags, embedded
// structs, nested tables, types, defaults) are documented there. These are
// its message helpers under the names this package uses.

func expected(t reflect.Type) string { return table.Expected(t) }
func got(v any) string               { return table.Got(v) }

// unknownMsg says that name is not one of known, suggesting the closest.
func unknownMsg(what, name string, known []string) string {
	if what == "key" {
		return table.UnknownKey(name, known)
	}
	if len(known) == 0 {
		return fmt.Sprintf("unknown %s %q (none are registered)", what, name)
	}
	known = append([]string(nil), known...)
	sort.Strings(known)
	subject := fmt.Sprintf("unknown %s %q", what, name)
	if s := table.Closest(name, known); s != "" {
		return fmt.Sprintf("%s (did you mean %q? known: %s)", subject, s, strings.Join(known, ", "))
	}
	return fmt.Sprintf("%s (known: %s)", subject, strings.Join(known, ", "))
}

func keyNames(fs []table.Field) []string {
	names := make([]string, len(fs))
	for i, f := range fs {
		names[i] = f.Key
	}
	return names
}

// decodeSettings decodes v (a table, or an array for sections that are
// arrays of tables) onto the defaults from newSettings with package table,
// checks the fields' range tags, and runs the settings' Validate methods.
// path is the table's key path; extra names keys of the table that the
// caller handles itself (for the known-keys hint of unknown-key messages).
func decodeSettings(v any, newSettings func() any, path string, extra ...string) (any, []problem) {
	settings := newSettings()
	t := reflect.TypeOf(settings).Elem()
	var probs []problem
	if m, ok := v.(map[string]any); ok && t.Kind() == reflect.Struct && len(extra) > 0 {
		names := append(keyNames(table.Fields(t)), extra...)
		known := map[string]bool{}
		for _, n := range names {
			known[n] = true
		}
		kept := map[string]any{}
		for _, k := range sortedKeys(m) {
			if !known[k] {
				probs = append(probs, problem{key: joinKey(path, k), unknown: true, msg: unknownMsg("key", k, names)})
				continue
			}
			kept[k] = m[k]
		}
		v = kept
	}
	probs = append(probs, tableProblems(table.Decode(v, settings), path)...)
	probs = dedupProblems(probs)
	if len(probs) > 0 {
		return nil, probs
	}
	probs = append(probs, tableProblems(table.CheckRanges(settings), path)...)
	probs = append(probs, validateTree(reflect.ValueOf(settings), path, 0)...)
	if len(probs) > 0 {
		return nil, probs
	}
	return settings, nil
}

// tableProblems turns package table's errors into problems at path.
func tableProblems(err error, path string) []problem {
	var probs []problem
	for _, e := range flatten(err) {
		var te *table.Error
		if errors.As(e, &te) {
			probs = append(probs, problem{key: table.JoinPath(path, te.Key), msg: te.Msg, unknown: te.Unknown})
			continue
		}
		probs = append(probs, problem{key: path, msg: e.Error()})
	}
	return probs
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
		for _, f := range table.Fields(v.Type()) {
			if fv, err := v.FieldByIndexErr(f.Index); err == nil {
				probs = append(probs, validateTree(fv, joinKey(path, f.Key), depth+1)...)
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
		var te *table.Error
		if errors.As(e, &te) {
			key := fallback
			if te.Key != "" {
				key = table.JoinPath(path, te.Key)
			}
			probs = append(probs, problem{key: key, msg: te.Msg})
			continue
		}
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
	case t == reflect.TypeFor[time.Duration]():
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
		for _, f := range table.Fields(t) {
			fv, err := v.FieldByIndexErr(f.Index)
			if err != nil {
				continue
			}
			if e, ok := normalize(fv); ok {
				m[f.Key] = e
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
