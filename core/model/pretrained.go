package model

import (
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"

	"github.com/pit-lab/pit/core/hf"
	"github.com/pit-lab/pit/core/nn"
	"github.com/pit-lab/pit/core/tokenizer"
)

// Pretrained is a Hugging Face model folder that models start from: its
// architecture and sizes (config.json) and its tokenizer. Opening it reads
// no weights; Load does.
type Pretrained struct {
	Dir       string          // the folder, absolute
	Config    *hf.ModelConfig // config.json
	Tokenizer *tokenizer.BPE  // tokenizer.json, or vocab.json + merges.txt
	sizes     pretrainedSizes // from Config
}

type pretrainedSizes struct {
	vocab, context, dModel, layers, heads, mlp int
	bos, eos                                   *int
}

// OpenPretrained reads dir's config.json and tokenizer. A folder without
// them, an architecture pit does not know, or a tokenizer larger than the
// model's vocabulary is an error naming the file.
func OpenPretrained(dir string) (*Pretrained, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("model: pretrained folder %q: %w", dir, err)
	}
	if fi, err := os.Stat(abs); err != nil {
		return nil, fmt.Errorf("model: pretrained folder: %w", err)
	} else if !fi.IsDir() {
		return nil, fmt.Errorf("model: pretrained folder %s is a file; name the folder holding config.json", abs)
	}
	mc, err := hf.ReadConfig(abs)
	if err != nil {
		return nil, err
	}
	p := &Pretrained{Dir: abs, Config: mc}
	switch {
	case mc.GPT2 != nil:
		g := mc.GPT2
		p.sizes = pretrainedSizes{vocab: g.VocabSize, context: g.NPositions, dModel: g.NEmbd, layers: g.NLayer, heads: g.NHead, mlp: g.MLP(), bos: g.BOSTokenID, eos: g.EOSTokenID}
	case mc.Llama != nil:
		l := mc.Llama
		p.sizes = pretrainedSizes{vocab: l.VocabSize, context: l.MaxPositionEmbeddings, dModel: l.HiddenSize, layers: l.NumHiddenLayers, heads: l.NumAttentionHeads, mlp: l.IntermediateSize, bos: l.BOSTokenID, eos: l.EOSTokenID}
	default:
		return nil, fmt.Errorf("model: %s: no architecture pit knows", mc.Path)
	}
	if p.Tokenizer, err = tokenizer.LoadDir(abs); err != nil {
		return nil, fmt.Errorf("model: pretrained folder %s: %w", abs, err)
	}
	if n := p.Tokenizer.VocabSize(); n > p.sizes.vocab {
		return nil, fmt.Errorf("model: %s: the tokenizer has %d ids but config.json's vocab_size is %d", abs, n, p.sizes.vocab)
	}
	if _, _, err := p.Specials(); err != nil {
		return nil, err
	}
	return p, nil
}

// Arch is the architecture's model_type ("gpt2", "llama").
func (p *Pretrained) Arch() string { return p.Config.ModelType }

// Vocab is the number of token ids of the checkpoint's embedding.
func (p *Pretrained) Vocab() int { return p.sizes.vocab }

// Context is the longest sequence the checkpoint's positions cover.
func (p *Pretrained) Context() int { return p.sizes.context }

// Sizes returns the checkpoint's width, depth, heads and MLP width.
func (p *Pretrained) Sizes() (dModel, layers, heads, mlp int) {
	s := p.sizes
	return s.dModel, s.layers, s.heads, s.mlp
}

// Specials returns the ids of the beginning- and end-of-text tokens:
// config.json's bos_token_id and eos_token_id, else the tokenizer's
// "<|endoftext|>" for both (GPT-2's convention).
func (p *Pretrained) Specials() (bos, eos int, err error) {
	eot, hasEOT := p.Tokenizer.SpecialID(tokenizer.EndOfText)
	pick := func(id *int, what string) (int, error) {
		switch {
		case id != nil && *id >= 0 && *id < p.sizes.vocab:
			return *id, nil
		case hasEOT:
			return eot, nil
		}
		return 0, fmt.Errorf("model: %s: config.json has no usable %s and the tokenizer no %q", p.Config.Path, what, tokenizer.EndOfText)
	}
	if bos, err = pick(p.sizes.bos, "bos_token_id"); err != nil {
		return 0, 0, err
	}
	eos, err = pick(p.sizes.eos, "eos_token_id")
	return bos, eos, err
}

// Files lists the folder's files that loading reads (config, weights,
// tokenizer), for cache keys.
func (p *Pretrained) Files() ([]string, error) {
	entries, err := os.ReadDir(p.Dir)
	if err != nil {
		return nil, fmt.Errorf("model: %w", err)
	}
	var out []string
	for _, e := range entries {
		name := e.Name()
		switch {
		case e.IsDir():
		case name == hf.ConfigFile, name == hf.IndexFile, filepath.Ext(name) == ".safetensors",
			name == tokenizer.TokenizerJSON, name == tokenizer.VocabJSON, name == tokenizer.MergesTxt:
			out = append(out, filepath.Join(p.Dir, name))
		}
	}
	slices.Sort(out)
	return out, nil
}

// Load reads the weights into a model on device with extra token ids
// appended after the checkpoint's (ids Vocab() … Vocab()+extra−1, for the
// special tokens a task's layouts need). An added token's embedding is the
// mean of the checkpoint's rows plus Gaussian noise of the rows' own
// per-dimension spread times 0.1, drawn from seed, so that added tokens
// differ from each other; its LM-head column starts as its embedding (as
// a tied head would), and the reward head at zero.
func (p *Pretrained) Load(extra int, device string, seed uint64) (*nn.Model, error) {
	m, _, err := hf.LoadModel(p.Dir, hf.ImportOptions{Device: device})
	if err != nil {
		return nil, err
	}
	if extra == 0 {
		return m, nil
	}
	return withExtraTokens(m, extra, seed)
}

// withExtraTokens returns a copy of m with extra rows in its token
// embedding and columns in its LM head (see Pretrained.Load).
func withExtraTokens(m *nn.Model, extra int, seed uint64) (*nn.Model, error) {
	cfg := m.Config()
	V, D := cfg.Vocab, cfg.DModel
	w64 := m.Weights()
	w := make(map[string][]float32, len(w64))
	for name, v := range w64 {
		f := make([]float32, len(v))
		for i, x := range v {
			f[i] = float32(x)
		}
		w[name] = f
	}
	wte := w["wte"]
	if len(wte) != V*D {
		return nil, fmt.Errorf("model: add tokens: wte has %d values, want %d×%d", len(wte), V, D)
	}
	mean, spread := make([]float64, D), make([]float64, D)
	for v := range V {
		for d, x := range wte[v*D : (v+1)*D] {
			mean[d] += float64(x)
		}
	}
	for d := range mean {
		mean[d] /= float64(V)
	}
	for v := range V {
		for d, x := range wte[v*D : (v+1)*D] {
			spread[d] += (float64(x) - mean[d]) * (float64(x) - mean[d])
		}
	}
	rng := rand.New(rand.NewPCG(seed, 0xadd))
	rows := make([]float32, extra*D)
	for i := range extra {
		for d := range D {
			rows[i*D+d] = float32(mean[d] + 0.1*math.Sqrt(spread[d]/float64(V))*rng.NormFloat64())
		}
	}
	w["wte"] = append(wte, rows...)
	// head.w is [D, V+1] with the value head in column V; head.b [V+1].
	head, hb := w["head.w"], w["head.b"]
	if len(head) != D*(V+1) || len(hb) != V+1 {
		return nil, fmt.Errorf("model: add tokens: head has %d values and bias %d, want %d×%d and %d", len(head), len(hb), D, V+1, V+1)
	}
	W := V + extra + 1
	nh := make([]float32, D*W)
	for d := range D {
		copy(nh[d*W:d*W+V], head[d*(V+1):d*(V+1)+V])
		for i := range extra {
			nh[d*W+V+i] = rows[i*D+d]
		}
		nh[d*W+W-1] = head[d*(V+1)+V]
	}
	nb := make([]float32, W)
	copy(nb, hb[:V])
	nb[W-1] = hb[V]
	w["head.w"], w["head.b"] = nh, nb
	cfg.Vocab = V + extra
	out, err := nn.FromWeights(cfg, w)
	if err != nil {
		return nil, fmt.Errorf("model: add tokens: %w", err)
	}
	return out, nil
}
