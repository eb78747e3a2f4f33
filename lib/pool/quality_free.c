/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Checked frees and hand-offs: the slow half of lab_free_bulk() and
 * lab_buf_transfer() (their inline half is in lab_pool.h): runs of buffers
 * checked against the shadow, refusals turned into findings, and under
 * "sampled" and "full" the picked buffers poisoned or staged for the
 * warden's deep checks. Calls down into the findings, the quarantine and the
 * rings (docs/architecture.md, "lib/pool's layers").
 */
#include <stdlib.h>
#include <string.h>

#include "pool_internal.h"

/* Under "sampled": frees until the next one checked, uniform on 1..2N-1 (mean
 * N) so a fixed burst pattern cannot hide a buffer from the sampler. */
static __thread uint64_t rng_state __attribute__((tls_model("initial-exec")));

static int32_t next_sample(int32_t rate)
{
	uint64_t x = rng_state;

	if (rate <= 1)
		return 1;
	if (x == 0)
		x = (uint64_t)(uintptr_t)&rng_state * 0x9e3779b97f4a7c15ull | 1;
	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	rng_state = x;
	/* In 64 bits: 2 * rate - 1 overflows an int at the largest rate (2^30). */
	return 1 + (int32_t)(x % (2 * (uint64_t)rate - 1));
}

void quality_cache_init(struct lab_cache *c)
{
	c->sample_left = next_sample(atomic_load_explicit(&c->pool->hot.sample_rate,
							  memory_order_relaxed));
}

/* ------------------------------------------------------------ checked frees */

/*
 * Mark a buffer that passed its free check (@p old: its word before)
 * quarantined, and keep its sites for the report. Under "full" the caller
 * poisons it first; under "sampled" the warden does (stage_take).
 */
static void quarantine_word(struct lab_pool *p, struct lab_buf *b, uint16_t owner,
			    const void *site, uint64_t ep)
{
	atomic_store_explicit(&p->hot.shadow[b->idx].w,
			      LAB_SH_SITE(site) | ep | LAB_SH_KEY(owner, LAB_BUF_QUARANTINED),
			      memory_order_relaxed);
}

static inline const void *alloc_site_of(uint64_t old)
{
	return (old & LAB_SH_STATE) == LAB_BUF_IN_FLIGHT ? word_site(old) : NULL;
}

static void quarantine_mark(struct lab_pool *p, struct lab_buf *b, uint64_t old, uint16_t owner,
			    const void *site, uint64_t ep)
{
	cold_sites_set(&p->cold[b->idx], alloc_site_of(old), site);
	quarantine_word(p, b, owner, site, ep);
}

/* Free accepted buffers the ordinary way: into the owner cache, or (a
 * caller without a cache) into @p keep, for the caller to put in its ring. */
static void put_good(struct lab_cache *c, struct lab_buf *const *good, unsigned int n,
		     struct lab_buf **keep, unsigned int *nkeep)
{
	if (n == 0)
		return;
	if (c == NULL) {
		lab_ptr_copy(keep + *nkeep, good, n);
		*nkeep += n;
	} else if (c->len + n <= c->flush) {
		lab_ptr_copy(&c->objs[c->len], good, n);
		LAB_CACHE_LEN_SET(c, c->len + n);
		LAB_COUNT_ADD(c->st.frees, n);
	} else {
		_lab_cache_spill_free(c, good, n);
	}
}

/*
 * Queue marked, poisoned buffers for the warden ("full"), in one enqueue.
 * When the FIFO is full (the warden behind), the freeing thread checks and
 * releases as many of the oldest as it needs itself (bounded work, findings
 * queued: "full" may be slow, never skip a check). If the FIFO still has no
 * room after a few tries (another thread preempted inside its claim holds
 * the ring's tail back, and nothing here waits for it), the rest are checked
 * at once instead: header and redzone as always, the poison only just
 * written, so a write after this free is not caught; counted in
 * checked_at_once. Returns with *nq = 0.
 */
static void quarantine_flush(struct lab_pool *p, struct lab_cache *c, struct lab_buf **q,
			     unsigned int *nq)
{
	unsigned int n = *nq, k;

	if (n == 0)
		return;
	*nq = 0;
	k = lab_ring_enqueue_burst(p->quarantine, (void *const *)q, n);
	/* Room for ours and some slack: a second freeing thread under "full"
	 * takes the room one makes as readily as its maker. */
	for (int tries = 0; k < n && tries < 4; tries++) {
		quality_release(p, n - k + 64, true);
		k += lab_ring_enqueue_burst(p->quarantine, (void *const *)(q + k), n - k);
	}
	/* Given back by the owner: a free, in the warden's hands (a caller
	 * without a cache counts its own: quality_free_nocache). */
	if (c != NULL)
		LAB_COUNT_ADD(c->st.frees, n);
	if (k == n)
		return;
	atomic_fetch_add_explicit(&p->checked_at_once, n - k, memory_order_relaxed);
	atomic_fetch_add_explicit(&p->q_in_check, n - k, memory_order_relaxed);
	quality_release_bufs(p, q + k, n - k, true);
}

/*
 * Under "sampled": may this free be picked for a deep check? Only while the
 * owner's staging ring has room (@p staged entries written, not yet
 * published) and the budget of this ms is not spent, KFENCE's bound: the
 * warden's deep work per ms has a ceiling whatever the free rate. Otherwise
 * the sampler backs off (the free is an ordinary one, its ownership checked
 * as always) and the back-off is counted.
 */
static bool sample_take(struct lab_pool *p, struct sample_stage *st, unsigned int staged)
{
	if (st != NULL) {
		uint32_t used = atomic_load_explicit(&st->head, memory_order_relaxed) + staged;

		if (used - st->tail_seen >= POOL_STAGE_CAP)
			st->tail_seen = atomic_load_explicit(&st->tail, memory_order_acquire);
		if (used - st->tail_seen >= POOL_STAGE_CAP)
			goto backoff;
	}
	if (atomic_load_explicit(&p->sample_credit, memory_order_relaxed) <= 0)
		goto backoff;
	atomic_fetch_sub_explicit(&p->sample_credit, 1, memory_order_relaxed);
	return true;
backoff:
	atomic_fetch_add_explicit(&p->sample_backoffs, 1, memory_order_relaxed);
	return false;
}

/* A caller without a cache hands its sampled buffer over at once (an MPMC
 * ring: those callers share owner 0). @return false if the ring is full:
 * then the buffer is freed the ordinary way and the back-off counted. */
static bool nc_stage_put(struct lab_pool *p, struct lab_buf *b)
{
	if (lab_ring_enqueue_burst(p->nc_stage, (void *const *)&b, 1) == 1)
		return true;
	atomic_fetch_add_explicit(&p->sample_backoffs, 1, memory_order_relaxed);
	return false;
}

/* The countdown of callers without a cache (pool_nocache.c reads it too). */
__thread int32_t nocache_sample_left __attribute__((tls_model("initial-exec")));

/* An owner's buffers up to the next the sampler picks: the inline checker
 * over them. @return how many passed (the first that fails stops it). */
static inline unsigned int run_unpicked(struct lab_pool_hot *h, struct lab_buf *const *bufs,
					unsigned int n, uint32_t q, int32_t *left, uint64_t key,
					uint64_t mark)
{
	unsigned int got;

	if (q == LAB_QUALITY_SAMPLED && (unsigned int)(*left - 1) < n)
		n = (unsigned int)(*left - 1);
	got = _lab_shadow_free(h, bufs, n, key, mark);
	if (q == LAB_QUALITY_SAMPLED)
		*left -= (int32_t)got;
	return got;
}

/* The run of ordinary frees that ends before @p end goes back, counted done. */
static inline void end_run(struct lab_cache *c, struct lab_buf *const *end, unsigned int *run,
			   unsigned int *done, struct lab_buf **keep, unsigned int *nkeep)
{
	put_good(c, end - *run, *run, keep, nkeep);
	*done += *run;
	*run = 0;
}

/*
 * Stage a sampled buffer @p b for the warden (its check passed; @p old its
 * word before): in its owner's staging ring at @p slot (published by the
 * caller, once per call), or without a cache in the shared staging ring.
 * @return false when that ring was full: the buffer is then an ordinary
 * free again (its word back to what the check made of it).
 */
static bool stage_one(struct lab_pool *p, struct lab_cache *c, struct sample_stage *st,
		      uint32_t slot, struct lab_buf *b, uint64_t old, const void *site, uint64_t ep,
		      uint64_t mark)
{
	uint16_t owner = c != NULL ? c->owner : 0;

	if (st != NULL) {
		struct stage_entry *e = &st->e[slot % POOL_STAGE_CAP];

		quarantine_word(p, b, owner, site, ep);
		e->buf = b;
		e->alloc_site = alloc_site_of(old);
		LAB_COUNT_ADD(c->st.frees, 1);
		return true;
	}
	quarantine_mark(p, b, old, owner, site, ep);
	if (nc_stage_put(p, b))
		return true;
	_lab_shadow_set(&p->hot, &b, 1, 0, mark & ~LAB_SH_EPOCH, mark & LAB_SH_EPOCH);
	return false;
}

/*
 * The rest of a free: bufs[0..ok) passed the inline check already. The others
 * go in runs: a run of buffers the level does not pick is checked with the
 * inline checker and freed as one; a picked buffer (every one under "full",
 * one in N under "sampled") is checked, poisoned and queued for the warden; a
 * refused buffer gets a finding and is not put back. An owner's buffers go
 * into its cache; a caller without a cache gets its own back in @p keep
 * (quality_free_nocache), so this layer never calls up into its ring.
 */
static unsigned int free_checked(struct lab_pool *p, struct lab_cache *c,
				 struct lab_buf *const *bufs, unsigned int n, unsigned int ok,
				 const void *site, struct lab_buf **keep, unsigned int *nkeep)
{
	struct lab_pool_hot *h = &p->hot;
	uint16_t owner = c != NULL ? c->owner : 0;
	uint32_t qw = _lab_pool_q(h), q = LAB_Q_LEVEL(qw);
	uint64_t ep = LAB_SH_EP(LAB_Q_EPOCH(qw));
	uint64_t key = ep | LAB_SH_KEY(owner, LAB_BUF_IN_FLIGHT);
	uint64_t mark = LAB_SH_SITE(site) | ep |
			LAB_SH_KEY(owner, c != NULL ? LAB_BUF_CACHED : LAB_BUF_FREE);
	int32_t rate = atomic_load_explicit(&h->sample_rate, memory_order_relaxed);
	int32_t *left = c != NULL ? &c->sample_left : &nocache_sample_left;
	struct lab_buf *quar[64];
	unsigned int nq = 0, done = ok, i = ok, run = 0, nst = 0;
	struct sample_stage *st = c != NULL ? &p->stage[c->owner] : NULL;
	uint32_t head = st != NULL ? atomic_load_explicit(&st->head, memory_order_relaxed) : 0;

	/* Switched to "off" since the caller looked: free the rest unchecked. */
	if (q == LAB_QUALITY_OFF) {
		put_good(c, bufs, n, keep, nkeep);
		return n;
	}
	/* The inline path took n off the countdown before coming here. */
	if (q == LAB_QUALITY_SAMPLED && c != NULL)
		*left += (int32_t)n;
	if (q == LAB_QUALITY_SAMPLED && *left <= 0)
		*left = 1;
	put_good(c, bufs, ok, keep, nkeep);
	while (i < n) {
		struct lab_buf *b = bufs[i];
		uint64_t old = 0;
		int bad;

		/* A run the level does not pick: the inline checker, then one free.
		 * (No cache: one CAS per buffer below instead.) */
		if (c != NULL && q != LAB_QUALITY_FULL) {
			unsigned int got = run_unpicked(h, bufs + i, n - i, q, left, key, mark);

			run += got;
			i += got;
			if (i == n)
				break;
			b = bufs[i];
		}
		bad = shadow_check(h, b, key, 0, mark, c == NULL, &old);
		if (bad) {
			end_run(c, bufs + i, &run, &done, keep, nkeep);
			quality_record(p, (enum lab_finding_kind)(bad - 1), b,
				       bad - 1 == LAB_FIND_BAD_BUFFER ? UINT32_MAX : b->idx, owner,
				       site);
			i++;
			continue;
		}
		if (q == LAB_QUALITY_FULL) {
			end_run(c, bufs + i, &run, &done, keep, nkeep);
			memset(b->buf_addr, POOL_POISON, b->buf_len);
			quarantine_mark(p, b, old, owner, site, ep);
			quar[nq++] = b;
			if (nq == 64)
				quarantine_flush(p, c, quar, &nq);
			done++;
			i++;
			continue;
		}
		/* Sampled: picked if the sampler may (else an ordinary free, the
		 * back-off counted). Not poisoned here: staged for the warden. */
		if (q == LAB_QUALITY_SAMPLED && --*left <= 0) {
			*left = next_sample(rate);
			if (sample_take(p, st, nst)) {
				end_run(c, bufs + i, &run, &done, keep, nkeep);
				if (stage_one(p, c, st, head + nst, b, old, site, ep, mark)) {
					nst += st != NULL;
					done++;
					i++;
					continue;
				}
			}
		}
		run++;
		i++;
	}
	put_good(c, bufs + n - run, run, keep, nkeep);
	quarantine_flush(p, c, quar, &nq);
	/* One handoff per call: the warden sees the entries and the marks. */
	if (nst != 0)
		atomic_store_explicit(&st->head, head + nst, memory_order_release);
	return done + run;
}

unsigned int _lab_free_slow(struct lab_pool *p, struct lab_cache *c, struct lab_buf *const *bufs,
			    unsigned int n, unsigned int ok, const void *site)
{
	return free_checked(p, c, bufs, n, ok, site, NULL, NULL);
}

unsigned int quality_free_nocache(struct lab_pool *p, struct lab_buf *const *bufs, unsigned int n,
				  unsigned int ok, const void *site, struct lab_buf **keep,
				  unsigned int *nkeep)
{
	*nkeep = 0;
	return free_checked(p, NULL, bufs, n, ok, site, keep, nkeep);
}

/* The general transfer: callers without a cache (CAS), two pools, findings. */
unsigned int _lab_buf_transfer_slow(struct lab_cache *from, struct lab_cache *to,
				    struct lab_buf *const *bufs, unsigned int n, const void *site)
{
	uint16_t src = from != NULL ? from->owner : 0, dst = to != NULL ? to->owner : 0;
	struct lab_pool *pp = from != NULL ? from->pool : to != NULL ? to->pool :
			      n ? bufs[0]->pool : NULL;
	uint32_t qw = pp != NULL ? _lab_pool_q(&pp->hot) : 0;
	uint64_t ep = LAB_SH_EP(LAB_Q_EPOCH(qw));
	uint64_t key = ep | LAB_SH_KEY(src, LAB_BUF_IN_FLIGHT);
	unsigned int done = 0;

	for (unsigned int i = 0; i < n; i++) {
		struct lab_buf *b = bufs[i];
		struct lab_pool *p = from != NULL ? from->pool : to != NULL ? to->pool : b->pool;
		uint64_t old;
		int bad;

		/* Without caches the buffers may be of several pools: each is
		 * checked at its own pool's level and epoch. */
		if (p != pp) {
			pp = p;
			qw = _lab_pool_q(&pp->hot);
			ep = LAB_SH_EP(LAB_Q_EPOCH(qw));
			key = ep | LAB_SH_KEY(src, LAB_BUF_IN_FLIGHT);
		}
		/* "off": no per-buffer state, nothing to check. */
		if (LAB_Q_LEVEL(qw) == LAB_QUALITY_OFF) {
			done++;
			continue;
		}

		if (to != NULL && from != NULL && to->pool != from->pool) {
			quality_record(p, LAB_FIND_BAD_BUFFER, b, UINT32_MAX, src, site);
			continue;
		}
		/* The site stays; a word of another epoch becomes one of this one. */
		bad = shadow_check(&p->hot, b, key, LAB_SH_SITE(UINTPTR_MAX),
				   ep | LAB_SH_KEY(dst, LAB_BUF_IN_FLIGHT), src == 0, &old);
		if (bad == 0) {
			done++;
			continue;
		}
		quality_record(p, bad - 1 == LAB_FIND_BAD_BUFFER ? LAB_FIND_BAD_BUFFER
								 : LAB_FIND_FOREIGN_TRANSFER,
			       b, bad - 1 == LAB_FIND_BAD_BUFFER ? UINT32_MAX : b->idx, src, site);
	}
	return done;
}

/* One buffer at a time, so each refusal is known: keep the ones handed on. */
unsigned int _lab_buf_transfer_keep_slow(struct lab_cache *from, struct lab_cache *to,
					 struct lab_buf **bufs, unsigned int n, const void *site)
{
	unsigned int k = 0;

	for (unsigned int i = 0; i < n; i++)
		if (_lab_buf_transfer_slow(from, to, &bufs[i], 1, site) == 1)
			bufs[k++] = bufs[i];
	return k;
}

bool lab_buf_held_by(const struct lab_cache *c, const struct lab_buf *b)
{
	const struct lab_pool *p = c != NULL ? c->pool : b->pool;
	uint32_t qw;
	uint64_t w;

	if (p == NULL || b->idx >= p->hot.shadow_cap || __atomic_load_n(&p->hot.shadow[b->idx].buf, __ATOMIC_RELAXED) != b)
		return false;
	w = atomic_load_explicit(&p->hot.shadow[b->idx].w, memory_order_relaxed);
	qw = _lab_pool_q(&p->hot);
	/* Not known ("off", or a word of another epoch): not refused. */
	if (LAB_Q_LEVEL(qw) == LAB_QUALITY_OFF || (w & LAB_SH_EPOCH) != LAB_SH_EP(LAB_Q_EPOCH(qw)))
		return true;
	return (w & (LAB_SH_OWNER | LAB_SH_STATE)) ==
	       LAB_SH_KEY(c != NULL ? c->owner : 0, LAB_BUF_IN_FLIGHT);
}
