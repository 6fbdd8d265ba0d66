package table

import (
	"fmt"
	"maps"
	"math"
	"reflect"
	"slices"
	"time"
)

// Decode decodes raw, a table (or, for a pointer to a slice, an array of
// tables), onto out, a non-nil pointer to what already holds the defaults.
// It checks everything first and changes nothing when it finds a problem:
// it then returns Errors listing every problem, in key order. The rules are
// in the package doc.
func Decode(raw any, out any) error {
	rv := reflect.ValueOf(out)
	if rv.Kind() != reflect.Pointer || rv.IsNil() {
		return fmt.Errorf("table.Decode: out must be a non-nil pointer, got %T", out)
	}
	raw = plain(raw)
	var errs Errors
	check(raw, rv.Type().Elem(), "", &errs)
	if len(errs) > 0 {
		return errs
	}
	assign(raw, rv.Elem())
	return nil
}

// plain converts v to the types of a TOML table: int64, float64, string,
// bool, time.Time, []any, map[string]any. Other values are left as they are
// (and rejected by check).
func plain(v any) any {
	switch x := v.(type) {
	case nil, int64, float64, string, bool, time.Time:
		return v
	case map[string]any:
		m := make(map[string]any, len(x))
		for k, e := range x {
			m[k] = plain(e)
		}
		return m
	case []any:
		a := make([]any, len(x))
		for i, e := range x {
			a[i] = plain(e)
		}
		return a
	}
	rv := reflect.ValueOf(v)
	switch rv.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return rv.Int()
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		if u := rv.Uint(); u <= math.MaxInt64 {
			return int64(u)
		}
		return float64(rv.Uint())
	case reflect.Float32:
		return rv.Float()
	case reflect.Float64:
		return rv.Float()
	case reflect.String:
		return rv.String()
	case reflect.Bool:
		return rv.Bool()
	case reflect.Slice, reflect.Array:
		if rv.Kind() == reflect.Slice && rv.IsNil() {
			return nil
		}
		a := make([]any, rv.Len())
		for i := range a {
			a[i] = plain(rv.Index(i).Interface())
		}
		return a
	case reflect.Map:
		if rv.Type().Key().Kind() != reflect.String {
			return v
		}
		if rv.IsNil() {
			return nil
		}
		m := make(map[string]any, rv.Len())
		for it := rv.MapRange(); it.Next(); {
			m[it.Key().String()] = plain(it.Value().Interface())
		}
		return m
	case reflect.Pointer, reflect.Interface:
		if rv.IsNil() {
			return nil
		}
		return plain(rv.Elem().Interface())
	}
	return v
}

// whole reports whether number v (int64 or float64) is an integer, and its
// value; big is set for a float beyond the int64 range.
func whole(v any) (i int64, big, ok bool) {
	switch x := v.(type) {
	case int64:
		return x, false, true
	case float64:
		if x != math.Trunc(x) || math.IsInf(x, 0) {
			return 0, false, false
		}
		if x < -(1<<63) || x >= 1<<63 {
			return 0, true, true
		}
		return int64(x), false, true
	}
	return 0, false, false
}

// check compares value v with the type t it will be decoded into and
// records every mismatch, unknown key and missing required key under key
// paths relative to the table.
func check(v any, t reflect.Type, path string, out *Errors) {
	bad := func() {
		*out = append(*out, &Error{Key: path, Msg: fmt.Sprintf("expected %s (got %s)", Expected(t), Got(v))})
	}
	if v == nil {
		return // null keeps the default
	}
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t {
	case durationType:
		s, ok := v.(string)
		if !ok {
			bad()
		} else if _, err := time.ParseDuration(s); err != nil {
			bad()
		}
		return
	case timeType:
		if _, ok := v.(time.Time); !ok {
			bad()
		}
		return
	}
	switch t.Kind() {
	case reflect.Interface:
		if !reflect.TypeOf(v).AssignableTo(t) {
			bad()
		}
	case reflect.Bool:
		if _, ok := v.(bool); !ok {
			bad()
		}
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		i, big, ok := whole(v)
		switch bits := t.Bits(); {
		case !ok:
			bad()
		case big || bits < 64 && (i < -1<<(bits-1) || i > 1<<(bits-1)-1):
			*out = append(*out, &Error{Key: path, Msg: fmt.Sprintf("expected an integer that fits in %d bits (got %s)", bits, number(v))})
		}
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		i, big, ok := whole(v)
		switch bits := t.Bits(); {
		case !ok || i < 0 || big && v.(float64) < 0:
			bad()
		case big || bits < 64 && uint64(i) > 1<<bits-1:
			*out = append(*out, &Error{Key: path, Msg: fmt.Sprintf("expected a non-negative integer that fits in %d bits (got %s)", bits, number(v))})
		}
	case reflect.Float32, reflect.Float64:
		switch x := v.(type) {
		case int64:
		case float64:
			if t.Kind() == reflect.Float32 && !math.IsInf(x, 0) && math.Abs(x) > math.MaxFloat32 {
				*out = append(*out, &Error{Key: path, Msg: fmt.Sprintf("expected a number that fits in 32 bits (got %s)", FormatFloat(x))})
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
			*out = append(*out, &Error{Key: path, Msg: fmt.Sprintf("expected %s (got %d)", Expected(t), len(a))})
			return
		}
		for i, e := range a {
			check(e, t.Elem(), JoinIndex(path, i), out)
		}
	case reflect.Map:
		m, ok := v.(map[string]any)
		if !ok || t.Key().Kind() != reflect.String {
			bad()
			return
		}
		for _, k := range slices.Sorted(maps.Keys(m)) {
			check(m[k], t.Elem(), JoinKey(path, k), out)
		}
	case reflect.Struct:
		m, ok := v.(map[string]any)
		if !ok {
			bad()
			return
		}
		fs := Fields(t)
		byKey := make(map[string]Field, len(fs))
		keys := make([]string, len(fs))
		for i, f := range fs {
			byKey[f.Key] = f
			keys[i] = f.Key
		}
		for _, k := range slices.Sorted(maps.Keys(m)) {
			f, ok := byKey[k]
			if !ok {
				*out = append(*out, &Error{Key: JoinKey(path, k), Msg: UnknownKey(k, keys), Unknown: true})
				continue
			}
			check(m[k], f.Type, JoinKey(path, k), out)
		}
		for _, f := range fs {
			if _, ok := m[f.Key]; f.Required && !ok {
				*out = append(*out, &Error{Key: JoinKey(path, f.Key), Msg: fmt.Sprintf("missing required value (expected %s)", Expected(f.Type))})
			}
		}
	default:
		bad()
	}
}

// number prints an int64 or float64 for a message.
func number(v any) string {
	if f, ok := v.(float64); ok {
		return FormatFloat(f)
	}
	return fmt.Sprint(v)
}

// assign decodes checked value v onto dst.
func assign(v any, dst reflect.Value) {
	if v == nil {
		return
	}
	if dst.Kind() == reflect.Pointer {
		if dst.IsNil() {
			dst.Set(reflect.New(dst.Type().Elem()))
		}
		assign(v, dst.Elem())
		return
	}
	t := dst.Type()
	switch t {
	case durationType:
		d, _ := time.ParseDuration(v.(string))
		dst.SetInt(int64(d))
		return
	case timeType:
		dst.Set(reflect.ValueOf(v))
		return
	}
	switch t.Kind() {
	case reflect.Interface:
		dst.Set(reflect.ValueOf(v))
	case reflect.Bool:
		dst.SetBool(v.(bool))
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		i, _, _ := whole(v)
		dst.SetInt(i)
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		i, _, _ := whole(v)
		dst.SetUint(uint64(i))
	case reflect.Float32, reflect.Float64:
		switch x := v.(type) {
		case int64:
			dst.SetFloat(float64(x))
		case float64:
			dst.SetFloat(x)
		}
	case reflect.String:
		dst.SetString(v.(string))
	case reflect.Slice:
		a := v.([]any)
		s := reflect.MakeSlice(t, len(a), len(a))
		for i, e := range a {
			assign(e, s.Index(i))
		}
		dst.Set(s)
	case reflect.Array:
		for i, e := range v.([]any) {
			assign(e, dst.Index(i))
		}
	case reflect.Map:
		if dst.IsNil() {
			dst.Set(reflect.MakeMap(t))
		}
		for k, e := range v.(map[string]any) {
			ev := reflect.New(t.Elem()).Elem()
			assign(e, ev)
			dst.SetMapIndex(reflect.ValueOf(k).Convert(t.Key()), ev)
		}
	case reflect.Struct:
		m := v.(map[string]any)
		for _, f := range Fields(t) {
			if e, ok := m[f.Key]; ok && e != nil {
				assign(e, fieldOf(dst, f.Index))
			}
		}
	}
}
