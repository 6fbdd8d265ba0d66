"""OpenBLAS's side of scripts/bench/gemm.sh: single-thread GFLOP/s of
torch.mm at the shapes of core/nn/internal/f32's BenchmarkGEMM.

Prints one line per shape: NAME GFLOP/s, each the mean over WINDOWS timed
windows of about 2 GFLOP after 3 warm-up products. Run it with
OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE unset (gemm.sh does) so that
OpenBLAS picks its best kernel for this CPU.
"""
import sys
import time

import torch

# name, mode, M, N, K: the same table as BenchmarkGEMM (gemm_test.go).
SHAPES = [
    ("fwd-d64", "NN", 1024, 192, 64),
    ("fwd-mlp-d256", "NN", 4096, 1024, 256),
    ("fwd-mlpdown-d256", "NN", 4096, 256, 1024),
    ("gradx-d256", "NT", 4096, 256, 1024),
    ("gradw-d256", "TN", 256, 1024, 4096),
    ("fwd-d768", "NN", 8192, 768, 768),
    ("attn-T128-dh64", "NN", 128, 128, 64),
    ("square-256", "NN", 256, 256, 256),
    ("square-1024", "NN", 1024, 1024, 1024),
]


def main():
    windows = int(sys.argv[1]) if len(sys.argv) > 1 else 5
    torch.set_num_threads(1)
    torch.manual_seed(1)
    for name, mode, m, n, k in SHAPES:
        a = torch.randn(k, m) if mode == "TN" else torch.randn(m, k)
        b = torch.randn(n, k) if mode == "NT" else torch.randn(k, n)
        if mode == "TN":
            f = lambda: a.t().mm(b)
        elif mode == "NT":
            f = lambda: a.mm(b.t())
        else:
            f = lambda: a.mm(b)
        for _ in range(3):
            f()
        reps = max(3, int(2e9 / (2 * m * n * k)))
        times = []
        for _ in range(windows):
            t = time.perf_counter()
            for _ in range(reps):
                f()
            times.append((time.perf_counter() - t) / reps)
        mean = sum(times) / len(times)
        print(f"{name} {2 * m * n * k / mean / 1e9:.1f}", flush=True)


if __name__ == "__main__":
    main()
