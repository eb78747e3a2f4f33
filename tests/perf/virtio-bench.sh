#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# virtio over vhost-user, in one run: the same back-end (dpdk-testpmd with
# net_vhost, io forwarding on its one port, started with --tx-first so that
# one burst circles) facing, in turn,
#   labfwd with a virtio_user port (forwarding the port to itself), and
#   dpdk-testpmd with net_virtio_user (io forwarding), DPDK's own driver,
# for each frame size. One forwarding core each side (the back-end on core 1,
# the driver side on core 0). The figure is the back-end's Rx-pps, the median
# of its samples (one per second) after the first. labfwd runs at quality
# QUALITY (default: sampled, the default level).
#
# usage: tests/perf/virtio-bench.sh [BUILD_DIR] [SECONDS] [SIZES] [QUALITY]
#   SIZES: comma-separated frame lengths (default 64,1500)
# Prints one JSON line per measurement and a table with the ratio.
set -euo pipefail

BUILD=${1:-build}
SECS=${2:-10}
SIZES=${3:-64,1500}
QUALITY=${4:-sampled}
LABFWD=$BUILD/apps/labfwd/labfwd
TESTPMD=$(command -v dpdk-testpmd || true)
[[ -x $LABFWD ]] || { echo "virtio-bench: build first ($LABFWD)" >&2; exit 1; }
[[ -n $TESTPMD ]] || { echo "virtio-bench: dpdk-testpmd not found (apt-get install dpdk)" >&2; exit 1; }
[[ $(cat /proc/sys/vm/nr_hugepages) -ge 256 ]] ||
	{ echo "virtio-bench: net_virtio_user needs hugepages: make hugepages" >&2; exit 1; }
OUT=$(mktemp -d /tmp/virtio-bench-XXXXXX)
SOCK=$OUT/vhost.sock
# At exit: no testpmd left, and none of their hugepage files (DPDK leaves
# them on a hugetlbfs mount when it is killed; --huge-unlink does not go with
# --single-file-segments, which net_virtio_user needs).
cleanup() {
	pkill -f "file-prefix vb-$$" 2>/dev/null || true
	sleep 0.5
	for m in $(awk '$3 == "hugetlbfs" { print $2 }' /proc/mounts); do
		rm -f "$m"/vb-$$-*
	done
	rm -rf "$OUT"
}
trap cleanup EXIT

median() { # stdin: one number per line (the first dropped)
	/usr/bin/python3 -c 'import sys,statistics as s; v=[float(x) for x in sys.stdin.read().split()][1:]; print(f"{s.median(v)/1e6:.3f}" if v else "0")'
}

# The back-end, listening on $SOCK, sending one burst of $1-byte frames first.
RUN=0
backend() {
	rm -f "$SOCK"
	RUN=$((RUN + 1))
	"$TESTPMD" --no-huge -m 512 --no-pci -l 0-1 --file-prefix "vb-$$-a$RUN" \
		--vdev "net_vhost0,iface=$SOCK,queues=1" -- --forward-mode=io --auto-start \
		--nb-cores=1 --total-num-mbufs=16384 --stats-period 1 --tx-first \
		--txpkts="$1" >"$OUT/backend.log" 2>&1 &
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
	grep -a -o 'Rx-pps: *[0-9]*' "$OUT/backend.log" | awk '{print $2}' | median
}

declare -A R
for size in ${SIZES//,/ }; do
	backend "$size"
	"$LABFWD" -p "virtio_user:path=$SOCK" -c 0 -d "$SECS" -i 0 --quality "$QUALITY" \
		--pool-size 16384 --pool-max 16384 --set arena.shared=1 >"$OUT/labfwd.log" 2>&1 ||
		{ cat "$OUT/labfwd.log" >&2; exit 1; }
	R[lab,$size]=$(backend_mpps)
	backend "$size"
	timeout $((SECS + 10)) "$TESTPMD" -l 0-1 --main-lcore 1 --no-pci --file-prefix "vb-$$-b$RUN" \
		--single-file-segments -m 512 --vdev "net_virtio_user0,path=$SOCK,queues=1" \
		-- --forward-mode=io --auto-start --nb-cores=1 --total-num-mbufs=16384 \
		--stats-period 1 >"$OUT/peer.log" 2>&1 || true
	R[dpdk,$size]=$(backend_mpps)
	for who in lab dpdk; do
		printf '{"bench":"virtio","driver":"%s","size":%s,"queues":1,"quality":"%s","mpps":%s}\n' \
			"$([[ $who == lab ]] && echo labfwd-virtio_user || echo testpmd-net_virtio_user)" \
			"$size" "$QUALITY" "${R[$who,$size]}"
	done
done

printf '\n%-6s %-7s %26s %26s %7s\n' size queues "labfwd virtio_user (Mpps)" "testpmd virtio_user (Mpps)" ratio
for size in ${SIZES//,/ }; do
	printf '%-6s %-7s %26s %26s %7s\n' "$size" 1 "${R[lab,$size]}" "${R[dpdk,$size]}" \
		"$(/usr/bin/python3 -c "a,b=${R[lab,$size]},${R[dpdk,$size]}; print(f'{a/b:.2f}' if b else '-')")"
done
