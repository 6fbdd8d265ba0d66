package nn

import (
	"fmt"
	"math/rand/v2"
	"os"
	"runtime"
	"strconv"
	"testing"
	"time"
)

// The reference shape of issue 2: d_model 64, 2 layers, 4 heads, vocab 64,
// context 32, batch 32.
func refConfig() Config {
	return Config{Vocab: 64, Context: 32, DModel: 64, Layers: 2, Heads: 4, MLP: 256, Seed: 1}
}

const refBatch = 32

// benchBatch is the batch of BenchmarkTrainStep and BenchmarkSample: 32, or
// PIT_BENCH_BATCH (compare.sh's largest shape uses fewer sequences).
func benchBatch(b testing.TB) int {
	s := os.Getenv("PIT_BENCH_BATCH")
	if s == "" {
		return refBatch
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 {
		b.Fatalf("PIT_BENCH_BATCH=%q: want a positive number of sequences", s)
	}
	return n
}

func refBatchData(rng *rand.Rand, cfg Config) Batch { return batchData(rng, cfg, refBatch) }

func batchData(rng *rand.Rand, cfg Config, n int) Batch {
	b := Batch{Seqs: make([][]int, n)}
	for i := range b.Seqs {
		s := make([]int, cfg.Context)
		for j := range s {
			s[j] = rng.IntN(cfg.Vocab)
		}
		b.Seqs[i] = s
	}
	return b
}

// BenchmarkTrainStep measures one SFT step (forward, backward, AdamW) on 32
// full sequences of 32 tokens and reports tokens/s.
func BenchmarkTrainStep(b *testing.B) { benchTrainStep(b, benchShape(b)) }

// benchShape is the model BenchmarkTrainStep and BenchmarkSample measure:
// the reference shape, or PIT_BENCH_SHAPE="d/L/h/ctx" (d_model, layers,
// heads, context; vocabulary 64, MLP 4·d) for scripts/bench/compare.sh's
// sweep.
func benchShape(b *testing.B) Config {
	cfg := refConfig()
	if s := os.Getenv("PIT_BENCH_SHAPE"); s != "" {
		var d, l, h, c int
		if n, err := fmt.Sscanf(s, "%d/%d/%d/%d", &d, &l, &h, &c); n != 4 || err != nil {
			b.Fatalf("PIT_BENCH_SHAPE=%q: want d_model/layers/heads/context, e.g. 128/4/4/64", s)
		}
		cfg.DModel, cfg.Layers, cfg.Heads, cfg.Context, cfg.MLP = d, l, h, c, 4*d
	}
	return cfg
}

// benchTrainStep measures SFT steps on 32 full sequences of cfg's context.
func benchTrainStep(b *testing.B, cfg Config) {
	m := mustModel(b, cfg)
	tr := mustTrainer(b, m, OptimConfig{LR: 1e-4})
	defer tr.Close()
	batch := batchData(rand.New(rand.NewPCG(1, 1)), cfg, benchBatch(b))
	if _, err := tr.SFTStep(batch); err != nil { // build the graph outside the timer
		b.Fatal(err)
	}
	b.ResetTimer()
	c0 := cpuTime()
	for i := 0; i < b.N; i++ {
		if _, err := tr.SFTStep(batch); err != nil {
			b.Fatal(err)
		}
	}
	reportTokens(b, len(batch.Seqs)*cfg.Context, c0)
	b.ReportMetric(float64(m.NumParams()), "params")
	b.ReportMetric(float64(peakRSS())/(1<<20), "peak-RSS-MiB")
}

// BenchmarkSample measures sampling 32 sequences of 32 tokens (a one-token
// prompt and 31 new tokens) and reports generated tokens/s.
func BenchmarkSample(b *testing.B) { benchSample(b, benchShape(b)) }

// benchSample measures sampling 32 sequences from a one-token prompt to
// cfg's context length.
func benchSample(b *testing.B, cfg Config) {
	m := mustModel(b, cfg)
	prompts := make([][]int, benchBatch(b))
	for i := range prompts {
		prompts[i] = []int{1}
	}
	opts := SampleOptions{Temperature: 1, MaxNew: cfg.Context - 1, EOS: -1}
	rng := rand.New(rand.NewPCG(1, 1))
	if _, err := m.Sample(b.Context(), prompts, opts, rng); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	c0 := cpuTime()
	for i := 0; i < b.N; i++ {
		if _, err := m.Sample(b.Context(), prompts, opts, rng); err != nil {
			b.Fatal(err)
		}
	}
	reportTokens(b, len(prompts)*(cfg.Context-1), c0)
	b.ReportMetric(float64(peakRSS())/(1<<20), "peak-RSS-MiB")
}

// BenchmarkScore measures teacher-forced scoring of 32 sequences of 32
// tokens.
func BenchmarkScore(b *testing.B) {
	cfg := refConfig()
	m := mustModel(b, cfg)
	batch := refBatchData(rand.New(rand.NewPCG(1, 1)), cfg)
	if _, err := m.ScoreTokens(b.Context(), batch.Seqs, 1); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	c0 := cpuTime()
	for i := 0; i < b.N; i++ {
		if _, err := m.ScoreTokens(b.Context(), batch.Seqs, 1); err != nil {
			b.Fatal(err)
		}
	}
	reportTokens(b, refBatch*cfg.Context, c0)
}

// BenchmarkMemory1000Steps runs 1000 training steps (with scoring and
// sampling every 100) and reports the heap and RSS before and after: graphs
// are built once per shape, so memory must stay flat.
func BenchmarkMemory1000Steps(b *testing.B) {
	cfg := refConfig()
	cfg.DModel, cfg.MLP = 32, 128
	for i := 0; i < b.N; i++ {
		m := mustModel(b, cfg)
		tr := mustTrainer(b, m, OptimConfig{LR: 1e-4})
		rng := rand.New(rand.NewPCG(1, 1))
		batch := refBatchData(rng, cfg)
		batch.Seqs = batch.Seqs[:8]
		var heap0, rss0 uint64
		for step := 0; step < 1000; step++ {
			if _, err := tr.SFTStep(batch); err != nil {
				b.Fatal(err)
			}
			if step%100 == 0 {
				if _, err := m.ScoreTokens(b.Context(), batch.Seqs, 1); err != nil {
					b.Fatal(err)
				}
				if _, err := m.Sample(b.Context(), batch.Seqs, SampleOptions{Temperature: 1, MaxNew: 8, EOS: -1}, rng); err != nil {
					b.Fatal(err)
				}
			}
			if step == 99 {
				heap0, rss0 = memNow()
			}
		}
		heap1, rss1 := memNow()
		b.ReportMetric(float64(heap0)/(1<<20), "heapMiB@100")
		b.ReportMetric(float64(heap1)/(1<<20), "heapMiB@1000")
		b.ReportMetric(float64(rss0)/(1<<20), "rssMiB@100")
		b.ReportMetric(float64(rss1)/(1<<20), "rssMiB@1000")
		if heap1 > heap0+(8<<20) {
			b.Fatalf("heap grew from %d to %d bytes over 900 steps", heap0, heap1)
		}
	}
}

// reportTokens reports wall-clock tokens/s and the CPU time per op (the
// machine is shared, so CPU time is the steadier number).
func reportTokens(b *testing.B, tokensPerOp int, cpu0 time.Duration) {
	cpu := cpuTime() - cpu0
	b.ReportMetric(float64(b.N*tokensPerOp)/b.Elapsed().Seconds(), "tokens/s")
	b.ReportMetric(float64(cpu.Microseconds())/1e3/float64(b.N), "cpu-ms/op")
}

// memNow returns the live heap after a GC and the process's resident set.
func memNow() (heap, rss uint64) {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.HeapAlloc, readRSS()
}

func ExampleConfig() {
	cfg := refConfig().WithDefaults()
	m, err := New(cfg)
	if err != nil {
		panic(err)
	}
	fmt.Println(m.NumParams())
	// Output: 110530
}
