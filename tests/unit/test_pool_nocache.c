/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The path without an owner cache (lib/pool/pool_nocache.c): per-thread rings,
 * what happens to them when a thread stops, exits or is out-numbered, and the
 * ownership check callers without a cache share.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "pool_helpers.h"
#include "../../lib/pool/pool_internal.h" /* the rings, to see where buffers are */

/* A thread parks buffers in its ring, then waits for a flag (stopped, as a
 * preempted or idle thread is) while holding them. */
struct parker {
	struct lab_pool *p;
	unsigned int n;
	_Atomic int parked, go;
};

static void *parker_main(void *arg)
{
	struct parker *k = arg;
	struct lab_buf *b[64];
	unsigned int got = lab_alloc_bulk(k->p, NULL, b, k->n, 0);

	lab_free_bulk(NULL, b, got);
	atomic_store(&k->parked, 1);
	while (!atomic_load(&k->go))
		sched_yield();
	return NULL;
}

static uint64_t parked_in_rings(struct lab_pool *p)
{
	uint64_t n = 0;

	for (unsigned int i = 0; i < POOL_NOCACHE_RINGS; i++)
		n += atomic_load(&p->nc[i].tail) - atomic_load(&p->nc[i].head);
	return n;
}

/* Buffers a stopped thread parked are free: stats say so, and another thread
 * at the floor gets them (it moves them to the shared ring, no waiting), so
 * the whole pool down to min is still handed out. */
static void test_stopped_thread_does_not_strand(void)
{
	struct lab_pool *p = small_pool(1024, 1024, 10, 20, 30, 5);
	struct parker k = { p, 64, 0, 0 };
	struct lab_buf **held = calloc(1024, sizeof(*held));
	struct lab_pool_stats st;
	unsigned int n = 0;
	pthread_t t;

	CU_ASSERT_PTR_NOT_NULL_FATAL(p);
	CU_ASSERT_EQUAL_FATAL(pthread_create(&t, NULL, parker_main, &k), 0);
	while (!atomic_load(&k.parked))
		sched_yield();
	lab_pool_quality_check(p); /* what "sampled" picked, back from quarantine */
	CU_ASSERT(parked_in_rings(p) >= 63);
	lab_pool_stats(p, &st);
	CU_ASSERT_EQUAL(st.free, st.total); /* parked buffers are free */
	assert_accounting(p);
	while ((held[n] = lab_alloc(p, NULL)) != NULL)
		n++;
	CU_ASSERT_EQUAL(n, 1024 - 10);
	CU_ASSERT_EQUAL(lab_alloc_bulk(p, NULL, held + n, 10, LAB_ALLOC_ALL), 0);
	assert_accounting(p);
	CU_ASSERT_EQUAL(lab_free_bulk(NULL, held, n), n);
	atomic_store(&k.go, 1);
	pthread_join(t, NULL);
	lab_pool_quality_check(p);
	lab_pool_stats(p, &st);
	CU_ASSERT_EQUAL(st.free, st.total);
	assert_accounting(p);
	assert_no_findings(p);
	CU_ASSERT_EQUAL(lab_pool_destroy(p), 0);
	free(held);
}

/* A thread that exits gives its ring back: the buffers go to the shared ring
 * and the ring to the next thread. */
static void test_thread_exit_returns_ring(void)
{
	struct lab_pool *p = small_pool(1024, 1024, 10, 20, 30, 5);
	struct parker k = { p, 32, 0, 1 };
	uint32_t before, owners = 0;
	pthread_t t;

	CU_ASSERT_PTR_NOT_NULL_FATAL(p);
	before = lab_ring_count(p->hot.ring);
	CU_ASSERT_EQUAL_FATAL(pthread_create(&t, NULL, parker_main, &k), 0);
	pthread_join(t, NULL);
	lab_pool_quality_check(p); /* what "sampled" picked, back from quarantine */
	CU_ASSERT_EQUAL(parked_in_rings(p), 0);
	CU_ASSERT_EQUAL(lab_ring_count(p->hot.ring), before);
	for (unsigned int i = 0; i < POOL_NOCACHE_RINGS; i++)
		owners += atomic_load(&p->nc[i].owner) != 0;
	CU_ASSERT_EQUAL(owners, 0);
	assert_accounting(p);
	CU_ASSERT_EQUAL(lab_pool_destroy(p), 0);
}

/* A thread's ring outlives no pool: destroyed with buffers parked in a live
 * thread's ring, the pool is accounted for; that thread then exits, with a
 * new pool maybe at the old one's address, and gives nothing to either. */
static void test_pool_destroyed_under_parked_ring(void)
{
	struct lab_pool *p = small_pool(1024, 1024, 10, 20, 30, 5);
	struct parker k = { p, 64, 0, 0 };
	pthread_t t;

	CU_ASSERT_PTR_NOT_NULL_FATAL(p);
	CU_ASSERT_EQUAL_FATAL(pthread_create(&t, NULL, parker_main, &k), 0);
	while (!atomic_load(&k.parked))
		sched_yield();
	CU_ASSERT_EQUAL(lab_pool_destroy(p), 0);
	p = small_pool(1024, 1024, 10, 20, 30, 5);
	CU_ASSERT_PTR_NOT_NULL_FATAL(p);
	atomic_store(&k.go, 1);
	pthread_join(t, NULL);
	assert_accounting(p);
	CU_ASSERT_EQUAL(lab_pool_destroy(p), 0);
}

/*
 * Many more threads than cores, each allocating all or nothing and freeing,
 * with the pool so small that they need each other's parked buffers; one of
 * them stops for good halfway, holding its ring. Everyone else finishes (no
 * one waits for the stopped thread) and the accounting is exact.
 */
#define HAMMER_THREADS 24
#define HAMMER_ROUNDS 3000

struct hammer {
	struct lab_pool *p;
	uint64_t got, failed;
	bool stops;
	_Atomic int *release;
	_Atomic int stopped;
};

static void *hammer_main(void *arg)
{
	struct hammer *h = arg;
	struct lab_buf *b[48];

	for (unsigned int r = 0; r < HAMMER_ROUNDS; r++) {
		unsigned int want = 1 + (r * 7 + (unsigned int)(uintptr_t)h / 64) % 48;
		unsigned int n = lab_alloc_bulk(h->p, NULL, b, want, r % 2 ? LAB_ALLOC_ALL : 0);

		h->got += n;
		h->failed += n == 0;
		if (n != 0)
			CU_ASSERT_EQUAL(lab_free_bulk(NULL, b, n), n);
		if (h->stops && r == HAMMER_ROUNDS / 2) {
			atomic_store(&h->stopped, 1);
			while (!atomic_load(h->release))
				sched_yield();
		}
	}
	return NULL;
}

static void hammer(enum lab_quality level)
{
	/* 24 threads x up to 48 + a ring each would need far more than 512. */
	struct lab_pool *p = small_pool(512, 512, 8, 16, 32, 4);
	static struct hammer h[HAMMER_THREADS];
	_Atomic int release = 0;
	pthread_t t[HAMMER_THREADS];
	struct lab_pool_stats st;
	uint64_t got = 0;

	CU_ASSERT_PTR_NOT_NULL_FATAL(p);
	CU_ASSERT_EQUAL(lab_pool_set_quality(p, level, 0), 0);
	for (int i = 0; i < HAMMER_THREADS; i++) {
		h[i] = (struct hammer){ .p = p, .stops = i == 0, .release = &release };
		CU_ASSERT_EQUAL_FATAL(pthread_create(&t[i], NULL, hammer_main, &h[i]), 0);
	}
	while (!atomic_load(&h[0].stopped))
		sched_yield();
	/* The others finish while thread 0 stays stopped (a join that never
	 * returns is the failure: meson's timeout reports it). */
	for (int i = 1; i < HAMMER_THREADS; i++) {
		pthread_join(t[i], NULL);
		got += h[i].got;
	}
	CU_ASSERT(parked_in_rings(p) <= POOL_NC_SLOTS); /* thread 0's at most */
	atomic_store(&release, 1);
	pthread_join(t[0], NULL);
	got += h[0].got;
	lab_pool_quality_check(p);
	lab_pool_stats(p, &st);
	CU_ASSERT(got > 0);
	CU_ASSERT_EQUAL(st.sum.allocs, got);
	CU_ASSERT_EQUAL(st.sum.frees, got);
	CU_ASSERT_EQUAL(st.free, st.total);
	CU_ASSERT_EQUAL(parked_in_rings(p), 0); /* every thread has exited */
	assert_accounting(p);
	assert_no_findings(p);
	CU_ASSERT_EQUAL(lab_pool_destroy(p), 0);
}

static void test_hammer_off(void)
{
	hammer(LAB_QUALITY_OFF);
}

static void test_hammer_sampled(void)
{
	hammer(LAB_QUALITY_SAMPLED);
}

static void test_hammer_full(void)
{
	hammer(LAB_QUALITY_FULL);
}

/* All or nothing counts every free buffer, parked ones included: with the
 * pool's whole free part parked in another (live) thread's ring, a request
 * for exactly what is above the floor is served, one more is refused. */
static void test_all_or_nothing_counts_parked(void)
{
	struct lab_pool *p = small_pool(1024, 1024, 10, 20, 30, 5);
	struct parker k = { p, 64, 0, 0 };
	struct lab_buf **b = calloc(1024, sizeof(*b));
	pthread_t t;

	CU_ASSERT_PTR_NOT_NULL_FATAL(p);
	CU_ASSERT_EQUAL_FATAL(pthread_create(&t, NULL, parker_main, &k), 0);
	while (!atomic_load(&k.parked))
		sched_yield();
	CU_ASSERT_EQUAL(lab_alloc_bulk(p, NULL, b, 1024 - 10 + 1, LAB_ALLOC_ALL), 0);
	CU_ASSERT_EQUAL(lab_alloc_bulk(p, NULL, b, 1024 - 10, LAB_ALLOC_ALL), 1024 - 10);
	assert_accounting(p);
	CU_ASSERT_EQUAL(lab_free_bulk(NULL, b, 1024 - 10), 1024 - 10);
	atomic_store(&k.go, 1);
	pthread_join(t, NULL);
	lab_pool_quality_check(p);
	assert_accounting(p);
	CU_ASSERT_EQUAL(lab_pool_destroy(p), 0);
	free(b);
}

/* The reserve stays for atomic callers: an atomic allocation below min that
 * refills the thread's ring does not leave reserve buffers there for the
 * same thread's ordinary calls. */
static void test_reserve_not_parked_for_ordinary(void)
{
	struct lab_pool *p = small_pool(1024, 1024, 100, 200, 300, 60);
	struct lab_buf **held = calloc(1024, sizeof(*held));
	unsigned int n = 0, atomic;
	struct lab_pool_stats st;

	CU_ASSERT_PTR_NOT_NULL_FATAL(p);
	while ((held[n] = lab_alloc(p, NULL)) != NULL)
		n++;
	CU_ASSERT_EQUAL(n, 1024 - 100);
	held[n] = lab_alloc_atomic(p, NULL);
	CU_ASSERT_PTR_NOT_NULL_FATAL(held[n]);
	n++;
	CU_ASSERT_PTR_NULL(lab_alloc(p, NULL));
	while ((held[n] = lab_alloc_atomic(p, NULL)) != NULL)
		n++;
	atomic = n - (1024 - 100);
	CU_ASSERT_EQUAL(atomic, 60);
	lab_pool_stats(p, &st);
	CU_ASSERT_EQUAL(st.sum.reserve_uses, 60);
	assert_accounting(p);
	CU_ASSERT_EQUAL(lab_free_bulk(NULL, held, n), n);
	lab_pool_quality_check(p);
	assert_accounting(p);
	CU_ASSERT_EQUAL(lab_pool_destroy(p), 0);
	free(held);
}

/* Double frees without a cache at "sampled": by the same thread (the buffer is
 * in its ring), and by another thread after the first free (the buffer in the
 * first thread's ring). Both caught, the buffer put back once. */
struct freer {
	struct lab_buf *b;
	unsigned int ret;
};

static void *free_once(void *arg)
{
	struct freer *f = arg;

	f->ret = lab_free(NULL, f->b);
	return NULL;
}

static void count_finding(const struct lab_finding *f, void *arg)
{
	if (f->kind == LAB_FIND_DOUBLE_FREE)
		atomic_fetch_add((_Atomic unsigned int *)arg, 1); /* the warden may report */
}

static void test_double_free_caught_sampled(void)
{
	_Atomic unsigned int reported = 0;
	struct lab_pool *p = small_pool(1024, 1024, 10, 20, 30, 5);
	struct lab_pool_stats st;
	struct freer f;
	pthread_t t;

	CU_ASSERT_PTR_NOT_NULL_FATAL(p);
	CU_ASSERT_EQUAL(lab_pool_quality(p), LAB_QUALITY_SAMPLED);
	lab_pool_set_finding_cb(p, count_finding, &reported); /* and not logged */
	for (int i = 0; i < 200; i++) {
		struct lab_buf *b = lab_alloc(p, NULL);

		CU_ASSERT_PTR_NOT_NULL_FATAL(b);
		CU_ASSERT_EQUAL(lab_free(NULL, b), 1);
		CU_ASSERT_EQUAL(lab_free(NULL, b), 0); /* same thread */
		b = lab_alloc(p, NULL);
		CU_ASSERT_PTR_NOT_NULL_FATAL(b);
		CU_ASSERT_EQUAL(lab_free(NULL, b), 1);
		f = (struct freer){ b, 9 };
		CU_ASSERT_EQUAL_FATAL(pthread_create(&t, NULL, free_once, &f), 0);
		pthread_join(t, NULL);
		CU_ASSERT_EQUAL(f.ret, 0); /* another thread, after */
	}
	lab_pool_stats(p, &st);
	CU_ASSERT_EQUAL(st.findings[LAB_FIND_DOUBLE_FREE], 400);
	lab_pool_report_findings(p);
	CU_ASSERT_EQUAL(atomic_load(&reported), 400);
	lab_pool_quality_check(p);
	assert_accounting(p);
	CU_ASSERT_EQUAL(lab_pool_destroy(p), 0);
}

/*
 * A single allocation that loses its ring to a thief: lab_alloc() and
 * lab_alloc_atomic() return NULL when nothing was allocated, never a pointer
 * a failed claim read. Thread A allocates one at a time from its ring while
 * thread B takes the whole pool again and again (at the floor it moves A's
 * ring to the shared ring), so A's claim of its last buffer races B's, and
 * A's retry then finds its ring and the pool empty. Each buffer has one
 * holder at a time (a table by index, exchanged at every allocation).
 */
#define THIEF_SECS 2

struct thief_race {
	struct lab_pool *p;
	_Atomic uint32_t holder[1024];
	_Atomic int stop;
	_Atomic uint64_t twice, rounds;
};

static void take_hold(struct thief_race *r, struct lab_buf *b, uint32_t me)
{
	if (atomic_exchange(&r->holder[b->idx], me) != 0)
		atomic_fetch_add(&r->twice, 1);
}

static void give_back(struct thief_race *r, struct lab_buf *const *b, unsigned int n)
{
	for (unsigned int i = 0; i < n; i++)
		atomic_store(&r->holder[b[i]->idx], 0);
	CU_ASSERT_EQUAL(lab_free_bulk(NULL, b, n), n);
}

static void *single_main(void *arg)
{
	struct thief_race *r = arg;
	struct lab_buf *b[4];

	while (!atomic_load_explicit(&r->stop, memory_order_relaxed)) {
		unsigned int n = 0;

		/* Up to four, one call each, ordinary then atomic (the reserve). */
		while (n < 4 && (b[n] = n % 2 ? lab_alloc_atomic(r->p, NULL) : lab_alloc(r->p, NULL)))
			take_hold(r, b[n++], 1);
		give_back(r, b, n);
		atomic_fetch_add_explicit(&r->rounds, 1, memory_order_relaxed);
	}
	return NULL;
}

static void *thief_main(void *arg)
{
	struct thief_race *r = arg;
	static struct lab_buf *b[1024];

	while (!atomic_load_explicit(&r->stop, memory_order_relaxed)) {
		unsigned int n = 0, k;

		while (n < 1024 && (k = lab_alloc_bulk(r->p, NULL, b + n,
						       1024 - n < 64 ? 1024 - n : 64,
						       LAB_ALLOC_ATOMIC)) != 0)
			for (unsigned int i = 0; i < k; i++)
				take_hold(r, b[n++], 2);
		give_back(r, b, n);
	}
	return NULL;
}

static void test_single_alloc_loses_ring_to_thief(void)
{
	static struct thief_race r;
	uint64_t until = lab_now_ns() + THIEF_SECS * 1000000000ull;
	pthread_t a, b;

	memset(&r, 0, sizeof(r));
	r.p = small_pool(1024, 1024, 8, 16, 32, 4);
	CU_ASSERT_PTR_NOT_NULL_FATAL(r.p);
	CU_ASSERT_EQUAL_FATAL(pthread_create(&a, NULL, single_main, &r), 0);
	CU_ASSERT_EQUAL_FATAL(pthread_create(&b, NULL, thief_main, &r), 0);
	while (lab_now_ns() < until && atomic_load(&r.twice) == 0)
		usleep(10000);
	atomic_store(&r.stop, 1);
	pthread_join(a, NULL);
	pthread_join(b, NULL);
	printf("\n    %llu rounds of single allocations, %llu buffers held twice\n",
	       (unsigned long long)r.rounds, (unsigned long long)r.twice);
	CU_ASSERT(r.rounds > 0);
	CU_ASSERT_EQUAL(r.twice, 0);
	lab_pool_quality_check(r.p);
	if (r.twice == 0) {
		assert_accounting(r.p);
		CU_ASSERT_EQUAL(lab_pool_destroy(r.p), 0);
	}
}

int main(void)
{
	static const struct lab_test tests[] = {
		LAB_TEST(test_stopped_thread_does_not_strand),
		LAB_TEST(test_thread_exit_returns_ring),
		LAB_TEST(test_pool_destroyed_under_parked_ring),
		LAB_TEST(test_all_or_nothing_counts_parked),
		LAB_TEST(test_hammer_off),
		LAB_TEST(test_hammer_sampled),
		LAB_TEST(test_hammer_full),
		LAB_TEST(test_reserve_not_parked_for_ordinary),
		LAB_TEST(test_double_free_caught_sampled),
		LAB_TEST(test_single_alloc_loses_ring_to_thief),
		LAB_TEST_END,
	};

	return lab_test_run("pool_nocache", tests);
}
