package nn

import (
	"path/filepath"
	"strings"
	"testing"
)

func TestWithWeightsOfAndLoadWeights(t *testing.T) {
	src, err := New(Config{Vocab: 11, Context: 9, DModel: 8, Layers: 1, Heads: 2, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "m.bin")
	if err := src.Save(path); err != nil {
		t.Fatal(err)
	}
	want := src.Weights()
	// Another seed and pad token: only the architecture must match.
	cfg := Config{Vocab: 11, Context: 9, DModel: 8, Layers: 1, Heads: 2, Seed: 99, PadID: 3}
	fromModel, err := WithWeightsOf(cfg, src)
	if err != nil {
		t.Fatal(err)
	}
	fromFile, err := LoadWeights(cfg, path)
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range []*Model{fromModel, fromFile} {
		if m.Config().Seed != 99 || m.Config().PadID != 3 {
			t.Errorf("config %+v: not the one asked for", m.Config())
		}
		got := m.Weights()
		for name, ws := range want {
			for i := range ws {
				if got[name][i] != ws[i] {
					t.Fatalf("%s[%d] = %v, want %v", name, i, got[name][i], ws[i])
				}
			}
		}
	}
	// The copy is independent of the source.
	fromModel.params[0].t.Data().([]float32)[0] += 1
	if src.Weights()["wte"][0] != want["wte"][0] {
		t.Error("WithWeightsOf shares the source's storage")
	}
	for _, tc := range []struct {
		cfg  Config
		want string
	}{
		{Config{Vocab: 11, Context: 9, DModel: 16, Layers: 1, Heads: 2}, "d_model 8 (want 16)"},
		{Config{Vocab: 12, Context: 9, DModel: 8, Layers: 2, Heads: 2}, "vocab 11 (want 12), layers 1 (want 2)"},
	} {
		if _, err := WithWeightsOf(tc.cfg, src); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("WithWeightsOf(%+v): %v, want an error naming %q", tc.cfg, err, tc.want)
		}
		if _, err := LoadWeights(tc.cfg, path); err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), path) {
			t.Errorf("LoadWeights(%+v): %v, want an error naming %q and the file", tc.cfg, err, tc.want)
		}
	}
	if _, err := LoadWeights(cfg, filepath.Join(t.TempDir(), "missing.bin")); err == nil {
		t.Error("a missing file: no error")
	}
}

// BenchmarkLoadWeights against BenchmarkLoad: starting a model from a
// checkpoint costs reading the checkpoint (init_from adds a copy of the
// weights, no initialisation).
func BenchmarkLoadWeights(b *testing.B) { benchLoad(b, true) }

// BenchmarkLoad reads a checkpoint as Load does.
func BenchmarkLoad(b *testing.B) { benchLoad(b, false) }

func benchLoad(b *testing.B, into bool) {
	cfg := Config{Vocab: 59, Context: 48, DModel: 64, Layers: 2, Heads: 4, Seed: 1}
	m, err := New(cfg)
	if err != nil {
		b.Fatal(err)
	}
	path := filepath.Join(b.TempDir(), "m.bin")
	if err := m.Save(path); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for b.Loop() {
		if into {
			_, err = LoadWeights(cfg, path)
		} else {
			_, err = Load(path)
		}
		if err != nil {
			b.Fatal(err)
		}
	}
}
