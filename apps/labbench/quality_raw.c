/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The owner-cache path with the shadow checks compiled out (_LAB_POOL_UNCHECKED):
 * the "raw" baseline of labbench quality, and "floor" on top of it. Only for
 * a pool no checked code frees into: a double free here corrupts the pool.
 */
#define _LAB_POOL_UNCHECKED
#include <labyrinth/lab_pool.h>

#include "bench.h"

unsigned long floor_refused;

static __attribute__((noinline)) void floor_refuse(void)
{
	floor_refused++;
}

static inline unsigned int raw_alloc(struct lab_pool *p, struct lab_cache *c, struct lab_buf **b,
				     unsigned int n)
{
	return lab_alloc_bulk(p, c, b, n, 0);
}

static inline void raw_free(struct lab_pool *p, struct lab_cache *c, struct lab_buf **b,
			    unsigned int n)
{
	(void)p;
	lab_free_bulk(c, b, n);
}

/*
 * The least a shadow-based free check can do, on top of raw: per buffer,
 * read the index from its header, load the shadow word, compare it and store
 * the new state (no generation, no site, nothing at allocation). It checks
 * nothing real (the word is compared against a value it never holds and
 * stored back unchanged). "floor_own" (quality_floor.c) is the floor of a
 * real ownership check: this one adds nothing at allocation.
 */
static inline void floor_free(struct lab_pool *p, struct lab_cache *c, struct lab_buf **b,
			      unsigned int n)
{
	const struct lab_pool_hot *h = (const struct lab_pool_hot *)p;

	for (unsigned int i = 0; i < n; i++) {
		uint32_t idx = b[i]->idx;
		struct lab_shadow *sh;
		uint64_t w;

		if (idx >= h->shadow_cap)
			floor_refuse();
		sh = &h->shadow[idx];
		w = atomic_load_explicit(&sh->w, memory_order_relaxed);
		if (w == UINT64_MAX)
			floor_refuse();
		atomic_store_explicit(&sh->w, w, memory_order_relaxed);
	}
	lab_free_bulk(c, b, n);
}

QUALITY_LOOP(quality_loop_raw, raw_alloc, raw_free)
QUALITY_LOOP(quality_loop_floor, raw_alloc, floor_free)
