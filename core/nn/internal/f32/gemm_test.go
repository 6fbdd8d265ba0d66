package f32

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

func naive(tA, tB bool, m, n, k int, a []float32, lda int, b []float32, ldb int, c []float64, ldc int) {
	for i := 0; i < m; i++ {
		for j := 0; j < n; j++ {
			var s float64
			for p := 0; p < k; p++ {
				var av, bv float32
				if tA {
					av = a[p*lda+i]
				} else {
					av = a[i*lda+p]
				}
				if tB {
					bv = b[j*ldb+p]
				} else {
					bv = b[p*ldb+j]
				}
				s += float64(av) * float64(bv)
			}
			c[i*ldc+j] += s
		}
	}
}

func randm(rng *rand.Rand, n int) []float32 {
	s := make([]float32, n)
	for i := range s {
		s[i] = float32(rng.NormFloat64())
	}
	return s
}

func TestMul(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	shapes := [][3]int{{1, 1, 1}, {4, 16, 8}, {7, 33, 5}, {64, 65, 64}, {1024, 192, 64}, {5, 1, 64}, {8, 16, 0}, {256, 64, 1024},
		{12, 41, 64}, {64, 41, 1536}, {40, 40, 16}, {9, 47, 9}}
	for _, sh := range shapes {
		m, n, k := sh[0], sh[1], sh[2]
		for _, acc := range []bool{false, true} {
			for _, mode := range []string{"NN", "TN", "NT"} {
				t.Run(fmt.Sprintf("%s/%dx%dx%d/acc=%v", mode, m, n, k, acc), func(t *testing.T) {
					tA, tB := mode == "TN", mode == "NT"
					lda, ldb := k, n
					if tA {
						lda = m
					}
					if tB {
						ldb = k
					}
					a := randm(rng, max(m*k, 1))
					b := randm(rng, max(k*n, 1))
					c := randm(rng, m*n)
					want := make([]float64, m*n)
					if acc {
						for i, v := range c {
							want[i] = float64(v)
						}
					}
					naive(tA, tB, m, n, k, a, lda, b, ldb, want, n)
					switch mode {
					case "NN":
						MulNN(m, n, k, a, lda, b, ldb, c, n, acc)
					case "TN":
						MulTN(m, n, k, a, lda, b, ldb, c, n, acc)
					case "NT":
						MulNT(m, n, k, a, lda, b, ldb, c, n, acc)
					}
					for i := range want {
						if d := math.Abs(float64(c[i]) - want[i]); d > 1e-4*(1+math.Abs(want[i]))*math.Sqrt(float64(k+1)) {
							t.Fatalf("c[%d] = %v, want %v", i, c[i], want[i])
						}
					}
				})
			}
		}
	}
}

func BenchmarkMulNN(b *testing.B) {
	rng := rand.New(rand.NewPCG(1, 2))
	m, n, k := 1024, 192, 64
	x, w, c := randm(rng, m*k), randm(rng, k*n), make([]float32, m*n)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		MulNN(m, n, k, x, k, w, n, c, n, false)
	}
	b.ReportMetric(2*float64(m*n*k)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
}
