#!/bin/sh
# Per-stage wall time of a whole pit run computed from scratch. It builds
# pit, then runs FILE (default experiments.toml, the default experiment)
# ROUNDS times (default 1). Each round gets a fresh temporary results and
# cache directory, so no stage is reused. For each round it prints the
# wall time and `pit status --stages` (each stage's compute time, as the
# run's manifest records it), then each stage's min / median / max over
# the rounds. Numbers mean something only on an otherwise idle machine:
# the load average is printed before each round.
#
# With PIT_BENCH_BASE=<git revision> it also builds that revision's pit and
# runs it and the current tree's alternately in each round (the same
# windows), then prints both tables: the before/after comparisons in
# BENCHMARKS.md were made so (PIT_BENCH_BASE=1eed838).
#
# Usage: [PIT_BENCH_BASE=rev] scripts/bench/pipeline.sh [rounds] [file]
set -eu
cd "$(dirname "$0")/../.."
rounds=${1:-1}
file=${2:-experiments.toml}
tmp=$(mktemp -d)
base=${PIT_BENCH_BASE:-}
cleanup() {
	[ -z "$base" ] || git worktree remove --force "$tmp/base-src" >/dev/null 2>&1 || true
	rm -rf "$tmp"
}
trap cleanup EXIT
sides="current"
mkdir -p "$tmp/current" "$tmp/base"
go build -o "$tmp/current/pit" ./cmd/pit
if [ -n "$base" ]; then
	# The binary of another commit, run in the same windows: each round
	# runs it first, then the current tree's.
	git worktree add --detach "$tmp/base-src" "$base" >/dev/null
	(cd "$tmp/base-src" && go build -o "$tmp/base/pit" ./cmd/pit)
	sides="base current"
fi
cpu=$(grep -m1 'model name' /proc/cpuinfo 2>/dev/null | cut -d: -f2- | sed 's/^ *//')
echo "$file, $rounds round(s)${base:+, base $base against the current tree, alternating}; $(nproc) CPUs ($cpu), $(go version | cut -d' ' -f3)"
r=1
while [ "$r" -le "$rounds" ]; do
	for side in $sides; do
		out="$tmp/$side/round$r"
		load=$(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || echo unknown)
		start=$(date +%s.%N)
		if ! "$tmp/$side/pit" run "$file" --out "$out" --cache "$out/.cache" --progress plain >"$out.log" 2>&1; then
			cat "$out.log"
			exit 1
		fi
		end=$(date +%s.%N)
		wall=$(awk -v a="$start" -v b="$end" 'BEGIN { printf "%.1f", b - a }')
		echo
		echo "== round $r${base:+ ($side)}: wall $wall s, load average before: $load"
		"$tmp/current/pit" status --stages "$file" --out "$out" | sed -n '/^STAGE /,$p' | tee "$out.stages"
		echo "wall $wall" >>"$out.stages"
	done
	r=$((r + 1))
done
for side in $sides; do
	echo
	echo "== seconds per stage over $rounds round(s)${base:+ ($side)}"
	cat "$tmp/$side"/round*.stages | awk '
	$1 == "STAGE" || NF < 2 { next }
	{
		s = $1
		if (!(s in n)) { order[++ns] = s; n[s] = 0 }
		v[s, ++n[s]] = $NF
	}
	END {
		printf "%-10s %8s %8s %8s\n", "STAGE", "MIN", "MEDIAN", "MAX"
		for (i = 1; i <= ns; i++) {
			s = order[i]; k = n[s]
			for (a = 1; a <= k; a++) x[a] = v[s, a] + 0
			for (a = 2; a <= k; a++) { t = x[a]; for (b = a - 1; b >= 1 && x[b] > t; b--) x[b + 1] = x[b]; x[b + 1] = t }
			med = (k % 2) ? x[(k + 1) / 2] : (x[k / 2] + x[k / 2 + 1]) / 2
			printf "%-10s %8.1f %8.1f %8.1f\n", s, x[1], med, x[k]
		}
	}'
done
