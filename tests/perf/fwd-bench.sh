#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# labfwd against dpdk-testpmd (io forwarding), same traffic, same run, one
# forwarding core each: null vs net_null (two ports), ring vs net_ring (two
# ports each looped to itself, started with --tx-first), pcap replay vs
# net_pcap (one port forwarding to itself: the bundled sample replayed
# forever, written to /dev/null). Each side runs SECONDS seconds and prints
# its received packets per second every second; the figure is the median of
# those samples after the first (warm-up), over all ports.
#
# Then labfwd on null by quality level (off, sampled, full), each worker's
# queues one ownership domain (the default) and, for comparison, a cache per
# queue (--owners queue: a checked transfer per packet), with each level's
# ratio to 'off'.
#
# usage: tests/perf/fwd-bench.sh [BUILD_DIR] [SECONDS] [CORE] [WHAT]
# WHAT: all (default), peers (labfwd against testpmd only) or levels (labfwd
# by level only; no testpmd needed).
# Prints one JSON line per measurement and a table with the ratios.
set -euo pipefail

BUILD=${1:-build}
SECS=${2:-5}
CORE=${3:-1}
WHAT=${4:-all}
[[ $WHAT == all || $WHAT == peers || $WHAT == levels ]] ||
	{ echo "fwd-bench: WHAT '$WHAT': expected all, peers or levels" >&2; exit 1; }
LABFWD=$BUILD/apps/labfwd/labfwd
SAMPLE=$(realpath "$BUILD/apps/labfwd/sample.pcap")
TESTPMD=$(command -v dpdk-testpmd || true)
[[ -x $LABFWD ]] || { echo "fwd-bench: build first ($LABFWD)" >&2; exit 1; }
[[ -n $TESTPMD || $WHAT == levels ]] ||
	{ echo "fwd-bench: dpdk-testpmd not found (apt-get install dpdk)" >&2; exit 1; }
MAIN=$(( CORE == 0 ? 1 : 0 ))
OUT=$(mktemp -d /tmp/fwd-bench-XXXXXX)
trap 'rm -rf "$OUT"' EXIT

median() { # stdin: one number per line (the first dropped)
	/usr/bin/python3 -c 'import sys,statistics as s; v=[float(x) for x in sys.stdin.read().split()][1:]; print(f"{s.median(v)/1e6:.3f}" if v else "0")'
}

lab() { # name, labfwd args...
	local name=$1; shift
	"$LABFWD" "$@" -c "$CORE" -d "$SECS" -i 1 --json >"$OUT/$name.lab" 2>&1 ||
		{ cat "$OUT/$name.lab" >&2; echo "fwd-bench: labfwd failed ($name)" >&2; exit 1; }
	grep '"rx_pps"' "$OUT/$name.lab" | sed 's/.*"rx_pps":\([0-9.]*\).*/\1/' | median
}

pmd() { # name, nports, EAL vdev args..., -- testpmd args...
	local name=$1 nports=$2; shift 2
	# With --stats-period testpmd runs until SIGINT. Its EAL start-up (1 GiB
	# of 4 KiB pages) takes seconds on a busy machine: 3 s more, so it still
	# prints SECS - 1 samples after the warm-up.
	timeout -s INT "$((SECS + 3))" "$TESTPMD" --no-huge -m 1024 --no-pci -l "$MAIN,$CORE" \
		--main-lcore "$MAIN" --file-prefix "fwdb$$" --log-level=lib.eal:error "$@" \
		--total-num-mbufs=16384 --forward-mode=io --stats-period 1 >"$OUT/$name.pmd" 2>&1 </dev/null ||
		true
	grep -q 'Rx-pps:' "$OUT/$name.pmd" ||
		{ tail -20 "$OUT/$name.pmd" >&2; echo "fwd-bench: testpmd failed ($name)" >&2; exit 1; }
	# Per period, one Rx-pps line per port: sum them by period.
	grep 'Rx-pps:' "$OUT/$name.pmd" | awk -v n="$nports" '{s += $2} NR % n == 0 {print s; s = 0}' |
		median
}

peers() { # labfwd against testpmd, driver by driver
	local d r
	declare -A L P
	L[null]=$(lab null -p null:size=64 -p null:size=64)
	P[null]=$(pmd null 2 --vdev net_null0 --vdev net_null1 --)
	L[ring]=$(lab ring -p ring:name=a,loop=1 -p ring:name=b,loop=1 --tx-first)
	P[ring]=$(pmd ring 2 --vdev net_ring0 --vdev net_ring1 -- --tx-first)
	L[pcap]=$(lab pcap -p "pcap:rx=$SAMPLE,loop=0,timing=fast,tx=/dev/null")
	P[pcap]=$(pmd pcap 1 --vdev "net_pcap0,rx_pcap=$SAMPLE,tx_pcap=/dev/null,infinite_rx=1" -- \
		--no-flush-rx --port-topology=loop)

	printf '%-6s %14s %14s %7s\n' driver "labfwd Mpps" "testpmd Mpps" ratio
	for d in null ring pcap; do
		r=$(/usr/bin/python3 -c "print(f'{${L[$d]}/${P[$d]}:.2f}' if ${P[$d]} else 'n/a')")
		echo "{\"bench\":\"fwd\",\"driver\":\"$d\",\"labfwd_mpps\":${L[$d]},\"testpmd_mpps\":${P[$d]},\"ratio\":\"$r\",\"seconds\":$SECS,\"core\":$CORE}"
		printf '%-6s %14s %14s %7s\n' "$d" "${L[$d]}" "${P[$d]}" "$r"
	done
}

levels() { # labfwd on null by quality level, with and without ownership domains
	local lv own v off
	declare -A M
	for own in worker queue; do
		for lv in off sampled full; do
			M[$lv.$own]=$(lab "null-$lv-$own" -p null:size=64 -p null:size=64 --quality "$lv" \
				--owners "$own")
		done
	done
	printf '\n%-8s %-7s %14s %10s\n' level owners "labfwd Mpps" "vs off"
	for own in worker queue; do
		off=${M[off.$own]}
		for lv in off sampled full; do
			v=${M[$lv.$own]}
			r=$(/usr/bin/python3 -c "print(f'{$v/$off:.3f}' if $off else 'n/a')")
			echo "{\"bench\":\"fwd\",\"driver\":\"null\",\"level\":\"$lv\",\"owners\":\"$own\",\"labfwd_mpps\":$v,\"ratio_vs_off\":\"$r\",\"seconds\":$SECS,\"core\":$CORE}"
			printf '%-8s %-7s %14s %10s\n' "$lv" "$own" "$v" "$r"
		done
	done
}

[[ $WHAT == levels ]] || peers
[[ $WHAT == peers ]] || levels
