package nn

import (
	"fmt"
	"strings"
)

// WithWeightsOf returns a model built for cfg (its device, seed and
// padding token) holding a copy of src's weights: the start of a model
// initialised from another one (a stage's init_from). The architectures must
// match (ArchMismatch).
func WithWeightsOf(cfg Config, src *Model) (*Model, error) {
	cfg = cfg.WithDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if d := ArchMismatch(src.cfg, cfg); d != "" {
		return nil, fmt.Errorf("nn: cannot start from a model of another shape: %s", d)
	}
	if err := checkDevice(cfg); err != nil {
		return nil, err
	}
	m := newShell(cfg)
	for i, p := range m.params {
		copyData(p.t, src.params[i].t)
	}
	return m, nil
}

// LoadWeights returns a model built for cfg holding the weights of the
// checkpoint file at path (written by Model.Save or Trainer.Save, on any
// device): WithWeightsOf for a file. Only the file is read; no random
// initialisation is drawn.
func LoadWeights(cfg Config, path string) (*Model, error) {
	cfg = cfg.WithDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	c, err := readCheckpoint(path)
	if err != nil {
		return nil, err
	}
	if d := ArchMismatch(c.Config, cfg); d != "" {
		return nil, fmt.Errorf("nn: %s: cannot start from a model of another shape: %s", path, d)
	}
	if err := checkDevice(cfg); err != nil {
		return nil, err
	}
	m := newShell(cfg)
	if err := c.fill(m); err != nil {
		return nil, fmt.Errorf("nn: load %s: %w", path, err)
	}
	return m, nil
}

// CheckpointConfig returns the config saved in the checkpoint file at path.
func CheckpointConfig(path string) (Config, error) {
	c, err := readCheckpoint(path)
	if err != nil {
		return Config{}, err
	}
	return c.Config, nil
}

// ArchMismatch describes how the architectures of two configs differ
// ("d_model 64 vs 32, layers 2 vs 4"), or returns "" when a model of one
// can take the weights of the other. The device, seed and padding token do
// not count.
func ArchMismatch(have, want Config) string {
	have, want = have.WithDefaults(), want.WithDefaults()
	var d []string
	for _, f := range []struct {
		name       string
		have, want any
	}{
		{"vocab", have.Vocab, want.Vocab}, {"context", have.Context, want.Context},
		{"d_model", have.DModel, want.DModel}, {"layers", have.Layers, want.Layers},
		{"heads", have.Heads, want.Heads}, {"mlp", have.MLP, want.MLP}, {"dtype", have.DType, want.DType},
		{"arch", have.arch(), want.arch()}, {"kv_heads", have.KVHeads, want.KVHeads},
		{"rms_eps", have.RMSEps, want.RMSEps}, {"rope_theta", have.RopeTheta, want.RopeTheta},
	} {
		if f.have != f.want {
			d = append(d, fmt.Sprintf("%s %v (want %v)", f.name, f.have, f.want))
		}
	}
	return strings.Join(d, ", ")
}
