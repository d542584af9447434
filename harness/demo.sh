#!/usr/bin/env bash
# The main job of README's Quick start: mxsim with the bundled profiles on
# 127.0.0.0/8 port 2525 (simulated clock at 2x), a paced demo load per
# provider from mxload (about 50 s in all; the gmail run crosses the per-IP
# minute limit about 17 s in), the per-provider table of reply codes, and
# the report (out/report/index.html) drawn by reports/mxreport from the
# event log and mxload's per-second CSVs.  The control API and the live
# dashboard listen on 127.0.0.1:8025 (MXSIM_DEMO_CONTROL to change it;
# "off" for none).  Usage: harness/demo.sh BUILD_DIR
set -euo pipefail
build=${1:-build}
out=out
mkdir -p "$out"
port=${MXSIM_DEMO_PORT:-2525}
scale=${MXSIM_DEMO_TIME_SCALE:-2}
control=${MXSIM_DEMO_CONTROL:-127.0.0.1:8025}
ctl_args=()
[ "$control" != off ] && ctl_args=(--control "$control")
rm -f "$out"/mxload-*.csv

"$build/sim/mxsim" --port "$port" --time-scale "$scale" "${ctl_args[@]}" \
  --event-log "$out/events.jsonl" \
  --ready-file "$out/ready" --status 5 >"$out/mxsim-summary.txt" 2>"$out/mxsim.log" &
mxsim_pid=$!
rm -f "$out/ready.old"
trap 'kill -TERM $mxsim_pid 2>/dev/null || true' EXIT
for _ in $(seq 1 100); do
  [ -f "$out/ready" ] && break
  kill -0 $mxsim_pid 2>/dev/null || { cat "$out/mxsim.log" >&2; exit 1; }
  sleep 0.1
done
rm -f "$out/ready"
tail -n +1 -f "$out/mxsim.log" --pid=$mxsim_pid &
tail_pid=$!
if [ "$control" != off ]; then
  echo
  echo "== live dashboard: http://$control/ (open it in a browser while the demo runs)"
fi

# load NAME TITLE MXLOAD-ARGS... - one mxload run, its CSV out/mxload-NAME.csv
load() {
  local name=$1 title=$2; shift 2
  echo
  echo "== $title"
  echo "   mxload $* --csv $out/mxload-$name.csv"
  "$build/harness/mxload" -q "$@" --csv "$out/mxload-$name.csv" |
    sed 's/^/   /'
}

load gmail "gmail: 4 IPs at 6 msg/s each for 28 s; the per-IP limit is 100 per
   simulated minute (30 s here), so rate.ip (421 4.7.28) starts near 17 s" \
  -t "gmail=127.1.0.0/24:$port@gmail.com" -s 127.0.10.0/30 \
  -f auth.example -r 24 -d 28 -c 8 -m 10
load gmail-unauth "gmail: an unauthenticated domain, 30 msg/s for 3 s:
   4.7.26 deferrals until its reputation falls below 15, then 5.7.26" \
  -t "gmail=127.1.0.0/24:$port@gmail.com" -s 127.0.10.4/32 \
  -f unauth.example -r 30 -d 3 -c 4 -m 10
load gmail-unknown "gmail: a sender mailing unknown users (reputation falls)" \
  -t "gmail=127.1.0.0/24:$port@gmail.com" -s 127.0.10.9/32 \
  -f list.example --rcpt unknown1 -r 20 -d 3 -c 2 -m 10
load microsoft "microsoft: one new IP sending 1,200 messages (warm-up at 1,000)" \
  -t "microsoft=127.2.0.0/24:$port@outlook.com" -s 127.0.11.1/32 \
  -f auth.example -n 1200 -r 300 -c 8 -m 20
load yahoo "yahoo: 30 messages per connection (20 allowed)" \
  -t "yahoo=127.3.0.0/24:$port@yahoo.com" -s 127.0.12.0/30 \
  -f auth.example -n 600 -r 150 -c 8 -m 30
load yahoo-blocked "yahoo: from 127.0.66.1 (on the scenario's blocklist)" \
  -t "yahoo=127.3.0.0/24:$port@yahoo.com" -s 127.0.66.1/32 -n 5 -c 1
load generic "generic: 2 sending IPs, 50 msg/s each (limit 60 per minute)" \
  -t "generic=127.4.0.0/24:$port@example.com" -s 127.0.13.0/31 \
  -f auth.example -n 400 -r 100 -c 4 -m 10
load sink "sink: accepts everything" \
  -t "sink=127.0.0.1:$port@sink.example" -s 127.0.14.0/29 \
  -n 5000 -r 1000 -c 16 -m 50

kill -INT $mxsim_pid
wait $mxsim_pid || true
trap - EXIT
kill $tail_pid 2>/dev/null || true
wait $tail_pid 2>/dev/null || true
echo
echo "== mxsim: replies per provider"
sed 's/^/   /' "$out/mxsim-summary.txt"
echo
echo "event log: $out/events.jsonl ($(wc -l <"$out/events.jsonl") replies)"

echo
echo "== report"
plots=()
if ! command -v gnuplot >/dev/null; then
  echo "   gnuplot is not installed (apt-get install gnuplot-nox): tables only"
  plots=(--no-plots)
fi
csvs=()
for f in "$out"/mxload-*.csv; do csvs+=(--csv "$f"); done
/usr/bin/python3 reports/mxreport "${plots[@]}" -o "$out/report" \
  "${csvs[@]}" "$out/events.jsonl" 2>&1 | sed 's/^/   /'
echo
echo "== headline (out/report/headline.md; summary.json beside it)"
sed 's/^/   /' "$out/report/headline.md"
echo
echo "report: $(cd "$out/report" && pwd)/index.html"
