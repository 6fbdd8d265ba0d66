//go:build amd64 && !purego

package f32

import (
	"os"
	"unsafe"

	"golang.org/x/sys/cpu"
)

//go:noescape
func kern4x16(k int, a unsafe.Pointer, ai, ap uintptr, b unsafe.Pointer, ldb uintptr, c unsafe.Pointer, ldc uintptr, acc bool)

//go:noescape
func kern4x32(k int, a unsafe.Pointer, ai, ap uintptr, b unsafe.Pointer, ldb uintptr, c unsafe.Pointer, ldc uintptr, acc bool)

var (
	haveKernel = cpu.X86.HasAVX2 && cpu.X86.HasFMA
	have512    = haveKernel && cpu.X86.HasAVX512F && os.Getenv("PIT_NN_NOAVX512") == ""
)

//go:noescape
func geluSig8(u, s *float32, n int)

//go:noescape
func expShift8(x *float32, n int, shift float32)

// expShiftVec handles x[:n8] for the largest multiple of 8 n8 ≤ len(x) and
// returns n8.
func expShiftVec(x []float32, shift float32) int {
	n8 := len(x) / 8 * 8
	if !haveKernel || n8 == 0 {
		return 0
	}
	expShift8(&x[0], n8, shift)
	return n8
}

// geluSigVec fills s[:n8] for the largest multiple of 8 n8 ≤ len(u) and
// returns n8.
func geluSigVec(u, s []float32) int {
	n8 := len(u) / 8 * 8
	if !haveKernel || n8 == 0 {
		return 0
	}
	geluSig8(&u[0], &s[0], n8)
	return n8
}

// block4x16 computes a 4×16 block of C with the AVX2 kernel.
func block4x16(k int, a []float32, ai, ap int, b []float32, ldb int, c []float32, ldc int, acc bool) {
	kern4x16(k, unsafe.Pointer(&a[0]), uintptr(ai*4), uintptr(ap*4), unsafe.Pointer(&b[0]), uintptr(ldb*4), unsafe.Pointer(&c[0]), uintptr(ldc*4), acc)
}

// block4x32 computes a 4×32 block of C with the AVX-512 kernel.
func block4x32(k int, a []float32, ai, ap int, b []float32, ldb int, c []float32, ldc int, acc bool) {
	kern4x32(k, unsafe.Pointer(&a[0]), uintptr(ai*4), uintptr(ap*4), unsafe.Pointer(&b[0]), uintptr(ldb*4), unsafe.Pointer(&c[0]), uintptr(ldc*4), acc)
}
