//go:build !purego

#include "textflag.h"

// Register-blocked micro-kernels: kern4x16 (AVX2 + FMA) and kern4x32
// (AVX-512F). Each keeps a 4-row block of C in eight vector registers.

// func kern4x16(k int, a unsafe.Pointer, ai, ap uintptr, b unsafe.Pointer, ldb uintptr, c unsafe.Pointer, ldc uintptr, acc bool)
//
// C[0:4, 0:16] (+)= Σ_p A(i, p)·B[p, 0:16] where A(i, p) is at a + i·ai + p·ap
// and B row p at b + p·ldb (strides in bytes); acc adds to C, else overwrites it.
TEXT ·kern4x16(SB), NOSPLIT, $0-65
	MOVQ    k+0(FP), CX
	MOVQ    a+8(FP), R8
	MOVQ    ai+16(FP), R9
	MOVQ    ap+24(FP), R10
	MOVQ    b+32(FP), SI
	MOVQ    ldb+40(FP), DX
	MOVQ    c+48(FP), DI
	MOVQ    ldc+56(FP), BX
	MOVBQZX acc+64(FP), AX
	LEAQ    (R8)(R9*1), R11
	LEAQ    (R11)(R9*1), R12
	LEAQ    (R12)(R9*1), R13
	VXORPS  Y4, Y4, Y4
	VXORPS  Y5, Y5, Y5
	VXORPS  Y6, Y6, Y6
	VXORPS  Y7, Y7, Y7
	VXORPS  Y8, Y8, Y8
	VXORPS  Y9, Y9, Y9
	VXORPS  Y10, Y10, Y10
	VXORPS  Y11, Y11, Y11
	TESTQ   CX, CX
	JE      store

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
	TESTQ   AX, AX
	JE      overwrite
	VADDPS  (DI), Y4, Y4
	VADDPS  32(DI), Y5, Y5
	VMOVUPS Y4, (DI)
	VMOVUPS Y5, 32(DI)
	ADDQ    BX, DI
	VADDPS  (DI), Y6, Y6
	VADDPS  32(DI), Y7, Y7
	VMOVUPS Y6, (DI)
	VMOVUPS Y7, 32(DI)
	ADDQ    BX, DI
	VADDPS  (DI), Y8, Y8
	VADDPS  32(DI), Y9, Y9
	VMOVUPS Y8, (DI)
	VMOVUPS Y9, 32(DI)
	ADDQ    BX, DI
	VADDPS  (DI), Y10, Y10
	VADDPS  32(DI), Y11, Y11
	VMOVUPS Y10, (DI)
	VMOVUPS Y11, 32(DI)
	ADDQ    BX, DI
	VZEROUPPER
	RET

overwrite:
	VMOVUPS Y4, (DI)
	VMOVUPS Y5, 32(DI)
	ADDQ    BX, DI
	VMOVUPS Y6, (DI)
	VMOVUPS Y7, 32(DI)
	ADDQ    BX, DI
	VMOVUPS Y8, (DI)
	VMOVUPS Y9, 32(DI)
	ADDQ    BX, DI
	VMOVUPS Y10, (DI)
	VMOVUPS Y11, 32(DI)
	ADDQ    BX, DI
	VZEROUPPER
	RET

// func kern4x32(k int, a unsafe.Pointer, ai, ap uintptr, b unsafe.Pointer, ldb uintptr, c unsafe.Pointer, ldc uintptr, acc bool)
//
// C[0:4, 0:32] (+)= Σ_p A(i, p)·B[p, 0:32] where A(i, p) is at a + i·ai + p·ap
// and B row p at b + p·ldb (strides in bytes); acc adds to C, else overwrites it.
TEXT ·kern4x32(SB), NOSPLIT, $0-65
	MOVQ    k+0(FP), CX
	MOVQ    a+8(FP), R8
	MOVQ    ai+16(FP), R9
	MOVQ    ap+24(FP), R10
	MOVQ    b+32(FP), SI
	MOVQ    ldb+40(FP), DX
	MOVQ    c+48(FP), DI
	MOVQ    ldc+56(FP), BX
	MOVBQZX acc+64(FP), AX
	LEAQ    (R8)(R9*1), R11
	LEAQ    (R11)(R9*1), R12
	LEAQ    (R12)(R9*1), R13
	VPXORD  Z4, Z4, Z4
	VPXORD  Z5, Z5, Z5
	VPXORD  Z6, Z6, Z6
	VPXORD  Z7, Z7, Z7
	VPXORD  Z8, Z8, Z8
	VPXORD  Z9, Z9, Z9
	VPXORD  Z10, Z10, Z10
	VPXORD  Z11, Z11, Z11
	TESTQ   CX, CX
	JE      store

loop:
	VMOVUPS      (SI), Z0
	VMOVUPS      64(SI), Z1
	VBROADCASTSS (R8), Z2
	VFMADD231PS  Z0, Z2, Z4
	VFMADD231PS  Z1, Z2, Z5
	VBROADCASTSS (R11), Z3
	VFMADD231PS  Z0, Z3, Z6
	VFMADD231PS  Z1, Z3, Z7
	VBROADCASTSS (R12), Z2
	VFMADD231PS  Z0, Z2, Z8
	VFMADD231PS  Z1, Z2, Z9
	VBROADCASTSS (R13), Z3
	VFMADD231PS  Z0, Z3, Z10
	VFMADD231PS  Z1, Z3, Z11
	ADDQ         R10, R8
	ADDQ         R10, R11
	ADDQ         R10, R12
	ADDQ         R10, R13
	ADDQ         DX, SI
	DECQ         CX
	JNE          loop

store:
	TESTQ   AX, AX
	JE      overwrite
	VADDPS  (DI), Z4, Z4
	VADDPS  64(DI), Z5, Z5
	VMOVUPS Z4, (DI)
	VMOVUPS Z5, 64(DI)
	ADDQ    BX, DI
	VADDPS  (DI), Z6, Z6
	VADDPS  64(DI), Z7, Z7
	VMOVUPS Z6, (DI)
	VMOVUPS Z7, 64(DI)
	ADDQ    BX, DI
	VADDPS  (DI), Z8, Z8
	VADDPS  64(DI), Z9, Z9
	VMOVUPS Z8, (DI)
	VMOVUPS Z9, 64(DI)
	ADDQ    BX, DI
	VADDPS  (DI), Z10, Z10
	VADDPS  64(DI), Z11, Z11
	VMOVUPS Z10, (DI)
	VMOVUPS Z11, 64(DI)
	ADDQ    BX, DI
	VZEROUPPER
	RET

overwrite:
	VMOVUPS Z4, (DI)
	VMOVUPS Z5, 64(DI)
	ADDQ    BX, DI
	VMOVUPS Z6, (DI)
	VMOVUPS Z7, 64(DI)
	ADDQ    BX, DI
	VMOVUPS Z8, (DI)
	VMOVUPS Z9, 64(DI)
	ADDQ    BX, DI
	VMOVUPS Z10, (DI)
	VMOVUPS Z11, 64(DI)
	ADDQ    BX, DI
	VZEROUPPER
	RET
