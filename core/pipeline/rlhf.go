package pipeline

import (
	"fmt"
	"math/rand/v2"

	"github.com/pit-lab/pit/core/checkpoint"
	"github.com/pit-lab/pit/core/model"
	"github.com/pit-lab/pit/core/rl"
	"github.com/pit-lab/pit/core/runner"
	"github.com/pit-lab/pit/plugins/sdk"
)

// DefaultAlgorithm is the RL algorithm of both RL stages unless the
// experiment names another. RLOO needs no critic (the value head would
// have to learn from scratch in a few dozen steps) and its leave-one-out
// baseline over k samples per prompt gave the steadiest reward gains at
// the default experiment's size; PPO is one grid value away.
const DefaultAlgorithm = "rloo"

func init() {
	runner.Register(runner.Kind{
		Name:  "rlhf",
		Doc:   "RLHF: RL of the SFT policy with the reward and algorithm plugins, KL to the frozen SFT policy",
		Needs: []string{"data", "sft", "rm"},
		Plugins: []runner.Slot{
			{Kind: string(sdk.KindReward), Default: "bradley-terry"},
			{Kind: string(sdk.KindAlgorithm), Default: DefaultAlgorithm},
		},
		Settings: func() any { s := defaultRL(); return &s },
		Version:  "1",
		Run:      runRLHF,
	})
}

func runRLHF(c *runner.Context) error {
	s := c.Settings.(*RLSettings)
	d, task, err := loadDataset(c)
	if err != nil {
		return err
	}
	if len(d.RL) == 0 {
		return fmt.Errorf("the rl split is empty")
	}
	sft, err := loadModel(c, "sft")
	if err != nil {
		return err
	}
	rm, err := loadModel(c, "rm")
	if err != nil {
		return err
	}
	info, err := readRewardInfo(c, "rm")
	if err != nil {
		return err
	}
	rew, desc, err := model.RewardPlugin(c, NewModelService(task, rm))
	if err != nil {
		return err
	}
	if msg, hint := rlhfRewardProblem(desc, info.Plugin, info.ReferenceConditioned); msg != "" {
		return fmt.Errorf("%s; %s", msg, hint) // pit validate finds it first (preflight.go)
	}
	alg, _, err := model.AlgorithmPlugin(c)
	if err != nil {
		return err
	}
	loop, err := rl.NewLoop(c, s, task, sft, rew, alg)
	if err != nil {
		return err
	}
	defer loop.Close()
	ck, done, save, err := checkpoint.StartRL(loop, c, alg)
	if err != nil {
		return err
	}
	pick := newPicker(len(d.RL), c.Rand("prompts"))
	for step := 1; step <= s.Steps; step++ {
		if err := c.Err(); err != nil {
			return err
		}
		qs := make([]rl.Query, s.Prompts)
		for i := range qs {
			qs[i] = rl.Query{Prompt: d.RL[pick.next()].Prompt}
		}
		if step <= done {
			continue // resumed: the checkpoint covers this step
		}
		knobs, err := loop.Knobs()
		if err != nil {
			return err
		}
		if _, err := loop.Step(step, qs, knobs); err != nil {
			return fmt.Errorf("%w", err)
		}
		c.Progress(step, s.Steps)
		if err := ck.MaybeSaveWith(loop.Trainer, step, s.Steps, save); err != nil {
			return err
		}
	}
	return saveModel(c, loop.Policy)
}

// picker draws indices without replacement, reshuffling when it runs out.
type picker struct {
	rng   *rand.Rand
	order []int
	i     int
}

func newPicker(n int, rng *rand.Rand) *picker {
	return &picker{rng: rng, order: rng.Perm(n)}
}

func (p *picker) next() int {
	if p.i == len(p.order) {
		p.order, p.i = p.rng.Perm(len(p.order)), 0
	}
	p.i++
	return p.order[p.i-1]
}
