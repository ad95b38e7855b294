#!/bin/sh
# build-wolfssl.sh: a lean, static wolfSSL built with tlsgw's own options,
# for `./configure --with-wolfssl=lean`.
#
# Usage: sh deploy/build-wolfssl.sh [--src DIR] [--prefix DIR] [--force]
#   --src DIR     an unpacked wolfSSL source tree (5.5.4 or newer) to build;
#                 without it the source comes from Debian's archive
#                 (`apt-get source wolfssl`, deb-src is enabled if needed)
#                 and is kept in .wolfssl/ at the top of the repository
#   --prefix DIR  where to install (default: .wolfssl/lean at the top of
#                 the repository, which is where --with-wolfssl=lean looks)
#   --force       rebuild even when the prefix is up to date
#
# Nothing is rebuilt when the prefix already holds a library built from
# the same source version with the same options (the stamp file
# PREFIX/.tlsgw-wolfssl-options records them).  The fetched source is kept:
# remove .wolfssl/ to fetch Debian's current one again.  Fetching needs
# root (directly or through sudo) only when deb-src or dpkg-dev is missing.
#
# Then: ./configure --with-wolfssl=lean (default prefix), or
# ./configure --with-wolfssl=PREFIX (any other).
set -eu

me='build-wolfssl'
say() { echo "$me: $*"; }
die() {
	echo "$me: $*" >&2
	exit 1
}
usage() {
	echo "usage: sh $0 [--src DIR] [--prefix DIR] [--force]" >&2
	exit 2
}

root=$(cd "$(dirname "$0")/.." && pwd)
cache=$root/.wolfssl
src=
prefix=$cache/lean
force=no
while [ $# -gt 0 ]; do
	case $1 in
	--src)
		[ $# -ge 2 ] || usage
		src=$2
		shift 2
		;;
	--src=*)
		src=${1#--src=}
		shift
		;;
	--prefix)
		[ $# -ge 2 ] || usage
		prefix=$2
		shift 2
		;;
	--prefix=*)
		prefix=${1#--prefix=}
		shift
		;;
	--force)
		force=yes
		shift
		;;
	-h | --help) usage ;;
	*) usage ;;
	esac
done

# Absolute paths: we cd around below.
case $prefix in
/*) ;;
*) prefix=$(pwd)/$prefix ;;
esac
if [ -n "$src" ]; then
	[ -d "$src" ] || die "--src $src: no such directory"
	src=$(cd "$src" && pwd)
fi

# --- the options ------------------------------------------------------------
# TLS 1.2 and 1.3 only, no DH, static library.  What tlsgw uses:
#   - device leg: SNI, ALPN, max fragment length, session tickets,
#     ECDHE with P-256/P-384/X25519, AES-GCM, AES-CBC, ChaCha20-Poly1305,
#     SHA-384; RSA 2048-4096 and ECDSA certificates;
#     static RSA suites (WOLFSSL_STATIC_RSA) for policies with suites=legacy;
#   - upstream leg: the system CA store (wolfSSL_CTX_load_system_CA_certs),
#     name checks (wolfSSL_check_domain_name);
#   - device client certificates: wolfSSL's verify callback for every
#     certificate, good ones too (WOLFSSL_ALWAYS_VERIFY_CB), which hands
#     identity.c the device's certificate;
#   - an alert to a device that shares no suite (WOLFSSL_EXTRA_ALERTS),
#     not a bare close;
#   - `tlsgw pki`: certificate generation (certgen, certext, keygen).
# No OpenSSL compatibility layer: with it every TLS session carries a
# 4 KB peer-certificate slot, and an upstream leg keeps the broker's
# certificate decoded for its whole life (~10 KB more).  What tlsgw
# read through it (a certificate's key type, dates and names, whether a
# key matches) it reads itself (policy/der.c, policy/keys.c).
# Math: sp-math-all (5.5.4's default: portable C with optional assembly
# for the host, e.g. x86-64; fine on 32-bit ARM/MIPS), RSA up to 4096 bits,
# no fixed-point ECC cache (FP_ECC), no stored peer chains (SESSION_CERTS:
# nothing here turns it on), no OCSP.
WOLFSSL_OPTIONS="--enable-static --disable-shared
--enable-tls13 --disable-oldtls --enable-tlsv12
--enable-sni --enable-alpn --enable-maxfragment --enable-session-ticket
--enable-supportedcurves --enable-ecc --enable-curve25519
--enable-aesgcm --enable-aescbc --enable-chacha --enable-poly1305
--enable-sha384 --enable-sha512
--disable-dh --enable-rsa
--with-max-rsa-bits=4096 --disable-ocsp --disable-sha3 --disable-pkcs12
--enable-sys-ca-certs --enable-certgen --enable-certext --enable-keygen
--enable-base64encode --enable-crl
--enable-sp-math-all --enable-sp --disable-fastmath --disable-fpecc
--disable-examples --disable-crypttests --disable-benchmark
--disable-jobserver"
# CFLAGS: static RSA has no configure switch in 5.5.4 (-DWOLFSSL_STATIC_RSA
# also lands in the installed options.h, so tlsgw sees it); no peer RSA
# key under 2048 bits (the default minimum is 1024); -Os and one section
# per function, so that tlsgw's link (-Wl,--gc-sections, added by
# configure --with-wolfssl=lean) keeps only what it calls.
WOLFSSL_CFLAGS="-O2 -ffunction-sections -fdata-sections -DWOLFSSL_STATIC_RSA -DWOLFSSL_MIN_RSA_BITS=2048 -DWOLFSSL_ALT_NAMES -DWOLFSSL_ALWAYS_VERIFY_CB -DWOLFSSL_EXTRA_ALERTS"

# Crypto speed: the single-precision code for P-256 and RSA-2048/3072
# (--enable-sp, above, portable C everywhere), plus the assembly each
# architecture has.  The x86-64 AES-NI/AVX paths check the CPU at run
# time; -O2 rather than -Os: the handshake is bignum arithmetic, and
# --gc-sections at tlsgw's link keeps the size in check.
# (tlsgw pki needs certext, keygen, ALT_NAMES and base64encode.)
case ${TLSGW_WOLFSSL_ARCH:-$(uname -m)} in
x86_64 | amd64)
	WOLFSSL_OPTIONS="$WOLFSSL_OPTIONS --enable-sp-asm --enable-aesni --enable-intelasm" ;;
aarch64 | arm64)
	WOLFSSL_OPTIONS="$WOLFSSL_OPTIONS --enable-sp-asm --enable-armasm" ;;
esac

# The options on one line.
options_line() {
	# shellcheck disable=SC2086,SC2116  # word splitting joins the lines
	echo $WOLFSSL_OPTIONS
}

ncpu() {
	nproc 2>/dev/null || getconf _NPROCESSORS_ONLN 2>/dev/null || echo 1
}

as_root() {
	if [ "$(id -u)" -eq 0 ]; then
		"$@"
	elif command -v sudo >/dev/null 2>&1; then
		sudo "$@"
	else
		die "'$*' needs root: run this script as root, or install sudo (or give --src DIR)"
	fi
}

installed() {
	dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "install ok installed"
}

# True when apt already knows a deb-src entry (one-line or deb822 format).
have_deb_src() {
	for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
		[ -f "$f" ] || continue
		grep -qE '^[[:space:]]*deb-src[[:space:]]' "$f" && return 0
	done
	for f in /etc/apt/sources.list.d/*.sources; do
		[ -f "$f" ] || continue
		awk 'BEGIN { RS = ""; FS = "\n"; found = 0 }
		{
			types = 0; off = 0
			for (i = 1; i <= NF; i++) {
				if ($i ~ /^[Tt]ypes:.*deb-src/) types = 1
				if ($i ~ /^[Ee]nabled:[[:space:]]*no/) off = 1
			}
			if (types && !off) found = 1
		}
		END { exit found ? 0 : 1 }' "$f" && return 0
	done
	return 1
}

# Add deb-src entries mirroring the Debian archive's deb entries, in a
# file of our own.
enable_deb_src() {
	if [ -f /etc/apt/sources.list.d/debian.sources ]; then
		out=/etc/apt/sources.list.d/tlsgw-deb-src.sources
		tmp=$(mktemp)
		# Each enabled "Types: deb" stanza, with Types: deb-src and
		# the same URIs, Suites, Components and Signed-By.
		awk 'BEGIN { RS = ""; FS = "\n"; ORS = "" }
		{
			deb = 0; off = 0; body = ""
			for (i = 1; i <= NF; i++) {
				if ($i ~ /^#/) continue
				if ($i ~ /^[Tt]ypes:/) {
					if ($i ~ /[: ]deb( |$)/) deb = 1
					continue
				}
				if ($i ~ /^[Ee]nabled:[[:space:]]*no/) off = 1
				body = body $i "\n"
			}
			if (deb && !off) {
				if (n++) print "\n"
				print "Types: deb-src\n" body
			}
		}' /etc/apt/sources.list.d/debian.sources >"$tmp"
	elif [ -f /etc/apt/sources.list ] &&
		grep -qE '^[[:space:]]*deb[[:space:]]' /etc/apt/sources.list; then
		out=/etc/apt/sources.list.d/tlsgw-deb-src.list
		tmp=$(mktemp)
		sed -n 's/^[[:space:]]*deb\([[:space:]]\)/deb-src\1/p' \
			/etc/apt/sources.list >"$tmp"
	else
		die "cannot find Debian's archive in /etc/apt (debian.sources or sources.list): add a deb-src entry yourself, or give --src DIR"
	fi
	[ -s "$tmp" ] || {
		rm -f "$tmp"
		die "no 'deb' entries to mirror as deb-src: add one yourself, or give --src DIR"
	}
	say "no deb-src entry configured: adding $out"
	sed 's/^/    /' "$tmp"
	as_root install -m 0644 "$tmp" "$out"
	rm -f "$tmp"
}

# The newest unpacked source tree in the cache, or nothing.
cached_src() {
	for d in "$cache"/wolfssl-*/; do
		[ -f "$d/configure.ac" ] && echo "${d%/}"
	done | sort | tail -n 1
}

fetch_src() {
	command -v apt-get >/dev/null 2>&1 ||
		die "not a Debian system (no apt-get): unpack a wolfSSL source (5.5.4 or newer) and give --src DIR"
	mkdir -p "$cache"
	src=$(cached_src)
	if [ -n "$src" ]; then
		say "using the source fetched before: $src"
		return 0
	fi
	updated=no
	if ! have_deb_src; then
		enable_deb_src
		say "apt-get update"
		as_root env DEBIAN_FRONTEND=noninteractive apt-get update
		updated=yes
	fi
	if ! installed dpkg-dev; then
		say "installing dpkg-dev (apt-get source unpacks with dpkg-source)"
		[ "$updated" = yes ] ||
			as_root env DEBIAN_FRONTEND=noninteractive apt-get update
		as_root env DEBIAN_FRONTEND=noninteractive \
			apt-get install -y --no-install-recommends dpkg-dev
	fi
	say "apt-get source wolfssl (into $cache)"
	if ! (cd "$cache" && apt-get source wolfssl); then
		[ "$updated" = no ] ||
			die "apt-get source wolfssl failed (give --src DIR to build another source)"
		# deb-src configured but its index never fetched, or stale.
		say "apt-get update, then try again"
		as_root env DEBIAN_FRONTEND=noninteractive apt-get update
		(cd "$cache" && apt-get source wolfssl) ||
			die "apt-get source wolfssl failed (give --src DIR to build another source)"
	fi
	src=$(cached_src)
	[ -n "$src" ] || die "apt-get source wolfssl left no wolfssl-*/ in $cache"
}

# --- up to date? ------------------------------------------------------------
# The stamp: the source's version, then the options.  Without --src, a
# prefix built with the same options is enough (no fetch, no network).
stamp=$prefix/.tlsgw-wolfssl-options
options_stamp=$(printf 'configure=%s\nCFLAGS=%s\n' "$(options_line)" \
	"$WOLFSSL_CFLAGS")
installed_ok() {
	[ "$force" = no ] && [ -f "$stamp" ] &&
		[ -f "$prefix/lib/libwolfssl.a" ] &&
		[ -f "$prefix/include/wolfssl/options.h" ]
}
up_to_date() {
	say "$prefix is up to date ($(sed -n 's/^version=/wolfSSL /p' "$stamp"), same options): nothing to do"
	say "options: $(options_line) CFLAGS=\"$WOLFSSL_CFLAGS\""
	exit 0
}
if [ -z "$src" ] && installed_ok &&
	[ "$(sed 1d "$stamp")" = "$options_stamp" ]; then
	up_to_date
fi

# --- the source -------------------------------------------------------------
if [ -z "$src" ]; then
	fetch_src
fi
[ -f "$src/configure.ac" ] || die "$src: not a wolfSSL source tree (no configure.ac)"
version=$(sed -n 's/^AC_INIT(\[wolfssl\],[[:space:]]*\[\([^]]*\)\].*/\1/p' "$src/configure.ac" | head -n 1)
[ -n "$version" ] || version=unknown
# Debian's revision (security fixes come as patches to 5.5.4), if any.
if [ -f "$src/debian/changelog" ]; then
	revision=$(sed -n '1s/^[^ ]* (\([^)]*\)).*/\1/p' "$src/debian/changelog")
	[ -z "$revision" ] || version="$version (Debian $revision)"
fi
say "wolfSSL $version source: $src"

# With --src: the same options and the same source version.
want=$(printf 'version=%s\n%s\n' "$version" "$options_stamp")
if installed_ok && [ "$(cat "$stamp")" = "$want" ]; then
	up_to_date
fi

# --- configure, make, make install ------------------------------------------
# Out of tree, in the cache (or next to a prefix of your own).  A source
# without a configure script (Debian's, a git checkout) gets one first.
start=$(date +%s)
if [ ! -x "$src/configure" ]; then
	command -v autoreconf >/dev/null 2>&1 ||
		die "$src has no configure script and autoreconf is missing (install autoconf automake libtool)"
	say "autoreconf -fi in $src (it has no configure script)"
	(cd "$src" && autoreconf -fi)
fi
build=$cache/build
case $prefix in
"$cache"/*) ;;
*) build=$prefix.build ;;
esac
rm -rf "$build"
mkdir -p "$build"
say "configure --prefix=$prefix $(options_line) CFLAGS=\"$WOLFSSL_CFLAGS\""
# shellcheck disable=SC2086  # one word per option
(cd "$build" && "$src/configure" --prefix="$prefix" $WOLFSSL_OPTIONS \
	CFLAGS="$WOLFSSL_CFLAGS" >configure.out 2>&1) || {
	tail -n 30 "$build/configure.out" >&2
	die "configure failed: see $build/configure.out and $build/config.log"
}
say "make -j$(ncpu)"
(cd "$build" && make -j"$(ncpu)" >make.out 2>&1) || {
	tail -n 30 "$build/make.out" >&2
	die "make failed: see $build/make.out"
}
# A prefix of our own is replaced whole; any other one (e.g. /usr/local) is
# only installed over.
case $prefix in
"$cache"/*) rm -rf "$prefix" ;;
esac
say "make install (into $prefix)"
(cd "$build" && make install >install.out 2>&1) || {
	tail -n 30 "$build/install.out" >&2
	die "make install failed: see $build/install.out"
}
# wolfSSL's options.h can miss HAVE___UINT128_T that its own build used:
# programs then see other sizes for RsaKey and ecc_key than the library.
if grep -q 'define HAVE___UINT128_T' "$build/config.h" 2>/dev/null &&
	! grep -q 'HAVE___UINT128_T' "$prefix/include/wolfssl/options.h"; then
	sed -i 's|^#ifdef __cplusplus$|#ifndef HAVE___UINT128_T\n#define HAVE___UINT128_T 1\n#endif\n\n&|' \
		"$prefix/include/wolfssl/options.h"
	grep -q 'HAVE___UINT128_T' "$prefix/include/wolfssl/options.h" ||
		die "could not add HAVE___UINT128_T to $prefix/include/wolfssl/options.h"
fi
printf '%s\n' "$want" >"$stamp"
end=$(date +%s)

say "built wolfSSL $version in $((end - start)) s: $prefix/lib/libwolfssl.a ($(wc -c <"$prefix/lib/libwolfssl.a") bytes)"
say "options: $(options_line) CFLAGS=\"$WOLFSSL_CFLAGS\""
say "next: ./configure --with-wolfssl=lean"
