#!/usr/bin/env bash
# Runs pit's test suite: formatting, vet and every package's tests, the CUDA
# kernels emulated on the CPU, and (when the CUDA toolkit is installed) the
# CUDA build on an emulated GPU.
# Usage: scripts/test.sh [extra go test flags]
set -euo pipefail
cd "$(dirname "$0")/.."
# Nothing the tests run may write into the user's stage cache (~/.cache/pit):
# pit's default cache is $PIT_CACHE when set.
PIT_CACHE=$(mktemp -d -t pit-test-cache-XXXXXX)
export PIT_CACHE
trap 'rm -rf "$PIT_CACHE"' EXIT
# Everything the tests need beyond Go (Python gRPC, Slurm, gcc), installed
# when missing and possible; see the script for what and how. If it cannot,
# it says why, and the tests that need the missing parts skip (or fail
# under CI=true).
scripts/install-deps.sh || echo "warning: scripts/install-deps.sh failed (above); continuing"

echo "== gofmt"
unformatted=$(gofmt -l $(git ls-files '*.go' | grep -v '\.pb\.go$') 2>/dev/null || true)
if [ -n "$unformatted" ]; then
	echo "gofmt would change:"; echo "$unformatted"; exit 1
fi
echo "== go vet"
go vet ./...
echo "== go test"
go test -count=1 -timeout 20m "$@" ./...
# The plugin SDK and the wire contracts are modules of their own: ./... at the
# root does not reach them.
for m in plugins/sdk plugins/proto; do
	echo "== go vet and go test in $m (its own module)"
	(cd "$m" && go vet ./... && go test -count=1 -timeout 10m "$@" ./...)
done
echo "== CUDA kernels, emulated on the CPU (cgo; no GPU needed)"
go vet -tags cudaemu ./core/nn
go test -count=1 -tags cudaemu -run Emulated ./core/nn
# The CUDA build needs Debian's CUDA toolkit (5.5 GB installed): built and
# run on an emulated GPU when the toolkit is there or PIT_TEST_CUDA=1 asks
# for it (scripts/cuda/build.sh installs it as root).
if command -v nvcc >/dev/null 2>&1 || [ "${PIT_TEST_CUDA:-0}" = 1 ]; then
	echo "== CUDA build (scripts/cuda/build.sh), its GPU tests on an emulated GPU (scripts/cuda/fakegpu.sh)"
	scripts/cuda/build.sh
	scripts/cuda/fakegpu.sh tests
else
	echo "== CUDA build: skipped (no CUDA toolkit; PIT_TEST_CUDA=1 installs Debian's and runs it)"
fi
