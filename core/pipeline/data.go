package pipeline

import (
	"fmt"

	"github.com/pit-lab/pit/core/runner"
	"github.com/pit-lab/pit/core/task/synth"
)

func init() {
	runner.Register(runner.Kind{
		Name:    "data",
		Doc:     "the synthetic task's dataset (SFT, RM, RL, eval splits) drawn from the run's seed",
		Version: "1",
		Run:     runData,
	})
}

// runData builds the dataset of the run's task settings and seed. Every
// other stage reads it, so they all see the same pairs and prompts.
func runData(c *runner.Context) error {
	s, err := taskOf(c)
	if err != nil {
		return err
	}
	d, err := synth.Build(c, s, c.Seed("dataset"))
	if err != nil {
		return fmt.Errorf("%w", err)
	}
	if err := writeJSON(c, datasetFile, d); err != nil {
		return err
	}
	sum := d.Summary()
	if err := writeJSON(c, "summary.json", sum); err != nil {
		return err
	}
	// In a fixed order, so that the same seed gives the same metrics file.
	splits := []struct {
		name string
		st   synth.PairStats
	}{{"sft", sum.SFT}, {"rm", sum.RM}, {"rl", sum.RL}, {"rm_eval", sum.RMEval}}
	for _, sp := range splits {
		for _, m := range []struct {
			k string
			v float64
		}{
			{"agreement", sp.st.Agreement},
			{"mean_q_chosen", sp.st.MeanChosen},
			{"mean_q_rejected", sp.st.MeanRejected},
			{"mean_edit_distance", sp.st.MeanEditDistance},
		} {
			if err := c.Metric(0, sp.name+"/"+m.k, m.v); err != nil {
				return err
			}
		}
	}
	c.Log.Info("dataset", "sft", sum.SFT.String(), "rm", sum.RM.String(), "rl", sum.RL.String(), "eval_prompts", len(d.Eval))
	c.Progress(1, 1)
	return nil
}
