#!/bin/sh
# mkcerts.sh OUTDIR: make the throw-away PKI the policy unit tests load.
# Certificates are generated at test time because checked-in ones expire.
#
#   ca.crt ca.key            RSA test CA
#   ca-ec.crt ca-ec.key      ECDSA P-256 test CA
#   rsa.crt rsa.key          RSA-2048 leaf (chain: leaf + CA) for cert=
#   ec.crt ec.key            ECDSA P-256 leaf (chain: leaf + CA) for cert_ecdsa=
#   other-rsa.key            an RSA key matching no certificate
#   other-ec.key             an ECDSA key matching no certificate
#   expired.crt expired.key  RSA leaf valid 2020-01-01 .. 2020-01-02
#   future.crt future.key    RSA leaf valid from 2040-01-01
#   empty.pem                a PEM file holding no certificate
#   rsa-sha1.crt             rsa.key's leaf signed with sha1WithRSA (+ CA)
#   rsa-sha384.crt           rsa.key's leaf signed with sha384WithRSA (+ CA)
#   rsa-ca384.crt            rsa.crt's leaf + the CA re-signed with sha384
#   rsa-ecca.crt             rsa.key's leaf signed by ca-ec (+ ca-ec.crt)
#
# Keys are written mode 0600.  Needs openssl(1).
set -eu

out=${1:?usage: mkcerts.sh OUTDIR}
mkdir -p "$out"
cd "$out"
umask 077

ossl() {
	openssl "$@" >/dev/null 2>&1 || {
		echo "mkcerts.sh: openssl $* failed" >&2
		openssl "$@" >&2 || true
		exit 1
	}
}

# Extensions for a TLS server leaf.
cat >leaf.ext <<'EXT'
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = serverAuth, clientAuth
subjectAltName = DNS:gw.test, DNS:localhost, IP:127.0.0.1
EXT

# CAs.
ossl req -x509 -newkey rsa:2048 -nodes -sha256 -days 30 \
	-subj "/CN=tlsgw test CA" -keyout ca.key -out ca.crt
ossl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
	-sha256 -days 30 -subj "/CN=tlsgw test ECDSA CA" \
	-keyout ca-ec.key -out ca-ec.crt

# leaf NAME KEYALG CA: NAME.key, NAME.crt (leaf followed by its CA).
leaf() {
	if [ "$2" = ec ]; then
		ossl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 \
			-out "$1.key"
	else
		ossl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 \
			-out "$1.key"
	fi
	ossl req -new -key "$1.key" -subj "/CN=gw.test" -out "$1.csr"
	ossl x509 -req -in "$1.csr" -CA "$3.crt" -CAkey "$3.key" \
		-CAcreateserial -sha256 -days 30 -extfile leaf.ext \
		-out "$1.leaf"
	cat "$1.leaf" "$3.crt" >"$1.crt"
	rm -f "$1.csr" "$1.leaf"
}
leaf rsa rsa ca
leaf ec ec ca-ec

# resign NAME CA DIGEST: another leaf for rsa.key, signed with DIGEST by
# CA, followed by the CA: chains whose signatures Tasmota cannot verify.
resign() {
	ossl req -new -key rsa.key -subj "/CN=gw.test" -out "$1.csr"
	ossl x509 -req -in "$1.csr" -CA "$2.crt" -CAkey "$2.key" \
		-CAcreateserial "-$3" -days 30 -extfile leaf.ext -out "$1.leaf"
	cat "$1.leaf" "$2.crt" >"$1.crt"
	rm -f "$1.csr" "$1.leaf"
}
resign rsa-sha1 ca sha1
resign rsa-sha384 ca sha384
resign rsa-ecca ca-ec sha256
# The same CA key and name, self-signed with sha384, after rsa.crt's leaf.
ossl req -x509 -new -key ca.key -sha384 -days 30 -subj "/CN=tlsgw test CA" \
	-out ca384.crt
sed -n '1,/-----END CERTIFICATE-----/p' rsa.crt | cat - ca384.crt >rsa-ca384.crt
rm -f ca384.crt

ossl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out other-rsa.key
ossl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out other-ec.key

# dated NAME START END: a CA-signed RSA leaf with fixed validity, made with
# openssl ca because openssl x509 cannot back-date before OpenSSL 3.4.
dated() {
	rm -rf cadb && mkdir cadb
	: >cadb/index.txt
	echo 1000 >cadb/serial
	cat >cadb/ca.cnf <<CNF
[ca]
default_ca = test
[test]
dir = cadb
database = cadb/index.txt
serial = cadb/serial
new_certs_dir = cadb
default_md = sha256
policy = anything
unique_subject = no
copy_extensions = none
x509_extensions = leaf
[anything]
commonName = supplied
[leaf]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature, keyEncipherment
subjectAltName = DNS:gw.test
CNF
	ossl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$1.key"
	ossl req -new -key "$1.key" -subj "/CN=gw.test" -out "$1.csr"
	ossl ca -batch -config cadb/ca.cnf -cert ca.crt -keyfile ca.key \
		-startdate "$2" -enddate "$3" -notext -in "$1.csr" -out "$1.crt"
	rm -rf cadb "$1.csr"
}
dated expired 20200101000000Z 20200102000000Z
dated future 20400101000000Z 20400201000000Z

printf '# no certificate in here\n' >empty.pem
rm -f leaf.ext ./*.srl
chmod 0644 ./*.crt empty.pem
