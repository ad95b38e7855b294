#!/bin/bash
# bench/load.sh: a bounded load test of tlsgw on 127.0.0.1 (under ~6 min),
# three loads at the same time against one gateway, and bench/LOAD.md.
#
#   1. ~10,000 idle devices held through the gateway after MQTT CONNECT
#      (bench/loadgen.c idle mode; fewer when the fd limit forbids it);
#   2. a handshake flood from the same address (loadgen hs mode) for
#      --flood-seconds, which handshakes_per_source partly refuses;
#   3. --publishers devices (mosquitto_pub -l -q 1) sending --messages
#      numbered QoS 1 messages each through the gateway during the flood,
#      while a subscriber on the broker's plain listener counts them.
#
# Reports the gateway's RSS (VmRSS, VmHWM) before, with the idle devices
# and at the end, RSS per idle connection, refusals per limit (from the
# gateway's log lines and their "N more refused" counts), handshakes
# admitted and refused, messages sent/acked/received/lost, and the
# gateway's CPU time; writes them with the command and the machine to
# --out.  Exits 1 when an acked message was not received or the gateway
# died, 2 on a usage or set-up error.
#
# Usage: bash bench/load.sh [options]
#   --tlsgw PATH          tlsgw binary or build directory (default ./tlsgw)
#   --out FILE            results (default bench/LOAD.md)
#   --work DIR            work directory (default /tmp/tlsgw-load.XXXX,
#                         removed at the end unless --keep or a failure)
#   --keep                keep the work directory (logs, configs, outputs)
#   --idle N              idle devices to hold (default 10000; capped by
#                         the fd limit: the gateway needs two fds each)
#   --flood-seconds T     length of the handshake flood (default 30)
#   --flood-parallel K    flood connections in flight (default 16)
#   --publishers N        publishing devices (default 100)
#   --messages M          QoS 1 messages per publisher (default 20)
#
# The gateway is configured as the brief for this test says:
# max_connections = 12000, handshakes_per_source = 50,
# max_connections_per_source = 0, idle_timeout = 0.  Every device here
# comes from 127.0.0.1, so handshakes_per_source also paces the idle
# devices: they are opened in batches of 48 a second (just under the
# limit), which takes about N/48 seconds.
#
# Needs (Debian 12): mosquitto mosquitto-clients openssl libssl-dev gcc
# iproute2 procps.  Run as root (or with a hard fd limit of ~20,100).
# LOAD_TIMEOUT (default 360 s) bounds the whole run.  Every process is
# started in the background, recorded by PID and stopped by PID.
set -euo pipefail

BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=bench/lib.sh
. "$BENCH_DIR/lib.sh"
TOP=$(cd "$BENCH_DIR/.." && pwd)
PATH=$PATH:/usr/sbin:/sbin
export LC_ALL=C

# ----------------------------------------------------------------------
# options

TLSGW_SPEC=$TOP/tlsgw
OUT=$BENCH_DIR/LOAD.md
WORK=
KEEP=0
IDLE=10000
FLOOD_SECS=30
FLOOD_PAR=16
NPUB=100
NMSG=20
CMDLINE="bash bench/load.sh"
for a in "$@"; do
	case $a in
	*[!A-Za-z0-9_./=:,+@%-]*|'') CMDLINE="$CMDLINE '${a//\'/\'\\\'\'}'" ;;
	*) CMDLINE="$CMDLINE $a" ;;
	esac
done
[ -z "${LOAD_TIMEOUT:-}" ] || CMDLINE="LOAD_TIMEOUT=$LOAD_TIMEOUT $CMDLINE"

while [ $# -gt 0 ]; do
	case $1 in
	--tlsgw) TLSGW_SPEC=$2; shift 2 ;;
	--out) OUT=$2; shift 2 ;;
	--work) WORK=$2; shift 2 ;;
	--keep) KEEP=1; shift ;;
	--idle) IDLE=$2; shift 2 ;;
	--flood-seconds) FLOOD_SECS=$2; shift 2 ;;
	--flood-parallel) FLOOD_PAR=$2; shift 2 ;;
	--publishers) NPUB=$2; shift 2 ;;
	--messages) NMSG=$2; shift 2 ;;
	-h|--help) sed -n '2,42p' "$0"; exit 0 ;;
	*) echo "load.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
	esac
done

say() { printf '[%s] %s\n' "$(date +%H:%M:%S)" "$*"; }
die() { printf 'load.sh: %s\n' "$*" >&2; exit 2; }

for c in mosquitto mosquitto_pub mosquitto_sub openssl cc ss awk stdbuf; do
	command -v "$c" >/dev/null 2>&1 ||
		die "$c not found: apt-get install mosquitto mosquitto-clients openssl gcc iproute2 gawk"
done
[ -f /usr/include/openssl/ssl.h ] || die "OpenSSL headers missing: apt-get install libssl-dev"
if [ -d "$TLSGW_SPEC" ]; then
	TLSGW=$(cd "$TLSGW_SPEC" && pwd)/tlsgw
else
	TLSGW=$(cd "$(dirname "$TLSGW_SPEC")" && pwd)/$(basename "$TLSGW_SPEC")
fi
[ -x "$TLSGW" ] || die "no tlsgw binary at $TLSGW (build it first, or --tlsgw PATH)"

# The limits under test (fixed: they are what this test is about).
MAX_CONN=12000
HPS=50
# Idle devices are opened in batches of IDLE_BATCH every second: under
# HPS, so the token bucket (bursts of 2 x HPS) never runs dry.
IDLE_BATCH=$((HPS - 2))

# ----------------------------------------------------------------------
# work directory, processes, the end

if [ -z "$WORK" ]; then
	WORK=$(mktemp -d /tmp/tlsgw-load.XXXX)
else
	mkdir -p "$WORK"
fi
PKI=$WORK/pki
mkdir -p "$WORK/idle" "$WORK/pub"
_pids=()
IDLE_PIDS=()
PUB_PIDS=()


track() { _pids+=("$1"); }
alive() { kill -0 "$1" 2>/dev/null; }

# Many PIDs at once: TERM them all, wait until all are gone (KILL after
# 5 s), reap them.
stop_many() {
	local pid i left
	[ $# -gt 0 ] || return 0
	for pid in "$@"; do
		kill -TERM "$pid" 2>/dev/null || true
	done
	for i in $(seq 1 50); do
		left=0
		for pid in "$@"; do
			alive "$pid" && { left=1; break; }
		done
		[ "$left" = 0 ] && break
		sleep 0.1
	done
	for pid in "$@"; do
		alive "$pid" && kill -KILL "$pid" 2>/dev/null
		wait "$pid" 2>/dev/null || true
	done
	return 0
}

# A publisher is a subshell running a pipeline: stop its children (by
# their PIDs, from ps) before the subshell itself.
stop_tree() {
	local pid=$1 c
	for c in $(ps -o pid= --ppid "$pid" 2>/dev/null); do
		stop_tree "$c"
	done
	stop_pid "$pid"
}

_end() {
	local rc=$? i
	trap - EXIT INT TERM
	set +e
	[ -n "${_watchdog:-}" ] && kill "$_watchdog" 2>/dev/null && wait "$_watchdog" 2>/dev/null
	for i in "${PUB_PIDS[@]}"; do
		stop_tree "$i"
	done
	stop_many "${IDLE_PIDS[@]}"
	for ((i = ${#_pids[@]} - 1; i >= 0; i--)); do
		stop_pid "${_pids[$i]}"
	done
	if [ "$rc" -ne 0 ] || [ "$KEEP" = 1 ]; then
		echo "load.sh: work directory kept: $WORK" >&2
	else
		rm -rf "$WORK"
	fi
	exit "$rc"
}
trap _end EXIT
trap 'echo "load.sh: interrupted" >&2; exit 130' INT
trap 'echo "load.sh: stopped (time limit?)" >&2; exit 143' TERM

# The whole run is bounded: after LOAD_TIMEOUT s the script is told to
# stop, and its EXIT trap stops everything by PID.
(
	sleep "${LOAD_TIMEOUT:-360}" &
	s=$!
	trap 'kill $s 2>/dev/null; exit 0' TERM
	wait $s
	echo "load.sh: still running after ${LOAD_TIMEOUT:-360} s, stopping" >&2
	kill -TERM $$ 2>/dev/null
) &
_watchdog=$!

# As many fds as allowed (children inherit the limit): the gateway needs
# two per proxied connection.  Raising the hard limit needs
# CAP_SYS_RESOURCE, which a container's root may lack.
ulimit -Hn 65536 2>/dev/null || true
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
NOFILE=$(ulimit -n)
NOFILE_HARD=$(ulimit -Hn)

# The gateway's fds: ~16 of its own (stdio, epoll, signal pipe, listener,
# log, random), two per publisher, two per flood connection in flight,
# and a margin, so that it never runs out (EMFILE pauses accepting).
RESERVE=$((16 + 2 * NPUB + 2 * FLOOD_PAR + 64))
IDLE_N=$IDLE
if [ $((2 * IDLE_N + RESERVE)) -gt "$NOFILE" ]; then
	IDLE_N=$(((NOFILE - RESERVE) / 2 / 10 * 10))
	say "fd limit $NOFILE (hard $NOFILE_HARD): $IDLE_N idle devices, not $IDLE (the gateway needs 2 fds each + $RESERVE)"
fi
[ "$IDLE_N" -gt 0 ] || die "fd limit $NOFILE is too small for this test"

LOAD_START=$(cut -d' ' -f1-3 /proc/loadavg)
T_START=$(date +%s)
CLK_TCK=$(getconf CLK_TCK)

# ----------------------------------------------------------------------
# helpers

# utime+stime of a process (all its threads), in ticks.
cpu_ticks() { sed 's/^.*) //' "/proc/$1/stat" 2>/dev/null | awk '{print $12 + $13}'; }
status_kb() { awk -v k="$2:" '$1 == k {print $2}' "/proc/$1/status" 2>/dev/null; }
secs() { awk -v t="$1" -v h="$CLK_TCK" 'BEGIN { printf "%.2f", t / h }'; }
calc() { awk "BEGIN { printf \"%.${2:-1}f\", $1 }" 2>/dev/null || echo -; }
now_s() { date +%s.%N | cut -c1-14; }
# Established connections to a local listening port.
estab() { ss -Htn state established "( dport = :$1 )" 2>/dev/null | wc -l; }

# Gateway state at a point: RSS_<tag>, HWM_<tag>, CPU_<tag>, LINE_<tag>.
declare -A M
GW_DEAD_AT=
mark() {
	local tag=$1
	if ! alive "$GW_PID"; then
		[ -n "$GW_DEAD_AT" ] || GW_DEAD_AT=$tag
		M[rss_$tag]=- M[hwm_$tag]=- M[cpu_$tag]=-
	else
		M[rss_$tag]=$(status_kb "$GW_PID" VmRSS)
		M[hwm_$tag]=$(status_kb "$GW_PID" VmHWM)
		M[cpu_$tag]=$(cpu_ticks "$GW_PID")
	fi
	M[line_$tag]=$(wc -l <"$GW_LOG")
	M[t_$tag]=$(now_s)
	M[brss_$tag]=$(status_kb "$BROKER_PID" VmRSS)
}

# Refusals per limit in gateway log lines FROM+1..TO: "kind lines more".
refusals() {
	sed -n "$(($1 + 1)),${2}p" "$GW_LOG" | awk '
		/refused .*: max_connections_per_source \(/ { k = "max_connections_per_source" }
		/refused .*: more than handshakes_per_source / { k = "handshakes_per_source" }
		/refused .*: max_connections \([0-9]+\) reached/ { k = "max_connections" }
		/refused: policy .* serves max_connections/ { k = "policy_max_connections" }
		k != "" {
			n[k]++
			if (match($0, /\(([0-9]+) more refused/)) {
				s = substr($0, RSTART + 1); sub(/ .*/, "", s); m[k] += s
			}
			k = ""
		}
		END {
			split("max_connections max_connections_per_source handshakes_per_source policy_max_connections", ks, " ")
			for (i = 1; i <= 4; i++)
				printf "%s %d %d\n", ks[i], n[ks[i]], m[ks[i]]
		}'
}

# ----------------------------------------------------------------------
# the load client, the PKI, the broker

say "building bench/loadgen.c"
cc -O2 -Wall -o "$WORK/loadgen" "$BENCH_DIR/loadgen.c" -lssl -lcrypto
LOADGEN=$WORK/loadgen

say "demo PKI (deploy/demo-pki.sh)"
sh "$TOP/deploy/demo-pki.sh" "$PKI" >"$WORK/pki.out" 2>&1 || die "demo-pki.sh failed"

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
log_type notice
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
say "mosquitto pid $BROKER_PID: TLS 1.3 only on $BROKER_PORT, plain on $BROKER_PLAIN"

# ----------------------------------------------------------------------
# the gateway

GW_PORT=$(free_port)
mkdir -p "$WORK/gw/policies"
cat >"$WORK/gw/tlsgw.ini" <<EOF
[gateway]
policy_dir = policies
log_level = info
max_connections = $MAX_CONN
; Every device in this test comes from 127.0.0.1: a per-address cap
; (default 100) would refuse all but 100 of the idle devices.
max_connections_per_source = 0
handshakes_per_source = $HPS
idle_timeout = 0
; One process, whose memory this test reads (every device is 127.0.0.1,
; so with more workers one of them would hold them all anyway).
workers = 1
EOF
cat >"$WORK/gw/policies/load.ini" <<EOF
[listen]
address = 127.0.0.1:$GW_PORT

[device]
cert = $PKI/gw-rsa.crt
key = $PKI/gw-rsa.key
cert_ecdsa = $PKI/gw-ec.crt
key_ecdsa = $PKI/gw-ec.key
suites = compat

[upstream]
host = 127.0.0.1
port = $BROKER_PORT
sni = broker.demo.lan
ca = $PKI/ca.crt
min_version = 1.3
EOF
"$TLSGW" -t -c "$WORK/gw/tlsgw.ini" >"$WORK/tlsgw-t.out" 2>&1 ||
	die "tlsgw -t rejects the configuration: $(cat "$WORK/tlsgw-t.out")"
GW_LOG=$WORK/tlsgw.log
"$TLSGW" -f -c "$WORK/gw/tlsgw.ini" >"$GW_LOG" 2>&1 &
GW_PID=$!
track $GW_PID
for i in $(seq 1 100); do
	grep -qs 'listening on' "$GW_LOG" && break
	alive $GW_PID || die "tlsgw exited at start: $(cat "$GW_LOG")"
	sleep 0.1
done
grep -q 'listening on' "$GW_LOG" || die "tlsgw did not log 'listening on' in 10 s"
say "tlsgw pid $GW_PID on 127.0.0.1:$GW_PORT ($("$TLSGW" --version 2>&1 | head -n 1))"

# The subscriber that counts every message, on the broker's plain port.
# (stdbuf: line-buffered output, read while it runs)
stdbuf -oL mosquitto_sub -h 127.0.0.1 -p "$BROKER_PLAIN" -i load-sub -q 1 -v -d \
	-t 'load/pub/#' >"$WORK/sub.out" 2>&1 &
SUB_PID=$!
track $SUB_PID
for i in $(seq 1 100); do
	grep -qs 'received SUBACK' "$WORK/sub.out" && break
	alive $SUB_PID || die "mosquitto_sub exited: $(cat "$WORK/sub.out")"
	sleep 0.1
done
grep -q 'received SUBACK' "$WORK/sub.out" || die "mosquitto_sub did not subscribe"

sleep 1
mark before
say "gateway before: VmRSS ${M[rss_before]} KB, VmHWM ${M[hwm_before]} KB"

# ----------------------------------------------------------------------
# (1) idle devices, paced under handshakes_per_source

# Three kinds of device in turn: TLS 1.2 with the RSA certificate, TLS
# 1.2 with the ECDSA certificate, TLS 1.3.  P-256, SNI gw.demo.lan.
idle_args() {
	case $(($1 % 3)) in
	0) echo "--tls12 --cipher ECDHE-RSA-AES128-GCM-SHA256" ;;
	1) echo "--tls12 --cipher ECDHE-ECDSA-AES128-GCM-SHA256" ;;
	2) echo "--tls13" ;;
	esac
}
NBATCH=$(((IDLE_N + IDLE_BATCH - 1) / IDLE_BATCH))
HOLD=$((${LOAD_TIMEOUT:-360} + 60))
say "(1) $IDLE_N idle devices: $NBATCH batches of up to $IDLE_BATCH a second (handshakes_per_source = $HPS)"
T_IDLE0=$(now_s)
left=$IDLE_N
for b in $(seq 0 $((NBATCH - 1))); do
	n=$IDLE_BATCH
	[ "$left" -lt "$n" ] && n=$left
	left=$((left - n))
	# An absolute schedule: a late batch does not push the others.
	d=$(awk -v t0="$T_IDLE0" -v b="$b" -v now="$(now_s)" 'BEGIN { d = t0 + b - now; printf "%.3f", (d > 0 ? d : 0) }')
	sleep "$d"
	# shellcheck disable=SC2046
	"$LOADGEN" idle --port "$GW_PORT" $(idle_args "$b") --sni gw.demo.lan \
		--conns "$n" --parallel "$n" --hold "$HOLD" --tag "idle$b" \
		>"$WORK/idle/$b.out" 2>"$WORK/idle/$b.err" &
	IDLE_PIDS+=($!)
	if [ $((b % 40)) -eq 39 ]; then
		alive $GW_PID || break
		say "  $((IDLE_N - left)) opened, $(grep -h '^READY' "$WORK"/idle/*.out 2>/dev/null | wc -l) batches ready"
	fi
done
# Wait for every batch's READY line (up to 60 s after the last batch).
for i in $(seq 1 600); do
	[ "$(cat "$WORK"/idle/*.out 2>/dev/null | grep -c '^READY' || true)" -ge "$NBATCH" ] && break
	alive $GW_PID || break
	sleep 0.1
done
T_IDLE1=$(now_s)
IDLE_OK=$(cat "$WORK"/idle/*.out | awk '/^READY/ { sub(/ok=/, "", $2); s += $2 } END { print s + 0 }')
IDLE_FAIL=$(cat "$WORK"/idle/*.out | awk '/^READY/ { sub(/fail=/, "", $3); s += $3 } END { print s + 0 }')
IDLE_NOTREADY=$((NBATCH - $(cat "$WORK"/idle/*.out | grep -c '^READY' || true)))
IDLE_SECS=$(calc "$T_IDLE1 - $T_IDLE0" 1)
sleep 2
mark idle
IDLE_ESTAB=$(estab "$GW_PORT")
BROKER_ESTAB=$(estab "$BROKER_PORT")
say "  held $IDLE_OK/$IDLE_N after CONNACK in $IDLE_SECS s ($IDLE_FAIL failed attempts, $IDLE_NOTREADY batches not ready); ss: $IDLE_ESTAB device and $BROKER_ESTAB broker connections"
say "  gateway with idle devices: VmRSS ${M[rss_idle]} KB, VmHWM ${M[hwm_idle]} KB"
alive $GW_PID || say "  the gateway is gone"

# ----------------------------------------------------------------------
# (3) publishers connect, then (2) the flood and the publishing together

# Let the handshake bucket fill up again (2 s) before the publishers come.
sleep 2.5
PACE=$(calc "$FLOOD_SECS / $NMSG" 3)
PAD=$(printf '%0*d' 48 0)
TLS12_CONF=$WORK/openssl-tls12.cnf
cat >"$TLS12_CONF" <<'EOC'
openssl_conf = openssl_init
[openssl_init]
ssl_conf = ssl_sect
[ssl_sect]
system_default = system_default_sect
[system_default_sect]
MaxProtocol = TLSv1.2
CipherString = DEFAULT
EOC

# publisher K: device K publishes NMSG numbered QoS 1 messages on
# load/pub/K, one every PACE s once the flood has started (file "go").
# Odd K: TLS 1.3; even K: TLS 1.2, alternating RSA and ECDSA suites.
# A connection refused before CONNACK is tried again (up to 5 times).
publisher() {
	local k=$1 a rc env=() tls=()
	set +e
	case $((k % 4)) in
	1|3) tls=(--tls-version tlsv1.3) ;;
	0) env=(env "OPENSSL_CONF=$TLS12_CONF"); tls=(--ciphers ECDHE-RSA-AES128-GCM-SHA256) ;;
	2) env=(env "OPENSSL_CONF=$TLS12_CONF"); tls=(--ciphers ECDHE-ECDSA-AES128-GCM-SHA256) ;;
	esac
	for a in 1 2 3 4 5; do
		{
			for i in $(seq 1 200); do
				[ -e "$WORK/go" ] && break
				sleep 0.05
			done
			for i in $(seq 1 "$NMSG"); do
				printf 'pub=%d msg=%d %s\n' "$k" "$i" "$PAD"
				sleep "$PACE"
			done
		} | "${env[@]}" stdbuf -oL mosquitto_pub -d -l -q 1 -h 127.0.0.1 -p "$GW_PORT" \
			--cafile "$PKI/ca.crt" "${tls[@]}" -i "load-pub-$k" \
			-t "load/pub/$k" >"$WORK/pub/$k.out" 2>&1
		rc=${PIPESTATUS[1]}
		echo "exit=$rc attempt=$a" >>"$WORK/pub/$k.out"
		grep -q 'received CONNACK' "$WORK/pub/$k.out" && return 0
		cp "$WORK/pub/$k.out" "$WORK/pub/$k.attempt$a"
		sleep 1
	done
}

say "(3) $NPUB publishers connect ($NMSG QoS 1 messages each, one every $PACE s during the flood)"
mark pub0
for k in $(seq 1 "$NPUB"); do
	publisher "$k" &
	PUB_PIDS+=($!)
	sleep 0.02
done
for i in $(seq 1 100); do
	[ "$(grep -l 'received CONNACK' "$WORK"/pub/*.out 2>/dev/null | wc -l)" -ge "$NPUB" ] && break
	sleep 0.1
done
PUB_CONNECTED=$(grep -l 'received CONNACK' "$WORK"/pub/*.out 2>/dev/null | wc -l)
say "  $PUB_CONNECTED/$NPUB publishers connected"

say "(2) handshake flood from 127.0.0.1 for $FLOOD_SECS s ($FLOOD_PAR in flight, TLS 1.2 ECDHE-RSA, full handshakes) while the publishers publish"
mark flood0
touch "$WORK/go"
timeout -s TERM $((FLOOD_SECS + 30)) "$LOADGEN" hs --port "$GW_PORT" --tls12 \
	--cipher ECDHE-RSA-AES128-GCM-SHA256 --sni gw.demo.lan --until handshake \
	--seconds "$FLOOD_SECS" --parallel "$FLOOD_PAR" --tag flood \
	>"$WORK/flood.out" 2>"$WORK/flood.err" &
FLOOD_PID=$!
track $FLOOD_PID
wait $FLOOD_PID || true
sleep 1.2
mark flood1
FLOOD_OK=$(sed -n 's/^DONE ok=\([0-9]*\).*/\1/p' "$WORK/flood.out")
FLOOD_FAIL=$(sed -n 's/^DONE ok=[0-9]* fail=\([0-9]*\).*/\1/p' "$WORK/flood.out")
FLOOD_SECS_REAL=$(sed -n 's/^DONE.* secs=\([0-9.]*\).*/\1/p' "$WORK/flood.out")
say "  flood: ${FLOOD_OK:-?} handshakes completed, ${FLOOD_FAIL:-?} attempts failed in ${FLOOD_SECS_REAL:-?} s"

# The publishers end by themselves once every message is acked.
for i in $(seq 1 300); do
	n=0
	for p in "${PUB_PIDS[@]}"; do
		alive "$p" && n=$((n + 1))
	done
	[ "$n" -eq 0 ] && break
	sleep 0.1
done
PUB_LEFT=0
for p in "${PUB_PIDS[@]}"; do
	if alive "$p"; then
		PUB_LEFT=$((PUB_LEFT + 1))
		stop_tree "$p"
	fi
	wait "$p" 2>/dev/null || true
done
PUB_PIDS=()
mark pub1

# Sent and acked per publisher (mid N is line N: one connection each);
# received from the subscriber's output.
for k in $(seq 1 "$NPUB"); do
	f=$WORK/pub/$k.out
	[ -f "$f" ] || continue
	sed -n "s/.* sending PUBLISH (d[01], q1, r0, m\([0-9]*\),.*/$k \1/p" "$f"
done | sort -u >"$WORK/sent.txt"
for k in $(seq 1 "$NPUB"); do
	f=$WORK/pub/$k.out
	[ -f "$f" ] || continue
	sed -n "s/.* received PUBACK (Mid: \([0-9]*\), RC:0).*/$k \1/p" "$f"
done | sort -u >"$WORK/acked.txt"
recv_list() {
	sed -n 's/^load\/pub\/[0-9]* pub=\([0-9]*\) msg=\([0-9]*\) .*/\1 \2/p' "$WORK/sub.out"
}
# Wait until every acked message arrived (or 10 s).
for i in $(seq 1 100); do
	recv_list | sort -u >"$WORK/received.txt"
	[ -z "$(comm -23 "$WORK/acked.txt" "$WORK/received.txt")" ] && break
	sleep 0.1
done
recv_list | sort -u >"$WORK/received.txt"
SENT=$(wc -l <"$WORK/sent.txt")
ACKED=$(wc -l <"$WORK/acked.txt")
RECEIVED=$(wc -l <"$WORK/received.txt")
RECV_ALL=$(recv_list | wc -l)
DUPS=$((RECV_ALL - RECEIVED))
comm -23 "$WORK/acked.txt" "$WORK/received.txt" >"$WORK/lost.txt"
LOST=$(wc -l <"$WORK/lost.txt")
NOT_ACKED=$(comm -23 "$WORK/sent.txt" "$WORK/acked.txt" | wc -l)
PUB_EXIT_BAD=$(grep -h '^exit=' "$WORK"/pub/*.out | grep -vc '^exit=0 ' || true)
PUB_RETRIED=$(find "$WORK/pub" -name '*.attempt*' | sed 's/\.attempt.*//' | sort -u | wc -l)
say "  messages: $((NPUB * NMSG)) to send, $SENT sent, $ACKED acked, $RECEIVED received ($DUPS duplicates), $LOST acked but not received"

mark end
END_ESTAB=$(estab "$GW_PORT")
say "gateway at the end (idle devices still held; ss: $END_ESTAB device connections): VmRSS ${M[rss_end]} KB, VmHWM ${M[hwm_end]} KB"

# Release the idle devices; each loadgen says how many of its connections
# the gateway closed while they were held.
stop_many "${IDLE_PIDS[@]}"
IDLE_PIDS=()
IDLE_DROPPED=$(cat "$WORK"/idle/*.out | awk '/^HOLD dropped=/ { sub(/.*=/, ""); s += $0 } END { print s + 0 }')
for i in $(seq 1 100); do
	[ "$(estab "$GW_PORT")" -le 0 ] && break
	sleep 0.1
done
sleep 1
mark released
say "idle devices released ($IDLE_DROPPED had been dropped while held): VmRSS ${M[rss_released]} KB"

# Stop the gateway: it should end at once, nothing being left to drain.
GW_ALIVE_AT_END=no
GW_EXIT=-
if alive $GW_PID; then
	GW_ALIVE_AT_END=yes
	kill -TERM $GW_PID
	for i in $(seq 1 150); do
		alive $GW_PID || break
		sleep 0.1
	done
	if alive $GW_PID; then
		GW_EXIT="still running 15 s after TERM (killed)"
		kill -KILL $GW_PID
		wait $GW_PID 2>/dev/null || true
	else
		set +e
		wait $GW_PID
		GW_EXIT=$?
		set -e
	fi
else
	set +e
	wait $GW_PID
	GW_EXIT="died: exit status $?"
	set -e
fi
LINES_TOTAL=$(wc -l <"$GW_LOG")
stop_pid $SUB_PID
stop_pid $BROKER_PID

T_END=$(date +%s)
LOAD_END=$(cut -d' ' -f1-3 /proc/loadavg)
ELAPSED=$((T_END - T_START))
say "done in $ELAPSED s; writing $OUT"

# ----------------------------------------------------------------------
# derived numbers

rate_line() { # PHASE FROM TO
	refusals "$2" "$3" | awk -v ph="$1" '{ printf "| %s | `%s` | %d | %d | %d |\n", ph, $1, $2, $3, $2 + $3 }'
}
total_refused() { # KIND FROM TO
	refusals "$2" "$3" | awk -v k="$1" '$1 == k { print $2 + $3 }'
}
HS_REFUSED_FLOOD=$(total_refused handshakes_per_source "${M[line_flood0]}" "${M[line_flood1]}")
# Flood connections the gateway admitted: their close lines (SNI
# gw.demo.lan; the publishers' OpenSSL sends the IP as SNI, the idle
# devices close only at the end).
CLOSES_FLOOD=$(sed -n "$((${M[line_flood0]} + 1)),${M[line_flood1]}p" "$GW_LOG" | grep -c ' close policy=.* sni=gw\.demo\.lan ' || true)
RSS_PER=-
if [ "${M[rss_idle]}" != - ] && [ "$IDLE_OK" -gt 0 ]; then
	RSS_PER=$(calc "(${M[rss_idle]} - ${M[rss_before]}) / $IDLE_OK" 1)
fi
cpu_d() { # FROM TO
	if [ "${M[cpu_$1]}" = - ] || [ "${M[cpu_$2]}" = - ]; then echo -; else secs $((${M[cpu_$2]} - ${M[cpu_$1]})); fi
}
wall_d() { calc "${M[t_$2]} - ${M[t_$1]}" 1; }
CPU_TOTAL=$(cpu_d before end)
GW_DIED=no
[ "$GW_ALIVE_AT_END" = yes ] && [ -z "$GW_DEAD_AT" ] || GW_DIED=yes
case $GW_EXIT in 0) ;; *) GW_DIED=yes ;; esac

VERDICT=pass
[ "$LOST" -eq 0 ] || VERDICT=fail
[ "$GW_DIED" = no ] || VERDICT=fail

pkgver() { dpkg-query -W -f='${Version}' "$1" 2>/dev/null || echo "not installed"; }

# ----------------------------------------------------------------------
# LOAD.md

{
	echo "# bench/LOAD.md"
	echo
	echo "Generated by \`bench/load.sh\` on $(date -u '+%Y-%m-%d %H:%M UTC') in $ELAPSED s; verdict: **$VERDICT**"
	echo "(fails when an acked message was not received or the gateway died)."
	echo
	echo "## Command"
	echo
	echo '```'
	echo "$CMDLINE"
	echo '```'
	echo
	echo "## Machine"
	echo
	echo "- CPU: $(lscpu | sed -n 's/^Model name: *//p' | head -n 1), $(nproc) cores$(lscpu | sed -n 's/^Hypervisor vendor: *//p' | head -n 1 | sed 's/^\(.\)/ (virtual, \1/; s/$/)/')"
	echo "- RAM: $(awk '/MemTotal/ {printf "%.1f GiB", $2 / 1048576}' /proc/meminfo); kernel $(uname -r); Debian $(cat /etc/debian_version 2>/dev/null || echo ?)"
	echo "- fd limit: $NOFILE (hard $NOFILE_HARD$([ "$NOFILE_HARD" -ge 65536 ] || echo "; raising it to 65536 was refused: no CAP_SYS_RESOURCE here"))"
	echo "- Load average (1, 5, 15 min) at the start: $LOAD_START; at the end: $LOAD_END. The load clients, Mosquitto and the gateway share the $(nproc) cores, on 127.0.0.1."
	echo "- tlsgw: \`$TLSGW\` ($("$TLSGW" --version 2>&1 | head -n 1); $(if ldd "$TLSGW" 2>/dev/null | grep -q libwolfssl; then echo "shared libwolfssl"; else echo "wolfSSL linked statically"; fi))"
	echo "- Packages: mosquitto $(pkgver mosquitto), mosquitto-clients $(pkgver mosquitto-clients), libssl3 $(pkgver libssl3) (Mosquitto, its clients, bench/loadgen.c), libevent-2.1-7 $(pkgver libevent-2.1-7)"
	echo
	echo "## Set-up"
	echo
	echo "- **Broker**: Mosquitto, a TLS 1.3-only listener (\`tls_version tlsv1.3\`, ECDSA"
	echo "  certificate for \`broker.demo.lan\` from \`deploy/demo-pki.sh\`) for the gateway, a plain"
	echo "  listener for the subscriber; \`max_connections -1\`, \`persistence false\`."
	echo "- **Gateway**: one policy on 127.0.0.1:$GW_PORT, RSA-2048 and ECDSA P-256 device"
	echo "  certificates, \`suites = compat\`; upstream TLS 1.3 to Mosquitto, verified against the"
	echo "  demo CA for \`broker.demo.lan\`. Global file:"
	echo
	echo '```ini'
	grep -v '^;' "$WORK/gw/tlsgw.ini"
	echo '```'
	echo
	echo "  \`max_connections_per_source = 0\`: every device in this test, idle, publishing or"
	echo "  flooding, connects from 127.0.0.1, so any per-address cap (default 100) would refuse"
	echo "  all but that many of the $IDLE_N idle devices; the test is about the global limit and"
	echo "  the handshake rate. \`handshakes_per_source = $HPS\` applies to the idle devices as well:"
	echo "  they are opened in batches of $IDLE_BATCH per second (just under the limit; the bucket"
	echo "  holds $((2 * HPS))), which is why opening them takes ~$((IDLE_N / IDLE_BATCH)) s."
	echo "- **(1) Idle devices**: \`bench/loadgen.c idle\`, $NBATCH processes of up to $IDLE_BATCH"
	echo "  connections, in turn TLS 1.2 ECDHE-RSA-AES128-GCM (RSA certificate), TLS 1.2"
	echo "  ECDHE-ECDSA-AES128-GCM (ECDSA certificate) and TLS 1.3; P-256, SNI \`gw.demo.lan\`;"
	echo "  each device sends MQTT CONNECT (keep-alive 0), waits for CONNACK and stays idle."
	if [ "$IDLE_N" -lt "$IDLE" ]; then
		echo "  **$IDLE_N, not $IDLE**: the fd limit is $NOFILE and cannot be raised here; the gateway"
		echo "  needs two fds per connection (device + upstream) and $RESERVE are kept for itself,"
		echo "  the publishers and the flood (running out pauses its accepting)."
	fi
	echo "- **(2) Flood**: \`loadgen hs --until handshake --parallel $FLOOD_PAR --seconds $FLOOD_SECS\`"
	echo "  from 127.0.0.1 (the same address as the idle devices): full TLS 1.2 ECDHE-RSA"
	echo "  handshakes (no session reuse), then close_notify and close, $FLOOD_PAR in flight, as"
	echo "  fast as the gateway accepts or refuses them."
	echo "- **(3) Publishers**: $NPUB \`mosquitto_pub -d -l -q 1\` through the gateway (client IDs"
	echo "  \`load-pub-K\`, topic \`load/pub/K\`; odd K TLS 1.3, even K TLS 1.2 ECDHE-RSA or"
	echo "  ECDHE-ECDSA, certificate verified against the demo CA), connected just before the"
	echo "  flood (a device from the flooded address cannot get in during it), then $NMSG numbered"
	echo "  messages each (60-byte payloads), one every $PACE s, while the flood runs. A subscriber"
	echo "  (\`mosquitto_sub -q 1\`) on the broker's plain listener records every message."
	echo "  Sent and acked come from the publishers' debug output (\`sending PUBLISH\` and"
	echo "  \`received PUBACK\`, by message id = line number); lost = acked but never received."
	echo
	echo "## Results"
	echo
	echo "| | |"
	echo "|---|---|"
	echo "| idle devices held after CONNACK | $IDLE_OK of $IDLE_N (ss: $IDLE_ESTAB device-side connections established at the idle point, $END_ESTAB at the end; $IDLE_DROPPED closed by the gateway while held) |"
	echo "| time to open them | $IDLE_SECS s ($(calc "$IDLE_OK / $IDLE_SECS" 1)/s; $IDLE_FAIL failed attempts; $IDLE_NOTREADY batches without READY) |"
	echo "| gateway VmRSS / VmHWM before | ${M[rss_before]} / ${M[hwm_before]} KB |"
	echo "| gateway VmRSS / VmHWM with $IDLE_OK idle | ${M[rss_idle]} / ${M[hwm_idle]} KB |"
	echo "| **RSS per idle connection** | **$RSS_PER KB** ((with idle − before) / held; user-space memory only, kernel socket buffers are not in RSS) |"
	echo "| gateway VmRSS / VmHWM at the end (idle still held, after flood and publishing) | ${M[rss_end]} / ${M[hwm_end]} KB |"
	echo "| gateway VmRSS after the idle devices left | ${M[rss_released]} KB |"
	echo "| Mosquitto VmRSS before / with idle / at the end | ${M[brss_before]} / ${M[brss_idle]} / ${M[brss_end]} KB |"
	echo "| flood: handshakes admitted and completed (client) | ${FLOOD_OK:-?} in ${FLOOD_SECS_REAL:-?} s ($(calc "${FLOOD_OK:-0} / ${FLOOD_SECS_REAL:-1}" 1)/s; limit $HPS/s + a burst of $((2 * HPS))) |"
	echo "| flood: attempts refused or failed (client) | ${FLOOD_FAIL:-?} |"
	echo "| flood: handshakes_per_source refusals in the gateway log during the flood | $HS_REFUSED_FLOOD (lines + their \"more refused\" counts) |"
	echo "| flood: connections the gateway admitted (its close lines for them) | $CLOSES_FLOOD |"
	echo "| flood: refusals the client saw but the log never reported | $(( ${FLOOD_FAIL:-0} - HS_REFUSED_FLOOD )) (failed attempts − logged refusals: the refusals after the last log line, plus any local connect failure) |"
	echo "| publishers connected | $PUB_CONNECTED of $NPUB ($PUB_RETRIED needed a retry; $PUB_EXIT_BAD exited non-zero; $PUB_LEFT still running at the deadline) |"
	echo "| messages to send / sent / acked / received | $((NPUB * NMSG)) / $SENT / $ACKED / $RECEIVED ($DUPS duplicates; $NOT_ACKED sent but not acked) |"
	echo "| **messages lost (acked, never received)** | **$LOST** |"
	echo "| gateway CPU (user + system) | $CPU_TOTAL s in all: opening the idle devices $(cpu_d before idle) s in $(wall_d before idle) s; flood + publishing $(cpu_d flood0 flood1) s in $(wall_d flood0 flood1) s; rest of the publishing $(cpu_d flood1 pub1) s |"
	echo "| gateway alive to the end | $GW_ALIVE_AT_END$([ -z "$GW_DEAD_AT" ] || echo " (gone at: $GW_DEAD_AT)"); exit status after SIGTERM: $GW_EXIT |"
	echo
	echo "### Refusals per limit"
	echo
	echo "From the gateway's log: one line per second per kind of refusal, each saying how many"
	echo "more were refused since the previous line. Refusals after the last line of a kind are"
	echo "counted nowhere (compare with the client's count above)."
	echo
	echo "| phase | limit | log lines | \"more refused\" | refusals |"
	echo "|---|---|---|---|---|"
	rate_line "opening the idle devices" 0 "${M[line_idle]}"
	rate_line "publishers connecting" "${M[line_pub0]}" "${M[line_flood0]}"
	rate_line "flood + publishing" "${M[line_flood0]}" "${M[line_flood1]}"
	rate_line "whole run" 0 "$LINES_TOTAL"
	echo
	echo "### Gateway log"
	echo
	echo "Close lines by reason (whole run):"
	echo
	echo '```'
	grep -o 'reason="[^"]*"' "$GW_LOG" | sort | uniq -c | sort -rn | head -n 12 || true
	echo '```'
	echo
	echo "Close lines by device protocol and certificate (whole run):"
	echo
	echo '```'
	sed -n 's/.* close policy=[^ ]* device=\([^ ]*\) suite=[^ ]* cert=\([^ ]*\) .*/device=\1 cert=\2/p' "$GW_LOG" | sort | uniq -c | sort -rn || true
	echo '```'
	echo
	echo "Warnings and errors other than close lines (by text, addresses and ports masked; first 15):"
	echo
	echo '```'
	grep -E '^tlsgw: (warning|error): ' "$GW_LOG" | grep -v ' close policy=' |
		sed -E 's/127\.0\.0\.1:[0-9]+/127.0.0.1:P/g; s/\([0-9]+ more refused/(N more refused/' |
		sort | uniq -c | sort -rn | head -n 15 || true
	echo '```'
	echo
	echo "The refusal lines of the flood as logged (first and last 3):"
	echo
	echo '```'
	sed -n "$((${M[line_flood0]} + 1)),${M[line_flood1]}p" "$GW_LOG" | grep 'refused' | head -n 3 || true
	echo "..."
	sed -n "$((${M[line_flood0]} + 1)),${M[line_flood1]}p" "$GW_LOG" | grep 'refused' | tail -n 3 || true
	echo '```'
	if [ -s "$WORK/lost.txt" ]; then
		echo
		echo "Lost messages (publisher, message), first 20:"
		echo
		echo '```'
		head -n 20 "$WORK/lost.txt"
		echo '```'
	fi
	if [ -s "$WORK/mosquitto.log" ]; then
		echo
		echo "Mosquitto's warnings and errors (first 10):"
		echo
		echo '```'
		sed 's/^[0-9]*: //' "$WORK/mosquitto.log" | sort | uniq -c | sort -rn | head -n 10
		echo '```'
	fi
} >"$OUT"
say "wrote $OUT: verdict $VERDICT (lost $LOST, gateway died: $GW_DIED)"

if [ "$VERDICT" != pass ]; then
	KEEP=1
	exit 1
fi
exit 0
