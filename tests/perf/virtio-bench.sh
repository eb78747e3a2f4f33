#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# virtio over vhost-user, in one run: the same back-end (dpdk-testpmd with
# net_vhost, io forwarding on its one port, started with --tx-first so that
# one burst circles) facing, in turn,
#   labfwd with a virtio_user port (forwarding the port to itself), and
#   dpdk-testpmd with net_virtio_user (io forwarding), DPDK's own driver,
# for each frame size, with one queue pair and then with two. One queue pair:
# one forwarding core each side (the back-end on core 1, the driver side on
# core 0). Two: every side has two forwarding threads, one per queue (labfwd
# -c 0,1; testpmd --rxq=2 --txq=2 --nb-cores=2, its lcores mapped onto cores 0
# and 1 with --lcores), so on a two-core machine four busy pollers share two
# cores and the two-queue figures say more about the scheduler than about
# the drivers. The figure is the back-end's Rx-pps, the median of its samples
# (one per second) after the first. labfwd runs at quality QUALITY (default:
# sampled, the default level).
#
# usage: tests/perf/virtio-bench.sh [BUILD_DIR] [SECONDS] [SIZES] [QUALITY] [QUEUES]
#   SIZES: comma-separated frame lengths (default 64,1500)
#   QUEUES: comma-separated queue pair counts, 1 or 2 (default 1,2)
# Prints one JSON line per measurement and a table with the ratio.
set -euo pipefail

BUILD=${1:-build}
SECS=${2:-10}
SIZES=${3:-64,1500}
QUALITY=${4:-sampled}
QUEUES=${5:-1,2}
LABFWD=$BUILD/apps/labfwd/labfwd
TESTPMD=$(command -v dpdk-testpmd || true)
[[ -x $LABFWD ]] || { echo "virtio-bench: build first ($LABFWD)" >&2; exit 1; }
[[ -n $TESTPMD ]] || { echo "virtio-bench: dpdk-testpmd not found (apt-get install dpdk)" >&2; exit 1; }
[[ $(awk '/HugePages_Free/ { print $2 }' /proc/meminfo) -ge 160 ]] ||
	{ echo "virtio-bench: net_virtio_user needs 256 MiB of free 2 MiB hugepages: make hugepages" >&2; exit 1; }
OUT=$(mktemp -d /tmp/virtio-bench-XXXXXX)
SOCK=$OUT/vhost.sock
# At exit: no testpmd left, and none of their hugepage files (DPDK leaves
# them on a hugetlbfs mount when it is killed; --huge-unlink does not go with
# --single-file-segments, which net_virtio_user needs).
cleanup() {
	if [[ -n ${BPID:-} ]]; then
		kill -KILL "$BPID" 2>/dev/null || true
		wait "$BPID" 2>/dev/null || true
	fi
	for m in $(awk '$3 == "hugetlbfs" { print $2 }' /proc/mounts); do
		rm -f "$m"/vb-$$-*
	done
	rm -rf "$OUT"
}
trap cleanup EXIT

median() { # stdin: one number per line (the first dropped)
	/usr/bin/python3 -c 'import sys,statistics as s; v=[float(x) for x in sys.stdin.read().split()][1:]; print(f"{s.median(v)/1e6:.3f}" if v else "0")'
}

# testpmd's EAL cores for $1 queue pairs, main lcore first: one forwarding
# lcore on core $2 (and, for two, a second on the other core).
lcores() {
	if [[ $1 == 1 ]]; then
		echo "-l 0-1 --main-lcore $((1 - $2))"
	else
		echo "--lcores 0@$((1 - $2)),1@$2,2@$((1 - $2)) --main-lcore 0"
	fi
}

# The back-end, listening on $SOCK, sending one burst of $1-byte frames first
# on each of its $2 queues.
RUN=0
backend() {
	rm -f "$SOCK"
	RUN=$((RUN + 1))
	# shellcheck disable=SC2046 # lcores gives several words
	"$TESTPMD" --no-huge -m 512 --no-pci $(lcores "$2" 1) --file-prefix "vb-$$-a$RUN" \
		--vdev "net_vhost0,iface=$SOCK,queues=$2" -- --forward-mode=io --auto-start \
		--rxq="$2" --txq="$2" --nb-cores="$2" --total-num-mbufs=16384 --stats-period 1 \
		--tx-first --txpkts="$1" >"$OUT/backend.log" 2>&1 &
	BPID=$!
	for _ in $(seq 300); do [[ -S $SOCK ]] && return 0; sleep 0.1; done
	echo "virtio-bench: the back-end did not listen on $SOCK" >&2
	cat "$OUT/backend.log" >&2
	exit 1
}

backend_mpps() {
	kill -INT "$BPID" 2>/dev/null || true
	for _ in $(seq 100); do kill -0 "$BPID" 2>/dev/null || break; sleep 0.1; done
	kill -KILL "$BPID" 2>/dev/null || true
	wait "$BPID" 2>/dev/null || true
	# No sample: the driver side did not run; say why rather than print 0.
	if ! grep -a -q 'Rx-pps' "$OUT/backend.log"; then
		echo "virtio-bench: the back-end forwarded nothing; driver side's log:" >&2
		tail -n 20 "$OUT/peer.log" "$OUT/labfwd.log" >&2 2>/dev/null
		exit 1
	fi
	grep -a -o 'Rx-pps: *[0-9]*' "$OUT/backend.log" | awk '{print $2}' | median
}

declare -A R
for q in ${QUEUES//,/ }; do
	[[ $q == 1 || $q == 2 ]] || { echo "virtio-bench: queues $q: 1 or 2" >&2; exit 1; }
	cores=0
	[[ $q == 2 ]] && cores=0,1
	for size in ${SIZES//,/ }; do
		backend "$size" "$q"
		"$LABFWD" -p "virtio_user:path=$SOCK" -c $cores -d "$SECS" -i 0 \
			--quality "$QUALITY" --pool-size 16384 --pool-max 16384 \
			--set arena.shared=1 >"$OUT/labfwd.log" 2>&1 ||
			{ cat "$OUT/labfwd.log" >&2; exit 1; }
		R[lab,$q,$size]=$(backend_mpps)
		# The back-end sends its first burst when its forwarding starts,
		# whether or not a driver is there yet: when testpmd's driver side
		# (slower to start: 256 MiB of hugepages) comes after the back-end's
		# link wait, that burst is lost and nothing circulates (0 Mpps).
		# Such a run is said and done again, up to three times.
		for try in 1 2 3; do
			backend "$size" "$q"
			# shellcheck disable=SC2046
			timeout $((SECS + 10)) "$TESTPMD" $(lcores "$q" 0) --no-pci \
				--file-prefix "vb-$$-b$RUN" --single-file-segments -m 256 \
				--vdev "net_virtio_user0,path=$SOCK,queues=$q" -- --forward-mode=io \
				--auto-start --rxq="$q" --txq="$q" --nb-cores="$q" \
				--total-num-mbufs=16384 --stats-period 1 >"$OUT/peer.log" 2>&1 || true
			R[dpdk,$q,$size]=$(backend_mpps)
			[[ ${R[dpdk,$q,$size]} != 0.000 ]] && break
			echo "virtio-bench: testpmd's driver side moved nothing (try $try of 3)" >&2
		done
		for who in lab dpdk; do
			printf '{"bench":"virtio","driver":"%s","size":%s,"queues":%s,"quality":"%s","mpps":%s}\n' \
				"$([[ $who == lab ]] && echo labfwd-virtio_user || echo testpmd-net_virtio_user)" \
				"$size" "$q" "$QUALITY" "${R[$who,$q,$size]}"
		done
	done
done

for q in ${QUEUES//,/ }; do
	printf '\n%s queue pair(s)\n%-6s %-7s %26s %26s %7s\n' "$q" size queues \
		"labfwd virtio_user (Mpps)" "testpmd virtio_user (Mpps)" ratio
	for size in ${SIZES//,/ }; do
		printf '%-6s %-7s %26s %26s %7s\n' "$size" "$q" "${R[lab,$q,$size]}" \
			"${R[dpdk,$q,$size]}" "$(/usr/bin/python3 -c \
			"a,b=${R[lab,$q,$size]},${R[dpdk,$q,$size]}; print(f'{a/b:.2f}' if b else '-')")"
	done
done
