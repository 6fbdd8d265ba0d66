// Package toy holds minimal, complete plugins of each kind. They show the
// shape of a plugin and give the SDK's and the host's tests something real
// to launch; they are not pit's built-ins (see plugins/reward, ...).
//
// Register makes them available as built-ins named "toy-difference",
// "toy-reinforce" and "toy-two-stage" (tests call it from TestMain).
package toy

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/pit-lab/pit/plugins/host/registry"
	"github.com/pit-lab/pit/plugins/sdk"
)

var registerOnce sync.Once

// Register registers the toy plugins as built-ins (once).
func Register() {
	registerOnce.Do(func() {
		registry.Register(sdk.KindReward, "toy-difference", func() sdk.Plugin { return NewDifference() })
		registry.Register(sdk.KindAlgorithm, "toy-reinforce", func() sdk.Plugin { return NewReinforce() })
		registry.Register(sdk.KindCurriculum, "toy-two-stage", func() sdk.Plugin { return NewTwoStage() })
	})
}

// DifferenceConfig configures Difference.
type DifferenceConfig struct {
	Scale float64       `toml:"scale" doc:"multiplies the reward"`
	Model string        `toml:"model" doc:"host model that scores (x, y)"`
	Delay time.Duration `toml:"delay" doc:"sleep in every Score call (for tests of slow or dying plugins)"`
}

// Difference is a reward formulation: Scale·(m(x, y) − m(x, y_ref)) with a
// Bradley–Terry-trained host model m.
type Difference struct{ cfg DifferenceConfig }

// NewDifference returns an unconfigured Difference.
func NewDifference() *Difference { return &Difference{cfg: differenceDefaults()} }

func differenceDefaults() DifferenceConfig { return DifferenceConfig{Scale: 1, Model: sdk.ModelReward} }

// Describe implements sdk.Plugin.
func (d *Difference) Describe(context.Context) (*sdk.Description, error) {
	return &sdk.Description{
		Name: "toy-difference", Version: "0.1.0", Summary: "scaled r(x,y) − r(x,y_ref) (toy)",
		Config:            sdk.SchemaOf(differenceDefaults()),
		NeedsLearnedModel: true, ReferenceConditioned: true,
	}, nil
}

// Configure implements sdk.Plugin.
func (d *Difference) Configure(_ context.Context, req *sdk.ConfigureRequest) error {
	c := differenceDefaults()
	if err := sdk.DecodeConfig(req.Config, &c); err != nil {
		return err
	}
	if c.Scale <= 0 {
		return fmt.Errorf("key \"scale\": want > 0, got %v", c.Scale)
	}
	d.cfg = c
	sdk.Logger().Debug("configured", "scale", c.Scale, "model", c.Model)
	return nil
}

// Comparisons implements sdk.Reward: (x, y_w) ≻ (x, y_l), one comparison
// per pair.
func (d *Difference) Comparisons(_ context.Context, req *sdk.ComparisonsRequest) (*sdk.ComparisonsResponse, error) {
	resp := &sdk.ComparisonsResponse{}
	for i, p := range req.Pairs {
		resp.Inputs = append(resp.Inputs, sdk.Input{Prompt: p.Prompt, Response: p.Chosen}, sdk.Input{Prompt: p.Prompt, Response: p.Rejected})
		resp.Pair = append(resp.Pair, i, i)
		resp.Tag = append(resp.Tag, "w", "l")
		resp.Comparisons = append(resp.Comparisons, sdk.Comparison{Better: 2 * i, Worse: 2*i + 1, Weight: 1})
	}
	return resp, nil
}

// Score implements sdk.Reward with one batched model call.
func (d *Difference) Score(ctx context.Context, req *sdk.ScoreRequest) (*sdk.ScoreResponse, error) {
	if d.cfg.Delay > 0 {
		select {
		case <-time.After(d.cfg.Delay):
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	n := len(req.Items)
	batch := make([]sdk.Input, 0, 2*n)
	for _, it := range req.Items {
		batch = append(batch, sdk.Input{Prompt: it.Prompt, Response: it.Response})
	}
	for _, it := range req.Items {
		batch = append(batch, sdk.Input{Prompt: it.Prompt, Response: it.Reference})
	}
	s, err := req.Models.Score(ctx, d.cfg.Model, batch)
	if err != nil {
		return nil, err
	}
	resp := &sdk.ScoreResponse{Rewards: make([]float64, n), Components: map[string][]float64{"response": s[:n], "reference": s[n:]}}
	for i := range n {
		resp.Rewards[i] = d.cfg.Scale * (s[i] - s[n+i])
	}
	return resp, nil
}

// ReinforceConfig configures Reinforce.
type ReinforceConfig struct {
	K        int     `toml:"k" doc:"samples per prompt"`
	KLCoef   float64 `toml:"kl_coef" doc:"initial β"`
	KLTarget float64 `toml:"kl_target" doc:"target KL of the adaptive controller; 0 keeps β fixed"`
}

// Reinforce is an RL algorithm: REINFORCE with the group mean as baseline
// and an adaptive KL coefficient.
type Reinforce struct {
	cfg  ReinforceConfig
	beta float64
}

// NewReinforce returns an unconfigured Reinforce.
func NewReinforce() *Reinforce {
	r := &Reinforce{cfg: reinforceDefaults()}
	r.beta = r.cfg.KLCoef
	return r
}

func reinforceDefaults() ReinforceConfig {
	return ReinforceConfig{K: 4, KLCoef: 0.05, KLTarget: 0.1}
}

// Describe implements sdk.Plugin.
func (r *Reinforce) Describe(context.Context) (*sdk.Description, error) {
	return &sdk.Description{Name: "toy-reinforce", Version: "0.1.0", Summary: "REINFORCE with group-mean baseline (toy)", Config: sdk.SchemaOf(reinforceDefaults())}, nil
}

// Configure implements sdk.Plugin.
func (r *Reinforce) Configure(_ context.Context, req *sdk.ConfigureRequest) error {
	c := reinforceDefaults()
	if err := sdk.DecodeConfig(req.Config, &c); err != nil {
		return err
	}
	if c.K < 1 {
		return fmt.Errorf("key \"k\": want ≥ 1, got %d", c.K)
	}
	r.cfg, r.beta = c, c.KLCoef
	return nil
}

// Knobs implements sdk.Algorithm.
func (r *Reinforce) Knobs(context.Context) (*sdk.Knobs, error) {
	return &sdk.Knobs{KLCoef: r.beta, KLEstimator: sdk.KLk1, Epochs: 1, SamplesPerPrompt: r.cfg.K}, nil
}

// Advantages implements sdk.Algorithm: every response token of sequence i
// gets r_i − mean(r of i's group).
func (r *Reinforce) Advantages(ctx context.Context, req *sdk.AdvantagesRequest) (*sdk.AdvantagesResponse, error) {
	if _, _, err := req.Shape(); err != nil {
		return nil, err
	}
	sum, cnt := map[int]float64{}, map[int]float64{}
	group := func(i int) int {
		if req.Groups == nil {
			return i
		}
		return req.Groups[i]
	}
	for i, rw := range req.Rewards {
		sum[group(i)] += rw
		cnt[group(i)]++
	}
	resp := &sdk.AdvantagesResponse{Stats: map[string]float64{"beta": r.beta}}
	for i, mask := range req.Mask {
		adv, ret := make([]float64, len(mask)), make([]float64, len(mask))
		base := sum[group(i)] / cnt[group(i)]
		for t, m := range mask {
			adv[t], ret[t] = m*(req.Rewards[i]-base), m*req.Rewards[i]
		}
		resp.Advantages, resp.Returns = append(resp.Advantages, adv), append(resp.Returns, ret)
	}
	k, _ := r.Knobs(ctx)
	resp.Knobs = *k
	return resp, nil
}

// Observe implements sdk.Algorithm: the proportional KL controller.
func (r *Reinforce) Observe(_ context.Context, req *sdk.ObserveRequest) error {
	kl, ok := req.Stats["kl"]
	if !ok || r.cfg.KLTarget == 0 {
		return nil
	}
	switch {
	case kl > 1.5*r.cfg.KLTarget:
		r.beta *= 1.5
	case kl < r.cfg.KLTarget/1.5:
		r.beta /= 1.5
	}
	return nil
}

// SaveState implements sdk.Stateful.
func (r *Reinforce) SaveState(context.Context) ([]byte, error) { return json.Marshal(r.beta) }

// RestoreState implements sdk.Stateful.
func (r *Reinforce) RestoreState(_ context.Context, b []byte) error {
	if err := json.Unmarshal(b, &r.beta); err != nil {
		return fmt.Errorf("toy-reinforce state: %w", err)
	}
	return nil
}

// TwoStageConfig configures TwoStage.
type TwoStageConfig struct {
	SwitchAt float64 `toml:"switch_at" doc:"fraction of the steps spent in round 0"`
}

// TwoStage is a curriculum: round 0 draws references from the data pairs
// (y_l or y_w, chosen at random), round 1 from the policy; it asks for a
// reward refresh at the switch.
type TwoStage struct {
	cfg  TwoStageConfig
	pcg  *rand.PCG
	rng  *rand.Rand
	seen int
}

// NewTwoStage returns an unconfigured TwoStage.
func NewTwoStage() *TwoStage {
	t := &TwoStage{cfg: TwoStageConfig{SwitchAt: 0.5}}
	t.reseed(0)
	return t
}

func (t *TwoStage) reseed(seed int64) {
	t.pcg = rand.NewPCG(uint64(seed), 0x9e3779b97f4a7c15)
	t.rng = rand.New(t.pcg)
	t.seen = 0
}

// Describe implements sdk.Plugin.
func (t *TwoStage) Describe(context.Context) (*sdk.Description, error) {
	return &sdk.Description{Name: "toy-two-stage", Version: "0.1.0", Summary: "data references, then policy references (toy)", Config: sdk.SchemaOf(TwoStageConfig{SwitchAt: 0.5})}, nil
}

// Configure implements sdk.Plugin.
func (t *TwoStage) Configure(_ context.Context, req *sdk.ConfigureRequest) error {
	c := TwoStageConfig{SwitchAt: 0.5}
	if err := sdk.DecodeConfig(req.Config, &c); err != nil {
		return err
	}
	if c.SwitchAt < 0 || c.SwitchAt > 1 {
		return fmt.Errorf("key \"switch_at\": want a fraction in [0, 1], got %v", c.SwitchAt)
	}
	t.cfg = c
	t.reseed(req.Seed)
	return nil
}

// Next implements sdk.Curriculum.
func (t *TwoStage) Next(_ context.Context, req *sdk.NextRequest) (*sdk.NextResponse, error) {
	switchStep := int(t.cfg.SwitchAt * float64(req.TotalSteps))
	if req.Step >= switchStep {
		return &sdk.NextResponse{Counts: map[sdk.Source]int{sdk.SourcePolicy: req.BatchSize}, Round: 1, Phase: "policy", RefreshReward: req.Step == switchStep}, nil
	}
	rejected := 0
	for range req.BatchSize {
		if t.rng.IntN(2) == 0 {
			rejected++
		}
	}
	return &sdk.NextResponse{Counts: map[sdk.Source]int{sdk.SourceDataRejected: rejected, sdk.SourceDataChosen: req.BatchSize - rejected}, Phase: "data"}, nil
}

// Observe implements sdk.Curriculum.
func (t *TwoStage) Observe(context.Context, *sdk.ObserveRequest) error { t.seen++; return nil }

type twoStageState struct {
	PCG  []byte `json:"pcg"`
	Seen int    `json:"seen"`
}

// SaveState implements sdk.Stateful.
func (t *TwoStage) SaveState(context.Context) ([]byte, error) {
	b, err := t.pcg.MarshalBinary()
	if err != nil {
		return nil, err
	}
	return json.Marshal(twoStageState{PCG: b, Seen: t.seen})
}

// RestoreState implements sdk.Stateful.
func (t *TwoStage) RestoreState(_ context.Context, b []byte) error {
	var s twoStageState
	if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("toy-two-stage state: %w", err)
	}
	if err := t.pcg.UnmarshalBinary(s.PCG); err != nil {
		return fmt.Errorf("toy-two-stage state: %w", err)
	}
	t.seen = s.Seen
	return nil
}
