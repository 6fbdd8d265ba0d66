//go:build !purego

#include "textflag.h"

// func adamVec4(w, gr, m, v *float32, n int, c *AdamConsts)
//
// One AdamW step on n float32 weights with float32 moments, n a positive
// multiple of 4, four at a time in float64 (AVX): the same IEEE operations
// in the same order as AdamScalar, so the same bits. c holds scale, b1,
// 1−b1, b2, 1−b2, bc1, bc2, eps, lr, decay.
TEXT ·adamVec4(SB), NOSPLIT, $0-48
	MOVQ w+0(FP), DI
	MOVQ gr+8(FP), SI
	MOVQ m+16(FP), R8
	MOVQ v+24(FP), R9
	MOVQ n+32(FP), CX
	MOVQ c+40(FP), AX
	VBROADCASTSD 0(AX), Y6   // scale
	VBROADCASTSD 8(AX), Y7   // b1
	VBROADCASTSD 16(AX), Y8  // 1−b1
	VBROADCASTSD 24(AX), Y9  // b2
	VBROADCASTSD 32(AX), Y10 // 1−b2
	VBROADCASTSD 40(AX), Y11 // bc1
	VBROADCASTSD 48(AX), Y12 // bc2
	VBROADCASTSD 56(AX), Y13 // eps
	VBROADCASTSD 64(AX), Y14 // lr
	VBROADCASTSD 72(AX), Y15 // decay

loop:
	VCVTPS2PD  (SI), Y0     // g
	VMULPD     Y6, Y0, Y0   // gj = g·scale
	VCVTPS2PD  (R8), Y1     // m
	VMULPD     Y7, Y1, Y1   // b1·m
	VMULPD     Y8, Y0, Y2   // (1−b1)·gj
	VADDPD     Y2, Y1, Y1   // mj
	VCVTPS2PD  (R9), Y3     // v
	VMULPD     Y9, Y3, Y3   // b2·v
	VMULPD     Y10, Y0, Y4  // (1−b2)·gj
	VMULPD     Y0, Y4, Y4   // ((1−b2)·gj)·gj
	VADDPD     Y4, Y3, Y3   // vj
	VCVTPD2PSY Y1, X1       // float32(mj)
	VMOVUPS    X1, (R8)
	VCVTPD2PSY Y3, X3       // float32(vj)
	VMOVUPS    X3, (R9)
	VCVTPS2PD  X1, Y1
	VCVTPS2PD  X3, Y3
	VDIVPD     Y11, Y1, Y1  // m/bc1
	VDIVPD     Y12, Y3, Y3  // v/bc2
	VSQRTPD    Y3, Y3
	VADDPD     Y13, Y3, Y3  // sqrt(v/bc2) + eps
	VDIVPD     Y3, Y1, Y1   // upd
	VCVTPS2PD  (DI), Y2     // wj
	VMULPD     Y15, Y2, Y4  // decay·wj
	VADDPD     Y4, Y1, Y1   // upd + decay·wj
	VMULPD     Y14, Y1, Y1  // lr·(…)
	VSUBPD     Y1, Y2, Y2   // wj − lr·(…)
	VCVTPD2PSY Y2, X2
	VMOVUPS    X2, (DI)
	ADDQ       $16, DI
	ADDQ       $16, SI
	ADDQ       $16, R8
	ADDQ       $16, R9
	SUBQ       $4, CX
	JNE        loop
	VZEROUPPER
	RET
