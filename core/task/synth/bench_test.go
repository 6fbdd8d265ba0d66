package synth

import (
	"context"
	"testing"
)

func BenchmarkScore(b *testing.B) {
	tk := mustTask(b, DefaultSettings())
	x := Prompt{Include: "aek", Exclude: "xz", Length: 9, Order: Ascending}
	y := MustLetters("abcdefghk")
	for b.Loop() {
		tk.Score(x, y)
	}
}

func BenchmarkMakePair(b *testing.B) {
	for _, mode := range []PairMode{Independent, Edit} {
		b.Run(string(mode), func(b *testing.B) {
			s := DefaultSettings()
			s.PairMode = mode
			tk := mustTask(b, s)
			rng := NewRand(1, 1, 1)
			x := RandomPrompt(rng, s.Prompts)
			for b.Loop() {
				tk.MakePair(rng, x)
			}
		})
	}
}

// BenchmarkBuild builds the default dataset (6,600 items).
func BenchmarkBuild(b *testing.B) {
	s := DefaultSettings()
	for b.Loop() {
		if _, err := Build(context.Background(), s, 1); err != nil {
			b.Fatal(err)
		}
	}
}
