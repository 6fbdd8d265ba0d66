package sdk

import (
	"fmt"
	"reflect"
	"strconv"
	"strings"
)

// CheckRanges checks the numeric fields of cfg, a config struct (or a
// pointer to one), against their `range` tags and reports the first one
// out of range (NaN is out of every range), in field order, naming its
// key. A tag is a bound or an interval:
//
//	range:">= 0"    // "kl_coef must be ≥ 0, got -1"
//	range:"> 0"     // "clip_range must be > 0, got 0"
//	range:"[0, 1]"  // "gamma must be in [0, 1], got 2"
//	range:"[0, 1)"  // either end may be open: ( or ), or closed: [ or ]
//
// Configurable checks ranges before its Validate; a plugin that decodes
// with DecodeConfig by hand calls CheckRanges itself. A malformed tag is a
// programming error and panics.
func CheckRanges(cfg any) error {
	rv := reflect.Indirect(reflect.ValueOf(cfg))
	if rv.Kind() != reflect.Struct {
		panic(fmt.Sprintf("sdk.CheckRanges: want a struct, got %T", cfg))
	}
	for _, f := range structFields(rv.Type()) {
		if f.rangeTag == "" {
			continue
		}
		r, err := parseRange(f.rangeTag)
		if err != nil {
			panic(fmt.Sprintf("sdk.CheckRanges: key %q: %v", f.key, err))
		}
		v := rv.FieldByIndex(f.index)
		var x float64
		switch {
		case v.CanInt():
			x = float64(v.Int())
		case v.CanFloat():
			x = v.Float()
		default:
			panic(fmt.Sprintf("sdk.CheckRanges: key %q: a range on a %s", f.key, v.Type()))
		}
		if !r.contains(x) {
			return fmt.Errorf("%s must be %s, got %v", f.key, r, v.Interface())
		}
	}
	return nil
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
		if err != nil {
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
