package sdk

import (
	"fmt"
	"sort"
	"sync"
)

// Factory makes a fresh, unconfigured plugin value. It must be cheap and
// have no side effects: the registry and the host call it to describe and
// validate.
type Factory func() Plugin

// BuiltinRef names one registered built-in plugin.
type BuiltinRef struct {
	Kind Kind
	Name string
}

var (
	builtinsMu sync.RWMutex
	builtins   = map[BuiltinRef]Factory{}
)

// RegisterBuiltin makes a plugin available as a built-in of the pit binary,
// served by "pit plugin serve KIND NAME". Built-in packages call it from
// init. It panics on a bad kind, an empty name, a duplicate, or a factory
// whose value is not of the given kind: all programming errors.
func RegisterBuiltin(kind Kind, name string, f Factory) {
	if _, err := ParseKind(string(kind)); err != nil {
		panic("sdk.RegisterBuiltin: " + err.Error())
	}
	if name == "" || f == nil {
		panic("sdk.RegisterBuiltin: empty name or nil factory")
	}
	if got, err := KindOf(f()); err != nil || got != kind {
		panic(fmt.Sprintf("sdk.RegisterBuiltin(%s, %s): factory makes a %T, which is not a %s plugin", kind, name, f(), kind))
	}
	builtinsMu.Lock()
	defer builtinsMu.Unlock()
	ref := BuiltinRef{kind, name}
	if _, dup := builtins[ref]; dup {
		panic(fmt.Sprintf("sdk.RegisterBuiltin: %s/%s registered twice", kind, name))
	}
	builtins[ref] = f
}

// Builtin returns the factory of a registered built-in.
func Builtin(kind Kind, name string) (Factory, bool) {
	builtinsMu.RLock()
	defer builtinsMu.RUnlock()
	f, ok := builtins[BuiltinRef{kind, name}]
	return f, ok
}

// Builtins lists the registered built-ins, sorted by kind (in Kinds order)
// and name.
func Builtins() []BuiltinRef {
	builtinsMu.RLock()
	defer builtinsMu.RUnlock()
	out := make([]BuiltinRef, 0, len(builtins))
	for r := range builtins {
		out = append(out, r)
	}
	order := map[Kind]int{}
	for i, k := range Kinds {
		order[k] = i
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Kind != out[j].Kind {
			return order[out[i].Kind] < order[out[j].Kind]
		}
		return out[i].Name < out[j].Name
	})
	return out
}

// KindOf says which kind of plugin p is, by the interface it implements.
func KindOf(p Plugin) (Kind, error) {
	var kinds []Kind
	if _, ok := p.(Reward); ok {
		kinds = append(kinds, KindReward)
	}
	if _, ok := p.(Algorithm); ok {
		kinds = append(kinds, KindAlgorithm)
	}
	if _, ok := p.(Curriculum); ok {
		kinds = append(kinds, KindCurriculum)
	}
	switch len(kinds) {
	case 1:
		return kinds[0], nil
	case 0:
		return "", fmt.Errorf("%T implements none of sdk.Reward, sdk.Algorithm, sdk.Curriculum (check the method sets; Algorithm and Curriculum also need SaveState/RestoreState)", p)
	}
	return "", fmt.Errorf("%T implements more than one plugin kind (%v)", p, kinds)
}
