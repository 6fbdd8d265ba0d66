#!/usr/bin/env bash
# Side-by-side speed of core/nn (Go) and the same model in PyTorch at the
# reference shape of issue 2: d_model 64, 2 layers, 4 heads, vocab 64,
# context 32, batch 32. Training = one SFT step (forward, backward, AdamW);
# sampling = 32 sequences x 32 tokens (1-token prompt, 31 new).
#
# Usage: scripts/bench/compare.sh [rounds]   (default 2 rounds, best kept)
# Numbers are best-of: on a shared machine the best run is the one least
# disturbed by other work, for both sides.
# Needs Debian's python3-torch; the script installs it (and OpenBLAS, which
# Debian's torch uses for its matrix products) when missing and run as root.
set -euo pipefail
cd "$(dirname "$0")/../.."
rounds=${1:-2}
export OPENBLAS_NUM_THREADS=1

if ! /usr/bin/python3 -c 'import torch' 2>/dev/null; then
	if [ "$(id -u)" = 0 ]; then
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-torch libopenblas0-pthread >/dev/null
	else
		echo "compare.sh: install python3-torch (apt-get install python3-torch libopenblas0-pthread)" >&2
		exit 1
	fi
fi

out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
echo "== conditions"
echo "date: $(date -u +%FT%TZ)  cpus: $(nproc)  $(uptime | sed 's/.*load/load/')"
grep -m1 'model name' /proc/cpuinfo || true
go version
echo "libblas: $(readlink -f /usr/lib/x86_64-linux-gnu/libblas.so.3 2>/dev/null || echo '?')"

go test -c -o "$out/nn.test" ./core/nn
for r in $(seq "$rounds"); do
	echo "== round $r"
	"$out/nn.test" -test.run '^$' -test.bench '^Benchmark(TrainStep|Sample)$' -test.benchtime 3s -test.count 2 | tee -a "$out/go.txt" | grep Benchmark
	# Under load, OpenMP's spinning threads slow torch by 10-50x; the passive
	# wait policy avoids that. Both are run and the best kept.
	/usr/bin/python3 scripts/bench/torch_compare.py --repeats 5 | tee -a "$out/torch.txt" | grep tokens_per_s
	OMP_WAIT_POLICY=PASSIVE /usr/bin/python3 scripts/bench/torch_compare.py --repeats 5 | tee -a "$out/torch.txt" | sed 's/^/passive: /' | grep tokens_per_s
done

# best (largest) tokens/s of each
gobest() { awk -v name="$1" '$1 ~ "^Benchmark"name"(-[0-9]+)?$" { for (i = 2; i < NF; i++) if ($(i+1) == "tokens/s" && $i > m) m = $i } END { printf "%.0f", m }' "$out/go.txt"; }
tbest() { awk -v k="$1" '$1 == k && $2 > m { m = $2 } END { printf "%.0f", m }' "$out/torch.txt"; }
# (torch.txt holds both runs' lines unprefixed; the prefix is only on screen)
goparams=$(awk '{ for (i = 2; i < NF; i++) if ($(i+1) == "params") { print $i; exit } }' "$out/go.txt")
gt=$(gobest TrainStep); gs=$(gobest Sample)
tt=$(tbest torch_train_tokens_per_s); tk=$(tbest torch_sample_kv_tokens_per_s); tf=$(tbest torch_sample_full_tokens_per_s)
echo "== result (best of $rounds rounds; tokens/s, wall clock)"
echo "parameters: go $goparams, torch $(awk '$1 == "torch_params" { print $2; exit }' "$out/torch.txt")"
printf '%-34s %10s %10s %8s\n' "" go torch ratio
row() { awk -v l="$1" -v g="$2" -v t="$3" 'BEGIN { printf "%-34s %10d %10d %8.2f\n", l, g, t, (t > 0 ? g / t : 0) }'; }
row "training (SFT step)" "$gt" "$tt"
row "sampling vs torch with KV cache" "$gs" "$tk"
row "sampling vs torch recomputing" "$gs" "$tf"
