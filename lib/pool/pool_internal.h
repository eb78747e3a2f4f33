/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef LAB_POOL_INTERNAL_H
#define LAB_POOL_INTERNAL_H

#include <pthread.h>

#include <labyrinth/lab_arena.h>
#include <labyrinth/lab_log.h>
#include <labyrinth/lab_pool.h>

LAB_LOG_DECLARE(pool);

#define POOL_MAX_OWNERS 64
#define POOL_NOCACHE_STRIPES 64
#define HDR_SIZE ((uint32_t)sizeof(struct lab_buf))

struct lab_pool {
	struct lab_pool_hot hot; /* first: the inline fast path casts to it */

	/* Counters of callers without an owner cache, striped per thread:
	 * stripe 0 is shared (atomic read-modify-write), every other stripe has
	 * one writing thread (plain add through relaxed atomics: a locked add
	 * here cost ~10 ns per alloc+free). See pool_fast.c. */
	struct nocache_stripe {
		_Atomic uint64_t allocs, frees, ring_refills, ring_flushes, reserve_uses, misses;
	} __attribute__((aligned(LAB_CACHE_LINE))) nocache[POOL_NOCACHE_STRIPES];

	/* Frees that found the ring short of room (a consumer preempted mid-claim
	 * holds its tail back): a lock-free list the warden moves to the ring. */
	_Atomic(struct lab_buf *) overflow __attribute__((aligned(LAB_CACHE_LINE)));
	_Atomic uint64_t overflow_count;

	/* Control path from here on. */
	char name[32];
	struct lab_arena *arena;
	struct lab_cell_layout layout;
	uint32_t cell_size, headroom;
	uint32_t min_chambers, max_chambers;
	uint32_t wm_high;
	uint32_t shrink_delay_ms;
	_Atomic uint64_t total;
	uint64_t grows, shrinks, grow_failures, kicks;
	uint64_t above_high_since_ns; /* 0: not above high */
	struct lab_buf **scratch;     /* warden's buffer array for shrinking and scans */
	uint32_t *chamber_count;      /* per chamber, for shrinking */
	pthread_mutex_t lock;         /* owners table and stats snapshots; never on the data path */
	struct lab_cache *owners[POOL_MAX_OWNERS];
	char owner_names[POOL_MAX_OWNERS][24];
	struct lab_owner_stats retired; /* counters of destroyed caches */
	struct {
		char name[24];
		int64_t net; /* allocations minus frees, at its destroy */
	} departed[POOL_MAX_OWNERS];
	unsigned int ndeparted;
	struct lab_pool *next;        /* warden's list */
};

/* pool.c */
int pool_grow_chamber(struct lab_pool *p);
void pool_free(struct lab_pool *p);
void pool_try_shrink(struct lab_pool *p);
uint64_t pool_now_ns(void);

void pool_drain_overflow(struct lab_pool *p);

/* warden.c */
int warden_attach(struct lab_pool *p);
void warden_detach(struct lab_pool *p);

#endif
