package experiment

import (
	"fmt"
	"strings"
)

// An Option changes how an experiment file is read.
type Option func(*options)

type options struct {
	sets []override
}

type override struct {
	key   string // dotted path, e.g. "model.device"
	value any
}

// Set overrides one value of the file, as if the file said it: key is a
// dotted path such as "model.device", and the tables on the way are
// created when the file lacks them. The value is validated like the
// file's own (problems name the key). A grid axis over the same key still
// applies on top. pit run --device uses it.
func Set(key string, value any) Option {
	return func(o *options) { o.sets = append(o.sets, override{key: key, value: value}) }
}

// apply writes the overrides into the file's raw tree.
func (o *options) apply(raw map[string]any) error {
	for _, s := range o.sets {
		parts := strings.Split(s.key, ".")
		t := raw
		for i, p := range parts {
			if p == "" {
				return fmt.Errorf("override %q: empty key part", s.key)
			}
			if i == len(parts)-1 {
				t[p] = normalizeRaw(tomlValue(s.value))
				break
			}
			next, ok := t[p]
			if !ok {
				m := map[string]any{}
				t[p] = m
				t = m
				continue
			}
			if t, ok = next.(map[string]any); !ok {
				return fmt.Errorf("override %q: %s is not a table", s.key, strings.Join(parts[:i+1], "."))
			}
		}
	}
	return nil
}

// tomlValue converts Go numbers to the types a TOML decoder gives (int64,
// float64), so that an override looks like the file's own values.
func tomlValue(v any) any {
	switch x := v.(type) {
	case int:
		return int64(x)
	case int32:
		return int64(x)
	case uint32:
		return int64(x)
	case float32:
		return float64(x)
	}
	return v
}

// markOverridden points the problems with overridden values at the
// command line rather than at a line of the file.
func (o *options) markOverridden(errs ErrorList) {
	for _, e := range errs {
		for _, s := range o.sets {
			if e.Key == s.key {
				e.Line = 0
				e.Msg += " (value set on the command line)"
			}
		}
	}
}
