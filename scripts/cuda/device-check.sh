#!/usr/bin/env bash
# scripts/cuda/device-check.sh: run the CUDA build's checks on a GPU machine.
#
# Usage (from the repo root, with build/cuda from scripts/cuda/build.sh):
#   OUT=/some/dir scripts/cuda/device-check.sh [quick|all]
#     quick (default): libraries, correctness tests, benchmarks, default experiment on cuda
#     all:             the same, then the default experiment on cpu for comparison
#
# Needs no Go toolchain and no network: only the NVIDIA driver (libcuda.so.1)
# and a libcublas.so.N matching the build's PIT_CUBLAS_SONAME, found through
# python3's nvidia.cublas (or nvidia.cu13/cu12) package, or else by searching
# site-packages. Every step runs even if an earlier one failed; each step's
# exit code and wall time go to stdout and $OUT/summary.txt, its output to
# $OUT/<step>.log.
#
# Environment:
#   OUT                        folder for logs and results (default ./device-check-out)
#   PIT_CUDA_OUT               where the binaries are (default build/cuda)
#   PIT_CHECK_BUDGET           seconds for all steps together (default 510); each
#                              step is cut (exit 124) to leave room for the summary
#   PIT_CHECK_KEEP_BIG=1       keep result files over 8 MiB (checkpoints); default: delete
#   PIT_DEVICE_CHECK_DRYRUN=1  no GPU: use build/cuda/libcuda-nodevice instead of the
#                              driver and cuBLAS (tests the script; GPU steps fail)
set -uo pipefail

MODE=${1:-quick}
case $MODE in quick | all) ;; *) echo "usage: $0 [quick|all]" >&2; exit 2 ;; esac
OUT=${OUT:-$PWD/device-check-out}
mkdir -p "$OUT" || { echo "cannot create OUT=$OUT" >&2; exit 2; }
OUT=$(cd "$OUT" && pwd)
BIN=${PIT_CUDA_OUT:-build/cuda}
BUDGET=${PIT_CHECK_BUDGET:-510}
DRY=${PIT_DEVICE_CHECK_DRYRUN:-0}
START=$(date +%s)

for f in "$BIN/pit" "$BIN/nn.test"; do
	[[ -x $f ]] || { echo "missing $f: run scripts/cuda/build.sh first and carry $BIN" >&2; exit 2; }
done

SUMMARY=()
now() { date +%s.%N; }
# step NAME CAP_SECONDS CMD...: run CMD with output to $OUT/NAME.log, at most
# CAP seconds and never past the budget; record exit code and wall time.
step() {
	local name=$1 cap=$2 left t0 t1 rc wall
	shift 2
	left=$((BUDGET - ($(date +%s) - START) - 15))
	((cap > left)) && cap=$left
	echo "==> $name (limit ${cap}s): $*"
	if ((cap < 10)); then
		SUMMARY+=("$(printf '%-22s rc=%-4s %8s  %s' "$name" skip - "no time left")")
		echo "    skipped: no time left"
		return
	fi
	t0=$(now)
	{
		echo "# $*"
		echo "# LD_LIBRARY_PATH=${LD_LIBRARY_PATH:-}"
		if declare -F "$1" >/dev/null; then "$@"; else timeout -k 10 "$cap" "$@"; fi
	} >"$OUT/$name.log" 2>&1
	rc=$?
	t1=$(now)
	wall=$(awk -v a="$t0" -v b="$t1" 'BEGIN{printf "%.1fs", b-a}')
	[[ $rc = 124 ]] && echo "# timed out after ${cap}s" >>"$OUT/$name.log"
	echo "    rc=$rc wall=$wall ($(tail -n 1 "$OUT/$name.log" | cut -c1-100))"
	SUMMARY+=("$(printf '%-22s rc=%-4s %8s  ' "$name" "$rc" "$wall")")
}

# ---------------------------------------------------------------- environment
{
	echo "date: $(date -u +%FT%TZ)  host: $(hostname)  mode: $MODE  dryrun: $DRY"
	echo "nproc: $(nproc)"
	cat "$BIN/needed.txt" 2>/dev/null | sed -n '1,2p'
	ls -la "$BIN"
} >"$OUT/env.log" 2>&1
if command -v nvidia-smi >/dev/null; then
	{
		nvidia-smi --query-gpu=name,driver_version,memory.total,compute_cap --format=csv 2>&1
		echo
		nvidia-smi 2>&1
	} >"$OUT/nvidia-smi.txt"
else
	printf 'name\nno nvidia-smi\n' >"$OUT/nvidia-smi.txt"
fi
echo "==> GPU: $(sed -n 2p "$OUT/nvidia-smi.txt" 2>/dev/null || true)"

# cuBLAS major version the build links against (libcublas.so.N).
SONAME=$(grep -o 'libcublas\.so\.[0-9]*' "$BIN/needed.txt" 2>/dev/null | head -n 1 | sed 's/.*\.//')
SONAME=${SONAME:-13}
CUBLAS_DIR=
for d in $(python3 - 2>/dev/null <<'EOF'
import importlib, os
for m in ("nvidia.cublas", "nvidia.cu13", "nvidia.cu12"):
    try:
        mod = importlib.import_module(m)
    except Exception:
        continue
    for p in list(getattr(mod, "__path__", [])) + [os.path.dirname(getattr(mod, "__file__", None) or "")]:
        if p:
            print(os.path.join(p, "lib"))
EOF
); do
	[[ -e $d/libcublas.so.$SONAME ]] && { CUBLAS_DIR=$d; break; }
done
if [[ -z $CUBLAS_DIR ]]; then
	skip=$(cd "$BIN" && pwd)
	f=$(timeout 120 find / -xdev \( -path /proc -o -path /sys -o -path "$skip" \) -prune -o -name "libcublas.so.$SONAME*" -path '*-packages*' -print 2>/dev/null | head -n 1)
	[[ -z $f ]] && f=$(timeout 120 find / -xdev \( -path /proc -o -path /sys -o -path "$skip" \) -prune -o -name "libcublas.so.$SONAME" -print 2>/dev/null | head -n 1)
	[[ -n $f ]] && CUBLAS_DIR=$(dirname "$f")
fi
echo "==> libcublas.so.$SONAME: ${CUBLAS_DIR:-NOT FOUND}"
echo "cublas dir: ${CUBLAS_DIR:-not found}" >>"$OUT/env.log"

if [[ $DRY = 1 ]]; then
	export LD_LIBRARY_PATH="$PWD/$BIN/libcuda-nodevice${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
	echo "==> DRY RUN: LD_LIBRARY_PATH=$LD_LIBRARY_PATH (no-device stubs; GPU steps will fail)"
elif [[ -n $CUBLAS_DIR ]]; then
	export LD_LIBRARY_PATH="$CUBLAS_DIR${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
fi

# ------------------------------------------------------------------- steps
libs() {
	echo "## ldd $BIN/pit"; ldd "$BIN/pit"
	echo "## ldd -r $BIN/pit (symbols the libraries lack)"
	ldd -r "$BIN/pit" 2>&1 | grep -i 'undefined symbol' || echo "none"
	echo "## ldd -r $BIN/nn.test"
	ldd -r "$BIN/nn.test" 2>&1 | grep -i 'undefined symbol' || echo "none"
	! ldd "$BIN/pit" | grep -q 'not found'
}
step libs 30 libs
step version 30 "$BIN/pit" version

step correctness 180 "$BIN/nn.test" -test.run 'CUDA' -test.v -test.count=1 -test.timeout 5m
c=$OUT/correctness.log
SUMMARY[-1]+="pass=$(grep -c -- '--- PASS' "$c") fail=$(grep -c -- '--- FAIL' "$c") skip=$(grep -c -- '--- SKIP' "$c")"

# The large shape (d_model 512, 6 layers, context 128, batch 32) takes
# seconds per CPU step, so it runs fewer iterations.
step bench-ref 90 "$BIN/nn.test" -test.run '^$' -test.bench 'Device/.*/ref/' -test.benchtime 20x -test.count=1 -test.timeout 5m
SUMMARY[-1]+="$(grep -c '^Benchmark.* ns/op' "$OUT/bench-ref.log") benchmark lines"
step bench-large 150 "$BIN/nn.test" -test.run '^$' -test.bench 'Device/.*/large/' -test.benchtime 3x -test.count=1 -test.timeout 5m
SUMMARY[-1]+="$(grep -c '^Benchmark.* ns/op' "$OUT/bench-large.log") benchmark lines"

TIMEV=()
[[ -x /usr/bin/time ]] && TIMEV=(/usr/bin/time -v)
prune() { # keep the results tree small enough to come back
	local d=$1
	[[ -d $d ]] || return 0
	if [[ ${PIT_CHECK_KEEP_BIG:-0} != 1 ]]; then
		find "$d" -type f -size +8M -printf '%s\t%p\n' -delete >"$d.pruned.txt" 2>/dev/null
	fi
	du -sh "$d" 2>/dev/null | cut -f1
}
step default-experiment 300 "${TIMEV[@]}" "$BIN/pit" run --device cuda --progress plain --out "$OUT/results-cuda" --cache "$OUT/results-cuda/.cache" experiments.toml
SUMMARY[-1]+="results $(prune "$OUT/results-cuda")"
if [[ $MODE = all ]]; then
	step default-experiment-cpu 300 "${TIMEV[@]}" "$BIN/pit" run --device cpu --progress plain --out "$OUT/results-cpu" --cache "$OUT/results-cpu/.cache" experiments.toml
	SUMMARY[-1]+="results $(prune "$OUT/results-cpu")"
fi

# ----------------------------------------------------------------- summary
{
	echo "device-check ($MODE$([[ $DRY = 1 ]] && echo ', DRY RUN')) on $(sed -n 2p "$OUT/nvidia-smi.txt" 2>/dev/null), cublas: ${CUBLAS_DIR:-not found}"
	printf '%s\n' "${SUMMARY[@]}"
	echo "total $(($(date +%s) - START))s; logs in $OUT"
} | tee "$OUT/summary.txt"
