package pipeline

import (
	"context"
	"math/rand/v2"
	"testing"

	"github.com/pit-lab/pit/core/nn"
	"github.com/pit-lab/pit/core/runner"
	"github.com/pit-lab/pit/core/task/synth"
	"github.com/pit-lab/pit/plugins/reward/bradleyterry"
	"github.com/pit-lab/pit/plugins/reward/pitgap"
	"github.com/pit-lab/pit/plugins/sdk"
)

// trainedRewardModel returns a model of the default experiment's shape
// whose reward head is no longer zero (a fresh head scores everything 0,
// which would make any comparison of scores pass).
func trainedRewardModel(t *testing.T, seqs [][]int) *nn.Model {
	t.Helper()
	task := synth.DefaultSettings()
	m, err := nn.New(nn.Config{Vocab: synth.VocabSize, Context: max(task.MaxContext, task.ImproverContext()), DModel: 64, Layers: 2, Heads: 4, PadID: synth.PAD, Seed: 3})
	if err != nil {
		t.Fatal(err)
	}
	tr, err := nn.NewTrainer(m, nn.OptimConfig{LR: 1e-2})
	if err != nil {
		t.Fatal(err)
	}
	defer tr.Close()
	for k := 0; k < 5; k++ {
		b := seqs[k*16 : k*16+16]
		var ps []nn.Pair
		for i := 0; i < 8; i++ {
			ps = append(ps, nn.Pair{I: 2 * i, J: 2*i + 1, Weight: 1})
		}
		if _, err := tr.ComparisonStep(b, ps); err != nil {
			t.Fatal(err)
		}
	}
	return m
}

// randomSeqs returns n token sequences of 3 to 48 tokens.
func randomSeqs(n int, rng *rand.Rand) [][]int {
	seqs := make([][]int, n)
	for i := range seqs {
		s := make([]int, 3+rng.IntN(46))
		for j := range s {
			s[j] = synth.FirstLetter + rng.IntN(synth.VocabSize-synth.FirstLetter)
		}
		seqs[i] = s
	}
	return seqs
}

// TestBatchRewardsMatchOneByOne pins what batchRewards relies on: a
// sequence's reward is the same bits whatever else is in its batch, where
// it sits and how far the batch is padded. batchRewards (deduplicated,
// length-sorted chunks, memo) must give exactly what m.Rewards gives for
// the whole list and for each sequence alone.
func TestBatchRewardsMatchOneByOne(t *testing.T) {
	ctx := context.Background()
	rng := rand.New(rand.NewPCG(1, 2))
	seqs := randomSeqs(150, rng)
	m := trainedRewardModel(t, seqs)
	// Duplicates, some of them far apart, and a short chunk at the end.
	for i := 0; i < 30; i++ {
		seqs = append(seqs, seqs[rng.IntN(len(seqs))])
	}
	whole, err := m.Rewards(ctx, seqs)
	if err != nil {
		t.Fatal(err)
	}
	distinct := map[float64]bool{}
	for i, s := range seqs {
		one, err := m.Rewards(ctx, [][]int{s})
		if err != nil {
			t.Fatal(err)
		}
		if one[0] != whole[i] {
			t.Errorf("sequence %d (%d tokens): %v alone, %v in a batch of %d", i, len(s), one[0], whole[i], len(seqs))
		}
		distinct[whole[i]] = true
	}
	if len(distinct) < 100 {
		t.Fatalf("only %d distinct rewards: the model does not tell the sequences apart, so the test shows nothing", len(distinct))
	}
	memo := map[string]float64{}
	for _, tc := range []struct {
		name string
		n    int // score seqs[:n]
		memo map[string]float64
	}{
		{"fewer than a chunk", 10, nil},
		{"no memo", len(seqs), nil},
		{"fresh memo", len(seqs), memo},
		{"filled memo", len(seqs), memo},
	} {
		got, err := batchRewards(ctx, m, seqs[:tc.n], tc.memo)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != tc.n {
			t.Fatalf("%s: %d scores for %d sequences", tc.name, len(got), tc.n)
		}
		for i := range got {
			if got[i] != whole[i] {
				t.Errorf("%s: sequence %d: batchRewards %v, m.Rewards %v", tc.name, i, got[i], whole[i])
			}
		}
	}
	keys := map[string]bool{}
	for _, s := range seqs {
		keys[seqKey(s)] = true
	}
	if len(memo) != len(keys) {
		t.Errorf("memo holds %d sequences, want the %d distinct ones", len(memo), len(keys))
	}
	// A memo hit is not scored again: a wrong value planted in the memo
	// comes back.
	memo[seqKey(seqs[0])] = 42
	if got, err := batchRewards(ctx, m, seqs[:1], memo); err != nil || got[0] != 42 {
		t.Errorf("memo not used: %v, %v", got, err)
	}
	if got, err := batchRewards(ctx, m, nil, nil); err != nil || len(got) != 0 {
		t.Errorf("no sequences: %v, %v", got, err)
	}
}

func TestSeqKey(t *testing.T) {
	seqs := [][]int{{}, {0}, {1}, {1, 0}, {0, 1}, {127}, {128}, {1, 128}, {128, 1}, {300}, {44, 2}}
	seen := map[string][]int{}
	for _, s := range seqs {
		k := seqKey(s)
		if o, ok := seen[k]; ok {
			t.Errorf("%v and %v share a key", o, s)
		}
		seen[k] = s
		if seqKey(append([]int(nil), s...)) != k {
			t.Errorf("%v: key not a function of the tokens", s)
		}
	}
}

// TestRMEvalOneScoring checks that the held-out figures of rm and pit_rm,
// now read from one scoring of the union of the plugin's inputs and the
// ranked pairs, are those of scoring each list on its own with m.Rewards
// (the stage's former code).
func TestRMEvalOneScoring(t *testing.T) {
	ctx := context.Background()
	set := synth.DefaultSettings()
	set.PairMode = "edit" // the default experiment's pairs
	set.Splits = synth.SplitSettings{SFT: 10, RM: 40, RL: 10, Eval: 10, RMEval: 150}
	d, err := synth.Build(ctx, set, 7)
	if err != nil {
		t.Fatal(err)
	}
	pairs := d.RMEval
	var train [][]int
	for _, p := range d.RM[:40] {
		x := p.Prompt.Tokens()
		train = append(train, synth.ImproverExample(x, p.Rejected, p.Chosen).Tokens, synth.ImproverExample(x, p.Chosen, p.Rejected).Tokens)
	}
	m := trainedRewardModel(t, train)
	c := &runner.Context{Context: ctx, Stage: "rm"}
	for _, tc := range []struct {
		name   string
		rew    sdk.Reward
		refCnd bool
	}{{"bradley-terry", bradleyterry.New(), false}, {"pit-gap", pitgap.New(), true}} {
		t.Run(tc.name, func(t *testing.T) {
			if err := tc.rew.(sdk.Plugin).Configure(ctx, &sdk.ConfigureRequest{}); err != nil {
				t.Fatal(err)
			}
			ev, err := newRMEval(c, tc.rew, pairs, tc.refCnd)
			if err != nil {
				t.Fatal(err)
			}
			got, err := ev.run(c, m)
			if err != nil {
				t.Fatal(err)
			}
			in, cmp, _, err := comparisons(ctx, tc.rew, pairs)
			if err != nil {
				t.Fatal(err)
			}
			sc, err := m.Rewards(ctx, in)
			if err != nil {
				t.Fatal(err)
			}
			var ok float64
			for _, p := range cmp {
				if sc[p.I] > sc[p.J] {
					ok++
				}
			}
			ps, err := m.Rewards(ctx, pairSeqs(pairs, tc.refCnd))
			if err != nil {
				t.Fatal(err)
			}
			label, oracle := pairAccuracy(pairs, ps)
			want := map[string]float64{"comparison_accuracy": ok / float64(len(cmp)), "label_accuracy": label, "oracle_accuracy": oracle}
			for k, v := range want {
				if got[k] != v {
					t.Errorf("%s = %v, want %v", k, got[k], v)
				}
			}
			if len(got) != len(want) {
				t.Errorf("figures %v, want %v", got, want)
			}
			if want["comparison_accuracy"] == 0 || want["comparison_accuracy"] == 1 {
				t.Errorf("comparison accuracy %v: the model does not discriminate, so the test shows nothing", want["comparison_accuracy"])
			}
		})
	}
}
