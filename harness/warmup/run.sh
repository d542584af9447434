#!/usr/bin/env bash
# run.sh - the warm-up demo of issue 5, end to end.
#
# DESCRIPTION
#   Starts mxsim with profiles/warmup-demo.yaml (Microsoft profile, new-IP
#   warm-up) on a fast simulated clock, and drives its two senders with
#   mxload, one simulated day at a time:
#     steady.example from 127.0.70.1   100 x 1.25^d messages on day d
#     blast.example  from 127.0.71.1   3,000 messages every day
#   Each day's messages are paced evenly (mxload -r) from 5 % to 85 % of
#   that simulated day, and each mxload stops at 90 % of it at the latest
#   (both reckoned from the simulated clock's start, not from when mxload
#   happens to start, so a slow machine cannot push a day's mail into the
#   next simulated day).  The demo's day 0 is the first simulated day with
#   two thirds of it still ahead once mxsim is ready (usually the clock's
#   first day; a later one when start-up is slow).  Then mxsim is stopped
#   and mxreport writes the report, whose "daily" chart shows accepted and refused messages per
#   simulated day for each sender domain.  A per-day table (from the event
#   log) ends the output.
#
#   usage: harness/warmup/run.sh [-b BUILD] [-o OUT] [-n DAYS] [-s SECONDS]
#                                [-p PORT] [-c CPORT]
#     -b  build directory with sim/mxsim and harness/mxload (default build)
#     -o  output directory (default out/warmup): events.jsonl, mxsim.txt,
#         mxload-DAY-SENDER.json, report/
#     -n  simulated days (default 14)
#     -s  real seconds per simulated day (default 8: 14 days in about two
#         minutes; the time scale is 86400 / SECONDS)
#     -p  TCP port of the fake MX hosts (default 2525)
#     -c  TCP port of mxsim's control API on 127.0.0.1 (default PORT + 1),
#         asked once for the simulated clock (GET /clock)
#
# DIAGNOSTICS
#   "run.sh: ..." on stderr and exit 1 when a binary is missing, mxsim does
#   not start within 30 s, an mxload run fails, or mxreport fails; exit 2
#   for a bad command line.  mxsim and every mxload are stopped on any exit
#   (each is also bounded by its own duration and by timeout(1)).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=build OUT=out/warmup DAYS=14 DAY_S=8 PORT=2525 CPORT=

# die MSG - print MSG and exit 1
die() {
	echo "run.sh: $*" >&2
	exit 1
}

while getopts "b:o:n:s:p:c:h" opt; do
	case $opt in
	b) BUILD=$OPTARG ;;
	o) OUT=$OPTARG ;;
	n) DAYS=$OPTARG ;;
	s) DAY_S=$OPTARG ;;
	p) PORT=$OPTARG ;;
	c) CPORT=$OPTARG ;;
	*) sed -n '2,32p' "$0" >&2; exit 2 ;;
	esac
done
[[ $DAYS =~ ^[0-9]+$ ]] && [ "$DAYS" -ge 1 ] && [ "$DAYS" -le 60 ] ||
	{ echo "run.sh: -n: want 1..60 days" >&2; exit 2; }
[[ $DAY_S =~ ^[0-9]+(\.[0-9]+)?$ ]] &&
	awk -v s="$DAY_S" 'BEGIN { exit !(s >= 1 && s <= 600) }' ||
	{ echo "run.sh: -s: want 1..600 seconds" >&2; exit 2; }
[[ $PORT =~ ^[0-9]+$ ]] || { echo "run.sh: -p: want a port" >&2; exit 2; }
CPORT=${CPORT:-$((PORT + 1))}
[[ $CPORT =~ ^[0-9]+$ ]] || { echo "run.sh: -c: want a port" >&2; exit 2; }

case $BUILD in /*) ;; *) BUILD=$ROOT/$BUILD ;; esac
case $OUT in /*) ;; *) OUT=$ROOT/$OUT ;; esac
MXSIM=$BUILD/sim/mxsim
MXLOAD=$BUILD/harness/mxload
SCENARIO=$ROOT/profiles/warmup-demo.yaml
[ -x "$MXSIM" ] || die "$MXSIM not built"
[ -x "$MXLOAD" ] || die "$MXLOAD not built"
SCALE=$(awk -v s="$DAY_S" 'BEGIN { printf "%.6f", 86400 / s }')

mkdir -p "$OUT"
rm -rf "$OUT/report" "$OUT"/mxload-*.json
rm -f "$OUT/events.jsonl" "$OUT/ready" "$OUT/mxsim.txt"

MXSIM_PID=
LOAD_PIDS=()
# cleanup - stop what this script started, by process id
cleanup() {
	local p
	for p in "${LOAD_PIDS[@]}"; do
		kill "$p" 2>/dev/null || true
	done
	if [ -n "$MXSIM_PID" ] && kill -0 "$MXSIM_PID" 2>/dev/null; then
		kill "$MXSIM_PID" 2>/dev/null || true
		wait "$MXSIM_PID" 2>/dev/null || true
	fi
}
trap cleanup EXIT

# mxsim stops by itself a little after the last day at the latest
# (three simulated days more than asked: a slow start may skip the first
# days, below)
LIMIT=$(awk -v d="$DAYS" -v s="$DAY_S" 'BEGIN { printf "%d", (d + 3) * s + 60 }')
"$MXSIM" -c "$SCENARIO" -t "$SCALE" -p "$PORT" -w 1 -d "$LIMIT" \
	--control "127.0.0.1:$CPORT" \
	-e "$OUT/events.jsonl" --ready-file "$OUT/ready" -q \
	>"$OUT/mxsim.txt" 2>&1 &
MXSIM_PID=$!
for _ in $(seq 300); do
	[ -e "$OUT/ready" ] && break
	kill -0 "$MXSIM_PID" 2>/dev/null || die "mxsim exited: $(cat "$OUT/mxsim.txt")"
	sleep 0.1
done
[ -e "$OUT/ready" ] || die "mxsim not ready after 30 s"
# the simulated clock started at the scenario's midnight while mxsim was
# starting up (a second or more before the ready file under a sanitizer
# or load): ask mxsim where it is now; day d begins DAY_S * d real seconds
# after T0
T0=$(python3 -c '
import json, sys, time, urllib.request
u = "http://127.0.0.1:%s/v1/clock" % sys.argv[1]
c = json.load(urllib.request.urlopen(u, timeout=10))
print("%.3f" % (c["wall_ms"] / 1000.0 - c["sim_ms"] % 86400000 / c["time_scale"] / 1000.0))
' "$CPORT") || die "cannot read mxsim's clock on 127.0.0.1:$CPORT"
# the first simulated day with most of its time still ahead: day 0 unless
# mxsim's start-up (a sanitizer build on a loaded machine) ate over a third
# of it; the demo's days are counted from there, so nothing depends on how
# fast this machine starts a process
FIRST=$(awk -v t0="$T0" -v s="$DAY_S" -v now="$(date +%s.%N)" \
	'BEGIN { f = (now - t0) / s - 0.3; d = int(f); if (d < f) d++;
		 printf "%d", (d > 0 ? d : 0) }')
[ "$FIRST" -le 3 ] || die "mxsim's clock is $FIRST simulated days ahead: machine too slow"
echo "run.sh: mxsim pid $MXSIM_PID, time scale $SCALE ($DAY_S s per simulated day), $DAYS days from simulated day $FIRST, port $PORT"

# load DAY NAME SOURCE DOMAIN COUNT PACE STOP - one sender's messages of one
# day, paced to end PACE real seconds from now (-n then ends the run) and
# cut off STOP seconds from now (-d) whatever happens
load() {
	local rate
	rate=$(awk -v n="$5" -v p="$6" 'BEGIN { printf "%.3f", n / p }')
	timeout $((${DAY_S%.*} * 3 + 10)) "$MXLOAD" \
		-t "127.2.0.1:$PORT@outlook.com" -s "$3/32" -f "$4" -n "$5" \
		-r "$rate" -d "$7" \
		-c 4 -m 20 -P --seed "$((1000 + $1))" -q \
		--json "$OUT/mxload-$1-$2.json" >/dev/null
}

for ((i = 0; i < DAYS; i++)); do
	d=$((FIRST + i))
	wait_s=$(awk -v t0="$T0" -v d="$d" -v s="$DAY_S" -v now="$(date +%s.%N)" \
		'BEGIN { w = t0 + (d + 0.05) * s - now; printf "%.3f", (w > 0 ? w : 0) }')
	sleep "$wait_s"
	n_steady=$(awk -v i="$i" 'BEGIN { printf "%d", 100 * 1.25 ^ i }')
	# real seconds from now to 85 % (pace) and 90 % (stop) of simulated day d
	read -r pace stop < <(awk -v t0="$T0" -v d="$d" -v s="$DAY_S" \
		-v now="$(date +%s.%N)" 'BEGIN { printf "%.3f %.3f\n",
		t0 + (d + 0.85) * s - now, t0 + (d + 0.9) * s - now }')
	awk -v p="$pace" -v s="$DAY_S" 'BEGIN { exit !(p >= 0.5 * s) }' ||
		die "day $i starts too late (${pace}s of its $DAY_S s left): machine too slow"
	LOAD_PIDS=()
	load "$i" steady 127.0.70.1 steady.example "$n_steady" "$pace" "$stop" &
	LOAD_PIDS+=($!)
	load "$i" blast 127.0.71.1 blast.example 3000 "$pace" "$stop" &
	LOAD_PIDS+=($!)
	for p in "${LOAD_PIDS[@]}"; do
		wait "$p" || die "mxload failed on day $i (exit $?)"
	done
	LOAD_PIDS=()
	echo "run.sh: day $i: steady.example $n_steady messages, blast.example 3000"
done

kill "$MXSIM_PID"
wait "$MXSIM_PID" || die "mxsim exit $?: $(tail -5 "$OUT/mxsim.txt")"
MXSIM_PID=
python3 "$ROOT/reports/mxreport" "$OUT/events.jsonl" -o "$OUT/report" \
	--scenario "$SCENARIO" || die "mxreport failed"
python3 "$ROOT/reports/rpt_daily.py" "$OUT/events.jsonl"
