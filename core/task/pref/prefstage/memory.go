package prefstage

import (
	"context"
	"fmt"

	"github.com/pit-lab/pit/core/experiment"
	"github.com/pit-lab/pit/core/model"
	"github.com/pit-lab/pit/core/nn"
	"github.com/pit-lab/pit/core/task/pref"
)

func init() {
	experiment.RegisterCheck("pref-memory", checkMemory)
}

// modelFor is the nn configuration the preference stages of an arm build:
// the pretrained model's with the two added tokens, or a random one over
// the byte vocabulary.
func modelFor(cfg *experiment.Config, ps *pref.Settings) (nn.Config, bool) {
	var ms any
	if cfg.Model != nil {
		ms = cfg.Model.Settings
	}
	if m, ok := ms.(*model.Settings); ok && m.Pretrained() != nil {
		tok, err := tokenizerFor(m) // the checkpoint's vocabulary and the added tokens
		if err != nil {
			return nn.Config{}, false
		}
		p := m.Pretrained()
		d, l, h, mlp := p.Sizes()
		return nn.Config{Vocab: tok.Vocab.Size, Context: p.Context(), DModel: d, Layers: l, Heads: h, MLP: mlp}, true
	}
	c, err := model.NNConfig(ms, pref.VocabSize, ps.GapContext(), pref.PAD, 0)
	return c, err == nil
}

// checkMemory refuses, before any work, a preference stage whose estimated
// peak (nn.StepBytes at the longest input the task allows) exceeds the
// memory the machine has available. The bound on the input length is in
// bytes, so the estimate errs high for a subword tokenizer.
func checkMemory(_ context.Context, arm *experiment.Arm, env experiment.CheckEnv) []experiment.Problem {
	ps, ok := arm.Config.Task.Settings.(*pref.Settings)
	if !ok || env.MemAvailable == 0 {
		return nil
	}
	nc, ok := modelFor(arm.Config, ps)
	if !ok {
		return nil
	}
	if m, ok := arm.Config.Model.Settings.(*model.Settings); ok && m.Device == "cuda" {
		return nil // activations live on the card, whose memory is not known here
	}
	var probs []experiment.Problem
	for _, st := range arm.Config.Stages {
		var seqs, models int
		var key string
		lmHead := true
		switch s := st.Settings.(type) {
		case *Settings:
			per := 1 // SFT: one sequence a pair
			if st.Kind == "pref_rm" {
				per = 2
				if ref, ok := st.Plugin("reward"); ok && ref.Name == "pit-gap" {
					per = 4
				}
			}
			seqs, models, key, lmHead = per*s.BatchSize, 1, "batch_size", st.Kind != "pref_rm"
		case *PITRLSettings:
			seqs, models, key = s.Prompts*model.SamplesPerPrompt(st), 4, "prompts_per_step" // the improver, its reference, the policy, the reward model
		default:
			continue
		}
		need := uint64(nn.StepBytes(nc, seqs, ps.GapContext(), true, lmHead)) + uint64(models-1)*uint64(nn.StepBytes(nc, 1, 1, false, false))
		if need <= env.MemAvailable {
			continue
		}
		probs = append(probs, experiment.Problem{
			Key: "stages." + st.Name,
			Msg: fmt.Sprintf("needs about %.1f GiB at its peak (%d sequences of up to %d tokens per step, d_model %d, %d layers, vocabulary %d), but this machine has %.1f GiB available (MemAvailable)",
				float64(need)/(1<<30), seqs, ps.GapContext(), nc.DModel, nc.Layers, nc.Vocab, float64(env.MemAvailable)/(1<<30)),
			Hint: fmt.Sprintf("lower stages.%s.%s or the task's max_prompt_bytes/max_response_bytes, or run on a machine with more memory (a GPU run keeps activations on the card)", st.Name, key),
		})
	}
	return probs
}
