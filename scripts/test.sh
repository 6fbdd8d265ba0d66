#!/usr/bin/env bash
# Runs pit's test suite: formatting, vet and every package's tests.
# Usage: scripts/test.sh [extra go test flags]
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
[ "$(id -u)" != 0 ] || scripts/slurm/cluster.sh install || echo "warning: cannot install Slurm; its integration test will skip (or fail under CI=true)"

echo "== gofmt"
unformatted=$(gofmt -l $(git ls-files '*.go' | grep -v '\.pb\.go$') 2>/dev/null || true)
if [ -n "$unformatted" ]; then
	echo "gofmt would change:"; echo "$unformatted"; exit 1
fi
echo "== go vet"
go vet ./...
echo "== go test"
go test -count=1 -timeout 20m "$@" ./...
echo "== CUDA kernels, emulated on the CPU (cgo; no GPU needed)"
go vet -tags cudaemu ./core/nn
go test -count=1 -tags cudaemu -run Emulated ./core/nn
