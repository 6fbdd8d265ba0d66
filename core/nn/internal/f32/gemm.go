// Package f32 holds core/nn's float32 kernels: row-major matrix products
// and the GELU gate. It uses register-blocked AVX2/FMA assembly on amd64
// CPUs that have it, and gonum's pure-Go BLAS and plain Go everywhere else
// (and under the purego build tag).
package f32

import (
	"runtime"
	"sync"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/gonum"
)

// Accelerated reports whether the assembly kernel is in use.
func Accelerated() bool { return haveKernel }

var impl gonum.Implementation

// MulNN computes C = A·B (or C += A·B when acc), with A [m×k], B [k×n] and
// C [m×n], all row-major with leading dimensions lda, ldb, ldc.
func MulNN(m, n, k int, a []float32, lda int, b []float32, ldb int, c []float32, ldc int, acc bool) {
	if m == 0 || n == 0 || k == 0 {
		zeroUnlessAcc(m, n, c, ldc, acc)
		return
	}
	if !haveKernel {
		impl.Sgemm(blas.NoTrans, blas.NoTrans, m, n, k, 1, a, lda, b, ldb, beta(acc), c, ldc)
		return
	}
	mul(m, n, k, a, lda, 1, b, ldb, c, ldc, acc)
}

// MulTN computes C = Aᵀ·B (or C += Aᵀ·B when acc), with A [k×m], B [k×n]
// and C [m×n].
func MulTN(m, n, k int, a []float32, lda int, b []float32, ldb int, c []float32, ldc int, acc bool) {
	if m == 0 || n == 0 || k == 0 {
		zeroUnlessAcc(m, n, c, ldc, acc)
		return
	}
	if !haveKernel {
		impl.Sgemm(blas.Trans, blas.NoTrans, m, n, k, 1, a, lda, b, ldb, beta(acc), c, ldc)
		return
	}
	mul(m, n, k, a, 1, lda, b, ldb, c, ldc, acc)
}

// MulNT computes C = A·Bᵀ (or C += A·Bᵀ when acc), with A [m×k], B [n×k]
// and C [m×n].
func MulNT(m, n, k int, a []float32, lda int, b []float32, ldb int, c []float32, ldc int, acc bool) {
	if m == 0 || n == 0 || k == 0 {
		zeroUnlessAcc(m, n, c, ldc, acc)
		return
	}
	if !haveKernel {
		impl.Sgemm(blas.NoTrans, blas.Trans, m, n, k, 1, a, lda, b, ldb, beta(acc), c, ldc)
		return
	}
	// Transpose B (a weight matrix, small) so the kernel streams rows.
	bt := getScratch(k * n)
	for j := 0; j < n; j++ {
		row := b[j*ldb : j*ldb+k]
		for p, v := range row {
			bt[p*n+j] = v
		}
	}
	mul(m, n, k, a, lda, 1, bt, n, c, ldc, acc)
	putScratch(bt)
}

func zeroUnlessAcc(m, n int, c []float32, ldc int, acc bool) {
	if acc {
		return
	}
	for i := 0; i < m; i++ {
		clear(c[i*ldc : i*ldc+n])
	}
}

func beta(acc bool) float32 {
	if acc {
		return 1
	}
	return 0
}

var scratch sync.Pool

func getScratch(n int) []float32 {
	if s, ok := scratch.Get().(*[]float32); ok && cap(*s) >= n {
		return (*s)[:n]
	}
	return make([]float32, n)
}

func putScratch(s []float32) { scratch.Put(&s) }

// mul computes C (+)= A·B where A(i, p) = a[i·ai + p·ap]; k > 0.
func mul(m, n, k int, a []float32, ai, ap int, b []float32, ldb int, c []float32, ldc int, acc bool) {
	m4 := m / 4 * 4
	blocks := m4 / 4
	workers := runtime.GOMAXPROCS(0)
	if m*n*k < 1<<19 || blocks < 2 {
		workers = 1
	}
	workers = min(workers, blocks)
	if workers <= 1 {
		mulRows(0, m4, n, k, a, ai, ap, b, ldb, c, ldc, acc)
	} else {
		var wg sync.WaitGroup
		per := (blocks + workers - 1) / workers
		for w := 0; w < workers; w++ {
			lo, hi := w*per*4, min((w+1)*per*4, m4)
			if lo >= hi {
				break
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				mulRows(lo, hi, n, k, a, ai, ap, b, ldb, c, ldc, acc)
			}()
		}
		wg.Wait()
	}
	if m4 < m {
		edge(m4, m, 0, n, k, a, ai, ap, b, ldb, c, ldc, acc)
	}
}

// mulRows handles rows [lo, hi) (a multiple of 4 apart): 32- and
// 16-column blocks with the kernels, the remaining columns in Go.
func mulRows(lo, hi, n, k int, a []float32, ai, ap int, b []float32, ldb int, c []float32, ldc int, acc bool) {
	j := 0
	if have512 {
		for ; j+32 <= n; j += 32 {
			for i := lo; i < hi; i += 4 {
				block4x32(k, a[i*ai:], ai, ap, b[j:], ldb, c[i*ldc+j:], ldc, acc)
			}
		}
	}
	for ; j+16 <= n; j += 16 {
		for i := lo; i < hi; i += 4 {
			block4x16(k, a[i*ai:], ai, ap, b[j:], ldb, c[i*ldc+j:], ldc, acc)
		}
	}
	if j < n {
		tail(lo, hi, j, n, k, a, ai, ap, b, ldb, c, ldc, acc)
	}
}

// tail handles the last n−j0 (< 16) columns with the 16-column kernel on a
// zero-padded copy of B's columns and a scratch block of C.
func tail(lo, hi, j0, n, k int, a []float32, ai, ap int, b []float32, ldb int, c []float32, ldc int, acc bool) {
	w := n - j0
	if w <= 2 || k < 8 {
		edge(lo, hi, j0, n, k, a, ai, ap, b, ldb, c, ldc, acc)
		return
	}
	buf := getScratch(k*16 + 64)
	bp, tmp := buf[:k*16], buf[k*16:]
	for p := 0; p < k; p++ {
		row := bp[p*16 : p*16+16]
		copy(row, b[p*ldb+j0:p*ldb+n])
		clear(row[w:])
	}
	for i := lo; i < hi; i += 4 {
		block4x16(k, a[i*ai:], ai, ap, bp, 16, tmp, 16, false)
		for r := 0; r < 4; r++ {
			dst, src := c[(i+r)*ldc+j0:(i+r)*ldc+n], tmp[r*16:r*16+w]
			if acc {
				for q, v := range src {
					dst[q] += v
				}
			} else {
				copy(dst, src)
			}
		}
	}
	putScratch(buf)
}

func edge(i0, i1, j0, j1, k int, a []float32, ai, ap int, b []float32, ldb int, c []float32, ldc int, acc bool) {
	for i := i0; i < i1; i++ {
		for j := j0; j < j1; j++ {
			var s float32
			for p := 0; p < k; p++ {
				s += a[i*ai+p*ap] * b[p*ldb+j]
			}
			if acc {
				c[i*ldc+j] += s
			} else {
				c[i*ldc+j] = s
			}
		}
	}
}
