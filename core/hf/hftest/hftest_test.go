package hftest

import (
	"testing"

	"github.com/pit-lab/pit/core/hf"
	"github.com/pit-lab/pit/core/nn"
	"github.com/pit-lab/pit/core/tokenizer"
)

// Both tiny checkpoints load with their tokenizer into trainable models of
// the right architecture and sizes.
func TestTinyCheckpointsLoad(t *testing.T) {
	for _, tc := range []struct {
		name  string
		write func(dir string) error
		want  nn.Config
	}{
		{"gpt2", func(dir string) error { return WriteGPT2(dir, GPT2{DModel: 16, Layers: 2, Heads: 2, Context: 24}, 1) },
			nn.Config{Vocab: Vocab, Context: 24, DModel: 16, Layers: 2, Heads: 2, MLP: 64}},
		{"llama", func(dir string) error {
			return WriteLlama(dir, Llama{DModel: 16, Layers: 2, Heads: 4, KVHeads: 2, MLP: 40, Context: 24}, 1)
		}, nn.Config{Arch: nn.ArchLlama, Vocab: Vocab, Context: 24, DModel: 16, Layers: 2, Heads: 4, KVHeads: 2, MLP: 40, RMSEps: 1e-5, RopeTheta: 10000}},
		{"llama tied", func(dir string) error {
			return WriteLlama(dir, Llama{DModel: 8, Layers: 1, Heads: 2, KVHeads: 1, MLP: 16, Context: 12, Tied: true}, 2)
		}, nn.Config{Arch: nn.ArchLlama, Vocab: Vocab, Context: 12, DModel: 8, Layers: 1, Heads: 2, KVHeads: 1, MLP: 16, RMSEps: 1e-5, RopeTheta: 10000}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			if err := tc.write(dir); err != nil {
				t.Fatal(err)
			}
			m, _, err := hf.LoadModel(dir, hf.ImportOptions{})
			if err != nil {
				t.Fatal(err)
			}
			want := tc.want
			want.PadID, want.Device, want.DType = Vocab-1, "cpu", "float32"
			if got := m.Config(); got != want {
				t.Fatalf("config %+v, want %+v", got, want)
			}
			tok, err := tokenizer.LoadDir(dir)
			if err != nil {
				t.Fatal(err)
			}
			ids := tok.Encode("the cat is in the sun")
			tr, err := nn.NewTrainer(m, nn.OptimConfig{LR: 1e-3})
			if err != nil {
				t.Fatal(err)
			}
			defer tr.Close()
			if _, err := tr.SFTStep(nn.Batch{Seqs: [][]int{ids}}); err != nil {
				t.Fatal(err)
			}
		})
	}
	if err := WriteLlama(t.TempDir(), Llama{DModel: 12, Layers: 1, Heads: 4, KVHeads: 2, MLP: 8, Context: 8}, 1); err == nil {
		t.Error("an odd head width was accepted")
	}
}
