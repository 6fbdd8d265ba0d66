// pit's CUDA kernels for core/nn (float32 only).
//
// Each kernel is the GPU twin of a Go kernel in core/nn/kernels.go (or
// llama_kernels.go) and computes the same thing in the same layout
// (row-major, qkv fused as [B*T, 3D] with heads contiguous; the Llama
// family's as [B*T, (H+2KV)*dh]). Matrix products are not here: they go
// to cuBLAS (core/nn/device_cuda.go).
//
// The file is compiled two ways:
//   - by nvcc to PTX (scripts/cuda/build.sh), loaded at run time by the
//     CUDA build of pit (-tags cuda);
//   - by a C compiler, with emu.h standing in for the CUDA built-ins, so
//     that `go test -tags cudaemu ./core/nn` checks every kernel against
//     the Go kernels on a machine without a GPU. To keep that emulation
//     exact, the kernels use no shared memory, no __syncthreads and no
//     atomics: every thread owns its outputs. That also makes them
//     deterministic (no atomic float sums), at some cost in speed.
//
// Launch: 1-D grids, one thread per output element, row or column as
// each kernel says; threads past the end return at once. All scalar
// parameters are int or float: the Go side passes each as a 64-bit word
// (gorgonia.org/cu copies 8 bytes per kernel argument) whose low bytes
// are the value.

#ifdef __CUDACC__
#define KERNEL extern "C" __global__ void
#define DEVFN __device__ static inline
// ADD_RN(a, b) is a + b rounded on its own: nvcc does not contract it with
// a product into a fused multiply-add.
#define ADD_RN(a, b) __fadd_rn(a, b)
#else
#include "emu.h"
#define ADD_RN(a, b) ((a) + (b))
#endif

#define PIT_MAX_DH 256 // largest head width the attention kernels take

#define TID() ((int)(blockIdx.x * blockDim.x + threadIdx.x))

// ---- elementwise ----

// pit_add: y[i] = a[i] + b[i] (Residual). y may alias a.
KERNEL pit_add(const float* a, const float* b, float* y, int n) {
	int i = TID();
	if (i >= n) return;
	y[i] = a[i] + b[i];
}

// pit_add_bias: y[r, c] = x[r, c] + b[c] for x [n, d] (BiasAdd, Linear).
// y may alias x.
KERNEL pit_add_bias(const float* x, const float* b, float* y, int n, int d) {
	int i = TID();
	if (i >= n * d) return;
	y[i] = x[i] + b[i % d];
}

// ---- GELU, tanh approximation, on x + b ----

#define GELU_C 0.7978845608028654f
#define GELU_A 0.044715f

// gelu_sig returns s = 1/(1+exp(-2c(x + a x^3))), so that gelu(x) = x*s.
DEVFN float gelu_sig(float x) {
	return 1.0f / (1.0f + expf(-2.0f * GELU_C * (x + GELU_A * x * x * x)));
}

// pit_bias_gelu: y = gelu(x + b) for x [n, d], b [d].
KERNEL pit_bias_gelu(const float* x, const float* b, float* y, int n, int d) {
	int i = TID();
	if (i >= n * d) return;
	float v = x[i] + b[i % d];
	y[i] = v * gelu_sig(v);
}

// pit_bias_gelu_backward: dx = gelu'(x + b) * dy.
KERNEL pit_bias_gelu_backward(const float* x, const float* b, const float* dy, float* dx, int n, int d) {
	int i = TID();
	if (i >= n * d) return;
	float v = x[i] + b[i % d];
	float s = gelu_sig(v);
	dx[i] = (s + 2.0f * v * s * (1.0f - s) * GELU_C * (1.0f + 3.0f * GELU_A * v * v)) * dy[i];
}

// ---- column sums ----

// pit_col_sum: out[c] = sum over rows r of x[r, c], x [n, d]; one thread
// per column, rows in order.
KERNEL pit_col_sum(const float* x, float* out, int n, int d) {
	int c = TID();
	if (c >= d) return;
	float s = 0.0f;
	for (int r = 0; r < n; r++) s += x[r * d + c];
	out[c] = s;
}

// ---- layer norm ----

// pit_ln_stats: stats[2r] = mean, stats[2r+1] = 1/sqrt(var + eps) of row r
// of x [n, d]; one thread per row, the variance in double.
KERNEL pit_ln_stats(const float* x, float* stats, int n, int d, float eps) {
	int r = TID();
	if (r >= n) return;
	const float* row = x + (long long)r * d;
	float s = 0.0f;
	for (int i = 0; i < d; i++) s += row[i];
	float mean = s / (float)d;
	float ss = 0.0f;
	for (int i = 0; i < d; i++) {
		float t = row[i] - mean;
		ss += t * t;
	}
	double v = (double)ss / (double)d;
	stats[2 * r] = mean;
	stats[2 * r + 1] = (float)(1.0 / sqrt(v + (double)eps));
}

// pit_ln_apply: y = (x - mean) * rstd * g + b, element by element, from
// the stats of pit_ln_stats.
KERNEL pit_ln_apply(const float* x, const float* g, const float* b, const float* stats, float* y, int n, int d) {
	int i = TID();
	if (i >= n * d) return;
	int r = i / d, c = i % d;
	y[i] = (x[i] - stats[2 * r]) * stats[2 * r + 1] * g[c] + b[c];
}

// ln_backward_row: dx of layer norm for row r of x [n, d]; with acc (NULL
// for none) each element adds acc, the gradient x has received from
// elsewhere, after the norm's term is rounded (the fused residual-stream
// backward: the same floats as pit_ln_backward_x followed by pit_add).
DEVFN void ln_backward_row(const float* x, const float* g, const float* dy, const float* acc, const float* stats,
                           float* dx, int r, int d) {
	long long o = (long long)r * d;
	float m = stats[2 * r], s = stats[2 * r + 1];
	float sumG = 0.0f, sumGX = 0.0f;
	for (int i = 0; i < d; i++) {
		float gi = dy[o + i] * g[i];
		sumG += gi;
		sumGX += gi * (x[o + i] - m) * s;
	}
	float inv = 1.0f / (float)d;
	sumG *= inv;
	sumGX *= inv;
	for (int i = 0; i < d; i++) {
		float v = s * (dy[o + i] * g[i] - sumG - (x[o + i] - m) * s * sumGX);
		dx[o + i] = acc ? ADD_RN(acc[o + i], v) : v;
	}
}

// pit_ln_backward_x: dx of layer norm for row r (one thread per row).
KERNEL pit_ln_backward_x(const float* x, const float* g, const float* dy, const float* stats, float* dx, int n,
                         int d) {
	int r = TID();
	if (r >= n) return;
	ln_backward_row(x, g, dy, 0, stats, dx, r, d);
}

// pit_ln_backward_x_acc: dx = acc + the layer norm's dx, for row r (one
// thread per row): LayerNormGradXAcc, the norm's input gradient with the
// residual stream's incoming gradient folded in. dx may alias acc.
KERNEL pit_ln_backward_x_acc(const float* x, const float* g, const float* dy, const float* acc, const float* stats,
                             float* dx, int n, int d) {
	int r = TID();
	if (r >= n) return;
	ln_backward_row(x, g, dy, acc, stats, dx, r, d);
}

// pit_ln_backward_g: dg[c] = sum over rows of xhat[r, c] * dy[r, c]; one
// thread per column.
KERNEL pit_ln_backward_g(const float* x, const float* dy, const float* stats, float* dg, int n, int d) {
	int c = TID();
	if (c >= d) return;
	float s = 0.0f;
	for (int r = 0; r < n; r++) s += (x[r * d + c] - stats[2 * r]) * stats[2 * r + 1] * dy[r * d + c];
	dg[c] = s;
}

// ---- embeddings ----

// pit_embed: out[r, c] = wte[ids[r], c] + wpe[r % T, c].
KERNEL pit_embed(const float* wte, const float* wpe, const int* ids, float* out, int n, int T, int d) {
	int i = TID();
	if (i >= n * d) return;
	int r = i / d, c = i % d;
	out[i] = wte[ids[r] * d + c] + wpe[(r % T) * d + c];
}

// pit_embed_grad_tok: dwte[v, c] = sum of dy[r, c] over rows with
// ids[r] == v; one thread per (v, c), rows in order.
KERNEL pit_embed_grad_tok(const float* dy, const int* ids, float* dwte, int n, int V, int d) {
	int i = TID();
	if (i >= V * d) return;
	int v = i / d, c = i % d;
	float s = 0.0f;
	for (int r = 0; r < n; r++)
		if (ids[r] == v) s += dy[r * d + c];
	dwte[i] = s;
}

// pit_embed_grad_pos: dwpe[t, c] = sum of dy[r, c] over rows with
// r % T == t; one thread per (t, c). dwpe has P >= T rows; rows from T
// on get zero.
KERNEL pit_embed_grad_pos(const float* dy, float* dwpe, int n, int T, int P, int d) {
	int i = TID();
	if (i >= P * d) return;
	int t = i / d, c = i % d;
	float s = 0.0f;
	if (t < T)
		for (int r = t; r < n; r += T) s += dy[r * d + c];
	dwpe[i] = s;
}

// ---- causal multi-head attention over fused qkv [B*T, 3D] ----

// dotf is the dot product of two rows of n floats.
DEVFN float dotf(const float* a, const float* b, int n) {
	float s = 0.0f;
	for (int i = 0; i < n; i++) s += a[i] * b[i];
	return s;
}

// max_score is the largest scaled score of query q over the keys of
// positions 0..t of sequence b, head h (the softmax's shift).
DEVFN float max_score(const float* qkv, const float* q, int b, int T, int t, int D, int h, int dh, float scale) {
	float mx = -3.402823466e38f;
	for (int s = 0; s <= t; s++) {
		float dot = dotf(q, qkv + (long long)(b * T + s) * 3 * D + D + h * dh, dh) * scale;
		if (dot > mx) mx = dot;
	}
	return mx;
}

// pit_attn_forward: one thread per (b, h, t) query row.
KERNEL pit_attn_forward(const float* qkv, float* out, int B, int T, int H, int D) {
	int idx = TID();
	if (idx >= B * H * T) return;
	int t = idx % T, h = (idx / T) % H, b = idx / (T * H);
	int dh = D / H, D3 = 3 * D;
	float scale = 1.0f / sqrtf((float)dh);
	const float* q = qkv + (long long)(b * T + t) * D3 + h * dh;
	float mx = max_score(qkv, q, b, T, t, D, h, dh, scale);
	float acc[PIT_MAX_DH];
	for (int i = 0; i < dh; i++) acc[i] = 0.0f;
	float z = 0.0f;
	for (int s = 0; s <= t; s++) {
		const float* k = qkv + (long long)(b * T + s) * D3 + D + h * dh;
		const float* v = k + D;
		float p = expf(dotf(q, k, dh) * scale - mx);
		z += p;
		for (int i = 0; i < dh; i++) acc[i] += p * v[i];
	}
	float* o = out + (long long)(b * T + t) * D + h * dh;
	for (int i = 0; i < dh; i++) o[i] = acc[i] / z;
}

// pit_attn_backward_q: one thread per (b, h, t) query row. Writes the
// query part of dqkv and keeps, per row, the max score, the softmax
// normaliser and sum_s p_s dp_s in rows[3*idx..] for pit_attn_backward_kv.
KERNEL pit_attn_backward_q(const float* qkv, const float* dy, float* dqkv, float* rows, int B, int T, int H, int D) {
	int idx = TID();
	if (idx >= B * H * T) return;
	int t = idx % T, h = (idx / T) % H, b = idx / (T * H);
	int dh = D / H, D3 = 3 * D;
	float scale = 1.0f / sqrtf((float)dh);
	const float* q = qkv + (long long)(b * T + t) * D3 + h * dh;
	const float* g = dy + (long long)(b * T + t) * D + h * dh;
	float mx = max_score(qkv, q, b, T, t, D, h, dh, scale);
	float z = 0.0f, sumPD = 0.0f;
	for (int s = 0; s <= t; s++) {
		const float* k = qkv + (long long)(b * T + s) * D3 + D + h * dh;
		const float* v = k + D;
		float dot = 0.0f, dp = 0.0f;
		for (int i = 0; i < dh; i++) {
			dot += q[i] * k[i];
			dp += g[i] * v[i];
		}
		float p = expf(dot * scale - mx);
		z += p;
		sumPD += p * dp;
	}
	sumPD /= z;
	float dq[PIT_MAX_DH];
	for (int i = 0; i < dh; i++) dq[i] = 0.0f;
	for (int s = 0; s <= t; s++) {
		const float* k = qkv + (long long)(b * T + s) * D3 + D + h * dh;
		const float* v = k + D;
		float dot = 0.0f, dp = 0.0f;
		for (int i = 0; i < dh; i++) {
			dot += q[i] * k[i];
			dp += g[i] * v[i];
		}
		float p = expf(dot * scale - mx) / z;
		float ds = p * (dp - sumPD) * scale;
		for (int i = 0; i < dh; i++) dq[i] += ds * k[i];
	}
	float* dqo = dqkv + (long long)(b * T + t) * D3 + h * dh;
	for (int i = 0; i < dh; i++) dqo[i] = dq[i];
	rows[3 * idx] = mx;
	rows[3 * idx + 1] = z;
	rows[3 * idx + 2] = sumPD;
}

// pit_attn_backward_kv: one thread per (b, h, s) key row: the key and
// value parts of dqkv, from the rows pit_attn_backward_q kept.
KERNEL pit_attn_backward_kv(const float* qkv, const float* dy, float* dqkv, const float* rows, int B, int T, int H,
                            int D) {
	int idx = TID();
	if (idx >= B * H * T) return;
	int s = idx % T, h = (idx / T) % H, b = idx / (T * H);
	int dh = D / H, D3 = 3 * D;
	float scale = 1.0f / sqrtf((float)dh);
	const float* k = qkv + (long long)(b * T + s) * D3 + D + h * dh;
	const float* v = k + D;
	float dk[PIT_MAX_DH], dv[PIT_MAX_DH];
	for (int i = 0; i < dh; i++) {
		dk[i] = 0.0f;
		dv[i] = 0.0f;
	}
	for (int t = s; t < T; t++) {
		int row = (b * H + h) * T + t;
		const float* q = qkv + (long long)(b * T + t) * D3 + h * dh;
		const float* g = dy + (long long)(b * T + t) * D + h * dh;
		float dot = 0.0f, dp = 0.0f;
		for (int i = 0; i < dh; i++) {
			dot += q[i] * k[i];
			dp += g[i] * v[i];
		}
		float p = expf(dot * scale - rows[3 * row]) / rows[3 * row + 1];
		float ds = p * (dp - rows[3 * row + 2]) * scale;
		for (int i = 0; i < dh; i++) {
			dk[i] += ds * q[i];
			dv[i] += p * g[i];
		}
	}
	float* dko = dqkv + (long long)(b * T + s) * D3 + D + h * dh;
	float* dvo = dko + D;
	for (int i = 0; i < dh; i++) {
		dko[i] = dk[i];
		dvo[i] = dv[i];
	}
}

// ---- the Llama family (core/nn/llama_kernels.go) ----

// pit_token_embed: out[r, c] = wte[ids[r], c] (no position table).
KERNEL pit_token_embed(const float* wte, const int* ids, float* out, int n, int d) {
	int i = TID();
	if (i >= n * d) return;
	int r = i / d, c = i % d;
	out[i] = wte[ids[r] * d + c];
}

// pit_rms_stats: rstd[r] = 1/sqrt(mean(x[r]^2) + eps) of row r of x [n, d];
// one thread per row, summed in double as the Go kernel does.
KERNEL pit_rms_stats(const float* x, float* rstd, int n, int d, float eps) {
	int r = TID();
	if (r >= n) return;
	const float* row = x + (long long)r * d;
	double ss = 0.0;
	for (int i = 0; i < d; i++) ss += (double)row[i] * (double)row[i];
	rstd[r] = (float)(1.0 / sqrt(ss / (double)d + (double)eps));
}

// pit_rms_apply: y = x * rstd * g, element by element (RMSNorm).
KERNEL pit_rms_apply(const float* x, const float* g, const float* rstd, float* y, int n, int d) {
	int i = TID();
	if (i >= n * d) return;
	y[i] = x[i] * rstd[i / d] * g[i % d];
}

// rms_backward_row: with u = g*dy, dx = rstd*u - x*rstd^3*mean(u*x) for
// row r; with acc (NULL for none) each element adds acc after the norm's
// term is rounded, as ln_backward_row does.
DEVFN void rms_backward_row(const float* x, const float* g, const float* dy, const float* acc, const float* rstd,
                            float* dx, int r, int d) {
	long long o = (long long)r * d;
	float s = rstd[r];
	float dot = 0.0f;
	for (int i = 0; i < d; i++) dot += g[i] * dy[o + i] * x[o + i];
	float c = s * s * s * dot / (float)d;
	for (int i = 0; i < d; i++) {
		float v = s * g[i] * dy[o + i] - x[o + i] * c;
		dx[o + i] = acc ? ADD_RN(acc[o + i], v) : v;
	}
}

// pit_rms_backward_x: RMSNorm's dx; one thread per row.
KERNEL pit_rms_backward_x(const float* x, const float* g, const float* dy, const float* rstd, float* dx, int n,
                          int d) {
	int r = TID();
	if (r >= n) return;
	rms_backward_row(x, g, dy, 0, rstd, dx, r, d);
}

// pit_rms_backward_x_acc: dx = acc + RMSNorm's dx (RMSNormGradXAcc); one
// thread per row. dx may alias acc.
KERNEL pit_rms_backward_x_acc(const float* x, const float* g, const float* dy, const float* acc, const float* rstd,
                              float* dx, int n, int d) {
	int r = TID();
	if (r >= n) return;
	rms_backward_row(x, g, dy, acc, rstd, dx, r, d);
}

// pit_rms_backward_g: dg[c] = sum over rows of dy[r, c] * x[r, c] * rstd[r];
// one thread per column, rows in order.
KERNEL pit_rms_backward_g(const float* x, const float* dy, const float* rstd, float* dg, int n, int d) {
	int c = TID();
	if (c >= d) return;
	float s = 0.0f;
	for (int r = 0; r < n; r++) s += dy[r * d + c] * x[r * d + c] * rstd[r];
	dg[c] = s;
}

// pit_rope: rotary positions over a fused qkv matrix x [rows, W], W =
// (H + 2KV)*dh: in every query and key head of row r (position r % T) the
// pairs (i, i + dh/2) turn by t * theta^(-2i/dh), forward (back = 0) or
// back (back = 1); value heads are copied. One thread per element; the
// angle in double, as the Go kernel computes it. theta arrives as a float,
// which is exact for the integral bases checkpoints use (10000, 500000).
KERNEL pit_rope(const float* x, float* y, int rows, int T, int H, int KV, int dh, float theta, int back) {
	int W = (H + 2 * KV) * dh;
	int idx = TID();
	if (idx >= rows * W) return;
	int r = idx / W, c = idx % W;
	if (c >= (H + KV) * dh) {
		y[idx] = x[idx];
		return;
	}
	int half = dh / 2, off = r * W + c / dh * dh, i = c % dh, j = i % half;
	double ang = (double)(r % T) * pow((double)theta, -2.0 * (double)j / (double)dh);
	double cs = cos(ang), sn = sin(ang), sign = back ? -1.0 : 1.0;
	double x1 = (double)x[off + j], x2 = (double)x[off + half + j];
	y[idx] = i < half ? (float)(x1 * cs - sign * x2 * sn) : (float)(x2 * cs + sign * x1 * sn);
}

// pit_swiglu: y[r, i] = silu(x[r, i]) * x[r, m + i] over x [n, 2m] (gate |
// up), y [n, m].
KERNEL pit_swiglu(const float* x, float* y, int n, int m) {
	int idx = TID();
	if (idx >= n * m) return;
	int r = idx / m, i = idx % m;
	float g = x[r * 2 * m + i], u = x[r * 2 * m + m + i];
	y[idx] = g / (1.0f + expf(-g)) * u;
}

// pit_swiglu_backward: dx [n, 2m] from dy [n, m]; one thread per element
// of dx.
KERNEL pit_swiglu_backward(const float* x, const float* dy, float* dx, int n, int m) {
	int idx = TID();
	if (idx >= n * 2 * m) return;
	int r = idx / (2 * m), c = idx % (2 * m), i = c % m;
	float g = x[r * 2 * m + i], u = x[r * 2 * m + m + i], d = dy[r * m + i];
	float sg = 1.0f / (1.0f + expf(-g));
	dx[idx] = c < m ? d * u * sg * (1.0f + g * (1.0f - sg)) : d * g * sg;
}

// ---- causal grouped-query attention over fused qkv [B*T, (H+2KV)*dh] ----
//
// Query head h reads key/value head h / (H/KV); the output is [B*T, H*dh].

// gqa_max_score is the largest scaled score of query q over the keys at
// column koff of positions 0..t of sequence b.
DEVFN float gqa_max_score(const float* qkv, const float* q, int b, int T, int t, int W, int koff, int dh,
                          float scale) {
	float mx = -3.402823466e38f;
	for (int s = 0; s <= t; s++) {
		float dot = dotf(q, qkv + (long long)(b * T + s) * W + koff, dh) * scale;
		if (dot > mx) mx = dot;
	}
	return mx;
}

// pit_gqa_forward: one thread per (b, h, t) query row.
KERNEL pit_gqa_forward(const float* qkv, float* out, int B, int T, int H, int KV, int dh) {
	int idx = TID();
	if (idx >= B * H * T) return;
	int t = idx % T, h = (idx / T) % H, b = idx / (T * H);
	int W = (H + 2 * KV) * dh, kh = h / (H / KV);
	int koff = (H + kh) * dh, voff = (H + KV + kh) * dh;
	float scale = 1.0f / sqrtf((float)dh);
	const float* q = qkv + (long long)(b * T + t) * W + h * dh;
	float mx = gqa_max_score(qkv, q, b, T, t, W, koff, dh, scale);
	float acc[PIT_MAX_DH];
	for (int i = 0; i < dh; i++) acc[i] = 0.0f;
	float z = 0.0f;
	for (int s = 0; s <= t; s++) {
		const float* row = qkv + (long long)(b * T + s) * W;
		float p = expf(dotf(q, row + koff, dh) * scale - mx);
		z += p;
		for (int i = 0; i < dh; i++) acc[i] += p * row[voff + i];
	}
	float* o = out + (long long)(b * T + t) * H * dh + h * dh;
	for (int i = 0; i < dh; i++) o[i] = acc[i] / z;
}

// pit_gqa_backward_q: one thread per (b, h, t) query row. Writes the
// query part of dqkv and keeps, per row, the max score, the softmax
// normaliser and sum_s p_s dp_s in rows[3*idx..] for pit_gqa_backward_kv.
KERNEL pit_gqa_backward_q(const float* qkv, const float* dy, float* dqkv, float* rows, int B, int T, int H, int KV,
                          int dh) {
	int idx = TID();
	if (idx >= B * H * T) return;
	int t = idx % T, h = (idx / T) % H, b = idx / (T * H);
	int W = (H + 2 * KV) * dh, kh = h / (H / KV);
	int koff = (H + kh) * dh, voff = (H + KV + kh) * dh;
	float scale = 1.0f / sqrtf((float)dh);
	const float* q = qkv + (long long)(b * T + t) * W + h * dh;
	const float* g = dy + (long long)(b * T + t) * H * dh + h * dh;
	float mx = gqa_max_score(qkv, q, b, T, t, W, koff, dh, scale);
	float z = 0.0f, sumPD = 0.0f;
	for (int s = 0; s <= t; s++) {
		const float* row = qkv + (long long)(b * T + s) * W;
		float p = expf(dotf(q, row + koff, dh) * scale - mx);
		z += p;
		sumPD += p * dotf(g, row + voff, dh);
	}
	sumPD /= z;
	float dq[PIT_MAX_DH];
	for (int i = 0; i < dh; i++) dq[i] = 0.0f;
	for (int s = 0; s <= t; s++) {
		const float* row = qkv + (long long)(b * T + s) * W;
		float p = expf(dotf(q, row + koff, dh) * scale - mx) / z;
		float ds = p * (dotf(g, row + voff, dh) - sumPD) * scale;
		for (int i = 0; i < dh; i++) dq[i] += ds * row[koff + i];
	}
	float* dqo = dqkv + (long long)(b * T + t) * W + h * dh;
	for (int i = 0; i < dh; i++) dqo[i] = dq[i];
	rows[3 * idx] = mx;
	rows[3 * idx + 1] = z;
	rows[3 * idx + 2] = sumPD;
}

// pit_gqa_backward_kv: one thread per (b, kh, s) key/value row: the key
// and value parts of dqkv, summed over the query heads of the group and
// the positions t >= s, from the rows pit_gqa_backward_q kept.
KERNEL pit_gqa_backward_kv(const float* qkv, const float* dy, float* dqkv, const float* rows, int B, int T, int H,
                           int KV, int dh) {
	int idx = TID();
	if (idx >= B * KV * T) return;
	int s = idx % T, kh = (idx / T) % KV, b = idx / (T * KV);
	int W = (H + 2 * KV) * dh, group = H / KV;
	int koff = (H + kh) * dh, voff = (H + KV + kh) * dh;
	float scale = 1.0f / sqrtf((float)dh);
	const float* k = qkv + (long long)(b * T + s) * W + koff;
	const float* v = qkv + (long long)(b * T + s) * W + voff;
	float dk[PIT_MAX_DH], dv[PIT_MAX_DH];
	for (int i = 0; i < dh; i++) {
		dk[i] = 0.0f;
		dv[i] = 0.0f;
	}
	for (int h = kh * group; h < (kh + 1) * group; h++) {
		for (int t = s; t < T; t++) {
			int row = (b * H + h) * T + t;
			const float* q = qkv + (long long)(b * T + t) * W + h * dh;
			const float* g = dy + (long long)(b * T + t) * H * dh + h * dh;
			float p = expf(dotf(q, k, dh) * scale - rows[3 * row]) / rows[3 * row + 1];
			float ds = p * (dotf(g, v, dh) - rows[3 * row + 2]) * scale;
			for (int i = 0; i < dh; i++) {
				dk[i] += ds * q[i];
				dv[i] += p * g[i];
			}
		}
	}
	float* dko = dqkv + (long long)(b * T + s) * W + koff;
	float* dvo = dqkv + (long long)(b * T + s) * W + voff;
	for (int i = 0; i < dh; i++) {
		dko[i] = dk[i];
		dvo[i] = dv[i];
	}
}
