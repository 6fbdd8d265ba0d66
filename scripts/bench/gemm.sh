#!/usr/bin/env bash
# Single-core GEMM: pit's packed kernels (core/nn/internal/f32,
# BenchmarkGEMM) against OpenBLAS through torch.mm, at the model's shapes.
# The two sides alternate, round after round, one thread each; OpenBLAS
# runs with OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE unset (this machine's
# environment sets them, which forces a current OpenBLAS onto older
# kernels) and the kernel it picks is printed. The table gives each
# side's mean GFLOP/s over the rounds (pit: by CPU time, GOMAXPROCS=1;
# OpenBLAS: wall time of a single-threaded process) and their ratio.
#
# Usage: scripts/bench/gemm.sh [rounds]   (default 3; ~1 minute a round)
# Needs Debian's python3-torch and python3-threadpoolctl (see compare.sh).
set -euo pipefail
cd "$(dirname "$0")/../.."
rounds=${1:-3}
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
echo "date: $(date -u +%FT%TZ)  cpus: $(nproc)  $(uptime | sed 's/.*load/load/')"
grep -m1 'model name' /proc/cpuinfo || true
go test -c -o "$out/f32.test" ./core/nn/internal/f32
torchenv=(env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1)
"${torchenv[@]}" /usr/bin/python3 -c 'import torch, threadpoolctl; torch.zeros(8, 8).mm(torch.zeros(8, 8)); print("OpenBLAS:", [(i.get("internal_api"), i.get("version"), i.get("architecture")) for i in threadpoolctl.threadpool_info() if i.get("internal_api") == "openblas"])'
for r in $(seq 1 "$rounds"); do
	echo "round $r"
	GOMAXPROCS=1 "$out/f32.test" -test.run '^$' -test.bench '^BenchmarkGEMM$' -test.benchtime 20x |
		awk '/cpu-GFLOP\/s/ { n = $1; sub(/^BenchmarkGEMM\//, "", n); for (i = 2; i < NF; i++) if ($(i + 1) == "cpu-GFLOP/s") print n, $i }' >>"$out/pit"
	"${torchenv[@]}" /usr/bin/python3 scripts/bench/gemm_torch.py 5 >>"$out/blas"
done
awk -v rounds="$rounds" '
	FNR == 1 { side++ }
	{ if (!($1 in seen)) { seen[$1] = 1; order[++n] = $1 } sum[side, $1] += $2; cnt[side, $1]++ }
	END {
		printf "| product | pit (GFLOP/s) | OpenBLAS (GFLOP/s) | pit / OpenBLAS |\n|---|---|---|---|\n"
		for (i = 1; i <= n; i++) {
			k = order[i]; p = sum[1, k] / cnt[1, k]; b = sum[2, k] / cnt[2, k]
			printf "| %s | %.0f | %.0f | %.2f |\n", k, p, b, p / b
		}
		printf "(means over %d rounds)\n", rounds
	}' "$out/pit" "$out/blas"
