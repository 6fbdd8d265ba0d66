package nn

import (
	"fmt"
)

// The Llama family as an architecture of Model (Config.Arch "llama"): the
// same Model, heads, losses, trainer, sampler and checkpoints as the GPT
// shape, with a different body. Per block, x += o(attn(rope(qkv(rms(x)))))
// with grouped-query attention (query head h reads key/value head
// h/(Heads/KVHeads)), then x += down(silu(gate(rms(x))) ⊙ up(rms(x))); a
// final RMSNorm; no biases and no position table (positions are rotary).
// pit's heads sit on top unchanged: head.w [D, V+1] with its bias (the LM
// logits and the value column) and the reward head rm.w, rm.b. A tied
// checkpoint head is copied into head.w on import and trained untied, as
// for GPT-2 (core/hf).
//
// The ops are in llama_ops.go with their kernels in llama_kernels.go and
// their CUDA twins in cuda/kernels.cu; as for GPT, the decode and prefill
// attention ops (which own the key/value caches) run on the CPU.

// addLlamaBody adds the parameters between the token embedding and the
// heads, in order: per layer "h<l>." attn_norm.g [D], qkv.w [D,
// (H+2KV)·Dh] (query heads, then key heads, then value heads), o.w [D, D],
// mlp_norm.g [D], gate_up.w [D, 2M] (gate columns, then up), down.w [M, D];
// then norm.g [D].
func addLlamaBody(cfg Config, add func(name string, decay bool, dims ...int)) {
	D, M, dh := cfg.DModel, cfg.MLP, cfg.headDim()
	for l := 0; l < cfg.Layers; l++ {
		p := fmt.Sprintf("h%d.", l)
		add(p+"attn_norm.g", false, D)
		add(p+"qkv.w", true, D, (cfg.Heads+2*cfg.KVHeads)*dh)
		add(p+"o.w", true, D, D)
		add(p+"mlp_norm.g", false, D)
		add(p+"gate_up.w", true, D, 2*M)
		add(p+"down.w", true, M, D)
	}
	add("norm.g", false, D)
}

// gqa returns the attention shape of a batch of B rows of T positions.
func (c Config) gqa(B, T int) gqaShape {
	return gqaShape{B: B, T: T, H: c.Heads, KV: c.KVHeads, Dh: c.headDim()}
}

// buildLlamaTrunk is buildTrunk for the Llama family.
func (m *Model) buildLlamaTrunk(B, T int, ids *[]int) (*trunk, error) {
	a := m.cfg.gqa(B, T)
	return m.buildLlamaBlocks(m.newGraph(),
		func(wte *node) (*node, error) { return tokenEmbed(wte, ids) },
		func(qkv *node, _ int) (*node, error) {
			r, err := rope(qkv, a, m.cfg.RopeTheta)
			if err != nil {
				return nil, err
			}
			return gqAttention(r, a)
		})
}

// buildLlamaBlocks builds the Llama body in g around the given embedding and
// attention (which takes the un-rotated fused qkv matrix and applies the
// rotary positions itself): full sequences for training and scoring, one
// position for decoding, a prompt prefix for prefill.
func (m *Model) buildLlamaBlocks(g *exprGraph, emb func(wte *node) (*node, error), attn func(qkv *node, layer int) (*node, error)) (*trunk, error) {
	cfg := m.cfg
	tr := &trunk{g: g, nodes: map[string]*node{}}
	x, err := emb(tr.p(m, "wte"))
	if err != nil {
		return nil, err
	}
	for l := 0; l < cfg.Layers; l++ {
		p := fmt.Sprintf("h%d.", l)
		h, err := rmsNorm(x, tr.p(m, p+"attn_norm.g"), cfg.RMSEps)
		if err != nil {
			return nil, err
		}
		qkv, err := matmul(h, tr.p(m, p+"qkv.w"), nil)
		if err != nil {
			return nil, err
		}
		att, err := attn(qkv, l)
		if err != nil {
			return nil, err
		}
		o, err := matmul(att, tr.p(m, p+"o.w"), nil)
		if err != nil {
			return nil, err
		}
		if x, err = residual(x, o); err != nil {
			return nil, err
		}
		if h, err = rmsNorm(x, tr.p(m, p+"mlp_norm.g"), cfg.RMSEps); err != nil {
			return nil, err
		}
		gu, err := matmul(h, tr.p(m, p+"gate_up.w"), nil)
		if err != nil {
			return nil, err
		}
		u, err := swiglu(gu)
		if err != nil {
			return nil, err
		}
		if o, err = matmul(u, tr.p(m, p+"down.w"), nil); err != nil {
			return nil, err
		}
		if x, err = residual(x, o); err != nil {
			return nil, err
		}
	}
	h, err := rmsNorm(x, tr.p(m, "norm.g"), cfg.RMSEps)
	if err != nil {
		return nil, err
	}
	tr.hidden = h
	return tr, nil
}

// ---- decoding with a key/value cache ----

// cacheWidth is the width of one position of a layer's key (or
// value) cache: KV heads of Dh.
func (c Config) cacheWidth() int {
	if c.llama() {
		return c.KVHeads * c.headDim()
	}
	return c.DModel
}

// llamaDecoder builds the one-position decode trunk of d.
func (m *Model) llamaDecoder(d *decoder) (*trunk, error) {
	cfg := m.cfg
	a := cfg.gqa(d.B, 1)
	rt := newRopeTable(cfg.Context, a.Dh, cfg.RopeTheta)
	return m.buildLlamaBlocks(samplingGraph(),
		func(wte *node) (*node, error) { return decTokenEmbed(wte, d) },
		func(qkv *node, layer int) (*node, error) { return decGQAttention(qkv, d, layer, a, cfg.Context, rt) })
}

// llamaPrefill builds the prefill trunk of d over the first P positions.
func (m *Model) llamaPrefill(d *decoder, pf *prefiller, P int) (*trunk, error) {
	cfg := m.cfg
	a := cfg.gqa(d.B, P)
	return m.buildLlamaBlocks(samplingGraph(),
		func(wte *node) (*node, error) { return tokenEmbed(wte, &pf.ids) },
		func(qkv *node, layer int) (*node, error) {
			r, err := rope(qkv, a, cfg.RopeTheta)
			if err != nil {
				return nil, err
			}
			return prefillGQAttention(r, a, d.kc[layer], d.vc[layer], cfg.Context)
		})
}

// decTokenEmbed looks up the current token of each row.
func decTokenEmbed(wte *node, d *decoder) (*node, error) {
	dt := wte.Dtype()
	D := wte.Shape()[1]
	op := newKernelOp("DecodeTokenEmbed", dt, shape{d.B, D}, 2)
	op.forward = forEach(dt,
		func(in [][]float64, out []float64) { tokenEmbedForward(in[0], out, d.ids, D) },
		func(in [][]float32, out []float32) { tokenEmbedForward(in[0], out, d.ids, D) })
	return apply(op, wte)
}

// decGQAttention rotates the current position's query and key heads,
// appends its keys and values to the cache and attends from each query
// head over positions 0..pos of its key/value head. The cache is laid out
// [row][kv head][position][Dh]; float32 models share it with the prefill
// graphs, float64 ones (which are never prefilled) own theirs. It computes
// what the full-sequence RoPE and GQAttention ops compute for that
// position, in the same order.
func decGQAttention(qkv *node, d *decoder, layer int, a gqaShape, C int, rt ropeTable) (*node, error) {
	dt := qkv.Dtype()
	op := newKernelOp("DecodeGQAttention", dt, shape{a.B, a.H * a.Dh}, 2)
	n := a.B * a.KV * C * a.Dh
	if dt == dtFloat64 {
		kc, vc := make([]float64, n), make([]float64, n)
		rot := make([]float64, a.width())
		p, acc := make([]float64, C), make([]float64, a.Dh)
		op.forward = forEach(dt,
			func(in [][]float64, out []float64) { decGQAKernel(in[0], out, kc, vc, rot, p, acc, a, C, rt, d.pos) },
			nil)
	} else {
		kc, vc := d.kc[layer], d.vc[layer]
		rot := make([]float32, a.width())
		p, acc := make([]float64, C), make([]float64, a.Dh)
		op.forward = forEach(dt, nil,
			func(in [][]float32, out []float32) { decGQAKernel(in[0], out, kc, vc, rot, p, acc, a, C, rt, d.pos) })
	}
	return apply(op, qkv)
}

func decGQAKernel[T float](qkv, out, kc, vc, rot []T, p, acc []float64, a gqaShape, C int, rt ropeTable, pos int) {
	W, dh, D := a.width(), a.Dh, a.H*a.Dh
	one := gqaShape{B: 1, T: 1, H: a.H, KV: a.KV, Dh: a.Dh}
	for b := 0; b < a.B; b++ {
		ropeRow(qkv[b*W:(b+1)*W], rot, one, rt, pos, 1)
		for kvh := 0; kvh < a.KV; kvh++ {
			o := ((b*a.KV+kvh)*C + pos) * dh
			copy(kc[o:o+dh], rot[(a.H+kvh)*dh:])
			copy(vc[o:o+dh], rot[(a.H+a.KV+kvh)*dh:])
		}
		for h := 0; h < a.H; h++ {
			base := (b*a.KV + h/(a.H/a.KV)) * C * dh
			gqaAttendRow(rot[h*dh:(h+1)*dh], kc[base:], vc[base:], out[b*D+h*dh:b*D+(h+1)*dh], p, acc, pos)
		}
	}
}

// prefillGQAttention is GQAttention over rotated [B·T, W] rows that also
// stores every position's keys and values in the decode cache (context C).
func prefillGQAttention(qkv *node, a gqaShape, kc, vc []float32, C int) (*node, error) {
	op := newKernelOp("PrefillGQAttention", dtFloat32, shape{a.B * a.T, a.H * a.Dh}, 2)
	W, dh := a.width(), a.Dh
	op.forward = forEach(dtFloat32, nil, func(in [][]float32, out []float32) {
		x := in[0]
		gqaForward(x, out, a)
		for b := 0; b < a.B; b++ {
			for s := 0; s < a.T; s++ {
				row := x[(b*a.T+s)*W : (b*a.T+s+1)*W]
				for kvh := 0; kvh < a.KV; kvh++ {
					o := ((b*a.KV+kvh)*C + s) * dh
					copy(kc[o:o+dh], row[(a.H+kvh)*dh:])
					copy(vc[o:o+dh], row[(a.H+a.KV+kvh)*dh:])
				}
			}
		}
	})
	return apply(op, qkv)
}
