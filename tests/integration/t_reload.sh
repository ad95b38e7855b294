#!/bin/bash
# t_reload.sh: SIGHUP reload and SIGTERM drain, with real peers.  One
# gateway in front of a TLS 1.3-only Mosquitto; one subscriber through the
# gateway (SUB_GW) stays connected from the start to the end and must see
# every message published to tlsgw/reload/... while the configuration
# changes under it.
#   1. Three QoS 1 publishers through the gateway, paced, while a SIGHUP
#      switches the policy from suites=compat to suites=modern: every
#      message arrives exactly once (at a subscriber on the broker's plain
#      listener and at SUB_GW), every publisher exits 0 and connects once,
#      no live connection is closed by the reload.  A MicroPython
#      1.20-like device (ECDHE CBC suites only) is accepted before the
#      reload and refused after it.
#   2. SIGHUPs with a broken policy (unknown key, bad port) and with an
#      address already in use: "reload: FILE:LINE: ..." / "reload
#      failed", the same PID keeps serving the previous configuration.
#   3. A second policy file on a new port + SIGHUP: served; removed +
#      SIGHUP: that port refuses connections, a connection made on it
#      before stays up; the first port keeps its socket and SUB_GW.
#   4. A certificate replaced by one that does not match its key: the
#      reload fails at the key's line, the old certificate stays served.
#   5. SIGTERM with live connections: new connects refused at once, exit 0
#      within drain_timeout + 6 s, the live devices get a close line with
#      reason="gateway stopping".
# shellcheck source-path=SCRIPTDIR source=lib.sh disable=SC1091
. "$(dirname "$0")/lib.sh"

require_bin "$TLSGW"
require_bin "$BEAR_CLIENT"
require_bin "$MBED_CLIENT"
require_bin "$RAWHELLO"
require_cmd mosquitto_sub mosquitto-clients
require_cmd mosquitto_pub mosquitto-clients
require_cmd openssl

T_START=$SECONDS

# ---------------------------------------------------------------------
# helpers

# untrack_pid PID: forget a PID recorded with track_pid (once the test has
# stopped and reaped it itself, so the cleanup never signals a reused PID).
untrack_pid() {
	local i pids=() names=()
	for i in "${!_pids[@]}"; do
		[ "${_pids[$i]}" = "$1" ] && continue
		pids+=("${_pids[$i]}")
		names+=("${_pid_names[$i]}")
	done
	_pids=("${pids[@]}")
	_pid_names=("${names[@]}")
}

# count FIXED-STRING [FILE]: lines of FILE (default the gateway log)
# holding the string.
count() {
	grep -cF -- "$1" "${2:-$GW_LOG}" 2>/dev/null || true
}

# open_conns: connections accepted and not yet closed.
open_conns() {
	echo $(($(count ' accepted on ') - $(close_count)))
}

# settle_to N: wait until at most N connections are still open (the
# long-lived subscribers); settle() from lib.sh would wait for them too.
settle_to() {
	local n=$1 i
	for i in $(seq 1 100); do
		[ "$(open_conns)" -le "$n" ] && return 0
		sleep 0.1
	done
	fail "expected $n open gateway connections, $(open_conns) still open"
}

# hup ok|fail: send SIGHUP and wait for the reload's outcome line.
HUP_N=0
hup() {
	local want=$1 ok0 bad0 i ok bad
	ok0=$(count 'reloaded: ')
	bad0=$(count 'reload failed')
	HUP_N=$((HUP_N + 1))
	say "--- SIGHUP #$HUP_N (expect: $want)"
	kill -HUP "$GW_PID"
	for i in $(seq 1 100); do
		ok=$(count 'reloaded: ')
		bad=$(count 'reload failed')
		[ "$ok" -gt "$ok0" ] || [ "$bad" -gt "$bad0" ] && break
		sleep 0.1
	done
	alive "$GW_PID" || fail "tlsgw exited on SIGHUP #$HUP_N"
	case $want in
	ok)
		[ "$bad" -eq "$bad0" ] ||
			fail "SIGHUP #$HUP_N: reload failed: $(grep -F 'reload' "$GW_LOG" | tail -n 5)"
		[ "$ok" -gt "$ok0" ] || fail "SIGHUP #$HUP_N: no 'reloaded:' line within 10 s"
		RELOAD_LINE=$(grep -F 'reloaded: ' "$GW_LOG" | tail -n 1)
		pass "SIGHUP #$HUP_N: $RELOAD_LINE"
		;;
	fail)
		[ "$ok" -eq "$ok0" ] ||
			fail "SIGHUP #$HUP_N: a broken configuration was accepted: $(grep -F 'reloaded: ' "$GW_LOG" | tail -n 1)"
		[ "$bad" -gt "$bad0" ] || fail "SIGHUP #$HUP_N: no 'reload failed' line within 10 s"
		pass "SIGHUP #$HUP_N: $(grep -F 'reload failed' "$GW_LOG" | tail -n 1)"
		;;
	esac
}

# device CLIENT PROFILE PORT TOPIC: one device session (no settle: the
# long-lived subscribers never close).  Output in LAST_OUT, exit LAST_RC.
device() {
	local client=$1 profile=$2 port=$3 topic=$4 bin=$BEAR_CLIENT
	[ "$client" = mbed_client ] && bin=$MBED_CLIENT
	run_cmd "$bin" --host 127.0.0.1 --port "$port" --ca "$PKI/ca.crt" \
		--sni gw.demo.lan --profile "$profile" --topic "$topic" \
		--payload-size 500 --count 1 --timeout 10
}

# device_ok CLIENT PROFILE PORT POLICY: the device publishes and gets its
# echo (exit 0), and its close line names POLICY.  Sets CLOSE_LINE.
device_ok() {
	local before
	settle_to "$LIVE"
	before=$(close_count)
	device "$1" "$2" "$3" "tlsgw/other/$2"
	[ "$LAST_RC" -eq 0 ] ||
		fail "$1 --profile $2 on port $3: expected exit 0, got $LAST_RC"
	wait_close $((before + 1))
	say "close line: $CLOSE_LINE"
	assert_field "$CLOSE_LINE" policy "$4"
	pass "$1 --profile $2 served on port $3 by policy '$4'"
}

# mpy120_refused: the MicroPython 1.20 profile (ECDHE CBC only) gets no
# handshake under suites=modern, and the gateway says so.
mpy120_refused() {
	local before addr line
	settle_to "$LIVE"
	before=$(close_count)
	device mbed_client micropython-mbedtls-1.20 "$GW_PORT" tlsgw/other/mpy
	[ "$LAST_RC" -eq 2 ] ||
		fail "micropython-mbedtls-1.20 under suites=modern: expected exit 2 (handshake), got $LAST_RC"
	wait_close $((before + 1))
	say "close line: $CLOSE_LINE"
	addr=$(conn_addr "$CLOSE_LINE")
	line=$(grep -F "$addr device handshake failed" "$GW_LOG" | tail -n 1 || true)
	[ -n "$line" ] || fail "no '$addr device handshake failed' line in the gateway log"
	say "log: $line"
	printf '%s\n' "$line" | grep -qF 'suites=modern' ||
		fail "the refusal does not name suites=modern: $line"
	pass "micropython-mbedtls-1.20 refused under suites=modern"
}

# publish TOPIC MESSAGE: one QoS 1 message through the gateway (port 1).
publish() {
	assert_exit 0 mosquitto_pub -h 127.0.0.1 -p "$GW_PORT" \
		--cafile "$PKI/ca.crt" -i "rl-pub-once-$RANDOM" -q 1 -t "$1" -m "$2"
}

# expect_line FILE LINE [SECONDS]: FILE gets the exact line.
expect_line() {
	local i
	for i in $(seq 1 $((${3:-10} * 10))); do
		grep -qxF -- "$2" "$1" && break
		sleep 0.1
	done
	grep -qxF -- "$2" "$1" ||
		fail "$(basename "$1") did not receive '$2': $(tail -n 3 "$1")"
	pass "$(basename "$1") received '$2'"
}

# served_fp: SHA-256 fingerprint of the RSA certificate the gateway serves
# (TLS 1.2 with an ECDHE-RSA suite, so the RSA chain is chosen).
served_fp() {
	openssl s_client -connect "127.0.0.1:$GW_PORT" -servername gw.demo.lan \
		-tls1_2 -cipher ECDHE-RSA-AES128-GCM-SHA256 </dev/null 2>/dev/null |
		openssl x509 -noout -fingerprint -sha256 2>/dev/null || true
}

# refused PORT: a TCP connect to 127.0.0.1:PORT is refused.
refused() {
	! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

# ---------------------------------------------------------------------
# set-up: PKI, broker, gateway with its own copies of the certificates

make_pki
start_mosquitto --tls-version tlsv1.3
GW_PORT=$(free_port)
P2_PORT=$(free_port)
CERTS=$WORK/gw/certs
mkdir -p "$CERTS"
cp -p "$PKI/gw-rsa.crt" "$CERTS/rsa.crt"
cp -p "$PKI/gw-rsa.key" "$CERTS/rsa.key"
cp -p "$PKI/gw-ec.crt" "$CERTS/ec.crt"
cp -p "$PKI/gw-ec.key" "$CERTS/ec.key"
MAIN=$WORK/gw/policies/main.ini
SECOND=$WORK/gw/policies/second.ini

# main_policy [section.key=value ...]: (re)write the main policy.
main_policy() {
	write_default_policy "$MAIN" "$GW_PORT" \
		"device.cert=$CERTS/rsa.crt" "device.key=$CERTS/rsa.key" \
		"device.cert_ecdsa=$CERTS/ec.crt" "device.key_ecdsa=$CERTS/ec.key" "$@"
}

# drain_timeout: used when the loader knows it, else the documented
# default (10 s) is the bound.
DRAIN=2
write_gateway_conf "$WORK/gw" idle_timeout=120 "drain_timeout=$DRAIN"
main_policy device.suites=compat
if ! "$TLSGW" -t -c "$WORK/gw/tlsgw.ini" >"$WORK/check.out" 2>&1; then
	say "tlsgw -t rejects drain_timeout: $(cat "$WORK/check.out")"
	grep -qF 'drain_timeout' "$WORK/check.out" ||
		fail "tlsgw -t rejects the configuration: $(cat "$WORK/check.out")"
	DRAIN_KEY=0
	DRAIN=10
	write_gateway_conf "$WORK/gw" idle_timeout=120
	assert_exit 0 "$TLSGW" -t -c "$WORK/gw/tlsgw.ini"
else
	DRAIN_KEY=1
fi
start_gateway "$WORK/gw/tlsgw.ini"
assert_log_contains "listening on 127.0.0.1:$GW_PORT policy 'main'"
assert_log_matches "ready \(1 policies, pid $GW_PID\)"
LIVE=0

# =====================================================================
say "=== 1. QoS 1 publishers across a SIGHUP that changes suites"

# Before: compat accepts the CBC-only MicroPython 1.20 profile.
device_ok mbed_client micropython-mbedtls-1.20 "$GW_PORT" main
case $(field "$CLOSE_LINE" suite) in
*_CBC_*) pass "micropython-mbedtls-1.20 got a CBC suite under compat: $(field "$CLOSE_LINE" suite)" ;;
*) fail "expected a CBC suite for micropython-mbedtls-1.20, got $(field "$CLOSE_LINE" suite)" ;;
esac

# SUB_GW: through the gateway, for the whole test; SUB_DIRECT: at the
# broker's plain listener, the reference count.
mosquitto_sub -h 127.0.0.1 -p "$GW_PORT" --cafile "$PKI/ca.crt" -i rl-sub-gw \
	-q 1 -v -t 'tlsgw/reload/#' >"$WORK/sub_gw.out" 2>"$WORK/sub_gw.err" &
SUB_GW=$!
track_pid "$SUB_GW" "mosquitto_sub via gateway"
mosquitto_sub -h 127.0.0.1 -p "$BROKER_PLAIN_PORT" -i rl-sub-direct \
	-q 1 -v -t 'tlsgw/reload/q/#' >"$WORK/sub_direct.out" 2>"$WORK/sub_direct.err" &
SUB_DIRECT=$!
track_pid "$SUB_DIRECT" "mosquitto_sub direct"
wait_for_log "Received SUBSCRIBE from rl-sub-gw" "$BROKER_LOG" 10 ||
	fail "mosquitto_sub through the gateway did not subscribe: $(cat "$WORK/sub_gw.err")"
wait_for_log "Received SUBSCRIBE from rl-sub-direct" "$BROKER_LOG" 10 ||
	fail "mosquitto_sub at the broker did not subscribe: $(cat "$WORK/sub_direct.err")"
LIVE=1
settle_to "$LIVE"
C0=$(close_count)

NMSG=40
PUBS=()
: >"$WORK/expected.txt"
for k in 1 2 3; do
	for i in $(seq 1 "$NMSG"); do
		echo "tlsgw/reload/q/dev$k dev$k-$i" >>"$WORK/expected.txt"
	done
	(for i in $(seq 1 "$NMSG"); do echo "dev$k-$i"; sleep 0.1; done) |
		mosquitto_pub -h 127.0.0.1 -p "$GW_PORT" --cafile "$PKI/ca.crt" \
			-i "rl-pub$k" -q 1 -t "tlsgw/reload/q/dev$k" -l \
			>"$WORK/pub$k.out" 2>&1 &
	PUBS+=("$!")
	track_pid "$!" "mosquitto_pub dev$k"
done
sort "$WORK/expected.txt" >"$WORK/expected.sorted"

# In the middle: every publisher has got 3 messages through.
for k in 1 2 3; do
	for i in $(seq 1 200); do
		[ "$(grep -c "^tlsgw/reload/q/dev$k " "$WORK/sub_direct.out" || true)" -ge 3 ] && break
		sleep 0.05
	done
	[ "$(grep -c "^tlsgw/reload/q/dev$k " "$WORK/sub_direct.out" || true)" -ge 3 ] ||
		fail "publisher dev$k did not get 3 messages through in 10 s: $(cat "$WORK/pub$k.out")"
done
say "$(wc -l <"$WORK/sub_direct.out") of $((3 * NMSG)) messages through before the reload"
main_policy device.suites=modern
hup ok
assert_log_contains "listening on 127.0.0.1:$GW_PORT policy 'main' -> 127.0.0.1:$BROKER_PORT (suites=modern"
n=$(printf '%s\n' "$RELOAD_LINE" | sed -n 's/.*policies; \([0-9]*\) live connections.*/\1/p')
[ "${n:-0}" -eq 4 ] ||
	fail "expected 4 live connections (3 publishers + subscriber) at the reload: $RELOAD_LINE"
pass "the reload saw $n live connections"
got=$(wc -l <"$WORK/sub_direct.out")
[ "$got" -lt $((3 * NMSG)) ] ||
	fail "the reload came after the publishers had finished ($got messages already)"
for k in 1 2 3; do
	alive "${PUBS[$((k - 1))]}" || fail "publisher dev$k ended before/at the reload"
done
pass "all 3 publishers still running after the reload ($got of $((3 * NMSG)) messages through)"

# Until the publishers end, no connection may close before a publisher
# has sent its last message: closed connections (sampled first) never
# outnumber the publishers the broker has all NMSG messages from (a
# publisher disconnects only after the PUBACK of its last message).
samples=0
while alive "${PUBS[0]}" || alive "${PUBS[1]}" || alive "${PUBS[2]}"; do
	closed=$(($(close_count) - C0))
	done_pubs=0
	for k in 1 2 3; do
		[ "$(grep -cF "Received PUBLISH from rl-pub$k " "$BROKER_LOG" || true)" -ge "$NMSG" ] &&
			done_pubs=$((done_pubs + 1))
	done
	[ "$closed" -le "$done_pubs" ] ||
		fail "$closed connection(s) closed while only $done_pubs publisher(s) had finished: $(grep ' close policy=' "$GW_LOG" | tail -n "$closed")"
	samples=$((samples + 1))
	sleep 0.1
done
pass "no connection closed before its publisher had finished ($samples samples after the reload)"
for k in 1 2 3; do
	rc=0
	wait "${PUBS[$((k - 1))]}" || rc=$?
	[ "$rc" -eq 0 ] || fail "mosquitto_pub dev$k exited $rc: $(cat "$WORK/pub$k.out")"
	n=$(grep -cF "as rl-pub$k " "$BROKER_LOG" || true)
	[ "$n" -eq 1 ] || fail "rl-pub$k connected $n times to the broker (a reconnect?)"
	wait_for_log "Received DISCONNECT from rl-pub$k" "$BROKER_LOG" 5 ||
		fail "rl-pub$k did not end with an MQTT DISCONNECT at the broker"
	untrack_pid "${PUBS[$((k - 1))]}"
done
pass "every publisher exited 0, connected once and sent DISCONNECT"

# Their close lines: the session ended (the device's DISCONNECT, then
# whichever side's EOF the gateway saw first), not a timeout or error.
wait_close $((C0 + 3))
grep ' close policy=' "$GW_LOG" | sed -n "$((C0 + 1)),\$p" >"$WORK/pub_closes.txt"
[ "$(wc -l <"$WORK/pub_closes.txt")" -eq 3 ] ||
	fail "expected 3 close lines (the publishers), got: $(cat "$WORK/pub_closes.txt")"
while read -r line; do
	say "close line: $line"
	assert_field "$line" policy main
	printf '%s\n' "$line" | grep -qE 'reason="(device|upstream) closed"' ||
		fail "a publisher's connection did not end with its session: $line"
done <"$WORK/pub_closes.txt"
pass "the 3 publisher connections ended with their MQTT sessions"

# Every message exactly once, at both subscribers.
for f in sub_direct sub_gw; do
	for i in $(seq 1 50); do
		[ "$(grep -c '^tlsgw/reload/q/' "$WORK/$f.out" || true)" -ge $((3 * NMSG)) ] && break
		sleep 0.1
	done
	grep '^tlsgw/reload/q/' "$WORK/$f.out" | sort >"$WORK/$f.sorted" || true
	if ! diff "$WORK/expected.sorted" "$WORK/$f.sorted" >"$WORK/$f.diff"; then
		fail "$f: not every message exactly once ($(grep -c '^<' "$WORK/$f.diff" || true) missing, $(grep -c '^>' "$WORK/$f.diff" || true) extra): $(head -n 10 "$WORK/$f.diff" | tr '\n' ' ')"
	fi
	pass "$f received all $((3 * NMSG)) messages exactly once"
done
alive "$SUB_GW" || fail "the subscriber through the gateway died: $(cat "$WORK/sub_gw.err")"
[ "$(close_count)" -eq $((C0 + 3)) ] ||
	fail "unexpected close line: $(grep ' close policy=' "$GW_LOG" | tail -n 1)"
pass "the subscriber through the gateway (connected before the reload) is still up"

# After: a new connection gets the new policy.
mpy120_refused
device_ok bear_client tasmota-esp8266 "$GW_PORT" main

# =====================================================================
say "=== 2. broken configurations are refused, the running one stays"

main_policy device.suites=modern
sed -i '/^address = /a colour = blue' "$MAIN"
line=$(line_of "$MAIN" "colour = blue")
hup fail
assert_log_matches "reload: .*/policies/main\.ini:$line: .*colour"

main_policy device.suites=modern listen.address=127.0.0.1:99999
line=$(line_of "$MAIN" "address = ")
hup fail
assert_log_matches "reload: .*/policies/main\.ini:$line: .*99999"

# A new address that cannot be bound (the broker's plain port).
main_policy device.suites=modern
write_default_policy "$SECOND" "$BROKER_PLAIN_PORT"
hup fail
assert_log_contains "127.0.0.1:$BROKER_PLAIN_PORT: cannot listen (policy 'second'"
rm -f "$SECOND"
port_listening "$BROKER_PLAIN_PORT" || fail "the broker's plain port stopped listening"

alive "$GW_PID" || fail "tlsgw (pid $GW_PID) died after the failed reloads"
[ "$(count ' ready (')" -eq 1 ] || fail "tlsgw restarted: $(grep -F ' ready (' "$GW_LOG")"
pass "same tlsgw process (pid $GW_PID), started once"
device_ok bear_client tasmota-esp8266 "$GW_PORT" main
mpy120_refused
publish tlsgw/reload/mark after-failed-reloads
expect_line "$WORK/sub_gw.out" "tlsgw/reload/mark after-failed-reloads"

# =====================================================================
say "=== 3. listeners follow the configuration"

ino_before=$(ss -Hltne "( sport = :$GW_PORT )" | grep -o 'ino:[0-9]*')
[ -n "$ino_before" ] || fail "no listening socket on $GW_PORT"
refused "$P2_PORT" || fail "port $P2_PORT is open before its policy exists"
write_default_policy "$SECOND" "$P2_PORT"
hup ok
assert_log_contains "listening on 127.0.0.1:$P2_PORT policy 'second'"
device_ok bear_client tasmota-esp8266 "$P2_PORT" second
device_ok mbed_client micropython-mbedtls-1.20 "$P2_PORT" second

# A subscriber on port 2, connected before the port goes away.
mosquitto_sub -h 127.0.0.1 -p "$P2_PORT" --cafile "$PKI/ca.crt" -i rl-sub-p2 \
	-q 1 -v -t 'tlsgw/reload/#' >"$WORK/sub_p2.out" 2>"$WORK/sub_p2.err" &
SUB_P2=$!
track_pid "$SUB_P2" "mosquitto_sub via port 2"
wait_for_log "Received SUBSCRIBE from rl-sub-p2" "$BROKER_LOG" 10 ||
	fail "mosquitto_sub through port $P2_PORT did not subscribe: $(cat "$WORK/sub_p2.err")"
LIVE=2

rm -f "$SECOND"
hup ok
assert_log_contains "127.0.0.1:$P2_PORT: no policy uses this address any more: closed"
assert_exit 1 "$RAWHELLO" --host 127.0.0.1 --port "$P2_PORT" --hold 3
assert_output_contains "stage=connect"
refused "$P2_PORT" || fail "port $P2_PORT still accepts connections after its policy was removed"
pass "port $P2_PORT refuses connections"
ino_after=$(ss -Hltne "( sport = :$GW_PORT )" | grep -o 'ino:[0-9]*')
[ "$ino_after" = "$ino_before" ] ||
	fail "the listening socket of port $GW_PORT changed ($ino_before -> $ino_after)"
pass "port $GW_PORT kept its listening socket ($ino_after) across 5 reloads"
publish tlsgw/reload/mark after-remove
expect_line "$WORK/sub_gw.out" "tlsgw/reload/mark after-remove"
expect_line "$WORK/sub_p2.out" "tlsgw/reload/mark after-remove"
pass "connections made before the reloads on both ports still relay"
device_ok bear_client tasmota-esp8266 "$GW_PORT" main

# =====================================================================
say "=== 4. a certificate that does not match its key"

fp_file=$(openssl x509 -in "$CERTS/rsa.crt" -noout -fingerprint -sha256)
fp_before=$(served_fp)
say "served: $fp_before"
[ -n "$fp_before" ] || fail "no certificate served on port $GW_PORT"
[ "$fp_before" = "$fp_file" ] ||
	fail "served RSA certificate '$fp_before' is not $CERTS/rsa.crt ('$fp_file')"
cp -p "$CERTS/rsa.crt" "$WORK/rsa.crt.orig"
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$WORK/other.key" \
	-subj "/O=tlsgw demo/CN=gw.demo.lan" -days 2 -sha256 \
	-out "$WORK/other.crt" >"$WORK/req.out" 2>&1 ||
	fail "openssl req failed: $(cat "$WORK/req.out")"
fp_other=$(openssl x509 -in "$WORK/other.crt" -noout -fingerprint -sha256)
cat "$WORK/other.crt" >"$CERTS/rsa.crt"
line=$(line_of "$MAIN" "key = $CERTS/rsa.key")
hup fail
assert_log_matches "reload: .*/policies/main\.ini:$line: .*does not match"
fp_after=$(served_fp)
say "served: $fp_after"
[ "$fp_after" = "$fp_before" ] ||
	fail "after the failed reload the gateway serves '$fp_after', not the old '$fp_before' (new file: '$fp_other')"
pass "the old certificate is still served"
cat "$WORK/rsa.crt.orig" >"$CERTS/rsa.crt"
hup ok
[ "$(served_fp)" = "$fp_before" ] || fail "the restored certificate is not served"
pass "the restored certificate reloads and is served"
alive "$SUB_GW" || fail "the subscriber through the gateway died: $(cat "$WORK/sub_gw.err")"
alive "$SUB_P2" || fail "the subscriber through port 2 died: $(cat "$WORK/sub_p2.err")"

# =====================================================================
say "=== 5. SIGTERM with live connections"

settle_to "$LIVE"
[ "$(open_conns)" -eq 2 ] || fail "expected the 2 subscribers open, $(open_conns) open"
C5=$(close_count)
t0=$SECONDS
kill -TERM "$GW_PID"
wait_for_log "signal 15: stopping" "$GW_LOG" 5 || fail "tlsgw did not log 'signal 15: stopping' within 5 s"
refused "$GW_PORT" || fail "port $GW_PORT still accepts connections once tlsgw logged the SIGTERM"
pass "port $GW_PORT refuses new connections as soon as the SIGTERM is logged"
assert_exit 1 "$RAWHELLO" --host 127.0.0.1 --port "$GW_PORT" --hold 3
assert_output_contains "stage=connect"
assert_log_matches "signal 15: stopping; 2 live connections may drain for up to [0-9]+ s"
if [ "$DRAIN_KEY" = 1 ]; then
	sleep 1
	[ "$(close_count)" -eq "$C5" ] ||
		fail "drain_timeout=$DRAIN: a live connection closed after 1 s: $(grep ' close policy=' "$GW_LOG" | tail -n 1)"
	assert_log_contains "may drain for up to $DRAIN s"
	pass "live connections still open 1 s into the $DRAIN s drain"
else
	say "drain_timeout not known to the loader: $(grep -F 'may drain' "$GW_LOG")"
fi
for i in $(seq 1 $(((DRAIN + 6) * 10))); do
	alive "$GW_PID" || break
	sleep 0.1
done
alive "$GW_PID" && fail "tlsgw still running $((SECONDS - t0)) s after SIGTERM (drain_timeout $DRAIN + 6 s)"
rc=0
wait "$GW_PID" || rc=$?
untrack_pid "$GW_PID"
[ "$rc" -eq 0 ] || fail "tlsgw exited $rc after SIGTERM"
pass "tlsgw exited 0 about $((SECONDS - t0)) s after SIGTERM"
grep ' close policy=' "$GW_LOG" | sed -n "$((C5 + 1)),\$p" >"$WORK/stop_closes.txt"
[ "$(grep -cF 'reason="gateway stopping"' "$WORK/stop_closes.txt" || true)" -eq 2 ] ||
	fail "expected 2 close lines with reason=\"gateway stopping\", got: $(cat "$WORK/stop_closes.txt")"
while read -r line; do say "close line: $line"; done <"$WORK/stop_closes.txt"
pass "both live subscribers got a close line with reason=\"gateway stopping\""

say "all reload checks passed in $((SECONDS - T_START)) s"
