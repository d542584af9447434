#!/bin/bash
# run.sh BUILD [TIERS] - the DPDK backend's three test tiers.
#   tier 1: no root, no network (ring port, hand-built frames; CUnit)
#   tier 2: network namespace + net_tap, real clients, equivalence with the
#           socket backend (root)
#   tier 3: namespace + veth + net_af_packet, bounded load run (root)
# TIERS defaults to "1 2 3".  A tier is skipped (with a SKIP line) only
# when the machine lacks what it needs (root, namespaces, the binary).
# Prints "dpdk: N passed, N failed"; exit 0 when nothing failed.
set -u
BUILD=${1:?usage: run.sh BUILD [TIERS]}
TIERS=${2:-1 2 3}
HERE=$(cd "$(dirname "$0")" && pwd)
PASSED=0 FAILED=0

count() {	# count "LABEL: P passed, F failed" from a tier's output
	local line
	line=$(grep -E "^(dpdk )?tier[0-9]: [0-9]+ passed, [0-9]+ failed" "$1" | tail -1)
	if [ -z "$line" ]; then
		FAILED=$((FAILED + 1))
		echo "FAIL $2: no result line"
		return
	fi
	PASSED=$((PASSED + $(echo "$line" | sed -E 's/.*: ([0-9]+) passed.*/\1/')))
	FAILED=$((FAILED + $(echo "$line" | sed -E 's/.*, ([0-9]+) failed.*/\1/')))
}

OUT=$(mktemp)
trap 'rm -f "$OUT"' EXIT
for t in $TIERS; do
	case $t in
	1)
		if [ ! -x "$BUILD/dpdk/dpdk_tests" ]; then
			echo "SKIP tier1: $BUILD/dpdk/dpdk_tests not built (libdpdk, CUnit or rte_net_ring missing)"
			continue
		fi
		timeout 300 "$BUILD/dpdk/dpdk_tests" >"$OUT" 2>&1
		rc=$?
		grep -E "FAILED|^ +[0-9]+\. " "$OUT"
		count "$OUT" tier1
		[ $rc -ne 0 ] && ! grep -q "failed" "$OUT" && FAILED=$((FAILED + 1))
		grep -E "^dpdk tier1:" "$OUT"
		;;
	2|3)
		if ! "$BUILD/sim/mxsim" --help | grep -q -- "--backend"; then
			echo "SKIP tier$t: $BUILD/sim/mxsim has no --backend"
			continue
		fi
		timeout 900 /usr/bin/python3 "$HERE/test_netns.py" --build "$BUILD" --tier "$t" >"$OUT" 2>&1
		rc=$?
		if [ $rc -eq 77 ]; then
			grep SKIP "$OUT"
			continue
		fi
		grep -E "^(FAIL|logs kept|tier3: [0-9]+ messages)" "$OUT" | cut -c1-2000
		count "$OUT" "tier$t"
		grep -E "^tier$t: [0-9]+ passed" "$OUT"
		;;
	*)
		echo "run.sh: unknown tier $t" >&2
		exit 2
		;;
	esac
done
echo "dpdk: $PASSED passed, $FAILED failed"
[ "$FAILED" -eq 0 ]
