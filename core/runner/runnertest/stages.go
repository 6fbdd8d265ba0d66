// Package runnertest registers small, real stage kinds for end-to-end tests
// of the runner: test-gen draws a noisy linear data set from the run's seed,
// test-train fits it by gradient descent (logging the loss, optionally
// slowed down so a test can kill it half-way), and test-eval scores the fit
// and publishes eval.jsonl.
//
// The pit binary includes them only when built with -tags pittest (see
// cmd/pit/teststages.go), so they never appear in the default registry.
//
// If the environment variable named by MarkersEnv is set to a directory,
// every computation of a test stage that succeeds leaves a marker file
// "<stage>-<key>-<pid>" there, and its artefact directory holds a file
// ComputedByFile with the computing process's pid: a test counts markers to
// check that no stage ran twice.
package runnertest

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/pit-lab/pit/core/experiment"
	"github.com/pit-lab/pit/core/results"
	"github.com/pit-lab/pit/core/runner"
)

// MarkersEnv names the environment variable holding the marker directory.
const MarkersEnv = "PIT_TEST_MARKERS"

// ComputedByFile is written into each test stage's artefact directory; it
// holds the pid of the process that computed it.
const ComputedByFile = "computed-by"

// GenSettings are test-gen's settings.
type GenSettings struct {
	Points int     `toml:"points"`
	Slope  float64 `toml:"slope"`
	Noise  float64 `toml:"noise"`
}

// TrainSettings are test-train's settings.
type TrainSettings struct {
	Steps     int           `toml:"steps"`
	LR        float64       `toml:"lr"`
	StepDelay time.Duration `toml:"step_delay"` // sleep per step, to make the stage slow enough to interrupt
	FailAt    int           `toml:"fail_at"`    // fail at this step (0: never), to test failures
}

// EvalSettings are test-eval's settings.
type EvalSettings struct {
	Temperature float64 `toml:"temperature"` // recorded in eval.jsonl; makes arms differ only in the last stage
}

func init() {
	runner.Register(runner.Kind{
		Name:     "test-gen",
		Doc:      "test stage: noisy linear data drawn from the seed",
		Settings: func() any { return &GenSettings{Points: 64, Slope: 3, Noise: 0.1} },
		Run:      gen,
	})
	runner.Register(runner.Kind{
		Name:     "test-train",
		Doc:      "test stage: fits test-gen's data by gradient descent",
		Needs:    []string{"test-gen"},
		Settings: func() any { return &TrainSettings{Steps: 20, LR: 0.3} },
		Run:      train,
	})
	runner.Register(runner.Kind{
		Name:     "test-eval",
		Doc:      "test stage: scores test-train's fit, writes eval.jsonl",
		Needs:    []string{"test-train"},
		Settings: func() any { return &EvalSettings{Temperature: 1} },
		Publish:  []string{results.EvalFile},
		Run:      eval,
	})
}

func gen(c *runner.Context) error {
	s := c.Settings.(*GenSettings)
	if s.Points < 1 {
		return fmt.Errorf("points = %d, want at least 1", s.Points)
	}
	rng := c.Rand("data")
	buf := make([]byte, 0, 16*s.Points)
	for i := 0; i < s.Points; i++ {
		x := rng.Float64()*2 - 1
		y := s.Slope*x + 0.5 + s.Noise*rng.NormFloat64()
		buf = binary.LittleEndian.AppendUint64(buf, math.Float64bits(x))
		buf = binary.LittleEndian.AppendUint64(buf, math.Float64bits(y))
	}
	if err := os.WriteFile(filepath.Join(c.Out, "data.bin"), buf, 0o644); err != nil {
		return err
	}
	return finish(c)
}

func train(c *runner.Context) error {
	s := c.Settings.(*TrainSettings)
	b, err := os.ReadFile(filepath.Join(c.Input("test-gen"), "data.bin"))
	if err != nil {
		return err
	}
	n := len(b) / 16
	if n == 0 {
		return errors.New("empty data set")
	}
	var w, bias float64
	for step := 1; step <= s.Steps; step++ {
		if s.StepDelay > 0 {
			select {
			case <-time.After(s.StepDelay):
			case <-c.Done():
				return c.Err()
			}
		} else if err := c.Err(); err != nil {
			return err
		}
		if step == s.FailAt {
			return fmt.Errorf("failing at step %d as configured (fail_at)", step)
		}
		var gw, gb, loss float64
		for i := 0; i < n; i++ {
			x := math.Float64frombits(binary.LittleEndian.Uint64(b[16*i:]))
			y := math.Float64frombits(binary.LittleEndian.Uint64(b[16*i+8:]))
			e := w*x + bias - y
			loss += e * e / float64(n)
			gw += 2 * e * x / float64(n)
			gb += 2 * e / float64(n)
		}
		w -= s.LR * gw
		bias -= s.LR * gb
		if err := c.Metric(step, "loss", loss); err != nil {
			return err
		}
		c.Progress(step, s.Steps)
	}
	if err := os.WriteFile(filepath.Join(c.Out, "model.txt"), fmt.Appendf(nil, "%v %v\n", w, bias), 0o644); err != nil {
		return err
	}
	return finish(c)
}

func eval(c *runner.Context) error {
	s := c.Settings.(*EvalSettings)
	b, err := os.ReadFile(filepath.Join(c.Input("test-train"), "model.txt"))
	if err != nil {
		return err
	}
	var w, bias float64
	if _, err := fmt.Sscan(string(b), &w, &bias); err != nil {
		return fmt.Errorf("read model: %w", err)
	}
	if err := c.Metric(0, "slope", w); err != nil {
		return err
	}
	row := results.EvalRow{Method: "fit", Judge: "oracle", Temperature: s.Temperature, N: 1, Delta: -math.Abs(w - 3)}
	if err := results.WriteJSONL(filepath.Join(c.Out, results.EvalFile), []results.EvalRow{row}); err != nil {
		return err
	}
	return finish(c)
}

// finish leaves the computed-by file and, if asked, a marker.
func finish(c *runner.Context) error {
	pid := strconv.Itoa(os.Getpid())
	if err := os.WriteFile(filepath.Join(c.Out, ComputedByFile), []byte(pid+"\n"), 0o644); err != nil {
		return err
	}
	dir := os.Getenv(MarkersEnv)
	if dir == "" {
		return nil
	}
	f, err := os.OpenFile(filepath.Join(dir, c.Stage+"-"+c.Key+"-"+pid), os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o644)
	if err != nil {
		return fmt.Errorf("marker: %w", err)
	}
	return f.Close()
}

// TaskSettings are the settings of the "test-task" task kind, which the
// test stages accept in experiment files (they ignore it).
type TaskSettings struct {
	Label string `toml:"label"`
}

func init() {
	experiment.RegisterTask("test-task", func() any { return &TaskSettings{Label: "linear"} })
}
