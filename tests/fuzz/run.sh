#!/usr/bin/env bash
# Run every libFuzzer target of a fuzz build for a bounded time.
# Usage: tests/fuzz/run.sh BUILD_DIR SECONDS [TARGET...]
# Starts from the committed seeds in tests/fuzz/corpus/<target>/ (never
# written to: new inputs go to a scratch directory) with the dictionary
# tests/fuzz/<target>.dict when there is one, prints the executions
# of each target and ends with "fuzz: N passed, N failed".  A crash input
# is kept as BUILD_DIR/fuzz-artifacts/<target>-crash-*.
set -u
if [ $# -lt 2 ]; then
  echo "usage: $0 BUILD_DIR SECONDS [TARGET...]" >&2
  exit 2
fi
build=$1
secs=$2
shift 2
here=$(cd "$(dirname "$0")" && pwd)
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(fuzz_smtp fuzz_profile fuzz_scenario fuzz_ctl fuzz_dns)
# fuzz_dpdk is built only where libdpdk is (tests/fuzz/meson.build)
[ $# -gt 0 ] || [ ! -x "$build/tests/fuzz/fuzz_dpdk" ] || targets+=(fuzz_dpdk)
art="$build/fuzz-artifacts"
mkdir -p "$art"
scratch=$(mktemp -d /tmp/mxsim-fuzz-run.XXXXXX)
trap 'rm -rf "$scratch"' EXIT
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
pass=0
fail=0
for t in "${targets[@]}"; do
  bin="$build/tests/fuzz/$t"
  seeds="$here/corpus/${t#fuzz_}"
  log="$scratch/$t.log"
  mkdir -p "$scratch/$t"
  dict=()
  [ -f "$here/$t.dict" ] && dict=(-dict="$here/$t.dict")
  if [ ! -x "$bin" ]; then
    echo "$t: FAIL (no $bin)"
    fail=$((fail + 1))
    continue
  fi
  # -timeout: one input taking over 10 s is a hang; the outer timeout
  # bounds the whole run even if libFuzzer does not stop by itself.
  timeout $((secs + 60)) "$bin" -max_total_time="$secs" -timeout=10 \
    -rss_limit_mb=2048 -max_len=16384 -print_final_stats=1 "${dict[@]}" \
    -artifact_prefix="$art/$t-" "$scratch/$t" "$seeds" >"$log" 2>&1
  rc=$?
  runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  if [ $rc -eq 0 ]; then
    echo "$t: ok, ${runs:-0} executions in ${secs} s"
    pass=$((pass + 1))
  else
    echo "$t: FAIL (rc $rc, ${runs:-?} executions); log tail:"
    tail -n 30 "$log" | sed 's/^/  /'
    fail=$((fail + 1))
  fi
done
echo "fuzz: $pass passed, $fail failed"
[ $fail -eq 0 ]
