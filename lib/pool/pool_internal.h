/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef LAB_POOL_INTERNAL_H
#define LAB_POOL_INTERNAL_H

#include <pthread.h>

#include <labyrinth/lab_arena.h>
#include <labyrinth/lab_log.h>
#include <labyrinth/lab_pool_driver.h>

LAB_LOG_DECLARE(pool);

/* Put buffers on the shared ring (the overflow list when it is full): no
 * check, no shadow write (pool_fast.c). For the pool's slow paths, and for
 * tests that bypass the checks on purpose; no inline path calls it. */
void _lab_pool_put(struct lab_pool *p, struct lab_buf *const *bufs, unsigned int n);

#define POOL_MAX_OWNERS 64
#define POOL_NOCACHE_STRIPES 64
#define POOL_NOCACHE_RINGS 64 /* threads without a cache that get a ring of their own */
#define POOL_NC_SLOTS 128     /* buffers one such ring holds (a power of two) */
#define HDR_SIZE ((uint32_t)sizeof(struct lab_buf))
#define POOL_FINDINGS_QUEUE 1024
/* Bytes of redzone after every data room (outside the cell size asked for). */
#define POOL_REDZONE 64u
#define QUARANTINE_HOLD_MS 100u /* default */
#define POOL_POISON 0x6bu  /* freed data room under quarantine (the kernel's POISON_FREE) */
#define POOL_CANARY 0xa5u  /* redzone */
/* Sampled deep checks (quality "sampled"): entries of one owner's staging
 * ring (a power of two), and the default budget of deep samples per ms. */
#define POOL_STAGE_CAP 64u
#define POOL_SAMPLE_BUDGET 256u

/*
 * One owner's staging ring for sampled frees: the owner writes entries and
 * publishes head once per free call (a release store, no read-modify-write);
 * the warden, under quality_lock, poisons what it takes and moves it to the
 * quarantine, then publishes tail. Indexed by owner id: a cache destroyed
 * leaves what it staged for the warden, and the next cache of that id
 * (created under the pool lock after) goes on from the same head.
 */
struct sample_stage {
	_Atomic uint32_t head;
	uint32_t tail_seen; /* the owner's last look at tail: read again only
			     * when the ring looks full (a line the warden
			     * writes, a miss per look) */
	struct stage_entry {
		struct lab_buf *buf;
		const void *alloc_site; /* the warden keeps it in shadow_cold: the
					 * data path touches no cold line */
	} e[POOL_STAGE_CAP];
	_Atomic uint32_t tail __attribute__((aligned(LAB_CACHE_LINE)));
} __attribute__((aligned(LAB_CACHE_LINE)));

/*
 * Quality metadata of one buffer that only slow paths touch: sites kept when
 * the buffer entered quarantine (its shadow word then holds the free site
 * only), and the warden's leak-scan memory. Outside the arena, like the shadow.
 *
 * The two sites are written by whoever quarantines the buffer (a freeing
 * thread under "full", the warden for a staged sample) while any thread may
 * read them for a report (a double free of that buffer, a check): relaxed
 * atomics, through cold_sites_set/cold_alloc_site/cold_free_site only. They
 * are report data, so a stale pair is acceptable; a data race is not. The
 * other fields have one writer at a time: since_ms and leak_reported the
 * warden's leak scan (quality_lock), iova the cell's set-up (published by
 * the ring), retired the one thread that checked the buffer.
 */
struct shadow_cold {
	const void *alloc_site;
	const void *free_site;
	uint64_t since_ms;  /* when the leak scan set the word's mark (LAB_SH_SCAN) */
	uint64_t iova;      /* buf_iova as the pool wrote it (for the header check) */
	uint8_t leak_reported;
	uint8_t retired;
};

static inline void cold_sites_set(struct shadow_cold *c, const void *alloc, const void *freed)
{
	__atomic_store_n(&c->alloc_site, alloc, __ATOMIC_RELAXED);
	__atomic_store_n(&c->free_site, freed, __ATOMIC_RELAXED);
}

static inline const void *cold_alloc_site(const struct shadow_cold *c)
{
	return __atomic_load_n(&c->alloc_site, __ATOMIC_RELAXED);
}

static inline const void *cold_free_site(const struct shadow_cold *c)
{
	return __atomic_load_n(&c->free_site, __ATOMIC_RELAXED);
}

/*
 * The ring of one thread without a cache (pool_nocache.c): its thread is the
 * only producer (tail: plain stores, then a release); any thread may consume
 * (read the slots, then CAS the head). Counters: its thread's, plain adds.
 */
struct nocache_ring {
	_Atomic uint64_t head;
	_Atomic uint64_t tail;
	_Atomic uint64_t owner; /* 0: free for a thread to claim */
	struct lab_owner_stats st;
	_Atomic(struct lab_buf *) slots[POOL_NC_SLOTS];
} __attribute__((aligned(LAB_CACHE_LINE)));

struct lab_pool {
	struct lab_pool_hot hot; /* first: the inline fast path casts to it */

	/* Threads without a cache: a ring each (pool_nocache.c). */
	struct nocache_ring *nc;   /* POOL_NOCACHE_RINGS */
	uint64_t nc_serial;        /* tells a new pool at a freed one's address apart */
	_Atomic uint32_t nc_hw;    /* rings ever claimed: [0, nc_hw) */
	struct lab_pool *nc_next;  /* live pools (pool_nocache.c's registry) */
	uint64_t nc_seen[POOL_NOCACHE_RINGS]; /* warden: head + tail at its last look */

	/* Counters of callers without an owner cache, striped per thread:
	 * stripe 0 is shared (atomic read-modify-write), every other stripe has
	 * one writing thread (plain add through relaxed atomics: a locked add
	 * here cost ~10 ns per alloc+free). See pool_fast.c. */
	struct nocache_stripe {
		_Atomic uint64_t allocs, frees, ring_refills, ring_flushes, reserve_uses, misses;
	} __attribute__((aligned(LAB_CACHE_LINE))) nocache[POOL_NOCACHE_STRIPES];

	/* Frees that found the ring short of room (a consumer preempted mid-claim
	 * holds its tail back): a lock-free list the warden moves to the ring. */
	_Atomic(struct lab_buf *) overflow __attribute__((aligned(LAB_CACHE_LINE)));
	_Atomic uint64_t overflow_count;

	/* Quality: counters per kind, and a bounded queue the data path fills
	 * (one CAS, no system call) and the warden empties and reports. */
	_Atomic uint64_t findings[LAB_FIND_KINDS] __attribute__((aligned(LAB_CACHE_LINE)));
	_Atomic uint64_t findings_dropped;
	/* quarantined = in the FIFO + q_in_check (taken by the warden, not yet
	 * back): the data path counts nothing here. */
	_Atomic uint64_t q_in_check, retired_bufs, quarantine_skipped;
	/* Sampling: buffers deep-checked out of quarantine; sampled frees that
	 * were due and not picked (staging full, budget spent); the budget
	 * left in this ms (the warden refills it, picks take one each). */
	_Atomic uint64_t deep_checked, sample_backoffs, checked_at_once;
	_Atomic int64_t sample_credit __attribute__((aligned(LAB_CACHE_LINE)));
	_Atomic uint32_t sample_budget; /* deep samples per ms */
	uint64_t credit_ns;             /* warden: last refill */
	struct sample_stage *stage;     /* per owner id (1..); 0 unused */
	struct lab_ring *nc_stage;      /* sampled frees of callers without a cache */
	_Atomic uint64_t fq_head, fq_tail;
	struct finding_slot {
		_Atomic uint64_t seq; /* pos + 1 once the record at pos is written */
		struct lab_finding f;
	} fq[POOL_FINDINGS_QUEUE];
	struct lab_ring *quarantine;   /* FIFO of poisoned buffers awaiting checks */
	uint32_t quarantine_cap;       /* entries the byte budget allows */
	struct shadow_cold *cold;      /* per buffer index */
	_Atomic uint32_t policy;       /* enum lab_quality_policy */
	_Atomic uint32_t leak_age_ms;
	uint64_t last_leak_scan_ms;
	uint64_t q_hold_tick_ns;       /* warden: last quarantine hold tick */
	uint32_t q_aged;               /* warden: entries already there at that tick */
	uint32_t q_hold_ms;
	pthread_mutex_t quality_lock;  /* quarantine checks and leak scans: one at a time */
	pthread_mutex_t findings_lock; /* one reporter at a time (warden or caller) */
	lab_finding_cb finding_cb;
	void *finding_arg;

	/* Control path from here on. */
	char name[32];
	struct lab_arena *arena;
	struct lab_cell_layout layout;
	uint32_t cell_size, headroom;
	uint32_t room_off, room_len;  /* a cell's room from its header; redzone after it */
	/* External pools (lab_pool_create_external): cells in memory the pool
	 * does not own, added in runs; arena is NULL, nothing grows or shrinks. */
	bool external;
	uint32_t ext_next;            /* cells added: the next index */
	struct ext_run {
		uintptr_t va;         /* first cell's header */
		uintptr_t end;        /* one past the last cell */
		uint32_t stride, n, first;
		/* per_page cells at stride, then the next page_bytes further on
		 * (a DPDK chunk whose cells must not cross pages) */
		uint32_t per_page;
		uint64_t page_bytes;
	} *runs;                      /* sorted by va */
	uint32_t nruns, runs_cap;
	uint32_t min_chambers, max_chambers;
	uint32_t wm_high;
	uint32_t shrink_delay_ms;
	_Atomic uint64_t total;
	uint64_t grows, shrinks, grow_failures, kicks;
	uint64_t above_high_since_ns; /* 0: not above high */
	uint64_t grow_failing_since;  /* grow_failures just after the run's first failure
				       * (so never 0 in a run); 0: growing works. The
				       * warden logs a run once, and its end */
	struct lab_buf **scratch;     /* warden's buffer array for shrinking and scans */
	uint32_t *chamber_count;      /* per chamber, for shrinking */
	pthread_mutex_t lock;         /* owners table and stats snapshots; never on the data path */
	struct lab_cache *owners[POOL_MAX_OWNERS];
	char owner_names[POOL_MAX_OWNERS][24];
	struct lab_owner_stats retired; /* counters of destroyed caches */
	struct {
		char name[24];
		int64_t net; /* allocations minus frees, at its destroy */
	} departed[POOL_MAX_OWNERS];
	unsigned int ndeparted;
	struct lab_pool *next;        /* warden's list */
};

/*
 * Check one free or transfer and, if it passes, rewrite its word to
 * (w & @p keep) | @p mark (a free keeps nothing; a hand-off keeps the site).
 * Callers without a cache share owner id 0, so two of them could free one
 * buffer at the same instant: they use a CAS (exactly one wins). Owners with
 * a cache are the only writers of their buffers' words: a plain store.
 * @p key and @p mark carry the current epoch: a word of another epoch is not
 * known (written before "off", or at it) and passes (lab_pool.h).
 * @return 0, or the finding kind + 1.
 */
static inline int shadow_check(struct lab_pool_hot *h, struct lab_buf *b, uint64_t key,
			       uint64_t keep, uint64_t mark, bool cas, uint64_t *old)
{
	uint32_t idx = b->idx;
	struct lab_shadow *sh;
	uint64_t w;

	if (idx >= h->shadow_cap || __atomic_load_n(&h->shadow[idx].buf, __ATOMIC_RELAXED) != b)
		return LAB_FIND_BAD_BUFFER + 1;
	sh = &h->shadow[idx];
	w = atomic_load_explicit(&sh->w, memory_order_relaxed);
	do {
		if ((w & LAB_SH_CHECKED) != key && (w & LAB_SH_EPOCH) == (key & LAB_SH_EPOCH))
			return ((w & LAB_SH_STATE) != LAB_BUF_IN_FLIGHT ? LAB_FIND_DOUBLE_FREE
									 : LAB_FIND_FOREIGN_FREE) + 1;
		*old = w;
		if (!cas) {
			atomic_store_explicit(&sh->w, (w & keep) | mark, memory_order_relaxed);
			return 0;
		}
	} while (!atomic_compare_exchange_weak_explicit(&sh->w, &w, (w & keep) | mark,
							memory_order_relaxed,
							memory_order_relaxed));
	return 0;
}

LAB_LOG_DECLARE(quality);

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

/* quality.c: the level, the shadow's setup, a cell's entry */
void quality_init_cell(struct lab_pool *p, struct lab_buf *b);
int quality_setup(struct lab_pool *p, const struct lab_pool_opts *o);
void quality_free(struct lab_pool *p);

/* quality_findings.c: count, queue, report */
void quality_record(struct lab_pool *p, enum lab_finding_kind kind, struct lab_buf *b,
		    uint32_t idx, uint16_t caller, const void *site);
void quality_fill(struct lab_pool *p, struct lab_finding *f, uint32_t idx);
void quality_push(struct lab_pool *p, const struct lab_finding *f);
void quality_report(struct lab_pool *p, const struct lab_finding *f);
unsigned int quality_report_queued(struct lab_pool *p);
void quality_site_name(const void *site, char *out, size_t len);
const char *quality_owner_name(struct lab_pool *p, uint16_t id, char *buf, size_t len);

/* quality_quarantine.c: the FIFO, staging, deep checks, leak scan */
unsigned int quality_tend(struct lab_pool *p, uint64_t now_ns, bool drain);
void quality_report_in_flight(struct lab_pool *p);
uint32_t quality_release(struct lab_pool *p, uint32_t out, bool queued);
uint32_t quality_release_staged(struct lab_pool *p, uint32_t out);
void quality_release_bufs(struct lab_pool *p, struct lab_buf **batch, unsigned int n, bool queued);

/* quality_free.c: checked frees and hand-offs */
void quality_cache_init(struct lab_cache *c);
/* The rest of a free by a caller without a cache (_lab_free_slow's, for owner
 * 0): bufs[0..ok) passed the inline check already. The buffers to free the
 * ordinary way are written to @p keep (room for @p n), *@p nkeep of them, for
 * the caller to put in its ring; the others were refused (findings) or went
 * to the warden (staged, quarantined, or checked at once). @return accepted:
 * *nkeep plus those the warden has. */
unsigned int quality_free_nocache(struct lab_pool *p, struct lab_buf *const *bufs, unsigned int n,
				  unsigned int ok, const void *site, struct lab_buf **keep,
				  unsigned int *nkeep);

uint64_t pool_nocache_parked(const struct lab_pool *p);

/* Buffers in the free ring, on its overflow list or in the rings of threads
 * without a cache; in quarantine (in the FIFO, or out of it being checked).
 * No lock. */
static inline uint64_t pool_free_count(const struct lab_pool *p)
{
	return lab_ring_count(p->hot.ring) + atomic_load(&p->overflow_count) +
	       pool_nocache_parked(p);
}

uint64_t quality_staged_count(const struct lab_pool *p);

/* Staged first, then the FIFO, then in check: the warden moves buffers in
 * that order, so one in transit is counted twice for a moment, never missed. */
static inline uint64_t pool_quarantined_count(const struct lab_pool *p)
{
	uint64_t n = quality_staged_count(p);

	n += lab_ring_count(p->quarantine);
	return n + atomic_load(&p->q_in_check);
}

/* pool_fast.c */
unsigned int pool_ring_take(struct lab_pool_hot *h, struct lab_buf **objs, unsigned int want,
			    unsigned int flags, uint64_t *reserve_uses);

/* pool_nocache.c */
int pool_nocache_init(struct lab_pool *p);
void pool_nocache_fini(struct lab_pool *p);
unsigned int pool_nocache_reclaim(struct lab_pool *p, struct nocache_ring *mine, bool idle_only);
void pool_nocache_totals(struct lab_pool *p, struct lab_owner_stats *t);
extern __thread int32_t nocache_sample_left __attribute__((tls_model("initial-exec")));

/* pool_cells.c */
uint32_t pool_buf_index(struct lab_pool *p, const struct lab_buf *b);
uint32_t pool_slots(const struct lab_pool *p);

/* pool.c */
int pool_grow_chamber(struct lab_pool *p);
void pool_free(struct lab_pool *p);
void pool_try_shrink(struct lab_pool *p);
int pool_check_opts(const struct lab_pool_opts *o, bool external, uint32_t *mn, uint32_t *lo,
		    uint32_t *hi, uint32_t *rs);
struct lab_pool *pool_alloc(const struct lab_pool_opts *o, uint32_t hi);
int pool_setup_hot(struct lab_pool *p, uint32_t mn, uint32_t lo, uint32_t rs);
void pool_init_cell(struct lab_pool *p, struct lab_buf *b, uint32_t idx, uint64_t room_iova);

void pool_drain_overflow(struct lab_pool *p);

/* warden.c */
int warden_attach(struct lab_pool *p);
void warden_detach(struct lab_pool *p);

#endif
