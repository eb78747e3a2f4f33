/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Quality fault injection: double frees, foreign frees, writes after free,
 * overruns and leaks, injected from several threads; every one must be found
 * with the right kind and buffer index at "full", in proportion at
 * "sampled", and double/foreign frees at "off". No false positives on a clean
 * run; the accounting identity holds after every round of faults.
 */
#include <math.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <sys/wait.h>

#include <labyrinth/lab_pool_driver.h>

#include "pool_helpers.h"

#define log_capture lab_test_log_capture
#define log_text lab_test_log_text
#define log_release lab_test_log_release

#define POISON 0x6b
#define CANARY 0xa5
#define THREADS 4
#define ROUNDS 250 /* per thread: THREADS * ROUNDS = 1000 faults of each kind */

/* What the callback saw: per kind, per buffer index, how many findings, and
 * the last offset reported. */
struct seen {
	_Atomic uint32_t count[LAB_FIND_KINDS][4096];
	_Atomic uint32_t offset[LAB_FIND_KINDS][4096];
	_Atomic uint32_t total[LAB_FIND_KINDS];
	_Atomic uint32_t bad_details;
};

static void seen_cb(const struct lab_finding *f, void *arg)
{
	struct seen *s = arg;

	atomic_fetch_add(&s->total[f->kind], 1);
	if (f->idx >= 4096) {
		atomic_fetch_add(&s->bad_details, 1);
		return;
	}
	atomic_fetch_add(&s->count[f->kind][f->idx], 1);
	atomic_store(&s->offset[f->kind][f->idx], f->offset);
	/* Every finding names the buffer, and the bad frees their sites. */
	if (f->buf == NULL || f->buf->idx != f->idx ||
	    ((f->kind == LAB_FIND_DOUBLE_FREE || f->kind == LAB_FIND_FOREIGN_FREE) &&
	     (f->site == NULL || (f->alloc_site == NULL && f->free_site == NULL))))
		atomic_fetch_add(&s->bad_details, 1);
}

static struct lab_pool *quality_pool(enum lab_quality q, uint32_t rate)
{
	struct lab_pool_opts o;

	small_pool_opts(&o, 4096, 4096, 0, 1, 2, 0);
	o.name = "q";
	o.quality = q;
	o.sample_rate = rate;
	o.quarantine_bytes = 64 * LAB_MIB; /* more than the pool: the budget never forces a release */
	o.quarantine_hold_ms = 600000;     /* checks happen when the test asks */
	return lab_pool_create(&o);
}

static struct seen *seen_new(void)
{
	return calloc(1, sizeof(struct seen));
}

/* ------------------------------------------------ full: every fault found */

/* per thread: THREADS * FULL_ROUNDS = 10 000 faults of each kind */
#define FULL_ROUNDS 2500

struct inj {
	struct lab_pool *p;
	pthread_barrier_t *bar;
	unsigned int seed;
	/* what this thread injected, per round: buffer indices */
	uint32_t dfree[FULL_ROUNDS], ffree[FULL_ROUNDS], uaf[FULL_ROUNDS], over[FULL_ROUNDS];
	uint32_t uaf_off[FULL_ROUNDS], over_len[FULL_ROUNDS];
};

static void *inj_worker(void *arg)
{
	struct inj *in = arg;
	struct lab_cache *c = lab_cache_create(in->p, "inj", 32);
	struct lab_cache *other = lab_cache_create(in->p, "other", 32);
	uint32_t room = lab_pool_data_room(in->p) + 128; /* buf_len: headroom + data */

	for (int r = 0; r < FULL_ROUNDS; r++) {
		struct lab_buf *b;
		uint8_t *m;

		/* double free */
		b = lab_alloc(in->p, c);
		CU_ASSERT_PTR_NOT_NULL_FATAL(b);
		in->dfree[r] = b->idx;
		CU_ASSERT_EQUAL(lab_free(c, b), 1);
		CU_ASSERT_EQUAL(lab_free(c, b), 0);
		/* foreign free: another owner frees it; then the owner does */
		b = lab_alloc(in->p, c);
		CU_ASSERT_PTR_NOT_NULL_FATAL(b);
		in->ffree[r] = b->idx;
		CU_ASSERT_EQUAL(lab_free(other, b), 0);
		CU_ASSERT_EQUAL(lab_free(c, b), 1);
		/* write after free, at a random offset of the data room */
		b = lab_alloc(in->p, c);
		CU_ASSERT_PTR_NOT_NULL_FATAL(b);
		in->uaf[r] = b->idx;
		in->uaf_off[r] = rand_r(&in->seed) % room;
		m = b->buf_addr;
		CU_ASSERT_EQUAL(lab_free(c, b), 1);
		m[in->uaf_off[r]] = POISON ^ 0x5a;
		/* overrun by 1..64 bytes past the data room */
		b = lab_alloc(in->p, c);
		CU_ASSERT_PTR_NOT_NULL_FATAL(b);
		in->over[r] = b->idx;
		in->over_len[r] = 1 + rand_r(&in->seed) % 64;
		memset((uint8_t *)b->buf_addr + b->buf_len, CANARY ^ 0x0f, in->over_len[r]);
		CU_ASSERT_EQUAL(lab_free(c, b), 1);
		/* the main thread checks the quarantine and the accounting now */
		pthread_barrier_wait(in->bar);
		pthread_barrier_wait(in->bar);
	}
	lab_cache_destroy(other);
	lab_cache_destroy(c);
	return NULL;
}

static void test_full_finds_every_fault(void)
{
	struct lab_pool *p = quality_pool(LAB_QUALITY_FULL, 0);
	struct seen *s = seen_new();
	static struct inj in[THREADS];
	pthread_barrier_t bar;
	pthread_t t[THREADS];
	struct lab_pool_stats st;
	unsigned int missed = 0, wrong_offset = 0;

	CU_ASSERT_PTR_NOT_NULL_FATAL(p);
	log_capture(); /* 40 000 finding lines: kept out of the test output */
	lab_pool_set_finding_cb(p, seen_cb, s);
	pthread_barrier_init(&bar, NULL, THREADS + 1);
	for (int i = 0; i < THREADS; i++) {
		in[i] = (struct inj){ .p = p, .bar = &bar, .seed = 17u + (unsigned int)i };
		CU_ASSERT_EQUAL_FATAL(pthread_create(&t[i], NULL, inj_worker, &in[i]), 0);
	}
	for (int r = 0; r < FULL_ROUNDS; r++) {
		pthread_barrier_wait(&bar);
		/* Quiet point: every thread waits. Check, then the identity. */
		lab_pool_quality_check(p);
		assert_accounting(p);
		lab_pool_stats(p, &st);
		CU_ASSERT_EQUAL(st.quarantined, 0);
		pthread_barrier_wait(&bar);
	}
	for (int i = 0; i < THREADS; i++)
		pthread_join(t[i], NULL);
	lab_pool_quality_check(p);
	lab_pool_stats(p, &st);
	CU_ASSERT_EQUAL(st.findings[LAB_FIND_DOUBLE_FREE], THREADS * FULL_ROUNDS);
	CU_ASSERT_EQUAL(st.findings[LAB_FIND_FOREIGN_FREE], THREADS * FULL_ROUNDS);
	CU_ASSERT_EQUAL(st.findings[LAB_FIND_USE_AFTER_FREE], THREADS * FULL_ROUNDS);
	CU_ASSERT_EQUAL(st.findings[LAB_FIND_OVERRUN], THREADS * FULL_ROUNDS);
	CU_ASSERT_EQUAL(st.findings[LAB_FIND_BAD_BUFFER], 0);
	CU_ASSERT_EQUAL(st.findings[LAB_FIND_HEADER], 0);
	CU_ASSERT_EQUAL(st.findings_dropped, 0);
	/* Each injected fault was reported with its kind and buffer index (and,
	 * for memory faults, the offset: where the write landed, or how far past
	 * the data room the overrun went). */
	for (int i = 0; i < THREADS; i++) {
		for (int r = 0; r < FULL_ROUNDS; r++) {
			missed += atomic_load(&s->count[LAB_FIND_DOUBLE_FREE][in[i].dfree[r]]) == 0;
			missed += atomic_load(&s->count[LAB_FIND_FOREIGN_FREE][in[i].ffree[r]]) == 0;
			missed += atomic_load(&s->count[LAB_FIND_USE_AFTER_FREE][in[i].uaf[r]]) == 0;
			missed += atomic_load(&s->count[LAB_FIND_OVERRUN][in[i].over[r]]) == 0;
		}
		/* the last round's offsets are the ones the callback kept */
		wrong_offset += atomic_load(&s->offset[LAB_FIND_USE_AFTER_FREE]
					    [in[i].uaf[FULL_ROUNDS - 1]]) != in[i].uaf_off[FULL_ROUNDS - 1];
		wrong_offset += atomic_load(&s->offset[LAB_FIND_OVERRUN][in[i].over[FULL_ROUNDS - 1]]) !=
				in[i].over_len[FULL_ROUNDS - 1];
	}
	CU_ASSERT_EQUAL(missed, 0);
	CU_ASSERT_EQUAL(wrong_offset, 0);
	CU_ASSERT_EQUAL(atomic_load(&s->bad_details), 0);
	CU_ASSERT_EQUAL(st.free, st.total); /* nothing put back twice, nothing lost */
	assert_accounting(p);
	log_release();
	CU_ASSERT_EQUAL(lab_pool_destroy(p), 0);
	pthread_barrier_destroy(&bar);
	free(s);
}

/* Every offset of a write after free and every overrun length is reported
 * exactly (one thread, so each finding can be matched to its fault). */
static void test_full_reports_offsets(void)
{
	struct lab_pool *p = quality_pool(LAB_QUALITY_FULL, 0);
	struct seen *s = seen_new();
	struct lab_cache *c;
	unsigned int wrong = 0;

	CU_ASSERT_PTR_NOT_NULL_FATAL(p);
	log_capture();
	lab_pool_set_finding_cb(p, seen_cb, s);
	c = lab_cache_create(p, "one", 32);
	for (uint32_t k = 1; k <= 64; k++) {
		struct lab_buf *b = lab_alloc(p, c);
		struct lab_buf *u = lab_alloc(p, c);
		uint32_t off = (k * 131) % u->buf_len;
		uint8_t *m = u->buf_addr;

		memset((uint8_t *)b->buf_addr + b->buf_len, 0, k);
		lab_free(c, b);
		lab_free(c, u);
		m[off] = 0;
		m[u->buf_len - 1] = 0;
		lab_pool_quality_check(p);
		wrong += atomic_load(&s->offset[LAB_FIND_OVERRUN][b->idx]) != k;
		wrong += atomic_load(&s->offset[LAB_FIND_USE_AFTER_FREE][u->idx]) != off;
	}
	CU_ASSERT_EQUAL(wrong, 0);
	CU_ASSERT_EQUAL(atomic_load(&s->total[LAB_FIND_OVERRUN]), 64);
	CU_ASSERT_EQUAL(atomic_load(&s->total[LAB_FIND_USE_AFTER_FREE]), 64);
	lab_cache_destroy(c);
	log_release();
	CU_ASSERT_EQUAL(lab_pool_destroy(p), 0);
	free(s);
}

/* ------------------------------------------------ a clean run: no findings */

struct clean {
	struct lab_pool *p;
	struct lab_ring *to_peer, *from_peer;
	struct lab_cache *_Atomic mine, *_Atomic *peer;
	_Atomic int *done;
	unsigned long ops;
};

static void *clean_worker(void *arg)
{
	struct clean *w = arg;
	struct lab_cache *c = lab_cache_create(w->p, "clean", 64), *peer;
	struct lab_buf *b[32];

	atomic_store(&w->mine, c);
	while ((peer = atomic_load(w->peer)) == NULL)
		sched_yield();
	while (w->ops < 500000) {
		unsigned int n = lab_alloc_bulk(w->p, c, b, 1 + w->ops % 32, 0), k;

		if (n == 0) /* all in quarantine: let the warden (same two cores) check some */
			sched_yield();
		for (unsigned int i = 0; i < n; i++) {
			/* legal writes: the whole room, header fields for drivers */
			lab_buf_reset(b[i], 128);
			memset(b[i]->buf_addr, (int)(w->ops + i), b[i]->buf_len);
			b[i]->data_len = 60;
		}
		w->ops += n;
		/* hand a quarter to the peer, by ownership transfer */
		k = lab_buf_transfer(c, peer, b, n / 4);
		if (k != n / 4)
			CU_FAIL("transfer refused on a clean run");
		k = lab_ring_enqueue_burst(w->to_peer, (void *const *)b, n / 4);
		lab_buf_transfer(peer, c, b + k, n / 4 - k);
		lab_free_bulk(c, b + k, n - k);
		n = lab_ring_dequeue_burst(w->from_peer, (void **)b, 32);
		lab_free_bulk(c, b, n);
	}
	/* The peer may still hand buffers to this cache: keep taking them. */
	atomic_fetch_add(w->done, 1);
	while (atomic_load(w->done) < 2) {
		unsigned int n = lab_ring_dequeue_burst(w->from_peer, (void **)b, 32);

		lab_free_bulk(c, b, n);
		sched_yield();
	}
	lab_cache_destroy(c);
	return NULL;
}

static void test_full_clean_run_no_false_positives(void)
{
	struct lab_ring *r1 = lab_ring_create(4096), *r2 = lab_ring_create(4096);
	struct lab_pool_opts o;
	struct lab_pool *p;
	struct clean w[2] = { 0 };
	time_t t0;
	_Atomic int done = 0;
	struct lab_pool_stats st;
	struct lab_buf *b[64];
	pthread_t t[2];
	unsigned int n;

	/* The warden keeps up by itself: the default watermarks (it releases the
	 * whole quarantine below low), a short hold, a budget of half the pool. */
	lab_pool_opts_init(&o);
	o.name = "clean";
	o.cell_size = 2048 - 64;
	o.initial = o.max = 4096;
	o.hugepages = LAB_HUGEPAGES_OFF;
	o.quality = LAB_QUALITY_FULL;
	o.quarantine_bytes = 4 * LAB_MIB;
	o.quarantine_hold_ms = 1;
	p = lab_pool_create(&o);
	CU_ASSERT_PTR_NOT_NULL_FATAL(p);
	w[0] = (struct clean){ p, r1, r2, NULL, &w[1].mine, &done, 0 };
	w[1] = (struct clean){ p, r2, r1, NULL, &w[0].mine, &done, 0 };
	t0 = time(NULL);
	for (int i = 0; i < 2; i++)
		pthread_create(&t[i], NULL, clean_worker, &w[i]);
	for (int i = 0; i < 2; i++)
		pthread_join(t[i], NULL);
	for (struct lab_ring *q = r1; q != NULL; q = q == r1 ? r2 : NULL)
		while ((n = lab_ring_dequeue_burst(q, (void **)b, 64)) > 0)
			lab_free_bulk(NULL, b, n);
	lab_pool_quality_check(p);
	lab_pool_stats(p, &st);
	CU_ASSERT(st.sum.allocs >= 1000000);
	for (int k = 0; k < LAB_FIND_KINDS; k++) {
		CU_ASSERT_EQUAL(st.findings[k], 0);
		if (st.findings[k])
			fprintf(stderr, "false positives: %llu %s\n",
				(unsigned long long)st.findings[k], lab_finding_kind_name(k));
	}
	printf("  clean run at full: %llu allocs in %lld s, %llu frees checked at once (no "
	       "room in quarantine)\n", (unsigned long long)st.sum.allocs,
	       (long long)(time(NULL) - t0), (unsigned long long)st.checked_at_once);
	/* "full" checks every free: none went back unchecked. */
	CU_ASSERT_EQUAL(st.quarantine_skipped, 0);
	CU_ASSERT_EQUAL(st.deep_checked, st.sum.frees);
	CU_ASSERT_EQUAL(st.free, st.total);
	assert_accounting(p);
	CU_ASSERT_EQUAL(lab_pool_destroy(p), 0);
	lab_ring_free(r1);
	lab_ring_free(r2);
}

/* Buffers that went through quarantine come back zeroed. */
static void test_full_zeroes_before_reuse(void)
{
	struct lab_pool *p = quality_pool(LAB_QUALITY_FULL, 0);
	struct lab_buf *b[64];
	unsigned int dirty = 0;

	CU_ASSERT_PTR_NOT_NULL_FATAL(p);
	CU_ASSERT_EQUAL(lab_alloc_bulk(p, NULL, b, 64, 0), 64);
	for (int i = 0; i < 64; i++)
		memset(b[i]->buf_addr, 0xee, b[i]->buf_len);
	lab_free_bulk(NULL, b, 64);
	CU_ASSERT_EQUAL(lab_pool_quality_check(p), 64);
	/* the ring is FIFO: drain it to reach those 64 again */
	for (unsigned int round = 0; round < 4096 / 64; round++) {
		CU_ASSERT_EQUAL_FATAL(lab_alloc_bulk(p, NULL, b, 64, 0), 64);
		for (int i = 0; i < 64; i++)
			for (uint32_t j = 0; j < b[i]->buf_len; j++)
				dirty += ((uint8_t *)b[i]->buf_addr)[j] == 0xee;
		lab_free_bulk(NULL, b, 64);
		lab_pool_quality_check(p);
	}
	CU_ASSERT_EQUAL(dirty, 0);
	CU_ASSERT_EQUAL(lab_pool_destroy(p), 0);
}

/* ------------------------------------------- sampled: in proportion to 1/N */

static void test_sampled_rate(void)
{
	enum { N = 16, FAULTS = 10000 };
	struct lab_pool *p = quality_pool(LAB_QUALITY_SAMPLED, N);
	struct lab_cache *c = lab_cache_create(p, "s", 32);
	struct lab_pool_stats st;
	double expect = (double)FAULTS / N, sd = sqrt(FAULTS * (1.0 / N) * (1.0 - 1.0 / N));
	uint64_t found;

	CU_ASSERT_PTR_NOT_NULL_FATAL(c);
	/* Every free due for a sample is picked: no back-off in this test. */
	CU_ASSERT_EQUAL(lab_pool_set_sample_budget(p, 1u << 30), 0);
	log_capture();
	for (int i = 0; i < FAULTS; i++) {
		struct lab_buf *b = lab_alloc(p, c), *d = lab_alloc(p, c);
		uint8_t *m = b->buf_addr;

		lab_free(c, b);
		/* A write before the warden poisons a sampled buffer is lost under
		 * the poison (docs/quality.md): write after it did. */
		CU_ASSERT_FATAL(wait_staged_empty(p));
		m[i % b->buf_len] ^= 0xff; /* after free: found only if this free was sampled */
		lab_free(c, d);
		lab_free(c, d); /* double free: found at every level */
		if (i % 64 == 63)
			lab_pool_quality_check(p);
	}
	lab_pool_quality_check(p);
	lab_pool_stats(p, &st);
	found = st.findings[LAB_FIND_USE_AFTER_FREE];
	printf("  sampled 1/%d: %llu of %d writes after free found (expected %.0f +- %.1f)\n", N,
	       (unsigned long long)found, FAULTS, expect, sd);
	/* The sampler picks one accepted free in N (refused ones do not count);
	 * the victim's free is one of them, so FAULTS / N are expected. Within
	 * five standard deviations of the binomial. */
	CU_ASSERT((double)found >= expect - 5 * sd && (double)found <= expect + 5 * sd);
	CU_ASSERT_EQUAL(st.findings[LAB_FIND_DOUBLE_FREE], FAULTS);
	/* Every picked free was deep-checked, and the finding count is what
	 * the deep checks found: none left unchecked, none backed off. */
	CU_ASSERT_EQUAL(st.quarantine_skipped, 0);
	CU_ASSERT_EQUAL(st.sample_backoffs, 0);
	CU_ASSERT(st.deep_checked >= found);
	lab_cache_destroy(c);
	lab_pool_quality_check(p);
	assert_accounting(p);
	log_release();
	CU_ASSERT_EQUAL(lab_pool_destroy(p), 0);
}

/* ------------------------------- off: ownership still checked, nothing else */

static void *off_worker(void *arg)
{
	struct lab_pool *p = arg;
	struct lab_cache *c = lab_cache_create(p, "off", 32), *o = lab_cache_create(p, "o2", 32);

	for (int r = 0; r < ROUNDS; r++) {
		struct lab_buf *b = lab_alloc(p, c);

		CU_ASSERT_EQUAL(lab_free(c, b), 1);
		CU_ASSERT_EQUAL(lab_free(c, b), 0);           /* double */
		b = lab_alloc(p, c);
		CU_ASSERT_EQUAL(lab_free(o, b), 0);           /* foreign, cache */
		CU_ASSERT_EQUAL(lab_free_bulk(NULL, &b, 1), 0); /* foreign, no cache */
		CU_ASSERT_EQUAL(lab_free(c, b), 1);
		if (r % 32 == 0)
			lab_pool_report_findings(p);
	}
	lab_cache_destroy(o);
	lab_cache_destroy(c);
	return NULL;
}

/* Ownership on every free at "sampled" with deep sampling out of the way
 * (1 in 2^30): 1000 double frees and 2000 foreign frees, every one caught. */
static void test_sampled_checks_ownership(void)
{
	struct lab_pool *p = quality_pool(LAB_QUALITY_SAMPLED, 1u << 30);
	struct lab_pool_stats st;
	pthread_t t[THREADS];

	CU_ASSERT_PTR_NOT_NULL_FATAL(p);
	log_capture();
	for (int i = 0; i < THREADS; i++)
		pthread_create(&t[i], NULL, off_worker, p);
	for (int i = 0; i < THREADS; i++)
		pthread_join(t[i], NULL);
	lab_pool_stats(p, &st);
	CU_ASSERT_EQUAL(st.findings[LAB_FIND_DOUBLE_FREE], THREADS * ROUNDS);
	CU_ASSERT_EQUAL(st.findings[LAB_FIND_FOREIGN_FREE], 2 * THREADS * ROUNDS);
	CU_ASSERT_EQUAL(st.quarantined, 0);
	CU_ASSERT_EQUAL(st.free, st.total);
	assert_accounting(p);
	lab_pool_report_findings(p);
	log_release();
	CU_ASSERT_EQUAL(lab_pool_destroy(p), 0);
}

/* ------------------- sampled: every ownership guarantee, 10 000 faults each */

#define GUAR_FAULTS 10000 /* per guarantee */

struct guar {
	struct lab_pool *p, *other; /* other: a second pool, for frees into the wrong one */
	unsigned int rounds;
};

/*
 * One thread's share of the faults, one of each kind per round, each made on
 * a buffer the thread holds at that moment (so the count of findings of each
 * kind is exact): a double free through a cache and without one; a foreign
 * free; three pointers that were never handed out (a copy of a header on the
 * stack, a copy inside a data room, a buffer of another pool, freed through a
 * cache and without one); a hand-off by an owner that does not hold the
 * buffer. Every refused call returns 0, every correct one 1.
 */
static void *guar_worker(void *arg)
{
	struct guar *g = arg;
	struct lab_cache *c = lab_cache_create(g->p, "g", 32), *o = lab_cache_create(g->p, "go", 32);

	CU_ASSERT_PTR_NOT_NULL_FATAL(c);
	CU_ASSERT_PTR_NOT_NULL_FATAL(o);
	for (unsigned int r = 0; r < g->rounds; r++) {
		struct lab_buf *b = lab_alloc(g->p, c), *n = lab_alloc(g->p, NULL);
		struct lab_buf *x = lab_alloc(g->other, NULL), copy, *inside;

		CU_ASSERT_PTR_NOT_NULL_FATAL(b);
		CU_ASSERT_PTR_NOT_NULL_FATAL(n);
		CU_ASSERT_PTR_NOT_NULL_FATAL(x);
		/* foreign free, then a foreign hand-off: b is c's */
		CU_ASSERT_EQUAL(lab_free(o, b), 0);
		CU_ASSERT_EQUAL(lab_buf_transfer(o, c, &b, 1), 0);
		/* never handed out: a copy of b's header, and one inside its room */
		copy = *b;
		CU_ASSERT_EQUAL(lab_free(c, &copy), 0);
		inside = (struct lab_buf *)((char *)b->buf_addr + 64);
		memcpy(inside, b, sizeof(*b));
		CU_ASSERT_EQUAL(lab_free(c, inside), 0);
		/* the wrong pool, through a cache and without one */
		CU_ASSERT_EQUAL(lab_free(c, x), 0);
		CU_ASSERT_EQUAL(lab_free_bulk_to(g->p, &x, 1), 0);
		/* double frees */
		CU_ASSERT_EQUAL(lab_free(c, b), 1);
		CU_ASSERT_EQUAL(lab_free(c, b), 0);
		CU_ASSERT_EQUAL(lab_free_bulk(NULL, &n, 1), 1);
		CU_ASSERT_EQUAL(lab_free_bulk(NULL, &n, 1), 0);
		CU_ASSERT_EQUAL(lab_free_bulk(NULL, &x, 1), 1);
		if (r % 256 == 0)
			lab_pool_report_findings(g->p);
	}
	lab_cache_destroy(o);
	lab_cache_destroy(c);
	return NULL;
}

/* Two threads without a cache free the same buffer at the same moment: the
 * CAS lets exactly one through. */
struct race {
	struct lab_pool *p;
	pthread_barrier_t *bar;
	struct lab_buf *volatile *slot;
	unsigned int rounds, refused;
};

static void *race_worker(void *arg)
{
	struct race *rc = arg;

	for (unsigned int r = 0; r < rc->rounds; r++) {
		struct lab_buf *b;

		pthread_barrier_wait(rc->bar); /* the main thread has put a buffer in the slot */
		b = *rc->slot;
		rc->refused += lab_free_bulk(NULL, &b, 1) == 0;
		pthread_barrier_wait(rc->bar);
	}
	return NULL;
}

/*
 * The guarantees of "sampled" (deep sampling out of the way: 1 in 2^30),
 * each measured over GUAR_FAULTS injected faults from THREADS threads: every
 * double free, foreign free, pointer never handed out, free into the wrong
 * pool and foreign hand-off is caught and refused, and the pool neither
 * loses a buffer nor holds one twice. Then GUAR_FAULTS truly concurrent
 * double frees without a cache: exactly one of each pair goes through.
 */
static void test_sampled_guarantees(void)
{
	struct lab_pool *p = quality_pool(LAB_QUALITY_SAMPLED, 1u << 30);
	struct lab_pool *other = small_pool(64, 64, 0, 1, 2, 0);
	struct guar g = { .rounds = GUAR_FAULTS / THREADS };
	struct race rc[2];
	struct lab_buf *volatile slot = NULL;
	struct lab_pool_stats st;
	pthread_barrier_t bar;
	pthread_t t[THREADS];

	CU_ASSERT_PTR_NOT_NULL_FATAL(p);
	CU_ASSERT_PTR_NOT_NULL_FATAL(other);
	g.p = p;
	g.other = other;
	log_capture(); /* 80 000 finding lines */
	for (int i = 0; i < THREADS; i++)
		CU_ASSERT_EQUAL_FATAL(pthread_create(&t[i], NULL, guar_worker, &g), 0);
	for (int i = 0; i < THREADS; i++)
		pthread_join(t[i], NULL);
	lab_pool_quality_check(p); /* a thread's first free without a cache is sampled */
	lab_pool_stats(p, &st);
	CU_ASSERT_EQUAL(st.findings[LAB_FIND_DOUBLE_FREE], 2 * GUAR_FAULTS);
	CU_ASSERT_EQUAL(st.findings[LAB_FIND_FOREIGN_FREE], GUAR_FAULTS);
	CU_ASSERT_EQUAL(st.findings[LAB_FIND_BAD_BUFFER], 4 * GUAR_FAULTS);
	CU_ASSERT_EQUAL(st.findings[LAB_FIND_FOREIGN_TRANSFER], GUAR_FAULTS);
	CU_ASSERT_EQUAL(st.findings[LAB_FIND_USE_AFTER_FREE], 0);
	CU_ASSERT_EQUAL(st.free, st.total);
	assert_accounting(p);

	/* concurrent double frees without a cache */
	pthread_barrier_init(&bar, NULL, 3);
	for (int i = 0; i < 2; i++) {
		rc[i] = (struct race){ .p = p, .bar = &bar, .slot = &slot, .rounds = GUAR_FAULTS };
		CU_ASSERT_EQUAL_FATAL(pthread_create(&t[i], NULL, race_worker, &rc[i]), 0);
	}
	for (unsigned int r = 0; r < GUAR_FAULTS; r++) {
		slot = lab_alloc(p, NULL);
		CU_ASSERT_PTR_NOT_NULL_FATAL(slot);
		pthread_barrier_wait(&bar);
		pthread_barrier_wait(&bar);
		if (r % 256 == 0)
			lab_pool_report_findings(p);
	}
	for (int i = 0; i < 2; i++)
		pthread_join(t[i], NULL);
	CU_ASSERT_EQUAL(rc[0].refused + rc[1].refused, GUAR_FAULTS);
	lab_pool_quality_check(p);
	lab_pool_stats(p, &st);
	CU_ASSERT_EQUAL(st.findings[LAB_FIND_DOUBLE_FREE], 3 * GUAR_FAULTS);
	CU_ASSERT_EQUAL(st.free, st.total);
	assert_accounting(p);
	log_release();
	pthread_barrier_destroy(&bar);
	CU_ASSERT_EQUAL(lab_pool_destroy(p), 0);
	CU_ASSERT_EQUAL(lab_pool_destroy(other), 0);
}

static uint32_t epoch_of(struct lab_pool *p)
{
	return LAB_Q_EPOCH(_lab_pool_q((const struct lab_pool_hot *)p));
}

/*
 * "off" keeps no per-buffer state: allocations, frees (with a cache and
 * without), refills and spills (bursts within the cache's size), bursts past
 * it, flushes and hand-offs leave every shadow word as it was.
 */
static void test_off_keeps_no_state(void)
{
	enum { N = 600 };
	struct lab_pool *p = quality_pool(LAB_QUALITY_OFF, 0);
	const struct lab_pool_hot *h = (const struct lab_pool_hot *)p;
	struct lab_cache *c, *o;
	struct lab_buf *b[N];
	uint64_t *before;
	struct lab_pool_stats st;

	CU_ASSERT_PTR_NOT_NULL_FATAL(p);
	c = lab_cache_create(p, "c", 32);
	o = lab_cache_create(p, "o", 32);
	before = malloc(h->shadow_cap * sizeof(*before));
	CU_ASSERT_FATAL(c != NULL && o != NULL && before != NULL);
	for (uint32_t i = 0; i < h->shadow_cap; i++)
		before[i] = atomic_load(&h->shadow[i].w);
	for (int r = 0; r < 50; r++) {
		/* Within the cache's 32: refills from the ring, spills past 48. */
		for (int k = 0; k < 4; k++)
			CU_ASSERT_EQUAL(lab_alloc_bulk(p, c, b + 16 * k, 16, 0), 16);
		CU_ASSERT_EQUAL(lab_free_bulk(c, b, 64), 64);
		lab_cache_flush(c);
		CU_ASSERT_EQUAL(lab_alloc_bulk(p, c, b, N, 0), N);     /* past the cache */
		CU_ASSERT_EQUAL(lab_buf_transfer(c, o, b, N / 2), N / 2);
		CU_ASSERT_EQUAL(lab_free_bulk(o, b, N / 2), N / 2);  /* spills */
		CU_ASSERT_EQUAL(lab_free_bulk(c, b + N / 2, N / 2), N / 2);
		CU_ASSERT_EQUAL(lab_alloc_bulk(p, NULL, b, 64, 0), 64);
		CU_ASSERT_EQUAL(lab_free_bulk(NULL, b, 64), 64);
	}
	for (uint32_t i = 0; i < h->shadow_cap; i++)
		CU_ASSERT_EQUAL_FATAL(atomic_load(&h->shadow[i].w), before[i]);
	lab_cache_destroy(o);
	lab_cache_destroy(c);
	lab_pool_stats(p, &st);
	CU_ASSERT_EQUAL(st.findings_total, 0);
	assert_accounting(p);
	free(before);
	CU_ASSERT_EQUAL(lab_pool_destroy(p), 0);
}

/*
 * From "off" to a checked level: buffers handed out at "off" are not known
 * (freeing or handing them on is no finding), buffers handed out after the
 * switch are checked at once, and a word left by an earlier checked period
 * never passes for a current one, even when the epoch comes round again (15
 * switches) and the word disagrees with what happened at "off" since.
 */
static void test_switch_from_off(void)
{
	enum { N = 64 };
	/* Rate 2^30 before any cache exists: no free is sampled into quarantine
	 * (the cache's countdown is drawn when it is made). */
	struct lab_pool *p = quality_pool(LAB_QUALITY_OFF, 1u << 30);
	struct lab_cache *c, *o;
	struct lab_buf *b[N], *x, *y;
	struct lab_pool_stats st;
	uint32_t e;

	CU_ASSERT_PTR_NOT_NULL_FATAL(p);
	c = lab_cache_create(p, "c", 32);
	o = lab_cache_create(p, "o", 32);
	CU_ASSERT_FATAL(c != NULL && o != NULL);
	log_capture();
	/* Held across the switch: not known, so freed and handed on freely. */
	CU_ASSERT_EQUAL(lab_alloc_bulk(p, c, b, N, 0), N);
	CU_ASSERT_EQUAL(lab_pool_set_quality(p, LAB_QUALITY_SAMPLED, 1u << 30), 0);
	CU_ASSERT_EQUAL(lab_buf_transfer(c, o, b, N / 2), N / 2);
	CU_ASSERT_EQUAL(lab_free_bulk(o, b, N / 2), N / 2);
	CU_ASSERT_EQUAL(lab_free_bulk(c, b + N / 2, N / 2), N / 2);
	lab_pool_stats(p, &st);
	CU_ASSERT_EQUAL(st.findings_total, 0);
	/* Handed out now: known at once. */
	x = lab_alloc(p, c);
	CU_ASSERT_EQUAL(lab_free(c, x), 1);
	CU_ASSERT_EQUAL(lab_free(c, x), 0);           /* double */
	x = lab_alloc(p, c);
	CU_ASSERT_EQUAL(lab_free(o, x), 0);           /* foreign */
	CU_ASSERT_EQUAL(lab_free(c, x), 1);
	lab_pool_stats(p, &st);
	CU_ASSERT_EQUAL(st.findings[LAB_FIND_DOUBLE_FREE], 1);
	CU_ASSERT_EQUAL(st.findings[LAB_FIND_FOREIGN_FREE], 1);
	/* y is freed at "sampled" (its word: cached by c), then taken back by c
	 * at "off" (no word written), then the epoch comes round: freeing it is
	 * right, and must not read as a double free. */
	for (int cycles = 1; cycles <= 15; cycles += 14) {
		y = lab_alloc(p, c);
		e = epoch_of(p);
		CU_ASSERT_EQUAL(lab_free(c, y), 1);
		CU_ASSERT_EQUAL(lab_pool_set_quality(p, LAB_QUALITY_OFF, 0), 0);
		CU_ASSERT_PTR_EQUAL(lab_alloc(p, c), y);       /* the cache is LIFO */
		for (int k = 0; k < cycles; k++) {
			CU_ASSERT_EQUAL(lab_pool_set_quality(p, LAB_QUALITY_FULL, 0), 0);
			if (k + 1 < cycles)
				CU_ASSERT_EQUAL(lab_pool_set_quality(p, LAB_QUALITY_OFF, 0), 0);
		}
		CU_ASSERT_EQUAL(epoch_of(p) == e, cycles == 15);
		CU_ASSERT_EQUAL(lab_pool_set_quality(p, LAB_QUALITY_SAMPLED, 0), 0);
		CU_ASSERT_EQUAL(lab_free(c, y), 1);
		CU_ASSERT_EQUAL(lab_free(c, y), 0);     /* and now it is known */
	}
	lab_pool_stats(p, &st);
	CU_ASSERT_EQUAL(st.findings[LAB_FIND_DOUBLE_FREE], 3);
	CU_ASSERT_EQUAL(st.findings[LAB_FIND_FOREIGN_FREE], 1);
	lab_pool_report_findings(p);
	log_release();
	lab_cache_destroy(o);
	lab_cache_destroy(c);
	assert_accounting(p);
	CU_ASSERT_EQUAL(lab_pool_destroy(p), 0);
}

/* Report lines: one per finding, with kind, pool, index, owner and sites. */
static void test_report_lines(void)
{
	struct lab_pool *p = quality_pool(LAB_QUALITY_FULL, 0);
	struct lab_cache *c = lab_cache_create(p, "rxq0", 32), *t = lab_cache_create(p, "txq0", 32);
	struct lab_buf *b = lab_alloc(p, c), *u = lab_alloc(p, c), fake, *fp = &fake;
	char want[128];

	CU_ASSERT_PTR_NOT_NULL_FATAL(b);
	log_capture();
	CU_ASSERT_EQUAL(lab_buf_transfer(c, t, &b, 1), 1);
	CU_ASSERT_EQUAL(lab_free(c, b), 0);                /* rxq0 no longer holds it */
	CU_ASSERT_EQUAL(lab_buf_transfer(c, t, &b, 1), 0); /* nor may hand it on */
	CU_ASSERT_EQUAL(lab_free(t, b), 1);
	CU_ASSERT_EQUAL(lab_free(t, b), 0);
	fake = *u;
	CU_ASSERT_EQUAL(lab_free(c, fp), 0);               /* a copy is not a buffer */
	memset((uint8_t *)u->buf_addr + u->buf_len, 0, 3);
	CU_ASSERT_EQUAL(lab_free(c, u), 1);
	lab_pool_quality_check(p);
	snprintf(want, sizeof(want), "finding kind=foreign_free pool=q buf=%u ", b->idx);
	CU_ASSERT_PTR_NOT_NULL(strstr(log_text(), want));
	CU_ASSERT_PTR_NOT_NULL(strstr(log_text(), "owner=txq0 caller=rxq0 site=test_quality+"));
	snprintf(want, sizeof(want), "finding kind=foreign_transfer pool=q buf=%u ", b->idx);
	CU_ASSERT_PTR_NOT_NULL(strstr(log_text(), want));
	snprintf(want, sizeof(want), "finding kind=double_free pool=q buf=%u ", b->idx);
	CU_ASSERT_PTR_NOT_NULL(strstr(log_text(), want));
	CU_ASSERT_PTR_NOT_NULL(strstr(log_text(), "state=quarantined owner=txq0 caller=txq0"));
	CU_ASSERT_PTR_NOT_NULL(strstr(log_text(), "free_site=test_quality+"));
	CU_ASSERT_PTR_NOT_NULL(strstr(log_text(), "finding kind=bad_buffer pool=q"));
	snprintf(want, sizeof(want), "finding kind=overrun pool=q buf=%u ", u->idx);
	CU_ASSERT_PTR_NOT_NULL(strstr(log_text(), want));
	CU_ASSERT_PTR_NOT_NULL(strstr(log_text(), "offset=3 bytes=3 alloc_site=test_quality+"));
	log_release();
	lab_cache_destroy(t);
	lab_cache_destroy(c);
	CU_ASSERT_EQUAL(lab_pool_destroy(p), 0);
}

/* ------------------------------------------------------------------ leaks */

static void test_leaks_found_grouped(void)
{
	struct lab_pool *p = quality_pool(LAB_QUALITY_SAMPLED, 1u << 30);
	struct seen *s = seen_new();
	struct lab_cache *c[THREADS];
	struct lab_buf *held[THREADS][ROUNDS], *brief;
	struct lab_pool_stats st;
	unsigned int missed = 0;

	CU_ASSERT_PTR_NOT_NULL_FATAL(p);
	lab_pool_set_finding_cb(p, seen_cb, s);
	/* An age no run reaches until brief is gone: a machine that kept this
	 * thread from its free for 30 ms would otherwise let the warden (it
	 * scans every age / 4) report brief. */
	lab_pool_set_leak_age(p, 600000);
	for (int i = 0; i < THREADS; i++) {
		char name[16];

		snprintf(name, sizeof(name), "leaky%d", i);
		c[i] = lab_cache_create(p, name, 32);
		CU_ASSERT_EQUAL(lab_alloc_bulk(p, c[i], held[i], ROUNDS, 0), ROUNDS);
	}
	brief = lab_alloc(p, c[0]);
	lab_pool_quality_check(p); /* first sight of each */
	lab_free(c[0], brief);     /* gone before the age: not a leak */
	log_capture();             /* the warden may report them first */
	sleep_ms(40);
	/* Every one seen is older than 30 ms now, so one scan reports them all. */
	lab_pool_set_leak_age(p, 30);
	lab_pool_quality_check(p);
	CU_ASSERT_PTR_NOT_NULL(strstr(log_text(), "leak: owner=leaky0 alloc_site=test_quality+"));
	CU_ASSERT_PTR_NOT_NULL(strstr(log_text(), "count=250 "));
	log_release();
	lab_pool_quality_check(p); /* reported once per allocation, not per scan */
	lab_pool_stats(p, &st);
	CU_ASSERT_EQUAL(st.findings[LAB_FIND_LEAK], THREADS * ROUNDS);
	for (int i = 0; i < THREADS; i++)
		for (int r = 0; r < ROUNDS; r++)
			missed += atomic_load(&s->count[LAB_FIND_LEAK][held[i][r]->idx]) != 1;
	CU_ASSERT_EQUAL(missed, 0);
	CU_ASSERT_EQUAL(atomic_load(&s->count[LAB_FIND_LEAK][brief->idx]), 0);
	/* destroy lists what is still in flight the same way */
	for (int i = 1; i < THREADS; i++) {
		lab_free_bulk(c[i], held[i], ROUNDS);
		lab_cache_destroy(c[i]);
	}
	log_capture();
	CU_ASSERT_EQUAL(lab_pool_destroy(p), -EBUSY);
	CU_ASSERT_PTR_NOT_NULL(strstr(log_text(), "not destroyed: 1 owner cache(s)"));
	lab_free_bulk(c[0], held[0], ROUNDS / 2);
	lab_buf_transfer(c[0], NULL, held[0] + ROUNDS / 2, ROUNDS / 2);
	lab_cache_destroy(c[0]);
	CU_ASSERT_EQUAL(lab_pool_destroy(p), -EBUSY);
	CU_ASSERT_PTR_NOT_NULL(strstr(log_text(), "125 buffer(s) still in flight"));
	CU_ASSERT_PTR_NOT_NULL(strstr(log_text(), "in flight: owner=no-cache alloc_site=test_quality+"));
	CU_ASSERT_PTR_NOT_NULL(strstr(log_text(), "count=125 "));
	log_release();
	lab_free_bulk(NULL, held[0] + ROUNDS / 2, ROUNDS / 2);
	assert_accounting(p);
	CU_ASSERT_EQUAL(lab_pool_destroy(p), 0);
	free(s);
}

/* One allocation site for every call (the leak test below needs a word
 * that is the same bit for bit after a free and a new allocation). */
static __attribute__((noinline)) struct lab_buf *take_one(struct lab_pool *p, struct lab_cache *c)
{
	return lab_alloc(p, c);
}

static uint64_t mono_ms(void)
{
	return lab_now_ns() / 1000000;
}

/*
 * A buffer's leak clock restarts whenever it moves: freed and allocated again
 * by the same owner from the same site (its word is then what it was before,
 * but for the scan's mark) or handed to another owner. A buffer left alone is
 * reported. An attempt counts only if its moves and its scan took less than
 * the age (a machine that stalled this thread longer made them real leaks).
 */
static void test_leak_clock_restarts(void)
{
	struct lab_pool *p = quality_pool(LAB_QUALITY_SAMPLED, 1u << 30);
	struct seen *s = seen_new();
	struct lab_cache *c = lab_cache_create(p, "lc", 32), *d = lab_cache_create(p, "ld", 32);
	struct lab_cache *holder = c;
	struct lab_buf *still, *x, *m;
	uint32_t x_idx, base_x = 0, base_m = 0;
	bool valid = false;

	CU_ASSERT_PTR_NOT_NULL_FATAL(p);
	CU_ASSERT_PTR_NOT_NULL_FATAL(d);
	lab_pool_set_finding_cb(p, seen_cb, s);
	lab_pool_set_leak_age(p, 600000);
	still = lab_alloc(p, c);
	x = take_one(p, c);
	m = lab_alloc(p, c);
	for (int attempt = 0; attempt < 50 && !valid; attempt++) {
		uint64_t t0;

		lab_pool_set_leak_age(p, 600000);
		lab_pool_quality_check(p); /* marks the three */
		sleep_ms(40);
		base_m = atomic_load(&s->count[LAB_FIND_LEAK][m->idx]);
		t0 = mono_ms();
		lab_free(c, x);
		x = take_one(p, c);
		x_idx = x->idx;
		base_x = atomic_load(&s->count[LAB_FIND_LEAK][x_idx]);
		CU_ASSERT_EQUAL(lab_buf_transfer(holder, holder == c ? d : c, &m, 1), 1);
		holder = holder == c ? d : c;
		lab_pool_set_leak_age(p, 30);
		lab_pool_quality_check(p);
		valid = mono_ms() - t0 < 25;
		if (valid) {
			CU_ASSERT_EQUAL(atomic_load(&s->count[LAB_FIND_LEAK][x_idx]), base_x);
			CU_ASSERT_EQUAL(atomic_load(&s->count[LAB_FIND_LEAK][m->idx]), base_m);
		}
	}
	CU_ASSERT_TRUE(valid);
	/* left alone since the first scan: reported */
	CU_ASSERT_EQUAL(atomic_load(&s->count[LAB_FIND_LEAK][still->idx]), 1);
	/* and the moved ones once they stay put for the age */
	sleep_ms(40);
	lab_pool_quality_check(p);
	CU_ASSERT_EQUAL(atomic_load(&s->count[LAB_FIND_LEAK][x_idx]), base_x + 1);
	CU_ASSERT_EQUAL(atomic_load(&s->count[LAB_FIND_LEAK][m->idx]), base_m + 1);
	lab_free(c, still);
	lab_free(c, x);
	lab_free(holder, m);
	lab_cache_destroy(c);
	lab_cache_destroy(d);
	assert_accounting(p);
	CU_ASSERT_EQUAL(lab_pool_destroy(p), 0);
	free(s);
}

/* ---------------------------------------------------------------- policies */

static void test_retire_policy(void)
{
	struct lab_pool *p = quality_pool(LAB_QUALITY_FULL, 0);
	struct lab_cache *c = lab_cache_create(p, "r", 32);
	struct lab_buf *b = lab_alloc(p, c), *x[64];
	struct lab_pool_stats st;
	uint32_t victim = b->idx;
	unsigned int again = 0, n;

	log_capture();
	CU_ASSERT_EQUAL(lab_pool_set_policy(p, LAB_POLICY_RETIRE), 0);
	CU_ASSERT_EQUAL(lab_pool_set_policy(p, (enum lab_quality_policy)7), -EINVAL);
	lab_free(c, b);
	((uint8_t *)b->buf_addr)[10] = 1;
	lab_pool_quality_check(p);
	lab_pool_stats(p, &st);
	CU_ASSERT_EQUAL(st.retired, 1);
	CU_ASSERT_EQUAL(st.findings[LAB_FIND_USE_AFTER_FREE], 1);
	assert_accounting(p);
	/* never handed out again */
	for (int r = 0; r < 4096 / 64 + 1; r++) {
		n = lab_alloc_bulk(p, NULL, x, 64, 0);
		for (unsigned int i = 0; i < n; i++)
			again += x[i]->idx == victim;
		lab_free_bulk(NULL, x, n);
		lab_pool_quality_check(p);
	}
	CU_ASSERT_EQUAL(again, 0);
	lab_cache_destroy(c);
	log_release();
	CU_ASSERT_EQUAL(lab_pool_destroy(p), 0);
}

/* The library aborts only under the abort policy, after logging the finding. */
static void test_abort_policy(void)
{
	int status = 0;
	pid_t pid;

	fflush(stdout);
	pid = fork();
	CU_ASSERT_FATAL(pid >= 0);
	if (pid == 0) {
		struct lab_pool *p = quality_pool(LAB_QUALITY_SAMPLED, 1u << 30);
		struct lab_buf *b = lab_alloc(p, NULL);

		lab_pool_set_policy(p, LAB_POLICY_ABORT);
		lab_free(NULL, b);
		lab_free(NULL, b); /* aborts here */
		_exit(0);
	}
	CU_ASSERT_EQUAL_FATAL(waitpid(pid, &status, 0), pid);
	CU_ASSERT(WIFSIGNALED(status) && WTERMSIG(status) == SIGABRT);
}

static void test_set_quality_checks_input(void)
{
	struct lab_pool *p = quality_pool(LAB_QUALITY_OFF, 0);

	log_capture();
	CU_ASSERT_EQUAL(lab_pool_set_quality(p, (enum lab_quality)9, 0), -EINVAL);
	CU_ASSERT_PTR_NOT_NULL(strstr(log_text(), "level 9 (want off, sampled or full)"));
	CU_ASSERT_EQUAL(lab_pool_set_quality(p, LAB_QUALITY_SAMPLED, (1u << 30) + 1), -EINVAL);
	log_release();
	CU_ASSERT_EQUAL(lab_pool_set_quality(p, LAB_QUALITY_FULL, 8), 0);
	CU_ASSERT_EQUAL(lab_pool_quality(p), LAB_QUALITY_FULL);
	CU_ASSERT_EQUAL(lab_pool_destroy(p), 0);
}

/*
 * An external pool (the DPDK mempool driver's kind): cells laid out by the
 * caller in its own memory, in two runs with a gap. All-or-nothing
 * allocation, the available count, every finding kind the quality level can
 * make there (double free, bad buffer, use after free in the room, overrun
 * into the redzone, a damaged header), and a destroy with buffers in flight
 * that never touches the memory.
 */
static void test_external_pool(void)
{
	enum { N = 96, STRIDE = 512, ROOM_OFF = 192, ROOM_LEN = 256 };
	struct lab_pool_opts o;
	struct lab_pool_stats st;
	struct lab_buf *b[N + 1], *one;
	struct lab_pool *p;
	char *mem = aligned_alloc(64, (N + 8) * STRIDE);

	CU_ASSERT_PTR_NOT_NULL_FATAL(mem);
	memset(mem, 0x11, (N + 8) * STRIDE);
	lab_pool_opts_init(&o);
	o.name = "ext";
	o.max = N;
	o.wm_min = o.wm_low = o.reserve = (struct lab_count){ 0, false };
	o.wm_high = (struct lab_count){ 50, true };
	o.quality = LAB_QUALITY_FULL;
	log_capture();
	/* Bad layouts are refused with a message. */
	CU_ASSERT_PTR_NULL(lab_pool_create_external(&o, 32, ROOM_LEN));
	p = lab_pool_create_external(&o, ROOM_OFF, ROOM_LEN);
	CU_ASSERT_PTR_NOT_NULL_FATAL(p);
	CU_ASSERT_EQUAL(lab_pool_add_cells(p, mem, 0x100000, 256, 4), -EINVAL);
	CU_ASSERT_EQUAL(lab_pool_add_cells(p, mem + 8, 0x100000, STRIDE, 4), -EINVAL);
	CU_ASSERT_EQUAL(lab_pool_add_cells(p, mem + 8 * STRIDE, 0x100000 + 8 * STRIDE, STRIDE,
					   N / 2), 0);
	CU_ASSERT_EQUAL(lab_pool_add_cells(p, mem + 10 * STRIDE, 0, STRIDE, 2), -EEXIST);
	CU_ASSERT_EQUAL(lab_pool_add_cells(p, mem, UINT64_MAX, STRIDE, N / 2 + 1), -ENOSPC);
	CU_ASSERT_EQUAL(lab_pool_add_cells(p, mem, UINT64_MAX, STRIDE, 6), 0);
	CU_ASSERT_EQUAL(lab_pool_add_cells(p, mem + (8 + N / 2) * STRIDE, 0x100000 +
					   (8 + N / 2) * STRIDE, STRIDE, N / 2 - 6), 0);
	CU_ASSERT_EQUAL(lab_pool_available(p), N);
	CU_ASSERT_EQUAL(lab_pool_memory(p, (void **)&one, (size_t *)&st.total), -ENOTSUP);

	/* All or nothing: N + 1 fails whole, N succeeds. */
	CU_ASSERT_EQUAL(lab_alloc_bulk(p, NULL, b, N + 1, LAB_ALLOC_ALL), 0);
	CU_ASSERT_EQUAL(lab_pool_available(p), N);
	CU_ASSERT_EQUAL(lab_alloc_bulk(p, NULL, b, N, LAB_ALLOC_ALL), N);
	CU_ASSERT_EQUAL(lab_pool_available(p), 0);
	for (unsigned int i = 0; i < N; i++) {
		char *cell = (char *)b[i];

		CU_ASSERT_FATAL(cell >= mem && cell < mem + (N + 8) * STRIDE &&
				(cell - mem) % STRIDE == 0);
		CU_ASSERT_PTR_EQUAL(b[i]->buf_addr, cell + ROOM_OFF);
		CU_ASSERT_EQUAL(b[i]->buf_len, ROOM_LEN);
		CU_ASSERT_EQUAL(b[i]->buf_iova, cell < mem + 6 * STRIDE ? UINT64_MAX :
				0x100000 + (uint64_t)(cell - mem) + ROOM_OFF);
	}
	/* Memory around the rooms is the caller's: never poisoned. */
	memset((char *)b[0] + 64, 0x22, ROOM_OFF - 64);
	memset(b[1]->buf_addr, 0x33, ROOM_LEN);
	CU_ASSERT_EQUAL(lab_free_bulk(NULL, b, 4), 4);
	CU_ASSERT_EQUAL(lab_free(NULL, b[0]), 0);                    /* double free */
	one = (struct lab_buf *)(mem + 7 * STRIDE);                  /* not a cell */
	CU_ASSERT_EQUAL(lab_free_bulk_to(p, &one, 1), 0);
	((char *)b[1]->buf_addr)[10] = 1;                            /* use after free */
	((char *)b[2]->buf_addr)[ROOM_LEN + 3] = 1;                  /* overrun */
	b[3]->buf_len = 7;                                           /* damaged header */
	CU_ASSERT_EQUAL(lab_pool_available(p), 4);
	lab_pool_quality_check(p);
	lab_pool_stats(p, &st);
	CU_ASSERT_EQUAL(st.findings[LAB_FIND_DOUBLE_FREE], 1);
	CU_ASSERT_EQUAL(st.findings[LAB_FIND_BAD_BUFFER], 1);
	CU_ASSERT_EQUAL(st.findings[LAB_FIND_USE_AFTER_FREE], 1);
	CU_ASSERT_EQUAL(st.findings[LAB_FIND_OVERRUN], 1);
	CU_ASSERT_EQUAL(st.findings[LAB_FIND_HEADER], 1);
	CU_ASSERT_EQUAL(st.free, 4);
	CU_ASSERT_EQUAL(st.in_flight, N - 4);
	CU_ASSERT_EQUAL(st.total, N);
	for (unsigned int i = 64; i < ROOM_OFF; i++)
		CU_ASSERT_EQUAL_FATAL(((unsigned char *)b[0])[i], 0x22);
	CU_ASSERT_EQUAL(b[3]->buf_len, ROOM_LEN); /* repaired */
	/* Never waits for the buffers still out, never touches the cells. */
	CU_ASSERT_EQUAL(lab_pool_check_in_flight(p, N - 4), 0);
	CU_ASSERT_EQUAL(lab_pool_check_in_flight(p, 2), N - 6);
	CU_ASSERT_PTR_NOT_NULL(strstr(lab_test_log_text(), "92 buffer(s) in flight, 90 more "
				     "than the 2"));
	lab_pool_destroy_external(p);
	log_release();
	free(mem);
}

struct paged_seen {
	struct lab_pool *p;
	uint64_t offs[64];
	unsigned int n, free_at_cb;
};

static void paged_cb(struct lab_buf *cell, uint64_t off, void *arg)
{
	struct paged_seen *ps = arg;

	/* Written by the pool already, not yet free. */
	if (ps->n < 64)
		ps->offs[ps->n] = off;
	ps->n++;
	if (cell->buf_len == 256 && lab_pool_available(ps->p) < ps->n)
		ps->free_at_cb++;
}

/*
 * Cells that must not cross a page (a DPDK mempool on 4 KiB pages): one call
 * per chunk whatever its page count, the callback on every cell before it is
 * free, cells found from their address alone (the quarantine's index), a gap
 * between pages that is no cell, and thousands of single-cell runs added out
 * of order (their bookkeeping was a linear scan per add: 7.5 s for a 64 Ki-mbuf
 * testpmd pool).
 */
static void test_external_paged(void)
{
	enum { PG = 4096, STRIDE = 1536, PER = 2, N = 2 * 5 + 1, ROOM_OFF = 128, ROOM_LEN = 256,
	       SINGLES = 3000 };
	struct paged_seen ps = { 0 };
	struct lab_pool_opts o;
	struct lab_pool_stats st;
	struct lab_buf *b[N + SINGLES], *gap;
	struct lab_pool *p;
	char *mem = aligned_alloc(PG, (size_t)6 * PG), *many;

	many = aligned_alloc(64, (size_t)SINGLES * STRIDE);
	CU_ASSERT_PTR_NOT_NULL_FATAL(mem);
	CU_ASSERT_PTR_NOT_NULL_FATAL(many);
	lab_pool_opts_init(&o);
	o.name = "paged";
	o.max = N + SINGLES + 1; /* room for the refused overlap below */
	o.wm_min = o.wm_low = o.reserve = (struct lab_count){ 0, false };
	o.wm_high = (struct lab_count){ 50, true };
	o.quality = LAB_QUALITY_FULL;
	log_capture();
	p = lab_pool_create_external(&o, ROOM_OFF, ROOM_LEN);
	CU_ASSERT_PTR_NOT_NULL_FATAL(p);
	ps.p = p;
	CU_ASSERT_EQUAL(lab_pool_add_cells_paged(p, mem, 0x100000, STRIDE, N, 3, PG, NULL, NULL),
			-EINVAL); /* 3 cells do not fit a page */
	CU_ASSERT_EQUAL(lab_pool_add_cells_paged(p, mem, 0x100000, STRIDE, N, PER, PG, paged_cb,
						 &ps), 0);
	CU_ASSERT_EQUAL(ps.n, N);
	CU_ASSERT_EQUAL(ps.free_at_cb, N);
	for (unsigned int i = 0; i < N; i++)
		CU_ASSERT_EQUAL(ps.offs[i], (uint64_t)(i / PER) * PG + (i % PER) * STRIDE);
	/* Overlaps a cell on the last page, not the gaps between. */
	CU_ASSERT_EQUAL(lab_pool_add_cells(p, mem + 5 * PG, 0, STRIDE, 1), -EEXIST);
	/* Single cells, added from the top down: each goes first in the table. */
	for (unsigned int i = SINGLES; i-- > 0;)
		CU_ASSERT_EQUAL_FATAL(lab_pool_add_cells(p, many + (size_t)i * STRIDE, UINT64_MAX,
							 STRIDE, 1), 0);
	CU_ASSERT_EQUAL(lab_pool_add_cells(p, many + 7 * STRIDE, UINT64_MAX, STRIDE, 1),
			-EEXIST);
	CU_ASSERT_EQUAL(lab_alloc_bulk(p, NULL, b, N + SINGLES, LAB_ALLOC_ALL), N + SINGLES);
	for (unsigned int i = 0; i < N + SINGLES; i++) {
		char *cell = (char *)b[i];

		if (cell >= many) {
			CU_ASSERT_FATAL((cell - many) % STRIDE == 0);
			continue;
		}
		CU_ASSERT_FATAL(cell >= mem && (cell - mem) % PG % STRIDE == 0 &&
				(cell - mem) % PG / STRIDE < PER);
		CU_ASSERT_EQUAL(b[i]->buf_iova, 0x100000 + (uint64_t)(cell - mem) + ROOM_OFF);
	}
	/* Every cell back through quarantine (found by address), one faulty
	 * cell on a later page, a free of the gap after a page's cells. */
	for (unsigned int i = 0; i < N + SINGLES; i++)
		if ((char *)b[i] == mem + 3 * PG + STRIDE)
			((char *)b[i]->buf_addr)[ROOM_LEN] = 1; /* overrun */
	CU_ASSERT_EQUAL(lab_free_bulk(NULL, b, N + SINGLES), N + SINGLES);
	gap = (struct lab_buf *)(mem + 2 * PG + PER * STRIDE);
	CU_ASSERT_EQUAL(lab_free_bulk_to(p, &gap, 1), 0);
	lab_pool_quality_check(p);
	lab_pool_stats(p, &st);
	CU_ASSERT_EQUAL(st.findings[LAB_FIND_OVERRUN], 1);
	CU_ASSERT_EQUAL(st.findings[LAB_FIND_BAD_BUFFER], 1);
	CU_ASSERT_EQUAL(st.findings[LAB_FIND_DOUBLE_FREE], 0);
	CU_ASSERT_EQUAL(st.total, N + SINGLES);
	CU_ASSERT_EQUAL(st.in_flight, 0);
	lab_pool_destroy_external(p);
	log_release();
	free(many);
	free(mem);
}

int main(void)
{
	static const struct lab_test tests[] = {
		LAB_TEST(test_full_finds_every_fault),
		LAB_TEST(test_full_reports_offsets),
		LAB_TEST(test_full_clean_run_no_false_positives),
		LAB_TEST(test_full_zeroes_before_reuse),
		LAB_TEST(test_sampled_rate),
		LAB_TEST(test_sampled_checks_ownership),
		LAB_TEST(test_sampled_guarantees),
		LAB_TEST(test_off_keeps_no_state),
		LAB_TEST(test_switch_from_off),
		LAB_TEST(test_report_lines),
		LAB_TEST(test_leaks_found_grouped),
		LAB_TEST(test_leak_clock_restarts),
		LAB_TEST(test_retire_policy),
		LAB_TEST(test_abort_policy),
		LAB_TEST(test_set_quality_checks_input),
		LAB_TEST(test_external_pool),
		LAB_TEST(test_external_paged),
		{ NULL, NULL },
	};

	return lab_test_run("quality", tests);
}
