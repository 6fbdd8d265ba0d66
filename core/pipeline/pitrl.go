package pipeline

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"slices"

	"github.com/pit-lab/pit/core/checkpoint"

	"github.com/pit-lab/pit/core/experiment"
	"github.com/pit-lab/pit/core/model"
	"github.com/pit-lab/pit/core/nn"
	"github.com/pit-lab/pit/core/rl"
	"github.com/pit-lab/pit/core/runner"
	"github.com/pit-lab/pit/core/stats"
	"github.com/pit-lab/pit/core/task/synth"
	"github.com/pit-lab/pit/plugins/host"
	"github.com/pit-lab/pit/plugins/sdk"
)

// PITRLSettings configure the pit_rl stage: the RL settings plus where
// policy references come from and how the reward model is refreshed when
// the curriculum asks for it.
type PITRLSettings struct {
	RLSettings `toml:",squash"`
	// ReferenceTemperature is the temperature at which M_P^RL samples the
	// policy references y_ref (the eval's y_0 are sampled at the eval
	// temperature, 0.4 by default).
	ReferenceTemperature float64 `toml:"reference_temperature"`
	// A refresh builds RefreshPairs preference pairs (y_ref ~ M_P^RL(x),
	// y ~ M_PIT(x, y_ref), labelled by the task's Bradley–Terry coin: a
	// simulated online preference collection) and trains the reward model
	// on the reward plugin's comparisons of them for RefreshSteps steps of
	// RefreshBatch pairs at RefreshLR.
	RefreshPairs int     `toml:"refresh_pairs"`
	RefreshSteps int     `toml:"refresh_steps"`
	RefreshBatch int     `toml:"refresh_batch"`
	RefreshLR    float64 `toml:"refresh_lr"`
	// RefreshDataPairs preference pairs of the rm split join each refresh's
	// fresh pairs, so that the refreshed model keeps what it learned from
	// the data (0: fresh pairs only).
	RefreshDataPairs int `toml:"refresh_data_pairs"`
	// DiagnosticPrompts held-out prompts (rm_eval split) measure, before
	// the first step and after the last, how the reward orders the pairs RL
	// sees: y_ref ~ M_P^RL, y ~ the improver, labelled by the oracle (0:
	// off). Metrics policy_pairs/*.
	DiagnosticPrompts int `toml:"diagnostic_prompts"`
	// EarlyStopCorr, when > 0, stops RL once the batch correlation between
	// the reward and the oracle gain, averaged over the last hack_window
	// steps, falls below it: the reward no longer tracks improvement. It
	// reads the oracle, which only a synthetic task has.
	EarlyStopCorr float64 `toml:"early_stop_corr"`
}

func defaultPITRL() *PITRLSettings {
	return &PITRLSettings{RLSettings: defaultRL(), ReferenceTemperature: 0.4,
		RefreshPairs: 256, RefreshSteps: 40, RefreshBatch: 32, RefreshLR: 5e-4, DiagnosticPrompts: 256}
}

// Validate reports bad settings.
func (s *PITRLSettings) Validate() error {
	// steps = 0: the improver is the PIT SFT model (an ablation of RL).
	errs := []error{s.RLSettings.Check(0)}
	bad := func(key, format string, args ...any) {
		errs = append(errs, &experiment.FieldError{Key: key, Msg: fmt.Sprintf(format, args...)})
	}
	if s.ReferenceTemperature < 0 {
		bad("reference_temperature", "must be ≥ 0 (got %v)", s.ReferenceTemperature)
	}
	if s.RefreshPairs < 1 || s.RefreshSteps < 0 || s.RefreshBatch < 1 {
		bad("refresh_pairs", "refresh_pairs and refresh_batch must be ≥ 1, refresh_steps ≥ 0")
	}
	if !(s.RefreshLR > 0) {
		bad("refresh_lr", "must be > 0 (got %v)", s.RefreshLR)
	}
	if s.RefreshDataPairs < 0 || s.DiagnosticPrompts < 0 {
		bad("refresh_data_pairs", "refresh_data_pairs and diagnostic_prompts must be ≥ 0")
	}
	if s.EarlyStopCorr < 0 || s.EarlyStopCorr > 1 {
		bad("early_stop_corr", "must be in [0, 1] (got %v)", s.EarlyStopCorr)
	}
	return errors.Join(errs...)
}

func init() {
	runner.Register(runner.Kind{
		Name:  "pit_rl",
		Doc:   "PIT RL: the improver learns to improve references chosen step by step by the curriculum, KL to the PIT SFT model",
		Needs: []string{"data", "pit_sft", "pit_rm", "rlhf"},
		Plugins: []runner.Slot{
			{Kind: string(sdk.KindReward), Default: "pit-gap"},
			{Kind: string(sdk.KindAlgorithm), Default: DefaultAlgorithm},
			{Kind: string(sdk.KindCurriculum), Default: "two-round"},
		},
		Settings: func() any { return defaultPITRL() },
		Publish:  []string{improverFile},
		Version:  "3", // 3: steps = 0, policy-pair diagnostics, early stop, refresh with data pairs
		Run:      runPITRL,
	})
}

// improverFile records which reward trained the improver (eval names the
// method after it).
const improverFile = "improver.json"

type improverInfo struct {
	Reward     string `json:"reward"`
	Algorithm  string `json:"algorithm"`
	Curriculum string `json:"curriculum"`
}

func runPITRL(c *runner.Context) error {
	s := c.Settings.(*PITRLSettings)
	d, task, err := loadDataset(c)
	if err != nil {
		return err
	}
	if len(d.RL) == 0 {
		return fmt.Errorf("the rl split is empty")
	}
	init, err := loadModel(c, "pit_sft")
	if err != nil {
		return err
	}
	policy, err := loadModel(c, "rlhf")
	if err != nil {
		return err
	}
	rm, err := loadModel(c, "pit_rm")
	if err != nil {
		return err
	}
	info, err := readRewardInfo(c, "pit_rm")
	if err != nil {
		return err
	}
	models := NewModelService(task, rm)
	rew, desc, err := model.RewardPlugin(c, models)
	if err != nil {
		return err
	}
	if msg, hint := pitRLRewardProblem(desc, info.Plugin, info.ReferenceConditioned); msg != "" {
		return fmt.Errorf("%s; %s", msg, hint) // pit validate finds it first (preflight.go)
	}
	if desc.NeedsLearnedModel && desc.Name != info.Plugin {
		c.Log.Info("reward plugin differs from the one that trained pit_rm", "plugin", desc.Name, "pit_rm", info.Plugin)
	}
	alg, algDesc, err := model.AlgorithmPlugin(c)
	if err != nil {
		return err
	}
	cur, curDesc, err := model.CurriculumPlugin(c)
	if err != nil {
		return err
	}
	loop, err := rl.NewLoop(c, &s.RLSettings, task, init, rew, alg)
	if err != nil {
		return err
	}
	defer loop.Close()

	pickSrc, refSrc := c.RandSource("prompts"), c.RandSource("references")
	st := &pitState{c: c, s: s, d: d, task: task, loop: loop, policy: policy, models: models, rm: rm, rew: rew,
		needsModel: desc.NeedsLearnedModel, pick: newPicker(len(d.RL), rand.New(pickSrc)), rng: rand.New(refSrc)}
	defer st.closeRefresh()
	obs := map[string]float64{}
	lastRound := 0

	var cp pitCheckpoint
	ck, done, err := checkpoint.StartLoop(loop, c, &cp)
	if err != nil {
		return err
	}
	if done > 0 {
		if err := st.restore(&cp, ck, pickSrc, refSrc, alg, cur); err != nil {
			return fmt.Errorf("checkpoint: %w", err)
		}
		obs, lastRound = cp.Stats, cp.LastRound
	}
	save := func(dir string, step int) (any, []string, error) {
		return st.save(dir, step, pickSrc, refSrc, alg, cur, obs, lastRound)
	}
	if done == 0 {
		if err := st.policyPairs(0); err != nil {
			return err
		}
	}
	last := done
	for step := done + 1; step <= s.Steps; step++ {
		if err := c.Err(); err != nil {
			return err
		}
		knobs, err := loop.Knobs()
		if err != nil {
			return err
		}
		plan, err := cur.Next(c, &sdk.NextRequest{Step: step - 1, TotalSteps: s.Steps, BatchSize: s.Prompts, Stats: obs})
		if err != nil {
			return fmt.Errorf("step %d: curriculum: %w", step, err)
		}
		if step > 1 && plan.Round != lastRound {
			// Windows across a round change compare different reference
			// distributions; the alarm starts over.
			loop.Hack.Reset()
		}
		lastRound = plan.Round
		if plan.RefreshReward {
			if err := st.refresh(step); err != nil {
				return fmt.Errorf("step %d: reward refresh: %w", step, err)
			}
		}
		qs, srcs, err := st.references(step, plan)
		if err != nil {
			return fmt.Errorf("step %d: %w", step, err)
		}
		res, err := loop.Step(step, qs, knobs)
		if err != nil {
			return fmt.Errorf("%w", err)
		}
		k := len(res.Queries) / len(qs)
		// Per source: the reward and the oracle gain, so that a reward
		// that rises on policy references while their gain falls shows.
		by := map[sdk.Source][2][]float64{}
		for i := range res.Queries {
			src := srcs[i/k]
			v := by[src]
			v[0] = append(v[0], res.Rewards[i])
			v[1] = append(v[1], res.Oracle[i])
			by[src] = v
		}
		for _, src := range sdk.Sources { // in a fixed order: the same seed gives the same metrics file
			v, ok := by[src]
			if !ok {
				continue
			}
			if err := ck.Metric(step, "reward/"+string(src), stats.Mean(v[0])); err != nil {
				return err
			}
			if err := ck.Metric(step, "oracle_gain/"+string(src), stats.Mean(v[1])); err != nil {
				return err
			}
		}
		if err := ck.Metric(step, "round", float64(plan.Round)); err != nil {
			return err
		}
		var copies float64
		for i, q := range res.Queries {
			if slices.Equal(res.Responses[i], q.Ref) {
				copies++
			}
		}
		if err := ck.Metric(step, "copy_rate", copies/float64(len(res.Queries))); err != nil {
			return err
		}
		obs = map[string]float64{"reward": stats.Mean(res.Rewards), "oracle_gain": stats.Mean(res.Oracle), "round": float64(plan.Round)}
		if err := cur.Observe(c, &sdk.ObserveRequest{Step: step - 1, Stats: obs}); err != nil {
			return fmt.Errorf("step %d: curriculum observe: %w", step, err)
		}
		st.self = st.self[:0]
		for i, q := range res.Queries {
			if len(res.Responses[i]) > 0 {
				st.self = append(st.self, rl.Query{Prompt: q.Prompt, Ref: res.Responses[i]})
			}
		}
		last = step
		stop := st.earlyStop(step)
		c.Progress(step, s.Steps)
		if stop {
			if err := loop.Metric(step, "early_stop", 1); err != nil {
				return err
			}
			break
		}
		if err := ck.MaybeSaveWith(loop.Trainer, step, s.Steps, save); err != nil {
			return err
		}
	}
	if last > 0 {
		if err := st.policyPairs(last); err != nil {
			return err
		}
	}
	if err := writeJSON(c, improverFile, improverInfo{Reward: desc.Name, Algorithm: algDesc.Name, Curriculum: curDesc.Name}); err != nil {
		return err
	}
	return saveModel(c, loop.Policy)
}

// pitState is the state of a pit_rl stage between steps.
type pitState struct {
	c          *runner.Context
	s          *PITRLSettings
	d          *synth.Dataset
	task       *synth.Task
	loop       *rl.Loop
	policy     *nn.Model // M_P^RL, samples policy references
	models     *model.Service
	rm         *nn.Model
	rmTrainer  *nn.Trainer
	rew        sdk.Reward
	needsModel bool
	pick       *picker
	rng        *rand.Rand
	self       []rl.Query // the improver's outputs of the last step, as references
	refreshes  int
}

// earlyStop reports whether the reward stopped tracking the oracle gain
// (EarlyStopCorr), warning when it did.
func (st *pitState) earlyStop(step int) bool {
	w, corrs := st.s.HackWindow, st.loop.Hack.Corrs() // since the start or the last round change
	if st.s.EarlyStopCorr <= 0 || len(corrs) < w {
		return false
	}
	m := stats.Mean(corrs[len(corrs)-w:])
	if m >= st.s.EarlyStopCorr {
		return false
	}
	st.loop.Warn("early stop at step %d of %d: the reward's correlation with the oracle gain over the last %d steps is %.3f, below early_stop_corr %.3f", step, st.s.Steps, w, m, st.s.EarlyStopCorr)
	return true
}

func (st *pitState) closeRefresh() {
	if st.rmTrainer != nil {
		st.rmTrainer.Close()
	}
}

// references draws one step's references as the curriculum planned them.
// It returns the queries and each one's source.
func (st *pitState) references(step int, plan *sdk.NextResponse) ([]rl.Query, []sdk.Source, error) {
	n := st.s.Prompts
	counts := map[sdk.Source]int{}
	if len(plan.Counts) > 0 {
		total := 0
		for src, k := range plan.Counts {
			if k < 0 {
				return nil, nil, fmt.Errorf("curriculum: negative count %d for %s", k, src)
			}
			counts[src] = k
			total += k
		}
		if total != n {
			return nil, nil, fmt.Errorf("curriculum: counts sum to %d, want the batch size %d", total, n)
		}
	} else {
		var sum float64
		for _, p := range plan.Probs {
			sum += p
		}
		if !(sum > 0) {
			return nil, nil, fmt.Errorf("curriculum: neither counts nor probabilities")
		}
		for i := 0; i < n; i++ {
			u := st.rng.Float64() * sum
			chosen := sdk.SourceDataRejected
			for _, src := range sdk.Sources {
				if p := plan.Probs[src]; p > 0 {
					chosen = src
					if u < p {
						break
					}
					u -= p
				}
			}
			counts[chosen]++
		}
	}
	if counts[sdk.SourceSelf] > 0 && len(st.self) == 0 {
		// No earlier outputs yet (the first step): policy references.
		counts[sdk.SourcePolicy] += counts[sdk.SourceSelf]
		counts[sdk.SourceSelf] = 0
	}
	var qs []rl.Query
	var srcs []sdk.Source
	var policyPrompts []synth.Prompt
	for _, src := range sdk.Sources {
		for i := 0; i < counts[src]; i++ {
			switch src {
			case sdk.SourceDataRejected, sdk.SourceDataChosen:
				p := st.d.RL[st.pick.next()]
				ref := p.Rejected
				if src == sdk.SourceDataChosen {
					ref = p.Chosen
				}
				qs = append(qs, rl.Query{Prompt: p.Prompt, Ref: ref})
				srcs = append(srcs, src)
			case sdk.SourceSelf:
				qs = append(qs, st.self[st.rng.IntN(len(st.self))])
				srcs = append(srcs, src)
			case sdk.SourcePolicy:
				policyPrompts = append(policyPrompts, st.d.RL[st.pick.next()].Prompt)
			}
		}
	}
	if len(policyPrompts) > 0 {
		refs, err := st.policyRefs(policyPrompts, fmt.Sprintf("policy-refs-%d", step))
		if err != nil {
			return nil, nil, err
		}
		for i, p := range policyPrompts {
			qs = append(qs, rl.Query{Prompt: p, Ref: refs[i]})
			srcs = append(srcs, sdk.SourcePolicy)
		}
	}
	return qs, srcs, nil
}

// policyRefs samples M_P^RL's answers to prompts at the reference
// temperature. An empty answer is replaced by one letter so the reference
// is never empty.
func (st *pitState) policyRefs(prompts []synth.Prompt, purpose string) ([][]int, error) {
	prefixes := make([][]int, len(prompts))
	for i, p := range prompts {
		prefixes[i] = synth.PolicyPrefix(p.Tokens())
	}
	smp, err := sample(st.c, st.policy, prefixes, st.s.ReferenceTemperature, st.loop.MaxResp, st.c.Rand(purpose))
	if err != nil {
		return nil, fmt.Errorf("policy references: %w", err)
	}
	out := make([][]int, len(smp))
	for i, s := range smp {
		out[i] = nonEmpty(s.Resp)
	}
	return out, nil
}

func nonEmpty(r []int) []int {
	if len(r) == 0 {
		return []int{synth.FirstLetter}
	}
	return r
}

// refresh trains the reward model on fresh pairs from current samples,
// labelled by the task's Bradley–Terry coin.
func (st *pitState) refresh(step int) error {
	c := st.c
	if !st.needsModel {
		c.Log.Info("refresh asked, but the reward plugin has no learned model", "step", step)
		return nil
	}
	st.refreshes++
	prompts := make([]synth.Prompt, st.s.RefreshPairs)
	for i := range prompts {
		prompts[i] = st.d.RL[st.pick.next()].Prompt
	}
	refs, err := st.policyRefs(prompts, fmt.Sprintf("refresh-refs-%d", step))
	if err != nil {
		return err
	}
	prefixes := make([][]int, len(prompts))
	for i, p := range prompts {
		prefixes[i] = synth.ImproverPrefix(p.Tokens(), refs[i])
	}
	ys, err := sample(c, st.loop.Policy, prefixes, st.s.Temperature, st.loop.MaxResp, c.Rand(fmt.Sprintf("refresh-samples-%d", step)))
	if err != nil {
		return err
	}
	label := synth.NewRand(c.Seed(fmt.Sprintf("refresh-label-%d", step)), 100, uint64(step))
	pairs := make([]synth.Pair, 0, len(prompts))
	for i, p := range prompts {
		y := nonEmpty(ys[i].Resp)
		if slices.Equal(y, refs[i]) {
			continue // a copy makes no preference
		}
		pairs = append(pairs, st.task.Label(label, p, y, refs[i]))
	}
	fresh := len(pairs)
	if k := min(st.s.RefreshDataPairs, len(st.d.RM)); k > 0 {
		pick := c.Rand(fmt.Sprintf("refresh-data-%d", step))
		for _, i := range pick.Perm(len(st.d.RM))[:k] {
			pairs = append(pairs, st.d.RM[i])
		}
	}
	if fresh == 0 {
		c.Log.Info("refresh: every sample copied its reference; nothing new to learn", "step", step)
		return nil
	}
	if st.rmTrainer == nil {
		if st.rmTrainer, err = nn.NewTrainer(st.rm, nn.OptimConfig{LR: st.s.RefreshLR, ClipNorm: 1}); err != nil {
			return err
		}
	}
	var loss, acc float64
	rng := c.Rand(fmt.Sprintf("refresh-batches-%d", step))
	for i := 0; i < st.s.RefreshSteps; i++ {
		batch := make([]synth.Pair, min(st.s.RefreshBatch, len(pairs)))
		for j := range batch {
			batch[j] = pairs[rng.IntN(len(pairs))]
		}
		cs, err := comparisonStep(c, st.rew, st.rmTrainer, batch)
		if err != nil {
			return fmt.Errorf("refresh step %d: %w", i+1, err)
		}
		loss, acc = cs.Loss, cs.Accuracy
	}
	st.models.SetReward(st.rm)
	for _, m := range []struct {
		name string
		v    float64
	}{{"refresh/pairs", float64(fresh)}, {"refresh/data_pairs", float64(len(pairs) - fresh)}, {"refresh/loss", loss}, {"refresh/accuracy", acc}} {
		if err := st.loop.Metric(step, m.name, m.v); err != nil {
			return err
		}
	}
	c.Log.Info("reward model refreshed", "step", step, "pairs", len(pairs), "loss", loss)
	return nil
}

// pitCheckpoint is pit_rl's own state in its checkpoints: everything that
// carries from one step to the next besides the improver's trainer.
type pitCheckpoint struct {
	Hack        rl.HackState       `json:"hack"`
	Algorithm   []byte             `json:"algorithm"`  // the algorithm plugin's SaveState
	Curriculum  []byte             `json:"curriculum"` // the curriculum plugin's SaveState
	PickSource  []byte             `json:"pick_source"`
	PickOrder   []int              `json:"pick_order"`
	PickIndex   int                `json:"pick_index"`
	RefSource   []byte             `json:"ref_source"`
	Self        []selfRef          `json:"self"`
	Refreshes   int                `json:"refreshes"`
	RewardModel string             `json:"reward_model,omitempty"` // refreshed reward model's trainer, a file of the checkpoint
	Stats       map[string]float64 `json:"stats"`
	LastRound   int                `json:"last_round"`
}

// selfRef is one of the improver's outputs kept as a reference.
type selfRef struct {
	Prompt synth.Prompt `json:"prompt"`
	Ref    []int        `json:"ref"`
}

// save returns pit_rl's state for a checkpoint after step, writing the
// refreshed reward model's trainer into dir when there is one.
func (st *pitState) save(dir string, step int, pickSrc, refSrc *rand.PCG, alg sdk.Algorithm, cur sdk.Curriculum, stats map[string]float64, lastRound int) (any, []string, error) {
	cp := pitCheckpoint{Hack: st.loop.Hack.Save(), PickOrder: st.pick.order, PickIndex: st.pick.i,
		Refreshes: st.refreshes, Stats: stats, LastRound: lastRound}
	var err error
	if cp.Algorithm, err = host.SaveState(st.c, alg); err != nil {
		return nil, nil, fmt.Errorf("algorithm state: %w", err)
	}
	if cp.Curriculum, err = cur.SaveState(st.c); err != nil {
		return nil, nil, fmt.Errorf("curriculum state: %w", err)
	}
	if cp.PickSource, err = pickSrc.MarshalBinary(); err != nil {
		return nil, nil, err
	}
	if cp.RefSource, err = refSrc.MarshalBinary(); err != nil {
		return nil, nil, err
	}
	for _, q := range st.self {
		cp.Self = append(cp.Self, selfRef{Prompt: q.Prompt.(synth.Prompt), Ref: q.Ref}) // the synthetic task's loop
	}
	var files []string
	if st.rmTrainer != nil {
		cp.RewardModel = fmt.Sprintf("reward-%d.bin", step)
		if err := st.rmTrainer.Save(filepath.Join(dir, cp.RewardModel)); err != nil {
			return nil, nil, err
		}
		files = append(files, cp.RewardModel)
	}
	return cp, files, nil
}

// restore puts pit_rl's state back from a checkpoint.
func (st *pitState) restore(cp *pitCheckpoint, ck *checkpoint.Checkpointer, pickSrc, refSrc *rand.PCG, alg sdk.Algorithm, cur sdk.Curriculum) error {
	st.loop.Hack.Restore(cp.Hack)
	if err := host.RestoreState(st.c, alg, cp.Algorithm); err != nil {
		return fmt.Errorf("algorithm state: %w", err)
	}
	if err := cur.RestoreState(st.c, cp.Curriculum); err != nil {
		return fmt.Errorf("curriculum state: %w", err)
	}
	if err := pickSrc.UnmarshalBinary(cp.PickSource); err != nil {
		return err
	}
	if err := refSrc.UnmarshalBinary(cp.RefSource); err != nil {
		return err
	}
	st.pick.order, st.pick.i = cp.PickOrder, cp.PickIndex
	st.self = st.self[:0]
	for _, r := range cp.Self {
		st.self = append(st.self, rl.Query{Prompt: r.Prompt, Ref: r.Ref})
	}
	st.refreshes = cp.Refreshes
	if cp.RewardModel != "" {
		tr, err := nn.LoadTrainer(ck.Path(cp.RewardModel))
		if err != nil {
			return err
		}
		st.rmTrainer, st.rm = tr, tr.Model()
		st.models.SetReward(st.rm)
	}
	return nil
}
