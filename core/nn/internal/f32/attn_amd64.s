//go:build !purego

#include "textflag.h"

// func dotRows4(out, q, keys *float32, dh, n int, stride uintptr)
//
// out[s] = (s₀ + s₁) + (s₂ + s₃) for key s (stride bytes apart), s_j the
// sum of q[i]·k[i] over i ≡ j (mod 4) in order, products rounded before
// each add (VMULPS, VADDPS; no FMA): Dot4's order. dh is a positive
// multiple of 4. Eight keys at a time, then four, then one.
TEXT ·dotRows4(SB), NOSPLIT, $0-48
	MOVQ out+0(FP), R8
	MOVQ q+8(FP), SI
	MOVQ keys+16(FP), DI
	MOVQ dh+24(FP), DX
	SHLQ $2, DX
	MOVQ n+32(FP), CX
	MOVQ stride+40(FP), R9

eight:
	CMPQ CX, $8
	JLT  four
	LEAQ (DI)(R9*1), R10
	LEAQ (DI)(R9*2), R11
	LEAQ (R10)(R9*2), R12
	LEAQ (DI)(R9*4), R13
	LEAQ (R10)(R9*4), R14
	LEAQ (R11)(R9*4), R15
	LEAQ (R12)(R9*4), BX
	VXORPS X0, X0, X0
	VXORPS X1, X1, X1
	VXORPS X2, X2, X2
	VXORPS X3, X3, X3
	VXORPS X4, X4, X4
	VXORPS X5, X5, X5
	VXORPS X6, X6, X6
	VXORPS X7, X7, X7
	XORQ AX, AX

loop8:
	VMOVUPS (SI)(AX*1), X8
	VMULPS  (DI)(AX*1), X8, X9
	VADDPS  X9, X0, X0
	VMULPS  (R10)(AX*1), X8, X10
	VADDPS  X10, X1, X1
	VMULPS  (R11)(AX*1), X8, X11
	VADDPS  X11, X2, X2
	VMULPS  (R12)(AX*1), X8, X12
	VADDPS  X12, X3, X3
	VMULPS  (R13)(AX*1), X8, X13
	VADDPS  X13, X4, X4
	VMULPS  (R14)(AX*1), X8, X14
	VADDPS  X14, X5, X5
	VMULPS  (R15)(AX*1), X8, X15
	VADDPS  X15, X6, X6
	VMULPS  (BX)(AX*1), X8, X9
	VADDPS  X9, X7, X7
	ADDQ    $16, AX
	CMPQ    AX, DX
	JLT     loop8

	VMOVSHDUP X0, X9
	VADDPS    X9, X0, X0
	VMOVHLPS  X0, X0, X9
	VADDSS    X9, X0, X0
	VMOVSS    X0, (R8)
	VMOVSHDUP X1, X9
	VADDPS    X9, X1, X1
	VMOVHLPS  X1, X1, X9
	VADDSS    X9, X1, X1
	VMOVSS    X1, 4(R8)
	VMOVSHDUP X2, X9
	VADDPS    X9, X2, X2
	VMOVHLPS  X2, X2, X9
	VADDSS    X9, X2, X2
	VMOVSS    X2, 8(R8)
	VMOVSHDUP X3, X9
	VADDPS    X9, X3, X3
	VMOVHLPS  X3, X3, X9
	VADDSS    X9, X3, X3
	VMOVSS    X3, 12(R8)
	VMOVSHDUP X4, X9
	VADDPS    X9, X4, X4
	VMOVHLPS  X4, X4, X9
	VADDSS    X9, X4, X4
	VMOVSS    X4, 16(R8)
	VMOVSHDUP X5, X9
	VADDPS    X9, X5, X5
	VMOVHLPS  X5, X5, X9
	VADDSS    X9, X5, X5
	VMOVSS    X5, 20(R8)
	VMOVSHDUP X6, X9
	VADDPS    X9, X6, X6
	VMOVHLPS  X6, X6, X9
	VADDSS    X9, X6, X6
	VMOVSS    X6, 24(R8)
	VMOVSHDUP X7, X9
	VADDPS    X9, X7, X7
	VMOVHLPS  X7, X7, X9
	VADDSS    X9, X7, X7
	VMOVSS    X7, 28(R8)
	LEAQ      (R13)(R9*4), DI
	ADDQ      $32, R8
	SUBQ      $8, CX
	JMP       eight

four:
	CMPQ CX, $4
	JLT  one
	LEAQ (DI)(R9*1), R11
	LEAQ (DI)(R9*2), R12
	LEAQ (R11)(R9*2), R13
	VXORPS X0, X0, X0
	VXORPS X1, X1, X1
	VXORPS X2, X2, X2
	VXORPS X3, X3, X3
	XORQ AX, AX

loop4:
	VMOVUPS (SI)(AX*1), X4
	VMULPS  (DI)(AX*1), X4, X5
	VADDPS  X5, X0, X0
	VMULPS  (R11)(AX*1), X4, X6
	VADDPS  X6, X1, X1
	VMULPS  (R12)(AX*1), X4, X7
	VADDPS  X7, X2, X2
	VMULPS  (R13)(AX*1), X4, X8
	VADDPS  X8, X3, X3
	ADDQ    $16, AX
	CMPQ    AX, DX
	JLT     loop4

	VMOVSHDUP X0, X5
	VADDPS    X5, X0, X0
	VMOVHLPS  X0, X0, X5
	VADDSS    X5, X0, X0
	VMOVSS    X0, (R8)
	VMOVSHDUP X1, X5
	VADDPS    X5, X1, X1
	VMOVHLPS  X1, X1, X5
	VADDSS    X5, X1, X1
	VMOVSS    X1, 4(R8)
	VMOVSHDUP X2, X5
	VADDPS    X5, X2, X2
	VMOVHLPS  X2, X2, X5
	VADDSS    X5, X2, X2
	VMOVSS    X2, 8(R8)
	VMOVSHDUP X3, X5
	VADDPS    X5, X3, X3
	VMOVHLPS  X3, X3, X5
	VADDSS    X5, X3, X3
	VMOVSS    X3, 12(R8)
	LEAQ      (DI)(R9*4), DI
	ADDQ      $16, R8
	SUBQ      $4, CX
	JMP       four

one:
	TESTQ CX, CX
	JE    done
	VXORPS X0, X0, X0
	XORQ AX, AX

loop1:
	VMOVUPS (SI)(AX*1), X4
	VMULPS  (DI)(AX*1), X4, X5
	VADDPS  X5, X0, X0
	ADDQ    $16, AX
	CMPQ    AX, DX
	JLT     loop1

	VMOVSHDUP X0, X5
	VADDPS    X5, X0, X0
	VMOVHLPS  X0, X0, X5
	VADDSS    X5, X0, X0
	VMOVSS    X0, (R8)
	ADDQ      R9, DI
	ADDQ      $4, R8
	DECQ      CX
	JMP       one

done:
	RET

// func weightedRows8(o, v, w *float32, cols, n int, stride uintptr)
//
// o[i] = Σ_s w[s]·v[s, i] for i < cols (a positive multiple of 8), from +0
// in s order, each product rounded (VMULPS, VADDPS); rows of v stride bytes
// apart. 64 columns at a time in eight accumulators, then 32 in four,
// then 8 in one.
TEXT ·weightedRows8(SB), NOSPLIT, $0-48
	MOVQ o+0(FP), DI
	MOVQ v+8(FP), SI
	MOVQ w+16(FP), DX
	MOVQ cols+24(FP), CX
	MOVQ n+32(FP), BX
	MOVQ stride+40(FP), R9

wide:
	CMPQ   CX, $64
	JLT    narrow
	VXORPS Y0, Y0, Y0
	VXORPS Y1, Y1, Y1
	VXORPS Y2, Y2, Y2
	VXORPS Y3, Y3, Y3
	VXORPS Y4, Y4, Y4
	VXORPS Y5, Y5, Y5
	VXORPS Y6, Y6, Y6
	VXORPS Y7, Y7, Y7
	MOVQ   SI, R10
	XORQ   AX, AX

wloop:
	VBROADCASTSS (DX)(AX*4), Y8
	VMULPS       (R10), Y8, Y9
	VADDPS       Y9, Y0, Y0
	VMULPS       32(R10), Y8, Y10
	VADDPS       Y10, Y1, Y1
	VMULPS       64(R10), Y8, Y11
	VADDPS       Y11, Y2, Y2
	VMULPS       96(R10), Y8, Y12
	VADDPS       Y12, Y3, Y3
	VMULPS       128(R10), Y8, Y13
	VADDPS       Y13, Y4, Y4
	VMULPS       160(R10), Y8, Y14
	VADDPS       Y14, Y5, Y5
	VMULPS       192(R10), Y8, Y15
	VADDPS       Y15, Y6, Y6
	VMULPS       224(R10), Y8, Y9
	VADDPS       Y9, Y7, Y7
	ADDQ         R9, R10
	INCQ         AX
	CMPQ         AX, BX
	JLT          wloop

	VMOVUPS Y0, (DI)
	VMOVUPS Y1, 32(DI)
	VMOVUPS Y2, 64(DI)
	VMOVUPS Y3, 96(DI)
	VMOVUPS Y4, 128(DI)
	VMOVUPS Y5, 160(DI)
	VMOVUPS Y6, 192(DI)
	VMOVUPS Y7, 224(DI)
	ADDQ    $256, DI
	ADDQ    $256, SI
	SUBQ    $64, CX
	JMP     wide

narrow:
	CMPQ   CX, $32
	JLT    eight
	VXORPS Y0, Y0, Y0
	VXORPS Y1, Y1, Y1
	VXORPS Y2, Y2, Y2
	VXORPS Y3, Y3, Y3
	MOVQ   SI, R10
	XORQ   AX, AX

qloop:
	VBROADCASTSS (DX)(AX*4), Y8
	VMULPS       (R10), Y8, Y9
	VADDPS       Y9, Y0, Y0
	VMULPS       32(R10), Y8, Y10
	VADDPS       Y10, Y1, Y1
	VMULPS       64(R10), Y8, Y11
	VADDPS       Y11, Y2, Y2
	VMULPS       96(R10), Y8, Y12
	VADDPS       Y12, Y3, Y3
	ADDQ         R9, R10
	INCQ         AX
	CMPQ         AX, BX
	JLT          qloop

	VMOVUPS Y0, (DI)
	VMOVUPS Y1, 32(DI)
	VMOVUPS Y2, 64(DI)
	VMOVUPS Y3, 96(DI)
	ADDQ    $128, DI
	ADDQ    $128, SI
	SUBQ    $32, CX
	JMP     narrow

eight:
	CMPQ   CX, $8
	JLT    wdone
	VXORPS Y0, Y0, Y0
	MOVQ   SI, R10
	XORQ   AX, AX

nloop:
	VBROADCASTSS (DX)(AX*4), Y8
	VMULPS       (R10), Y8, Y9
	VADDPS       Y9, Y0, Y0
	ADDQ         R9, R10
	INCQ         AX
	CMPQ         AX, BX
	JLT          nloop

	VMOVUPS Y0, (DI)
	ADDQ    $32, DI
	ADDQ    $32, SI
	SUBQ    $8, CX
	JMP     eight

wdone:
	VZEROUPPER
	RET
