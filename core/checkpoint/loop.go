package checkpoint

import (
	"github.com/pit-lab/pit/core/rl"
	"github.com/pit-lab/pit/core/runner"
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
