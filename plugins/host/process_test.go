package host_test

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/pit-lab/pit/plugins/host"
	"github.com/pit-lab/pit/plugins/sdk"
)

// syncWriter serializes writes from go-plugin's log goroutines.
type syncWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (s *syncWriter) Write(b []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.w.Write(b)
}

// String returns what was written, if w is a fmt.Stringer.
func (s *syncWriter) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.w.(fmt.Stringer).String()
}

var (
	buildOnce sync.Once
	buildErr  error
	builtDir  string
)

// testExecutables are the main packages the tests build, by output name.
var testExecutables = map[string]string{
	"pit-reward-clipped-difference": "../examples/clipped-difference",
	"oldproto":                      "./testdata/oldproto",
}

// build returns the path of one of testExecutables, compiling them all in
// one "go build" (parallel, one link step each) the first time.
func build(t testing.TB, name string) string {
	t.Helper()
	if testing.Short() {
		t.Skip("builds plugin executables; skipped with -short")
	}
	buildOnce.Do(func() {
		builtDir, buildErr = os.MkdirTemp("", "pit-host-test-")
		if buildErr != nil {
			return
		}
		tmp := filepath.Join(builtDir, "out")
		var pkgs []string
		for _, pkg := range testExecutables {
			pkgs = append(pkgs, pkg)
		}
		cmd := exec.Command("go", append([]string{"build", "-o", tmp + string(filepath.Separator)}, pkgs...)...)
		if b, err := cmd.CombinedOutput(); err != nil {
			buildErr = fmt.Errorf("go build: %v\n%s", err, b)
			return
		}
		for name, pkg := range testExecutables {
			if err := os.Rename(filepath.Join(tmp, filepath.Base(pkg)), filepath.Join(builtDir, name)); err != nil {
				buildErr = err
				return
			}
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return filepath.Join(builtDir, name)
}

func TestExternalPluginByPathWithChecksum(t *testing.T) {
	ctx := context.Background()
	exe := build(t, "pit-reward-clipped-difference")
	sum, err := host.FileSHA256(exe)
	if err != nil {
		t.Fatal(err)
	}
	m := newManager(t, host.Options{Models: &sumModel{}})

	p, err := m.Launch(ctx, host.Spec{Kind: sdk.KindReward, Path: exe, SHA256: sum})
	if err != nil {
		t.Fatal(err)
	}
	if p.PID() == os.Getpid() || !alive(p.PID()) {
		t.Fatalf("external plugin pid %d (host %d)", p.PID(), os.Getpid())
	}
	if p.Description.Name != "clipped-difference" || !p.Description.ReferenceConditioned || p.SHA256 != sum {
		t.Fatalf("description %+v, sha %s", p.Description, p.SHA256)
	}
	r, _ := p.Reward()
	if err := r.Configure(ctx, &sdk.ConfigureRequest{Config: map[string]any{"clip": 2.5}}); err != nil {
		t.Fatal(err)
	}
	resp, err := r.Score(ctx, &sdk.ScoreRequest{Items: []sdk.Input{
		{Reference: []int32{1}, Response: []int32{2}},  // +1
		{Reference: []int32{1}, Response: []int32{9}},  // +8 → 2.5
		{Reference: []int32{9}, Response: []int32{1}}}, // −8 → −2.5
	})
	if err != nil {
		t.Fatal(err)
	}
	if got := resp.Rewards; got[0] != 1 || got[1] != 2.5 || got[2] != -2.5 {
		t.Fatalf("rewards %v, want [1 2.5 -2.5]", got)
	}

	// Validation of an external plugin launches it, configures it and
	// kills it again.
	before := len(m.Plugins())
	errs := m.Validate(ctx, host.Spec{Kind: sdk.KindReward, Name: "clipped-difference", Path: exe}, map[string]any{"clip": "big", "clp": 1.0})
	if len(errs) != 2 || !strings.Contains(fmt.Sprint(errs), `key "clp": unknown key`) || !strings.Contains(fmt.Sprint(errs), `key "clip"`) {
		t.Errorf("Validate: %v", errs)
	}
	if errs := m.Validate(ctx, host.Spec{Kind: sdk.KindReward, Path: exe}, map[string]any{"clip": 3.0}); errs != nil {
		t.Errorf("Validate of a good config: %v", errs)
	}
	if len(m.Plugins()) != before {
		t.Errorf("Validate left plugins running: %d, before %d", len(m.Plugins()), before)
	}

	bad := strings.Repeat("0", 64)
	_, err = m.Launch(ctx, host.Spec{Kind: sdk.KindReward, Path: exe, SHA256: bad})
	if err == nil || !strings.Contains(err.Error(), "checksum mismatch") || !strings.Contains(err.Error(), sum) || !strings.Contains(err.Error(), bad) {
		t.Fatalf("bad checksum: err = %v", err)
	}
	if _, err := m.Launch(ctx, host.Spec{Kind: sdk.KindReward, Path: exe, SHA256: "abc"}); err == nil || !strings.Contains(err.Error(), "64 hex digits") {
		t.Fatalf("malformed checksum: err = %v", err)
	}
	// Asked for as the wrong kind, it says so.
	if _, err := m.Launch(ctx, host.Spec{Kind: sdk.KindAlgorithm, Path: exe}); err == nil || !strings.Contains(err.Error(), "does not serve a algorithm plugin") {
		t.Fatalf("wrong kind: err = %v", err)
	}
}

func TestProtocolVersionMismatchNamesBothVersions(t *testing.T) {
	exe := build(t, "oldproto")
	m := newManager(t, host.Options{})
	_, err := m.Launch(context.Background(), host.Spec{Kind: sdk.KindReward, Path: exe})
	if err == nil {
		t.Fatal("a plugin speaking protocol 2 was accepted")
	}
	for _, want := range []string{"protocol version mismatch", "plugin speaks version 2", "host speaks version 1", exe} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q: %v", want, err)
		}
	}
}

func TestNotAPluginFailsClearly(t *testing.T) {
	dir := t.TempDir()
	exe := filepath.Join(dir, "pit-reward-liar")
	if err := os.WriteFile(exe, []byte("#!/bin/sh\necho hello\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	m := newManager(t, host.Options{StartTimeout: 5 * time.Second})
	_, err := m.Launch(context.Background(), host.Spec{Kind: sdk.KindReward, Path: exe})
	if err == nil || !strings.Contains(err.Error(), exe) {
		t.Fatalf("err = %v", err)
	}
	if _, err := m.Launch(context.Background(), host.Spec{Kind: sdk.KindReward, Name: "no-such"}); err == nil || !strings.Contains(err.Error(), "toy-difference") {
		t.Fatalf("unknown built-in: err = %v", err)
	}
}

func TestPluginKilledMidCall(t *testing.T) {
	ctx := context.Background()
	m := newManager(t, host.Options{Models: &sumModel{}})
	p, err := m.Launch(ctx, host.Spec{Kind: sdk.KindReward, Name: "toy-difference"})
	if err != nil {
		t.Fatal(err)
	}
	r, _ := p.Reward()
	if err := r.Configure(ctx, &sdk.ConfigureRequest{Config: map[string]any{"delay": "30s"}}); err != nil {
		t.Fatal(err)
	}
	go func() {
		time.Sleep(300 * time.Millisecond)
		syscall.Kill(p.PID(), syscall.SIGKILL)
	}()
	start := time.Now()
	_, err = r.Score(ctx, &sdk.ScoreRequest{Items: []sdk.Input{{Response: []int32{1}}}})
	if err == nil {
		t.Fatal("Score succeeded on a killed plugin")
	}
	if time.Since(start) > 10*time.Second {
		t.Fatalf("the error took %v", time.Since(start))
	}
	for _, want := range []string{"toy-difference", "pid " + strconv.Itoa(p.PID()), "exited during Score"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q: %v", want, err)
		}
	}
	if !p.Exited() {
		t.Error("Exited() is false after the kill")
	}
}

func TestCancelledContextKillsPlugins(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	m := host.NewManager(ctx, host.Options{})
	defer m.Close()
	p, err := m.Launch(context.Background(), host.Spec{Kind: sdk.KindCurriculum, Name: "toy-two-stage"})
	if err != nil {
		t.Fatal(err)
	}
	cancel()
	waitGone(t, p.PID(), 5*time.Second)
	if _, err := m.Launch(context.Background(), host.Spec{Kind: sdk.KindCurriculum, Name: "toy-two-stage"}); err == nil {
		t.Fatal("launch after close succeeded")
	}
}

// envHelperHost makes the test binary act as a host that launches one
// plugin, prints its pid and waits to be killed; see TestHostSignals.
const envHelperHost = "PIT_TEST_HELPER_HOST"

func helperHost() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	m := host.NewManager(ctx, host.Options{})
	p, err := m.Launch(ctx, host.Spec{Kind: sdk.KindReward, Name: "toy-difference"})
	if err != nil {
		os.Stderr.WriteString("helper host: " + err.Error() + "\n")
		os.Exit(1)
	}
	os.Stdout.WriteString(strconv.Itoa(p.PID()) + "\n")
	<-ctx.Done()
	m.Close()
	os.Exit(0)
}

func TestHostSignals(t *testing.T) {
	cases := []struct {
		sig  syscall.Signal
		stop bool // SIGSTOP the plugin first
	}{{syscall.SIGTERM, false}, {syscall.SIGINT, false}, {syscall.SIGKILL, false}, {syscall.SIGKILL, true}}
	for _, c := range cases {
		sig, stop := c.sig, c.stop
		name := sig.String()
		if stop {
			name = "stopped plugin, " + name
		}
		t.Run(name, func(t *testing.T) {
			self, err := os.Executable()
			if err != nil {
				t.Fatal(err)
			}
			cmd := exec.Command(self)
			cmd.Env = append(os.Environ(), envHelperHost+"=1")
			cmd.Stderr = os.Stderr
			out, err := cmd.StdoutPipe()
			if err != nil {
				t.Fatal(err)
			}
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			defer cmd.Process.Kill()
			line, err := bufio.NewReader(out).ReadString('\n')
			if err != nil {
				t.Fatalf("helper host: %v", err)
			}
			pid, err := strconv.Atoi(strings.TrimSpace(line))
			if err != nil || pid == cmd.Process.Pid || !alive(pid) {
				t.Fatalf("helper host printed %q (its pid %d)", line, cmd.Process.Pid)
			}
			if stop {
				// A stopped plugin cannot notice anything: only the
				// kernel's parent-death signal ends it.
				if err := syscall.Kill(pid, syscall.SIGSTOP); err != nil {
					t.Fatal(err)
				}
			}
			if err := cmd.Process.Signal(sig); err != nil {
				t.Fatal(err)
			}
			cmd.Wait()
			// SIGTERM/SIGINT: the host kills it; SIGKILL: it notices its
			// parent is gone.
			waitGone(t, pid, 5*time.Second)
		})
	}
}

func TestFind(t *testing.T) {
	dir, other := t.TempDir(), t.TempDir()
	for _, f := range []struct {
		dir, name string
		mode      os.FileMode
	}{
		{dir, "pit-reward-mine", 0o755},
		{dir, "pit-curriculum-slow-start", 0o755},
		{dir, "pit-reward-notexec", 0o644},
		{dir, "pit-nokind-x", 0o755},
		{dir, "README", 0o755},
		{other, "pit-reward-mine", 0o755}, // shadowed by the first directory
	} {
		if err := os.WriteFile(filepath.Join(f.dir, f.name), nil, f.mode); err != nil {
			t.Fatal(err)
		}
	}
	got, err := host.Find([]string{dir, filepath.Join(dir, "missing"), other})
	if err != nil {
		t.Fatal(err)
	}
	want := []host.Spec{
		{Kind: sdk.KindCurriculum, Name: "slow-start", Path: filepath.Join(dir, "pit-curriculum-slow-start")},
		{Kind: sdk.KindReward, Name: "mine", Path: filepath.Join(dir, "pit-reward-mine")},
	}
	if len(got) != len(want) {
		t.Fatalf("Find = %+v, want %+v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("Find[%d] = %+v, want %+v", i, got[i], want[i])
		}
	}
}

func TestListDescribesBuiltinsAndPathPlugins(t *testing.T) {
	exe := build(t, "pit-reward-clipped-difference")
	m := newManager(t, host.Options{})
	list, err := m.List(context.Background(), []string{filepath.Dir(exe)})
	if err != nil {
		t.Fatal(err)
	}
	found := map[string]string{}
	for _, a := range list {
		if a.Err != nil {
			t.Errorf("%s: %v", a.Spec, a.Err)
			continue
		}
		found[a.Description.Name] = a.Source
	}
	if found["toy-difference"] != "builtin" || found["clipped-difference"] != exe {
		t.Fatalf("List found %v", found)
	}
	if len(m.Plugins()) != 0 {
		t.Errorf("List left %d plugins running", len(m.Plugins()))
	}
}
