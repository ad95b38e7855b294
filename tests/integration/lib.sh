#!/bin/bash
# shellcheck disable=SC2034  # variables for the tests that source this file
# lib.sh: sourced by every integration test (tests/integration/t_*.sh).
#
# A test runs real peers on 127.0.0.1 (the gateway, Mosquitto, openssl,
# the device clients) on free ports, in its own temporary directory:
#   $top_builddir/tests/integration/work/<test>.XXXX
# which is removed when the test passes and kept, with every log dumped to
# stderr, when it fails.  Every process a test starts is recorded by PID
# and stopped when the test ends, whatever the reason (TERM, then KILL
# after 3 s).
#
# Environment: top_srcdir and top_builddir (exported by `make check`;
# both default to the source tree when a test is run by hand).
# TEST_TIMEOUT (seconds, default 120): a watchdog ends a stuck test.
# KEEP_WORK=1 keeps the work directory even when the test passes.

set -eu

_lib_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
: "${top_srcdir:=$(cd "$_lib_dir/../.." && pwd)}"
: "${top_builddir:=$top_srcdir}"
export top_srcdir top_builddir
TOP_SRCDIR=$top_srcdir
TOP_BUILDDIR=$top_builddir
# Debian puts mosquitto in /usr/sbin, which a normal user's PATH may lack.
PATH=$PATH:/usr/sbin:/sbin
export PATH

TEST_NAME=$(basename "$0" .sh)
TLSGW=$top_builddir/tlsgw
BEAR_CLIENT=$top_builddir/tests/clients/bear_client
MBED_CLIENT=$top_builddir/tests/clients/mbed_client
RAWHELLO=$top_builddir/tests/clients/rawhello
DEMO_PKI=$top_srcdir/deploy/demo-pki.sh

mkdir -p "$top_builddir/tests/integration/work"
WORK=$(mktemp -d "$top_builddir/tests/integration/work/$TEST_NAME.XXXX")
PKI=$WORK/pki

# PIDs to stop at the end, and a name for each (for messages).
_pids=()
_pid_names=()
_failed=0

# ---------------------------------------------------------------------
# messages and failure

# Print a progress line (goes to the test's .log).
say() {
	printf '%s: %s\n' "$TEST_NAME" "$*"
}

# Print a passed check.
pass() {
	printf '%s: ok: %s\n' "$TEST_NAME" "$*"
}

# Fail the test with a message; the EXIT trap stops everything and dumps
# the logs.
fail() {
	_failed=1
	printf '%s: FAIL: %s\n' "$TEST_NAME" "$*" >&2
	exit 1
}

# Fail unless a command exists; name the Debian package that has it.
require_cmd() {
	command -v "$1" >/dev/null 2>&1 ||
		fail "$1 not found: install the Debian package ${2:-$1}"
}

# Fail unless a built binary exists (run `make check` or `make` first).
require_bin() {
	[ -x "$1" ] || fail "$1 not built (run: make -j2 check TESTS=)"
}

# ---------------------------------------------------------------------
# processes

# Record a PID to be stopped when the test ends.
track_pid() {
	_pids+=("$1")
	_pid_names+=("${2:-pid $1}")
}

# Stop one PID: TERM, wait up to 3 s (10 s under TLSGW_WRAPPER, so a
# wrapped daemon can write its report), then KILL; reap it if it is ours.
stop_pid() {
	local pid=$1 i tries=30
	[ -z "${TLSGW_WRAPPER:-}" ] || tries=100
	kill -0 "$pid" 2>/dev/null || { wait "$pid" 2>/dev/null || true; return 0; }
	kill -TERM "$pid" 2>/dev/null || true
	for i in $(seq 1 "$tries"); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	if kill -0 "$pid" 2>/dev/null; then
		say "pid $pid did not stop after TERM in $((tries / 10)) s: KILL"
		kill -KILL "$pid" 2>/dev/null || true
	fi
	wait "$pid" 2>/dev/null || true
}

# True while a PID is alive.
alive() {
	kill -0 "$1" 2>/dev/null
}

_lib_stop_all() {
	local i pid
	for ((i = ${#_pids[@]} - 1; i >= 0; i--)); do
		stop_pid "${_pids[$i]}"
	done
	# Anything else this shell started in the background, by PID.
	for pid in $(jobs -p); do
		stop_pid "$pid"
	done
	_pids=()
	_pid_names=()
}

_lib_dump_logs() {
	local f
	echo "===== $TEST_NAME failed; work directory kept: $WORK" >&2
	for f in "$WORK"/*.log "$WORK"/*.out "$WORK"/*/*.ini "$WORK"/*.conf; do
		[ -f "$f" ] || continue
		echo "----- $f (last 150 lines) -----" >&2
		tail -n 150 "$f" >&2
	done
	echo "===== end of logs" >&2
}

_lib_exit() {
	local rc=$?
	trap - EXIT INT TERM
	set +e
	[ -n "${_watchdog:-}" ] && kill "$_watchdog" 2>/dev/null && wait "$_watchdog" 2>/dev/null
	_lib_stop_all
	if [ "$rc" -ne 0 ] || [ "$_failed" -ne 0 ]; then
		[ "$rc" -ne 0 ] || rc=1
		_lib_dump_logs
	elif [ "${KEEP_WORK:-0}" = 1 ]; then
		say "work directory kept: $WORK"
	else
		rm -rf "$WORK"
	fi
	exit "$rc"
}
trap _lib_exit EXIT
trap 'echo "$TEST_NAME: interrupted" >&2; exit 130' INT
trap 'echo "$TEST_NAME: terminated (watchdog after ${TEST_TIMEOUT:-120} s?)" >&2; exit 143' TERM

# A watchdog so that no bug can hang `make check`: after TEST_TIMEOUT s,
# TERM the test shell and the command it is waiting for (its children, by
# PID); the EXIT trap then stops everything else and dumps the logs.
(
	sleep "${TEST_TIMEOUT:-120}" &
	_sleep=$!
	trap 'kill "$_sleep" 2>/dev/null; exit 0' TERM
	wait "$_sleep"
	echo "$TEST_NAME: watchdog: still running after ${TEST_TIMEOUT:-120} s, stopping it" >&2
	kill -TERM $$ 2>/dev/null
	for _c in $(ps -o pid= --ppid $$ 2>/dev/null); do
		[ "$_c" = "$BASHPID" ] || kill -TERM "$_c" 2>/dev/null
	done
) &
_watchdog=$!

# ---------------------------------------------------------------------
# ports

# Print a TCP port in 20000-59999 on which nothing listens (ss shows no
# socket on it and a connect to 127.0.0.1 is refused), not handed out
# before in this test.
free_port() {
	local p i
	touch "$WORK/.ports"
	for i in $(seq 1 500); do
		p=$((20000 + (RANDOM * 32768 + RANDOM + i) % 40000))
		grep -qx "$p" "$WORK/.ports" && continue
		if [ -n "$(ss -Htan "( sport = :$p )" 2>/dev/null)" ]; then
			continue
		fi
		if (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
			continue
		fi
		echo "$p" >>"$WORK/.ports"
		echo "$p"
		return 0
	done
	echo "free_port: no free port found" >&2
	return 1
}

# True when something listens on 127.0.0.1:PORT.
port_listening() {
	[ -n "$(ss -Hltn "( sport = :$1 )" 2>/dev/null)" ]
}

# Wait until PORT listens (PID must stay alive meanwhile), up to T s.
wait_port() {
	local port=$1 pid=$2 t=${3:-10} i
	for i in $(seq 1 $((t * 10))); do
		port_listening "$port" && return 0
		alive "$pid" || return 1
		sleep 0.1
	done
	return 1
}

# ---------------------------------------------------------------------
# PKI

# make_pki [DIR]: a demo PKI (deploy/demo-pki.sh) in DIR (default $PKI).
# shellcheck disable=SC2120  # the argument is optional
make_pki() {
	local dir=${1:-$PKI}
	require_cmd openssl
	sh "$DEMO_PKI" "$dir" >"$WORK/pki.out" 2>&1 ||
		fail "deploy/demo-pki.sh $dir failed: $(cat "$WORK/pki.out")"
}

# ---------------------------------------------------------------------
# Mosquitto

# start_mosquitto [--name NAME] [--tls-version tlsv1.3|tlsv1.2]
# Starts Debian's mosquitto as the current user with a TLS listener on
# 127.0.0.1 (broker.demo.lan cert from $PKI, `tls_version` as given,
# default tlsv1.3 = TLS 1.3 only) and a plain listener on 127.0.0.1,
# anonymous access, logging to $WORK/NAME.log.  Sets BROKER_PORT (TLS),
# BROKER_PLAIN_PORT, BROKER_LOG and BROKER_PID.
start_mosquitto() {
	local name=broker tlsv=tlsv1.3 conf user
	while [ $# -gt 0 ]; do
		case $1 in
		--name) name=$2; shift 2 ;;
		--tls-version) tlsv=$2; shift 2 ;;
		*) fail "start_mosquitto: unknown option $1" ;;
		esac
	done
	require_cmd mosquitto mosquitto
	[ -f "$PKI/broker.crt" ] || fail "start_mosquitto: call make_pki first"
	BROKER_PORT=$(free_port)
	BROKER_PLAIN_PORT=$(free_port)
	BROKER_LOG=$WORK/$name.log
	conf=$WORK/$name.conf
	user=$(id -un)
	# `user` = ourselves: as root, mosquitto would otherwise switch to
	# the user 'mosquitto', which cannot read our 0600 keys or logs.
	cat >"$conf" <<EOF
per_listener_settings false
allow_anonymous true
persistence false
user $user
log_dest file $BROKER_LOG
log_type all
log_timestamp true
connection_messages true

listener $BROKER_PORT 127.0.0.1
certfile $PKI/broker.crt
keyfile $PKI/broker.key
cafile $PKI/ca.crt
tls_version $tlsv

listener $BROKER_PLAIN_PORT 127.0.0.1
EOF
	mosquitto -c "$conf" >"$WORK/$name.out" 2>&1 &
	BROKER_PID=$!
	track_pid "$BROKER_PID" "mosquitto $name"
	if ! wait_port "$BROKER_PORT" "$BROKER_PID" 10 ||
		! wait_port "$BROKER_PLAIN_PORT" "$BROKER_PID" 10; then
		fail "mosquitto $name did not start listening on $BROKER_PORT/$BROKER_PLAIN_PORT"
	fi
	say "mosquitto $name: TLS ($tlsv) on 127.0.0.1:$BROKER_PORT, plain on 127.0.0.1:$BROKER_PLAIN_PORT, pid $BROKER_PID"
}

# ---------------------------------------------------------------------
# configuration files

# write_global FILE key=value ...: a global file with a [gateway] section.
write_global() {
	local file=$1 kv
	shift
	mkdir -p "$(dirname "$file")"
	{
		echo "[gateway]"
		for kv in "$@"; do
			echo "${kv%%=*} = ${kv#*=}"
		done
	} >"$file"
}

# write_policy FILE section.key=value ...: a policy INI file; sections in
# the order they first appear, keys in the order given, e.g.
#   write_policy "$WORK/gw/policies/main.ini" listen.address=127.0.0.1:$p \
#       device.cert="$PKI/gw-rsa.crt" upstream.host=127.0.0.1
write_policy() {
	local file=$1 kv sec rest sections=""
	shift
	mkdir -p "$(dirname "$file")"
	for kv in "$@"; do
		case $kv in
		*.*=*) ;;
		*) fail "write_policy: '$kv' is not section.key=value" ;;
		esac
		sec=${kv%%.*}
		case " $sections " in
		*" $sec "*) ;;
		*) sections="$sections $sec" ;;
		esac
	done
	{
		for sec in $sections; do
			echo "[$sec]"
			for kv in "$@"; do
				[ "${kv%%.*}" = "$sec" ] || continue
				rest=${kv#*.}
				echo "${rest%%=*} = ${rest#*=}"
			done
			echo
		done
	} >"$file"
}

# line_of FILE TEXT: the number of the first line of FILE holding TEXT.
line_of() {
	grep -nF -- "$2" "$1" | head -n 1 | cut -d: -f1
}

# ---------------------------------------------------------------------
# the gateway

# start_gateway [--name NAME] [--listeners N] CONFIG
# Runs `tlsgw -f -c CONFIG` with stdout and stderr in $WORK/NAME.log
# (default name "gateway") and waits until it has logged "listening on"
# N times (default 1).  Sets GW_PID and GW_LOG.
start_gateway() {
	local name=gateway n=1 conf i
	while [ $# -gt 1 ]; do
		case $1 in
		--name) name=$2; shift 2 ;;
		--listeners) n=$2; shift 2 ;;
		*) fail "start_gateway: unknown option $1" ;;
		esac
	done
	conf=$1
	require_bin "$TLSGW"
	GW_LOG=$WORK/$name.log
	: >"$GW_LOG"
	# TLSGW_WRAPPER runs the daemon under a tool, e.g. valgrind; the
	# wrapper must exec the daemon in the same process (valgrind does).
	# shellcheck disable=SC2086
	${TLSGW_WRAPPER:-} "$TLSGW" -f -c "$conf" >"$GW_LOG" 2>&1 &
	GW_PID=$!
	track_pid "$GW_PID" "tlsgw $name"
	for i in $(seq 1 300); do
		if [ "$(grep -c 'listening on' "$GW_LOG" || true)" -ge "$n" ]; then
			say "tlsgw $name: pid $GW_PID, $(grep 'listening on' "$GW_LOG" | tr '\n' ' ')"
			return 0
		fi
		alive "$GW_PID" || fail "tlsgw $name exited during start-up (see $GW_LOG)"
		sleep 0.1
	done
	fail "tlsgw $name did not log 'listening on' $n time(s) within 30 s"
}

# Fail unless the gateway (or the given PID) is still running.
assert_alive() {
	local pid=${1:-$GW_PID} what=${2:-tlsgw}
	alive "$pid" || fail "$what (pid $pid) is no longer running"
	pass "$what (pid $pid) still running"
}

# ---------------------------------------------------------------------
# assertions on logs and commands

# wait_for_log PATTERN [FILE] [SECONDS]: true once FILE (default the
# gateway log) has a line containing the fixed string PATTERN.
wait_for_log() {
	local pat=$1 file=${2:-$GW_LOG} t=${3:-5} i
	for i in $(seq 1 $((t * 10))); do
		grep -qF -- "$pat" "$file" 2>/dev/null && return 0
		sleep 0.1
	done
	grep -qF -- "$pat" "$file" 2>/dev/null
}

# assert_log_contains PATTERN [FILE]: FILE (default the gateway log)
# gets a line containing the fixed string PATTERN within 5 s.
assert_log_contains() {
	local pat=$1 file=${2:-$GW_LOG}
	wait_for_log "$pat" "$file" 5 ||
		fail "$(basename "$file") has no line containing '$pat'"
	pass "$(basename "$file") contains '$pat'"
}

# assert_log_matches ERE [FILE]: the same with an extended regexp.
assert_log_matches() {
	local re=$1 file=${2:-$GW_LOG} i
	for i in $(seq 1 50); do
		grep -qE -- "$re" "$file" 2>/dev/null && break
		sleep 0.1
	done
	grep -qE -- "$re" "$file" 2>/dev/null ||
		fail "$(basename "$file") has no line matching /$re/"
	pass "$(basename "$file") matches /$re/"
}

# assert_log_lacks PATTERN [FILE]: no line contains the fixed string.
assert_log_lacks() {
	local pat=$1 file=${2:-$GW_LOG}
	if grep -qF -- "$pat" "$file" 2>/dev/null; then
		fail "$(basename "$file") unexpectedly contains '$pat': $(grep -F -- "$pat" "$file" | head -n 3)"
	fi
	pass "$(basename "$file") does not contain '$pat'"
}

# run_cmd cmd...: run a command with its stdout+stderr in $WORK/last.out
# (also copied to our output); its exit status in LAST_RC.  Never fails.
run_cmd() {
	printf '%s: $ %s\n' "$TEST_NAME" "$*"
	set +e
	"$@" >"$WORK/last.out" 2>&1
	LAST_RC=$?
	set -e
	LAST_OUT=$(cat "$WORK/last.out")
	[ -z "$LAST_OUT" ] || printf '%s\n' "$LAST_OUT" | sed 's/^/    | /'
	printf '    exit %s\n' "$LAST_RC"
}

# assert_exit CODE cmd...: run the command and fail unless it exits CODE.
# CODE "nonzero" accepts any failure.  Output in LAST_OUT.
assert_exit() {
	local want=$1
	shift
	run_cmd "$@"
	if [ "$want" = nonzero ]; then
		[ "$LAST_RC" -ne 0 ] || fail "expected a failure, got exit 0 from: $*"
	elif [ "$LAST_RC" -ne "$want" ]; then
		fail "expected exit $want, got $LAST_RC from: $*"
	fi
}

# assert_output_contains PATTERN: LAST_OUT has the fixed string.
assert_output_contains() {
	grep -qF -- "$1" "$WORK/last.out" ||
		fail "output of the last command lacks '$1'"
	pass "output contains '$1'"
}

# assert_output_matches ERE: LAST_OUT has a line matching the regexp.
assert_output_matches() {
	grep -qE -- "$1" "$WORK/last.out" ||
		fail "output of the last command has no line matching /$1/"
	pass "output matches /$1/"
}

# assert_output_lacks PATTERN: LAST_OUT lacks the fixed string.
assert_output_lacks() {
	if grep -qF -- "$1" "$WORK/last.out"; then
		fail "output of the last command unexpectedly contains '$1'"
	fi
	pass "output lacks '$1'"
}

# ---------------------------------------------------------------------
# the gateway's per-connection close summary lines

# close_count [FILE]: how many close summary lines the log holds.
close_count() {
	grep -c ' close policy=' "${1:-$GW_LOG}" 2>/dev/null || true
}

# settle: wait until every connection the gateway accepted has logged
# its close line (needs log_level=debug), so that counting close lines
# afterwards sees only what comes next.
settle() {
	local file=${GW_LOG:-} t=15 i accepted
	[ -n "$file" ] && [ -f "$file" ] || return 0
	for i in $(seq 1 $((t * 10))); do
		accepted=$(grep -c ' accepted on ' "$file" || true)
		[ "$(close_count "$file")" -ge "$accepted" ] && return 0
		sleep 0.1
	done
	fail "gateway connections still open after $t s: $accepted accepted, $(close_count "$file") closed"
}

# wait_close N [FILE] [SECONDS]: wait until the log holds at least N
# close summary lines; sets CLOSE_LINE to the Nth.
wait_close() {
	local n=$1 file=${2:-$GW_LOG} t=${3:-10} i
	for i in $(seq 1 $((t * 10))); do
		[ "$(close_count "$file")" -ge "$n" ] && break
		sleep 0.1
	done
	[ "$(close_count "$file")" -ge "$n" ] ||
		fail "expected $n close summary line(s) in $(basename "$file"), found $(close_count "$file")"
	CLOSE_LINE=$(grep ' close policy=' "$file" | sed -n "${n}p")
}

# field LINE KEY: the value of KEY=value in a log line ("" if absent); the
# value ends at the next space (so reason= gives only its first word).
field() {
	printf '%s\n' "$1" | tr ' ' '\n' | sed -n "s/^$2=//p" | head -n 1
}

# assert_field LINE KEY EXPECTED: KEY=EXPECTED in LINE.
assert_field() {
	local got
	got=$(field "$1" "$2")
	[ "$got" = "$3" ] ||
		fail "expected $2=$3, got $2=${got:-<absent>} in: $1"
	pass "$2=$3"
}

# ---------------------------------------------------------------------
# a standard gateway configuration

# write_gateway_conf DIR [key=value ...]: DIR/tlsgw.ini with policy_dir =
# policies (relative to DIR) and short timeouts; arguments override or
# add [gateway] keys.
write_gateway_conf() {
	local dir=$1 d o skip args=()
	shift
	# debug logs an "accepted" line per connection, which settle() uses.
	# workers = 1: tests look at the serving process by its PID (its
	# sockets, limits, credentials); t_workers covers several.
	local defaults=(policy_dir=policies log_level=debug handshake_timeout=5
		idle_timeout=60 max_connections=100 workers=1)
	for d in "${defaults[@]}"; do
		skip=0
		for o in "$@"; do
			[ "${o%%=*}" = "${d%%=*}" ] && skip=1
		done
		[ "$skip" = 1 ] || args+=("$d")
	done
	args+=("$@")
	write_global "$dir/tlsgw.ini" "${args[@]}"
}

# write_default_policy FILE PORT [section.key=value ...]: a policy that
# listens on 127.0.0.1:PORT with the demo PKI's RSA and ECDSA gateway
# certificates, suites=compat, and forwards over TLS 1.3 to the broker on
# BROKER_PORT, verified against $PKI/ca.crt for the name broker.demo.lan.
# Arguments override defaults; "section.key=" (empty) removes one.
write_default_policy() {
	local file=$1 port=$2 d o skip args=()
	shift 2
	local defaults=(
		"listen.address=127.0.0.1:$port"
		"device.cert=$PKI/gw-rsa.crt" "device.key=$PKI/gw-rsa.key"
		"device.cert_ecdsa=$PKI/gw-ec.crt" "device.key_ecdsa=$PKI/gw-ec.key"
		device.suites=compat device.min_version=1.2
		upstream.host=127.0.0.1 "upstream.port=${BROKER_PORT:-8883}"
		upstream.sni=broker.demo.lan "upstream.ca=$PKI/ca.crt"
		upstream.min_version=1.3)
	for d in "${defaults[@]}"; do
		skip=0
		for o in "$@"; do
			[ "${o%%=*}" = "${d%%=*}" ] && skip=1
		done
		[ "$skip" = 1 ] || args+=("$d")
	done
	for o in "$@"; do
		[ -z "${o#*=}" ] || args+=("$o")
	done
	write_policy "$file" "${args[@]}"
}

# conn_addr LINE: the device's IP:PORT at the start of a connection's log
# line (after an optional "tlsgw: " or timestamp prefix).
conn_addr() {
	printf '%s\n' "$1" | grep -oE '127\.0\.0\.1:[0-9]+' | head -n 1
}

# device_client CLIENT PROFILE PORT TOPIC [extra args...]: run a device
# client (bear_client or mbed_client) against the gateway on PORT with the
# test CA and SNI gw.demo.lan, a 3000-byte QoS 1 message, 15 s timeout.
# Output in LAST_OUT, status in LAST_RC.
device_client() {
	local client=$1 profile=$2 port=$3 topic=$4 bin
	shift 4
	case $client in
	bear_client) bin=$BEAR_CLIENT ;;
	mbed_client) bin=$MBED_CLIENT ;;
	*) fail "device_client: unknown client $client" ;;
	esac
	require_bin "$bin"
	settle
	run_cmd "$bin" --host 127.0.0.1 --port "$port" --ca "$PKI/ca.crt" \
		--sni gw.demo.lan --profile "$profile" --topic "$topic" \
		--payload-size 3000 --count 1 --timeout 15 "$@"
}

# An OpenSSL configuration that caps OpenSSL clients (mosquitto_pub/sub,
# whose --tls-version is only a minimum) at TLS 1.2: use it as
# OPENSSL_CONF=$(openssl_tls12_conf) cmd ...
openssl_tls12_conf() {
	local f=$WORK/openssl-tls12.cnf
	[ -f "$f" ] || cat >"$f" <<'EOC'
openssl_conf = openssl_init
[openssl_init]
ssl_conf = ssl_sect
[ssl_sect]
system_default = system_default_sect
[system_default_sect]
MaxProtocol = TLSv1.2
CipherString = DEFAULT
EOC
	echo "$f"
}

# ---------------------------------------------------------------------
# helpers shared by the relay, fault and limit tests

# mqtt_connect FILE ID: an MQTT 3.1.1 CONNECT packet (clean session,
# keepalive 60 s, client id ID of fewer than 100 characters) in FILE.
mqtt_connect() {
	local file=$1 id=$2 n=${#2}
	# shellcheck disable=SC2059  # the format is built on purpose
	printf "\\x10\\x$(printf %02x $((12 + n)))\\x00\\x04MQTT\\x04\\x02\\x00\\x3c\\x00\\x$(printf %02x "$n")%s" \
		"$id" >"$file"
}

# close_line_of ADDR FROM [SECONDS]: wait for the close summary line of
# the connection from ADDR, after line FROM of the gateway log (ports
# are reused: an earlier connection may have had the same address); sets
# CLOSE_LINE.
close_line_of() {
	local addr=$1 from=$2 t=${3:-10} i
	CLOSE_LINE=""
	for i in $(seq 1 $((t * 10))); do
		CLOSE_LINE=$(tail -n +"$((from + 1))" "$GW_LOG" |
			grep -F "$addr close policy=" | head -n 1 || true)
		[ -n "$CLOSE_LINE" ] && break
		sleep 0.1
	done
	[ -n "$CLOSE_LINE" ] ||
		fail "no close line for $addr in $(basename "$GW_LOG") within $t s"
	say "close line: $CLOSE_LINE"
}

# dev_addr PID PORT: the local IP:port of PID's established TCP
# connection to PORT ("" if none).
dev_addr() {
	ss -Htnp state established "( dport = :$2 )" 2>/dev/null |
		grep -F "pid=$1," | awk '{print $3}' | head -n 1
}

# duration_ms LINE: the duration= field in milliseconds.
duration_ms() {
	local d
	d=$(field "$1" duration)
	d=${d%s}
	echo $((10#${d%.*} * 1000 + 10#${d#*.}))
}

# log_lines: how many lines the gateway log holds now.
log_lines() {
	wc -l <"$GW_LOG"
}

# now_ms: milliseconds since the epoch.
now_ms() {
	echo $(($(date +%s%N) / 1000000))
}

# rss_kb PID: VmRSS of PID in kB.
rss_kb() {
	awk '/^VmRSS:/ {print $2}' "/proc/$1/status"
}

# assert_rss_growth GROWTH LIMIT WHAT: fail unless the daemon's RSS grew
# by less than LIMIT kB (GROWTH kB measured) while WHAT.  Under
# TLSGW_WRAPPER (valgrind) the tool's own memory, its queue of freed
# blocks among it, is in the RSS: the bound is then reported, not
# checked (the suite's plain run checks it).
assert_rss_growth() {
	local growth=$1 limit=$2 what=$3
	if [ -n "${TLSGW_WRAPPER:-}" ]; then
		say "RSS grew by $growth kB while $what; bound ($limit kB) not checked under TLSGW_WRAPPER"
		return 0
	fi
	[ "$growth" -lt "$limit" ] ||
		fail "gateway VmRSS grew by $growth kB (limit $limit kB) while $what"
	pass "gateway VmRSS grew by $growth kB (< $limit kB) while $what"
}

# wait_exit PID SECONDS: true once PID has ended (within SECONDS).
wait_exit() {
	local pid=$1 t=$2 i
	for i in $(seq 1 $((t * 10))); do
		alive "$pid" || return 0
		sleep 0.1
	done
	! alive "$pid"
}
