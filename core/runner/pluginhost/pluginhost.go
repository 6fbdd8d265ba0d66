// Package pluginhost connects the runner to plugins/host: it identifies the
// plugins an experiment's stages use (for cache keys and manifests) and
// launches each one in its own process when a stage asks for it.
//
// A stage gets a *Handle from runner.Context.Plugin and picks the client
// of its kind:
//
//	p, err := c.Plugin("reward", models) // models: a host.ModelService, or nil
//	if err != nil {
//		return err
//	}
//	reward, err := p.(*pluginhost.Handle).Reward()
//
// The plugin is already configured with the experiment's config table and
// its seed; the runner kills it when the stage ends.
package pluginhost

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/pit-lab/pit/core/results"
	"github.com/pit-lab/pit/core/runner"
	"github.com/pit-lab/pit/plugins/host"
	"github.com/pit-lab/pit/plugins/sdk"
)

// Host implements runner.PluginHost with plugins/host.
type Host struct {
	ctx    context.Context
	logger hclog.Logger
	exe    string

	mu       sync.Mutex
	managers map[*host.Manager]bool
	closed   bool
	exeSum   string
	policy   host.Policy
	env      []string
	bins     *host.Binaries
}

// New returns a host whose plugins all die when ctx ends or Close is
// called. logger receives the plugins' logs (nil discards them);
// executable serves the built-ins (os.Executable() if empty).
func New(ctx context.Context, logger hclog.Logger, executable string) *Host {
	return &Host{ctx: ctx, logger: logger, exe: executable, managers: map[*host.Manager]bool{}, policy: DefaultPolicy,
		bins: host.NewBinaries("")}
}

var _ runner.PluginHost = (*Host)(nil)

func spec(s runner.PluginSpec) (host.Spec, error) {
	k, err := sdk.ParseKind(s.Slot)
	if err != nil {
		return host.Spec{}, err
	}
	return host.Spec{Kind: k, Name: s.Name, Path: s.Path, SHA256: s.SHA256}, nil
}

// Identify returns a plugin's identity. A built-in is described in process
// (its checksum is the serving executable's); an external plugin is
// launched once, described and killed.
func (h *Host) Identify(ctx context.Context, s runner.PluginSpec) (results.PluginIdentity, error) {
	hs, err := spec(s)
	if err != nil {
		return results.PluginIdentity{}, err
	}
	if hs.Path == "" {
		d, err := host.DescribeBuiltin(ctx, hs.Kind, hs.Name)
		if err != nil {
			return results.PluginIdentity{}, err
		}
		sum, err := h.executableSum()
		if err != nil {
			return results.PluginIdentity{}, err
		}
		return results.PluginIdentity{Kind: string(d.Kind), Name: d.Name, Version: d.Version, SHA256: sum}, nil
	}
	m, err := h.manager(nil)
	if err != nil {
		return results.PluginIdentity{}, err
	}
	defer h.release(m)
	p, err := m.Launch(ctx, hs)
	if err != nil {
		return results.PluginIdentity{}, err
	}
	id := p.Identity()
	id.Path = hs.Path
	return id, nil
}

// executableSum is the SHA-256 of what serves the built-ins: the bytes
// host.Manager execs for them.
func (h *Host) executableSum() (string, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.exeSum != "" {
		return h.exeSum, nil
	}
	var sum string
	var err error
	if h.exe == "" {
		_, sum, err = host.SelfExecutable()
	} else {
		_, sum, err = h.bins.Pin(h.exe, "")
	}
	if err != nil {
		return "", fmt.Errorf("pluginhost: %w", err)
	}
	h.exeSum = sum
	return sum, nil
}

// manager makes a plugins/host manager offering models to its plugins.
func (h *Host) manager(models host.ModelService) (*host.Manager, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		return nil, errors.New("pluginhost: closed")
	}
	// One store of pinned copies for the host's life: the identity in a
	// manifest and every launch of a plugin are the same bytes.
	m := host.NewManager(h.ctx, host.Options{Models: models, Logger: h.logger, Executable: h.exe, Env: h.env, Binaries: h.bins})
	h.managers[m] = true
	return m, nil
}

func (h *Host) release(m *host.Manager) {
	m.Close()
	h.mu.Lock()
	delete(h.managers, m)
	h.mu.Unlock()
}

// Handle is a launched, configured plugin under supervision (see
// host.Supervised): Reward, Algorithm and Curriculum give its client, PID
// its current process id. A crashed or hung process is restarted with its
// state and the call retried, as the host's fault policy says.
type Handle struct {
	*host.Supervised
	once  sync.Once
	close func()
}

// Close kills the plugin's process.
func (p *Handle) Close() error {
	p.once.Do(p.close)
	return nil
}

// OnFault sets f to hear of every fault of the plugin as a readable line
// (the pipeline records them as warnings in the run's manifest).
func (p *Handle) OnFault(f func(string)) {
	if f == nil {
		p.SetFaultHandler(nil)
		return
	}
	p.SetFaultHandler(func(x host.Fault) { f(x.String()) })
}

// DefaultPolicy is the fault policy of a new Host: a call may take up to
// five minutes, a failed call is retried twice in a fresh process, and a
// plugin is restarted at most ten times in a stage.
var DefaultPolicy = host.Policy{CallTimeout: 5 * time.Minute, Retries: 2, MaxRestarts: 10}

// SetEnv sets the names of host environment variables that plugins
// launched from now on get besides host.DefaultEnv ([plugins] env).
func (h *Host) SetEnv(names []string) {
	h.mu.Lock()
	h.env = append([]string(nil), names...)
	h.mu.Unlock()
}

// SetPolicy sets the fault policy of plugins launched from now on.
func (h *Host) SetPolicy(p host.Policy) {
	h.mu.Lock()
	h.policy = p
	h.mu.Unlock()
}

// Launch starts the plugin in its own process, offering it models (a
// host.ModelService, or nil), and configures it with the experiment's
// config table and seed.
func (h *Host) Launch(ctx context.Context, s runner.PluginSpec, seed int64, models any) (runner.Plugin, error) {
	hs, err := spec(s)
	if err != nil {
		return nil, err
	}
	var ms host.ModelService
	if models != nil {
		var ok bool
		if ms, ok = models.(host.ModelService); !ok {
			return nil, fmt.Errorf("pluginhost: models is a %T, not a host.ModelService", models)
		}
	}
	m, err := h.manager(ms)
	if err != nil {
		return nil, err
	}
	h.mu.Lock()
	pol := h.policy
	h.mu.Unlock()
	sup, err := m.Supervise(ctx, hs, &sdk.ConfigureRequest{Config: s.Config, Seed: seed}, pol)
	if err != nil {
		h.release(m)
		return nil, err
	}
	handle := &Handle{Supervised: sup, close: func() { h.release(m) }}
	var kindErr error
	switch hs.Kind {
	case sdk.KindReward:
		_, kindErr = sup.Reward()
	case sdk.KindAlgorithm:
		_, kindErr = sup.Algorithm()
	case sdk.KindCurriculum:
		_, kindErr = sup.Curriculum()
	default:
		kindErr = fmt.Errorf("pluginhost: unknown plugin kind %q", hs.Kind)
	}
	if kindErr != nil {
		handle.Close()
		return nil, kindErr
	}
	return handle, nil
}

// Close kills every plugin still running.
func (h *Host) Close() error {
	h.mu.Lock()
	ms := h.managers
	h.managers = map[*host.Manager]bool{}
	h.closed = true
	h.mu.Unlock()
	for m := range ms {
		m.Close()
	}
	return h.bins.Close()
}
