#!/bin/sh
# demo.sh: see tlsgw carry a Tasmota-like device's MQTT message to a
# TLS 1.3-only broker, on this machine, in a few seconds.
#
# Usage: sh deploy/demo.sh        (from anywhere; the build must exist:
#                                  `sh deploy/bootstrap.sh demo` does both)
#
# What it does, everything on 127.0.0.1 and under <source tree>/demo-run/:
#   1. makes a demo PKI in demo-run/pki/ (deploy/demo-pki.sh);
#   2. starts Mosquitto (Debian's) as the current user with a TLS 1.3-only
#      listener (`tls_version tlsv1.3`) and a certificate for
#      broker.demo.lan;
#   3. starts ./tlsgw -f with the shipped demo configuration
#      conf/demo/tlsgw.ini + conf/demo/upstreams.d/demo.ini (gateway on
#      127.0.0.1:18883, broker on 127.0.0.1:18884; the config refers to
#      ../../demo-run/pki/, relative to conf/demo/).  When one of those
#      ports is taken, it picks free ports instead and runs a copy of the
#      shipped configuration with only the ports changed, written to
#      demo-run/conf/ (the paths then read ../pki/);
#   4. subscribes at the broker directly (mosquitto_sub), sends one message
#      from tests/clients/bear_client --profile tasmota-esp8266 (BearSSL,
#      TLS 1.2 only, ECDHE_RSA_AES_128_GCM only, RSA only, MFL 1024)
#      through the gateway, and prints what each leg negotiated (from the
#      gateway's close summary line) and what the broker delivered;
#   5. keeps the gateway running in the foreground until Ctrl-C, then
#      stops the gateway and Mosquitto.
# When CI=true or standard input is not a terminal, step 5 is skipped:
# the demo stops everything and exits after printing (status 0 when the
# message went through, 1 otherwise).
#
# Environment: top_builddir (where tlsgw and tests/clients/ are built;
# default the source tree), TLSGW (the daemon binary).
set -eu

root=$(cd "$(dirname "$0")/.." && pwd)
builddir=${top_builddir:-$root}
tlsgw=${TLSGW:-$builddir/tlsgw}
bear=$builddir/tests/clients/bear_client
run=$root/demo-run
PATH=$PATH:/usr/sbin:/sbin

GW_PORT=18883
BROKER_PORT=18884
TOPIC=demo/tasmota/tele/SENSOR
PAYLOAD_SIZE=1500

gw_pid=
broker_pid=
sub_pid=
tail_pid=

die() {
	echo "demo: $*" >&2
	exit 1
}

# Stop what we started, by PID: TERM, then KILL after 3 s.
# shellcheck disable=SC2317  # called from the EXIT trap
stop_pid() {
	[ -n "$1" ] || return 0
	kill -0 "$1" 2>/dev/null || return 0
	kill -TERM "$1" 2>/dev/null || true
	n=0
	while kill -0 "$1" 2>/dev/null && [ "$n" -lt 30 ]; do
		sleep 0.1
		n=$((n + 1))
	done
	kill -KILL "$1" 2>/dev/null || true
	wait "$1" 2>/dev/null || true
}

# shellcheck disable=SC2317  # the EXIT trap
cleanup() {
	stop_pid "$sub_pid"
	stop_pid "$gw_pid"
	stop_pid "$tail_pid"
	stop_pid "$broker_pid"
}
trap cleanup EXIT
trap 'echo; echo "demo: stopping the gateway and Mosquitto"; exit 0' INT TERM

need() {
	command -v "$1" >/dev/null 2>&1 ||
		die "$1 not found: install the Debian package $2 (or run: sh deploy/bootstrap.sh demo)"
}
need mosquitto mosquitto
need mosquitto_sub mosquitto-clients
need openssl openssl

[ -x "$tlsgw" ] || die "$tlsgw not built: run sh deploy/bootstrap.sh demo (or ./configure && make)"
if [ ! -x "$bear" ]; then
	[ -f "$builddir/Makefile" ] || die "$bear not built and no Makefile in $builddir"
	echo "demo: building the device client tests/clients/bear_client"
	make -C "$builddir" tests/clients/bear_client >/dev/null ||
		die "could not build tests/clients/bear_client (is libbearssl-dev installed?)"
fi

# True when something listens on PORT (false when ss is missing).
listening() {
	command -v ss >/dev/null 2>&1 || return 1
	[ -n "$(ss -Hltn "( sport = :$1 )" 2>/dev/null)" ]
}

# True when any TCP socket uses PORT (even TIME_WAIT).
port_used() {
	command -v ss >/dev/null 2>&1 || return 1
	[ -n "$(ss -Htan "( sport = :$1 )" 2>/dev/null)" ]
}

# A port in 20000-59999 that nothing uses.
free_port() {
	i=0
	while [ $i -lt 200 ]; do
		p=$(( $(od -An -N2 -tu2 /dev/urandom | tr -d ' ') % 40000 + 20000 ))
		if [ "$p" != "${1:-}" ] && ! port_used "$p"; then
			echo "$p"
			return 0
		fi
		i=$((i + 1))
	done
	die "no free port found"
}

# Wait until PORT listens while PID lives (10 s).
wait_listen() {
	n=0
	while [ $n -lt 100 ]; do
		listening "$1" && return 0
		kill -0 "$2" 2>/dev/null || return 1
		sleep 0.1
		n=$((n + 1))
	done
	return 1
}

mkdir -p "$run"
sh "$root/deploy/demo-pki.sh" "$run/pki"

# --- configuration: the shipped one, or a copy on free ports -----------
conf=$root/conf/demo/tlsgw.ini
if listening "$GW_PORT" || listening "$BROKER_PORT"; then
	GW_PORT=$(free_port)
	BROKER_PORT=$(free_port "$GW_PORT")
	mkdir -p "$run/conf/upstreams.d"
	cp "$root/conf/demo/tlsgw.ini" "$run/conf/tlsgw.ini"
	sed -e "s|\.\./\.\./demo-run/pki/|../pki/|" \
		-e "s|^address = 127.0.0.1:18883|address = 127.0.0.1:$GW_PORT|" \
		-e "s|^port = 18884|port = $BROKER_PORT|" \
		"$root/conf/demo/upstreams.d/demo.ini" >"$run/conf/upstreams.d/demo.ini"
	conf=$run/conf/tlsgw.ini
	echo "demo: port 18883 or 18884 is taken: using free ports $GW_PORT (gateway) and $BROKER_PORT (broker)"
	echo "demo: configuration: a copy of conf/demo/ with those ports, in $run/conf/"
else
	rm -rf "$run/conf"
	echo "demo: configuration: $conf (shipped as is)"
fi

# --- Mosquitto: TLS 1.3 only, as the current user ---------------------
# `user` = ourselves: as root, Mosquitto would otherwise switch to the
# user 'mosquitto', which cannot read our 0600 key.
cat >"$run/mosquitto.conf" <<EOF
per_listener_settings false
allow_anonymous true
persistence false
user $(id -un)
log_dest file $run/mosquitto.log
log_type all
listener $BROKER_PORT 127.0.0.1
certfile $run/pki/broker.crt
keyfile $run/pki/broker.key
cafile $run/pki/ca.crt
tls_version tlsv1.3
EOF
: >"$run/mosquitto.log"
mosquitto -c "$run/mosquitto.conf" >"$run/mosquitto.out" 2>&1 &
broker_pid=$!
wait_listen "$BROKER_PORT" "$broker_pid" ||
	die "Mosquitto did not start; see $run/mosquitto.log and $run/mosquitto.out"
echo "demo: Mosquitto (TLS 1.3 only, broker.demo.lan) on 127.0.0.1:$BROKER_PORT, pid $broker_pid"

# --- the gateway --------------------------------------------------------
"$tlsgw" -t -c "$conf" || die "configuration check failed: $tlsgw -t -c $conf"
: >"$run/tlsgw.log"
"$tlsgw" -f -c "$conf" >"$run/tlsgw.log" 2>&1 &
gw_pid=$!
n=0
until grep -q "listening on" "$run/tlsgw.log"; do
	kill -0 "$gw_pid" 2>/dev/null || { cat "$run/tlsgw.log" >&2; die "tlsgw exited"; }
	[ $n -lt 100 ] || die "tlsgw did not log 'listening on' within 10 s; see $run/tlsgw.log"
	sleep 0.1
	n=$((n + 1))
done
echo "demo: tlsgw on 127.0.0.1:$GW_PORT, pid $gw_pid, log $run/tlsgw.log"

# --- subscriber directly at the broker ------------------------------------
mosquitto_sub -h 127.0.0.1 -p "$BROKER_PORT" --cafile "$run/pki/ca.crt" \
	-i tlsgw-demo-sub -t "$TOPIC" -C 1 -W 20 -F '%t %l %p' \
	>"$run/sub.out" 2>&1 &
sub_pid=$!
n=0
until grep -q "Received SUBSCRIBE from tlsgw-demo-sub" "$run/mosquitto.log"; do
	[ $n -lt 100 ] || die "mosquitto_sub did not subscribe; see $run/sub.out"
	sleep 0.1
	n=$((n + 1))
done

# --- the device -----------------------------------------------------------
echo "demo: device: bear_client --profile tasmota-esp8266 -> 127.0.0.1:$GW_PORT, $PAYLOAD_SIZE-byte message to $TOPIC"
rc=0
"$bear" --host 127.0.0.1 --port "$GW_PORT" --ca "$run/pki/ca.crt" \
	--sni gw.demo.lan --profile tasmota-esp8266 --topic "$TOPIC" \
	--payload-size "$PAYLOAD_SIZE" --count 1 --timeout 15 \
	>"$run/device.out" 2>&1 || rc=$?
n=0
while kill -0 "$sub_pid" 2>/dev/null && [ $n -lt 50 ]; do
	sleep 0.1
	n=$((n + 1))
done
n=0
until grep -q " close policy=" "$run/tlsgw.log" || [ $n -ge 50 ]; do
	sleep 0.1
	n=$((n + 1))
done

# field LINE KEY: the value of KEY=value in a log line, or "?".
field() {
	v=$(printf '%s\n' "$1" | tr ' ' '\n' | sed -n "s/^$2=//p" | head -n 1)
	echo "${v:-?}"
}
close=$(grep " close policy=" "$run/tlsgw.log" | tail -n 1 || true)
received=$(head -n 1 "$run/sub.out" 2>/dev/null || true)
rtopic=${received%% *}
rest=${received#* }
rlen=${rest%% *}
rtext=$(printf '%s' "${rest#* }" | tr -cd '[:print:]' | cut -c 1-32)

echo
echo "=== tlsgw demo: what happened ==="
echo "device (Tasmota emulation, BearSSL): $(tail -n 1 "$run/device.out") (exit $rc)"
if [ -n "$close" ]; then
	echo "device leg  : $(field "$close" device), $(field "$close" suite), cert=$(field "$close" cert), MFL $(field "$close" mfl)"
	echo "upstream leg: $(field "$close" upstream), $(field "$close" upstream_suite), to broker.demo.lan at 127.0.0.1:$BROKER_PORT (verified against the demo CA)"
	echo "connection  : in=$(field "$close" in) out=$(field "$close" out) bytes, $(field "$close" duration), reason=$(printf '%s\n' "$close" | sed -n 's/.* reason=//p')"
else
	echo "device leg  : no close summary line in $run/tlsgw.log"
fi
ok=no
if [ -n "$received" ] && [ "$rtopic" = "$TOPIC" ]; then
	echo "broker got  : $rlen bytes on $rtopic (\"$rtext...\"), seen by mosquitto_sub at the broker"
	[ "$rc" -eq 0 ] && ok=yes
else
	echo "broker got  : nothing (see $run/sub.out, $run/mosquitto.log, $run/tlsgw.log)"
fi
echo "================================="
echo

if [ "${CI:-}" = true ] || [ ! -t 0 ]; then
	echo "demo: non-interactive (CI=true or stdin not a terminal): stopping"
	[ "$ok" = yes ] && exit 0
	echo "demo: FAILED; gateway log:" >&2
	cat "$run/tlsgw.log" >&2
	exit 1
fi

echo "demo: the gateway keeps running in the foreground; its log follows. Try:"
echo "  mosquitto_pub -h 127.0.0.1 -p $GW_PORT --cafile $run/pki/ca.crt -t $TOPIC -m hello"
echo "  $bear --host 127.0.0.1 --port $GW_PORT --ca $run/pki/ca.crt --sni gw.demo.lan --profile esp8266-arduino --topic t --payload-size 100 --count 1 --timeout 10"
echo "demo: press Ctrl-C to stop the gateway and Mosquitto"
if tail --version >/dev/null 2>&1; then
	tail -n 0 -f --pid="$gw_pid" "$run/tlsgw.log" &
	tail_pid=$!
fi
st=0
wait "$gw_pid" || st=$?
gw_pid=
echo "demo: tlsgw exited with status $st"
exit "$st"
