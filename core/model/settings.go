package model

import (
	"errors"
	"fmt"

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
