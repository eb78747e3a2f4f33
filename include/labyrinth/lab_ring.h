/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * A bounded lock-free MPMC ring of pointers with burst operations: the shared
 * free ring of the page pool.
 *
 * The algorithm is DPDK's rte_ring in its RTS ("relaxed tail sync") mode: a
 * thread claims slots with one CAS on its side's head (position and claim
 * count), copies, then bumps the tail's count; whichever thread finishes last
 * moves the tail position up to the head. No thread ever waits for another
 * particular thread, so a preempted thread (the warden, or a worker on a busy
 * core) cannot make others spin as it can in rte_ring's default MP/MC mode:
 * its claim only delays when the other side sees the slots, and callers see a
 * short count instead of waiting. (DPDK's RTS mode still waits when heads
 * run too far ahead of tails; this ring does not.) The price is a second CAS
 * per call; `labbench ring` measures it against rte_ring's mp/mc, RTS and HTS
 * modes and ck_ring, including with threads preempted mid-claim: see
 * docs/performance.md.
 */
#ifndef LAB_RING_H
#define LAB_RING_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include <labyrinth/lab_common.h>

#ifdef __cplusplus
extern "C" {
#endif

/** Position and claim count of one side's head or tail, as one 64-bit word. */
union lab_ring_poscnt {
	uint64_t raw;
	struct {
		uint32_t cnt;
		uint32_t pos;
	} val;
};

struct lab_ring_headtail {
	_Atomic uint64_t head;
	_Atomic uint64_t tail;
} __attribute__((aligned(LAB_CACHE_LINE)));

/** The ring; create with lab_ring_create() or lay out with lab_ring_init(). */
struct lab_ring {
	uint32_t size;     /**< slots, a power of two */
	uint32_t mask;     /**< size - 1 */
	uint32_t capacity; /**< objects it can hold (== size) */
	struct lab_ring_headtail prod;
	struct lab_ring_headtail cons;
	void *slots[] __attribute__((aligned(LAB_CACHE_LINE)));
};

/** Bytes needed for a ring of at least @p count objects. */
size_t lab_ring_memsize(uint32_t count);

/**
 * Lay out a ring for at least @p count objects in @p mem (lab_ring_memsize()
 * bytes, cache-line aligned).
 *
 * @return the ring; NULL with lab_errno EINVAL if count is 0 or over 2^31.
 */
struct lab_ring *lab_ring_init(void *mem, uint32_t count);

/** Allocate and lay out a ring. @return the ring, or NULL (lab_errno EINVAL/ENOMEM). */
struct lab_ring *lab_ring_create(uint32_t count);

/** Free a ring made by lab_ring_create(). */
void lab_ring_free(struct lab_ring *r);

static inline uint32_t lab_ring_pos(_Atomic uint64_t *w, memory_order mo)
{
	union lab_ring_poscnt v = { .raw = atomic_load_explicit(w, mo) };

	return v.val.pos;
}

/** Objects in the ring now (a snapshot; exact when the ring is quiet). */
static inline uint32_t lab_ring_count(const struct lab_ring *r)
{
	struct lab_ring *w = (struct lab_ring *)r;
	uint32_t n = lab_ring_pos(&w->prod.tail, memory_order_acquire) -
		     lab_ring_pos(&w->cons.tail, memory_order_acquire);

	return n > r->capacity ? r->capacity : n;
}

/* Finish a claim: count it on the tail; the last finisher moves the tail to
 * the head (DPDK __rte_ring_rts_update_tail). */
static inline void lab_ring_finish(struct lab_ring_headtail *ht)
{
	union lab_ring_poscnt ot, nt, h;

	ot.raw = atomic_load_explicit(&ht->tail, memory_order_acquire);
	do {
		h.raw = atomic_load_explicit(&ht->head, memory_order_relaxed);
		nt.raw = ot.raw;
		if (++nt.val.cnt == h.val.cnt)
			nt.val.pos = h.val.pos;
	} while (!atomic_compare_exchange_weak_explicit(&ht->tail, &ot.raw, nt.raw,
							memory_order_release,
							memory_order_acquire));
}

/* Claim up to n slots on side @p ht, limited by the other side's tail. */
static inline unsigned int lab_ring_claim(struct lab_ring_headtail *ht,
					  _Atomic uint64_t *other_tail, uint32_t extra,
					  unsigned int n, bool exact, uint32_t *start)
{
	union lab_ring_poscnt oh, nh;
	uint32_t avail;

	oh.raw = atomic_load_explicit(&ht->head, memory_order_acquire);
	do {
		avail = extra + lab_ring_pos(other_tail, memory_order_acquire) - oh.val.pos;
		if (n > avail)
			n = exact ? 0 : avail;
		if (n == 0)
			return 0;
		nh.val.pos = oh.val.pos + n;
		nh.val.cnt = oh.val.cnt + 1;
	} while (!atomic_compare_exchange_weak_explicit(&ht->head, &oh.raw, nh.raw,
							memory_order_acquire,
							memory_order_acquire));
	*start = oh.val.pos;
	return n;
}

/**
 * Enqueue up to @p n objects (multi-producer safe, never waits).
 *
 * @return the number enqueued: n, fewer when the ring is nearly full (or a
 *         consumer has not finished), 0 when full.
 */
static inline unsigned int lab_ring_enqueue_burst(struct lab_ring *r, void *const *objs,
						  unsigned int n)
{
	uint32_t start, idx, first;

	n = lab_ring_claim(&r->prod, &r->cons.tail, r->capacity, n, false, &start);
	if (n == 0)
		return 0;
	idx = start & r->mask;
	first = n < r->size - idx ? n : r->size - idx;
	lab_ptr_copy(&r->slots[idx], objs, first);
	lab_ptr_copy(&r->slots[0], objs + first, n - first);
	lab_ring_finish(&r->prod);
	return n;
}

/* Dequeue up to @p n objects, or with @p exact all n or none. */
static inline unsigned int lab_ring_dequeue_n(struct lab_ring *r, void **objs, unsigned int n,
					      bool exact)
{
	uint32_t start, idx, first;

	n = lab_ring_claim(&r->cons, &r->prod.tail, 0, n, exact, &start);
	if (n == 0)
		return 0;
	idx = start & r->mask;
	first = n < r->size - idx ? n : r->size - idx;
	lab_ptr_copy(objs, &r->slots[idx], first);
	lab_ptr_copy(objs + first, &r->slots[0], n - first);
	lab_ring_finish(&r->cons);
	return n;
}

/**
 * Dequeue up to @p n objects (multi-consumer safe, never waits).
 *
 * @return the number dequeued: n, fewer when the ring holds fewer (or a
 *         producer has not finished), 0 when empty.
 */
static inline unsigned int lab_ring_dequeue_burst(struct lab_ring *r, void **objs, unsigned int n)
{
	return lab_ring_dequeue_n(r, objs, n, false);
}

/**
 * Dequeue exactly @p n objects or none (multi-consumer safe, never waits).
 *
 * @return n, or 0 when the ring holds fewer (or a producer has not finished).
 */
static inline unsigned int lab_ring_dequeue_bulk(struct lab_ring *r, void **objs, unsigned int n)
{
	return lab_ring_dequeue_n(r, objs, n, true);
}

#ifdef __cplusplus
}
#endif

#endif /* LAB_RING_H */
