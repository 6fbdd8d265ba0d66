//go:build !purego

#include "textflag.h"

// func mulVec8(dst, a, b *float32, n int)
//
// dst[i] = a[i]·b[i] for i < n, n a positive multiple of 8 (AVX).
TEXT ·mulVec8(SB), NOSPLIT, $0-32
	MOVQ dst+0(FP), DI
	MOVQ a+8(FP), SI
	MOVQ b+16(FP), DX
	MOVQ n+24(FP), CX

loop:
	VMOVUPS (SI), Y0
	VMULPS  (DX), Y0, Y0
	VMOVUPS Y0, (DI)
	ADDQ    $32, SI
	ADDQ    $32, DX
	ADDQ    $32, DI
	SUBQ    $8, CX
	JNE     loop
	VZEROUPPER
	RET

DATA gelubk<>+0(SB)/4, $0x40000000  // 2
DATA gelubk<>+4(SB)/4, $0x3f800000  // 1
DATA gelubk<>+8(SB)/4, $0x3f4c422a  // c = sqrt(2/π)
DATA gelubk<>+12(SB)/4, $0x3e095d4f // 3a = 3·0.044715
GLOBL gelubk<>(SB), RODATA|NOPTR, $16

// func geluBack8(dx, x, b, s, dy *float32, n int)
//
// dx[i] = g(x[i] + b[i], s[i])·dy[i] with g(u, s) = s + 2·u·s·(1−s)·c·(1 + 3a·u·u),
// each operation rounded to float32 in the order written, for i < n, n a
// positive multiple of 8 (AVX, no FMA).
TEXT ·geluBack8(SB), NOSPLIT, $0-48
	MOVQ dx+0(FP), DI
	MOVQ x+8(FP), SI
	MOVQ b+16(FP), R8
	MOVQ s+24(FP), R9
	MOVQ dy+32(FP), R10
	MOVQ n+40(FP), CX
	VBROADCASTSS gelubk<>+0(SB), Y12
	VBROADCASTSS gelubk<>+4(SB), Y13
	VBROADCASTSS gelubk<>+8(SB), Y14
	VBROADCASTSS gelubk<>+12(SB), Y15

loop:
	VMOVUPS (SI), Y0
	VADDPS  (R8), Y0, Y0  // u = x + b
	VMOVUPS (R9), Y1      // s
	VMULPS  Y12, Y0, Y2   // 2·u
	VMULPS  Y1, Y2, Y2    // ·s
	VSUBPS  Y1, Y13, Y3   // 1 − s
	VMULPS  Y3, Y2, Y2    // ·(1 − s)
	VMULPS  Y14, Y2, Y2   // ·c
	VMULPS  Y15, Y0, Y4   // 3a·u
	VMULPS  Y0, Y4, Y4    // ·u
	VADDPS  Y4, Y13, Y4   // 1 + 3a·u·u
	VMULPS  Y4, Y2, Y2    // ·(1 + 3a·u·u)
	VADDPS  Y2, Y1, Y2    // s + …
	VMULPS  (R10), Y2, Y2 // ·dy
	VMOVUPS Y2, (DI)
	ADDQ    $32, SI
	ADDQ    $32, R8
	ADDQ    $32, R9
	ADDQ    $32, R10
	ADDQ    $32, DI
	SUBQ    $8, CX
	JNE     loop
	VZEROUPPER
	RET

// func normGradAcc8(dg, x, dy *float32, n int, mean, rstd float32)
//
// dg[i] += ((x[i] − mean)·rstd)·dy[i] for i < n, n a positive multiple of
// 8 (AVX, no FMA).
TEXT ·normGradAcc8(SB), NOSPLIT, $0-40
	MOVQ         dg+0(FP), DI
	MOVQ         x+8(FP), SI
	MOVQ         dy+16(FP), DX
	MOVQ         n+24(FP), CX
	VBROADCASTSS mean+32(FP), Y14
	VBROADCASTSS rstd+36(FP), Y15

loop:
	VMOVUPS (SI), Y0
	VSUBPS  Y14, Y0, Y0 // x − mean
	VMULPS  Y15, Y0, Y0 // ·rstd
	VMULPS  (DX), Y0, Y0 // ·dy
	VADDPS  (DI), Y0, Y0 // dg + …
	VMOVUPS Y0, (DI)
	ADDQ    $32, SI
	ADDQ    $32, DX
	ADDQ    $32, DI
	SUBQ    $8, CX
	JNE     loop
	VZEROUPPER
	RET

// func normFwd8(y, x, gain, b *float32, n int, mean, rstd float32)
//
// y[i] = ((x[i] − mean)·rstd)·gain[i] + b[i] for i < n, n a positive multiple
// of 8 (AVX, no FMA).
TEXT ·normFwd8(SB), NOSPLIT, $0-48
	MOVQ         y+0(FP), DI
	MOVQ         x+8(FP), SI
	MOVQ         gain+16(FP), DX
	MOVQ         b+24(FP), R8
	MOVQ         n+32(FP), CX
	VBROADCASTSS mean+40(FP), Y14
	VBROADCASTSS rstd+44(FP), Y15

loop:
	VMOVUPS (SI), Y0
	VSUBPS  Y14, Y0, Y0  // x − mean
	VMULPS  Y15, Y0, Y0  // ·rstd
	VMULPS  (DX), Y0, Y0 // ·g
	VADDPS  (R8), Y0, Y0 // + b
	VMOVUPS Y0, (DI)
	ADDQ    $32, SI
	ADDQ    $32, DX
	ADDQ    $32, R8
	ADDQ    $32, DI
	SUBQ    $8, CX
	JNE     loop
	VZEROUPPER
	RET

// func normBackX8(dx, x, gain, dy *float32, n int, mean, rstd, sumG, sumGX float32)
//
// dx[i] = rstd·((dy[i]·gain[i] − sumG) − ((x[i] − mean)·rstd)·sumGX) for i < n,
// n a positive multiple of 8 (AVX, no FMA).
TEXT ·normBackX8(SB), NOSPLIT, $0-56
	MOVQ         dx+0(FP), DI
	MOVQ         x+8(FP), SI
	MOVQ         gain+16(FP), DX
	MOVQ         dy+24(FP), R8
	MOVQ         n+32(FP), CX
	VBROADCASTSS mean+40(FP), Y12
	VBROADCASTSS rstd+44(FP), Y13
	VBROADCASTSS sumG+48(FP), Y14
	VBROADCASTSS sumGX+52(FP), Y15

loop:
	VMOVUPS (R8), Y0
	VMULPS  (DX), Y0, Y0 // dy·g
	VSUBPS  Y14, Y0, Y0  // − sumG
	VMOVUPS (SI), Y1
	VSUBPS  Y12, Y1, Y1  // x − mean
	VMULPS  Y13, Y1, Y1  // ·rstd
	VMULPS  Y15, Y1, Y1  // ·sumGX
	VSUBPS  Y1, Y0, Y0
	VMULPS  Y13, Y0, Y0  // rstd·(…)
	VMOVUPS Y0, (DI)
	ADDQ    $32, SI
	ADDQ    $32, DX
	ADDQ    $32, R8
	ADDQ    $32, DI
	SUBQ    $8, CX
	JNE     loop
	VZEROUPPER
	RET

// func normBackXAcc8(dx, x, gain, dy, acc *float32, n int, mean, rstd, sumG, sumGX float32)
//
// dx[i] = acc[i] + rstd·((dy[i]·gain[i] − sumG) − ((x[i] − mean)·rstd)·sumGX)
// for i < n, n a positive multiple of 8 (AVX, no FMA): normBackX8 with the
// incoming gradient added last. dx may be acc.
TEXT ·normBackXAcc8(SB), NOSPLIT, $0-64
	MOVQ         dx+0(FP), DI
	MOVQ         x+8(FP), SI
	MOVQ         gain+16(FP), DX
	MOVQ         dy+24(FP), R8
	MOVQ         acc+32(FP), R9
	MOVQ         n+40(FP), CX
	VBROADCASTSS mean+48(FP), Y12
	VBROADCASTSS rstd+52(FP), Y13
	VBROADCASTSS sumG+56(FP), Y14
	VBROADCASTSS sumGX+60(FP), Y15

loop:
	VMOVUPS (R8), Y0
	VMULPS  (DX), Y0, Y0 // dy·g
	VSUBPS  Y14, Y0, Y0  // − sumG
	VMOVUPS (SI), Y1
	VSUBPS  Y12, Y1, Y1  // x − mean
	VMULPS  Y13, Y1, Y1  // ·rstd
	VMULPS  Y15, Y1, Y1  // ·sumGX
	VSUBPS  Y1, Y0, Y0
	VMULPS  Y13, Y0, Y0  // rstd·(…)
	VADDPS  (R9), Y0, Y0 // + acc
	VMOVUPS Y0, (DI)
	ADDQ    $32, SI
	ADDQ    $32, DX
	ADDQ    $32, R8
	ADDQ    $32, R9
	ADDQ    $32, DI
	SUBQ    $8, CX
	JNE     loop
	VZEROUPPER
	RET

// func addVec8(dst, a, b *float32, n int)
//
// dst[i] = a[i] + b[i] for i < n, n a positive multiple of 8 (AVX). dst may
// be a or b. Each element is one IEEE addition, as in Go.
TEXT ·addVec8(SB), NOSPLIT, $0-32
	MOVQ dst+0(FP), DI
	MOVQ a+8(FP), SI
	MOVQ b+16(FP), DX
	MOVQ n+24(FP), CX
	CMPQ CX, $32
	JLT  tail

loop32:
	VMOVUPS (SI), Y0
	VMOVUPS 32(SI), Y1
	VMOVUPS 64(SI), Y2
	VMOVUPS 96(SI), Y3
	VADDPS  (DX), Y0, Y0
	VADDPS  32(DX), Y1, Y1
	VADDPS  64(DX), Y2, Y2
	VADDPS  96(DX), Y3, Y3
	VMOVUPS Y0, (DI)
	VMOVUPS Y1, 32(DI)
	VMOVUPS Y2, 64(DI)
	VMOVUPS Y3, 96(DI)
	ADDQ    $128, SI
	ADDQ    $128, DX
	ADDQ    $128, DI
	SUBQ    $32, CX
	CMPQ    CX, $32
	JGE     loop32

tail:
	TESTQ CX, CX
	JE    done

loop8:
	VMOVUPS (SI), Y0
	VADDPS  (DX), Y0, Y0
	VMOVUPS Y0, (DI)
	ADDQ    $32, SI
	ADDQ    $32, DX
	ADDQ    $32, DI
	SUBQ    $8, CX
	JNE     loop8

done:
	VZEROUPPER
	RET


DATA scmaxk<>+0(SB)/4, $0xff800000 // -Inf
GLOBL scmaxk<>(SB), RODATA|NOPTR, $4

// func scaleMax8(x *float32, n int, scale float32, acc *[8]float32)
//
// x[i] *= scale for i < n, n a positive multiple of 8, and acc[l] = the
// largest product in lane l (l = i mod 8), −Inf when none: VMAXPS keeps
// the running maximum (its second source) when the product is NaN, as
// "if v > mx" does.
TEXT ·scaleMax8(SB), NOSPLIT, $0-32
	MOVQ         x+0(FP), SI
	MOVQ         n+8(FP), CX
	VBROADCASTSS scale+16(FP), Y1
	MOVQ         acc+24(FP), DI
	VBROADCASTSS scmaxk<>+0(SB), Y2

scmloop:
	VMULPS  (SI), Y1, Y0
	VMOVUPS Y0, (SI)
	VMAXPS  Y2, Y0, Y2
	ADDQ    $32, SI
	SUBQ    $8, CX
	JNE     scmloop
	VMOVUPS Y2, (DI)
	VZEROUPPER
	RET
