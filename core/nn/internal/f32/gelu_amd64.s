//go:build !purego

#include "textflag.h"

DATA geluk<>+0(SB)/4, $0x3d372713  // a = 0.044715
DATA geluk<>+4(SB)/4, $0xbfcc422a  // -2·sqrt(2/π)
DATA geluk<>+8(SB)/4, $0x42b00000  // 88
DATA geluk<>+12(SB)/4, $0xc2ae0000 // -87
DATA geluk<>+16(SB)/4, $0x3fb8aa3b // log2(e)
DATA geluk<>+20(SB)/4, $0x3f800000 // 1
DATA geluk<>+24(SB)/4, $0x3f317218 // ln2
DATA geluk<>+28(SB)/4, $0x3e75fdf0 // ln2²/2
DATA geluk<>+32(SB)/4, $0x3d635847 // ln2³/6
DATA geluk<>+36(SB)/4, $0x3c1d955b // ln2⁴/24
DATA geluk<>+40(SB)/4, $0x3aaec3ff // ln2⁵/120
DATA geluk<>+44(SB)/4, $0x39218489 // ln2⁶/720
GLOBL geluk<>(SB), RODATA|NOPTR, $48

// func geluSig8(u, s *float32, n int)
//
// s[i] = 1/(1 + exp(-2c(u + a·u³))) for i < n, n a positive multiple of 8.
// exp(t) = 2^k·2^f, k = round(t·log2 e), |f| ≤ ½, 2^f by a degree-6
// polynomial; t is clamped to [-87, 88].
TEXT ·geluSig8(SB), NOSPLIT, $0-24
	MOVQ u+0(FP), SI
	MOVQ s+8(FP), DI
	MOVQ n+16(FP), CX
	VBROADCASTSS geluk<>+0(SB), Y15
	VBROADCASTSS geluk<>+4(SB), Y14
	VBROADCASTSS geluk<>+8(SB), Y13
	VBROADCASTSS geluk<>+12(SB), Y12
	VBROADCASTSS geluk<>+16(SB), Y11
	VBROADCASTSS geluk<>+20(SB), Y10
	VBROADCASTSS geluk<>+24(SB), Y4
	VBROADCASTSS geluk<>+28(SB), Y5
	VBROADCASTSS geluk<>+32(SB), Y6
	VBROADCASTSS geluk<>+36(SB), Y7
	VBROADCASTSS geluk<>+40(SB), Y8
	VBROADCASTSS geluk<>+44(SB), Y9

loop:
	VMOVUPS     (SI), Y0
	VMULPS      Y0, Y0, Y1
	VFMADD213PS Y10, Y15, Y1 // 1 + a·u²
	VMULPS      Y1, Y0, Y1   // u(1 + a·u²)
	VMULPS      Y14, Y1, Y1  // t
	VMINPS      Y13, Y1, Y1
	VMAXPS      Y12, Y1, Y1
	VMULPS      Y11, Y1, Y1  // t·log2 e
	VROUNDPS    $0, Y1, Y2   // k
	VSUBPS      Y2, Y1, Y1   // f
	VMOVAPS     Y9, Y3
	VFMADD213PS Y8, Y1, Y3
	VFMADD213PS Y7, Y1, Y3
	VFMADD213PS Y6, Y1, Y3
	VFMADD213PS Y5, Y1, Y3
	VFMADD213PS Y4, Y1, Y3
	VFMADD213PS Y10, Y1, Y3  // 2^f
	VCVTPS2DQ   Y2, Y2
	VPSLLD      $23, Y2, Y2
	VPADDD      Y2, Y3, Y3   // 2^f·2^k
	VADDPS      Y10, Y3, Y3
	VDIVPS      Y3, Y10, Y3  // 1/(1 + e^t)
	VMOVUPS     Y3, (DI)
	ADDQ        $32, SI
	ADDQ        $32, DI
	SUBQ        $8, CX
	JNE         loop
	VZEROUPPER
	RET

// func expShift8(x *float32, n int, shift float32)
//
// x[i] = exp(x[i] − shift) for i < n, n a positive multiple of 8, with the
// same range reduction and polynomial as geluSig8 (argument clamped to
// [-87, 88]).
TEXT ·expShift8(SB), NOSPLIT, $0-20
	MOVQ         x+0(FP), SI
	MOVQ         n+8(FP), CX
	VBROADCASTSS shift+16(FP), Y14
	VBROADCASTSS geluk<>+8(SB), Y13
	VBROADCASTSS geluk<>+12(SB), Y12
	VBROADCASTSS geluk<>+16(SB), Y11
	VBROADCASTSS geluk<>+20(SB), Y10
	VBROADCASTSS geluk<>+24(SB), Y4
	VBROADCASTSS geluk<>+28(SB), Y5
	VBROADCASTSS geluk<>+32(SB), Y6
	VBROADCASTSS geluk<>+36(SB), Y7
	VBROADCASTSS geluk<>+40(SB), Y8
	VBROADCASTSS geluk<>+44(SB), Y9

exploop:
	VMOVUPS     (SI), Y0
	VSUBPS      Y14, Y0, Y1 // x − shift
	VMINPS      Y13, Y1, Y1
	VMAXPS      Y12, Y1, Y1
	VMULPS      Y11, Y1, Y1
	VROUNDPS    $0, Y1, Y2
	VSUBPS      Y2, Y1, Y1
	VMOVAPS     Y9, Y3
	VFMADD213PS Y8, Y1, Y3
	VFMADD213PS Y7, Y1, Y3
	VFMADD213PS Y6, Y1, Y3
	VFMADD213PS Y5, Y1, Y3
	VFMADD213PS Y4, Y1, Y3
	VFMADD213PS Y10, Y1, Y3
	VCVTPS2DQ   Y2, Y2
	VPSLLD      $23, Y2, Y2
	VPADDD      Y2, Y3, Y3
	VMOVUPS     Y3, (SI)
	ADDQ        $32, SI
	SUBQ        $8, CX
	JNE         exploop
	VZEROUPPER
	RET
