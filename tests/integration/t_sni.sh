#!/bin/bash
# t_sni.sh: several policies on one address, chosen by the device's SNI
# ([listen] sni), with real peers on 127.0.0.1.
#   Address 1 has three policies, each with its own upstream (a Mosquitto
#   of its own) and its own single device suite:
#     exact    sni = exact.gw.lan      -> broker A, ECDHE-RSA AES-256-GCM
#     wild     sni = *.wild.gw.lan     -> broker B, ECDHE-RSA ChaCha20
#     default  (no sni)                -> broker C, ECDHE-RSA AES-128-GCM
#   A BearSSL device offering all three suites (and verifying the
#   gateway's certificate as gw.demo.lan whatever SNI it sends) must land
#   where the rules say: exact name (any case), one-label wildcard, and
#   the default for a bare or two-label name under the wildcard, for no
#   SNI and for an IP literal as SNI.  Each route is proved three ways:
#   the close line's policy= field, the negotiated suite, and which broker
#   saw the device's client id.
#   Address 2 has only a policy with sni = only.gw.lan: a hello naming
#   anything else, or no name, is refused with a log line naming the SNI.
#   Two policies listing the same exact name (or the same wildcard, or
#   both without sni) on one address: `tlsgw -t` fails naming both files
#   and lines.
# shellcheck source-path=SCRIPTDIR source=lib.sh disable=SC1091
. "$(dirname "$0")/lib.sh"

require_bin "$TLSGW"
require_bin "$BEAR_CLIENT"
require_bin "$RAWHELLO"
T0=$(date +%s)

make_pki
start_mosquitto --name broker-a
A_PORT=$BROKER_PORT
A_LOG=$BROKER_LOG
start_mosquitto --name broker-b
B_PORT=$BROKER_PORT
B_LOG=$BROKER_LOG
start_mosquitto --name broker-c
C_PORT=$BROKER_PORT
C_LOG=$BROKER_LOG

S_AES256=TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384
S_CHACHA=TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256
S_AES128=TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256

GW_PORT=$(free_port)
ONLY_PORT=$(free_port)
write_gateway_conf "$WORK/gw"
# sni_policy NAME PORT UPSTREAM_PORT SUITE [section.key=value ...]: an
# RSA-only policy with one TLS 1.2 suite.
sni_policy() {
	local name=$1 port=$2 up=$3 suite=$4
	shift 4
	write_default_policy "$WORK/gw/policies/$name.ini" "$port" \
		device.cert_ecdsa= device.key_ecdsa= "device.suites=$suite" \
		"upstream.port=$up" "$@"
}
sni_policy exact "$GW_PORT" "$A_PORT" "$S_AES256" listen.sni=exact.gw.lan
sni_policy wild "$GW_PORT" "$B_PORT" "$S_CHACHA" "listen.sni=*.wild.gw.lan"
sni_policy default "$GW_PORT" "$C_PORT" "$S_AES128"
sni_policy only "$ONLY_PORT" "$A_PORT" "$S_AES128" listen.sni=only.gw.lan
assert_exit 0 "$TLSGW" -t -c "$WORK/gw/tlsgw.ini"
start_gateway --listeners 4 "$WORK/gw/tlsgw.ini"
assert_log_contains "listening on 127.0.0.1:$GW_PORT policy 'exact'"
assert_log_contains "listening on 127.0.0.1:$GW_PORT policy 'wild'"
assert_log_contains "listening on 127.0.0.1:$GW_PORT policy 'default'"

# bear PORT ID [args...]: bear_client (Tasmota on ESP32, client id and
# topic from ID, one 100-byte QoS 1 message) against the gateway on
# PORT; the arguments give the suites and the SNI (device_client always
# sends gw.demo.lan).  Output in LAST_OUT, status in LAST_RC.
bear() {
	local port=$1 id=$2
	shift 2
	run_cmd "$BEAR_CLIENT" --host 127.0.0.1 --port "$port" --ca "$PKI/ca.crt" \
		--profile tasmota-esp32 --client-id "$id" --topic "tlsgw/sni/$id" \
		--payload-size 100 --count 1 --timeout 10 "$@"
}

# suite_hex NAME: the code of one of the three suites, as bear_client
# prints it.
suite_hex() {
	case $1 in
	"$S_AES256") echo C030 ;;
	"$S_CHACHA") echo CCA8 ;;
	"$S_AES128") echo C02F ;;
	*) fail "suite_hex: unknown suite $1" ;;
	esac
}

# route_ok ID POLICY SUITE BROKER_LOG SNI_FIELD [client args...]: a
# BearSSL device (client id ID, TLS 1.2, offering all three suites,
# verifying the gateway as gw.demo.lan) publishes and gets its message
# back through address 1; it must have gone through POLICY (close line),
# with SUITE, to the broker logging to BROKER_LOG (and to no other), and
# the close line must show sni=SNI_FIELD.
route_ok() {
	local id=$1 policy=$2 suite=$3 blog=$4 sni=$5 before l
	shift 5
	say "--- $id: $* -> policy $policy"
	settle
	before=$(close_count)
	bear "$GW_PORT" "$id" --suites C02F,C030,CCA8 "$@"
	[ "$LAST_RC" -eq 0 ] ||
		fail "device $id ($*): expected exit 0, got $LAST_RC: $(tail -n 1 "$WORK/last.out")"
	assert_output_matches "^ok .*suite=0x$(suite_hex "$suite") "
	wait_close $((before + 1))
	say "close line: $CLOSE_LINE"
	assert_field "$CLOSE_LINE" policy "$policy"
	assert_field "$CLOSE_LINE" suite "$suite"
	assert_field "$CLOSE_LINE" sni "$sni"
	assert_field "$CLOSE_LINE" upstream TLS1.3
	assert_log_contains "as $id " "$blog"
	for l in "$A_LOG" "$B_LOG" "$C_LOG"; do
		[ "$l" = "$blog" ] || assert_log_lacks "as $id " "$l"
	done
}

say "=== address 1: exact name, wildcard, default"
route_ok sni-exact exact "$S_AES256" "$A_LOG" exact.gw.lan \
	--sni exact.gw.lan --verify-name gw.demo.lan
# Names compare without regard to case.
route_ok sni-exact-case exact "$S_AES256" "$A_LOG" EXACT.Gw.LAN \
	--sni EXACT.Gw.LAN --verify-name gw.demo.lan
route_ok sni-wild wild "$S_CHACHA" "$B_LOG" dev1.wild.gw.lan \
	--sni dev1.wild.gw.lan --verify-name gw.demo.lan
# *.wild.gw.lan matches one label only: not the bare name, not two labels.
route_ok sni-bare default "$S_AES128" "$C_LOG" wild.gw.lan \
	--sni wild.gw.lan --verify-name gw.demo.lan
route_ok sni-two-labels default "$S_AES128" "$C_LOG" a.b.wild.gw.lan \
	--sni a.b.wild.gw.lan --verify-name gw.demo.lan
route_ok sni-unknown default "$S_AES128" "$C_LOG" nobody.gw.lan \
	--sni nobody.gw.lan --verify-name gw.demo.lan
# No SNI at all.
route_ok sni-none default "$S_AES128" "$C_LOG" - \
	--no-sni --verify-name gw.demo.lan

# An IP literal as SNI (RFC 6066 forbids it, devices send it anyway):
# the default policy, even though the literal is no name a policy lists.
# BearSSL sends whatever name it is given; rawhello sends exactly this
# hello (its suites offer the wild policy's ChaCha20 first), which the
# gateway must still give to the default policy.
route_ok sni-ip default "$S_AES128" "$C_LOG" 127.0.0.1 \
	--sni 127.0.0.1 --verify-name gw.demo.lan
say "--- rawhello --sni 127.0.0.1"
settle
before=$(close_count)
run_cmd "$RAWHELLO" --host 127.0.0.1 --port "$GW_PORT" --sni 127.0.0.1 \
	--suites CCA8,C030,C02F --hold 2
wait_close $((before + 1))
say "close line: $CLOSE_LINE"
assert_field "$CLOSE_LINE" policy default
assert_field "$CLOSE_LINE" sni 127.0.0.1

say "=== address 2: only sni = only.gw.lan, no default"
route_only() {
	local id=$1 before
	shift
	settle
	before=$(close_count)
	bear "$ONLY_PORT" "$id" --suites C02F "$@"
	BEFORE=$before
}
route_only sni-only --sni only.gw.lan --verify-name gw.demo.lan
[ "$LAST_RC" -eq 0 ] || fail "device with SNI only.gw.lan on address 2: exit $LAST_RC"
wait_close $((BEFORE + 1))
assert_field "$CLOSE_LINE" policy only
assert_log_contains "as sni-only " "$A_LOG"

# refused_sni ID SHOWN [client args...]: no policy takes the hello: the
# device gets no handshake (exit 2), the gateway logs the SNI it got.
refused_sni() {
	local id=$1 shown=$2 line
	shift 2
	say "--- $id on address 2: $* -> refused"
	route_only "$id" "$@"
	[ "$LAST_RC" -eq 2 ] ||
		fail "device $id ($*) on address 2: expected a failed handshake (exit 2), got $LAST_RC"
	pass "device $id got no handshake (exit 2)"
	wait_close $((BEFORE + 1))
	say "close line: $CLOSE_LINE"
	assert_field "$CLOSE_LINE" policy -
	case $CLOSE_LINE in
	*' reason="no policy for SNI"') pass 'reason="no policy for SNI"' ;;
	*) fail "expected reason=\"no policy for SNI\" in: $CLOSE_LINE" ;;
	esac
	line=$(grep -F "$(conn_addr "$CLOSE_LINE") no policy on 127.0.0.1:$ONLY_PORT for SNI '$shown'" "$GW_LOG" || true)
	[ -n "$line" ] ||
		fail "no line \"$(conn_addr "$CLOSE_LINE") no policy on 127.0.0.1:$ONLY_PORT for SNI '$shown'\" in the gateway log"
	pass "log: $line"
	assert_log_lacks "as $id " "$A_LOG"
}
refused_sni sni-other other.gw.lan --sni other.gw.lan --verify-name gw.demo.lan
refused_sni sni-nothing "(none)" --no-sni --verify-name gw.demo.lan
assert_alive "$GW_PID" tlsgw

say "=== tlsgw -t: two policies claiming the same name on one address"
DUP=$WORK/dup
DUP_PORT=$(free_port)
write_gateway_conf "$DUP"
# dup_policy NAME [section.key=value ...]: a valid policy on DUP_PORT;
# its sni line is written after the device keys, so that the two files
# have it on different lines when the key lists differ.
dup_policy() {
	local name=$1
	shift
	write_default_policy "$DUP/policies/$name.ini" "$DUP_PORT" "$@"
}
dup_policy one listen.sni=same.gw.lan
dup_policy two listen.max_connections=5 "listen.sni=first.gw.lan, Same.GW.lan"
one_line=$(line_of "$DUP/policies/one.ini" "sni =")
two_line=$(line_of "$DUP/policies/two.ini" "sni =")
[ "$one_line" != "$two_line" ] || fail "test set-up: the sni lines should differ ($one_line)"
assert_exit 1 "$TLSGW" -t -c "$DUP/tlsgw.ini"
assert_output_matches "/policies/two\.ini:$two_line: sni \"same\.gw\.lan\" on 127\.0\.0\.1:$DUP_PORT is already used by policy \"one\" \(.*/policies/one\.ini:$one_line\)"
assert_output_lacks "configuration OK"
# The same wildcard in two policies.
dup_policy one "listen.sni=*.same.gw.lan"
dup_policy two listen.max_connections=5 "listen.sni=first.gw.lan, *.same.gw.lan"
assert_exit 1 "$TLSGW" -t -c "$DUP/tlsgw.ini"
assert_output_matches "/policies/two\.ini:$two_line: sni \"\*\.same\.gw\.lan\" on 127\.0\.0\.1:$DUP_PORT is already used by policy \"one\" \(.*/policies/one\.ini:$one_line\)"
# Two defaults (neither has sni) on one address.
dup_policy one
dup_policy two listen.max_connections=5
addr_one=$(line_of "$DUP/policies/one.ini" "address =")
addr_two=$(line_of "$DUP/policies/two.ini" "address =")
assert_exit 1 "$TLSGW" -t -c "$DUP/tlsgw.ini"
assert_output_matches "/policies/two\.ini:$addr_two: address 127\.0\.0\.1:$DUP_PORT is already used by policy \"one\" \(.*/policies/one\.ini:$addr_one\), also without sni"
# Distinct names on one address are fine.
dup_policy one listen.sni=one.gw.lan
dup_policy two listen.max_connections=5 "listen.sni=two.gw.lan, *.two.gw.lan"
assert_exit 0 "$TLSGW" -t -c "$DUP/tlsgw.ini"
assert_output_contains "configuration OK"

say "all SNI routing checks passed in $(($(date +%s) - T0)) s"
