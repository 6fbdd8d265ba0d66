//go:build cudaemu && !cuda

package nn

// The cudaemu build (go test -tags cudaemu ./core/nn) compiles pit's CUDA
// kernels, cuda/kernels.cu, as C with cuda/emu.h and runs them on the CPU,
// so that the kernels and the wiring from ops to kernels (runDev, gemmFor)
// are tested on machines without a GPU. What it cannot test is the GPU
// itself: Gorgonia's CUDA tape machine, the copies between host and device,
// the launches and cuBLAS; scripts/cuda/device-check.sh does that on a GPU.

/*
#cgo CFLAGS: -O2 -I${SRCDIR}/cuda -Wno-unused-function
#cgo LDFLAGS: -lm
#include "kernels.cu"

static void emu_pit_add(int threads, const float* a, const float* b, float* y, int n) {
	EMU_LAUNCH(threads, pit_add(a, b, y, n));
}
static void emu_pit_add_bias(int threads, const float* x, const float* b, float* y, int n, int d) {
	EMU_LAUNCH(threads, pit_add_bias(x, b, y, n, d));
}
static void emu_pit_bias_gelu(int threads, const float* x, const float* b, float* y, int n, int d) {
	EMU_LAUNCH(threads, pit_bias_gelu(x, b, y, n, d));
}
static void emu_pit_bias_gelu_backward(int threads, const float* x, const float* b, const float* dy, float* dx, int n, int d) {
	EMU_LAUNCH(threads, pit_bias_gelu_backward(x, b, dy, dx, n, d));
}
static void emu_pit_col_sum(int threads, const float* x, float* out, int n, int d) {
	EMU_LAUNCH(threads, pit_col_sum(x, out, n, d));
}
static void emu_pit_ln_stats(int threads, const float* x, float* stats, int n, int d, float eps) {
	EMU_LAUNCH(threads, pit_ln_stats(x, stats, n, d, eps));
}
static void emu_pit_ln_apply(int threads, const float* x, const float* g, const float* b, const float* stats, float* y, int n, int d) {
	EMU_LAUNCH(threads, pit_ln_apply(x, g, b, stats, y, n, d));
}
static void emu_pit_ln_backward_x(int threads, const float* x, const float* g, const float* dy, const float* stats, float* dx, int n, int d) {
	EMU_LAUNCH(threads, pit_ln_backward_x(x, g, dy, stats, dx, n, d));
}
static void emu_pit_ln_backward_x_acc(int threads, const float* x, const float* g, const float* dy, const float* acc, const float* stats, float* dx, int n, int d) {
	EMU_LAUNCH(threads, pit_ln_backward_x_acc(x, g, dy, acc, stats, dx, n, d));
}
static void emu_pit_ln_backward_g(int threads, const float* x, const float* dy, const float* stats, float* dg, int n, int d) {
	EMU_LAUNCH(threads, pit_ln_backward_g(x, dy, stats, dg, n, d));
}
static void emu_pit_embed(int threads, const float* wte, const float* wpe, const int* ids, float* out, int n, int t, int d) {
	EMU_LAUNCH(threads, pit_embed(wte, wpe, ids, out, n, t, d));
}
static void emu_pit_embed_grad_tok(int threads, const float* dy, const int* ids, float* dwte, int n, int v, int d) {
	EMU_LAUNCH(threads, pit_embed_grad_tok(dy, ids, dwte, n, v, d));
}
static void emu_pit_embed_grad_pos(int threads, const float* dy, float* dwpe, int n, int t, int p, int d) {
	EMU_LAUNCH(threads, pit_embed_grad_pos(dy, dwpe, n, t, p, d));
}
static void emu_pit_attn_forward(int threads, const float* qkv, float* out, int b, int t, int h, int d) {
	EMU_LAUNCH(threads, pit_attn_forward(qkv, out, b, t, h, d));
}
static void emu_pit_attn_backward_q(int threads, const float* qkv, const float* dy, float* dqkv, float* rows, int b, int t, int h, int d) {
	EMU_LAUNCH(threads, pit_attn_backward_q(qkv, dy, dqkv, rows, b, t, h, d));
}
static void emu_pit_attn_backward_kv(int threads, const float* qkv, const float* dy, float* dqkv, const float* rows, int b, int t, int h, int d) {
	EMU_LAUNCH(threads, pit_attn_backward_kv(qkv, dy, dqkv, rows, b, t, h, d));
}
static void emu_pit_token_embed(int threads, const float* wte, const int* ids, float* out, int n, int d) {
	EMU_LAUNCH(threads, pit_token_embed(wte, ids, out, n, d));
}
static void emu_pit_rms_stats(int threads, const float* x, float* rstd, int n, int d, float eps) {
	EMU_LAUNCH(threads, pit_rms_stats(x, rstd, n, d, eps));
}
static void emu_pit_rms_apply(int threads, const float* x, const float* g, const float* rstd, float* y, int n, int d) {
	EMU_LAUNCH(threads, pit_rms_apply(x, g, rstd, y, n, d));
}
static void emu_pit_rms_backward_x(int threads, const float* x, const float* g, const float* dy, const float* rstd, float* dx, int n, int d) {
	EMU_LAUNCH(threads, pit_rms_backward_x(x, g, dy, rstd, dx, n, d));
}
static void emu_pit_rms_backward_x_acc(int threads, const float* x, const float* g, const float* dy, const float* acc, const float* rstd, float* dx, int n, int d) {
	EMU_LAUNCH(threads, pit_rms_backward_x_acc(x, g, dy, acc, rstd, dx, n, d));
}
static void emu_pit_rms_backward_g(int threads, const float* x, const float* dy, const float* rstd, float* dg, int n, int d) {
	EMU_LAUNCH(threads, pit_rms_backward_g(x, dy, rstd, dg, n, d));
}
static void emu_pit_rope(int threads, const float* x, float* y, int rows, int t, int h, int kv, int dh, float theta, int back) {
	EMU_LAUNCH(threads, pit_rope(x, y, rows, t, h, kv, dh, theta, back));
}
static void emu_pit_swiglu(int threads, const float* x, float* y, int n, int m) {
	EMU_LAUNCH(threads, pit_swiglu(x, y, n, m));
}
static void emu_pit_swiglu_backward(int threads, const float* x, const float* dy, float* dx, int n, int m) {
	EMU_LAUNCH(threads, pit_swiglu_backward(x, dy, dx, n, m));
}
static void emu_pit_gqa_forward(int threads, const float* qkv, float* out, int b, int t, int h, int kv, int dh) {
	EMU_LAUNCH(threads, pit_gqa_forward(qkv, out, b, t, h, kv, dh));
}
static void emu_pit_gqa_backward_q(int threads, const float* qkv, const float* dy, float* dqkv, float* rows, int b, int t, int h, int kv, int dh) {
	EMU_LAUNCH(threads, pit_gqa_backward_q(qkv, dy, dqkv, rows, b, t, h, kv, dh));
}
static void emu_pit_gqa_backward_kv(int threads, const float* qkv, const float* dy, float* dqkv, const float* rows, int b, int t, int h, int kv, int dh) {
	EMU_LAUNCH(threads, pit_gqa_backward_kv(qkv, dy, dqkv, rows, b, t, h, kv, dh));
}
*/
import "C"

import (
	embedfs "embed"
	"fmt"
)

// emuSources is not read: the C compiler reads cuda/kernels.cu and
// cuda/emu.h through #include, which Go's build cache does not track, and
// embedding them makes an edit of either rebuild this package.
//
//go:embed cuda/kernels.cu cuda/emu.h
var emuSources embedfs.FS

// emuRunner is a devRunner that runs the kernels' C emulation on host
// memory and the matrix products with colMajorGemm, cuBLAS's semantics.
type emuRunner struct {
	f32 []float32 // scratch
	i32 []int32   // ids
}

// emulateOp makes op compute through the emulated GPU kernels.
func emulateOp(op *kernelOp) {
	r := &emuRunner{}
	op.forward = func(out array, in []value) (float64, error) {
		return 0, runDev(r, op.dev, out, in)
	}
}

func (r *emuRunner) scratch(size int64) (any, error) {
	if n := int((size + 3) / 4); len(r.f32) < n {
		r.f32 = make([]float32, n)
	}
	return r.f32, nil
}

func (r *emuRunner) ids(ids []int) (any, error) {
	r.i32 = r.i32[:0]
	for _, id := range ids {
		r.i32 = append(r.i32, int32(id))
	}
	return r.i32, nil
}

func (r *emuRunner) gemm(g gemm, a, b, c value) error {
	colMajorGemm(g, data[float32](a), data[float32](b), data[float32](c))
	return nil
}

// emuArgs converts launch arguments for the C wrappers.
type emuArgs []any

func (a emuArgs) f(i int) *C.float {
	switch v := a[i].(type) {
	case []float32:
		return (*C.float)(&v[0])
	case value:
		d := data[float32](v)
		return (*C.float)(&d[0])
	}
	panic(fmt.Sprintf("emu: argument %d is %T, not float memory", i, a[i]))
}

func (a emuArgs) ip(i int) *C.int {
	v, ok := a[i].([]int32)
	if !ok {
		panic(fmt.Sprintf("emu: argument %d is %T, not ids", i, a[i]))
	}
	return (*C.int)(&v[0])
}

func (a emuArgs) i(i int) C.int   { return C.int(a[i].(int)) }
func (a emuArgs) x(i int) C.float { return C.float(a[i].(float32)) }

func (r *emuRunner) launch(name string, threads int, args ...any) error {
	a := emuArgs(args)
	switch name {
	case "pit_add":
		C.emu_pit_add(C.int(threads), a.f(0), a.f(1), a.f(2), a.i(3))
	case "pit_add_bias":
		C.emu_pit_add_bias(C.int(threads), a.f(0), a.f(1), a.f(2), a.i(3), a.i(4))
	case "pit_bias_gelu":
		C.emu_pit_bias_gelu(C.int(threads), a.f(0), a.f(1), a.f(2), a.i(3), a.i(4))
	case "pit_bias_gelu_backward":
		C.emu_pit_bias_gelu_backward(C.int(threads), a.f(0), a.f(1), a.f(2), a.f(3), a.i(4), a.i(5))
	case "pit_col_sum":
		C.emu_pit_col_sum(C.int(threads), a.f(0), a.f(1), a.i(2), a.i(3))
	case "pit_ln_stats":
		C.emu_pit_ln_stats(C.int(threads), a.f(0), a.f(1), a.i(2), a.i(3), a.x(4))
	case "pit_ln_apply":
		C.emu_pit_ln_apply(C.int(threads), a.f(0), a.f(1), a.f(2), a.f(3), a.f(4), a.i(5), a.i(6))
	case "pit_ln_backward_x":
		C.emu_pit_ln_backward_x(C.int(threads), a.f(0), a.f(1), a.f(2), a.f(3), a.f(4), a.i(5), a.i(6))
	case "pit_ln_backward_x_acc":
		C.emu_pit_ln_backward_x_acc(C.int(threads), a.f(0), a.f(1), a.f(2), a.f(3), a.f(4), a.f(5), a.i(6), a.i(7))
	case "pit_ln_backward_g":
		C.emu_pit_ln_backward_g(C.int(threads), a.f(0), a.f(1), a.f(2), a.f(3), a.i(4), a.i(5))
	case "pit_embed":
		C.emu_pit_embed(C.int(threads), a.f(0), a.f(1), a.ip(2), a.f(3), a.i(4), a.i(5), a.i(6))
	case "pit_embed_grad_tok":
		C.emu_pit_embed_grad_tok(C.int(threads), a.f(0), a.ip(1), a.f(2), a.i(3), a.i(4), a.i(5))
	case "pit_embed_grad_pos":
		C.emu_pit_embed_grad_pos(C.int(threads), a.f(0), a.f(1), a.i(2), a.i(3), a.i(4), a.i(5))
	case "pit_attn_forward":
		C.emu_pit_attn_forward(C.int(threads), a.f(0), a.f(1), a.i(2), a.i(3), a.i(4), a.i(5))
	case "pit_attn_backward_q":
		C.emu_pit_attn_backward_q(C.int(threads), a.f(0), a.f(1), a.f(2), a.f(3), a.i(4), a.i(5), a.i(6), a.i(7))
	case "pit_attn_backward_kv":
		C.emu_pit_attn_backward_kv(C.int(threads), a.f(0), a.f(1), a.f(2), a.f(3), a.i(4), a.i(5), a.i(6), a.i(7))
	case "pit_token_embed":
		C.emu_pit_token_embed(C.int(threads), a.f(0), a.ip(1), a.f(2), a.i(3), a.i(4))
	case "pit_rms_stats":
		C.emu_pit_rms_stats(C.int(threads), a.f(0), a.f(1), a.i(2), a.i(3), a.x(4))
	case "pit_rms_apply":
		C.emu_pit_rms_apply(C.int(threads), a.f(0), a.f(1), a.f(2), a.f(3), a.i(4), a.i(5))
	case "pit_rms_backward_x":
		C.emu_pit_rms_backward_x(C.int(threads), a.f(0), a.f(1), a.f(2), a.f(3), a.f(4), a.i(5), a.i(6))
	case "pit_rms_backward_x_acc":
		C.emu_pit_rms_backward_x_acc(C.int(threads), a.f(0), a.f(1), a.f(2), a.f(3), a.f(4), a.f(5), a.i(6), a.i(7))
	case "pit_rms_backward_g":
		C.emu_pit_rms_backward_g(C.int(threads), a.f(0), a.f(1), a.f(2), a.f(3), a.i(4), a.i(5))
	case "pit_rope":
		C.emu_pit_rope(C.int(threads), a.f(0), a.f(1), a.i(2), a.i(3), a.i(4), a.i(5), a.i(6), a.x(7), a.i(8))
	case "pit_swiglu":
		C.emu_pit_swiglu(C.int(threads), a.f(0), a.f(1), a.i(2), a.i(3))
	case "pit_swiglu_backward":
		C.emu_pit_swiglu_backward(C.int(threads), a.f(0), a.f(1), a.f(2), a.i(3), a.i(4))
	case "pit_gqa_forward":
		C.emu_pit_gqa_forward(C.int(threads), a.f(0), a.f(1), a.i(2), a.i(3), a.i(4), a.i(5), a.i(6))
	case "pit_gqa_backward_q":
		C.emu_pit_gqa_backward_q(C.int(threads), a.f(0), a.f(1), a.f(2), a.f(3), a.i(4), a.i(5), a.i(6), a.i(7), a.i(8))
	case "pit_gqa_backward_kv":
		C.emu_pit_gqa_backward_kv(C.int(threads), a.f(0), a.f(1), a.f(2), a.f(3), a.i(4), a.i(5), a.i(6), a.i(7), a.i(8))
	default:
		return fmt.Errorf("emu: no kernel %q", name)
	}
	return nil
}
