#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# The labyrinth mempool driver against DPDK's ring_mp_mc and stack handlers,
# all in one run:
#  1. dpdk-testpmd io forwarding on a net_null pair, one forwarding core,
#     mbuf cache 250 and 0; labyrinth at quality sampled (the default) and off.
#     Mpps = both ports' Rx-pps, median of the last 3 one-second figures of
#     each run; every case run ROUNDS times, interleaved, median reported.
#  2. lab_mp_perf: a mempool_perf-style get/put loop (bulk 1 and 32, keep 32
#     and 128, cache 0 and 512, 1 and 2 cores).
#  3. lab_mp_perf create: the time to create and to free a pktmbuf pool of
#     65536 mbufs (rte_pktmbuf_pool_create_by_ops) on ring_mp_mc and labyrinth,
#     interleaved, 9 rounds, medians; on 4 KiB pages (--no-huge) and, where 128
#     2 MiB hugepages are free, on hugepages.
# Usage: tests/perf/mempool-bench.sh [BUILD] [ROUNDS] [SECONDS]
set -euo pipefail
build=$(realpath "${1:-build}")
rounds=${2:-3}
secs=${3:-6}
export LD_LIBRARY_PATH=$build/drivers/mempool
cd "$(mktemp -d)"
trap 'cd /; rm -rf "$OLDPWD"' EXIT
eal="--no-huge -m 1024 --no-pci -l 0-1 -d librte_mempool_labyrinth.so --log-level=lib.eal:error"

testpmd() { # ops cache quality -> Mpps
	LABYRINTH_MEMPOOL=quality=$3 timeout --preserve-status -s INT "$secs" dpdk-testpmd $eal \
		--file-prefix mpb$$ --vdev net_null0 --vdev net_null1 --mbuf-pool-ops-name="$1" -- \
		--no-flush-rx --total-num-mbufs=16384 --mbcache="$2" --forward-mode=io \
		--stats-period 1 -a 2>&1 | awk '/Rx-pps/ { v[n++] = $2 }
		END { for (i = n - 6; i < n; i += 2) printf "%.2f\n", (v[i] + v[i + 1]) / 1e6 }' |
		sort -g | sed -n 2p
}

cases=("ring_mp_mc sampled" "stack sampled" "labyrinth sampled" "labyrinth off")
declare -A res
for cache in 250 0; do
	for ((r = 0; r < rounds; r++)); do
		for c in "${cases[@]}"; do
			set -- $c
			res["$cache $c"]+="$(testpmd "$1" "$cache" "$2") "
		done
	done
done
median() { tr ' ' '\n' | grep . | sort -g | awk '{ v[n++] = $1 } END { print v[int(n / 2)] }'; }
echo "## testpmd io, net_null pair, 1 forwarding core (Mpps, median of $rounds runs)"
echo "| mbuf cache | ring_mp_mc | stack | labyrinth (sampled) | labyrinth (off) | lab sampled / mp_mc | lab off / mp_mc |"
echo "| ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
for cache in 250 0; do
	mp=$(echo "${res["$cache ring_mp_mc sampled"]}" | median)
	st=$(echo "${res["$cache stack sampled"]}" | median)
	ls=$(echo "${res["$cache labyrinth sampled"]}" | median)
	lo=$(echo "${res["$cache labyrinth off"]}" | median)
	echo "| $cache | $mp | $st | $ls | $lo | $(awk "BEGIN{printf \"%.2f\", $ls/$mp}") | $(awk "BEGIN{printf \"%.2f\", $lo/$mp}") |"
done
echo
echo "## mempool_perf-style loop (M objects got+put per second, all cores)"
"$build/tests/lab_mp_perf" $eal --file-prefix mpp$$ -- 0.3
echo
echo "## mbuf pool creation, 65536 mbufs (ms, median of 9, interleaved)"
echo "### 4 KiB pages (--no-huge)"
"$build/tests/lab_mp_perf" $eal --file-prefix mpc$$ -- create 65536 9
free2m=$(cat /sys/kernel/mm/hugepages/hugepages-2048kB/free_hugepages 2>/dev/null || echo 0)
echo "### 2 MiB hugepages"
if [[ $free2m -ge 128 ]]; then
	"$build/tests/lab_mp_perf" ${eal/--no-huge -m 1024/-m 256} --file-prefix mph$$ -- create 65536 9
	rm -f /dev/hugepages/mph$$map_*
else
	echo "skipped: $free2m free 2 MiB hugepages, 128 needed (scripts/hugepages.sh)"
fi
