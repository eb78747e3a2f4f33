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
	/* Hand objects from one cache's holder to another's before passing
	 * them (labyrinth's exclusive ownership); NULL where there is none. */
	void (*handoff)(void *from, void *to, void **objs, unsigned int n);
};

static inline uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* One figure as a JSON line: bench "pool" reports ns_per_buf, bench "ring"
 * ns_per_obj. */
static inline void emit_bench(const char *bench, const char *c, const char *impl,
			      unsigned int burst, unsigned int threads, double ns)
{
	printf("{\"bench\":\"%s\",\"case\":\"%s\",\"impl\":\"%s\",\"burst\":%u,\"threads\":%u,"
	       "\"%s\":%.2f,\"mops\":%.2f}\n", bench, c, impl, burst, threads,
	       bench[0] == 'r' ? "ns_per_obj" : "ns_per_buf", ns, 1000.0 / ns);
	fflush(stdout);
}

static inline void emit(const char *c, const char *impl, unsigned int burst, unsigned int threads,
			double ns)
{
	emit_bench("pool", c, impl, burst, threads, ns);
}

/* runs.c */
int cmp_u64(const void *a, const void *b); /* for qsort of latency samples */
double tsc_per_ns(void);                   /* TSC ticks per ns */
void pin_cpu(int cpu);
void run_throughput(struct impl *im, int cached);
void run_cross(struct impl *im);

/* quality.c, quality_raw.c: labbench quality */
struct lab_pool;
struct lab_cache;
struct lab_buf;
int run_quality_bench(void);
unsigned int raw_alloc(struct lab_pool *p, struct lab_cache *c, struct lab_buf **b, unsigned int n);
void raw_free(struct lab_cache *c, struct lab_buf **b, unsigned int n);
void floor_free(struct lab_pool *p, struct lab_cache *c, struct lab_buf **b, unsigned int n);

/* port.c, port_dpdk.c: labbench port */
int run_port_bench(void);
int dpdk_port_setup(void);
double dpdk_port_null(uint64_t total);
double dpdk_port_ring(uint64_t total);
double dpdk_port_pcap(const char *file, uint64_t frames);

/* ring.c: labbench ring */
int run_ring_bench(void);

/* dpdk.c */
int dpdk_eal_init(void);
int dpdk_setup(unsigned int nobjs, const char *ops, struct impl *im);

#endif
