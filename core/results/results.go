// Package results defines pit's on-disk results format and reads and writes
// it atomically.
//
// A grid writes one directory per run:
//
//	<out>/<experiment>/<run>/
//	    config.toml      the run's fully resolved experiment (one arm, one seed)
//	    manifest.json    Manifest: provenance, factors, status, stage timings
//	    metrics.jsonl    one Metric per line (training curves of every stage)
//	    eval.jsonl       one EvalRow per line (win/tie/lose per iteration and judge)
//	    outcomes.jsonl   one Outcome per line (per-prompt judgements, for CIs)
//	    gaps.jsonl       one GapScore per line (the PIT reward model's four scores)
//
// Every file is written whole to a temporary file and renamed into place, so
// a reader never sees a half-written file, and a killed writer leaves either
// the old file or the new one.
package results

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"os"
	"time"

	"github.com/pit-lab/pit/internal/atomicfile"
)

// File names inside a run directory.
const (
	ConfigFile   = "config.toml"
	ManifestFile = "manifest.json"
	MetricsFile  = "metrics.jsonl"
	EvalFile     = "eval.jsonl"
	OutcomesFile = "outcomes.jsonl"
	GapsFile     = "gaps.jsonl"
)

// Status is the state of a run or a stage.
type Status string

// Run and stage states.
const (
	StatusPending     Status = "pending"
	StatusRunning     Status = "running"
	StatusDone        Status = "done"
	StatusFailed      Status = "failed"
	StatusInterrupted Status = "interrupted"
)

// Manifest records where a run's numbers came from.
type Manifest struct {
	Experiment  string            `json:"experiment"`
	Run         string            `json:"run"`  // run directory name, e.g. "curriculum=two-round/seed=1"
	Arm         string            `json:"arm"`  // arm label, shared by the seeds of one arm
	Seed        int64             `json:"seed"` // the run's root seed
	Baseline    bool              `json:"baseline"`
	Factors     map[string]any    `json:"factors"` // grid axis name -> value for this arm
	Status      Status            `json:"status"`
	Error       string            `json:"error,omitempty"`
	Warnings    []string          `json:"warnings,omitempty"`
	CodeVersion string            `json:"code_version"`
	GoVersion   string            `json:"go_version"`
	Host        string            `json:"host,omitempty"`
	Plugins     []PluginIdentity  `json:"plugins,omitempty"`
	Stages      []StageRecord     `json:"stages,omitempty"`
	Started     time.Time         `json:"started"`
	Finished    time.Time         `json:"finished,omitzero"`
	Extra       map[string]string `json:"extra,omitempty"`
}

// PluginIdentity names one plugin a run used.
type PluginIdentity struct {
	Kind    string `json:"kind"` // reward, algorithm or curriculum
	Name    string `json:"name"`
	Version string `json:"version"`
	SHA256  string `json:"sha256"` // of the executable that served it
	Path    string `json:"path,omitempty"`
}

// StageRecord is one stage instance of a run.
type StageRecord struct {
	Name     string    `json:"name"`
	Key      string    `json:"key"` // content-addressed cache key
	Status   Status    `json:"status"`
	Cached   bool      `json:"cached"` // reused from the cache, not computed by this run
	Started  time.Time `json:"started,omitzero"`
	Finished time.Time `json:"finished,omitzero"`
	Seconds  float64   `json:"seconds,omitempty"`
	Error    string    `json:"error,omitempty"`
	// Failure details for a rejected step (NaN/Inf loss, reward or gradient).
	FailedStep  int    `json:"failed_step,omitempty"`
	FailedValue string `json:"failed_value,omitempty"`
}

// Metric is one logged scalar: one line of metrics.jsonl.
type Metric struct {
	Stage  string  `json:"stage"`
	Step   int     `json:"step"`
	Name   string  `json:"metric"`
	Value  float64 `json:"value"` // NaN and ±Inf are written as null (see MarshalJSON)
	Seed   int64   `json:"seed,omitempty"`
	Elapse float64 `json:"t,omitempty"` // seconds since the stage started
}

// EvalRow is one line of eval.jsonl: a method's iteration judged against y_0.
type EvalRow struct {
	Method      string  `json:"method"`    // "pit", "null", "best-of-n", "rubric", ...
	Iteration   int     `json:"iteration"` // i in y_i; 0 is y_0 itself
	Judge       string  `json:"judge"`     // "oracle", "bt", ...
	Temperature float64 `json:"temperature"`
	N           int     `json:"n"`
	Win         float64 `json:"win"`   // fraction of prompts
	Tie         float64 `json:"tie"`   // fraction of prompts
	Lose        float64 `json:"lose"`  // fraction of prompts
	Delta       float64 `json:"delta"` // 100·(Win − Lose), in percentage points
	MeanOracle  float64 `json:"mean_oracle,omitempty"`
	CopyRate    float64 `json:"copy_rate,omitempty"`
	// Prompts and Draws: N = Prompts·Draws judgements, Draws samples per
	// prompt (absent in files written before draws existed: one each).
	Prompts int `json:"prompts,omitempty"`
	Draws   int `json:"draws,omitempty"`
	// DeltaCI is Δ with its 95% bootstrap interval over prompts (the draws
	// of a prompt resampled together); nil for y_0 itself.
	DeltaCI *CI `json:"delta_ci,omitempty"`
	// VsNull is the paired difference Δ(this row) − Δ(null) on the same
	// y_0 and prompts, with its 95% bootstrap interval over prompts: set
	// for the improver's iterations and the best-of-n rows.
	VsNull *CI `json:"vs_null,omitempty"`
}

// CI is a point estimate with a confidence interval, in the unit of the
// field that holds it.
type CI struct {
	Point float64 `json:"point"`
	Lo    float64 `json:"lo"`
	Hi    float64 `json:"hi"`
}

// Outcome is one judged prompt: one line of outcomes.jsonl. Result is +1 (win),
// 0 (tie) or −1 (lose) of iteration Iteration against y_0.
type Outcome struct {
	Method      string  `json:"method"`
	Iteration   int     `json:"iteration"`
	Judge       string  `json:"judge"`
	Temperature float64 `json:"temperature"`
	Prompt      int     `json:"prompt"`
	Draw        int     `json:"draw,omitempty"` // which of the prompt's draws (0 when there is one)
	Result      int     `json:"result"`
}

// GapScore is the PIT reward model's four scores on one held-out pair.
type GapScore struct {
	Pair int     `json:"pair"`
	WL   float64 `json:"g_wl"`
	WW   float64 `json:"g_ww"`
	LL   float64 `json:"g_ll"`
	LW   float64 `json:"g_lw"`
}

// WriteFileAtomic writes data to path through a temporary file in the same
// directory, synced and renamed into place; the file's mode is
// atomicfile.Mode (0644).
func WriteFileAtomic(path string, data []byte) error {
	if err := atomicfile.Write(path, data); err != nil {
		return fmt.Errorf("results: %w", err)
	}
	return nil
}

// WriteJSON writes v as indented JSON, atomically.
func WriteJSON(path string, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return fmt.Errorf("results: encode %s: %w", path, err)
	}
	return WriteFileAtomic(path, append(b, '\n'))
}

// ReadJSON reads a JSON file into v.
func ReadJSON(path string, v any) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("results: %w", err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		return fmt.Errorf("results: %s: %w", path, err)
	}
	return nil
}

// WriteJSONL writes rows as JSON lines, atomically.
func WriteJSONL[T any](path string, rows []T) error {
	var buf []byte
	for i, r := range rows {
		b, err := json.Marshal(r)
		if err != nil {
			return fmt.Errorf("results: encode %s row %d: %w", path, i, err)
		}
		buf = append(append(buf, b...), '\n')
	}
	return WriteFileAtomic(path, buf)
}

// ReadJSONL reads a JSON-lines file. A missing file is an empty list. A bad
// line is an error naming the file and line.
func ReadJSONL[T any](path string) ([]T, error) {
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("results: %w", err)
	}
	defer f.Close()
	return DecodeJSONL[T](f, path)
}

// DecodeJSONL decodes JSON lines from r; name labels errors.
func DecodeJSONL[T any](r io.Reader, name string) ([]T, error) {
	var out []T
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64<<10), 16<<20)
	line := 0
	for sc.Scan() {
		line++
		b := sc.Bytes()
		if len(b) == 0 {
			continue
		}
		var v T
		if err := json.Unmarshal(b, &v); err != nil {
			return out, fmt.Errorf("results: %s:%d: %w", name, line, err)
		}
		out = append(out, v)
	}
	if err := sc.Err(); err != nil {
		return out, fmt.Errorf("results: %s:%d: %w", name, line, err)
	}
	return out, nil
}

// MarshalJSON writes a non-finite Value as null, which JSON can carry.
func (m Metric) MarshalJSON() ([]byte, error) {
	type plain Metric
	v := struct {
		plain
		Value *float64 `json:"value"`
	}{plain: plain(m)}
	if !math.IsNaN(m.Value) && !math.IsInf(m.Value, 0) {
		v.Value = &m.Value
	}
	return json.Marshal(v)
}

// UnmarshalJSON reads a null Value as NaN.
func (m *Metric) UnmarshalJSON(b []byte) error {
	type plain Metric
	v := struct {
		*plain
		Value *float64 `json:"value"`
	}{plain: (*plain)(m)}
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	m.Value = math.NaN()
	if v.Value != nil {
		m.Value = *v.Value
	}
	return nil
}
