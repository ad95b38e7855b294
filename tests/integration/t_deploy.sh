#!/bin/bash
# t_deploy.sh: the deployment files, checked here without installing
# anything, without systemd as PID 1 and without an OpenWrt system.
#
# 1. deploy/systemd/tlsgw.service: the command lines and the hardening it
#    must keep; `systemd-analyze verify`; `systemd-analyze security
#    --offline=true` (the exposure score is logged and must stay <= 2.0);
#    then its ExecStartPre, ExecStart and ExecReload lines are run for real
#    against the shipped conf/tlsgw.ini plus one policy, a device publishes
#    through it, and (when strace is installed) every system call the
#    daemon made must be one that the unit's SystemCallFilter allows.
# 2. deploy/openwrt/tlsgw/files/tlsgw.init, run by an emulation of
#    OpenWrt's /etc/rc.common whose procd functions record their calls:
#    no start without a policy, the procd instance (command, user,
#    respawn, files, reload signal, logging), reload = check + SIGHUP,
#    a broken policy is not reloaded, stop.
# 3. deploy/openwrt/tlsgw/Makefile under stub OpenWrt include files:
#    PKG_NAME, PKG_VERSION = configure.ac's version, DEPENDS,
#    CONFIGURE_ARGS, conffiles, and its install recipe run into a
#    directory (modes included).
#    deploy/openwrt/mkfeed.sh makes a feed for a tarball.
# 4. `sh -n` on the deploy scripts.
#
# Needs systemd-analyze (Debian package systemd; installing it in a
# container without systemd as PID 1 is harmless).
# shellcheck source-path=SCRIPTDIR source=lib.sh disable=SC1091
. "$(dirname "$0")/lib.sh"

require_bin "$TLSGW"
require_bin "$BEAR_CLIENT"
require_cmd systemd-analyze systemd
require_cmd awk mawk

UNIT=$TOP_SRCDIR/deploy/systemd/tlsgw.service
OWRT=$TOP_SRCDIR/deploy/openwrt/tlsgw
[ -f "$UNIT" ] || fail "$UNIT missing"
[ -f "$OWRT/Makefile" ] || fail "$OWRT/Makefile missing"

make_pki
start_mosquitto --tls-version tlsv1.3

# A configuration as `make install` ships it (conf/tlsgw.ini) plus one
# policy: DIR/tlsgw.ini and DIR/upstreams.d/local.ini on port PORT.
make_conf() {
	local dir=$1 port=$2
	mkdir -p "$dir/upstreams.d"
	cp "$TOP_SRCDIR/conf/tlsgw.ini" "$dir/tlsgw.ini"
	cp "$TOP_SRCDIR"/conf/upstreams.d/*.ini.example "$dir/upstreams.d/"
	write_default_policy "$dir/upstreams.d/local.ini" "$port"
}

# =====================================================================
say "=== 1. systemd unit"

# The unit's own lines, as deploy/systemd/tlsgw.service promises them.
# shellcheck disable=SC2016  # $MAINPID is systemd's, not ours
for line in \
	'Type=simple' \
	'User=tlsgw' \
	'ExecStartPre=/usr/sbin/tlsgw -t -c /etc/tlsgw/tlsgw.ini' \
	'ExecStart=/usr/sbin/tlsgw -f -c /etc/tlsgw/tlsgw.ini' \
	'ExecReload=/bin/kill -HUP $MAINPID' \
	'Restart=on-failure' \
	'AmbientCapabilities=CAP_NET_BIND_SERVICE' \
	'CapabilityBoundingSet=CAP_NET_BIND_SERVICE' \
	'NoNewPrivileges=yes' \
	'ProtectSystem=strict' \
	'ProtectHome=yes' \
	'PrivateTmp=yes' \
	'PrivateDevices=yes' \
	'ProtectControlGroups=yes' \
	'RestrictAddressFamilies=AF_INET AF_INET6 AF_UNIX' \
	'RestrictNamespaces=yes' \
	'LockPersonality=yes' \
	'MemoryDenyWriteExecute=yes' \
	'SystemCallFilter=@system-service' \
	'SystemCallArchitectures=native' \
	'ConfigurationDirectory=tlsgw'; do
	grep -qxF -- "$line" "$UNIT" || fail "tlsgw.service lacks the line: $line"
done
pass "tlsgw.service has its command lines and hardening"
if grep -q '^DynamicUser=yes' "$UNIT"; then
	fail "tlsgw.service must use the real user tlsgw, not DynamicUser"
fi

# A copy whose paths point at this build and this test's directory (verify
# wants an executable ExecStart).
SD=$WORK/systemd
ETC=$WORK/etc/tlsgw
mkdir -p "$SD"
sed -e "s#/usr/sbin/tlsgw#$TLSGW#g" -e "s#/etc/tlsgw/#$ETC/#g" \
	"$UNIT" >"$SD/tlsgw.service"

run_cmd systemd-analyze verify --man=no "$SD/tlsgw.service"
[ "$LAST_RC" -eq 0 ] || fail "systemd-analyze verify failed"
if grep -q 'tlsgw\.service' "$WORK/last.out"; then
	fail "systemd-analyze verify complains about tlsgw.service"
fi
pass "systemd-analyze verify: no complaint"

set +e
systemd-analyze security --offline=true --threshold=20 "$SD/tlsgw.service" \
	>"$WORK/security.txt" 2>&1
rc=$?
set -e
# The settings that still cost exposure, and the total.
grep -E '^(✗|→)' "$WORK/security.txt" | sed 's/^/    | /'
EXPOSURE=$(sed -n 's/.*Overall exposure level for tlsgw\.service: \([0-9.]*\).*/\1/p' "$WORK/security.txt")
[ -n "$EXPOSURE" ] || fail "no exposure level in systemd-analyze security's output"
say "systemd-analyze security exposure level: $EXPOSURE ($(systemd-analyze --version | head -n 1))"
[ "$rc" -eq 0 ] || fail "exposure level $EXPOSURE is over 2.0"
pass "exposure level $EXPOSURE <= 2.0"

# unit_cmd KEY [N]: the Nth KEY= command line of the copy.
unit_cmd() {
	sed -n "s/^$1=//p" "$SD/tlsgw.service" | sed -n "${2:-1}p"
}

SD_PORT=$(free_port)
make_conf "$ETC" "$SD_PORT"

# shellcheck disable=SC2046  # the unit's command line, split as systemd does
assert_exit 0 $(unit_cmd ExecStartPre)
assert_output_contains "configuration OK"

# ExecStart, under strace when there is one (it forks: the daemon is its
# child).
GW_LOG=$WORK/unit.log
STRACE_OUT=$WORK/strace.txt
wrapper=()
if ! command -v strace >/dev/null 2>&1; then
	say "strace not installed: the system call check is skipped"
elif [ "$(head -c 4 "$TLSGW" | od -An -c | tr -d ' ')" != '177ELF' ]; then
	say "$TLSGW is not an executable of this machine (a wrapper?): the system call check is skipped"
else
	wrapper=(strace -f -qq -o "$STRACE_OUT")
fi
# shellcheck disable=SC2046
"${wrapper[@]}" $(unit_cmd ExecStart) >"$GW_LOG" 2>&1 &
RUN_PID=$!
track_pid "$RUN_PID" "tlsgw (unit ExecStart)"
wait_port "$SD_PORT" "$RUN_PID" 30 || fail "the unit's ExecStart did not listen on $SD_PORT"
MAINPID=$RUN_PID
if [ ${#wrapper[@]} -gt 0 ]; then
	MAINPID=$(ps -o pid= --ppid "$RUN_PID" | tr -d ' ' | head -n 1)
	[ -n "$MAINPID" ] || fail "no tlsgw process under strace"
	track_pid "$MAINPID" "tlsgw (under strace)"
fi
pass "ExecStart listens on $SD_PORT (MAINPID $MAINPID)"

device_client bear_client tasmota-esp8266 "$SD_PORT" tlsgw/test/unit
[ "$LAST_RC" -eq 0 ] || fail "a device could not publish through the unit's tlsgw"
pass "a device published through the unit's tlsgw"

# ExecReload: the check, then kill -HUP $MAINPID.
# shellcheck disable=SC2046
assert_exit 0 $(unit_cmd ExecReload 1)
reload=$(unit_cmd ExecReload 2)
reload=${reload//\$MAINPID/$MAINPID}
# shellcheck disable=SC2086
assert_exit 0 $reload
assert_log_contains "SIGHUP"
sleep 0.5
assert_alive "$MAINPID" "tlsgw after ExecReload"
device_client bear_client tasmota-esp8266 "$SD_PORT" tlsgw/test/unit2
[ "$LAST_RC" -eq 0 ] || fail "a device could not publish after the reload"
pass "a device published after the reload"

# Stop as systemd does (SIGTERM), well within TimeoutStopSec.
kill -TERM "$MAINPID"
for _ in $(seq 1 150); do
	alive "$MAINPID" || break
	sleep 0.1
done
alive "$MAINPID" && fail "tlsgw still running 15 s after SIGTERM"
wait "$RUN_PID" 2>/dev/null || true
pass "tlsgw stopped on SIGTERM"

# Every system call made under strace must pass the unit's filter:
# SystemCallFilter=@system-service minus the ~ lines.
# expand_set SET...: the system calls of the named sets, recursively.
expand_set() {
	local s
	for s in "$@"; do
		case $s in
		@*)
			# shellcheck disable=SC2046
			expand_set $(systemd-analyze syscall-filter "$s" |
				awk 'NR > 1 && NF && $1 !~ /^#/ { print $1 } NR > 1 && !NF { exit }')
			;;
		*) echo "$s" ;;
		esac
	done
}
if [ -s "$STRACE_OUT" ]; then
	allow=$(sed -n 's/^SystemCallFilter=\([^~].*\)/\1/p' "$UNIT" | tr ' ' '\n')
	deny=$(sed -n 's/^SystemCallFilter=~\(.*\)/\1/p' "$UNIT" | tr ' ' '\n')
	# shellcheck disable=SC2086
	expand_set $allow | sort -u >"$WORK/allowed.txt"
	# shellcheck disable=SC2086
	expand_set $deny | sort -u >"$WORK/denied.txt"
	comm -23 "$WORK/allowed.txt" "$WORK/denied.txt" >"$WORK/filter.txt"
	sed -n 's/^[0-9]\+ \+\([a-z0-9_]\+\)(.*/\1/p; s/^[0-9]\+ \+<\.\.\. \([a-z0-9_]\+\) resumed>.*/\1/p' \
		"$STRACE_OUT" | sort -u >"$WORK/used.txt"
	[ -s "$WORK/used.txt" ] || fail "no system call found in $STRACE_OUT"
	missing=$(comm -23 "$WORK/used.txt" "$WORK/filter.txt" | tr '\n' ' ')
	[ -z "$missing" ] ||
		fail "system calls the unit's SystemCallFilter would refuse: $missing"
	pass "all $(wc -l <"$WORK/used.txt") system calls tlsgw made are allowed by SystemCallFilter"
fi

# =====================================================================
say "=== 2. OpenWrt init script under an rc.common/procd emulation"

INIT_SRC=$OWRT/files/tlsgw.init
run_cmd sh -n "$INIT_SRC"
[ "$LAST_RC" -eq 0 ] || fail "sh -n $INIT_SRC"
head -n 1 "$INIT_SRC" | grep -qxF '#!/bin/sh /etc/rc.common' ||
	fail "tlsgw.init must start with #!/bin/sh /etc/rc.common"
pass "tlsgw.init: sh -n and the rc.common interpreter line"

OW=$WORK/openwrt
OW_ETC=$OW/etc/tlsgw
CALLS=$OW/calls
mkdir -p "$OW/bin" "$OW/lib/functions" "$OW/etc/init.d"
# The init script with its paths moved into $OW and onto this build.
sed -e "s#/usr/sbin/tlsgw#$TLSGW#g" -e "s#/etc/tlsgw/#$OW_ETC/#g" \
	"$INIT_SRC" >"$OW/etc/init.d/tlsgw"

# record NAME ARGS...: one line "NAME <arg> <arg>..." in $CALLS.
cat >"$OW/lib/functions/record.sh" <<'EOF'
record() {
	local a line=$1
	shift
	for a in "$@"; do
		line="$line <$a>"
	done
	echo "$line" >>"$CALLS"
}
EOF
# procd.sh: every function records its call; procd_running answers what
# STUB_RUNNING says.
cat >"$OW/lib/functions/procd.sh" <<'EOF'
. "$OW/lib/functions/record.sh"
procd_open_service() { record procd_open_service "$@"; }
procd_close_service() { record procd_close_service "$@"; }
procd_open_instance() { record procd_open_instance "$@"; }
procd_close_instance() { record procd_close_instance "$@"; }
procd_set_param() { record procd_set_param "$@"; }
procd_append_param() { record procd_append_param "$@"; }
procd_send_signal() { record procd_send_signal "$@"; }
procd_kill() { record procd_kill "$@"; }
procd_running() { record procd_running "$@"; [ "${STUB_RUNNING:-0}" = 1 ]; }
EOF
# rc.common: the parts of OpenWrt's that a procd init script meets
# (extra_command, rc_procd, start/stop/reload dispatch).
cat >"$OW/etc/rc.common" <<'EOF'
initscript=$1
action=${2:-help}
shift 2
EXTRA_COMMANDS=
extra_command() { EXTRA_COMMANDS="$EXTRA_COMMANDS $1"; }
start_service() { return 0; }
stop_service() { return 0; }
service_triggers() { return 0; }
. "$initscript"
[ -n "$USE_PROCD" ] || { echo "rc.common stub: USE_PROCD is not set" >&2; exit 2; }
. "$OW/lib/functions/procd.sh"
rc_procd() {
	procd_open_service "$(basename "$initscript")" "$initscript"
	"$@"
	procd_close_service set
}
start() { rc_procd start_service "$@"; }
stop() { stop_service "$@"; procd_kill "$(basename "$initscript")" "$1"; }
reload() {
	if type reload_service >/dev/null 2>&1; then
		reload_service "$@"
	else
		start
	fi
}
restart() { stop; start; }
case " start stop reload restart $EXTRA_COMMANDS " in
*" $action "*) "$action" "$@" ;;
*) echo "rc.common stub: unknown command $action" >&2; exit 2 ;;
esac
EOF
# logger and pidof on PATH, recording too.
cat >"$OW/bin/logger" <<'EOF'
#!/bin/sh
. "$OW/lib/functions/record.sh"
record logger "$@"
EOF
cat >"$OW/bin/pidof" <<'EOF'
#!/bin/sh
exit 1
EOF
chmod +x "$OW/bin/logger" "$OW/bin/pidof"

# initd ACTION: run the init script as OpenWrt would, with a fresh call
# record; status in LAST_RC, calls in $CALLS.
initd() {
	: >"$CALLS"
	say "\$ /etc/init.d/tlsgw $* (procd running: ${STUB_RUNNING:-0})"
	set +e
	env OW="$OW" CALLS="$CALLS" PATH="$OW/bin:$PATH" \
		STUB_RUNNING="${STUB_RUNNING:-0}" \
		sh "$OW/etc/rc.common" "$OW/etc/init.d/tlsgw" "$@" >"$WORK/last.out" 2>&1
	LAST_RC=$?
	set -e
	sed 's/^/    | /' "$WORK/last.out"
	echo "    exit $LAST_RC"
	sed 's/^/    calls| /' "$CALLS"
}
# assert_call LINE: $CALLS has exactly this line.
assert_call() {
	grep -qxF -- "$1" "$CALLS" || fail "expected the call: $1"
	pass "call: $1"
}
# refute_call PREFIX: no line of $CALLS starts with PREFIX.
refute_call() {
	if grep -qF -- "$1" "$CALLS"; then
		fail "unexpected call: $(grep -F -- "$1" "$CALLS" | head -n 1)"
	fi
	pass "no call $1"
}

# As the package installs it: files/tlsgw.ini and the examples only.
mkdir -p "$OW_ETC/upstreams.d" "$OW_ETC/pki"
cp "$OWRT/files/tlsgw.ini" "$OW_ETC/tlsgw.ini"
cp "$TOP_SRCDIR"/conf/upstreams.d/*.ini.example "$OW_ETC/upstreams.d/"

say "--- start with no policy: not started, logged"
initd start
assert_call "procd_open_service <tlsgw> <$OW/etc/init.d/tlsgw>"
refute_call "procd_open_instance"
grep -q "^logger <-t> <tlsgw> <-p> <daemon.notice> <no policy file (\*\.ini) in $OW_ETC/upstreams.d: not starting" "$CALLS" ||
	fail "no log line saying that no policy is configured"
pass "logged: no policy file, not starting"
# The daemon itself refuses to run without a policy (so procd must not
# respawn it): the reason the init script checks first.
assert_exit 1 "$TLSGW" -t -c "$OW_ETC/tlsgw.ini"
assert_output_contains "no policy files (*.ini) in"

say "--- start with two policies"
OW_PORT1=$(free_port)
OW_PORT2=$(free_port)
write_default_policy "$OW_ETC/upstreams.d/a.ini" "$OW_PORT1"
write_default_policy "$OW_ETC/upstreams.d/b.ini" "$OW_PORT2"
initd start
[ "$LAST_RC" -eq 0 ] || fail "start exited $LAST_RC"
assert_call "procd_open_instance"
assert_call "procd_set_param <command> <$TLSGW> <-f> <-c> <$OW_ETC/tlsgw.ini>"
assert_call "procd_set_param <user> <tlsgw>"
assert_call "procd_set_param <respawn> <3600> <5> <5>"
assert_call "procd_set_param <file> <$OW_ETC/tlsgw.ini> <$OW_ETC/upstreams.d/a.ini> <$OW_ETC/upstreams.d/b.ini>"
assert_call "procd_set_param <reload_signal> <HUP>"
assert_call "procd_set_param <stdout> <1>"
assert_call "procd_set_param <stderr> <1>"
assert_call "procd_close_instance"
refute_call "logger"
# The instance's command line runs the daemon as procd would.
OW_CMD=$(sed -n 's/^procd_set_param <command> //p' "$CALLS" | sed 's/^<//; s/>$//; s/> </\n/g')
mapfile -t ow_argv <<<"$OW_CMD"
"${ow_argv[@]}" >"$WORK/openwrt.log" 2>&1 &
OW_PID=$!
track_pid "$OW_PID" "tlsgw (procd command)"
if ! wait_port "$OW_PORT1" "$OW_PID" 30 || ! wait_port "$OW_PORT2" "$OW_PID" 30; then
	fail "the procd command line did not listen on $OW_PORT1 and $OW_PORT2"
fi
pass "the procd command line serves both policies"

say "--- reload while running: check, then SIGHUP"
STUB_RUNNING=1 initd reload
[ "$LAST_RC" -eq 0 ] || fail "reload exited $LAST_RC"
assert_call "procd_send_signal <tlsgw> <*> <HUP>"
refute_call "procd_open_instance"
kill -HUP "$OW_PID"
assert_log_contains "reloaded" "$WORK/openwrt.log"

say "--- reload while stopped: start"
STUB_RUNNING=0 initd reload
assert_call "procd_open_instance"
refute_call "procd_send_signal"

say "--- reload with a broken policy: no signal, errors logged"
printf '[listen]\naddress = 127.0.0.1:notaport\n' >"$OW_ETC/upstreams.d/c.ini"
STUB_RUNNING=1 initd reload
[ "$LAST_RC" -ne 0 ] || fail "reload of a broken policy should fail"
refute_call "procd_send_signal"
grep -q "^logger <-t> <tlsgw> <-p> <daemon.err> <$OW_ETC/upstreams.d/c.ini:[0-9]*: " "$CALLS" ||
	fail "the check's file:line message was not logged"
pass "the check's file:line message went to the log"
initd check
[ "$LAST_RC" -ne 0 ] || fail "check should fail with a broken policy"
rm -f "$OW_ETC/upstreams.d/c.ini"
initd check
[ "$LAST_RC" -eq 0 ] || fail "check should pass again"

say "--- stop"
initd stop
assert_call "procd_kill <tlsgw> <>"

# =====================================================================
say "=== 3. OpenWrt package Makefile under stub include files"

STUB=$WORK/owrt-stub
mkdir -p "$STUB/include"
cat >"$STUB/rules.mk" <<'EOF'
INCLUDE_DIR:=$(TOPDIR)/include
INSTALL_DIR:=install -d -m0755
INSTALL_BIN:=install -m0755
INSTALL_DATA:=install -m0644
INSTALL_CONF:=install -m0600
CP:=cp -fpR
EOF
# package.mk: BuildPackage prints what OpenWrt would read and defines
# `install-ipkg`, running the package's install recipe into IPKG_ROOT.
cat >"$STUB/include/package.mk" <<'EOF'
PKG_BUILD_DIR:=$(STUB_BUILD_DIR)
PKG_INSTALL_DIR:=$(STUB_INSTALL_DIR)
define BuildPackage
$(eval $(Package/$(1)))
$(info PKG_NAME=$(PKG_NAME))
$(info PKG_VERSION=$(PKG_VERSION))
$(info PKG_RELEASE=$(PKG_RELEASE))
$(info PKG_SOURCE=$(PKG_SOURCE))
$(info PKG_FIXUP=$(PKG_FIXUP))
$(info PKG_INSTALL=$(PKG_INSTALL))
$(info PKG_LICENSE=$(PKG_LICENSE))
$(info SECTION=$(SECTION))
$(info CATEGORY=$(CATEGORY))
$(info DEPENDS=$(DEPENDS))
$(info USERID=$(USERID))
$(info CONFIGURE_ARGS=$(strip $(CONFIGURE_ARGS)))
$(info CONFFILES=$(strip $(Package/$(1)/conffiles)))
install-ipkg:
	$(call Package/$(1)/install,$(IPKG_ROOT))
endef
EOF
# The build tree the recipe copies from: `make install` of this build.
FAKE_INSTALL=$WORK/pkg-install
mkdir -p "$FAKE_INSTALL/usr/sbin"
cp "$TLSGW" "$FAKE_INSTALL/usr/sbin/tlsgw"
IPKG=$WORK/ipkg

owrt_make() {
	run_cmd make --no-print-directory -C "$OWRT" -f Makefile \
		TOPDIR="$STUB" STUB_BUILD_DIR="$TOP_SRCDIR" \
		STUB_INSTALL_DIR="$FAKE_INSTALL" IPKG_ROOT="$IPKG" "$@"
}
owrt_make -n install-ipkg
[ "$LAST_RC" -eq 0 ] || fail "make -n -f deploy/openwrt/tlsgw/Makefile failed"
mk_var() {
	sed -n "s/^$1=//p" "$WORK/last.out" | head -n 1
}
AC_VERSION=$(sed -n 's/^AC_INIT(\[tlsgw\], \[\([^]]*\)\].*/\1/p' "$TOP_SRCDIR/configure.ac")
[ -n "$AC_VERSION" ] || fail "no version in configure.ac's AC_INIT"
[ "$(mk_var PKG_NAME)" = tlsgw ] || fail "PKG_NAME=$(mk_var PKG_NAME), expected tlsgw"
pass "PKG_NAME=tlsgw"
[ "$(mk_var PKG_VERSION)" = "$AC_VERSION" ] ||
	fail "PKG_VERSION=$(mk_var PKG_VERSION) but configure.ac says $AC_VERSION"
pass "PKG_VERSION=$AC_VERSION, as in configure.ac"
[ "$(mk_var PKG_SOURCE)" = "tlsgw-$AC_VERSION.tar.gz" ] ||
	fail "PKG_SOURCE=$(mk_var PKG_SOURCE), expected the make dist tarball tlsgw-$AC_VERSION.tar.gz"
pass "PKG_SOURCE is the make dist tarball"
[ "$(mk_var PKG_FIXUP)" = autoreconf ] || fail "PKG_FIXUP should be autoreconf"
[ "$(mk_var PKG_INSTALL)" = 1 ] || fail "PKG_INSTALL should be 1"
[ -n "$(mk_var PKG_LICENSE)" ] || fail "PKG_LICENSE is empty"
for dep in +libwolfssl +libevent2-core +libinih; do
	case " $(mk_var DEPENDS) " in
	*" $dep "*) pass "DEPENDS has $dep" ;;
	*) fail "DEPENDS ($(mk_var DEPENDS)) lacks $dep" ;;
	esac
done
case " $(mk_var CONFIGURE_ARGS) " in
*" --disable-tests "*) pass "CONFIGURE_ARGS has --disable-tests" ;;
*) fail "CONFIGURE_ARGS ($(mk_var CONFIGURE_ARGS)) lacks --disable-tests" ;;
esac
"$TOP_SRCDIR/configure" --help | grep -q -- '--enable-tests' ||
	fail "configure has no --enable-tests/--disable-tests option"
pass "configure knows --disable-tests"
[ "$(mk_var USERID)" = tlsgw:tlsgw ] || fail "USERID=$(mk_var USERID), expected tlsgw:tlsgw"
for f in /etc/tlsgw/tlsgw.ini /etc/tlsgw/upstreams.d/ /etc/tlsgw/pki/; do
	case " $(mk_var CONFFILES) " in
	*" $f "*) pass "conffiles has $f" ;;
	*) fail "conffiles ($(mk_var CONFFILES)) lacks $f" ;;
	esac
done
grep -q "install -m0755 .*/usr/sbin/tlsgw $IPKG/usr/sbin/" "$WORK/last.out" ||
	fail "make -n shows no install of usr/sbin/tlsgw"
pass "make -n shows the install recipe"

owrt_make install-ipkg
[ "$LAST_RC" -eq 0 ] || fail "the package's install recipe failed"
# path:mode of every file the package holds.
(cd "$IPKG" && find . -type f -printf '%P:%m\n' | sort) >"$WORK/ipkg.list"
sed 's/^/    ipkg| /' "$WORK/ipkg.list"
for want in usr/sbin/tlsgw:755 etc/init.d/tlsgw:755 etc/tlsgw/tlsgw.ini:644 \
	etc/tlsgw/upstreams.d/hivemq.ini.example:644 lib/upgrade/keep.d/tlsgw:644; do
	grep -qxF "$want" "$WORK/ipkg.list" || fail "the package lacks $want (path:mode)"
	pass "package holds $want"
done
[ -d "$IPKG/etc/tlsgw/pki" ] || fail "the package lacks etc/tlsgw/pki/"
grep -qxF /etc/tlsgw/ "$IPKG/lib/upgrade/keep.d/tlsgw" ||
	fail "sysupgrade would not keep /etc/tlsgw/ (lib/upgrade/keep.d/tlsgw)"
cmp -s "$IPKG/etc/init.d/tlsgw" "$INIT_SRC" || fail "etc/init.d/tlsgw is not files/tlsgw.init"
if grep -v '^etc/tlsgw/tlsgw\.ini:' "$WORK/ipkg.list" | grep -q '\.ini:'; then
	fail "the package must ship no active policy (*.ini)"
fi
pass "the package ships no active policy"

say "--- mkfeed.sh: a feed for a make dist tarball"
mkdir -p "$WORK/dist"
echo "not really a tarball" >"$WORK/dist/tlsgw-$AC_VERSION.tar.gz"
assert_exit 0 sh "$TOP_SRCDIR/deploy/openwrt/mkfeed.sh" \
	"$WORK/dist/tlsgw-$AC_VERSION.tar.gz" "$WORK/feed"
want_hash=$(sha256sum "$WORK/dist/tlsgw-$AC_VERSION.tar.gz" | cut -d' ' -f1)
grep -qxF "PKG_HASH:=$want_hash" "$WORK/feed/tlsgw/Makefile" ||
	fail "the feed's Makefile lacks PKG_HASH:=$want_hash"
grep -qxF "PKG_SOURCE_URL:=file://$WORK/dist/" "$WORK/feed/tlsgw/Makefile" ||
	fail "the feed's Makefile lacks PKG_SOURCE_URL:=file://$WORK/dist/"
cmp -s "$WORK/feed/tlsgw/files/tlsgw.init" "$INIT_SRC" || fail "the feed lacks files/tlsgw.init"
pass "mkfeed.sh: PKG_HASH, PKG_SOURCE_URL and files/ in the feed"
echo x >"$WORK/dist/tlsgw-9.9.9.tar.gz"
assert_exit 1 sh "$TOP_SRCDIR/deploy/openwrt/mkfeed.sh" "$WORK/dist/tlsgw-9.9.9.tar.gz" "$WORK/feed2"
assert_output_contains "is not tlsgw-$AC_VERSION.tar.gz"

# =====================================================================
say "=== 4. deploy scripts"
for f in "$TOP_SRCDIR"/deploy/*.sh "$TOP_SRCDIR"/deploy/openwrt/*.sh; do
	[ -f "$f" ] || continue
	sh -n "$f" || fail "sh -n $f"
	pass "sh -n $(basename "$f")"
done

say "systemd exposure level: $EXPOSURE"
