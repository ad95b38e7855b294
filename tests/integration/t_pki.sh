#!/bin/bash
# t_pki.sh: `tlsgw pki` from nothing to working device credentials, every
# output checked by a tool that is not wolfSSL:
#   - openssl parses every certificate, key and the CRL, verifies the
#     chains, and shows the extensions we asked for;
#   - the Tasmota TLSKey1/TLSKey2 strings decode to the key's scalar and
#     the certificate; the fingerprints match openssl's SHA-1 and a SHA-1
#     over the key fields computed here, and BearSSL's decoder (as
#     Tasmota computes them);
#   - the BearSSL trust-anchor header compiles into a Tasmota-like
#     BearSSL client (tests/clients/ta_client.c) that publishes through a
#     gateway running on the pki's certificates, with and without the
#     Tasmota-style client certificate;
#   - OpenSSL (mosquitto_pub) and mbedTLS (mbed_client) verify the
#     gateway with the device's ca.pem; a policy with client_ca refuses a
#     device without a certificate;
#   - bad input (unknown command or option, existing CA, unusable
#     directory, bad device names) fails with a message and changes
#     nothing.
# TLSGW_WRAPPER (e.g. valgrind) also wraps the pki commands.
# shellcheck source-path=SCRIPTDIR source=lib.sh disable=SC1091
. "$(dirname "$0")/lib.sh"

require_bin "$TLSGW"
require_bin "$MBED_CLIENT"
require_cmd openssl
require_cmd cc build-essential
require_cmd od coreutils
require_cmd base64 coreutils
require_cmd mosquitto_pub mosquitto-clients
[ -f /usr/include/bearssl.h ] || fail "bearssl.h missing: install libbearssl-dev"

DIR=$WORK/ours
CLIENTS=$top_srcdir/tests/clients

# pki ARGS...: run `tlsgw pki` (under TLSGW_WRAPPER if set).
pki() {
	# shellcheck disable=SC2086
	run_cmd ${TLSGW_WRAPPER:-} "$TLSGW" pki "$@"
}

# pki_ok ARGS... / pki_fails ARGS...: run and demand success / failure.
pki_ok() {
	pki "$@"
	[ "$LAST_RC" -eq 0 ] || fail "tlsgw pki $* exited $LAST_RC"
}
pki_fails() {
	pki "$@"
	[ "$LAST_RC" -ne 0 ] || fail "tlsgw pki $* should have failed"
	pass "tlsgw pki $* refused (exit $LAST_RC)"
}

# sums DIR: checksums of every file below DIR (to prove nothing changed).
sums() {
	(cd "$1" && find . -type f ! -name .lock -print0 | sort -z |
		xargs -0 sha256sum)
}

# text FILE: openssl's description of the first certificate in FILE.
text() {
	openssl x509 -in "$1" -noout -text || fail "openssl cannot parse $1"
}

# has FILE PATTERN: the certificate text contains PATTERN (fixed string).
has() {
	text "$1" | grep -qF -- "$2" || fail "$(basename "$1"): no '$2' in:
$(text "$1")"
	pass "$(basename "$1"): $2"
}

# mode_is FILE MODE
mode_is() {
	[ "$(stat -c %a "$1")" = "$2" ] ||
		fail "$1 has mode $(stat -c %a "$1"), expected $2"
	pass "$(basename "$1") mode $2"
}

# key_matches KEY CERT: the key's public half is the certificate's key.
key_matches() {
	openssl pkey -in "$1" -pubout -out "$WORK/k.pub" ||
		fail "openssl cannot parse the key $1"
	openssl x509 -in "$2" -noout -pubkey >"$WORK/c.pub"
	cmp -s "$WORK/k.pub" "$WORK/c.pub" ||
		fail "$1 is not the key of $2"
	pass "$(basename "$1") is the key of $(basename "$2")"
}

# valid_days CERT DAYS: notAfter is DAYS days from now (+- 1 day).
valid_days() {
	openssl x509 -in "$1" -noout -checkend $((($2 - 1) * 86400)) >/dev/null ||
		fail "$1 expires before $2 days"
	! openssl x509 -in "$1" -noout -checkend $((($2 + 1) * 86400)) >/dev/null ||
		fail "$1 is valid for more than $2 days"
	pass "$(basename "$1") valid $2 days"
}

# verify CA CERT [PURPOSE]: openssl verifies the chain.
verify() {
	openssl verify ${3:+-purpose "$3"} -CAfile "$1" "$2" >"$WORK/verify.out" 2>&1 ||
		fail "openssl verify $2 against $1: $(cat "$WORK/verify.out")"
	pass "openssl verify ${3:-} $(basename "$2") against $(basename "$1")"
}

# field_after PREFIX: the rest of the first output line starting PREFIX.
field_after() {
	grep -m1 "^$1" "$WORK/last.out" | cut -c$((${#1} + 1))-
}

# hex FILE: the bytes of FILE as lower-case hex (stdin when no FILE).
hex() {
	od -An -v -tx1 ${1:+"$1"} | tr -d ' \n'
}

# unhex HEX: the bytes HEX spells, on stdout.
unhex() {
	# shellcheck disable=SC2059  # the format is the data, by design
	printf "$(printf '%s' "$1" | sed 's/../\\x&/g')"
}

# hexfp "AA BB ..." or "AA:BB:...": lower-case hex without separators.
hexfp() {
	printf '%s' "$1" | tr -d ' :' | tr 'A-F' 'a-f'
}

# ---------------------------------------------------------------------
say "--- bad input"
pki_ok --help
assert_output_contains "tlsgw pki init"
assert_output_contains "tlsgw pki revoke NAME"
pki_fails
pki_fails frobnicate
assert_output_contains "unknown command 'frobnicate'"
pki_fails init --bogus --dir "$DIR"
assert_output_contains "unknown option '--bogus'"
pki_fails list --rsa --dir "$DIR"
assert_output_contains "unknown option '--rsa'"
pki_fails server gw.lan --dir "$DIR"
assert_output_contains "no CA in $DIR"
[ ! -e "$DIR" ] || fail "a failed command created $DIR"
# A directory below a regular file can never be made, even as root.
echo "not a directory" >"$WORK/afile"
pki_fails init --dir "$WORK/afile/pki"
assert_output_matches "[Nn]ot a directory"
[ "$(cat "$WORK/afile")" = "not a directory" ] || fail "$WORK/afile changed"

# ---------------------------------------------------------------------
say "--- the three commands, DIR from \$TLSGW_PKI_DIR"
export TLSGW_PKI_DIR=$DIR
pki_ok init
assert_output_contains "$DIR/ca-rsa.crt"
pki_ok server gw.lan 192.168.1.2 127.0.0.1
cp "$WORK/last.out" "$WORK/server.out"
pki_ok device plug-1
cp "$WORK/last.out" "$WORK/device.out"
pass "init, server, device: a device credential from nothing"

say "--- CA"
for f in ca-rsa.key ca-ec.key server-rsa.key server-ec.key; do
	mode_is "$DIR/$f" 600
done
has "$DIR/ca-rsa.crt" "Signature Algorithm: sha256WithRSAEncryption"
has "$DIR/ca-rsa.crt" "Public-Key: (2048 bit)"
has "$DIR/ca-rsa.crt" "CA:TRUE"
has "$DIR/ca-rsa.crt" "Certificate Sign, CRL Sign"
has "$DIR/ca-ec.crt" "Signature Algorithm: ecdsa-with-SHA256"
has "$DIR/ca-ec.crt" "NIST CURVE: P-256"
has "$DIR/ca-ec.crt" "CA:TRUE"
valid_days "$DIR/ca-rsa.crt" 3650
valid_days "$DIR/ca-ec.crt" 3650
verify "$DIR/ca-rsa.crt" "$DIR/ca-rsa.crt"
verify "$DIR/ca-ec.crt" "$DIR/ca-ec.crt"
key_matches "$DIR/ca-rsa.key" "$DIR/ca-rsa.crt"
key_matches "$DIR/ca-ec.key" "$DIR/ca-ec.crt"
openssl crl -in "$DIR/crl.pem" -CAfile "$DIR/ca-ec.crt" -noout -verify 2>&1 |
	grep -q "verify OK" || fail "crl.pem does not verify against ca-ec.crt"
pass "crl.pem signed by ca-ec"

say "--- an existing CA is kept"
sums "$DIR" >"$WORK/before.sum"
pki_fails init
assert_output_contains "a CA already exists"
sums "$DIR" >"$WORK/after.sum"
cmp -s "$WORK/before.sum" "$WORK/after.sum" || fail "init without --force changed files"
pass "files unchanged"
cp -a "$DIR" "$WORK/forced"
pki_ok init --force --dir "$WORK/forced"
cmp -s "$DIR/ca-rsa.crt" "$WORK/forced/ca-rsa.crt" && fail "--force kept the old CA"
verify "$WORK/forced/ca-rsa.crt" "$WORK/forced/ca-rsa.crt"
pass "init --force made a new CA"

say "--- gateway certificates"
for f in server-rsa server-ec; do
	crt=$DIR/$f.crt
	[ "$(grep -c 'BEGIN CERTIFICATE' "$crt")" = 2 ] || fail "$crt is not leaf + CA"
	verify "$DIR/ca-rsa.crt" "$crt" sslserver
	key_matches "$DIR/$f.key" "$crt"
	has "$crt" "Subject: CN = gw.lan"
	has "$crt" "DNS:gw.lan, IP Address:192.168.1.2, DNS:192.168.1.2, IP Address:127.0.0.1, DNS:127.0.0.1"
	has "$crt" "TLS Web Server Authentication"
	has "$crt" "CA:FALSE"
	has "$crt" "Signature Algorithm: sha256WithRSAEncryption"
	valid_days "$crt" 825
	grep -qF "$crt" "$WORK/server.out" || fail "the policy lines lack $crt"
done
has "$DIR/server-rsa.crt" "Digital Signature, Key Encipherment"
has "$DIR/server-ec.crt" "NIST CURVE: P-256"
grep -qx "cert_ecdsa = $DIR/server-ec.crt" "$WORK/server.out" ||
	fail "no 'cert_ecdsa = ...' line to paste"
pass "policy lines printed"
sums "$DIR" >"$WORK/before.sum"
pki_fails server other.lan
sums "$DIR" >"$WORK/after.sum"
cmp -s "$WORK/before.sum" "$WORK/after.sum" || fail "server without --force changed files"
pass "existing gateway certificates kept"
pki_fails server "bad_name!" --force
assert_output_contains "neither a host name nor an IP address"

say "--- device certificate"
DEV=$DIR/devices/plug-1
for f in cert.pem key.pem cert.der key.der ca.der ca.pem trust_anchors.h; do
	[ -s "$DEV/$f" ] || fail "$DEV/$f missing"
done
mode_is "$DEV/key.pem" 600
mode_is "$DEV/key.der" 600
verify "$DIR/ca-ec.crt" "$DEV/cert.pem" sslclient
key_matches "$DEV/key.pem" "$DEV/cert.pem"
has "$DEV/cert.pem" "Subject: CN = plug-1"
has "$DEV/cert.pem" "NIST CURVE: P-256"
has "$DEV/cert.pem" "CA:FALSE"
has "$DEV/cert.pem" "TLS Web Client Authentication"
text "$DEV/cert.pem" | grep -A1 "X509v3 Key Usage: critical" | grep -qx " *Digital Signature" ||
	fail "device key usage is not digitalSignature alone"
pass "device key usage: Digital Signature"
openssl x509 -in "$DEV/cert.pem" -outform der | cmp -s - "$DEV/cert.der" ||
	fail "cert.der is not cert.pem"
openssl pkey -in "$DEV/key.pem" -outform der -out "$WORK/key1.der"
openssl pkey -inform der -in "$DEV/key.der" -outform der | cmp -s - "$WORK/key1.der" ||
	fail "key.der is not key.pem"
openssl x509 -in "$DIR/ca-rsa.crt" -outform der | cmp -s - "$DEV/ca.der" ||
	fail "ca.der is not the gateway's CA"
cmp -s "$DEV/ca.pem" "$DIR/ca-rsa.crt" || fail "ca.pem is not ca-rsa.crt"
pass "DER and PEM files agree; ca.der/ca.pem = the gateway's CA"

say "--- Tasmota TLSKey1/TLSKey2"
cp "$WORK/device.out" "$WORK/last.out"
assert_output_contains "PRIVATE KEY"
k1=$(field_after "TLSKey1 ")
k2=$(field_after "TLSKey2 ")
printf '%s' "$k1" | base64 -d >"$WORK/tlskey1.bin" || fail "TLSKey1 is not base64"
printf '%s' "$k2" | base64 -d >"$WORK/tlskey2.der" || fail "TLSKey2 is not base64"
[ "$(stat -c %s "$WORK/tlskey1.bin")" = 32 ] || fail "TLSKey1 is not 32 bytes"
scalar=$(openssl ec -in "$DEV/key.pem" -noout -text 2>/dev/null |
	sed -n '/^priv:/,/^pub:/{/^ /p}' | tr -d ' :\n')
scalar=$(printf '%064s' "${scalar#00}" | tr ' ' 0)
[ "$(hex "$WORK/tlskey1.bin")" = "$scalar" ] ||
	fail "TLSKey1 is not the private scalar of key.pem"
pass "TLSKey1 = the P-256 private scalar (openssl ec -text)"
cmp -s "$WORK/tlskey2.der" "$DEV/cert.der" || fail "TLSKey2 is not cert.der"
size=$(stat -c %s "$WORK/tlskey2.der")
if [ "$size" -le 256 ] || [ "$size" -gt 928 ]; then
	fail "certificate is $size bytes: Tasmota takes 257..928"
fi
pass "TLSKey2 = cert.der ($size bytes, fits Tasmota's store)"
grep -qx "MqttHost gw.lan" "$WORK/device.out" || fail "no MqttHost line"

say "--- fingerprints"
openssl x509 -in "$DIR/server-rsa.crt" -outform der -out "$WORK/gw-rsa.der"
openssl x509 -in "$DIR/server-ec.crt" -outform der -out "$WORK/gw-ec.der"
# Tasmota: SHA-1 over "ssh-rsa", e, n as BearSSL decodes them (no
# leading zeros), v2 each with a 32-bit big-endian length.
n=$(openssl x509 -in "$DIR/server-rsa.crt" -noout -modulus | cut -d= -f2 | tr 'A-F' 'a-f')
n=${n#00}
e=010001
has "$DIR/server-rsa.crt" "Exponent: 65537"
tag=$(printf 'ssh-rsa' | hex)
len32() { printf '%08x' $((${#1} / 2)); }
want_v2=$(unhex "$(len32 "$tag")$tag$(len32 $e)$e$(len32 "$n")$n" |
	sha1sum | cut -d' ' -f1)
want_v1=$(unhex "$tag$e$n" | sha1sum | cut -d' ' -f1)
got_v2=$(hexfp "$(field_after "MqttFingerprint1 ")")
[ "$got_v2" = "$want_v2" ] || fail "MqttFingerprint1 $got_v2, computed $want_v2"
pass "MqttFingerprint1 = SHA-1 of the length-prefixed RSA key fields"
got_v1=$(hexfp "$(grep -m1 'no lengths' "$WORK/device.out" | sed 's/.*MqttFingerprint1 //')")
[ "$got_v1" = "$want_v1" ] || fail "old-algorithm fingerprint $got_v1, computed $want_v1"
pass "old Tasmota fingerprint = SHA-1 of the key fields without lengths"
want_cert=$(hexfp "$(openssl x509 -in "$DIR/server-rsa.crt" -noout -fingerprint -sha1 | cut -d= -f2)")
got_cert=$(hexfp "$(grep -m1 'SHA-1 of the certificate' "$WORK/device.out" | sed 's/.*MqttFingerprint //')")
[ "$got_cert" = "$want_cert" ] || fail "certificate fingerprint $got_cert, openssl says $want_cert"
pass "certificate fingerprint = openssl x509 -fingerprint -sha1"
want_ec=$(hexfp "$(openssl x509 -in "$DIR/server-ec.crt" -noout -fingerprint -sha1 | cut -d= -f2)")
got_ec=$(hexfp "$(grep -m1 '^client.setFingerprint' "$WORK/device.out" | cut -d'"' -f2)")
[ "$got_ec" = "$want_ec" ] || fail "Arduino setFingerprint $got_ec, openssl says $want_ec"
got_rsa=$(hexfp "$(grep -m1 '^// client.setFingerprint' "$WORK/device.out" | cut -d'"' -f2)")
[ "$got_rsa" = "$want_cert" ] || fail "Arduino RSA setFingerprint $got_rsa, openssl says $want_cert"
pass "ESP8266 Arduino setFingerprint values = openssl's SHA-1 of each certificate"

say "--- BearSSL trust-anchor header"
TA_CLIENT=$WORK/ta_client
cc -std=gnu11 -Wall -Wextra -Werror -I"$CLIENTS" \
	-DTA_HEADER="\"$DEV/trust_anchors.h\"" -c -o "$WORK/ta_client.o" \
	"$CLIENTS/ta_client.c" >"$WORK/cc.out" 2>&1 ||
	fail "ta_client.c with trust_anchors.h does not compile: $(cat "$WORK/cc.out")"
cc -std=gnu11 -I"$CLIENTS" -c -o "$WORK/mqtt_min.o" "$CLIENTS/mqtt_min.c" ||
	fail "cannot compile mqtt_min.c"
cc -o "$TA_CLIENT" "$WORK/ta_client.o" "$WORK/mqtt_min.o" -lbearssl ||
	fail "cannot link ta_client"
pass "trust_anchors.h compiles (-Wall -Wextra -Werror) into a BearSSL client"
run_cmd "$TA_CLIENT" --fingerprint "$WORK/gw-rsa.der"
[ "$(hexfp "$(field_after "v2 ")")" = "$want_v2" ] || fail "BearSSL's v2 fingerprint differs"
[ "$(hexfp "$(field_after "v1 ")")" = "$want_v1" ] || fail "BearSSL's v1 fingerprint differs"
pass "BearSSL's decoder gives the same Tasmota fingerprints"
pki_ok device plug-3 --format bearssl
assert_output_contains "static const br_x509_trust_anchor TAs[1] = {"
assert_output_contains "#define TAs_NUM   1"
assert_output_lacks "TLSKey1"

say "--- gateway with the pki's certificates"
make_pki                        # the broker's side only
start_mosquitto --tls-version tlsv1.3
OPEN_PORT=$(free_port)
MTLS_PORT=$(free_port)
write_gateway_conf "$WORK/gw"
write_default_policy "$WORK/gw/policies/open.ini" "$OPEN_PORT" \
	"device.cert=$DIR/server-rsa.crt" "device.key=$DIR/server-rsa.key" \
	"device.cert_ecdsa=$DIR/server-ec.crt" "device.key_ecdsa=$DIR/server-ec.key"
write_default_policy "$WORK/gw/policies/mtls.ini" "$MTLS_PORT" \
	"device.cert=$DIR/server-rsa.crt" "device.key=$DIR/server-rsa.key" \
	"device.cert_ecdsa=$DIR/server-ec.crt" "device.key_ecdsa=$DIR/server-ec.key" \
	"device.client_ca=$DIR/ca-ec.crt"
start_gateway --listeners 2 "$WORK/gw/tlsgw.ini"

# ta PORT ARGS...: the BearSSL client; must print "ok".
ta() {
	local port=$1
	shift
	run_cmd "$TA_CLIENT" --port "$port" --timeout 15 "$@"
	[ "$LAST_RC" -eq 0 ] || fail "ta_client $* exited $LAST_RC"
	assert_output_matches '^ok version=TLS1\.2'
}
ta "$OPEN_PORT" --name gw.lan --profile tasmota-esp8266
assert_output_contains "suite=0xC02F"
ta "$OPEN_PORT" --name gw.lan --profile tasmota-esp32
assert_output_contains "suite=0xC02B"
pass "ECDSA certificate verified by BearSSL through the RSA anchor"
# BearSSL matches only dNSName entries: the IP spelled as a DNS name.
ta "$OPEN_PORT" --name 127.0.0.1
run_cmd "$TA_CLIENT" --port "$OPEN_PORT" --name other.lan --timeout 15
[ "$LAST_RC" -ne 0 ] || fail "ta_client accepted the gateway as other.lan"
assert_output_contains "bearssl_error=56"      # BR_ERR_X509_BAD_SERVER_NAME
pass "a name not in the certificate is refused"

run_cmd mosquitto_pub -h 127.0.0.1 -p "$OPEN_PORT" --cafile "$DEV/ca.pem" \
	-i pki-openssl -t tlsgw/test/pki -m hello -q 1
[ "$LAST_RC" -eq 0 ] || fail "mosquitto_pub with ca.pem failed"
pass "OpenSSL verifies the gateway (IP 127.0.0.1) with ca.pem"
run_cmd "$MBED_CLIENT" --host 127.0.0.1 --port "$OPEN_PORT" --ca "$DEV/ca.pem" \
	--sni gw.lan --profile micropython-mbedtls-1.24 --topic tlsgw/test/pki \
	--payload-size 100 --count 1 --timeout 15
[ "$LAST_RC" -eq 0 ] || fail "mbed_client with ca.pem failed"
pass "mbedTLS (MicroPython profile) verifies the gateway with ca.pem"

say "--- client certificates (client_ca = ca-ec.crt)"
run_cmd mosquitto_pub -h 127.0.0.1 -p "$MTLS_PORT" --cafile "$DEV/ca.pem" \
	--cert "$DEV/cert.pem" --key "$DEV/key.pem" -i pki-mtls \
	-t tlsgw/test/pki -m hello -q 1
[ "$LAST_RC" -eq 0 ] || fail "mosquitto_pub with the device certificate failed"
pass "device certificate accepted"
run_cmd mosquitto_pub -h 127.0.0.1 -p "$MTLS_PORT" --cafile "$DEV/ca.pem" \
	-i pki-nocert -t tlsgw/test/pki -m hello -q 1
[ "$LAST_RC" -ne 0 ] || fail "a device without a certificate got through"
pass "device without a certificate refused"
pki_ok device plug-2 --rsa --format tasmota
assert_output_contains "only P-256 client keys"
! grep -q '^TLSKey1 ' "$WORK/last.out" || fail "an RSA device got a TLSKey1 line"
has "$DIR/devices/plug-2/cert.pem" "Public-Key: (2048 bit)"
has "$DIR/devices/plug-2/cert.pem" "Digital Signature, Key Encipherment"
verify "$DIR/ca-ec.crt" "$DIR/devices/plug-2/cert.pem" sslclient
run_cmd mosquitto_pub -h 127.0.0.1 -p "$MTLS_PORT" --cafile "$DEV/ca.pem" \
	--cert "$DIR/devices/plug-2/cert.pem" --key "$DIR/devices/plug-2/key.pem" \
	-i pki-rsa -t tlsgw/test/pki -m hello -q 1
[ "$LAST_RC" -eq 0 ] || fail "RSA device certificate refused"
pass "RSA device certificate accepted"
# Tasmota's way: the key and certificate exactly as TLSKey1/2 hold them.
# An ESP32 build offering ECDHE-ECDSA gets the ECDSA context, whose
# CertificateRequest asks for ecdsa_sign: BearSSL sends the EC cert.
ta "$MTLS_PORT" --name gw.lan --profile tasmota-esp32 \
	--client-key "$WORK/tlskey1.bin" --client-cert "$WORK/tlskey2.der"
assert_output_contains "suite=0xC02B"
pass "BearSSL client with the TLSKey1/TLSKey2 values authenticated"
# Known limit, not of the pki: with ECDHE-RSA (ESP8266, C02F only)
# wolfSSL 5.5.4's CertificateRequest lists rsa_sign alone, and BearSSL
# then sends no EC certificate.  Reported, not asserted.
run_cmd "$TA_CLIENT" --port "$MTLS_PORT" --name gw.lan --timeout 15 \
	--client-key "$WORK/tlskey1.bin" --client-cert "$WORK/tlskey2.der"
if [ "$LAST_RC" -eq 0 ]; then
	say "note: ESP8266 profile (ECDHE-RSA) with an EC client certificate: accepted"
else
	say "note: ESP8266 profile (ECDHE-RSA) with an EC client certificate: refused (wolfSSL asks for rsa_sign only)"
fi
run_cmd "$TA_CLIENT" --port "$MTLS_PORT" --name gw.lan --timeout 15
[ "$LAST_RC" -ne 0 ] || fail "BearSSL client without a certificate got through"
pass "BearSSL client without a certificate refused"

say "--- bad device names, existing device"
sums "$DIR" >"$WORK/before.sum"
pki_fails device "a/b"
assert_output_contains "device name 'a/b'"
pki_fails device ""
assert_output_contains "the device name is empty"
pki_fails device ..
pki_fails device plug-1
assert_output_contains "already has a certificate"
pki_fails device x --format nope
assert_output_contains "--format nope"
sums "$DIR" >"$WORK/after.sum"
cmp -s "$WORK/before.sum" "$WORK/after.sum" || fail "a refused device command changed files"
if [ -e "$DIR/devices/a" ] || [ -e "$DIR/devices/x" ]; then
	fail "a refused device left a directory"
fi
pass "refused device commands changed nothing"

say "--- list and revoke"
cp "$DEV/cert.pem" "$WORK/plug-1-old.pem"
cp "$DEV/key.pem" "$WORK/plug-1-old.key"
serial=$(openssl x509 -in "$DEV/cert.pem" -noout -serial | cut -d= -f2)
pki_ok list
assert_output_matches "^$serial +device-ec +plug-1 +[0-9-]+ +valid$"
assert_output_matches "server-rsa +gw.lan"
pki_ok revoke plug-1
pki_ok list
assert_output_matches "^$serial +device-ec +plug-1 +[0-9-]+ +revoked "
openssl crl -in "$DIR/crl.pem" -noout -text | grep -q "Serial Number: $serial" ||
	fail "crl.pem does not list $serial"
cat "$DIR/ca-ec.crt" "$DIR/crl.pem" >"$WORK/ca-crl.pem"
if openssl verify -crl_check -CAfile "$WORK/ca-crl.pem" "$WORK/plug-1-old.pem" >"$WORK/verify.out" 2>&1; then
	fail "openssl still accepts the revoked certificate"
fi
grep -q "certificate revoked" "$WORK/verify.out" || fail "unexpected: $(cat "$WORK/verify.out")"
verify "$WORK/ca-crl.pem" "$DIR/devices/plug-2/cert.pem"
pass "crl.pem revokes plug-1 and only plug-1 (openssl verify -crl_check)"
pki_fails revoke plug-1
assert_output_contains "no valid device certificate named 'plug-1'"
pki_ok device plug-1 --format micropython
assert_output_contains "$DEV/cert.der"
pass "a revoked device can be issued again"

# The gateway enforces the CRL: client_ca + client_crl in a policy.
write_default_policy "$WORK/crl/policies/crl.ini" "$(free_port)" \
	"device.cert=$DIR/server-rsa.crt" "device.key=$DIR/server-rsa.key" \
	"device.cert_ecdsa=$DIR/server-ec.crt" "device.key_ecdsa=$DIR/server-ec.key" \
	"device.client_ca=$DIR/ca-ec.crt" "device.client_crl=$DIR/crl.pem"
write_gateway_conf "$WORK/crl"
run_cmd "$TLSGW" -t -c "$WORK/crl/tlsgw.ini"
[ "$LAST_RC" -eq 0 ] || fail "tlsgw -t refused a policy with client_crl = $DIR/crl.pem"
CRL_PORT=$(grep -m1 address "$WORK/crl/policies/crl.ini" | sed 's/.*://')
start_gateway --name gateway-crl "$WORK/crl/tlsgw.ini"
run_cmd mosquitto_pub -h 127.0.0.1 -p "$CRL_PORT" --cafile "$DEV/ca.pem" \
	--cert "$WORK/plug-1-old.pem" --key "$WORK/plug-1-old.key" \
	-i pki-crl-revoked -t tlsgw/test/pki -m hello -q 1
[ "$LAST_RC" -ne 0 ] || fail "client_crl let the revoked device in"
assert_log_matches "device handshake failed: .*[Rr]evoked"
pass "client_crl: revoked device refused"
run_cmd mosquitto_pub -h 127.0.0.1 -p "$CRL_PORT" --cafile "$DEV/ca.pem" \
	--cert "$DIR/devices/plug-2/cert.pem" --key "$DIR/devices/plug-2/key.pem" \
	-i pki-crl-ok -t tlsgw/test/pki -m hello -q 1
[ "$LAST_RC" -eq 0 ] || fail "client_crl refused a valid device"
pass "client_crl: valid device accepted"
