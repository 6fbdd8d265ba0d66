// Package table decodes a config table into a Go struct that already holds
// the defaults. It is pit's one config decoder: the experiment loader
// decodes every settings table of an experiment file with it, and the
// plugin SDK decodes every plugin config with it, so both follow the same
// rules and word their problems the same way.
//
// A table is what a TOML decoder produces (map[string]any holding int64,
// float64, string, bool, time.Time, []any and map[string]any) or what a
// plugin config becomes on the wire (numbers as float64). Other Go numbers,
// typed slices and maps are accepted too.
//
// # Keys
//
// A field's key is the name in its `toml:"name"` tag, or the field's name
// when the tag gives none; keys match exactly (TOML keys are
// case-sensitive). Unexported fields and `toml:"-"` have no key. The tag
// option "required" (`toml:"steps,required"`) makes a key mandatory. An
// embedded struct whose tag gives no name is flattened: its keys are keys
// of the outer table (`toml:",squash"` says the same, for any struct
// field). Any other struct field (except time.Time) is a nested table with
// its own keys, under the same rules. Two more tags are read by Fields for
// others: `doc:"..."` documents a key (the plugin SDK's schemas) and
// `range:"..."` bounds a number (CheckRanges).
//
// # Values
//
// Keys absent from the table keep the value the struct already holds: its
// default. A table decoded into a map adds to (or overrides keys of) the
// default map; an array replaces the default array. Null values (only the
// plugin wire can carry them) also keep the default. A field takes:
//
//   - bool: a boolean; string: a string;
//   - an integer type: a whole number (2, 2.0 or 2e3: numbers cross the
//     plugin wire as doubles) that fits the type; unsigned types take no
//     negative number;
//   - float32, float64: any number (float32 within its range);
//   - time.Duration: a string such as "1m30s"; time.Time: a datetime;
//   - a slice: an array; an array type: an array of exactly its length;
//   - a map with string keys: a table; a struct: a table;
//   - a pointer: what its element takes; any: any value, as it is.
//
// # Errors
//
// Decode reports every problem at once, not only the first: an Errors list
// of *Error, each naming its key path relative to the decoded table
// (dotted, non-bare keys quoted, array elements as [i]: "kl.target",
// "temperatures[1]") and saying what was expected and what was found, in
// TOML terms: `expected an integer (got float 1.5)`. The experiment loader
// adds the file, the line and the table's own path; the plugin SDK sends
// the problems to the host as text (Error.Error, read back with CutKey),
// where they get the same file:line: key: message shape.
package table

import (
	"reflect"
	"strings"
	"sync"
	"time"
)

var (
	durationType = reflect.TypeFor[time.Duration]()
	timeType     = reflect.TypeFor[time.Time]()
)

// Field is one key of a struct type, as Fields lists it.
type Field struct {
	Key      string       // the key in the table
	Index    []int        // for reflect.Value.FieldByIndex, through flattened structs
	Type     reflect.Type // the field's type
	Required bool         // tag option "required"
	Doc      string       // the `doc` tag
	Range    string       // the `range` tag (see CheckRanges)
}

var fieldCache sync.Map // reflect.Type -> []Field

// Fields lists the keys of struct type t in field order, embedded structs
// flattened in place. The result is shared: do not modify it.
func Fields(t reflect.Type) []Field {
	if fs, ok := fieldCache.Load(t); ok {
		return fs.([]Field)
	}
	fs := scanFields(t)
	fieldCache.Store(t, fs)
	return fs
}

func scanFields(t reflect.Type) []Field {
	var out []Field
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		name, opts, _ := strings.Cut(f.Tag.Get("toml"), ",")
		if name == "-" {
			continue
		}
		squash, required := false, false
		for _, o := range strings.Split(opts, ",") {
			switch strings.TrimSpace(o) {
			case "squash":
				squash = true
			case "required":
				required = true
			}
		}
		ft := f.Type
		if f.Anonymous && ft.Kind() == reflect.Pointer {
			ft = ft.Elem()
		}
		if ft.Kind() == reflect.Struct && ft != timeType && (squash || f.Anonymous && name == "") {
			for _, sf := range Fields(ft) {
				sf.Index = append([]int{i}, sf.Index...)
				out = append(out, sf)
			}
			continue
		}
		if !f.IsExported() {
			continue
		}
		if name == "" {
			name = f.Name
		}
		out = append(out, Field{Key: name, Index: []int{i}, Type: f.Type, Required: required,
			Doc: f.Tag.Get("doc"), Range: f.Tag.Get("range")})
	}
	return out
}

// fieldOf returns the field of struct value v at index, allocating nil
// embedded pointers on the way.
func fieldOf(v reflect.Value, index []int) reflect.Value {
	for i, x := range index {
		if i > 0 && v.Kind() == reflect.Pointer {
			if v.IsNil() {
				v.Set(reflect.New(v.Type().Elem()))
			}
			v = v.Elem()
		}
		v = v.Field(x)
	}
	return v
}
