package model

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/pit-lab/pit/core/experiment"
	"github.com/pit-lab/pit/core/nn"
)

// Kind is the model kind of experiment files: [model] kind =
// "transformer" (the default, being the only one), the rest Settings.
const Kind = "transformer"

// Settings size the transformer every stage trains (package nn). The
// vocabulary and context length come from the task.
type Settings struct {
	DModel int `toml:"d_model"` // width of the residual stream
	Layers int `toml:"layers"`  // transformer blocks
	Heads  int `toml:"heads"`   // attention heads; must divide d_model
	MLP    int `toml:"mlp"`     // hidden width of each MLP; 0 means 4·d_model
	// Device is where the models run: "cpu" (the default) or "cuda",
	// which needs the CUDA build of pit (README, section GPU). pit run
	// --device overrides it.
	Device string `toml:"device"`
	// Init is a Hugging Face model folder (config.json, safetensors
	// weights, tokenizer.json or vocab.json + merges.txt) that the
	// models start from, relative to the experiment file; "" trains from
	// random weights with the task's own vocabulary. With Init the
	// architecture and sizes are the checkpoint's (d_model, layers,
	// heads and mlp, if written, must equal them), and the tokenizer
	// follows the model. docs/pretrained.md says which families load.
	Init string `toml:"init"`
	// FreezeEmbeddings keeps the token and position embeddings fixed in
	// training.
	FreezeEmbeddings bool `toml:"freeze_embeddings"`
	// FreezeLayers keeps the lowest this many blocks fixed in training.
	FreezeLayers int `toml:"freeze_layers"`

	pretrained *Pretrained // Init opened by Resolve
}

// DefaultSettings is the model the pipeline trains unless the file
// says otherwise: small enough for the default experiment on two cores.
func DefaultSettings() Settings {
	return Settings{DModel: 32, Layers: 2, Heads: 4, Device: "cpu"}
}

// Validate reports bad sizes.
func (m *Settings) Validate() error {
	var errs []error
	if m.DModel < 1 {
		errs = append(errs, &experiment.FieldError{Key: "d_model", Msg: fmt.Sprintf("must be at least 1 (got %d)", m.DModel)})
	}
	if m.Layers < 1 {
		errs = append(errs, &experiment.FieldError{Key: "layers", Msg: fmt.Sprintf("must be at least 1 (got %d)", m.Layers)})
	}
	if m.Heads < 1 || (m.DModel > 0 && m.DModel%m.Heads != 0) {
		errs = append(errs, &experiment.FieldError{Key: "heads", Msg: fmt.Sprintf("must be at least 1 and divide d_model %d (got %d)", m.DModel, m.Heads)})
	}
	if m.MLP < 0 {
		errs = append(errs, &experiment.FieldError{Key: "mlp", Msg: fmt.Sprintf("must be at least 0 (got %d)", m.MLP)})
	}
	if m.FreezeLayers < 0 {
		errs = append(errs, &experiment.FieldError{Key: "freeze_layers", Msg: fmt.Sprintf("must be at least 0 (got %d)", m.FreezeLayers)})
	}
	switch m.Device {
	case "cpu":
	case "cuda":
		if !nn.CUDABuilt() {
			errs = append(errs, &experiment.FieldError{Key: "device", Msg: `"cuda" needs the CUDA build of pit, and this binary is CPU-only: build it with scripts/cuda/build.sh (README, section GPU)`})
		}
	default:
		errs = append(errs, &experiment.FieldError{Key: "device", Msg: fmt.Sprintf(`must be "cpu" or "cuda" (got %q)`, m.Device)})
	}
	return errors.Join(errs...)
}

// Resolve opens the Init folder (relative to the experiment file) and
// checks the sizes the file wrote against the checkpoint's
// (experiment.Resolver).
func (m *Settings) Resolve(r experiment.Resolution) error {
	if m.Init == "" {
		if m.FreezeEmbeddings || m.FreezeLayers > 0 {
			key := "freeze_layers"
			if m.FreezeEmbeddings {
				key = "freeze_embeddings"
			}
			return &experiment.FieldError{Key: key, Msg: "freezes pretrained weights, and the model has none: set init to a model folder"}
		}
		return nil
	}
	dir := m.Init
	if !filepath.IsAbs(dir) {
		dir = filepath.Join(r.Dir, dir)
	}
	if _, err := os.Stat(dir); errors.Is(err, fs.ErrNotExist) {
		abs, _ := filepath.Abs(dir)
		return &experiment.FieldError{Key: "init", Msg: fmt.Sprintf("no model folder %s (init is relative to the experiment file; scripts/download-model.sh downloads GPT-2 small, README: Pretrained models)", abs)}
	}
	p, err := OpenPretrained(dir)
	if err != nil {
		return &experiment.FieldError{Key: "init", Msg: err.Error()}
	}
	var errs []error
	d, l, h, mlp := p.Sizes()
	for _, f := range []struct {
		key       string
		got, want int
	}{{"d_model", m.DModel, d}, {"layers", m.Layers, l}, {"heads", m.Heads, h}, {"mlp", m.MLP, mlp}} {
		if r.Written(f.key) && f.got != f.want {
			errs = append(errs, &experiment.FieldError{Key: f.key, Msg: fmt.Sprintf("is %d, but the checkpoint %s has %d; leave it out (init sets the sizes)", f.got, m.Init, f.want)})
		}
	}
	if m.FreezeLayers > l {
		errs = append(errs, &experiment.FieldError{Key: "freeze_layers", Msg: fmt.Sprintf("is %d, but the checkpoint has %d layers", m.FreezeLayers, l)})
	}
	if err := errors.Join(errs...); err != nil {
		return err
	}
	m.DModel, m.Layers, m.Heads, m.MLP = d, l, h, mlp
	m.pretrained = p
	return nil
}

// Pretrained returns the opened Init folder, or nil when the model trains
// from random weights (or the settings were not resolved from a file).
func (m *Settings) Pretrained() *Pretrained { return m.pretrained }

// InputFiles lists the Init folder's files, whose content enters every
// stage's cache key (experiment.InputFiles).
func (m *Settings) InputFiles() ([]string, error) {
	if m.pretrained == nil {
		return nil, nil
	}
	return m.pretrained.Files()
}

// Frozen reports, for the decoded [model] settings (nil: the defaults),
// whether training keeps the parameter of this name fixed:
// the embeddings under freeze_embeddings, blocks below freeze_layers.
func Frozen(settings any) func(name string) bool {
	m, _ := settings.(*Settings)
	if m == nil || !m.FreezeEmbeddings && m.FreezeLayers == 0 {
		return nil
	}
	return func(name string) bool {
		if name == "wte" || name == "wpe" {
			return m.FreezeEmbeddings
		}
		// Block parameters are named "h<layer>.<name>" (nn.ParamShapes).
		rest, ok := strings.CutPrefix(name, "h")
		layer, _, ok2 := strings.Cut(rest, ".")
		l, err := strconv.Atoi(layer)
		return ok && ok2 && err == nil && l < m.FreezeLayers
	}
}

func init() {
	experiment.RegisterModel(Kind, func() any { s := DefaultSettings(); return &s })
}

// NNConfig is the nn configuration of a model of the decoded [model]
// settings (nil: the defaults) for a task's vocabulary, longest sequence
// and padding token, initialised from seed.
func NNConfig(settings any, vocab, context, pad int, seed int64) (nn.Config, error) {
	ms := DefaultSettings()
	switch m := settings.(type) {
	case *Settings:
		ms = *m
		if ms.Init != "" {
			return nn.Config{}, fmt.Errorf("model: init %q: this stage builds a model over its task's own vocabulary; pretrained models run on the preference task (docs/pretrained.md)", ms.Init)
		}
	case nil:
	default:
		return nn.Config{}, fmt.Errorf("model of type %T is not the %q model", settings, Kind)
	}
	cfg := nn.Config{
		Vocab:   vocab,
		Context: context,
		DModel:  ms.DModel,
		Layers:  ms.Layers,
		Heads:   ms.Heads,
		MLP:     ms.MLP,
		Device:  ms.Device,
		PadID:   pad,
		Seed:    uint64(seed),
	}.WithDefaults()
	if err := cfg.Validate(); err != nil {
		return cfg, fmt.Errorf("model: %w", err)
	}
	return cfg, nil
}
