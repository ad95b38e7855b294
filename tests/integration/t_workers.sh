#!/bin/bash
# t_workers.sh: `workers = 2`: a master and two worker processes, each
# with its own event loop and its own socket on the port, with real
# peers on 127.0.0.1 (Mosquitto upstream, BearSSL and mbedTLS devices,
# rawhello for held connections from other loopback addresses).
#   W1  start: one master, two workers, both ready; a second gateway on
#       the same port is refused ("cannot listen"), even though the
#       workers' sockets allow port sharing.
#   W2  devices pass QoS 1 messages through it.
#   W3  limits hold for the whole gateway, not per worker: all of one
#       address's connections meet one worker (max_connections_per_source
#       = 3 admits exactly 3 of 5), connections from other addresses
#       spread over both workers, and max_connections = 6 admits exactly
#       6 in all.
#   W4  SIGHUP to the master reloads both workers: a new port is served
#       by each of them.
#   W5  SIGTERM to the master: workers and master exit, status 0.
#   W6  a worker that dies stops the gateway with status 1 and a line
#       naming it (the service manager restarts the whole daemon).
#   W7  the master killed: its workers follow it.
#   W8  without -f: the start command returns 0 once the workers serve,
#       and 1 when they cannot (port taken).
#   W9  started as root with user = nobody: master and workers all run
#       as nobody, and devices are served.
# shellcheck source-path=SCRIPTDIR source=lib.sh disable=SC1091
. "$(dirname "$0")/lib.sh"

require_bin "$TLSGW"
require_bin "$BEAR_CLIENT"
require_bin "$MBED_CLIENT"
require_bin "$RAWHELLO"
require_cmd ss
require_cmd pgrep
T0=$(date +%s)

make_pki
start_mosquitto

GW_PORT=$(free_port)
write_gateway_conf "$WORK/gw" workers=2 max_connections=6 \
	max_connections_per_source=3 handshakes_per_source=0 \
	handshake_timeout=10 drain_timeout=2
write_default_policy "$WORK/gw/policies/main.ini" "$GW_PORT"
assert_exit 0 "$TLSGW" -t -c "$WORK/gw/tlsgw.ini"

# workers_of PID: the worker processes of master PID, one per line.
workers_of() {
	pgrep -P "$1" || true
}

# held_by PID PORT: established connections PID holds on its PORT.
held_by() {
	ss -Htnp state established "( sport = :$2 )" 2>/dev/null |
		grep -cF "pid=$1," || true
}

# wait_ready PID: both workers and the master logged they serve.
wait_ready() {
	local i
	for i in $(seq 1 100); do
		[ "$(grep -c 'worker [12] of 2 ready' "$GW_LOG" || true)" -ge 2 ] &&
			grep -q 'master: 2 workers serving' "$GW_LOG" && return 0
		alive "$1" || fail "the master exited during start-up"
		sleep 0.1
	done
	fail "workers not ready within 10 s"
}

# start_workers NAME: a gateway with two workers from $WORK/gw; sets
# MASTER (= GW_PID) and WORKERS once all of them serve.
start_workers() {
	start_gateway --name "$1" --listeners 2 "$WORK/gw/tlsgw.ini"
	wait_ready "$GW_PID"
	MASTER=$GW_PID
	mapfile -t WORKERS < <(workers_of "$MASTER")
}

# exit_status PID SECONDS: wait for our child PID to end; sets RC.
exit_status() {
	wait_exit "$1" "$2" || fail "pid $1 still runs after $2 s"
	RC=0
	wait "$1" || RC=$?
}

# ---------------------------------------------------------------------
say "=== W1. a master and two workers"
start_workers gateway
[ "${#WORKERS[@]}" -eq 2 ] ||
	fail "expected 2 worker processes under the master, found ${#WORKERS[@]}"
for w in "${WORKERS[@]}"; do
	tr '\0' ' ' <"/proc/$w/cmdline" | grep -qF -- "$TLSGW -f -c $WORK/gw/tlsgw.ini" ||
		fail "worker $w is not our tlsgw: $(tr '\0' ' ' <"/proc/$w/cmdline")"
done
pass "master $MASTER, workers ${WORKERS[*]}"
[ "$(ss -Htlnp "( sport = :$GW_PORT )" | grep -c 'pid=')" -ge 2 ] ||
	fail "expected a listening socket per worker on $GW_PORT"
[ "$(ss -Htlnp "( sport = :$GW_PORT )" | grep -cF "pid=$MASTER,")" -eq 0 ] ||
	fail "the master holds a listening socket"
pass "each worker listens on its own socket; the master holds none"

write_gateway_conf "$WORK/gw2" workers=2
write_default_policy "$WORK/gw2/policies/main.ini" "$GW_PORT"
run_cmd "$TLSGW" -f -c "$WORK/gw2/tlsgw.ini"
[ "$LAST_RC" -eq 1 ] || fail "a second gateway on a taken port: exit $LAST_RC, expected 1"
assert_output_matches "127\.0\.0\.1:$GW_PORT: cannot listen \(policy 'main', .*main\.ini\): Address already in use"
pass "a second gateway on the same port is refused"

# ---------------------------------------------------------------------
say "=== W2. devices through the workers"
device_client bear_client tasmota-esp8266 "$GW_PORT" workers/bear
[ "$LAST_RC" -eq 0 ] || fail "bear_client tasmota-esp8266: exit $LAST_RC"
device_client mbed_client esp-idf-5 "$GW_PORT" workers/mbed
[ "$LAST_RC" -eq 0 ] || fail "mbed_client esp-idf-5: exit $LAST_RC"
device_client bear_client esp8266-arduino "$GW_PORT" workers/arduino \
	--mfl 512
[ "$LAST_RC" -eq 0 ] || fail "bear_client esp8266-arduino: exit $LAST_RC"
pass "BearSSL and mbedTLS devices pass QoS 1 messages"

# ---------------------------------------------------------------------
say "=== W3. limits for the whole gateway"
# hold ADDR: a connection from ADDR that sends part of a hello and waits
# (rawhello exits 4 on its own timeout while held, 3 when closed).
hold() {
	"$RAWHELLO" --port "$GW_PORT" --mode truncated --hold 5 \
		--source "$1" >"$WORK/hold.$1.$2.out" 2>&1 &
	HOLD_PIDS+=($!)
	sleep 0.2
}
HOLD_PIDS=()
from=$(log_lines)
for i in 1 2 3 4 5; do
	hold 127.0.0.10 "$i"
done
a=$(held_by "${WORKERS[0]}" "$GW_PORT")
b=$(held_by "${WORKERS[1]}" "$GW_PORT")
say "127.0.0.10: worker 1 holds $a, worker 2 holds $b"
[ $((a + b)) -eq 3 ] ||
	fail "max_connections_per_source = 3: $((a + b)) connections from one address held"
{ [ "$a" -eq 0 ] || [ "$b" -eq 0 ]; } ||
	fail "one address's connections were split over the workers ($a + $b)"
pass "one address: 3 of 5 admitted, all by one worker"
for i in 11 12 13 14 15 16 17 18; do
	hold "127.0.0.$i" 1
done
a=$(held_by "${WORKERS[0]}" "$GW_PORT")
b=$(held_by "${WORKERS[1]}" "$GW_PORT")
say "all: worker 1 holds $a, worker 2 holds $b"
[ $((a + b)) -eq 6 ] ||
	fail "max_connections = 6: the workers hold $((a + b)) connections"
{ [ "$a" -ge 1 ] && [ "$b" -ge 1 ]; } ||
	fail "addresses not spread over the workers ($a + $b)"
pass "max_connections = 6 holds across the workers ($a + $b)"
for p in "${HOLD_PIDS[@]}"; do
	wait "$p" || true
done
held=$(cat "$WORK"/hold.*.out | grep -c '^timeout' || true)
closed=$(cat "$WORK"/hold.*.out | grep -c '^closed' || true)
[ "$held" -eq 6 ] && [ "$closed" -eq 7 ] ||
	fail "expected 6 held and 7 refused, got $held held, $closed closed"
assert_log_matches "refused 127\.0\.0\.10: max_connections_per_source \(3\) reached"
assert_log_matches "refused 127\.0\.0\.1[1-8]: max_connections \(6\) reached"
pass "6 held, 7 refused with log lines naming the limit"
settle

# ---------------------------------------------------------------------
say "=== W4. SIGHUP reloads every worker"
NEW_PORT=$(free_port)
write_default_policy "$WORK/gw/policies/second.ini" "$NEW_PORT"
kill -HUP "$MASTER"
for i in $(seq 1 50); do
	[ "$(grep -c 'reloaded: 2 policies' "$GW_LOG" || true)" -ge 2 ] && break
	sleep 0.1
done
[ "$(grep -c 'reloaded: 2 policies' "$GW_LOG" || true)" -eq 2 ] ||
	fail "expected one 'reloaded' line per worker"
for w in "${WORKERS[@]}"; do
	[ "$(ss -Htlnp "( sport = :$NEW_PORT )" | grep -cF "pid=$w,")" -eq 1 ] ||
		fail "worker $w does not listen on the new port $NEW_PORT"
done
pass "both workers reloaded and listen on $NEW_PORT"
for src in 127.0.0.10 127.0.0.11; do
	run_cmd "$RAWHELLO" --port "$NEW_PORT" --source "$src" --sni gw.demo.lan
	assert_output_contains "serverhello version=0x0303"
done
device_client bear_client tasmota-esp8266 "$NEW_PORT" workers/reloaded
[ "$LAST_RC" -eq 0 ] || fail "bear_client on the new port: exit $LAST_RC"
pass "the new port serves devices from both workers"

# ---------------------------------------------------------------------
say "=== W5. SIGTERM stops master and workers"
settle
kill -TERM "$MASTER"
exit_status "$MASTER" 10
[ "$RC" -eq 0 ] || fail "the master exited with $RC after SIGTERM"
for w in "${WORKERS[@]}"; do
	! alive "$w" || fail "worker $w still runs after the master exited"
done
assert_log_contains "master: signal 15: passing it to 2 workers"
pass "master and workers gone, status 0"

# ---------------------------------------------------------------------
say "=== W6. a worker dies: the gateway stops with status 1"
start_workers gateway-w6
kill -KILL "${WORKERS[0]}"
exit_status "$MASTER" 10
[ "$RC" -eq 1 ] || fail "exit status $RC after a worker died, expected 1"
! alive "${WORKERS[1]}" || fail "the other worker still runs"
assert_log_matches "worker [12] \(pid ${WORKERS[0]}\) killed by signal 9; stopping the gateway"
pass "status 1, the dead worker named, the other stopped"

# ---------------------------------------------------------------------
say "=== W7. the master killed: the workers follow"
start_workers gateway-w7
kill -KILL "$MASTER"
for w in "${WORKERS[@]}"; do
	wait_exit "$w" 10 || fail "worker $w still runs 10 s after its master was killed"
done
pass "both workers exited"

# ---------------------------------------------------------------------
say "=== W8. in the background"
run_cmd "$TLSGW" -c "$WORK/gw/tlsgw.ini"
[ "$LAST_RC" -eq 0 ] || fail "tlsgw without -f: exit $LAST_RC"
BG=$(pgrep -f -- "-c $WORK/gw/tlsgw.ini" | while read -r p; do
	[ "$(ps -o ppid= -p "$p" | tr -d ' ')" = 1 ] && echo "$p"; done | head -n 1)
[ -n "$BG" ] || fail "no master in the background"
track_pid "$BG" "background master"
[ "$(workers_of "$BG" | wc -l)" -eq 2 ] || fail "the background master has no 2 workers"
run_cmd "$RAWHELLO" --port "$GW_PORT" --sni gw.demo.lan
assert_output_contains "serverhello version=0x0303"
run_cmd "$TLSGW" -c "$WORK/gw2/tlsgw.ini"
[ "$LAST_RC" -eq 1 ] || fail "a second background gateway on a taken port: exit $LAST_RC, expected 1"
kill -TERM "$BG"
wait_exit "$BG" 10 || fail "the background master did not stop"
pass "started in the background with status 0; a taken port gives 1"

# ---------------------------------------------------------------------
say "=== W9. user = nobody: master and workers drop root"
if [ "$(id -u)" -eq 0 ]; then
	write_gateway_conf "$WORK/gw" workers=2 user=nobody
	start_workers gateway-w9
	uid=$(id -u nobody)
	for p in "$MASTER" "${WORKERS[@]}"; do
		st=$(awk '/^Uid:/ {print $2, $3, $4, $5}' "/proc/$p/status")
		[ "$st" = "$uid $uid $uid $uid" ] ||
			fail "pid $p runs with Uid: $st, expected nobody ($uid) everywhere"
	done
	pass "master and both workers run as nobody (uid $uid)"
	device_client bear_client tasmota-esp8266 "$GW_PORT" workers/nobody
	[ "$LAST_RC" -eq 0 ] || fail "bear_client as nobody: exit $LAST_RC"
	pass "devices are served after the drop (keys loaded before it)"
else
	say "not root: the drop to nobody is covered where the suite runs as root"
fi

pass "t_workers: $(($(date +%s) - T0)) s"
