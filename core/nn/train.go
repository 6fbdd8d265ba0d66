package nn

import (
	"fmt"
	"math"
)

// Trainer updates a model's weights with AdamW. Each step is one call, so
// the caller can log, checkpoint and stop between steps. A step whose loss
// or gradient is NaN or infinite returns an error and changes nothing.
type Trainer struct {
	model    *Model
	opt      *adamW
	graphs   *graphCache
	lastNorm float64
	frozen   []bool // by parameter index: updates skip it
}

// Freeze keeps the parameters whose names (see ParamShapes) frozen
// reports true fixed from now on: their gradients are left out of the
// clipping norm and of the update, and weight decay does not touch them.
// It returns how many parameters it froze.
func (t *Trainer) Freeze(frozen func(name string) bool) int {
	n := 0
	t.frozen = make([]bool, len(t.model.params))
	for i, p := range t.model.params {
		if frozen(p.name) {
			t.frozen[i] = true
			n++
		}
	}
	return n
}

// NewTrainer returns a trainer for m (defaults filled into cfg).
func NewTrainer(m *Model, cfg OptimConfig) (*Trainer, error) {
	cfg = cfg.WithDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	return &Trainer{model: m, opt: newAdamW(cfg, m.params), graphs: newGraphCache(8, func(k graphKey) int64 { return graphBytes(m.cfg, k) })}, nil
}

// Model returns the model being trained.
func (t *Trainer) Model() *Model { return t.model }

// Steps returns the number of updates applied so far.
func (t *Trainer) Steps() int { return t.opt.step }

// LR returns the learning rate the next update will use.
func (t *Trainer) LR() float64 { return t.opt.cfg.LRAt(t.opt.step) }

// LastGradNorm returns the global gradient norm (before clipping) of the
// last step.
func (t *Trainer) LastGradNorm() float64 { return t.lastNorm }

// OptimConfig returns the optimiser configuration.
func (t *Trainer) OptimConfig() OptimConfig { return t.opt.cfg }

// Close releases the trainer's compiled graphs.
func (t *Trainer) Close() { t.graphs.close() }

func (t *Trainer) graph(kind graphKind, B, maxLen int) (*graph, error) {
	k := graphKey{kind: kind, B: B, T: bucketLen(maxLen, t.model.cfg.Context)}
	return t.graphs.get(k, func() (*graph, error) { return t.model.buildGraph(k) })
}

// step runs a training graph and applies the update, or returns an error
// and leaves the weights alone.
func (t *Trainer) step(gr *graph) error {
	grads := make([]array, len(t.model.params))
	runErr := gr.run()
	for i, g := range gr.grads {
		if idx := gr.tr.order[i].idx; t.frozen == nil || !t.frozen[idx] {
			grads[idx] = g
		}
	}
	if runErr != nil {
		return runErr
	}
	if l := gr.st.loss; math.IsNaN(l) || math.IsInf(l, 0) {
		return fmt.Errorf("nn: %v loss is %v; update skipped", gr.key.kind, l)
	}
	norm, err := gradNorm(grads)
	t.lastNorm = norm
	if err != nil {
		return err
	}
	t.opt.update(t.model.params, grads, norm)
	collectGarbage() // arena.go: garbage between collections
	return nil
}

// Batch is a batch of token sequences with a loss mask.
type Batch struct {
	Seqs [][]int
	// Mask[b][t] marks the tokens of Seqs[b] to train on (entries at t = 0
	// are ignored: nothing predicts the first token). A nil Mask trains on
	// every token after the first; a nil row likewise.
	Mask [][]bool
}

// SFTStep takes one step of masked cross-entropy (the mean over every
// masked token of the batch) and returns the loss before the update.
func (t *Trainer) SFTStep(b Batch) (float64, error) {
	gr, err := t.prepareSFT(b)
	if err != nil {
		return 0, err
	}
	err = t.step(gr)
	return gr.st.loss, err
}

func (t *Trainer) prepareSFT(b Batch) (*graph, error) {
	maxLen, err := t.model.checkSeqs(b.Seqs)
	if err != nil {
		return nil, err
	}
	if b.Mask != nil && len(b.Mask) != len(b.Seqs) {
		return nil, fmt.Errorf("nn: sft: %d mask rows for %d sequences", len(b.Mask), len(b.Seqs))
	}
	gr, err := t.graph(kindSFT, len(b.Seqs), maxLen)
	if err != nil {
		return nil, err
	}
	st := gr.st
	st.fillIDs(b.Seqs, t.model.cfg.PadID)
	for i := range st.targets {
		st.targets[i] = -1
		st.weights[i] = 0
	}
	any := false
	for r, s := range b.Seqs {
		var mask []bool
		if b.Mask != nil {
			mask = b.Mask[r]
			if mask != nil && len(mask) != len(s) {
				return nil, fmt.Errorf("nn: sft: mask row %d has %d entries for %d tokens", r, len(mask), len(s))
			}
		}
		for tk := 1; tk < len(s); tk++ {
			if mask != nil && !mask[tk] {
				continue
			}
			n := r*st.T + tk - 1
			st.targets[n] = s[tk]
			st.weights[n] = 1
			any = true
		}
	}
	if !any {
		return nil, fmt.Errorf("nn: sft: the mask selects no token")
	}
	return gr, nil
}

// ComparisonStep takes one step of the pairwise comparison loss over the
// reward head's scores of seqs (read at each sequence's last token). One
// pair per preference gives Bradley–Terry; five pairs over four sequences
// give PIT's gap loss.
func (t *Trainer) ComparisonStep(seqs [][]int, pairs []Pair) (CompareStats, error) {
	gr, err := t.prepareCompare(seqs, pairs)
	if err != nil {
		return CompareStats{}, err
	}
	err = t.step(gr)
	gr.st.cmp.GradNorm = t.lastNorm
	return gr.st.cmp, err
}

func (t *Trainer) prepareCompare(seqs [][]int, pairs []Pair) (*graph, error) {
	maxLen, err := t.model.checkSeqs(seqs)
	if err != nil {
		return nil, err
	}
	if len(pairs) == 0 {
		return nil, fmt.Errorf("nn: comparison: no pairs")
	}
	var wsum float64
	for i, p := range pairs {
		if p.I < 0 || p.I >= len(seqs) || p.J < 0 || p.J >= len(seqs) {
			return nil, fmt.Errorf("nn: comparison: pair %d (%d, %d) outside %d sequences", i, p.I, p.J, len(seqs))
		}
		if p.Weight < 0 || math.IsNaN(p.Weight) || math.IsInf(p.Weight, 0) || math.IsNaN(p.Margin) || math.IsInf(p.Margin, 0) {
			return nil, fmt.Errorf("nn: comparison: pair %d has weight %v, margin %v", i, p.Weight, p.Margin)
		}
		wsum += p.Weight
	}
	if wsum == 0 {
		return nil, fmt.Errorf("nn: comparison: all pair weights are zero")
	}
	gr, err := t.graph(kindCompare, len(seqs), maxLen)
	if err != nil {
		return nil, err
	}
	st := gr.st
	st.fillIDs(seqs, t.model.cfg.PadID)
	st.last = st.last[:0]
	for _, s := range seqs {
		st.last = append(st.last, len(s)-1)
	}
	st.pairs = pairs
	return gr, nil
}

// Rollouts are sampled sequences with what the policy-gradient loss needs.
// Every per-token array is aligned with Seqs (entry t belongs to token t);
// rows may be nil where unused (see PGKnobs).
type Rollouts struct {
	Seqs [][]int
	// Mask marks the action tokens (the sampled response), t ≥ 1.
	Mask [][]bool
	// OldLogProbs are the behaviour policy's log-probs of each token at
	// PGKnobs.Temperature (as Sample or ScoreTokens report them).
	OldLogProbs [][]float64
	// RefLogProbs are the frozen reference model's log-probs at the same
	// temperature; needed for KL in the loss, and reported in PGStats.KL.
	RefLogProbs [][]float64
	// Advantages per token.
	Advantages [][]float64
	// Returns are the value targets, needed when ValueCoef ≠ 0.
	Returns [][]float64
	// OldValues are the values at sampling time, needed when ValueClip > 0.
	OldValues [][]float64
}

// PolicyGradientStep takes one step of the generic clipped policy-gradient
// loss (see PGKnobs).
func (t *Trainer) PolicyGradientStep(r Rollouts, knobs PGKnobs) (PGStats, error) {
	gr, err := t.preparePG(r, knobs)
	if err != nil {
		return PGStats{}, err
	}
	err = t.step(gr)
	st := gr.st
	st.pgStats.Tokens = st.pg.count
	st.pgStats.Entries = len(r.Seqs)
	st.pgStats.GradNorm = t.lastNorm
	return st.pgStats, err
}

func (t *Trainer) preparePG(r Rollouts, knobs PGKnobs) (*graph, error) {
	k, err := knobs.withDefaults()
	if err != nil {
		return nil, err
	}
	maxLen, err := t.model.checkSeqs(r.Seqs)
	if err != nil {
		return nil, err
	}
	B := len(r.Seqs)
	need := func(name string, a [][]float64, required bool) error {
		if a == nil {
			if required {
				return fmt.Errorf("nn: policy gradient: %s missing", name)
			}
			return nil
		}
		if len(a) != B {
			return fmt.Errorf("nn: policy gradient: %s has %d rows for %d sequences", name, len(a), B)
		}
		for i, row := range a {
			if len(row) != len(r.Seqs[i]) {
				return fmt.Errorf("nn: policy gradient: %s row %d has %d entries for %d tokens", name, i, len(row), len(r.Seqs[i]))
			}
		}
		return nil
	}
	if len(r.Mask) != B {
		return nil, fmt.Errorf("nn: policy gradient: %d mask rows for %d sequences", len(r.Mask), B)
	}
	for i, row := range r.Mask {
		if len(row) != len(r.Seqs[i]) {
			return nil, fmt.Errorf("nn: policy gradient: mask row %d has %d entries for %d tokens", i, len(row), len(r.Seqs[i]))
		}
	}
	if err := need("OldLogProbs", r.OldLogProbs, true); err != nil {
		return nil, err
	}
	if err := need("Advantages", r.Advantages, true); err != nil {
		return nil, err
	}
	if err := need("RefLogProbs", r.RefLogProbs, k.KLInLoss && k.KLCoef != 0); err != nil {
		return nil, err
	}
	if err := need("Returns", r.Returns, k.ValueCoef != 0); err != nil {
		return nil, err
	}
	if err := need("OldValues", r.OldValues, k.ValueCoef != 0 && k.ValueClip > 0); err != nil {
		return nil, err
	}
	gr, err := t.graph(kindPG, B, maxLen)
	if err != nil {
		return nil, err
	}
	st := gr.st
	st.fillIDs(r.Seqs, t.model.cfg.PadID)
	in := &st.pg
	in.resize(st.B * st.T)
	in.knobs = k
	in.haveRef = r.RefLogProbs != nil
	count := 0
	for b, s := range r.Seqs {
		nb := 0
		for tk := 1; tk < len(s); tk++ {
			if r.Mask[b][tk] {
				nb++
			}
		}
		for tk := 1; tk < len(s); tk++ {
			if !r.Mask[b][tk] {
				continue
			}
			n := b*st.T + tk - 1
			in.act[n] = true
			in.token[n] = s[tk]
			in.w[n] = 1
			if k.Aggregation == AggSeq {
				in.w[n] = 1 / float64(nb)
			}
			in.oldLP[n] = r.OldLogProbs[b][tk]
			in.adv[n] = r.Advantages[b][tk]
			if in.haveRef {
				in.refLP[n] = r.RefLogProbs[b][tk]
			}
			if r.Returns != nil {
				in.ret[n] = r.Returns[b][tk]
			}
			if r.OldValues != nil {
				in.oldV[n] = r.OldValues[b][tk]
			}
			for _, v := range []float64{in.oldLP[n], in.adv[n], in.refLP[n], in.ret[n], in.oldV[n]} {
				if math.IsNaN(v) || math.IsInf(v, 0) {
					return nil, fmt.Errorf("nn: policy gradient: non-finite input %v at sequence %d token %d", v, b, tk)
				}
			}
			count++
		}
	}
	if count == 0 {
		return nil, fmt.Errorf("nn: policy gradient: the mask selects no token")
	}
	in.count = count
	return gr, nil
}

// SFTGradients computes the loss SFTStep would report for b and the
// gradient of that loss with respect to every parameter, by name, without
// changing the weights or the optimiser; for tests and inspection
// (comparing pit's backward passes with another implementation).
func (t *Trainer) SFTGradients(b Batch) (float64, map[string][]float64, error) {
	gr, err := t.prepareSFT(b)
	if err != nil {
		return 0, nil, err
	}
	if err := gr.run(); err != nil {
		return 0, nil, err
	}
	out := make(map[string][]float64, len(gr.grads))
	for i, g := range gr.grads {
		out[gr.tr.order[i].name] = toF64(g)
	}
	return gr.st.loss, out, nil
}
