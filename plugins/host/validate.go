package host

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/pit-lab/pit/plugins/host/registry"
	"github.com/pit-lab/pit/plugins/sdk"
)

// Validate checks cfg against the built-in plugin kind/name without starting
// a process: it makes a fresh value with the registered factory and
// configures it. It returns every problem (unknown plugin, unknown keys,
// wrong types, values the plugin rejects), each worded by the plugin; nil
// means the config is accepted.
func Validate(kind, name string, cfg map[string]any) []error {
	k, err := sdk.ParseKind(kind)
	if err != nil {
		return []error{err}
	}
	f, ok := registry.Builtin(k, name)
	if !ok {
		return []error{unknownBuiltin(k, name)}
	}
	return sdk.SplitErrors(f().Configure(context.Background(), &sdk.ConfigureRequest{Config: cfg}))
}

// Validate checks cfg against the plugin spec names. Built-ins are checked
// in process (see the package-level Validate); external plugins are
// launched, configured and killed.
func (m *Manager) Validate(ctx context.Context, spec Spec, cfg map[string]any) []error {
	if spec.Path == "" {
		return Validate(string(spec.Kind), spec.Name, cfg)
	}
	p, err := m.Launch(ctx, spec)
	if err != nil {
		return []error{err}
	}
	defer func() {
		m.remove(p)
		p.Kill()
	}()
	return sdk.SplitErrors(p.impl.Configure(ctx, &sdk.ConfigureRequest{Config: cfg}))
}

// DescribeBuiltin describes a registered built-in without starting a
// process.
func DescribeBuiltin(ctx context.Context, kind sdk.Kind, name string) (*sdk.Description, error) {
	f, ok := registry.Builtin(kind, name)
	if !ok {
		return nil, unknownBuiltin(kind, name)
	}
	return sdk.Describe(ctx, f())
}

// EnvPluginPath names the environment variable holding the plugin path:
// directories (separated like PATH) searched for external plugins.
const EnvPluginPath = "PIT_PLUGIN_PATH"

// Find lists the external plugins in dirs: executables named
// "pit-KIND-NAME" (e.g. "pit-reward-clipped-difference"), in the order of
// dirs, each name once (the first wins, as in PATH). Missing directories
// are skipped.
func Find(dirs []string) ([]Spec, error) {
	var out []Spec
	seen := map[string]bool{}
	for _, dir := range dirs {
		if dir == "" {
			continue
		}
		entries, err := os.ReadDir(dir)
		if os.IsNotExist(err) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("plugin path: %w", err)
		}
		for _, e := range entries {
			rest, ok := strings.CutPrefix(e.Name(), "pit-")
			if !ok || e.IsDir() {
				continue
			}
			k, name, ok := strings.Cut(strings.TrimSuffix(rest, ".exe"), "-")
			kind, err := sdk.ParseKind(k)
			if !ok || err != nil || name == "" {
				continue
			}
			info, err := e.Info()
			if err != nil || info.Mode()&0o111 == 0 {
				continue
			}
			key := string(kind) + "/" + name
			if seen[key] {
				continue
			}
			seen[key] = true
			out = append(out, Spec{Kind: kind, Name: name, Path: filepath.Join(dir, e.Name())})
		}
	}
	return out, nil
}

// PluginPath splits the value of EnvPluginPath.
func PluginPath() []string {
	return filepath.SplitList(os.Getenv(EnvPluginPath))
}

// Available is one plugin "pit plugins" can list.
type Available struct {
	Spec        Spec
	Source      string // "builtin" or the executable's path
	Description *sdk.Description
	Err         error // why it could not be described
}

// List describes every built-in (in process) and every external plugin in
// dirs (by launching it), sorted by kind and name.
func (m *Manager) List(ctx context.Context, dirs []string) ([]Available, error) {
	var out []Available
	for _, b := range registry.Builtins() {
		d, err := DescribeBuiltin(ctx, b.Kind, b.Name)
		out = append(out, Available{Spec: Spec{Kind: b.Kind, Name: b.Name}, Source: "builtin", Description: d, Err: err})
	}
	ext, err := Find(dirs)
	if err != nil {
		return nil, err
	}
	for _, s := range ext {
		a := Available{Spec: s, Source: s.Path}
		if p, err := m.Launch(ctx, Spec{Kind: s.Kind, Path: s.Path}); err != nil {
			a.Err = err
		} else {
			a.Description = p.Description
			m.remove(p)
			p.Kill()
		}
		out = append(out, a)
	}
	order := map[sdk.Kind]int{}
	for i, k := range sdk.Kinds {
		order[k] = i
	}
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].Spec.Kind != out[j].Spec.Kind {
			return order[out[i].Spec.Kind] < order[out[j].Spec.Kind]
		}
		return out[i].Spec.Name < out[j].Spec.Name
	})
	return out, nil
}
