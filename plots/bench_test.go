package plots

import (
	"context"
	"io"
	"testing"
)

func BenchmarkLoad(b *testing.B) {
	for b.Loop() {
		loadFixture(b, "fake-ablation")
	}
}

// BenchmarkDraw draws one figure of each kind from the fixtures, as
// pit plot does by default (300 dpi PNG; Δ CIs over 3 seeds × 30 prompts).
func BenchmarkDraw(b *testing.B) {
	for _, ks := range kindSpecs {
		res := loadFixture(b, ks.fixture)
		b.Run(string(ks.spec.Kind), func(b *testing.B) {
			for b.Loop() {
				spec := ks.spec
				spec.Output = "b.png"
				if _, err := Draw(context.Background(), res, spec, Options{OutDir: b.TempDir()}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkWriteCSV(b *testing.B) {
	res := loadFixture(b, "fake-ablation")
	for b.Loop() {
		if err := WriteCSV(context.Background(), io.Discard, res, ExportOptions{Outcomes: true}); err != nil {
			b.Fatal(err)
		}
	}
}
