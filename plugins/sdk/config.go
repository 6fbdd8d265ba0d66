package sdk

import (
	"fmt"
	"reflect"
	"time"

	"github.com/pit-lab/pit/plugins/sdk/table"
)

// DecodeConfig decodes a plugin's config table into out, a pointer to a
// struct that already holds the defaults: keys absent from raw keep their
// default. It is the decoder experiment files use (package table, which
// has the rules): keys are the fields' `toml` tags, matched exactly; an
// embedded struct is flattened, a struct field is a nested table; integer
// fields take whole numbers (the wire sends numbers as doubles); durations
// are strings ("1m30s"). Every problem is reported, each as its own
// *table.Error in the returned table.Errors: an unknown key, a value of the
// wrong type, a fractional number for an integer field; each names its
// key, which the host maps to the file and line of the experiment file.
func DecodeConfig(raw map[string]any, out any) error {
	rv := reflect.ValueOf(out)
	if rv.Kind() != reflect.Pointer || rv.IsNil() || rv.Elem().Kind() != reflect.Struct {
		return fmt.Errorf("sdk.DecodeConfig: out must be a pointer to a struct, got %T", out)
	}
	if raw == nil {
		return nil
	}
	return table.Decode(raw, out)
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
	for _, f := range schemaFields(rv.Type()) {
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
	key   string
	doc   string
	index []int
}

// schemaFields lists the config keys of struct type t, descending into
// nested tables (dotted keys); embedded structs are flattened by
// table.Fields.
func schemaFields(t reflect.Type) []field {
	var out []field
	for _, f := range table.Fields(t) {
		if f.Type.Kind() == reflect.Struct && f.Type != reflect.TypeOf(time.Time{}) {
			for _, sub := range schemaFields(f.Type) {
				sub.key = f.Key + "." + sub.key
				sub.index = append(append([]int(nil), f.Index...), sub.index...)
				out = append(out, sub)
			}
			continue
		}
		out = append(out, field{key: f.Key, doc: f.Doc, index: f.Index})
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
