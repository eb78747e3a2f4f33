/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * INTERNAL: the fields the inline fast path needs; not API; may change
 * without notice.
 *
 * lab_pool.h allocates and frees in static inline functions (as DPDK's
 * rte_mempool.h does), so the layout they read must be visible to the
 * compiler in every caller: the pool's hot part, the shadow word layout, the
 * inline shadow helpers and the out-of-line halves they call. That is all
 * this header is for. Include lab_pool.h, never this header; do not read or
 * write anything declared here, and do not call its functions (the leading
 * underscore marks them): the shadow is the quality checks' own record of
 * who holds each buffer, and a write from outside defeats every check.
 */
#ifndef LAB_POOL_INLINE_H
#define LAB_POOL_INLINE_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include <labyrinth/lab_buf.h>
#include <labyrinth/lab_common.h>

#ifdef __cplusplus
extern "C" {
#endif

struct lab_cache;
struct lab_pool;
struct lab_ring;

/*
 * Shadow metadata of one buffer, indexed by buffer index and kept outside the
 * arena (no device can DMA over it), as KASAN keeps its shadow apart. The hot
 * part is one 64-bit word, so the data path writes one word per buffer:
 *
 *   bits  0..1   state (enum lab_buf_state, lab_pool.h)
 *   bits  2..7   owner id (0: callers without an owner cache, and the pool)
 *   bit   8      leak-scan mark: set by the warden's leak scan on a word in
 *                flight; every allocation, free and hand-off writes a word
 *                without it, so a word that still has it at the next scan has
 *                been in flight, untouched, since the scan that set it
 *   bits  9..11  unused (0)
 *   bits 12..15  epoch: the checked period the word was written in (below)
 *   bits 16..63  site: the code address of the last allocation while the
 *                buffer is in flight, of the last free otherwise (user space
 *                addresses fit in 47 bits)
 *
 * At quality "off" the data path neither reads nor writes the shadow, so its
 * words go stale. Each switch from "off" to a checked level starts a new
 * epoch (1..15, then 1 again; 0 is never current): a check trusts only a
 * word of the current epoch, and takes any other as "not known" (the free or
 * hand-off is accepted and the word rewritten). So a buffer handed out at
 * "off" is checked from its first allocation at the new level on, and a
 * thread still finishing a checked operation from before the switch to "off"
 * cannot make a word that looks current. The switch clears the epoch it is
 * about to reuse from every word first (lab_pool_set_quality).
 *
 * The data path writes whole words: an allocation stores one with a plain
 * store and reads nothing; a free or hand-off loads the word, compares it and
 * stores the new one. Nothing is counted in the word (no generation), so no
 * writer needs what the word held before, except the site a hand-off keeps.
 *
 * @c buf is the buffer the index belongs to: a pointer whose header gives an
 * index whose shadow names another buffer is refused as a bad buffer.
 */
struct lab_shadow {
	_Atomic uint64_t w;
	struct lab_buf *buf; /**< written by the warden (grow, shrink): relaxed atomic access */
};

#define LAB_SH_STATE 0x3ull
#define LAB_SH_OWNER_SHIFT 2
#define LAB_SH_OWNER (0x3full << LAB_SH_OWNER_SHIFT)
#define LAB_SH_SCAN (1ull << 8)
#define LAB_SH_EPOCH_SHIFT 12
#define LAB_SH_EPOCH (0xfull << LAB_SH_EPOCH_SHIFT)
/** Epoch bits of a shadow word. */
#define LAB_SH_EP(e) ((uint64_t)(e) << LAB_SH_EPOCH_SHIFT)
/** Owner, state and epoch: what a check compares. */
#define LAB_SH_CHECKED (LAB_SH_OWNER | LAB_SH_STATE | LAB_SH_EPOCH)
#define LAB_SH_SITE_SHIFT 16
/** Owner and state bits of a shadow word. */
#define LAB_SH_KEY(owner, state) (((uint64_t)(owner) << LAB_SH_OWNER_SHIFT) | (uint64_t)(state))
/** Site bits of a shadow word. */
#define LAB_SH_SITE(site) ((uint64_t)(uintptr_t)(site) << LAB_SH_SITE_SHIFT)

/**
 * The part of the pool the inline fast path reads. struct lab_pool starts
 * with it; never use it directly.
 */
struct lab_pool_hot {
	struct lab_ring *ring;     /**< shared free ring */
	uint32_t wm_min;           /**< ordinary callers keep free >= this */
	uint32_t wm_atomic;        /**< atomic callers keep free >= this (min - reserve) */
	uint32_t wm_low;           /**< below this the warden is kicked */
	uint32_t shadow_cap;       /**< shadow entries: the most buffers the pool can map */
	struct lab_shadow *shadow; /**< per buffer index */
	/** enum lab_quality in bits 0..7, the shadow epoch in bits 8..11: one
	 *  load gives the data path both (LAB_Q_LEVEL, LAB_Q_EPOCH) */
	_Atomic uint32_t quality;
	_Atomic int32_t sample_rate; /**< under "sampled": one free in this many */
	_Atomic uint32_t kick __attribute__((aligned(LAB_CACHE_LINE)));
};

/** The level and the shadow epoch of a lab_pool_hot::quality value. */
#define LAB_Q_LEVEL(q) ((q) & 0xffu)
#define LAB_Q_EPOCH(q) (((q) >> 8) & 0xfu)

/** The quality word of @p h (one relaxed load: per burst, not per buffer). */
static inline uint32_t _lab_pool_q(const struct lab_pool_hot *h)
{
	/* Acquire, paired with the switch's release: who sees a new epoch sees
	 * the words the switch cleared of it (a plain load on x86). */
	return atomic_load_explicit(&((struct lab_pool_hot *)(uintptr_t)h)->quality,
				    memory_order_acquire);
}

/* The epoch bits a writer that keeps a word's epoch may keep: the word's, if
 * it is the epoch the writer sees as current, else 0 (not known). A kept old
 * epoch could be one the switch just cleared, and would be revived when that
 * epoch comes round. */
static inline uint64_t _lab_sh_keep_epoch(uint64_t w, uint64_t ep)
{
	return (w & LAB_SH_EPOCH) == ep ? ep : 0;
}

/** Set an owner cache's length: its owner writes it, lab_pool_stats() reads
 * it from another thread (a relaxed store: a plain move). */
#define LAB_CACHE_LEN_SET(c, v) __atomic_store_n(&(c)->len, (v), __ATOMIC_RELAXED)

/*
 * Out-of-line halves of the fast path (lib/pool/pool_fast.c, pool_nocache.c,
 * quality_free.c): the static inline calls of lab_pool.h call them, so they
 * are exported, under a leading underscore because nothing else may. Each
 * takes over from the inline part where it stops (an empty or full owner
 * cache, no owner cache, a shadow check that failed, a sampled free).
 * _lab_free_slow is for owner caches (c not NULL); callers without one go
 * through _lab_pool_ring_free.
 */
unsigned int _lab_cache_refill_alloc(struct lab_cache *c, struct lab_buf **bufs, unsigned int n,
				     unsigned int flags);
void _lab_cache_spill_free(struct lab_cache *c, struct lab_buf *const *bufs, unsigned int n);
unsigned int _lab_pool_ring_alloc(struct lab_pool *p, struct lab_buf **bufs, unsigned int n,
				  unsigned int flags, const void *site);
unsigned int _lab_pool_ring_free(struct lab_buf *const *bufs, unsigned int n, const void *site);
unsigned int _lab_pool_ring_free_to(struct lab_pool *p, struct lab_buf *const *bufs, unsigned int n,
				    const void *site);
unsigned int _lab_free_slow(struct lab_pool *p, struct lab_cache *c, struct lab_buf *const *bufs,
			    unsigned int n, unsigned int ok, const void *site);
unsigned int _lab_buf_transfer_slow(struct lab_cache *from, struct lab_cache *to,
				    struct lab_buf *const *bufs, unsigned int n, const void *site);
unsigned int _lab_buf_transfer_keep_slow(struct lab_cache *from, struct lab_cache *to,
					 struct lab_buf **bufs, unsigned int n, const void *site);

/*
 * Mark buffers an allocation just took as in flight: one plain 8-byte store
 * per buffer of the whole word @p w (owner, state, epoch, site), reading
 * nothing. Taken from a cache or the ring, they are the caller's alone, so no
 * other writer can race the store (the warden's leak-scan mark may be lost,
 * which only restarts that buffer's leak clock). The shadow's base and size
 * are loaded once per burst.
 */
static inline void _lab_shadow_mark(const struct lab_pool_hot *h, struct lab_buf *const *bufs,
				    unsigned int n, uint64_t w)
{
	struct lab_shadow *shadow = h->shadow;
	uint32_t cap = h->shadow_cap;
	struct lab_buf *const *end = bufs + n;

	/* A pointer walk: one compare per buffer, no count kept. */
	for (; bufs != end; bufs++) {
		uint32_t idx = (*bufs)->idx;

		if (lab_likely(idx < cap))
			atomic_store_explicit(&shadow[idx].w, w, memory_order_relaxed);
	}
}

/*
 * Rewrite the shadow words of buffers the caller holds alone (no check: an
 * allocation marking its buffers in flight, a buffer moving between a cache
 * and the ring): keep the bits of @p keep, set @p set. One load and one store
 * each; before a put, so no other thread can take a buffer mid-write. The
 * epoch is never kept as it is: @p set gives it, or the word keeps it only if
 * it is @p ep, the caller's current one (_lab_sh_keep_epoch). The leak-scan
 * mark is never kept.
 */
static inline void _lab_shadow_set(const struct lab_pool_hot *h, struct lab_buf *const *bufs,
				   unsigned int n, uint64_t keep, uint64_t set, uint64_t ep)
{
	struct lab_shadow *shadow = h->shadow;
	uint32_t cap = h->shadow_cap;

	keep &= ~(LAB_SH_EPOCH | LAB_SH_SCAN);
	for (unsigned int i = 0; i < n; i++) {
		uint32_t idx = bufs[i]->idx;

		if (lab_likely(idx < cap)) {
			struct lab_shadow *sh = &shadow[idx];
			uint64_t w = atomic_load_explicit(&sh->w, memory_order_relaxed);

			atomic_store_explicit(&sh->w, (w & keep) | set | _lab_sh_keep_epoch(w, ep),
					      memory_order_relaxed);
		}
	}
}

/*
 * Check buffers against the shadow and rewrite their words: each buffer must
 * be this pool's, in flight and held by the owner @p key names, by a word of
 * the epoch @p key names (any other epoch goes to the slow path); its word
 * becomes (w & @p keep) | @p set. A free marks it cached (keep nothing; set
 * state, owner, epoch and site); a hand-off changes the owner (keep the site
 * and epoch, set the new owner and state). One load, compare and store per
 * buffer, with no atomic read-modify-write: the owner is the only writer of
 * its buffers' words. Rewrites as it goes, so a buffer given twice in one
 * burst fails at its second appearance. Returns how many leading buffers
 * passed; the caller's slow path takes the rest (_lab_free_slow,
 * _lab_buf_transfer_slow).
 */
/* The one check of every free and hand-off by an owner: the entry of @p b's
 * index names @p b, and its word has the owner, state and epoch of @p key.
 * @return whether it passed; the entry in *@p shp and its word in *@p w. */
static inline bool _lab_shadow_held(struct lab_shadow *shadow, uint32_t cap,
				    const struct lab_buf *b, uint64_t key,
				    struct lab_shadow **shp, uint64_t *w)
{
	uint32_t idx = b->idx;

	if (lab_unlikely(idx >= cap))
		return false;
	*shp = &shadow[idx];
	*w = atomic_load_explicit(&(*shp)->w, memory_order_relaxed);
	return lab_likely(__atomic_load_n(&(*shp)->buf, __ATOMIC_RELAXED) == b &&
			  (*w & LAB_SH_CHECKED) == key);
}

static inline unsigned int _lab_shadow_pass_one(const struct lab_pool_hot *h,
						struct lab_buf *b, uint64_t key, uint64_t keep,
						uint64_t set)
{
	struct lab_shadow *sh;
	uint64_t w;

	if (!_lab_shadow_held(h->shadow, h->shadow_cap, b, key, &sh, &w))
		return 0;
	atomic_store_explicit(&sh->w, (w & keep) | set, memory_order_relaxed);
	return 1;
}

/* The loop of _lab_shadow_pass, out of line (lib/pool/pool_fast.c): inlined
 * into a caller's loop it spills half its values to the stack; called, it
 * has the registers to itself. */
unsigned int _lab_shadow_pass_burst(const struct lab_pool_hot *h, struct lab_buf *const *bufs,
				    unsigned int n, uint64_t key, uint64_t keep, uint64_t set);

static inline unsigned int _lab_shadow_pass(const struct lab_pool_hot *h,
					    struct lab_buf *const *bufs, unsigned int n,
					    uint64_t key, uint64_t keep, uint64_t set)
{
	if (n == 1)
		return _lab_shadow_pass_one(h, bufs[0], key, keep, set);
	return _lab_shadow_pass_burst(h, bufs, n, key, keep, set);
}

/* The free's pass: the whole word from @p mark (state, owner, epoch, site). */
static inline unsigned int _lab_shadow_free(const struct lab_pool_hot *h,
					    struct lab_buf *const *bufs, unsigned int n,
					    uint64_t key, uint64_t mark)
{
	return _lab_shadow_pass(h, bufs, n, key, 0, mark);
}

#ifdef __cplusplus
}
#endif

#endif /* LAB_POOL_INLINE_H */
