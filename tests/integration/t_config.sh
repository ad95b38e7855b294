#!/bin/bash
# t_config.sh: the command line and configuration checking.
#   tlsgw --version prints its version and its libraries';
#   tlsgw -t accepts a good configuration (relative paths resolved from
#   the global file's directory) and the shipped demo and example files;
#   tlsgw -t refuses broken ones with exit 1 and "file:line: message"
#   naming the right file and line, for every error, not only the first.
# shellcheck source-path=SCRIPTDIR source=lib.sh disable=SC1091
. "$(dirname "$0")/lib.sh"

require_bin "$TLSGW"
make_pki

# --- version -----------------------------------------------------------
assert_exit 0 "$TLSGW" --version
assert_output_matches '^tlsgw [0-9]+\.[0-9]+\.[0-9]+ \(wolfSSL [0-9][^,]*, libevent [0-9][^)]*\)$'

# --- a good configuration, with paths relative to the global file -----
good=$WORK/good
mkdir -p "$good/pki"
cp "$PKI"/*.crt "$PKI"/*.key "$good/pki/"
write_gateway_conf "$good"
write_policy "$good/policies/main.ini" \
	listen.address=127.0.0.1:18883 \
	device.cert=pki/gw-rsa.crt device.key=pki/gw-rsa.key \
	device.cert_ecdsa=pki/gw-ec.crt device.key_ecdsa=pki/gw-ec.key \
	device.suites=compat device.min_version=1.2 \
	upstream.host=127.0.0.1 upstream.port=18884 upstream.sni=broker.demo.lan \
	upstream.ca=pki/ca.crt upstream.min_version=1.3
# A second policy on another port, with only an ECDSA certificate and an
# explicit suite list.
write_policy "$good/policies/second.ini" \
	listen.address=127.0.0.1:18885 \
	device.cert_ecdsa=pki/gw-ec.crt device.key_ecdsa=pki/gw-ec.key \
	device.suites=TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256 \
	upstream.host=127.0.0.1 upstream.port=18884 upstream.sni=broker.demo.lan \
	upstream.ca=pki/ca.crt
assert_exit 0 "$TLSGW" -t -c "$good/tlsgw.ini"
assert_output_contains "configuration OK"
# ... also when started from another directory: paths do not depend on
# the working directory.
# shellcheck disable=SC2016  # $1 and $2 belong to the inner shell
assert_exit 0 bash -c 'cd / && exec "$1" -t -c "$2"' sh "$TLSGW" "$good/tlsgw.ini"
assert_output_contains "configuration OK"

# --- the shipped demo configuration, laid out as in a source tree ------
shipped=$WORK/shipped
mkdir -p "$shipped/conf" "$shipped/demo-run"
cp -R "$TOP_SRCDIR/conf/demo" "$shipped/conf/demo"
cp -R "$PKI" "$shipped/demo-run/pki"
assert_exit 0 "$TLSGW" -t -c "$shipped/conf/demo/tlsgw.ini"
assert_output_contains "configuration OK"

# --- the shipped default global file with every example enabled -------
# Each *.ini.example becomes *.ini; the files they name are stand-ins
# from the demo PKI, and a dummy password file (mode 0600, as the
# example says).  They must load without errors or warnings.
ex=$WORK/examples
mkdir -p "$ex/upstreams.d" "$ex/pki" "$ex/secrets"
cp "$TOP_SRCDIR/conf/tlsgw.ini" "$ex/tlsgw.ini"
for f in "$TOP_SRCDIR"/conf/upstreams.d/*.ini.example; do
	cp "$f" "$ex/upstreams.d/$(basename "$f" .example)"
done
cp "$PKI"/gw-*.crt "$PKI"/gw-*.key "$ex/pki/"
cp "$PKI/ca.crt" "$ex/pki/broker-ca.crt"          # mosquitto-local
cp "$PKI/ca.crt" "$ex/pki/AmazonRootCA1.pem"      # aws-iot
for n in gateway-client aws-thing; do             # client certificates
	cp "$PKI/gw-rsa.crt" "$ex/pki/$n.crt"
	cp "$PKI/gw-rsa.key" "$ex/pki/$n.key"
done
chmod 600 "$ex"/pki/*.key
(umask 077 && printf 'not-a-real-password\n' >"$ex/secrets/hivemq.pass")
assert_exit 0 "$TLSGW" -t -c "$ex/tlsgw.ini"
assert_output_contains "configuration OK"
assert_output_lacks "warning"

# --- broken configurations ---------------------------------------------

# new_bad NAME: a copy of the good configuration in $WORK/bad-NAME (the
# global file and the policy main.ini); prints nothing, sets BAD.
new_bad() {
	BAD=$WORK/bad-$1
	rm -rf "$BAD"
	mkdir -p "$BAD"
	cp -R "$good/pki" "$good/policies" "$good/tlsgw.ini" "$BAD/"
	rm -f "$BAD/policies/second.ini"
}

# set_line FILE KEY NEWLINE: replace the line that sets KEY.
set_line() {
	local n
	n=$(grep -nE "^$2 = " "$1" | head -n 1 | cut -d: -f1)
	[ -n "$n" ] || fail "set_line: no '$2 = ' in $1"
	sed -i "${n}s|.*|$3|" "$1"
}

# add_after FILE KEY NEWLINE: insert a line after the line that sets KEY.
add_after() {
	local n
	n=$(grep -nE "^$2 = " "$1" | head -n 1 | cut -d: -f1)
	[ -n "$n" ] || fail "add_after: no '$2 = ' in $1"
	sed -i "${n}a\\
$3" "$1"
}

# expect_error FILE LINE WORDS: `tlsgw -t` exits 1 and prints
# "FILE:LINE: message" where the message matches WORDS (an extended
# regexp, case-insensitive).
expect_error() {
	local file=$1 line=$2 word=$3 base re
	base=$(basename "$file")
	assert_exit 1 "$TLSGW" -t -c "$BAD/tlsgw.ini"
	re="(^|[/[:space:]])${base//./\\.}:${line}: "
	grep -E -- "$re" "$WORK/last.out" >/dev/null ||
		fail "no '$base:$line: message' line in the output of tlsgw -t"
	grep -E -- "$re" "$WORK/last.out" | grep -qiE -- "$word" ||
		fail "the '$base:$line:' message does not mention '$word'"
	pass "$base:$line: reported, mentioning '$word'"
	assert_output_lacks "configuration OK"
}

say "unknown key in a policy"
new_bad unknown_key
add_after "$BAD/policies/main.ini" suites "colour = blue"
expect_error "$BAD/policies/main.ini" "$(line_of "$BAD/policies/main.ini" "colour = blue")" colour

say "unknown key in the global file"
new_bad unknown_global
add_after "$BAD/tlsgw.ini" log_level "frobnicate = 3"
expect_error "$BAD/tlsgw.ini" "$(line_of "$BAD/tlsgw.ini" "frobnicate = 3")" frobnicate

say "bad listen port"
new_bad bad_listen_port
set_line "$BAD/policies/main.ini" address "address = 127.0.0.1:99999"
expect_error "$BAD/policies/main.ini" "$(line_of "$BAD/policies/main.ini" "address = ")" "port|address|99999"

say "bad upstream port"
new_bad bad_upstream_port
set_line "$BAD/policies/main.ini" port "port = 0"
expect_error "$BAD/policies/main.ini" "$(line_of "$BAD/policies/main.ini" "port = 0")" port

say "missing certificate file"
new_bad missing_cert
set_line "$BAD/policies/main.ini" cert "cert = pki/no-such-file.crt"
expect_error "$BAD/policies/main.ini" "$(line_of "$BAD/policies/main.ini" "no-such-file.crt")" 'no-such-file\.crt' 

say "key that does not match its certificate"
new_bad key_mismatch
make_pki "$WORK/pki-other"
cp "$WORK/pki-other/gw-rsa.key" "$BAD/pki/other-rsa.key"
set_line "$BAD/policies/main.ini" key "key = pki/other-rsa.key"
expect_error "$BAD/policies/main.ini" "$(line_of "$BAD/policies/main.ini" "key = pki/other-rsa.key")" "match"

say "unknown suites name"
new_bad bad_suites
set_line "$BAD/policies/main.ini" suites "suites = fancy"
expect_error "$BAD/policies/main.ini" "$(line_of "$BAD/policies/main.ini" "suites = fancy")" fancy

say "a weak suite (RC4-SHA) in an explicit list"
new_bad weak_suite
set_line "$BAD/policies/main.ini" suites "suites = ECDHE-RSA-AES128-GCM-SHA256:RC4-SHA"
expect_error "$BAD/policies/main.ini" "$(line_of "$BAD/policies/main.ini" "RC4-SHA")" RC4

say "a 3DES suite named by its IANA name"
new_bad weak_suite_iana
set_line "$BAD/policies/main.ini" suites "suites = TLS_RSA_WITH_3DES_EDE_CBC_SHA"
expect_error "$BAD/policies/main.ini" "$(line_of "$BAD/policies/main.ini" "3DES")" 3DES

say "every error is reported, not only the first"
new_bad two_errors
add_after "$BAD/policies/main.ini" address "colour = blue"
set_line "$BAD/policies/main.ini" min_version "min_version = 0.9"
expect_error "$BAD/policies/main.ini" "$(line_of "$BAD/policies/main.ini" "colour = blue")" colour
expect_error "$BAD/policies/main.ini" "$(line_of "$BAD/policies/main.ini" "min_version = 0.9")" "min_version|0\.9|version"

say "two policies the kernel could not bind together (0.0.0.0 and 127.0.0.1)"
new_bad bind_overlap
cp "$BAD/policies/main.ini" "$BAD/policies/other.ini"
set_line "$BAD/policies/other.ini" address "address = 0.0.0.0:18883"
expect_error "$BAD/policies/other.ini" "$(line_of "$BAD/policies/other.ini" "address = 0.0.0.0")" 'overlaps 127\.0\.0\.1:18883 .*main\.ini:'

say "the same sni wildcard in two policies on one address"
new_bad same_sni
add_after "$BAD/policies/main.ini" address "sni = gw.lan, *.gw.lan"
cp "$BAD/policies/main.ini" "$BAD/policies/other.ini"
set_line "$BAD/policies/other.ini" sni "sni = other.lan *.GW.lan"
expect_error "$BAD/policies/other.ini" "$(line_of "$BAD/policies/other.ini" "sni = other.lan")" 'sni "\*\.gw\.lan" .*already used .*main\.ini:'

say "a password file that is missing, and the password never shown"
new_bad password_file
cat >>"$BAD/policies/main.ini" <<'INI'
[mqtt]
inspect = yes
username = gw
password_file = secrets/none.pass
INI
expect_error "$BAD/policies/main.ini" "$(line_of "$BAD/policies/main.ini" "password_file = ")" 'password_file: cannot open'
new_bad password_shown
mkdir -p "$BAD/secrets"
head -c 5000 /dev/zero | tr '\0' 'S' >"$BAD/secrets/big.pass"
chmod 644 "$BAD/secrets/big.pass"
cat >>"$BAD/policies/main.ini" <<'INI'
[mqtt]
inspect = yes
username = gw
password_file = secrets/big.pass
INI
expect_error "$BAD/policies/main.ini" "$(line_of "$BAD/policies/main.ini" "password_file = ")" 'larger than 4096 bytes'
assert_output_lacks "SSSS"

say "a global file that does not exist"
assert_exit 1 "$TLSGW" -t -c "$WORK/no-such-dir/tlsgw.ini"
assert_output_contains "no-such-dir/tlsgw.ini"

say "all configuration checks passed"
