/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * labbench quality: what the quality levels cost on the owner-cache path,
 * measured in one run beside "raw" (the same path with the shadow checks
 * compiled out) and the floors on top of it. One JSON object per line;
 * figures, never pass/fail.
 */
#include <stdio.h>
#include <stdlib.h>

#include <labyrinth/lab_log.h>
#include <labyrinth/lab_pool.h>

#include "bench.h"

#define Q_NOBJS 16384u
#define Q_ROUNDS 5
/* "owner": sampled with deep sampling off. The pool has no switch for that
 * today, so it is the largest rate the API accepts: one free in 2^30, which
 * the 80 M frees of a default run reach with a chance of about 4%, once at most. */
#define Q_OWNER_RATE (1u << 30)

enum { RAW, FLOOR, FLOOR_OWN, OFF, OWNER, SAMPLED, FULL, NLEVELS };
static const char *const level_names[NLEVELS] = { "raw", "floor", "floor_own", "off", "owner",
						  "sampled", "full" };

/* The checked path, inlined here as the others are in their own files. */
static inline unsigned int pool_alloc(struct lab_pool *p, struct lab_cache *c,
				      struct lab_buf **b, unsigned int n)
{
	return lab_alloc_bulk(p, c, b, n, 0);
}

static inline void pool_free(struct lab_pool *p, struct lab_cache *c, struct lab_buf **b,
			     unsigned int n)
{
	(void)p;
	lab_free_bulk(c, b, n);
}

static QUALITY_LOOP(quality_loop_pool, pool_alloc, pool_free)

static struct lab_pool *quality_pool(int level)
{
	struct lab_pool_opts o;

	lab_pool_opts_init(&o);
	o.name = level_names[level];
	o.cell_size = 2048;
	o.headroom = 128;
	o.initial = Q_NOBJS;
	o.max = Q_NOBJS;
	o.wm_min = (struct lab_count){ 16, false };
	o.wm_low = (struct lab_count){ 64, false };
	o.wm_high = (struct lab_count){ 128, false };
	o.reserve = (struct lab_count){ 8, false };
	/* raw and the floors: "off", so the library's refill and spill do the
	 * least; sampled keeps the default rate (lab_pool_opts_init's) */
	o.quality = level == FULL ? LAB_QUALITY_FULL
		    : level == SAMPLED || level == OWNER ? LAB_QUALITY_SAMPLED : LAB_QUALITY_OFF;
	if (level == OWNER)
		o.sample_rate = Q_OWNER_RATE;
	/* LAB_BENCH_SAMPLE_BUDGET: deep samples per ms for "sampled" (default:
	 * the pool's), to tell the data path's share of a sample's cost from
	 * the warden's (a budget of 1 leaves the data path picking and backing
	 * off, the warden idle). */
	if (level == SAMPLED && getenv("LAB_BENCH_SAMPLE_BUDGET") != NULL) {
		const char *e = getenv("LAB_BENCH_SAMPLE_BUDGET");
		uint64_t v;

		/* Read as every number is (lab_parse_size); "abc" read as 0 (the
		 * default budget) without a word before. */
		if (lab_parse_size(e, &v) < 0 || v < 1 || v > (1u << 30)) {
			fprintf(stderr, "labbench: LAB_BENCH_SAMPLE_BUDGET: want deep samples "
				"per ms, 1 to 1073741824, not '%s'\n", e);
			exit(1);
		}
		o.sample_budget = (uint32_t)v;
	}
	return lab_pool_create(&o);
}

/* ns per buffer actually served (under "full" the cache may come back short
 * while the warden checks the quarantine: those calls count, their misses do
 * not) */
static double measure(struct lab_pool *p, struct lab_cache *c, unsigned int burst, int level,
		      uint64_t *served_out)
{
	uint64_t (*loop)(struct lab_pool *, struct lab_cache *, unsigned int, unsigned int) =
		level == RAW ? quality_loop_raw : level == FLOOR ? quality_loop_floor
		: level == FLOOR_OWN ? quality_loop_floor_own : quality_loop_pool;
	/* "full" checks every free (about 1 us each): a 64th of the buffers
	 * gives as steady a figure in a bearable time. */
	unsigned int bufs = level == FULL ? bench_bufs / 64 : bench_bufs;
	uint64_t t0 = lab_now_ns(), served = loop(p, c, burst, bufs / burst);

	*served_out = served;
	return served ? (double)(lab_now_ns() - t0) / (double)served : 0;
}

static uint64_t skipped(struct lab_pool *p)
{
	struct lab_pool_stats st;

	lab_pool_stats(p, &st);
	return st.quarantine_skipped;
}

/* One row. Levels that pick frees for a deep check (owner, sampled, full)
 * also give "unchecked": frees picked but not deep-checked during this
 * burst's rounds (the pool's quarantine_skipped: 0 by design since issue 24
 * part 3), and, named as in the pool's JSON, "sample_backoffs": frees due for
 * a sample the sampler skipped (staging or quarantine full, budget spent),
 * and "sample_effective_rate": frees per deep check over the pool's life so
 * far. */
static void emit_row(struct lab_pool *p, int l, unsigned int burst, double ns, double raw_ns,
		     uint64_t unchecked)
{
	struct lab_pool_stats st;

	lab_pool_stats(p, &st);
	printf("{\"bench\":\"quality\",\"level\":\"%s\",\"case\":\"cache_b%u\","
	       "\"impl\":\"labyrinth\",\"burst\":%u,\"sample_rate\":%u,\"ns_per_buf\":%.2f,"
	       "\"ratio_vs_raw\":%.2f", level_names[l], burst, burst,
	       l == FULL ? 1 : l >= OWNER ? st.sample_rate : 0, ns, ns / raw_ns);
	if (l >= OWNER)
		printf(",\"unchecked\":%llu,\"sample_backoffs\":%llu,"
		       "\"sample_effective_rate\":%.1f",
		       (unsigned long long)unchecked, (unsigned long long)st.sample_backoffs,
		       st.sample_effective_rate);
	printf("}\n");
}

static void run_burst(struct lab_pool **p, struct lab_cache **c, unsigned int burst)
{
	double best[NLEVELS];
	uint64_t skip0[NLEVELS];

	for (int l = 0; l < NLEVELS; l++) {
		best[l] = 1e30;
		skip0[l] = skipped(p[l]);
	}
	/* Interleaved rounds, best of each: the levels see the same machine. */
	for (int r = 0; r < Q_ROUNDS; r++) {
		for (int l = 0; l < NLEVELS; l++) {
			uint64_t served;
			double ns = measure(p[l], c[l], burst, l, &served);

			if (served && ns < best[l])
				best[l] = ns;
		}
	}
	for (int l = 0; l < NLEVELS; l++)
		emit_row(p[l], l, burst, best[l], best[RAW], skipped(p[l]) - skip0[l]);
	fflush(stdout);
}

static void teardown(struct lab_pool *p, struct lab_cache *c, int l)
{
	struct lab_pool_stats st;

	lab_cache_destroy(c);
	lab_pool_quality_check(p);
	lab_pool_stats(p, &st);
	for (int k = 0; k < LAB_FIND_KINDS; k++)
		if (st.findings[k] != 0)
			fprintf(stderr, "labbench quality: level %s: %llu %s finding(s): the "
				"bench itself is wrong\n", level_names[l],
				(unsigned long long)st.findings[k], lab_finding_kind_name(k));
	lab_pool_destroy(p);
}

int run_quality_bench(void)
{
	static const unsigned int bursts[] = { 1, 32 };
	struct lab_pool *p[NLEVELS];
	struct lab_cache *c[NLEVELS];

	for (int l = 0; l < NLEVELS; l++) {
		p[l] = quality_pool(l);
		if (p[l] == NULL)
			return -1;
		c[l] = lab_cache_create(p[l], "bench", 512);
	}
	if (floor_own_init(p[FLOOR_OWN]) != 0) {
		fprintf(stderr, "labbench quality: no memory for floor_own's shadow\n");
		return -1;
	}
	for (unsigned int bi = 0; bi < 2; bi++)
		run_burst(p, c, bursts[bi]);
	if (floor_refused != 0)
		fprintf(stderr, "labbench quality: the floors refused %lu free(s): the bench "
			"itself is wrong\n", floor_refused);
	for (int l = 0; l < NLEVELS; l++)
		teardown(p[l], c[l], l);
	floor_own_fini();
	return 0;
}
