#!/bin/bash
# t_limits.sh: the admission limits, with real peers on 127.0.0.1 (one
# Mosquitto TLS 1.3-only upstream; devices are openssl s_client held
# open, BearSSL devices, mosquitto_pub/sub, raw bash TCP connects):
#   1. [gateway] max_connections = 5: the 6th concurrent device is refused
#      with a log line; once one closes a new one is accepted; 52 refusals
#      in a burst give at most a few lines, and the lines' "N more refused
#      since the last line" add up to every refusal;
#   2. [listen] max_connections = 2 on one policy: its 3rd device is
#      refused ("policy max_connections") while a policy on another port
#      of the same gateway still accepts;
#   3. max_connections_per_source = 3: the 4th device from 127.0.0.1 is
#      refused while devices from 127.0.0.2 (mosquitto_pub/sub -A, the
#      only device clients here that can bind a source address) get in,
#      up to their own 3;
#   4. handshakes_per_source = 5 (bursts of 10): of 30 quick connects from
#      127.0.0.1 about 10 are admitted, the rest refused with a log line;
#      127.0.0.2 is not affected; 2 s later 127.0.0.1 is admitted again;
#   5. descriptors exhausted (the running gateway's RLIMIT_NOFILE lowered
#      with prlimit --pid): "accept failed, pausing accepts" once, not
#      once per retry, and not again for a second episode within a
#      minute; when connections close, accepting resumes and a device
#      that waited in the backlog gets through.
# One gateway per limit, so that each one's log holds only its lines.
# shellcheck source-path=SCRIPTDIR source=lib.sh disable=SC1091
. "$(dirname "$0")/lib.sh"

require_bin "$TLSGW"
require_bin "$BEAR_CLIENT"
require_cmd mosquitto_sub mosquitto-clients
require_cmd mosquitto_pub mosquitto-clients
require_cmd openssl
require_cmd ss iproute2
require_cmd prlimit util-linux

T0=$(date +%s)

# ---------------------------------------------------------------------
# helpers

# count_since FROM TEXT: lines after line FROM of the gateway log that
# hold the fixed string TEXT.
count_since() {
	tail -n +"$(($1 + 1))" "$GW_LOG" | grep -cF -- "$2" || true
}

# hold_device NAME PORT ID: openssl s_client connects to the gateway on
# PORT, sends an MQTT CONNECT for client ID and stays connected, silent,
# until it is stopped or the gateway ends the connection.  Waits until
# the broker has the client.  Sets DEV_PID.
hold_device() {
	local name=$1 port=$2 id=$3
	mqtt_connect "$WORK/$name.connect" "$id"
	openssl s_client -quiet -connect "127.0.0.1:$port" -servername gw.demo.lan \
		-verify_hostname gw.demo.lan -verify_return_error \
		-CAfile "$PKI/ca.crt" <"$WORK/$name.connect" \
		>"$WORK/$name.out" 2>"$WORK/$name.err.out" &
	DEV_PID=$!
	track_pid "$DEV_PID" "s_client $name"
	wait_for_log "as $id " "$BROKER_LOG" 10 ||
		fail "device $name (s_client) did not reach the broker: $(cat "$WORK/$name.err.out")"
}

# hold_sub NAME PORT ADDR ID: mosquitto_sub from source address ADDR,
# through the gateway on PORT, subscribed and held; sets DEV_PID.
hold_sub() {
	local name=$1 port=$2 addr=$3 id=$4
	mosquitto_sub -h 127.0.0.1 -p "$port" -A "$addr" --cafile "$PKI/ca.crt" \
		-i "$id" -t "limits/$id" -k 60 >"$WORK/$name.out" 2>&1 &
	DEV_PID=$!
	track_pid "$DEV_PID" "mosquitto_sub $name"
	wait_for_log "Received SUBSCRIBE from $id" "$BROKER_LOG" 10 ||
		fail "mosquitto_sub $name from $addr did not subscribe: $(cat "$WORK/$name.out")"
}

# bear PORT TOPIC: one BearSSL device run (Tasmota profile) through the
# gateway on PORT: connect, publish one QoS 1 message, receive it back.
bear() {
	run_cmd "$BEAR_CLIENT" --host 127.0.0.1 --port "$1" --ca "$PKI/ca.crt" \
		--sni gw.demo.lan --profile tasmota-esp8266 --topic "$2" \
		--payload-size 200 --count 1 --timeout 10
}

# bear_works PORT TOPIC: ... and it must succeed.
bear_works() {
	bear "$@"
	[ "$LAST_RC" -eq 0 ] || fail "bear_client through port $1: expected exit 0, got $LAST_RC"
	pass "a device connected, published and got its message back through port $1"
}

# bear_refused PORT TOPIC: ... and it must get nowhere (no CONNACK).
bear_refused() {
	bear "$@"
	case $LAST_RC in
	1 | 2 | 3) pass "the device got no CONNACK through port $1 (exit $LAST_RC)" ;;
	*) fail "bear_client through port $1: expected a refusal (exit 1-3), got $LAST_RC" ;;
	esac
}

# pub_from ADDR PORT ID: mosquitto_pub bound to source address ADDR
# publishes one QoS 1 message through the gateway on PORT (status in
# LAST_RC).
pub_from() {
	run_cmd timeout 15 mosquitto_pub -h 127.0.0.1 -p "$2" -A "$1" \
		--cafile "$PKI/ca.crt" -i "$3" -t "limits/$3" -q 1 -m "from-$1"
}

# burst PORT N: N TCP connects to PORT as fast as bash goes, each closed
# at once (no byte sent).
burst() {
	local port=$1 n=$2 i fd
	for i in $(seq 1 "$n"); do
		exec {fd}<>"/dev/tcp/127.0.0.1/$port"
		exec {fd}>&-
	done
}

# refusal_sum TEXT: lines of the gateway log with the fixed string TEXT
# plus their "(N more refused since the last line)" counts: every
# refusal of that kind, once the last burst's were reported.
refusal_sum() {
	local key lines flushed
	# The limit's key word, as the flush line names it ("N more refused
	# by KEY since the last line", written when a flood stops).
	case $1 in
	*handshakes_per_source*) key=handshakes_per_source ;;
	*max_connections_per_source*) key=max_connections_per_source ;;
	*) key=max_connections ;;
	esac
	lines=$(grep -F -- "$1" "$GW_LOG" |
		sed -n 's/.*(\([0-9][0-9]*\) more refused since the last line).*/\1/p' |
		awk '{ s += $1 + 1 } END { print s + 0 }')
	flushed=$(grep -F -- " more refused by $key since the last line" "$GW_LOG" |
		sed -n 's/.* \([0-9][0-9]*\) more refused by .*/\1/p' |
		awk '{ s += $1 } END { print s + 0 }')
	echo $((lines + flushed))
}

# new_gateway NAME [key=value ...]: a gateway with one policy 'main' on
# a new port (GW_PORT); the [gateway] keys as given.
new_gateway() {
	local name=$1
	shift
	GW_PORT=$(free_port)
	write_gateway_conf "$WORK/$name" "$@"
	write_default_policy "$WORK/$name/policies/main.ini" "$GW_PORT"
	start_gateway --name "$name" "$WORK/$name/tlsgw.ini"
}

make_pki
start_mosquitto --tls-version tlsv1.3

# ---------------------------------------------------------------------
say "=== 1. [gateway] max_connections = 5"
new_gateway gw-total max_connections=5 max_connections_per_source=0 \
	handshakes_per_source=0
held=()
for i in 1 2 3 4 5; do
	hold_device "total$i" "$GW_PORT" "limits-total-$i"
	held+=("$DEV_PID")
done
pass "5 devices connected and held"
TOTAL_LINE="max_connections (5) reached"
bear_refused "$GW_PORT" limits/total/6th
assert_log_contains "refused 127.0.0.1: $TOTAL_LINE (0 more refused since the last line)"

say "--- 52 refusals in a burst: rate-limited lines that count them all"
burst "$GW_PORT" 50
# The lines cover one second each: the last refusal reports the ones
# suppressed since the previous line.
sleep 1.2
burst "$GW_PORT" 1
for i in $(seq 1 30); do
	[ "$(refusal_sum "$TOTAL_LINE")" -ge 52 ] && break
	sleep 0.1
done
lines=$(grep -cF -- "$TOTAL_LINE" "$GW_LOG" || true)
sum=$(refusal_sum "$TOTAL_LINE")
say "refusal lines: $lines; lines + suppressed counts: $sum"
grep -F -- "$TOTAL_LINE" "$GW_LOG" | sed 's/^/    | /'
[ "$lines" -le 4 ] ||
	fail "$lines log lines for 52 refusals within about 2 s: expected at most 4 (one a second)"
pass "$lines log lines for 52 refusals (rate-limited to one a second)"
[ "$sum" -eq 52 ] ||
	fail "the refusal lines and their 'more refused' counts add up to $sum, expected 52 (1 device + 50 + 1)"
pass "lines + 'more refused since the last line' = 52: every refusal counted"
for pid in "${held[@]}"; do
	alive "$pid" || fail "held device (s_client pid $pid) lost its connection during the refusals"
done
pass "the 5 held devices are still connected"

say "--- one closes: a new device is accepted"
# Refused connections never become connections: the first close line
# is the stopped device's.
stop_pid "${held[0]}"
wait_close 1
bear_works "$GW_PORT" limits/total/again
assert_alive "$GW_PID" "tlsgw gw-total"
for pid in "${held[@]:1}"; do
	stop_pid "$pid"
done
stop_pid "$GW_PID"

# ---------------------------------------------------------------------
say "=== 2. [listen] max_connections = 2 on policy 'limited'; 'open' has no limit"
LIM_PORT=$(free_port)
OPEN_PORT=$(free_port)
write_gateway_conf "$WORK/gw-policy" max_connections_per_source=0 \
	handshakes_per_source=0
write_default_policy "$WORK/gw-policy/policies/limited.ini" "$LIM_PORT" \
	listen.max_connections=2
write_default_policy "$WORK/gw-policy/policies/open.ini" "$OPEN_PORT"
start_gateway --name gw-policy --listeners 2 "$WORK/gw-policy/tlsgw.ini"
held=()
for i in 1 2; do
	hold_device "lim$i" "$LIM_PORT" "limits-lim-$i"
	held+=("$DEV_PID")
done
pass "2 devices held on policy 'limited'"
from=$(log_lines)
bear_refused "$LIM_PORT" limits/policy/3rd
assert_log_contains "refused: policy 'limited' serves max_connections = 2 devices already"
wait_close 1
assert_field "$CLOSE_LINE" policy limited
case $CLOSE_LINE in
*' reason="policy max_connections"') pass "close reason: policy max_connections" ;;
*) fail "expected reason=\"policy max_connections\" in: $CLOSE_LINE" ;;
esac
say "--- policy 'open' on the other port still accepts while 'limited' is full"
for i in 1 2 3; do
	hold_device "open$i" "$OPEN_PORT" "limits-open-$i"
	held+=("$DEV_PID")
done
pass "3 devices held on policy 'open' (more than 'limited' allows)"
bear_works "$OPEN_PORT" limits/policy/open
bear_refused "$LIM_PORT" limits/policy/still-full
say "--- one 'limited' device closes: 'limited' accepts again"
stop_pid "${held[0]}"
for i in $(seq 1 50); do
	[ "$(count_since "$from" "close policy=limited")" -ge 3 ] && break
	sleep 0.1
done
[ "$(count_since "$from" "close policy=limited")" -ge 3 ] ||
	fail "no close line for the 'limited' device that was stopped"
bear_works "$LIM_PORT" limits/policy/again
assert_alive "$GW_PID" "tlsgw gw-policy"
for pid in "${held[@]:1}"; do
	stop_pid "$pid"
done
stop_pid "$GW_PID"

# ---------------------------------------------------------------------
say "=== 3. max_connections_per_source = 3"
new_gateway gw-source max_connections_per_source=3 handshakes_per_source=0
held=()
for i in 1 2 3; do
	hold_device "src$i" "$GW_PORT" "limits-src-$i"
	held+=("$DEV_PID")
done
pass "3 devices held from 127.0.0.1"
bear_refused "$GW_PORT" limits/source/4th
assert_log_contains "refused 127.0.0.1: max_connections_per_source (3) reached"
say "--- another source address, 127.0.0.2, is not limited by 127.0.0.1's devices"
pub_from 127.0.0.2 "$GW_PORT" limits-src2-pub
[ "$LAST_RC" -eq 0 ] || fail "mosquitto_pub from 127.0.0.2: expected exit 0, got $LAST_RC"
assert_log_matches '127\.0\.0\.2:[0-9]+ close policy=main .*upstream=TLS1\.3'
pass "a device from 127.0.0.2 published while 127.0.0.1 was at its limit"
for i in 1 2 3; do
	hold_sub "src2-$i" "$GW_PORT" 127.0.0.2 "limits-src2-$i"
	held+=("$DEV_PID")
done
pass "3 devices held from 127.0.0.2 as well (6 in all)"
# Refusal lines are one a second per kind of limit (not per source):
# let the second since 127.0.0.1's line pass, so this one is logged.
sleep 1.1
pub_from 127.0.0.2 "$GW_PORT" limits-src2-4th
[ "$LAST_RC" -ne 0 ] || fail "a 4th device from 127.0.0.2 was let in (max_connections_per_source = 3)"
assert_log_contains "refused 127.0.0.2: max_connections_per_source (3) reached"
say "--- one 127.0.0.1 device closes: 127.0.0.1 is admitted again"
from=$(close_count)
stop_pid "${held[0]}"
wait_close $((from + 1))
bear_works "$GW_PORT" limits/source/again
assert_alive "$GW_PID" "tlsgw gw-source"
for pid in "${held[@]:1}"; do
	stop_pid "$pid"
done
stop_pid "$GW_PID"

# ---------------------------------------------------------------------
say "=== 4. handshakes_per_source = 5 per second, bursts of 10"
new_gateway gw-rate handshakes_per_source=5 max_connections_per_source=0
RATE_LINE="more than handshakes_per_source (5) new connections per second"
from=$(log_lines)
burst "$GW_PORT" 30
sleep 0.5
admitted=$(count_since "$from" " accepted on ")
say "burst of 30 connects from 127.0.0.1: $admitted admitted"
# 10 tokens at first, 5 more a second: the burst lasts well under half
# a second even on a loaded machine.
{ [ "$admitted" -ge 10 ] && [ "$admitted" -le 13 ]; } ||
	fail "$admitted of 30 quick connects admitted: expected about 10 (a burst of 2 x 5, plus the few refilled during the burst)"
pass "$admitted of 30 admitted, $((30 - admitted)) refused"
assert_log_contains "refused 127.0.0.1: $RATE_LINE"
say "--- 127.0.0.2 is not limited by 127.0.0.1's burst"
pub_from 127.0.0.2 "$GW_PORT" limits-rate-other
[ "$LAST_RC" -eq 0 ] || fail "mosquitto_pub from 127.0.0.2 right after 127.0.0.1's burst: exit $LAST_RC"
pass "a device from 127.0.0.2 published right after 127.0.0.1's burst"
say "--- 2 s later 127.0.0.1 is admitted again"
sleep 2.1
bear_works "$GW_PORT" limits/rate/again
from=$(log_lines)
burst "$GW_PORT" 30
sleep 0.5
admitted2=$(count_since "$from" " accepted on ")
say "second burst of 30: $admitted2 admitted"
{ [ "$admitted2" -ge 8 ] && [ "$admitted2" -le 13 ]; } ||
	fail "$admitted2 of 30 admitted in the second burst: expected about 9 (the refilled burst of 10 less the device's connection)"
pass "$admitted2 of 30 admitted in the second burst: the bucket refills up to 10, not more"
# A last burst, a second later, gets refused too (about 5 tokens came
# back): its first refusal is logged with the count of the ones
# suppressed before it, so the lines account for every earlier refusal
# plus that one.
sleep 1.1
from=$(log_lines)
burst "$GW_PORT" 15
sleep 0.3
admitted3=$(count_since "$from" " accepted on ")
[ "$admitted3" -lt 15 ] || fail "all 15 connects of the last burst were admitted"
refused=$(((30 - admitted) + (30 - admitted2) + 1))
for i in $(seq 1 30); do
	[ "$(refusal_sum "$RATE_LINE")" -ge "$refused" ] && break
	sleep 0.1
done
lines=$(grep -cF -- "$RATE_LINE" "$GW_LOG" || true)
sum=$(refusal_sum "$RATE_LINE")
grep -F -- "$RATE_LINE" "$GW_LOG" | sed 's/^/    | /'
say "rate refusal lines: $lines; lines + suppressed counts: $sum; expected $refused"
# At least every refusal of the bursts is accounted for; the line that
# flushes a flood's unlogged tail may also count refusals of the checks
# that follow (they come from the same address within its window).
[ "$sum" -ge "$refused" ] ||
	fail "the rate refusal lines count $sum refusals, expected at least $refused"
[ "$lines" -le 5 ] || fail "$lines log lines for $refused rate refusals: not rate-limited"
pass "$lines lines account for all $refused rate refusals"
assert_alive "$GW_PID" "tlsgw gw-rate"
stop_pid "$GW_PID"

# ---------------------------------------------------------------------
say "=== 5. file descriptors exhausted"
# The held connections must outlive the test's pauses: a long handshake
# timeout.  The limit is lowered on the running gateway, so that it
# leaves exactly FREE descriptors for connections.
new_gateway gw-fds handshake_timeout=30 max_connections_per_source=0 \
	handshakes_per_source=0 drain_timeout=0
FREE=20
# The smallest limit under which exactly FREE descriptor numbers are
# free (descriptors inherited from the caller may sit anywhere).
open_fds=$(find "/proc/$GW_PID/fd" -mindepth 1 -maxdepth 1 -printf '%f\n' | sort -n)
limit=0
free=0
while [ "$free" -lt "$FREE" ]; do
	grep -qx "$limit" <<<"$open_fds" || free=$((free + 1))
	limit=$((limit + 1))
done
run_cmd prlimit --pid "$GW_PID" --nofile="$limit:$limit"
[ "$LAST_RC" -eq 0 ] || fail "prlimit --pid $GW_PID --nofile=$limit failed"
say "gateway descriptors: $(echo "$open_fds" | tr '\n' ' '); RLIMIT_NOFILE now $limit ($FREE free)"
PAUSE_LINE="accept failed, pausing accepts"

# exhaust N: open N raw connections, held in this shell (fds in CONNS);
# FREE of them get accepted, the rest wait in the listen backlog.
CONNS=()
exhaust() {
	local i fd
	for i in $(seq 1 "$1"); do
		exec {fd}<>"/dev/tcp/127.0.0.1/$GW_PORT"
		CONNS+=("$fd")
	done
}
# release: close every held connection.
release() {
	local fd
	for fd in "${CONNS[@]}"; do
		exec {fd}>&-
	done
	CONNS=()
}

for episode in 1 2; do
	say "--- episode $episode: $((FREE + 10)) connections for $FREE free descriptors"
	exhaust $((FREE + 10))
	wait_for_log "$PAUSE_LINE" "$GW_LOG" 5 || fail "no '$PAUSE_LINE' line"
	sleep 0.5
	# Every descriptor number under the limit is in use.
	now_fds=$(find "/proc/$GW_PID/fd" -mindepth 1 -maxdepth 1 -printf '%f\n' |
		awk -v l="$limit" '$1 < l' | wc -l)
	say "gateway descriptors under the limit in use: $now_fds of $limit"
	[ "$now_fds" -eq "$limit" ] ||
		fail "the gateway uses $now_fds of its $limit descriptors: nothing was exhausted"
	# A device arrives meanwhile: it waits in the backlog.  (Without
	# copies of the held connections: they would outlive release.)
	(
		for fd in "${CONNS[@]}"; do
			exec {fd}>&-
		done
		exec "$BEAR_CLIENT" --host 127.0.0.1 --port "$GW_PORT" --ca "$PKI/ca.crt" \
			--sni gw.demo.lan --profile tasmota-esp8266 --topic "limits/fds/$episode" \
			--payload-size 200 --count 1 --timeout 20
	) >"$WORK/fd-device-$episode.out" 2>&1 &
	DEVICE_PID=$!
	track_pid "$DEVICE_PID" "bear_client (waiting for descriptors)"
	# Accepting is retried once a second: over 3.5 s at least 3 retries
	# fail again, without a new line.
	sleep 3.5
	n=$(grep -cF -- "$PAUSE_LINE" "$GW_LOG" || true)
	[ "$n" -eq 1 ] ||
		fail "$n '$PAUSE_LINE' lines after episode $episode: expected one a minute, not one per retry or episode: $(grep -F -- "$PAUSE_LINE" "$GW_LOG")"
	pass "episode $episode: still one '$PAUSE_LINE' line after 3.5 s of retries"
	alive "$DEVICE_PID" || fail "the device did not wait in the backlog: $(cat "$WORK/fd-device-$episode.out")"
	release
	wait_exit "$DEVICE_PID" 15 || fail "the waiting device did not finish after the connections closed"
	rc=0
	wait "$DEVICE_PID" || rc=$?
	[ "$rc" -eq 0 ] ||
		fail "the device that waited during exhaustion failed (exit $rc): $(cat "$WORK/fd-device-$episode.out")"
	pass "accepting resumed: the device that waited in the backlog got through"
done
grep -F -- "$PAUSE_LINE" "$GW_LOG" | sed 's/^/    | /'
assert_log_contains "$PAUSE_LINE for 1 s: Too many open files"
bear_works "$GW_PORT" limits/fds/after
assert_alive "$GW_PID" "tlsgw gw-fds"

say "all limit checks passed in $(($(date +%s) - T0)) s"
