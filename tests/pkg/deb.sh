#!/usr/bin/env bash
# The Debian package, end to end, on this tree (CI step of ./run test):
#   1. dpkg-buildpackage -us -uc -b in a copy of the tree (the tree and its
#      build folders stay untouched; the .deb lands in a temporary folder)
#   2. lintian: any error fails the step, warnings are printed
#   3. apt-get install ./mxsim_*.deb (a previously installed mxsim is purged
#      first, so every run installs afresh)
#   4. the installed mxsim --check on the bundled default scenario
#   5. the unit's ExecStart (read from mxsim@.service, %i = a scenario this
#      script writes to /etc/mxsim) run as the unit's User= on a free port of
#      a unique 127.x.y.z; swaks sends one message and must meet 250; SIGTERM
#      stops it and its event log must hold the delivery
#   6. apt-get remove --purge: no file the package listed (dpkg -L) is left
# Quiet on success apart from one summary line.  Needs root (or sudo).
set -euo pipefail
cd "$(dirname "$0")/../.."
t0=$SECONDS

sudo=""
[ "$(id -u)" -ne 0 ] && sudo="sudo"
apt_quiet() {
	DEBIAN_FRONTEND=noninteractive $sudo apt-get -o DPkg::Lock::Timeout=300 \
	    -y -qq "$@" >"$work/apt.log" 2>&1
}

work=$(mktemp -d /tmp/mxsim-deb.XXXXXX)
inst="ci-deb-$$"
scenario="/etc/mxsim/$inst.yaml"
pid=""
cleanup() {
	[ -n "$pid" ] && $sudo kill -KILL "$pid" 2>/dev/null
	$sudo rm -f "$scenario"
	rm -rf "$work"
}
trap cleanup EXIT
fail() { echo "deb: FAILED: $*" >&2; exit 1; }

# 1. build in a copy: the tracked and unignored files of the tree
mkdir "$work/src"
git ls-files -co --exclude-standard -z | tar -cf - --null -T - | tar -xf - -C "$work/src"
(cd "$work/src" && DEB_BUILD_OPTIONS="parallel=2 noautodbgsym" \
    dpkg-buildpackage -us -uc -b >"$work/build.log" 2>&1) ||
	{ tail -40 "$work/build.log"; fail "dpkg-buildpackage"; }
deb=$(ls "$work"/mxsim_*.deb)
t_build=$((SECONDS - t0))
t1=$SECONDS

# 2. lintian on the package (errors fail, warnings shown)
lintian --fail-on none \
    "$deb" >"$work/lintian.log" 2>&1 || true
grep -v -e '^N:' -e 'running with root privileges' "$work/lintian.log" | grep -q '^E:' &&
	{ cat "$work/lintian.log"; fail "lintian reports errors"; }
nwarn=$(grep -c '^W:' "$work/lintian.log" || true)
grep '^W:' "$work/lintian.log" || true
t_lint=$((SECONDS - t1))

# 3. install (purge an mxsim left by an earlier run first)
if dpkg-query -W -f='${Status}' mxsim 2>/dev/null | grep -q "ok installed"; then
	apt_quiet remove --purge mxsim || { cat "$work/apt.log"; fail "purge of an earlier mxsim"; }
fi
# (apt-get update only when a dependency is not installed yet, as systemd
# for systemd-sysusers in a fresh container)
apt_quiet install --no-install-recommends "$deb" ||
	{ apt_quiet update && apt_quiet install --no-install-recommends "$deb"; } ||
	{ cat "$work/apt.log"; fail "apt-get install $deb"; }
dpkg -L mxsim >"$work/files"
nfiles=$(wc -l <"$work/files")

# 4. the installed binary finds its bundled data (run from /, no env)
(cd / && env -u MXSIM_DATADIR /usr/bin/mxsim --check \
    /usr/share/mxsim/profiles/default.yaml >"$work/check.log" 2>&1) ||
	{ cat "$work/check.log"; fail "mxsim --check default.yaml"; }

# 5. the unit's command line, as its user, on a unique loopback address
unit=/lib/systemd/system/mxsim@.service
exec_start=$(sed -n 's/^ExecStart=[-@:+!]*//p' "$unit")
[ -n "$exec_start" ] || fail "no ExecStart in $unit"
user=$(sed -n 's/^User=//p' "$unit")
workdir=$(sed -n 's/^WorkingDirectory=-\{0,1\}//p' "$unit")
addr="127.$((200 + $$ % 50)).$(($$ / 50 % 250 + 1)).$((RANDOM % 250 + 1))"
port=$(python3 -c 'import socket,sys
s = socket.socket(); s.bind((sys.argv[1], 0)); print(s.getsockname()[1])' "$addr")
$sudo tee "$scenario" >/dev/null <<EOF
# tests/pkg/deb.sh: one sink on a unique loopback address
seed: 1
time_scale: 1
port: $port
workers: 1
servers:
  - profile: sink
    addresses: [$addr/32]
EOF
$sudo chmod 0644 "$scenario"	# readable by the unit's user whatever the umask
read -r -a argv <<<"${exec_start//%i/$inst}"
runas=()
[ -n "$user" ] && runas=(setpriv --reuid="$user" --regid="$user" --init-groups)
(cd "${workdir:-/}" && exec $sudo "${runas[@]}" "${argv[@]}") \
    >"$work/mxsim.out" 2>&1 </dev/null &
pid=$!
for _ in $(seq 300); do
	(exec 3<>"/dev/tcp/$addr/$port") 2>/dev/null && break
	kill -0 "$pid" 2>/dev/null ||
		{ cat "$work/mxsim.out"; fail "mxsim@$inst exited at start"; }
	sleep 0.1
done
if [ -n "$user" ]; then
	uid=$(awk '$1 == "Uid:" { print $2 }' "/proc/$pid/status")
	[ "$uid" = "$(id -u "$user")" ] || fail "mxsim@$inst runs as uid $uid, not $user"
fi
swaks --server "$addr" --port "$port" --from ci@sender.example \
    --to someone@sink.mxsim.test --helo ci.sender.example \
    >"$work/swaks.log" 2>&1 ||
	{ cat "$work/swaks.log" "$work/mxsim.out"; fail "swaks"; }
grep -A1 '^ -> \.$' "$work/swaks.log" | grep -q '^<-  250 ' ||
	{ cat "$work/swaks.log"; fail "no 250 after the message"; }
$sudo kill -TERM "$pid"
rc=0; wait "$pid" || rc=$?
pid=""
[ "$rc" -eq 0 ] || { cat "$work/mxsim.out"; fail "mxsim@$inst exited $rc"; }
evlog=$(grep -o -- '--event-log [^ ]*' <<<"${exec_start//%i/$inst}" | cut -d' ' -f2)
if [ -n "$evlog" ]; then
	$sudo grep -q '"stage":"eod","code":250,' "$evlog" ||
		{ $sudo cat "$evlog"; fail "event log $evlog holds no 250"; }
fi
$sudo rm -f "$scenario"

# 6. purge: nothing the package installed is left (directories it shares
# with other packages stay, those of its own go)
apt_quiet remove --purge mxsim || { cat "$work/apt.log"; fail "purge"; }
left=$(while read -r f; do
	if [ -d "$f" ]; then
		[[ $f == */mxsim || $f == */mxsim/* ]] && echo "$f"
	elif [ -e "$f" ] || [ -L "$f" ]; then echo "$f"
	fi
done <"$work/files")
for d in /var/lib/mxsim /var/log/mxsim; do [ -e "$d" ] && left+=$'\n'"$d"; done
[ -z "${left//$'\n'/}" ] || { echo "$left"; fail "files left after purge"; }

echo "deb: $(basename "$deb") built in ${t_build}s, lintian (${t_lint}s) 0" \
    "errors $nwarn warnings, installed $nfiles paths, --check ok, unit command" \
    "answered 250 on $addr:$port, purged clean; $((SECONDS - t0))s"
