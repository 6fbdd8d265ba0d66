package host

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/pit-lab/pit/plugins/sdk"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// Policy says how a supervised plugin's faults are handled.
type Policy struct {
	// CallTimeout bounds every call to the plugin. A plugin that has not
	// answered by then is killed and treated as crashed. 0: no deadline.
	CallTimeout time.Duration
	// Retries bounds how often one failed call is retried, each time in a
	// freshly started process; then the call fails. 0: no retries.
	Retries int
	// MaxRestarts bounds the restarts over the plugin's whole life, so that
	// a plugin that dies on every call fails the run instead of slowing it
	// down forever. 0: no bound besides Retries.
	MaxRestarts int
}

// Fault is one crash or hang of a supervised plugin.
type Fault struct {
	Plugin  string // "reward plugin \"bradley-terry\""
	Method  string // the call that failed
	PID     int    // the dead process
	Hung    bool   // killed after Policy.CallTimeout (else it died on its own)
	Timeout time.Duration
	Stderr  string // the last lines the process wrote to stderr
	Err     error  // the call's error
	// Attempt counts the call's failures so far (1 for the first).
	Attempt int
	// GaveUp is set on the last fault of a call that then failed.
	GaveUp bool
}

// String is the fault as one readable line (for logs and manifests).
func (f Fault) String() string {
	var b strings.Builder
	if f.Hung {
		fmt.Fprintf(&b, "%s (pid %d) did not answer %s within %s; killed it", f.Plugin, f.PID, f.Method, f.Timeout)
	} else {
		fmt.Fprintf(&b, "%s (pid %d) exited during %s", f.Plugin, f.PID, f.Method)
	}
	if f.GaveUp {
		fmt.Fprintf(&b, "; gave up after %d attempt(s)", f.Attempt)
	} else {
		fmt.Fprintf(&b, "; restarted it, restored its state and retried (attempt %d)", f.Attempt+1)
	}
	if s := stderrSummary(f.Stderr); s != "" {
		b.WriteString("; last stderr: ")
		b.WriteString(strings.ReplaceAll(s, "\n", " | "))
	}
	return b.String()
}

// stderrSummary picks the telling part of a dead plugin's stderr: from
// the last Go panic or fatal error on (its first lines), else the last
// lines (a Python traceback ends with the exception).
func stderrSummary(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	for i := len(lines) - 1; i >= 0; i-- {
		if strings.HasPrefix(lines[i], "panic: ") || strings.HasPrefix(lines[i], "fatal error: ") {
			end := min(i+4, len(lines))
			return lastLines(strings.Join(lines[i:end], "\n"), 4, 600)
		}
	}
	return lastLines(s, 6, 600)
}

// lastLines returns at most n lines and max bytes of the end of s.
func lastLines(s string, n, max int) string {
	s = strings.TrimSpace(s)
	lines := strings.Split(s, "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	s = strings.Join(lines, "\n")
	if len(s) > max {
		s = "…" + s[len(s)-max:]
	}
	return s
}

// Supervised is a plugin that survives its process: when the process
// crashes (exits, is killed) or hangs past Policy.CallTimeout during a
// call, Supervised starts a new one, configures it as the first, restores
// the state the old one had before the call (stateful plugins: the state is
// saved after every call that may change it) and retries the call, at most
// Policy.Retries times. Each fault is reported to the fault handler.
//
// A deterministic plugin therefore gives the same answers whether or not
// its process died on the way.
type Supervised struct {
	m    *Manager
	spec Spec
	cfg  sdk.ConfigureRequest
	pol  Policy

	mu       sync.Mutex
	cur      *Plugin
	gen      int
	restarts int
	state    []byte // last saved state of a stateful plugin
	onFault  func(Fault)
}

// Supervise launches spec, configures it with cfg and returns it under
// supervision. Errors of the first launch and of Configure are returned as
// they are (they are the user's to fix, not faults).
func (m *Manager) Supervise(ctx context.Context, spec Spec, cfg *sdk.ConfigureRequest, pol Policy) (*Supervised, error) {
	s := &Supervised{m: m, spec: spec, pol: pol}
	if cfg != nil {
		s.cfg = *cfg
	}
	p, err := s.start(ctx)
	if err != nil {
		return nil, err
	}
	s.cur = p
	return s, nil
}

// SetFaultHandler sets the function that hears of every fault (nil: none).
func (s *Supervised) SetFaultHandler(f func(Fault)) {
	s.mu.Lock()
	s.onFault = f
	s.mu.Unlock()
}

// Plugin returns the process serving the plugin now.
func (s *Supervised) Plugin() *Plugin {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.cur
}

// PID is the current process's id.
func (s *Supervised) PID() int { return s.Plugin().PID() }

// Description is the plugin's self-description.
func (s *Supervised) Description() *sdk.Description { return s.Plugin().Description }

// Restarts counts the restarts so far.
func (s *Supervised) Restarts() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.restarts
}

// Kill ends the current process.
func (s *Supervised) Kill() { s.Plugin().Kill() }

// start launches and configures a process.
func (s *Supervised) start(ctx context.Context) (*Plugin, error) {
	p, err := s.m.Launch(ctx, s.spec)
	if err != nil {
		return nil, err
	}
	if err := p.common().Configure(ctx, &s.cfg); err != nil {
		s.m.remove(p)
		p.Kill()
		return nil, fmt.Errorf("configure %s: %w", s.spec, err)
	}
	return p, nil
}

func (p *Plugin) common() common { return common{p, p.impl} }

func (s *Supervised) stateful() bool {
	d := s.Plugin().Description
	return d != nil && d.Has(sdk.CapStateful)
}

// restart replaces the process of generation gen (unless another call did
// already) with a new one holding the last saved state.
func (s *Supervised) restart(ctx context.Context, gen int) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.gen != gen {
		return nil
	}
	if s.pol.MaxRestarts > 0 && s.restarts >= s.pol.MaxRestarts {
		return fmt.Errorf("%s was restarted %d times already (the limit)", s.spec, s.restarts)
	}
	old := s.cur
	s.m.remove(old)
	old.Kill()
	p, err := s.start(ctx)
	if err != nil {
		return fmt.Errorf("restart: %w", err)
	}
	if s.state != nil {
		if err := p.common().RestoreState(ctx, s.state); err != nil {
			s.m.remove(p)
			p.Kill()
			return fmt.Errorf("restart: restore the saved state: %w", err)
		}
	}
	s.cur = p
	s.gen++
	s.restarts++
	return nil
}

// call runs f against the current process under the policy. mutates says
// the call may change a stateful plugin's state (it is saved afterwards).
func (s *Supervised) call(ctx context.Context, method string, mutates bool, f func(ctx context.Context, p *Plugin) error) error {
	for attempt := 1; ; attempt++ {
		s.mu.Lock()
		p, gen := s.cur, s.gen
		s.mu.Unlock()
		cctx, cancel := ctx, context.CancelFunc(func() {})
		if s.pol.CallTimeout > 0 {
			cctx, cancel = context.WithTimeout(ctx, s.pol.CallTimeout)
		}
		err := f(cctx, p)
		var state []byte
		if err == nil && mutates && s.stateful() {
			// Part of the call: if the process dies here, the call is
			// redone from the previous state.
			state, err = p.common().SaveState(cctx)
			if err == nil && state == nil {
				state = []byte{}
			}
		}
		// gRPC may report the deadline a moment before the context does.
		hung := err != nil && ctx.Err() == nil && s.pol.CallTimeout > 0 &&
			(errors.Is(cctx.Err(), context.DeadlineExceeded) || isDeadline(err))
		cancel()
		if err == nil {
			if state != nil {
				s.mu.Lock()
				s.state = state
				s.mu.Unlock()
			}
			return nil
		}
		if ctx.Err() != nil {
			return err
		}
		if hung {
			killNow(p)
		} else if !p.Exited() {
			return err // the plugin answered with an error: not a fault
		}
		fault := Fault{Plugin: pluginName(p), Method: method, PID: p.PID(), Hung: hung, Timeout: s.pol.CallTimeout,
			Stderr: p.stderr.String(), Err: err, Attempt: attempt}
		var rerr error
		if attempt <= s.pol.Retries {
			rerr = s.restart(ctx, gen)
		}
		if attempt > s.pol.Retries || rerr != nil {
			fault.GaveUp = true
			s.report(fault)
			msg := fault.String()
			if rerr != nil {
				msg += "; " + rerr.Error()
			}
			// The fault says it all but the transport's words.
			cause := err
			if u := errors.Unwrap(err); u != nil {
				cause = u
			}
			return fmt.Errorf("%s: %w", msg, cause)
		}
		s.report(fault)
	}
}

// isDeadline reports whether err carries gRPC's DeadlineExceeded code.
func isDeadline(err error) bool {
	var se interface{ GRPCStatus() *status.Status }
	return errors.As(err, &se) && se.GRPCStatus().Code() == codes.DeadlineExceeded
}

func (s *Supervised) report(f Fault) {
	s.mu.Lock()
	h := s.onFault
	s.mu.Unlock()
	s.m.opts.Logger.Warn("plugin fault", "fault", f.String())
	if h != nil {
		h(f)
	}
}

func pluginName(p *Plugin) string {
	if p.Description != nil {
		return fmt.Sprintf("%s plugin %q", p.Description.Kind, p.Description.Name)
	}
	return p.Spec.String()
}

// killNow kills a hung process and its process group at once (go-plugin's
// Kill first asks it to shut down and waits two seconds), then lets
// go-plugin clean up.
func killNow(p *Plugin) {
	p.killGroup()
	p.Kill()
}

// Reward returns the plugin as a supervised reward formulation.
func (s *Supervised) Reward() (sdk.Reward, error) {
	if _, err := s.Plugin().Reward(); err != nil {
		return nil, err
	}
	return &supReward{supCommon{s}}, nil
}

// Algorithm returns the plugin as a supervised RL algorithm.
func (s *Supervised) Algorithm() (sdk.Algorithm, error) {
	if _, err := s.Plugin().Algorithm(); err != nil {
		return nil, err
	}
	return &supAlgorithm{supCommon{s}}, nil
}

// Curriculum returns the plugin as a supervised curriculum strategy.
func (s *Supervised) Curriculum() (sdk.Curriculum, error) {
	if _, err := s.Plugin().Curriculum(); err != nil {
		return nil, err
	}
	return &supCurriculum{supCommon{s}}, nil
}

type supCommon struct{ s *Supervised }

func (c supCommon) Describe(ctx context.Context) (d *sdk.Description, err error) {
	err = c.s.call(ctx, "Describe", false, func(ctx context.Context, p *Plugin) error {
		d, err = p.common().Describe(ctx)
		return err
	})
	return d, err
}

// Configure reconfigures the plugin; restarted processes get the new
// config.
func (c supCommon) Configure(ctx context.Context, req *sdk.ConfigureRequest) error {
	err := c.s.call(ctx, "Configure", true, func(ctx context.Context, p *Plugin) error {
		return p.common().Configure(ctx, req)
	})
	if err == nil {
		c.s.mu.Lock()
		c.s.cfg = *req
		c.s.mu.Unlock()
	}
	return err
}

func (c supCommon) SaveState(ctx context.Context) (b []byte, err error) {
	err = c.s.call(ctx, "SaveState", false, func(ctx context.Context, p *Plugin) error {
		b, err = p.common().SaveState(ctx)
		return err
	})
	return b, err
}

func (c supCommon) RestoreState(ctx context.Context, state []byte) error {
	return c.s.call(ctx, "RestoreState", true, func(ctx context.Context, p *Plugin) error {
		return p.common().RestoreState(ctx, state)
	})
}

type supReward struct{ supCommon }

func (r *supReward) Comparisons(ctx context.Context, req *sdk.ComparisonsRequest) (resp *sdk.ComparisonsResponse, err error) {
	err = r.s.call(ctx, "Comparisons", true, func(ctx context.Context, p *Plugin) error {
		h, _ := p.Reward()
		resp, err = h.Comparisons(ctx, req)
		return err
	})
	return resp, err
}

func (r *supReward) Score(ctx context.Context, req *sdk.ScoreRequest) (resp *sdk.ScoreResponse, err error) {
	err = r.s.call(ctx, "Score", true, func(ctx context.Context, p *Plugin) error {
		h, _ := p.Reward()
		resp, err = h.Score(ctx, req)
		return err
	})
	return resp, err
}

type supAlgorithm struct{ supCommon }

func (a *supAlgorithm) Knobs(ctx context.Context) (k *sdk.Knobs, err error) {
	err = a.s.call(ctx, "Knobs", false, func(ctx context.Context, p *Plugin) error {
		h, _ := p.Algorithm()
		k, err = h.Knobs(ctx)
		return err
	})
	return k, err
}

func (a *supAlgorithm) Advantages(ctx context.Context, req *sdk.AdvantagesRequest) (resp *sdk.AdvantagesResponse, err error) {
	err = a.s.call(ctx, "Advantages", true, func(ctx context.Context, p *Plugin) error {
		h, _ := p.Algorithm()
		resp, err = h.Advantages(ctx, req)
		return err
	})
	return resp, err
}

func (a *supAlgorithm) Observe(ctx context.Context, req *sdk.ObserveRequest) error {
	return a.s.call(ctx, "Observe", true, func(ctx context.Context, p *Plugin) error {
		h, _ := p.Algorithm()
		return h.Observe(ctx, req)
	})
}

type supCurriculum struct{ supCommon }

func (c *supCurriculum) Next(ctx context.Context, req *sdk.NextRequest) (resp *sdk.NextResponse, err error) {
	err = c.s.call(ctx, "Next", true, func(ctx context.Context, p *Plugin) error {
		h, _ := p.Curriculum()
		resp, err = h.Next(ctx, req)
		return err
	})
	return resp, err
}

func (c *supCurriculum) Observe(ctx context.Context, req *sdk.ObserveRequest) error {
	return c.s.call(ctx, "Observe", true, func(ctx context.Context, p *Plugin) error {
		h, _ := p.Curriculum()
		return h.Observe(ctx, req)
	})
}
