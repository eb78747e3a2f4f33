/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The out-of-line halves of the atomic path: cache refills from the shared
 * ring and spills to it (the path without a cache: pool_nocache.c). No system
 * call, no lock, no log, no wait: a caller that cannot be served gets a short
 * count and a miss.
 */
#include <labyrinth/lab_fault.h>

#include "pool_internal.h"

unsigned int _lab_shadow_pass_burst(const struct lab_pool_hot *h, struct lab_buf *const *bufs,
				    unsigned int n, uint64_t key, uint64_t keep, uint64_t set)
{
	struct lab_shadow *shadow = h->shadow;
	uint32_t cap = h->shadow_cap;
	unsigned int i;

	for (i = 0; i < n; i++) {
		struct lab_shadow *sh;
		uint64_t w;

		if (!_lab_shadow_held(shadow, cap, bufs[i], key, &sh, &w))
			break;
		atomic_store_explicit(&sh->w, (w & keep) | set, memory_order_relaxed);
	}
	return i;
}

static inline void maybe_kick(struct lab_pool_hot *h, uint32_t free_after)
{
	/* Load first so a kicked pool's flag line is not written by every caller. */
	if (free_after < h->wm_low && !atomic_load_explicit(&h->kick, memory_order_relaxed))
		atomic_store_explicit(&h->kick, 1, memory_order_release);
}

/*
 * Take up to @p want buffers from the ring without taking free below the
 * caller's floor (min, or min - reserve for atomic callers). The count check
 * and the dequeue are not one step, so concurrent callers may overshoot the
 * floor by a burst each, as the kernel's watermark checks may. With
 * LAB_ALLOC_ALL, all @p want or none.
 */
unsigned int pool_ring_take(struct lab_pool_hot *h, struct lab_buf **objs, unsigned int want,
			    unsigned int flags, uint64_t *reserve_uses)
{
	uint32_t floor = (flags & LAB_ALLOC_ATOMIC) ? h->wm_atomic : h->wm_min;
	uint32_t free = lab_ring_count(h->ring);
	unsigned int got;

	if (free <= floor || ((flags & LAB_ALLOC_ALL) && want > free - floor)) {
		maybe_kick(h, free);
		return 0;
	}
	if (want > free - floor)
		want = free - floor;
	got = (flags & LAB_ALLOC_ALL) ? lab_ring_dequeue_bulk(h->ring, (void **)objs, want)
				      : lab_ring_dequeue_burst(h->ring, (void **)objs, want);
	free = free > got ? free - got : 0;
	if (free < h->wm_min && got)
		LAB_COUNT_ADD(*reserve_uses, got < h->wm_min - free ? got : h->wm_min - free);
	maybe_kick(h, free);
	return got;
}

unsigned int _lab_cache_refill_alloc(struct lab_cache *c, struct lab_buf **bufs, unsigned int n,
				     unsigned int flags)
{
	struct lab_pool_hot *h = &c->pool->hot;
	unsigned int want, got, give, len;
	uint32_t q;

	if (n > c->size) {
		/* A burst larger than the cache bypasses it, as DPDK's does. */
		got = pool_ring_take(h, bufs, n, flags, &c->st.reserve_uses);
		LAB_COUNT_ADD(c->st.ring_refills, got != 0);
		LAB_COUNT_ADD(c->st.allocs, got);
		LAB_COUNT_ADD(c->st.ring_allocs, got);
		LAB_COUNT_ADD(c->st.misses, n - got);
		return got;
	}
	/* Refill to size/2 after serving n (at most size + size/2 = flush). */
	want = n - c->len + c->size / 2;
	got = pool_ring_take(h, &c->objs[c->len], want, flags, &c->st.reserve_uses);
	if (got)
		LAB_COUNT_ADD(c->st.ring_refills, 1);
	/* Owner and state only: the site stays that of the last free ("off":
	 * no shadow at all). */
	q = _lab_pool_q(h);
	if (LAB_Q_LEVEL(q) != LAB_QUALITY_OFF)
		_lab_shadow_set(h, &c->objs[c->len], got, ~(LAB_SH_OWNER | LAB_SH_STATE),
				LAB_SH_KEY(c->owner, LAB_BUF_CACHED), LAB_SH_EP(LAB_Q_EPOCH(q)));
	len = c->len + got;
	give = len < n ? len : n;
	for (unsigned int i = 0; i < give; i++)
		bufs[i] = c->objs[--len];
	LAB_CACHE_LEN_SET(c, len);
	LAB_COUNT_ADD(c->st.allocs, give);
	LAB_COUNT_ADD(c->st.misses, n - give);
	return give;
}

void _lab_cache_spill_free(struct lab_cache *c, struct lab_buf *const *bufs, unsigned int n)
{
	unsigned int keep = c->size / 2, done = 0, len = c->len;

	/* Spill the older half of the cache plus what does not fit. The ring has
	 * room for every buffer the pool owns, so this never fails. */
	while (done < n) {
		unsigned int room = c->flush - len, take = n - done < room ? n - done : room;

		for (unsigned int i = 0; i < take; i++)
			c->objs[len++] = bufs[done + i];
		done += take;
		if (len > keep) {
			unsigned int out = len - keep;

			uint32_t q = _lab_pool_q(&c->pool->hot);

			if (LAB_Q_LEVEL(q) != LAB_QUALITY_OFF)
				_lab_shadow_set(&c->pool->hot, &c->objs[0], out,
						~(LAB_SH_OWNER | LAB_SH_STATE),
						LAB_SH_KEY(0, LAB_BUF_FREE), LAB_SH_EP(LAB_Q_EPOCH(q)));
			_lab_pool_put(c->pool, &c->objs[0], out);
			for (unsigned int i = 0; i < keep; i++)
				c->objs[i] = c->objs[out + i];
			len = keep;
			LAB_COUNT_ADD(c->st.ring_flushes, 1);
		}
	}
	LAB_CACHE_LEN_SET(c, len);
	LAB_COUNT_ADD(c->st.frees, n);
}

/*
 * Put buffers in the free ring. The ring has room for every buffer, but a
 * consumer preempted between claim and finish holds the tail back; what does
 * not fit then goes on the overflow list (a lock-free push; only the warden
 * pops, all at once, so there is no ABA) instead of being waited for or lost.
 */
void _lab_pool_put(struct lab_pool *p, struct lab_buf *const *bufs, unsigned int n)
{
	unsigned int k = lab_ring_enqueue_burst(p->hot.ring, (void *const *)bufs, n);
	struct lab_buf *first, *last, *head;

	if (lab_likely(k == n))
		return;
	first = bufs[k];
	last = first;
	for (unsigned int i = k + 1; i < n; i++) {
		last->next = bufs[i];
		last = bufs[i];
	}
	/* Count before publishing: the warden's drain takes the list, then
	 * subtracts what it took, so a buffer it can take must be counted
	 * already, or the count wraps below 0 (free and DPDK's get_count then
	 * show about 2^64) until this thread catches up. Counted but not yet
	 * listed is harmless: the count only runs ahead. */
	atomic_fetch_add_explicit(&p->overflow_count, n - k, memory_order_relaxed);
	head = atomic_load_explicit(&p->overflow, memory_order_relaxed);
	do
		last->next = head;
	while (!atomic_compare_exchange_weak_explicit(&p->overflow, &head, first,
						      memory_order_release, memory_order_relaxed));
	/* Injected: preempted right after publishing (the warden may drain now). */
	while (LAB_FAULT(LAB_FAULT_POOL_PUT_STALL))
		;
}
