#!/bin/bash
# t_upstream.sh: the upstream leg is verified and TLS 1.3 only.  One
# gateway with four policies, each on its own port:
#   good      Mosquitto (TLS 1.3 only), the right CA and name: works;
#   wrongca   the same broker, but trusting another CA;
#   wrongname the same broker, but expecting the name wrong.demo.lan;
#   tls12     an `openssl s_server -tls1_2` upstream (TLS 1.2 at most).
# A device through each bad policy must get no CONNACK (exit 2 or 3), and
# the gateway must log "upstream HOST:PORT handshake failed: ..." saying
# why (verify / name / version).
# shellcheck source-path=SCRIPTDIR source=lib.sh disable=SC1091
. "$(dirname "$0")/lib.sh"

require_bin "$TLSGW"
require_bin "$MBED_CLIENT"
require_bin "$BEAR_CLIENT"
require_cmd openssl

make_pki
make_pki "$WORK/pki-other"
start_mosquitto --tls-version tlsv1.3

# A TLS 1.2-only upstream: openssl s_server capped at TLS 1.2, with the
# right certificate for broker.demo.lan.
TLS12_PORT=$(free_port)
openssl s_server -quiet -tls1_2 -accept "127.0.0.1:$TLS12_PORT" \
	-cert "$PKI/broker.crt" -key "$PKI/broker.key" \
	</dev/null >"$WORK/s_server.log" 2>&1 &
S_SERVER_PID=$!
track_pid "$S_SERVER_PID" "openssl s_server -tls1_2"
wait_port "$TLS12_PORT" "$S_SERVER_PID" 10 || fail "openssl s_server did not start"

GOOD_PORT=$(free_port)
WRONGCA_PORT=$(free_port)
WRONGNAME_PORT=$(free_port)
TLS12GW_PORT=$(free_port)
write_gateway_conf "$WORK/gw"
write_default_policy "$WORK/gw/policies/good.ini" "$GOOD_PORT"
write_default_policy "$WORK/gw/policies/wrongca.ini" "$WRONGCA_PORT" \
	"upstream.ca=$WORK/pki-other/ca.crt"
write_default_policy "$WORK/gw/policies/wrongname.ini" "$WRONGNAME_PORT" \
	upstream.sni=wrong.demo.lan
write_default_policy "$WORK/gw/policies/tls12.ini" "$TLS12GW_PORT" \
	"upstream.port=$TLS12_PORT"
start_gateway --listeners 4 "$WORK/gw/tlsgw.ini"

say "--- control: the good policy works"
device_client mbed_client esp-idf-5 "$GOOD_PORT" tlsgw/test/good
[ "$LAST_RC" -eq 0 ] || fail "device through the good policy: expected exit 0, got $LAST_RC"

# check_refused CLIENT PROFILE PORT UPSTREAM_PORT WORD: the device gets no
# CONNACK and the gateway logs the upstream failure with WORD in it.
check_refused() {
	local client=$1 profile=$2 port=$3 up=$4 word=$5 before addr line
	say "--- $client $profile via port $port: upstream 127.0.0.1:$up must fail ($word)"
	settle
	before=$(close_count)
	device_client "$client" "$profile" "$port" "tlsgw/test/$profile"
	case $LAST_RC in
	2 | 3) pass "no CONNACK for the device (exit $LAST_RC)" ;;
	*) fail "expected exit 2 or 3 (no CONNACK), got $LAST_RC" ;;
	esac
	wait_close $((before + 1))
	say "close line: $CLOSE_LINE"
	assert_field "$CLOSE_LINE" upstream -
	addr=$(conn_addr "$CLOSE_LINE")
	line=$(grep -F "$addr " "$GW_LOG" | grep -F "upstream 127.0.0.1:$up handshake failed:" | head -n 1 || true)
	[ -n "$line" ] ||
		fail "no '$addr upstream 127.0.0.1:$up handshake failed:' line in the gateway log"
	say "log: $line"
	printf '%s\n' "$line" | grep -qiF -- "$word" ||
		fail "the upstream failure line does not say '$word': $line"
	pass "the upstream failure line says '$word'"
}

check_refused mbed_client micropython-mbedtls-1.24 "$WRONGCA_PORT" "$BROKER_PORT" verify
check_refused bear_client tasmota-esp8266 "$WRONGCA_PORT" "$BROKER_PORT" verify
check_refused mbed_client esp-idf-5 "$WRONGNAME_PORT" "$BROKER_PORT" name
check_refused bear_client tasmota-esp8266 "$WRONGNAME_PORT" "$BROKER_PORT" name
check_refused mbed_client esp-idf-5 "$TLS12GW_PORT" "$TLS12_PORT" version

# Nothing reached the broker through the bad policies: the only client
# that sent CONNECT to Mosquitto is the control device.
n=$(grep -c "New client connected" "$BROKER_LOG" || true)
[ "$n" -eq 1 ] || fail "expected exactly 1 client connected at the broker (the control), found $n"
pass "only the control device reached the broker"

assert_alive "$GW_PID" tlsgw
say "all upstream checks passed"
