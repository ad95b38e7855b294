#!/bin/sh
# capture-hellos.sh: capture the first flight of real TLS clients (the
# stacks installed on this machine, configured like the device profiles
# in DEVICES.md) and turn the captures into tests/unit/hellos.h.
#
# A developer tool, run by hand, not by make check; its outputs
# (tests/data/hellos/*.bin and tests/unit/hellos.h) are committed.
#
# Needs: cc, python3, openssl, curl, mosquitto_pub, libbearssl-dev,
# libmbedtls-dev.  Everything runs on 127.0.0.1: the listener saves the
# first bytes a client sends, then closes; clients fail after that, on
# purpose.
#
# usage: tests/data/capture-hellos.sh   (from the top of the tree)
set -eu

top=$(cd "$(dirname "$0")/../.." && pwd)
out="$top/tests/data/hellos"
header="$top/tests/unit/hellos.h"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT INT TERM
mkdir -p "$out"

cc -O1 -o "$tmp/capture_bear" "$top/tests/data/capture_bear.c" -lbearssl
cc -O1 -o "$tmp/capture_mbed" "$top/tests/data/capture_mbed.c" \
	-lmbedtls -lmbedx509 -lmbedcrypto

# The listener: one connection, keep the first TLS handshake message
# (all records that hold it) or, for anything else, what arrives in 1 s.
cat > "$tmp/listen.py" <<'PY'
import socket, sys, time
outfile, portfile = sys.argv[1], sys.argv[2]
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", 0))
s.listen(1)
with open(portfile + ".tmp", "w") as f:
    f.write(str(s.getsockname()[1]))
import os
os.rename(portfile + ".tmp", portfile)
s.settimeout(20)
c, _ = s.accept()
c.settimeout(1.0)
data = b""

def hello_done(d):
    """True once the records seen hold the whole first handshake message."""
    off, payload = 0, b""
    while off + 5 <= len(d):
        rlen = (d[off + 3] << 8) | d[off + 4]
        if off + 5 + rlen > len(d):
            return False
        payload += d[off + 5:off + 5 + rlen]
        off += 5 + rlen
        if len(payload) >= 4:
            mlen = (payload[1] << 16) | (payload[2] << 8) | payload[3]
            if len(payload) >= 4 + mlen:
                return True
    return False

while True:
    try:
        chunk = c.recv(65536)
    except socket.timeout:
        break
    if not chunk:
        break
    data += chunk
    if data[:1] == b"\x16" and hello_done(data):
        break
c.close()
with open(outfile, "wb") as f:
    f.write(data)
PY

# capture NAME COMMAND...: run COMMAND with @PORT@ replaced by the port.
capture() {
	name=$1
	shift
	rm -f "$tmp/port"
	python3 "$tmp/listen.py" "$out/$name.bin" "$tmp/port" &
	lpid=$!
	i=0
	while [ ! -s "$tmp/port" ] && [ $i -lt 50 ]; do
		sleep 0.1
		i=$((i + 1))
	done
	port=$(cat "$tmp/port")
	cmd=""
	for a in "$@"; do
		a=$(printf '%s' "$a" | sed "s/@PORT@/$port/g")
		cmd="$cmd '$a'"
	done
	eval "timeout 10 $cmd" </dev/null >"$tmp/$name.log" 2>&1 || true
	wait "$lpid"
	printf '%-22s %5d bytes\n' "$name" "$(wc -c <"$out/$name.bin")"
}

ossl="openssl s_client -connect 127.0.0.1:@PORT@"

# OpenSSL: the "big" client (mosquitto_pub, paho) and old/odd configs.
capture openssl-tls13 $ossl -servername gw.lan
capture openssl-tls12 $ossl -tls1_2 -servername gw.lan
capture openssl-tls10 $ossl -tls1 -cipher DEFAULT@SECLEVEL=0 \
	-servername old.lan
capture openssl-static-rsa $ossl -tls1_2 -noservername \
	-cipher AES128-SHA:AES128-SHA256:AES256-SHA:AES256-SHA256
capture openssl-null $ossl -tls1_2 -servername gw.lan \
	-cipher NULL-SHA:NULL-SHA256:@SECLEVEL=0
# A hello bigger than one 512-byte record: OpenSSL splits it.
long=aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa
capture openssl-split $ossl -servername split.gw.lan -max_send_frag 512 \
	-cipher ALL:@SECLEVEL=0 \
	-alpn "mqtt,x-amzn-mqtt-ca,$long-1,$long-2,$long-3,$long-4"

# BearSSL, as Tasmota and esp8266/Arduino configure it.
capture tasmota-esp8266 "$tmp/capture_bear" tasmota-esp8266 \
	127.0.0.1 @PORT@ gw.lan
capture esp8266-arduino "$tmp/capture_bear" esp8266-arduino \
	127.0.0.1 @PORT@ gw.lan
capture esp8266-lesssecure "$tmp/capture_bear" esp8266-lesssecure \
	127.0.0.1 @PORT@ ""
capture bear-tls10 "$tmp/capture_bear" bear-tls10 127.0.0.1 @PORT@ old.lan

# mbedTLS 2.28, as MicroPython and ESP-IDF configure it.
capture micropython-mbedtls "$tmp/capture_mbed" micropython-mbedtls \
	127.0.0.1 @PORT@ gw.lan
capture esp-idf-5 "$tmp/capture_mbed" esp-idf-5 127.0.0.1 @PORT@ \
	broker.gw.lan
capture mbed-weak "$tmp/capture_mbed" mbed-weak 127.0.0.1 @PORT@ gw.lan

# Not TLS at all: HTTP on the TLS port, an HTTP proxy request, MQTT in
# clear text.
capture curl-http curl -s -m 3 http://127.0.0.1:@PORT@/
capture curl-connect curl -s -m 3 -p -x http://127.0.0.1:@PORT@ \
	http://broker.invalid/
capture mqtt-plain mosquitto_pub -h 127.0.0.1 -p @PORT@ -i dev1 \
	-t t -m x

# hellos.h: one byte array per capture, xxd -i style, and a table of
# them all.
python3 - "$out" "$header" <<'PY'
import os, sys
src, dst = sys.argv[1], sys.argv[2]
names = sorted(f[:-4] for f in os.listdir(src) if f.endswith(".bin"))
lines = [
    "/*",
    " * hellos.h: first flights of real clients, captured on 127.0.0.1 by",
    " * tests/data/capture-hellos.sh from OpenSSL, BearSSL and mbedTLS set up",
    " * like the DEVICES.md profiles, plus curl and mosquitto_pub talking",
    " * clear text to a TLS port.  Generated: do not edit by hand.  Each",
    " * array is named after its file in tests/data/hellos/.",
    " */",
    "#ifndef TLSGW_TEST_HELLOS_H",
    "#define TLSGW_TEST_HELLOS_H",
    "",
    "#include <stddef.h>",
    "",
]
for n in names:
    data = open(os.path.join(src, n + ".bin"), "rb").read()
    ident = "hello_" + n.replace("-", "_")
    lines.append("static const unsigned char %s[] __attribute__((unused)) = {"
        % ident)
    for i in range(0, len(data), 12):
        row = ", ".join("0x%02x" % b for b in data[i:i + 12])
        lines.append("\t" + row + ",")
    lines.append("};")
    lines.append("")
lines += [
    "struct captured_hello {",
    "\tconst char *name;",
    "\tconst unsigned char *bytes;",
    "\tsize_t len;",
    "};",
    "",
    "static const struct captured_hello captured_hellos[] "
    "__attribute__((unused)) = {",
]
for n in names:
    ident = "hello_" + n.replace("-", "_")
    lines.append('\t{ "%s", %s, sizeof %s },' % (n, ident, ident))
lines += ["};", "", "#endif"]
with open(dst, "w") as f:
    f.write("\n".join(lines) + "\n")
print("wrote %s (%d captures)" % (dst, len(names)))
PY
