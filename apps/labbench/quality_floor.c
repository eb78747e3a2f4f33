/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * "floor_own" of labbench quality: the raw path (checks compiled out, as in
 * quality_raw.c) plus the least that exclusive ownership kept in a separate
 * shadow can cost. Per allocated buffer: read its index from the header and
 * store one 8-byte word (owner, in flight) with a plain store. Per freed
 * buffer: read its index, load the word, compare it with (this owner, in
 * flight) and store (this owner, cached). The shadow is this file's own array
 * outside the buffers, indexed like the pool's; its base and size are loaded
 * once per burst. No generation, no site, no atomic read-modify-write: one
 * owner is the only writer of its buffers' words. A refused buffer is counted
 * and not put back, so the check is real (a double free is refused), but
 * the benchmark never makes one.
 */
#include <errno.h>
#include <stdlib.h>

#define _LAB_POOL_UNCHECKED
#include <labyrinth/lab_pool.h>

#include "bench.h"

static struct {
	_Atomic uint64_t *w;
	uint32_t cap;
} own;

int floor_own_init(struct lab_pool *p)
{
	own.cap = ((const struct lab_pool_hot *)p)->shadow_cap;
	own.w = calloc(own.cap, sizeof(*own.w));
	return own.w != NULL ? 0 : -ENOMEM;
}

void floor_own_fini(void)
{
	free(own.w);
	own.w = NULL;
}

static inline unsigned int own_alloc(struct lab_pool *p, struct lab_cache *c, struct lab_buf **b,
				     unsigned int n)
{
	_Atomic uint64_t *w = own.w;
	uint32_t cap = own.cap;
	uint64_t held;

	n = lab_alloc_bulk(p, c, b, n, 0);
	held = LAB_SH_KEY(c->owner, LAB_BUF_IN_FLIGHT);
	for (unsigned int i = 0; i < n; i++) {
		uint32_t idx = b[i]->idx;

		if (lab_likely(idx < cap))
			atomic_store_explicit(&w[idx], held, memory_order_relaxed);
	}
	return n;
}

/* Buffers from @p i on, at least one of them refused: put back the ones
 * this owner holds, count the others (what the pool's slow path does, without
 * the report). */
static __attribute__((noinline)) void own_free_slow(struct lab_cache *c, struct lab_buf **b,
						     unsigned int i, unsigned int n)
{
	uint64_t held = LAB_SH_KEY(c->owner, LAB_BUF_IN_FLIGHT);
	uint64_t cached = LAB_SH_KEY(c->owner, LAB_BUF_CACHED);
	unsigned int ok = i;

	for (; i < n; i++) {
		uint32_t idx = b[i]->idx;

		if (idx >= own.cap ||
		    atomic_load_explicit(&own.w[idx], memory_order_relaxed) != held) {
			floor_refused++;
			continue;
		}
		atomic_store_explicit(&own.w[idx], cached, memory_order_relaxed);
		b[ok++] = b[i];
	}
	lab_free_bulk(c, b, ok);
}

static inline void own_free(struct lab_pool *p, struct lab_cache *c, struct lab_buf **b,
			    unsigned int n)
{
	_Atomic uint64_t *w = own.w;
	uint32_t cap = own.cap;
	uint64_t held = LAB_SH_KEY(c->owner, LAB_BUF_IN_FLIGHT);
	uint64_t cached = LAB_SH_KEY(c->owner, LAB_BUF_CACHED);
	unsigned int i;

	(void)p;
	for (i = 0; i < n; i++) {
		uint32_t idx = b[i]->idx;

		if (lab_unlikely(idx >= cap ||
				 atomic_load_explicit(&w[idx], memory_order_relaxed) != held))
			break;
		atomic_store_explicit(&w[idx], cached, memory_order_relaxed);
	}
	if (lab_unlikely(i != n)) {
		own_free_slow(c, b, i, n);
		return;
	}
	lab_free_bulk(c, b, n);
}

QUALITY_LOOP(quality_loop_floor_own, own_alloc, own_free)
