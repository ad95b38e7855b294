#!/bin/bash
# t_badinput.sh: junk on the device port costs one connection, never the
# gateway.  While an OpenSSL subscriber stays connected through the
# gateway and a BearSSL device connects and publishes in a loop, send: garbage bytes,
# an HTTP request, an SSLv2 hello, a truncated ClientHello that then goes
# quiet (handshake timeout), a connect-and-close, and a valid hello split
# over many TCP writes.  Each bad one gets its log line and a closed
# connection; the working clients complete and the gateway stays up.
# shellcheck source-path=SCRIPTDIR source=lib.sh disable=SC1091
. "$(dirname "$0")/lib.sh"

require_bin "$TLSGW"
require_bin "$BEAR_CLIENT"
require_bin "$RAWHELLO"
require_cmd mosquitto_sub mosquitto-clients
require_cmd mosquitto_pub mosquitto-clients

make_pki
start_mosquitto --tls-version tlsv1.3
GW_PORT=$(free_port)
# A short handshake timeout, so the truncated hello times out quickly.
write_gateway_conf "$WORK/gw" handshake_timeout=2
write_default_policy "$WORK/gw/policies/main.ini" "$GW_PORT"
start_gateway "$WORK/gw/tlsgw.ini"

# A long-lived subscriber through the gateway (TLS 1.3, OpenSSL).
mosquitto_sub -h 127.0.0.1 -p "$GW_PORT" --cafile "$PKI/ca.crt" \
	-i badinput-sub -t tlsgw/test/badinput -q 1 -C 1 -W 50 \
	>"$WORK/sub.out" 2>&1 &
SUB_PID=$!
track_pid "$SUB_PID" mosquitto_sub
wait_for_log "Received SUBSCRIBE from badinput-sub" "$BROKER_LOG" 10 ||
	fail "mosquitto_sub through the gateway did not subscribe: $(cat "$WORK/sub.out")"
pass "subscriber connected through the gateway"

# Meanwhile a BearSSL device (Tasmota profile) connects again and again,
# publishing 5 messages each time (and receiving each back), until the
# junk is over: every one of its runs must succeed.
(
	n=0
	while [ ! -e "$WORK/stop-devices" ]; do
		n=$((n + 1))
		"$BEAR_CLIENT" --host 127.0.0.1 --port "$GW_PORT" --ca "$PKI/ca.crt" \
			--sni gw.demo.lan --profile tasmota-esp8266 --topic tlsgw/test/device \
			--payload-size 2000 --count 5 --timeout 15 >"$WORK/device.out" 2>&1 ||
			{
				echo "run $n: exit $?: $(tail -n 1 "$WORK/device.out")" >>"$WORK/device-failures"
			}
		sleep 0.2
	done
	echo "$n" >"$WORK/device-runs"
) &
DEVICE_PID=$!
track_pid "$DEVICE_PID" "bear_client loop"

# bad MODE LOGTEXT [ARGS...]: rawhello in MODE must see the connection
# closed (exit 3) or get an alert (exit 2), never a ServerHello or a
# hang, and the gateway must log LOGTEXT once more than before.
bad() {
	local mode=$1 text=$2 before after i
	shift 2
	say "--- rawhello --mode $mode"
	before=$(grep -cF -- "$text" "$GW_LOG" || true)
	run_cmd "$RAWHELLO" --host 127.0.0.1 --port "$GW_PORT" --suites C02F \
		--sni gw.demo.lan --mode "$mode" "$@"
	assert_output_lacks serverhello
	case $LAST_RC in
	2 | 3) pass "$mode: connection refused or closed (exit $LAST_RC)" ;;
	*) fail "$mode: expected the gateway to close the connection (exit 2 or 3), got $LAST_RC" ;;
	esac
	for i in $(seq 1 50); do
		after=$(grep -cF -- "$text" "$GW_LOG" || true)
		[ "$after" -gt "$before" ] && break
		sleep 0.1
	done
	[ "$after" -gt "$before" ] || fail "$mode: no new '$text' line in the gateway log"
	pass "$mode: logged '$(grep -F -- "$text" "$GW_LOG" | tail -n 1)'"
	assert_alive "$GW_PID" tlsgw
}

bad garbage "not a TLS ClientHello: garbage"
bad http "not a TLS ClientHello: HTTP request"
bad sslv2 "not a TLS ClientHello: SSLv2"
# The hello is cut short and the client stays silent for longer than
# handshake_timeout (2 s): the gateway must give up and close.
bad truncated "handshake timeout" --hold 6

say "--- connect and close without a byte"
# Other devices connect meanwhile: find this one by its close reason.
empty='reason="device closed before hello"'
before=$(grep -cF -- "$empty" "$GW_LOG" || true)
exec 3<>"/dev/tcp/127.0.0.1/$GW_PORT"
exec 3>&-
for i in $(seq 1 50); do
	[ "$(grep -cF -- "$empty" "$GW_LOG" || true)" -gt "$before" ] && break
	sleep 0.1
done
CLOSE_LINE=$(grep -F -- "$empty" "$GW_LOG" | tail -n 1)
[ "$(grep -cF -- "$empty" "$GW_LOG" || true)" -gt "$before" ] ||
	fail "no close line with $empty for the empty connection"
pass "empty connection closed: $CLOSE_LINE"
assert_field "$CLOSE_LINE" device -
assert_alive "$GW_PID" tlsgw

say "--- a valid hello split over many writes is still served"
run_cmd "$RAWHELLO" --host 127.0.0.1 --port "$GW_PORT" --suites C02F \
	--sni gw.demo.lan --mode split
assert_output_matches '^serverhello version=0x0303 suite=0x[Cc]02[Ff]'

say "--- the working clients completed"
touch "$WORK/stop-devices"
wait "$DEVICE_PID" || true
[ -s "$WORK/device-runs" ] || fail "the device loop did not finish"
[ ! -e "$WORK/device-failures" ] ||
	fail "the device failed while junk arrived: $(cat "$WORK/device-failures")"
runs=$(cat "$WORK/device-runs")
[ "$runs" -ge 2 ] || fail "the device ran only $runs time(s) during the junk"
pass "bear_client connected $runs times during the junk, 5 messages each, all echoed back"
assert_exit 0 mosquitto_pub -h 127.0.0.1 -p "$GW_PORT" --cafile "$PKI/ca.crt" \
	-i badinput-pub -t tlsgw/test/badinput -q 1 -m still-here
rc=0
for _ in $(seq 1 100); do
	alive "$SUB_PID" || break
	sleep 0.1
done
wait "$SUB_PID" || rc=$?
[ "$rc" -eq 0 ] || fail "the long-lived mosquitto_sub exited $rc: $(cat "$WORK/sub.out")"
[ "$(cat "$WORK/sub.out")" = still-here ] ||
	fail "the long-lived mosquitto_sub did not receive 'still-here': $(cat "$WORK/sub.out")"
pass "the subscriber connected before the junk received the message published after it"
assert_alive "$GW_PID" tlsgw
say "all bad-input checks passed"
