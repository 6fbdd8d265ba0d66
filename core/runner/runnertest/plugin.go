package runnertest

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/pit-lab/pit/core/runner"
	"github.com/pit-lab/pit/core/runner/pluginhost"
)

// PluginSettings are test-plugin's settings.
type PluginSettings struct {
	Hold time.Duration `toml:"hold"` // how long to keep the plugin running before finishing
}

func init() {
	runner.Register(runner.Kind{
		Name:     "test-plugin",
		Doc:      "test stage: launches its reward plugin and holds it for a while",
		Plugins:  []runner.Slot{{Kind: "reward", Default: "bradley-terry"}},
		Settings: func() any { return &PluginSettings{Hold: 100 * time.Millisecond} },
		Run:      holdPlugin,
	})
}

// holdPlugin launches the reward plugin, checks that it runs in another
// process and answers, records its pid (in the artefacts and, if
// MarkersEnv is set, as a marker "plugin-<pid>"), and holds it for
// Hold or until interrupted.
func holdPlugin(c *runner.Context) error {
	s := c.Settings.(*PluginSettings)
	p, err := c.Plugin("reward", nil)
	if err != nil {
		return err
	}
	h, ok := p.(*pluginhost.Handle)
	if !ok {
		return fmt.Errorf("plugin handle is a %T", p)
	}
	pid := h.PID()
	if pid <= 0 || pid == os.Getpid() {
		return fmt.Errorf("plugin pid %d: not a separate process (host %d)", pid, os.Getpid())
	}
	r, err := h.Reward()
	if err != nil {
		return err
	}
	d, err := r.Describe(c)
	if err != nil {
		return fmt.Errorf("describe: %w", err)
	}
	if d.Name == "" {
		return errors.New("plugin describes itself without a name")
	}
	ps := strconv.Itoa(pid)
	if dir := os.Getenv(MarkersEnv); dir != "" {
		if err := os.WriteFile(filepath.Join(dir, "plugin-"+ps), nil, 0o644); err != nil {
			return err
		}
	}
	if err := os.WriteFile(filepath.Join(c.Out, "plugin-pid"), []byte(ps+"\n"), 0o644); err != nil {
		return err
	}
	select {
	case <-time.After(s.Hold):
	case <-c.Done():
		return c.Err()
	}
	return finish(c)
}
