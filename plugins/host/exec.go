package host

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"sync"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/go-plugin/runner"
	"github.com/pit-lab/pit/internal/filehash"
)

// How a plugin process is started. Four promises, each tested:
//
//   - Pinned bytes: the host reads a plugin's executable once, hashes those
//     bytes, checks them against the experiment's pin and writes them to a
//     private read-only copy (Binaries); the process is exec'd from the
//     copy, never from the path the experiment names, so swapping the file
//     after the check cannot run anything else. Built-ins run from the
//     host's own running image (/proc/self/exe on Linux).
//   - Private transport: go-plugin's AutoMTLS (a fresh certificate pair per
//     process) over a Unix socket in a directory only the user can enter
//     (0700, whatever the umask).
//   - A small environment: PATH, HOME, LANG, TMPDIR, go-plugin's own
//     variables and the names Options.Env adds ([plugins] env); nothing else
//     of the host's environment (cloud keys, tokens) reaches a plugin.
//   - One process group per plugin, killed as a whole on a start timeout, a
//     call timeout and Close; on Linux the kernel kills the plugin when the
//     host dies (PR_SET_PDEATHSIG), even a stopped one.

// DefaultEnv names the host's environment variables every plugin gets.
var DefaultEnv = []string{"PATH", "HOME", "LANG", "TMPDIR"}

// EnvSource is set for external plugins to the absolute path the
// experiment names. The process itself runs from a private copy of that
// file, so a plugin that finds files next to its executable (a Python
// script importing its package from a sibling directory) looks here.
const EnvSource = "PIT_PLUGIN_SOURCE"

var envNameRE = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// CheckEnvName reports why name cannot be passed to plugins: it must be a
// plain variable name and not one that pit or go-plugin set themselves.
func CheckEnvName(name string) error {
	switch {
	case !envNameRE.MatchString(name):
		return fmt.Errorf("%q is not an environment variable name (letters, digits and _, not starting with a digit)", name)
	case strings.HasPrefix(name, "PLUGIN_") || strings.HasPrefix(name, "PIT_PLUGIN_"):
		return fmt.Errorf("%q is set by pit for every plugin; it cannot be passed from the host", name)
	}
	return nil
}

// pluginEnv returns the environment of a plugin process: the allow-listed
// variables the host has, then set ("NAME=value").
func pluginEnv(extra []string, set ...string) []string {
	var env []string
	seen := map[string]bool{}
	for _, name := range append(append([]string(nil), DefaultEnv...), extra...) {
		if seen[name] || CheckEnvName(name) != nil {
			continue
		}
		seen[name] = true
		if v, ok := os.LookupEnv(name); ok {
			env = append(env, name+"="+v)
		}
	}
	return append(env, set...)
}

// Binaries holds private, read-only copies of plugin executables, each
// made from the bytes that were hashed. The first Pin of a path reads it;
// later ones reuse that copy, so a pit invocation runs the same bytes for a
// plugin from the identity in its manifest to its last restart. Safe for
// concurrent use.
type Binaries struct {
	base string // "" means os.TempDir()

	mu     sync.Mutex
	dir    string
	pinned map[string]pinned
	closed bool
}

type pinned struct {
	path, sum string
}

// NewBinaries returns a store that keeps its copies in a fresh 0700
// directory under base ("" means the system's temporary directory).
func NewBinaries(base string) *Binaries {
	return &Binaries{base: base, pinned: map[string]pinned{}}
}

// Close removes the copies. Processes already running from them go on.
func (b *Binaries) Close() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.closed = true
	if b.dir == "" {
		return nil
	}
	err := os.RemoveAll(b.dir)
	b.dir = ""
	b.pinned = map[string]pinned{}
	return err
}

// privateDir makes (once) the store's directory, private to the user.
func (b *Binaries) privateDir() (string, error) {
	if b.closed {
		return "", errors.New("the plugin executable store is closed")
	}
	if b.dir != "" {
		return b.dir, nil
	}
	dir, err := os.MkdirTemp(b.base, "pit-plugins-")
	if err != nil {
		return "", fmt.Errorf("make a private plugin directory: %w", err)
	}
	// MkdirTemp asks for 0700 and a umask can only take bits away; say so
	// anyway, in case the directory's file system thinks otherwise.
	if err := os.Chmod(dir, 0o700); err != nil {
		os.RemoveAll(dir)
		return "", fmt.Errorf("make a private plugin directory: %w", err)
	}
	b.dir = dir
	return dir, nil
}

// ChecksumError is a pinned plugin whose bytes do not match the pin.
type ChecksumError struct {
	Path      string
	Got, Want string
}

func (e *ChecksumError) Error() string {
	return fmt.Sprintf("checksum mismatch: the executable's SHA-256 is %s, the experiment pins %s", e.Got, e.Want)
}

// Pin returns a private copy of the executable at path and the SHA-256 of
// its bytes, checked against want (hex, optionally "sha256:"-prefixed;
// empty: no pin). The copy is read-only and lies in a directory only the
// user can enter; exec it, never path.
func (b *Binaries) Pin(path, want string) (exe, sum string, err error) {
	if want != "" {
		w := strings.TrimPrefix(strings.ToLower(want), "sha256:")
		if d, err := hex.DecodeString(w); err != nil || len(d) != sha256.Size {
			return "", "", fmt.Errorf("pinned sha256 %q is not 64 hex digits", want)
		}
		want = w
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if p, ok := b.pinned[path]; ok {
		if want != "" && p.sum != want {
			return "", "", &ChecksumError{Path: path, Got: p.sum, Want: want}
		}
		return p.path, p.sum, nil
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return "", "", fmt.Errorf("read the plugin executable: %w", err)
	}
	h := sha256.Sum256(data)
	sum = hex.EncodeToString(h[:])
	if want != "" && sum != want {
		return "", "", &ChecksumError{Path: path, Got: sum, Want: want}
	}
	dir, err := b.privateDir()
	if err != nil {
		return "", "", err
	}
	sub, err := os.MkdirTemp(dir, "x")
	if err != nil {
		return "", "", fmt.Errorf("copy the plugin executable: %w", err)
	}
	// The copy keeps the file's name: it shows in ps and in the plugin's
	// own messages.
	exe = filepath.Join(sub, filepath.Base(path))
	if err := writePrivate(exe, data); err != nil {
		return "", "", fmt.Errorf("copy the plugin executable: %w", err)
	}
	b.pinned[path] = pinned{path: exe, sum: sum}
	return exe, sum, nil
}

// writePrivate writes data to a new file that only its owner may read and
// run (0500), and syncs it.
func writePrivate(path string, data []byte) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o700)
	if err != nil {
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	if err := f.Chmod(0o500); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// self is the running executable: what built-ins are served by.
var self struct {
	once      sync.Once
	path, sum string
	err       error
}

// SelfExecutable returns the path to exec to run the host's own running
// image (on Linux /proc/self/exe, which stays that image even when the file
// on disk is replaced) and the SHA-256 of those bytes.
func SelfExecutable() (path, sum string, err error) {
	self.once.Do(func() {
		self.path, self.err = selfPath()
		if self.err != nil {
			return
		}
		self.sum, self.err = FileSHA256(self.path)
	})
	return self.path, self.sum, self.err
}

// FileSHA256 returns the hex SHA-256 of a file.
func FileSHA256(path string) (string, error) { return filehash.SHA256(path) }

// procRunner runs a plugin command in its own process group (go-plugin's
// runner.Runner). Kill kills the whole group, so a wrapper script's
// children die with it and release the pipes go-plugin waits on.
type procRunner struct {
	cmd    *exec.Cmd
	name   string
	stdout io.ReadCloser
	stderr io.ReadCloser

	mu     sync.Mutex
	pid    int
	reaped bool          // Wait returned: the pid may belong to another process now
	exited chan struct{} // closed when the process has been waited for
	once   sync.Once
}

var _ runner.Runner = (*procRunner)(nil)

// newRunner adapts go-plugin's command (its environment complete: ours,
// the handshake's, the client certificate, the socket directory).
func newRunner(cmd *exec.Cmd, name string) (*procRunner, error) {
	// The plugin reads nothing from the user's terminal.
	cmd.Stdin = nil
	setProcAttr(cmd)
	r := &procRunner{cmd: cmd, name: name}
	var err error
	if r.stdout, err = cmd.StdoutPipe(); err != nil {
		return nil, err
	}
	if r.stderr, err = cmd.StderrPipe(); err != nil {
		return nil, err
	}
	return r, nil
}

// Start starts the process from a goroutine locked to its OS thread that
// stays parked until the process is waited for: Linux's parent-death
// signal follows the thread that forked, so that thread must not end (Go
// ends a thread when a goroutine locked to it returns) while the plugin
// runs.
func (r *procRunner) Start(context.Context) error {
	r.exited = make(chan struct{})
	started := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		err := r.cmd.Start()
		started <- err
		if err != nil {
			runtime.UnlockOSThread()
			return
		}
		<-r.exited // returns locked: the thread ends with the plugin
	}()
	if err := <-started; err != nil {
		return err
	}
	r.mu.Lock()
	r.pid = r.cmd.Process.Pid
	r.mu.Unlock()
	return nil
}

func (r *procRunner) Diagnose(context.Context) string { return "" }
func (r *procRunner) Stdout() io.ReadCloser           { return r.stdout }
func (r *procRunner) Stderr() io.ReadCloser           { return r.stderr }
func (r *procRunner) Name() string                    { return r.name }

// Wait waits for the plugin process, then kills what is left of its
// process group (a wrapper's children) at once: the group's id is the
// plugin's pid, which the system may give to a new process once no member
// of the group is left, so the group is never signalled after that.
func (r *procRunner) Wait(context.Context) error {
	err := r.cmd.Wait()
	r.mu.Lock()
	r.reaped = true
	pid := r.pid
	r.mu.Unlock()
	killGroupOf(pid)
	r.once.Do(func() { close(r.exited) })
	return err
}

// Kill kills the plugin's process group, unless the plugin has been waited
// for (Wait killed the group then).
func (r *procRunner) Kill(context.Context) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.pid <= 0 || r.reaped {
		return nil
	}
	// Under the lock: Wait cannot reap the process (and free its pid)
	// between the check and the signal.
	return killGroup(r.cmd.Process, r.pid)
}

func (r *procRunner) ID() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.pid <= 0 {
		return ""
	}
	return strconv.Itoa(r.pid)
}

func (r *procRunner) PluginToHost(network, addr string) (string, string, error) {
	return network, addr, nil
}

func (r *procRunner) HostToPlugin(network, addr string) (string, string, error) {
	return network, addr, nil
}

// runnerFunc returns go-plugin's RunnerFunc: it runs exe with args (and
// argv[0] = argv0 unless empty) in the environment env plus go-plugin's
// variables (handshake, client certificate, socket directory), in its own
// process group, and hands the runner to keep.
func runnerFunc(exe, argv0 string, args, env []string, keep func(*procRunner)) func(hclog.Logger, *exec.Cmd, string) (runner.Runner, error) {
	return func(_ hclog.Logger, spec *exec.Cmd, socketDir string) (runner.Runner, error) {
		// go-plugin made socketDir with MkdirTemp (0700 under any umask);
		// make sure, since the plugin's socket lies in it.
		if err := os.Chmod(socketDir, 0o700); err != nil {
			return nil, fmt.Errorf("plugin socket directory: %w", err)
		}
		cmd := exec.Command(exe, args...)
		if argv0 != "" {
			cmd.Args[0] = argv0
		}
		cmd.Env = append(append([]string(nil), env...), spec.Env...)
		r, err := newRunner(cmd, exe)
		if err != nil {
			return nil, err
		}
		keep(r)
		return r, nil
	}
}
