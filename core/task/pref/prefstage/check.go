package prefstage

import (
	"context"
	"fmt"

	"github.com/pit-lab/pit/core/experiment"
	"github.com/pit-lab/pit/core/model"
	"github.com/pit-lab/pit/core/task/pref"
)

func init() {
	experiment.RegisterCheck("pref-pretrained", checkPretrained)
}

// checkPretrained finds, before any stage runs, a preference task whose
// longest input does not fit a pretrained model's context. The bound is in
// bytes (texts are cut in bytes before they are encoded), which is at
// least the number of tokens.
func checkPretrained(_ context.Context, arm *experiment.Arm, _ experiment.CheckEnv) []experiment.Problem {
	ps, ok := arm.Config.Task.Settings.(*pref.Settings)
	if !ok || arm.Config.Model == nil {
		return nil
	}
	ms, ok := arm.Config.Model.Settings.(*model.Settings)
	if !ok || ms.Pretrained() == nil {
		return nil
	}
	p := ms.Pretrained()
	if n := ps.GapContext(); n > p.Context() {
		return []experiment.Problem{{Key: "task.max_response_bytes",
			Msg:  fmt.Sprintf("the longest reference-conditioned input is max_prompt_bytes + 2·max_response_bytes + 4 = %d tokens at most, beyond the context of %s (%d positions)", n, ms.Init, p.Context()),
			Hint: "lower max_prompt_bytes or max_response_bytes"}}
	}
	return nil
}
