#!/usr/bin/env bash
# The main job of README's Quick start: mxsim with the bundled profiles on
# 127.0.0.0/8 port 2525, a short demo load per provider from mxload, and the
# per-provider table of reply codes.  Usage: harness/demo.sh BUILD_DIR
set -euo pipefail
build=${1:-build}
out=out
mkdir -p "$out"
port=${MXSIM_DEMO_PORT:-2525}

"$build/sim/mxsim" --port "$port" --event-log "$out/events.jsonl" \
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

load() {
  local title=$1; shift
  echo
  echo "== $title"
  echo "   mxload $*"
  "$build/harness/mxload" -q "$@" | sed 's/^/   /'
}

load "gmail: 4 sending IPs, an authenticated and an unauthenticated domain" \
  -t "gmail=127.1.0.0/24:$port@gmail.com" -s 127.0.10.0/30 \
  -f auth.example,unauth.example -n 1000 -c 8 -m 10
load "gmail: a sender mailing unknown users" \
  -t "gmail=127.1.0.0/24:$port@gmail.com" -s 127.0.10.9/32 \
  -f list.example --rcpt unknown1 -n 60 -c 2 -m 10
load "microsoft: one new IP sending 1,200 messages (warm-up)" \
  -t "microsoft=127.2.0.0/24:$port@outlook.com" -s 127.0.11.1/32 \
  -f auth.example -n 1200 -c 8 -m 20
load "yahoo: 30 messages per connection, then a blocklisted IP" \
  -t "yahoo=127.3.0.0/24:$port@yahoo.com" -s 127.0.12.0/30 \
  -f auth.example -n 600 -c 8 -m 30
load "yahoo: from 127.0.66.1 (on the scenario's blocklist)" \
  -t "yahoo=127.3.0.0/24:$port@yahoo.com" -s 127.0.66.1/32 -n 5 -c 1
load "generic: 2 sending IPs" \
  -t "generic=127.4.0.0/24:$port@example.com" -s 127.0.13.0/31 \
  -f auth.example -n 400 -c 4 -m 10
load "sink: accepts everything" \
  -t "sink=127.0.0.1:$port@sink.example" -s 127.0.14.0/29 \
  -n 5000 -c 16 -m 50

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
