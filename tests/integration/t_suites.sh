#!/bin/bash
# t_suites.sh: what the device leg accepts and refuses.
#   - a static-RSA-only client is refused under suites=compat, with a log
#     line that says "static-RSA" and points at suites=legacy, and is
#     accepted under suites=legacy (a second policy on another port), with
#     a loud LEGACY line for that connection -- when the wolfSSL build has
#     static-RSA suites; without them (Debian's libwolfssl) a legacy policy
#     must be refused at load time with file:line naming WOLFSSL_STATIC_RSA;
#   - TLS 1.0 and 1.1 hellos are refused with an alert;
#   - hellos offering only NULL, RC4, 3DES, anonymous or export suites are
#     refused under both policies: no ServerHello ever, which proves that
#     Debian's wolfSSL defaults never leak through; nor does
#     `openssl s_client -cipher NULL` connect;
#   - a plain C02F hello gets a ServerHello with C02F.
# shellcheck source-path=SCRIPTDIR source=lib.sh disable=SC1091
. "$(dirname "$0")/lib.sh"

require_bin "$TLSGW"
require_bin "$MBED_CLIENT"
require_bin "$RAWHELLO"
require_cmd openssl

make_pki
start_mosquitto --tls-version tlsv1.3
COMPAT_PORT=$(free_port)
LEGACY_PORT=$(free_port)

# suites=legacy needs static-RSA suites in the wolfSSL build
# (WOLFSSL_STATIC_RSA); Debian's libwolfssl has none.  Against such a
# build the legacy policy must be refused, at its suites line, saying so;
# the acceptance checks below then run only against a build that has it.
write_gateway_conf "$WORK/legacy-only"
write_default_policy "$WORK/legacy-only/policies/legacy.ini" "$LEGACY_PORT" device.suites=legacy
run_cmd "$TLSGW" -t -c "$WORK/legacy-only/tlsgw.ini"
if [ "$LAST_RC" -eq 0 ]; then
	HAVE_STATIC_RSA=yes
	say "this wolfSSL build has static-RSA suites: suites=legacy is tested in full"
else
	HAVE_STATIC_RSA=no
	[ "$LAST_RC" -eq 1 ] || fail "tlsgw -t on a legacy policy: expected exit 0 or 1, got $LAST_RC"
	assert_output_matches "legacy\.ini:$(line_of "$WORK/legacy-only/policies/legacy.ini" "suites = legacy"): .*STATIC_RSA"
	say "NOTE: this wolfSSL build has no static-RSA suites (WOLFSSL_STATIC_RSA):"
	say "NOTE: suites=legacy is refused at load time, as checked above; the checks"
	say "NOTE: that a legacy policy accepts a static-RSA device need a wolfSSL built"
	say "NOTE: with static RSA and run only there"
fi

write_gateway_conf "$WORK/gw"
write_default_policy "$WORK/gw/policies/compat.ini" "$COMPAT_PORT"
PORTS=("$COMPAT_PORT")
if [ "$HAVE_STATIC_RSA" = yes ]; then
	write_default_policy "$WORK/gw/policies/legacy.ini" "$LEGACY_PORT" device.suites=legacy
	PORTS+=("$LEGACY_PORT")
fi
start_gateway --listeners "${#PORTS[@]}" "$WORK/gw/tlsgw.ini"
assert_log_contains "listening on 127.0.0.1:$COMPAT_PORT policy 'compat'"
if [ "$HAVE_STATIC_RSA" = yes ]; then
	assert_log_contains "listening on 127.0.0.1:$LEGACY_PORT policy 'legacy'"
	# Loudly at start, too.
	assert_log_matches "legacy.*(static.RSA|LEGACY)|LEGACY.*legacy"
fi

# expect_refusal_logged BEFORE WORDS: the connection after close line
# number BEFORE was logged as "IP:PORT device handshake failed: ..." with
# words matching the extended regexp WORDS (case-insensitive), and its
# close line says device=-.
expect_refusal_logged() {
	local before=$1 words=$2 addr line
	wait_close $((before + 1))
	assert_field "$CLOSE_LINE" device -
	addr=$(conn_addr "$CLOSE_LINE")
	line=$(grep -F "$addr " "$GW_LOG" | grep -F "device handshake failed:" | head -n 1 || true)
	[ -n "$line" ] || fail "no '$addr device handshake failed:' line in the gateway log"
	printf '%s\n' "$line" | grep -qiE -- "$words" ||
		fail "the refusal of $addr does not explain itself (/$words/): $line"
	pass "refusal logged: ${line#*device handshake failed: }"
}

# rawhello PORT ARGS...: run rawhello against the gateway.
rawhello() {
	local port=$1
	shift
	settle
	run_cmd "$RAWHELLO" --host 127.0.0.1 --port "$port" "$@"
}

# --- a normal hello ------------------------------------------------------
say "--- rawhello C02F (TLS 1.2) is answered with C02F"
rawhello "$COMPAT_PORT" --version 0x0303 --suites C02F --sni gw.demo.lan
[ "$LAST_RC" -eq 0 ] || fail "rawhello C02F: expected a ServerHello (exit 0), got exit $LAST_RC"
assert_output_matches '^serverhello version=0x0303 suite=0x[Cc]02[Ff]'

# --- static RSA -------------------------------------------------------------
say "--- static-RSA-only mbedTLS client under suites=compat: refused"
settle
before=$(close_count)
device_client mbed_client micropython-mbedtls-1.20 "$COMPAT_PORT" tlsgw/test/static-rsa \
	--suites 002F,0035
[ "$LAST_RC" -eq 2 ] || fail "static-RSA-only client under compat: expected exit 2 (handshake failed), got $LAST_RC"
wait_close $((before + 1))
addr=$(conn_addr "$CLOSE_LINE")
assert_field "$CLOSE_LINE" device -
line=$(grep -F "$addr " "$GW_LOG" | grep -F "device handshake failed" | head -n 1 || true)
[ -n "$line" ] || fail "no '$addr device handshake failed' line in the gateway log"
say "log: $line"
case $line in
*static-RSA*legacy* | *legacy*static-RSA*) pass "the refusal says static-RSA and points at legacy" ;;
*) fail "the refusal line should say 'static-RSA' and 'legacy': $line" ;;
esac

say "--- the same with rawhello (002F,0035,003C,003D,009C,009D) under compat"
rawhello "$COMPAT_PORT" --version 0x0303 --suites 002F,0035,003C,003D,009C,009D --sni gw.demo.lan
assert_output_lacks serverhello
[ "$LAST_RC" -eq 2 ] || fail "expected an alert (exit 2), got exit $LAST_RC"

if [ "$HAVE_STATIC_RSA" = yes ]; then
	say "--- static-RSA-only mbedTLS client under suites=legacy: accepted, loudly"
	settle
before=$(close_count)
	device_client mbed_client micropython-mbedtls-1.20 "$LEGACY_PORT" tlsgw/test/static-rsa \
		--suites 002F,0035
	[ "$LAST_RC" -eq 0 ] || fail "static-RSA-only client under legacy: expected exit 0, got $LAST_RC"
	wait_close $((before + 1))
	say "close line: $CLOSE_LINE"
	assert_field "$CLOSE_LINE" policy legacy
	assert_field "$CLOSE_LINE" device TLS1.2
	assert_field "$CLOSE_LINE" cert rsa
	assert_field "$CLOSE_LINE" upstream TLS1.3
	case $(field "$CLOSE_LINE" suite) in
	TLS_RSA_WITH_AES_*) pass "suite=$(field "$CLOSE_LINE" suite)" ;;
	*) fail "expected a static-RSA suite, got suite=$(field "$CLOSE_LINE" suite)" ;;
	esac
	addr=$(conn_addr "$CLOSE_LINE")
	grep -F "$addr " "$GW_LOG" | grep -qF LEGACY ||
		fail "no line with LEGACY for the legacy connection $addr"
	pass "the legacy connection $addr is logged with LEGACY"
fi

# --- old protocol versions -----------------------------------------------
for port in "${PORTS[@]}"; do
	for v in 0x0301 0x0302; do
		say "--- rawhello --version $v with CBC suites on port $port: refused with an alert"
		settle
before=$(close_count)
		rawhello "$port" --version "$v" --suites C013,C014,C009,C00A,002F,0035 --sni gw.demo.lan
		assert_output_lacks serverhello
		[ "$LAST_RC" -eq 2 ] || fail "TLS version $v: expected an alert (exit 2), got exit $LAST_RC"
		assert_output_matches '^alert level=2 '
		case $v in
		0x0301) expect_refusal_logged "$before" "TLS 1\\.0" ;;
		0x0302) expect_refusal_logged "$before" "TLS 1\\.1" ;;
		esac
	done
done

# --- suites that are never allowed ---------------------------------------
# refuse_only PORT WHAT LIST WORDS: a TLS 1.2 hello offering only LIST
# must get no ServerHello (an alert or a closed connection), and the log
# must say why (WORDS).
refuse_only() {
	local before
	say "--- only $2 ($3) on port $1: refused"
	settle
before=$(close_count)
	rawhello "$1" --version 0x0303 --suites "$3" --sni gw.demo.lan
	assert_output_lacks serverhello
	case $LAST_RC in
	2 | 3) pass "only $2 refused (exit $LAST_RC)" ;;
	*) fail "only $2: expected an alert or a close (exit 2 or 3), got exit $LAST_RC" ;;
	esac
	expect_refusal_logged "$before" "$4"
}
for port in "${PORTS[@]}"; do
	refuse_only "$port" NULL 0001,0002,003B,C006,C010 NULL
	refuse_only "$port" RC4 0004,0005,C011,C007 RC4
	refuse_only "$port" 3DES 000A,C012,C008 3DES
	refuse_only "$port" anonymous 0018,0034,C018 anon
	refuse_only "$port" export 0003,0006,0008 export
done

say "--- weak suites first, C02F last: the gateway still picks C02F"
for port in "${PORTS[@]}"; do
	rawhello "$port" --version 0x0303 --sni gw.demo.lan \
		--suites 0001,0002,0004,0005,000A,0018,0034,0003,C010,C011,C012,C018,C02F
	assert_output_matches '^serverhello version=0x0303 suite=0x[Cc]02[Ff]'
done

say "--- openssl s_client with only NULL ciphers: no connection"
run_cmd timeout 10 openssl s_client -connect "127.0.0.1:$COMPAT_PORT" \
	-servername gw.demo.lan -CAfile "$PKI/ca.crt" \
	-cipher 'NULL:eNULL:@SECLEVEL=0' -tls1_2 </dev/null
[ "$LAST_RC" -ne 0 ] || fail "openssl s_client with NULL ciphers exited 0"
assert_output_contains CONNECTED
if grep -E 'Cipher is [^(]|Cipher +: [^0(]' "$WORK/last.out"; then
	fail "openssl s_client negotiated a cipher with a NULL-only offer"
fi
pass "openssl s_client with NULL ciphers negotiated nothing (exit $LAST_RC)"

# --- and the gateway still serves -------------------------------------------
say "--- rawhello C02F after all that"
rawhello "${PORTS[-1]}" --version 0x0303 --suites C02F --sni gw.demo.lan
assert_output_matches '^serverhello version=0x0303 suite=0x[Cc]02[Ff]'
assert_alive "$GW_PID" tlsgw
say "all suite checks passed"
