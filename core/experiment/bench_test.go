package experiment

import (
	"context"
	"fmt"
	"os"
	"strings"
	"testing"
)

// BenchmarkLoad measures validating and expanding the ablation example
// (6 arms x 2 seeds).
func BenchmarkLoad(b *testing.B) {
	data, err := os.ReadFile("testdata/valid/ablation.toml")
	if err != nil {
		b.Fatal(err)
	}
	r, _ := newTestRegistry()
	for b.Loop() {
		exp, err := r.Parse(context.Background(), "ablation.toml", data)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := Expand(exp); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkLoadGrid measures a 30 x 30 = 900-arm grid; per-arm cost is
// ns/op divided by 900.
func BenchmarkLoadGrid(b *testing.B) {
	var vals []string
	for i := 1; i <= 30; i++ {
		vals = append(vals, fmt.Sprint(i))
	}
	src := fmt.Sprintf(`name = "grid"
seeds = [1, 2]
[task]
kind = "synthetic"
[stages.sft]
steps = 1
[stages.pit_rl]
steps = 1
reward = "pit-gap"
[grid.axes.steps]
path = "stages.sft.steps"
values = [%[1]s]
[grid.axes.switch]
path = "stages.pit_rl.curriculum.config.switch_step"
values = [%[1]s]
`, strings.Join(vals, ", "))
	r, _ := newTestRegistry()
	for b.Loop() {
		exp, err := r.Parse(context.Background(), "grid.toml", []byte(src))
		if err != nil {
			b.Fatal(err)
		}
		if len(exp.Arms) != 900 {
			b.Fatalf("%d arms", len(exp.Arms))
		}
	}
}
