package pipeline

import (
	"errors"
	"fmt"
	"math"

	"github.com/pit-lab/pit/core/experiment"
	"github.com/pit-lab/pit/core/nn"
	"github.com/pit-lab/pit/core/runner"
	"github.com/pit-lab/pit/core/task/synth"
	"github.com/pit-lab/pit/plugins/sdk"
)

// RLSettings configure the RL stages (rlhf and pit_rl).
type RLSettings struct {
	Steps       int     `toml:"steps"`            // RL steps (one batch of rollouts each)
	Prompts     int     `toml:"prompts_per_step"` // prompts per step; the algorithm's samples_per_prompt multiplies it
	LR          float64 `toml:"lr"`               // learning rate
	WeightDecay float64 `toml:"weight_decay"`     // AdamW decoupled weight decay
	ClipNorm    float64 `toml:"clip_norm"`        // global gradient-norm clip; 0 for none
	Temperature float64 `toml:"temperature"`      // sampling temperature of the rollouts (also used to score them)
	// HackWindow and HackTolerance tune the reward-hacking alarm: when the
	// mean reward of the last HackWindow steps is above that of the window
	// before while the mean oracle measure fell by more than HackTolerance,
	// the stage warns (in its log and the run's manifest).
	HackWindow    int     `toml:"hack_window"`
	HackTolerance float64 `toml:"hack_tolerance"`
	// HackCorr also raises the alarm when the batch correlation between the
	// reward and the oracle measure, averaged over the last HackWindow
	// steps, falls below it after the first window was at or above it: the
	// reward stopped tracking what it should (0: off).
	HackCorr float64 `toml:"hack_corr"`
}

func defaultRL() RLSettings {
	return RLSettings{Steps: 100, Prompts: 16, LR: 3e-4, ClipNorm: 1, Temperature: 1, HackWindow: 10, HackTolerance: 0.01, HackCorr: 0.1}
}

// Validate reports bad settings.
func (s *RLSettings) Validate() error { return s.validate(1) }

// validate is Validate with the least number of steps allowed.
func (s *RLSettings) validate(minSteps int) error {
	var errs []error
	bad := func(key, format string, args ...any) {
		errs = append(errs, &experiment.FieldError{Key: key, Msg: fmt.Sprintf(format, args...)})
	}
	if s.Steps < minSteps {
		bad("steps", "must be at least %d (got %d)", minSteps, s.Steps)
	}
	if s.Prompts < 1 {
		bad("prompts_per_step", "must be at least 1 (got %d)", s.Prompts)
	}
	if !(s.LR > 0) {
		bad("lr", "must be > 0 (got %v)", s.LR)
	}
	if !(s.Temperature > 0) {
		bad("temperature", "must be > 0 (got %v)", s.Temperature)
	}
	if s.HackWindow < 1 {
		bad("hack_window", "must be at least 1 (got %d)", s.HackWindow)
	}
	if s.HackTolerance < 0 {
		bad("hack_tolerance", "must be ≥ 0 (got %v)", s.HackTolerance)
	}
	if s.HackCorr < 0 || s.HackCorr > 1 {
		bad("hack_corr", "must be in [0, 1] (got %v)", s.HackCorr)
	}
	return errors.Join(errs...)
}

// rlLoop is the RL machinery both RL stages share: sample rollouts from the
// policy, score them with the reward plugin, turn them into advantages with
// the algorithm plugin and take the generic clipped policy-gradient steps.
type rlLoop struct {
	c       *runner.Context
	s       *RLSettings
	task    *synth.Task
	maxResp int
	policy  *nn.Model
	ref     *nn.Model // frozen: the KL anchor
	tr      *nn.Trainer
	alg     sdk.Algorithm
	rew     sdk.Reward
	hack    hackAlarm
	// metric and warn log a step's metrics and warnings (a checkpointer's
	// when the stage checkpoints).
	metric func(step int, name string, v float64) error
	warn   func(format string, args ...any)
}

func newRLLoop(c *runner.Context, s *RLSettings, task *synth.Task, init *nn.Model, rew sdk.Reward, alg sdk.Algorithm) (*rlLoop, error) {
	policy := init.Copy()
	tr, err := nn.NewTrainer(policy, nn.OptimConfig{LR: s.LR, WeightDecay: s.WeightDecay, ClipNorm: s.ClipNorm, Schedule: nn.ScheduleConstant})
	if err != nil {
		return nil, fmt.Errorf("%w", err)
	}
	return &rlLoop{c: c, s: s, task: task, maxResp: task.Settings().MaxResponse, policy: policy, ref: init,
		tr: tr, alg: alg, rew: rew, hack: hackAlarm{window: s.HackWindow, tol: s.HackTolerance, corrTol: s.HackCorr},
		metric: func(step int, name string, v float64) error { return metric(c, step, name, v) },
		warn:   c.Warn}, nil
}

// startCheckpoints makes the RL stage's checkpointer, routes the loop's
// metrics and warnings through it and, when there is a checkpoint,
// continues from its trainer (instead of the fresh copy of the initial
// policy) and decodes the stage's own state into extra. It returns the
// steps done: 0 without a checkpoint.
func (l *rlLoop) startCheckpoints(extra any) (*checkpointer, int, error) {
	ck, tr, done, err := startCheckpoints(l.c, extra)
	if err != nil {
		return nil, 0, err
	}
	l.metric, l.warn = ck.metric, ck.warn
	if tr != nil {
		l.tr.Close()
		l.tr, l.policy = tr, tr.Model()
	}
	return ck, done, nil
}

func (l *rlLoop) close() { l.tr.Close() }

// query is one prompt of a step, with its reference for an improver.
type query struct {
	prompt synth.Prompt
	ref    []int // nil for the policy
}

func (q query) prefix() []int {
	if q.ref != nil {
		return synth.ImproverPrefix(q.prompt.Tokens(), q.ref)
	}
	return synth.PolicyPrefix(q.prompt.Tokens())
}

// stepResult is what one RL step measured.
type stepResult struct {
	queries   []query   // per sequence
	responses [][]int   // per sequence
	rewards   []float64 // per sequence, from the reward plugin
	oracle    []float64 // per sequence: q(x, y), or q(x, y) − q(x, y_ref) with a reference
}

// samplesPerPrompt asks the algorithm how many samples per prompt it wants.
func (l *rlLoop) knobs() (*sdk.Knobs, error) {
	k, err := l.alg.Knobs(l.c)
	if err != nil {
		return nil, fmt.Errorf("algorithm knobs: %w", err)
	}
	if k.SamplesPerPrompt < 1 {
		k.SamplesPerPrompt = 1
	}
	return k, nil
}

// step runs one RL step on qs (one entry per prompt; the algorithm's
// samples per prompt repeat each) and logs its metrics.
func (l *rlLoop) step(step int, qs []query, knobs *sdk.Knobs) (*stepResult, error) {
	c := l.c
	k := knobs.SamplesPerPrompt
	var seqQ []query
	var groups []int
	var prefixes [][]int
	for i, q := range qs {
		p := q.prefix()
		for j := 0; j < k; j++ {
			seqQ = append(seqQ, q)
			groups = append(groups, i)
			prefixes = append(prefixes, p)
		}
	}
	smp, err := sample(c, l.policy, prefixes, l.s.Temperature, l.maxResp, c.Rand(fmt.Sprintf("rollout-%d", step)))
	if err != nil {
		return nil, fmt.Errorf("step %d: %w", step, err)
	}
	res := &stepResult{queries: seqQ, responses: make([][]int, len(smp))}
	for i, s := range smp {
		res.responses[i] = s.resp
	}
	if res.rewards, err = l.score(seqQ, res.responses); err != nil {
		return nil, fmt.Errorf("step %d: %w", step, err)
	}
	res.oracle = make([]float64, len(smp))
	for i, q := range seqQ {
		res.oracle[i] = l.task.Quality(q.prompt, res.responses[i])
		if q.ref != nil {
			res.oracle[i] -= l.task.Quality(q.prompt, q.ref)
		}
	}

	// Per-token arrays, aligned with each sequence's response tokens.
	B := len(smp)
	seqs := make([][]int, B)
	T := 0
	for i, s := range smp {
		seqs[i] = s.gen.Tokens
		T = max(T, len(s.gen.Tokens)-s.gen.PromptLen)
	}
	refSc, err := l.ref.ScoreTokens(c, seqs, l.s.Temperature)
	if err != nil {
		return nil, fmt.Errorf("step %d: reference log-probs: %w", step, err)
	}
	var valSc nn.TokenScores
	if knobs.ValueCoef > 0 {
		if valSc, err = l.policy.ScoreTokens(c, seqs, l.s.Temperature); err != nil {
			return nil, fmt.Errorf("step %d: values: %w", step, err)
		}
	}
	req := &sdk.AdvantagesRequest{Step: step, Rewards: res.rewards, Groups: groups}
	pad := func() [][]float64 { return make([][]float64, B) }
	req.LogProbs, req.RefLogProbs, req.Mask = pad(), pad(), pad()
	if knobs.ValueCoef > 0 {
		req.Values = pad()
	}
	var klSum float64
	for b, s := range smp {
		p0 := s.gen.PromptLen
		n := len(s.gen.Tokens) - p0
		lp, rl, mk := make([]float64, T), make([]float64, T), make([]float64, T)
		for t := 0; t < n; t++ {
			lp[t] = s.gen.LogProbs[t]
			rl[t] = refSc.LogProbs[b][p0+t]
			mk[t] = 1
			klSum += lp[t] - rl[t]
		}
		req.LogProbs[b], req.RefLogProbs[b], req.Mask[b] = lp, rl, mk
		if req.Values != nil {
			v := make([]float64, T)
			for t := 0; t < n; t++ {
				v[t] = valSc.Values[b][p0+t]
			}
			req.Values[b] = v
		}
	}
	if knobs.GreedyBaseline {
		if req.GreedyRewards, err = l.greedyRewards(qs, k); err != nil {
			return nil, fmt.Errorf("step %d: %w", step, err)
		}
	}
	adv, err := l.alg.Advantages(c, req)
	if err != nil {
		return nil, fmt.Errorf("step %d: advantages: %w", step, err)
	}
	if len(adv.Advantages) != B {
		return nil, fmt.Errorf("step %d: the algorithm returned advantages for %d sequences, want %d", step, len(adv.Advantages), B)
	}
	ro := nn.Rollouts{Seqs: seqs, Mask: make([][]bool, B), OldLogProbs: pad(), RefLogProbs: pad(), Advantages: pad()}
	kn := adv.Knobs
	if kn.ValueCoef > 0 {
		ro.Returns = pad()
		ro.OldValues = pad()
	}
	for b, s := range smp {
		p0, L := s.gen.PromptLen, len(s.gen.Tokens)
		n := L - p0
		mask := make([]bool, L)
		old, ref, a := make([]float64, L), make([]float64, L), make([]float64, L)
		for t := 0; t < n; t++ {
			mask[p0+t] = true
			old[p0+t] = req.LogProbs[b][t]
			ref[p0+t] = req.RefLogProbs[b][t]
			if t < len(adv.Advantages[b]) {
				a[p0+t] = adv.Advantages[b][t]
			}
			if !finite(a[p0+t]) {
				return nil, fmt.Errorf("step %d: advantage of sequence %d token %d is %v", step, b, t, a[p0+t])
			}
		}
		ro.Mask[b], ro.OldLogProbs[b], ro.RefLogProbs[b], ro.Advantages[b] = mask, old, ref, a
		if kn.ValueCoef > 0 {
			r, v := make([]float64, L), make([]float64, L)
			for t := 0; t < n; t++ {
				if b < len(adv.Returns) && t < len(adv.Returns[b]) {
					r[p0+t] = adv.Returns[b][t]
				}
				if req.Values != nil {
					v[p0+t] = req.Values[b][t]
				}
			}
			ro.Returns[b], ro.OldValues[b] = r, v
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
	epochs := max(kn.Epochs, 1)
	var pg nn.PGStats
	for e := 0; e < epochs; e++ {
		if pg, err = l.tr.PolicyGradientStep(ro, pk); err != nil {
			return nil, fmt.Errorf("step %d: %w", step, err)
		}
	}
	kl := klSum / float64(B)
	if err := l.alg.Observe(c, &sdk.ObserveRequest{Step: step, Stats: map[string]float64{"kl": kl, "reward": mean(res.rewards)}}); err != nil {
		return nil, fmt.Errorf("step %d: algorithm observe: %w", step, err)
	}

	var lens, fin float64
	for _, s := range smp {
		lens += float64(len(s.resp))
		if s.gen.Finished {
			fin++
		}
	}
	r, o, rc := mean(res.rewards), mean(res.oracle), corr(res.rewards, res.oracle)
	oracleName := "oracle"
	if qs[0].ref != nil {
		oracleName = "oracle_gain"
	}
	for _, m := range []struct {
		name string
		v    float64
	}{
		{"reward", r}, {oracleName, o}, {"reward_oracle_corr", rc},
		{"kl", kl}, {"kl_coef", kn.KLCoef}, {"loss", pg.Loss}, {"policy_loss", pg.PolicyLoss}, {"value_loss", pg.ValueLoss},
		{"entropy", pg.Entropy}, {"clip_frac", pg.ClipFrac}, {"response_length", lens / float64(B)}, {"finished", fin / float64(B)},
	} {
		if err := l.metric(step, m.name, m.v); err != nil {
			return nil, err
		}
	}
	for _, k := range sortedKeys(adv.Stats) {
		if v := adv.Stats[k]; finite(v) {
			if err := l.metric(step, "alg/"+k, v); err != nil {
				return nil, err
			}
		}
	}
	if msg, ok := l.hack.observe(step, r, o, rc); ok {
		l.warn("reward hacking? %s (%s)", msg, oracleName)
		if err := l.metric(step, "hack_alarm", 1); err != nil {
			return nil, err
		}
	}
	return res, nil
}

// score asks the reward plugin for one reward per response.
func (l *rlLoop) score(qs []query, ys [][]int) ([]float64, error) {
	items := make([]sdk.Input, len(ys))
	for i, q := range qs {
		items[i] = sdk.Input{Prompt: int32s(q.prompt.Tokens()), Response: int32s(ys[i])}
		if q.ref != nil {
			items[i].Reference = int32s(q.ref)
		}
	}
	resp, err := l.rew.Score(l.c, &sdk.ScoreRequest{Items: items})
	if err != nil {
		return nil, fmt.Errorf("reward: %w", err)
	}
	if len(resp.Rewards) != len(items) {
		return nil, fmt.Errorf("reward: %d rewards for %d items", len(resp.Rewards), len(items))
	}
	for i, v := range resp.Rewards {
		if !finite(v) {
			return nil, fmt.Errorf("reward of item %d (%s) is %v", i, synth.Decode(ys[i]), v)
		}
	}
	return resp.Rewards, nil
}

// greedyRewards scores the greedy decode of each prompt, repeated for each
// of its k samples (ReMax's baseline).
func (l *rlLoop) greedyRewards(qs []query, k int) ([]float64, error) {
	prefixes := make([][]int, len(qs))
	for i, q := range qs {
		prefixes[i] = q.prefix()
	}
	g, err := sample(l.c, l.policy, prefixes, 0, l.maxResp, nil)
	if err != nil {
		return nil, err
	}
	ys := make([][]int, len(g))
	for i := range g {
		ys[i] = g[i].resp
	}
	r, err := l.score(qs, ys)
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

// hackAlarm watches an RL stage for reward hacking: the plugin's reward
// rising while the oracle measure falls, the mean of the last window of
// steps against the window before. Both changes must exceed twice their
// standard error (from the steps' spread), and the oracle's fall must also
// exceed the tolerance, so that batch noise alone rarely raises it. It also
// warns once when the reward stops tracking the oracle: the batch
// correlation of the two, averaged over the last window, falls below
// corrTol after the first window was at or above it.
type hackAlarm struct {
	window       int
	tol          float64
	corrTol      float64
	rewards, orc []float64
	corrs        []float64 // per step: batch correlation of reward and oracle measure
	lastAlarm    int
	corrAlarmed  bool
}

func (h *hackAlarm) observe(step int, reward, oracle, corr float64) (string, bool) {
	h.rewards = append(h.rewards, reward)
	h.orc = append(h.orc, oracle)
	h.corrs = append(h.corrs, corr)
	w := h.window
	n := len(h.rewards)
	if w < 2 || n < 2*w {
		return "", false
	}
	if h.corrTol > 0 && !h.corrAlarmed {
		c0, c1 := mean(h.corrs[:w]), mean(h.corrs[n-w:])
		if c0 >= h.corrTol && c1 < h.corrTol {
			h.corrAlarmed = true
			return fmt.Sprintf("at step %d the reward's batch correlation with the oracle measure is %.3f over the last %d steps, from %.3f over the first %d: it no longer tracks it", step, c1, w, c0, w), true
		}
	}
	if h.lastAlarm > 0 && step-h.lastAlarm < w {
		return "", false
	}
	r0, r1 := h.rewards[n-2*w:n-w], h.rewards[n-w:]
	o0, o1 := h.orc[n-2*w:n-w], h.orc[n-w:]
	dr, dq := mean(r1)-mean(r0), mean(o1)-mean(o0)
	if dr > 2*stderrDiff(r0, r1) && -dq > max(h.tol, 2*stderrDiff(o0, o1)) {
		h.lastAlarm = step
		return fmt.Sprintf("at step %d the mean reward of the last %d steps rose %.4f → %.4f while the oracle measure fell %.4f → %.4f", step, w, mean(r0), mean(r1), mean(o0), mean(o1)), true
	}
	return "", false
}

// reset forgets the history, e.g. when a curriculum changes the
// distribution of references and both measures jump.
func (h *hackAlarm) reset() {
	h.rewards, h.orc, h.corrs, h.corrAlarmed = h.rewards[:0], h.orc[:0], h.corrs[:0], false
}

// hackState is a hackAlarm's history, for checkpoints.
type hackState struct {
	Rewards     []float64 `json:"rewards"`
	Oracle      []float64 `json:"oracle"`
	Corrs       []float64 `json:"corrs,omitempty"`
	LastAlarm   int       `json:"last_alarm"`
	CorrAlarmed bool      `json:"corr_alarmed,omitempty"`
}

func (h *hackAlarm) save() hackState {
	return hackState{Rewards: append([]float64(nil), h.rewards...), Oracle: append([]float64(nil), h.orc...),
		Corrs: append([]float64(nil), h.corrs...), LastAlarm: h.lastAlarm, CorrAlarmed: h.corrAlarmed}
}

func (h *hackAlarm) restore(s hackState) {
	h.rewards, h.orc, h.corrs, h.lastAlarm, h.corrAlarmed = s.Rewards, s.Oracle, s.Corrs, s.LastAlarm, s.CorrAlarmed
}

// stderrDiff is the standard error of mean(b) − mean(a).
func stderrDiff(a, b []float64) float64 {
	return math.Sqrt(variance(a)/float64(len(a)) + variance(b)/float64(len(b)))
}

func variance(v []float64) float64 {
	if len(v) < 2 {
		return 0
	}
	m := mean(v)
	var s float64
	for _, x := range v {
		s += (x - m) * (x - m)
	}
	return s / float64(len(v)-1)
}

func mean(v []float64) float64 {
	if len(v) == 0 {
		return 0
	}
	var s float64
	for _, x := range v {
		s += x
	}
	return s / float64(len(v))
}

// corr is Pearson's correlation; 0 when either side is constant.
func corr(a, b []float64) float64 {
	if len(a) != len(b) || len(a) < 2 {
		return 0
	}
	ma, mb := mean(a), mean(b)
	var sab, saa, sbb float64
	for i := range a {
		da, db := a[i]-ma, b[i]-mb
		sab += da * db
		saa += da * da
		sbb += db * db
	}
	if saa == 0 || sbb == 0 {
		return 0
	}
	return sab / math.Sqrt(saa*sbb)
}
