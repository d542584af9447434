#!/bin/bash
# decision_log.sh - does a change keep mxsim's decisions?  Runs two mxsim
# builds on the same scenario, seed and arrival order and compares their
# event logs byte for byte, wall-time fields ("wall", "wall_ms") aside.
#
#   harness/decision_log.sh OLD_BUILD NEW_BUILD [OUT]
#
# Each build serves the scenario below (gmail, microsoft, yahoo, generic
# on 127.213.x.0/30, one worker) with the simulated clock fixed at its
# start (time scale 1e-6: a run of minutes moves it by well under 1 ms),
# so windows, caps and reputation depend on arrival order alone.  One
# mxload connection at a time (-c 1) sends the same sequence to each
# provider in turn, from two source ranges and three sender domains
# (one failing SPF), some to unknown users, enough to cross per-IP and
# per-domain limits (4xx deferrals, then 5xx).  Each build reads the
# bundled profiles of its own source tree (MXSIM_DATADIR, see
# datadir_of), so a reply kind added later does not stop the old one; both
# are driven by the same mxload (NEW_BUILD's).  Prints the line counts, the replies by code,
# and "identical" (exit 0) or the first differing lines (exit 1).
#
# DPDK ring tier, when both builds have harness/bench/dp_replay: one
# dp_lcore over a ring port (no kernel, no root) replays sessions one at a
# time to gmail (distinct client addresses, one sender and recipient per
# case: a per-recipient limit defers, then blocks; an unauthenticated
# sender domain), with the same comparison of the event logs.
set -eu

ROOT=$(cd "$(dirname "$0")/.." && pwd)
OLD=$(cd "${1:?usage: decision_log.sh OLD_BUILD NEW_BUILD [OUT]}" && pwd)
NEW=$(cd "${2:?usage: decision_log.sh OLD_BUILD NEW_BUILD [OUT]}" && pwd)
OUT=${3:-$(mktemp -d /tmp/decision_log.XXXXXX)}
mkdir -p "$OUT"
MXLOAD=$NEW/harness/mxload
SRV=

cleanup() {
	if [ -n "$SRV" ]; then
		kill -KILL "$SRV" 2>/dev/null || true
	fi
}
trap cleanup EXIT

cat > "$OUT/scenario.yaml" <<'YAML'
seed: 1313
time_scale: 0.000001
start: "2026-03-02T10:00:00Z"
workers: 1
timeouts: {idle: 300, session: 1800}
servers:
  - profile: gmail
    addresses: [127.213.1.0/30]
  - profile: microsoft
    addresses: [127.213.2.0/30]
  - profile: yahoo
    addresses: [127.213.3.0/30]
  - profile: generic
    addresses: [127.213.4.0/30]
senders:
  default: {spf: pass, dkim: pass, dmarc: none}
  domains:
    auth.example: {spf: pass, dkim: pass, dmarc: pass}
    unauth.example: {spf: fail, dkim: none, dmarc: none}
recipients:
  unknown: ["unknown*@*"]
YAML

# free_port - a TCP port free on loopback just now
free_port() {
	python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# load PORT - the fixed arrival order: one connection at a time
load() {
	local port=$1 prov dom
	for prov in gmail=127.213.1.1@gmail.com \
	    microsoft=127.213.2.1@outlook.com \
	    yahoo=127.213.3.1@yahoo.com generic=127.213.4.1@example.net; do
		dom=${prov#*@}
		prov=${prov%@*}
		timeout 300 "$MXLOAD" -t "$prov:$port@$dom" -s 127.213.10.0/30 \
		    -f auth.example,plain.example,unauth.example -n 150 -c 1 \
		    -m 3 -R 2 --seed 5 -q >/dev/null
		timeout 300 "$MXLOAD" -t "$prov:$port@$dom" -s 127.213.11.1/32 \
		    -f plain.example -n 40 -c 1 -m 2 --rcpt unknown1 --seed 6 \
		    -q >/dev/null
		timeout 300 "$MXLOAD" -t "$prov:$port@$dom" -s 127.213.12.0/31 \
		    -f auth.example -n 400 -c 1 -m 10 -R 3 --seed 7 -q \
		    >/dev/null
	done
}

# datadir_of BUILD - MXSIM_DATADIR for the build's mxsim: its data root
# BUILD/share/mxsim (links to its source tree) since issue 17; before, the
# variable named the profiles folder of the build's source tree
datadir_of() {
	if [ -d "$1/share/mxsim" ]; then
		echo "$1/share/mxsim"
		return
	fi
	python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["directories"]["source"] + "/profiles")' \
	    "$1/meson-info/meson-info.json" 2>/dev/null || echo "$ROOT/profiles"
}

# run NAME BUILD - one mxsim, the load, its stripped event log
run() {
	local name=$1 build=$2 port
	port=$(free_port)
	export MXSIM_DATADIR
	MXSIM_DATADIR=$(datadir_of "$build")
	rm -f "$OUT/$name.ready" "$OUT/$name.jsonl"
	timeout 900 "$build/sim/mxsim" -c "$OUT/scenario.yaml" -p "$port" -q \
	    --event-log "$OUT/$name.jsonl" --ready-file "$OUT/$name.ready" \
	    --no-tls 2>"$OUT/$name.err" >"$OUT/$name.out" &
	SRV=$!
	for _ in $(seq 1 300); do
		[ -s "$OUT/$name.ready" ] && break
		sleep 0.1
	done
	[ -s "$OUT/$name.ready" ] || { echo "$name: mxsim did not start"; \
	    cat "$OUT/$name.err"; exit 2; }
	load "$port"
	kill -INT "$SRV"
	wait "$SRV"
	SRV=
	sed -E 's/^\{"wall":"[^"]*",/{/; s/,"wall_ms":[0-9]+//' \
	    "$OUT/$name.jsonl" >"$OUT/$name.decisions"
}

# replay NAME BUILD - the DPDK lcore over a ring port, two cases
replay() {
	local name=$1 build=$2 c from rcpt
	export MXSIM_DATADIR
	MXSIM_DATADIR=$(datadir_of "$build")
	: >"$OUT/$name.decisions"
	for c in "news@auth.example user1@gmail.com" \
	    "news@unauth.example user2@gmail.com"; do
		from=${c% *}
		rcpt=${c#* }
		rm -f "$OUT/$name.jsonl"
		# exit 1: not every session got its 250, as intended
		timeout 300 "$build/harness/bench/dp_replay" \
		    -c "$OUT/scenario.yaml" -d 127.213.1.1 -n 6000 -w 1 \
		    -f "$from" -t "$rcpt" -e "$OUT/$name.jsonl" -T 200 \
		    >/dev/null 2>"$OUT/$name.err" || [ $? -eq 1 ]
		sed -E 's/^\{"wall":"[^"]*",/{/; s/,"wall_ms":[0-9]+//' \
		    "$OUT/$name.jsonl" >>"$OUT/$name.decisions"
	done
}

# compare A B LABEL - the verdict on two stripped logs; 0 when identical
compare() {
	echo "$3: event log lines: old $(wc -l <"$1"), new $(wc -l <"$2")"
	echo "$3: replies by code (new):"
	grep -o '"code":[0-9]*,"enhanced":[^,]*,"reason":"[^"]*"' "$2" |
	    sort | uniq -c | sort -rn | sed 's/^/  /'
	if [ -s "$1" ] && cmp -s "$1" "$2"; then
		echo "$3: identical (wall times aside): $1 $2"
		return 0
	fi
	echo "$3: DIFFERENT:"
	diff "$1" "$2" | head -20
	return 1
}

run old "$OLD"
run new "$NEW"
status=0
compare "$OUT/old.decisions" "$OUT/new.decisions" socket || status=1
if [ -x "$OLD/harness/bench/dp_replay" ] &&
    [ -x "$NEW/harness/bench/dp_replay" ]; then
	replay dp_old "$OLD"
	replay dp_new "$NEW"
	compare "$OUT/dp_old.decisions" "$OUT/dp_new.decisions" \
	    "dpdk ring" || status=1
else
	echo "dpdk ring: skipped (no harness/bench/dp_replay in both builds)"
fi
exit $status
