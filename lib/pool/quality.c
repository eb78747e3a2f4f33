/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Buffer quality: exclusive ownership checked on every free and transfer (the
 * shadow word, see lab_pool.h), quarantine with poison, redzone and header
 * checks, leak scans, and findings.
 *
 * The data path only checks the shadow word, poisons a buffer it quarantines
 * and queues a finding (one CAS, no system call). Everything slow runs in the
 * warden (or in lab_pool_quality_check): verifying poison and redzones,
 * zeroing, leak scans, resolving code addresses with dladdr and logging.
 */
#include <dlfcn.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "pool_internal.h"

LAB_LOG_REGISTER(quality, NOTICE)

static const char *const kind_names[LAB_FIND_KINDS] = {
	[LAB_FIND_DOUBLE_FREE] = "double_free",
	[LAB_FIND_FOREIGN_FREE] = "foreign_free",
	[LAB_FIND_BAD_BUFFER] = "bad_buffer",
	[LAB_FIND_FOREIGN_TRANSFER] = "foreign_transfer",
	[LAB_FIND_USE_AFTER_FREE] = "use_after_free",
	[LAB_FIND_OVERRUN] = "overrun",
	[LAB_FIND_HEADER] = "header",
	[LAB_FIND_LEAK] = "leak",
};

static const char *const state_names[] = { "free", "cached", "in-flight", "quarantined" };

const char *lab_finding_kind_name(enum lab_finding_kind k)
{
	return (unsigned int)k < LAB_FIND_KINDS ? kind_names[k] : "unknown";
}


/* Whether shadow word @p w is known under quality word @p q (lab_pool_inline.h). */
static inline bool word_known(uint64_t w, uint32_t q)
{
	return LAB_Q_LEVEL(q) != LAB_QUALITY_OFF &&
	       (w & LAB_SH_EPOCH) == LAB_SH_EP(LAB_Q_EPOCH(q));
}

static inline const void *word_site(uint64_t w)
{
	return (const void *)(uintptr_t)(w >> LAB_SH_SITE_SHIFT);
}

static inline uint16_t word_owner(uint64_t w)
{
	return (uint16_t)((w & LAB_SH_OWNER) >> LAB_SH_OWNER_SHIFT);
}

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

/* ------------------------------------------------------------------ findings */

static void site_name(const void *site, char *out, size_t len)
{
	Dl_info di;

	if (site == NULL) {
		snprintf(out, len, "-");
	} else if (dladdr(site, &di) != 0 && di.dli_sname != NULL) {
		snprintf(out, len, "%s+0x%lx", di.dli_sname,
			 (unsigned long)((const char *)site - (const char *)di.dli_saddr));
	} else if (dladdr(site, &di) != 0 && di.dli_fname != NULL) {
		const char *base = strrchr(di.dli_fname, '/');

		snprintf(out, len, "%s+0x%lx", base != NULL ? base + 1 : di.dli_fname,
			 (unsigned long)((const char *)site - (const char *)di.dli_fbase));
	} else {
		snprintf(out, len, "%p", site);
	}
}

/* The name of owner @p id, copied into @p buf under the owners' lock: a
 * cache created meanwhile writes its slot's name (TSan, a report while
 * another thread made a cache). Callers hold no p->lock. */
static const char *owner_name(struct lab_pool *p, uint16_t id, char *buf, size_t len)
{
	if (id == 0)
		return "no-cache";
	if (id >= POOL_MAX_OWNERS)
		return "?";
	pthread_mutex_lock(&p->lock);
	snprintf(buf, len, "%s", p->owner_names[id][0] ? p->owner_names[id] : "?");
	pthread_mutex_unlock(&p->lock);
	return buf;
}

/* Log one finding as one line of key=value pairs (findings_lock held). */
static void log_finding(struct lab_pool *p, const struct lab_finding *f)
{
	char site[128], asite[128], fsite[128], hn[24], cn[24];

	site_name(f->site, site, sizeof(site));
	site_name(f->alloc_site, asite, sizeof(asite));
	site_name(f->free_site, fsite, sizeof(fsite));
	switch (f->kind) {
	case LAB_FIND_BAD_BUFFER:
		LAB_LOG(ERR, quality, "finding kind=bad_buffer pool=%s buf=%p idx=%s caller=%s "
			"site=%s (not a buffer of this pool, or its header was overwritten)",
			p->name, (const void *)f->buf, f->idx == UINT32_MAX ? "-" : "?",
			owner_name(p, f->caller, cn, sizeof(cn)), site);
		break;
	case LAB_FIND_DOUBLE_FREE:
	case LAB_FIND_FOREIGN_FREE:
	case LAB_FIND_FOREIGN_TRANSFER:
		LAB_LOG(ERR, quality, "finding kind=%s pool=%s buf=%u state=%s owner=%s "
			"caller=%s site=%s %s=%s", kind_names[f->kind], p->name, f->idx,
			state_names[f->state & 3], owner_name(p, f->holder, hn, sizeof(hn)),
			owner_name(p, f->caller, cn, sizeof(cn)), site,
			f->state == LAB_BUF_IN_FLIGHT ? "alloc_site" : "free_site",
			f->state == LAB_BUF_IN_FLIGHT ? asite : fsite);
		break;
	case LAB_FIND_USE_AFTER_FREE:
	case LAB_FIND_OVERRUN:
	case LAB_FIND_HEADER:
		LAB_LOG(ERR, quality, "finding kind=%s pool=%s buf=%u owner=%s offset=%u "
			"bytes=%u alloc_site=%s free_site=%s", kind_names[f->kind], p->name,
			f->idx, owner_name(p, f->holder, hn, sizeof(hn)), f->offset, f->bytes, asite,
			fsite);
		break;
	case LAB_FIND_LEAK:
	default:
		LAB_LOG(DEBUG, quality, "finding kind=%s pool=%s buf=%u owner=%s age_ms=%llu "
			"alloc_site=%s", kind_names[f->kind], p->name, f->idx,
			owner_name(p, f->holder, hn, sizeof(hn)), (unsigned long long)f->age_ms, asite);
		break;
	}
}

/* Report one finding made on a control path (findings_lock held). */
static void report(struct lab_pool *p, const struct lab_finding *f)
{
	log_finding(p, f);
	if (p->finding_cb != NULL)
		p->finding_cb(f, p->finding_arg);
	if (atomic_load_explicit(&p->policy, memory_order_relaxed) == LAB_POLICY_ABORT) {
		LAB_LOG(ERR, quality, "pool '%s': policy abort: aborting on this finding", p->name);
		abort();
	}
}

/* Fill the shadow part of a finding for buffer index @p idx. */
static void fill_from_shadow(struct lab_pool *p, struct lab_finding *f, uint32_t idx)
{
	uint64_t w = atomic_load_explicit(&p->hot.shadow[idx].w, memory_order_relaxed);

	f->idx = idx;
	f->buf = __atomic_load_n(&p->hot.shadow[idx].buf, __ATOMIC_RELAXED);
	f->holder = word_owner(w);
	f->state = (uint8_t)(w & LAB_SH_STATE);
	if (f->state == LAB_BUF_IN_FLIGHT) {
		f->alloc_site = word_site(w);
	} else {
		f->free_site = word_site(w);
		if (f->state == LAB_BUF_QUARANTINED)
			f->alloc_site = cold_alloc_site(&p->cold[idx]);
	}
}

/*
 * Data path: count the finding and queue its record. One CAS claims a slot (a
 * full queue drops the record, never the count); no system call, no lock, no
 * wait. Under the abort policy the finding is logged and abort() called here,
 * so the core shows the bad caller.
 */
static void push_finding(struct lab_pool *p, const struct lab_finding *f)
{
	uint64_t pos = atomic_load_explicit(&p->fq_head, memory_order_relaxed);
	struct finding_slot *slot;

	if (atomic_load_explicit(&p->policy, memory_order_relaxed) == LAB_POLICY_ABORT) {
		pthread_mutex_lock(&p->findings_lock);
		report(p, f);
		pthread_mutex_unlock(&p->findings_lock);
	}
	/* Signed: pos may be stale (read before a preemption, or before the
	 * lock above) and the consumer past it by now. The queue is full only
	 * if even this pos is a whole queue ahead of the tail; a stale pos
	 * behind it is no sign of a full queue: the CAS fails and reloads it.
	 * Unsigned, that wrapped and dropped records from an empty queue. */
	do {
		if ((int64_t)(pos - atomic_load_explicit(&p->fq_tail, memory_order_acquire)) >=
		    POOL_FINDINGS_QUEUE) {
			atomic_fetch_add_explicit(&p->findings_dropped, 1, memory_order_relaxed);
			return;
		}
	} while (!atomic_compare_exchange_weak_explicit(&p->fq_head, &pos, pos + 1,
							memory_order_relaxed,
							memory_order_relaxed));
	slot = &p->fq[pos % POOL_FINDINGS_QUEUE];
	slot->f = *f;
	atomic_store_explicit(&slot->seq, pos + 1, memory_order_release);
}

void quality_record(struct lab_pool *p, enum lab_finding_kind kind, struct lab_buf *b,
		    uint32_t idx, uint16_t caller, const void *site)
{
	struct lab_finding f = { .kind = kind, .pool = p, .buf = b, .idx = UINT32_MAX,
				 .caller = caller, .site = site };

	atomic_fetch_add_explicit(&p->findings[kind], 1, memory_order_relaxed);
	if (idx != UINT32_MAX) {
		fill_from_shadow(p, &f, idx);
		f.buf = b;
	}
	push_finding(p, &f);
}

/* Report what the data path queued (findings_lock held). */
static unsigned int report_queued(struct lab_pool *p)
{
	uint64_t tail = atomic_load_explicit(&p->fq_tail, memory_order_relaxed);
	unsigned int n = 0;

	for (;; tail++) {
		struct finding_slot *slot = &p->fq[tail % POOL_FINDINGS_QUEUE];
		struct lab_finding f;

		if (atomic_load_explicit(&slot->seq, memory_order_acquire) != tail + 1)
			break;
		f = slot->f;
		atomic_store_explicit(&p->fq_tail, tail + 1, memory_order_release);
		report(p, &f);
		n++;
	}
	return n;
}

unsigned int lab_pool_report_findings(struct lab_pool *p)
{
	unsigned int n;

	if (p == NULL)
		return 0;
	pthread_mutex_lock(&p->findings_lock);
	n = report_queued(p);
	pthread_mutex_unlock(&p->findings_lock);
	return n;
}

void lab_pool_set_finding_cb(struct lab_pool *p, lab_finding_cb cb, void *arg)
{
	pthread_mutex_lock(&p->findings_lock);
	p->finding_cb = cb;
	p->finding_arg = arg;
	pthread_mutex_unlock(&p->findings_lock);
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

static void release_bufs(struct lab_pool *p, struct lab_buf **batch, unsigned int n, bool queued);

/* Free accepted buffers the ordinary way. */
static void put_good(struct lab_pool *p, struct lab_cache *c, struct lab_buf *const *good,
		     unsigned int n)
{
	if (n == 0)
		return;
	if (c == NULL) {
		pool_nocache_put(p, good, n);
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
	if (c != NULL)
		LAB_COUNT_ADD(c->st.frees, n); /* given back by the owner: a free, in the warden's hands */
	else
		pool_nocache_frees(p, n);
	if (k == n)
		return;
	atomic_fetch_add_explicit(&p->checked_at_once, n - k, memory_order_relaxed);
	atomic_fetch_add_explicit(&p->q_in_check, n - k, memory_order_relaxed);
	release_bufs(p, q + k, n - k, true);
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

/*
 * The rest of a free: bufs[0..ok) passed the inline check already. The others
 * go in runs: a run of buffers the level does not pick is checked with the
 * inline checker and freed as one; a picked buffer (every one under "full",
 * one in N under "sampled") is checked, poisoned and queued for the warden; a
 * refused buffer gets a finding and is not put back.
 */
unsigned int _lab_free_slow(struct lab_pool *p, struct lab_cache *c, struct lab_buf *const *bufs,
			    unsigned int n, unsigned int ok, const void *site)
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
		put_good(p, c, bufs, n);
		return n;
	}
	/* The inline path took n off the countdown before coming here. */
	if (q == LAB_QUALITY_SAMPLED && c != NULL)
		*left += (int32_t)n;
	if (q == LAB_QUALITY_SAMPLED && *left <= 0)
		*left = 1;
	put_good(p, c, bufs, ok);
	while (i < n) {
		struct lab_buf *b = bufs[i];
		uint64_t old = 0;
		int bad;

		/* A run the level does not pick: the inline checker, then one free.
		 * (No cache: one CAS per buffer below instead.) */
		if (c != NULL && q != LAB_QUALITY_FULL) {
			unsigned int want = n - i, got;

			if (q == LAB_QUALITY_SAMPLED && (unsigned int)(*left - 1) < want)
				want = (unsigned int)(*left - 1);
			got = _lab_shadow_free(h, bufs + i, want, key, mark);
			if (q == LAB_QUALITY_SAMPLED)
				*left -= (int32_t)got;
			run += got;
			i += got;
			if (i == n)
				break;
			b = bufs[i];
		}
		bad = shadow_check(h, b, key, 0, mark, c == NULL, &old);
		if (bad) {
			put_good(p, c, bufs + i - run, run);
			done += run;
			run = 0;
			quality_record(p, (enum lab_finding_kind)(bad - 1), b,
				       bad - 1 == LAB_FIND_BAD_BUFFER ? UINT32_MAX : b->idx, owner,
				       site);
			i++;
			continue;
		}
		if (q == LAB_QUALITY_FULL) {
			put_good(p, c, bufs + i - run, run);
			done += run;
			run = 0;
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
				put_good(p, c, bufs + i - run, run);
				done += run;
				run = 0;
				if (st != NULL) {
					struct stage_entry *e =
						&st->e[(head + nst++) % POOL_STAGE_CAP];

					quarantine_word(p, b, owner, site, ep);
					e->buf = b;
					e->alloc_site = alloc_site_of(old);
					LAB_COUNT_ADD(c->st.frees, 1);
					done++;
					i++;
					continue;
				}
				quarantine_mark(p, b, old, owner, site, ep);
				if (nc_stage_put(p, b)) {
					pool_nocache_frees(p, 1);
					done++;
					i++;
					continue;
				}
				/* Back to what the check made of it: freed, unpicked. */
				_lab_shadow_set(h, &b, 1, 0, mark & ~LAB_SH_EPOCH,
						mark & LAB_SH_EPOCH);
			}
		}
		run++;
		i++;
	}
	put_good(p, c, bufs + n - run, run);
	quarantine_flush(p, c, quar, &nq);
	/* One handoff per call: the warden sees the entries and the marks. */
	if (nst != 0)
		atomic_store_explicit(&st->head, head + nst, memory_order_release);
	return done + run;
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

/* ------------------------------------------------------- the warden's checks */

/* Whether every byte of [m, m+len) is @p v: 64 bytes per step, one branch
 * per step (the common case of every check, done before the detailed scan). */
static bool pattern_clean(const uint8_t *m, size_t len, uint8_t v)
{
	typedef uint64_t v2u64 __attribute__((vector_size(16)));
	uint64_t p64 = 0x0101010101010101ull * v;
	v2u64 pat = { p64, p64 }, acc = { 0, 0 };
	size_t i = 0;
	uint64_t tail = 0;

	for (; i + 64 <= len; i += 64) {
		v2u64 x[4];

		memcpy(x, m + i, sizeof(x));
		acc |= (x[0] ^ pat) | (x[1] ^ pat) | (x[2] ^ pat) | (x[3] ^ pat);
		if (lab_unlikely((acc[0] | acc[1]) != 0))
			return false;
	}
	for (; i < len; i++)
		tail |= (uint64_t)(m[i] ^ v);
	return tail == 0;
}

/* First differing byte and count of differing bytes of [m, m+len) against
 * the byte @p v. @return len if none differ. */
static size_t scan_pattern(const uint8_t *m, size_t len, uint8_t v, uint32_t *changed,
			   size_t *last)
{
	uint64_t pat = 0x0101010101010101ull * v;
	size_t first = len, i = 0;

	*changed = 0;
	*last = 0;
	if (lab_likely(pattern_clean(m, len, v)))
		return len;
	for (; i + 8 <= len; i += 8) {
		uint64_t x;

		memcpy(&x, m + i, 8);
		if (lab_likely(x == pat))
			continue;
		for (size_t j = i; j < i + 8; j++) {
			if (m[j] != v) {
				first = first < j ? first : j;
				*last = j;
				(*changed)++;
			}
		}
	}
	for (; i < len; i++) {
		if (m[i] != v) {
			first = first < i ? first : i;
			*last = i;
			(*changed)++;
		}
	}
	return first;
}

/* The fixed header fields, as the pool wrote them. */
static void expected_header(struct lab_pool *p, struct lab_buf *b, uint32_t idx,
			    struct lab_buf *e)
{
	*e = *b;
	e->buf_addr = (char *)b + p->room_off;
	e->buf_iova = p->cold[idx].iova;
	e->pool = p;
	e->idx = idx;
	e->buf_len = p->room_len;
}

/* Count one finding of a quarantine check and report it (the warden, with
 * findings_lock held) or queue it for the warden (@p queued: the data path). */
static void warden_found(struct lab_pool *p, struct lab_finding *f, enum lab_finding_kind kind,
			 uint32_t offset, uint32_t bytes, bool queued)
{
	f->kind = kind;
	f->offset = offset;
	f->bytes = bytes;
	atomic_fetch_add_explicit(&p->findings[kind], 1, memory_order_relaxed);
	if (queued)
		push_finding(p, f);
	else
		report(p, f);
}

/* Check one buffer out of quarantine. @return true if it is sound. */
static bool check_quarantined(struct lab_pool *p, struct lab_buf *b, uint32_t idx, bool queued)
{
	struct lab_finding f = { .pool = p };
	struct lab_buf e;
	const uint8_t *room, *rz;
	uint32_t changed, hdr_changed = 0, room_len;
	size_t first, last, hdr_first = SIZE_MAX;
	bool sound = true;

	fill_from_shadow(p, &f, idx);
	f.buf = b;
	f.free_site = cold_free_site(&p->cold[idx]);
	f.alloc_site = cold_alloc_site(&p->cold[idx]);
	/* The header first: the buffer's own fields say where its room is. */
	expected_header(p, b, idx, &e);
	for (size_t i = 0; i < offsetof(struct lab_buf, data_off); i++) {
		if (((const uint8_t *)b)[i] != ((const uint8_t *)&e)[i]) {
			hdr_first = hdr_first < i ? hdr_first : i;
			hdr_changed++;
		}
	}
	if (hdr_changed) {
		warden_found(p, &f, LAB_FIND_HEADER, (uint32_t)hdr_first, hdr_changed, queued);
		memcpy(b, &e, offsetof(struct lab_buf, data_off)); /* repair it */
		sound = false;
	}
	room = (const uint8_t *)b + p->room_off;
	room_len = p->room_len;
	first = scan_pattern(room, room_len, POOL_POISON, &changed, &last);
	if (changed) {
		warden_found(p, &f, LAB_FIND_USE_AFTER_FREE, (uint32_t)first, changed, queued);
		sound = false;
	}
	rz = room + room_len;
	scan_pattern(rz, POOL_REDZONE, POOL_CANARY, &changed, &last);
	if (changed) {
		warden_found(p, &f, LAB_FIND_OVERRUN, (uint32_t)last + 1, changed, queued);
		memset((uint8_t *)rz, POOL_CANARY, POOL_REDZONE);
		sound = false;
	}
	return sound;
}

/*
 * Leak scan: buffers in flight, untouched, since at least the leak age. A
 * scan sets the mark bit (LAB_SH_SCAN) of each word in flight that lacks it,
 * with a CAS, and notes the time; every allocation, free and hand-off writes
 * a word without the mark. So a word that still has it at a later scan has
 * been in flight since the scan that set it, with no generation to count:
 * an owner whose store overwrites the mark only restarts that buffer's
 * clock. Reported per buffer and logged grouped by owner and allocation site
 * (findings_lock held).
 */
struct leak_group {
	uint16_t owner;
	const void *site;
	uint32_t count;
	uint64_t oldest_ms;
	char idx[96];
};

static void log_groups(struct lab_pool *p, struct leak_group *g, unsigned int ng,
		       const char *what)
{
	for (unsigned int i = 0; i < ng; i++) {
		char site[128], on[24];

		site_name(g[i].site, site, sizeof(site));
		LAB_LOG(ERR, quality, "pool '%s': %s owner=%s alloc_site=%s count=%u "
			"oldest_ms=%llu bufs=%s%s", p->name, what,
			owner_name(p, g[i].owner, on, sizeof(on)), site,
			g[i].count, (unsigned long long)g[i].oldest_ms, g[i].idx,
			strlen(g[i].idx) >= sizeof(g[i].idx) - 12 ? ",..." : "");
	}
}

static unsigned int group_add(struct leak_group *g, unsigned int ng, unsigned int max,
			      uint16_t owner, const void *site, uint32_t idx, uint64_t age)
{
	unsigned int i;

	for (i = 0; i < ng; i++)
		if (g[i].owner == owner && g[i].site == site)
			break;
	if (i == ng) {
		if (ng == max)
			i = max - 1; /* the last group absorbs the rest */
		else
			memset(&g[ng++], 0, sizeof(*g));
		g[i].owner = owner;
		g[i].site = site;
	}
	g[i].count++;
	g[i].oldest_ms = g[i].oldest_ms > age ? g[i].oldest_ms : age;
	if (strlen(g[i].idx) < sizeof(g[i].idx) - 12)
		snprintf(g[i].idx + strlen(g[i].idx), sizeof(g[i].idx) - strlen(g[i].idx), "%s%u",
			 g[i].idx[0] ? "," : "", idx);
	return ng;
}

static unsigned int leak_scan(struct lab_pool *p, uint64_t now_ms, uint32_t age_ms)
{
	struct leak_group g[16];
	unsigned int ng = 0, found = 0;
	uint32_t slots = pool_slots(p), q = _lab_pool_q(&p->hot);

	for (uint32_t i = 0; i < slots && i < p->hot.shadow_cap; i++) {
		struct shadow_cold *cold = &p->cold[i];
		uint64_t w = atomic_load_explicit(&p->hot.shadow[i].w, memory_order_relaxed);
		struct lab_finding f = { .kind = LAB_FIND_LEAK, .pool = p };

		/* Only words the shadow knows: "off" writes none. */
		if (__atomic_load_n(&p->hot.shadow[i].buf, __ATOMIC_RELAXED) == NULL ||
		    !word_known(w, q) || (w & LAB_SH_STATE) != LAB_BUF_IN_FLIGHT)
			continue;
		if (!(w & LAB_SH_SCAN)) {
			/* Lost to the owner's store: it moved, not a leak. */
			if (atomic_compare_exchange_strong_explicit(&p->hot.shadow[i].w, &w,
								    w | LAB_SH_SCAN,
								    memory_order_relaxed,
								    memory_order_relaxed)) {
				cold->since_ms = now_ms;
				cold->leak_reported = 0;
			}
			continue;
		}
		if (cold->leak_reported || now_ms - cold->since_ms < age_ms)
			continue;
		cold->leak_reported = 1;
		fill_from_shadow(p, &f, i);
		f.age_ms = now_ms - cold->since_ms;
		warden_found(p, &f, LAB_FIND_LEAK, 0, 0, false);
		ng = group_add(g, ng, 16, f.holder, f.alloc_site, i, f.age_ms);
		found++;
	}
	log_groups(p, g, ng, "leak:");
	return found;
}

/*
 * Check @p n buffers taken out of quarantine (counted in q_in_check), zero
 * their rooms and free them (or retire them). The warden reports what it
 * finds (findings_lock held); the data path (@p queued) queues it instead.
 */
static void release_bufs(struct lab_pool *p, struct lab_buf **batch, unsigned int n, bool queued)
{
	unsigned int keep = 0;
	uint32_t qw;

	for (unsigned int i = 0; i < n; i++) {
		struct lab_buf *b = batch[i];
		/* From the address: the header may be what was overwritten. */
		uint32_t idx = pool_buf_index(p, b);

		if (idx >= p->hot.shadow_cap) { /* cannot happen: it came from the pool */
			if (!queued)
				LAB_LOG(ERR, quality, "pool '%s': quarantined %p is not "
					"in the arena; dropped", p->name, (void *)b);
			atomic_fetch_sub_explicit(&p->q_in_check, 1, memory_order_relaxed);
			continue;
		}
		atomic_fetch_add_explicit(&p->deep_checked, 1, memory_order_relaxed);
		if (!check_quarantined(p, b, idx, queued) &&
		    atomic_load_explicit(&p->policy, memory_order_relaxed) == LAB_POLICY_RETIRE) {
			p->cold[idx].retired = 1;
			atomic_fetch_add_explicit(&p->retired_bufs, 1, memory_order_relaxed);
			atomic_fetch_sub_explicit(&p->q_in_check, 1, memory_order_relaxed);
			continue;
		}
		memset(b->buf_addr, 0, b->buf_len);
		batch[keep++] = b;
	}
	/* The header is sound now (check_quarantined repairs it). Known free if
	 * the word is of the current epoch, else not known. */
	qw = _lab_pool_q(&p->hot);
	_lab_shadow_set(&p->hot, batch, keep, ~(LAB_SH_OWNER | LAB_SH_STATE),
			LAB_SH_KEY(0, LAB_BUF_FREE), LAB_SH_EP(LAB_Q_EPOCH(qw)));
	_lab_pool_put(p, batch, keep);
	atomic_fetch_sub_explicit(&p->q_in_check, keep, memory_order_relaxed);
}

/*
 * Take up to @p want buffers out of @p r (the FIFO or the no-cache staging
 * ring), counted as in check before they leave it (and until they are in the
 * ring or the FIFO): a stats snapshot taken meanwhile may count a buffer
 * twice for a moment, never zero times, so it never shows a buffer in transit
 * as in flight. Only what @p r holds is counted: a caller that counted its
 * whole request made every snapshot of an idle pool taken meanwhile show a
 * batch of buffers that do not exist (the warden asks for POOL_STAGE_CAP of
 * an empty staging ring every tick: "64 counted twice" at a quiet point), and
 * an all-or-none allocation wait for them (nc_in_transit). Another consumer
 * may still take some first: those were in transit, counted twice a moment.
 */
static unsigned int take_counted(struct lab_pool *p, struct lab_ring *r, struct lab_buf **batch,
				 unsigned int want)
{
	uint32_t there = lab_ring_count(r);
	unsigned int got;

	if (want > there)
		want = there;
	if (want == 0)
		return 0;
	atomic_fetch_add_explicit(&p->q_in_check, want, memory_order_relaxed);
	got = lab_ring_dequeue_burst(r, (void **)batch, want);
	if (got < want)
		atomic_fetch_sub_explicit(&p->q_in_check, want - got, memory_order_relaxed);
	return got;
}

/*
 * Take up to @p out buffers from the quarantine FIFO (oldest first), check
 * each, zero its room and free it (or retire it). The warden reports what it
 * finds (findings_lock held); the data path (@p queued) queues it instead:
 * no lock, no system call, bounded work. @return buffers taken.
 */
uint32_t quality_release(struct lab_pool *p, uint32_t out, bool queued)
{
	struct lab_buf *batch[64];
	uint32_t done = 0;

	while (done < out) {
		unsigned int got = take_counted(p, p->quarantine, batch,
						out - done < 64 ? out - done : 64);

		if (got == 0)
			break;
		release_bufs(p, batch, got, queued);
		done += got;
	}
	return done;
}

/* Poison sampled buffers the warden took from a staging ring and queue them
 * in the FIFO for their check after the hold time. The room from the pool's
 * layout, not the header: the header may be what was overwritten. What the
 * FIFO has no room for (the data path under "full" filled it meanwhile) is
 * checked now: picked, so never left unchecked. @return buffers queued. */
static unsigned int stage_poison(struct lab_pool *p, struct lab_buf **b, unsigned int n,
				 bool counted)
{
	unsigned int k;

	/* In check first (unless the caller counted them before it took them),
	 * so a snapshot, or an all-or-none allocation, never misses them in
	 * transit. */
	if (!counted)
		atomic_fetch_add_explicit(&p->q_in_check, n, memory_order_relaxed);
	for (unsigned int i = 0; i < n; i++)
		memset((uint8_t *)b[i] + p->room_off, POOL_POISON, p->room_len);
	k = lab_ring_enqueue_burst(p->quarantine, (void *const *)b, n);
	atomic_fetch_sub_explicit(&p->q_in_check, k, memory_order_relaxed);
	if (k < n)
		release_bufs(p, b + k, n - k, false);
	return k;
}

/*
 * Move what the owners staged into the quarantine, poisoned, while the FIFO
 * has room (quality_lock held: the one consumer of every staging ring). A
 * staging ring left full makes its owner back off, counted: the bound on
 * deep work, never a buffer picked and left unchecked.
 */
static void stage_drain(struct lab_pool *p)
{
	struct lab_buf *batch[POOL_STAGE_CAP];
	uint32_t inq = lab_ring_count(p->quarantine);
	uint32_t room = inq < p->quarantine_cap ? p->quarantine_cap - inq : 0;
	unsigned int got;

	for (unsigned int id = 1; id < POOL_MAX_OWNERS && room != 0; id++) {
		struct sample_stage *st = &p->stage[id];
		uint32_t tail = atomic_load_explicit(&st->tail, memory_order_relaxed);
		uint32_t n = atomic_load_explicit(&st->head, memory_order_acquire) - tail;

		if (n == 0)
			continue;
		n = n < room ? n : room;
		for (uint32_t i = 0; i < n; i++) {
			const struct stage_entry *e = &st->e[(tail + i) % POOL_STAGE_CAP];
			/* From the address: the header may be what was overwritten
			 * (it passed the free's check, so it is the pool's). */
			uint32_t idx = pool_buf_index(p, e->buf);

			/* The free site is the one its quarantined word holds. */
			batch[i] = e->buf;
			cold_sites_set(&p->cold[idx], e->alloc_site, word_site(
				atomic_load_explicit(&p->hot.shadow[idx].w, memory_order_relaxed)));
		}
		room -= stage_poison(p, batch, n, false);
		atomic_store_explicit(&st->tail, tail + n, memory_order_release);
	}
	while (room != 0) {
		unsigned int want = room < POOL_STAGE_CAP ? room : POOL_STAGE_CAP;

		/* Counted in check before they leave the staging ring, and only
		 * what is there: every tick comes here, and a count of a whole
		 * batch of an empty ring would show an idle pool's snapshot 64
		 * buffers quarantined twice over (take_counted). */
		got = take_counted(p, p->nc_stage, batch, want);
		if (got == 0)
			break;
		room -= stage_poison(p, batch, got, true);
	}
}

/*
 * Data path, all-or-none allocation without a cache that found the ring
 * short: take up to @p out staged sampled frees of callers without a cache
 * before the warden does, poison and check them at once (header and redzone;
 * no hold, so a write after those frees is not caught: counted in
 * checked_at_once), zero and free them. Findings queued. @return taken.
 */
uint32_t quality_release_staged(struct lab_pool *p, uint32_t out)
{
	struct lab_buf *batch[POOL_STAGE_CAP];
	uint32_t done = 0;
	unsigned int got;

	while (done < out) {
		unsigned int want = out - done < POOL_STAGE_CAP ? out - done : POOL_STAGE_CAP;

		/* In check first, so a snapshot never misses them in transit. */
		got = take_counted(p, p->nc_stage, batch, want);
		if (got == 0)
			break;
		/* Their sites are in shadow_cold already (quarantine_mark). */
		for (unsigned int i = 0; i < got; i++)
			memset((uint8_t *)batch[i] + p->room_off, POOL_POISON, p->room_len);
		atomic_fetch_add_explicit(&p->checked_at_once, got, memory_order_relaxed);
		release_bufs(p, batch, got, true);
		done += got;
	}
	return done;
}

uint64_t quality_staged_count(const struct lab_pool *p)
{
	uint64_t n = lab_ring_count(p->nc_stage);

	for (unsigned int id = 1; id < POOL_MAX_OWNERS; id++)
		n += (uint32_t)(atomic_load_explicit(&p->stage[id].head, memory_order_acquire) -
				atomic_load_explicit(&p->stage[id].tail, memory_order_acquire));
	return n;
}

/* Whether a staging ring holds anything. */
static bool stage_busy(struct lab_pool *p)
{
	return quality_staged_count(p) != 0;
}

/*
 * The warden's quality work, every period (or all of it now, with @p drain):
 * release the oldest quarantined buffers beyond half the budget (all of them
 * when free runs below low), each checked, zeroed and put back or retired;
 * scan for leaks; report what the data path queued.
 */
unsigned int quality_tend(struct lab_pool *p, uint64_t now_ns, bool drain)
{
	uint32_t inq, out = 0;
	uint32_t age = atomic_load_explicit(&p->leak_age_ms, memory_order_relaxed);
	uint64_t now_ms = now_ns / 1000000;

	/* The warden and lab_pool_quality_check() both come here: the hold
	 * clock (q_aged, q_hold_tick_ns) is theirs to share under the lock. */
	pthread_mutex_lock(&p->quality_lock);
	/* KFENCE's bound: the budget of deep samples, refilled each ms (not
	 * added up: an idle ms does not buy a burst later). */
	if (now_ns - p->credit_ns >= 1000000) {
		atomic_store_explicit(&p->sample_credit,
				      atomic_load_explicit(&p->sample_budget, memory_order_relaxed),
				      memory_order_relaxed);
		p->credit_ns = now_ns;
	}
	pthread_mutex_lock(&p->findings_lock);
	stage_drain(p);
	inq = lab_ring_count(p->quarantine);
	/* FIFO: the oldest first. Beyond half the budget they go at once; the
	 * rest after QUARANTINE_HOLD_MS to 2x that (the ones already there at the
	 * previous hold tick; quarantine_hold_ms), so an idle pool gets its buffers
	 * back. */
	if (drain || lab_ring_count(p->hot.ring) < p->hot.wm_low)
		out = inq;
	else if (inq > p->quarantine_cap / 2)
		out = inq - p->quarantine_cap / 2;
	if (now_ns - p->q_hold_tick_ns >= p->q_hold_ms * 1000000ull) {
		out = out > p->q_aged ? out : p->q_aged < inq ? p->q_aged : inq;
		p->q_aged = inq - out;
		p->q_hold_tick_ns = now_ns;
	} else {
		p->q_aged = p->q_aged > out ? p->q_aged - out : 0;
	}
	report_queued(p);
	quality_release(p, out, false);
	/* Everything now: what was staged behind a full FIFO too (a FIFO of 16
	 * takes 64 owners' staging in 128 rounds; the bound only stops owners
	 * that keep staging meanwhile from holding the caller here). */
	for (int round = 0; drain && round < 1024 && stage_busy(p); round++) {
		stage_drain(p);
		quality_release(p, lab_ring_count(p->quarantine), false);
	}
	if (age != 0 && (drain || now_ms - p->last_leak_scan_ms >= (age / 4 < 1000 ? age / 4 : 1000))) {
		p->last_leak_scan_ms = now_ms;
		leak_scan(p, now_ms, age);
	}
	pthread_mutex_unlock(&p->findings_lock);
	pthread_mutex_unlock(&p->quality_lock);
	return out;
}

unsigned int lab_pool_quality_check(struct lab_pool *p)
{
	return p == NULL ? 0 : quality_tend(p, pool_now_ns(), true);
}

/* Destroy: list what is still in flight, grouped by owner and alloc site. */
void quality_report_in_flight(struct lab_pool *p)
{
	struct leak_group g[16];
	unsigned int ng = 0;
	uint32_t slots = pool_slots(p), q = _lab_pool_q(&p->hot);

	if (LAB_Q_LEVEL(q) == LAB_QUALITY_OFF) {
		LAB_LOG(WARNING, quality, "pool '%s': quality off: the holders of buffers in "
			"flight are not recorded (a checked level records them)", p->name);
		return;
	}
	for (uint32_t i = 0; i < slots && i < p->hot.shadow_cap; i++) {
		uint64_t w = atomic_load_explicit(&p->hot.shadow[i].w, memory_order_relaxed);

		if (__atomic_load_n(&p->hot.shadow[i].buf, __ATOMIC_RELAXED) != NULL &&
		    word_known(w, q) && (w & LAB_SH_STATE) == LAB_BUF_IN_FLIGHT)
			ng = group_add(g, ng, 16, word_owner(w), word_site(w), i, 0);
	}
	log_groups(p, g, ng, "  in flight:");
}

/* ----------------------------------------------------------- configuration */

/*
 * Publish a level. From "off" to a checked level, a new shadow epoch first
 * (lab_pool_inline.h): words written before (at an earlier checked level, or
 * left stale by "off") stop being trusted. The epoch about to be reused is
 * cleared from every word first, so that no word 15 switches old can pass for
 * a current one; at "off" the data path writes no word, so only a thread
 * still inside a checked call from before could race, and that one writes its
 * own, older epoch. Caller holds quality_lock.
 */
static void set_level(struct lab_pool *p, enum lab_quality level)
{
	uint32_t old = _lab_pool_q(&p->hot), epoch = LAB_Q_EPOCH(old);

	if (LAB_Q_LEVEL(old) == LAB_QUALITY_OFF && level != LAB_QUALITY_OFF) {
		epoch = epoch % 15 + 1;
		for (uint32_t i = 0; i < p->hot.shadow_cap; i++) {
			_Atomic uint64_t *w = &p->hot.shadow[i].w;
			uint64_t v = atomic_load_explicit(w, memory_order_relaxed);

			while ((v & LAB_SH_EPOCH) == LAB_SH_EP(epoch) &&
			       !atomic_compare_exchange_weak_explicit(w, &v, v & ~LAB_SH_EPOCH,
								      memory_order_relaxed,
								      memory_order_relaxed))
				;
		}
	}
	/* Release: a thread that sees the new epoch sees the cleared words. */
	atomic_store_explicit(&p->hot.quality, (uint32_t)level | epoch << 8,
			      memory_order_release);
}


int lab_pool_set_quality(struct lab_pool *p, enum lab_quality level, uint32_t sample_rate)
{
	if ((unsigned int)level > LAB_QUALITY_FULL || sample_rate > (1u << 30)) {
		LAB_LOG(ERR, quality, "pool '%s': bad quality setting: level %d (want off, "
			"sampled or full), sample_rate %u (want 1..%u, or 0 to keep)", p->name,
			(int)level, sample_rate, 1u << 30);
		return -EINVAL;
	}
	if (sample_rate != 0)
		atomic_store_explicit(&p->hot.sample_rate, (int32_t)sample_rate,
				      memory_order_relaxed);
	/* One switch at a time (the epoch walk below); the warden's quality
	 * work holds the same lock. */
	pthread_mutex_lock(&p->quality_lock);
	set_level(p, level);
	pthread_mutex_unlock(&p->quality_lock);
	LAB_LOG(INFO, quality, "pool '%s': quality %s, sample rate 1/%d", p->name,
		lab_quality_name(level),
		atomic_load_explicit(&p->hot.sample_rate, memory_order_relaxed));
	return 0;
}

int lab_pool_set_sample_budget(struct lab_pool *p, uint32_t per_ms)
{
	if (per_ms == 0 || per_ms > (1u << 30)) {
		LAB_LOG(ERR, quality, "pool '%s': bad sample budget %u (want 1..%u deep "
			"samples per ms)", p->name, per_ms, 1u << 30);
		return -EINVAL;
	}
	atomic_store_explicit(&p->sample_budget, per_ms, memory_order_relaxed);
	/* The running ms too: a lower budget takes effect at once. */
	if (atomic_load_explicit(&p->sample_credit, memory_order_relaxed) > (int64_t)per_ms)
		atomic_store_explicit(&p->sample_credit, per_ms, memory_order_relaxed);
	return 0;
}

enum lab_quality lab_pool_quality(const struct lab_pool *p)
{
	return (enum lab_quality)LAB_Q_LEVEL(_lab_pool_q(&p->hot));
}

int lab_pool_set_policy(struct lab_pool *p, enum lab_quality_policy policy)
{
	if ((unsigned int)policy > LAB_POLICY_ABORT) {
		LAB_LOG(ERR, quality, "pool '%s': bad policy %d (want report, retire or abort)",
			p->name, (int)policy);
		return -EINVAL;
	}
	atomic_store_explicit(&p->policy, (uint32_t)policy, memory_order_relaxed);
	return 0;
}

void lab_pool_set_leak_age(struct lab_pool *p, uint32_t ms)
{
	atomic_store_explicit(&p->leak_age_ms, ms, memory_order_relaxed);
}

/* A new cell: its shadow entry and its redzone. */
void quality_init_cell(struct lab_pool *p, struct lab_buf *b)
{
	struct lab_shadow *sh = &p->hot.shadow[b->idx];

	/* Relaxed, as every access: control-path scans read it while the
	 * warden grows or shrinks (a new cell reaches the data path only
	 * through the ring, which orders it). */
	__atomic_store_n(&sh->buf, b, __ATOMIC_RELAXED);
	/* Free, and known to be: a free of it before it is handed out is a
	 * double free at a checked level. */
	atomic_store_explicit(&sh->w, LAB_SH_EP(LAB_Q_EPOCH(_lab_pool_q(&p->hot))) |
			      LAB_SH_KEY(0, LAB_BUF_FREE), memory_order_relaxed);
	/* Field by field: a report of a stale pointer into a regrown chamber
	 * may read the sites meanwhile. */
	cold_sites_set(&p->cold[b->idx], NULL, NULL);
	p->cold[b->idx].since_ms = 0;
	p->cold[b->idx].leak_reported = 0;
	p->cold[b->idx].retired = 0;
	p->cold[b->idx].iova = b->buf_iova;
	memset((char *)b->buf_addr + b->buf_len, POOL_CANARY, POOL_REDZONE);
}

int quality_setup(struct lab_pool *p, const struct lab_pool_opts *o)
{
	uint64_t cap = (uint64_t)p->max_chambers * p->layout.per_chamber;
	size_t qbytes = o->quarantine_bytes ? o->quarantine_bytes : 4 * LAB_MIB;
	uint64_t qn = qbytes / p->layout.stride;

	if (o->sample_rate > (1u << 30) || (unsigned int)o->quality > LAB_QUALITY_FULL ||
	    (unsigned int)o->policy > LAB_POLICY_ABORT) {
		LAB_LOG(ERR, quality, "pool '%s': bad quality options: level %d, sample_rate %u "
			"(1..%u), policy %d", p->name, (int)o->quality, o->sample_rate,
			1u << 30, (int)o->policy);
		return -EINVAL;
	}
	/* The shadow lives outside the arena: no device can DMA over it. */
	p->hot.shadow = calloc(cap, sizeof(*p->hot.shadow));
	p->cold = calloc(cap, sizeof(*p->cold));
	p->hot.shadow_cap = (uint32_t)cap;
	p->quarantine_cap = (uint32_t)(qn < 16 ? 16 : qn > cap ? cap : qn);
	p->quarantine = lab_ring_create(p->quarantine_cap);
	p->nc_stage = lab_ring_create(POOL_STAGE_CAP);
	p->stage = aligned_alloc(LAB_CACHE_LINE, POOL_MAX_OWNERS * sizeof(*p->stage));
	if (p->hot.shadow == NULL || p->cold == NULL || p->quarantine == NULL ||
	    p->nc_stage == NULL || p->stage == NULL)
		return -ENOMEM;
	memset(p->stage, 0, POOL_MAX_OWNERS * sizeof(*p->stage));
	atomic_store(&p->sample_budget, o->sample_budget ? o->sample_budget : POOL_SAMPLE_BUDGET);
	atomic_store(&p->sample_credit, atomic_load(&p->sample_budget));
	/* Epoch 1 from the start: quality_init_cell stamps it on every cell. */
	atomic_store(&p->hot.quality, (uint32_t)o->quality | 1u << 8);
	atomic_store(&p->hot.sample_rate, (int32_t)(o->sample_rate ? o->sample_rate : 1024));
	atomic_store(&p->policy, (uint32_t)o->policy);
	atomic_store(&p->leak_age_ms, o->leak_age_ms);
	p->q_hold_ms = o->quarantine_hold_ms ? o->quarantine_hold_ms : QUARANTINE_HOLD_MS;
	return 0;
}

void quality_free(struct lab_pool *p)
{
	free(p->hot.shadow);
	free(p->cold);
	lab_ring_free(p->quarantine);
	lab_ring_free(p->nc_stage);
	free(p->stage);
	pthread_mutex_destroy(&p->quality_lock);
	pthread_mutex_destroy(&p->findings_lock);
}
