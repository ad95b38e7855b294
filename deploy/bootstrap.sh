#!/bin/sh
# bootstrap.sh: from a fresh Debian 12 to a built tlsgw, then a demo or
# the test suite.
#
# Usage: sh deploy/bootstrap.sh demo|check|build
#   build  install what is missing, then autoreconf (if needed),
#          ./configure (if needed) and make
#   demo   build, then run deploy/demo.sh (see there)
#   check  build, then `make check`; when it fails, print test-suite.log
#          (which holds the logs of the failed tests); the exit status is
#          make check's
#
# Packages are installed with apt-get only when one is missing (then
# `apt-get update` first), as root directly or through sudo.
#
# tlsgw is built against the lean, static wolfSSL a router ships
# (deploy/build-wolfssl.sh: Debian's wolfSSL source with our options);
# TLSGW_WOLFSSL=system builds against Debian's libwolfssl instead.
# `check` then also runs the whole suite against the other library, in
# a build from the distribution tarball (make distcheck).
set -eu

usage() {
	echo "usage: sh $0 demo|check|build" >&2
	exit 2
}
[ $# -eq 1 ] || usage
action=$1
case $action in
demo | check | build) ;;
*) usage ;;
esac

root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"

# Build tools, the libraries tlsgw links, the device TLS stacks of the test
# clients, and the peers the tests and the demo run (Mosquitto, openssl,
# ss from iproute2, ps from procps for the test watchdog).
PACKAGES="build-essential autoconf automake libtool pkg-config
libwolfssl-dev libevent-dev libinih-dev check libbearssl-dev libmbedtls-dev
mosquitto mosquitto-clients openssl ca-certificates iproute2 procps
systemd strace"

installed() {
	dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "install ok installed"
}

install_missing() {
	if ! command -v dpkg-query >/dev/null 2>&1 || ! command -v apt-get >/dev/null 2>&1; then
		echo "bootstrap: not a Debian system (no dpkg-query/apt-get): not installing packages;" >&2
		echo "bootstrap: make sure these (or their equivalents) are present: $(echo "$PACKAGES" | tr "\n" " ")" >&2
		return 0
	fi
	missing=
	for p in $PACKAGES; do
		installed "$p" || missing="$missing $p"
	done
	if [ -z "$missing" ]; then
		echo "bootstrap: every package needed is installed"
		return 0
	fi
	if [ "$(id -u)" -eq 0 ]; then
		as_root=
	elif command -v sudo >/dev/null 2>&1; then
		as_root=sudo
	else
		echo "bootstrap: these packages are missing:$missing" >&2
		echo "bootstrap: installing them needs root: run this script as root, or install sudo" >&2
		exit 1
	fi
	echo "bootstrap: installing:$missing"
	$as_root env DEBIAN_FRONTEND=noninteractive apt-get update
	# shellcheck disable=SC2086  # one word per package
	$as_root env DEBIAN_FRONTEND=noninteractive \
		apt-get install -y --no-install-recommends $missing
}

ncpu() {
	nproc 2>/dev/null || getconf _NPROCESSORS_ONLN 2>/dev/null || echo 1
}

WOLFSSL=${TLSGW_WOLFSSL:-lean}
case $WOLFSSL in
lean | system) ;;
*) echo "bootstrap: TLSGW_WOLFSSL must be lean or system" >&2; exit 2 ;;
esac

# The lean wolfSSL: fetched from Debian's sources once, rebuilt only
# when its options change.
lean_wolfssl() {
	echo "bootstrap: sh deploy/build-wolfssl.sh"
	sh "$root/deploy/build-wolfssl.sh"
}

# True when config.status was made for another wolfSSL than $1.
configured_for_other() {
	! grep -q -- "--with-wolfssl=$1" config.status 2>/dev/null
}

build() {
	[ "$WOLFSSL" = lean ] && lean_wolfssl
	# (find -newer: `test -nt` is not POSIX)
	if [ ! -x configure ] || [ -n "$(find configure.ac Makefile.am -newer configure)" ]; then
		echo "bootstrap: autoreconf -fi"
		autoreconf -fi
	fi
	if [ ! -f Makefile ] || [ ! -f config.status ] ||
		[ -n "$(find configure -newer config.status)" ] ||
		configured_for_other "$WOLFSSL"; then
		echo "bootstrap: ./configure --with-wolfssl=$WOLFSSL"
		./configure --with-wolfssl="$WOLFSSL"
		# tlsgw does not depend on the library file: relink everything.
		make clean >/dev/null 2>&1 || true
	fi
	echo "bootstrap: make -j$(ncpu)"
	make -j"$(ncpu)"
}

# make check in the current directory; on failure print the failed logs.
run_check() {
	status=0
	make -j"$(ncpu)" check || status=$?
	if [ "$status" -ne 0 ]; then
		echo "bootstrap: make check failed (status $status); test-suite.log:" >&2
		if [ -f test-suite.log ]; then
			cat test-suite.log >&2
		else
			echo "bootstrap: no test-suite.log (the build of the tests failed?)" >&2
		fi
	fi
	return "$status"
}

# The whole suite against the other wolfSSL, from a copy of the sources
# (`make dist`) built out of tree, so the main build stays as it is.
check_other() {
	other=system
	[ "$WOLFSSL" = system ] && { other=lean; lean_wolfssl; }
	echo "bootstrap: the whole suite again, against the $other wolfSSL (make distcheck)"
	make distcheck DISTCHECK_CONFIGURE_FLAGS="--with-wolfssl=$(
		[ "$other" = lean ] && echo "$root/.wolfssl/lean" || echo system)"
}

install_missing
build

case $action in
build)
	echo "bootstrap: built $root/tlsgw"
	;;
demo)
	exec sh "$root/deploy/demo.sh"
	;;
check)
	run_check
	check_other
	;;
esac
