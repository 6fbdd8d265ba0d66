#!/usr/bin/env bash
# Side-by-side speed and memory of core/nn (Go) and the same model in
# PyTorch, over a sweep of shapes, fairly:
#   - the same model (pre-LN decoder, learned positions, fused qkv, GELU-tanh
#     MLP of 4·d, vocabulary 64, LM head with a value column, reward head),
#     the same batch (32 sequences) and the same threads on both sides
#     (GOMAXPROCS for pit; torch intra-op threads, OMP and OpenBLAS threads
#     for PyTorch);
#   - each side on its best native kernels: this machine's environment sets
#     OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE (older OpenBLAS builds need them
#     on some CPUs), which force a current OpenBLAS onto slower kernels; they
#     are unset for the PyTorch side, and the kernel OpenBLAS then picks is
#     printed (threadpoolctl). pit uses no BLAS (its own AVX2/AVX-512 Go
#     assembly);
#   - mean against mean: the two sides alternate, round after round, in the
#     same windows; each round's number is a mean over its steps, and the
#     table gives the mean over rounds with min/median/max.
# Training = one SFT step (forward, backward, AdamW) on 32 × context tokens;
# sampling = 32 sequences from a one-token prompt to the context length,
# with a key/value cache on both sides. Peak RSS is each process's VmHWM
# (one benchmark per process).
#
# Usage: scripts/bench/compare.sh [rounds] [shapes...]
#   rounds  default 3
#   shapes  d_model/layers/heads/context[/batch] (batch default 32), default
#           the sweep 64/2/4/32 128/4/4/64 256/4/8/128 512/6/8/128
#           768/12/12/256/8 (GPT-2 small's width and depth at 8 sequences:
#           at 32, pit's training process needs more than 24 GiB)
#   PIT_THREADS (default 2) threads per side.
# Needs Debian's python3-torch and python3-threadpoolctl; installs them when
# missing and run as root.
set -euo pipefail
cd "$(dirname "$0")/../.."
rounds=${1:-3}
shift || true
shapes=("$@")
[ ${#shapes[@]} -gt 0 ] || shapes=(64/2/4/32 128/4/4/64 256/4/8/128 512/6/8/128 768/12/12/256/8)
T=${PIT_THREADS:-2}

if ! /usr/bin/python3 -c 'import torch, threadpoolctl' 2>/dev/null; then
	if [ "$(id -u)" = 0 ]; then
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-torch python3-threadpoolctl libopenblas0-pthread >/dev/null
	else
		echo "compare.sh: install python3-torch python3-threadpoolctl (apt-get install python3-torch python3-threadpoolctl libopenblas0-pthread)" >&2
		exit 1
	fi
fi

out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
echo "== conditions"
echo "date: $(date -u +%FT%TZ)  cpus: $(nproc)  threads per side: $T  $(uptime | sed 's/.*load/load/')"
grep -m1 'model name' /proc/cpuinfo || true
go version
echo "environment: OPENBLAS_CORETYPE=${OPENBLAS_CORETYPE:-unset} OPENBLAS_L2_SIZE=${OPENBLAS_L2_SIZE:-unset} (unset for the PyTorch side)"
go test -c -o "$out/nn.test" ./core/nn

# OMP_WAIT_POLICY=PASSIVE: on a loaded machine OpenMP's spinning threads slow
# PyTorch 10-50×; on an idle one ACTIVE can be faster (PIT_TORCH_OMP_WAIT).
omp_wait=${PIT_TORCH_OMP_WAIT:-PASSIVE}
echo "PyTorch side: OMP_WAIT_POLICY=$omp_wait"
torch() { env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE OPENBLAS_NUM_THREADS="$T" OMP_NUM_THREADS="$T" OMP_WAIT_POLICY="$omp_wait" /usr/bin/python3 scripts/bench/torch_compare.py --threads "$T" "$@"; }
gobench() { GOMAXPROCS="$T" PIT_BENCH_SHAPE="$1" PIT_BENCH_BATCH="$B" "$out/nn.test" -test.run '^$' -test.bench "^Benchmark$2\$" -test.benchtime "$3"; }
# field VALUE-of UNIT in a Go benchmark line
gofield() { awk -v u="$1" '/^Benchmark/ { for (i = 2; i < NF; i++) if ($(i+1) == u) print $i }'; }
tfield() { awk -v k="$1" '$1 == k { print $2 }'; }
# mean min median max of the numbers on stdin
summary() { sort -g | awk '{ v[NR] = $1; s += $1 } END { if (NR == 0) { print "- - - -"; exit } m = (NR % 2) ? v[(NR+1)/2] : (v[NR/2] + v[NR/2+1]) / 2; printf "%.0f %.0f %.0f %.0f\n", s / NR, v[1], m, v[NR] }'; }

blas_shown=""
for shape in "${shapes[@]}"; do
	IFS=/ read -r d l h c B <<<"$shape"
	B=${B:-32}
	shape="$d/$l/$h/$c"
	# Steps per round: fewer for the big shapes (a d768 step takes seconds).
	steps=$((d >= 512 ? 2 : (d >= 256 ? 5 : 20)))
	: >"$out/go_train" ; : >"$out/go_sample" ; : >"$out/t_train" ; : >"$out/t_sample"
	: >"$out/go_rss" ; : >"$out/t_rss"
	for r in $(seq "$rounds"); do
		g=$(gobench "$shape" TrainStep "${steps}x") || { echo "  pit's training benchmark failed at d$d (exit $?: 137 is a kill, e.g. out of memory)" >&2; g=""; }
		echo "$g" | gofield tokens/s >>"$out/go_train"
		echo "$g" | gofield peak-RSS-MiB >>"$out/go_rss"
		t=$(torch --d-model "$d" --layers "$l" --heads "$h" --context "$c" --mlp $((4 * d)) --batch "$B" --repeats "$steps" --only train)
		[ -n "$blas_shown" ] || { echo "PyTorch: $(echo "$t" | tfield torch_version), BLAS $(echo "$t" | cut -d' ' -f2- | grep -m1 -o 'openblas:[^ ]*' || echo '?')"; blas_shown=1; }
		echo "$t" | tfield torch_train_tokens_per_s >>"$out/t_train"
		echo "$t" | tfield torch_train_peak_rss_mib >>"$out/t_rss"
		g=$(gobench "$shape" Sample "$((steps > 5 ? 5 : steps))x") || { echo "  pit's sampling benchmark failed at d$d (exit $?)" >&2; g=""; }
		echo "$g" | gofield tokens/s >>"$out/go_sample"
		t=$(torch --d-model "$d" --layers "$l" --heads "$h" --context "$c" --mlp $((4 * d)) --batch "$B" --repeats "$((steps > 5 ? 5 : steps))" --only sample --no-full)
		echo "$t" | tfield torch_sample_kv_tokens_per_s >>"$out/t_sample"
	done
	read -r gtm gtmin gtmed gtmax < <(summary <"$out/go_train")
	read -r ttm ttmin ttmed ttmax < <(summary <"$out/t_train")
	read -r gsm gsmin gsmed gsmax < <(summary <"$out/go_sample")
	read -r tsm tsmin tsmed tsmax < <(summary <"$out/t_sample")
	read -r grss _ _ _ < <(summary <"$out/go_rss")
	read -r trss _ _ _ < <(summary <"$out/t_rss")
	echo "== d$d/L$l/h$h/ctx$c, batch $B, $rounds rounds (tokens/s: mean [min median max]; peak RSS of a training process, MiB)"
	awk -v a="$gtm" -v b="$ttm" -v c="$gsm" -v e="$tsm" -v s1="$gtmin $gtmed $gtmax" -v s2="$ttmin $ttmed $ttmax" -v s3="$gsmin $gsmed $gsmax" -v s4="$tsmin $tsmed $tsmax" -v r1="$grss" -v r2="$trss" 'BEGIN {
		printf "  training  pit %8d [%s]  torch %8d [%s]  ratio %.2f\n", a, s1, b, s2, (b > 0 ? a / b : 0)
		printf "  sampling  pit %8d [%s]  torch %8d [%s]  ratio %.2f\n", c, s3, e, s4, (e > 0 ? c / e : 0)
		printf "  peak RSS  pit %8d MiB  torch %8d MiB\n", r1, r2
	}'
done
