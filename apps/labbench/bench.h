/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef LABBENCH_H
#define LABBENCH_H

#include <stdint.h>
#include <stdio.h>
#include <time.h>

/* One implementation under test: alloc/free bursts through an optional
 * per-thread cache. The labyrinth and DPDK sides fill this in. */
struct impl {
	const char *name;
	void *(*cache_new)(void *pool);                 /* NULL cache: no-cache path */
	void (*cache_free)(void *pool, void *cache);
	unsigned int (*get)(void *pool, void *cache, void **objs, unsigned int n);
	void (*put)(void *pool, void *cache, void **objs, unsigned int n);
	void *pool;
};

static inline uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static inline void emit(const char *c, const char *impl, unsigned int burst, unsigned int threads,
			double ns)
{
	printf("{\"bench\":\"pool\",\"case\":\"%s\",\"impl\":\"%s\",\"burst\":%u,\"threads\":%u,"
	       "\"ns_per_buf\":%.2f,\"mops\":%.2f}\n", c, impl, burst, threads, ns, 1000.0 / ns);
	fflush(stdout);
}

void pin_cpu(int cpu);
void run_throughput(struct impl *im, int cached);
void run_cross(struct impl *im);

/* ring.c: labbench ring */
int run_ring_bench(void);

/* dpdk.c */
int dpdk_eal_init(void);
int dpdk_setup(unsigned int nobjs, const char *ops, struct impl *im);

#endif
