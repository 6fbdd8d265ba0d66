package sdk

import (
	"errors"
	"fmt"
	"maps"
	"math"
	"reflect"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/go-viper/mapstructure/v2"
)

// DecodeConfig decodes a plugin's config table into out, a pointer to a
// struct that already holds the defaults: keys absent from raw keep their
// default. Keys are matched to fields by their `mapstructure` tag (or the
// field name, case-insensitively). Every problem is reported, each as its
// own error in the returned errors.Join: an unknown key, a value of the wrong
// type, a fractional number for an integer field. Durations may be written
// as strings ("1m30s").
func DecodeConfig(raw map[string]any, out any) error {
	rv := reflect.ValueOf(out)
	if rv.Kind() != reflect.Pointer || rv.Elem().Kind() != reflect.Struct {
		return fmt.Errorf("sdk.DecodeConfig: out must be a pointer to a struct, got %T", out)
	}
	var errs []error
	known := map[string]bool{}
	var names []string
	for _, f := range structFields(rv.Elem().Type()) {
		top, _, _ := strings.Cut(f.key, ".")
		if !known[strings.ToLower(top)] {
			known[strings.ToLower(top)] = true
			names = append(names, top)
		}
	}
	keys := make([]string, 0, len(raw))
	for k := range raw {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	clean := make(map[string]any, len(raw))
	for _, k := range keys {
		if !known[strings.ToLower(k)] {
			errs = append(errs, fmt.Errorf("unknown key %q (known keys: %s)", k, strings.Join(names, ", ")))
			continue
		}
		clean[k] = raw[k]
	}
	// One key at a time: mapstructure stops at the first failing hook, and
	// every problem should be reported.
	for _, k := range slices.Sorted(maps.Keys(clean)) {
		dec, err := mapstructure.NewDecoder(&mapstructure.DecoderConfig{
			Result:      out,
			ErrorUnused: true,
			DecodeHook:  mapstructure.ComposeDecodeHookFunc(durationHook, integralHook),
		})
		if err != nil {
			return fmt.Errorf("sdk.DecodeConfig: %w", err)
		}
		if err := dec.Decode(map[string]any{k: clean[k]}); err != nil {
			errs = append(errs, flattenDecodeErrors(err)...)
		}
	}
	return errors.Join(errs...)
}

// durationHook reads durations written as strings ("1m30s").
func durationHook(from, to reflect.Type, data any) (any, error) {
	if to != reflect.TypeOf(time.Duration(0)) || from.Kind() != reflect.String {
		return data, nil
	}
	d, err := time.ParseDuration(data.(string))
	if err != nil {
		return nil, fmt.Errorf("want a duration like \"1m30s\", got %q", data)
	}
	return d, nil
}

// integralHook refuses to truncate a fractional number into an integer.
func integralHook(from, to reflect.Type, data any) (any, error) {
	switch to.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
	default:
		return data, nil
	}
	if to == reflect.TypeOf(time.Duration(0)) {
		return data, nil
	}
	if from.Kind() == reflect.Float64 || from.Kind() == reflect.Float32 {
		f := reflect.ValueOf(data).Float()
		if f != math.Trunc(f) || math.IsInf(f, 0) {
			return nil, fmt.Errorf("want an integer, got %v", f)
		}
	}
	return data, nil
}

// flattenDecodeErrors splits mapstructure's joined errors into one error per
// key, worded "key "a.b": problem".
func flattenDecodeErrors(err error) []error {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		var out []error
		for _, e := range j.Unwrap() {
			out = append(out, flattenDecodeErrors(e)...)
		}
		return out
	}
	var de *mapstructure.DecodeError
	if errors.As(err, &de) {
		inner := de.Unwrap()
		var pe *mapstructure.UnconvertibleTypeError
		if errors.As(inner, &pe) {
			return []error{fmt.Errorf("key %q: want %s, got %s", de.Name(), typeName(pe.Expected.Type()), valueTypeName(pe.Value))}
		}
		return []error{fmt.Errorf("key %q: %v", de.Name(), inner)}
	}
	return []error{err}
}

func valueTypeName(v any) string {
	if v == nil {
		return "nothing"
	}
	if s, ok := v.(string); ok {
		return fmt.Sprintf("string %q", s)
	}
	return fmt.Sprintf("%s %v", typeName(reflect.TypeOf(v)), v)
}

// SchemaOf describes the config struct defaults (a struct or a pointer to
// one) as a config schema: one field per key, its type, the default taken
// from defaults, and the doc from a `doc:"..."` tag. Nested structs become
// dotted keys ("kl.target").
func SchemaOf(defaults any) []ConfigField {
	rv := reflect.Indirect(reflect.ValueOf(defaults))
	if rv.Kind() != reflect.Struct {
		panic(fmt.Sprintf("sdk.SchemaOf: want a struct, got %T", defaults))
	}
	var out []ConfigField
	for _, f := range structFields(rv.Type()) {
		v := rv.FieldByIndex(f.index)
		out = append(out, ConfigField{
			Name:    f.key,
			Type:    typeName(v.Type()),
			Default: plainValue(v),
			Doc:     f.doc,
		})
	}
	return out
}

type field struct {
	key      string
	doc      string
	rangeTag string // the `range` tag, see CheckRanges
	index    []int
}

// structFields lists the config keys of struct type t, descending into
// nested structs (dotted keys) and squashed embedded ones.
func structFields(t reflect.Type) []field {
	var out []field
	for i := 0; i < t.NumField(); i++ {
		sf := t.Field(i)
		if !sf.IsExported() {
			continue
		}
		tag := sf.Tag.Get("mapstructure")
		name, opts, _ := strings.Cut(tag, ",")
		if name == "-" {
			continue
		}
		if name == "" {
			name = sf.Name
		}
		ft := sf.Type
		if strings.Contains(opts, "squash") || (sf.Anonymous && ft.Kind() == reflect.Struct && tag == "") {
			for _, sub := range structFields(ft) {
				sub.index = append([]int{i}, sub.index...)
				out = append(out, sub)
			}
			continue
		}
		if ft.Kind() == reflect.Struct && ft != reflect.TypeOf(time.Time{}) {
			for _, sub := range structFields(ft) {
				sub.key = name + "." + sub.key
				sub.index = append([]int{i}, sub.index...)
				out = append(out, sub)
			}
			continue
		}
		out = append(out, field{key: name, doc: sf.Tag.Get("doc"), rangeTag: sf.Tag.Get("range"), index: []int{i}})
	}
	return out
}

// typeName spells a Go type the way config docs do.
func typeName(t reflect.Type) string {
	if t == reflect.TypeOf(time.Duration(0)) {
		return "duration"
	}
	switch t.Kind() {
	case reflect.Float32, reflect.Float64:
		return "float"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "int"
	case reflect.Bool:
		return "bool"
	case reflect.String:
		return "string"
	case reflect.Slice, reflect.Array:
		return "[]" + typeName(t.Elem())
	case reflect.Map:
		return "map[" + typeName(t.Key()) + "]" + typeName(t.Elem())
	case reflect.Struct:
		return "table"
	case reflect.Pointer:
		return typeName(t.Elem())
	case reflect.Interface:
		return "any"
	}
	return t.String()
}

// plainValue converts a default to the plain types a config table holds
// (int64, float64, bool, string, []any, map[string]any), so it survives the
// wire. Zero-length slices and maps become nil.
func plainValue(v reflect.Value) any {
	if v.Type() == reflect.TypeOf(time.Duration(0)) {
		return time.Duration(v.Int()).String()
	}
	switch v.Kind() {
	case reflect.Float32, reflect.Float64:
		return v.Float()
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return v.Int()
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return int64(v.Uint())
	case reflect.Bool:
		return v.Bool()
	case reflect.String:
		return v.String()
	case reflect.Slice, reflect.Array:
		if v.Len() == 0 {
			return nil
		}
		out := make([]any, v.Len())
		for i := range out {
			out[i] = plainValue(v.Index(i))
		}
		return out
	case reflect.Map:
		if v.Len() == 0 {
			return nil
		}
		out := make(map[string]any, v.Len())
		iter := v.MapRange()
		for iter.Next() {
			out[fmt.Sprint(iter.Key().Interface())] = plainValue(iter.Value())
		}
		return out
	case reflect.Pointer, reflect.Interface:
		if v.IsNil() {
			return nil
		}
		return plainValue(v.Elem())
	}
	return v.Interface()
}

// SplitErrors flattens errors.Join trees into their leaves, so that each
// problem of a config can be reported on its own.
func SplitErrors(err error) []error {
	if err == nil {
		return nil
	}
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		var out []error
		for _, e := range j.Unwrap() {
			out = append(out, SplitErrors(e)...)
		}
		return out
	}
	return []error{err}
}
