/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * A mempool_perf-style loop (DPDK's app/test/test_mempool_perf.c): each lcore
 * takes `keep` objects in gets of `bulk`, puts them back in puts of `bulk`,
 * for a fixed time; the figure is objects got and put per second over all
 * lcores. Handlers, caches, bulks, keeps and core counts are all run in one
 * process, one after another, so every figure shares the machine's state.
 *
 *   lab_mp_perf EAL-ARGS -- [seconds per case] [handler...]
 *
 * One line per case: handler cache bulk keep cores mops.
 *
 *   lab_mp_perf EAL-ARGS -- create MBUFS [ROUNDS]
 *
 * times the creation (rte_pktmbuf_pool_create_by_ops: alloc, populate, mbuf
 * init) and the free of an mbuf pool of MBUFS on labyrinth and ring_mp_mc,
 * interleaved, ROUNDS times each; one line per handler with the median.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_launch.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>

#define N_OBJ 16384
#define MAX_KEEP 128

static struct rte_mempool *mp;
static unsigned int bulk, keep;
static uint64_t run_cycles;
static volatile int start;
static uint64_t done[RTE_MAX_LCORE];

static int worker(void *arg)
{
	unsigned int lcore = rte_lcore_id();
	struct rte_mempool_cache *cache = rte_mempool_default_cache(mp, lcore);
	void *objs[MAX_KEEP];
	uint64_t n = 0, end;

	(void)arg;
	while (!start)
		;
	end = rte_get_timer_cycles() + run_cycles;
	while (rte_get_timer_cycles() < end) {
		for (unsigned int r = 0; r < 64; r++) {
			unsigned int i;

			for (i = 0; i < keep; i += bulk)
				if (rte_mempool_generic_get(mp, &objs[i], bulk, cache) < 0)
					break;
			for (unsigned int j = 0; j < i; j += bulk)
				rte_mempool_generic_put(mp, &objs[j], bulk, cache);
			n += i;
		}
	}
	done[lcore] = n;
	return 0;
}

static double one_case(const char *ops, unsigned int cache, unsigned int cores, double secs)
{
	unsigned int lcore, used = 0;
	uint64_t total = 0;

	mp = rte_mempool_create_empty("perf", N_OBJ, 2048, cache, 0, SOCKET_ID_ANY, 0);
	if (mp == NULL || rte_mempool_set_ops_byname(mp, ops, NULL) < 0 ||
	    rte_mempool_populate_default(mp) < 0) {
		fprintf(stderr, "cannot create a %s mempool: %s\n", ops, rte_strerror(rte_errno));
		exit(1);
	}
	memset(done, 0, sizeof(done));
	run_cycles = (uint64_t)(secs * (double)rte_get_timer_hz());
	start = 0;
	RTE_LCORE_FOREACH_WORKER(lcore) {
		if (used + 1 >= cores)
			break;
		rte_eal_remote_launch(worker, NULL, lcore);
		used++;
	}
	start = 1;
	worker(NULL);
	rte_eal_mp_wait_lcore();
	for (unsigned int i = 0; i < RTE_MAX_LCORE; i++)
		total += done[i];
	rte_mempool_free(mp);
	return (double)total / secs / 1e6;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static double now_ms(void)
{
	return (double)rte_get_timer_cycles() * 1e3 / (double)rte_get_timer_hz();
}

/* Creation and free times of an mbuf pool, per handler, medians. */
static int create_times(unsigned int mbufs, unsigned int rounds)
{
	static const char *ops[] = { "ring_mp_mc", "labyrinth" };
	double make[2][64], drop[2][64];

	if (rounds == 0 || rounds > 64)
		rounds = 64;
	for (unsigned int r = 0; r < rounds; r++) {
		for (unsigned int o = 0; o < 2; o++) {
			double t0 = now_ms(), t1;
			struct rte_mempool *p;

			p = rte_pktmbuf_pool_create_by_ops("create", mbufs, 250, 0,
							   RTE_MBUF_DEFAULT_BUF_SIZE,
							   SOCKET_ID_ANY, ops[o]);
			t1 = now_ms();
			if (p == NULL) {
				fprintf(stderr, "cannot create %u mbufs on %s: %s\n", mbufs, ops[o],
					rte_strerror(rte_errno));
				return 1;
			}
			rte_mempool_free(p);
			make[o][r] = t1 - t0;
			drop[o][r] = now_ms() - t1;
		}
	}
	printf("handler mbufs create_ms free_ms (median of %u)\n", rounds);
	for (unsigned int o = 0; o < 2; o++) {
		qsort(make[o], rounds, sizeof(double), cmp_double);
		qsort(drop[o], rounds, sizeof(double), cmp_double);
		printf("%s %u %.1f %.1f\n", ops[o], mbufs, make[o][rounds / 2], drop[o][rounds / 2]);
	}
	return 0;
}

int main(int argc, char **argv)
{
	static const char *all[] = { "labyrinth", "ring_mp_mc", "stack" };
	static const unsigned int caches[] = { 0, 512 }, bulks[] = { 1, 32 }, keeps[] = { 32, 128 };
	const char **ops = all;
	unsigned int nops = 3, max_cores;
	double secs = 0.3;
	int n = rte_eal_init(argc, argv);

	if (n < 0) {
		fprintf(stderr, "EAL init failed: %s\n", rte_strerror(rte_errno));
		return 1;
	}
	argc -= n;
	argv += n;
	if (argc > 2 && strcmp(argv[1], "create") == 0) {
		n = create_times((unsigned int)atoi(argv[2]),
				 argc > 3 ? (unsigned int)atoi(argv[3]) : 5);
		rte_eal_cleanup();
		return n;
	}
	if (argc > 1)
		secs = atof(argv[1]);
	if (argc > 2) {
		ops = (const char **)&argv[2];
		nops = (unsigned int)argc - 2;
	}
	max_cores = rte_lcore_count() < 2 ? rte_lcore_count() : 2;
	printf("handler cache bulk keep cores mops\n");
	for (unsigned int cores = 1; cores <= max_cores; cores++)
		for (unsigned int c = 0; c < 2; c++)
			for (unsigned int b = 0; b < 2; b++)
				for (unsigned int k = 0; k < 2; k++)
					for (unsigned int o = 0; o < nops; o++) {
						bulk = bulks[b];
						keep = keeps[k];
						printf("%s %u %u %u %u %.1f\n", ops[o], caches[c],
						       bulk, keep, cores,
						       one_case(ops[o], caches[c], cores, secs));
						fflush(stdout);
					}
	rte_eal_cleanup();
	return 0;
}
