package model

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pit-lab/pit/core/experiment"
	"github.com/pit-lab/pit/core/hf"
	"github.com/pit-lab/pit/core/hf/hftest"
)

var tiny = hftest.GPT2{DModel: 16, Layers: 2, Heads: 2, Context: 64}

func writeTiny(t *testing.T, dir string, seed uint64) string {
	t.Helper()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := hftest.WriteGPT2(dir, tiny, seed); err != nil {
		t.Fatal(err)
	}
	return dir
}

// Adding tokens leaves the checkpoint's own logits alone, gives every
// added token its own embedding, and keeps the value head's column last.
func TestPretrainedLoadAddsTokens(t *testing.T) {
	dir := writeTiny(t, t.TempDir(), 1)
	p, err := OpenPretrained(dir)
	if err != nil {
		t.Fatal(err)
	}
	if p.Vocab() != hftest.Vocab || p.Context() != tiny.Context || p.Arch() != "gpt2" {
		t.Fatalf("vocab %d context %d arch %q", p.Vocab(), p.Context(), p.Arch())
	}
	bos, eos, err := p.Specials()
	if err != nil || bos != hftest.Vocab-1 || eos != hftest.Vocab-1 {
		t.Fatalf("specials %d %d %v", bos, eos, err)
	}
	plain, _, err := hf.LoadModel(dir, hf.ImportOptions{})
	if err != nil {
		t.Fatal(err)
	}
	m, err := p.Load(2, "cpu", 7)
	if err != nil {
		t.Fatal(err)
	}
	if got := m.Config().Vocab; got != hftest.Vocab+2 {
		t.Fatalf("vocab after adding 2 tokens = %d", got)
	}
	ids := p.Tokenizer.Encode("Hello there, how is the weather?")
	seq := append([]int{bos}, ids...)
	a, err := plain.Logits(context.Background(), seq)
	if err != nil {
		t.Fatal(err)
	}
	b, err := m.Logits(context.Background(), seq)
	if err != nil {
		t.Fatal(err)
	}
	sameLogits(t, a, b)
	w := m.Weights()
	D := tiny.DModel
	sep, ref := w["wte"][hftest.Vocab*D:(hftest.Vocab+1)*D], w["wte"][(hftest.Vocab+1)*D:]
	same := true
	for i := range sep {
		same = same && sep[i] == ref[i]
	}
	if same {
		t.Error("the two added tokens have the same embedding")
	}
	// The added tokens are read: a sequence with SEP scores differently
	// from one with REF.
	r, err := m.Rewards(context.Background(), [][]int{{bos, ids[0], hftest.Vocab, ids[1]}, {bos, ids[0], hftest.Vocab + 1, ids[1]}})
	if err != nil {
		t.Fatal(err)
	}
	l0, err := m.Logits(context.Background(), []int{bos, hftest.Vocab, ids[1]})
	if err != nil {
		t.Fatal(err)
	}
	l1, err := m.Logits(context.Background(), []int{bos, hftest.Vocab + 1, ids[1]})
	if err != nil {
		t.Fatal(err)
	}
	if l0[2][5] == l1[2][5] {
		t.Errorf("SEP and REF lead to the same logits (rewards %v)", r)
	}
}

func TestOpenPretrainedErrors(t *testing.T) {
	dir := writeTiny(t, t.TempDir(), 1)
	noTok := t.TempDir()
	for _, f := range []string{hf.ConfigFile, hf.SingleFile} {
		buf, err := os.ReadFile(filepath.Join(dir, f))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(noTok, f), buf, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for _, tc := range []struct {
		name, dir, want string
	}{
		{"missing", filepath.Join(dir, "nope"), "no such file"},
		{"file", filepath.Join(dir, hf.ConfigFile), "is a file"},
		{"no tokenizer", noTok, "vocab.json"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := OpenPretrained(tc.dir)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want it to mention %q", err, tc.want)
			}
		})
	}
}

func TestSettingsResolve(t *testing.T) {
	root := t.TempDir()
	writeTiny(t, filepath.Join(root, "models", "tiny"), 1)
	written := func(keys ...string) func(string) bool {
		return func(k string) bool {
			for _, x := range keys {
				if x == k {
					return true
				}
			}
			return false
		}
	}
	for _, tc := range []struct {
		name    string
		s       Settings
		written []string
		wantKey string // "" for no error
	}{
		{"sizes from the checkpoint", Settings{Init: "models/tiny", DModel: 32, Layers: 2, Heads: 4}, nil, ""},
		{"written size that agrees", Settings{Init: "models/tiny", DModel: 16, Layers: 2, Heads: 2}, []string{"d_model", "heads"}, ""},
		{"written size that disagrees", Settings{Init: "models/tiny", DModel: 32, Layers: 2, Heads: 4}, []string{"d_model"}, "d_model"},
		{"missing folder", Settings{Init: "models/none"}, nil, "init"},
		{"too many frozen layers", Settings{Init: "models/tiny", FreezeLayers: 3}, nil, "freeze_layers"},
		{"freezing without init", Settings{DModel: 32, Layers: 2, Heads: 4, FreezeEmbeddings: true}, nil, "freeze_embeddings"},
		{"no init", Settings{DModel: 32, Layers: 2, Heads: 4}, nil, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := tc.s
			err := s.Resolve(experiment.Resolution{Dir: root, Written: written(tc.written...)})
			if tc.wantKey == "" {
				if err != nil {
					t.Fatal(err)
				}
				if s.Init != "" && (s.DModel != tiny.DModel || s.Heads != tiny.Heads || s.Pretrained() == nil) {
					t.Errorf("sizes not taken from the checkpoint: %+v", s)
				}
				return
			}
			var fe *experiment.FieldError
			if !errors.As(err, &fe) || fe.Key != tc.wantKey {
				t.Fatalf("err = %v, want a field error at %q", err, tc.wantKey)
			}
		})
	}
}

func TestFrozen(t *testing.T) {
	if Frozen(&Settings{}) != nil || Frozen(nil) != nil {
		t.Fatal("nothing frozen should give a nil predicate")
	}
	f := Frozen(&Settings{FreezeEmbeddings: true, FreezeLayers: 2})
	for name, want := range map[string]bool{
		"wte": true, "wpe": true, "h0.attn.w": true, "h1.ln2.g": true, "h2.attn.w": false, "h10.mlp.w1": false,
		"lnf.g": false, "head.w": false, "rm.w": false,
	} {
		if got := f(name); got != want {
			t.Errorf("frozen(%q) = %v, want %v", name, got, want)
		}
	}
	g := Frozen(&Settings{FreezeLayers: 1})
	if g("wte") || !g("h0.mlp.b2") || g("h1.mlp.b2") {
		t.Error("freeze_layers = 1 alone")
	}
}

// A Llama folder starts a model the same way: its sizes, its tokenizer,
// added tokens that leave its own logits alone.
func TestPretrainedLlama(t *testing.T) {
	dir := t.TempDir()
	if err := hftest.WriteLlama(dir, hftest.Llama{DModel: 16, Layers: 2, Heads: 4, KVHeads: 2, MLP: 32, Context: 64}, 3); err != nil {
		t.Fatal(err)
	}
	p, err := OpenPretrained(dir)
	if err != nil {
		t.Fatal(err)
	}
	if p.Arch() != "llama" || p.Vocab() != hftest.Vocab {
		t.Fatalf("arch %q vocab %d", p.Arch(), p.Vocab())
	}
	plain, _, err := hf.LoadModel(dir, hf.ImportOptions{})
	if err != nil {
		t.Fatal(err)
	}
	m, err := p.Load(2, "cpu", 1)
	if err != nil {
		t.Fatal(err)
	}
	bos, _, _ := p.Specials()
	seq := append([]int{bos}, p.Tokenizer.Encode("the weather is fine")...)
	a, err := plain.Logits(context.Background(), seq)
	if err != nil {
		t.Fatal(err)
	}
	b, err := m.Logits(context.Background(), seq)
	if err != nil {
		t.Fatal(err)
	}
	sameLogits(t, a, b)
	if m.Config().Arch != "llama" || m.Config().Vocab != hftest.Vocab+2 {
		t.Errorf("config %+v", m.Config())
	}
}

// sameLogits fails unless the checkpoint's own logits (its first Vocab ids)
// are the same before and after adding tokens.
func sameLogits(t *testing.T, before, after [][]float64) {
	t.Helper()
	for i := range before {
		for v := range hftest.Vocab {
			if d := before[i][v] - after[i][v]; d > 1e-4 || d < -1e-4 {
				t.Fatalf("logit [%d][%d] moved from %v to %v when tokens were added", i, v, before[i][v], after[i][v])
			}
		}
	}
}
