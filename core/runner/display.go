package runner

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/pit-lab/pit/core/results"
)

// StageInfo names a stage instance for the display.
type StageInfo struct {
	Run   string // the first run that uses it
	Runs  int    // how many runs share it
	Stage string
	Key   string
}

func (s StageInfo) label() string {
	l := s.Stage + " [" + s.Run
	if s.Runs > 1 {
		l += fmt.Sprintf(" +%d", s.Runs-1)
	}
	return l + "]"
}

// Display shows a grid's progress. Its methods are called from several
// goroutines.
type Display interface {
	// Start begins a grid of runs whose distinct stage instances number
	// stages[name] per stage name.
	Start(runs int, stages map[string]int, jobs int)
	StageStarted(s StageInfo)
	StageProgress(s StageInfo, step, total int)
	StageCached(s StageInfo)
	StageFinished(s StageInfo, status results.Status, err error, took time.Duration)
	RunFinished(run string, status results.Status, msg string)
	Message(s StageInfo, msg string)
	Close()
}

type nopDisplay struct{}

func (nopDisplay) Start(int, map[string]int, int)                                {}
func (nopDisplay) StageStarted(StageInfo)                                        {}
func (nopDisplay) StageProgress(StageInfo, int, int)                             {}
func (nopDisplay) StageCached(StageInfo)                                         {}
func (nopDisplay) StageFinished(StageInfo, results.Status, error, time.Duration) {}
func (nopDisplay) RunFinished(string, results.Status, string)                    {}
func (nopDisplay) Message(StageInfo, string)                                     {}
func (nopDisplay) Close()                                                        {}

// IsTerminal reports whether f is a character device (an interactive
// terminal), where the progress display updates in place.
func IsTerminal(f *os.File) bool {
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

// Progress is the standard Display. On a terminal (Live) it redraws a status
// block in place: runs done/total, stages done, elapsed time and ETA, and one
// line per running stage with its step, steps per second and ETA. Otherwise
// it writes plain log lines: stage start/finish, run outcomes, and each
// running stage's progress every LogEvery.
type Progress struct {
	w        io.Writer
	live     bool
	logEvery time.Duration
	now      func() time.Time

	mu         sync.Mutex
	start      time.Time
	runs, done int
	failedRuns int
	stages     int
	computed   int
	cached     int
	failed     int
	jobs       int
	busy       time.Duration            // summed time of computed stages
	left       map[string]int           // stage instances not started, by stage name
	took       map[string]time.Duration // summed time of computed instances, by name
	tookN      map[string]int
	active     map[string]*activeStage
	drawn      int // lines of the last live block
	width      int // terminal columns; 0 if unknown
	stop       chan struct{}
	stopped    chan struct{}
}

type activeStage struct {
	info           StageInfo
	started        time.Time
	step, total    int
	firstStep      int
	firstT, lastT  time.Time
	lastLog        time.Time
	reportedAnyway bool
}

// NewProgress returns a display writing to w, live (in place, for a
// terminal) or as plain lines.
func NewProgress(w io.Writer, live bool) *Progress {
	return &Progress{w: w, live: live, logEvery: 10 * time.Second, now: time.Now, active: map[string]*activeStage{}}
}

// SetWidth sets the terminal's width in columns: live lines are cut to it,
// so that none wraps and the block redraws in place.
func (p *Progress) SetWidth(cols int) { p.width = cols }

// SetLogEvery sets how often plain mode logs a running stage's progress.
func (p *Progress) SetLogEvery(d time.Duration) { p.logEvery = d }

// Start begins the display.
func (p *Progress) Start(runs int, stages map[string]int, jobs int) {
	p.mu.Lock()
	p.start = p.now()
	p.runs, p.jobs = runs, max(jobs, 1)
	p.stages = 0
	p.left = map[string]int{}
	p.took = map[string]time.Duration{}
	p.tookN = map[string]int{}
	for name, n := range stages {
		p.stages += n
		p.left[name] = n
	}
	stagesN := p.stages
	p.mu.Unlock()
	if !p.live {
		p.linef("grid: %d runs, %d distinct stage instances, %d worker(s)", runs, stagesN, jobs)
		return
	}
	p.stop = make(chan struct{})
	p.stopped = make(chan struct{})
	go func() {
		defer close(p.stopped)
		t := time.NewTicker(200 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-p.stop:
				return
			case <-t.C:
				p.mu.Lock()
				p.redraw()
				p.mu.Unlock()
			}
		}
	}()
}

// StageStarted shows a stage as running.
func (p *Progress) StageStarted(s StageInfo) {
	p.mu.Lock()
	defer p.mu.Unlock()
	now := p.now()
	p.left[s.Stage]--
	p.active[s.Key+s.Stage] = &activeStage{info: s, started: now, lastLog: now}
	if !p.live {
		p.printLocked(fmt.Sprintf("start  %s key %s", s.label(), short(s.Key)))
	}
}

// StageProgress records a stage's step.
func (p *Progress) StageProgress(s StageInfo, step, total int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	a := p.active[s.Key+s.Stage]
	if a == nil {
		return
	}
	now := p.now()
	if a.firstT.IsZero() {
		a.firstStep, a.firstT = step, now
	}
	a.step, a.total, a.lastT = step, total, now
	if !p.live && now.Sub(a.lastLog) >= p.logEvery {
		a.lastLog = now
		p.printLocked(fmt.Sprintf("       %s %s", s.label(), a.describe(now)))
	}
}

// StageCached records a stage reused from the cache.
func (p *Progress) StageCached(s StageInfo) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.cached++
	p.left[s.Stage]--
	if !p.live {
		p.printLocked(fmt.Sprintf("cached %s key %s", s.label(), short(s.Key)))
	}
}

// StageFinished records a stage's outcome.
func (p *Progress) StageFinished(s StageInfo, status results.Status, err error, took time.Duration) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if _, started := p.active[s.Key+s.Stage]; !started {
		p.left[s.Stage]-- // settled without running (its input failed)
	}
	delete(p.active, s.Key+s.Stage)
	switch status {
	case results.StatusDone:
		p.computed++
		p.busy += took
		p.took[s.Stage] += took
		p.tookN[s.Stage]++
		p.printLocked(fmt.Sprintf("done   %s in %s", s.label(), took.Round(100*time.Millisecond)))
	case results.StatusFailed:
		p.failed++
		p.printLocked(fmt.Sprintf("FAILED %s: %v", s.label(), err))
	case results.StatusInterrupted:
		p.printLocked(fmt.Sprintf("interrupted %s after %s", s.label(), took.Round(100*time.Millisecond)))
	}
}

// RunFinished records a run's outcome.
func (p *Progress) RunFinished(run string, status results.Status, msg string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.done++
	if status == results.StatusFailed {
		p.failedRuns++
		p.printLocked(fmt.Sprintf("run %s failed: %s", run, msg))
		return
	}
	p.printLocked(fmt.Sprintf("run %s %s (%d/%d)", run, status, p.done, p.runs))
}

// Message prints a line about a stage.
func (p *Progress) Message(s StageInfo, msg string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if s.Stage == "" {
		p.printLocked(fmt.Sprintf("run %s: %s", s.Run, msg))
		return
	}
	p.printLocked(fmt.Sprintf("%s: %s", s.label(), msg))
}

// Close stops the live display, leaving its last state on screen.
func (p *Progress) Close() {
	if p.live && p.stop != nil {
		close(p.stop)
		<-p.stopped
		p.mu.Lock()
		p.redraw()
		p.drawn = 0
		p.mu.Unlock()
	}
}

func (p *Progress) linef(format string, args ...any) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.printLocked(fmt.Sprintf(format, args...))
}

// printLocked writes a log line; on a terminal above the live block.
func (p *Progress) printLocked(line string) {
	if p.live {
		p.clear()
		fmt.Fprintln(p.w, line)
		p.draw()
		return
	}
	fmt.Fprintf(p.w, "%s %s\n", p.now().Format("15:04:05"), line)
}

func (p *Progress) redraw() {
	p.clear()
	p.draw()
}

func (p *Progress) clear() {
	if p.drawn > 0 {
		fmt.Fprintf(p.w, "\x1b[%dF\x1b[J", p.drawn)
		p.drawn = 0
	}
}

func (p *Progress) draw() {
	if p.start.IsZero() {
		return
	}
	lines := []string{p.header()}
	keys := make([]string, 0, len(p.active))
	for k := range p.active {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool { return p.active[keys[i]].started.Before(p.active[keys[j]].started) })
	now := p.now()
	for _, k := range keys {
		a := p.active[k]
		lines = append(lines, fmt.Sprintf("  %-40s %s", a.info.label(), a.describe(now)))
	}
	if p.width > 1 {
		for i, l := range lines {
			if r := []rune(l); len(r) > p.width-1 {
				lines[i] = string(r[:p.width-2]) + "…"
			}
		}
	}
	fmt.Fprint(p.w, strings.Join(lines, "\n")+"\n")
	p.drawn = len(lines)
}

// header is the summary line: runs, stages, elapsed time and ETA.
func (p *Progress) header() string {
	now := p.now()
	settled := p.computed + p.cached + p.failed
	h := fmt.Sprintf("runs %d/%d done", p.done, p.runs)
	if p.failedRuns > 0 {
		h += fmt.Sprintf(" (%d failed)", p.failedRuns)
	}
	h += fmt.Sprintf(" · stages %d/%d (%d cached) · %s", settled, p.stages, p.cached, now.Sub(p.start).Round(time.Second))
	if eta, ok := p.eta(now); ok {
		h += " · ETA ~" + eta.Round(time.Second).String()
	}
	return h
}

// eta estimates the time left: the longest running stage's own estimate,
// plus, for each stage instance not started, the mean time of computed
// instances of the same stage (of any stage if none is computed yet),
// spread over the workers.
func (p *Progress) eta(now time.Time) (time.Duration, bool) {
	if p.computed == 0 {
		return 0, false
	}
	overall := p.busy / time.Duration(p.computed)
	mean := func(name string) time.Duration {
		if n := p.tookN[name]; n > 0 {
			return p.took[name] / time.Duration(n)
		}
		return overall
	}
	var queued time.Duration
	for name, n := range p.left {
		if n > 0 {
			queued += mean(name) * time.Duration(n)
		}
	}
	var activeLeft time.Duration
	for _, a := range p.active {
		if r, ok := a.remaining(); ok {
			activeLeft = max(activeLeft, r)
		} else {
			activeLeft = max(activeLeft, mean(a.info.Stage)-now.Sub(a.started))
		}
	}
	return activeLeft + queued/time.Duration(p.jobs), true
}

func (a *activeStage) rate() (float64, bool) {
	dt := a.lastT.Sub(a.firstT).Seconds()
	if dt <= 0 || a.step <= a.firstStep {
		return 0, false
	}
	return float64(a.step-a.firstStep) / dt, true
}

func (a *activeStage) remaining() (time.Duration, bool) {
	r, ok := a.rate()
	if !ok || a.total <= 0 {
		return 0, false
	}
	return time.Duration(float64(a.total-a.step) / r * float64(time.Second)), true
}

func (a *activeStage) describe(now time.Time) string {
	if a.total <= 0 && a.step == 0 {
		return fmt.Sprintf("running %s", now.Sub(a.started).Round(time.Second))
	}
	s := fmt.Sprintf("step %d", a.step)
	if a.total > 0 {
		s += fmt.Sprintf("/%d", a.total)
	}
	if r, ok := a.rate(); ok {
		s += fmt.Sprintf("  %.1f step/s", r)
	}
	if d, ok := a.remaining(); ok {
		s += "  ETA " + d.Round(time.Second).String()
	}
	return s
}

func short(key string) string {
	if len(key) > 12 {
		return key[:12]
	}
	return key
}

// Writer returns a writer whose lines the display prints as log lines
// (above the live block on a terminal): give it to loggers, such as the
// plugins' logger, that would otherwise garble the live display.
func (p *Progress) Writer() io.Writer { return &lineWriter{p: p} }

type lineWriter struct {
	p   *Progress
	mu  sync.Mutex
	buf []byte
}

func (w *lineWriter) Write(b []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.buf = append(w.buf, b...)
	for {
		i := bytes.IndexByte(w.buf, '\n')
		if i < 0 {
			return len(b), nil
		}
		line := string(w.buf[:i])
		w.buf = w.buf[i+1:]
		w.p.mu.Lock()
		w.p.printLocked(line)
		w.p.mu.Unlock()
	}
}
