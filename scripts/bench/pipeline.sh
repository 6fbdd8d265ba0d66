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
# Usage: scripts/bench/pipeline.sh [rounds] [file]
set -eu
cd "$(dirname "$0")/../.."
rounds=${1:-1}
file=${2:-experiments.toml}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
go build -o "$tmp/pit" ./cmd/pit
cpu=$(grep -m1 'model name' /proc/cpuinfo 2>/dev/null | cut -d: -f2- | sed 's/^ *//')
echo "$file, $rounds round(s); $(nproc) CPUs ($cpu), $(go version | cut -d' ' -f3)"
r=1
while [ "$r" -le "$rounds" ]; do
	out="$tmp/round$r"
	load=$(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || echo unknown)
	start=$(date +%s.%N)
	if ! "$tmp/pit" run "$file" --out "$out" --cache "$out/.cache" --progress plain >"$out.log" 2>&1; then
		cat "$out.log"
		exit 1
	fi
	end=$(date +%s.%N)
	echo
	echo "== round $r: wall $(awk -v a="$start" -v b="$end" 'BEGIN { printf "%.1f", b - a }') s, load average before: $load"
	"$tmp/pit" status --stages "$file" --out "$out" | sed -n '/^STAGE /,$p' | tee "$out.stages"
	r=$((r + 1))
done
echo
echo "== seconds per stage over $rounds round(s)"
cat "$tmp"/round*.stages | awk '
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
