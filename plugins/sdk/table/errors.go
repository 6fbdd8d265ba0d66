package table

import (
	"fmt"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Error is one problem of a table.
type Error struct {
	// Key is the key path of the problem relative to the decoded table
	// (see JoinKey); "" for the table itself.
	Key string
	// Msg says what was expected and what was found.
	Msg string
	// Unknown is set when the key itself is not allowed, as opposed to
	// its value.
	Unknown bool
}

// Error returns `key "KEY": MSG`, or MSG alone without a key. The quoted
// form survives any prefix a caller adds and is read back by CutKey.
func (e *Error) Error() string {
	if e.Key == "" {
		return e.Msg
	}
	return "key " + strconv.Quote(e.Key) + ": " + e.Msg
}

// Errorf returns an *Error for key with a formatted message: what a
// Validate function returns to point at one key.
func Errorf(key, format string, args ...any) *Error {
	return &Error{Key: key, Msg: fmt.Sprintf(format, args...)}
}

// Errors is every problem Decode or CheckRanges found, in key order.
type Errors []*Error

func (l Errors) Error() string {
	msgs := make([]string, len(l))
	for i, e := range l {
		msgs[i] = e.Error()
	}
	return strings.Join(msgs, "\n")
}

// Unwrap returns the single errors, for errors.As and for splitting.
func (l Errors) Unwrap() []error {
	out := make([]error, len(l))
	for i, e := range l {
		out[i] = e
	}
	return out
}

// orNil returns nil for an empty list, so that a nil error is untyped nil.
func (l Errors) orNil() error {
	if len(l) == 0 {
		return nil
	}
	return l
}

var keyRE = regexp.MustCompile(`(?:^|: )(key ("(?:[^"\\]|\\.)*"): )`)

// CutKey finds the key of an *Error in the text of an error that carries
// one (after any prefixes, e.g. "rloo config: key \"k\": expected ..."),
// which is all that crosses the plugin wire. It returns the key and the
// text without the `key "KEY": ` part ("rloo config: expected ..."); ok
// is false when the text names no key.
func CutKey(text string) (key, rest string, ok bool) {
	m := keyRE.FindStringSubmatchIndex(text)
	if m == nil {
		return "", text, false
	}
	k, err := strconv.Unquote(text[m[4]:m[5]])
	if err != nil || k == "" {
		return "", text, false
	}
	return k, text[:m[2]] + text[m[3]:], true
}

// Expected describes, for an error message, what a value of type t looks
// like in a table: "an integer", "an array of strings", "a table".
func Expected(t reflect.Type) string {
	if t == durationType {
		return `a duration string such as "30s" or "1m30s"`
	}
	if t == timeType {
		return "a datetime"
	}
	switch t.Kind() {
	case reflect.Pointer:
		return Expected(t.Elem())
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
	switch e := Expected(t); {
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

// Got describes a table value for an error message: its type and, for
// scalars, the value: `string "x"`, "integer 3", "float 2.0", "table".
func Got(v any) string {
	switch x := plain(v).(type) {
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
		return "float " + FormatFloat(x)
	case bool:
		return "boolean " + strconv.FormatBool(x)
	case time.Time:
		return "datetime " + x.Format(time.RFC3339Nano)
	case []any:
		return fmt.Sprintf("array of %d", len(x))
	case map[string]any:
		return "table"
	default:
		return fmt.Sprintf("%T", v)
	}
}

// FormatFloat prints f so that it stays recognisable as a float: 2 -> 2.0.
func FormatFloat(f float64) string {
	s := strconv.FormatFloat(f, 'g', -1, 64)
	if !strings.ContainsAny(s, ".eEnN") {
		s += ".0"
	}
	return s
}

// UnknownKey is the message for key k of a table whose keys are known:
// "unknown key (did you mean "x"? known keys: a, x)".
func UnknownKey(k string, known []string) string {
	if len(known) == 0 {
		return "unknown key (this table takes no keys)"
	}
	known = slices.Sorted(slices.Values(known))
	if s := Closest(k, known); s != "" {
		return fmt.Sprintf("unknown key (did you mean %q? known keys: %s)", s, strings.Join(known, ", "))
	}
	return "unknown key (known keys: " + strings.Join(known, ", ") + ")"
}

// Closest returns the name in names nearest to k, for a "did you mean"
// hint: at most two edits away and not much more than a third of k, ties
// broken alphabetically; "" if none is close.
func Closest(k string, names []string) string {
	best, bestD := "", 3
	for _, n := range names {
		if d := Levenshtein([]byte(k), []byte(n)); d < bestD || d == bestD && n < best {
			best, bestD = n, d
		}
	}
	if best == "" || bestD > len(k)/3+1 {
		return ""
	}
	return best
}

// Levenshtein is the least number of single-element insertions, deletions
// and substitutions that turn a into b: on the bytes of names for the "did
// you mean" hints, on token ids for the synthetic task's pair statistics.
// It is pit's one edit distance (this module may not import the engine, so
// the engine uses it from here).
func Levenshtein[E comparable](a, b []E) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

// QuoteKey writes a key as a key path segment: bare keys as they are,
// others quoted ("a b" -> "\"a b\"").
func QuoteKey(k string) string {
	if k == "" {
		return `""`
	}
	for i := 0; i < len(k); i++ {
		c := k[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-') {
			return strconv.Quote(k)
		}
	}
	return k
}

// JoinKey appends key k to key path parent: "a.b" + "c" -> "a.b.c".
func JoinKey(parent, k string) string {
	if parent == "" {
		return QuoteKey(k)
	}
	return parent + "." + QuoteKey(k)
}

// JoinIndex appends array index i to key path parent: "a" + 2 -> "a[2]".
func JoinIndex(parent string, i int) string {
	return parent + "[" + strconv.Itoa(i) + "]"
}

// JoinPath appends a relative key path (as in Error.Key) to parent:
// "stages.sft" + "lr" -> "stages.sft.lr", "plot" + "[1].kind" ->
// "plot[1].kind".
func JoinPath(parent, rel string) string {
	switch {
	case rel == "":
		return parent
	case parent == "", strings.HasPrefix(rel, "["):
		return parent + rel
	}
	return parent + "." + rel
}
