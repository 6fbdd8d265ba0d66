/*
 * fakegpu: a CUDA driver (libcuda.so.1) and cuBLAS (libcublas.so.N) that run
 * on the CPU, for checking pit's CUDA build end to end on a machine without
 * a GPU (scripts/cuda/fakegpu.sh). "Device" memory is host memory; kernels
 * are pit's own (core/nn/cuda/kernels.cu, compiled with emu.h) and run one
 * simulated thread after another; cublasSgemm_v2 is a naive column-major
 * product. It exercises everything between the Go code and the driver:
 * Gorgonia's CUDA tape machine, its host-device copies and allocations,
 * pit's launches (argument packing, grid sizes) and cuBLAS arguments. It
 * cannot catch what only real hardware shows: host code reading device
 * memory directly works here and would crash on a GPU, and PTX is not
 * compiled (the kernels are looked up by name).
 *
 * Only the calls pit's path makes are emulated; fakegpu.sh generates the
 * rest, which print their name and fail.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kernels.cu" /* with emu.h: KERNEL = static void */

typedef int CUresult;
typedef int CUdevice;
typedef unsigned long long CUdeviceptr;
typedef void *CUcontext;
typedef void *CUmodule;
typedef void *CUstream;

enum { OK = 0, ERR_INVALID_VALUE = 1, ERR_OOM = 2, ERR_NOT_FOUND = 500 };

static int trace = -1;
static void tracef(const char *fmt, const char *s) {
	if (trace < 0) trace = getenv("PIT_FAKEGPU_TRACE") != NULL;
	if (trace) fprintf(stderr, fmt, s);
}

CUresult cuInit(unsigned int flags) { (void)flags; return OK; }
CUresult cuDriverGetVersion(int *v) { *v = 13000; return OK; }
CUresult cuDeviceGetCount(int *n) { *n = 1; return OK; }
CUresult cuDeviceGet(CUdevice *d, int ordinal) {
	if (ordinal != 0) return ERR_INVALID_VALUE;
	*d = 0;
	return OK;
}
CUresult cuDeviceGetName(char *name, int len, CUdevice d) {
	(void)d;
	snprintf(name, len, "fakegpu (CPU emulation)");
	return OK;
}
#define FAKE_MEM (16ULL << 30)
CUresult cuDeviceTotalMem_v2(size_t *b, CUdevice d) { (void)d; *b = FAKE_MEM; return OK; }
CUresult cuMemGetInfo_v2(size_t *free, size_t *total) {
	*free = FAKE_MEM - (1ULL << 30);
	*total = FAKE_MEM;
	return OK;
}
CUresult cuDeviceGetAttribute(int *v, int attr, CUdevice d) {
	(void)d;
	switch (attr) {
	case 1: *v = 1024; break;       /* max threads per block */
	case 2: *v = 1024; break;       /* max block dim x */
	case 3: *v = 1024; break;       /* y */
	case 4: *v = 64; break;         /* z */
	case 5: *v = 2147483647; break; /* max grid dim x */
	case 6: *v = 65535; break;
	case 7: *v = 65535; break;
	case 10: *v = 32; break;        /* warp size */
	case 16: *v = 132; break;       /* multiprocessors */
	case 75: *v = 9; break;         /* compute capability major */
	case 76: *v = 0; break;
	default: *v = 0;
	}
	return OK;
}

static __thread CUcontext current;
static int ctxTag;
CUresult cuCtxCreate_v2(CUcontext *c, unsigned int flags, CUdevice d) {
	(void)flags; (void)d;
	*c = malloc(16);
	current = *c;
	return OK;
}
CUresult cuCtxDestroy_v2(CUcontext c) {
	if (current == c) current = NULL;
	free(c);
	return OK;
}
CUresult cuCtxSetCurrent(CUcontext c) { current = c; return OK; }
CUresult cuCtxGetCurrent(CUcontext *c) { *c = current; return OK; }
CUresult cuCtxPushCurrent_v2(CUcontext c) { current = c; return OK; }
CUresult cuCtxPopCurrent_v2(CUcontext *c) { if (c) *c = current; return OK; }
CUresult cuCtxSynchronize(void) { return OK; }
CUresult cuStreamSynchronize(CUstream s) { (void)s; return OK; }

static CUresult alloc(CUdeviceptr *p, size_t n) {
	void *m = NULL;
	if (posix_memalign(&m, 256, n ? n : 1) != 0) return ERR_OOM;
	*p = (CUdeviceptr)(uintptr_t)m;
	return OK;
}
CUresult cuMemAlloc_v2(CUdeviceptr *p, size_t n) { return alloc(p, n); }
CUresult cuMemAllocManaged(CUdeviceptr *p, size_t n, unsigned int flags) { (void)flags; return alloc(p, n); }
CUresult cuMemFree_v2(CUdeviceptr p) { free((void *)(uintptr_t)p); return OK; }
CUresult cuMemFreeHost(void *p) { free(p); return OK; }
CUresult cuMemcpy(CUdeviceptr dst, CUdeviceptr src, size_t n) {
	memmove((void *)(uintptr_t)dst, (void *)(uintptr_t)src, n);
	return OK;
}
CUresult cuMemcpyHtoD_v2(CUdeviceptr dst, const void *src, size_t n) {
	memcpy((void *)(uintptr_t)dst, src, n);
	return OK;
}
CUresult cuMemcpyDtoH_v2(void *dst, CUdeviceptr src, size_t n) {
	memcpy(dst, (void *)(uintptr_t)src, n);
	return OK;
}
CUresult cuMemcpyDtoD_v2(CUdeviceptr dst, CUdeviceptr src, size_t n) { return cuMemcpy(dst, src, n); }
CUresult cuMemcpyHtoDAsync_v2(CUdeviceptr dst, const void *src, size_t n, CUstream s) { (void)s; return cuMemcpyHtoD_v2(dst, src, n); }
CUresult cuMemcpyDtoHAsync_v2(void *dst, CUdeviceptr src, size_t n, CUstream s) { (void)s; return cuMemcpyDtoH_v2(dst, src, n); }
CUresult cuMemcpyDtoDAsync_v2(CUdeviceptr dst, CUdeviceptr src, size_t n, CUstream s) { (void)s; return cuMemcpy(dst, src, n); }
CUresult cuMemsetD8_v2(CUdeviceptr p, unsigned char v, size_t n) { memset((void *)(uintptr_t)p, v, n); return OK; }
CUresult cuMemsetD32_v2(CUdeviceptr p, unsigned int v, size_t n) {
	unsigned int *q = (unsigned int *)(uintptr_t)p;
	for (size_t i = 0; i < n; i++) q[i] = v;
	return OK;
}

/* ---- modules and kernels ---- */

typedef void (*dispatch)(unsigned gx, unsigned gy, unsigned gz, unsigned bx, unsigned by, unsigned bz, void **p);
typedef struct {
	const char *name;
	dispatch run;
} kernel;

#define F(i) (*(float **)p[i])
#define CF(i) (*(const float **)p[i])
#define I(i) (*(int *)p[i])
#define IP(i) (*(const int **)p[i])
#define X(i) (*(float *)p[i])
#define GO(call) EMU_LAUNCH3(gx, gy, gz, bx, by, bz, call)
#define DISPATCH(name, call)                                                                                        \
	static void run_##name(unsigned gx, unsigned gy, unsigned gz, unsigned bx, unsigned by, unsigned bz, void **p) { \
		GO(call);                                                                                                   \
	}

DISPATCH(pit_add, pit_add(CF(0), CF(1), F(2), I(3)))
DISPATCH(pit_add_bias, pit_add_bias(CF(0), CF(1), F(2), I(3), I(4)))
DISPATCH(pit_bias_gelu, pit_bias_gelu(CF(0), CF(1), F(2), I(3), I(4)))
DISPATCH(pit_bias_gelu_backward, pit_bias_gelu_backward(CF(0), CF(1), CF(2), F(3), I(4), I(5)))
DISPATCH(pit_col_sum, pit_col_sum(CF(0), F(1), I(2), I(3)))
DISPATCH(pit_ln_stats, pit_ln_stats(CF(0), F(1), I(2), I(3), X(4)))
DISPATCH(pit_ln_apply, pit_ln_apply(CF(0), CF(1), CF(2), CF(3), F(4), I(5), I(6)))
DISPATCH(pit_ln_backward_x, pit_ln_backward_x(CF(0), CF(1), CF(2), CF(3), F(4), I(5), I(6)))
DISPATCH(pit_ln_backward_x_acc, pit_ln_backward_x_acc(CF(0), CF(1), CF(2), CF(3), CF(4), F(5), I(6), I(7)))
DISPATCH(pit_ln_backward_g, pit_ln_backward_g(CF(0), CF(1), CF(2), F(3), I(4), I(5)))
DISPATCH(pit_embed, pit_embed(CF(0), CF(1), IP(2), F(3), I(4), I(5), I(6)))
DISPATCH(pit_embed_grad_tok, pit_embed_grad_tok(CF(0), IP(1), F(2), I(3), I(4), I(5)))
DISPATCH(pit_embed_grad_pos, pit_embed_grad_pos(CF(0), F(1), I(2), I(3), I(4), I(5)))
DISPATCH(pit_attn_forward, pit_attn_forward(CF(0), F(1), I(2), I(3), I(4), I(5)))
DISPATCH(pit_attn_backward_q, pit_attn_backward_q(CF(0), CF(1), F(2), F(3), I(4), I(5), I(6), I(7)))
DISPATCH(pit_attn_backward_kv, pit_attn_backward_kv(CF(0), CF(1), F(2), CF(3), I(4), I(5), I(6), I(7)))
DISPATCH(pit_token_embed, pit_token_embed(CF(0), IP(1), F(2), I(3), I(4)))
DISPATCH(pit_rms_stats, pit_rms_stats(CF(0), F(1), I(2), I(3), X(4)))
DISPATCH(pit_rms_apply, pit_rms_apply(CF(0), CF(1), CF(2), F(3), I(4), I(5)))
DISPATCH(pit_rms_backward_x, pit_rms_backward_x(CF(0), CF(1), CF(2), CF(3), F(4), I(5), I(6)))
DISPATCH(pit_rms_backward_x_acc, pit_rms_backward_x_acc(CF(0), CF(1), CF(2), CF(3), CF(4), F(5), I(6), I(7)))
DISPATCH(pit_rms_backward_g, pit_rms_backward_g(CF(0), CF(1), CF(2), F(3), I(4), I(5)))
DISPATCH(pit_rope, pit_rope(CF(0), F(1), I(2), I(3), I(4), I(5), I(6), X(7), I(8)))
DISPATCH(pit_swiglu, pit_swiglu(CF(0), F(1), I(2), I(3)))
DISPATCH(pit_swiglu_backward, pit_swiglu_backward(CF(0), CF(1), F(2), I(3), I(4)))
DISPATCH(pit_gqa_forward, pit_gqa_forward(CF(0), F(1), I(2), I(3), I(4), I(5), I(6)))
DISPATCH(pit_gqa_backward_q, pit_gqa_backward_q(CF(0), CF(1), F(2), F(3), I(4), I(5), I(6), I(7), I(8)))
DISPATCH(pit_gqa_backward_kv, pit_gqa_backward_kv(CF(0), CF(1), F(2), CF(3), I(4), I(5), I(6), I(7), I(8)))

#define K(name) {#name, run_##name}
static kernel kernels[] = {
	K(pit_add), K(pit_add_bias), K(pit_bias_gelu), K(pit_bias_gelu_backward), K(pit_col_sum),
	K(pit_ln_stats), K(pit_ln_apply), K(pit_ln_backward_x), K(pit_ln_backward_g), K(pit_embed),
	K(pit_embed_grad_tok), K(pit_embed_grad_pos), K(pit_attn_forward), K(pit_attn_backward_q),
	K(pit_attn_backward_kv), K(pit_token_embed), K(pit_rms_stats), K(pit_rms_apply), K(pit_rms_backward_x),
	K(pit_rms_backward_g), K(pit_rope), K(pit_swiglu), K(pit_swiglu_backward), K(pit_gqa_forward),
	K(pit_gqa_backward_q), K(pit_gqa_backward_kv), K(pit_ln_backward_x_acc), K(pit_rms_backward_x_acc),
};

CUresult cuModuleLoadData(CUmodule *m, const void *image) {
	if (!image || !strstr((const char *)image, ".entry")) return ERR_INVALID_VALUE; /* not PTX */
	*m = (CUmodule)&ctxTag;
	return OK;
}
CUresult cuModuleUnload(CUmodule m) { (void)m; return OK; }
CUresult cuModuleGetFunction(void **f, CUmodule m, const char *name) {
	(void)m;
	for (size_t i = 0; i < sizeof kernels / sizeof kernels[0]; i++) {
		if (strcmp(kernels[i].name, name) == 0) {
			*f = &kernels[i];
			return OK;
		}
	}
	fprintf(stderr, "fakegpu: no emulation of kernel %s\n", name);
	return ERR_NOT_FOUND;
}
CUresult cuLaunchKernel(void *f, unsigned gx, unsigned gy, unsigned gz, unsigned bx, unsigned by, unsigned bz,
                        unsigned shmem, CUstream s, void **params, void **extra) {
	(void)shmem; (void)s; (void)extra;
	kernel *k = (kernel *)f;
	tracef("fakegpu: launch %s\n", k->name);
	k->run(gx, gy, gz, bx, by, bz, params);
	return OK;
}

/* ---- cuBLAS ---- */

typedef void *cublasHandle_t;
CUresult cublasCreate_v2(cublasHandle_t *h) { *h = malloc(16); return OK; }
CUresult cublasDestroy_v2(cublasHandle_t h) { free(h); return OK; }
CUresult cublasSetStream_v2(cublasHandle_t h, CUstream s) { (void)h; (void)s; return OK; }
CUresult cublasSetPointerMode_v2(cublasHandle_t h, int m) { (void)h; (void)m; return OK; }
CUresult cublasSetMathMode(cublasHandle_t h, int m) { (void)h; (void)m; return OK; }
CUresult cublasSgemm_v2(cublasHandle_t h, int ta, int tb, int m, int n, int k, const float *alpha, const float *A,
                        int lda, const float *B, int ldb, const float *beta, float *C, int ldc) {
	(void)h;
	tracef("fakegpu: %s\n", "cublasSgemm_v2");
	for (int j = 0; j < n; j++) {
		for (int i = 0; i < m; i++) {
			float s = 0;
			for (int l = 0; l < k; l++) {
				float a = ta ? A[l + i * lda] : A[i + l * lda];
				float b = tb ? B[j + l * ldb] : B[l + j * ldb];
				s += a * b;
			}
			C[i + j * ldc] = *alpha * s + (*beta != 0 ? *beta * C[i + j * ldc] : 0);
		}
	}
	return OK;
}
