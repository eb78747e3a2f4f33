/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Suite fault (builds with -Dfault_injection=true): each injected fault of
 * lab_fault.h against the contracts of docs/architecture.md. While the fault
 * is on the data path keeps running on caches and the reserve, counts what it
 * could not do, and no call waits; when the fault clears, everything recovers; after
 * each test every buffer is accounted for.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include <labyrinth/lab_arena.h>
#include <labyrinth/lab_blk.h>
#include <labyrinth/lab_fault.h>
#include <labyrinth/lab_pool.h>
#include <labyrinth/lab_pool_driver.h>

#include "../lab_test.h"
#include "blk_helpers.h"
#include "pool_helpers.h"
#include "../../lib/pool/pool_internal.h"

/* "Never blocks": no single call may take this long. Far above a call's real
 * cost (well under a microsecond; a few under the sanitizers), far below a
 * wait for the warden (a tick is 200 us, a grow a millisecond or more). It
 * catches a call that sleeps or spins on the warden, not a slow one: a call
 * is charged its own CPU time (a spin), or its wall time when it gave up the
 * CPU of its own accord (a sleep or a wait: a voluntary context switch), not
 * the time a loaded machine kept it preempted. */
#define CALL_BOUND_NS 20000000ull

static uint64_t clock_ns(clockid_t id)
{
	struct timespec t;

	clock_gettime(id, &t);
	return (uint64_t)t.tv_sec * 1000000000ull + (uint64_t)t.tv_nsec;
}

static uint64_t now_ns(void)
{
	return clock_ns(CLOCK_MONOTONIC);
}

struct call_cost {
	uint64_t wall, cpu;
	long waits; /* voluntary context switches */
};

static void call_cost_start(struct call_cost *c)
{
	struct rusage ru;

	getrusage(RUSAGE_THREAD, &ru);
	c->waits = ru.ru_nvcsw;
	c->cpu = clock_ns(CLOCK_THREAD_CPUTIME_ID);
	c->wall = now_ns();
}

/* Raise @p worst to what the call since call_cost_start(@p c) is charged. */
static void call_cost_end(const struct call_cost *c, uint64_t *worst)
{
	uint64_t wall = now_ns() - c->wall, cpu = clock_ns(CLOCK_THREAD_CPUTIME_ID) - c->cpu;
	struct rusage ru;
	uint64_t charge;

	getrusage(RUSAGE_THREAD, &ru);
	charge = ru.ru_nvcsw != c->waits ? wall : cpu;
	if (charge > *worst)
		*worst = charge;
}

/* Wait up to 30 s for @p cond (the warden's work after a fault clears: a
 * loaded machine, under a sanitizer, can keep the warden waiting long). */
#define WAIT_FOR(cond)                                                                \
	do {                                                                          \
		uint64_t t0_ = now_ns();                                              \
		while (!(cond) && now_ns() - t0_ < 30000000000ull)                    \
			sleep_ms(1);                                                  \
	} while (0)

static void clear_all(void)
{
	for (int p = 0; p < LAB_FAULT_POINTS; p++)
		lab_fault_set(p, 0);
}

static void test_points(void)
{
	uint64_t before = lab_fault_fired(LAB_FAULT_ARENA_GROW);
	unsigned int fired = 0;

	CU_ASSERT_TRUE(lab_fault_available());
	CU_ASSERT_EQUAL(lab_fault_set(LAB_FAULT_ARENA_GROW, 3), 0);
	for (int i = 0; i < 10; i++)
		fired += LAB_FAULT(LAB_FAULT_ARENA_GROW);
	CU_ASSERT_EQUAL(fired, 3);
	CU_ASSERT_EQUAL(lab_fault_fired(LAB_FAULT_ARENA_GROW), before + 3);
	CU_ASSERT_EQUAL(lab_fault_set(LAB_FAULT_POINTS, 1), -EINVAL);
	CU_ASSERT_STRING_EQUAL(lab_fault_name(LAB_FAULT_URING_SUBMIT), "uring_submit");
	CU_ASSERT_PTR_NULL(lab_fault_name(LAB_FAULT_POINTS));

	lab_test_log_capture();
	CU_ASSERT_EQUAL(lab_fault_parse("warden_stall=2,hugepage_map"), 0);
	CU_ASSERT_TRUE(LAB_FAULT(LAB_FAULT_WARDEN_STALL) && LAB_FAULT(LAB_FAULT_WARDEN_STALL));
	CU_ASSERT_FALSE(LAB_FAULT(LAB_FAULT_WARDEN_STALL));
	for (int i = 0; i < 100; i++)
		CU_ASSERT_TRUE(LAB_FAULT(LAB_FAULT_HUGEPAGE_MAP));
	CU_ASSERT_EQUAL(lab_fault_parse("arena_grow,nosuch=2"), -EINVAL);
	LAB_TEST_HAS(lab_test_log_text(), "unknown fault point 'nosuch'");
	CU_ASSERT_EQUAL(lab_fault_parse("uring_submit=0"), -EINVAL);
	CU_ASSERT_EQUAL(lab_fault_parse("uring_submit=-1"), -EINVAL);
	CU_ASSERT_EQUAL(lab_fault_parse("uring_submit=x"), -EINVAL);
	LAB_TEST_HAS(lab_test_log_text(), "count 'x' is not a number");
	lab_test_log_release();
	clear_all();
	CU_ASSERT_FALSE(LAB_FAULT(LAB_FAULT_HUGEPAGE_MAP));
	CU_ASSERT_FALSE(LAB_FAULT(LAB_FAULT_ARENA_GROW));
}

/* Take from @p c (atomic priority, as an RX refill) until it gives nothing,
 * timing every call. @return buffers taken into @p held from @p at. */
static unsigned int drain(struct lab_pool *p, struct lab_cache *c, unsigned int flags,
			  struct lab_buf **held, unsigned int at, unsigned int cap,
			  uint64_t *worst_ns)
{
	unsigned int n = at;

	while (n < cap) {
		struct call_cost cost;
		struct lab_buf *b;

		call_cost_start(&cost);
		b = (flags & LAB_ALLOC_ATOMIC) ? lab_alloc_atomic(p, c) : lab_alloc(p, c);
		call_cost_end(&cost, worst_ns);
		if (b == NULL)
			break;
		held[n++] = b;
	}
	return n;
}

/* Growth fails: ordinary callers stop at min, the RX cache runs on the
 * reserve, then misses; the warden counts its failures and logs the run once;
 * when growth works again it refills and allocation resumes. */
static void test_arena_grow_fails(void)
{
	struct lab_pool *p = small_pool(1024, 4096, 100, 400, 800, 60);
	struct lab_buf **held = calloc(4096, sizeof(*held));
	struct lab_pool_stats st;
	struct lab_cache *rx;
	unsigned int n, ordinary, lines = 0;
	uint64_t worst = 0;
	const char *log;

	CU_ASSERT_PTR_NOT_NULL_FATAL(p);
	lab_test_log_capture();
	rx = lab_cache_create(p, "rxq0", 32);
	CU_ASSERT_EQUAL(lab_fault_set(LAB_FAULT_ARENA_GROW, LAB_FAULT_ALWAYS), 0);
	n = drain(p, NULL, 0, held, 0, 4096, &worst);
	ordinary = n;
	CU_ASSERT_EQUAL(ordinary, 1024 - 100);
	WAIT_FOR((lab_pool_stats(p, &st), st.grow_failures >= 10));
	n = drain(p, rx, LAB_ALLOC_ATOMIC, held, n, 4096, &worst);
	lab_pool_stats(p, &st);
	CU_ASSERT(st.grow_failures >= 10);
	CU_ASSERT_EQUAL(st.grows, 0);
	CU_ASSERT_EQUAL(st.chambers, 1);
	CU_ASSERT_EQUAL(st.sum.reserve_uses, 60);
	CU_ASSERT_EQUAL(n - ordinary, 60);
	CU_ASSERT_PTR_NULL(lab_alloc_atomic(p, rx));
	CU_ASSERT_PTR_NULL(lab_alloc(p, NULL));
	lab_pool_stats(p, &st);
	CU_ASSERT(st.sum.misses >= 3);
	CU_ASSERT(worst < CALL_BOUND_NS);
	assert_accounting(p);
	/* A run of failures is logged once, not once per tick. */
	log = lab_test_log_text();
	for (const char *s = log; (s = strstr(s, "warden cannot grow")) != NULL; s++)
		lines++;
	CU_ASSERT_EQUAL(lines, 1);

	CU_ASSERT_EQUAL(lab_fault_set(LAB_FAULT_ARENA_GROW, 0), 0);
	WAIT_FOR((lab_pool_stats(p, &st), st.free >= 800));
	lab_pool_stats(p, &st);
	CU_ASSERT(st.grows >= 1);
	CU_ASSERT(st.free >= 800);
	LAB_TEST_HAS(lab_test_log_text(), "warden grows again after");
	CU_ASSERT_PTR_NOT_NULL(held[n] = lab_alloc(p, NULL));
	if (held[n] != NULL)
		n++;
	CU_ASSERT_EQUAL(lab_buf_transfer(rx, NULL, held + ordinary, 60), 60);
	CU_ASSERT_EQUAL(lab_free_bulk(NULL, held, n), n);
	lab_cache_destroy(rx);
	assert_accounting(p);
	assert_no_findings(p);
	CU_ASSERT_EQUAL(lab_pool_destroy(p), 0);
	lab_test_log_release();
	free(held);
}

/* The warden stalls: the kick the data path raises goes unanswered, the data
 * path runs on its cache and the reserve and counts misses, and no call
 * waits; when the warden wakes it answers the kick and grows. */
static void test_warden_stalls(void)
{
	struct lab_pool *p = small_pool(1024, 4096, 100, 400, 800, 60);
	struct lab_buf **held = calloc(4096, sizeof(*held));
	struct lab_pool_stats st, before;
	struct lab_cache *rx;
	unsigned int n;
	uint64_t worst = 0, fired;

	CU_ASSERT_PTR_NOT_NULL_FATAL(p);
	rx = lab_cache_create(p, "rxq0", 32);
	CU_ASSERT_EQUAL(lab_fault_set(LAB_FAULT_WARDEN_STALL, LAB_FAULT_ALWAYS), 0);
	/* The warden may be mid-tick: wait until it has stalled twice. */
	fired = lab_fault_fired(LAB_FAULT_WARDEN_STALL);
	WAIT_FOR(lab_fault_fired(LAB_FAULT_WARDEN_STALL) >= fired + 2);
	lab_pool_stats(p, &before);
	n = drain(p, rx, LAB_ALLOC_ATOMIC, held, 0, 4096, &worst);
	CU_ASSERT_EQUAL(n, 1024 - 100 + 60);
	sleep_ms(20); /* a hundred ticks the warden sleeps through */
	lab_pool_stats(p, &st);
	CU_ASSERT_EQUAL(st.kicks, before.kicks);
	CU_ASSERT_EQUAL(st.grows, 0);
	CU_ASSERT_EQUAL(st.sum.reserve_uses, 60);
	CU_ASSERT_PTR_NULL(lab_alloc_atomic(p, rx));
	lab_pool_stats(p, &st);
	CU_ASSERT(st.sum.misses >= 1);
	CU_ASSERT(worst < CALL_BOUND_NS);
	assert_accounting(p);

	CU_ASSERT_EQUAL(lab_fault_set(LAB_FAULT_WARDEN_STALL, 0), 0);
	WAIT_FOR((lab_pool_stats(p, &st), st.free >= 800));
	lab_pool_stats(p, &st);
	CU_ASSERT(st.kicks > before.kicks);
	CU_ASSERT(st.grows >= 1);
	n = drain(p, rx, LAB_ALLOC_ATOMIC, held, n, n + 100, &worst);
	CU_ASSERT_EQUAL(n, 1024 - 100 + 60 + 100);
	CU_ASSERT_EQUAL(lab_buf_transfer(rx, NULL, held, n), n);
	CU_ASSERT_EQUAL(lab_free_bulk(NULL, held, n), n);
	lab_cache_destroy(rx);
	assert_accounting(p);
	CU_ASSERT_EQUAL(lab_pool_destroy(p), 0);
	free(held);
}

/* Hugepage mapping fails: a pool being created falls back to 4 KiB pages
 * with its one-line notice; a hugepage pool that needs another chamber counts
 * a grow failure and grows once mapping works again. */
static void test_hugepage_map_fails(void)
{
	struct lab_pool_opts o;
	struct lab_pool_stats st;
	struct lab_pool *p;
	struct lab_buf **held;
	unsigned int n = 0;
	uint64_t worst = 0, fired = lab_fault_fired(LAB_FAULT_HUGEPAGE_MAP);

	small_pool_opts(&o, 1024, 2048, 100, 400, 800, 60);
	o.hugepages = LAB_HUGEPAGES_AUTO;
	lab_test_log_capture();
	CU_ASSERT_EQUAL(lab_fault_set(LAB_FAULT_HUGEPAGE_MAP, LAB_FAULT_ALWAYS), 0);
	p = lab_pool_create(&o);
	CU_ASSERT_PTR_NOT_NULL_FATAL(p);
	CU_ASSERT_FALSE(lab_arena_is_huge(lab_pool_arena(p)));
	CU_ASSERT(lab_fault_fired(LAB_FAULT_HUGEPAGE_MAP) > fired);
	LAB_TEST_HAS(lab_test_log_text(), "falling back to 4 KiB pages");
	CU_ASSERT_EQUAL(lab_fault_set(LAB_FAULT_HUGEPAGE_MAP, 0), 0);
	CU_ASSERT_EQUAL(lab_pool_destroy(p), 0);
	lab_test_log_release();

	if (lab_test_free_2m() < 4) {
		printf("\n    note: fewer than 4 free 2 MiB hugepages: the hugepage pool's "
		       "grow under the fault is not run here (run 'make hugepages')\n");
		return;
	}
	/* 2 MiB chambers of 2048-byte cells: 1024 per chamber. */
	o.hugepages = LAB_HUGEPAGES_REQUIRE;
	p = lab_pool_create(&o);
	CU_ASSERT_PTR_NOT_NULL_FATAL(p);
	CU_ASSERT_TRUE(lab_arena_is_huge(lab_pool_arena(p)));
	held = calloc(2048, sizeof(*held));
	lab_test_log_capture();
	CU_ASSERT_EQUAL(lab_fault_set(LAB_FAULT_HUGEPAGE_MAP, LAB_FAULT_ALWAYS), 0);
	n = drain(p, NULL, 0, held, 0, 2048, &worst);
	CU_ASSERT_EQUAL(n, 1024 - 100);
	WAIT_FOR((lab_pool_stats(p, &st), st.grow_failures >= 1));
	lab_pool_stats(p, &st);
	CU_ASSERT(st.grow_failures >= 1);
	CU_ASSERT_EQUAL(st.chambers, 1);
	CU_ASSERT(worst < CALL_BOUND_NS);
	CU_ASSERT_EQUAL(lab_fault_set(LAB_FAULT_HUGEPAGE_MAP, 0), 0);
	WAIT_FOR((lab_pool_stats(p, &st), st.chambers == 2));
	lab_pool_stats(p, &st);
	CU_ASSERT_EQUAL(st.chambers, 2);
	CU_ASSERT_TRUE(lab_arena_is_huge(lab_pool_arena(p)));
	n = drain(p, NULL, 0, held, n, 2048, &worst);
	CU_ASSERT_EQUAL(n, 2048 - 100);
	CU_ASSERT_EQUAL(lab_free_bulk(NULL, held, n), n);
	assert_accounting(p);
	CU_ASSERT_EQUAL(lab_pool_destroy(p), 0);
	lab_test_log_release();
	free(held);
}

struct done {
	unsigned int n, errors;
};

static void on_done(void *arg, int status)
{
	struct done *d = arg;

	d->n++;
	if (status < 0)
		d->errors++;
}

/* io_uring_enter fails: the requests stay queued, polls return at once with
 * nothing, the failures are counted and logged once; when the fault clears
 * every request completes and the data is what was written. Plain and SQPOLL. */
static void uring_case(const char *path, const char *extra)
{
	char devstr[PATH_MAX + 64];
	struct lab_blk_qpair_stats qs;
	struct lab_blk_dev *d;
	struct lab_blk_qpair *qp;
	struct lab_pool *pool;
	struct lab_buf *b[16];
	struct done wr = { 0, 0 }, rd = { 0, 0 };
	uint64_t worst = 0, t0;
	unsigned int i;

	snprintf(devstr, sizeof(devstr), "uring:path=%s%s", path, extra);
	d = lab_blk_open(devstr);
	CU_ASSERT_PTR_NOT_NULL_FATAL(d);
	pool = blk_pool(d, 4096, 64);
	CU_ASSERT_PTR_NOT_NULL_FATAL(pool);
	qp = lab_blk_qpair_create(d, 32, pool);
	CU_ASSERT_PTR_NOT_NULL_FATAL(qp);
	CU_ASSERT_EQUAL(lab_alloc_bulk(pool, NULL, b, 16, 0), 16);
	for (i = 0; i < 16; i++)
		memset(lab_buf_data(b[i]), 'a' + (int)i, 4096);

	lab_test_log_capture();
	CU_ASSERT_EQUAL(lab_fault_set(LAB_FAULT_URING_SUBMIT, LAB_FAULT_ALWAYS), 0);
	for (i = 0; i < 16; i++)
		CU_ASSERT_EQUAL(lab_blk_write(qp, b[i], (uint64_t)i * 4096, 4096, on_done, &wr), 0);
	for (i = 0; i < 200; i++) {
		struct call_cost cost;

		call_cost_start(&cost);
		lab_blk_poll(qp, 0);
		call_cost_end(&cost, &worst);
	}
	lab_blk_qpair_stats(qp, &qs);
	CU_ASSERT_EQUAL(wr.n, 0);
	CU_ASSERT_EQUAL(lab_blk_outstanding(qp), 16);
	CU_ASSERT(qs.submit_errors >= 1);
	CU_ASSERT(worst < CALL_BOUND_NS);
	LAB_TEST_HAS(lab_test_log_text(), "io_uring_enter failed");
	CU_ASSERT_EQUAL(lab_fault_set(LAB_FAULT_URING_SUBMIT, 0), 0);
	t0 = now_ns();
	while (wr.n < 16 && now_ns() - t0 < 30000000000ull)
		lab_blk_poll(qp, 0);
	CU_ASSERT_EQUAL(wr.n, 16);
	CU_ASSERT_EQUAL(wr.errors, 0);
	lab_test_log_release();

	for (i = 0; i < 16; i++) {
		memset(lab_buf_data(b[i]), 0, 4096);
		CU_ASSERT_EQUAL(lab_blk_read(qp, b[i], (uint64_t)i * 4096, 4096, on_done, &rd), 0);
	}
	t0 = now_ns();
	while (rd.n < 16 && now_ns() - t0 < 30000000000ull)
		lab_blk_poll(qp, 0);
	CU_ASSERT_EQUAL(rd.n, 16);
	CU_ASSERT_EQUAL(rd.errors, 0);
	for (i = 0; i < 16; i++) {
		const unsigned char *data = lab_buf_data(b[i]);

		CU_ASSERT(data[0] == 'a' + i && data[4095] == 'a' + i);
	}
	lab_blk_qpair_stats(qp, &qs);
	CU_ASSERT_EQUAL(qs.completed, 32);
	CU_ASSERT_EQUAL(qs.errors, 0);
	CU_ASSERT_EQUAL(lab_free_bulk(NULL, b, 16), 16);
	CU_ASSERT_EQUAL(lab_blk_qpair_destroy(qp), 0);
	CU_ASSERT_EQUAL(lab_blk_close(d), 0);
	assert_accounting(pool);
	CU_ASSERT_EQUAL(lab_pool_destroy(pool), 0);
}

static void *put_one(void *arg)
{
	struct lab_buf **b = arg;

	_lab_pool_put(b[0]->pool, b, 1);
	return NULL;
}

/*
 * _lab_pool_put must count an overflow push before it publishes it: the
 * warden's drain takes the list and subtracts what it took, so a push it can
 * see but that is not counted yet wraps the count below 0 and the pool shows
 * about 2^64 free. Deterministic: the pusher stops right after publishing
 * (pool_put_stall), the test drains as the warden would, with the ring empty.
 */
static void test_overflow_count_never_wraps(void)
{
	struct lab_pool *p = small_pool(1024, 1024, 0, 0, 1024, 0);
	static struct lab_buf fake;
	struct lab_buf *b[1], *fp = &fake, **held = calloc(1024, sizeof(*held));
	uint64_t fired = lab_fault_fired(LAB_FAULT_POOL_PUT_STALL);
	struct lab_pool_stats st;
	unsigned int n, keep = 0;
	pthread_t t;

	CU_ASSERT_PTR_NOT_NULL_FATAL(p);
	CU_ASSERT_PTR_NOT_NULL_FATAL(held);
	warden_detach(p); /* the test is the warden */
	/* A full ring (it holds exactly the pool's 1024): b is out, a fake fills
	 * its slot, so putting b back overflows. */
	CU_ASSERT_EQUAL_FATAL(lab_ring_dequeue_burst(p->hot.ring, (void **)b, 1), 1);
	CU_ASSERT_EQUAL_FATAL(lab_ring_enqueue_burst(p->hot.ring, (void *const *)&fp, 1), 1);
	CU_ASSERT_EQUAL(lab_fault_set(LAB_FAULT_POOL_PUT_STALL, LAB_FAULT_ALWAYS), 0);
	CU_ASSERT_EQUAL_FATAL(pthread_create(&t, NULL, put_one, b), 0);
	for (int i = 0; i < 30000 && lab_fault_fired(LAB_FAULT_POOL_PUT_STALL) == fired; i++)
		sleep_ms(1);
	CU_ASSERT_NOT_EQUAL(lab_fault_fired(LAB_FAULT_POOL_PUT_STALL), fired);
	/* Empty the ring, drain the overflow list into it, take that out too:
	 * nothing is free now, and the stats must say so. */
	n = lab_ring_dequeue_burst(p->hot.ring, (void **)held, 1024);
	CU_ASSERT_EQUAL(n, 1024);
	pool_drain_overflow(p);
	CU_ASSERT_EQUAL(lab_ring_dequeue_burst(p->hot.ring, (void **)b, 1), 1);
	lab_pool_stats(p, &st);
	CU_ASSERT_EQUAL(st.free, 0);
	CU_ASSERT_EQUAL(lab_pool_available(p), 0);
	CU_ASSERT_EQUAL(lab_fault_set(LAB_FAULT_POOL_PUT_STALL, 0), 0);
	pthread_join(t, NULL);
	/* Put it all back, without the fake. */
	for (unsigned int i = 0; i < n; i++)
		if (held[i] != &fake)
			held[keep++] = held[i];
	held[keep++] = b[0];
	CU_ASSERT_EQUAL(lab_ring_enqueue_burst(p->hot.ring, (void *const *)held, keep), 1024);
	free(held);
	CU_ASSERT_EQUAL(warden_attach(p), 0);
	lab_pool_stats(p, &st);
	CU_ASSERT_EQUAL(st.free, st.total);
	assert_accounting(p);
	CU_ASSERT_EQUAL(lab_pool_destroy(p), 0);
}

static void test_uring_submit_fails(void)
{
	char path[] = "/var/tmp/lab-fault-XXXXXX";
	int fd = mkstemp(path);

	CU_ASSERT_FATAL(fd >= 0);
	CU_ASSERT_EQUAL_FATAL(ftruncate(fd, 1 << 20), 0);
	close(fd);
	uring_case(path, "");
	uring_case(path, ",sqpoll=1");
	unlink(path);
}

int main(void)
{
	static const struct lab_test tests[] = {
		LAB_TEST(test_points),
		LAB_TEST(test_arena_grow_fails),
		LAB_TEST(test_warden_stalls),
		LAB_TEST(test_hugepage_map_fails),
		LAB_TEST(test_uring_submit_fails),
		LAB_TEST(test_overflow_count_never_wraps),
		LAB_TEST_END,
	};

	if (!lab_fault_available())
		return lab_test_skip("fault", tests, "built without -Dfault_injection=true");
	return lab_test_run("fault", tests);
}
