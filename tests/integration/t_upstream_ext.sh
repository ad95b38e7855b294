#!/bin/bash
# t_upstream_ext.sh: what the upstream leg sends besides TLS 1.3: the
# configured SNI, the configured ALPN, and a client certificate, seen
# from the other end.  The upstream is `openssl s_server` (TLS 1.3 only)
# standing in for AWS IoT on port 443:
#   A  certificate for iot.example.lan (from the test CA), ALPN
#      x-amzn-mqtt-ca only, a client certificate from the "upstream client
#      CA" required and verified (-Verify 1 -verify_return_error), every
#      message traced (-trace) into its log;
#   B  certificate whose only name is the address 127.0.0.1, no ALPN, no
#      client certificate.
# Policies (host = 127.0.0.1 everywhere; devices are openssl s_client
# sending an MQTT CONNECT with their own client id):
#   aws       A, sni = iot.example.lan, alpn = x-amzn-mqtt-ca, cert/key:
#             s_server must log the SNI iot.example.lan (never the host),
#             the ALPN offered and selected, the client certificate's
#             subject verified at depth 0 and 1, and get the CONNECT;
#   multi     A, alpn = mqtt,x-amzn-mqtt-ca: both offered, in order;
#   badalpn   A, alpn = mqtt: s_server refuses (no_application_protocol)
#             and the gateway logs the failed upstream handshake;
#   nocert    A without cert/key, rogue A with a certificate from another
#             CA: refused by s_server, nothing reaches it;
#   hostonly  B, sni = iot.example.lan: the certificate fits the host but
#             not the sni, so verification fails (name mismatch);
#   hostctl   B without sni: the same certificate verified for the host.
# shellcheck source-path=SCRIPTDIR source=lib.sh disable=SC1091
. "$(dirname "$0")/lib.sh"

require_bin "$TLSGW"
require_cmd openssl
require_cmd stdbuf coreutils
T0=$(date +%s)

make_pki

# --- certificates -------------------------------------------------------
# new_ca NAME CN: a self-signed ECDSA CA in $WORK/NAME.{crt,key}.
new_ca() {
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
		-keyout "$WORK/$1.key" -subj "/CN=$2" -days 30 \
		-addext "basicConstraints=critical,CA:TRUE" \
		-addext "keyUsage=critical,keyCertSign,cRLSign" \
		-out "$WORK/$1.crt" >>"$WORK/openssl.out" 2>&1 ||
		fail "cannot make the CA $2: $(cat "$WORK/openssl.out")"
}
# new_leaf NAME SUBJECT CA EKU [SAN]: an ECDSA certificate signed by the
# CA $WORK/CA.{crt,key} (or the test CA for CA = pki), in $WORK/NAME.*.
new_leaf() {
	local name=$1 subj=$2 ca=$3 eku=$4 san=${5:-} cacrt cakey
	if [ "$ca" = pki ]; then
		cacrt=$PKI/ca.crt cakey=$PKI/ca.key
	else
		cacrt=$WORK/$ca.crt cakey=$WORK/$ca.key
	fi
	{
		echo "basicConstraints = CA:FALSE"
		echo "keyUsage = critical, digitalSignature"
		echo "extendedKeyUsage = $eku"
		[ -z "$san" ] || echo "subjectAltName = $san"
	} >"$WORK/$name.ext"
	if ! openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
		-keyout "$WORK/$name.key" -subj "$subj" -out "$WORK/$name.csr" \
		>>"$WORK/openssl.out" 2>&1 ||
		! openssl x509 -req -in "$WORK/$name.csr" -CA "$cacrt" -CAkey "$cakey" \
			-set_serial "0x$(openssl rand -hex 8)" -days 30 -sha256 \
			-extfile "$WORK/$name.ext" -out "$WORK/$name.crt" \
			>>"$WORK/openssl.out" 2>&1; then
		fail "cannot make the certificate $subj: $(cat "$WORK/openssl.out")"
	fi
	chmod 600 "$WORK/$name.key"
}
new_ca upca "tlsgw test upstream client CA"
new_ca rogueca "rogue client CA"
new_leaf gwclient "/O=tlsgw test/CN=gw-upstream-client" upca clientAuth
new_leaf rogueclient "/O=tlsgw test/CN=rogue-client" rogueca clientAuth
new_leaf iot "/CN=iot.example.lan" pki serverAuth "DNS:iot.example.lan"
new_leaf hostonly "/CN=127.0.0.1" pki serverAuth "IP:127.0.0.1"

# --- the two upstreams ----------------------------------------------------
# start_s_server NAME PORT args...: openssl s_server (TLS 1.3 only) on
# 127.0.0.1:PORT, all its output in $WORK/NAME.log, line-buffered.  Its
# stdin is a FIFO it holds open itself, so it never sees an end of input
# (which would make it stop) and never gets anything to send.
start_s_server() {
	local name=$1 port=$2 pid
	shift 2
	mkfifo "$WORK/$name.in"
	stdbuf -oL -eL openssl s_server -accept "127.0.0.1:$port" -tls1_3 "$@" \
		0<>"$WORK/$name.in" >"$WORK/$name.log" 2>&1 &
	pid=$!
	track_pid "$pid" "openssl s_server $name"
	wait_port "$port" "$pid" 10 || fail "openssl s_server $name did not start: $(cat "$WORK/$name.log")"
	say "openssl s_server $name on 127.0.0.1:$port, pid $pid"
}
A_PORT=$(free_port)
B_PORT=$(free_port)
start_s_server upstream-a "$A_PORT" -cert "$WORK/iot.crt" -key "$WORK/iot.key" \
	-alpn x-amzn-mqtt-ca -Verify 1 -CAfile "$WORK/upca.crt" -verify_return_error -trace
A_LOG=$WORK/upstream-a.log
start_s_server upstream-b "$B_PORT" -cert "$WORK/hostonly.crt" -key "$WORK/hostonly.key"
B_LOG=$WORK/upstream-b.log

# --- the gateway ------------------------------------------------------------
write_gateway_conf "$WORK/gw"
declare -A PORT
# ext_policy NAME UPSTREAM_PORT [section.key=value ...]
ext_policy() {
	local name=$1 up=$2
	shift 2
	PORT[$name]=$(free_port)
	write_default_policy "$WORK/gw/policies/$name.ini" "${PORT[$name]}" \
		upstream.host=127.0.0.1 "upstream.port=$up" "$@"
}
CLIENT=("upstream.cert=$WORK/gwclient.crt" "upstream.key=$WORK/gwclient.key")
ext_policy aws "$A_PORT" upstream.sni=iot.example.lan upstream.alpn=x-amzn-mqtt-ca "${CLIENT[@]}"
ext_policy multi "$A_PORT" upstream.sni=iot.example.lan "upstream.alpn=mqtt,x-amzn-mqtt-ca" "${CLIENT[@]}"
ext_policy badalpn "$A_PORT" upstream.sni=iot.example.lan upstream.alpn=mqtt "${CLIENT[@]}"
ext_policy nocert "$A_PORT" upstream.sni=iot.example.lan upstream.alpn=x-amzn-mqtt-ca
ext_policy rogue "$A_PORT" upstream.sni=iot.example.lan upstream.alpn=x-amzn-mqtt-ca \
	"upstream.cert=$WORK/rogueclient.crt" "upstream.key=$WORK/rogueclient.key"
ext_policy hostonly "$B_PORT" upstream.sni=iot.example.lan
ext_policy hostctl "$B_PORT" upstream.sni=
assert_exit 0 "$TLSGW" -t -c "$WORK/gw/tlsgw.ini"
start_gateway --listeners 7 "$WORK/gw/tlsgw.ini"

# --- helpers ------------------------------------------------------------------
# s_client_send PORT FILE: openssl s_client connects to the gateway on
# PORT (verifying it as gw.demo.lan), sends FILE and closes (close_notify)
# at its end; 15 s at most.
s_client_send() {
	timeout 15 openssl s_client -quiet -no_ign_eof -connect "127.0.0.1:$1" \
		-servername gw.demo.lan -verify_hostname gw.demo.lan \
		-verify_return_error -CAfile "$PKI/ca.crt" <"$2"
}

# through POLICY ID: a device (openssl s_client, verifying the gateway as
# gw.demo.lan) sends an MQTT CONNECT for client ID through POLICY and
# closes.  Waits for the connection's close line (CLOSE_LINE) and sets
# NEW_A / NEW_B to what each s_server logged meanwhile, and GW_NEW to
# the gateway log lines of this connection.
through() {
	local policy=$1 id=$2 a0 b0 before addr i
	say "--- policy $policy (device client id $id)"
	settle
	before=$(close_count)
	a0=$(wc -l <"$A_LOG")
	b0=$(wc -l <"$B_LOG")
	mqtt_connect "$WORK/$id.connect" "$id"
	run_cmd s_client_send "${PORT[$policy]}" "$WORK/$id.connect"
	[ "$LAST_RC" -ne 124 ] || fail "the device (s_client) through $policy hung"
	wait_close $((before + 1))
	say "close line: $CLOSE_LINE"
	assert_field "$CLOSE_LINE" policy "$policy"
	# s_server writes its report after the gateway's close line at times.
	for i in $(seq 1 20); do
		grep -q 'CONNECTION CLOSED\|ERROR\|DONE' <(tail -n +"$((a0 + 1))" "$A_LOG") <(tail -n +"$((b0 + 1))" "$B_LOG") && break
		sleep 0.1
	done
	NEW_A=$(tail -n +"$((a0 + 1))" "$A_LOG")
	NEW_B=$(tail -n +"$((b0 + 1))" "$B_LOG")
	addr=$(conn_addr "$CLOSE_LINE")
	GW_NEW=$(grep -F "$addr " "$GW_LOG" | tail -n 20)
}

# has TEXT WHAT FIXED: TEXT (a variable's value) holds the line FIXED.
has() {
	printf '%s\n' "$1" | grep -qF -- "$3" || fail "$2 lacks '$3'"
	pass "$2 has '$3'"
}
lacks() {
	if printf '%s\n' "$1" | grep -qF -- "$3"; then
		fail "$2 unexpectedly has '$3'"
	fi
	pass "$2 lacks '$3'"
}

# trace_sni TEXT: the host names of the server_name extensions that an
# `s_server -trace` in TEXT logged, one a line (decoded from its hex dump:
# list length (2), name type (1), name length (2), then the name).
trace_sni() {
	local hex
	printf '%s\n' "$1" | awk '
	/extension_type=server_name\(0\), length=[1-9]/ { on = 1; hex = ""; next }
	on && /^ +[0-9a-f][0-9a-f][0-9a-f][0-9a-f] - / {
		line = $0
		sub(/^ +[0-9a-f][0-9a-f][0-9a-f][0-9a-f] - /, "", line)
		line = substr(line, 1, 47)
		gsub(/-/, " ", line)
		hex = hex " " line
		next
	}
	on {
		on = 0
		n = split(hex, b, " ")
		s = ""
		for (i = 6; i <= n; i++) s = s b[i]
		print s
	}' | while read -r hex; do
		printf '%b\n' "$(printf '%s' "$hex" | sed 's/../\\x&/g')"
	done | sort -u
}

# trace_alpn MESSAGE TEXT: the ALPN protocol names in the first MESSAGE
# (ClientHello: offered; EncryptedExtensions: selected) that an
# `s_server -trace` in TEXT logged, one a line, in order.
trace_alpn() {
	printf '%s\n' "$2" | awk -v msg="$1" '
	index($0, msg ", Length=") { inmsg = 1; next }
	/^ +[A-Za-z]+, Length=/ { if (inmsg && seen) exit; inmsg = 0 }
	inmsg && /extension_type=application_layer_protocol_negotiation\(16\)/ { on = 1; seen = 1; next }
	on && /extension_type=|^ *$|^[A-Z]/ { on = 0; exit }
	on { gsub(/^ +/, ""); print }'
}
trace_alpn_offered() {
	trace_alpn ClientHello "$1"
}
trace_alpn_selected() {
	trace_alpn EncryptedExtensions "$1"
}

# upstream_failed WORD: the gateway logged "upstream 127.0.0.1:PORT
# handshake failed: ..." with WORD in it for the last connection, whose
# close line shows no upstream.
upstream_failed() {
	local port=$1 word=$2 line
	assert_field "$CLOSE_LINE" upstream -
	line=$(printf '%s\n' "$GW_NEW" | grep -F "upstream 127.0.0.1:$port handshake failed:" | head -n 1 || true)
	[ -n "$line" ] || fail "no 'upstream 127.0.0.1:$port handshake failed:' line for $(conn_addr "$CLOSE_LINE")"
	say "log: $line"
	printf '%s\n' "$line" | grep -qF -- "$word" ||
		fail "the upstream failure line does not say '$word': $line"
	pass "the upstream failure line says '$word'"
}

# --- 1. SNI, ALPN and the client certificate, as s_server saw them ------
through aws upext-aws
assert_field "$CLOSE_LINE" upstream TLS1.3
got=$(trace_sni "$NEW_A")
[ "$got" = iot.example.lan ] ||
	fail "s_server A got SNI '${got:-<none>}', expected iot.example.lan (the configured sni, not the host 127.0.0.1)"
pass "s_server A got SNI iot.example.lan (configured sni; host is 127.0.0.1)"
got=$(trace_alpn_offered "$NEW_A" | paste -sd, -)
[ "$got" = x-amzn-mqtt-ca ] || fail "ALPN offered to s_server A: '$got', expected x-amzn-mqtt-ca"
pass "ALPN offered (ClientHello): $got"
got=$(trace_alpn_selected "$NEW_A" | paste -sd, -)
[ "$got" = x-amzn-mqtt-ca ] || fail "ALPN selected by s_server A: '$got', expected x-amzn-mqtt-ca"
pass "ALPN selected (EncryptedExtensions): $got"
has "$NEW_A" "s_server A's output" "ALPN protocols selected: x-amzn-mqtt-ca"
# The client certificate: each level verified (-verify_return_error
# would have ended the handshake otherwise), then shown.
printf '%s\n' "$NEW_A" | grep -A1 -F "depth=1 CN = tlsgw test upstream client CA" | grep -qx "verify return:1" ||
	fail "s_server A did not verify the client CA at depth 1"
pass "s_server A: depth=1 CN = tlsgw test upstream client CA, verify return:1"
printf '%s\n' "$NEW_A" | grep -A1 -F "depth=0 O = tlsgw test, CN = gw-upstream-client" | grep -qx "verify return:1" ||
	fail "s_server A did not verify the client certificate gw-upstream-client at depth 0"
pass "s_server A: depth=0 O = tlsgw test, CN = gw-upstream-client, verify return:1"
has "$NEW_A" "s_server A's output" "Client certificate"
has "$NEW_A" "s_server A's output" "subject=O = tlsgw test, CN = gw-upstream-client"
has "$NEW_A" "s_server A's output" "issuer=CN = tlsgw test upstream client CA"
has "$NEW_A" "s_server A's output" "CIPHER is TLS_"
# The device's CONNECT came out of the mutually authenticated channel.
printf '%s\n' "$NEW_A" | grep -qaF "MQTTupext-aws" ||
	printf '%s\n' "$NEW_A" | grep -qaF "upext-aws" ||
	fail "s_server A did not receive the device's CONNECT (client id upext-aws)"
pass "s_server A received the device's CONNECT (client id upext-aws)"

# --- 2. an ALPN list goes out in order ------------------------------------
through multi upext-multi
assert_field "$CLOSE_LINE" upstream TLS1.3
got=$(trace_alpn_offered "$NEW_A" | paste -sd, -)
[ "$got" = mqtt,x-amzn-mqtt-ca ] || fail "ALPN offered: '$got', expected mqtt,x-amzn-mqtt-ca"
pass "ALPN offered: $got"
has "$NEW_A" "s_server A's output" "ALPN protocols selected: x-amzn-mqtt-ca"
[ "$(trace_sni "$NEW_A")" = iot.example.lan ] || fail "policy multi: SNI '$(trace_sni "$NEW_A")'"
pass "policy multi: SNI iot.example.lan"

# --- 3. an ALPN the broker does not speak: no connection -------------------
through badalpn upext-badalpn
upstream_failed "$A_PORT" "alert 120 (no_application_protocol)"
got=$(trace_alpn_offered "$NEW_A" | paste -sd, -)
[ "$got" = mqtt ] || fail "ALPN offered by policy badalpn: '$got', expected mqtt"
pass "ALPN offered: $got (refused by s_server)"
has "$NEW_A" "s_server A's output" "no application protocol"
lacks "$NEW_A" "s_server A's output" "upext-badalpn"

# --- 4. without a client certificate, or with one from another CA ---------
# In TLS 1.3 the server judges the client certificate after the client
# has finished its handshake, so the refusal (alert 116 or 48) reaches
# the gateway either while it still handshakes or as the first record of
# the relay: either log line will do, but s_server must have refused and
# got nothing.
through nocert upext-nocert
has "$NEW_A" "s_server A's output" "peer did not return a certificate"
lacks "$NEW_A" "s_server A's output" "upext-nocert"
printf '%s\n' "$GW_NEW" | grep -qE "upstream 127\.0\.0\.1:$A_PORT handshake failed: .*alert 116|upstream TLS error" ||
	fail "no log line for the refused upstream handshake without a client certificate"
pass "gateway: $(printf '%s\n' "$GW_NEW" | grep -E "handshake failed|TLS error" | head -n 1)"
case $CLOSE_LINE in
*' reason="upstream failed"' | *' reason="upstream TLS error"' | *' reason="upstream closed"') pass "reason: ${CLOSE_LINE##* reason=}" ;;
*) fail "expected an upstream reason in: $CLOSE_LINE" ;;
esac

through rogue upext-rogue
has "$NEW_A" "s_server A's output" "depth=0 O = tlsgw test, CN = rogue-client"
printf '%s\n' "$NEW_A" | grep -qE "verify error:num=(20|21|2):" ||
	fail "s_server A did not report a verify error for the rogue client certificate"
pass "s_server A: $(printf '%s\n' "$NEW_A" | grep -E "verify error:" | head -n 1)"
lacks "$NEW_A" "s_server A's output" "upext-rogue"
printf '%s\n' "$GW_NEW" | grep -qE "upstream 127\.0\.0\.1:$A_PORT handshake failed: .*alert 48|upstream TLS error" ||
	fail "no log line for the upstream handshake refused for the rogue client certificate"
pass "gateway: $(printf '%s\n' "$GW_NEW" | grep -E "handshake failed|TLS error" | head -n 1)"

# --- 5. the broker's certificate fits the host, not the sni ----------------
through hostonly upext-hostonly
upstream_failed "$B_PORT" "certificate name mismatch"
printf '%s\n' "$GW_NEW" | grep -qF "not for 'iot.example.lan'" ||
	fail "the mismatch line does not name the configured sni iot.example.lan"
pass "the mismatch line names iot.example.lan"
lacks "$NEW_B" "s_server B's output" "upext-hostonly"
# Control: the same certificate, the same host, no sni: verified.
through hostctl upext-hostctl
assert_field "$CLOSE_LINE" upstream TLS1.3
printf '%s\n' "$NEW_B" | grep -qaF "upext-hostctl" ||
	fail "s_server B did not receive the CONNECT through hostctl"
pass "s_server B received the CONNECT through hostctl (certificate verified for 127.0.0.1)"

assert_alive "$GW_PID" tlsgw
say "all upstream extension checks passed in $(($(date +%s) - T0)) s"
