package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// pit init writes an experiment that pit validate accepts and pit run
// --dry-run plans, and refuses to overwrite without --force.
func TestInitExperiment(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "my exp")
	var out, errOut bytes.Buffer
	if code := realMain([]string{"init", dir}, &out, &errOut); code != 0 {
		t.Fatalf("pit init: exit %d\n%s", code, &errOut)
	}
	file := filepath.Join(dir, "experiments.toml")
	src, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(src), `name = "my-exp"`) || strings.Count(string(src), "\n#") < 10 {
		t.Errorf("experiments.toml is not a commented experiment named my-exp:\n%s", src)
	}
	out.Reset()
	errOut.Reset()
	if code := realMain([]string{"validate", file}, &out, &errOut); code != 0 {
		t.Fatalf("pit validate of pit init's experiment: exit %d\n%s", code, &errOut)
	}
	if !strings.Contains(out.String(), "stages: data, sft, rm") {
		t.Errorf("summary:\n%s", &out)
	}
	out.Reset()
	errOut.Reset()
	if code := realMain([]string{"run", file, "--dry-run", "--out", t.TempDir()}, &out, &errOut); code != 0 {
		t.Fatalf("pit run --dry-run: exit %d\n%s", code, &errOut)
	}
	// The grid the file shows in a comment is valid once uncommented.
	grid := strings.NewReplacer("# [grid.axes.curriculum]", "[grid.axes.curriculum]", "# path = ", "path = ", "# values = ", "values = ").Replace(string(src))
	gridFile := filepath.Join(t.TempDir(), "grid.toml")
	if err := os.WriteFile(gridFile, []byte(grid), 0o644); err != nil {
		t.Fatal(err)
	}
	out.Reset()
	errOut.Reset()
	if code := realMain([]string{"validate", gridFile}, &out, &errOut); code != 0 || !strings.Contains(out.String(), "2 arm(s) x 1 seed(s)") {
		t.Errorf("the commented grid: exit %d\n%s%s", code, &out, &errOut)
	}
	// A second init does not overwrite.
	if err := os.WriteFile(file, []byte("mine\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	errOut.Reset()
	if code := realMain([]string{"init", dir}, &out, &errOut); code != 1 || !strings.Contains(errOut.String(), "--force") {
		t.Errorf("second init: exit %d\n%s", code, &errOut)
	}
	if b, _ := os.ReadFile(file); string(b) != "mine\n" {
		t.Errorf("pit init overwrote %s", file)
	}
	if code := realMain([]string{"init", "--plugin", "rust", dir}, &out, &errOut); code != 2 {
		t.Errorf("--plugin rust: exit %d", code)
	}
}

// The Go skeleton builds against this checkout (offline: pit init copies
// the checkout's requirements and go.sum), and pit validate accepts the
// experiment once it names the built plugin: the plugin is launched and
// its config checked.
func TestInitGoPlugin(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the plugin skeleton; skipped with -short")
	}
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	var out, errOut bytes.Buffer
	if code := realMain([]string{"init", "--plugin", "go", "--pit", root, dir}, &out, &errOut); code != 0 {
		t.Fatalf("pit init: exit %d\n%s", code, &errOut)
	}
	gomod, err := os.ReadFile(filepath.Join(dir, "my-reward", "go.mod"))
	if err != nil || !strings.Contains(string(gomod), "replace ") || !strings.Contains(string(gomod), root) {
		t.Fatalf("go.mod does not build against the checkout (%v):\n%s", err, gomod)
	}
	build := exec.Command("go", "build", "-o", "pit-reward-my-reward", ".")
	build.Dir = filepath.Join(dir, "my-reward")
	build.Env = append(os.Environ(), "GOPROXY=off", "GOFLAGS=-mod=mod", "GOSUMDB=off")
	if b, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build of the skeleton: %v\n%s", err, b)
	}
	file := filepath.Join(dir, "experiments.toml")
	src, _ := os.ReadFile(file)
	use := strings.ReplaceAll(string(src), "\nreward = \"bradley-terry\"", "\nreward = { plugin = \"my-reward\", path = \"my-reward/pit-reward-my-reward\", config = { scale = 2.0 } }")
	if err := os.WriteFile(file, []byte(use), 0o644); err != nil {
		t.Fatal(err)
	}
	out.Reset()
	errOut.Reset()
	if code := realMain([]string{"validate", file}, &out, &errOut); code != 0 || !strings.Contains(out.String(), "rm (reward my-reward)") {
		t.Fatalf("pit validate with the skeleton plugin: exit %d\n%s%s", code, &out, &errOut)
	}
	// Its config is checked by the plugin itself.
	bad := strings.ReplaceAll(use, "scale = 2.0", "scale = -1.0")
	if err := os.WriteFile(file, []byte(bad), 0o644); err != nil {
		t.Fatal(err)
	}
	errOut.Reset()
	if code := realMain([]string{"validate", file}, &out, &errOut); code != 1 || !strings.Contains(errOut.String(), `want > 0, got -1`) {
		t.Errorf("bad scale: exit %d\n%s", code, &errOut)
	}
}

// The Python skeleton is an executable script, run by an interpreter that
// has gRPC, and pit validate launches it and checks its config.
func TestInitPythonPlugin(t *testing.T) {
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	var out, errOut bytes.Buffer
	if code := realMain([]string{"init", "--plugin", "python", "--pit", root, dir}, &out, &errOut); code != 0 {
		t.Fatalf("pit init: exit %d\n%s", code, &errOut)
	}
	script := filepath.Join(dir, "my-reward", "pit-reward-my-reward.py")
	fi, err := os.Stat(script)
	if err != nil || fi.Mode()&0o111 == 0 {
		t.Fatalf("script %v, mode %v", err, fi)
	}
	if b, _ := os.ReadFile(script); !strings.Contains(string(b), filepath.Join(root, "python")) {
		t.Errorf("the script does not find pit_plugin in %s", filepath.Join(root, "python"))
	}
	python := pythonWithGRPC()
	if python == envPython {
		t.Skip("no python3 imports grpc and protobuf (scripts/install-deps.sh installs them)")
	}
	if b, _ := os.ReadFile(script); !strings.HasPrefix(string(b), "#!"+python+"\n") {
		t.Errorf("the script does not start with #!%s", python)
	}
	if b, err := exec.Command(python, "-m", "py_compile", script).CombinedOutput(); err != nil {
		t.Fatalf("py_compile: %v\n%s", err, b)
	}
	file := filepath.Join(dir, "experiments.toml")
	src, _ := os.ReadFile(file)
	use := strings.ReplaceAll(string(src), "\nreward = \"bradley-terry\"", "\nreward = { plugin = \"my-reward\", path = \"my-reward/pit-reward-my-reward.py\" }")
	if err := os.WriteFile(file, []byte(use), 0o644); err != nil {
		t.Fatal(err)
	}
	out.Reset()
	errOut.Reset()
	if code := realMain([]string{"validate", file}, &out, &errOut); code != 0 {
		t.Fatalf("pit validate with the Python skeleton: exit %d\n%s%s", code, &out, &errOut)
	}
}
