package f32

// goKernels is the pure-Go micro-kernel set: 4×8 and 4×4 tiles computed
// as 4×4 blocks of scalar accumulators.
var goKernels = &kernelSet{name: "go", mr: 4, nr: 8, wide: goTile4x8, narrow: goTile4x4}

func goTile4x8(k int, a []float32, ai, ap int, b []float32, ldb int, c []float32, ldc int, load bool) {
	goTile4x4(k, a, ai, ap, b, ldb, c, ldc, load)
	goTile4x4(k, a, ai, ap, b[4:], ldb, c[4:], ldc, load)
}

// goTile4x4 computes C[0:4, 0:4] (see tileKernel).
func goTile4x4(k int, a []float32, ai, ap int, b []float32, ldb int, c []float32, ldc int, load bool) {
	var c00, c01, c02, c03, c10, c11, c12, c13, c20, c21, c22, c23, c30, c31, c32, c33 float32
	if load {
		r := c[:4]
		c00, c01, c02, c03 = r[0], r[1], r[2], r[3]
		r = c[ldc : ldc+4]
		c10, c11, c12, c13 = r[0], r[1], r[2], r[3]
		r = c[2*ldc : 2*ldc+4]
		c20, c21, c22, c23 = r[0], r[1], r[2], r[3]
		r = c[3*ldc : 3*ldc+4]
		c30, c31, c32, c33 = r[0], r[1], r[2], r[3]
	}
	for p := 0; p < k; p++ {
		br := b[p*ldb : p*ldb+4]
		b0, b1, b2, b3 := br[0], br[1], br[2], br[3]
		o := p * ap
		a0, a1, a2, a3 := a[o], a[o+ai], a[o+2*ai], a[o+3*ai]
		c00 += a0 * b0
		c01 += a0 * b1
		c02 += a0 * b2
		c03 += a0 * b3
		c10 += a1 * b0
		c11 += a1 * b1
		c12 += a1 * b2
		c13 += a1 * b3
		c20 += a2 * b0
		c21 += a2 * b1
		c22 += a2 * b2
		c23 += a2 * b3
		c30 += a3 * b0
		c31 += a3 * b1
		c32 += a3 * b2
		c33 += a3 * b3
	}
	r := c[:4]
	r[0], r[1], r[2], r[3] = c00, c01, c02, c03
	r = c[ldc : ldc+4]
	r[0], r[1], r[2], r[3] = c10, c11, c12, c13
	r = c[2*ldc : 2*ldc+4]
	r[0], r[1], r[2], r[3] = c20, c21, c22, c23
	r = c[3*ldc : 3*ldc+4]
	r[0], r[1], r[2], r[3] = c30, c31, c32, c33
}
