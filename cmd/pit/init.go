package main

import (
	"bytes"
	"context"
	"embed"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"runtime/debug"
	"strings"
	"text/template"
)

func init() {
	register(&command{
		name:    "init",
		summary: "write a commented minimal experiment (and a plugin skeleton) to start from",
		run:     initCmd,
	})
}

//go:embed templates
var templates embed.FS

// rootModule is pit's module path; a checkout is a directory whose go.mod
// declares it.
const rootModule = "github.com/pit-lab/pit"

// initData fills the templates under templates/.
type initData struct {
	Name       string // the experiment's name
	Plugin     string // "", "go" or "python"
	PluginName string // the plugin's name, e.g. "my-reward"
	PluginDir  string // its directory, relative to DIR
	PluginExe  string // its executable, relative to DIR
	GoVersion  string // go directive of the skeleton's go.mod
	SDKModule  string // module that holds plugins/sdk
	SDKVersion string // required version of SDKModule
	SDKReplace string // a pit checkout's SDK directory, "" if none was found
	Requires   string // the SDK module's own require blocks, so the skeleton builds offline
	Replaces   string // the SDK module's replace directives, made absolute (its wire module)
	PythonSDK  string // the directory that holds pit_plugin, if known
	Python     string // the Python skeleton's interpreter: one that imports grpc, else "/usr/bin/env python3"
}

func initCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("pit init", flag.ContinueOnError)
	fs.SetOutput(stderr)
	plugin := fs.String("plugin", "none", "also write a reward plugin skeleton: none, go or python")
	name := fs.String("name", "", "the experiment's name (default: DIR's base name)")
	checkout := fs.String("pit", "", "a checkout of pit to build the plugin against (default: found above the working directory)")
	force := fs.Bool("force", false, "overwrite files that exist")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "Usage: pit init [--plugin none|go|python] [--name NAME] [--pit CHECKOUT] [--force] [DIR]")
		fmt.Fprintln(stderr, "\nWrites DIR/experiments.toml (DIR defaults to the working directory): a commented")
		fmt.Fprintln(stderr, "minimal experiment that pit validate accepts and pit run runs in a few minutes.")
		fmt.Fprintln(stderr, "With --plugin, also a reward plugin skeleton in DIR/my-reward/ to make your own.")
		fmt.Fprintln(stderr, "\nFlags:")
		fs.PrintDefaults()
	}
	pos, err := parseInterspersed(fs, args)
	if errors.Is(err, flag.ErrHelp) {
		return nil
	}
	if err != nil {
		return exitError{2}
	}
	if len(pos) > 1 {
		fmt.Fprintln(stderr, "pit init: want at most one DIR")
		return exitError{2}
	}
	dir := "."
	if len(pos) == 1 {
		dir = pos[0]
	}
	switch *plugin {
	case "none", "go", "python":
	default:
		fmt.Fprintf(stderr, "pit init: --plugin %q: want none, go or python\n", *plugin)
		return exitError{2}
	}
	d := initData{Name: *name, PluginName: "my-reward", PluginDir: "my-reward"}
	if d.Name == "" {
		abs, err := filepath.Abs(dir)
		if err != nil {
			return err
		}
		d.Name = experimentName(filepath.Base(abs))
	}
	if *plugin != "none" {
		d.Plugin = *plugin
	}
	root := *checkout
	if root == "" {
		root = findCheckout()
	} else if !isCheckout(root) {
		fmt.Fprintf(stderr, "pit init: --pit %s: not a checkout of pit (no go.mod declaring %s)\n", root, rootModule)
		return exitError{2}
	}
	if root != "" {
		root, _ = filepath.Abs(root)
	}
	d.fillSDK(root)

	files := []struct{ tmpl, out string }{{"templates/experiments.toml.tmpl", "experiments.toml"}}
	switch d.Plugin {
	case "go":
		d.PluginExe = d.PluginDir + "/pit-reward-" + d.PluginName
		files = append(files,
			struct{ tmpl, out string }{"templates/go/main.go.tmpl", d.PluginDir + "/main.go"},
			struct{ tmpl, out string }{"templates/go/go.mod.tmpl", d.PluginDir + "/go.mod"},
			struct{ tmpl, out string }{"templates/go/README.md.tmpl", d.PluginDir + "/README.md"})
	case "python":
		d.Python = pythonWithGRPC()
		d.PluginExe = d.PluginDir + "/pit-reward-" + d.PluginName + ".py"
		files = append(files, struct{ tmpl, out string }{"templates/python/plugin.py.tmpl", d.PluginExe})
	}
	// Render everything first: nothing is written unless all of it can be.
	rendered := make([][]byte, len(files))
	for i, f := range files {
		t, err := template.ParseFS(templates, f.tmpl)
		if err != nil {
			return fmt.Errorf("template %s: %w", f.tmpl, err)
		}
		var b bytes.Buffer
		if err := t.Execute(&b, d); err != nil {
			return fmt.Errorf("template %s: %w", f.tmpl, err)
		}
		rendered[i] = b.Bytes()
		if _, err := os.Stat(filepath.Join(dir, f.out)); err == nil && !*force {
			fmt.Fprintf(stderr, "pit init: %s exists; keep it, or pass --force to overwrite it\n", filepath.Join(dir, f.out))
			return exitError{1}
		}
	}
	if d.Plugin == "go" && d.SDKReplace != "" {
		// The checkout's go.sum matches the requirements copied into the
		// skeleton's go.mod: it builds without a network.
		if sum, err := os.ReadFile(filepath.Join(d.SDKReplace, "go.sum")); err == nil {
			files = append(files, struct{ tmpl, out string }{"", d.PluginDir + "/go.sum"})
			rendered = append(rendered, sum)
		}
	}
	for i, f := range files {
		path := filepath.Join(dir, filepath.FromSlash(f.out))
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			return err
		}
		mode := os.FileMode(0o644)
		if strings.HasSuffix(f.out, ".py") {
			mode = 0o755 // pit executes Python plugins by path
		}
		if err := os.WriteFile(path, rendered[i], mode); err != nil {
			return err
		}
		if err := os.Chmod(path, mode); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "wrote %s\n", path)
	}
	fmt.Fprintln(stdout, "\nNext:")
	cd := ""
	if dir != "." {
		cd = "cd " + dir + " && "
	}
	fmt.Fprintf(stdout, "  %spit validate -plan    # every check pit run makes, nothing computed\n", cd)
	fmt.Fprintf(stdout, "  %spit run               # results in results/%s/\n", cd, d.Name)
	switch d.Plugin {
	case "go":
		fmt.Fprintf(stdout, "  the plugin: see %s (go mod tidy, go build)\n", filepath.Join(dir, d.PluginDir, "README.md"))
		if d.SDKReplace == "" {
			fmt.Fprintf(stdout, "  no checkout of pit was found: %s requires %s %s; pass --pit CHECKOUT to build against a checkout\n",
				filepath.Join(dir, d.PluginDir, "go.mod"), d.SDKModule, d.SDKVersion)
		}
	case "python":
		fmt.Fprintf(stdout, "  the plugin: %s (needs python3-grpcio, python3-protobuf and python3-cryptography)\n", filepath.Join(dir, d.PluginExe))
		if d.PythonSDK == "" {
			fmt.Fprintln(stdout, "  no checkout of pit was found: set PIT_PYTHON_SDK to its python/ directory")
		}
		if d.Python == envPython {
			fmt.Fprintln(stdout, "  no python3 here imports grpc: install python3-grpcio, python3-protobuf and python3-cryptography (scripts/install-deps.sh), or fix the script's first line")
		}
	}
	return nil
}

const envPython = "/usr/bin/env python3"

// pythonWithGRPC returns the first python3 (on PATH, then Debian's) that
// imports grpc, protobuf and cryptography (go-plugin's mutual TLS), for
// the Python skeleton's first line: a bare
// "env python3" can pick an interpreter without them, and the plugin then
// fails with go-plugin's unhelpful handshake error.
func pythonWithGRPC() string {
	var candidates []string
	if p, err := exec.LookPath("python3"); err == nil {
		candidates = append(candidates, p)
	}
	candidates = append(candidates, "/usr/bin/python3")
	for _, c := range candidates {
		if exec.Command(c, "-c", "import grpc, google.protobuf, cryptography").Run() == nil {
			return c
		}
	}
	return envPython
}

var nameCharRE = regexp.MustCompile(`[^A-Za-z0-9_.+-]+`)

// experimentName turns a directory's name into a valid experiment name.
func experimentName(base string) string {
	n := strings.Trim(nameCharRE.ReplaceAllString(base, "-"), "-.+")
	if n == "" || n == "." {
		return "my-experiment"
	}
	if len(n) > 64 {
		n = n[:64]
	}
	return n
}

// findCheckout returns the nearest directory at or above the working
// directory that is a checkout of pit, or "".
func findCheckout() string {
	d, err := os.Getwd()
	if err != nil {
		return ""
	}
	for {
		if isCheckout(d) {
			return d
		}
		parent := filepath.Dir(d)
		if parent == d {
			return ""
		}
		d = parent
	}
}

func isCheckout(dir string) bool {
	mod, _ := modulePath(filepath.Join(dir, "go.mod"))
	return mod == rootModule
}

// modulePath returns the module path and go version a go.mod declares.
func modulePath(gomod string) (module, goVersion string) {
	b, err := os.ReadFile(gomod)
	if err != nil {
		return "", ""
	}
	for _, line := range strings.Split(string(b), "\n") {
		f := strings.Fields(line)
		if len(f) == 2 && f[0] == "module" {
			module = strings.Trim(f[1], `"`)
		}
		if len(f) == 2 && f[0] == "go" {
			goVersion = f[1]
		}
	}
	return module, goVersion
}

// fillSDK decides which module the Go skeleton requires: plugins/sdk's own
// module when the checkout has one, else pit's; built against the checkout
// (a replace directive) when one was found, else at this binary's version.
func (d *initData) fillSDK(root string) {
	d.SDKModule, d.SDKVersion = rootModule, "v0.0.0"
	d.GoVersion = strings.TrimPrefix(runtime.Version(), "go")
	if i := strings.Index(d.GoVersion, "."); i >= 0 {
		if j := strings.Index(d.GoVersion[i+1:], "."); j >= 0 {
			d.GoVersion = d.GoVersion[:i+1+j] // go1.26.1 -> 1.26
		}
	}
	if bi, ok := debug.ReadBuildInfo(); ok && strings.HasPrefix(bi.Main.Version, "v") && !strings.Contains(bi.Main.Version, "devel") {
		d.SDKVersion = bi.Main.Version
	}
	if root == "" {
		return
	}
	d.PythonSDK = filepath.Join(root, "python")
	if _, gov := modulePath(filepath.Join(root, "go.mod")); gov != "" {
		d.GoVersion = gov
	}
	d.SDKReplace = root
	if mod, _ := modulePath(filepath.Join(root, "plugins", "sdk", "go.mod")); mod != "" {
		d.SDKModule, d.SDKReplace = mod, filepath.Join(root, "plugins", "sdk")
	}
	d.Requires = requireBlocks(filepath.Join(d.SDKReplace, "go.mod"))
	d.Replaces = replaceLines(filepath.Join(d.SDKReplace, "go.mod"))
}

// replaceLines returns a go.mod's one-line replace directives with relative
// targets made absolute: replaces in a dependency do not apply to the
// module that requires it, so the skeleton repeats the SDK's (its wire
// module, plugins/proto).
func replaceLines(gomod string) string {
	b, err := os.ReadFile(gomod)
	if err != nil {
		return ""
	}
	var out []string
	for _, line := range strings.Split(string(b), "\n") {
		t := strings.TrimSpace(line)
		if !strings.HasPrefix(t, "replace ") || strings.HasSuffix(t, "(") {
			continue
		}
		from, to, ok := strings.Cut(strings.TrimPrefix(t, "replace "), "=>")
		if !ok {
			continue
		}
		to = strings.TrimSpace(to)
		if strings.HasPrefix(to, ".") {
			to = filepath.Join(filepath.Dir(gomod), to)
		}
		out = append(out, "replace "+strings.TrimSpace(from)+" => "+to)
	}
	return strings.Join(out, "\n")
}

// requireBlocks returns the require directives of a go.mod, verbatim.
func requireBlocks(gomod string) string {
	b, err := os.ReadFile(gomod)
	if err != nil {
		return ""
	}
	var out []string
	in := false
	for _, line := range strings.Split(string(b), "\n") {
		t := strings.TrimSpace(line)
		switch {
		case in:
			out = append(out, line)
			if t == ")" {
				in = false
			}
		case strings.HasPrefix(t, "require ("):
			out = append(out, line)
			in = true
		case strings.HasPrefix(t, "require "):
			out = append(out, line)
		}
	}
	return strings.Join(out, "\n")
}
