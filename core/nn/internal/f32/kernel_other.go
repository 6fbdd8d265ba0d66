//go:build !amd64 || purego

package gemm

const haveKernel = false

func block4x16(k int, a []float32, ai, ap int, b []float32, ldb int, c []float32, ldc int) {
	panic("gemm: no kernel")
}
