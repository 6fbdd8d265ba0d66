package pipeline

import (
	"github.com/pit-lab/pit/core/rl"
	"github.com/pit-lab/pit/core/runner"
)

// RLSettings configure the RL stages (rlhf and pit_rl): rl.Settings, the
// keys of their tables.
type RLSettings = rl.Settings

func defaultRL() RLSettings { return rl.DefaultSettings() }

// startLoopCheckpoints makes an RL stage's checkpointer, routes the loop's
// metrics and warnings through it and, when there is a checkpoint,
// continues from its trainer (instead of the fresh copy of the initial
// policy) and decodes the stage's own state into extra. It returns the
// steps done: 0 without a checkpoint.
func startLoopCheckpoints(l *rl.Loop, c *runner.Context, extra any) (*checkpointer, int, error) {
	ck, tr, done, err := startCheckpoints(c, extra)
	if err != nil {
		return nil, 0, err
	}
	l.Metric, l.Warn = ck.metric, ck.warn
	if tr != nil {
		l.Resume(tr)
	}
	return ck, done, nil
}
