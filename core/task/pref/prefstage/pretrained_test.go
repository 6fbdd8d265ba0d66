package prefstage

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/pit-lab/pit/core/experiment"
	"github.com/pit-lab/pit/core/hf"
	"github.com/pit-lab/pit/core/hf/hftest"
	"github.com/pit-lab/pit/core/model"
	"github.com/pit-lab/pit/core/nn"
	"github.com/pit-lab/pit/core/results"
	"github.com/pit-lab/pit/core/runner"
	"github.com/pit-lab/pit/core/task/pref"
)

const pretrainedFile = `name = "pref-pretrained"
seeds = [1]
[task]
kind = "preference"
format = "jsonl"
max_prompt_bytes = 6
max_response_bytes = 12
[task.train]
path = %q
[task.eval]
path = %q
[model]
init = "models/tiny"
freeze_embeddings = true
[stages.pref_data]
[stages.pref_rm]
steps = 120
batch_size = 16
lr = 3e-3
warmup_steps = 10
resamples = 500
reward = "bradley-terry"
`

func planPretrained(t *testing.T, file string) (*experiment.Experiment, runner.Plan) {
	t.Helper()
	exp, err := experiment.Load(context.Background(), file)
	if err != nil {
		t.Fatal(err)
	}
	runs, err := experiment.Expand(exp)
	if err != nil {
		t.Fatal(err)
	}
	plan, err := runner.PlanFor(exp, runs)
	if err != nil {
		t.Fatal(err)
	}
	return exp, plan
}

// A reward model starts from a Hugging Face checkpoint written on disk:
// the data are tokenized by the checkpoint's own tokenizer with SEP and REF
// added after its vocabulary, the frozen embeddings stay as loaded, the
// model still learns the held-out preference, and a changed checkpoint is
// a new cache key.
func TestPretrainedRewardModel(t *testing.T) {
	dir := t.TempDir()
	tiny := filepath.Join(dir, "models", "tiny")
	if err := os.MkdirAll(tiny, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := hftest.WriteGPT2(tiny, hftest.GPT2{DModel: 16, Layers: 2, Heads: 2, Context: 64}, 1); err != nil {
		t.Fatal(err)
	}
	train, eval := filepath.Join(dir, "train.jsonl"), filepath.Join(dir, "eval.jsonl")
	writePairs(t, train, 300, 1, false)
	writePairs(t, eval, 100, 2, false)
	file := filepath.Join(dir, "exp.toml")
	if err := os.WriteFile(file, fmt.Appendf(nil, pretrainedFile, train, eval), 0o644); err != nil {
		t.Fatal(err)
	}
	exp, plan := planPretrained(t, file)
	out := filepath.Join(dir, "results", exp.Name)
	if _, err := runner.Execute(context.Background(), plan, runner.Options{Dir: out, Plugins: inProcessHost{}, CodeVersion: "test"}); err != nil {
		t.Fatal(err)
	}
	runDir := filepath.Join(out, "seed=1")

	p, err := model.OpenPretrained(tiny)
	if err != nil {
		t.Fatal(err)
	}
	V := hftest.Vocab
	var d pref.Dataset
	datasets := findFiles(t, dir, DatasetFile)
	if len(datasets) != 1 {
		t.Fatalf("found %d %s files", len(datasets), DatasetFile)
	}
	if err := results.ReadJSON(datasets[0], &d); err != nil {
		t.Fatal(err)
	}
	if d.Vocab.Size != V+2 || d.Vocab.SEP != V || d.Vocab.REF != V+1 || d.Vocab.BOS != V-1 || d.Vocab.EOS != V-1 {
		t.Errorf("vocab %+v, want %d ids with SEP, REF added after the checkpoint's %d", d.Vocab, V+2, V)
	}
	e := d.Train.Examples[0]
	text, err := p.Tokenizer.Decode(e.Chosen)
	if err != nil || !slices.Equal(p.Tokenizer.Encode(text), e.Chosen) || len(e.Chosen) >= len(text) {
		t.Errorf("chosen %v (%q, %v) is not the checkpoint tokenizer's encoding, or no merge applied", e.Chosen, text, err)
	}

	var rep Report
	if err := results.ReadJSON(filepath.Join(runDir, RMFile), &rep); err != nil {
		t.Fatal(err)
	}
	t.Logf("accuracy %v, length baseline %v", rep.Accuracy, rep.LengthBaseline)
	if rep.Accuracy.Lo < 0.7 {
		t.Errorf("held-out accuracy %v, want its CI above 0.7", rep.Accuracy)
	}
	models := findFiles(t, dir, ModelFile)
	if len(models) != 1 {
		t.Fatalf("found %d %s files", len(models), ModelFile)
	}
	trained, err := nn.Load(models[0])
	if err != nil {
		t.Fatal(err)
	}
	orig, _, err := hf.LoadModel(tiny, hf.ImportOptions{})
	if err != nil {
		t.Fatal(err)
	}
	tw, ow := trained.Weights(), orig.Weights()
	D := 16
	if !slices.Equal(tw["wte"][:V*D], ow["wte"]) || !slices.Equal(tw["wpe"], ow["wpe"]) {
		t.Error("frozen embeddings changed in training")
	}
	if slices.Equal(tw["h0.attn.w"], ow["h0.attn.w"]) {
		t.Error("the first block did not train")
	}

	// Another checkpoint in the same folder is another key for every stage.
	if err := hftest.WriteGPT2(tiny, hftest.GPT2{DModel: 16, Layers: 2, Heads: 2, Context: 64}, 2); err != nil {
		t.Fatal(err)
	}
	_, plan2 := planPretrained(t, file)
	for i, st := range plan.Runs[0].Stages {
		if st.Config == plan2.Runs[0].Stages[i].Config {
			t.Errorf("stage %s: same key material after the checkpoint changed", st.Name)
		}
	}
}

func findFiles(t *testing.T, root, name string) []string {
	t.Helper()
	var out []string
	err := filepath.WalkDir(root, func(path string, de os.DirEntry, err error) error {
		if err == nil && !de.IsDir() && de.Name() == name {
			out = append(out, path)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}
