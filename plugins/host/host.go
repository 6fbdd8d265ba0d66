// Package host launches pit plugins as separate processes and talks to them.
//
// A Manager starts plugins over github.com/hashicorp/go-plugin: built-ins
// are served by the host's own executable ("pit plugin serve KIND NAME"),
// external plugins are executables named by path, optionally pinned by
// SHA-256. It offers reward plugins the host's ModelService through the
// go-plugin broker, relays plugin logs into the host's logger under the
// plugin's name, and kills every plugin on Close or when its context ends
// (SIGINT/SIGTERM in the pit CLI).
//
// Every plugin runs from exactly the bytes that were hashed, talks to the
// host over mutual TLS on a private Unix socket, sees only an allow-listed
// environment and lives in its own process group; see exec.go.
package host

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/go-plugin"
	"github.com/pit-lab/pit/core/results"
	"github.com/pit-lab/pit/plugins/host/registry"
	"github.com/pit-lab/pit/plugins/sdk"
	"github.com/pit-lab/pit/plugins/sdk/hostconn"
)

// ModelService is what the host's runner provides to reward plugins: score
// a batch of (x, y_ref, y) with a named model ("reward", "oracle",
// "rubric").
type ModelService = sdk.ModelService

// ModelFunc adapts a function to ModelService.
type ModelFunc func(ctx context.Context, model string, items []sdk.Input) ([]float64, error)

// Score implements ModelService.
func (f ModelFunc) Score(ctx context.Context, model string, items []sdk.Input) ([]float64, error) {
	return f(ctx, model, items)
}

// Spec names a plugin to launch.
type Spec struct {
	Kind sdk.Kind
	// Name is the built-in's name; for an external plugin (Path set) it is
	// optional and, when given, must match the name the plugin describes.
	Name string
	// Path is the executable of an external plugin; empty for a built-in.
	Path string
	// SHA256, when set, pins the executable's checksum (hex): a file whose
	// bytes do not match is not started, and the process runs from a
	// private copy of the bytes that matched.
	SHA256 string
}

// String names the plugin in messages.
func (s Spec) String() string {
	switch {
	case s.Path != "" && s.Name != "":
		return fmt.Sprintf("%s plugin %q (%s)", s.Kind, s.Name, s.Path)
	case s.Path != "":
		return fmt.Sprintf("%s plugin %s", s.Kind, s.Path)
	}
	return fmt.Sprintf("%s plugin %q (built-in)", s.Kind, s.Name)
}

// Options configure a Manager.
type Options struct {
	// Models is offered to reward plugins; nil offers none.
	Models ModelService
	// Logger receives the plugins' logs, each under "plugin.KIND.NAME";
	// nil discards them.
	Logger hclog.Logger
	// Executable serves built-ins; empty means os.Executable(). It is run
	// as "EXECUTABLE plugin serve KIND NAME" with registry.EnvBuiltin set, so a
	// test binary whose TestMain calls registry.ServeBuiltinIfChild serves them
	// too.
	Executable string
	// StartTimeout bounds a plugin's start-up; 0 means 30 s. A plugin
	// that has not handshaken by then is killed with its process group.
	StartTimeout time.Duration
	// Env names host environment variables plugins get besides DefaultEnv
	// (the experiment file's [plugins] env).
	Env []string
	// Binaries keeps the private copies external plugins run from; nil
	// gives the manager its own, removed on Close. Share one between
	// managers so that every launch of a path runs the same bytes.
	Binaries *Binaries
}

// Manager launches plugins and owns their processes.
type Manager struct {
	opts    Options
	mu      sync.Mutex
	plugins []*Plugin
	closed  bool
	stop    func() bool
	ownBins bool
}

// NewManager returns a manager whose plugins are all killed when ctx ends
// or Close is called.
func NewManager(ctx context.Context, opts Options) *Manager {
	if opts.Logger == nil {
		opts.Logger = hclog.NewNullLogger()
	}
	if opts.StartTimeout == 0 {
		opts.StartTimeout = 30 * time.Second
	}
	m := &Manager{opts: opts}
	if m.opts.Binaries == nil {
		m.opts.Binaries = NewBinaries("")
		m.ownBins = true
	}
	m.stop = context.AfterFunc(ctx, func() { m.Close() })
	return m
}

// Close kills every plugin the manager launched. It is safe to call more
// than once; later Launch calls fail.
func (m *Manager) Close() error {
	m.mu.Lock()
	ps := m.plugins
	m.plugins = nil
	m.closed = true
	m.mu.Unlock()
	if m.stop != nil {
		m.stop()
	}
	var wg sync.WaitGroup
	for _, p := range ps {
		wg.Add(1)
		go func() { defer wg.Done(); p.Kill() }()
	}
	wg.Wait()
	if m.ownBins {
		return m.opts.Binaries.Close()
	}
	return nil
}

// Plugins lists the running plugins.
func (m *Manager) Plugins() []*Plugin {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]*Plugin(nil), m.plugins...)
}

// Plugin is one running plugin process.
type Plugin struct {
	Spec        Spec
	Description *sdk.Description
	// SHA256 is the hex checksum of the executable that serves it.
	SHA256 string

	client *plugin.Client
	impl   sdk.Plugin
	stderr *tailBuffer
	pid    int

	addr net.Addr

	mu     sync.Mutex
	runner *procRunner
}

// Addr is where the plugin serves: a Unix socket in a directory private
// to the user (TCP on platforms without Unix sockets).
func (p *Plugin) Addr() net.Addr { return p.addr }

// PID is the plugin's process id.
func (p *Plugin) PID() int { return p.pid }

// Exited reports whether the plugin process has exited.
func (p *Plugin) Exited() bool { return p.client.Exited() }

// Ping checks that the plugin answers go-plugin's gRPC health service.
func (p *Plugin) Ping() error {
	rpc, err := p.client.Client()
	if err != nil {
		return p.wrap("Ping", err)
	}
	return p.wrap("Ping", rpc.Ping())
}

// Kill ends the plugin process (gracefully, then by force after 2 s) and
// then whatever is left of its process group.
func (p *Plugin) Kill() {
	p.client.Kill()
	p.killGroup()
}

func (p *Plugin) setRunner(r *procRunner) {
	p.mu.Lock()
	p.runner = r
	p.mu.Unlock()
}

// killGroup kills the plugin's process group at once.
func (p *Plugin) killGroup() {
	p.mu.Lock()
	r := p.runner
	p.mu.Unlock()
	if r != nil {
		r.Kill(context.Background())
	}
}

// Identity returns the plugin's identity for a run's manifest.
func (p *Plugin) Identity() results.PluginIdentity {
	return results.PluginIdentity{
		Kind:    string(p.Description.Kind),
		Name:    p.Description.Name,
		Version: p.Description.Version,
		SHA256:  p.SHA256,
	}
}

// Reward returns the plugin as a reward formulation. Errors of its calls
// name the plugin and say if its process died. Its SaveState and
// RestoreState work only when Description.Has(sdk.CapStateful).
func (p *Plugin) Reward() (sdk.Reward, error) {
	r, ok := p.impl.(sdk.Reward)
	if !ok {
		return nil, fmt.Errorf("%s is a %s plugin, not a reward formulation", p.Spec, p.Description.Kind)
	}
	return &rewardHandle{p: p, r: r}, nil
}

// Algorithm returns the plugin as an RL algorithm.
func (p *Plugin) Algorithm() (sdk.Algorithm, error) {
	a, ok := p.impl.(sdk.Algorithm)
	if !ok {
		return nil, fmt.Errorf("%s is a %s plugin, not an RL algorithm", p.Spec, p.Description.Kind)
	}
	return &algorithmHandle{p: p, a: a}, nil
}

// Curriculum returns the plugin as a curriculum strategy.
func (p *Plugin) Curriculum() (sdk.Curriculum, error) {
	c, ok := p.impl.(sdk.Curriculum)
	if !ok {
		return nil, fmt.Errorf("%s is a %s plugin, not a curriculum strategy", p.Spec, p.Description.Kind)
	}
	return &curriculumHandle{p: p, c: c}, nil
}

// Launch starts the plugin spec names, checks it (handshake, protocol
// version, checksum, kind, name) and describes it.
func (m *Manager) Launch(ctx context.Context, spec Spec) (*Plugin, error) {
	if _, err := sdk.ParseKind(string(spec.Kind)); err != nil {
		return nil, fmt.Errorf("launch %s: %w", spec, err)
	}
	if spec.Path == "" && spec.Name == "" {
		return nil, fmt.Errorf("launch %s plugin: neither a name nor a path", spec.Kind)
	}
	m.mu.Lock()
	closed := m.closed
	m.mu.Unlock()
	if closed {
		return nil, fmt.Errorf("launch %s: the plugin manager is closed", spec)
	}

	var (
		exe, sum, name string
		argv0          string
		args           []string
		set            []string
	)
	if spec.Path == "" {
		if _, ok := registry.Builtin(spec.Kind, spec.Name); !ok {
			return nil, fmt.Errorf("launch %s: %w", spec, unknownBuiltin(spec.Kind, spec.Name))
		}
		name = spec.Name
		var err error
		if m.opts.Executable != "" {
			exe, sum, err = m.opts.Binaries.Pin(m.opts.Executable, "")
		} else {
			if !registry.CanServeBuiltins() {
				return nil, fmt.Errorf("launch %s: this test binary cannot serve built-ins: call registry.ServeBuiltinIfChild() first in TestMain (or hosttest.Main)", spec)
			}
			exe, sum, err = SelfExecutable()
			if len(os.Args) > 0 {
				argv0 = os.Args[0] // not /proc/self/exe, in ps
			}
		}
		if err != nil {
			return nil, fmt.Errorf("launch %s: %w", spec, err)
		}
		args = []string{"plugin", "serve", string(spec.Kind), spec.Name}
		set = append(set, registry.EnvBuiltin+"="+string(spec.Kind)+"/"+spec.Name)
	} else {
		abs, err := filepath.Abs(spec.Path)
		if err != nil {
			return nil, fmt.Errorf("launch %s: %w", spec, err)
		}
		if exe, sum, err = m.opts.Binaries.Pin(abs, spec.SHA256); err != nil {
			return nil, fmt.Errorf("launch %s: %w", spec, err)
		}
		name = filepath.Base(abs)
		set = append(set, EnvSource+"="+abs)
	}

	if spec.Name != "" {
		name = spec.Name
	}
	label := string(spec.Kind) + "." + name
	tail := &tailBuffer{max: 4096}
	p := &Plugin{Spec: spec, SHA256: sum, stderr: tail}
	client := plugin.NewClient(&plugin.ClientConfig{
		HandshakeConfig:  hostconn.Handshake(),
		Plugins:          hostconn.Plugins(m.opts.Models),
		SkipHostEnv:      true,
		AutoMTLS:         true,
		RunnerFunc:       runnerFunc(exe, argv0, args, pluginEnv(m.opts.Env, set...), p.setRunner),
		AllowedProtocols: []plugin.Protocol{plugin.ProtocolGRPC},
		GRPCDialOptions:  hostconn.DialOptions(),
		Logger:           m.opts.Logger.Named("plugin." + label),
		Stderr:           tail,
		SyncStderr:       tail, // what a Go plugin writes to os.Stderr
		StartTimeout:     m.opts.StartTimeout,
	})
	p.client = client
	// Register before starting so that Close kills it even mid-start.
	if err := m.add(p); err != nil {
		p.Kill()
		return nil, fmt.Errorf("launch %s: %w", spec, err)
	}
	fail := func(err error) (*Plugin, error) {
		m.remove(p)
		p.killGroup() // first: a wrapper's children would hold the pipes Kill waits on
		p.Kill()
		return nil, err
	}
	rpc, err := client.Client()
	if err != nil {
		// Kill first: it waits until the plugin's stderr is read to the end.
		m.remove(p)
		p.killGroup()
		p.Kill()
		return nil, m.startError(spec, tail, err)
	}
	raw, err := rpc.Dispense(string(spec.Kind))
	if err != nil {
		return fail(fmt.Errorf("launch %s: %w", spec, err))
	}
	p.impl = raw.(sdk.Plugin)
	p.pid = p.runner.cmd.Process.Pid
	if rc := client.ReattachConfig(); rc != nil {
		p.addr = rc.Addr
	}
	d, err := p.impl.Describe(ctx)
	if err != nil {
		if strings.Contains(err.Error(), "not implemented") || strings.Contains(err.Error(), "unknown service") {
			return fail(fmt.Errorf("launch %s: it does not serve a %s plugin: %v", spec, spec.Kind, err))
		}
		return fail(p.wrap("Describe", err))
	}
	if d.Kind != spec.Kind {
		return fail(fmt.Errorf("launch %s: it describes itself as a %s plugin", spec, d.Kind))
	}
	if spec.Name != "" && d.Name != spec.Name {
		return fail(fmt.Errorf("launch %s: it describes itself as %q", spec, d.Name))
	}
	p.Description = d
	return p, nil
}

func (m *Manager) add(p *Plugin) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return errors.New("the plugin manager is closed")
	}
	m.plugins = append(m.plugins, p)
	return nil
}

func (m *Manager) remove(p *Plugin) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for i, q := range m.plugins {
		if q == p {
			m.plugins = append(m.plugins[:i], m.plugins[i+1:]...)
			return
		}
	}
}

var apiVersionRE = regexp.MustCompile(`Plugin version: (\d+), Client versions: \[([\d ]+)\]`)

// startError explains why a plugin did not start. A plugin that exited
// or wrote something else before its handshake (a Python plugin whose
// interpreter lacks grpc explains itself on stderr) is reported by what it
// wrote, not by go-plugin's generic words.
func (m *Manager) startError(spec Spec, stderr *tailBuffer, err error) error {
	if mm := apiVersionRE.FindStringSubmatch(err.Error()); mm != nil {
		return fmt.Errorf("launch %s: plugin protocol version mismatch: the plugin speaks version %s, this host speaks version %s (rebuild the plugin against a matching pit SDK)", spec, mm[1], strings.TrimSpace(mm[2]))
	}
	out := strings.TrimSpace(stderr.String())
	msg := fmt.Sprintf("launch %s: %v", spec, err)
	if out != "" && (strings.Contains(err.Error(), "Unrecognized remote plugin message") || strings.Contains(err.Error(), "exited before we could connect")) {
		msg = fmt.Sprintf("launch %s: the plugin exited before its handshake; it wrote:\n%s", spec, out)
	} else if out != "" {
		msg += "\nplugin stderr:\n" + out
	}
	if strings.Contains(stderr.String(), "This binary is a plugin") {
		msg += "\n(the handshake failed: the plugin expects another magic cookie; is it a pit plugin?)"
	}
	return errors.New(msg)
}

// wrap adds the plugin's identity to a call's error and says whether the
// process died.
func (p *Plugin) wrap(method string, err error) error {
	if err == nil {
		return nil
	}
	// The transport error often arrives a moment before go-plugin notices
	// the exit.
	for i := 0; i < 20 && !p.client.Exited(); i++ {
		if !looksLikeTransport(err) {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	name := p.Spec.String()
	if p.Description != nil {
		name = fmt.Sprintf("%s plugin %q", p.Description.Kind, p.Description.Name)
	}
	if p.client.Exited() {
		msg := fmt.Sprintf("%s (pid %d) exited during %s", name, p.pid, method)
		if out := strings.TrimSpace(p.stderr.String()); out != "" {
			msg += "; last stderr:\n" + out
		}
		return fmt.Errorf("%s: %w", msg, err)
	}
	return fmt.Errorf("%s: %w", name, err)
}

func looksLikeTransport(err error) bool {
	s := err.Error()
	return strings.Contains(s, "Unavailable") || strings.Contains(s, "connection") || strings.Contains(s, "EOF") || strings.Contains(s, "transport")
}

func unknownBuiltin(kind sdk.Kind, name string) error {
	var names []string
	for _, b := range registry.Builtins() {
		if b.Kind == kind {
			names = append(names, b.Name)
		}
	}
	have := "none"
	if len(names) > 0 {
		have = strings.Join(names, ", ")
	}
	return fmt.Errorf("no built-in %s plugin %q (built-ins: %s)", kind, name, have)
}

// tailBuffer keeps the last max bytes written to it.
type tailBuffer struct {
	mu  sync.Mutex
	max int
	buf bytes.Buffer
}

func (t *tailBuffer) Write(b []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.buf.Write(b)
	if over := t.buf.Len() - t.max; over > 0 {
		t.buf.Next(over)
	}
	return len(b), nil
}

func (t *tailBuffer) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return readableStderr(t.buf.String())
}

// readableStderr drops go-plugin's and hclog's debug and trace lines (JSON)
// from a plugin's stderr and shortens its other JSON log lines to
// "LEVEL: message key=value ...": what is left is what a person wants to
// read about a dead plugin.
func readableStderr(s string) string {
	var out []string
	for _, line := range strings.Split(s, "\n") {
		if !strings.HasPrefix(line, "{") {
			out = append(out, line)
			continue
		}
		var rec map[string]any
		if json.Unmarshal([]byte(line), &rec) != nil {
			out = append(out, line)
			continue
		}
		level, _ := rec["@level"].(string)
		if level == "debug" || level == "trace" {
			continue
		}
		msg := fmt.Sprintf("%s: %v", strings.ToUpper(level), rec["@message"])
		var keys []string
		for k := range rec {
			if !strings.HasPrefix(k, "@") {
				keys = append(keys, k)
			}
		}
		sort.Strings(keys)
		for _, k := range keys {
			msg += fmt.Sprintf(" %s=%v", k, rec[k])
		}
		out = append(out, msg)
	}
	return strings.Join(out, "\n")
}
