package nn

import (
	"fmt"
	"math"
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
	m, v [][]float64 // per parameter of the model, in model order
}

func newAdamW(cfg OptimConfig, params []*param) *adamW {
	o := &adamW{cfg: cfg}
	for _, p := range params {
		n := p.shape.TotalSize()
		o.m = append(o.m, make([]float64, n))
		o.v = append(o.v, make([]float64, n))
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

// update applies one AdamW step. grads[i] is the gradient of params[i] or
// nil when the graph did not use it (its moments are left alone).
func (o *adamW) update(params []*param, grads []array, norm float64) {
	c := o.cfg
	lr := c.LRAt(o.step)
	o.step++
	scale := 1.0
	if c.ClipNorm > 0 && norm > c.ClipNorm {
		scale = c.ClipNorm / norm
	}
	bc1 := 1 - math.Pow(c.Beta1, float64(o.step))
	bc2 := 1 - math.Pow(c.Beta2, float64(o.step))
	for i, p := range params {
		g := grads[i]
		if g == nil {
			continue
		}
		decay := 0.0
		if p.decay {
			decay = c.WeightDecay
		}
		m, v := o.m[i], o.v[i]
		switch w := p.t.Data().(type) {
		case []float32:
			adamKernel(w, g.Data().([]float32), m, v, lr, scale, decay, bc1, bc2, c)
		case []float64:
			adamKernel(w, g.Data().([]float64), m, v, lr, scale, decay, bc1, bc2, c)
		}
	}
}

func adamKernel[T float](w, g []T, m, v []float64, lr, scale, decay, bc1, bc2 float64, c OptimConfig) {
	if len(w) >= 1<<14 {
		parallelFor(len(w), 1<<13, func(lo, hi int) {
			adamKernel(w[lo:hi], g[lo:hi], m[lo:hi], v[lo:hi], lr, scale, decay, bc1, bc2, c)
		})
		return
	}
	for j := range w {
		gj := float64(g[j]) * scale
		m[j] = c.Beta1*m[j] + (1-c.Beta1)*gj
		v[j] = c.Beta2*v[j] + (1-c.Beta2)*gj*gj
		upd := (m[j] / bc1) / (math.Sqrt(v[j]/bc2) + c.Eps)
		wj := float64(w[j])
		wj -= lr * (upd + decay*wj)
		w[j] = T(wj)
	}
}
