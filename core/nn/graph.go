package nn

import (
	"fmt"
)

type graphKind int

const (
	kindSFT graphKind = iota
	kindCompare
	kindPG
	kindEvalPolicy
	kindEvalReward
)

// training reports whether graphs of this kind compute gradients.
func (k graphKind) training() bool { return k == kindSFT || k == kindCompare || k == kindPG }

// lmHead reports whether graphs of this kind compute the LM head's logits.
func (k graphKind) lmHead() bool { return k == kindSFT || k == kindPG || k == kindEvalPolicy }

func (k graphKind) String() string {
	return [...]string{"sft", "compare", "pg", "eval-policy", "eval-reward"}[k]
}

type graphKey struct {
	kind graphKind
	B, T int
}

// stepData is what one run of a graph reads and writes besides weights.
// Ops hold a pointer to it; the caller fills it before each run.
type stepData struct {
	B, T int
	ids  []int // B*T token ids, row-major, padded

	// SFT: target token of each row position (-1: no loss) and its weight.
	targets []int
	weights []float64

	// comparison loss
	last  []int // index of each row's last real token
	pairs []Pair
	cmp   CompareStats

	// policy gradient
	pg      pgInputs
	pgStats PGStats

	out  []float64 // captured output of eval graphs
	loss float64   // loss of the last run of a training graph
}

// graph is a compiled graph for one kind and shape, reused across runs.
type graph struct {
	key    graphKey
	st     *stepData
	tr     *trunk
	vm     machine
	pnodes []*node // parameter nodes (training graphs), parallel to tr.order
	grads  []array // their gradients after a run, parallel to pnodes
	ar     *arena  // the ops' arrays (nil on a CUDA model: one per op)
}

// close releases the graph's machine and hands its arrays on (arena.go);
// the graph must not run again. It also drops what the ops hold (their
// arrays, the closures over the step's data and the gradients' host
// arrays), so that nothing large waits on whatever still references the
// graph.
func (gr *graph) close() {
	if gr.vm != nil {
		closeMachine(gr.vm)
	}
	if gr.ar != nil {
		gr.ar.release()
	}
	if gr.tr != nil {
		for _, op := range graphOps(gr.tr.g) {
			op.drop()
		}
	}
	gr.st, gr.grads = nil, nil
}

// graphCache keeps the most recently used graphs up to a number and up to
// an estimated size in bytes (GraphCacheBytes), whichever comes first; the
// graph in use is always kept. A graph holds the arrays of its peak of
// live values (arena.go), so at long sequences a few of them are
// gigabytes.
type graphCache struct {
	max    int
	budget int64
	size   func(graphKey) int64
	order  []graphKey
	m      map[graphKey]*graph
	bytes  map[graphKey]int64
	total  int64
}

// GraphCacheBytes bounds the estimated memory of the graphs one model (and
// one trainer) keeps compiled for reuse. Evicting only costs a rebuild
// when a shape comes back; the numbers do not change.
var GraphCacheBytes int64 = 2 << 30

func newGraphCache(max int, size func(graphKey) int64) *graphCache {
	return &graphCache{max: max, budget: GraphCacheBytes, size: size, m: map[graphKey]*graph{}, bytes: map[graphKey]int64{}}
}

// graphBytes estimates the arrays of a graph of cfg for the shape of k:
// ActivationBytes for a training graph, forwardBytes for a forward-only
// one.
func graphBytes(cfg Config, k graphKey) int64 {
	if k.kind.training() {
		return ActivationBytes(cfg, k.B, k.T, k.kind.lmHead())
	}
	return forwardBytes(cfg, k.B, k.T, k.kind.lmHead())
}

// ActivationBytes estimates the arrays a training step of cfg holds at its
// peak for B sequences of T tokens: the values the forward pass keeps for
// the backward pass, per layer and token about 8·D + 3·M values (the
// layer's input, normalised inputs, qkv, attention output, MLP hidden
// values; 10·D for Llama, whose rotary and grouped-query layout keep
// more) and H·T attention weights, and the backward pass's transient
// gradients (6·D + 3·M a token); with lmHead, also the LM head's logits,
// their gradient and the loss's copy of it, 3·(V+1) a token (a reward-only
// step has none). Arrays are shared by liveness (arena.go): a value is
// dropped once its last reader (usually its gradient) has run, so this is
// a bound on the peak, not the sum of every value (TestArenaBytes).
func ActivationBytes(cfg Config, B, T int, lmHead bool) int64 {
	cfg = cfg.WithDefaults()
	L, D, M, H, V := int64(cfg.Layers), int64(cfg.DModel), int64(cfg.MLP), int64(cfg.Heads), int64(cfg.Vocab)
	var head int64
	if lmHead {
		head = 3 * (V + 1)
	}
	kept := int64(8)
	if cfg.llama() {
		kept = 10
	}
	return elemBytes(cfg) * int64(B) * int64(T) * (L*(kept*D+3*M+H*int64(T)) + 6*D + 3*M + head)
}

// forwardBytes estimates the arrays of a forward-only graph (scoring,
// rewards): values are dropped as soon as the next layer has read them, so
// only a layer's worth is live at once, whatever the depth: about
// 4·D + 3·M values (8·D for Llama) and 2·H·T attention weights a token,
// and with lmHead 3·(V+1) for the logits and what is read from them.
func forwardBytes(cfg Config, B, T int, lmHead bool) int64 {
	cfg = cfg.WithDefaults()
	D, M, H, V := int64(cfg.DModel), int64(cfg.MLP), int64(cfg.Heads), int64(cfg.Vocab)
	var head int64
	if lmHead {
		head = 3 * (V + 1)
	}
	live := int64(4)
	if cfg.llama() {
		live = 8
	}
	return elemBytes(cfg) * int64(B) * int64(T) * (live*D + 3*M + 2*H*int64(T) + head)
}

// elemBytes is the size of one value of a model of cfg (defaults filled
// in).
func elemBytes(cfg Config) int64 {
	if cfg.DType == "float64" {
		return 8
	}
	return 4
}

// CountParams is the number of parameters a model of cfg has (the sum of
// ParamShapes), without building it.
func CountParams(cfg Config) int64 {
	var n int64
	for _, p := range ParamShapes(cfg.WithDefaults()) {
		size := int64(1)
		for _, d := range p.Shape {
			size *= int64(d)
		}
		n += size
	}
	return n
}

func (c *graphCache) get(k graphKey, build func() (*graph, error)) (*graph, error) {
	if g, ok := c.m[k]; ok {
		for i, o := range c.order {
			if o == k {
				copy(c.order[i:], c.order[i+1:])
				c.order[len(c.order)-1] = k
				break
			}
		}
		return g, nil
	}
	// Make room before building: the new graph allocates its buffers.
	var n int64
	if c.size != nil {
		n = c.size(k)
	}
	for len(c.order) > 0 && (len(c.order) >= c.max || c.total+n > c.budget) {
		old := c.order[0]
		c.order = c.order[1:]
		if og := c.m[old]; og != nil {
			og.close()
		}
		c.total -= c.bytes[old]
		delete(c.m, old)
		delete(c.bytes, old)
	}
	g, err := build()
	if err != nil {
		return nil, err
	}
	c.m[k] = g
	c.bytes[k] = n
	c.total += n
	c.order = append(c.order, k)
	return g, nil
}

func (c *graphCache) close() {
	for _, g := range c.m {
		g.close()
	}
	c.m = map[graphKey]*graph{}
	c.bytes = map[graphKey]int64{}
	c.order, c.total = nil, 0
}

// bucketLen rounds a sequence length up to a multiple of 8 within the
// context, so that few graph shapes are built.
func bucketLen(n, context int) int {
	b := (n + 7) / 8 * 8
	return min(b, context)
}

// buildGraph builds and compiles a graph of the given kind.
func (m *Model) buildGraph(k graphKey) (*graph, error) {
	st := &stepData{B: k.B, T: k.T, ids: make([]int, k.B*k.T)}
	tr, err := m.buildTrunk(k.B, k.T, &st.ids)
	if err != nil {
		return nil, err
	}
	gr := &graph{key: k, st: st, tr: tr}
	V := m.cfg.Vocab
	var cost *node
	switch k.kind {
	case kindSFT:
		st.targets = make([]int, k.B*k.T)
		st.weights = make([]float64, k.B*k.T)
		head, err := m.policyHead(tr)
		if err != nil {
			return nil, err
		}
		cost, err = lossNode("SoftmaxCrossEntropy", head, sftLoss[float32](st, V), sftLoss[float64](st, V))
		if err != nil {
			return nil, err
		}
	case kindCompare:
		head, err := m.rewardHead(tr)
		if err != nil {
			return nil, err
		}
		cost, err = lossNode("ComparisonLoss", head, compareLoss[float32](st), compareLoss[float64](st))
		if err != nil {
			return nil, err
		}
	case kindPG:
		head, err := m.policyHead(tr)
		if err != nil {
			return nil, err
		}
		cost, err = lossNode("PolicyGradientLoss", head, pgLoss[float32](st, V), pgLoss[float64](st, V))
		if err != nil {
			return nil, err
		}
	case kindEvalPolicy, kindEvalReward:
		var head *node
		if k.kind == kindEvalPolicy {
			head, err = m.policyHead(tr)
		} else {
			head, err = m.rewardHead(tr)
		}
		if err != nil {
			return nil, err
		}
		if _, err := capture(head, &st.out); err != nil {
			return nil, err
		}
		gr.vm = newTapeMachine(tr.g)
		gr.planBuffers(m)
		return gr, nil
	}
	for _, p := range tr.order {
		gr.pnodes = append(gr.pnodes, tr.nodes[p.name])
	}
	if gr.grads, err = backprop(tr.g, cost, gr.pnodes); err != nil {
		return nil, fmt.Errorf("nn: %v graph gradients: %w", k.kind, err)
	}
	gr.vm = newTapeMachine(tr.g)
	gr.planBuffers(m)
	return gr, nil
}

// planBuffers gives the graph of a CPU model an arena (arena.go).
func (gr *graph) planBuffers(m *Model) {
	if m.cfg.Device != "cuda" {
		gr.ar = planBuffers(gr.tr.g, m.dtype)
	}
}

// run executes the graph once.
func (gr *graph) run() error {
	defer gr.vm.Reset()
	if gr.ar != nil {
		gr.ar.begin()
	}
	if err := gr.vm.RunAll(); err != nil {
		return fmt.Errorf("nn: run %v graph: %w", gr.key.kind, err)
	}
	return nil
}

// fillIDs pads seqs into st.ids. Rows beyond len(seqs) are all padding.
func (st *stepData) fillIDs(seqs [][]int, pad int) {
	for b := 0; b < st.B; b++ {
		row := st.ids[b*st.T : (b+1)*st.T]
		var s []int
		if b < len(seqs) {
			s = seqs[b]
		}
		for t := range row {
			if t < len(s) {
				row[t] = s[t]
			} else {
				row[t] = pad
			}
		}
	}
}

// checkSeqs validates a batch of sequences against the model.
func (m *Model) checkSeqs(seqs [][]int) (maxLen int, err error) {
	if len(seqs) == 0 {
		return 0, fmt.Errorf("nn: empty batch")
	}
	for i, s := range seqs {
		if len(s) == 0 {
			return 0, fmt.Errorf("nn: sequence %d is empty", i)
		}
		if len(s) > m.cfg.Context {
			return 0, fmt.Errorf("nn: sequence %d has %d tokens, context is %d", i, len(s), m.cfg.Context)
		}
		for t, id := range s {
			if id < 0 || id >= m.cfg.Vocab {
				return 0, fmt.Errorf("nn: sequence %d token %d: id %d outside vocabulary [0, %d)", i, t, id, m.cfg.Vocab)
			}
		}
		maxLen = max(maxLen, len(s))
	}
	return maxLen, nil
}

// StepBytes estimates the peak memory of one step of a model of cfg on B
// sequences of T tokens: the weights and the graph's buffers, and for a
// training step also the gradients and AdamW's two moments (float32, four
// bytes each). lmHead says whether the step computes the LM head (SFT,
// policy gradient, token scoring) or only the reward head (comparisons,
// rewards), which at a large vocabulary is most of the difference. It is
// an estimate for refusing what cannot fit before any work starts (pit
// validate), not an accounting.
func StepBytes(cfg Config, B, T int, training, lmHead bool) int64 {
	cfg = cfg.WithDefaults()
	w := int64(4)
	if cfg.DType == "float64" {
		w = 8
	}
	kind, perParam := kindEvalReward, w
	switch {
	case training && lmHead:
		kind, perParam = kindSFT, 2*w+8
	case training:
		kind, perParam = kindCompare, 2*w+8
	case lmHead:
		kind = kindEvalPolicy
	}
	return CountParams(cfg)*perParam + graphBytes(cfg, graphKey{kind: kind, B: B, T: T})
}
