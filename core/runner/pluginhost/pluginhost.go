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
	"os"
	"sync"

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
}

// New returns a host whose plugins all die when ctx ends or Close is
// called. logger receives the plugins' logs (nil discards them);
// executable serves the built-ins (os.Executable() if empty).
func New(ctx context.Context, logger hclog.Logger, executable string) *Host {
	return &Host{ctx: ctx, logger: logger, exe: executable, managers: map[*host.Manager]bool{}}
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

func (h *Host) executableSum() (string, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.exeSum != "" {
		return h.exeSum, nil
	}
	exe := h.exe
	if exe == "" {
		var err error
		if exe, err = os.Executable(); err != nil {
			return "", fmt.Errorf("pluginhost: %w", err)
		}
	}
	sum, err := host.FileSHA256(exe)
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
	m := host.NewManager(h.ctx, host.Options{Models: models, Logger: h.logger, Executable: h.exe})
	h.managers[m] = true
	return m, nil
}

func (h *Host) release(m *host.Manager) {
	m.Close()
	h.mu.Lock()
	delete(h.managers, m)
	h.mu.Unlock()
}

// Handle is a launched, configured plugin. Reward, Algorithm and
// Curriculum (from *host.Plugin) give its client; PID its process id.
type Handle struct {
	*host.Plugin
	once  sync.Once
	close func()
}

// Close kills the plugin's process.
func (p *Handle) Close() error {
	p.once.Do(p.close)
	return nil
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
	p, err := m.Launch(ctx, hs)
	if err != nil {
		h.release(m)
		return nil, err
	}
	handle := &Handle{Plugin: p, close: func() { h.release(m) }}
	var configure func(context.Context, *sdk.ConfigureRequest) error
	switch hs.Kind {
	case sdk.KindReward:
		c, err := p.Reward()
		if err != nil {
			handle.Close()
			return nil, err
		}
		configure = c.Configure
	case sdk.KindAlgorithm:
		c, err := p.Algorithm()
		if err != nil {
			handle.Close()
			return nil, err
		}
		configure = c.Configure
	case sdk.KindCurriculum:
		c, err := p.Curriculum()
		if err != nil {
			handle.Close()
			return nil, err
		}
		configure = c.Configure
	default:
		handle.Close()
		return nil, fmt.Errorf("pluginhost: unknown plugin kind %q", hs.Kind)
	}
	if err := configure(ctx, &sdk.ConfigureRequest{Config: s.Config, Seed: seed}); err != nil {
		handle.Close()
		return nil, fmt.Errorf("configure %s: %w", hs, err)
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
	return nil
}
