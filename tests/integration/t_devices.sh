#!/bin/bash
# t_devices.sh: real device TLS stacks through the gateway to a TLS 1.3-only
# Mosquitto.  One gateway (RSA + ECDSA certificates, suites=compat), the
# upstream verified by name (broker.demo.lan) against the test CA.
# Each device profile (BearSSL: Tasmota, esp8266 Arduino; mbedTLS:
# MicroPython, ESP-IDF) publishes a 3000-byte QoS 1 message, larger than
# its MFL, and must receive it back; OpenSSL (mosquitto_pub/sub) does the
# same with TLS 1.2 and TLS 1.3.  After each, the gateway's close summary
# line must show the certificate type, device version, MFL and TLS 1.3
# upstream that this device should get.
# shellcheck source-path=SCRIPTDIR source=lib.sh disable=SC1091
. "$(dirname "$0")/lib.sh"

require_bin "$TLSGW"
require_bin "$BEAR_CLIENT"
require_bin "$MBED_CLIENT"
require_cmd mosquitto_sub mosquitto-clients
require_cmd mosquitto_pub mosquitto-clients

make_pki
start_mosquitto --tls-version tlsv1.3
GW_PORT=$(free_port)
write_gateway_conf "$WORK/gw"
write_default_policy "$WORK/gw/policies/main.ini" "$GW_PORT"
start_gateway "$WORK/gw/tlsgw.ini"
assert_log_contains "listening on 127.0.0.1:$GW_PORT policy 'main'"

# check_device CLIENT PROFILE CERT MFL SUITE_PREFIX: run one device and
# check its own report and the gateway's close summary line.  MFL "client"
# means: whatever the client reports it asked for (2048 or 4096).
check_device() {
	local client=$1 profile=$2 cert=$3 mfl=$4 suite=$5 before got
	say "--- $client --profile $profile"
	settle
	before=$(close_count)
	device_client "$client" "$profile" "$GW_PORT" "tlsgw/test/$profile"
	[ "$LAST_RC" -eq 0 ] ||
		fail "$client --profile $profile exited $LAST_RC: $(tail -n 1 "$WORK/last.out")"
	assert_output_matches '^ok .*version=TLS1\.2'
	if [ "$mfl" = client ]; then
		mfl=$(field "$(grep '^ok ' "$WORK/last.out" | tail -n 1)" mfl)
		case $mfl in
		2048 | 4096) ;;
		*) fail "$profile should ask for MFL 2048 or 4096, client reports mfl=$mfl" ;;
		esac
	fi
	wait_close $((before + 1))
	say "close line: $CLOSE_LINE"
	assert_field "$CLOSE_LINE" policy main
	assert_field "$CLOSE_LINE" device TLS1.2
	assert_field "$CLOSE_LINE" cert "$cert"
	assert_field "$CLOSE_LINE" mfl "$mfl"
	assert_field "$CLOSE_LINE" upstream TLS1.3
	got=$(field "$CLOSE_LINE" suite)
	case $got in
	"$suite"*) pass "suite=$got" ;;
	*) fail "expected a suite starting with $suite, got suite=$got" ;;
	esac
	got=$(field "$CLOSE_LINE" upstream_suite)
	case $got in
	TLS_AES_* | TLS_CHACHA20_*) pass "upstream_suite=$got" ;;
	*) fail "expected a TLS 1.3 upstream suite, got upstream_suite=$got" ;;
	esac
	got=$(field "$CLOSE_LINE" in)
	[ "${got:-0}" -gt 3000 ] 2>/dev/null ||
		fail "expected more than 3000 bytes in from the device, got in=$got"
	pass "in=$got"
}

# Tasmota on ESP8266: C02F only, RSA only, MFL 1024.
check_device bear_client tasmota-esp8266 rsa 1024 TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256
# Tasmota on ESP32 (a late-2024+ build): C02F + C02B, so the gateway may
# and should serve its ECDSA chain (certsel: a TLS 1.2 client offering an
# allowed ECDHE_ECDSA suite gets ECDSA); MFL 2048 or 4096.
check_device bear_client tasmota-esp32 ecdsa client TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256
# esp8266 Arduino BearSSL full profile: ECDHE_ECDSA first, MFL 512.
check_device bear_client esp8266-arduino ecdsa 512 TLS_ECDHE_ECDSA_WITH_
# MicroPython 1.20-1.23: ECDHE_ECDSA CBC + static RSA CBC: must get ECDSA
# and an ECDHE_ECDSA CBC suite (compat), never static RSA.
check_device mbed_client micropython-mbedtls-1.20 ecdsa - TLS_ECDHE_ECDSA_WITH_AES_
# MicroPython 1.24+: ECDHE GCM first, ECDSA offered first.
check_device mbed_client micropython-mbedtls-1.24 ecdsa - TLS_ECDHE_ECDSA_WITH_AES_
# ESP-IDF 5 (esp-mqtt): 38 suites, ECDHE first.
check_device mbed_client esp-idf-5 ecdsa - TLS_ECDHE_

# check_openssl VERSION: mosquitto_sub and mosquitto_pub (OpenSSL) both
# through the gateway, at TLS VERSION (1.2: capped by an OpenSSL config,
# since mosquitto's --tls-version is only a minimum; 1.3: --tls-version).
check_openssl() {
	local v=$1 before env=() payload sub_pid rc i line
	say "--- mosquitto_pub/mosquitto_sub through the gateway, TLS $v"
	[ "$v" = 1.2 ] && env=(env "OPENSSL_CONF=$(openssl_tls12_conf)")
	head -c 3000 /dev/zero | tr '\0' 'm' >"$WORK/payload$v"
	payload=$(cat "$WORK/payload$v")
	settle
	before=$(close_count)
	"${env[@]}" mosquitto_sub -h 127.0.0.1 -p "$GW_PORT" --cafile "$PKI/ca.crt" \
		--tls-version "tlsv$v" -i "sub-tls$v" -t "tlsgw/test/openssl$v" \
		-q 1 -C 1 -W 20 >"$WORK/sub$v.out" 2>&1 &
	sub_pid=$!
	track_pid "$sub_pid" "mosquitto_sub TLS $v"
	wait_for_log "Received SUBSCRIBE from sub-tls$v" "$BROKER_LOG" 10 ||
		fail "mosquitto_sub (TLS $v) through the gateway did not subscribe: $(cat "$WORK/sub$v.out")"
	assert_exit 0 "${env[@]}" mosquitto_pub -h 127.0.0.1 -p "$GW_PORT" \
		--cafile "$PKI/ca.crt" --tls-version "tlsv$v" -i "pub-tls$v" \
		-t "tlsgw/test/openssl$v" -q 1 -f "$WORK/payload$v"
	rc=0
	for i in $(seq 1 100); do
		alive "$sub_pid" || break
		sleep 0.1
	done
	wait "$sub_pid" || rc=$?
	[ "$rc" -eq 0 ] || fail "mosquitto_sub (TLS $v) exited $rc: $(cat "$WORK/sub$v.out")"
	[ "$(head -n 1 "$WORK/sub$v.out")" = "$payload" ] ||
		fail "mosquitto_sub (TLS $v) did not receive the 3000-byte message: $(head -c 200 "$WORK/sub$v.out")"
	pass "mosquitto_sub (TLS $v) received the 3000-byte message sent by mosquitto_pub"
	for i in 1 2; do
		wait_close $((before + i))
		line=$CLOSE_LINE
		say "close line: $line"
		assert_field "$line" device "TLS$v"
		assert_field "$line" upstream TLS1.3
		assert_field "$line" mfl -
		case $(field "$line" cert) in
		rsa | ecdsa) pass "cert=$(field "$line" cert)" ;;
		*) fail "expected cert=rsa or cert=ecdsa in: $line" ;;
		esac
	done
}

check_openssl 1.2
check_openssl 1.3

assert_alive "$GW_PID" tlsgw
say "all device profiles passed"
