#!/bin/sh
# capture.sh: capture the CONNECT packets real MQTT clients send first
# and turn them into tests/unit/mqtt_packets.h.
#
# A developer tool, run by hand, not by make check; its outputs
# (tests/data/mqtt/*.bin, tests/unit/mqtt_packets.h) are committed and
# also seed the fuzzer (tests/fuzz/corpus/mqtt/).
#
# Needs: python3, mosquitto_pub (mosquitto-clients 2.0).  A listener on
# 127.0.0.1 keeps exactly the first MQTT packet a client sends, then
# closes; the client fails after that, on purpose.  test_mqtt.c holds
# the field values each command line below must produce.
#
# usage: tests/data/mqtt/capture.sh   (from anywhere in the tree)
set -eu

top=$(cd "$(dirname "$0")/../../.." && pwd)
out="$top/tests/data/mqtt"
header="$top/tests/unit/mqtt_packets.h"
corpus="$top/tests/fuzz/corpus/mqtt"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT INT TERM

# The listener: one connection; keep the first MQTT packet (fixed header
# plus remaining length), or whatever arrives within 2 s.
cat > "$tmp/listen.py" <<'PY'
import os, socket, sys
outfile, portfile = sys.argv[1], sys.argv[2]
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", 0))
s.listen(1)
with open(portfile + ".tmp", "w") as f:
    f.write(str(s.getsockname()[1]))
os.rename(portfile + ".tmp", portfile)
s.settimeout(20)
c, _ = s.accept()
c.settimeout(2.0)
data = b""

def packet_len(d):
    """Length of the whole first packet, or None while unknown."""
    rem, mult = 0, 1
    for i in range(1, min(len(d), 5)):
        rem += (d[i] & 0x7f) * mult
        mult *= 128
        if not d[i] & 0x80:
            return 1 + i + rem
    return None

while True:
    n = packet_len(data)
    if n is not None and len(data) >= n:
        data = data[:n]
        break
    try:
        chunk = c.recv(65536)
    except socket.timeout:
        break
    if not chunk:
        break
    data += chunk
c.close()
with open(outfile, "wb") as f:
    f.write(data)
PY

# capture NAME ARGS...: run mosquitto_pub ARGS against the listener.
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
	timeout 10 mosquitto_pub -h 127.0.0.1 -p "$(cat "$tmp/port")" \
		-t t -m x "$@" </dev/null >"$tmp/$name.log" 2>&1 || true
	wait "$lpid"
	printf '%-18s %5d bytes\n' "$name" "$(wc -c <"$out/$name.bin")"
}

# MQTT 3.1 ("MQIsdp", level 3).
capture v31 -V mqttv31 -i dev31
capture v31-auth -V mqttv31 -i dev31-auth -u alice -P secret31 -k 30
capture v31-will -V mqttv31 -i dev31-will --will-topic dev/31/status \
	--will-payload offline --will-qos 1
capture v31-longid -V mqttv31 -i dev31-client-id-over-23-bytes

# MQTT 3.1.1 ("MQTT", level 4).
capture v311 -V mqttv311 -i dev311
capture v311-auth -V mqttv311 -i dev311-auth -u bob -P s3cret -k 120
capture v311-user -V mqttv311 -i dev311-user -u carol
capture v311-will -V mqttv311 -i dev311-will -u dave -P pw \
	--will-topic dev/311/status --will-payload offline --will-qos 2 \
	--will-retain
capture v311-persist -V mqttv311 -i dev311-persist -c -k 5
capture v311-utf8 -V mqttv311 -i 'gerät-温度-🌡' -u 'jürgen'

# MQTT 5.0 ("MQTT", level 5).
capture v5 -V mqttv5 -i dev5
capture v5-props -V mqttv5 -i dev5-props \
	-D connect session-expiry-interval 60 -D connect user-property k v
capture v5-allprops -V mqttv5 -i dev5-allprops \
	-D connect receive-maximum 20 -D connect maximum-packet-size 4096 \
	-D connect topic-alias-maximum 10 \
	-D connect request-problem-information 0 \
	-D connect request-response-information 1 \
	-D connect user-property region eu
capture v5-will -V mqttv5 -i dev5-will -u erin -P pw5 \
	--will-topic dev/5/status --will-payload bye --will-qos 1 \
	--will-retain -D will will-delay-interval 30 \
	-D will payload-format-indicator 1 \
	-D will message-expiry-interval 3600 \
	-D will content-type text/plain -D will response-topic dev/5/resp \
	-D will correlation-data abc -D will user-property wk wv
capture v5-persist -V mqttv5 -i dev5-persist -c -x 3600

# Fuzzer seeds: the same packets.
mkdir -p "$corpus"
cp "$out"/*.bin "$corpus/"

# mqtt_packets.h: one byte array per capture, and a table of them all.
python3 - "$out" "$header" <<'PY'
import os, sys
src, dst = sys.argv[1], sys.argv[2]
names = sorted(f[:-4] for f in os.listdir(src) if f.endswith(".bin"))
lines = [
    "/*",
    " * mqtt_packets.h: CONNECT packets of real clients (mosquitto_pub 2.0,",
    " * MQTT 3.1, 3.1.1 and 5.0), captured on 127.0.0.1 by",
    " * tests/data/mqtt/capture.sh.  Generated: do not edit by hand.  Each",
    " * array is named after its file in tests/data/mqtt/.",
    " */",
    "#ifndef TLSGW_TEST_MQTT_PACKETS_H",
    "#define TLSGW_TEST_MQTT_PACKETS_H",
    "",
    "#include <stddef.h>",
    "",
]
for n in names:
    data = open(os.path.join(src, n + ".bin"), "rb").read()
    ident = "pkt_" + n.replace("-", "_")
    lines.append("static const unsigned char %s[] __attribute__((unused)) = {"
        % ident)
    for i in range(0, len(data), 12):
        row = ", ".join("0x%02x" % b for b in data[i:i + 12])
        lines.append("\t" + row + ",")
    lines.append("};")
    lines.append("")
lines += [
    "struct captured_packet {",
    "\tconst char *name;",
    "\tconst unsigned char *bytes;",
    "\tsize_t len;",
    "};",
    "",
    "static const struct captured_packet captured_packets[] "
    "__attribute__((unused)) = {",
]
for n in names:
    ident = "pkt_" + n.replace("-", "_")
    lines.append('\t{ "%s", %s, sizeof %s },' % (n, ident, ident))
lines += ["};", "", "#endif"]
with open(dst, "w") as f:
    f.write("\n".join(lines) + "\n")
print("wrote %s (%d captures)" % (dst, len(names)))
PY
