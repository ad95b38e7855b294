#!/bin/sh
# run.sh [SECONDS] [TARGET...]: run the libFuzzer targets of tests/fuzz
# for SECONDS each (default 30), one after the other, and fail when one
# finds a crash, a leak, a timeout or an out-of-memory.
#
# It builds nothing: `./configure --enable-fuzz && make` builds the
# targets, `make fuzz FUZZ_SECONDS=N` builds them and runs this.  The
# targets are looked up in $top_builddir/tests/fuzz (top_builddir from
# the environment, else the current directory), then in
# $top_builddir itself (a hand build).  TARGET is a name such as
# clienthello or fuzz_clienthello; none: every fuzz_* built.
#
# Each target starts from a copy of its seeds, tests/fuzz/corpus/NAME
# (the tree's corpus is never written), and first replays every file of
# tests/fuzz/regressions/NAME.  What it finds is kept in
# $top_builddir/fuzz-artifacts/NAME/ with the whole log, and the
# command that reproduces it is printed.
#
# fuzz_config loads real certificates when it can: with openssl(1) a
# throw-away PKI is made with tests/data/mkcerts.sh and passed as
# TLSGW_FUZZ_PKI (set TLSGW_FUZZ_PKI yourself to use another, or to the
# empty string for none: faster, but no load ever succeeds).
#
# Environment: FUZZ_FLAGS, more libFuzzer options for every target
# (e.g. "-jobs=4 -workers=4" or "-seed=1").
set -eu

me=$(basename "$0")
here=$(cd "$(dirname "$0")" && pwd)
srcdir=${top_srcdir:-$(cd "$here/../.." && pwd)}
builddir=${top_builddir:-.}
builddir=$(cd "$builddir" && pwd)

secs=30
case ${1:-} in
'' | *[!0-9]*) ;;
*) secs=$1; shift ;;
esac
[ "$secs" -gt 0 ] || { echo "$me: SECONDS must be at least 1" >&2; exit 2; }

# The binary of a target, or nothing.
target_bin() {
	for f in "$builddir/tests/fuzz/fuzz_$1" "$builddir/fuzz_$1"; do
		if [ -f "$f" ] && [ -x "$f" ]; then
			echo "$f"
			return
		fi
	done
}

# libFuzzer options of a target beyond the common ones.
target_opts() {
	case $1 in
	# The largest hello (CH_MAX_MESSAGE) split over a few records.
	clienthello) echo "-max_len=20000" ;;
	config) echo "-max_len=4096" ;;
	der) echo "-max_len=4096" ;;
	*) echo "" ;;
	esac
}

names=
if [ $# -eq 0 ]; then
	for f in "$builddir/tests/fuzz"/fuzz_* "$builddir"/fuzz_*; do
		if [ ! -f "$f" ] || [ ! -x "$f" ]; then
			continue
		fi
		n=${f##*/fuzz_}
		case " $names " in *" $n "*) ;; *) names="$names $n" ;; esac
	done
	if [ -z "$names" ]; then
		echo "$me: no fuzz targets in $builddir/tests/fuzz;" \
		    "configure --enable-fuzz (clang) and run make" >&2
		exit 1
	fi
else
	for t in "$@"; do
		n=${t#fuzz_}
		if [ -z "$(target_bin "$n")" ]; then
			echo "$me: fuzz_$n is not built in" \
			    "$builddir/tests/fuzz" >&2
			exit 1
		fi
		names="$names $n"
	done
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/tlsgw-fuzz.XXXXXX")
# The targets' own temporary files (fuzz_config rewrites its files on
# every run): in memory when there is /dev/shm, and removed here even
# when a target dies without cleaning up.
scratch=
if [ -d /dev/shm ] && [ -w /dev/shm ]; then
	scratch=$(mktemp -d /dev/shm/tlsgw-fuzz.XXXXXX 2>/dev/null) || scratch=
fi
trap 'rm -rf "$work" ${scratch:+"$scratch"}' EXIT
trap 'exit 130' INT TERM
scratch=${scratch:-$work}

pki_made=no
case " $names " in *" config "*) want_pki=yes ;; *) want_pki=no ;; esac
if [ $want_pki = yes ] && [ "${TLSGW_FUZZ_PKI+set}" != set ] &&
    command -v openssl >/dev/null &&
    sh "$srcdir/tests/data/mkcerts.sh" "$work/pki" >"$work/mkcerts.log" 2>&1
then
	TLSGW_FUZZ_PKI=$work/pki
	pki_made=yes
fi

failed=
summary=
for n in $names; do
	bin=$(target_bin "$n")
	art=$builddir/fuzz-artifacts/$n
	corpus=$work/$n/corpus
	log=$work/$n/log
	mkdir -p "$corpus" "$art"
	if [ -d "$srcdir/tests/fuzz/corpus/$n" ]; then
		cp -R "$srcdir/tests/fuzz/corpus/$n/." "$corpus/"
	fi
	dirs=$corpus
	if [ -d "$srcdir/tests/fuzz/regressions/$n" ]; then
		dirs="$dirs $srcdir/tests/fuzz/regressions/$n"
	fi
	env=
	if [ "$n" = config ] && [ -n "${TLSGW_FUZZ_PKI:-}" ]; then
		env="TLSGW_FUZZ_PKI=$TLSGW_FUZZ_PKI"
	fi
	# Artifacts of this run only: remember what was there.
	ls "$art" >"$work/$n/before" 2>/dev/null || :
	echo "$me: fuzz_$n for ${secs}s${env:+, with certificates}"
	rc=0
	# shellcheck disable=SC2046,SC2086 # the option lists are split
	env TMPDIR="$scratch" $env "$bin" -max_total_time="$secs" \
	    -rss_limit_mb=2048 -timeout=25 -print_final_stats=1 \
	    -artifact_prefix="$art/" $(target_opts "$n") ${FUZZ_FLAGS:-} \
	    $dirs </dev/null >"$log" 2>&1 || rc=$?
	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" |
	    tail -n 1)
	found=
	for f in "$art"/crash-* "$art"/leak-* "$art"/timeout-* "$art"/oom-*; do
		[ -f "$f" ] || continue
		grep -qxF "${f##*/}" "$work/$n/before" || found="$found ${f##*/}"
	done
	if [ "$rc" -eq 0 ] && [ -z "$found" ]; then
		summary="$summary
  fuzz_$n: ${execs:-?} executions in ${secs}s, nothing found"
		continue
	fi
	failed="$failed $n"
	cp "$log" "$art/fuzz_$n.log"
	summary="$summary
  fuzz_$n: FAILED (exit $rc) after ${execs:-?} executions"
	echo "$me: fuzz_$n FAILED (exit $rc); its report:" >&2
	# The sanitizer's or the check's report, without the progress.
	grep -E '^==[0-9]+==|check failed|^SUMMARY|runtime error|^ +#[0-9]+ 0x|^Test unit written|^Base64|deadly signal|^INFO: a leak|ERROR: libFuzzer|^Direct leak|^Indirect leak' \
	    "$log" | head -n 80 >&2 || :
	if [ "$pki_made" = yes ] && [ -n "$env" ]; then
		rm -rf "$art/pki"
		cp -R "$TLSGW_FUZZ_PKI" "$art/pki"
		env="TLSGW_FUZZ_PKI=$art/pki"
	fi
	for f in $found; do
		echo "$me: kept $art/$f; reproduce with:" >&2
		echo "  ${env:+$env }$bin $art/$f" >&2
		echo "$me: minimize with:" >&2
		echo "  ${env:+$env }$bin -minimize_crash=1 -runs=100000" \
		    "-exact_artifact_path=$art/$f.min $art/$f" >&2
	done
	[ -n "$found" ] || echo "$me: no artifact written; whole log:" \
	    "$art/fuzz_$n.log" >&2
done

echo "$me: summary:$summary"
if [ -n "$failed" ]; then
	echo "$me: failed:$failed (artifacts in $builddir/fuzz-artifacts)" >&2
	exit 1
fi
