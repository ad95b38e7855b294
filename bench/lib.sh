# bench/lib.sh: helpers bench/run.sh and bench/load.sh share (sourced;
# they use the caller's say/die/track where they log or record).

free_port() {
	local p i
	touch "$WORK/.ports"
	for i in $(seq 1 500); do
		p=$((20000 + (RANDOM * 32768 + RANDOM + i) % 12000))
		grep -qx "$p" "$WORK/.ports" && continue
		[ -z "$(ss -Htan "( sport = :$p )" 2>/dev/null)" ] || continue
		echo "$p" >>"$WORK/.ports"
		echo "$p"
		return 0
	done
	die "no free port"
}

# TERM, up to 5 s, then KILL; reap it.
stop_pid() {
	local pid=$1 i
	if alive "$pid"; then
		kill -TERM "$pid" 2>/dev/null || true
		for i in $(seq 1 50); do
			alive "$pid" || break
			sleep 0.1
		done
		alive "$pid" && kill -KILL "$pid" 2>/dev/null || true
	fi
	wait "$pid" 2>/dev/null || true
}

wait_port() {
	local port=$1 pid=$2 i
	for i in $(seq 1 100); do
		[ -n "$(ss -Hltn "( sport = :$port )" 2>/dev/null)" ] && return 0
		alive "$pid" || return 1
		sleep 0.1
	done
	return 1
}
