//go:build !amd64 || purego

package f32

const (
	haveKernel = false
	have512    = false
)

func block4x16(k int, a []float32, ai, ap int, b []float32, ldb int, c []float32, ldc int, acc bool) {
	panic("f32: no kernel")
}

func block4x32(k int, a []float32, ai, ap int, b []float32, ldb int, c []float32, ldc int, acc bool) {
	panic("f32: no kernel")
}

func geluSigVec(u, s []float32) int { return 0 }

func expShiftVec(x []float32, shift float32) int { return 0 }
