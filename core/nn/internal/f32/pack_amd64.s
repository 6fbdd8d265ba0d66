//go:build !purego

#include "textflag.h"

// func copyRows8(dst, src *float32, stride uintptr, rows, vecs int)
//
// Copies rows rows of 8·vecs floats (vecs 1, 2 or 4) from src (rows stride
// bytes apart) to dst (rows 32·vecs bytes apart): packing a panel of B.
TEXT ·copyRows8(SB), NOSPLIT, $0-40
	MOVQ dst+0(FP), DI
	MOVQ src+8(FP), SI
	MOVQ stride+16(FP), DX
	MOVQ rows+24(FP), CX
	MOVQ vecs+32(FP), AX
	CMPQ AX, $4
	JEQ  four
	CMPQ AX, $2
	JEQ  two

one:
	VMOVUPS (SI), Y0
	VMOVUPS Y0, (DI)
	ADDQ    DX, SI
	ADDQ    $32, DI
	DECQ    CX
	JNE     one
	VZEROUPPER
	RET

two:
	VMOVUPS (SI), Y0
	VMOVUPS 32(SI), Y1
	VMOVUPS Y0, (DI)
	VMOVUPS Y1, 32(DI)
	ADDQ    DX, SI
	ADDQ    $64, DI
	DECQ    CX
	JNE     two
	VZEROUPPER
	RET

four:
	VMOVUPS (SI), Y0
	VMOVUPS 32(SI), Y1
	VMOVUPS 64(SI), Y2
	VMOVUPS 96(SI), Y3
	VMOVUPS Y0, (DI)
	VMOVUPS Y1, 32(DI)
	VMOVUPS Y2, 64(DI)
	VMOVUPS Y3, 96(DI)
	ADDQ    DX, SI
	ADDQ    $128, DI
	DECQ    CX
	JNE     four
	VZEROUPPER
	RET
