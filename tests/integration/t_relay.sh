#!/bin/bash
# t_relay.sh: the life of a relayed connection, with real peers on
# 127.0.0.1 (Mosquitto TLS 1.3-only upstream, OpenSSL, BearSSL and mbedTLS
# devices, a raw TCP client):
#   1. idle timeout: a silent device is closed (reason="idle timeout");
#   2. handshake timeout: a truncated ClientHello, and a device that sends
#      nothing at all, are closed (reason="handshake timeout");
#   3. large messages both ways, within the device's MFL;
#   4. backpressure: a stopped subscriber flooded with 40 MB cannot make
#      the gateway's memory grow (buffer_size = 16k);
#   5. half-close: "device closed" and "upstream closed" (session
#      take-over by the broker), with a clean end for the device;
#   6. [device] client_ca: a device certificate from the CA is required;
#   7. user = nobody: the privilege drop (as root), or the documented
#      warning when not started as root;
#   8. SIGTERM with a live connection: exit 0, "gateway stopping".
# Two gateways: A with 2 s timeouts (1, 2); B with buffer_size = 16k and
# user = nobody, serving a plain policy and a client_ca policy (3 to 8).
#
# Devices that must stay connected and silent are openssl s_client
# sending a raw MQTT CONNECT: mosquitto_sub reconnects by itself when
# its connection is closed, so it never "ends" and would fight the
# session take-over; s_client -quiet (which implies -ign_eof) exits
# exactly when the gateway ends the connection, and OpenSSL 3 reports
# "unexpected eof" when that end came without close_notify.
# shellcheck source-path=SCRIPTDIR source=lib.sh disable=SC1091
. "$(dirname "$0")/lib.sh"

require_bin "$TLSGW"
require_bin "$BEAR_CLIENT"
require_bin "$MBED_CLIENT"
require_bin "$RAWHELLO"
require_cmd mosquitto_sub mosquitto-clients
require_cmd mosquitto_pub mosquitto-clients
require_cmd openssl
require_cmd ss iproute2

T0=$(date +%s)

# ---------------------------------------------------------------------
# helpers

# start_silent_device NAME PORT ID: openssl s_client connects to the
# gateway on PORT (verifying gw.demo.lan against the test CA), sends an
# MQTT CONNECT for client ID and then stays silent until the gateway ends
# the connection.  Waits until the broker has the client; sets DEV_PID,
# DEV_ADDR (the device's IP:port as the gateway logs it) and DEV_FROM
# (the gateway log's length before it connected).
start_silent_device() {
	local name=$1 port=$2 id=$3 i
	DEV_FROM=$(log_lines)
	mqtt_connect "$WORK/$name.connect" "$id"
	openssl s_client -quiet -connect "127.0.0.1:$port" -servername gw.demo.lan \
		-verify_hostname gw.demo.lan -verify_return_error \
		-CAfile "$PKI/ca.crt" <"$WORK/$name.connect" \
		>"$WORK/$name.out" 2>"$WORK/$name.err.out" &
	DEV_PID=$!
	track_pid "$DEV_PID" "s_client $name"
	wait_for_log "as $id " "$BROKER_LOG" 10 ||
		fail "device $name (s_client) did not reach the broker: $(cat "$WORK/$name.err.out")"
	DEV_ADDR=""
	for i in $(seq 1 30); do
		DEV_ADDR=$(dev_addr "$DEV_PID" "$port")
		[ -n "$DEV_ADDR" ] && break
		sleep 0.1
	done
	[ -n "$DEV_ADDR" ] || fail "no established connection of s_client $name to port $port"
	say "device $name: s_client pid $DEV_PID from $DEV_ADDR, MQTT client id $id"
}

# assert_reason LINE REASON: the line ends with reason="REASON".
assert_reason() {
	case $1 in
	*" reason=\"$2\"") pass "reason=\"$2\"" ;;
	*) fail "expected reason=\"$2\" in: $1" ;;
	esac
}

make_pki

# ---------------------------------------------------------------------
say "=== gateway A: handshake_timeout = 2, idle_timeout = 2"
start_mosquitto --tls-version tlsv1.3
GWA_PORT=$(free_port)
write_gateway_conf "$WORK/gwa" handshake_timeout=2 idle_timeout=2
write_default_policy "$WORK/gwa/policies/main.ini" "$GWA_PORT"
start_gateway --name gateway-a "$WORK/gwa/tlsgw.ini"
GWA_PID=$GW_PID

say "--- 1. idle timeout"
start_silent_device idle "$GWA_PORT" relay-idle
wait_exit "$DEV_PID" 6 ||
	fail "the silent device is still connected 6 s after connecting (idle_timeout = 2)"
pass "the silent device's connection ended (s_client exited)"
close_line_of "$DEV_ADDR" "$DEV_FROM" 2
assert_reason "$CLOSE_LINE" "idle timeout"
ms=$(duration_ms "$CLOSE_LINE")
{ [ "$ms" -ge 2000 ] && [ "$ms" -le 5000 ]; } ||
	fail "idle timeout after $ms ms: expected 2000-5000 ms with idle_timeout = 2"
pass "closed after ${ms} ms of silence (idle_timeout = 2)"
assert_field "$CLOSE_LINE" upstream TLS1.3
got=$(field "$CLOSE_LINE" out)
[ "${got:-0}" -ge 4 ] || fail "expected the broker's CONNACK (out >= 4) before the silence, got out=$got"
pass "out=$got (the CONNACK reached the device before the silence)"
if grep -qi "unexpected eof" "$WORK/idle.err.out"; then
	fail "s_client saw no close_notify: $(cat "$WORK/idle.err.out")"
fi
pass "the device got close_notify before the end"

say "--- 2a. handshake timeout: truncated ClientHello"
before=$(close_count)
start=$(now_ms)
run_cmd "$RAWHELLO" --host 127.0.0.1 --port "$GWA_PORT" --sni gw.demo.lan \
	--mode truncated --hold 6
el=$(($(now_ms) - start))
[ "$LAST_RC" -eq 3 ] ||
	fail "rawhello --mode truncated: expected the gateway to close the connection (exit 3), got exit $LAST_RC after $el ms"
{ [ "$el" -ge 1500 ] && [ "$el" -le 5000 ]; } ||
	fail "the truncated hello was closed after $el ms: expected about 2000 ms"
pass "the truncated hello was closed by the gateway after $el ms"
wait_close $((before + 1))
say "close line: $CLOSE_LINE"
assert_reason "$CLOSE_LINE" "handshake timeout"
assert_log_contains "handshake timeout after 2 s (no complete ClientHello)"

say "--- 2b. handshake timeout: TCP connect, then nothing"
before=$(close_count)
start=$(now_ms)
exec 8<>"/dev/tcp/127.0.0.1/$GWA_PORT"
set +e
timeout 6 cat <&8 >/dev/null
rc=$?
set -e
exec 8<&-
el=$(($(now_ms) - start))
[ "$rc" -eq 0 ] || fail "a silent TCP client was not disconnected within 6 s (handshake_timeout = 2)"
{ [ "$el" -ge 1500 ] && [ "$el" -le 5000 ]; } ||
	fail "the silent TCP client was closed after $el ms: expected about 2000 ms"
pass "the silent TCP client was closed by the gateway after $el ms"
wait_close $((before + 1))
say "close line: $CLOSE_LINE"
assert_reason "$CLOSE_LINE" "handshake timeout"
assert_alive "$GWA_PID" "tlsgw A"
stop_pid "$GWA_PID"

# ---------------------------------------------------------------------
say "=== gateway B: buffer_size = 16k, user = nobody; policies main and mtls"
require_cmd id coreutils
GW_PORT=$(free_port)
MTLS_PORT=$(free_port)
write_gateway_conf "$WORK/gwb" buffer_size=16k user=nobody drain_timeout=1
write_default_policy "$WORK/gwb/policies/main.ini" "$GW_PORT"
write_default_policy "$WORK/gwb/policies/mtls.ini" "$MTLS_PORT" \
	"device.client_ca=$PKI/ca.crt"
start_gateway --name gateway-b --listeners 2 "$WORK/gwb/tlsgw.ini"

say "--- 7. privilege drop (user = nobody)"
if [ "$(id -u)" -eq 0 ]; then
	uid=$(id -u nobody)
	gid=$(id -g nobody)
	st_uid=$(awk '/^Uid:/ {print $2, $3, $4, $5}' "/proc/$GW_PID/status")
	st_gid=$(awk '/^Gid:/ {print $2, $3, $4, $5}' "/proc/$GW_PID/status")
	[ "$st_uid" = "$uid $uid $uid $uid" ] ||
		fail "started as root with user = nobody: expected Uid $uid (real, effective, saved, fs), /proc/$GW_PID/status has Uid: $st_uid"
	pass "Uid: $st_uid (nobody)"
	[ "$st_gid" = "$gid $gid $gid $gid" ] ||
		fail "started as root with user = nobody: expected Gid $gid, /proc/$GW_PID/status has Gid: $st_gid"
	pass "Gid: $st_gid (nobody's group)"
	st_groups=$(awk '/^Groups:/ {$1 = ""; print}' "/proc/$GW_PID/status" | xargs)
	[ -z "$st_groups" ] || [ "$st_groups" = "$gid" ] ||
		fail "supplementary groups kept after the drop: Groups: $st_groups"
	pass "supplementary groups: ${st_groups:-none}"
	assert_log_contains "running as user nobody (uid $uid, gid $gid)"
	# The keys are root's, mode 0600: nobody could not read them, so the
	# devices served below prove they were loaded before the drop.
	for k in gw-rsa.key gw-ec.key; do
		[ "$(stat -c '%u %a' "$PKI/$k")" = "0 600" ] ||
			fail "$PKI/$k should be owned by root with mode 600: $(stat -c '%U %a' "$PKI/$k")"
	done
	pass "the device keys are root's, mode 600 (unreadable by nobody): loaded before the drop"
elif [ "$(id -u)" -eq "$(id -u nobody)" ]; then
	# Already nobody: nothing to switch, nothing to warn about.
	wait_for_log "ready (" "$GW_LOG" 5 || fail "tlsgw B did not log 'ready'"
	assert_log_lacks "user = nobody ignored"
	st_uid=$(awk '/^Uid:/ {print $2}' "/proc/$GW_PID/status")
	[ "$st_uid" = "$(id -u)" ] || fail "expected the gateway to keep uid $(id -u), got $st_uid"
	pass "running as nobody already: the gateway keeps uid $st_uid"
else
	assert_log_contains "user = nobody ignored: not started as root"
	st_uid=$(awk '/^Uid:/ {print $2}' "/proc/$GW_PID/status")
	[ "$st_uid" = "$(id -u)" ] || fail "not root: expected the gateway to keep uid $(id -u), got $st_uid"
	pass "not root: the gateway keeps uid $st_uid"
fi
# core_dumps defaults to no: keys and passwords stay out of core files.
core=$(awk '/^Max core file size/ {print $5, $6}' "/proc/$GW_PID/limits")
[ "$core" = "0 0" ] || fail "core dumps not disabled: Max core file size $core"
pass "core dumps disabled (soft and hard limit 0)"

say "--- 3. large messages both ways"
device_client bear_client tasmota-esp8266 "$GW_PORT" relay/large/bear \
	--payload-size 200000 --count 3 --timeout 30
[ "$LAST_RC" -eq 0 ] ||
	fail "bear_client tasmota-esp8266, 3 x 200000 bytes: exit $LAST_RC (7: a record larger than MFL 1024)"
res=$(grep '^ok ' "$WORK/last.out" | tail -n 1)
assert_field "$res" received 3
assert_field "$res" mfl 1024
assert_field "$res" mfl_ack yes
got=$(field "$res" max_record)
# 1024 bytes of plaintext plus the AEAD nonce and tag (and at most the
# 320 bytes of slack the client itself allows for CBC suites).
{ [ "${got:-0}" -gt 1000 ] && [ "$got" -le $((1024 + 320)) ]; } ||
	fail "max_record=$got: expected full records within MFL 1024 (1001-1344 bytes)"
pass "max_record=$got within MFL 1024"
device_client mbed_client esp-idf-5 "$GW_PORT" relay/large/mbed \
	--payload-size 1000000 --count 2 --timeout 30
[ "$LAST_RC" -eq 0 ] || fail "mbed_client esp-idf-5, 2 x 1000000 bytes: exit $LAST_RC"
res=$(grep '^ok ' "$WORK/last.out" | tail -n 1)
assert_field "$res" received 2

say "--- 4. backpressure: a stopped subscriber, 40 MB sent, buffer_size = 16k"
# What is measured: the gateway's resident memory while 400 QoS 0
# messages of 100 kB (40 MB) are published, at the broker's plain
# listener, to the one subscriber, which reads through the gateway but is
# stopped (SIGSTOP).  The subscriber's socket buffers fill, then the
# gateway's output to it reaches buffer_size, then the gateway stops
# reading from the broker: the rest must wait in the kernel's socket
# buffers and in Mosquitto (whose memory may grow; not measured).  A
# gateway that kept reading would hold the whole flood: 40 MB.
head -c 100000 /dev/zero | tr '\0' 'f' >"$WORK/flood.bin"
slow_from=$(log_lines)
mosquitto_sub -h 127.0.0.1 -p "$GW_PORT" --cafile "$PKI/ca.crt" \
	-i relay-slow -t relay/flood -q 0 -k 60 >/dev/null 2>"$WORK/slow-sub.out" &
SLOW_PID=$!
track_pid "$SLOW_PID" "mosquitto_sub (stopped)"
wait_for_log "Received SUBSCRIBE from relay-slow" "$BROKER_LOG" 10 ||
	fail "the slow subscriber did not subscribe through the gateway: $(cat "$WORK/slow-sub.out")"
slow_addr=$(dev_addr "$SLOW_PID" "$GW_PORT")
[ -n "$slow_addr" ] || fail "no established connection of the slow subscriber"
kill -STOP "$SLOW_PID"
sleep 0.5
rss0=$(rss_kb "$GW_PID")
say "gateway VmRSS before the flood: $rss0 kB"
mosquitto_pub -h 127.0.0.1 -p "$BROKER_PLAIN_PORT" -i relay-flood -t relay/flood \
	-q 0 -f "$WORK/flood.bin" --repeat 400 >"$WORK/flood.out" 2>&1 &
FLOOD_PID=$!
track_pid "$FLOOD_PID" "mosquitto_pub flood"
rss_max=$rss0
for i in $(seq 1 150); do
	r=$(rss_kb "$GW_PID")
	[ "$r" -gt "$rss_max" ] && rss_max=$r
	alive "$FLOOD_PID" || break
	sleep 0.1
done
# Let the broker push what it can, then sample again.
sleep 1
for i in 1 2 3 4 5; do
	r=$(rss_kb "$GW_PID")
	[ "$r" -gt "$rss_max" ] && rss_max=$r
	sleep 0.1
done
wait "$FLOOD_PID" || fail "mosquitto_pub (flood) failed: $(cat "$WORK/flood.out")"
# Where the flood waits (ss): the broker's send queue towards the
# gateway, and the gateway's own socket receive queue from the broker
# (bytes the kernel holds because the gateway stopped reading), and the
# gateway's socket send queue towards the stopped device.
broker_q=$(ss -Htn state established "( sport = :$BROKER_PORT )" 2>/dev/null |
	awk '{ if ($2 > m) m = $2 } END { print m + 0 }')
up_q=$(ss -Htn state established "( dport = :$BROKER_PORT )" 2>/dev/null |
	awk '{ if ($1 > m) m = $1 } END { print m + 0 }')
dev_q=$(ss -Htn state established "( sport = :$GW_PORT )" 2>/dev/null |
	awk '{ if ($2 > m) m = $2 } END { print m + 0 }')
growth=$((rss_max - rss0))
say "gateway VmRSS max during the flood: $rss_max kB (growth $growth kB)"
say "queued: broker Send-Q $broker_q bytes, gateway upstream Recv-Q $up_q bytes (unread), gateway device Send-Q $dev_q bytes"
assert_rss_growth "$growth" 8192 \
	"40 MB went to a stopped device (buffer_size = 16k; from $rss0 kB)"
# A closed window towards the broker (its Send-Q above 1 MB) and bytes
# left unread in the gateway's socket a second after the flood: the
# gateway holds back instead of reading.
{ [ "$up_q" -gt 0 ] && [ "$broker_q" -gt 1000000 ]; } ||
	fail "the flood did not reach the gateway (broker Send-Q $broker_q, gateway Recv-Q $up_q bytes): the test measured nothing"
pass "the gateway stopped reading the broker: $up_q bytes unread in its socket, $broker_q more queued at the broker"
kill -CONT "$SLOW_PID"
sleep 1
stop_pid "$SLOW_PID"
close_line_of "$slow_addr" "$slow_from"
got=$(field "$CLOSE_LINE" out)
[ "${got:-0}" -gt 1000000 ] ||
	fail "after SIGCONT the subscriber should have received part of the flood through the gateway, out=$got"
pass "out=$got: the flood went through the gateway once the device read again"
assert_alive "$GW_PID" "tlsgw B"

say "--- 5a. device closes (MQTT DISCONNECT, close_notify)"
# The device (s_client, stdin from a FIFO) connects, publishes, sends an
# MQTT DISCONNECT and closes (close_notify, then FIN).  A broker answers a
# DISCONNECT by closing its side, and on loopback that close can reach
# the gateway before the device's own close_notify does: mosquitto_pub
# -q 1 ends as "upstream closed" in about 3 runs out of 4.  The broker is
# therefore held (SIGSTOP) while the device says goodbye, so that the
# device's end reaches the gateway first, as it does with a real broker
# across the Internet; then it runs again and closes too.
mkfifo "$WORK/bye.fifo"
bye_from=$(log_lines)
mqtt_connect "$WORK/bye.connect" relay-bye
openssl s_client -nocommands -connect "127.0.0.1:$GW_PORT" -servername gw.demo.lan \
	-verify_hostname gw.demo.lan -verify_return_error -CAfile "$PKI/ca.crt" \
	<"$WORK/bye.fifo" >"$WORK/bye.out" 2>"$WORK/bye.err.out" &
BYE_PID=$!
track_pid "$BYE_PID" "s_client bye"
exec 7>"$WORK/bye.fifo"
cat "$WORK/bye.connect" >&7
wait_for_log "as relay-bye " "$BROKER_LOG" 10 ||
	fail "device bye (s_client) did not reach the broker: $(cat "$WORK/bye.err.out")"
bye_addr=$(dev_addr "$BYE_PID" "$GW_PORT")
[ -n "$bye_addr" ] || fail "no established connection of s_client bye"
kill -STOP "$BROKER_PID"
# PUBLISH QoS 0 "goodbye" on relay/bye, then DISCONNECT; then stdin
# ends and s_client sends close_notify and exits.
printf '\x30\x12\x00\x09relay/byegoodbye\xe0\x00' >&7
exec 7>&-
wait_exit "$BYE_PID" 5 || { kill -CONT "$BROKER_PID"; fail "s_client bye did not exit at the end of its input"; }
sleep 0.5
kill -CONT "$BROKER_PID"
close_line_of "$bye_addr" "$bye_from"
assert_reason "$CLOSE_LINE" "device closed"
# in: CONNECT, PUBLISH (20 bytes) and DISCONNECT (2); out: CONNACK (4).
want=$(($(wc -c <"$WORK/bye.connect") + 22))
assert_field "$CLOSE_LINE" in "$want"
assert_field "$CLOSE_LINE" out 4
assert_log_contains "Received DISCONNECT from relay-bye" "$BROKER_LOG"

say "--- 5b. broker closes (session take-over)"
start_silent_device takeover "$GW_PORT" relay-takeover
assert_exit 0 mosquitto_pub -h 127.0.0.1 -p "$BROKER_PLAIN_PORT" \
	-i relay-takeover -t relay/takeover -m mine
assert_log_contains "Client relay-takeover already connected, closing old connection." "$BROKER_LOG"
wait_exit "$DEV_PID" 5 || fail "the device's connection did not end after the broker closed it"
pass "the device's connection ended (s_client exited)"
close_line_of "$DEV_ADDR" "$DEV_FROM"
assert_reason "$CLOSE_LINE" "upstream closed"
if grep -qi "unexpected eof" "$WORK/takeover.err.out"; then
	fail "the device saw no close_notify: $(cat "$WORK/takeover.err.out")"
fi
pass "the device got close_notify (a clean end)"

say "--- 6. [device] client_ca"
cat >"$WORK/client.ext" <<'EOF'
basicConstraints = CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = clientAuth
EOF
# new_cert NAME CN CA_CRT CA_KEY: NAME.key and NAME.crt (ECDSA P-256, CN,
# clientAuth) signed by the given CA, in $WORK.
new_cert() {
	openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
		-keyout "$WORK/$1.key" -subj "/CN=$2" -out "$WORK/$1.csr" \
		>>"$WORK/openssl.out" 2>&1 ||
		fail "cannot make the key of $2: $(cat "$WORK/openssl.out")"
	openssl x509 -req -in "$WORK/$1.csr" -CA "$3" -CAkey "$4" \
		-set_serial "0x$(openssl rand -hex 8)" -days 30 -sha256 \
		-extfile "$WORK/client.ext" -out "$WORK/$1.crt" >>"$WORK/openssl.out" 2>&1 ||
		fail "cannot sign the certificate of $2: $(cat "$WORK/openssl.out")"
}
new_cert dev1 dev-1 "$PKI/ca.crt" "$PKI/ca.key"
# Another CA, unknown to the gateway, and a device certificate from it.
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
	-keyout "$WORK/rogue-ca.key" -subj /CN=rogue-ca -days 30 \
	-out "$WORK/rogue-ca.crt" >>"$WORK/openssl.out" 2>&1 ||
	fail "cannot make the rogue CA: $(cat "$WORK/openssl.out")"
new_cert dev2 dev-2 "$WORK/rogue-ca.crt" "$WORK/rogue-ca.key"
# The subscriber is on the broker's plain listener: only what a device
# gets through the gateway reaches it, and the first message must be
# the one from dev-1 (the refused devices publish before it).
mosquitto_sub -h 127.0.0.1 -p "$BROKER_PLAIN_PORT" -i relay-mtls-sub \
	-t relay/mtls -C 1 -W 20 >"$WORK/mtls-sub.out" 2>&1 &
MSUB_PID=$!
track_pid "$MSUB_PID" "mosquitto_sub relay/mtls"
wait_for_log "Received SUBSCRIBE from relay-mtls-sub" "$BROKER_LOG" 10 ||
	fail "the client_ca subscriber did not subscribe: $(cat "$WORK/mtls-sub.out")"
# refused WHAT [ARGS...]: mosquitto_pub through the client_ca policy
# fails, and the gateway logs one more "device handshake failed: why"
# line and a close line with that reason.
refused() {
	local what=$1 n c
	shift
	n=$(grep -c "device handshake failed: " "$GW_LOG" || true)
	c=$(close_count)
	assert_exit nonzero timeout 15 mosquitto_pub -h 127.0.0.1 -p "$MTLS_PORT" \
		--cafile "$PKI/ca.crt" -i "relay-$what" -t relay/mtls -q 1 -m "from-$what" "$@"
	[ "$LAST_RC" -ne 124 ] || fail "mosquitto_pub $what hung instead of being refused"
	for i in $(seq 1 50); do
		[ "$(grep -c "device handshake failed: " "$GW_LOG" || true)" -gt "$n" ] && break
		sleep 0.1
	done
	[ "$(grep -c "device handshake failed: " "$GW_LOG" || true)" -gt "$n" ] ||
		fail "no new 'device handshake failed: ...' line for the device $what"
	pass "device $what refused: $(grep "device handshake failed: " "$GW_LOG" | tail -n 1 | cut -c 1-160)"
	wait_close $((c + 1))
	assert_reason "$CLOSE_LINE" "device handshake failed"
}
refused no-cert
refused rogue-cert --cert "$WORK/dev2.crt" --key "$WORK/dev2.key"
assert_log_lacks "as relay-no-cert " "$BROKER_LOG"
assert_log_lacks "as relay-rogue-cert " "$BROKER_LOG"
assert_exit 0 mosquitto_pub -h 127.0.0.1 -p "$MTLS_PORT" --cafile "$PKI/ca.crt" \
	--cert "$WORK/dev1.crt" --key "$WORK/dev1.key" -i relay-dev1 -t relay/mtls \
	-q 1 -m from-dev-1
wait_exit "$MSUB_PID" 10 || fail "the subscriber did not get dev-1's message"
wait "$MSUB_PID" || fail "mosquitto_sub relay/mtls failed: $(cat "$WORK/mtls-sub.out")"
[ "$(cat "$WORK/mtls-sub.out")" = from-dev-1 ] ||
	fail "expected only dev-1's message, the subscriber got: $(cat "$WORK/mtls-sub.out")"
pass "dev-1 (certificate from client_ca) delivered its message; the refused devices delivered nothing"

say "--- 8. SIGTERM with a live connection"
start_silent_device live "$GW_PORT" relay-live
start=$(now_ms)
kill -TERM "$GW_PID"
wait_exit "$GW_PID" 6 || fail "tlsgw did not exit within 6 s of SIGTERM"
rc=0
wait "$GW_PID" || rc=$?
el=$(($(now_ms) - start))
[ "$rc" -eq 0 ] || fail "tlsgw exited $rc after SIGTERM, expected 0"
pass "tlsgw exited 0, $el ms after SIGTERM"
close_line_of "$DEV_ADDR" "$DEV_FROM" 1
assert_reason "$CLOSE_LINE" "gateway stopping"
wait_exit "$DEV_PID" 3 || fail "the device's connection did not end when the gateway stopped"
pass "the device's connection ended (s_client exited)"
if grep -qi "unexpected eof" "$WORK/live.err.out"; then
	fail "the device saw no close_notify: $(cat "$WORK/live.err.out")"
fi
pass "the device got close_notify"

say "all relay checks passed in $(($(date +%s) - T0)) s"
