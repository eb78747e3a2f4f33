#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# Instructions per alloc + free burst on the owner-cache path, by quality level
# and burst (valgrind --tool=callgrind; deterministic, unlike time on two
# noisy cores). A small program allocates and frees through one owner cache
# of 256; each figure is the difference between 200 000 and 100 000 bursts,
# so set-up cancels out. "sampled" samples 1 free in 2^30 (the ownership
# check alone, as labbench quality's "owner").
# Usage: tests/perf/pool-instr.sh [BUILD]
set -euo pipefail
build=$(realpath "${1:-build}")
root=$(cd "$(dirname "$0")/../.." && pwd)
command -v valgrind >/dev/null || { echo "pool-instr: valgrind is missing" >&2; exit 1; }
work=$(mktemp -d /tmp/lab-instr-XXXXXX)
trap 'rm -rf "$work"' EXIT
cat >"$work/burst.c" <<'C'
#include <stdio.h>
#include <stdlib.h>
#include <labyrinth/lab_pool.h>

int main(int argc, char **argv)
{
	struct lab_pool_opts o;
	struct lab_buf *b[64];
	unsigned long served = 0, iters;
	unsigned int burst;
	struct lab_pool *p;
	struct lab_cache *c;

	if (argc != 4)
		return 2;
	burst = (unsigned int)atoi(argv[2]);
	iters = strtoul(argv[3], NULL, 0);
	lab_pool_opts_init(&o);
	o.name = "instr";
	o.initial = o.max = 4096;
	o.quality = (enum lab_quality)atoi(argv[1]);
	o.sample_rate = 1u << 30;
	o.hugepages = LAB_HUGEPAGES_OFF;
	p = lab_pool_create(&o);
	c = p != NULL ? lab_cache_create(p, "c", 256) : NULL;
	if (c == NULL)
		return 1;
	for (unsigned long i = 0; i < iters; i++) {
		unsigned int got = lab_alloc_bulk(p, c, b, burst, 0);

		served += got;
		lab_free_bulk(c, b, got);
	}
	printf("%lu\n", served);
	lab_cache_destroy(c);
	return lab_pool_destroy(p) == 0 ? 0 : 1;
}
C
cc -O2 -I"$root/include" -o "$work/burst" "$work/burst.c" -L"$build" -llabyrinth \
	-Wl,-rpath,"$build"
ir() { valgrind --tool=callgrind --callgrind-out-file=/dev/null "$work/burst" "$@" 2>&1 >/dev/null |
	awk '/Collected/ { print $4 }'; }
echo "level burst instructions_per_burst instructions_per_buffer"
for level in 0 1; do
	for burst in 1 32; do
		a=$(ir $level $burst 100000)
		b=$(ir $level $burst 200000)
		name=$([[ $level == 0 ]] && echo off || echo sampled)
		awk -v n="$name" -v bu="$burst" -v d=$((b - a)) \
			'BEGIN { printf "%s %d %.0f %.2f\n", n, bu, d / 100000, d / 100000 / bu }'
	done
done
