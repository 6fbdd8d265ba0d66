// Package nn is pit's model layer: a decoder-only transformer (GPT-2's
// shape or the Llama family's, Config.Arch) with a
// language-model head, a per-token value head and a scalar reward head; the
// losses pit trains with (masked cross-entropy, pairwise comparison, clipped
// policy gradient); an AdamW optimiser; incremental sampling; teacher-forced
// scoring; and atomic checkpoints.
//
// Every Model carries all three heads. A policy is a Model trained with
// SFTStep and PolicyGradientStep and read with Sample and ScoreTokens; a
// reward model is a Model trained with ComparisonStep and read with Rewards.
//
// Sequences are token-id slices; a batch is a [][]int whose rows may differ
// in length (the package pads them with Config.PadID). Per-token arrays are
// aligned with the sequence: entry t belongs to token seq[t], which the
// model predicts from seq[:t], so entry 0 is never a prediction.
//
// Architectures: "gpt" (the default) is GPT-2's: learned positions, pre-LN
// blocks with biases, fused qkv attention, a GELU MLP. "llama" is the Llama
// family's: RMSNorm, rotary positions, grouped-query attention (KVHeads),
// a SwiGLU MLP, no biases (llama.go). Both carry the same heads and train,
// sample, score and checkpoint through the same methods; core/hf imports
// Hugging Face checkpoints of either; both run on the CPU and on CUDA.
//
// Implementation: every graph is built once per (kind, batch, length
// bucket) and reused. The transformer's pieces are pit's own ops (kernelOp)
// with hand-written forward and backward passes (embedding, layer norm,
// fused linear, causal attention over a fused qkv matrix, bias+GELU,
// residual add, RMSNorm, rotary positions, grouped-query attention,
// SwiGLU, and fused losses that compute their gradient in the forward
// pass); each has a finite-difference test. float32 matrix products run on
// the AVX2/AVX-512 kernels of internal/f32 where the CPU has them, gonum's
// pure-Go BLAS otherwise. Sampling decodes one position at a time with a
// key/value cache held by the decode graph's attention ops. Gorgonia
// provides the graph, the tape machine that runs it and the CUDA machine;
// gorgonia.go is the only file that uses it, and says why.
//
// Concurrency: a Model's scoring and sampling methods (ScoreTokens,
// Rewards, Logits, Sample) may be called from several goroutines; they run
// one at a time. Training (a Trainer's steps) must not overlap any other use
// of the same Model; give each goroutine that trains its own Model (see
// Copy).
package nn

import (
	"errors"
	"fmt"
	"math"
)

// Config describes a model.
type Config struct {
	Vocab   int    `json:"vocab" toml:"vocab"`     // number of token ids
	Context int    `json:"context" toml:"context"` // longest sequence, prompt included
	DModel  int    `json:"d_model" toml:"d_model"` // width of the residual stream
	Layers  int    `json:"layers" toml:"layers"`   // transformer blocks
	Heads   int    `json:"heads" toml:"heads"`     // attention heads; must divide DModel
	MLP     int    `json:"mlp" toml:"mlp"`         // hidden width of each MLP (default 4·DModel)
	PadID   int    `json:"pad_id" toml:"pad_id"`   // token used to pad batches
	Seed    uint64 `json:"seed" toml:"seed"`       // initialisation seed
	// Device is where the model runs: "cpu" (default) or "cuda", which
	// needs a binary built with -tags cuda (scripts/cuda/build.sh) and a
	// float32 model; see device.go.
	Device string `json:"device" toml:"device"`
	// DType is "float32" (default) or "float64" (for gradient checks).
	DType string `json:"dtype" toml:"dtype"`

	// Arch is the architecture: "gpt" (the default, also spelled "") or
	// "llama". GPT is GPT-2's shape: learned positions, pre-LN blocks with
	// biases, fused qkv attention, a GELU MLP. Llama is RMSNorm before
	// attention and MLP, rotary positions, grouped-query attention and a
	// SwiGLU MLP, all without biases, and a final RMSNorm (llama.go). The
	// fields below apply to "llama" only and must be zero for "gpt"; they
	// are omitted from JSON when zero, so a GPT config reads and hashes as
	// before they existed, and a checkpoint saved without them loads as
	// "gpt".
	Arch string `json:"arch,omitempty" toml:"arch"`
	// KVHeads is the number of key/value heads of grouped-query attention
	// (default Heads: plain multi-head attention); it must divide Heads.
	KVHeads int `json:"kv_heads,omitempty" toml:"kv_heads"`
	// RMSEps is the epsilon of every RMSNorm (default 1e-6, Hugging Face's
	// default rms_norm_eps).
	RMSEps float64 `json:"rms_eps,omitempty" toml:"rms_eps"`
	// RopeTheta is the base of the rotary frequencies (default 10000).
	RopeTheta float64 `json:"rope_theta,omitempty" toml:"rope_theta"`
}

// Architectures (Config.Arch).
const (
	ArchGPT   = "gpt"
	ArchLlama = "llama"
)

// llama reports whether c describes a Llama-family model.
func (c Config) llama() bool { return c.Arch == ArchLlama }

// arch returns the architecture's name ("gpt" for "").
func (c Config) arch() string {
	if c.Arch == "" {
		return ArchGPT
	}
	return c.Arch
}

// headDim is the width of one attention head.
func (c Config) headDim() int {
	if c.Heads <= 0 {
		return 1
	}
	return c.DModel / c.Heads
}

// DefaultConfig returns a small model that suits pit's synthetic task.
func DefaultConfig() Config {
	return Config{Vocab: 64, Context: 48, DModel: 64, Layers: 2, Heads: 4, MLP: 256, Device: "cpu", DType: "float32"}
}

// WithDefaults fills the zero fields that have defaults (MLP, Device,
// DType; for "llama" also KVHeads, RMSEps and RopeTheta). Arch stays as
// given: "" is "gpt".
func (c Config) WithDefaults() Config {
	if c.MLP == 0 {
		c.MLP = 4 * c.DModel
	}
	if c.llama() {
		if c.KVHeads == 0 {
			c.KVHeads = c.Heads
		}
		if c.RMSEps == 0 {
			c.RMSEps = 1e-6
		}
		if c.RopeTheta == 0 {
			c.RopeTheta = 10000
		}
	}
	if c.Device == "" {
		c.Device = "cpu"
	}
	if c.DType == "" {
		c.DType = "float32"
	}
	return c
}

// Validate reports what is wrong with c, all problems at once.
func (c Config) Validate() error {
	var errs []error
	pos := func(name string, v int) {
		if v <= 0 {
			errs = append(errs, fmt.Errorf("%s must be positive, got %d", name, v))
		}
	}
	pos("vocab", c.Vocab)
	pos("context", c.Context)
	pos("d_model", c.DModel)
	pos("layers", c.Layers)
	pos("heads", c.Heads)
	pos("mlp", c.MLP)
	if c.Heads > 0 && c.DModel > 0 && c.DModel%c.Heads != 0 {
		errs = append(errs, fmt.Errorf("heads (%d) must divide d_model (%d)", c.Heads, c.DModel))
	}
	switch c.Arch {
	case "", ArchGPT:
		if c.KVHeads != 0 || c.RMSEps != 0 || c.RopeTheta != 0 {
			errs = append(errs, fmt.Errorf(`kv_heads, rms_eps and rope_theta apply to arch "llama" only (arch %q)`, c.arch()))
		}
	case ArchLlama:
		if c.Heads > 0 && c.DModel > 0 && c.DModel%c.Heads == 0 && c.headDim()%2 != 0 {
			errs = append(errs, fmt.Errorf("head width d_model/heads = %d must be even for rotary positions", c.headDim()))
		}
		if c.KVHeads <= 0 {
			errs = append(errs, fmt.Errorf("kv_heads must be positive, got %d", c.KVHeads))
		} else if c.Heads > 0 && c.Heads%c.KVHeads != 0 {
			errs = append(errs, fmt.Errorf("kv_heads (%d) must divide heads (%d)", c.KVHeads, c.Heads))
		}
		if !(c.RMSEps > 0) || math.IsInf(c.RMSEps, 0) {
			errs = append(errs, fmt.Errorf("rms_eps must be positive, got %g", c.RMSEps))
		}
		if !(c.RopeTheta > 0) || math.IsInf(c.RopeTheta, 0) {
			errs = append(errs, fmt.Errorf("rope_theta must be positive, got %g", c.RopeTheta))
		}
	default:
		errs = append(errs, fmt.Errorf(`arch %q unknown (want "gpt" or "llama")`, c.Arch))
	}
	if c.Vocab > 0 && (c.PadID < 0 || c.PadID >= c.Vocab) {
		errs = append(errs, fmt.Errorf("pad_id %d outside vocabulary [0, %d)", c.PadID, c.Vocab))
	}
	switch c.Device {
	case "cpu":
	case "cuda":
		if !cudaBuilt {
			errs = append(errs, errNoCUDABuild)
			break
		}
		if c.DType != "float32" {
			errs = append(errs, fmt.Errorf(`device "cuda" runs float32 models only (dtype %q)`, c.DType))
		}
		if c.Heads > 0 && c.DModel/c.Heads > maxCUDAHeadWidth {
			errs = append(errs, fmt.Errorf(`device "cuda" takes heads of width at most %d (d_model/heads = %d)`, maxCUDAHeadWidth, c.DModel/c.Heads))
		}
	default:
		errs = append(errs, fmt.Errorf(`device %q unknown (want "cpu" or "cuda")`, c.Device))
	}
	switch c.DType {
	case "float32", "float64":
	default:
		errs = append(errs, fmt.Errorf(`dtype %q unknown (want "float32" or "float64")`, c.DType))
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("nn: invalid config: %w", err)
	}
	return nil
}
