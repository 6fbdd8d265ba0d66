// Package scripts_test tests the repository's shell scripts that other
// tests do not exercise.
package scripts_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// scripts/install-deps.sh waits (bounded) for a held dpkg lock and, when it
// stays held, fails naming the process that holds it; a free lock lets it
// through at once. The lock is a stand-in file (PIT_DPKG_LOCKS), locked
// the way dpkg locks its own (fcntl).
func TestInstallDepsLockWait(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("reads /proc/locks")
	}
	lock := filepath.Join(t.TempDir(), "lock-frontend")
	f, err := os.Create(lock)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	wait := func(limit string) (string, error) {
		cmd := exec.Command("./install-deps.sh", "--wait-for-lock")
		cmd.Env = append(os.Environ(), "PIT_DPKG_LOCKS="+lock, "PIT_APT_LOCK_WAIT="+limit)
		out, err := cmd.CombinedOutput()
		return string(out), err
	}

	fl := syscall.Flock_t{Type: syscall.F_WRLCK, Whence: 0}
	if err := syscall.FcntlFlock(f.Fd(), syscall.F_SETLK, &fl); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	out, err := wait("1")
	if err == nil {
		t.Fatalf("held lock: the script went ahead:\n%s", out)
	}
	pid := strconv.Itoa(os.Getpid())
	for _, want := range []string{"waiting for the dpkg lock, held by PID " + pid, "still held by PID " + pid, "PIT_APT_LOCK_WAIT"} {
		if !strings.Contains(out, want) {
			t.Errorf("held lock: output lacks %q:\n%s", want, out)
		}
	}
	if d := time.Since(start); d > 30*time.Second {
		t.Errorf("a 1 s bound waited %v", d)
	}

	fl.Type = syscall.F_UNLCK
	if err := syscall.FcntlFlock(f.Fd(), syscall.F_SETLK, &fl); err != nil {
		t.Fatal(err)
	}
	if out, err := wait("1"); err != nil || strings.Contains(out, "waiting") {
		t.Errorf("free lock: %v\n%s", err, out)
	}
}
