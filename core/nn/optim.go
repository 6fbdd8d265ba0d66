package nn

import (
	"fmt"
	"math"

	"github.com/pit-lab/pit/core/nn/internal/f32"
)

// Schedule kinds for the learning rate.
const (
	ScheduleConstant = "constant" // LR after warm-up
	ScheduleLinear   = "linear"   // warm-up, then linear decay to MinLRFrac·LR at TotalSteps
	ScheduleCosine   = "cosine"   // warm-up, then cosine decay to MinLRFrac·LR at TotalSteps
)

// OptimConfig configures AdamW (Adam when WeightDecay is 0), gradient
// clipping and the learning-rate schedule.
type OptimConfig struct {
	LR          float64 `json:"lr" toml:"lr"`                     // peak learning rate (default 3e-4)
	Beta1       float64 `json:"beta1" toml:"beta1"`               // default 0.9
	Beta2       float64 `json:"beta2" toml:"beta2"`               // default 0.999
	Eps         float64 `json:"eps" toml:"eps"`                   // default 1e-8
	WeightDecay float64 `json:"weight_decay" toml:"weight_decay"` // decoupled, on matrices only
	ClipNorm    float64 `json:"clip_norm" toml:"clip_norm"`       // global gradient-norm clip; 0 = none
	Schedule    string  `json:"schedule" toml:"schedule"`         // constant (default), linear or cosine
	WarmupSteps int     `json:"warmup_steps" toml:"warmup_steps"` // linear warm-up from 0
	TotalSteps  int     `json:"total_steps" toml:"total_steps"`   // end of decay (linear, cosine)
	MinLRFrac   float64 `json:"min_lr_frac" toml:"min_lr_frac"`   // floor of the decay, as a fraction of LR
	// Moments64 keeps AdamW's two moments of a float32 model in float64,
	// as pit did before issue 17 (slightly more precise, 16 instead of 8
	// bytes of optimiser state per parameter). By default a float32
	// model's moments are float32; a float64 model's are always float64.
	// Either way the update's arithmetic is float64; only the moments'
	// storage differs. Trainer.Save keeps the setting and the moments as
	// they are; LoadTrainer converts saved moments to the precision the
	// saved setting asks for, so a checkpoint from before float32 moments
	// (float64 moments, no Moments64) resumes with float32 moments.
	Moments64 bool `json:"moments64,omitempty" toml:"moments64"`
}

// WithDefaults fills zero fields with defaults.
func (c OptimConfig) WithDefaults() OptimConfig {
	if c.LR == 0 {
		c.LR = 3e-4
	}
	if c.Beta1 == 0 {
		c.Beta1 = 0.9
	}
	if c.Beta2 == 0 {
		c.Beta2 = 0.999
	}
	if c.Eps == 0 {
		c.Eps = 1e-8
	}
	if c.Schedule == "" {
		c.Schedule = ScheduleConstant
	}
	return c
}

// Validate reports a bad configuration.
func (c OptimConfig) Validate() error {
	switch {
	case !(c.LR > 0) || math.IsInf(c.LR, 0):
		return fmt.Errorf("nn: optimiser: lr %v must be positive", c.LR)
	case c.Beta1 < 0 || c.Beta1 >= 1, c.Beta2 < 0 || c.Beta2 >= 1:
		return fmt.Errorf("nn: optimiser: betas (%v, %v) must be in [0, 1)", c.Beta1, c.Beta2)
	case c.WeightDecay < 0, c.ClipNorm < 0, c.WarmupSteps < 0, c.TotalSteps < 0, c.MinLRFrac < 0 || c.MinLRFrac > 1:
		return fmt.Errorf("nn: optimiser: negative weight_decay, clip_norm, warmup_steps or total_steps, or min_lr_frac outside [0, 1]")
	}
	switch c.Schedule {
	case ScheduleConstant:
	case ScheduleLinear, ScheduleCosine:
		if c.TotalSteps <= c.WarmupSteps {
			return fmt.Errorf("nn: optimiser: %s schedule needs total_steps (%d) > warmup_steps (%d)", c.Schedule, c.TotalSteps, c.WarmupSteps)
		}
	default:
		return fmt.Errorf("nn: optimiser: schedule %q unknown (want constant, linear or cosine)", c.Schedule)
	}
	return nil
}

// LRAt returns the learning rate of update number step (0-based).
func (c OptimConfig) LRAt(step int) float64 {
	if c.WarmupSteps > 0 && step < c.WarmupSteps {
		return c.LR * float64(step+1) / float64(c.WarmupSteps)
	}
	switch c.Schedule {
	case ScheduleLinear, ScheduleCosine:
		f := float64(step-c.WarmupSteps) / float64(c.TotalSteps-c.WarmupSteps)
		f = math.Min(math.Max(f, 0), 1)
		var k float64
		if c.Schedule == ScheduleLinear {
			k = 1 - f
		} else {
			k = 0.5 * (1 + math.Cos(math.Pi*f))
		}
		return c.LR * (c.MinLRFrac + (1-c.MinLRFrac)*k)
	}
	return c.LR
}

// adamW holds the optimiser state: moments per parameter and the step count.
type adamW struct {
	cfg  OptimConfig
	step int
	m, v []moment // per parameter of the model, in model order
}

// moment holds one AdamW moment of one parameter: f32 (float32 moments, the
// default for a float32 parameter) or f64 (Moments64, or a float64
// parameter); the other is nil.
type moment struct {
	f32 []float32
	f64 []float64
}

// wide reports whether a parameter's moments are float64.
func (c OptimConfig) wide(p *param) bool {
	_, f64 := p.t.Data().([]float64)
	return c.Moments64 || f64
}

func newMoment(n int, wide bool) moment {
	if wide {
		return moment{f64: make([]float64, n)}
	}
	return moment{f32: make([]float32, n)}
}

// at returns element j of the moment as a float64.
func (m moment) at(j int) float64 {
	if m.f64 != nil {
		return m.f64[j]
	}
	return float64(m.f32[j])
}

func (m moment) len() int { return max(len(m.f32), len(m.f64)) }

func newAdamW(cfg OptimConfig, params []*param) *adamW {
	o := &adamW{cfg: cfg}
	for _, p := range params {
		n := p.shape.TotalSize()
		o.m = append(o.m, newMoment(n, cfg.wide(p)))
		o.v = append(o.v, newMoment(n, cfg.wide(p)))
	}
	return o
}

// gradNorm returns the global L2 norm of the gradients, or an error if any
// is NaN or infinite.
func gradNorm(grads []array) (float64, error) {
	var ss float64
	for _, g := range grads {
		if g == nil {
			continue
		}
		switch d := g.Data().(type) {
		case []float32:
			for _, v := range d {
				ss += float64(v) * float64(v)
			}
		case []float64:
			for _, v := range d {
				ss += v * v
			}
		}
	}
	if math.IsNaN(ss) || math.IsInf(ss, 0) {
		return ss, fmt.Errorf("nn: gradient is not finite (sum of squares %v); update skipped", ss)
	}
	return math.Sqrt(ss), nil
}

// adamStep holds the constants of one update.
type adamStep struct {
	lr, scale, decay, bc1, bc2 float64
	b1, b2, eps                float64
}

// update applies one AdamW step. grads[i] is the gradient of params[i] or
// nil when the graph did not use it (its moments are left alone).
func (o *adamW) update(params []*param, grads []array, norm float64) {
	c := o.cfg
	st := adamStep{lr: c.LRAt(o.step), scale: 1, b1: c.Beta1, b2: c.Beta2, eps: c.Eps}
	o.step++
	if c.ClipNorm > 0 && norm > c.ClipNorm {
		st.scale = c.ClipNorm / norm
	}
	st.bc1 = 1 - math.Pow(c.Beta1, float64(o.step))
	st.bc2 = 1 - math.Pow(c.Beta2, float64(o.step))
	for i, p := range params {
		g := grads[i]
		if g == nil {
			continue
		}
		st := st
		if p.decay {
			st.decay = c.WeightDecay
		}
		m, v := o.m[i], o.v[i]
		switch w := p.t.Data().(type) {
		case []float32:
			if m.f64 != nil {
				adamKernel(w, g.Data().([]float32), m.f64, v.f64, st)
			} else {
				adamKernel(w, g.Data().([]float32), m.f32, v.f32, st)
			}
		case []float64:
			adamKernel(w, g.Data().([]float64), m.f64, v.f64, st)
		}
	}
}

// adamKernel updates weights w and moments m, v from gradient g in one pass
// (clip scale, both moments, bias correction, decoupled weight decay), in
// float64 arithmetic whatever the storage; large parameters are split
// between the pool's workers.
func adamKernel[T, M float](w, g []T, m, v []M, st adamStep) {
	if len(w) < 1<<14 {
		adamRange(w, g, m, v, st)
		return
	}
	parallelFor(len(w), 1<<13, func(lo, hi int) {
		adamRange(w[lo:hi], g[lo:hi], m[lo:hi], v[lo:hi], st)
	})
}

// adamRange is adamKernel on one goroutine. (It is separate so that a
// single worker, GOMAXPROCS=1, does not recurse.)
func adamRange[T, M float](w, g []T, m, v []M, st adamStep) {
	if w32, ok := any(w).([]float32); ok {
		if m32, ok := any(m).([]float32); ok {
			// The default: float32 weights and moments, vectorised.
			f32.Adam(w32, any(g).([]float32), m32, any(v).([]float32), &f32.AdamConsts{
				Scale: st.scale, B1: st.b1, C1: 1 - st.b1, B2: st.b2, C2: 1 - st.b2,
				BC1: st.bc1, BC2: st.bc2, Eps: st.eps, LR: st.lr, Decay: st.decay})
			return
		}
	}
	g, m, v = g[:len(w)], m[:len(w)], v[:len(w)]
	for j := range w {
		gj := float64(g[j]) * st.scale
		mj := st.b1*float64(m[j]) + (1-st.b1)*gj
		vj := st.b2*float64(v[j]) + (1-st.b2)*gj*gj
		m[j], v[j] = M(mj), M(vj)
		// The update reads the stored (rounded) moments, so that a run
		// resumed from a checkpoint continues exactly.
		upd := (float64(m[j]) / st.bc1) / (math.Sqrt(float64(v[j])/st.bc2) + st.eps)
		wj := float64(w[j])
		wj -= st.lr * (upd + st.decay*wj)
		w[j] = T(wj)
	}
}
