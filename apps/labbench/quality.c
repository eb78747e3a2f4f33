/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * labbench quality: what the quality levels cost on the owner-cache path,
 * measured in one run beside "raw" (the same path with the shadow checks
 * compiled out). One JSON object per line; figures, never pass/fail.
 */
#include <stdio.h>
#include <stdlib.h>

#include <labyrinth/lab_log.h>
#include <labyrinth/lab_pool.h>

#include "bench.h"

#define Q_NOBJS 16384u
#define Q_TOTAL 8000000u
#define Q_ROUNDS 5

enum { RAW, FLOOR, OFF, SAMPLED, FULL, NLEVELS };
static const char *const level_names[NLEVELS] = { "raw", "floor", "off", "sampled", "full" };

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
	o.quality = level == FULL ? LAB_QUALITY_FULL
		    : level == SAMPLED ? LAB_QUALITY_SAMPLED : LAB_QUALITY_OFF;
	o.sample_rate = 64;
	return lab_pool_create(&o);
}

/* ns per buffer actually served (under "full" the cache may come back short
 * while the warden checks the quarantine: those calls count, their misses do
 * not) */
static double measure(struct lab_pool *p, struct lab_cache *c, unsigned int burst, int level,
		      uint64_t *served_out)
{
	struct lab_buf *b[64];
	uint64_t served = 0, t0 = now_ns();

	for (unsigned int i = 0; i < Q_TOTAL / burst; i++) {
		unsigned int got = level <= FLOOR ? raw_alloc(p, c, b, burst)
						   : lab_alloc_bulk(p, c, b, burst, 0);

		served += got;
		if (level == RAW)
			raw_free(c, b, got);
		else if (level == FLOOR)
			floor_free(p, c, b, got);
		else
			lab_free_bulk(c, b, got);
	}
	*served_out = served;
	return served ? (double)(now_ns() - t0) / (double)served : 0;
}

int run_quality_bench(void)
{
	static const unsigned int bursts[] = { 1, 32 };
	struct lab_pool *p[NLEVELS];
	struct lab_cache *c[NLEVELS];
	double best[2][NLEVELS];

	for (int l = 0; l < NLEVELS; l++) {
		p[l] = quality_pool(l);
		if (p[l] == NULL)
			return -1;
		c[l] = lab_cache_create(p[l], "bench", 512);
	}
	/* Interleaved rounds, best of each: the levels see the same machine. */
	for (unsigned int bi = 0; bi < 2; bi++) {
		for (int l = 0; l < NLEVELS; l++)
			best[bi][l] = 1e30;
		for (int r = 0; r < Q_ROUNDS; r++) {
			for (int l = 0; l < NLEVELS; l++) {
				uint64_t served;
				double ns = measure(p[l], c[l], bursts[bi], l, &served);

				if (served && ns < best[bi][l])
					best[bi][l] = ns;
			}
		}
		for (int l = 0; l < NLEVELS; l++)
			printf("{\"bench\":\"quality\",\"level\":\"%s\",\"case\":\"cache_b%u\","
			       "\"impl\":\"labyrinth\",\"burst\":%u,\"sample_rate\":%u,"
			       "\"ns_per_buf\":%.2f,\"ratio_vs_raw\":%.2f}\n", level_names[l],
			       bursts[bi], bursts[bi], l == SAMPLED ? 64 : l == FULL ? 1 : 0,
			       best[bi][l], best[bi][l] / best[bi][RAW]);
		fflush(stdout);
	}
	for (int l = 0; l < NLEVELS; l++) {
		struct lab_pool_stats st;

		lab_cache_destroy(c[l]);
		lab_pool_quality_check(p[l]);
		lab_pool_stats(p[l], &st);
		for (int k = 0; k < LAB_FIND_KINDS; k++)
			if (st.findings[k] != 0)
				fprintf(stderr, "labbench quality: level %s: %llu %s finding(s): the "
					"bench itself is wrong\n", level_names[l],
					(unsigned long long)st.findings[k], lab_finding_kind_name(k));
		lab_pool_destroy(p[l]);
	}
	return 0;
}
