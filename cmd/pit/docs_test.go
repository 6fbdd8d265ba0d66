package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// docsSetup returns the shell commands of docs/plugins.md's first section,
// "Start a plugin module", in order.
func docsSetup(t *testing.T) []string {
	t.Helper()
	b, err := os.ReadFile("../../docs/plugins.md")
	if err != nil {
		t.Fatal(err)
	}
	_, sec, ok := strings.Cut(string(b), "\n## Start a plugin module\n")
	if !ok {
		t.Fatal(`docs/plugins.md has no "## Start a plugin module" section`)
	}
	if before, _, _ := strings.Cut(string(b), "\n## "); strings.Count(before, "\n") > 3 {
		t.Error("docs/plugins.md does not start with the plugin module's commands")
	}
	_, block, ok := strings.Cut(sec, "```sh\n")
	block, _, ok2 := strings.Cut(block, "```")
	if !ok || !ok2 {
		t.Fatal("no sh block in the section")
	}
	return strings.Split(strings.TrimSpace(block), "\n")
}

// TestDocsPluginModule follows docs/plugins.md word for word: in a
// temporary directory outside the checkout it makes a module for the
// smallest reward plugin, points it at this checkout with replace, builds
// it with the go command as the environment has it (GOFLAGS, GOPROXY), and
// describes it through pit's host.
func TestDocsPluginModule(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a plugin module with the go command; skipped with -short")
	}
	lines := docsSetup(t)
	last := lines[len(lines)-1]
	const pitCmd = `"$PIT/pit" `
	if !strings.HasPrefix(last, pitCmd) {
		t.Fatalf("the commands end with %q, want a %s line", last, pitCmd)
	}
	checkout, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	tmp := t.TempDir()
	if strings.HasPrefix(tmp, checkout+string(filepath.Separator)) {
		t.Fatalf("temporary directory %s is inside the checkout", tmp)
	}
	script := "set -ex\n" + strings.Join(lines[:len(lines)-1], "\n") + "\npwd > ../module-dir\n"
	cmd := exec.Command("sh", "-c", script)
	cmd.Dir = tmp
	cmd.Env = append(os.Environ(), "PIT="+checkout, "GOWORK=off", "GOFLAGS="+strings.TrimSpace(os.Getenv("GOFLAGS")+" -mod=mod"))
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("the documented commands failed: %v\n%s", err, out)
	}
	dirb, err := os.ReadFile(filepath.Join(tmp, "module-dir"))
	if err != nil {
		t.Fatal(err)
	}
	dir := strings.TrimSpace(string(dirb))
	gomod, err := os.ReadFile(filepath.Join(dir, "go.mod"))
	if err != nil {
		t.Fatal(err)
	}
	for _, forbidden := range []string{"gorgonia.org", "gonum.org", "github.com/pit-lab/pit "} {
		if bytes.Contains(gomod, []byte(forbidden)) {
			t.Errorf("the plugin's go.mod requires %s:\n%s", forbidden, gomod)
		}
	}

	// The last line is pit itself: run it in process, on the built plugin.
	args := strings.Fields(strings.TrimPrefix(last, pitCmd))
	for i, a := range args {
		if strings.HasPrefix(a, "./") {
			args[i] = filepath.Join(dir, a)
		}
	}
	var out, errOut bytes.Buffer
	if code := realMain(args, &out, &errOut); code != 0 {
		t.Fatalf("pit %s: exit %d\n%s", strings.Join(args, " "), code, errOut.String())
	}
	for _, want := range []string{"reward plugin length 1.0.0", "scale", "reward per response token"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("pit %s prints no %q:\n%s", strings.Join(args, " "), want, out.String())
		}
	}
}

// TestSmallestPluginIsSmall keeps the example the docs show within 35
// lines, and the docs showing it as it is.
func TestSmallestPluginIsSmall(t *testing.T) {
	src, err := os.ReadFile("../../plugins/examples/length/main.go")
	if err != nil {
		t.Fatal(err)
	}
	if n := bytes.Count(src, []byte("\n")); n > 35 {
		t.Errorf("plugins/examples/length/main.go has %d lines, want ≤ 35", n)
	}
	doc, err := os.ReadFile("../../docs/plugins.md")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(doc, append(append([]byte("```go\n"), src...), "```"...)) {
		t.Error("docs/plugins.md does not show plugins/examples/length/main.go as it is")
	}
	for _, imp := range bytes.Split(src, []byte("\n")) {
		if s := strings.TrimSpace(string(imp)); strings.HasPrefix(s, `"github.com/`) && !strings.HasPrefix(s, `"github.com/pit-lab/pit/plugins/sdk`) {
			t.Errorf("the smallest plugin imports %s, not only the SDK", s)
		}
	}
}
