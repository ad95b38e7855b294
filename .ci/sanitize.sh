#!/bin/sh
# The whole test suite under AddressSanitizer + UBSan (with LeakSanitizer),
# built from the distribution tarball against Debian's libwolfssl in a
# directory of its own.  Any sanitizer report fails, even one from a
# daemon a test stopped with SIGTERM (reports go to files, checked here).
set -eu
cd "$(dirname "$0")/.."
top=$(pwd)
work=$top/build-asan
rm -rf "$work"
mkdir -p "$work/reports"
make dist >/dev/null
tar -xzf tlsgw-*.tar.gz -C "$work"
src=$(ls -d "$work"/tlsgw-*/)
cd "$src"
./configure --enable-asan --with-wolfssl=system >"$work/configure.log"
make -j"$(nproc)" >"$work/make.log"
# A small quarantine: t_relay measures that the daemon's memory stays
# flat under a flood, which ASan's default 256 MB of held-back frees
# would hide behind its own growth.
export ASAN_OPTIONS="log_path=$work/reports/asan:detect_leaks=1:quarantine_size_mb=4:thread_local_quarantine_size_kb=64"
export UBSAN_OPTIONS="log_path=$work/reports/ubsan:print_stacktrace=1"
status=0
make -j"$(nproc)" check || status=$?
[ "$status" -eq 0 ] || cat test-suite.log >&2
if [ -n "$(ls "$work/reports")" ]; then
	echo "sanitize: sanitizer reports:" >&2
	for f in "$work"/reports/*; do
		echo "=== $f" >&2
		cat "$f" >&2
	done
	exit 1
fi
[ "$status" -eq 0 ] || exit "$status"
echo "sanitize: the whole suite passed under ASan + UBSan, no reports"
rm -rf "$work"
