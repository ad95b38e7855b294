#!/bin/sh
# demo-pki.sh: make a small demo PKI with openssl, for the demo and the
# integration tests.  NOT for production: keys are unencrypted.
#
# Usage: sh deploy/demo-pki.sh OUTDIR [--force]
#
# Writes into OUTDIR (created if missing; keys mode 0600):
#   ca.crt ca.key          demo root CA, RSA-2048, sha256WithRSAEncryption
#   ca-ec.crt ca-ec.key    a second demo root CA, ECDSA P-256 (ecdsa-with-SHA256)
#   gw-rsa.crt gw-rsa.key  gateway device-leg cert, RSA-2048, signed by ca (sha256)
#   gw-ec.crt gw-ec.key    gateway device-leg cert, ECDSA P-256, signed by ca
#   gw-ec-ecca.crt gw-ec-ecca.key
#                          gateway ECDSA P-256 cert signed by ca-ec (all-ECDSA chain)
#   broker.crt broker.key  broker cert, ECDSA P-256, signed by ca
#   ca-all.crt             ca.crt + ca-ec.crt, for clients that trust both
# Gateway certs: CN = gw.demo.lan, SAN = DNS:gw.demo.lan, DNS:localhost,
# IP:127.0.0.1.  Broker cert: CN = broker.demo.lan, SAN = DNS:broker.demo.lan,
# IP:127.0.0.1.  Every certificate is valid for 825 days.
#
# Both gateway certificates chain to the same RSA root, so one CA file
# (ca.crt) serves every device, including RSA-only ones (Tasmota checks
# nothing but sha256WithRSA signatures on the chain).
#
# When every file exists already, nothing is done (use --force to remake).
set -eu

usage() {
	echo "usage: sh $0 OUTDIR [--force]" >&2
	exit 1
}

[ $# -ge 1 ] || usage
out=$1
force=no
if [ $# -ge 2 ]; then
	[ "$2" = "--force" ] || usage
	force=yes
fi

command -v openssl >/dev/null 2>&1 || {
	echo "demo-pki: openssl not found: install the Debian package openssl" >&2
	exit 1
}

DAYS=825
FILES="ca.crt ca.key ca-ec.crt ca-ec.key gw-rsa.crt gw-rsa.key gw-ec.crt gw-ec.key gw-ec-ecca.crt gw-ec-ecca.key broker.crt broker.key ca-all.crt"

mkdir -p "$out"
if [ "$force" = no ]; then
	missing=no
	for f in $FILES; do
		[ -s "$out/$f" ] || missing=yes
	done
	if [ "$missing" = no ]; then
		echo "demo-pki: $out already holds a complete demo PKI (use --force to remake)"
		exit 0
	fi
fi

umask 077
tmp=$(mktemp -d "${TMPDIR:-/tmp}/demo-pki.XXXXXX")
trap 'rm -rf "$tmp"' EXIT INT TERM

# A private serial per certificate, so that two demo PKIs never collide.
serial() {
	printf '0x%s\n' "$(openssl rand -hex 12)"
}

# newkey KIND FILE: KIND is rsa or ec.
newkey() {
	case $1 in
	rsa) openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$2" 2>/dev/null ;;
	ec) openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 \
		-pkeyopt ec_param_enc:named_curve -out "$2" 2>/dev/null ;;
	esac
	chmod 600 "$2"
}

# mkca KIND NAME CN
mkca() {
	newkey "$1" "$tmp/$2.key"
	openssl req -new -x509 -sha256 -days "$DAYS" -key "$tmp/$2.key" \
		-set_serial "$(serial)" \
		-subj "/O=tlsgw demo/CN=$3" \
		-addext "basicConstraints=critical,CA:TRUE,pathlen:0" \
		-addext "keyUsage=critical,keyCertSign,cRLSign" \
		-addext "subjectKeyIdentifier=hash" \
		-out "$tmp/$2.crt"
}

# mkleaf KIND NAME CA CN SAN
mkleaf() {
	newkey "$1" "$tmp/$2.key"
	openssl req -new -sha256 -key "$tmp/$2.key" -subj "/O=tlsgw demo/CN=$4" \
		-out "$tmp/$2.csr"
	if [ "$1" = rsa ]; then
		ku="critical,digitalSignature,keyEncipherment"
	else
		ku="critical,digitalSignature"
	fi
	cat >"$tmp/$2.ext" <<EOF
basicConstraints=critical,CA:FALSE
keyUsage=$ku
extendedKeyUsage=serverAuth
subjectAltName=$5
subjectKeyIdentifier=hash
authorityKeyIdentifier=keyid
EOF
	openssl x509 -req -sha256 -days "$DAYS" -in "$tmp/$2.csr" \
		-CA "$tmp/$3.crt" -CAkey "$tmp/$3.key" -set_serial "$(serial)" \
		-extfile "$tmp/$2.ext" -out "$tmp/$2.crt" 2>/dev/null
	rm -f "$tmp/$2.csr" "$tmp/$2.ext"
}

GW_SAN="DNS:gw.demo.lan,DNS:localhost,IP:127.0.0.1"
BROKER_SAN="DNS:broker.demo.lan,IP:127.0.0.1"

mkca rsa ca "tlsgw demo CA (RSA)"
mkca ec ca-ec "tlsgw demo CA (ECDSA)"
mkleaf rsa gw-rsa ca gw.demo.lan "$GW_SAN"
mkleaf ec gw-ec ca gw.demo.lan "$GW_SAN"
mkleaf ec gw-ec-ecca ca-ec gw.demo.lan "$GW_SAN"
mkleaf ec broker ca broker.demo.lan "$BROKER_SAN"
cat "$tmp/ca.crt" "$tmp/ca-ec.crt" >"$tmp/ca-all.crt"

for f in $FILES; do
	case $f in
	*.key) chmod 600 "$tmp/$f" ;;
	*) chmod 644 "$tmp/$f" ;;
	esac
	mv -f "$tmp/$f" "$out/$f"
done
echo "demo-pki: wrote a demo PKI to $out (valid $DAYS days)"
