/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef LABBENCH_H
#define LABBENCH_H

#include <stdint.h>
#include <stdio.h>

#include <labyrinth/lab_common.h>

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
	/* Labyrinth's quality level ("off", "sampled"), printed as the row's
	 * "level"; NULL for peers, which have none. */
	const char *level;
};

/* One figure as a JSON line: bench "pool" reports ns_per_buf, bench "ring"
 * ns_per_obj; a "level" field only where @p level is not NULL. */
static inline void emit_level(const char *bench, const char *c, const char *impl,
			      const char *level, unsigned int burst, unsigned int threads,
			      double ns)
{
	printf("{\"bench\":\"%s\",\"case\":\"%s\",\"impl\":\"%s\",", bench, c, impl);
	if (level != NULL)
		printf("\"level\":\"%s\",", level);
	printf("\"burst\":%u,\"threads\":%u,\"%s\":%.2f,\"mops\":%.2f}\n", burst, threads,
	       bench[0] == 'r' ? "ns_per_obj" : "ns_per_buf", ns, 1000.0 / ns);
	fflush(stdout);
}

static inline void emit_bench(const char *bench, const char *c, const char *impl,
			      unsigned int burst, unsigned int threads, double ns)
{
	emit_level(bench, c, impl, NULL, burst, threads, ns);
}

static inline void emit(const struct impl *im, const char *c, unsigned int burst,
			unsigned int threads, double ns)
{
	emit_level("pool", c, im->name, im->level, burst, threads, ns);
}

/* runs.c */
extern unsigned int bench_bufs; /* buffers per measured run */
int bench_bufs_init(void);      /* from LAB_BENCH_BUFS: 0, or -1 (said why) */
int cmp_u64(const void *a, const void *b); /* for qsort of latency samples */
double tsc_per_ns(void);                   /* TSC ticks per ns */
void pin_cpu(int cpu);
void run_throughput(struct impl *im, int cached);
void run_cross(struct impl *im);
void run_nocache_oversub(struct impl *im, double tpn); /* p99.99 with 3 threads on 2 cores */

/* quality.c, quality_raw.c, quality_floor.c: labbench quality */
struct lab_pool;
struct lab_cache;
struct lab_buf;
int run_quality_bench(void);

/*
 * The measured loop of labbench quality: @p bursts bursts of alloc + free of
 * @p burst buffers, returning the buffers served. Each compile unit makes its
 * own with its own ALLOC(p, c, b, n) and FREE(p, c, b, n), so every row runs
 * the same loop with its path inlined (no call per burst in some rows only).
 */
#define QUALITY_LOOP(fn, ALLOC, FREE)                                                \
	uint64_t fn(struct lab_pool *p, struct lab_cache *c, unsigned int burst,     \
		    unsigned int bursts)                                             \
	{                                                                            \
		struct lab_buf *b[64];                                               \
		uint64_t served = 0;                                                 \
                                                                                     \
		for (unsigned int i = 0; i < bursts; i++) {                          \
			unsigned int got = ALLOC(p, c, b, burst);                    \
                                                                                     \
			served += got;                                               \
			FREE(p, c, b, got);                                          \
		}                                                                    \
		return served;                                                       \
	}
#define QUALITY_LOOP_DECL(fn)                                                        \
	uint64_t fn(struct lab_pool *p, struct lab_cache *c, unsigned int burst,     \
		    unsigned int bursts)
QUALITY_LOOP_DECL(quality_loop_raw);       /* quality_raw.c: checks compiled out */
QUALITY_LOOP_DECL(quality_loop_floor);     /* quality_raw.c: raw + free-only shadow work */
QUALITY_LOOP_DECL(quality_loop_floor_own); /* quality_floor.c: raw + exclusive ownership */
int floor_own_init(struct lab_pool *p);    /* quality_floor.c: its shadow, 0 or -ENOMEM */
void floor_own_fini(void);
extern unsigned long floor_refused;        /* frees the floors refused (0: the bench is right) */

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
void dpdk_eal_fini(void);
int dpdk_setup(unsigned int nobjs, const char *ops, struct impl *im);

#endif
