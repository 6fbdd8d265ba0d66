package table

import (
	"fmt"
	"math"
	"reflect"
	"strconv"
	"strings"
)

// CheckRanges checks the numbers in v (a struct, an array of structs, or
// a pointer to one) against the `range` tags of their fields, in nested tables and arrays of
// tables too, and returns Errors listing every number out of range (NaN is
// out of every range), keyed like Decode's. A tag is a bound or an
// interval:
//
//	range:">= 0"    // "expected a number ≥ 0 (got -1)"
//	range:"> 0"     // "expected a number > 0 (got 0)"
//	range:"[0, 1]"  // "expected a number in [0, 1] (got 2)"
//	range:"[0, 1)"  // either end may be open: ( or ), or closed: [ or ]
//
// On an integer field the message says "an integer". A malformed tag, or
// one on a field that is not a number, is a programming error and panics.
func CheckRanges(v any) error {
	var errs Errors
	checkRanges(reflect.ValueOf(v), "", &errs, 0)
	return errs.orNil()
}

func checkRanges(v reflect.Value, path string, out *Errors, depth int) {
	if depth > 32 {
		return
	}
	switch v.Kind() {
	case reflect.Pointer, reflect.Interface:
		if !v.IsNil() {
			checkRanges(v.Elem(), path, out, depth+1)
		}
	case reflect.Slice, reflect.Array:
		for i := 0; i < v.Len(); i++ {
			checkRanges(v.Index(i), JoinIndex(path, i), out, depth+1)
		}
	case reflect.Struct:
		if v.Type() == timeType {
			return
		}
		for _, f := range Fields(v.Type()) {
			fv, err := v.FieldByIndexErr(f.Index)
			if err != nil {
				continue
			}
			key := JoinKey(path, f.Key)
			if f.Range != "" {
				if e := checkRange(fv, f.Range, key); e != nil {
					*out = append(*out, e)
				}
				continue
			}
			checkRanges(fv, key, out, depth+1)
		}
	}
}

func checkRange(v reflect.Value, tag, key string) *Error {
	r, err := parseRange(tag)
	if err != nil {
		panic(fmt.Sprintf("table.CheckRanges: key %q: %v", key, err))
	}
	var x float64
	noun := "a number"
	switch {
	case v.CanInt():
		x, noun = float64(v.Int()), "an integer"
	case v.CanUint():
		x, noun = float64(v.Uint()), "an integer"
	case v.CanFloat():
		x = v.Float()
	default:
		panic(fmt.Sprintf("table.CheckRanges: key %q: a range on a %s", key, v.Type()))
	}
	if r.contains(x) {
		return nil
	}
	return &Error{Key: key, Msg: fmt.Sprintf("expected %s %s (got %v)", noun, r, v.Interface())}
}

// interval is a parsed range tag; an absent end is unbounded.
type interval struct {
	lo, hi         string // as written, for messages
	loOpen, hiOpen bool
	loV, hiV       float64
}

func parseRange(tag string) (interval, error) {
	var r interval
	tag = strings.TrimSpace(tag)
	num := func(s string) (string, float64, error) {
		s = strings.TrimSpace(s)
		v, err := strconv.ParseFloat(s, 64)
		if err != nil || math.IsNaN(v) {
			return "", 0, fmt.Errorf("range tag %q: %q is not a number", tag, s)
		}
		return s, v, nil
	}
	var err error
	switch {
	case strings.HasPrefix(tag, ">="):
		r.lo, r.loV, err = num(tag[2:])
	case strings.HasPrefix(tag, ">"):
		r.loOpen = true
		r.lo, r.loV, err = num(tag[1:])
	case len(tag) > 2 && strings.ContainsAny(tag[:1], "[(") && strings.ContainsAny(tag[len(tag)-1:], "])"):
		lo, hi, ok := strings.Cut(tag[1:len(tag)-1], ",")
		if !ok {
			return r, fmt.Errorf("range tag %q: want [lo, hi]", tag)
		}
		r.loOpen, r.hiOpen = tag[0] == '(', tag[len(tag)-1] == ')'
		if r.lo, r.loV, err = num(lo); err == nil {
			r.hi, r.hiV, err = num(hi)
		}
	default:
		return r, fmt.Errorf(`range tag %q: want ">= x", "> x" or an interval like "[lo, hi)"`, tag)
	}
	return r, err
}

// contains reports whether x is in the interval. NaN is in none.
func (r interval) contains(x float64) bool {
	if r.loOpen && !(x > r.loV) || !r.loOpen && !(x >= r.loV) {
		return false
	}
	return r.hi == "" || r.hiOpen && x < r.hiV || !r.hiOpen && x <= r.hiV
}

func (r interval) String() string {
	switch {
	case r.hi != "":
		lb, rb := "[", "]"
		if r.loOpen {
			lb = "("
		}
		if r.hiOpen {
			rb = ")"
		}
		return fmt.Sprintf("in %s%s, %s%s", lb, r.lo, r.hi, rb)
	case r.loOpen:
		return "> " + r.lo
	}
	return "≥ " + r.lo
}
