#!/bin/sh
# Each libFuzzer target (ClientHello parser, MQTT CONNECT parser,
# configuration loader, certificate reader) for a bounded time from its
# seed corpus, built from the distribution tarball with clang against
# Debian's libwolfssl.
# Fails on any crash, leak or sanitizer report.
set -eu
cd "$(dirname "$0")/.."
top=$(pwd)
seconds=${FUZZ_SECONDS:-30}
need=
for p in clang libclang-rt-14-dev; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
		need="$need $p"
done
if [ -n "$need" ]; then
	as_root=
	[ "$(id -u)" -eq 0 ] || as_root=sudo
	# shellcheck disable=SC2086  # one word per package
	$as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends $need
fi
work=$top/build-fuzz
rm -rf "$work"
mkdir -p "$work"
make dist >/dev/null
tar -xzf tlsgw-*.tar.gz -C "$work"
cd "$(ls -d "$work"/tlsgw-*/)"
./configure --enable-fuzz --enable-tests=no --with-wolfssl=system >"$work/configure.log"
make -j"$(nproc)" >"$work/make.log"
make fuzz FUZZ_SECONDS="$seconds"
cd "$top"
rm -rf "$work"
