package nn

import (
	"bytes"
	"encoding/gob"
	"fmt"
	"os"

	"github.com/pit-lab/pit/internal/atomicfile"
)

// checkpointVersion is bumped when the file layout changes.
const checkpointVersion = 1

// checkpoint is the on-disk form: gob of exact float values.
type checkpoint struct {
	Version int
	Config  Config
	Names   []string
	F32     [][]float32
	F64     [][]float64
	// optimiser state (absent for a model saved alone)
	HasOpt bool
	Optim  OptimConfig
	Step   int
	// Moments per parameter: M, V hold float64 moments (every checkpoint
	// before issue 17, Moments64, float64 models), M32, V32 float32 ones;
	// a parameter's entry is empty in the pair it does not use.
	M, V     [][]float64
	M32, V32 [][]float32
}

func (m *Model) toCheckpoint() *checkpoint {
	c := &checkpoint{Version: checkpointVersion, Config: m.cfg}
	for _, p := range m.params {
		c.Names = append(c.Names, p.name)
		switch d := p.t.Data().(type) {
		case []float32:
			c.F32 = append(c.F32, append([]float32(nil), d...))
		case []float64:
			c.F64 = append(c.F64, append([]float64(nil), d...))
		}
	}
	return c
}

func (c *checkpoint) model() (*Model, error) {
	if c.Version != checkpointVersion {
		return nil, fmt.Errorf("checkpoint version %d, want %d", c.Version, checkpointVersion)
	}
	if err := c.Config.Validate(); err != nil {
		return nil, err
	}
	if err := checkDevice(c.Config); err != nil {
		return nil, err
	}
	m := newShell(c.Config)
	if err := c.fill(m); err != nil {
		return nil, err
	}
	return m, nil
}

// fill copies the checkpoint's weights into m, whose parameters must be the
// checkpoint's by name and size.
func (c *checkpoint) fill(m *Model) error {
	if len(c.Names) != len(m.params) {
		return fmt.Errorf("checkpoint has %d parameters, config implies %d", len(c.Names), len(m.params))
	}
	for i, p := range m.params {
		if c.Names[i] != p.name {
			return fmt.Errorf("checkpoint parameter %d is %q, want %q", i, c.Names[i], p.name)
		}
		n := p.shape.TotalSize()
		switch d := p.t.Data().(type) {
		case []float32:
			if i >= len(c.F32) || len(c.F32[i]) != n {
				return fmt.Errorf("checkpoint parameter %q has the wrong size", p.name)
			}
			copy(d, c.F32[i])
		case []float64:
			if i >= len(c.F64) || len(c.F64[i]) != n {
				return fmt.Errorf("checkpoint parameter %q has the wrong size", p.name)
			}
			copy(d, c.F64[i])
		}
	}
	return nil
}

// Save writes the model's config and weights to path atomically, as a
// file of mode 0644 like every file pit writes (internal/atomicfile).
func (m *Model) Save(path string) error {
	return writeCheckpoint(path, m.toCheckpoint())
}

// Save writes the model and the optimiser state (moments, step count,
// configuration) to path atomically.
func (t *Trainer) Save(path string) error {
	c := t.model.toCheckpoint()
	c.HasOpt = true
	c.Optim = t.opt.cfg
	c.Step = t.opt.step
	for i := range t.opt.m {
		m, v := t.opt.m[i], t.opt.v[i]
		c.M, c.V = append(c.M, m.f64), append(c.V, v.f64)
		c.M32, c.V32 = append(c.M32, m.f32), append(c.V32, v.f32)
	}
	return writeCheckpoint(path, c)
}

// Load reads a model saved by Model.Save or Trainer.Save.
func Load(path string) (*Model, error) {
	c, err := readCheckpoint(path)
	if err != nil {
		return nil, err
	}
	m, err := c.model()
	if err != nil {
		return nil, fmt.Errorf("nn: load %s: %w", path, err)
	}
	return m, nil
}

// LoadTrainer reads a checkpoint written by Trainer.Save and resumes it:
// the next step continues exactly where the saved trainer stopped.
func LoadTrainer(path string) (*Trainer, error) {
	c, err := readCheckpoint(path)
	if err != nil {
		return nil, err
	}
	if !c.HasOpt {
		return nil, fmt.Errorf("nn: load %s: no optimiser state (saved by Model.Save)", path)
	}
	m, err := c.model()
	if err != nil {
		return nil, fmt.Errorf("nn: load %s: %w", path, err)
	}
	t, err := NewTrainer(m, c.Optim)
	if err != nil {
		return nil, fmt.Errorf("nn: load %s: %w", path, err)
	}
	for i := range t.opt.m {
		if err := loadMoment(t.opt.m[i], c.M, c.M32, i); err != nil {
			return nil, fmt.Errorf("nn: load %s: first moment of %q: %w", path, m.params[i].name, err)
		}
		if err := loadMoment(t.opt.v[i], c.V, c.V32, i); err != nil {
			return nil, fmt.Errorf("nn: load %s: second moment of %q: %w", path, m.params[i].name, err)
		}
	}
	t.opt.step = c.Step
	return t, nil
}

// loadMoment fills dst from parameter i's saved moment, float64 (f64[i])
// or float32 (f32[i]), converting when the saved precision is not dst's.
func loadMoment(dst moment, f64 [][]float64, f32 [][]float32, i int) error {
	n := dst.len()
	switch {
	case i < len(f64) && len(f64[i]) == n && n > 0:
		src := f64[i]
		if dst.f64 != nil {
			copy(dst.f64, src)
		} else {
			for j, x := range src {
				dst.f32[j] = float32(x)
			}
		}
	case i < len(f32) && len(f32[i]) == n && n > 0:
		src := f32[i]
		if dst.f32 != nil {
			copy(dst.f32, src)
		} else {
			for j, x := range src {
				dst.f64[j] = float64(x)
			}
		}
	default:
		return fmt.Errorf("optimiser state has the wrong shape (want %d values)", n)
	}
	return nil
}

func writeCheckpoint(path string, c *checkpoint) error {
	var buf bytes.Buffer
	if err := gob.NewEncoder(&buf).Encode(c); err != nil {
		return fmt.Errorf("nn: encode checkpoint: %w", err)
	}
	if err := atomicfile.Write(path, buf.Bytes()); err != nil {
		return fmt.Errorf("nn: save: %w", err)
	}
	return nil
}

func readCheckpoint(path string) (*checkpoint, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("nn: load: %w", err)
	}
	defer f.Close()
	var c checkpoint
	if err := gob.NewDecoder(f).Decode(&c); err != nil {
		return nil, &DecodeError{Path: path, Err: err}
	}
	return &c, nil
}

// DecodeError reports a model or trainer file that does not decode (such
// as gob's "encoded unsigned integer out of range"): the file is damaged,
// cut short, or not a pit checkpoint.
type DecodeError struct {
	Path string
	Err  error
}

func (e *DecodeError) Error() string {
	return fmt.Sprintf("nn: load %s: %v (the file is damaged, truncated or not written by pit; "+
		"`pit cache verify` checks the stage cache, and moving the file or its cache entry aside recomputes it)", e.Path, e.Err)
}

func (e *DecodeError) Unwrap() error { return e.Err }
