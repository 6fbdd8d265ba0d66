#include "textflag.h"

// func kern4x16(k int, a unsafe.Pointer, ai, ap uintptr, b unsafe.Pointer, ldb uintptr, c unsafe.Pointer, ldc uintptr)
//
// C[0:4, 0:16] += Σ_p A(i, p)·B[p, 0:16] where A(i, p) is at a + i·ai + p·ap
// and B row p at b + p·ldb (all strides in bytes). AVX2 + FMA.
TEXT ·kern4x16(SB), NOSPLIT, $0-64
	MOVQ k+0(FP), CX
	MOVQ a+8(FP), R8
	MOVQ ai+16(FP), R9
	MOVQ ap+24(FP), R10
	MOVQ b+32(FP), SI
	MOVQ ldb+40(FP), DX
	MOVQ c+48(FP), DI
	MOVQ ldc+56(FP), BX
	LEAQ (R8)(R9*1), R11
	LEAQ (R11)(R9*1), R12
	LEAQ (R12)(R9*1), R13
	VXORPS Y4, Y4, Y4
	VXORPS Y5, Y5, Y5
	VXORPS Y6, Y6, Y6
	VXORPS Y7, Y7, Y7
	VXORPS Y8, Y8, Y8
	VXORPS Y9, Y9, Y9
	VXORPS Y10, Y10, Y10
	VXORPS Y11, Y11, Y11
	TESTQ CX, CX
	JE   store

loop:
	VMOVUPS      (SI), Y0
	VMOVUPS      32(SI), Y1
	VBROADCASTSS (R8), Y2
	VFMADD231PS  Y0, Y2, Y4
	VFMADD231PS  Y1, Y2, Y5
	VBROADCASTSS (R11), Y3
	VFMADD231PS  Y0, Y3, Y6
	VFMADD231PS  Y1, Y3, Y7
	VBROADCASTSS (R12), Y2
	VFMADD231PS  Y0, Y2, Y8
	VFMADD231PS  Y1, Y2, Y9
	VBROADCASTSS (R13), Y3
	VFMADD231PS  Y0, Y3, Y10
	VFMADD231PS  Y1, Y3, Y11
	ADDQ         R10, R8
	ADDQ         R10, R11
	ADDQ         R10, R12
	ADDQ         R10, R13
	ADDQ         DX, SI
	DECQ         CX
	JNE          loop

store:
	VADDPS  (DI), Y4, Y4
	VMOVUPS Y4, (DI)
	VADDPS  32(DI), Y5, Y5
	VMOVUPS Y5, 32(DI)
	ADDQ    BX, DI
	VADDPS  (DI), Y6, Y6
	VMOVUPS Y6, (DI)
	VADDPS  32(DI), Y7, Y7
	VMOVUPS Y7, 32(DI)
	ADDQ    BX, DI
	VADDPS  (DI), Y8, Y8
	VMOVUPS Y8, (DI)
	VADDPS  32(DI), Y9, Y9
	VMOVUPS Y9, 32(DI)
	ADDQ    BX, DI
	VADDPS  (DI), Y10, Y10
	VMOVUPS Y10, (DI)
	VADDPS  32(DI), Y11, Y11
	VMOVUPS Y11, 32(DI)
	VZEROUPPER
	RET
