// Package checkpoint saves and restores a training stage's progress, so
// that a stage that is killed or interrupted resumes where it was when the
// same pit run command runs again, and ends with the same artefacts as an
// uninterrupted run. The synthetic pipeline's stages (core/pipeline) and
// the preference stages (core/task/pref/prefstage) use it.
package checkpoint

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/pit-lab/pit/core/cache"
	"github.com/pit-lab/pit/core/model"
	"github.com/pit-lab/pit/core/nn"
	"github.com/pit-lab/pit/core/results"
	"github.com/pit-lab/pit/core/runner"
)

// Training stages (sft, pit_sft, rm, pit_rm, rlhf, pit_rl and the pref_
// stages) save checkpoints now and then
// into the stage's checkpoint directory (runner.Context.CheckpointDir), so
// that a stage that is killed or interrupted resumes where it was when the
// same pit run command runs again, and ends with the same artefacts as an
// uninterrupted run. A checkpoint is the trainer (weights and AdamW state),
// the step, the metrics and warnings logged so far and the stage's own
// state (RL: the plugins' saved states and the hacking alarm's window;
// pit_rl also its generators, references and refreshed reward model).
// Batch orders are replayed from the stage's seed and rollouts are seeded
// per step.

// EveryEnv names the environment variable that sets how often
// training stages checkpoint, as a Go duration of wall time (default
// DefaultEvery; "0" turns checkpoints off).
const EveryEnv = "PIT_CHECKPOINT_EVERY"

// DefaultEvery is how often training stages checkpoint unless EveryEnv
// says otherwise.
const DefaultEvery = time.Minute

// A checkpoint's state is written as an envelope that carries the SHA-256
// of the state itself; the state carries the SHA-256 of every file it
// names. The previous checkpoint is kept as ckptPrevFile with its files, so
// that a checkpoint that fails its checksums (or does not decode) falls
// back to the one before it, and then to the start.
const (
	ckptStateFile = "state.json"
	ckptPrevFile  = "state-prev.json"
)

// ckptEnvelope is a checkpoint state file: the state and its SHA-256.
type ckptEnvelope struct {
	SHA256 string          `json:"sha256"`
	State  json.RawMessage `json:"state"`
}

// checkpointEvery reads EveryEnv.
func checkpointEvery() (time.Duration, error) {
	v := os.Getenv(EveryEnv)
	if v == "" {
		return DefaultEvery, nil
	}
	d, err := time.ParseDuration(v)
	if err != nil || d < 0 {
		return 0, fmt.Errorf("%s=%q: want a duration such as 30s, or 0 for no checkpoints", EveryEnv, v)
	}
	return d, nil
}

// metricRecord is one metric a checkpoint covers.
type metricRecord struct {
	Step  int     `json:"step"`
	Name  string  `json:"name"`
	Value float64 `json:"value"`
}

type checkpointState struct {
	Step     int             `json:"step"`    // steps done
	Trainer  string          `json:"trainer"` // the trainer's file, saved after Step steps
	Metrics  []metricRecord  `json:"metrics"`
	Warnings []string        `json:"warnings,omitempty"` // issued so far, issued again on resume
	Extra    json.RawMessage `json:"extra,omitempty"`    // the stage's own state
	Files    []string        `json:"files,omitempty"`    // the stage's own files in the directory
	// Sums holds the SHA-256 of the trainer and of each of Files.
	Sums map[string]string `json:"sums"`
}

// Checkpointer saves and restores one training stage's progress.
type Checkpointer struct {
	c     *runner.Context
	dir   string
	every time.Duration
	last  time.Time
	state checkpointState
}

// AfterCheckpoint, when set (tests), is called after each checkpoint.
var AfterCheckpoint func(stage string, step int)

func newCheckpointer(c *runner.Context) (*Checkpointer, error) {
	every, err := checkpointEvery()
	if err != nil {
		return nil, err
	}
	dir, err := c.CheckpointDir()
	if err != nil {
		return nil, err
	}
	return &Checkpointer{c: c, dir: dir, every: every, last: time.Now()}, nil
}

// Start makes a stage's checkpointer and loads its checkpoint,
// if there is one: the trainer (nil without one), the steps done (0
// without one) and, into extra when it is not nil, the stage's own state.
// The metrics and warnings the checkpoint covers are logged again.
func Start(c *runner.Context, extra any) (*Checkpointer, *nn.Trainer, int, error) {
	k, err := newCheckpointer(c)
	if err != nil {
		return nil, nil, 0, err
	}
	tr, done, err := k.resume(extra)
	if err != nil {
		return nil, nil, 0, err
	}
	return k, tr, done, nil
}

func (k *Checkpointer) resume(extra any) (*nn.Trainer, int, error) {
	for _, name := range []string{ckptStateFile, ckptPrevFile} {
		if _, err := os.Stat(k.path(name)); errors.Is(err, fs.ErrNotExist) {
			continue // no such checkpoint (a missing file it names is damage)
		}
		tr, st, err := k.load(name, extra)
		if err != nil {
			// Never used, never deleted silently: the bad checkpoint
			// moves aside and the one before it (or the start) is used.
			k.quarantine(name, err)
			continue
		}
		for _, m := range st.Metrics {
			if err := k.c.Metric(m.Step, m.Name, m.Value); err != nil {
				tr.Close()
				return nil, 0, err
			}
		}
		for _, w := range st.Warnings {
			k.c.Warn("%s", w)
		}
		k.state = st
		k.c.Log.Info("resumed from a checkpoint", "step", st.Step, "file", name)
		return tr, st.Step, nil
	}
	return nil, 0, nil
}

// load reads the checkpoint whose state file is name: the envelope's and
// every file's checksum must match before anything is decoded.
func (k *Checkpointer) load(name string, extra any) (*nn.Trainer, checkpointState, error) {
	st, err := verifyState(k.dir, name)
	if err != nil {
		return nil, st, err
	}
	path := k.path(name)
	if extra != nil && len(st.Extra) > 0 {
		if err := json.Unmarshal(st.Extra, extra); err != nil {
			return nil, st, fmt.Errorf("%s: %w", path, err)
		}
	}
	tr, err := nn.LoadTrainer(k.path(st.Trainer))
	if err != nil {
		return nil, st, err
	}
	return tr, st, nil
}

// verifyState reads the checkpoint state file name in dir and checks the
// envelope's SHA-256 and that of every file the state names.
func verifyState(dir, name string) (checkpointState, error) {
	var st checkpointState
	path := filepath.Join(dir, name)
	b, err := os.ReadFile(path)
	if err != nil {
		return st, err
	}
	var env ckptEnvelope
	if err := json.Unmarshal(b, &env); err != nil {
		return st, fmt.Errorf("%s does not decode: %w", path, err)
	}
	var compact bytes.Buffer
	if err := json.Compact(&compact, env.State); err != nil {
		return st, fmt.Errorf("%s does not decode: %w", path, err)
	}
	if sum := sha256.Sum256(compact.Bytes()); hex.EncodeToString(sum[:]) != env.SHA256 {
		return st, fmt.Errorf("%s does not match its SHA-256", path)
	}
	if err := json.Unmarshal(env.State, &st); err != nil {
		return st, fmt.Errorf("%s: %w", path, err)
	}
	for _, f := range append([]string{st.Trainer}, st.Files...) {
		sum, err := cache.FileSHA256(filepath.Join(dir, f))
		if err != nil {
			return st, fmt.Errorf("%s names %s: %w", path, f, err)
		}
		if sum != st.Sums[f] {
			return st, fmt.Errorf("%s does not match its SHA-256 in %s", filepath.Join(dir, f), path)
		}
	}
	return st, nil
}

// Verify checks the checkpoints in a stage's checkpoint
// directory (a cache's <stage>/.scratch-<key>/) as a resume would, without
// decoding or changing anything: it returns the first problem found, nil
// when every checkpoint there matches its checksums (or there is none).
func Verify(dir string) error {
	for _, name := range []string{ckptStateFile, ckptPrevFile} {
		if _, err := os.Stat(filepath.Join(dir, name)); errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if _, err := verifyState(dir, name); err != nil {
			return err
		}
	}
	return nil
}

// quarantine moves the checkpoint state file name and the files it names
// into the stage's quarantine directory (beside the checkpoint directory,
// which is removed when the stage commits), with a REASON file, and says so
// in the stage's log and warnings.
func (k *Checkpointer) quarantine(name string, why error) {
	files := []string{name}
	if b, err := os.ReadFile(k.path(name)); err == nil {
		var env ckptEnvelope
		var st checkpointState
		if json.Unmarshal(b, &env) == nil && json.Unmarshal(env.State, &st) == nil {
			files = append(files, st.Trainer)
			files = append(files, st.Files...)
		}
	}
	to := filepath.Join(filepath.Dir(k.dir), cache.QuarantineDir, fmt.Sprintf("%s-%s-%s",
		strings.TrimPrefix(filepath.Base(k.dir), "."), strings.TrimSuffix(name, ".json"), time.Now().UTC().Format("20060102T150405.000000000")))
	if err := os.MkdirAll(to, 0o755); err != nil {
		to = "nowhere (" + err.Error() + ")"
	} else {
		for _, f := range files {
			if f != "" {
				os.Rename(k.path(f), filepath.Join(to, f))
			}
		}
		os.WriteFile(filepath.Join(to, "REASON"), []byte(why.Error()+"\n"), 0o644)
	}
	k.c.Warn("checkpoint %s failed its checks (%v); moved to %s; resuming from the checkpoint before it, or from the start", k.path(name), why, to)
}

// Metric logs a metric (as model.Metric does) and keeps it for the next
// checkpoint.
func (k *Checkpointer) Metric(step int, name string, v float64) error {
	if err := model.Metric(k.c, step, name, v); err != nil {
		return err
	}
	k.state.Metrics = append(k.state.Metrics, metricRecord{step, name, v})
	return nil
}

// Warn records a warning in the manifest (as runner.Context.Warn does) and
// keeps it for the next checkpoint.
func (k *Checkpointer) Warn(format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	k.c.Warn("%s", msg)
	k.state.Warnings = append(k.state.Warnings, msg)
}

// SaveExtra returns a stage's own state for a checkpoint after step, and
// the names of any files it wrote into dir for it (name them by step: a
// checkpoint's files must not overwrite the previous checkpoint's).
type SaveExtra func(dir string, step int) (state any, files []string, err error)

// path is the path of a file of the checkpoint.
func (k *Checkpointer) path(name string) string { return filepath.Join(k.dir, name) }

// Path is the path of a file a stage saved with its state (SaveExtra's
// files).
func (k *Checkpointer) Path(name string) string { return k.path(name) }

// MaybeSave saves a checkpoint after step when the interval has passed
// (never after the last step: the stage's artefacts follow at once). The
// trainer goes to a file named by its step and the state file, written
// atomically after it, names that file; so a kill at any moment leaves a
// state whose trainer is complete and at the state's step.
func (k *Checkpointer) MaybeSave(tr *nn.Trainer, step, total int) error {
	return k.MaybeSaveWith(tr, step, total, nil)
}

// MaybeSaveWith is MaybeSave for a stage with state of its own: extra,
// when not nil, returns it (JSON-encoded into the checkpoint).
func (k *Checkpointer) MaybeSaveWith(tr *nn.Trainer, step, total int, extra SaveExtra) error {
	if k.every == 0 || step == total || time.Since(k.last) < k.every {
		return nil
	}
	if extra != nil {
		v, files, err := extra(k.dir, step)
		if err != nil {
			return fmt.Errorf("checkpoint: %w", err)
		}
		if k.state.Extra, err = json.Marshal(v); err != nil {
			return fmt.Errorf("checkpoint: %w", err)
		}
		k.state.Files = files
	}
	name := fmt.Sprintf("trainer-%d.bin", step)
	if err := tr.Save(filepath.Join(k.dir, name)); err != nil {
		return fmt.Errorf("checkpoint: %w", err)
	}
	k.state.Step, k.state.Trainer = step, name
	k.state.Sums = map[string]string{}
	for _, f := range append([]string{name}, k.state.Files...) {
		sum, err := cache.FileSHA256(k.path(f))
		if err != nil {
			return fmt.Errorf("checkpoint: %w", err)
		}
		k.state.Sums[f] = sum
	}
	raw, err := json.Marshal(k.state)
	if err != nil {
		return fmt.Errorf("checkpoint: %w", err)
	}
	sum := sha256.Sum256(raw)
	// The current checkpoint becomes the previous one, then the new state
	// is written atomically: a kill between the two leaves the previous one.
	if err := os.Rename(k.path(ckptStateFile), k.path(ckptPrevFile)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("checkpoint: %w", err)
	}
	if err := results.WriteJSON(k.path(ckptStateFile), ckptEnvelope{SHA256: hex.EncodeToString(sum[:]), State: raw}); err != nil {
		return fmt.Errorf("checkpoint: %w", err)
	}
	k.removeUnreferenced()
	k.last = time.Now()
	if AfterCheckpoint != nil {
		AfterCheckpoint(k.c.Stage, step)
	}
	return nil
}

// removeUnreferenced deletes the files of earlier checkpoints: everything
// in the directory that neither the state just written nor the previous
// one names. A leftover (after a kill between the two) only wastes disk
// until the next save.
func (k *Checkpointer) removeUnreferenced() {
	keep := map[string]bool{ckptStateFile: true, ckptPrevFile: true}
	for f := range k.state.Sums {
		keep[f] = true
	}
	if b, err := os.ReadFile(k.path(ckptPrevFile)); err == nil {
		var env ckptEnvelope
		var prev checkpointState
		if json.Unmarshal(b, &env) == nil && json.Unmarshal(env.State, &prev) == nil {
			for f := range prev.Sums {
				keep[f] = true
			}
		}
	}
	entries, err := os.ReadDir(k.dir)
	if err != nil {
		return
	}
	for _, e := range entries {
		if !keep[e.Name()] && !e.IsDir() {
			os.Remove(filepath.Join(k.dir, e.Name()))
		}
	}
}
