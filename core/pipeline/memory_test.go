package pipeline

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"testing"

	"github.com/pit-lab/pit/core/experiment"
	"github.com/pit-lab/pit/core/model"
	"github.com/pit-lab/pit/core/nn"
	"github.com/pit-lab/pit/core/runner"
	"github.com/pit-lab/pit/core/task/synth"
)

// memCalEnv makes the test binary a calibration child: it trains a model
// of the shape "d_model,layers,heads,batch,kind" for a few steps and prints
// its peak RSS (VmHWM), so the measure is not polluted by other tests.
const memCalEnv = "PIT_MEMORY_CALIBRATION"

func TestMain(m *testing.M) {
	if spec := os.Getenv(memCalEnv); spec != "" {
		peak, err := memCalChild(spec)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		fmt.Println(peak)
		os.Exit(0)
	}
	os.Exit(m.Run())
}

func memCalChild(spec string) (uint64, error) {
	if rest, ok := strings.CutPrefix(spec, "run,"); ok {
		return memCalRun(rest)
	}
	var d, l, h, b int
	var kind string
	if _, err := fmt.Sscanf(strings.ReplaceAll(spec, ",", " "), "%d %d %d %d %s", &d, &l, &h, &b, &kind); err != nil {
		return 0, err
	}
	task := synth.DefaultSettings()
	cfg := nn.Config{Vocab: synth.VocabSize, Context: max(task.MaxContext, task.ImproverContext()),
		DModel: d, Layers: l, Heads: h, PadID: synth.PAD, Seed: 1}.WithDefaults()
	m, err := nn.New(cfg)
	if err != nil {
		return 0, err
	}
	tr, err := nn.NewTrainer(m, nn.OptimConfig{LR: 1e-3})
	if err != nil {
		return 0, err
	}
	n := b
	if kind == "rm" {
		n = 2 * b
	}
	seqs := make([][]int, n)
	for i := range seqs {
		seqs[i] = make([]int, cfg.Context)
		for t := range seqs[i] {
			seqs[i][t] = 1 + (i*7+t*3)%(cfg.Vocab-1)
		}
	}
	// One step at every sequence-length bucket, longest first: the
	// trainer keeps a compiled graph per bucket, as a real stage whose
	// batches vary in length does.
	for n := cfg.Context; n > 0; n -= 8 {
		cut := make([][]int, len(seqs))
		for i := range seqs {
			cut[i] = seqs[i][:n]
		}
		switch kind {
		case "sft":
			_, err = tr.SFTStep(nn.Batch{Seqs: cut})
		case "rm":
			pairs := make([]nn.Pair, b)
			for i := range pairs {
				pairs[i] = nn.Pair{I: 2 * i, J: 2*i + 1, Weight: 1}
			}
			_, err = tr.ComparisonStep(cut, pairs)
		}
		if err != nil {
			return 0, err
		}
	}
	runtime.KeepAlive(tr)
	return vmHWM()
}

// runShape loads the tiny pipeline with the model shape "d,layers,heads".
func runShape(shape string) (*experiment.Experiment, error) {
	var d, l, h int64
	if _, err := fmt.Sscanf(strings.ReplaceAll(shape, ",", " "), "%d %d %d", &d, &l, &h); err != nil {
		return nil, err
	}
	return experiment.Load(context.Background(), "testdata/tiny.toml",
		experiment.Set("model.d_model", d), experiment.Set("model.layers", l), experiment.Set("model.heads", h))
}

// memCalRun runs the whole tiny pipeline (plugins in process) with a model
// of the given shape and returns the process's peak RSS.
func memCalRun(shape string) (uint64, error) {
	exp, err := runShape(shape)
	if err != nil {
		return 0, err
	}
	runs, err := experiment.Expand(exp)
	if err != nil {
		return 0, err
	}
	plan, err := runner.PlanFor(exp, runs)
	if err != nil {
		return 0, err
	}
	dir, err := os.MkdirTemp("", "pit-memcal-")
	if err != nil {
		return 0, err
	}
	defer os.RemoveAll(dir)
	sum, err := runner.Execute(context.Background(), plan, runner.Options{Dir: dir, Plugins: inProcessHost{}, CodeVersion: "test", Display: runner.NewProgress(io.Discard, false)})
	if err != nil || sum.Done != 1 {
		return 0, fmt.Errorf("run: %+v %v", sum, err)
	}
	return vmHWM()
}

func vmHWM() (uint64, error) {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0, err
	}
	for _, line := range strings.Split(string(b), "\n") {
		if f := strings.Fields(line); len(f) >= 2 && f[0] == "VmHWM:" {
			kb, err := strconv.ParseUint(f[1], 10, 64)
			return kb << 10, err
		}
	}
	return 0, fmt.Errorf("no VmHWM in /proc/self/status")
}

// The memory estimate is honest: for real training steps of a few shapes
// it is at least the measured peak RSS and at most a small multiple of it.
func TestMemoryEstimateCalibrated(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("peak RSS is read from /proc")
	}
	if testing.Short() {
		t.Skip("trains models in child processes")
	}
	shapes := []struct {
		d, l, h, b int
		kind       string
	}{
		{64, 2, 4, 32, "sft"},
		{128, 4, 4, 32, "sft"},
		{256, 4, 8, 16, "sft"},
		{128, 4, 4, 16, "rm"},
	}
	for _, s := range shapes {
		spec := fmt.Sprintf("%d,%d,%d,%d,%s", s.d, s.l, s.h, s.b, s.kind)
		cmd := exec.Command(os.Args[0], "-test.run=^$")
		cmd.Env = append(os.Environ(), memCalEnv+"="+spec)
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("%s: %v", spec, err)
		}
		measured, err := strconv.ParseUint(strings.TrimSpace(string(out)), 10, 64)
		if err != nil {
			t.Fatalf("%s: %q", spec, out)
		}
		ms := &model.Settings{DModel: s.d, Layers: s.l, Heads: s.h}
		var st experiment.Stage
		if s.kind == "sft" {
			st = experiment.Stage{Name: "sft", Kind: "sft", Settings: &SFTSettings{BatchSize: s.b}}
		} else {
			st = experiment.Stage{Name: "rm", Kind: "rm", Settings: &RMSettings{BatchSize: s.b}}
		}
		cfg := &experiment.Config{Task: experiment.Section{Kind: TaskKind, Settings: ptr(synth.DefaultSettings())}, Model: &experiment.Section{Kind: model.Kind, Settings: ms}}
		e, ok := estimateStage(cfg, st)
		if !ok {
			t.Fatal("no estimate")
		}
		ratio := float64(e.Bytes) / float64(measured)
		t.Logf("%-18s measured peak RSS %4d MiB, estimate %4d MiB (%.2f×)", spec, measured>>20, e.Bytes>>20, ratio)
		if ratio < 1 || ratio > 2.5 {
			t.Errorf("%s: estimate %d MiB for a measured %d MiB: want between 1× and 2.5×", spec, e.Bytes>>20, measured>>20)
		}
	}
}

func ptr[T any](v T) *T { return &v }

// The stages of a run share one process, and it keeps much of what one
// stage used when the next starts: the run's estimate (the sum of what
// each stage adds) bounds the measured peak of a whole pipeline.
func TestMemoryEstimateWholeRun(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("peak RSS is read from /proc")
	}
	if testing.Short() {
		t.Skip("runs the whole pipeline in a child process")
	}
	for _, shape := range []string{"64,2,4"} {
		cmd := exec.Command(os.Args[0], "-test.run=^$")
		cmd.Env = append(os.Environ(), memCalEnv+"=run,"+shape)
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("%s: %v", shape, err)
		}
		measured, err := strconv.ParseUint(strings.TrimSpace(string(out)), 10, 64)
		if err != nil {
			t.Fatalf("%s: %q", shape, out)
		}
		exp, err := runShape(shape)
		if err != nil {
			t.Fatal(err)
		}
		est := estimateRun(exp.Arms[0].Config)
		ratio := float64(est) / float64(measured)
		t.Logf("whole run, d_model,layers,heads %-8s measured peak RSS %4d MiB, estimate %4d MiB (%.2f×)", shape, measured>>20, est>>20, ratio)
		if ratio < 1 || ratio > 4 {
			t.Errorf("%s: run estimate %d MiB for a measured %d MiB: want between 1× and 4×", shape, est>>20, measured>>20)
		}
	}
}

// A stage that cannot fit is refused before any work, with the estimate
// and a batch size that fits.
func TestCheckMemory(t *testing.T) {
	ms := &model.Settings{DModel: 1024, Layers: 24, Heads: 16}
	cfg := &experiment.Config{Task: experiment.Section{Kind: TaskKind, Settings: ptr(synth.DefaultSettings())}, Model: &experiment.Section{Kind: model.Kind, Settings: ms},
		Stages: []experiment.Stage{{Name: "data", Kind: "data"}, {Name: "sft", Kind: "sft", Settings: &SFTSettings{BatchSize: 64}}}}
	arm := &experiment.Arm{Label: "baseline", Baseline: true, Config: cfg}
	probs := checkMemory(context.Background(), arm, experiment.CheckEnv{MemAvailable: 32 << 30})
	if len(probs) != 1 || probs[0].Key != "stages.sft" || !strings.Contains(probs[0].Msg, "GiB at its peak") || !strings.Contains(probs[0].Msg, "32.0 GiB available") {
		t.Fatalf("problems %+v", probs)
	}
	if !strings.Contains(probs[0].Hint, "stages.sft.batch_size = ") {
		t.Fatalf("hint %q suggests no batch size", probs[0].Hint)
	}
	// The suggested batch size fits, one more does not.
	var fit int
	fmt.Sscanf(probs[0].Hint[strings.Index(probs[0].Hint, "= ")+2:], "%d", &fit)
	if fit < 1 || fit >= 64 {
		t.Fatalf("suggested batch size %d", fit)
	}
	for _, b := range []int{fit, fit + 1} {
		st := cfg.Stages[1]
		st.Settings = &SFTSettings{BatchSize: b}
		e, _ := estimateStage(cfg, st)
		if (e.Bytes <= 32<<30) != (b == fit) {
			t.Errorf("batch %d: estimate %d MiB", b, e.Bytes>>20)
		}
	}
	// Unknown memory: no check. Plenty: no problem.
	if p := checkMemory(context.Background(), arm, experiment.CheckEnv{}); p != nil {
		t.Errorf("unknown memory: %+v", p)
	}
	ms.DModel, ms.Layers, ms.Heads = 64, 2, 4
	if p := checkMemory(context.Background(), arm, experiment.CheckEnv{MemAvailable: 64 << 30}); p != nil {
		t.Errorf("small model: %+v", p)
	}
}
