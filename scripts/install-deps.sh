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
