#!/bin/sh
# Regenerates the Go code from the .proto sources with pinned generators.
# Usage (from go generate): sh gen.sh PROTOC_GEN_GO@VERSION PROTOC_GEN_GO_GRPC@VERSION
set -eu
want_protoc="libprotoc 3.21.12"
if ! command -v protoc >/dev/null 2>&1; then
	echo "gen.sh: protoc not found (Debian: apt-get install protobuf-compiler)" >&2
	exit 1
fi
got=$(protoc --version)
if [ "$got" != "$want_protoc" ]; then
	echo "gen.sh: warning: $got, the committed code was made with $want_protoc" >&2
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# protoc runs plugins as executables; these wrappers run the pinned versions.
printf '#!/bin/sh\nexec go run %s "$@"\n' "$1" >"$tmp/protoc-gen-go"
printf '#!/bin/sh\nexec go run %s "$@"\n' "$2" >"$tmp/protoc-gen-go-grpc"
chmod +x "$tmp/protoc-gen-go" "$tmp/protoc-gen-go-grpc"
# Build them once outside protoc so download errors show up plainly.
(cd "$tmp" && go run "$1" --version >/dev/null && go run "$2" --version >/dev/null)
protoc -I . \
	--plugin=protoc-gen-go="$tmp/protoc-gen-go" \
	--plugin=protoc-gen-go-grpc="$tmp/protoc-gen-go-grpc" \
	--go_out=. --go_opt=paths=source_relative \
	--go-grpc_out=. --go-grpc_opt=paths=source_relative \
	pit/plugin/v1/plugin.proto \
	pit/reward/v1/reward.proto \
	pit/algorithm/v1/algorithm.proto \
	pit/curriculum/v1/curriculum.proto
