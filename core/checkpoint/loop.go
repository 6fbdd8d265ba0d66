package checkpoint

import (
	"fmt"

	"github.com/pit-lab/pit/core/rl"
	"github.com/pit-lab/pit/core/runner"
	"github.com/pit-lab/pit/plugins/host"
	"github.com/pit-lab/pit/plugins/sdk"
)

// StartLoop makes an RL stage's checkpointer, routes the loop's metrics and
// warnings through it and, when there is a checkpoint, continues from its
// trainer (instead of the fresh copy of the initial policy) and decodes
// the stage's own state into extra. It returns the steps done: 0 without
// a checkpoint.
func StartLoop(l *rl.Loop, c *runner.Context, extra any) (*Checkpointer, int, error) {
	ck, tr, done, err := Start(c, extra)
	if err != nil {
		return nil, 0, err
	}
	l.Metric, l.Warn = ck.Metric, ck.Warn
	if tr != nil {
		l.Resume(tr)
	}
	return ck, done, nil
}

// LoopState is what every RL stage keeps in its checkpoints: the hacking
// alarm's window and the algorithm plugin's saved state.
type LoopState struct {
	Hack      rl.HackState `json:"hack"`
	Algorithm []byte       `json:"algorithm"` // the algorithm plugin's SaveState
}

// StartRL is StartLoop for a stage whose own state is LoopState: on resume
// it restores the alarm and the algorithm plugin, and it returns the
// SaveExtra that writes them into the next checkpoint.
func StartRL(l *rl.Loop, c *runner.Context, alg sdk.Algorithm) (*Checkpointer, int, SaveExtra, error) {
	var st LoopState
	ck, done, err := StartLoop(l, c, &st)
	if err != nil {
		return nil, 0, nil, err
	}
	if done > 0 {
		l.Hack.Restore(st.Hack)
		if err := host.RestoreState(c, alg, st.Algorithm); err != nil {
			return nil, 0, nil, fmt.Errorf("checkpoint: algorithm state: %w", err)
		}
	}
	save := func(string, int) (any, []string, error) {
		a, err := host.SaveState(c, alg)
		if err != nil {
			return nil, nil, fmt.Errorf("algorithm state: %w", err)
		}
		return LoopState{Hack: l.Hack.Save(), Algorithm: a}, nil, nil
	}
	return ck, done, save, nil
}
