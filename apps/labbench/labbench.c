/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * labbench pool: the page pool's speed beside DPDK's rte_mempool, printed as
 * one JSON object per line (figures, never pass/fail). See
 * docs/performance.md for how to read and reproduce them.
 */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <x86intrin.h>

#include <labyrinth/lab_log.h>
#include <labyrinth/lab_pool.h>

#include "../cli.h"
#include "bench.h"

#define NOBJS 16384u

static void *l_cache_new(void *pool)
{
	return lab_cache_create(pool, "bench", 512);
}

static void l_cache_free(void *pool, void *cache)
{
	(void)pool;
	lab_cache_destroy(cache);
}

static unsigned int l_get(void *pool, void *cache, void **objs, unsigned int n)
{
	return lab_alloc_bulk(pool, cache, (struct lab_buf **)objs, n, 0);
}

static void l_put(void *pool, void *cache, void **objs, unsigned int n)
{
	(void)pool;
	lab_free_bulk(cache, (struct lab_buf *const *)objs, n);
}

static void l_handoff(void *from, void *to, void **objs, unsigned int n)
{
	lab_buf_transfer(from, to, (struct lab_buf *const *)objs, n);
}

static struct lab_pool *make_pool(uint32_t initial, uint32_t max, uint32_t lo, uint32_t hi,
				  uint32_t shrink_ms)
{
	struct lab_pool_opts o;

	lab_pool_opts_init(&o);
	o.name = "bench";
	o.cell_size = 2048;
	o.headroom = 128;
	o.initial = initial;
	o.max = max;
	o.wm_min = (struct lab_count){ lo / 4, false };
	o.wm_low = (struct lab_count){ lo, false };
	o.wm_high = (struct lab_count){ hi, false };
	o.reserve = (struct lab_count){ lo / 8, false };
	o.shrink_delay_ms = shrink_ms;
	return lab_pool_create(&o);
}

/* Latency of lab_alloc_atomic while the warden grows and shrinks the pool:
 * fill up to 14 of 16 chambers (the warden grows behind us), free it all
 * (the warden shrinks after 5 ms above high), repeat. */
static void run_latency(void)
{
	enum { SAMPLES = 2000000, HOLD = 14000 };
	struct lab_pool *p = make_pool(1024, 16384, 512, 1024, 5);
	struct lab_cache *c = lab_cache_create(p, "rx", 64);
	uint64_t *lat = malloc(SAMPLES * sizeof(*lat));
	struct lab_buf **held = malloc(HOLD * sizeof(*held));
	double tpn = tsc_per_ns();
	struct lab_pool_stats st;
	unsigned int s = 0, n;

	while (s < SAMPLES) {
		for (n = 0; n < HOLD && s < SAMPLES;) {
			uint64_t t0 = __rdtsc();
			struct lab_buf *b = lab_alloc_atomic(p, c);

			lat[s++] = __rdtsc() - t0;
			if (b != NULL) {
				held[n++] = b;
				continue;
			}
			/* A miss returns at once (and is measured); give the
			 * warden time to grow before the next sample. */
			for (uint64_t t = lab_now_ns(); lab_now_ns() - t < 50000;)
				;
		}
		lab_free_bulk(c, held, n);
		lab_cache_flush(c);
		for (uint64_t t = lab_now_ns(); lab_now_ns() - t < 8000000;)
			; /* idle long enough for the warden to shrink */
	}
	qsort(lat, SAMPLES, sizeof(*lat), cmp_u64);
	lab_pool_stats(p, &st);
	printf("{\"bench\":\"pool\",\"case\":\"latency\",\"impl\":\"labyrinth\",\"level\":\"%s\","
	       "\"burst\":1,\"threads\":1,\"samples\":%u,\"p50_ns\":%.0f,\"p99_ns\":%.0f,"
	       "\"p999_ns\":%.0f,\"p9999_ns\":%.0f,\"max_ns\":%.0f,\"grows\":%llu,"
	       "\"shrinks\":%llu,\"misses\":%llu}\n", lab_quality_name(st.quality), SAMPLES,
	       lat[SAMPLES / 2] / tpn, lat[SAMPLES / 100 * 99] / tpn,
	       lat[SAMPLES / 1000 * 999] / tpn, lat[SAMPLES / 10000 * 9999] / tpn,
	       lat[SAMPLES - 1] / tpn, (unsigned long long)st.grows,
	       (unsigned long long)st.shrinks, (unsigned long long)st.sum.misses);
	lab_cache_destroy(c);
	lab_pool_destroy(p);
	free(lat);
	free(held);
}

static void run_peers(double tpn)
{
#ifdef LAB_HAVE_DPDK
	/* ring_mt_rts: DPDK's own ring in the mode ours uses (no waiting for a
	 * preempted thread's claim), the like-for-like peer of the no-cache path. */
	static const char *const ops[] = { "ring_mp_mc", "stack", "ring_mt_rts" };

	for (int i = 0; i < 3; i++) {
		struct impl d = { 0 };
		char name[32];

		snprintf(name, sizeof(name), "dpdk_%s", ops[i]);
		d.name = name;
		if (dpdk_setup(NOBJS, ops[i], &d) != 0)
			continue;
		run_throughput(&d, 1);
		run_throughput(&d, 0);
		run_cross(&d);
		run_nocache_oversub(&d, tpn);
	}
#else
	(void)tpn;
	fprintf(stderr, "labbench: built without libdpdk: no DPDK figures beside ours\n");
#endif
}

/* Each benchmark and its output, for --help and BENCH --help. */
static const struct {
	const char *name;
	const char *help;
} benches[] = {
	{ "pool", "the page pool beside DPDK's rte_mempool, one JSON object per line:\n"
		  "    {\"bench\":\"pool\",\"case\":...,\"impl\":...,\"level\":...,"
		  "\"burst\":...,\"threads\":...,\"ns_per_buf\":...,\"mops\":...}\n"
		  "    (\"level\": labyrinth rows only, one set at off, one at sampled;\n"
		  "    nocache_* rows also at \"owner\" (sampled, deep sampling off);\n"
		  "    nocache_oversub_b1 adds \"cpus\", \"p50_ns\", \"p9999_ns\", \"max_ns\")\n" },
	{ "ring", "the shared free ring beside rte_ring (mp/mc, rts, hts) and ck_ring:\n"
		  "    {\"bench\":\"ring\",\"case\":...,\"impl\":...,\"ns_per_obj\":...}\n" },
	{ "quality", "the owner-cache path at each quality level beside raw (checks\n"
		     "    compiled out) and the floors: {\"bench\":\"quality\",\"level\":...,"
		     "\"case\":...,\"ns_per_buf\":...,\"ratio_vs_raw\":...}\n"
		     "    levels raw, floor, floor_own, off, owner, sampled, full; owner,\n"
		     "    sampled and full also give \"unchecked\" (picked, not deep-checked)\n" },
	{ "port", "null, ring and pcap ports beside DPDK's net_null, net_ring and\n"
		  "    net_pcap: {\"bench\":\"port\",\"driver\":...,\"impl\":...,"
		  "\"mpps\":...}\n" },
};
#define NB_BENCHES (int)(sizeof(benches) / sizeof(benches[0]))

static void usage(int only)
{
	printf("usage: labbench %s\n", only < 0 ? "pool|ring|quality|port" : benches[only].name);
	for (int i = 0; i < NB_BENCHES; i++)
		if (only < 0 || only == i)
			printf("  %s: %s", benches[i].name, benches[i].help);
	printf("LAB_BENCH_BUFS=N: N buffers per measured run (default 8000000).\n"
	       "Figures, never pass/fail: docs/performance.md says how to read them.\n");
}

static bool is_help(const char *a)
{
	return strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0;
}

/* @return the benchmark to run, or -1 to exit 0 (help printed), or -2 to exit 1. */
static int parse_args(int argc, char **argv)
{
	int b;

	if (argc < 2) {
		cli_usage_error("labbench", "which benchmark? one of pool, ring, quality, port");
		return -2;
	}
	if (is_help(argv[1])) {
		usage(-1);
		return -1;
	}
	for (b = 0; b < NB_BENCHES && strcmp(argv[1], benches[b].name) != 0; b++)
		;
	if (b == NB_BENCHES) {
		cli_usage_error("labbench", argv[1][0] == '-' ? "unknown option '%s'" :
				"unknown benchmark '%s' (pool, ring, quality, port)", argv[1]);
		return -2;
	}
	if (argc == 3 && is_help(argv[2])) {
		usage(b);
		return -1;
	}
	if (argc > 2) {
		cli_usage_error("labbench", "'%s' takes no %s: '%s'", argv[1],
				argv[2][0] == '-' ? "option" : "argument", argv[2]);
		return -2;
	}
	return b;
}

/* labbench pool: labyrinth at "off" (no per-buffer checks wanted) and at the
 * default level, each row naming its level, then the peers. The no-cache rows
 * also at level "owner" ("sampled" with deep sampling off, as labbench
 * quality's row of that name): the ownership check alone. */
static int run_pool_bench(void)
{
	double tpn = tsc_per_ns();
	struct impl lab = { "labyrinth", l_cache_new, l_cache_free, l_get, l_put, NULL, l_handoff,
			    NULL };

	for (int i = 0; i < 2; i++) {
		lab.pool = make_pool(NOBJS, NOBJS, 64, 128, 1000);
		if (lab.pool == NULL)
			return -1;
		if (i == 0 && lab_pool_set_quality(lab.pool, LAB_QUALITY_OFF, 0) != 0)
			return -1;
		lab.level = lab_quality_name(lab_pool_quality(lab.pool));
		run_throughput(&lab, 1);
		run_throughput(&lab, 0);
		run_cross(&lab);
		run_nocache_oversub(&lab, tpn);
		if (i == 1 && lab_pool_set_quality(lab.pool, LAB_QUALITY_SAMPLED, 1u << 30) == 0) {
			lab.level = "owner";
			run_throughput(&lab, 0);
		}
		lab_pool_destroy(lab.pool);
	}
	run_latency();
	run_peers(tpn);
	return 0;
}

int main(int argc, char **argv)
{
	int b = parse_args(argc, argv);

	if (b < 0)
		return b == -1 ? 0 : 1;
	if (bench_bufs_init() != 0)
		return 1;
	lab_log_set_levels("pool:warning");
	pin_cpu(0); /* as DPDK's EAL pins its main thread with -l 0 */
	if (strcmp(argv[1], "ring") == 0)
		b = run_ring_bench();
	else if (strcmp(argv[1], "quality") == 0)
		b = run_quality_bench();
	else if (strcmp(argv[1], "port") == 0)
		b = run_port_bench();
	else
		b = run_pool_bench();
#ifdef LAB_HAVE_DPDK
	dpdk_eal_fini();
#endif
	return b == 0 ? 0 : 1;
}
