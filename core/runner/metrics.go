package runner

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sync"

	"github.com/pit-lab/pit/core/results"
)

// metricsWriter appends a stage's metrics to metrics.jsonl in its (still
// temporary) artefact directory. The file is committed with the artefacts,
// so a stage killed half-way leaves no metrics behind, and a run's
// metrics.jsonl is rebuilt from the committed stages (see runMetrics):
// nothing is ever duplicated by a rerun.
type metricsWriter struct {
	mu    sync.Mutex
	f     *os.File
	stage string
	seed  int64
	err   error
}

func newMetricsWriter(dir, stage string, seed int64) (*metricsWriter, error) {
	f, err := os.OpenFile(filepath.Join(dir, results.MetricsFile), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, fmt.Errorf("runner: %w", err)
	}
	return &metricsWriter{f: f, stage: stage, seed: seed}, nil
}

func (w *metricsWriter) log(step int, name string, v, elapsed float64) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.err != nil {
		return w.err
	}
	b, err := json.Marshal(results.Metric{Stage: w.stage, Step: step, Name: name, Value: v, Seed: w.seed, Elapse: elapsed})
	if err != nil {
		return fmt.Errorf("runner: metric %s: %w", name, err)
	}
	if _, err := w.f.Write(append(b, '\n')); err != nil {
		w.err = fmt.Errorf("runner: write metric: %w", err)
		return w.err
	}
	return nil
}

func (w *metricsWriter) close() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.f == nil {
		return w.err
	}
	err := w.f.Close()
	w.f = nil
	if w.err == nil && err != nil {
		w.err = fmt.Errorf("runner: close metrics: %w", err)
	}
	return w.err
}

// runMetrics concatenates the metrics files of the given artefact
// directories (a run's done stages, in stage order) into path, atomically.
func runMetrics(path string, dirs []string) error {
	var buf bytes.Buffer
	for _, d := range dirs {
		b, err := os.ReadFile(filepath.Join(d, results.MetricsFile))
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return fmt.Errorf("runner: %w", err)
		}
		buf.Write(b)
		if len(b) > 0 && b[len(b)-1] != '\n' {
			buf.WriteByte('\n')
		}
	}
	return writeIfChanged(path, buf.Bytes())
}

// writeIfChanged writes data to path atomically unless the file holds
// exactly data already (a rerun over a finished grid then costs no
// fsyncs).
func writeIfChanged(path string, data []byte) error {
	if old, err := os.ReadFile(path); err == nil && bytes.Equal(old, data) {
		return nil
	}
	return results.WriteFileAtomic(path, data)
}

// copyAtomic copies src to dst through results.WriteFileAtomic. A missing
// src is not an error (a stage may publish a file only sometimes).
func copyAtomic(src, dst string) error {
	b, err := os.ReadFile(src)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("runner: %w", err)
	}
	return writeIfChanged(dst, b)
}
