package host_test

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/pit-lab/pit/plugins/host"
	"github.com/pit-lab/pit/plugins/host/registry"
	"github.com/pit-lab/pit/plugins/sdk"
	"github.com/pit-lab/pit/plugins/sdk/hostconn"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
)

// envReport is a reward plugin whose description's summary is its own
// environment as a JSON array of NAME=value: what a plugin process sees.
type envReport struct{}

func init() {
	registry.Register(sdk.KindReward, "env-report", func() sdk.Plugin { return envReport{} })
}

func (envReport) Describe(context.Context) (*sdk.Description, error) {
	b, err := json.Marshal(os.Environ())
	return &sdk.Description{Name: "env-report", Version: "0.0.1", Summary: string(b)}, err
}

func (envReport) Configure(_ context.Context, req *sdk.ConfigureRequest) error {
	return sdk.DecodeConfig(req.Config, &struct{}{})
}

func (envReport) Comparisons(context.Context, *sdk.ComparisonsRequest) (*sdk.ComparisonsResponse, error) {
	return &sdk.ComparisonsResponse{}, nil
}

func (envReport) Score(_ context.Context, req *sdk.ScoreRequest) (*sdk.ScoreResponse, error) {
	return &sdk.ScoreResponse{Rewards: make([]float64, len(req.Items))}, nil
}

// TestPluginSeesOnlyItsAllowList launches a plugin under umask 000 with a
// secret in the host's environment: the plugin sees the allow-list, the
// names the host adds and go-plugin's variables, nothing else; its socket
// lies in a directory only the user may enter; and the socket speaks only
// mutual TLS (a plaintext gRPC client gets nowhere).
func TestPluginSeesOnlyItsAllowList(t *testing.T) {
	old := syscall.Umask(0)
	defer syscall.Umask(old)
	t.Setenv("AWS_SECRET_ACCESS_KEY", "do-not-leak")
	t.Setenv("PIT_TEST_WANTED", "yes")
	m := newManager(t, host.Options{Env: []string{"PIT_TEST_WANTED"}})
	p, err := m.Launch(context.Background(), host.Spec{Kind: sdk.KindReward, Name: "env-report"})
	if err != nil {
		t.Fatal(err)
	}
	var list []string
	if err := json.Unmarshal([]byte(p.Description.Summary), &list); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{}
	for _, kv := range list {
		k, v, _ := strings.Cut(kv, "=")
		env[k] = v
	}
	allowed := append(slices.Clone(host.DefaultEnv), "PIT_TEST_WANTED", registry.EnvBuiltin, hostconn.Handshake().MagicCookieKey)
	for k := range env {
		if !slices.Contains(allowed, k) && !strings.HasPrefix(k, "PLUGIN_") {
			t.Errorf("the plugin sees %s, which is not on the allow-list", k)
		}
	}
	if _, leaked := env["AWS_SECRET_ACCESS_KEY"]; leaked {
		t.Error("the host's secret reached the plugin")
	}
	if env["PIT_TEST_WANTED"] != "yes" || env["PATH"] != os.Getenv("PATH") {
		t.Errorf("allowed variables missing: PIT_TEST_WANTED=%q PATH=%q", env["PIT_TEST_WANTED"], env["PATH"])
	}
	// AutoMTLS: the host handed the plugin a client certificate.
	if !strings.Contains(env["PLUGIN_CLIENT_CERT"], "BEGIN CERTIFICATE") {
		t.Errorf("no client certificate in the plugin's environment: AutoMTLS is off")
	}

	addr := p.Addr()
	if addr == nil || addr.Network() != "unix" {
		t.Fatalf("plugin address %v: want a Unix socket", addr)
	}
	dir := filepath.Dir(addr.String())
	if env["PLUGIN_UNIX_SOCKET_DIR"] != dir {
		t.Errorf("the plugin was told socket directory %q, it serves in %q", env["PLUGIN_UNIX_SOCKET_DIR"], dir)
	}
	fi, err := os.Stat(dir)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o700 || fi.Sys().(*syscall.Stat_t).Uid != uint32(os.Getuid()) {
		t.Errorf("socket directory %s has mode %v, owner %d: want 0700, %d", dir, fi.Mode().Perm(), fi.Sys().(*syscall.Stat_t).Uid, os.Getuid())
	}

	// Another client on the socket without the host's certificate fails.
	conn, err := grpc.NewClient("unix://"+addr.String(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	if _, err := healthpb.NewHealthClient(conn).Check(ctx, &healthpb.HealthCheckRequest{Service: "plugin"}); err == nil {
		t.Error("a plaintext client talked to the plugin: the socket is not mTLS-only")
	}
	if err := p.Ping(); err != nil {
		t.Errorf("the host itself cannot talk to the plugin: %v", err)
	}
}

// TestPinnedBytesCannotBeRaced swaps the plugin file between the pinned
// executable and a script that leaves a marker (and then runs the pinned
// executable, so that running it would go unnoticed otherwise) while the
// host launches it again and again: the script never runs, and each launch
// either runs the pinned bytes or reports the mismatch. Unpinned, every
// launch records the hash of exactly what ran.
func TestPinnedBytesCannotBeRaced(t *testing.T) {
	ctx := context.Background()
	built := build(t, "pit-reward-clipped-difference")
	dir := t.TempDir()
	good := filepath.Join(dir, "good")
	data, err := os.ReadFile(built)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(good, data, 0o755); err != nil {
		t.Fatal(err)
	}
	marker := filepath.Join(dir, "evil-ran")
	evil := filepath.Join(dir, "evil")
	if err := os.WriteFile(evil, []byte("#!/bin/sh\ntouch "+marker+"\nexec "+good+" \"$@\"\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	goodSum, _ := host.FileSHA256(good)
	evilSum, _ := host.FileSHA256(evil)
	path := filepath.Join(dir, "plugin")
	if err := os.Link(good, path); err != nil {
		t.Fatal(err)
	}

	var stop atomic.Bool
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { // swap path between the two files, atomically, as fast as it goes
		defer wg.Done()
		tmp := path + ".tmp"
		for i := 0; !stop.Load(); i++ {
			src := good
			if i%2 == 1 {
				src = evil
			}
			os.Remove(tmp)
			if os.Link(src, tmp) == nil {
				os.Rename(tmp, path)
			}
		}
	}()
	defer func() { stop.Store(true); wg.Wait() }()

	launch := func(pin string) (sum string, ran bool, err error) {
		os.Remove(marker)
		m := host.NewManager(ctx, host.Options{})
		defer m.Close()
		p, err := m.Launch(ctx, host.Spec{Kind: sdk.KindReward, Path: path, SHA256: pin})
		if err != nil {
			return "", false, err
		}
		_, statErr := os.Stat(marker)
		return p.SHA256, statErr == nil, nil
	}
	var ok, refused int
	for range 40 {
		sum, ran, err := launch(goodSum)
		switch {
		case ran:
			t.Fatal("an unpinned executable ran despite the pin")
		case err != nil && !strings.Contains(err.Error(), "checksum mismatch"):
			t.Fatalf("launch: %v", err)
		case err != nil:
			refused++
		case sum != goodSum:
			t.Fatalf("launched with sum %s, pinned %s", sum, goodSum)
		default:
			ok++
		}
	}
	t.Logf("pinned: %d launches ran the pinned bytes, %d were refused", ok, refused)
	if ok == 0 {
		t.Fatal("no launch succeeded: the swap loop starves the test")
	}
	for range 20 {
		sum, ran, err := launch("")
		if err != nil {
			t.Fatalf("unpinned launch: %v", err)
		}
		if want := map[bool]string{true: evilSum, false: goodSum}[ran]; sum != want {
			t.Fatalf("unpinned launch recorded %s but ran the file whose sum is %s", sum, want)
		}
	}
}

// TestWrapperThatNeverHandshakesIsKilledWithItsChildren: a plugin behind a
// wrapper script whose child never handshakes (and keeps the output pipes
// open) fails within the start timeout, and the child dies with the
// wrapper.
func TestWrapperThatNeverHandshakesIsKilledWithItsChildren(t *testing.T) {
	dir := t.TempDir()
	pidFile := filepath.Join(dir, "child.pid")
	script := filepath.Join(dir, "pit-reward-silent")
	body := "#!/bin/sh\nsleep 300 &\necho $! > " + pidFile + "\nwait\n"
	if err := os.WriteFile(script, []byte(body), 0o755); err != nil {
		t.Fatal(err)
	}
	const timeout = time.Second
	m := newManager(t, host.Options{StartTimeout: timeout})
	done := make(chan error, 1)
	start := time.Now()
	go func() {
		_, err := m.Launch(context.Background(), host.Spec{Kind: sdk.KindReward, Path: script})
		done <- err
	}()
	var err error
	select {
	case err = <-done:
	case <-time.After(30 * time.Second):
		t.Fatal("Launch still waits 30 s after a 1 s start timeout")
	}
	if err == nil || !strings.Contains(err.Error(), "timeout") {
		t.Fatalf("err = %v, want a start timeout", err)
	}
	if d := time.Since(start); d > timeout+5*time.Second {
		t.Errorf("Launch returned after %v (start timeout %v)", d, timeout)
	}
	b, err := os.ReadFile(pidFile)
	if err != nil {
		t.Fatalf("the wrapper never started its child: %v", err)
	}
	child, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil {
		t.Fatal(err)
	}
	waitGone(t, child, 5*time.Second)
}

// TestPluginOutlivesTheLaunchingThread: Linux's parent-death signal follows
// the thread that forked the plugin, and Go ends a thread when a goroutine
// locked to it returns. A plugin launched from such a goroutine must keep
// running after it.
func TestPluginOutlivesTheLaunchingThread(t *testing.T) {
	m := newManager(t, host.Options{})
	launched := make(chan *host.Plugin, 1)
	go func() {
		runtime.LockOSThread() // never unlocked: the thread ends with this goroutine
		p, err := m.Launch(context.Background(), host.Spec{Kind: sdk.KindReward, Name: "toy-difference"})
		if err != nil {
			t.Error(err)
		}
		launched <- p
	}()
	p := <-launched
	if p == nil {
		t.FailNow()
	}
	time.Sleep(500 * time.Millisecond)
	if p.Exited() || !alive(p.PID()) {
		t.Fatal("the plugin died with the thread that launched it")
	}
	if err := p.Ping(); err != nil {
		t.Fatal(err)
	}
}

// TestPluginGroupDiesWithThePlugin: a plugin behind a wrapper script that
// leaves a background child is stopped with its whole process group,
// whether the child holds the plugin's output pipes or not.
func TestPluginGroupDiesWithThePlugin(t *testing.T) {
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ name, redirect string }{
		{"child holds the pipes", ""},
		{"child detached from the pipes", " >/dev/null 2>&1"},
	} {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			pidFile := filepath.Join(dir, "child.pid")
			script := filepath.Join(dir, "pit-reward-wrapped")
			body := "#!/bin/sh\nsleep 600" + c.redirect + " &\necho $! > " + pidFile + "\n" +
				registry.EnvBuiltin + "=reward/toy-difference exec " + self + " plugin serve reward toy-difference\n"
			if err := os.WriteFile(script, []byte(body), 0o755); err != nil {
				t.Fatal(err)
			}
			m := host.NewManager(context.Background(), host.Options{})
			p, err := m.Launch(context.Background(), host.Spec{Kind: sdk.KindReward, Path: script})
			if err != nil {
				m.Close()
				t.Fatal(err)
			}
			if err := p.Ping(); err != nil {
				t.Fatal(err)
			}
			b, err := os.ReadFile(pidFile)
			if err != nil {
				t.Fatal(err)
			}
			child, _ := strconv.Atoi(strings.TrimSpace(string(b)))
			if !alive(child) {
				t.Fatalf("the wrapper's child %d is not running", child)
			}
			m.Close()
			waitGone(t, p.PID(), 5*time.Second)
			waitGone(t, child, 5*time.Second)
		})
	}
}

// TestHungPluginDiesWithItsGroup: a plugin (behind a wrapper that leaves a
// background child) that does not answer within the call deadline is
// killed with its whole process group before the call is retried in a new
// process.
func TestHungPluginDiesWithItsGroup(t *testing.T) {
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	t.Setenv(envFaults, dir)
	pidFile := filepath.Join(dir, "child.pid")
	script := filepath.Join(t.TempDir(), "pit-reward-faulty")
	body := "#!/bin/sh\nsleep 600 >/dev/null 2>&1 &\necho $! > " + pidFile + "\n" +
		registry.EnvBuiltin + "=reward/faulty exec " + self + " plugin serve reward faulty\n"
	if err := os.WriteFile(script, []byte(body), 0o755); err != nil {
		t.Fatal(err)
	}
	m := newManager(t, host.Options{Env: []string{envFaults}})
	s, err := m.Supervise(context.Background(), host.Spec{Kind: sdk.KindReward, Path: script}, &sdk.ConfigureRequest{Seed: 40},
		host.Policy{CallTimeout: 500 * time.Millisecond, Retries: 1})
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(pidFile)
	if err != nil {
		t.Fatal(err)
	}
	child, _ := strconv.Atoi(strings.TrimSpace(string(b)))
	pid := s.PID()
	mark(t, dir, "hang")
	r, _ := s.Reward()
	if _, err := r.Score(context.Background(), &sdk.ScoreRequest{Items: items}); err != nil {
		t.Fatal(err)
	}
	if s.Restarts() != 1 || s.PID() == pid {
		t.Fatalf("%d restarts, pid %d → %d: want the hung process replaced", s.Restarts(), pid, s.PID())
	}
	waitGone(t, pid, 5*time.Second)
	waitGone(t, child, 5*time.Second)
}
