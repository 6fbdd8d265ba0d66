#!/usr/bin/env bash
# scripts/cuda/build.sh: reproducible CUDA build of pit on Debian 12 (bookworm).
#
# Builds, into $PIT_CUDA_OUT (default build/cuda, gitignored):
#   pit                        ./cmd/pit built with -tags cuda (stripped)
#   nn.test                    `go test -c -tags cuda ./core/nn` (stripped)
#   libcuda-nodevice/          stub libcuda.so.1 + libcublas.so.$PIT_CUBLAS_SONAME for
#                              machines without a GPU (cuInit succeeds, no devices)
#   needed.txt                 the binaries' NEEDED libraries and CUDA symbols
#
# The binaries need, at run time, the NVIDIA driver's libcuda.so.1 and a
# libcublas.so.$PIT_CUBLAS_SONAME (e.g. from the nvidia-cublas Python wheel);
# their references to both are unversioned. See scripts/cuda/README.md.
#
# Environment:
#   PIT_CUDA_ARCH          nvcc virtual arch for the PTX (default compute_80; sm_90 GPUs JIT it)
#   PIT_CUBLAS_SONAME      major version of the target machine's cuBLAS (default 13; 12 for CUDA 12)
#   PIT_CUDA_OUT           output folder, relative to the repo root or absolute (default build/cuda)
#   PIT_CUDA_SKIP_INSTALL  1: never touch apt; fail if the toolchain is missing
#   PIT_CUDA_KEEP_TMP      1: keep the temporary build copy (its path is printed)
#
# Needs: Debian bookworm, Go (go.mod's version), gcc, and (for the apt step) root.
set -euo pipefail

step() { printf '==> %s\n' "$*"; }
info() { printf '    %s\n' "$*"; }
die() { printf 'build.sh: error: %s\n' "$*" >&2; exit 1; }

ARCH=${PIT_CUDA_ARCH:-compute_80}
SONAME=${PIT_CUBLAS_SONAME:-13}
[[ $SONAME =~ ^[0-9]+$ ]] || die "PIT_CUBLAS_SONAME must be a number such as 13 or 12, not '$SONAME'"
[[ $ARCH =~ ^(compute|sm)_[0-9]+a?$ ]] || die "PIT_CUDA_ARCH must look like compute_80 or sm_90, not '$ARCH'"

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$REPO"
[[ -f go.mod && -d cmd/pit && -d core/nn ]] || die "run from a pit checkout (no go.mod/cmd/pit/core/nn under $REPO)"
OUTDIR=${PIT_CUDA_OUT:-build/cuda}
[[ $OUTDIR = /* ]] || OUTDIR="$REPO/$OUTDIR"

T0=$SECONDS
LIBDIR=/usr/lib/x86_64-linux-gnu

# ---------------------------------------------------------------- toolchain
toolchain_ok() {
	command -v nvcc >/dev/null && [[ -f /usr/include/cuda.h && -f /usr/include/cublas_v2.h && -e $LIBDIR/libcublas.so ]]
}

step "toolchain: nvcc, cuda.h, cublas_v2.h, libcublas.so"
if toolchain_ok; then
	info "present: $(nvcc --version | grep -o 'release [0-9.]*')"
else
	PKGS="nvidia-cuda-toolkit nvidia-cuda-dev"
	[[ ${PIT_CUDA_SKIP_INSTALL:-0} = 1 ]] &&
		die "CUDA toolchain missing and PIT_CUDA_SKIP_INSTALL=1; install as root: apt-get install --no-install-recommends $PKGS (Debian contrib+non-free)"
	[[ $(id -u) = 0 ]] ||
		die "CUDA toolchain missing; as root, enable Debian's 'contrib non-free' components and run: apt-get update && apt-get install --no-install-recommends $PKGS (or rerun this script as root)"
	command -v apt-get >/dev/null || die "no apt-get: this script targets Debian bookworm"
	# shellcheck disable=SC1091
	CODENAME=$(. /etc/os-release && echo "${VERSION_CODENAME:-}")
	[[ $CODENAME = bookworm ]] || info "warning: tested on bookworm only, this is '${CODENAME:-unknown}'"
	if ! grep -rhsE '^[[:space:]]*(deb|Components:).*\bnon-free\b' /etc/apt/sources.list /etc/apt/sources.list.d/ | grep -q .; then
		SRC=/etc/apt/sources.list.d/pit-cuda-nonfree.sources
		step "apt: enabling contrib non-free for $CODENAME in $SRC"
		cat >"$SRC" <<EOF
# Added by pit's scripts/cuda/build.sh: Debian's CUDA toolkit is in non-free (and needs contrib).
Types: deb
URIs: http://deb.debian.org/debian
Suites: $CODENAME $CODENAME-updates
Components: contrib non-free
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
EOF
	fi
	step "apt: installing $PKGS (~1.6 GB download, ~5.5 GB on disk)"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -q || die "apt-get update failed (network? sources in /etc/apt/sources.list.d/)"
	# shellcheck disable=SC2086
	apt-get install -y -q --no-install-recommends $PKGS || die "apt-get install $PKGS failed"
	toolchain_ok || die "installed $PKGS but nvcc/cuda.h/cublas_v2.h/libcublas.so still missing"
	info "installed in $((SECONDS - T0))s"
fi
for t in go gcc nm readelf; do command -v $t >/dev/null || die "'$t' not found (go: see go.mod; others: apt-get install gcc binutils)"; done

# ------------------------------------------------------------ temporary copy
TMP=$(mktemp -d "${TMPDIR:-/tmp}/pit-cuda.XXXXXX")
if [[ ${PIT_CUDA_KEEP_TMP:-0} = 1 ]]; then
	trap 'info "kept $TMP"' EXIT
else
	trap 'rm -rf "$TMP"' EXIT
fi
SRCD=$TMP/src
mkdir -p "$SRCD" "$TMP/link" "$TMP/nodev"

step "copying the work tree (tracked + untracked, not ignored) to $SRCD"
git ls-files -co --exclude-standard -z |
	while IFS= read -r -d '' f; do [[ -e $f || -L $f ]] && printf '%s\0' "$f"; done |
	tar --null -T - -cf - | tar -C "$SRCD" -xf -
info "$(find "$SRCD" -type f | wc -l) files"

cd "$SRCD"
step "go mod vendor"
GOFLAGS=-mod=mod go mod vendor || die "go mod vendor failed (modules missing from GOMODCACHE and no network?)"

DNN=vendor/gorgonia.org/cu/dnn
step "replacing $DNN with a stand-in (no cuDNN on Debian)"
[[ -d $DNN ]] || die "$DNN not vendored: does core/nn still import gorgonia with -tags cuda?"
find "$DNN" -maxdepth 1 -type f -delete
cat >"$DNN/cudnn.go" <<'EOF'
// Package cudnn is a stand-in written by pit's scripts/cuda/build.sh for
// gorgonia.org/cu/dnn: gorgonia's CUDA engine only creates and closes a cuDNN
// context, and pit uses no cuDNN op. Generated in a temporary copy only.
package cudnn

// Context stands in for a cuDNN handle.
type Context struct{}

// NewContext returns an empty context.
func NewContext() *Context { return &Context{} }

// Close does nothing.
func (*Context) Close() error { return nil }
EOF

# -------------------------------------------------------------------- PTX
KCU=core/nn/cuda/kernels.cu
[[ -f $KCU ]] || die "missing $KCU (pit's GPU kernels)"
step "nvcc -ptx -arch=$ARCH $KCU"
nvcc -ptx -arch="$ARCH" -o "$TMP/kernels.ptx" "$KCU" || die "nvcc failed on $KCU"
info "$(wc -c <"$TMP/kernels.ptx") bytes of PTX; entries: $(grep -c '^\.visible \.entry' "$TMP/kernels.ptx" || true)"
go run -mod=vendor ./scripts/cuda/ptxgen -in "$TMP/kernels.ptx" -out core/nn/zz_cuda_ptx_gen.go -src "$KCU" ||
	die "ptxgen failed"
info "wrote core/nn/zz_cuda_ptx_gen.go (temporary copy), which sets cudaKernelsPTX"

# ------------------------------------------------------------------ build
export CGO_ENABLED=1
export CGO_CFLAGS="${CGO_CFLAGS:--O2 -g} -w -I/usr/include" # -w: cuda.h deprecation noise
GOBUILD=(-mod=vendor -tags cuda -trimpath -buildvcs=false -ldflags=-s\ -w)
# No -X version variable exists in cmd/pit (version.go reads debug.BuildInfo).

build_all() { # $1: directory for both binaries
	go build "${GOBUILD[@]}" -o "$1/pit" ./cmd/pit &&
		go test -c "${GOBUILD[@]}" -o "$1/nn.test" ./core/nn
}

step "pass 1: linking against Debian's libcublas.so.11 to list the CUDA symbols used"
mkdir -p "$TMP/pass1"
CGO_LDFLAGS="-L$LIBDIR/stubs ${CGO_LDFLAGS:-}" build_all "$TMP/pass1" ||
	die "the cuda build does not compile (see above)"
step "go vet -tags cuda (pit's packages)"
CGO_LDFLAGS="-L$LIBDIR/stubs ${CGO_LDFLAGS:-}" go vet -mod=vendor -tags cuda ./core/nn ./core/pipeline ./cmd/pit >"$TMP/vet.log" 2>&1 ||
	{ grep -v -e '^cgo-gcc-prolog' -e 'cuda.h' -e deprecated "$TMP/vet.log" | tail -40; die "go vet -tags cuda failed"; }

# Undefined dynamic symbols of both binaries, split by library.
: >"$TMP/cublas.syms"
: >"$TMP/cuda.syms"
for b in "$TMP/pass1/pit" "$TMP/pass1/nn.test"; do
	readelf --dyn-syms -W "$b" | awk '$7 == "UND" && $5 != "WEAK" {print $8}' >>"$TMP/und.raw"
done
sed 's/@.*//' "$TMP/und.raw" | sort -u >"$TMP/und"
grep -E '^cublas' "$TMP/und" >"$TMP/cublas.syms" || true
grep -E '^cu[A-Z]' "$TMP/und" >"$TMP/cuda.syms" || true
OTHER=$(grep -E '^cu' "$TMP/und" | grep -vE '^(cublas|cu[A-Z])' || true)
[[ -z $OTHER ]] || die "unexpected CUDA symbols (cudart? cudnn?): $OTHER"
for b in "$TMP/pass1/pit" "$TMP/pass1/nn.test"; do
	info "$(basename "$b") NEEDED: $(readelf -d "$b" | sed -n 's/.*Shared library: \[\(.*\)\]/\1/p' | tr '\n' ' ')"
done
info "$(wc -l <"$TMP/cublas.syms") cuBLAS and $(wc -l <"$TMP/cuda.syms") driver symbols"
[[ -s $TMP/cuda.syms ]] || die "no cu* driver symbols found: is gorgonia.org/cu linked in with -tags cuda?"

# gen_stub SYMS SONAME OUTFILE RET [SPECIAL-C]: a shared library defining every
# symbol in SYMS as `int f(void) { return RET; }`, unversioned.
gen_stub() {
	local syms=$1 soname=$2 out=$3 ret=$4 special=${5:-} c
	c=$TMP/$(basename "$out").$ret.c
	{
		echo "/* generated by pit's scripts/cuda/build.sh: stub $soname */"
		printf '%s\n' "$special"
		while read -r s; do
			grep -qE "^int $s\(" <<<"$special" || echo "int $s(void) { return $ret; }"
		done <"$syms"
	} >"$c"
	gcc -shared -fPIC -O1 -Wl,-soname,"$soname" -o "$out" "$c" || die "gcc failed on stub $c"
}

step "pass 2: stub link libraries (libcublas.so.$SONAME, libcuda.so.1, unversioned) and relink"
gen_stub "$TMP/cublas.syms" "libcublas.so.$SONAME" "$TMP/link/libcublas.so" 1
gen_stub "$TMP/cuda.syms" libcuda.so.1 "$TMP/link/libcuda.so" 100
mkdir -p "$OUTDIR"
rm -f "$OUTDIR/pit" "$OUTDIR/nn.test"
CGO_LDFLAGS="-L$TMP/link ${CGO_LDFLAGS:-}" build_all "$OUTDIR" || die "relink against the stubs failed"

# ---------------------------------------------------------------- checks
step "checking NEEDED and symbol versions"
: >"$OUTDIR/needed.txt"
for b in "$OUTDIR/pit" "$OUTDIR/nn.test"; do
	needed=$(readelf -d "$b" | sed -n 's/.*Shared library: \[\(.*\)\]/\1/p' | tr '\n' ' ')
	info "$(basename "$b") NEEDED: $needed"
	echo "$(basename "$b") NEEDED: $needed" >>"$OUTDIR/needed.txt"
	grep -q "libcublas.so.$SONAME " <<<"$needed " || die "$(basename "$b") does not need libcublas.so.$SONAME"
	grep -q "libcuda.so.1 " <<<"$needed " || die "$(basename "$b") does not need libcuda.so.1"
	if grep -qE 'libcublas.so.11|libcublasLt|libcudart' <<<"$needed"; then die "$(basename "$b") still needs Debian's CUDA 11 libraries"; fi
	vers=$(readelf --dyn-syms -W "$b" | awk '$7 == "UND" {print $8}' | grep -E '^cu.*@' || true)
	[[ -z $vers ]] || die "versioned CUDA references remain in $(basename "$b"): $vers"
done
{
	echo "cuBLAS symbols (libcublas.so.$SONAME):"; sed 's/^/  /' "$TMP/cublas.syms"
	echo "driver symbols (libcuda.so.1):"; sed 's/^/  /' "$TMP/cuda.syms"
} >>"$OUTDIR/needed.txt"

step "no-device stubs for machines without a GPU: $OUTDIR/libcuda-nodevice"
ND=$OUTDIR/libcuda-nodevice
rm -rf "$ND" && mkdir -p "$ND"
# gorgonia.org/cu calls cuInit in a package init and exits on failure, so
# cuInit must succeed; cuDeviceGetCount reports 0 devices; the rest: 100
# (CUDA_ERROR_NO_DEVICE). cuBLAS functions: 1 (CUBLAS_STATUS_NOT_INITIALIZED).
gen_stub "$TMP/cuda.syms" libcuda.so.1 "$ND/libcuda.so.1" 100 \
	"int cuInit(unsigned int f) { (void)f; return 0; }
int cuDeviceGetCount(int *n) { if (n) *n = 0; return 0; }"
gen_stub "$TMP/cublas.syms" "libcublas.so.$SONAME" "$ND/libcublas.so.$SONAME" 1

step "outputs"
for f in "$OUTDIR/pit" "$OUTDIR/nn.test" "$ND/libcuda.so.1" "$ND/libcublas.so.$SONAME"; do
	info "$(du -h "$f" | cut -f1)	${f#"$REPO"/}"
done
info "total $(du -sh "$OUTDIR" | cut -f1)"

step "smoke test (no GPU: LD_LIBRARY_PATH=$ND)"
cd "$REPO"
LD_LIBRARY_PATH=$ND "$OUTDIR/pit" version || die "cuda pit does not start with the no-device stubs"
LD_LIBRARY_PATH=$ND "$OUTDIR/pit" validate experiments.toml || die "pit validate experiments.toml failed in the cuda build"
info "nn.test lists $(LD_LIBRARY_PATH=$ND "$OUTDIR/nn.test" -test.list '.*' | wc -l) tests/benchmarks/examples"
step "done in $((SECONDS - T0))s"
