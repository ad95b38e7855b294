#!/bin/bash
# bench/run.sh: run tlsgw, stunnel and HAProxy as the same gateway, with
# Mosquitto directly as the baseline, in one bounded run on 127.0.0.1, and
# write bench/RESULTS.md.  See bench/README.md for what is measured.
#
# Usage: bash bench/run.sh [options]
#   --tlsgw [LABEL=]PATH   a tlsgw binary or build directory; repeat to
#                          measure several builds (default: ./tlsgw)
#   --out FILE             results (default bench/RESULTS.md)
#   --work DIR             work directory (default /tmp/tlsgw-bench.XXXX,
#                          removed at the end unless --keep)
#   --keep                 keep the work directory (logs, configs, raw data)
#   --reps N               repetitions of each rate phase (default 3; the
#                          table shows the median)
#   --seconds T            length of one rate repetition (default 2)
#   --big N                idle connections for the large tlsgw point
#                          (default 10000, capped by the fd limit)
#   --only LIST            comma list of direct,tlsgw,haproxy,stunnel
#   --no-profile           skip the perf profiles of tlsgw
#   --quick                a short smoke run (1 rep of 1 s, no large point)
#
# Needs (Debian 12): haproxy stunnel4 mosquitto openssl libssl-dev gcc
# procps iproute2, and linux-perf for the profiles; run as root or as a
# user whose hard fd limit is large enough.  Every process is started in
# the background, recorded by PID and stopped by PID when the run ends.
set -euo pipefail

BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=bench/lib.sh
. "$BENCH_DIR/lib.sh"
TOP=$(cd "$BENCH_DIR/.." && pwd)
PATH=$PATH:/usr/sbin:/sbin
export LC_ALL=C

# ----------------------------------------------------------------------
# options

TLSGW_SPECS=()
OUT=$BENCH_DIR/RESULTS.md
WORK=
KEEP=0
REPS=3
SECS=2
BIG=10000
ONLY=direct,tlsgw,haproxy,stunnel
PROFILE=1
QUICK=0
CMDLINE="bash bench/run.sh"
for a in "$@"; do
	case $a in
	*[!A-Za-z0-9_./=:,+@%-]*|'') CMDLINE="$CMDLINE '${a//\'/\'\\\'\'}'" ;;
	*) CMDLINE="$CMDLINE $a" ;;
	esac
done

while [ $# -gt 0 ]; do
	case $1 in
	--tlsgw) TLSGW_SPECS+=("$2"); shift 2 ;;
	--out) OUT=$2; shift 2 ;;
	--work) WORK=$2; shift 2 ;;
	--keep) KEEP=1; shift ;;
	--reps) REPS=$2; shift 2 ;;
	--seconds) SECS=$2; shift 2 ;;
	--big) BIG=$2; shift 2 ;;
	--only) ONLY=$2; shift 2 ;;
	--no-profile) PROFILE=0; shift ;;
	--quick) QUICK=1; REPS=1; SECS=1; BIG=0; shift ;;
	-h|--help) sed -n '2,25p' "$0"; exit 0 ;;
	*) echo "run.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
	esac
done
[ ${#TLSGW_SPECS[@]} -gt 0 ] || TLSGW_SPECS=("$TOP/tlsgw")

want() { case ",$ONLY," in *",$1,"*) return 0 ;; esac; return 1; }

say() { printf '[%s] %s\n' "$(date +%H:%M:%S)" "$*"; }
die() { printf 'run.sh: %s\n' "$*" >&2; exit 1; }

for c in mosquitto openssl cc ss awk; do
	command -v "$c" >/dev/null 2>&1 ||
		die "$c not found: apt-get install mosquitto openssl gcc iproute2 gawk"
done
want haproxy && ! command -v haproxy >/dev/null 2>&1 &&
	die "haproxy not found: apt-get install haproxy"
STUNNEL=$(command -v stunnel4 || command -v stunnel || true)
want stunnel && [ -z "$STUNNEL" ] && die "stunnel not found: apt-get install stunnel4"
[ -f /usr/include/openssl/ssl.h ] || die "OpenSSL headers missing: apt-get install libssl-dev"

# ----------------------------------------------------------------------
# work directory, processes, the end

if [ -z "$WORK" ]; then
	WORK=$(mktemp -d /tmp/tlsgw-bench.XXXX)
else
	mkdir -p "$WORK"
fi
PKI=$WORK/pki
_pids=()

track() { _pids+=("$1"); }

alive() { kill -0 "$1" 2>/dev/null; }

_end() {
	local rc=$? i
	trap - EXIT INT TERM
	set +e
	[ -n "${_watchdog:-}" ] && kill "$_watchdog" 2>/dev/null && wait "$_watchdog" 2>/dev/null
	for ((i = ${#_pids[@]} - 1; i >= 0; i--)); do
		stop_pid "${_pids[$i]}"
	done
	if [ "$rc" -ne 0 ] || [ "$KEEP" = 1 ]; then
		echo "run.sh: work directory kept: $WORK" >&2
	else
		rm -rf "$WORK"
	fi
	exit "$rc"
}
trap _end EXIT
trap 'echo "run.sh: interrupted" >&2; exit 130' INT
trap 'echo "run.sh: stopped (time limit?)" >&2; exit 143' TERM

# The whole run is bounded: after BENCH_TIMEOUT s (default 900) the
# script is told to stop, and its EXIT trap stops everything by PID.
(
	sleep "${BENCH_TIMEOUT:-900}" &
	s=$!
	trap 'kill $s 2>/dev/null; exit 0' TERM
	wait $s
	echo "run.sh: still running after ${BENCH_TIMEOUT:-900} s, stopping" >&2
	kill -TERM $$ 2>/dev/null
) &
_watchdog=$!

# As many fds as allowed: 10,000 proxied connections need ~20,000.
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
NOFILE=$(ulimit -n)

# The machine may be shared: run everything of ours at the highest
# ordinary priority (children inherit it).  The latency phase also runs
# the broker, the gateway and the load client at SCHED_FIFO 1 (chrt).
NICE=no
renice -n -20 -p $$ >/dev/null 2>&1 && NICE=yes
RT=no
chrt -f 1 true >/dev/null 2>&1 && RT=yes
LOAD_START=$(cut -d' ' -f1-3 /proc/loadavg)
T_START=$(date +%s)

# ----------------------------------------------------------------------
# ports, measurements

CLK_TCK=$(getconf CLK_TCK)

# utime+stime of a process (all its threads, live and exited), in ticks.
cpu_ticks() {
	sed 's/^.*) //' "/proc/$1/stat" | awk '{print $12 + $13}'
}

rss_kb() { awk '/^VmRSS:/ {print $2}' "/proc/$1/status"; }

# Float arithmetic and formatting.
calc() { awk "BEGIN { printf \"%.${2:-3}f\", $1 }" 2>/dev/null || echo -; }

median() {
	printf '%s\n' "$@" | grep -v '^-$' | sort -g |
		awk '{ a[NR] = $1 } END { if (NR == 0) print "-";
		else if (NR % 2) print a[(NR + 1) / 2];
		else printf "%.4f\n", (a[NR / 2] + a[NR / 2 + 1]) / 2 }'
}

# Results: R[key]=value, also written to results.tsv.
declare -A R
put() {
	R[$1]=$2
	printf '%s\t%s\n' "$1" "$2" >>"$WORK/results.tsv"
}
get() { echo "${R[$1]:--}"; }

# ----------------------------------------------------------------------
# builds

BIN=$WORK/bin
mkdir -p "$BIN"
say "building bench/loadgen.c"
cc -O2 -Wall -o "$BIN/loadgen" "$BENCH_DIR/loadgen.c" -lssl -lcrypto
LOADGEN=$BIN/loadgen

# tlsgw variants: TG_ID[i] (slug), TG_LABEL[i], TG_BIN[i], TG_DIR[i]
TG_ID=() TG_LABEL=() TG_BIN=() TG_DIR=() TG_LIB=()
i=0
for spec in "${TLSGW_SPECS[@]}"; do
	label=
	path=$spec
	case $spec in
	*=*) label=${spec%%=*}; path=${spec#*=} ;;
	esac
	if [ -d "$path" ]; then
		dir=$(cd "$path" && pwd)
		bin=$dir/tlsgw
	else
		bin=$(cd "$(dirname "$path")" && pwd)/$(basename "$path")
		dir=$(dirname "$bin")
	fi
	[ -x "$bin" ] || die "no tlsgw binary at $bin (build it first)"
	ver=$("$bin" --version 2>&1 | sed -n 's/.*(wolfSSL \([^,]*\),.*/\1/p')
	wcf=$(sed -n 's/^WOLFSSL_CFLAGS = //p' "$dir/Makefile" 2>/dev/null || true)
	wlibs=$(sed -n 's/^WOLFSSL_LIBS = //p' "$dir/Makefile" 2>/dev/null || true)
	if ldd "$bin" 2>/dev/null | grep -q libwolfssl; then
		lib="wolfSSL $ver, shared: $(ldd "$bin" | awk '/libwolfssl/ {print $3}')"
		[ -n "$label" ] || label="tlsgw, system wolfSSL $ver"
	else
		lib="wolfSSL $ver, static from ${wcf#-I}"
		case $wcf in
		*/.wolfssl/lean/*) [ -n "$label" ] || label="tlsgw, lean wolfSSL $ver" ;;
		*) [ -n "$label" ] || label="tlsgw, static wolfSSL $ver" ;;
		esac
	fi
	TG_ID+=("tlsgw$i")
	TG_LABEL+=("$label")
	TG_BIN+=("$bin")
	TG_DIR+=("$dir")
	TG_LIB+=("$lib")
	# wolfSSL's own speed for the crypto bound, built like tlsgw was.
	# wolfSSL 5.5.4 builds with -DHAVE___UINT128_T=1 but leaves it out
	# of options.h: without it a program sees smaller RsaKey/ecc_key
	# structures than the library (8368 vs 8432 bytes for RsaKey in the
	# lean build) and crashes.
	[ -n "$wlibs" ] || wlibs=$(pkg-config --libs wolfssl 2>/dev/null || echo -lwolfssl)
	u128=
	# (grep without -q reads all its input: no SIGPIPE under pipefail)
	if cc -dM -E - </dev/null | grep __SIZEOF_INT128__ >/dev/null; then
		u128=-DHAVE___UINT128_T=1
	fi
	# shellcheck disable=SC2086
	if ! cc -O2 $u128 -o "$BIN/wolfspeed$i" "$BENCH_DIR/wolfspeed.c" $wcf $wlibs -lm \
		>"$WORK/wolfspeed$i.build.log" 2>&1; then
		say "warning: wolfspeed for $label did not build (see $WORK/wolfspeed$i.build.log)"
	fi
	say "tlsgw variant tlsgw$i: $label: $bin ($lib)"
	i=$((i + 1))
done

# ----------------------------------------------------------------------
# PKI and the broker

say "demo PKI"
sh "$TOP/deploy/demo-pki.sh" "$PKI" >"$WORK/pki.out" 2>&1 || die "demo-pki.sh failed"
cat "$PKI/gw-rsa.crt" "$PKI/gw-rsa.key" >"$PKI/hap-rsa.pem"
cat "$PKI/gw-ec.crt" "$PKI/gw-ec.key" >"$PKI/hap-ec.pem"
chmod 600 "$PKI"/hap-*.pem

BROKER_PORT=$(free_port)
BROKER_PLAIN=$(free_port)
cat >"$WORK/mosquitto.conf" <<EOF
per_listener_settings false
allow_anonymous true
persistence false
user $(id -un)
max_connections -1
set_tcp_nodelay true
log_dest file $WORK/mosquitto.log
log_type error
log_type warning
connection_messages false

listener $BROKER_PORT 127.0.0.1
certfile $PKI/broker.crt
keyfile $PKI/broker.key
cafile $PKI/ca.crt
tls_version tlsv1.3

listener $BROKER_PLAIN 127.0.0.1
EOF
mosquitto -c "$WORK/mosquitto.conf" >"$WORK/mosquitto.out" 2>&1 &
BROKER_PID=$!
track $BROKER_PID
wait_port "$BROKER_PORT" $BROKER_PID && wait_port "$BROKER_PLAIN" $BROKER_PID ||
	die "mosquitto did not start (see $WORK/mosquitto.out)"
say "mosquitto pid $BROKER_PID: TLS 1.3 on $BROKER_PORT, plain on $BROKER_PLAIN"

RSA_SUITE=ECDHE-RSA-AES128-GCM-SHA256
EC_SUITE=ECDHE-ECDSA-AES128-GCM-SHA256
DEV_GROUPS=${BENCH_GROUPS:-P-256}

# Loadgen arguments for the device leg (TLS 1.2) and for the broker.
dev_args() { echo "--tls12 --groups $DEV_GROUPS --sni gw.demo.lan --cipher $1"; }
direct_args() { echo "--tls13 --sni broker.demo.lan"; }

# ----------------------------------------------------------------------
# the gateways: gw_start ID sets GW_PID, GW_PORT_RSA, GW_PORT_EC, GW_LOG

gw_start() {
	local id=$1 i p pm dir
	GW_LOG=$WORK/$id.log
	: >"$GW_LOG"
	case $id in
	tlsgw*)
		i=${id#tlsgw}
		dir=$WORK/$id
		p=$(free_port)
		mkdir -p "$dir/policies"
		cat >"$dir/tlsgw.ini" <<EOF
[gateway]
policy_dir = policies
workers = 1
log_level = info
max_connections = 20000
; the load generator is one address: no per-address limits here
max_connections_per_source = 0
handshakes_per_source = 0
handshake_timeout = 30
idle_timeout = 0
EOF
		cat >"$dir/policies/bench.ini" <<EOF
[listen]
address = 127.0.0.1:$p

[device]
cert = $PKI/gw-rsa.crt
key = $PKI/gw-rsa.key
cert_ecdsa = $PKI/gw-ec.crt
key_ecdsa = $PKI/gw-ec.key
suites = compat
min_version = 1.2

[upstream]
host = 127.0.0.1
port = $BROKER_PORT
sni = broker.demo.lan
ca = $PKI/ca.crt
min_version = 1.3
EOF
		"${TG_BIN[$i]}" -f -c "$dir/tlsgw.ini" >"$GW_LOG" 2>&1 &
		GW_PID=$!
		GW_PORT_RSA=$p GW_PORT_EC=$p
		;;
	haproxy)
		p=$(free_port)
		cat >"$WORK/haproxy.cfg" <<EOF
global
    nbthread 1
    maxconn 9000
    log stdout format raw local0 info

defaults
    mode tcp
    log global
    log-format "%ci:%cp fe=%[ssl_fc_protocol] suite=%[ssl_fc_cipher] bytes=%B %Tt %ts"
    timeout connect 5s
    timeout client 1h
    timeout server 1h

frontend devices
    bind 127.0.0.1:$p ssl crt $PKI/hap-rsa.pem crt $PKI/hap-ec.pem ssl-min-ver TLSv1.2
    default_backend broker

backend broker
    server mosquitto 127.0.0.1:$BROKER_PORT ssl verify required ca-file $PKI/ca.crt sni str(broker.demo.lan) verifyhost broker.demo.lan ssl-min-ver TLSv1.3
EOF
		haproxy -db -f "$WORK/haproxy.cfg" >"$GW_LOG" 2>&1 &
		GW_PID=$!
		GW_PORT_RSA=$p GW_PORT_EC=$p
		;;
	stunnel)
		p=$(free_port)
		GW_PORT_EC=$(free_port)
		pm=$(free_port)
		# stunnel terminates or originates TLS per service, not both:
		# two device services (one certificate each: stunnel takes one
		# per service) hand plain bytes over 127.0.0.1:$pm to a client
		# service that speaks verified TLS 1.3 to the broker.
		cat >"$WORK/stunnel.conf" <<EOF
foreground = yes
pid =
syslog = no
debug = 4
output = $GW_LOG

[dev-rsa]
accept = 127.0.0.1:$p
connect = 127.0.0.1:$pm
cert = $PKI/gw-rsa.crt
key = $PKI/gw-rsa.key
sslVersionMin = TLSv1.2

[dev-ecdsa]
accept = 127.0.0.1:$GW_PORT_EC
connect = 127.0.0.1:$pm
cert = $PKI/gw-ec.crt
key = $PKI/gw-ec.key
sslVersionMin = TLSv1.2

[upstream]
client = yes
accept = 127.0.0.1:$pm
connect = 127.0.0.1:$BROKER_PORT
sni = broker.demo.lan
verifyChain = yes
CAfile = $PKI/ca.crt
checkHost = broker.demo.lan
sslVersionMin = TLSv1.3
EOF
		"$STUNNEL" "$WORK/stunnel.conf" >>"$WORK/stunnel.out" 2>&1 &
		GW_PID=$!
		GW_PORT_RSA=$p
		wait_port "$pm" $GW_PID || die "stunnel did not listen on $pm (see $GW_LOG)"
		;;
	esac
	track $GW_PID
	wait_port "$GW_PORT_RSA" $GW_PID && wait_port "$GW_PORT_EC" $GW_PID ||
		die "$id did not start listening (see $GW_LOG)"
}

gw_stop() { stop_pid "$GW_PID"; }

# Run the loadgen in the foreground, bounded; output in $WORK/$1.out.
lg() {
	local name=$1 t=$2
	shift 2
	timeout -s TERM "$t" "$LOADGEN" "$@" >"$WORK/$name.out" 2>"$WORK/$name.err" || true
	cat "$WORK/$name.out"
}

# A few full sessions of each kind so that lazy set-up (caches, tickets,
# fixed-point tables, allocator arenas) is done before a measurement.
warmup() {
	local port_rsa=$1 port_ec=$2 tag=$3
	# shellcheck disable=SC2046
	lg "$tag-warm-rsa" 60 hs --port "$port_rsa" $(dev_args $RSA_SUITE) \
		--until connack --seconds 0.7 --parallel 4 >/dev/null
	# shellcheck disable=SC2046
	lg "$tag-warm-ec" 60 hs --port "$port_ec" $(dev_args $EC_SUITE) \
		--until connack --seconds 0.7 --parallel 4 >/dev/null
	sleep 0.5
}

# idle_point ID PID PORT N ARGS...: RSS per idle connection (KB) after
# CONNACK, with N connections held.  Sets put ID.rssN, ID.rssN_ok.
idle_point() {
	local id=$1 pid=$2 port=$3 n=$4 rss0 rss1 lgpid out i ok dropped
	shift 4
	out=$WORK/$id-idle$n.out
	: >"$out"
	rss0=$(rss_kb "$pid")
	"$LOADGEN" idle --port "$port" "$@" --conns "$n" --parallel 32 \
		--hold 400 --tag "$id" >"$out" 2>"$out.err" &
	lgpid=$!
	track $lgpid
	for i in $(seq 1 1800); do
		grep -q '^READY' "$out" && break
		alive $lgpid || break
		sleep 0.1
	done
	sleep 1.5
	ok=$(sed -n 's/^READY ok=\([0-9]*\).*/\1/p' "$out")
	rss1=$(rss_kb "$pid")
	stop_pid $lgpid
	dropped=$(sed -n 's/^HOLD dropped=//p' "$out")
	if [ -z "$ok" ] || [ "$ok" -eq 0 ]; then
		say "  $id idle $n: no connection came up (see $out)"
		put "$id.rss$n" -
		return
	fi
	put "$id.rss$n" "$(calc "($rss1 - $rss0) / $ok" 1)"
	put "$id.rss${n}_ok" "$ok"
	put "$id.rss${n}_total" "$rss1"
	say "  $id idle: $ok/$n held ($(sed -n 's/^READY.*secs=//p' "$out") s to open, ${dropped:-?} dropped): RSS $rss0 -> $rss1 KB = $(get "$id.rss$n") KB each"
}

# rate_point ID PID KEY REP ARGS...: gateway CPU per unit of work (ms)
# in RATE_RES ("-" when nothing completed).
rate_point() {
	local id=$1 pid=$2 key=$3 rep=$4 c0 c1 ok fail lines0 lines1 res
	shift 4
	c0=$(cpu_ticks "$pid")
	lines0=$(wc -l <"$GW_LOG")
	lg "$id-$key-$rep" $((${SECS%.*} + 30)) "$@" >/dev/null
	sleep 0.4
	c1=$(cpu_ticks "$pid")
	lines1=$(wc -l <"$GW_LOG")
	ok=$(sed -n 's/^DONE ok=\([0-9]*\).*/\1/p' "$WORK/$id-$key-$rep.out")
	fail=$(sed -n 's/^DONE ok=[0-9]* fail=\([0-9]*\).*/\1/p' "$WORK/$id-$key-$rep.out")
	if [ -z "$ok" ] || [ "$ok" -eq 0 ]; then
		say "  $id $key rep $rep: nothing completed (see $WORK/$id-$key-$rep.*)"
		RATE_RES=-
		return
	fi
	res=$(calc "($c1 - $c0) * 1000 / $CLK_TCK / $ok" 3)
	RATE_RES=$res
	{
		echo "$id $key rep $rep: ok=$ok fail=$fail cpu_ticks=$((c1 - c0)) ms_per_unit=$res"
		# tlsgw's close lines: resumed=yes|no, and failures.
		sed -n "$((lines0 + 1)),${lines1}p" "$GW_LOG" |
			awk '/resumed=yes/ {y++} /resumed=no/ {n++} /failed/ {f++}
			END { if (y + n + f) printf "  gateway log: resumed=yes %d, resumed=no %d, failure lines %d\n", y, n, f }'
	} >>"$WORK/rates.log"
	R["$id.$key.fail"]=$((${R["$id.$key.fail"]:-0} + fail))
	R["$id.$key.ok"]=$((${R["$id.$key.ok"]:-0} + ok))
}

# rates ID PID: the four handshake/session phases, REPS times each.
rates() {
	local id=$1 pid=$2 key cipher until port r vals v
	for key in hs_rsa hs_ec sess_rsa sess_ec; do
		case $key in
		*_rsa) cipher=$RSA_SUITE port=$GW_PORT_RSA ;;
		*) cipher=$EC_SUITE port=$GW_PORT_EC ;;
		esac
		case $key in
		hs_*) until=handshake ;;
		*) until=connack ;;
		esac
		vals=()
		for r in $(seq 1 "$REPS"); do
			# shellcheck disable=SC2046
			rate_point "$id" "$pid" "$key" "$r" hs --port "$port" \
				$(dev_args "$cipher") --until "$until" \
				--seconds "$SECS" --parallel 8 --tag "$id"
			vals+=("$RATE_RES")
		done
		put "$id.$key" "$(median "${vals[@]}")"
		put "$id.$key.all" "${vals[*]}"
		put "$id.$key.ok" "${R["$id.$key.ok"]:-0}"
		put "$id.$key.fail" "${R["$id.$key.fail"]:-0}"
		say "  $id $key: ${vals[*]} ms CPU per unit (median $(get "$id.$key"); ok ${R["$id.$key.ok"]:-0}, failed ${R["$id.$key.fail"]:-0})"
	done
}

# latency ID PORT ARGS...: publish-to-receive through PORT, subscriber
# straight on the broker's plain listener.
latency() {
	local id=$1 port=$2 out rt=
	shift 2
	[ "$RT" = yes ] && rt="chrt -f 1"
	rt_set "$RT_PIDS" -f 1
	# shellcheck disable=SC2086
	$rt timeout -s TERM 60 "$LOADGEN" lat --port "$port" "$@" \
		--sub-port "$BROKER_PLAIN" --count "$LAT_COUNT" --interval-us 1000 \
		--size 64 --warmup 200 --tag "$id" >"$WORK/$id-lat.out" \
		2>"$WORK/$id-lat.err" || true
	rt_set "$RT_PIDS" -o 0
	out=$WORK/$id-lat.out
	put "$id.lat_p50" "$(sed -n 's/^LAT.* p50=\([0-9.]*\).*/\1/p' "$out")"
	put "$id.lat_p99" "$(sed -n 's/^LAT.* p99=\([0-9.]*\).*/\1/p' "$out")"
	put "$id.lat_lost" "$(sed -n 's/^LAT.* lost=\([0-9]*\).*/\1/p' "$out")"
	if grep -q '^DELTA' "$out"; then
		put "$id.lat_direct" "$(sed -n 's/^REF.* p50=\([0-9.]*\).* p99=\([0-9.]*\).*/\1 \/ \2/p' "$out")"
		put "$id.lat_dp50" "$(sed -n 's/^DELTA p50=\([-0-9.]*\).*/\1/p' "$out")"
		put "$id.lat_dp99" "$(sed -n 's/^DELTA.* p99=\([-0-9.]*\).*/\1/p' "$out")"
	fi
	say "  $id latency: $(tr '\n' ' ' <"$out")"
}

# throughput ID PID PORT ARGS...: QoS 0 publishes of 32 KB through PORT;
# MB relayed per CPU second of PID.
throughput() {
	local id=$1 pid=$2 port=$3 r c0 c1 out mb vals=() rates=()
	shift 3
	for r in $(seq 1 "$REPS"); do
		out=$WORK/$id-tput-$r.out
		c0=$(cpu_ticks "$pid")
		lg "$id-tput-$r" $((${SECS%.*} + 30)) tput --port "$port" "$@" \
			--sub-port "$BROKER_PLAIN" --seconds "$SECS" --size 32768 \
			--tag "$id" >/dev/null
		c1=$(cpu_ticks "$pid")
		mb=$(sed -n 's/^TPUT.* sub_bytes=\([0-9]*\).*/\1/p' "$out")
		if [ -z "$mb" ] || [ "$c1" -eq "$c0" ]; then
			vals+=(-)
			rates+=(-)
			continue
		fi
		vals+=("$(calc "$mb / 1e6 / (($c1 - $c0) / $CLK_TCK)" 1)")
		rates+=("$(sed -n 's/^TPUT.* MBps=\([0-9.]*\).*/\1/p' "$out")")
		echo "$id tput rep $r: $(cat "$out") cpu_ticks=$((c1 - c0))" >>"$WORK/rates.log"
	done
	put "$id.tput_core" "$(median "${vals[@]}")"
	put "$id.tput_rate" "$(median "${rates[@]}")"
	put "$id.tput_core.all" "${vals[*]}"
	say "  $id throughput: ${rates[*]} MB/s end to end; ${vals[*]} MB per CPU second (median $(get "$id.tput_core"))"
}

# rt_set "PIDS" -f 1 | -o 0: scheduling policy of every thread of PIDS.
rt_set() {
	local p
	[ "$RT" = yes ] || return 0
	for p in $1; do
		chrt -a "$2" -p "$3" "$p" >/dev/null 2>&1 || true
	done
}
RT_PIDS=

# resume_check ID PORT: a pcap of the broker's port during one second of
# full sessions (not a measured phase): did the gateway offer TLS 1.3
# tickets upstream, did the broker take them, were tickets reused?
resume_check() {
	local id=$1 port=$2 td
	if ! command -v tcpdump >/dev/null 2>&1 || ! command -v python3 >/dev/null 2>&1; then
		put "$id.resume" "not checked (needs tcpdump, python3)"
		return
	fi
	tcpdump -i lo -s 0 -U -w "$WORK/$id-resume.pcap" "tcp port $BROKER_PORT" \
		>"$WORK/$id-tcpdump.log" 2>&1 &
	td=$!
	track $td
	sleep 0.7
	# shellcheck disable=SC2046
	lg "$id-resume" 30 hs --port "$port" $(dev_args $RSA_SUITE) \
		--until connack --seconds 1 --parallel 4 --tag "$id" >/dev/null
	sleep 0.5
	stop_pid $td
	python3 "$BENCH_DIR/tls13scan.py" "$WORK/$id-resume.pcap" "$BROKER_PORT" \
		>"$WORK/$id-resume.txt" 2>&1 || true
	put "$id.resume_raw" "$(cat "$WORK/$id-resume.txt")"
	put "$id.resume" "$(awk '{ for (i = 1; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] }
		printf "%d/%d resumed, %d refused, %d tickets reused", v["resumed"], v["hellos"], v["refused"], v["identities_reused"] }' "$WORK/$id-resume.txt")"
	say "  $id upstream resumption: $(get "$id.resume")"
}

LAT_COUNT=2000
[ "$QUICK" = 1 ] && LAT_COUNT=500

# ----------------------------------------------------------------------
# the direct baseline: Mosquitto alone, devices speaking TLS 1.3 to it

direct_latency() {
	RT_PIDS=$BROKER_PID
	# shellcheck disable=SC2046
	latency "$1" "$BROKER_PORT" $(direct_args)
}

if want direct; then
	say "direct: Mosquitto $BROKER_PORT"
	for n in 200 1000; do
		# shellcheck disable=SC2046
		idle_point direct $BROKER_PID "$BROKER_PORT" $n $(direct_args)
		sleep 1
	done
	vals=()
	for r in $(seq 1 "$REPS"); do
		# shellcheck disable=SC2046
		GW_LOG=$WORK/mosquitto.log rate_point direct $BROKER_PID sess_tls13 "$r" hs \
			--port "$BROKER_PORT" $(direct_args) --until connack \
			--seconds "$SECS" --parallel 8 --tag direct
		vals+=("$RATE_RES")
	done
	put direct.sess_tls13 "$(median "${vals[@]}")"
	say "  direct: broker CPU per TLS 1.3 session ${vals[*]} ms"
	direct_latency direct
	# shellcheck disable=SC2046
	throughput direct $BROKER_PID "$BROKER_PORT" $(direct_args)
fi

# ----------------------------------------------------------------------
# each gateway

GATEWAYS=()
if want tlsgw; then
	GATEWAYS+=("${TG_ID[@]}")
fi
want haproxy && GATEWAYS+=(haproxy)
want stunnel && GATEWAYS+=(stunnel)

# Largest idle point for tlsgw: two fds per connection plus a few.
BIG_N=$BIG
if [ "$BIG_N" -gt 0 ] && [ $((2 * BIG_N + 40)) -gt "$NOFILE" ]; then
	BIG_N=$(((NOFILE - 40) / 2 / 100 * 100))
	say "fd limit $NOFILE (hard $(ulimit -Hn)): the large point is $BIG_N connections, not $BIG"
fi
put big_n "$BIG_N"

for id in "${GATEWAYS[@]}"; do
	say "gateway $id"
	points="200 1000"
	case $id in tlsgw*) [ "$BIG_N" -gt 0 ] && points="$points $BIG_N" ;; esac
	for n in $points; do
		gw_start "$id"
		warmup "$GW_PORT_RSA" "$GW_PORT_EC" "$id-idle$n"
		# shellcheck disable=SC2046
		idle_point "$id" $GW_PID "$GW_PORT_EC" "$n" $(dev_args $EC_SUITE)
		gw_stop
	done
	gw_start "$id"
	warmup "$GW_PORT_RSA" "$GW_PORT_EC" "$id"
	put "$id.rss_base" "$(rss_kb $GW_PID)"
	rates "$id" $GW_PID
	resume_check "$id" "$GW_PORT_RSA"
	# Through the gateway, interleaved with a publisher straight to the
	# broker (the reference), so both see the same machine load.
	RT_PIDS="$BROKER_PID $GW_PID"
	# shellcheck disable=SC2046
	latency "$id" "$GW_PORT_RSA" $(dev_args $RSA_SUITE) \
		--ref-port "$BROKER_PORT" --ref-sni broker.demo.lan
	# shellcheck disable=SC2046
	throughput "$id" $GW_PID "$GW_PORT_RSA" $(dev_args $RSA_SUITE)
	put "$id.rss_after" "$(rss_kb $GW_PID)"
	gw_stop
	if grep -qiE 'error|fail|alert' "$GW_LOG" 2>/dev/null; then
		grep -iE 'error|fail|alert' "$GW_LOG" | sort | uniq -c | sort -rn | head -n 5 \
			>"$WORK/$id.errors"
	fi
done

# ----------------------------------------------------------------------
# the crypto bound: what the CPU can do at best

say "crypto bound: openssl speed"
openssl speed -seconds 1 rsa2048 ecdsap256 ecdhp256 ecdhx25519 \
	>"$WORK/openssl-speed.txt" 2>/dev/null || true
openssl speed -seconds 1 -evp aes-128-gcm >>"$WORK/openssl-speed.txt" 2>/dev/null || true
OSSL_RSA=$(awk '/^rsa 2048 bits/ {print 1000 / $6}' "$WORK/openssl-speed.txt")
OSSL_ECDSA=$(awk '/ecdsa \(nistp256\)/ {print 1000 / $(NF-1)}' "$WORK/openssl-speed.txt")
OSSL_ECDH=$(awk '/ecdh \(nistp256\)/ {print 1000 / $NF}' "$WORK/openssl-speed.txt")
OSSL_X25519=$(awk '/ecdh \(X25519\)/ {print 1000 / $NF}' "$WORK/openssl-speed.txt")
OSSL_GCM=$(awk '/^AES-128-GCM/ {v = $NF; sub(/k$/, "", v); print v / 1000}' "$WORK/openssl-speed.txt")
put ossl.rsa_sign_ms "$(calc "$OSSL_RSA" 3)"
put ossl.ecdsa_sign_ms "$(calc "$OSSL_ECDSA" 3)"
put ossl.ecdh_ms "$(calc "$OSSL_ECDH" 3)"
put ossl.x25519_ms "$(calc "$OSSL_X25519" 3)"
put ossl.gcm_MBps "$(calc "$OSSL_GCM" 0)"
for i in "${!TG_ID[@]}"; do
	id=${TG_ID[$i]}
	[ -x "$BIN/wolfspeed$i" ] || continue
	say "crypto bound: wolfSSL of $id"
	"$BIN/wolfspeed$i" "$PKI/gw-rsa.key" 0.5 >"$WORK/wolfspeed$i.txt" 2>&1 || true
	w() { awk -v k="$1" '$1 == k {print $2 / 1000}' "$WORK/wolfspeed$i.txt"; }
	put "$id.w_rsa_sign_ms" "$(calc "$(w rsa2048_sign)" 3)"
	put "$id.w_ecdsa_sign_ms" "$(calc "$(w ecdsa_p256_sign)" 3)"
	put "$id.w_ecdh_ms" "$(calc "$(w ecdhe_p256_full)" 3)"
	put "$id.w_x25519_ms" "$(calc "$(w ecdhe_x25519_full)" 3)"
	put "$id.w_ecdsa_verify_ms" "$(calc "$(w ecdsa_p256_verify)" 3)"
	put "$id.w_rsa_verify_ms" "$(calc "$(w rsa2048_verify)" 3)"
	put "$id.w_gcm_MBps" "$(awk '$1 == "aes128gcm_16k_enc" {printf "%.0f", $4}' "$WORK/wolfspeed$i.txt")"
done

# ----------------------------------------------------------------------
# profiles of tlsgw (and HAProxy for comparison) with perf, when it works

PERF_OK=0
if [ "$PROFILE" = 1 ] && command -v perf >/dev/null 2>&1 &&
	perf record -e cpu-clock -o "$WORK/perf.probe" -- true >/dev/null 2>&1; then
	PERF_OK=1
fi
profile() {
	local id=$1 key=$2 f=$WORK/perf-$1-$2.data perfpid
	shift 2
	# perf stops by itself when its `sleep` ends.
	perf record -e cpu-clock -F 2000 -p "$GW_PID" -o "$f" -- \
		sleep "$(calc "$SECS + 0.3" 1)" >"$f.log" 2>&1 &
	perfpid=$!
	track $perfpid
	sleep 0.2
	lg "$id-prof-$key" 60 "$@" >/dev/null
	wait $perfpid 2>/dev/null || true
	{
		echo "by object:"
		perf report -i "$f" --stdio --no-children --sort dso 2>/dev/null |
			grep -E '^ +[0-9]' | head -n 6
		echo "by symbol:"
		perf report -i "$f" --stdio --no-children --sort dso,sym 2>/dev/null |
			grep -E '^ +[0-9]' | head -n 16
	} >"$WORK/prof-$id-$key.txt" 2>&1 || true
}
if [ "$PERF_OK" = 1 ]; then
	for id in "${GATEWAYS[@]}"; do
		case $id in tlsgw*|haproxy) ;; *) continue ;; esac
		say "profile $id (perf record -e cpu-clock)"
		gw_start "$id"
		warmup "$GW_PORT_RSA" "$GW_PORT_EC" "$id-prof"
		# shellcheck disable=SC2046
		profile "$id" hs_rsa hs --port "$GW_PORT_RSA" $(dev_args $RSA_SUITE) \
			--until handshake --seconds "$SECS" --parallel 8
		# shellcheck disable=SC2046
		profile "$id" sess_ec hs --port "$GW_PORT_EC" $(dev_args $EC_SUITE) \
			--until connack --seconds "$SECS" --parallel 8
		# shellcheck disable=SC2046
		profile "$id" tput tput --port "$GW_PORT_RSA" $(dev_args $RSA_SUITE) \
			--sub-port "$BROKER_PLAIN" --seconds "$SECS" --size 32768
		gw_stop
	done
fi

T_END=$(date +%s)
LOAD_END=$(cut -d' ' -f1-3 /proc/loadavg)
put elapsed_s $((T_END - T_START))
say "measurements done in $((T_END - T_START)) s; writing $OUT"

# ----------------------------------------------------------------------
# RESULTS.md

pkgver() { dpkg-query -W -f='${Version}' "$1" 2>/dev/null || echo "not installed"; }

ratio() { # value, reference -> value/reference, or -
	case "$1$2" in *-*|'') echo - ;; *) awk -v a="$1" -v b="$2" 'BEGIN { if (b == 0) print "-"; else printf "%.2f", a / b }' ;; esac
}
# verdict RATIO OP LIMIT -> "met (0.62x)" / "missed (1.80x)"
verdict() {
	local r=$1 op=$2 lim=$3
	[ "$r" = - ] && { echo "not measured"; return; }
	if awk -v r="$r" -v l="$lim" -v op="$op" 'BEGIN { exit !((op == "le" && r <= l) || (op == "ge" && r >= l)) }'; then
		echo "**met**"
	else
		echo "**missed**"
	fi
}

COLS=()
want direct && COLS+=(direct)
COLS+=("${GATEWAYS[@]}")
colname() {
	local i
	case $1 in
	direct) echo "Mosquitto direct" ;;
	haproxy) echo "HAProxy $(pkgver haproxy | cut -d- -f1)" ;;
	stunnel) echo "stunnel $(pkgver stunnel4 | sed 's/^[0-9]*://; s/-.*//')" ;;
	tlsgw*) i=${1#tlsgw}; echo "${TG_LABEL[$i]}" ;;
	esac
}
row() { # title key [suffix]
	local title=$1 key=$2 c line
	line="| $title |"
	for c in "${COLS[@]}"; do
		line="$line $(get "$c.$key") |"
	done
	echo "$line"
}

{
	echo "# bench/RESULTS.md"
	echo
	echo "Generated by \`bench/run.sh\` on $(date -u '+%Y-%m-%d %H:%M UTC') in $(get elapsed_s) s."
	echo "Every number below comes from that one run; the raw per-repetition"
	echo "values are in the work directory's \`results.tsv\` and \`rates.log\` (kept with \`--keep\`)."
	echo
	echo "## Command"
	echo
	echo '```'
	echo "$CMDLINE"
	echo '```'
	echo
	echo "## Machine"
	echo
	echo "- CPU: $(lscpu | sed -n 's/^Model name: *//p' | head -n 1), $(nproc) cores ($(lscpu | sed -n 's/^Hypervisor vendor: *//p' | head -n 1 | sed 's/^\(.\)/virtual, \1/')); flags include $(grep -o -w -E 'aes|avx2|sha_ni|vaes' /proc/cpuinfo | sort -u | tr '\n' ' ')"
	echo "- RAM: $(awk '/MemTotal/ {printf "%.1f GiB", $2 / 1048576}' /proc/meminfo); kernel $(uname -r); Debian $(cat /etc/debian_version)"
	echo "- fd limit: $NOFILE (hard $(ulimit -Hn)); loopback only; load generator, broker and gateway share the $(nproc) cores"
	echo "- Load average (1, 5, 15 min) at the start: $LOAD_START; at the end: $LOAD_END (other work on the machine counts here); bench processes at nice -20: $NICE; latency phase at SCHED_FIFO 1: $RT"
	echo "- Packages: haproxy $(pkgver haproxy), stunnel4 $(pkgver stunnel4), mosquitto $(pkgver mosquitto), libssl3 $(pkgver libssl3) (HAProxy, stunnel, Mosquitto and the load generator), libwolfssl35 $(pkgver libwolfssl35), libevent-2.1-7 $(pkgver libevent-2.1-7)"
	for i in "${!TG_ID[@]}"; do
		echo "- ${TG_ID[$i]} = ${TG_LABEL[$i]}: \`${TG_BIN[$i]}\` ($("${TG_BIN[$i]}" --version 2>&1 | head -n 1); ${TG_LIB[$i]})"
	done
	echo
	cat <<'EOT'
## What each number means

- **Setup.** One Mosquitto (TLS 1.3-only listener with an ECDSA P-256
  certificate from `deploy/demo-pki.sh`, plus a plain listener) is the
  broker for every column. Each gateway takes device TLS 1.2 on 127.0.0.1
  (RSA-2048 and ECDSA P-256 certificates for `gw.demo.lan`) and forwards
  over TLS 1.3 to Mosquitto, verifying its certificate against the demo
  CA for the name `broker.demo.lan`. tlsgw: one policy (`suites = compat`),
  `workers = 1`, `log_level = info` (one close line per connection).
  HAProxy: `mode tcp`, `nbthread 1`, `bind ... ssl crt rsa.pem crt ecdsa.pem`,
  `server ... ssl verify required ca-file ... sni str(broker.demo.lan)
  ssl-min-ver TLSv1.3`, one log line per connection. stunnel cannot
  terminate and originate TLS in one service: two device services (one
  certificate each, so RSA and ECDSA devices use two ports) pass plain
  bytes over a local port to a `client = yes` service with `verifyChain`,
  `checkHost` and `sslVersionMin = TLSv1.3`; `debug = 4`. Configurations
  are in the work directory (`--keep`).
- **Load client** (`bench/loadgen.c`, OpenSSL, one epoll thread): TLS 1.2
  with `ECDHE-RSA-AES128-GCM-SHA256` or `ECDHE-ECDSA-AES128-GCM-SHA256`
  (which picks the certificate), group P-256 (what every device has; set
  `BENCH_GROUPS=X25519` to change), SNI `gw.demo.lan`, no session cache and
  no tickets (every device handshake is a full one), no verification on
  the client (it costs the gateways nothing). MQTT 3.1.1 CONNECT with a
  clean session and keep-alive 0.
- **(a) RSS per idle connection**: a fresh gateway process, a short warm-up
  (0.7 s of full sessions of each kind, so caches and allocator arenas
  exist), then VmRSS before and 1.5 s after N connections (ECDSA device
  certificate) have each finished the device handshake, the upstream
  handshake and CONNECT/CONNACK; (after − before) / N. User-space memory
  only: kernel socket buffers are not in RSS. The large point is limited
  by the fd limit (two sockets per connection).
- **(b) CPU per handshake / session**: utime + stime of the gateway process
  (`/proc/PID/stat`, all threads, 1/CLK_TCK resolution) over a phase of
  `--seconds`, divided by the units the client completed; 8 in flight.
  *Device handshake*: TCP connect, full TLS 1.2 handshake, close_notify,
  close. Whatever the gateway starts upstream meanwhile is included (tlsgw
  starts the upstream leg in parallel as soon as the ClientHello is
  parsed). *Full session*: the same plus CONNECT → upstream → CONNACK,
  DISCONNECT, close: everything a device costs from connect to close.
  Failed units are not counted as units but their CPU is. The resumption
  row comes from a pcap of the broker port during one more second of
  sessions (`bench/tls13scan.py`): hellos that offered a ticket and got
  a ServerHello with pre_shared_key, out of all hellos; refused = the
  broker answered the ticket with an alert.
- **(c) Latency**: a subscriber on Mosquitto's plain listener, a publisher
  through the gateway (TLS 1.2, RSA certificate); QoS 0, 64-byte payloads
  carrying the send time (CLOCK_MONOTONIC), one every millisecond, 200
  warm-up messages then 2,000 measured. In the same run a second
  publisher speaks TLS 1.3 straight to Mosquitto, taking turns with the
  first (0.5 ms apart, same topic and subscriber): that is *direct*, and
  Δ = gateway − direct percentiles, so the broker's cost and the
  machine's load at that moment cancel. The
  broker, the gateway and the client run at SCHED_FIFO 1 during this
  phase (the machine is shared); everything else at nice −20.
- **(d) Relay throughput per core**: the publisher sends 32 KB QoS 0
  PUBLISHes through the gateway as fast as TLS lets it for `--seconds`; the
  subscriber reads them from the broker's plain listener; bytes received
  divided by the gateway's CPU seconds in that time. The end-to-end rate is
  shown too but depends on the broker and the client, which share the
  cores; the per-CPU-second figure does not.
- **(e) Crypto bound**: single-core CPU time of the primitives a full
  device handshake and each relayed byte cannot avoid, from `openssl speed`
  (user CPU time) and `bench/wolfspeed.c` (process CPU time), so the
  measured CPU can be read as "crypto + everything else".
- Medians: each rate row is the median of `--reps` repetitions; latency
  percentiles are over all measured messages.

EOT
	echo "## Results (medians of $REPS repetitions of ${SECS} s for the rate rows)"
	echo
	line="| |"
	sep="|---|"
	for c in "${COLS[@]}"; do
		line="$line $(colname "$c") |"
		sep="$sep---|"
	done
	echo "$line"
	echo "$sep"
	row "(a) RSS per idle connection, 200 conns (KB)" rss200
	row "(a) RSS per idle connection, 1,000 conns (KB)" rss1000
	if [ "$BIG_N" -gt 0 ]; then
		row "(a) RSS per idle connection, $BIG_N conns (KB)" "rss$BIG_N"
	fi
	row "(a) process RSS with 1,000 conns held (KB)" rss1000_total
	[ "$BIG_N" -gt 0 ] && row "(a) process RSS with $BIG_N conns held (KB)" "rss${BIG_N}_total"
	row "(b) CPU per device handshake, RSA-2048 (ms)" hs_rsa
	row "(b) CPU per device handshake, ECDSA P-256 (ms)" hs_ec
	row "(b) CPU per full session, RSA device cert (ms)" sess_rsa
	row "(b) CPU per full session, ECDSA device cert (ms)" sess_ec
	row "(b) upstream TLS 1.3 resumption (pcap of 1 s of sessions)" resume
	row "(b) broker CPU per direct TLS 1.3 session (ms)" sess_tls13
	row "(c) publish-to-receive p50 / p99 direct, interleaved with the gateway's (µs)" lat_direct
	row "(c) publish-to-receive p50 (µs)" lat_p50
	row "(c) publish-to-receive p99 (µs)" lat_p99
	row "(c) added latency Δp50 (µs)" lat_dp50
	row "(c) added latency Δp99 (µs)" lat_dp99
	row "(d) relay throughput per core (MB per CPU-second)" tput_core
	row "(d) end-to-end rate in this run (MB/s, not a gateway figure)" tput_rate
	echo
	echo "Failed units (handshakes/sessions that did not complete), per phase:"
	for c in "${GATEWAYS[@]}"; do
		echo "$c: hs_rsa $(get "$c.hs_rsa.fail"), hs_ec $(get "$c.hs_ec.fail"), sess_rsa $(get "$c.sess_rsa.fail"), sess_ec $(get "$c.sess_ec.fail") (completed: $(get "$c.hs_rsa.ok"), $(get "$c.hs_ec.ok"), $(get "$c.sess_rsa.ok"), $(get "$c.sess_ec.ok"))."
	done
	echo
	echo "## (e) The crypto bound"
	echo
	echo "Single-core cost of the operations a gateway cannot avoid (ms per operation; AES-GCM in MB/s on 16 KB blocks)."
	echo "OpenSSL from \`openssl speed\` (what HAProxy and stunnel use); wolfSSL from \`bench/wolfspeed.c\` built against each tlsgw's wolfSSL."
	echo
	line="| | OpenSSL $(pkgver libssl3) |"
	sep="|---|---|"
	for i in "${!TG_ID[@]}"; do
		line="$line wolfSSL of ${TG_ID[$i]} |"
		sep="$sep---|"
	done
	echo "$line"
	echo "$sep"
	crow() {
		local t=$1 ok=$2 wk=$3 i l
		l="| $t | $(get "ossl.$ok") |"
		for i in "${!TG_ID[@]}"; do
			l="$l $(get "${TG_ID[$i]}.$wk") |"
		done
		echo "$l"
	}
	crow "RSA-2048 sign (ms)" rsa_sign_ms w_rsa_sign_ms
	crow "ECDSA P-256 sign (ms)" ecdsa_sign_ms w_ecdsa_sign_ms
	crow "ECDHE P-256, keygen + shared secret (ms)" ecdh_ms w_ecdh_ms
	crow "ECDHE X25519, keygen + shared secret (ms)" x25519_ms w_x25519_ms
	crow "AES-128-GCM encrypt (MB/s)" gcm_MBps w_gcm_MBps
	echo
	echo "Lower bounds per unit of work implied by these (server side of the device leg only):"
	echo
	for i in "${!TG_ID[@]}"; do
		id=${TG_ID[$i]}
		[ "$(get "$id.w_rsa_sign_ms")" = - ] && continue
		echo "- $id: RSA handshake ≥ $(calc "$(get "$id.w_rsa_sign_ms") + $(get "$id.w_ecdh_ms")" 2) ms (sign + P-256 ECDHE), ECDSA handshake ≥ $(calc "$(get "$id.w_ecdsa_sign_ms") + $(get "$id.w_ecdh_ms")" 2) ms; relay ≤ $(calc "$(get "$id.w_gcm_MBps") / 2" 0) MB per CPU-second (decrypt + encrypt every byte)."
	done
	echo "- OpenSSL (HAProxy, stunnel): RSA handshake ≥ $(calc "$(get ossl.rsa_sign_ms) + $(get ossl.ecdh_ms)" 2) ms, ECDSA handshake ≥ $(calc "$(get ossl.ecdsa_sign_ms) + $(get ossl.ecdh_ms)" 2) ms; relay ≤ $(calc "$(get ossl.gcm_MBps) / 2" 0) MB per CPU-second."
	echo
	echo "## Targets"
	echo
	echo "| target | build | tlsgw | HAProxy | ratio | verdict |"
	echo "|---|---|---|---|---|---|"
	for i in "${!TG_ID[@]}"; do
		id=${TG_ID[$i]}
		lbl=${TG_LABEL[$i]}
		v=$(get "$id.rss1000")
		r=$(ratio "$v" 12)
		echo "| idle connection ≤ 12 KB RSS (1,000 conns; the target is for the lean build) | $lbl | $v KB | $(get haproxy.rss1000) KB | $r × 12 KB | $(verdict "$r" le 1) |"
		if [ "$BIG_N" -gt 0 ]; then
			v=$(get "$id.rss$BIG_N")
			r=$(ratio "$v" 12)
			echo "| idle connection ≤ 12 KB RSS ($BIG_N conns) | $lbl | $v KB | - | $r × 12 KB | $(verdict "$r" le 1) |"
		fi
		for k in hs_rsa hs_ec; do
			r=$(ratio "$(get "$id.$k")" "$(get "haproxy.$k")")
			echo "| CPU per device handshake ($k) ≤ 0.75× HAProxy | $lbl | $(get "$id.$k") ms | $(get "haproxy.$k") ms | $r | $(verdict "$r" le 0.75) |"
		done
		for k in sess_rsa sess_ec; do
			r=$(ratio "$(get "$id.$k")" "$(get "haproxy.$k")")
			echo "| CPU per full session, resumed upstream ($k) ≤ 0.5× HAProxy | $lbl | $(get "$id.$k") ms | $(get "haproxy.$k") ms | $r | $(verdict "$r" le 0.5) |"
		done
		r=$(ratio "$(get "$id.lat_dp50")" "$(get haproxy.lat_dp50)")
		echo "| added latency Δp50 ≤ 0.5× HAProxy | $lbl | $(get "$id.lat_dp50") µs | $(get haproxy.lat_dp50) µs | $r | $(verdict "$r" le 0.5) |"
		r=$(ratio "$(get "$id.tput_core")" "$(get haproxy.tput_core)")
		echo "| relay throughput per core ≥ 1.3× HAProxy | $lbl | $(get "$id.tput_core") MB/CPU-s | $(get haproxy.tput_core) MB/CPU-s | $r | $(verdict "$r" ge 1.3) |"
	done
	echo
	if [ "$PERF_OK" = 1 ]; then
		echo "## Profiles (perf record -e cpu-clock, ${SECS} s each, top symbols by self time)"
		echo
		for f in "$WORK"/prof-*.txt; do
			[ -s "$f" ] || continue
			b=$(basename "$f" .txt)
			echo "### ${b#prof-}"
			echo
			echo '```'
			sed 's/[[:space:]]*$//' "$f"
			echo '```'
			echo
		done
	else
		echo "## Profiles"
		echo
		echo "perf was not usable here (or --no-profile was given): no profile in this run."
		echo
	fi
	echo "<!-- bench/RESULTS.notes.md follows: the analysis written after the run -->"
	if [ -f "$BENCH_DIR/RESULTS.notes.md" ]; then
		cat "$BENCH_DIR/RESULTS.notes.md"
	fi
} >"$OUT"
say "wrote $OUT"
