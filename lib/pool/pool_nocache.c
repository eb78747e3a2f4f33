/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The path without an owner cache (lab_alloc_bulk(p, NULL, ...),
 * lab_free_bulk(NULL, ...), the DPDK mempool driver with mbuf cache 0).
 *
 * Each thread that uses it gets, on first use and per pool, a ring of its own
 * (struct nocache_ring, one of POOL_NOCACHE_RINGS the pool holds): its frees
 * go there and its allocations come from there first; the shared ring is only
 * touched in bulk, to refill an empty thread ring or spill a full one. The
 * thread ring has one producer, its thread, so a free is a few plain stores;
 * its consumers (the thread itself, any thread that finds the shared ring
 * short, the warden, a thread exit) claim with one CAS on the head after
 * reading the slots. A slot can be written again only once the head has
 * moved past it, so a consumer whose CAS succeeds read what was there, and one
 * preempted anywhere holds nothing: nobody ever waits for anybody. That is
 * the ring of "per-thread single-producer free rings" the issue 24 study
 * measured, with the thief side of a work-stealing deque.
 *
 * Buffers in a thread ring are free: lab_pool_stats() counts them in free,
 * lab_pool_available() (DPDK's get_count) and lab_pool_destroy() see them.
 * Watermarks apply to the shared ring, as they do to owner caches: a thread
 * ring's buffers are served without a floor check, like a cache hit.
 *
 * Nothing strands them: an allocation that finds the shared ring at its floor
 * first moves every other thread ring into it (without waiting: a ring being
 * taken from by someone else is skipped); the warden does the same for
 * rings that stayed still for a tick while the shared ring is below low; a
 * thread's exit gives its rings back (a pthread key destructor); a thread
 * beyond the pool's rings, or out of table entries, uses the shared ring
 * directly as before.
 */
#include <errno.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>

#include "pool_internal.h"

/* Per thread, one entry per pool it used. */
#define NC_TLS_ENTRIES 8

struct nc_entry {
	struct lab_pool *pool;
	uint64_t serial; /* the pool's: a new pool at a freed one's address differs */
	struct nocache_ring *ring;
};

struct nc_thread {
	struct nc_entry e[NC_TLS_ENTRIES];
	bool keyed; /* the exit destructor is set */
};

/* The last pool used: the fast path reads only this (initial-exec TLS: no
 * call, no system call; 24 bytes of the static TLS a dlopen()ed library
 * shares). The table is ordinary TLS, read on a miss only. */
static __thread struct nc_entry nc_last __attribute__((tls_model("initial-exec")));
static __thread struct nc_thread nc_me;

/* Live pools, so an exiting thread gives back only to a pool that still
 * exists. Never taken on the data path (a thread's first use of a pool tries
 * it, and goes the shared way if it is busy). */
static pthread_mutex_t nc_reg_lock = PTHREAD_MUTEX_INITIALIZER;
static struct lab_pool *nc_pools;
static uint64_t nc_serial_next = 1;
static pthread_key_t nc_key;
static pthread_once_t nc_key_once = PTHREAD_ONCE_INIT;
static bool nc_key_ok;

/* ---------------------------------------------------------- the thread ring */

static inline uint32_t ncr_count(struct nocache_ring *r)
{
	return (uint32_t)(atomic_load_explicit(&r->tail, memory_order_acquire) -
			  atomic_load_explicit(&r->head, memory_order_acquire));
}

/* Slots are atomic (a consumer may read one the producer is rewriting, and
 * then fails its CAS), relaxed: plain moves. Two runs, no mask per slot. */
static inline void ncr_copy_out(struct nocache_ring *r, uint64_t from, struct lab_buf **out,
				unsigned int n)
{
	unsigned int idx = (unsigned int)from & (POOL_NC_SLOTS - 1);
	unsigned int first = n < POOL_NC_SLOTS - idx ? n : POOL_NC_SLOTS - idx;

	for (unsigned int i = 0; i < first; i++)
		out[i] = atomic_load_explicit(&r->slots[idx + i], memory_order_relaxed);
	for (unsigned int i = first; i < n; i++)
		out[i] = atomic_load_explicit(&r->slots[i - first], memory_order_relaxed);
}

static inline void ncr_copy_in(struct nocache_ring *r, uint64_t to, struct lab_buf *const *bufs,
			       unsigned int n)
{
	unsigned int idx = (unsigned int)to & (POOL_NC_SLOTS - 1);
	unsigned int first = n < POOL_NC_SLOTS - idx ? n : POOL_NC_SLOTS - idx;

	for (unsigned int i = 0; i < first; i++)
		atomic_store_explicit(&r->slots[idx + i], bufs[i], memory_order_relaxed);
	for (unsigned int i = first; i < n; i++)
		atomic_store_explicit(&r->slots[i - first], bufs[i], memory_order_relaxed);
}

/*
 * Take up to @p n (with @p exact: @p n or none), oldest first. Any thread:
 * read the slots, then claim them with one CAS on the head. The producer
 * writes a slot again only after the head has passed it, which a successful
 * CAS proves it had not. The slots are read into @p out before the claim: a
 * claim lost to another consumer leaves there pointers it does not own, so a
 * take that then ends with none clears what it wrote (a caller that reads its
 * array past the count, as a one-buffer allocation might, finds NULL, not
 * another thread's buffer).
 */
static unsigned int ncr_take(struct nocache_ring *r, struct lab_buf **out, unsigned int n,
			     bool exact)
{
	uint64_t h = atomic_load_explicit(&r->head, memory_order_acquire), t;
	unsigned int k, read = 0;

	do {
		t = atomic_load_explicit(&r->tail, memory_order_acquire);
		k = (unsigned int)(t - h);
		if (k > n)
			k = n;
		else if (k < n && exact)
			k = 0;
		if (k == 0) {
			if (lab_unlikely(read != 0))
				memset(out, 0, read * sizeof(*out));
			return 0;
		}
		ncr_copy_out(r, h, out, k);
		read = read > k ? read : k;
	} while (!atomic_compare_exchange_weak_explicit(&r->head, &h, h + k, memory_order_release,
							memory_order_acquire));
	return k;
}

/* Append @p n; the owner only, and only with room (ncr_room()). */
static inline void ncr_put(struct nocache_ring *r, struct lab_buf *const *bufs, unsigned int n)
{
	uint64_t t = atomic_load_explicit(&r->tail, memory_order_relaxed);

	ncr_copy_in(r, t, bufs, n);
	atomic_store_explicit(&r->tail, t + n, memory_order_release);
}

/* Room for the owner: the head only moves on, so this never overstates. */
static inline unsigned int ncr_room(struct nocache_ring *r)
{
	return POOL_NC_SLOTS - (unsigned int)(atomic_load_explicit(&r->tail, memory_order_relaxed) -
					      atomic_load_explicit(&r->head, memory_order_acquire));
}

/* Move what a ring holds to the shared ring (any thread; never waits). */
static unsigned int ncr_drain(struct lab_pool *p, struct nocache_ring *r)
{
	struct lab_buf *b[64];
	unsigned int n, moved = 0;

	while ((n = ncr_take(r, b, 64, false)) > 0) {
		_lab_pool_put(p, b, n);
		moved += n;
	}
	return moved;
}

/* ------------------------------------------------- registration, thread exit */

static void nc_thread_exit(void *arg);

static void nc_key_create(void)
{
	nc_key_ok = pthread_key_create(&nc_key, nc_thread_exit) == 0;
}

int pool_nocache_init(struct lab_pool *p)
{
	p->nc = aligned_alloc(LAB_CACHE_LINE, sizeof(*p->nc) * POOL_NOCACHE_RINGS);
	if (p->nc == NULL)
		return -ENOMEM;
	memset(p->nc, 0, sizeof(*p->nc) * POOL_NOCACHE_RINGS);
	pthread_once(&nc_key_once, nc_key_create);
	pthread_mutex_lock(&nc_reg_lock);
	p->nc_serial = nc_serial_next++;
	p->nc_next = nc_pools;
	nc_pools = p;
	pthread_mutex_unlock(&nc_reg_lock);
	return 0;
}

/* After this, no exiting thread touches @p p (its entries are stale). */
void pool_nocache_fini(struct lab_pool *p)
{
	pthread_mutex_lock(&nc_reg_lock);
	for (struct lab_pool **pp = &nc_pools; *pp != NULL; pp = &(*pp)->nc_next)
		if (*pp == p) {
			*pp = p->nc_next;
			break;
		}
	pthread_mutex_unlock(&nc_reg_lock);
	free(p->nc);
	p->nc = NULL;
}

/* Caller holds nc_reg_lock. */
static bool nc_pool_live(struct lab_pool *p, uint64_t serial)
{
	for (struct lab_pool *q = nc_pools; q != NULL; q = q->nc_next)
		if (q == p)
			return q->nc_serial == serial;
	return false;
}

/* Give a thread's rings back: to the shared ring, then the slot to the next
 * thread. Counters stay in the slot (they are the pool's, summed by stats). */
static void nc_thread_exit(void *arg)
{
	struct nc_thread *me = arg;

	pthread_mutex_lock(&nc_reg_lock);
	for (unsigned int i = 0; i < NC_TLS_ENTRIES; i++) {
		struct nc_entry *e = &me->e[i];

		if (e->pool != NULL && nc_pool_live(e->pool, e->serial)) {
			ncr_drain(e->pool, e->ring);
			atomic_store_explicit(&e->ring->owner, 0, memory_order_release);
		}
		e->pool = NULL;
	}
	nc_last.pool = NULL;
	/* A later destructor that frees again registers afresh, and sets the
	 * key again so that glibc calls this once more. */
	me->keyed = false;
	pthread_mutex_unlock(&nc_reg_lock);
}

/*
 * First use of @p p by this thread (or after a miss on nc_last): find or make
 * its entry. No wait: the registry lock is only tried; NULL sends the caller
 * the shared way this time.
 */
static struct nocache_ring *nc_register(struct lab_pool *p)
{
	struct nc_entry *e = NULL;
	struct nocache_ring *r = NULL;

	for (unsigned int i = 0; i < NC_TLS_ENTRIES; i++)
		if (nc_me.e[i].pool == p && nc_me.e[i].serial == p->nc_serial) {
			nc_last = nc_me.e[i];
			return nc_last.ring;
		}
	if (!nc_key_ok || pthread_mutex_trylock(&nc_reg_lock) != 0)
		return NULL;
	/* A free entry, or one whose pool is gone. */
	for (unsigned int i = 0; i < NC_TLS_ENTRIES && e == NULL; i++)
		if (nc_me.e[i].pool == NULL || !nc_pool_live(nc_me.e[i].pool, nc_me.e[i].serial))
			e = &nc_me.e[i];
	for (unsigned int i = 0; e != NULL && i < POOL_NOCACHE_RINGS && r == NULL; i++) {
		uint64_t none = 0;

		if (atomic_load_explicit(&p->nc[i].owner, memory_order_relaxed) == 0 &&
		    atomic_compare_exchange_strong_explicit(&p->nc[i].owner, &none,
							    (uint64_t)(uintptr_t)&nc_me,
							    memory_order_acquire,
							    memory_order_relaxed)) {
			r = &p->nc[i];
			/* Only rings below the mark are looked at by stats and
			 * thieves (under the registry lock: it only grows). */
			if (i + 1 > atomic_load_explicit(&p->nc_hw, memory_order_relaxed))
				atomic_store_explicit(&p->nc_hw, i + 1, memory_order_release);
		}
	}
	if (r == NULL) {
		/* No ring or table entry left: the shared way from now on,
		 * without asking again on every call. */
		nc_last = (struct nc_entry){ p, p->nc_serial, NULL };
	} else {
		/* Key index below 32 on glibc: no allocation, no system call. */
		if (!nc_me.keyed)
			nc_me.keyed = pthread_setspecific(nc_key, &nc_me) == 0;
		if (nc_me.keyed) {
			*e = (struct nc_entry){ p, p->nc_serial, r };
			nc_last = *e;
		} else {
			atomic_store_explicit(&r->owner, 0, memory_order_release);
			r = NULL;
		}
	}
	pthread_mutex_unlock(&nc_reg_lock);
	return r;
}

/* This thread's ring of @p p, or NULL (use the shared ring). */
static inline struct nocache_ring *nc_ring(struct lab_pool *p)
{
	if (lab_likely(nc_last.pool == p && nc_last.serial == p->nc_serial))
		return nc_last.ring;
	return nc_register(p);
}

/* ------------------------------------------------------------ stealing */

/*
 * Move every other thread's ring into the shared ring (an allocation found it
 * at its floor, or the warden: @p idle_only, rings that did not move since its
 * last look). @return buffers moved.
 */
unsigned int pool_nocache_reclaim(struct lab_pool *p, struct nocache_ring *mine, bool idle_only)
{
	unsigned int moved = 0;

	uint32_t hw = atomic_load_explicit(&p->nc_hw, memory_order_acquire);

	for (unsigned int i = 0; i < hw; i++) {
		struct nocache_ring *r = &p->nc[i];
		uint64_t moves;

		if (r == mine || ncr_count(r) == 0)
			continue;
		if (idle_only) {
			moves = atomic_load_explicit(&r->tail, memory_order_relaxed) +
				atomic_load_explicit(&r->head, memory_order_relaxed);
			if (p->nc_seen[i] != moves) {
				p->nc_seen[i] = moves;
				continue;
			}
		}
		moved += ncr_drain(p, r);
	}
	return moved;
}

uint64_t pool_nocache_parked(const struct lab_pool *p)
{
	uint32_t hw = atomic_load_explicit(&((struct lab_pool *)(uintptr_t)p)->nc_hw,
					   memory_order_acquire);
	uint64_t n = 0;

	for (unsigned int i = 0; i < hw; i++)
		n += ncr_count(&p->nc[i]);
	return n;
}

/* --------------------------------------------- counters (the shared way) */

/*
 * Thread stripes for the counters of callers without a ring (more threads
 * than rings). A thread gets a stripe of its own on first use (one atomic
 * add, no system call: initial-exec TLS); the first POOL_NOCACHE_STRIPES - 1
 * threads do, later ones share stripe 0.
 */
static __thread unsigned int my_stripe __attribute__((tls_model("initial-exec")));
static _Atomic unsigned int stripes_given = 1;

static unsigned int nocache_stripe(void)
{
	unsigned int s = my_stripe;

	if (lab_unlikely(s == 0)) {
		s = atomic_fetch_add_explicit(&stripes_given, 1, memory_order_relaxed);
		if (s >= POOL_NOCACHE_STRIPES)
			s = POOL_NOCACHE_STRIPES; /* shared */
		my_stripe = s;
	}
	return s == POOL_NOCACHE_STRIPES ? 0 : s;
}

static inline void stripe_add(_Atomic uint64_t *ctr, uint64_t n, unsigned int stripe)
{
	if (stripe != 0)
		atomic_store_explicit(ctr, atomic_load_explicit(ctr, memory_order_relaxed) + n,
				      memory_order_relaxed);
	else
		atomic_fetch_add_explicit(ctr, n, memory_order_relaxed);
}

/* Count an allocation on the thread's ring slot, or its stripe. */
static void nc_count_alloc(struct lab_pool *p, struct nocache_ring *r, unsigned int n,
			   unsigned int got, unsigned int refills, uint64_t reserve)
{
	if (r != NULL) {
		LAB_COUNT_ADD(r->st.allocs, got);
		LAB_COUNT_ADD(r->st.ring_refills, refills);
		LAB_COUNT_ADD(r->st.reserve_uses, reserve);
		LAB_COUNT_ADD(r->st.misses, n - got);
		return;
	}
	unsigned int s = nocache_stripe();
	struct nocache_stripe *st = &p->nocache[s];

	stripe_add(&st->allocs, got, s);
	if (refills)
		stripe_add(&st->ring_refills, refills, s);
	if (reserve)
		stripe_add(&st->reserve_uses, reserve, s);
	if (got < n)
		stripe_add(&st->misses, n - got, s);
}

static void nc_count_free(struct lab_pool *p, struct nocache_ring *r, unsigned int n,
			  unsigned int flushes)
{
	if (r != NULL) {
		LAB_COUNT_ADD(r->st.frees, n);
		LAB_COUNT_ADD(r->st.ring_flushes, flushes);
		return;
	}
	unsigned int s = nocache_stripe();

	stripe_add(&p->nocache[s].frees, n, s);
	if (flushes)
		stripe_add(&p->nocache[s].ring_flushes, flushes, s);
}

void pool_nocache_totals(struct lab_pool *p, struct lab_owner_stats *t)
{
	memset(t, 0, sizeof(*t));
	for (unsigned int i = 0; i < POOL_NOCACHE_STRIPES; i++) {
		const struct nocache_stripe *s = &p->nocache[i];

		t->allocs += atomic_load_explicit(&s->allocs, memory_order_relaxed);
		t->frees += atomic_load_explicit(&s->frees, memory_order_relaxed);
		t->ring_refills += atomic_load_explicit(&s->ring_refills, memory_order_relaxed);
		t->ring_flushes += atomic_load_explicit(&s->ring_flushes, memory_order_relaxed);
		t->reserve_uses += atomic_load_explicit(&s->reserve_uses, memory_order_relaxed);
		t->misses += atomic_load_explicit(&s->misses, memory_order_relaxed);
	}
	for (unsigned int i = 0; i < POOL_NOCACHE_RINGS; i++) {
		struct lab_owner_stats s;

		lab_counters_load((uint64_t *)&s, (const uint64_t *)&p->nc[i].st,
				  sizeof(s) / sizeof(uint64_t));
		t->allocs += s.allocs;
		t->frees += s.frees;
		t->ring_refills += s.ring_refills;
		t->ring_flushes += s.ring_flushes;
		t->reserve_uses += s.reserve_uses;
		t->misses += s.misses;
	}
	t->ring_allocs = t->allocs; /* no cache: not cache hits */
}

/* How long an all-or-none allocation waits for a batch the warden is
 * checking: it spins NC_ALL_SPIN_NS, then yields the CPU between looks (on a
 * busy machine the warden it waits for may need this core), up to
 * NC_ALL_WAIT_NS in all. */
#define NC_ALL_SPIN_NS (1000 * 1000ull)
#define NC_ALL_WAIT_NS (1000 * 1000 * 1000ull)

static inline void nc_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
	__builtin_ia32_pause();
#elif defined(__aarch64__)
	__asm__ volatile("yield");
#else
	atomic_signal_fence(memory_order_seq_cst);
#endif
}

/* Buffers the warden (or another caller) is checking or moving, or that
 * wait in the quarantine or a staging ring of callers without a cache. */
static bool nc_in_transit(struct lab_pool *p)
{
	return atomic_load_explicit(&p->q_in_check, memory_order_acquire) != 0 ||
	       lab_ring_count(p->quarantine) != 0 || lab_ring_count(p->nc_stage) != 0;
}

/* ------------------------------------------------------------- allocation */

/*
 * Up to @p n from the shared ring. Short of @p need (@p n, or 1 for a burst),
 * first every other thread's ring goes back into it (they are free buffers
 * the floor check did not see), then, all or nothing only, the buffers in
 * transit (below).
 */
static unsigned int nc_take_shared(struct lab_pool *p, struct nocache_ring *mine,
				   struct lab_buf **bufs, unsigned int n, unsigned int need,
				   unsigned int flags, bool all, uint64_t *reserve)
{
	unsigned int got = pool_ring_take(&p->hot, bufs, n, flags, reserve);

	if (lab_likely(got >= need))
		return got;
	if (pool_nocache_reclaim(p, mine, false) != 0)
		got += pool_ring_take(&p->hot, bufs + got, n - got, flags, reserve);
	/* All or nothing and still short: buffers in transit count as
	 * available (a mempool counts them so). What waits in quarantine is
	 * checked here, then the sampled frees of callers without a cache still
	 * staged (owner caches' staging rings have the warden as their one
	 * reader), rather than fail while the warden's hold time runs. A batch
	 * the warden took out to check (a few dozen buffers of a few
	 * microseconds each) is waited for: spinning for a millisecond, then
	 * yielding the CPU (the one system call on this path, and only here: a
	 * pool whose last free buffers are in the warden's hands), at most
	 * NC_ALL_WAIT_NS. Only an all-or-none caller waits: a mempool's dequeue
	 * must not fail for buffers its count promised. */
	if (got < need && all && nc_in_transit(p)) {
		uint64_t now = lab_now_ns(), spin_until = now + NC_ALL_SPIN_NS;
		uint64_t until = now + NC_ALL_WAIT_NS;

		do {
			if (lab_ring_count(p->quarantine) || lab_ring_count(p->nc_stage)) {
				quality_release(p, n + 64, true);
				got += pool_ring_take(&p->hot, bufs + got, n - got, flags, reserve);
				if (got < need && quality_release_staged(p, n + 64) != 0)
					got += pool_ring_take(&p->hot, bufs + got, n - got, flags,
							      reserve);
				continue;
			}
			if (lab_now_ns() < spin_until) {
				for (int i = 0; i < 64; i++)
					nc_relax();
			} else {
				/* The warden may need this core to finish. */
				sched_yield();
			}
			got += pool_ring_take(&p->hot, bufs + got, n - got, flags, reserve);
		} while (got < need && nc_in_transit(p) && lab_now_ns() < until);
	}
	return got;
}

/*
 * The thread ring had fewer than asked. Small bursts refill it from the shared
 * ring in one take (what was asked for plus a quarter of the ring), then
 * serve from it; larger ones take from the shared ring directly (all or
 * nothing: after giving the thread ring back to it, so that both count).
 */
static __attribute__((noinline)) unsigned int
nc_alloc_ring_slow(struct lab_pool *p, struct nocache_ring *r, struct lab_buf **bufs,
		   unsigned int n, unsigned int flags, uint64_t *reserve, unsigned int *refills)
{
	bool all = flags & LAB_ALLOC_ALL;
	unsigned int got = 0, k;
	struct lab_buf *tmp[POOL_NC_SLOTS];

	if (n <= POOL_NC_SLOTS / 2) {
		unsigned int have = ncr_count(r), room = ncr_room(r);
		unsigned int want = n - have + POOL_NC_SLOTS / 4;

		if (want > room)
			want = room;
		/* A burst from the ring at the ordinary floor: the surplus must
		 * not be the reserve, or an ordinary call of this thread would
		 * get it from the thread ring. An atomic caller then takes what
		 * it still needs at its own floor. The all-or-nothing test is on
		 * the thread ring after. */
		k = nc_take_shared(p, r, tmp, want, all ? n - have : 1,
				   flags & ~(LAB_ALLOC_ALL | LAB_ALLOC_ATOMIC), all, reserve);
		if ((flags & LAB_ALLOC_ATOMIC) && have + k < n)
			k += nc_take_shared(p, r, tmp + k, n - have - k, all ? n - have - k : 1,
					    flags & ~LAB_ALLOC_ALL, all, reserve);
		ncr_put(r, tmp, k);
		*refills += k != 0;
		return ncr_take(r, bufs, n, all);
	}
	if (all)
		ncr_drain(p, r);
	else
		got = ncr_take(r, bufs, n, false);
	k = nc_take_shared(p, r, bufs + got, n - got, all ? n : 1, flags, all, reserve);
	*refills += k != 0;
	return got + k;
}

unsigned int _lab_pool_ring_alloc(struct lab_pool *p, struct lab_buf **bufs, unsigned int n,
				  unsigned int flags, const void *site)
{
	struct nocache_ring *r = nc_ring(p);
	unsigned int got, refills = 0;
	uint64_t reserve = 0;
	uint32_t q;

	if (lab_likely(r != NULL)) {
		got = ncr_take(r, bufs, n, flags & LAB_ALLOC_ALL);
		if (lab_unlikely(got < n)) {
			/* An all-or-nothing take took none; a burst one is topped up. */
			got += nc_alloc_ring_slow(p, r, bufs + got, n - got, flags, &reserve,
						  &refills);
		}
	} else {
		bool all = flags & LAB_ALLOC_ALL;

		got = nc_take_shared(p, NULL, bufs, n, all ? n : 1, flags, all, &reserve);
		refills = got != 0;
	}
	/* Taken from a ring: ours alone, plain stores ("off": none). */
	q = _lab_pool_q(&p->hot);
	if (LAB_Q_LEVEL(q) != LAB_QUALITY_OFF)
		_lab_shadow_mark(&p->hot, bufs, got, LAB_SH_SITE(site) | LAB_SH_EP(LAB_Q_EPOCH(q)) |
				 LAB_SH_KEY(0, LAB_BUF_IN_FLIGHT));
	if (lab_likely(r != NULL && got == n && refills == 0)) {
		LAB_COUNT_ADD(r->st.allocs, n);
		return n;
	}
	nc_count_alloc(p, r, n, got, refills, reserve);
	return got;
}

/* ------------------------------------------------------------------- free */

/* The owner puts @p n in its ring if they fit. */
static inline bool nc_put_fast(struct nocache_ring *r, struct lab_buf *const *bufs, unsigned int n)
{
	uint64_t t = atomic_load_explicit(&r->tail, memory_order_relaxed);

	if (lab_unlikely(t + n - atomic_load_explicit(&r->head, memory_order_acquire) >
			 POOL_NC_SLOTS))
		return false;
	ncr_copy_in(r, t, bufs, n);
	atomic_store_explicit(&r->tail, t + n, memory_order_release);
	LAB_COUNT_ADD(r->st.frees, n);
	return true;
}

/* No room, or no ring: the older half of a full ring goes to the shared ring
 * first; what still does not fit (a burst over half the ring) goes there too. */
static __attribute__((noinline)) void nc_put_slow(struct lab_pool *p, struct nocache_ring *r,
						  struct lab_buf *const *bufs, unsigned int n)
{
	struct lab_buf *old[POOL_NC_SLOTS / 2];
	unsigned int k;

	if (r != NULL && n <= POOL_NC_SLOTS / 2) {
		k = ncr_take(r, old, POOL_NC_SLOTS / 2, false);
		_lab_pool_put(p, old, k);
		LAB_COUNT_ADD(r->st.ring_flushes, 1);
		if (nc_put_fast(r, bufs, n))
			return;
	}
	_lab_pool_put(p, bufs, n);
	nc_count_free(p, r, n, 1);
}

/* Put checked buffers in the thread's ring (the shared ring past its room, or
 * without one) and count them as frees. */
static void pool_nocache_put(struct lab_pool *p, struct lab_buf *const *bufs, unsigned int n)
{
	struct nocache_ring *r = nc_ring(p);

	if (lab_likely(r != NULL) && nc_put_fast(r, bufs, n))
		return;
	nc_put_slow(p, r, bufs, n);
}

/* Count frees by a caller without a cache that went to quarantine. */
static void pool_nocache_frees(struct lab_pool *p, unsigned int n)
{
	nc_count_free(p, nc_ring(p), n, 0);
}

/*
 * Free without a cache. Callers without a cache share owner id 0, so under a
 * checked level each buffer's check and mark is one CAS on its shadow word:
 * of two threads freeing one buffer at once, exactly one wins and the other's
 * free is a double free (docs/quality.md). A sampled free, a full level, or a
 * check that fails goes to nc_free_slow.
 */
unsigned int _lab_pool_ring_free(struct lab_buf *const *bufs, unsigned int n, const void *site)
{
	return n == 0 ? 0 : _lab_pool_ring_free_to(bufs[0]->pool, bufs, n, site);
}

/*
 * The ownership check of a free without a cache. Callers without a cache
 * share owner 0, so two threads could free one buffer at the same instant:
 * the check and mark is one CAS per buffer, so exactly one of them passes and
 * the other's free is a double free (docs/quality.md). The shadow's base and
 * size are loaded once per burst. A plain load, compare and store would cost
 * a third as much at burst 32 (docs/performance.md) but let both of two truly
 * concurrent frees through.
 */
static inline unsigned int nc_shadow_free(struct lab_pool_hot *h, struct lab_buf *const *bufs,
					  unsigned int n, uint64_t key, uint64_t mark)
{
	struct lab_shadow *shadow = h->shadow;
	uint32_t cap = h->shadow_cap;
	unsigned int i;

	for (i = 0; i < n; i++) {
		struct lab_shadow *sh;
		uint64_t w;

		/* Changed under us (a racing free, the warden's scan mark): the
		 * slow path's CAS loop says which. */
		if (!_lab_shadow_held(shadow, cap, bufs[i], key, &sh, &w) ||
		    lab_unlikely(!atomic_compare_exchange_strong_explicit(
				&sh->w, &w, mark, memory_order_relaxed, memory_order_relaxed)))
			break;
	}
	return i;
}

/*
 * A free the inline check did not finish (bufs[0..ok) passed it): the
 * quality layer checks the rest, in pieces of up to 64, and hands back what
 * goes to this thread's ring; the rest it refused or gave the warden, which
 * count as frees all the same. @return accepted.
 */
static __attribute__((noinline)) unsigned int nc_free_slow(struct lab_pool *p,
							   struct lab_buf *const *bufs,
							   unsigned int n, unsigned int ok,
							   const void *site)
{
	struct lab_buf *keep[64];
	unsigned int done = 0;

	for (unsigned int off = 0; off < n; off += 64) {
		unsigned int m = n - off < 64 ? n - off : 64, k, acc;
		unsigned int pre = ok <= off ? 0 : ok - off < m ? ok - off : m;

		acc = quality_free_nocache(p, bufs + off, m, pre, site, keep, &k);
		if (k != 0)
			pool_nocache_put(p, keep, k);
		if (acc != k)
			pool_nocache_frees(p, acc - k);
		done += acc;
	}
	return done;
}

unsigned int _lab_pool_ring_free_to(struct lab_pool *p, struct lab_buf *const *bufs, unsigned int n,
				    const void *site)
{
	struct nocache_ring *r;
	uint32_t q;

	if (n == 0)
		return 0;
	q = _lab_pool_q(&p->hot);
	if (LAB_Q_LEVEL(q) != LAB_QUALITY_OFF) {
		uint64_t ep = LAB_SH_EP(LAB_Q_EPOCH(q));
		unsigned int ok;

		/* Not picked for a deep check: the countdown stays above 0. */
		if (LAB_Q_LEVEL(q) == LAB_QUALITY_FULL || nocache_sample_left <= (int32_t)n)
			return nc_free_slow(p, bufs, n, 0, site);
		ok = nc_shadow_free(&p->hot, bufs, n, ep | LAB_SH_KEY(0, LAB_BUF_IN_FLIGHT),
				    LAB_SH_SITE(site) | ep | LAB_SH_KEY(0, LAB_BUF_FREE));
		nocache_sample_left -= (int32_t)ok;
		if (lab_unlikely(ok != n))
			return nc_free_slow(p, bufs, n, ok, site);
	}
	r = nc_ring(p);
	if (lab_likely(r != NULL) && nc_put_fast(r, bufs, n))
		return n;
	nc_put_slow(p, r, bufs, n);
	return n;
}

/*
 * lab_free_frames() when a burst holds a chain: every segment of every frame,
 * in batches, each segment's next cleared first (read before: the free may
 * reuse the link). Single-buffer frames around the chains go in the same
 * batches, so their order in the cache is kept.
 */
unsigned int _lab_free_chains(struct lab_cache *c, struct lab_buf *const *bufs, unsigned int n,
			      const void *site)
{
	struct lab_buf *batch[64];
	unsigned int nb = 0, ok = 0;

	for (unsigned int i = 0; i < n; i++) {
		struct lab_buf *b = bufs[i], *next;

		for (; b != NULL; b = next) {
			next = b->next;
			b->next = NULL;
			batch[nb++] = b;
			if (nb == 64) {
				ok += lab_free_bulk_at(c, batch, nb, site);
				nb = 0;
			}
		}
	}
	if (nb != 0)
		ok += lab_free_bulk_at(c, batch, nb, site);
	return ok;
}

uint32_t lab_buf_read(const struct lab_buf *b, uint32_t off, void *dst, uint32_t len)
{
	uint32_t done = 0;

	for (; b != NULL && done < len; b = b->next) {
		uint32_t k;

		if (off >= b->data_len) {
			off -= b->data_len;
			continue;
		}
		k = b->data_len - off < len - done ? b->data_len - off : len - done;
		memcpy((uint8_t *)dst + done, (const uint8_t *)lab_buf_data(b) + off, k);
		done += k;
		off = 0;
	}
	return done;
}
