package nn

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"sort"
	"strconv"
	"sync"

	"github.com/pit-lab/pit/core/nn/internal/f32"
)

// SampleOptions control Sample.
type SampleOptions struct {
	// Temperature divides the logits; 0 (or Greedy) decodes greedily.
	Temperature float64
	// TopK keeps the K most likely tokens (0: all).
	TopK int
	// MaxNew is the most tokens to generate per prompt (also bounded by the
	// context length).
	MaxNew int
	// EOS ends a sequence when generated (it is kept); -1 for none.
	EOS int
	// Greedy picks the most likely token (lowest id on ties).
	Greedy bool
}

// Generation is one sampled sequence.
type Generation struct {
	Tokens    []int     // prompt followed by the response
	PromptLen int       // length of the prompt inside Tokens
	LogProbs  []float64 // per response token: log softmax(logits/T)[token], T = Temperature (1 when greedy), without top-k truncation, as ScoreTokens reports it
	Finished  bool      // the response ended with EOS
}

// Response returns the generated tokens.
func (g Generation) Response() []int { return g.Tokens[g.PromptLen:] }

// decoder is a compiled one-position graph with a key/value cache, for a
// fixed batch size. Feeding positions 0, 1, 2, … in order decodes
// incrementally: each step costs one token per row, not the whole prefix.
type decoder struct {
	B   int
	ids []int // current token of each row
	pos int   // current position, shared by all rows
	vm  machine
	out []float64 // [B, V+1] head output of the last step

	// float32 models: the per-layer key/value caches ([row][head][pos][dh];
	// key/value heads for the Llama family),
	// shared with the prefill graphs, which fill the first P positions of
	// every row in one full-sequence pass.
	kc, vc  [][]float32
	prefill map[int]*prefiller

	// serial: this call decodes the batch in halves on several goroutines,
	// which keep the cores busy; the products run on the caller's
	// goroutine instead of the worker pool.
	serial bool
}

// prefillBuildMu serialises compiling prefill graphs (sampleChunk).
var prefillBuildMu sync.Mutex

// prefiller is a compiled full-sequence graph over the first P positions
// that writes their keys and values into a decoder's cache.
type prefiller struct {
	ids []int // B·P prompt tokens
	vm  machine
}

// minPrefill is the shortest common prompt worth a prefill pass.
const minPrefill = 8

// prefillLen is how many positions a prefill pass covers for prompts whose
// shortest has minLen tokens: a multiple of 8 (few graph shapes) that
// leaves at least one prompt token to the decode loop; 0 for none.
func prefillLen(minLen int) int {
	p := min(minLen/8*8, minLen-1)
	if p < minPrefill {
		return 0
	}
	return p
}

// samplingGraph makes the graph of a decoder or a prefiller: a host graph
// on every device. On a GPU model too, sampling runs on the CPU, because
// there it was 45 times faster. Measured on an H200 (BENCHMARKS.md, "GPU"),
// decoding on the device took 477 ms per sampling call at the reference
// shape against 11 ms on the host: Gorgonia copies the weights up for
// every run of a graph, the KV cache and decode attention live on the
// host, so each position crossed the bus several times per layer, and
// each prompt length compiled a prefill graph with a CUDA context of its
// own. Training and scoring, full-sequence work, stay on the GPU.
func samplingGraph() *exprGraph { return newExprGraph() }

func (m *Model) prefiller(d *decoder, P int) (*prefiller, error) {
	if pf, ok := d.prefill[P]; ok {
		return pf, nil
	}
	pf := &prefiller{ids: make([]int, d.B*P)}
	cfg := m.cfg
	var tr *trunk
	var err error
	if cfg.llama() {
		tr, err = m.llamaPrefill(d, pf, P)
	} else {
		a := attnShape{B: d.B, T: P, H: cfg.Heads, D: cfg.DModel}
		tr, err = m.buildBlocks(samplingGraph(),
			func(wte, wpe *node) (*node, error) { return embed(wte, wpe, &pf.ids, P) },
			func(qkv *node, layer int) (*node, error) {
				return prefillAttention(qkv, a, d.kc[layer], d.vc[layer], cfg.Context)
			})
	}
	if err != nil {
		return nil, err
	}
	pf.vm = newTapeMachine(tr.g)
	d.prefill[P] = pf
	return pf, nil
}

// prefillAttention is causal attention over [B·T, 3D] that also stores
// every position's keys and values in the decode cache (context C).
func prefillAttention(qkv *node, a attnShape, kc, vc []float32, C int) (*node, error) {
	op := newKernelOp("PrefillAttention", dtFloat32, shape{a.B * a.T, a.D}, 2)
	probs := make([]float32, a.B*a.H*a.T*a.T)
	dh, D := a.dh(), a.D
	op.forward = func(out array, in []value) (float64, error) {
		x := data[float32](in[0])
		attnForward32(x, data[float32](out), probs, a)
		for b := 0; b < a.B; b++ {
			for s := 0; s < a.T; s++ {
				row := x[(b*a.T+s)*3*D : (b*a.T+s+1)*3*D]
				for h := 0; h < a.H; h++ {
					o := ((b*a.H+h)*C + s) * dh
					copy(kc[o:o+dh], row[D+h*dh:D+(h+1)*dh])
					copy(vc[o:o+dh], row[2*D+h*dh:2*D+(h+1)*dh])
				}
			}
		}
		return 0, nil
	}
	return apply(op, qkv)
}

// decoder returns the decoder for batch size B (slot tells apart decoders
// of the same size that run at the same time).
func (m *Model) decoder(B, slot int) (*decoder, error) {
	key := [2]int{B, slot}
	if d, ok := m.decode[key]; ok {
		return d, nil
	}
	if len(m.decode) >= 8 {
		for k, d := range m.decode {
			closeMachine(d.vm)
			for _, pf := range d.prefill {
				closeMachine(pf.vm)
			}
			delete(m.decode, k)
		}
	}
	d := &decoder{B: B, ids: make([]int, B), prefill: map[int]*prefiller{}}
	cfg := m.cfg
	D, C, H := cfg.DModel, cfg.Context, cfg.Heads
	if m.dtype == dtFloat32 {
		for l := 0; l < cfg.Layers; l++ {
			d.kc = append(d.kc, make([]float32, B*C*cfg.cacheWidth()))
			d.vc = append(d.vc, make([]float32, B*C*cfg.cacheWidth()))
		}
	}
	var tr *trunk
	var err error
	if cfg.llama() {
		tr, err = m.llamaDecoder(d)
	} else {
		tr, err = m.buildBlocks(samplingGraph(),
			func(wte, wpe *node) (*node, error) { return decEmbed(wte, wpe, d) },
			func(qkv *node, layer int) (*node, error) { return decAttention(qkv, d, layer, B, C, H, D) })
	}
	if err != nil {
		return nil, err
	}
	head, err := m.policyHead(tr)
	if err != nil {
		return nil, err
	}
	if _, err := capture(head, &d.out); err != nil {
		return nil, err
	}
	m.packLinears(d, head)
	d.vm = newTapeMachine(tr.g)
	m.decode[key] = d
	return d, nil
}

// decEmbed embeds the current token of each row at the shared position.
func decEmbed(wte, wpe *node, d *decoder) (*node, error) {
	dt := wte.Dtype()
	D := wte.Shape()[1]
	op := newKernelOp("DecodeEmbed", dt, shape{d.B, D}, 2, 2)
	op.forward = func(out array, in []value) (float64, error) {
		if dt == dtFloat64 {
			decEmbedKernel(data[float64](in[0]), data[float64](in[1]), data[float64](out), d.ids, d.pos, D)
		} else {
			decEmbedKernel(data[float32](in[0]), data[float32](in[1]), data[float32](out), d.ids, d.pos, D)
		}
		return 0, nil
	}
	return apply(op, wte, wpe)
}

func decEmbedKernel[T float](wte, wpe, out []T, ids []int, pos, D int) {
	p := wpe[pos*D : (pos+1)*D]
	for b, id := range ids {
		o, e := out[b*D:(b+1)*D], wte[id*D:(id+1)*D]
		for i := range o {
			o[i] = e[i] + p[i]
		}
	}
}

// decAttention appends this position's keys and values to the cache and
// attends from its query over positions 0..pos. The cache is laid out
// [row][head][position][dh] so each head's keys are contiguous.
func decAttention(qkv *node, d *decoder, layer, B, C, H, D int) (*node, error) {
	dt := qkv.Dtype()
	op := newKernelOp("DecodeAttention", dt, shape{B, D}, 2)
	var kc32, vc32 []float32
	var kc64, vc64 []float64
	if dt == dtFloat64 {
		kc64, vc64 = make([]float64, B*C*D), make([]float64, B*C*D)
	} else {
		kc32, vc32 = d.kc[layer], d.vc[layer]
	}
	p := make([]float64, C)
	var sc decScratch
	if dt == dtFloat32 {
		sc = decScratch{dots: make([]float32, B*H*C), p: make([]float64, B*H*C)}
	}
	op.forward = func(out array, in []value) (float64, error) {
		if dt == dtFloat64 {
			decAttn64(data[float64](in[0]), data[float64](out), kc64, vc64, p, B, C, H, D, d.pos)
		} else {
			decAttn32(data[float32](in[0]), data[float32](out), kc32, vc32, sc, B, C, H, D, d.pos, d.serial)
		}
		return 0, nil
	}
	return apply(op, qkv)
}

// decScratch is decAttn32's per (row, head) scratch: C scores each.
type decScratch struct {
	dots []float32
	p    []float64
}

// decAttn32 is the float32 decode attention, on internal/f32's vector
// kernels (DotRows sums in dotT's order, WeightedRows in the scalar
// weighted sum's, so the bits are those of the scalar loops it replaced:
// TestSampleGolden), parallel over rows × heads unless serial.
func decAttn32(qkv, out, kc, vc []float32, sc decScratch, B, C, H, D, pos int, serial bool) {
	dh := D / H
	scale := 1 / math.Sqrt(float64(dh))
	n := pos + 1
	// At least ~32k multiply-adds per part, so a short prefix on a small
	// model runs inline.
	minChunk := max(1, (1<<15)/(n*dh))
	if serial {
		minChunk = B * H
	}
	parallelFor(B*H, minChunk, func(lo, hi int) {
		for bh := lo; bh < hi; bh++ {
			b, h := bh/H, bh%H
			row := qkv[b*3*D : (b+1)*3*D]
			base := bh * C * dh
			copy(kc[base+pos*dh:base+n*dh], row[D+h*dh:D+(h+1)*dh])
			copy(vc[base+pos*dh:base+n*dh], row[2*D+h*dh:2*D+(h+1)*dh])
			dots, p := sc.dots[bh*C:bh*C+n], sc.p[bh*C:bh*C+n]
			f32.DotRows(dots, row[h*dh:(h+1)*dh], kc[base:base+n*dh], dh)
			mx := math.Inf(-1)
			for s, x := range dots {
				v := float64(x) * scale
				p[s] = v
				if v > mx {
					mx = v
				}
			}
			var z float64
			for s := range p {
				e := float64(expf32(float32(p[s] - mx)))
				p[s] = e
				z += e
			}
			w := dots // the scores are spent: reuse them for the weights
			for s := range p {
				w[s] = float32(p[s] / z)
			}
			f32.WeightedRows(out[b*D+h*dh:b*D+(h+1)*dh], vc[base:base+n*dh], w, dh)
		}
	})
}

// weightPacks keeps the model's Linear weights packed for the decode
// steps (f32.PackedB): a decode step multiplies a few rows by every weight
// matrix, and packing each matrix once per Sample call instead of reading
// it in place (rows n floats apart) or packing it every step roughly halves
// the products' time at d512 and up. Sample starts a new epoch; a matrix
// is repacked on its first use in an epoch, so weights changed between
// calls (training, loading) are never read stale.
type weightPacks struct {
	mu    sync.Mutex
	epoch uint64
	packs map[*float32]*weightPack
}

type weightPack struct {
	mu    sync.Mutex
	epoch uint64
	pb    f32.PackedB
}

// next starts a new epoch: the next use of each matrix repacks it.
func (wp *weightPacks) next() {
	wp.mu.Lock()
	wp.epoch++
	wp.mu.Unlock()
}

// get returns w [k×n] packed in the current epoch.
func (wp *weightPacks) get(w []float32, k, n int) *f32.PackedB {
	wp.mu.Lock()
	if wp.packs == nil {
		wp.packs = map[*float32]*weightPack{}
	}
	e := wp.packs[&w[0]]
	if e == nil {
		e = &weightPack{}
		wp.packs[&w[0]] = e
	}
	epoch := wp.epoch
	wp.mu.Unlock()
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.epoch != epoch || e.pb.K() != k || e.pb.N() != n {
		f32.PackB(&e.pb, k, n, w, n)
		e.epoch = epoch
	}
	return &e.pb
}

// packLinears makes every float32 Linear op of a decode graph (those out
// depends on) that runs on the host multiply by its weights as packed in
// m.packs. Not under the GPU emulation, whose Linear runs the emulated
// kernel; a GPU-placed op (another type than *kernelOp) is left alone.
func (m *Model) packLinears(d *decoder, out *node) {
	if emulateGPU != nil {
		return
	}
	seen := map[*node]bool{}
	var visit func(n *node)
	visit = func(n *node) {
		if seen[n] || n.Op() == nil {
			return
		}
		seen[n] = true
		g, ok := n.Op().(graphOp)
		if !ok {
			return
		}
		op := g.kernel()
		for _, in := range op.inputs {
			visit(in)
		}
		if _, host := n.Op().(*kernelOp); host && op.dev.kind == devLinear && op.dtype == dtFloat32 && len(op.inputs) >= 2 {
			m.usePacked(d, op)
		}
	}
	visit(out)
}

// usePacked replaces a float32 Linear op's forward pass by the same
// product (bias rows, then C += x·w) on its packed weights.
func (m *Model) usePacked(d *decoder, op *kernelOp) {
	rows, n, k, bias := op.dev.m, op.dev.n, op.dev.k, op.dev.bias
	op.forward = func(out array, v []value) (float64, error) {
		x, w, y := data[float32](v[0]), data[float32](v[1]), data[float32](out)
		if bias {
			b := data[float32](v[2])
			for i := 0; i < rows; i++ {
				copy(y[i*n:(i+1)*n], b)
			}
		}
		f32.MulPacked(rows, x, k, m.packs.get(w, k, n), y, n, bias, d.serial)
		return 0, nil
	}
}

// decAttn64 is the float64 decode attention (decAttn32 is the float32
// one, on the vector kernels).
func decAttn64(qkv, out, kc, vc []float64, p []float64, B, C, H, D, pos int) {
	dh := D / H
	scale := 1 / math.Sqrt(float64(dh))
	n := pos + 1
	for b := 0; b < B; b++ {
		row := qkv[b*3*D : (b+1)*3*D]
		for h := 0; h < H; h++ {
			base := ((b*H + h) * C) * dh
			copy(kc[base+pos*dh:base+n*dh], row[D+h*dh:D+(h+1)*dh])
			copy(vc[base+pos*dh:base+n*dh], row[2*D+h*dh:2*D+(h+1)*dh])
			q := row[h*dh : (h+1)*dh]
			ks := kc[base : base+n*dh]
			mx := math.Inf(-1)
			for s := 0; s < n; s++ {
				k := ks[s*dh : (s+1)*dh : (s+1)*dh]
				k = k[:len(q)]
				v := dotT(q, k) * scale
				p[s] = v
				if v > mx {
					mx = v
				}
			}
			var z float64
			for s := 0; s < n; s++ {
				e := math.Exp(p[s] - mx)
				p[s] = e
				z += e
			}
			o := out[b*D+h*dh : b*D+(h+1)*dh]
			clear(o)
			vs := vc[base : base+n*dh]
			for s := 0; s < n; s++ {
				w := p[s] / z
				v := vs[s*dh : (s+1)*dh]
				v = v[:len(o)]
				for i := range o {
					o[i] += w * v[i]
				}
			}
		}
	}
}

// splitDecodeMaxBytes is the largest model (bytes of weights) whose
// sampling batches decode as two halves on two goroutines, each half
// entirely on its own goroutine: no sync between the halves, which keeps
// both cores busy on a loaded machine. Above it, one graph whose products
// and attention are split across the workers, so that a step streams the
// weights from memory once instead of once per half (≈ 10 % less CPU at
// d512, but ~30 syncs per step). Measured at d512/L6 (76 MB) on the shared
// 2-core machine, the halves were up to 10 % faster in wall time at load
// average 2–3 and level at 3–4, so they go up to 128 MiB: d512 decodes in
// halves, GPT-2 small's 340 MB in one graph. The environment variable
// PIT_NN_DECODE_HALVES_MB overrides it (MiB; 0: always one graph), to
// compare the two ways on a given machine. It is a benchmarking knob, not
// a setting: the two ways sample the same tokens, but not always the same
// bits. Each half prefills up to its own shortest prompt, so where the
// halves' shortest prompts differ, some prompt positions go through the
// prefill's attention in one way and the decode's in the other, whose
// sums round differently; the RL stages then end a few last bits apart.
// (TestSampleGolden's prompts give every half the same shortest prompt,
// so there the bits agree.) The choice depends on the model and the batch
// only, never on the number of threads (TestSampleSameOnAnyThreads).
var splitDecodeMaxBytes = decodeHalvesMax()

func decodeHalvesMax() int {
	if v, err := strconv.Atoi(os.Getenv("PIT_NN_DECODE_HALVES_MB")); err == nil && v >= 0 {
		return v << 20
	}
	return 128 << 20
}

// Sample continues each prompt. Random choices come from rng only: each
// prompt gets a generator seeded from two rng draws in prompt order, and
// one uniform draw of it per sampled token, so the same rng state gives the
// same sequences. Prompts must be non-empty.
func (m *Model) Sample(ctx context.Context, prompts [][]int, opts SampleOptions, rng *rand.Rand) ([]Generation, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, err := m.checkSeqs(prompts); err != nil {
		return nil, err
	}
	m.packs.next()
	if opts.Temperature < 0 || math.IsNaN(opts.Temperature) || math.IsInf(opts.Temperature, 0) {
		return nil, fmt.Errorf("nn: sample: temperature %v must be ≥ 0", opts.Temperature)
	}
	if opts.MaxNew < 0 || opts.TopK < 0 {
		return nil, fmt.Errorf("nn: sample: negative MaxNew %d or TopK %d", opts.MaxNew, opts.TopK)
	}
	if opts.EOS >= m.cfg.Vocab || opts.EOS < -1 {
		return nil, fmt.Errorf("nn: sample: EOS %d outside vocabulary (use -1 for none)", opts.EOS)
	}
	greedy := opts.Greedy || opts.Temperature == 0
	if !greedy && rng == nil {
		return nil, fmt.Errorf("nn: sample: rng is nil")
	}
	// Each row gets its own generator, seeded from rng in row order, so
	// halves of a batch can decode in parallel and still be reproducible.
	var rngs []*rand.Rand
	if !greedy {
		rngs = make([]*rand.Rand, len(prompts))
		for i := range rngs {
			rngs[i] = rand.New(rand.NewPCG(rng.Uint64(), rng.Uint64()))
		}
	}
	out := make([]Generation, len(prompts))
	for lo := 0; lo < len(prompts); lo += evalChunk {
		hi := min(lo+evalChunk, len(prompts))
		// A small model: two halves on two goroutines, each with its own
		// graph (coarse parallelism beats splitting each small op, and the
		// weights stay in cache). A large one: one graph whose products
		// and attention split across the workers, so that a step streams
		// the weights from memory once, not once per half.
		parts := 1
		// Not on the number of threads: one thread runs the halves in turn,
		// and the same seed samples the same bits on any machine.
		if hi-lo >= 16 && 4*m.NumParams() <= splitDecodeMaxBytes {
			parts = 2
		}
		type job struct {
			lo, hi int
			d      *decoder
		}
		var jobs []job
		step := (hi - lo + parts - 1) / parts
		for a := lo; a < hi; a += step {
			b := min(a+step, hi)
			d, err := m.decoder(b-a, len(jobs))
			if err != nil {
				return nil, err
			}
			d.serial = parts > 1
			jobs = append(jobs, job{a, b, d})
		}
		errs := make([]error, len(jobs))
		var wg sync.WaitGroup
		for i, j := range jobs {
			wg.Add(1)
			go func() {
				defer wg.Done()
				var r []*rand.Rand
				if rngs != nil {
					r = rngs[j.lo:j.hi]
				}
				errs[i] = m.sampleChunk(ctx, j.d, prompts[j.lo:j.hi], opts, greedy, r, out[j.lo:j.hi])
			}()
		}
		wg.Wait()
		if err := errors.Join(errs...); err != nil {
			return nil, err
		}
	}
	return out, nil
}

func (m *Model) sampleChunk(ctx context.Context, d *decoder, prompts [][]int, opts SampleOptions, greedy bool, rngs []*rand.Rand, gens []Generation) error {
	B := len(prompts)
	V, C := m.cfg.Vocab, m.cfg.Context
	tau := opts.Temperature
	if greedy || tau == 0 {
		tau = 1
	}
	done := make([]bool, B)
	left := B
	for b, p := range prompts {
		gens[b] = Generation{Tokens: append(make([]int, 0, len(p)+opts.MaxNew), p...), PromptLen: len(p)}
		if opts.MaxNew == 0 || len(p) >= C {
			done[b] = true
			left--
		}
	}
	probs := make([]float64, V)
	order := make([]int, V)
	start := 0
	if m.dtype == dtFloat32 && !m.noPrefill && left > 0 {
		minLen := C
		for _, p := range prompts {
			minLen = min(minLen, len(p))
		}
		if P := prefillLen(minLen); P > 0 {
			// The halves of a batch may each compile a prefill graph at
			// once; compiling sets the engine of the weights' values they
			// share (a data race), so one at a time.
			prefillBuildMu.Lock()
			pf, err := m.prefiller(d, P)
			prefillBuildMu.Unlock()
			if err != nil {
				return err
			}
			for b, p := range prompts {
				copy(pf.ids[b*P:(b+1)*P], p[:P])
			}
			err = pf.vm.RunAll()
			pf.vm.Reset()
			if err != nil {
				return fmt.Errorf("nn: sample: prefill: %w", err)
			}
			start = P
		}
	}
	for pos := start; left > 0 && pos < C-1; pos++ {
		if err := ctx.Err(); err != nil {
			return err
		}
		for b := range gens {
			if pos < len(gens[b].Tokens) {
				d.ids[b] = gens[b].Tokens[pos]
			} else {
				d.ids[b] = m.cfg.PadID
			}
		}
		d.pos = pos
		err := d.vm.RunAll()
		d.vm.Reset()
		if err != nil {
			return fmt.Errorf("nn: sample: %w", err)
		}
		for b := range gens {
			g := &gens[b]
			if done[b] || pos+1 < len(g.Tokens) {
				continue // finished, or still reading its prompt
			}
			z := d.out[b*(V+1) : b*(V+1)+V]
			lse := logSoftmaxRow(z, tau, probs)
			var tok int
			if greedy {
				for i, v := range z {
					if v > z[tok] {
						tok = i
					}
				}
			} else {
				tok = drawToken(z, probs, opts.TopK, order, rngs[b])
			}
			g.Tokens = append(g.Tokens, tok)
			g.LogProbs = append(g.LogProbs, z[tok]/tau-lse)
			if tok == opts.EOS {
				g.Finished = true
			}
			if g.Finished || len(g.Tokens)-g.PromptLen >= opts.MaxNew || len(g.Tokens) >= C {
				done[b] = true
				left--
			}
		}
	}
	return nil
}

// drawToken draws from probs (softmax at the sampling temperature),
// restricted to the topK largest logits when topK > 0.
func drawToken(z, probs []float64, topK int, order []int, rng *rand.Rand) int {
	u := rng.Float64()
	if topK <= 0 || topK >= len(z) {
		var c float64
		for i, p := range probs {
			c += p
			if u < c {
				return i
			}
		}
		return len(probs) - 1
	}
	for i := range order {
		order[i] = i
	}
	sort.SliceStable(order, func(a, b int) bool { return z[order[a]] > z[order[b]] })
	var total float64
	for _, i := range order[:topK] {
		total += probs[i]
	}
	u *= total
	var c float64
	for _, i := range order[:topK] {
		c += probs[i]
		if u < c {
			return i
		}
	}
	return order[topK-1]
}

// dotT is a dot product with four independent accumulators (the plain loop
// is bound by the latency of one add chain).
func dotT[T float](a, b []T) T {
	b = b[:len(a)]
	var s0, s1, s2, s3 T
	i := 0
	for ; i+4 <= len(a); i += 4 {
		s0 += a[i] * b[i]
		s1 += a[i+1] * b[i+1]
		s2 += a[i+2] * b[i+2]
		s3 += a[i+3] * b[i+3]
	}
	for ; i < len(a); i++ {
		s0 += a[i] * b[i]
	}
	return (s0 + s1) + (s2 + s3)
}
