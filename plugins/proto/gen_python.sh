#!/bin/sh
# Regenerates the Python stubs of python/pit_plugin from the same .proto
# sources as the Go code (plus python/proto: go-plugin's broker/controller
# and gRPC health, which the Go side gets from its libraries).
# Pinned to Debian bookworm's tools so the stubs match Debian's runtimes:
#   protoc 3.21.12 (protobuf-compiler) for python3-protobuf 3.21.12 (4.21.12),
#   grpc_python_plugin 1.51.1 (protobuf-compiler-grpc) for python3-grpcio 1.51.1.
# Usage: sh plugins/proto/gen_python.sh   (from anywhere)
set -eu
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
out="$repo/python/pit_plugin/_proto"
want_protoc="libprotoc 3.21.12"
for tool in protoc grpc_python_plugin; do
	if ! command -v $tool >/dev/null 2>&1; then
		echo "gen_python.sh: $tool not found (Debian: apt-get install protobuf-compiler protobuf-compiler-grpc)" >&2
		exit 1
	fi
done
got=$(protoc --version)
if [ "$got" != "$want_protoc" ]; then
	echo "gen_python.sh: warning: $got, the committed stubs were made with $want_protoc" >&2
fi
rm -rf "$out"
mkdir -p "$out"
protoc -I "$here" -I "$repo/python/proto" \
	--plugin=protoc-gen-grpc_python="$(command -v grpc_python_plugin)" \
	--python_out="$out" --grpc_python_out="$out" \
	pit/plugin/v1/plugin.proto \
	pit/reward/v1/reward.proto \
	pit/algorithm/v1/algorithm.proto \
	pit/curriculum/v1/curriculum.proto \
	goplugin/goplugin.proto \
	grpchealth/health.proto
# Make every directory an importable package.
find "$out" -type d -exec touch {}/__init__.py \;
