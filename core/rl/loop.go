// Package rl is the RL loop both RL stages share (rlhf trains the policy,
// pit_rl the improver), read top to bottom in Loop.Step:
//
//	rollout     sample k answers per prompt from the policy
//	score       the reward plugin's reward and the task's oracle measure
//	advantages  per-token log-probabilities of the policy and the frozen
//	            reference (and values), turned into advantages by the
//	            algorithm plugin
//	update      the generic clipped policy-gradient steps (package nn)
//	record      the step's metrics, the KL fed back to the algorithm, and the
//	            reward-hacking alarm (HackAlarm)
//
// The loop runs on any Task: the synthetic task (Synth), whose oracle lets
// it measure what the reward misses, or one without an oracle (preference
// data), where the oracle's metrics and the hacking alarm are left out.
package rl

import (
	"fmt"
	"maps"
	"math"
	"math/rand/v2"
	"slices"

	"github.com/pit-lab/pit/core/model"
	"github.com/pit-lab/pit/core/nn"
	"github.com/pit-lab/pit/core/runner"
	"github.com/pit-lab/pit/core/stats"
	"github.com/pit-lab/pit/core/task/synth"
	"github.com/pit-lab/pit/plugins/sdk"
)

// Loop is one RL stage's machinery: the policy being trained, its frozen
// reference (the KL anchor) and the plugins.
type Loop struct {
	c       *runner.Context
	s       *Settings
	task    Task
	ref     *nn.Model // frozen: the KL anchor
	alg     sdk.Algorithm
	rew     sdk.Reward
	MaxResp int         // the task's longest response
	Policy  *nn.Model   // the model being trained
	Trainer *nn.Trainer // Policy's trainer
	Hack    HackAlarm   // the reward-hacking alarm
	// Metric and Warn log a step's metrics and warnings (a checkpointer's
	// when the stage checkpoints; by default model.Metric and the
	// context's Warn).
	Metric func(step int, name string, v float64) error
	Warn   func(format string, args ...any)
}

// NewLoop starts an RL loop from init: the policy is a copy of it, trained
// with a constant learning rate, and init itself is the frozen reference.
func NewLoop(c *runner.Context, s *Settings, task *synth.Task, init *nn.Model, rew sdk.Reward, alg sdk.Algorithm) (*Loop, error) {
	return NewLoopFor(c, s, Synth(task), init, rew, alg)
}

// NewLoopFor is NewLoop on any task.
func NewLoopFor(c *runner.Context, s *Settings, task Task, init *nn.Model, rew sdk.Reward, alg sdk.Algorithm) (*Loop, error) {
	policy := init.Copy()
	tr, err := nn.NewTrainer(policy, nn.OptimConfig{LR: s.LR, WeightDecay: s.WeightDecay, ClipNorm: s.ClipNorm, Schedule: nn.ScheduleConstant})
	if err != nil {
		return nil, fmt.Errorf("%w", err)
	}
	return &Loop{c: c, s: s, task: task, MaxResp: task.MaxResponse(), Policy: policy, ref: init,
		Trainer: tr, alg: alg, rew: rew, Hack: HackAlarm{Window: s.HackWindow, Tolerance: s.HackTolerance, CorrTol: s.HackCorr},
		Metric: func(step int, name string, v float64) error { return model.Metric(c, step, name, v) },
		Warn:   c.Warn}, nil
}

// Resume continues from a checkpoint's trainer instead of the fresh copy of
// the initial policy.
func (l *Loop) Resume(tr *nn.Trainer) {
	l.Trainer.Close()
	l.Trainer, l.Policy = tr, tr.Model()
}

// Close releases the trainer.
func (l *Loop) Close() { l.Trainer.Close() }

// Query is one prompt of a step, with its reference for an improver.
type Query struct {
	Prompt Prompt
	Ref    []int // nil for the policy
}

// StepResult is what one RL step measured, per sampled sequence.
type StepResult struct {
	Queries   []Query
	Responses [][]int
	Rewards   []float64 // from the reward plugin
	Oracle    []float64 // q(x, y), or q(x, y) − q(x, y_ref) with a reference; nil without an oracle
}

// Knobs asks the algorithm plugin for this step's knobs (at least one
// sample per prompt).
func (l *Loop) Knobs() (*sdk.Knobs, error) {
	k, err := l.alg.Knobs(l.c)
	if err != nil {
		return nil, fmt.Errorf("algorithm knobs: %w", err)
	}
	if k.SamplesPerPrompt < 1 {
		k.SamplesPerPrompt = 1
	}
	return k, nil
}

// batch is one step's rollouts as they pass through the loop.
type batch struct {
	res        *StepResult
	components map[string][]float64 // the reward plugin's named components
	smp        []model.Sampled
	groups     []int // per sequence: its prompt's index
	req        *sdk.AdvantagesRequest
	kl         float64 // mean summed per-token KL to the reference
}

// Step runs one RL step on qs (one entry per prompt; the algorithm's
// samples per prompt repeat each) and logs its metrics.
func (l *Loop) Step(step int, qs []Query, knobs *sdk.Knobs) (*StepResult, error) {
	b, err := l.rollout(step, qs, knobs.SamplesPerPrompt)
	if err != nil {
		return nil, fmt.Errorf("step %d: %w", step, err)
	}
	if err := l.score(b); err != nil {
		return nil, fmt.Errorf("step %d: %w", step, err)
	}
	adv, err := l.advantages(step, qs, b, knobs)
	if err != nil {
		return nil, fmt.Errorf("step %d: %w", step, err)
	}
	pg, err := l.update(step, b, adv)
	if err != nil {
		return nil, fmt.Errorf("step %d: %w", step, err)
	}
	if err := l.record(step, qs, b, adv, pg); err != nil {
		return nil, err
	}
	return b.res, nil
}

// rollout samples k answers to every query at the rollout temperature.
func (l *Loop) rollout(step int, qs []Query, k int) (*batch, error) {
	var seqQ []Query
	var groups []int
	var prefixes [][]int
	for i, q := range qs {
		p := l.Prefix(q)
		for j := 0; j < k; j++ {
			seqQ = append(seqQ, q)
			groups = append(groups, i)
			prefixes = append(prefixes, p)
		}
	}
	smp, err := l.sample(prefixes, l.s.Temperature, l.c.Rand(fmt.Sprintf("rollout-%d", step)))
	if err != nil {
		return nil, err
	}
	res := &StepResult{Queries: seqQ, Responses: make([][]int, len(smp))}
	for i, s := range smp {
		res.Responses[i] = s.Resp
	}
	return &batch{res: res, smp: smp, groups: groups}, nil
}

// score asks the reward plugin for the rewards and measures the oracle.
func (l *Loop) score(b *batch) error {
	res := b.res
	var err error
	if res.Rewards, b.components, err = l.scoreItems(res.Queries, res.Responses); err != nil {
		return err
	}
	oracle := make([]float64, len(res.Responses))
	for i, q := range res.Queries {
		v, ok := l.task.Quality(q.Prompt, res.Responses[i])
		if !ok {
			return nil // no oracle: Oracle stays nil
		}
		if q.Ref != nil {
			r, _ := l.task.Quality(q.Prompt, q.Ref)
			v -= r
		}
		oracle[i] = v
	}
	res.Oracle = oracle
	return nil
}

// advantages lays out the per-token log-probabilities of the policy and the
// reference (and the values, when the algorithm wants a critic) and asks
// the algorithm plugin for advantages and returns.
func (l *Loop) advantages(step int, qs []Query, b *batch, knobs *sdk.Knobs) (*sdk.AdvantagesResponse, error) {
	c, smp := l.c, b.smp
	B := len(smp)
	seqs := make([][]int, B)
	T := 0
	for i, s := range smp {
		seqs[i] = s.Gen.Tokens
		T = max(T, len(s.Gen.Tokens)-s.Gen.PromptLen)
	}
	refSc, err := l.ref.ScoreTokens(c, seqs, l.s.Temperature)
	if err != nil {
		return nil, fmt.Errorf("reference log-probs: %w", err)
	}
	var valSc nn.TokenScores
	if knobs.ValueCoef > 0 {
		if valSc, err = l.Policy.ScoreTokens(c, seqs, l.s.Temperature); err != nil {
			return nil, fmt.Errorf("values: %w", err)
		}
	}
	req := &sdk.AdvantagesRequest{Step: step, Rewards: b.res.Rewards, Groups: b.groups}
	pad := func() [][]float64 { return make([][]float64, B) }
	req.LogProbs, req.RefLogProbs, req.Mask = pad(), pad(), pad()
	if knobs.ValueCoef > 0 {
		req.Values = pad()
	}
	var klSum float64
	for i, s := range smp {
		p0 := s.Gen.PromptLen
		n := len(s.Gen.Tokens) - p0
		lp, rl, mk := make([]float64, T), make([]float64, T), make([]float64, T)
		for t := 0; t < n; t++ {
			lp[t] = s.Gen.LogProbs[t]
			rl[t] = refSc.LogProbs[i][p0+t]
			mk[t] = 1
			klSum += lp[t] - rl[t]
		}
		req.LogProbs[i], req.RefLogProbs[i], req.Mask[i] = lp, rl, mk
		if req.Values != nil {
			v := make([]float64, T)
			for t := 0; t < n; t++ {
				v[t] = valSc.Values[i][p0+t]
			}
			req.Values[i] = v
		}
	}
	b.req, b.kl = req, klSum/float64(B)
	if knobs.GreedyBaseline {
		if req.GreedyRewards, err = l.greedyRewards(qs, knobs.SamplesPerPrompt); err != nil {
			return nil, err
		}
	}
	adv, err := l.alg.Advantages(c, req)
	if err != nil {
		return nil, fmt.Errorf("advantages: %w", err)
	}
	if len(adv.Advantages) != B {
		return nil, fmt.Errorf("the algorithm returned advantages for %d sequences, want %d", len(adv.Advantages), B)
	}
	return adv, nil
}

// update takes the algorithm's epochs of clipped policy-gradient steps on
// the batch.
func (l *Loop) update(step int, b *batch, adv *sdk.AdvantagesResponse) (nn.PGStats, error) {
	smp, req := b.smp, b.req
	B := len(smp)
	pad := func() [][]float64 { return make([][]float64, B) }
	ro := nn.Rollouts{Seqs: make([][]int, B), Mask: make([][]bool, B), OldLogProbs: pad(), RefLogProbs: pad(), Advantages: pad()}
	kn := adv.Knobs
	if kn.ValueCoef > 0 {
		ro.Returns = pad()
		ro.OldValues = pad()
	}
	for i, s := range smp {
		ro.Seqs[i] = s.Gen.Tokens
		p0, L := s.Gen.PromptLen, len(s.Gen.Tokens)
		n := L - p0
		mask := make([]bool, L)
		old, ref, a := make([]float64, L), make([]float64, L), make([]float64, L)
		for t := 0; t < n; t++ {
			mask[p0+t] = true
			old[p0+t] = req.LogProbs[i][t]
			ref[p0+t] = req.RefLogProbs[i][t]
			if t < len(adv.Advantages[i]) {
				a[p0+t] = adv.Advantages[i][t]
			}
			if !finite(a[p0+t]) {
				return nn.PGStats{}, fmt.Errorf("advantage of sequence %d token %d is %v", i, t, a[p0+t])
			}
		}
		ro.Mask[i], ro.OldLogProbs[i], ro.RefLogProbs[i], ro.Advantages[i] = mask, old, ref, a
		if kn.ValueCoef > 0 {
			r, v := make([]float64, L), make([]float64, L)
			for t := 0; t < n; t++ {
				if i < len(adv.Returns) && t < len(adv.Returns[i]) {
					r[p0+t] = adv.Returns[i][t]
				}
				if req.Values != nil {
					v[p0+t] = req.Values[i][t]
				}
			}
			ro.Returns[i], ro.OldValues[i] = r, v
		}
	}
	pk := nn.PGKnobs{ClipRange: kn.ClipRange, ValueCoef: kn.ValueCoef, ValueClip: kn.ValueClip, KLCoef: kn.KLCoef,
		KLInLoss: kn.KLInLoss, KLEstimator: kn.KLEstimator, EntropyCoef: kn.EntropyCoef, Temperature: l.s.Temperature}
	if pk.KLEstimator == "" {
		pk.KLEstimator = nn.KLK3
	}
	if req.Values == nil && pk.ValueCoef > 0 {
		// The algorithm asked for a critic only after seeing the batch.
		pk.ValueCoef, pk.ValueClip = 0, 0
	}
	var pg nn.PGStats
	var err error
	for e := 0; e < max(kn.Epochs, 1); e++ {
		if pg, err = l.Trainer.PolicyGradientStep(ro, pk); err != nil {
			return pg, err
		}
	}
	return pg, nil
}

// record feeds the KL back to the algorithm, logs the step's metrics and
// watches for reward hacking.
func (l *Loop) record(step int, qs []Query, b *batch, adv *sdk.AdvantagesResponse, pg nn.PGStats) error {
	c, res := l.c, b.res
	if err := l.alg.Observe(c, &sdk.ObserveRequest{Step: step, Stats: map[string]float64{"kl": b.kl, "reward": stats.Mean(res.Rewards)}}); err != nil {
		return fmt.Errorf("step %d: algorithm observe: %w", step, err)
	}
	B := float64(len(b.smp))
	var lens, fin float64
	for _, s := range b.smp {
		lens += float64(len(s.Resp))
		if s.Gen.Finished {
			fin++
		}
	}
	r := stats.Mean(res.Rewards)
	var o, rc float64
	oracleName := "oracle"
	if qs[0].Ref != nil {
		oracleName = "oracle_gain"
	}
	type metric struct {
		name string
		v    float64
	}
	var ms []metric
	if res.Oracle != nil {
		o, rc = stats.Mean(res.Oracle), stats.Correlation(res.Rewards, res.Oracle)
		ms = append(ms, metric{"reward", r}, metric{oracleName, o}, metric{"reward_oracle_corr", rc})
	} else {
		ms = append(ms, metric{"reward", r})
	}
	for _, m := range append(ms, []metric{
		{"kl", b.kl}, {"kl_coef", adv.Knobs.KLCoef}, {"loss", pg.Loss}, {"policy_loss", pg.PolicyLoss}, {"value_loss", pg.ValueLoss},
		{"entropy", pg.Entropy}, {"clip_frac", pg.ClipFrac}, {"response_length", lens / B}, {"finished", fin / B},
	}...) {
		if err := l.Metric(step, m.name, m.v); err != nil {
			return err
		}
	}
	for _, k := range slices.Sorted(maps.Keys(adv.Stats)) {
		if v := adv.Stats[k]; finite(v) {
			if err := l.Metric(step, "alg/"+k, v); err != nil {
				return err
			}
		}
	}
	// The reward plugin's components: reward/<name> (mean) and
	// reward/<name>_std, beside the per-source reward/<source> of pit_rl.
	for _, name := range slices.Sorted(maps.Keys(b.components)) {
		v := b.components[name]
		key := "reward/" + name
		if slices.Contains(sdk.Sources, sdk.Source(name)) {
			key = "reward/component_" + name
		}
		if err := l.Metric(step, key, stats.Mean(v)); err != nil {
			return err
		}
		if err := l.Metric(step, key+"_std", math.Sqrt(stats.Variance(v))); err != nil {
			return err
		}
	}
	if res.Oracle == nil {
		return nil // the alarm watches the oracle
	}
	if msg, ok := l.Hack.Observe(step, r, o, rc); ok {
		l.Warn("reward hacking? %s (%s)", msg, oracleName)
		if err := l.Metric(step, "hack_alarm", 1); err != nil {
			return err
		}
	}
	return nil
}

// Score asks the reward plugin for one reward per response.
func (l *Loop) Score(qs []Query, ys [][]int) ([]float64, error) {
	r, _, err := l.scoreItems(qs, ys)
	return r, err
}

// scoreItems is Score with the plugin's named components (one value per
// response each).
func (l *Loop) scoreItems(qs []Query, ys [][]int) ([]float64, map[string][]float64, error) {
	items := make([]sdk.Input, len(ys))
	for i, q := range qs {
		items[i] = sdk.Input{Prompt: model.Int32s(q.Prompt.Tokens()), Response: model.Int32s(ys[i])}
		if q.Ref != nil {
			items[i].Reference = model.Int32s(q.Ref)
		}
	}
	resp, err := l.rew.Score(l.c, &sdk.ScoreRequest{Items: items})
	if err != nil {
		return nil, nil, fmt.Errorf("reward: %w", err)
	}
	if len(resp.Rewards) != len(items) {
		return nil, nil, fmt.Errorf("reward: %d rewards for %d items", len(resp.Rewards), len(items))
	}
	for i, v := range resp.Rewards {
		if !finite(v) {
			return nil, nil, fmt.Errorf("reward of item %d (%s) is %v", i, l.task.Decode(ys[i]), v)
		}
	}
	for name, v := range resp.Components {
		if len(v) != len(items) {
			return nil, nil, fmt.Errorf("reward: component %q has %d values for %d items (want one per item)", name, len(v), len(items))
		}
		for i, x := range v {
			if !finite(x) {
				return nil, nil, fmt.Errorf("reward: component %q of item %d is %v", name, i, x)
			}
		}
	}
	return resp.Rewards, resp.Components, nil
}

// greedyRewards scores the greedy decode of each prompt, repeated for each
// of its k samples (ReMax's baseline).
func (l *Loop) greedyRewards(qs []Query, k int) ([]float64, error) {
	prefixes := make([][]int, len(qs))
	for i, q := range qs {
		prefixes[i] = l.Prefix(q)
	}
	g, err := l.sample(prefixes, 0, nil)
	if err != nil {
		return nil, err
	}
	ys := make([][]int, len(g))
	for i := range g {
		ys[i] = g[i].Resp
	}
	r, err := l.Score(qs, ys)
	if err != nil {
		return nil, fmt.Errorf("greedy baseline: %w", err)
	}
	out := make([]float64, 0, len(qs)*k)
	for _, v := range r {
		for j := 0; j < k; j++ {
			out = append(out, v)
		}
	}
	return out, nil
}

// sample continues prefixes with the policy (model.Sample with the task's
// end of response).
func (l *Loop) sample(prefixes [][]int, temp float64, rng *rand.Rand) ([]model.Sampled, error) {
	return model.Sample(l.c, l.Policy, prefixes, temp, l.MaxResp, l.task.EOS(), l.task.Cut, rng)
}

// Prefix lays a query out as the model's prompt.
func (l *Loop) Prefix(q Query) []int { return l.task.Prefix(q.Prompt.Tokens(), q.Ref) }

func finite(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }
