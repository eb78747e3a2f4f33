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
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include <labyrinth/lab_common.h>
#include <labyrinth/lab_config.h>
#include <labyrinth/lab_ring.h>

#ifdef __cplusplus
extern "C" {
#endif

struct lab_pool;

/**
 * The 64-byte header at the start of every cell (as ixy's pkt_buf). The cell
 * is [header | headroom | data room]; buf_addr points just past the header.
 */
struct lab_buf {
	void *buf_addr;        /**< start of headroom + data room */
	uint64_t buf_iova;     /**< IOVA of buf_addr */
	struct lab_pool *pool; /**< pool it belongs to */
	uint32_t idx;          /**< buffer index in the pool: chamber * per_chamber + cell */
	uint32_t buf_len;      /**< bytes from buf_addr: headroom + data room */
	uint16_t data_off;     /**< data start from buf_addr (the headroom when handed out) */
	uint16_t owner;        /**< for the holder's use (quality checks keep theirs in shadow) */
	uint32_t data_len;     /**< bytes of data */
	uint16_t port;         /**< port it arrived on or leaves by */
	uint16_t queue;        /**< queue on that port */
	uint32_t hash;         /**< RSS or flow hash, for drivers */
	uint32_t ol_flags;     /**< offload flags, for drivers */
	uint32_t udata32;      /**< for the application */
	struct lab_buf *next;  /**< next segment while held; overflow link while free */
};
static_assert(sizeof(struct lab_buf) == 64, "lab_buf must be one cache line");

/** Start of the data. */
static inline void *lab_buf_data(const struct lab_buf *b)
{
	return (char *)b->buf_addr + b->data_off;
}

/** IOVA of the data. */
static inline uint64_t lab_buf_data_iova(const struct lab_buf *b)
{
	return b->buf_iova + b->data_off;
}

/** Set data_off to the headroom, data_len to 0 and clear the chain (drivers
 * call it when they fill a buffer; the pool itself never touches buffers). */
static inline void lab_buf_reset(struct lab_buf *b, uint16_t headroom)
{
	b->data_off = headroom;
	b->data_len = 0;
	b->next = NULL;
}

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

/** Largest burst one call moves. */
#define LAB_BURST_MAX 512u

/** An owner cache. Only its owner thread may touch it. */
struct lab_cache {
	struct lab_pool *pool;
	uint32_t len;   /**< buffers cached now */
	uint32_t size;  /**< refill target */
	uint32_t flush; /**< spill threshold */
	uint16_t owner; /**< owner id, for reports */
	uint16_t headroom; /**< the pool's headroom */
	struct lab_owner_stats st __attribute__((aligned(LAB_CACHE_LINE)));
	struct lab_buf *objs[] __attribute__((aligned(LAB_CACHE_LINE)));
};

/**
 * The part of the pool the inline fast path reads. struct lab_pool starts
 * with it; never use it directly.
 */
struct lab_pool_hot {
	struct lab_ring *ring; /**< shared free ring */
	uint32_t wm_min;       /**< ordinary callers keep free >= this */
	uint32_t wm_atomic;    /**< atomic callers keep free >= this (min - reserve) */
	uint32_t wm_low;       /**< below this the warden is kicked */
	_Atomic uint32_t kick __attribute__((aligned(LAB_CACHE_LINE)));
};

/* Out-of-line halves of the fast path (lib/pool/pool_fast.c). */
unsigned int lab_cache_refill_alloc(struct lab_cache *c, struct lab_buf **bufs, unsigned int n,
				    unsigned int flags);
void lab_cache_spill_free(struct lab_cache *c, struct lab_buf *const *bufs, unsigned int n);
unsigned int lab_pool_ring_alloc(struct lab_pool *p, struct lab_buf **bufs, unsigned int n,
				 unsigned int flags);
void lab_pool_ring_free(struct lab_buf *const *bufs, unsigned int n);
void lab_pool_put(struct lab_pool *p, struct lab_buf *const *bufs, unsigned int n);

/**
 * Allocate up to @p n buffers (atomic path).
 *
 * @param p     the pool
 * @param c     the caller's owner cache of @p p, or NULL for the shared-ring path
 * @param flags 0, or LAB_ALLOC_ATOMIC for RX refill (may use the reserve)
 * @return buffers written to @p bufs: n, fewer (the rest counted as misses),
 *         or 0; never waits. The pool does not touch the buffers: header
 *         fields other than buf_addr, buf_iova, pool, idx and buf_len hold what
 *         the last holder left; call lab_buf_reset() before filling one.
 */
static inline unsigned int lab_alloc_bulk(struct lab_pool *p, struct lab_cache *c,
					  struct lab_buf **bufs, unsigned int n, unsigned int flags)
{
	if (lab_unlikely(c == NULL))
		return lab_pool_ring_alloc(p, bufs, n, flags);
	if (lab_likely(c->len >= n)) {
		uint32_t len = c->len - n;

		/* Pointers only: the pool never touches buffer memory on the
		 * fast path (a cold header would cost a cache miss per buffer).
		 * The top n: the most recently freed, the cache-hot ones. */
		lab_ptr_copy(bufs, &c->objs[len], n);
		c->len = len;
		c->st.allocs += n;
		return n;
	}
	return lab_cache_refill_alloc(c, bufs, n, flags);
}

/** One buffer for an atomic caller (RX refill), or NULL at once. */
static inline struct lab_buf *lab_alloc_atomic(struct lab_pool *p, struct lab_cache *c)
{
	struct lab_buf *b = NULL;

	lab_alloc_bulk(p, c, &b, 1, LAB_ALLOC_ATOMIC);
	return b;
}

/** One buffer for an ordinary caller (fails at min), or NULL at once. */
static inline struct lab_buf *lab_alloc(struct lab_pool *p, struct lab_cache *c)
{
	struct lab_buf *b = NULL;

	lab_alloc_bulk(p, c, &b, 1, 0);
	return b;
}

/**
 * Give back @p n buffers of the cache's pool. Never fails, never waits.
 *
 * @param c the caller's owner cache, or NULL for the shared-ring path (then
 *          all buffers must come from one pool).
 */
static inline void lab_free_bulk(struct lab_cache *c, struct lab_buf *const *bufs, unsigned int n)
{
	if (lab_unlikely(c == NULL)) {
		lab_pool_ring_free(bufs, n);
		return;
	}
	if (lab_likely(c->len + n <= c->flush)) {
		lab_ptr_copy(&c->objs[c->len], bufs, n);
		c->len += n;
		c->st.frees += n;
		return;
	}
	lab_cache_spill_free(c, bufs, n);
}

/** Give back one buffer. */
static inline void lab_free(struct lab_cache *c, struct lab_buf *b)
{
	lab_free_bulk(c, &b, 1);
}

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
};

/** Defaults: the values of config/labyrinth.conf. */
void lab_pool_opts_init(struct lab_pool_opts *o);

/** Options from a config (see lab_config.h). */
void lab_pool_opts_from_config(struct lab_pool_opts *o, const struct lab_config *cfg);

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

/** Pool-wide figures (a snapshot; the accounting identity is exact at quiet points). */
struct lab_pool_stats {
	uint64_t total;       /**< buffers in mapped chambers */
	uint64_t free;        /**< in the shared ring (and its overflow list) */
	uint64_t cached;      /**< in owner caches */
	uint64_t in_flight;   /**< held by owners: total - free - cached */
	uint64_t chambers;    /**< mapped chambers */
	uint64_t grows;       /**< chambers added by the warden */
	uint64_t shrinks;     /**< chambers released by the warden */
	uint64_t grow_failures;
	uint64_t kicks;       /**< kicks the warden answered */
	uint32_t wm_min, wm_low, wm_high, wm_atomic;
	uint32_t per_chamber; /**< buffers per chamber */
	uint32_t owners;      /**< owner caches */
	struct lab_owner_stats sum; /**< all owners, including no-cache callers */
};

/** Take a snapshot of the pool's figures. Control path. */
void lab_pool_stats(struct lab_pool *p, struct lab_pool_stats *st);

/** Write the stats as one JSON object (with per-owner counters) and a newline. */
void lab_pool_stats_json(struct lab_pool *p, FILE *f);

/** Name given at create. */
const char *lab_pool_name(const struct lab_pool *p);

/** Bytes of data room per buffer (cell - header - headroom). */
uint32_t lab_pool_data_room(const struct lab_pool *p);

/** The pool's arena (for IOVA lookups and chamber info). */
struct lab_arena *lab_pool_arena(const struct lab_pool *p);

#ifdef __cplusplus
}
#endif

#endif /* LAB_POOL_H */
