#!/bin/sh
# cross-build.sh: build tlsgw for ARM and MIPS boards with Debian's cross
# compilers, run its unit tests under qemu-user, and report its size.
#
# Usage: sh deploy/cross-build.sh [options] ARCH...
#   ARCH: armhf   Raspberry Pi OS 32-bit (ARMv7 hard-float), arm-linux-gnueabihf
#         arm64   Raspberry Pi OS 64-bit, aarch64-linux-gnu
#         mipsel  MIPS32 little-endian (MT7621-class routers), mipsel-linux-gnu
# Options:
#   --toolchain=gcc|clang
#                  gcc: Debian's gcc-TRIPLET; clang: Debian's clang with
#                  --target=TRIPLET, binutils-TRIPLET and the cross libc and
#                  libgcc.  Default: gcc, unless gcc-multilib is installed:
#                  on Debian 12 every gcc-12-TRIPLET conflicts with
#                  gcc-multilib (installing one removes the other), so then
#                  clang, which co-installs with it.
#   --no-install   install nothing; stop naming what is missing
#   --no-check     build only; do not run the unit tests
#   --integration  also run the integration tests (tests/integration/t_*.sh)
#                  with the cross-built tlsgw under qemu-user; the peers
#                  (Mosquitto, openssl, the device clients) are the host's,
#                  from a native build in build-cross/native
#
# Everything goes under build-cross/ in the top directory:
#   build-cross/src/             a copy of the source tree (the tree itself
#                                may be configured in place, which rules
#                                out builds in other directories)
#   build-cross/ARCH/            the out-of-tree build (./configure --host)
#   build-cross/sysroot-ARCH/    the target's libraries and headers
#   build-cross/apt/             a private apt state for ARCH's package lists
#   build-cross/sizes.txt        size and stripped size per architecture
#
# The target's libraries come from Debian's ARCH packages (libwolfssl-dev,
# libevent-dev, libinih-dev, check), downloaded with `apt-get download`
# and unpacked with `dpkg -x` into the sysroot.  They are not installed as
# multiarch packages (dpkg --add-architecture): on bookworm libwolfssl-dev
# and libevent-dev are not Multi-Arch: same, so libwolfssl-dev:armhf
# would remove the host's libwolfssl-dev, and libevent-dev:armhf cannot be
# installed at all (it depends on python3:armhf).  The private apt state
# also leaves the host's apt sources and architectures untouched.
#
# Host packages (installed with apt-get when missing, as root or through
# sudo; never one that would remove an installed package): the toolchain
# (gcc: gcc-TRIPLET libc6-dev-ARCH-cross; clang: clang binutils-TRIPLET
# libc6-dev-ARCH-cross libgcc-N-dev-ARCH-cross), qemu-user, pkg-config,
# autoconf, automake, make, file.
set -eu

usage() {
	sed -n '2,/^set -eu/{/^set -eu/d;s/^# \{0,1\}//;p;}' "$0" >&2
	exit 2
}

install=yes
toolchain=auto
check=yes
integration=no
arches=
while [ $# -gt 0 ]; do
	case $1 in
	--no-install) install=no ;;
	--toolchain=gcc | --toolchain=clang) toolchain=${1#--toolchain=} ;;
	--no-check) check=no ;;
	--integration) integration=yes ;;
	-h | --help) usage ;;
	armhf | arm64 | mipsel) arches="$arches $1" ;;
	*) echo "cross-build: unknown argument '$1'" >&2; usage ;;
	esac
	shift
done
[ -n "$arches" ] || usage

root=$(cd "$(dirname "$0")/.." && pwd)
out=$root/build-cross
src=$out/src
mkdir -p "$out"
sizes=$out/sizes.txt

ncpu() {
	nproc 2>/dev/null || getconf _NPROCESSORS_ONLN 2>/dev/null || echo 1
}

say() {
	echo "cross-build: $*"
}

die() {
	echo "cross-build: $*" >&2
	exit 1
}

# arch_vars ARCH: TRIPLET, QEMU (qemu-user binary) for ARCH.
arch_vars() {
	case $1 in
	armhf) TRIPLET=arm-linux-gnueabihf QEMU=qemu-arm ;;
	arm64) TRIPLET=aarch64-linux-gnu QEMU=qemu-aarch64 ;;
	mipsel) TRIPLET=mipsel-linux-gnu QEMU=qemu-mipsel ;;
	esac
}

# ---------------------------------------------------------------------
# host packages

as_root() {
	if [ "$(id -u)" -eq 0 ]; then
		"$@"
	elif command -v sudo >/dev/null 2>&1; then
		sudo "$@"
	else
		die "needs root to run: $* (run as root, or install sudo)"
	fi
}

installed() {
	dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "install ok installed"
}

# The toolchain: gcc unless gcc-multilib is installed (see the top).
pick_toolchain() {
	if installed gcc-multilib; then
		case $toolchain in
		gcc)
			die "--toolchain=gcc: gcc-multilib is installed, and Debian's gcc-12-TRIPLET conflicts with it; use --toolchain=clang" ;;
		auto)
			toolchain=clang
			say "gcc-multilib is installed (it conflicts with Debian's gcc cross compilers): using clang" ;;
		esac
	fi
	[ "$toolchain" != auto ] || toolchain=gcc
	say "toolchain: $toolchain"
}

# The major version of the host's gcc, whose cross libgcc clang links.
gcc_major() {
	gcc -dumpversion 2>/dev/null | cut -d. -f1
}

host_packages() {
	pkgs="qemu-user pkg-config autoconf automake make file"
	for a in $arches; do
		arch_vars "$a"
		if [ "$toolchain" = gcc ]; then
			pkgs="$pkgs gcc-$TRIPLET libc6-dev-$a-cross"
		else
			pkgs="$pkgs clang binutils-$TRIPLET libc6-dev-$a-cross libgcc-$(gcc_major)-dev-$a-cross"
		fi
	done
	missing=
	for p in $pkgs; do
		installed "$p" || missing="$missing $p"
	done
	[ -n "$missing" ] || return 0
	[ "$install" = yes ] || die "missing host packages:$missing"
	say "installing:$missing"
	as_root env DEBIAN_FRONTEND=noninteractive apt-get update -q ||
		say "apt-get update reported errors; going on"
	# Never remove anything to make room (gcc-multilib, say): fail instead.
	# shellcheck disable=SC2086
	as_root env DEBIAN_FRONTEND=noninteractive \
		apt-get install -y -q --no-install-recommends --no-remove $missing
}

# ---------------------------------------------------------------------
# the target's libraries: a sysroot from ARCH's .deb files

# Packages unpacked into the sysroot: the -dev packages tlsgw and its unit
# tests build against, and the runtime libraries they link.
SYSROOT_PKGS="libwolfssl-dev libwolfssl35 libevent-dev libevent-core-2.1-7
libinih-dev libinih1 check libsubunit-dev libsubunit0"

# apt_arch ARCH ARGS...: apt-get with a private state that knows only
# ARCH's package lists, from the host's apt sources.
apt_arch() {
	a=$1
	dir=$out/apt
	shift
	mkdir -p "$dir/lists/partial" "$dir/cache/archives/partial"
	cat >"$dir/apt-$a.conf" <<EOF
Dir::State::Lists "$dir/lists";
Dir::State::status "$dir/status";
Dir::Cache "$dir/cache";
APT::Architecture "$a";
#clear APT::Architectures;
APT::Architectures { "$a"; };
Acquire::Retries "3";
EOF
	[ -f "$dir/status" ] || : >"$dir/status"
	APT_CONFIG=$dir/apt-$a.conf apt-get -q "$@"
}

sysroot() {
	a=$1
	sr=$out/sysroot-$1
	stamp=$sr/.stamp
	if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$SYSROOT_PKGS" ]; then
		return 0
	fi
	[ "$install" = yes ] || die "no sysroot for $a in $sr (run without --no-install)"
	say "$a: fetching the target's libraries into $sr"
	# A failed index (a mirror in the middle of a sync) is only a warning
	# when the main suite's lists arrived.
	apt_arch "$a" update >"$out/apt-update-$a.log" 2>&1 ||
		say "$a: apt-get update reported errors (see $out/apt-update-$a.log); going on with the lists it got"
	debs=$out/debs-$a
	rm -rf "$debs" "$sr"
	mkdir -p "$debs" "$sr"
	# shellcheck disable=SC2086
	(cd "$debs" && apt_arch "$a" download $SYSROOT_PKGS) >"$out/apt-download-$a.log" 2>&1 ||
		die "$a: apt-get download failed: $(tail -n 3 "$out/apt-download-$a.log")"
	for p in "$debs"/*.deb; do
		dpkg -x "$p" "$sr"
	done
	for p in "$debs"/*.deb; do
		echo "    ${p##*/}"
	done
	echo "$SYSROOT_PKGS" >"$stamp"
}

# ---------------------------------------------------------------------
# build, test, measure

# A copy of the source tree in $src (git's files when it is a clone, else
# everything but build output), with a configure script.
source_copy() {
	say "copying the source tree to $src"
	rm -rf "$src"
	mkdir -p "$src"
	if git -C "$root" rev-parse --is-inside-work-tree >/dev/null 2>&1; then
		(cd "$root" && git ls-files -co --exclude-standard -z |
			grep -zv -e '^build-cross/' -e '^\.wolfssl' | xargs -0 tar -cf - --no-recursion) |
			tar -xf - -C "$src"
	else
		(cd "$root" && tar -cf - --exclude=./build-cross --exclude=./.wolfssl --exclude='*.o' \
			--exclude='*.a' --exclude=./config.status --exclude=./config.log \
			--exclude=./Makefile --exclude=./config.h --exclude=./stamp-h1 .) |
			tar -xf - -C "$src"
	fi
	if [ ! -x "$src/configure" ]; then
		say "autoreconf -fi"
		(cd "$src" && autoreconf -fi >"$out/autoreconf.log" 2>&1) ||
			die "autoreconf failed: $(tail -n 5 "$out/autoreconf.log")"
	fi
}

configure_args_tests() {
	# --enable-tests=unit: check only, no BearSSL/mbedTLS device clients.
	if "$src/configure" --help | grep -q -- '--enable-tests'; then
		echo "--enable-tests=unit"
	fi
}

build() {
	a=$1
	sr=$out/sysroot-$1
	b=$out/$1
	arch_vars "$a"
	libdir=$sr/usr/lib/$TRIPLET
	if [ "$toolchain" = gcc ]; then
		cc=$TRIPLET-gcc
		command -v "$cc" >/dev/null 2>&1 || die "$cc not found (package gcc-$TRIPLET)"
	else
		cc="clang --target=$TRIPLET"
		# Debian's armhf is Thumb-2, as its gcc does by default.
		[ "$a" != armhf ] || cc="$cc -mthumb"
	fi
	# A fresh build directory: a changed CFLAGS must rebuild everything.
	rm -rf "$b"
	mkdir -p "$b"
	say "$a: configure --host=$TRIPLET in $b ($cc, CFLAGS=${CFLAGS:--O2 -g})"
	(
		cd "$b"
		PKG_CONFIG_LIBDIR=$libdir/pkgconfig:$sr/usr/share/pkgconfig
		PKG_CONFIG_SYSROOT_DIR=$sr
		PKG_CONFIG_ALLOW_SYSTEM_CFLAGS=1
		PKG_CONFIG_ALLOW_SYSTEM_LIBS=1
		export PKG_CONFIG_LIBDIR PKG_CONFIG_SYSROOT_DIR \
			PKG_CONFIG_ALLOW_SYSTEM_CFLAGS PKG_CONFIG_ALLOW_SYSTEM_LIBS
		# The sysroot's headers before the host's /usr/include (which
		# Debian's cross compilers also search).
		# shellcheck disable=SC2046
		"$src/configure" -q --host="$TRIPLET" $(configure_args_tests) \
			CC="$cc" PKG_CONFIG="pkg-config" \
			CPPFLAGS="-isystem $sr/usr/include -isystem $sr/usr/include/$TRIPLET" \
			LDFLAGS="-L$libdir -Wl,-rpath-link,$libdir" \
			CFLAGS="${CFLAGS:--O2 -g}" >"$b/configure.out" 2>&1 ||
			die "$a: configure failed: $(tail -n 5 "$b/configure.out")"
		make -s -j"$(ncpu)" >"$b/make.out" 2>&1 ||
			die "$a: make failed: $(tail -n 20 "$b/make.out")"
	)
	file "$b/tlsgw" | sed "s#^$b/##; s/^/    /"
}

# qemu_env ARCH: the environment that runs ARCH binaries under qemu-user:
# the cross libc as the root for the dynamic loader, the sysroot's
# libraries on the guest's LD_LIBRARY_PATH.
qemu_env() {
	arch_vars "$1"
	QEMU_LD_PREFIX=/usr/$TRIPLET
	QEMU_SET_ENV=LD_LIBRARY_PATH=$out/sysroot-$1/usr/lib/$TRIPLET
	export QEMU_LD_PREFIX QEMU_SET_ENV
}

unit_tests() {
	a=$1
	b=$out/$1
	rc=0
	command -v "$QEMU" >/dev/null 2>&1 || die "$QEMU not found (package qemu-user)"
	say "$a: unit tests under $QEMU"
	(
		qemu_env "$a"
		# check's per-test timeouts, for emulation.
		CK_TIMEOUT_MULTIPLIER=10
		export CK_TIMEOUT_MULTIPLIER
		cd "$b"
		# INTEGRATION_TESTS= keeps make check to the unit tests even
		# with a configure that has no --enable-tests.
		make -j"$(ncpu)" check INTEGRATION_TESTS= LOG_COMPILER="$QEMU" \
			>"$b/check.out" 2>&1
	) || rc=$?
	grep -E '^(PASS|FAIL|ERROR|SKIP|# [A-Z]+:)' "$b/check.out" | sed 's/^/    /'
	[ "$rc" -eq 0 ] || {
		cat "$b/test-suite.log" >&2 2>/dev/null || tail -n 30 "$b/check.out" >&2
		die "$a: unit tests failed"
	}
}

# The integration tests with the cross-built daemon: a directory that looks
# like a build tree to tests/integration/lib.sh, whose tlsgw is a script
# exec'ing qemu-user on the cross-built one (so every way the tests start
# tlsgw, -t included, runs the target binary) and whose test clients are
# the host's.
integration_tests() {
	a=$1
	nb=$out/native
	mix=$out/$1-integration
	rc=0
	failed=
	if [ ! -x "$nb/tests/clients/bear_client" ] || [ ! -x "$nb/tests/clients/mbed_client" ]; then
		say "native build of the test clients in $nb"
		mkdir -p "$nb"
		(cd "$nb" && "$src/configure" -q >"$nb/configure.out" 2>&1 &&
			make -s -j"$(ncpu)" tests/clients/bear_client tests/clients/mbed_client \
				tests/clients/rawhello >"$nb/make.out" 2>&1) ||
			die "native build of the test clients failed (see $nb; run deploy/bootstrap.sh build first)"
	fi
	rm -rf "$mix"
	mkdir -p "$mix/tests"
	ln -s "$nb/tests/clients" "$mix/tests/clients"
	arch_vars "$a"
	cat >"$mix/tlsgw" <<EOF
#!/bin/sh
QEMU_LD_PREFIX=/usr/$TRIPLET
QEMU_SET_ENV=LD_LIBRARY_PATH=$out/sysroot-$a/usr/lib/$TRIPLET
export QEMU_LD_PREFIX QEMU_SET_ENV
exec $QEMU $out/$a/tlsgw "\$@"
EOF
	chmod +x "$mix/tlsgw"
	say "$a: integration tests with tlsgw under $QEMU"
	for t in "$src"/tests/integration/t_*.sh; do
		rc=0
		top_srcdir=$src top_builddir=$mix TEST_TIMEOUT=300 \
			bash "$t" >"$mix/$(basename "$t" .sh).log" 2>&1 || rc=$?
		if [ "$rc" -eq 0 ]; then
			echo "    PASS: $(basename "$t")"
		else
			echo "    FAIL: $(basename "$t") (exit $rc, log $mix/$(basename "$t" .sh).log)"
			failed="$failed $(basename "$t")"
		fi
	done
	[ -z "$failed" ] || die "$a: integration tests failed:$failed"
}

measure() {
	a=$1
	b=$out/$1
	arch_vars "$a"
	"$TRIPLET-strip" -o "$b/tlsgw.stripped" "$b/tlsgw"
	text=$("$TRIPLET-size" "$b/tlsgw" | awk 'NR == 2 { print $1 "/" $2 "/" $3 }')
	stripped=$(wc -c <"$b/tlsgw.stripped")
	printf '%-7s %-6s %-20s text/data/bss %-18s stripped %7d bytes (%d KiB)\n' \
		"$a" "$toolchain" "$TRIPLET" "$text" "$stripped" $(((stripped + 1023) / 1024)) |
		tee -a "$sizes"
}

# ---------------------------------------------------------------------

# timed WHAT CMD...: run CMD, then say how long it took.
timed() {
	what=$1
	shift
	t0=$(date +%s)
	"$@"
	say "$what: $(($(date +%s) - t0)) s"
}

t_all=$(date +%s)
pick_toolchain
timed "host packages" host_packages
timed "source copy and autoreconf" source_copy
: >"$sizes"
for a in $arches; do
	start=$(date +%s)
	timed "$a: sysroot" sysroot "$a"
	timed "$a: configure and build" build "$a"
	[ "$check" = no ] || timed "$a: unit tests" unit_tests "$a"
	[ "$integration" = no ] || timed "$a: integration tests" integration_tests "$a"
	measure "$a"
	say "$a: done in $(($(date +%s) - start)) s"
done
say "sizes (also in $sizes):"
cat "$sizes"
say "total: $(($(date +%s) - t_all)) s"
