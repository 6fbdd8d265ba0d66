package nn

import (
	"fmt"
	"math"
)

// Pair asks the comparison loss for score[I] > score[J] + Margin, with
// weight Weight: the term is −Weight·log σ(s_I − s_J − Margin). I and J
// index the sequences of the same step.
type Pair struct {
	I, J   int
	Margin float64
	Weight float64
}

// CompareStats reports one comparison step.
type CompareStats struct {
	Loss     float64   // weighted mean of the pair terms
	Accuracy float64   // fraction of pairs (by count) with s_I > s_J
	Scores   []float64 // the score of each sequence
	GradNorm float64   // global gradient norm before clipping
}

// KL estimators for the policy-gradient loss.
const (
	KLK1 = "k1" // log π − log π_ref
	KLK3 = "k3" // exp(log π_ref − log π) − (log π_ref − log π) − 1
)

// Loss aggregations for the policy-gradient loss.
const (
	AggToken = "token-mean" // mean over every action token of the batch
	AggSeq   = "seq-mean"   // mean over sequences of each sequence's token mean
)

// PGKnobs configure the generic clipped policy-gradient loss
//
//	L = agg_t[ max(−A·r, −A·clip(r, 1−ε, 1+ε)) + c_kl·KL_t
//	          + c_v·½·max((V−R)², (V_clip−R)²) − c_H·H_t ]
//
// where r = exp(log π − log π_old) at Temperature. One loss serves ppo,
// reinforce, rloo, grpo and remax: the algorithm chooses advantages, returns
// and these knobs.
type PGKnobs struct {
	// ClipRange is ε; 0 or +Inf means no clipping (plain policy gradient).
	ClipRange float64
	// ValueCoef weighs the value loss (0: no value loss).
	ValueCoef float64
	// ValueClip clips the new value to OldValue ± ValueClip (0: no clipping).
	ValueClip float64
	// KLCoef weighs the KL penalty against the reference model in the loss;
	// it is used only when KLInLoss is set (a KL folded into the rewards is
	// the algorithm's business).
	KLCoef   float64
	KLInLoss bool
	// KLEstimator is KLK1 or KLK3 (default KLK3).
	KLEstimator string
	// EntropyCoef weighs the entropy bonus.
	EntropyCoef float64
	// Temperature divides the logits when log-probs are computed; it must
	// match the one used to sample and to score the old log-probs (0 → 1).
	Temperature float64
	// Aggregation is AggToken (default) or AggSeq.
	Aggregation string
}

func (k PGKnobs) withDefaults() (PGKnobs, error) {
	if k.Temperature == 0 {
		k.Temperature = 1
	}
	if k.KLEstimator == "" {
		k.KLEstimator = KLK3
	}
	if k.Aggregation == "" {
		k.Aggregation = AggToken
	}
	if k.ClipRange == 0 {
		k.ClipRange = math.Inf(1)
	}
	switch {
	case k.Temperature < 0 || math.IsNaN(k.Temperature) || math.IsInf(k.Temperature, 0):
		return k, fmt.Errorf("nn: pg knobs: temperature %v must be positive", k.Temperature)
	case k.ClipRange < 0 || math.IsNaN(k.ClipRange):
		return k, fmt.Errorf("nn: pg knobs: clip range %v must be positive", k.ClipRange)
	case k.ValueClip < 0 || math.IsNaN(k.ValueClip):
		return k, fmt.Errorf("nn: pg knobs: value clip %v must not be negative", k.ValueClip)
	case k.KLEstimator != KLK1 && k.KLEstimator != KLK3:
		return k, fmt.Errorf("nn: pg knobs: KL estimator %q unknown (want k1 or k3)", k.KLEstimator)
	case k.Aggregation != AggToken && k.Aggregation != AggSeq:
		return k, fmt.Errorf("nn: pg knobs: aggregation %q unknown (want %s or %s)", k.Aggregation, AggToken, AggSeq)
	}
	return k, nil
}

// PGStats reports one policy-gradient step (means over action tokens).
type PGStats struct {
	Loss        float64 // total loss
	PolicyLoss  float64 // clipped surrogate
	ValueLoss   float64 // ½(V−R)², clipped as configured
	KL          float64 // estimated KL to the reference (when RefLogProbs given)
	Entropy     float64 // policy entropy at Temperature
	ClipFrac    float64 // fraction of tokens whose ratio was clipped
	ApproxKL    float64 // k3 estimate of KL(π_old ‖ π)
	Tokens      int     // action tokens in the batch
	GradNorm    float64 // global gradient norm before clipping
	ValueMean   float64 // mean predicted value
	RatioMax    float64 // largest probability ratio
	Entries     int     // sequences in the batch
	Temperature float64 // temperature the log-probs were computed at
}

// pgInputs are the per-position inputs of the policy-gradient loss, laid
// out like the rows of the head output: position n = b·T + t holds what
// concerns token t+1 of row b.
type pgInputs struct {
	knobs                        PGKnobs
	act                          []bool
	token                        []int
	w                            []float64
	oldLP, refLP, adv, ret, oldV []float64
	haveRef                      bool
	count                        int
}

func (p *pgInputs) resize(n int) {
	if cap(p.act) < n {
		p.act = make([]bool, n)
		p.token = make([]int, n)
		p.w = make([]float64, n)
		p.oldLP = make([]float64, n)
		p.refLP = make([]float64, n)
		p.adv = make([]float64, n)
		p.ret = make([]float64, n)
		p.oldV = make([]float64, n)
	}
	p.act, p.token, p.w = p.act[:n], p.token[:n], p.w[:n]
	p.oldLP, p.refLP, p.adv, p.ret, p.oldV = p.oldLP[:n], p.refLP[:n], p.adv[:n], p.ret[:n], p.oldV[:n]
	for i := range p.act {
		p.act[i] = false
		p.w[i] = 0
	}
}

// sftLoss is masked softmax cross-entropy over the first V columns of the
// policy head: Σ_n w_n·(−log softmax(z_n)[target_n]) / Σ_n w_n.
func sftLoss[T float](st *stepData, V int) lossFunc[T] {
	return func(x, grad []T) (float64, error) {
		clear(grad)
		var wsum float64
		for n, tgt := range st.targets {
			if tgt >= 0 {
				wsum += st.weights[n]
			}
		}
		if wsum <= 0 {
			return 0, fmt.Errorf("nn: cross-entropy: no token to train on")
		}
		W := V + 1
		parts := make([]float64, len(st.targets))
		parallelFor(len(st.targets), 64, func(lo, hi int) {
			p := make([]float64, V)
			for n := lo; n < hi; n++ {
				tgt := st.targets[n]
				if tgt < 0 {
					continue
				}
				z := x[n*W : n*W+V]
				lse := logSoftmaxRow(z, 1, p)
				w := st.weights[n] / wsum
				parts[n] = w * (lse - float64(z[tgt]))
				g := grad[n*W : n*W+V]
				for i := range g {
					g[i] = T(w * p[i])
				}
				g[tgt] -= T(w)
			}
		})
		var loss float64
		for _, v := range parts {
			loss += v
		}
		st.loss = loss
		return loss, nil
	}
}

// compareLoss is the weighted pairwise logistic loss over the scores read
// at each row's last token: Σ_p w_p·softplus(−(s_I − s_J − m_p)) / Σ_p w_p.
func compareLoss[T float](st *stepData) lossFunc[T] {
	return func(x, grad []T) (float64, error) {
		clear(grad)
		scores := make([]float64, len(st.last))
		for b, l := range st.last {
			scores[b] = float64(x[b*st.T+l])
		}
		var wsum, loss float64
		correct := 0
		for _, p := range st.pairs {
			wsum += p.Weight
		}
		if wsum <= 0 {
			return 0, fmt.Errorf("nn: comparison loss: pair weights sum to %v", wsum)
		}
		for _, p := range st.pairs {
			d := scores[p.I] - scores[p.J] - p.Margin
			loss += p.Weight * softplus(-d)
			g := -p.Weight * sigmoid(-d) / wsum
			grad[p.I*st.T+st.last[p.I]] += T(g)
			grad[p.J*st.T+st.last[p.J]] -= T(g)
			if scores[p.I] > scores[p.J] {
				correct++
			}
		}
		loss /= wsum
		st.cmp = CompareStats{Loss: loss, Accuracy: float64(correct) / float64(len(st.pairs)), Scores: scores}
		st.loss = loss
		return loss, nil
	}
}

// pgLoss is the generic clipped policy-gradient loss over the policy head
// (LM logits in the first V columns, value in column V).
func pgLoss[T float](st *stepData, V int) lossFunc[T] {
	return func(x, grad []T) (float64, error) {
		clear(grad)
		in := &st.pg
		k := in.knobs
		W := V + 1
		tau := k.Temperature
		p := make([]float64, V)
		var s PGStats
		s.RatioMax = math.Inf(-1)
		var wsum float64
		for n, a := range in.act {
			if !a {
				continue
			}
			w := in.w[n]
			wsum += w
			z := x[n*W : n*W+V]
			lse := logSoftmaxRow(z, tau, p)
			tok := in.token[n]
			lp := float64(z[tok])/tau - lse
			var pu float64 // Σ p·u
			for i, v := range z {
				pu += p[i] * float64(v) / tau
			}
			ent := lse - pu

			// clipped surrogate
			A := in.adv[n]
			ratio := math.Exp(lp - in.oldLP[n])
			pg1 := -A * ratio
			lpCoef := 0.0 // dL/dlp
			pol := pg1
			if !math.IsInf(k.ClipRange, 1) {
				rc := math.Min(math.Max(ratio, 1-k.ClipRange), 1+k.ClipRange)
				pg2 := -A * rc
				if pg2 > pg1 {
					pol = pg2
				}
				if ratio != rc {
					s.ClipFrac += w
				}
				if pg1 >= pg2 || ratio == rc {
					lpCoef = -A * ratio
				}
			} else {
				lpCoef = -A * ratio
			}
			s.RatioMax = math.Max(s.RatioMax, ratio)
			lt := pol

			// KL to the reference
			if in.haveRef {
				dlr := in.refLP[n] - lp
				var kl, dkl float64
				if k.KLEstimator == KLK1 {
					kl, dkl = -dlr, 1
				} else {
					kl, dkl = math.Exp(dlr)-dlr-1, 1-math.Exp(dlr)
				}
				s.KL += w * kl
				if k.KLInLoss && k.KLCoef != 0 {
					lt += k.KLCoef * kl
					lpCoef += k.KLCoef * dkl
				}
			}
			dOld := in.oldLP[n] - lp
			s.ApproxKL += w * (math.Exp(-dOld) - 1 + dOld) // k3 estimate of KL(π_old ‖ π) on π_old's samples
			s.Entropy += w * ent
			s.PolicyLoss += w * pol
			lt -= k.EntropyCoef * ent

			// value loss
			v := float64(x[n*W+V])
			s.ValueMean += w * v
			var vCoef float64
			if k.ValueCoef != 0 {
				R := in.ret[n]
				vl := 0.5 * (v - R) * (v - R)
				vCoef = v - R
				if k.ValueClip > 0 {
					vc := in.oldV[n] + math.Min(math.Max(v-in.oldV[n], -k.ValueClip), k.ValueClip)
					vl2 := 0.5 * (vc - R) * (vc - R)
					if vl2 > vl {
						vl = vl2
						vCoef = 0
						if vc == v {
							vCoef = v - R
						}
					}
				}
				s.ValueLoss += w * vl
				lt += k.ValueCoef * vl
				vCoef *= k.ValueCoef
			}
			s.Loss += w * lt

			// gradient (weights normalised below): d lp/du = onehot − p,
			// d H/du_i = −p_i (u_i − Σ p u), u = z/τ
			g := grad[n*W : n*W+W]
			for i := range z {
				u := float64(z[i]) / tau
				d := -lpCoef*p[i] + k.EntropyCoef*p[i]*(u-pu)
				g[i] = T(w * d / tau)
			}
			g[tok] += T(w * lpCoef / tau)
			g[V] = T(w * vCoef)
		}
		if wsum <= 0 {
			return 0, fmt.Errorf("nn: policy-gradient loss: no action token")
		}
		inv := 1 / wsum
		for i := range grad {
			grad[i] *= T(inv)
		}
		s.Loss *= inv
		s.PolicyLoss *= inv
		s.ValueLoss *= inv
		s.KL *= inv
		s.Entropy *= inv
		s.ClipFrac *= inv
		s.ApproxKL *= inv
		s.ValueMean *= inv
		s.Temperature = tau
		st.pgStats = s
		st.loss = s.Loss
		return s.Loss, nil
	}
}
