#!/bin/sh
# broker-check.sh: do real brokers accept the CONNECTs gateway/mqtt.c
# builds?  A developer check, run by hand, not by make check.
#
# Starts mosquitto on 127.0.0.1 with a password file and no anonymous
# access, then for every captured CONNECT in tests/data/mqtt/*.bin:
#   - as captured (no or wrong credentials): must be refused;
#   - rewritten with a new client id and the upstream's credentials:
#     CONNACK 0 (3.x return code / 5.0 reason code);
#   - rewritten with a wrong password: refused (the control);
# and checks the parts the rewrite must keep: the will (retained wills
# published on an abrupt close), clean session / 5.0 session expiry
# (session present on reconnect), and the client id, keepalive and
# username the broker logs.
#
# Needs: cc, python3, mosquitto, mosquitto_passwd, mosquitto_sub.
# usage: tests/data/mqtt/broker-check.sh   (from anywhere in the tree)
set -eu

top=$(cd "$(dirname "$0")/../../.." && pwd)
tmp=$(mktemp -d)
mpid=
cleanup() {
	if [ -n "$mpid" ]; then
		kill "$mpid" 2>/dev/null || true
	fi
	rm -rf "$tmp"
}
trap cleanup EXIT INT TERM

cc -std=gnu11 -O1 -I"$top/gateway" -o "$tmp/mqtt_rewrite" \
	"$top/tests/data/mqtt/mqtt_rewrite.c" "$top/gateway/mqtt.c"

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
mosquitto_passwd -b -c "$tmp/passwd" gw-upstream 'Upstr3am-S3cret!' 2>/dev/null
cat > "$tmp/mosquitto.conf" <<CONF
listener $port 127.0.0.1
allow_anonymous false
password_file $tmp/passwd
persistence false
user $(id -un)
log_dest file $tmp/mosquitto.log
log_type all
connection_messages true
CONF
mosquitto -c "$tmp/mosquitto.conf" 2>/dev/null &
mpid=$!
i=0
until python3 -c "import socket; socket.create_connection(('127.0.0.1',$port),1)" 2>/dev/null; do
	i=$((i + 1))
	[ $i -lt 50 ] || { echo "mosquitto did not start"; exit 1; }
	sleep 0.1
done
mosquitto -h 2>&1 | head -1

python3 - "$top/tests/data/mqtt" "$tmp" "$port" <<'PY'
import os, socket, subprocess, sys, time
src, tmp, port = sys.argv[1], sys.argv[2], int(sys.argv[3])
USER, PASS = "gw-upstream", "Upstr3am-S3cret!"
fails = 0

def rewrite(name, *args):
    out = os.path.join(tmp, name + ".out")
    subprocess.run([os.path.join(tmp, "mqtt_rewrite"),
                    os.path.join(src, name + ".bin"), out] + list(args),
                   check=True)
    return open(out, "rb").read()

def connect(pkt, close="disconnect"):
    """Send pkt, return (session_present, code) from the CONNACK."""
    s = socket.create_connection(("127.0.0.1", port), 3)
    s.sendall(pkt)
    data = b""
    while len(data) < 4:
        chunk = s.recv(256)
        if not chunk:
            break
        data += chunk
    if close == "disconnect" and len(data) >= 4 and data[3] == 0:
        s.sendall(b"\xe0\x00")          # DISCONNECT: no will
    s.close()                           # else an abrupt close
    if len(data) < 4 or data[0] != 0x20:
        return None, None
    return data[2] & 1, data[3]

def expect(what, got, ok):
    global fails
    print("%-56s %s  %s" % (what, "ok  " if ok else "FAIL", got))
    if not ok:
        fails += 1

def retained(topic):
    r = subprocess.run(["mosquitto_sub", "-h", "127.0.0.1", "-p", str(port),
                        "-u", USER, "-P", PASS, "-t", topic, "-C", "1",
                        "-W", "1", "--retained-only"],
                       capture_output=True, text=True)
    return r.stdout.strip()

names = sorted(f[:-4] for f in os.listdir(src) if f.endswith(".bin"))
for n in names:
    orig = open(os.path.join(src, n + ".bin"), "rb").read()
    _, rc = connect(orig)
    expect(n + " as captured", "rc=%s" % rc, rc not in (None, 0))
    gid = "gw-" + n
    _, rc = connect(rewrite(n, "-i", gid, "-u", USER, "-P", PASS))
    expect(n + " rewritten: id %s + credentials" % gid, "rc=%s" % rc,
           rc == 0)
    _, rc = connect(rewrite(n, "-u", USER, "-P", "wrong"))
    expect(n + " rewritten, wrong password", "rc=%s" % rc,
           rc not in (None, 0))

# Wills survive the rewrite: an abrupt close publishes them (retained);
# the 5.0 will only after its Will Delay Interval of 30 s, which shows
# that the will properties came through.
_, rc = connect(rewrite("v311-will", "-i", "will-v311", "-u", USER, "-P",
                        PASS), close="abrupt")
time.sleep(0.5)
got = retained("dev/311/status")
expect("v311-will: will published after abrupt close", repr(got),
       rc == 0 and got == "offline")
_, rc = connect(rewrite("v5-will", "-i", "will-v5", "-u", USER, "-P", PASS),
                close="abrupt")
t0 = time.time()
time.sleep(0.5)
early = retained("dev/5/status")
got = ""
while not got and time.time() - t0 < 45:
    got = retained("dev/5/status")
delay = time.time() - t0
expect("v5-will: will published after its 30 s delay",
       "%r after %.0f s (at 0.5 s: %r)" % (got, delay, early),
       rc == 0 and early == "" and got == "bye" and 29 <= delay <= 40)

# Clean session off / 5.0 session expiry 3600 survive: the second
# connection finds its session.
for n in ("v311-persist", "v5-persist"):
    pkt = rewrite(n, "-i", "persist-" + n, "-u", USER, "-P", PASS)
    sp1, rc1 = connect(pkt)
    sp2, rc2 = connect(pkt)
    expect(n + " session kept across reconnect",
           "rc=%s/%s present=%s/%s" % (rc1, rc2, sp1, sp2),
           rc1 == 0 and rc2 == 0 and sp1 == 0 and sp2 == 1)
# The control: a clean 5.0 session (expiry 0) is not kept.
pkt = rewrite("v5-props", "-i", "clean-v5", "-u", USER, "-P", PASS)
sp1, rc1 = connect(pkt)
sp2, rc2 = connect(pkt)
expect("v5-props clean start: no session on reconnect",
       "rc=%s/%s present=%s/%s" % (rc1, rc2, sp1, sp2),
       rc1 == 0 and rc2 == 0 and sp2 == 0)

log = open(os.path.join(tmp, "mosquitto.log")).read()
for line in log.splitlines():
    if "as gw-v5-will " in line or "as gw-v31-auth " in line:
        print("  log: " + line.split(": ", 1)[-1])
print("%d failure(s)" % fails)
sys.exit(1 if fails else 0)
PY
