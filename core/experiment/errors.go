package experiment

import (
	"errors"
	"fmt"
	"sort"
	"strings"
)

// Error is one problem found in an experiment file. Its text is
// "file:line: key.path: message"; the line is left out when the key does
// not appear in the file (a missing table, for example), and the key when
// the problem concerns the whole file.
type Error struct {
	File string // the experiment file's name as given to Load or Parse
	Line int    // 1-based line of the key in the file; 0 if unknown
	Key  string // dotted key path, e.g. "stages.rlhf.reward.config.beta"; array elements as "seeds[1]"
	Msg  string // what was expected, and what was found
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(e.File)
	if e.Line > 0 {
		fmt.Fprintf(&b, ":%d", e.Line)
	}
	b.WriteString(": ")
	if e.Key != "" {
		b.WriteString(e.Key)
		b.WriteString(": ")
	}
	b.WriteString(e.Msg)
	return b.String()
}

// ErrorList is every problem found in an experiment file, ordered by line.
// Load and Parse return it (as error) when a file is invalid.
type ErrorList []*Error

func (l ErrorList) Error() string {
	msgs := make([]string, len(l))
	for i, e := range l {
		msgs[i] = e.Error()
	}
	return strings.Join(msgs, "\n")
}

// Unwrap returns the individual errors, for errors.As and errors.Is.
func (l ErrorList) Unwrap() []error {
	errs := make([]error, len(l))
	for i, e := range l {
		errs[i] = e
	}
	return errs
}

// sortAndDedup orders errors by line, key and message and drops repeats
// (the same base-file problem is found once per grid arm).
func (l ErrorList) sortAndDedup() ErrorList {
	sort.SliceStable(l, func(i, j int) bool {
		a, b := l[i], l[j]
		if a.Line != b.Line {
			return a.Line < b.Line
		}
		if a.Key != b.Key {
			return a.Key < b.Key
		}
		return a.Msg < b.Msg
	})
	out := l[:0]
	for i, e := range l {
		if i > 0 && *e == *l[i-1] {
			continue
		}
		out = append(out, e)
	}
	return out
}

// FieldError is returned by a settings type's Validate method, or by a
// PluginValidator, to point at one key. Key is relative to the validated
// table: "lr" for stages.sft.lr when returned by the sft settings, "beta"
// for stages.rlhf.reward.config.beta when returned for the reward plugin's
// config. Several problems can be returned at once with errors.Join.
type FieldError struct {
	Key string
	Msg string
}

func (e *FieldError) Error() string {
	if e.Key == "" {
		return e.Msg
	}
	return e.Key + ": " + e.Msg
}

// Errorf returns a FieldError for key with a formatted message.
func Errorf(key, format string, args ...any) *FieldError {
	return &FieldError{Key: key, Msg: fmt.Sprintf(format, args...)}
}

// ErrUnknownPlugin is wrapped by a PluginValidator's error when no plugin of
// the kind has the name; the error is then reported at the table's "plugin"
// key.
var ErrUnknownPlugin = errors.New("unknown plugin")

// flatten returns the leaves of a tree of errors joined with errors.Join
// (or anything with Unwrap() []error).
func flatten(err error) []error {
	if err == nil {
		return nil
	}
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		var out []error
		for _, e := range j.Unwrap() {
			out = append(out, flatten(e)...)
		}
		return out
	}
	return []error{err}
}
