#!/usr/bin/env bash
# Installs what pit needs on a fresh Debian machine beyond Go itself.
# Idempotent: does nothing when everything is already there.
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v go >/dev/null 2>&1; then
	echo "install-deps: Go 1.26 or newer is required (https://go.dev/doc/install)" >&2
	exit 1
fi
# Download modules once so that later steps report real errors, not fetch noise.
go mod download
# Python plugins (python/pit_plugin) use Debian's gRPC and protobuf; the
# tests of python/ run the example plugin for real. Installed only where we
# can (root with apt-get) and only when missing.
if ! /usr/bin/python3 -c 'import grpc, google.protobuf' >/dev/null 2>&1; then
	if command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
		export DEBIAN_FRONTEND=noninteractive
		apt-get install -y -q --no-install-recommends python3-grpcio python3-protobuf >/dev/null 2>&1 ||
			{ apt-get update -q >/dev/null && apt-get install -y -q --no-install-recommends python3-grpcio python3-protobuf >/dev/null; }
	else
		echo "install-deps: for Python plugins install python3-grpcio and python3-protobuf (Debian)" >&2
	fi
fi
