#!/bin/bash
# dp_replay.sh - the DPDK replay benchmark of issue 4, beside the socket
# backend, in one run.
#
#   harness/bench/dp_replay.sh [BUILD]        (default BUILD: build-dprep)
#
# DPDK path: BUILD/harness/bench/dp_replay (one lcore over a ring port,
# no kernel): transactions per second of lcore time, median of REPS runs,
# and callgrind instructions per transaction (whole replay loop, and
# dp_lcore_poll alone = the pipeline).
# Socket path: BUILD/sim/mxsim --workers 1 on 127.0.0.1, driven by
# smtp-source (HELO) and by mxload -P (EHLO), one message per
# connection: server CPU seconds (utime+stime of the process) per
# transaction, median of REPS runs.
# Profiles: sink (198.18.5.1) and gmail with its limits raised
# (198.18.1.0/24, event log on in both backends).
# Writes out/bench/dpdk.json and out/bench/dpdk.md; prints the table.
#
# Environment: DPR_N (DPDK sessions, 50000), DPR_NCG (sessions under
# callgrind, 2000), DPR_NSOCK (socket messages, 10000), DPR_REPS (3),
# DPR_EAL (EAL arguments of the timed replays; default dp_replay's
# "-l 0 --no-huge -m 512 --no-pci --no-shconf"; with hugepages reserved:
# "-l 0 --no-pci --in-memory").
# Each replay also reports its heap calls (malloc/free in the replay
# loop: 0 is the design) and page faults before and in the loop.
# Bounded: every process has a time limit; about two minutes in all on
# a 2-core machine.  Not for CI: the figures need a machine that is not
# too busy (the load average is recorded).
set -eu

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=$(cd "${1:-$ROOT/build-dprep}" && pwd)
N=${DPR_N:-50000}
NCG=${DPR_NCG:-2000}
NSOCK=${DPR_NSOCK:-10000}
REPS=${DPR_REPS:-3}
EAL=${DPR_EAL:-}
SPORT=27125
OUT=$ROOT/out/bench
DPR=$BUILD/harness/bench/dp_replay
MXSIM=$BUILD/sim/mxsim
MXLOAD=$BUILD/harness/mxload
WORK=$(mktemp -d /tmp/dp_replay.XXXXXX)
SRV=

cleanup() {
	if [ -n "$SRV" ]; then
		kill "$SRV" 2>/dev/null || true
		wait "$SRV" 2>/dev/null || true
	fi
	rm -rf "$WORK"
}
trap cleanup EXIT

for b in "$DPR" "$MXSIM" "$MXLOAD"; do
	[ -x "$b" ] || { echo "dp_replay.sh: $b not built" >&2; exit 2; }
done
command -v smtp-source >/dev/null || { echo "dp_replay.sh: smtp-source" \
    "(postfix) not installed" >&2; exit 2; }
mkdir -p "$OUT"
LOAD0=$(cut -d' ' -f1-3 /proc/loadavg)

# Scenarios: the same profiles for both backends; only addresses and port
# differ.  gmail: limits raised (harness/bench/bench_profiles.py, as
# mxbench: the bulk threshold too, else Gmail's 421 4.7.29 bulk.tls
# answers after 5,000 messages of one sender), senders authenticated.
python3 - "$ROOT" "$WORK" "$SPORT" <<'EOF'
import sys, yaml
root, work, sport = sys.argv[1], sys.argv[2], int(sys.argv[3])
sys.path.insert(0, root + "/harness/bench")
from bench_profiles import gmail_open
yaml.safe_dump(gmail_open(root), open(work + "/gmail_open.yaml", "w"), sort_keys=False)
auth = {"spf": "pass", "dkim": "pass", "dmarc": "pass"}
prof = {"sink": root + "/profiles/sink.yaml", "gmail": work + "/gmail_open.yaml"}
mx = {"sink": "198.18.5.1/32", "gmail": "198.18.1.0/24"}
for name in ("sink", "gmail"):
    for side, port, addr in (("dp", 25, mx[name]), ("sock", sport, "127.0.0.1")):
        scn = {"seed": 1, "port": port,
               "servers": [{"profile": prof[name], "addresses": [addr]}],
               "senders": {"default": auth, "domains": {"auth.example": auth}}}
        yaml.safe_dump(scn, open("%s/%s-%s.yaml" % (work, side, name), "w"),
                       sort_keys=False)
EOF

# cpu_ticks PID - "utime stime" in clock ticks
cpu_ticks() {
	awk '{ print $14, $15 }' "/proc/$1/stat"
}

# dpdk NAME GREETING REP - one replay run, JSON into WORK
dpdk() {
	local mx=198.18.5.1 ev=() hflag=() eal=()
	[ "$1" = gmail ] && { mx=198.18.1.0/24; ev=(-e "$WORK/dp-ev.jsonl"); }
	[ "$2" = HELO ] && hflag=(-H)
	# shellcheck disable=SC2206
	[ -n "$EAL" ] && eal=(-- $EAL)
	timeout 120 "$DPR" -c "$WORK/dp-$1.yaml" -d "$mx" -n "$N" -w 256 \
	    -T 90 "${hflag[@]}" "${ev[@]}" "${eal[@]}" \
	    >"$WORK/dp.$1.$2.$3.json" 2>>"$WORK/log"
}

# callgrind NAME - instructions per transaction (EHLO)
callgrind() {
	local mx=198.18.5.1 ev=() cg=$WORK/cg.$1
	[ "$1" = gmail ] && { mx=198.18.1.0/24; ev=(-e "$WORK/cg-ev.jsonl"); }
	timeout 300 valgrind --tool=callgrind --callgrind-out-file="$cg" \
	    --toggle-collect=dpr_run "$DPR" -c "$WORK/dp-$1.yaml" -d "$mx" \
	    -n "$NCG" -w 32 -T 240 "${ev[@]}" >"$WORK/cg.$1.json" \
	    2>>"$WORK/log"
	callgrind_annotate --inclusive=yes "$cg" >"$WORK/cg.$1.txt" 2>/dev/null
	# The 40 heaviest functions (inclusive), kept beside the report.
	grep -E '^ *[0-9,]+ \(' "$WORK/cg.$1.txt" | head -41 \
	    >"$OUT/dpdk-callgrind-$1.txt" || true
}

# socket NAME CLIENT REP - mxsim --workers 1, server CPU per message
socket() {
	local ev=() c0 c1 t0 t1 rc=0 u0 s0 u1 s1
	[ "$1" = gmail ] && ev=(--event-log "$WORK/sock-ev.jsonl")
	rm -f "$WORK/ready"
	"$MXSIM" -q -c "$WORK/sock-$1.yaml" --workers 1 --max-conns 10000 \
	    --ready-file "$WORK/ready" "${ev[@]}" >/dev/null 2>>"$WORK/log" &
	SRV=$!
	for _ in $(seq 100); do [ -e "$WORK/ready" ] && break; sleep 0.1; done
	read -r u0 s0 <<<"$(cpu_ticks "$SRV")"
	t0=$(date +%s.%N)
	if [ "$2" = smtp-source ]; then
		timeout 120 smtp-source -s 20 -m "$NSOCK" -l 1024 \
		    -f bench@auth.example -t user@gmail.com \
		    "127.0.0.1:$SPORT" >>"$WORK/log" 2>&1 || rc=$?
	else
		timeout 120 "$MXLOAD" -q -P -t "b=127.0.0.1:$SPORT@gmail.com" \
		    -s 127.0.40.0/24 -n "$NSOCK" -c 20 -m 1 -z 1024 \
		    -f auth.example >>"$WORK/log" 2>&1 || rc=$?
	fi
	t1=$(date +%s.%N)
	sleep 0.2
	read -r u1 s1 <<<"$(cpu_ticks "$SRV")"
	kill -TERM "$SRV"
	wait "$SRV" 2>/dev/null || true
	SRV=
	awk -v c="$2" -v rc="$rc" -v n="$NSOCK" -v w="$(echo "$t1 - $t0" | bc)" \
	    -v u="$((u1 - u0))" -v s="$((s1 - s0))" -v hz="$(getconf CLK_TCK)" \
	    'BEGIN {
		printf "{\"client\": \"%s\", \"rc\": %d, \"messages\": %d, " \
		    "\"wall_s\": %.3f, \"cpu_s\": %.3f, \"user_s\": %.3f, " \
		    "\"sys_s\": %.3f}\n", c, rc, n, w, (u + s) / hz, u / hz, s / hz
	    }' >"$WORK/sock.$1.$2.$3.json"
}

for name in sink gmail; do
	echo "dp_replay.sh: $name: DPDK replay, $REPS x $N sessions" >&2
	for rep in $(seq "$REPS"); do
		dpdk "$name" EHLO "$rep"
		dpdk "$name" HELO "$rep"
	done
	if command -v valgrind >/dev/null; then
		echo "dp_replay.sh: $name: callgrind, $NCG sessions" >&2
		callgrind "$name"
	fi
	echo "dp_replay.sh: $name: socket backend, $REPS x $NSOCK" \
	    "messages" >&2
	for rep in $(seq "$REPS"); do
		socket "$name" smtp-source "$rep"
		socket "$name" mxload "$rep"
	done
done
LOAD1=$(cut -d' ' -f1-3 /proc/loadavg)

python3 - "$WORK" "$OUT" "$N" "$NCG" "$NSOCK" "$REPS" "$LOAD0" "$LOAD1" \
    "${EAL:-default}" <<'EOF'
import json, os, statistics, sys, glob, re, time
work, out, n, ncg, nsock, reps, load0, load1, eal = sys.argv[1:10]
def med(xs):
    return statistics.median(xs) if xs else None
def load(pat):
    return [json.load(open(f)) for f in sorted(glob.glob(os.path.join(work, pat)))]
def incl(txt, fn):
    for line in open(txt):
        m = re.match(r"\s*([\d,]+) \([^)]*\)\s+\S*:%s \[" % fn, line)
        if m:
            return int(m.group(1).replace(",", ""))
    return None
cpu = "?"
for line in open("/proc/cpuinfo"):
    if line.startswith("model name"):
        cpu = line.split(":", 1)[1].strip()
        break
res = {"date": time.strftime("%Y-%m-%d %H:%M:%S"), "cpu": cpu,
       "nproc": os.cpu_count(), "load_before": load0, "load_after": load1,
       "sessions": int(n), "callgrind_sessions": int(ncg),
       "socket_messages": int(nsock), "reps": int(reps), "eal": eal,
       "profiles": {}}
rows = []
ok = True
for name in ("sink", "gmail"):
    p = res["profiles"][name] = {"dpdk": {}, "socket": {}}
    for greet in ("EHLO", "HELO"):
        runs = load("dp.%s.%s.*.json" % (name, greet))
        good = [r for r in runs if r["transactions"] == r["sessions"] and r["failed"] == 0]
        ok &= len(good) == len(runs) > 0
        p["dpdk"][greet] = {
            "runs": runs,
            "tx_per_lcore_cpu_s": med([r["tx_per_lcore_cpu_s"] for r in good]),
            "tx_per_s_lcore": med([r["tx_per_s_lcore"] for r in good]),
            "tx_per_cpu_s": med([r["tx_per_cpu_s"] for r in good]),
            "us_per_tx_lcore": med([r["us_per_tx_lcore"] for r in good]),
            "heap_calls": max([r["heap_allocs"] + r["heap_frees"] for r in runs],
                              default=None),
            "minflt_run": med([r["minflt_run"] for r in runs]),
            "minflt_setup": med([r["minflt_setup"] for r in runs])}
    cg = os.path.join(work, "cg.%s.txt" % name)
    if os.path.exists(cg):
        r = json.load(open(os.path.join(work, "cg.%s.json" % name)))
        t = r["transactions"] or 1
        tot, poll = incl(cg, "dpr_run"), incl(cg, "dp_lcore_poll")
        sess = incl(cg, "smtp_session_input")
        p["dpdk"]["callgrind"] = {
            "transactions": r["transactions"], "retransmits": r["retransmits"],
            "loop_ir_per_tx": tot / t if tot else None,
            "pipeline_ir_per_tx": poll / t if poll else None,
            "smtp_session_ir_per_tx": sess / t if sess else None}
    for client in ("smtp-source", "mxload"):
        runs = load("sock.%s.%s.*.json" % (name, client))
        good = [r for r in runs if r["rc"] == 0 and r["cpu_s"] > 0]
        ok &= len(good) == len(runs) > 0
        p["socket"][client] = {
            "runs": runs,
            "cpu_us_per_tx": med([r["cpu_s"] * 1e6 / r["messages"] for r in good]),
            "user_us_per_tx": med([r["user_s"] * 1e6 / r["messages"] for r in good]),
            "tx_per_core_s": med([r["messages"] / r["cpu_s"] for r in good]),
            "tx_per_s_wall": med([r["messages"] / r["wall_s"] for r in good])}
    for greet, client in (("HELO", "smtp-source"), ("EHLO", "mxload")):
        d, s = p["dpdk"][greet], p["socket"][client]
        ratio = (d["tx_per_lcore_cpu_s"] / s["tx_per_core_s"]
                 if d["tx_per_lcore_cpu_s"] and s["tx_per_core_s"] else None)
        ratio_cpu = (d["tx_per_cpu_s"] / s["tx_per_core_s"]
                     if d["tx_per_cpu_s"] and s["tx_per_core_s"] else None)
        p.setdefault("ratio", {})[greet] = {"lcore": ratio, "process_cpu": ratio_cpu}
        rows.append((name, greet, client, d, s, ratio, ratio_cpu, p["dpdk"].get("callgrind")))
res["complete"] = ok
json.dump(res, open(os.path.join(out, "dpdk.json"), "w"), indent=1)
f = lambda x, fmt="%.0f": fmt % x if x is not None else "-"
md = ["# DPDK replay benchmark (issue 4)", "",
      "%s, %s CPUs; load average %s before, %s after. DPDK: %s sessions per run over a "
      "ring port, one lcore, EAL %s, median of %s runs; callgrind: %s sessions. Socket: mxsim "
      "--workers 1 on 127.0.0.1, %s messages per run, median of %s runs. One 1 KiB "
      "message per connection." % (cpu, os.cpu_count(), load0, load1, n, eal, reps, ncg,
                                   nsock, reps), "",
      "| profile | greeting | DPDK tx per lcore CPU s | DPDK tx/s lcore wall | "
      "DPDK tx per process CPU s | DPDK Ir/tx pipeline | DPDK Ir/tx with client | "
      "DPDK heap calls in loop | DPDK page faults in loop (setup) | "
      "socket client | socket CPU µs/tx (user) | socket tx per core-s | "
      "ratio lcore | ratio process |",
      "|---|---|---:|---:|---:|---:|---:|---:|---:|---|---:|---:|---:|---:|"]
for name, greet, client, d, s, ratio, rcpu, cg in rows:
    cgp = f(cg["pipeline_ir_per_tx"]) if cg and greet == "EHLO" else "-"
    cgl = f(cg["loop_ir_per_tx"]) if cg and greet == "EHLO" else "-"
    md.append("| %s | %s | %s | %s | %s | %s | %s | %s | %s (%s) | %s | %s (%s) | %s | %s× | %s× |" % (
        name, greet, f(d["tx_per_lcore_cpu_s"]), f(d["tx_per_s_lcore"]),
        f(d["tx_per_cpu_s"]), cgp, cgl, f(d["heap_calls"]), f(d["minflt_run"]),
        f(d["minflt_setup"]), client, f(s["cpu_us_per_tx"], "%.1f"),
        f(s["user_us_per_tx"], "%.1f"), f(s["tx_per_core_s"]), f(ratio, "%.1f"),
        f(rcpu, "%.1f")))
md += ["", "Target: DPDK ≥ 10× the socket path's transactions per core-second.",
"lcore CPU: transactions over the thread CPU time spent in dp_lcore_poll "
       "(the ratio lcore column uses it); lcore wall: the same over TSC time (includes "
       "preemption by other processes); process: the whole replay process, its client "
       "side included, over its CPU time. Ir: callgrind instructions, in dp_lcore_poll "
       "(pipeline) and in the whole replay loop. Heap calls: malloc/free in the "
       "replay loop, the most of any run (0 by design); page faults: minor faults in "
       "the loop (first touches of pools and policy state, nearly constant in the "
       "session count) and, in brackets, before it (EAL memory, mbuf pools). Socket: server utime+stime per message "
       "(user part in brackets); on loopback the kernel's TCP work is split between "
       "client and server processes." + ("" if ok else " **Some runs failed: see dpdk.json.**")]
open(os.path.join(out, "dpdk.md"), "w").write("\n".join(md) + "\n")
print("\n".join(md))
EOF
