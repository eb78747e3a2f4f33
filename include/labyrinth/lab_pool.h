/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * The labyrinth page pool: buffers carved from hugepage chambers, handed out
 * by an atomic path that never blocks, refilled by the warden.
 *
 * Allocation order (page_pool's alloc cache, then the kernel's zone logic):
 *  1. the caller's owner cache, a LIFO only its owner touches;
 *  2. a bulk refill from the shared MPMC free ring, allowed while the free
 *     count stays at or above the @c min watermark for ordinary callers, or
 *     above @c min - @c reserve for atomic callers (RX refill, as GFP_ATOMIC
 *     may dip into the reserves below min);
 *  3. otherwise NULL or a short count at once, and a miss is counted.
 * When the free count falls below @c low, the data path raises the pool's kick
 * flag (one atomic store, no system call); the warden refills toward @c high
 * by growing the arena one chamber at a time, and later shrinks chambers whose
 * cells have all stayed free above @c high.
 *
 * No call here makes a system call, takes a lock or logs, except the slow-path
 * calls marked "control path".
 *
 * Threads without an owner cache pass NULL: they go straight to the shared
 * ring (correct, slower, stats on shared atomic counters).
 */
#ifndef LAB_POOL_H
#define LAB_POOL_H

#include <assert.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include <labyrinth/lab_buf.h>
#include <labyrinth/lab_common.h>
#include <labyrinth/lab_arena.h>
#include <labyrinth/lab_pool_inline.h>
#include <labyrinth/lab_quality.h>
#include <labyrinth/lab_ring.h>

#ifdef __cplusplus
extern "C" {
#endif

struct lab_pool;

/** Counters kept by one owner, on its own cache lines. */
struct lab_owner_stats {
	uint64_t allocs;       /**< buffers handed out */
	uint64_t frees;        /**< buffers given back */
	uint64_t cache_hits;   /**< allocations served from the owner cache: filled in by
				 *   lab_pool_stats() as allocs - ring_allocs; owners do not count it */
	uint64_t ring_allocs;  /**< allocations served straight from the ring */
	uint64_t ring_refills; /**< bulk refills from the shared ring */
	uint64_t ring_flushes; /**< bulk spills to the shared ring */
	uint64_t reserve_uses; /**< buffers taken below min (atomic callers only) */
	uint64_t misses;       /**< buffers asked for and not given */
};

/** Allocation flag: atomic priority (RX refill), may use the reserve below min. */
#define LAB_ALLOC_ATOMIC (1u << 0)

/** Allocation flag: all n buffers or none (a mempool's dequeue contract).
 * Only on the path without an owner cache (c == NULL). When the ring is short
 * and buffers wait in quarantine, the caller checks some itself (bounded
 * work, findings queued for the warden) instead of failing. */
#define LAB_ALLOC_ALL (1u << 1)

/** Largest burst one call moves. */
#define LAB_BURST_MAX 512u

/** An owner cache. Only its owner thread may touch it. Its fields are here
 * because the inline calls below read them: use those calls, not the fields
 * (lab_pool_stats() reports the counters). */
struct lab_cache {
	struct lab_pool *pool;
	uint32_t len;   /**< buffers cached now */
	uint32_t size;  /**< refill target */
	uint32_t flush; /**< spill threshold */
	uint16_t owner; /**< owner id, for reports and the shadow */
	uint16_t headroom; /**< the pool's headroom */
	int32_t sample_left; /**< frees until the next sampled one (quality "sampled") */
	uint32_t sh_q;       /**< the pool's quality word sh_held was made for */
	uint64_t sh_held;    /**< this owner's "in flight" shadow key at that word's epoch */
	struct lab_owner_stats st __attribute__((aligned(LAB_CACHE_LINE)));
	struct lab_buf *objs[] __attribute__((aligned(LAB_CACHE_LINE)));
};

/** Where a buffer is, as its shadow word records it. */
enum lab_buf_state {
	LAB_BUF_FREE = 0,    /**< in the shared ring (or its overflow list) */
	LAB_BUF_CACHED,      /**< in an owner cache */
	LAB_BUF_IN_FLIGHT,   /**< held by its owner */
	LAB_BUF_QUARANTINED, /**< waiting for the warden's checks (or retired) */
};

/* Internal: the shadow key "in flight, held by @p c" at the epoch of quality
 * word @p q: kept in the cache, made again only when the word changes (a
 * level switch), so a burst does not rebuild it from owner and epoch. */
static inline uint64_t _lab_cache_held(struct lab_cache *c, uint32_t q)
{
	if (lab_unlikely(c->sh_q != q)) {
		c->sh_held = LAB_SH_EP(LAB_Q_EPOCH(q)) | LAB_SH_KEY(c->owner, LAB_BUF_IN_FLIGHT);
		c->sh_q = q;
	}
	return c->sh_held;
}

static_assert((LAB_BUF_IN_FLIGHT ^ LAB_BUF_CACHED) == 3, "a free flips both state bits");

/** A code address in the caller: where an allocation or free was made
 * (resolved to symbol+offset only when a finding is reported). The address of
 * the instruction itself: a label's address may be moved or merged by the
 * optimizer, so two call sites could report as one. */
#if defined(__x86_64__)
#define LAB_SITE() ({ const void *lab_s_; __asm__ volatile("lea 0(%%rip), %0" : "=r"(lab_s_)); lab_s_; })
#elif defined(__aarch64__)
#define LAB_SITE() ({ const void *lab_s_; __asm__ volatile("adr %0, ." : "=r"(lab_s_)); lab_s_; })
#else
#define LAB_SITE() ({ __label__ lab_here_; lab_here_: (const void *)&&lab_here_; })
#endif

/*
 * _LAB_POOL_UNCHECKED, defined before this header is included, compiles the
 * shadow checks out of the inline calls below: nothing is checked, and a
 * double free corrupts the pool. Not for users; it is here, under a leading
 * underscore, only for labbench quality's "raw" baseline
 * (apps/labbench/quality_raw.c), which measures what the checks cost.
 */

/**
 * Allocate up to @p n buffers (atomic path). Called as lab_alloc_bulk(p, c,
 * bufs, n, flags); the _at form takes the call site explicitly.
 *
 * @param p     the pool
 * @param c     the caller's owner cache of @p p, or NULL for the shared-ring path
 * @param flags 0, or LAB_ALLOC_ATOMIC for RX refill (may use the reserve)
 * @return buffers written to @p bufs: n, fewer (the rest counted as misses),
 *         or 0; never waits. Each buffer is now owned by @p c (with NULL, by
 *         "callers without a cache"). The pool does not write the buffers:
 *         header fields other than buf_addr, buf_iova, pool, idx and buf_len
 *         hold what the last holder left (buffers that went through quarantine
 *         come back with a zeroed data room); call lab_buf_reset() before
 *         filling one. Only the first (returned count) entries of @p bufs
 *         are buffers; read none past them.
 */
static inline unsigned int lab_alloc_bulk_at(struct lab_pool *p, struct lab_cache *c,
					     struct lab_buf **bufs, unsigned int n,
					     unsigned int flags, const void *site)
{
#ifndef _LAB_POOL_UNCHECKED
	uint32_t q;
#endif

	if (lab_unlikely(c == NULL))
		return _lab_pool_ring_alloc(p, bufs, n, flags, site);
	if (lab_likely(c->len >= n)) {
		uint32_t len = c->len - n;

		/* The top n: the most recently freed, the cache-hot ones. */
		lab_ptr_copy(bufs, &c->objs[len], n);
		LAB_CACHE_LEN_SET(c, len);
		LAB_COUNT_ADD(c->st.allocs, n);
	} else {
		n = _lab_cache_refill_alloc(c, bufs, n, flags);
	}
#ifndef _LAB_POOL_UNCHECKED
	/* "off" keeps no per-buffer state: one test per burst, no shadow. */
	q = _lab_pool_q((const struct lab_pool_hot *)p);
	if (LAB_Q_LEVEL(q) != LAB_QUALITY_OFF)
		_lab_shadow_mark((const struct lab_pool_hot *)p, bufs, n,
				 LAB_SH_SITE(site) | _lab_cache_held(c, q));
#endif
	return n;
}

#define lab_alloc_bulk(p, c, bufs, n, flags) lab_alloc_bulk_at(p, c, bufs, n, flags, LAB_SITE())

/** One buffer for an atomic caller (RX refill), or NULL at once. */
#define lab_alloc_atomic(p, c)                                                       \
	({                                                                           \
		struct lab_buf *lab_b_ = NULL;                                       \
		unsigned int lab_n_ =                                                \
			lab_alloc_bulk_at(p, c, &lab_b_, 1, LAB_ALLOC_ATOMIC, LAB_SITE()); \
		lab_n_ == 1 ? lab_b_ : NULL;                                         \
	})

/** One buffer for an ordinary caller (fails at min), or NULL at once. */
#define lab_alloc(p, c)                                                              \
	({                                                                           \
		struct lab_buf *lab_b_ = NULL;                                       \
		unsigned int lab_n_ = lab_alloc_bulk_at(p, c, &lab_b_, 1, 0, LAB_SITE()); \
		lab_n_ == 1 ? lab_b_ : NULL;                                         \
	})

/**
 * Give back @p n buffers. Never fails, never waits. Called as
 * lab_free_bulk(c, bufs, n); the _at form takes the call site explicitly.
 *
 * Under "sampled" and "full" every buffer is checked against its shadow word
 * first: a buffer that is not in flight (a double free), is held by another
 * owner (a foreign free), or is not a buffer of the pool is not put back; the
 * finding is counted and queued for the warden to report (no system call
 * here). Under "sampled" one free in N, under "full" every free, poisons the
 * buffer and puts it in quarantine for the warden's checks instead. Under
 * "off" nothing is checked: a buffer is a pointer, as in DPDK, and a double
 * free corrupts the pool.
 *
 * @param c the caller's owner cache, or NULL for the shared-ring path (then
 *          all buffers must come from one pool).
 * @return buffers accepted (n unless findings).
 */
static inline unsigned int lab_free_bulk_at(struct lab_cache *c, struct lab_buf *const *bufs,
					    unsigned int n, const void *site)
{
#ifndef _LAB_POOL_UNCHECKED
	const struct lab_pool_hot *h;
	unsigned int ok;
	uint32_t q;
#endif

	if (lab_unlikely(c == NULL))
		return _lab_pool_ring_free(bufs, n, site);
#ifndef _LAB_POOL_UNCHECKED
	h = (const struct lab_pool_hot *)c->pool;
	q = _lab_pool_q(h);
	if (LAB_Q_LEVEL(q) != LAB_QUALITY_OFF) {
		uint64_t held = _lab_cache_held(c, q);

		if (LAB_Q_LEVEL(q) == LAB_QUALITY_FULL || (c->sample_left -= (int32_t)n) <= 0)
			return _lab_free_slow(c->pool, c, bufs, n, 0, site);
		/* in flight -> cached: both state bits flip */
		ok = _lab_shadow_free(h, bufs, n, held, LAB_SH_SITE(site) | (held ^ 3));
		if (lab_unlikely(ok != n))
			return _lab_free_slow(c->pool, c, bufs, n, ok, site);
	}
#else
	(void)site;
#endif
	if (lab_likely(c->len + n <= c->flush)) {
		lab_ptr_copy(&c->objs[c->len], bufs, n);
		LAB_CACHE_LEN_SET(c, c->len + n);
		LAB_COUNT_ADD(c->st.frees, n);
		return n;
	}
	_lab_cache_spill_free(c, bufs, n);
	return n;
}

#define lab_free_bulk(c, bufs, n) lab_free_bulk_at(c, bufs, n, LAB_SITE())

/* Internal: lab_free_frames()'s slow half, for a burst with a chain in it. */
unsigned int _lab_free_chains(struct lab_cache *c, struct lab_buf *const *bufs, unsigned int n,
			      const void *site);

/**
 * Give back @p n frames, each with all its segments (lab_buf.h: a frame is
 * a chain of buffers linked by next). Every place that frees frames (a
 * driver's TX completion, an application's drops, a port's teardown) frees
 * them with this, so no segment is lost. A burst of single buffers costs one
 * test of next per frame over lab_free_bulk(); a burst with a chain in it
 * goes to an out-of-line path that frees every segment (and clears next, so
 * a segment comes out of the pool with no stale link).
 *
 * @param c the caller's owner cache (it must hold every segment), or NULL as
 *          for lab_free_bulk().
 * @return buffers (segments) accepted.
 */
static inline unsigned int lab_free_frames_at(struct lab_cache *c, struct lab_buf *const *bufs,
					      unsigned int n, const void *site)
{
	uintptr_t any = 0;

	/* One load and an OR per frame, no branch: the burst is a loop the
	 * compiler unrolls, then one test. */
	for (unsigned int i = 0; i < n; i++)
		any |= (uintptr_t)bufs[i]->next;
	if (lab_unlikely(any != 0))
		return _lab_free_chains(c, bufs, n, site);
	return lab_free_bulk_at(c, bufs, n, site);
}

#define lab_free_frames(c, bufs, n) lab_free_frames_at(c, bufs, n, LAB_SITE())

/**
 * lab_free_frames() for a caller that has read every frame's header anyway
 * (a driver summing bytes): @p any is the OR of the frames' next pointers,
 * so the burst is not walked a second time.
 */
static inline unsigned int lab_free_frames_any_at(struct lab_cache *c, struct lab_buf *const *bufs,
						  unsigned int n, uintptr_t any, const void *site)
{
	if (lab_unlikely(any != 0))
		return _lab_free_chains(c, bufs, n, site);
	return lab_free_bulk_at(c, bufs, n, site);
}

#define lab_free_frames_any(c, bufs, n, any) lab_free_frames_any_at(c, bufs, n, any, LAB_SITE())

/**
 * Give back @p n buffers of pool @p p without an owner cache (as
 * lab_free_bulk(NULL, ...), but the pool comes from the caller, not from the
 * first buffer's header: for callers that must survive a pointer that is not
 * a buffer at all, such as a mempool driver). At quality "off" nothing is
 * checked: such a pointer goes into the ring.
 */
#define lab_free_bulk_to(p, bufs, n) lab_free_bulk_to_at(p, bufs, n, LAB_SITE())

/** lab_free_bulk_to() with the call site given (a driver passes its caller's). */
static inline unsigned int lab_free_bulk_to_at(struct lab_pool *p, struct lab_buf *const *bufs,
					       unsigned int n, const void *site)
{
	return _lab_pool_ring_free_to(p, bufs, n, site);
}

/** Give back one buffer. @return 1, or 0 if the free was refused (a finding). */
#define lab_free(c, b)                                                               \
	({                                                                           \
		struct lab_buf *lab_fb_ = (b);                                       \
		lab_free_bulk_at(c, &lab_fb_, 1, LAB_SITE());                        \
	})

/* Internal (hence the underscore): the inline part of the transfers below;
 * call lab_buf_transfer(). Owner to owner of one pool (RX queue to TX queue,
 * ring ends): one load, compare and store per buffer, up to the first that
 * fails the check; at "off", nothing. The rest (callers without a cache, two
 * pools, findings) go the slow way. */
static inline unsigned int _lab_buf_transfer_fast(struct lab_cache *from, struct lab_cache *to,
						  struct lab_buf *const *bufs, unsigned int n)
{
	uint32_t q;

	if (lab_unlikely(from == NULL || to == NULL || from->pool != to->pool))
		return 0;
	q = _lab_pool_q((const struct lab_pool_hot *)from->pool);
	if (LAB_Q_LEVEL(q) == LAB_QUALITY_OFF)
		return n;
	return _lab_shadow_pass((const struct lab_pool_hot *)from->pool, bufs, n,
				LAB_SH_EP(LAB_Q_EPOCH(q)) |
				LAB_SH_KEY(from->owner, LAB_BUF_IN_FLIGHT),
				~(LAB_SH_OWNER | LAB_SH_SCAN),
				(uint64_t)to->owner << LAB_SH_OWNER_SHIFT);
}

/**
 * Hand buffers held by owner @p from to owner @p to (RX queue to TX queue,
 * worker to worker): afterwards only @p to may free them. NULL means "callers
 * without a cache". The holder calls it, before it passes the pointers on. A
 * buffer @p from does not hold is not handed on; the finding is counted and
 * queued. No system call. Called as lab_buf_transfer(from, to, bufs, n);
 * the _at form takes the call site explicitly.
 *
 * @return buffers handed on.
 */
static inline unsigned int lab_buf_transfer_at(struct lab_cache *from, struct lab_cache *to,
					       struct lab_buf *const *bufs, unsigned int n,
					       const void *site)
{
	unsigned int i = _lab_buf_transfer_fast(from, to, bufs, n);

	if (lab_likely(i == n))
		return n;
	return i + _lab_buf_transfer_slow(from, to, bufs + i, n - i, site);
}

#define lab_buf_transfer(from, to, bufs, n) lab_buf_transfer_at(from, to, bufs, n, LAB_SITE())

/**
 * As lab_buf_transfer(), and afterwards the buffers handed on are the first
 * ones of @p bufs, in their order; the refused ones are dropped from the
 * array. For a caller that passes on exactly what it handed on (a TX queue):
 * after a short transfer, "held by @p to now" does not say "handed on by this
 * call" (a buffer listed twice, or one @p to already held, is both), so
 * lab_buf_held_by() cannot sort them.
 *
 * @return buffers handed on: bufs[0 .. return) are now held by @p to.
 */
static inline unsigned int lab_buf_transfer_keep_at(struct lab_cache *from, struct lab_cache *to,
						    struct lab_buf **bufs, unsigned int n,
						    const void *site)
{
	unsigned int i = _lab_buf_transfer_fast(from, to, bufs, n);

	if (lab_likely(i == n))
		return n;
	return i + _lab_buf_transfer_keep_slow(from, to, bufs + i, n - i, site);
}

#define lab_buf_transfer_keep(from, to, bufs, n)                                     \
	lab_buf_transfer_keep_at(from, to, bufs, n, LAB_SITE())

/**
 * Whether owner @p c (NULL: callers without a cache) holds buffer @p b now,
 * as its shadow records it: in flight and owned by @p c. True also when the
 * shadow does not know (quality "off", or a word from before the last switch
 * from "off"): not refused. To learn which buffers a short transfer handed
 * on, use lab_buf_transfer_keep() instead.
 */
bool lab_buf_held_by(const struct lab_cache *c, const struct lab_buf *b);

/** Pool creation options. Grows only at the end; set @c size to sizeof. */
struct lab_pool_opts {
	size_t size;                  /**< sizeof(struct lab_pool_opts) */
	const char *name;             /**< for messages, stats and the warden */
	uint32_t cell_size;           /**< bytes per cell: 64-byte header + headroom + data */
	uint32_t headroom;            /**< bytes before the data */
	uint32_t initial;             /**< buffers at create (rounded up to whole chambers) */
	uint32_t max;                 /**< buffers at most; the warden grows toward it */
	struct lab_count wm_min;      /**< ordinary callers fail below this many free */
	struct lab_count wm_low;      /**< below this, kick the warden */
	struct lab_count wm_high;     /**< the warden refills up to this */
	struct lab_count reserve;     /**< how far below min atomic callers may go */
	size_t page_size;             /**< chamber size: 2 MiB or 1 GiB */
	enum lab_iova_mode iova_mode; /**< auto, pa or va */
	int numa_node;                /**< -1: no placement */
	enum lab_hugepages hugepages; /**< auto, require or off */
	uint32_t shrink_delay_ms;     /**< free above high this long before a chamber goes */
	enum lab_quality quality;     /**< off, sampled or full (switchable: lab_pool_set_quality) */
	uint32_t sample_rate;         /**< under sampled, one free in this many is checked */
	size_t quarantine_bytes;      /**< byte budget of the quarantine FIFO */
	uint32_t leak_age_ms;         /**< report buffers in flight longer than this (0: never) */
	enum lab_quality_policy policy; /**< what a finding does besides being reported */
	uint32_t quarantine_hold_ms;  /**< a quarantined buffer waits this to 2x this before
				       *   the warden checks it, unless the budget is half
				       *   used or free is below low (0: 100 ms) */
	uint32_t align;               /**< cells start at multiples of this (a power of two;
				       *   0: 64). With headroom = align - 64, every buffer's
				       *   data is aligned to it: what O_DIRECT I/O needs */
	uint32_t sample_budget;       /**< under sampled, deep samples per ms at most, over
				       *   all owners (0: 256); beyond it the sampler backs off
				       *   (counted in sample_backoffs) */
	bool shared;                  /**< memory another process can map: the arena is one
				       *   file kept open (LAB_ARENA_F_SHARED), listed by
				       *   lab_pool_regions() for a vhost-user peer */
};

/** Defaults: the values of config/labyrinth.conf. */
void lab_pool_opts_init(struct lab_pool_opts *o);

/* Options from a config file: lab_pool_opts_from_config() in lab_config.h. */

/**
 * Create a pool and register it with the warden (started with the first pool).
 * Control path.
 *
 * @return the pool, or NULL with lab_errno: EINVAL for inconsistent options
 *         (the message names the values: min > low, reserve > min or size,
 *         cell smaller than header + headroom, initial > max), ENOMEM, or an
 *         arena error (see lab_arena_create()).
 */
struct lab_pool *lab_pool_create(const struct lab_pool_opts *opts);

/**
 * Destroy a pool. Control path. Refuses while owner caches exist or buffers
 * are in flight, reporting how many and which owners hold them; the pool is
 * left intact and usable.
 *
 * @return 0; -EBUSY as described; -EINVAL for NULL.
 */
int lab_pool_destroy(struct lab_pool *p);

/**
 * Make an owner cache (for an RX queue or a worker thread). Control path.
 *
 * @param name  owner name for reports ("rxq0", "worker1")
 * @param size  refill target, 1..LAB_BURST_MAX (0: 256)
 * @return the cache, or NULL with lab_errno EINVAL (size) / ENOSPC (64 owners) / ENOMEM.
 */
struct lab_cache *lab_cache_create(struct lab_pool *p, const char *name, unsigned int size);

/** Return every cached buffer to the shared ring. Owner thread only. */
void lab_cache_flush(struct lab_cache *c);

/** Flush and free an owner cache. Control path; owner thread or after it stopped. */
void lab_cache_destroy(struct lab_cache *c);

/** Kinds of quality finding. */
enum lab_finding_kind {
	LAB_FIND_DOUBLE_FREE,      /**< freed while not in flight */
	LAB_FIND_FOREIGN_FREE,     /**< freed by an owner that does not hold it */
	LAB_FIND_BAD_BUFFER,       /**< not a buffer of this pool (or its header's index is) */
	LAB_FIND_FOREIGN_TRANSFER, /**< handed on by an owner that does not hold it */
	LAB_FIND_USE_AFTER_FREE,   /**< its data room changed while in quarantine */
	LAB_FIND_OVERRUN,          /**< the redzone after its data room was written */
	LAB_FIND_HEADER,           /**< its header's fixed fields were overwritten (an underrun,
				    *   or the overrun of the buffer before it) */
	LAB_FIND_LEAK,             /**< in flight longer than the leak age */
	LAB_FIND_KINDS
};

/** One finding, as the warden reports it. */
struct lab_finding {
	enum lab_finding_kind kind;
	const struct lab_pool *pool;
	const struct lab_buf *buf; /**< the pointer given, or the buffer checked */
	uint32_t idx;              /**< buffer index (UINT32_MAX if not a buffer of the pool) */
	uint16_t holder;           /**< owner id the shadow records */
	uint16_t caller;           /**< owner id of the caller (bad frees and transfers) */
	uint8_t state;             /**< enum lab_buf_state the shadow records */
	const void *site;          /**< where the bad call was made (bad frees, transfers) */
	const void *alloc_site;    /**< where the buffer was last allocated, if known */
	const void *free_site;     /**< where it was last freed, if known */
	uint32_t offset;           /**< use-after-free: first byte changed, from buf_addr;
				    *   overrun: bytes past the data room it reached;
				    *   header: first byte changed, from the header's start */
	uint32_t bytes;            /**< bytes found changed */
	uint64_t age_ms;           /**< leak: how long it has been in flight (at least) */
};

/** "double_free", "foreign_free", "bad_buffer", "foreign_transfer", "use_after_free",
 *  "overrun", "header", "leak": the one spelling of a kind in logs, JSON keys,
 *  Prometheus labels and DPDK telemetry keys (which allow letters, digits and
 *  '_' only). */
const char *lab_finding_kind_name(enum lab_finding_kind k);

/** Called for every finding after it is logged, on the thread that reports it (the
 * warden, or a caller of lab_pool_report_findings / lab_pool_quality_check). */
typedef void (*lab_finding_cb)(const struct lab_finding *f, void *arg);

/** Set the pool's finding callback (NULL: none). Control path. */
void lab_pool_set_finding_cb(struct lab_pool *p, lab_finding_cb cb, void *arg);

/**
 * Switch the quality level at run time. Takes effect for the next free of
 * every owner; buffers already in quarantine are still checked.
 *
 * @param sample_rate under sampled, one free in this many (1..2^30); 0 keeps it
 * @return 0, or -EINVAL (naming the value) for a bad level or rate.
 */
int lab_pool_set_quality(struct lab_pool *p, enum lab_quality level, uint32_t sample_rate);

/**
 * Set the budget of deep samples under "sampled": at most @p per_ms frees
 * picked for a deep check per ms, over all owners (KFENCE's bound: the
 * warden's deep work has a ceiling whatever the free rate). A free due for a
 * sample beyond it is an ordinary free, counted in sample_backoffs.
 *
 * @return 0, or -EINVAL (naming the value) for 0 or more than 2^30.
 */
int lab_pool_set_sample_budget(struct lab_pool *p, uint32_t per_ms);

/** The current quality level. */
enum lab_quality lab_pool_quality(const struct lab_pool *p);

/** Set the policy for findings. Control path. @return 0 or -EINVAL. */
int lab_pool_set_policy(struct lab_pool *p, enum lab_quality_policy policy);

/** Set the leak age (0: no leak reports). Control path. */
void lab_pool_set_leak_age(struct lab_pool *p, uint32_t ms);

/**
 * Report queued findings now (the warden does it every period). Control
 * path: logs one line per finding, calls the callback.
 *
 * @return findings reported.
 */
unsigned int lab_pool_report_findings(struct lab_pool *p);

/**
 * Do the warden's quality work now, without waiting for it: check every
 * buffer in quarantine (poison, redzone, header), zero and release it, scan
 * for leaks older than the leak age, and report every finding. Control path.
 *
 * @return buffers released from quarantine.
 */
unsigned int lab_pool_quality_check(struct lab_pool *p);

/** Pool-wide figures (a snapshot; the accounting identity is exact at quiet points). */
struct lab_pool_stats {
	uint64_t total;       /**< buffers in mapped chambers */
	uint64_t free;        /**< in the shared ring (and its overflow list) */
	uint64_t cached;      /**< in owner caches */
	uint64_t quarantined; /**< waiting for the warden's checks */
	uint64_t retired;     /**< taken out of use by the retire policy */
	uint64_t in_flight;   /**< held by owners: total - free - cached - quarantined - retired,
			       *   0 when that is negative (see in_flight_signed) */
	uint64_t chambers;    /**< mapped chambers */
	uint64_t grows;       /**< chambers added by the warden */
	uint64_t shrinks;     /**< chambers released by the warden */
	uint64_t grow_failures;
	uint64_t kicks;       /**< kicks the warden answered */
	uint32_t wm_min, wm_low, wm_high, wm_atomic;
	uint32_t per_chamber; /**< buffers per chamber */
	uint32_t owners;      /**< owner caches */
	struct lab_owner_stats sum; /**< all owners, including no-cache callers */
	enum lab_quality quality;   /**< current level */
	uint32_t sample_rate;
	uint64_t findings[LAB_FIND_KINDS]; /**< quality findings by kind */
	uint64_t findings_dropped;  /**< records lost to a full queue (still counted above) */
	uint64_t quarantine_skipped; /**< "unchecked": frees picked for a deep check that were
				      *   not deep-checked. 0: a full quarantine makes the sampler
				      *   back off before it picks (sample_backoffs), and "full"
				      *   checks inline (checked_at_once); kept so that a reader
				      *   of the name sees it is 0 */
	uint32_t reserve;            /**< reserve size: wm_min - wm_atomic */
	uint64_t reserve_in_use;     /**< reserve buffers in use now: free below min, at most
				      *   the reserve */
	uint64_t findings_total;     /**< findings of every kind */
	int64_t in_flight_signed;    /**< total - free - cached - quarantined - retired, not
				      *   clamped: below 0 when buffers are counted twice (a
				      *   double free no check caught), where @c in_flight shows 0.
				      *   The accounting is right only when this equals the
				      *   buffers really held (0 at teardown), in either
				      *   direction */
	/* Sampling (quality "sampled"): what the sampler really did. A free
	 * picked for a deep check is always checked; quarantine_skipped above
	 * counts the ones that were not ("unchecked": 0 unless the quarantine
	 * stayed full through a free's own bounded checks under "full"). */
	uint64_t deep_checked;       /**< frees deep-checked (poison, redzone, header) */
	uint64_t sample_backoffs;    /**< frees due for a sample that the sampler skipped
				      *   (staging or quarantine full, budget spent): ordinary
				      *   frees, their ownership checked as always */
	double sample_effective_rate; /**< frees per deep check over the pool's life (compare
				       *   with sample_rate; 0: none checked yet) */
	uint32_t sample_budget;      /**< deep samples per ms at most */
	uint64_t staged;             /**< sampled frees waiting for the warden to poison them
				      *   (part of @c quarantined) */
	uint64_t checked_at_once;    /**< under "full", frees the quarantine could not take
				      *   even after the freeing thread checked the oldest:
				      *   header and redzone checked at the free, no hold (a
				      *   write after that free is not caught) */
};

/** Take a snapshot of the pool's figures. Control path. */
void lab_pool_stats(struct lab_pool *p, struct lab_pool_stats *st);

/** Write the stats as one JSON object (with per-owner counters) and a newline. */
void lab_pool_stats_json(struct lab_pool *p, FILE *f);

/**
 * Call @p fn for every pool, newest first, until it returns non-zero. Control
 * path: it holds the warden's pool list (the warden waits, pools cannot be
 * destroyed meanwhile), so @p fn must be short and must not create or destroy
 * pools.
 *
 * @return the first non-zero value @p fn returned, or 0.
 */
int lab_pool_foreach(int (*fn)(struct lab_pool *p, void *arg), void *arg);

/** What the warden thread has been doing. */
struct lab_warden_stats {
	bool running;              /**< the thread exists (some pool is alive) */
	unsigned int pools;        /**< pools it tends */
	uint32_t period_us;        /**< its tick */
	uint64_t ticks;            /**< tends done since the process started */
	uint64_t last_tick_age_us; /**< since the last one ended (0: none yet); far above
				    *   period_us means the warden is stuck or starved */
};

/** Take a snapshot of the warden's figures. Control path. */
void lab_warden_stats(struct lab_warden_stats *st);

/** Name given at create. */
const char *lab_pool_name(const struct lab_pool *p);

/** Bytes of data room per buffer (cell - header - headroom). */
uint32_t lab_pool_data_room(const struct lab_pool *p);

/** The pool's arena (for IOVA lookups and chamber info). */
struct lab_arena *lab_pool_arena(const struct lab_pool *p);

/**
 * The pool's memory as one range, for registering it whole with the kernel
 * (an AF_XDP UMEM, io_uring fixed buffers). Only a fixed pool qualifies: one
 * whose initial size fills its max chambers, so every chamber was mapped at
 * create and none is ever released or added. Control path.
 *
 * @return 0 with @p *base and @p *len set (every byte mapped, every buffer of
 *         the pool inside); -EBUSY, with a message naming initial and max, if
 *         the pool can grow or shrink.
 */
int lab_pool_memory(const struct lab_pool *p, void **base, size_t *len);

/**
 * The memory of a shared pool (lab_pool_opts.shared) as file regions another
 * process can map, for a vhost-user SET_MEM_TABLE (docs/architecture.md,
 * "Shared memory"). A peer maps the regions once, so only a fixed pool
 * qualifies, as for lab_pool_memory(). Fills up to @p max of @p out. Control
 * path.
 *
 * @return the number of regions (one for a fixed pool); -ENOTSUP, with a
 *         message, for a pool that is not shared or is external; -EBUSY, with
 *         a message naming initial and max, if the pool can grow or shrink.
 */
int lab_pool_regions(const struct lab_pool *p, struct lab_mem_region *out, unsigned int max);

#ifdef __cplusplus
}
#endif

#endif /* LAB_POOL_H */
