package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"path/filepath"
	"sort"
	"strings"
	"text/tabwriter"

	"github.com/BurntSushi/toml"
	"github.com/pit-lab/pit/plugins/host"
	"github.com/pit-lab/pit/plugins/host/registry"
	"github.com/pit-lab/pit/plugins/sdk"
)

// "pit plugin serve KIND NAME" is how a host launches a built-in: the pit
// binary serves it in a process of its own. "pit plugins" lists what is
// available; "pit plugins describe NAME" prints a plugin's config schema.

func init() {
	register(&command{
		name:    "plugin",
		summary: "serve a built-in plugin (run by pit itself)",
		hidden:  true,
		run:     runPlugin,
	})
	register(&command{
		name:    "plugins",
		summary: "list plugins; \"plugins describe NAME\" prints one's config and defaults",
		run:     runPlugins,
	})
}

func runPlugin(_ context.Context, args []string, _, _ io.Writer) error {
	if len(args) != 3 || args[0] != "serve" {
		return fmt.Errorf("usage: pit plugin serve KIND NAME (run by pit to serve a built-in plugin)")
	}
	kind, err := sdk.ParseKind(args[1])
	if err != nil {
		return err
	}
	// Serve owns stdout (go-plugin's handshake) and returns when the host
	// is done.
	return registry.ServeBuiltin(kind, args[2])
}

func runPlugins(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	describe := len(args) > 0 && args[0] == "describe"
	if describe {
		args = args[1:]
	}
	fs := flag.NewFlagSet("plugins", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var paths multiFlag
	fs.Var(&paths, "path", "directory with external plugins (pit-KIND-NAME executables); repeatable; added to $"+host.EnvPluginPath)
	kindFlag := fs.String("kind", "", "with describe: the plugin's kind, when NAME is ambiguous or a path")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "Usage: pit plugins [-path DIR]\n       pit plugins describe [-kind KIND] [-path DIR] NAME|PATH")
		fs.PrintDefaults()
	}
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return exitError{2}
	}
	dirs := append(host.PluginPath(), paths...)
	m := host.NewManager(ctx, host.Options{})
	defer m.Close()

	if !describe {
		if len(pos) != 0 {
			fs.Usage()
			return exitError{2}
		}
		list, err := m.List(ctx, dirs)
		if err != nil {
			return err
		}
		return printList(stdout, list)
	}
	if len(pos) != 1 {
		fs.Usage()
		return exitError{2}
	}
	var kind sdk.Kind
	if *kindFlag != "" {
		k, err := sdk.ParseKind(*kindFlag)
		if err != nil {
			return err
		}
		kind = k
	}
	a, err := findPlugin(ctx, m, dirs, kind, pos[0])
	if err != nil {
		return err
	}
	return printDescription(stdout, a)
}

func printList(w io.Writer, list []host.Available) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "KIND\tNAME\tVERSION\tSOURCE\tSUMMARY")
	for _, a := range list {
		if a.Err != nil {
			fmt.Fprintf(tw, "%s\t%s\t?\t%s\terror: %s\n", a.Spec.Kind, a.Spec.Name, a.Source, firstLine(a.Err.Error()))
			continue
		}
		d := a.Description
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", d.Kind, d.Name, d.Version, a.Source, d.Summary)
	}
	return tw.Flush()
}

// findPlugin resolves NAME (a built-in, a plugin on the plugin path, or an
// executable's path) to a described plugin.
func findPlugin(ctx context.Context, m *host.Manager, dirs []string, kind sdk.Kind, name string) (host.Available, error) {
	if strings.ContainsRune(name, filepath.Separator) {
		kinds := sdk.Kinds
		if kind != "" {
			kinds = []sdk.Kind{kind}
		}
		var errs []string
		for _, k := range kinds {
			p, err := m.Launch(ctx, host.Spec{Kind: k, Path: name})
			if err == nil {
				defer p.Kill()
				return host.Available{Spec: p.Spec, Source: name, Description: p.Description}, nil
			}
			errs = append(errs, err.Error())
		}
		return host.Available{}, fmt.Errorf("describe %s:\n%s", name, strings.Join(errs, "\n"))
	}
	list, err := m.List(ctx, dirs)
	if err != nil {
		return host.Available{}, err
	}
	var matches []host.Available
	var known []string
	for _, a := range list {
		if kind != "" && a.Spec.Kind != kind {
			continue
		}
		known = append(known, string(a.Spec.Kind)+"/"+a.Spec.Name)
		if a.Spec.Name == name || (a.Description != nil && a.Description.Name == name) {
			matches = append(matches, a)
		}
	}
	switch len(matches) {
	case 0:
		sort.Strings(known)
		return host.Available{}, fmt.Errorf("no plugin named %q (available: %s)", name, strings.Join(known, ", "))
	case 1:
		if matches[0].Err != nil {
			return host.Available{}, matches[0].Err
		}
		return matches[0], nil
	}
	var kinds []string
	for _, a := range matches {
		kinds = append(kinds, string(a.Spec.Kind))
	}
	return host.Available{}, fmt.Errorf("%q names plugins of several kinds (%s): pick one with -kind", name, strings.Join(kinds, ", "))
}

func printDescription(w io.Writer, a host.Available) error {
	d := a.Description
	fmt.Fprintf(w, "%s plugin %s %s (%s)\n", d.Kind, d.Name, d.Version, a.Source)
	if d.Summary != "" {
		fmt.Fprintf(w, "  %s\n", d.Summary)
	}
	if d.Kind == sdk.KindReward {
		fmt.Fprintf(w, "  needs a learned model: %s; reference-conditioned: %s\n", yesNo(d.NeedsLearnedModel), yesNo(d.ReferenceConditioned))
	}
	if len(d.Capabilities) > 0 {
		fmt.Fprintf(w, "  capabilities: %s\n", strings.Join(d.Capabilities, ", "))
	}
	if len(d.Config) == 0 {
		fmt.Fprintln(w, "\nNo config keys.")
		return nil
	}
	fmt.Fprintln(w, "\nConfig keys:")
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "  KEY\tTYPE\tDEFAULT\tDOC")
	defaults := map[string]any{}
	for _, f := range d.Config {
		def := "-"
		if f.Default != nil {
			def = fmt.Sprint(f.Default)
			setDotted(defaults, f.Name, f.Default)
		}
		fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\n", f.Name, f.Type, def, f.Doc)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintln(w, "\nDefaults as TOML (the plugin's config table in an experiment file):")
	return toml.NewEncoder(w).Encode(defaults)
}

func setDotted(m map[string]any, key string, v any) {
	head, rest, ok := strings.Cut(key, ".")
	if !ok {
		m[key] = v
		return
	}
	sub, _ := m[head].(map[string]any)
	if sub == nil {
		sub = map[string]any{}
		m[head] = sub
	}
	setDotted(sub, rest, v)
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

func firstLine(s string) string {
	line, _, _ := strings.Cut(s, "\n")
	return line
}

// multiFlag collects a repeatable string flag.
type multiFlag []string

func (f *multiFlag) String() string     { return strings.Join(*f, ",") }
func (f *multiFlag) Set(v string) error { *f = append(*f, v); return nil }
