/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Sampled deep checks (issue 24 part 3): the sampler stages picked frees per
 * owner and the warden poisons, checks, zeroes and releases them. Pinned
 * here: a write after the warden poisoned a sampled buffer is found; a staged
 * buffer is never handed out before its check; staging from several caches
 * (and callers without one) at once loses nothing; a spent budget or a full
 * staging ring makes the sampler back off, counted; every picked free is
 * deep-checked ("unchecked" 0), at "sampled" and at "full" with a quarantine
 * too small for the load.
 */
#include <pthread.h>
#include <stdatomic.h>

#include "pool_helpers.h"

#define POISON 0x6b
#define THREADS 4
#define ITERS 20000

static struct lab_pool *sampling_pool(enum lab_quality q, uint32_t rate, size_t qbytes)
{
	struct lab_pool_opts o;

	small_pool_opts(&o, 4096, 4096, 0, 1, 2, 0);
	o.name = "s";
	o.quality = q;
	o.sample_rate = rate;
	o.quarantine_bytes = qbytes;
	o.quarantine_hold_ms = 600000; /* checks happen when the test asks, or the budget forces */
	return lab_pool_create(&o);
}

/* Every free due for a sample was deep-checked or backed off; none unchecked. */
static void assert_every_due_free_accounted(struct lab_pool *p)
{
	struct lab_pool_stats st;

	lab_pool_quality_check(p);
	lab_pool_stats(p, &st);
	CU_ASSERT_EQUAL(st.staged, 0);
	CU_ASSERT_EQUAL(st.quarantined, 0);
	CU_ASSERT_EQUAL(st.quarantine_skipped, 0);
	CU_ASSERT_EQUAL(st.deep_checked + st.sample_backoffs, st.sum.frees);
	if (st.deep_checked + st.sample_backoffs != st.sum.frees)
		fprintf(stderr, "frees %llu, deep-checked %llu, backed off %llu\n",
			(unsigned long long)st.sum.frees, (unsigned long long)st.deep_checked,
			(unsigned long long)st.sample_backoffs);
	assert_accounting(p);
}

/*
 * A write after the warden poisoned a sampled buffer is found, and the buffer
 * is not handed out before the check released it. The write lands as soon as
 * the poison is seen: once the allocations below take the ring under low,
 * the warden may check and release the quarantine at any moment (as it
 * should), so a write after that would hit a free buffer, not a quarantined
 * one.
 */
static void test_sampled_uaf_after_poison(void)
{
	struct lab_pool *p = sampling_pool(LAB_QUALITY_SAMPLED, 1, 64 * LAB_MIB);
	struct lab_cache *c = lab_cache_create(p, "s", 32);
	static struct lab_buf *all[4096];
	struct lab_pool_stats st;
	struct lab_buf *b;
	unsigned int n = 0, poisoned = 0, unchecked = 0;
	uint8_t *m;

	CU_ASSERT_PTR_NOT_NULL_FATAL(c);
	b = lab_alloc(p, c);
	CU_ASSERT_PTR_NOT_NULL_FATAL(b);
	m = b->buf_addr;
	memset(m, 0x11, b->buf_len);
	CU_ASSERT_EQUAL(lab_free(c, b), 1);
	CU_ASSERT_FATAL(wait_staged_empty(p));
	for (uint32_t i = 0; i < b->buf_len; i++)
		poisoned += m[i] == POISON;
	CU_ASSERT_EQUAL(poisoned, b->buf_len);
	m[7] = 0; /* the write after free */
	lab_test_log_capture();
	/* In quarantine: everything else can be allocated; it only once its
	 * check found the write (the warden's, under low: counted before the
	 * buffer reaches the ring). */
	while (n < 4096 && (all[n] = lab_alloc(p, NULL)) != NULL) {
		if (all[n++] == b) {
			lab_pool_stats(p, &st);
			unchecked += st.findings[LAB_FIND_USE_AFTER_FREE] != 1;
		}
	}
	CU_ASSERT_EQUAL(unchecked, 0);
	CU_ASSERT_EQUAL(lab_free_bulk(NULL, all, n), n);
	lab_pool_quality_check(p);
	lab_test_log_release();
	lab_pool_stats(p, &st);
	CU_ASSERT_EQUAL(st.findings[LAB_FIND_USE_AFTER_FREE], 1);
	CU_ASSERT_EQUAL(st.quarantine_skipped, 0);
	lab_cache_destroy(c);
	assert_every_due_free_accounted(p);
	CU_ASSERT_EQUAL(lab_pool_destroy(p), 0);
}

struct stager {
	struct lab_pool *p;
	bool cache; /* false: a caller without a cache */
	pthread_barrier_t *bar;
};

/* Alloc and free bursts of 1..32, every free due for a sample. */
static void *stager_main(void *arg)
{
	struct stager *s = arg;
	struct lab_cache *c = s->cache ? lab_cache_create(s->p, "stager", 64) : NULL;
	struct lab_buf *b[32];

	if (s->cache && c == NULL)
		return NULL;
	pthread_barrier_wait(s->bar);
	for (unsigned int i = 0; i < ITERS; i++) {
		unsigned int want = 1 + i % 32, got = lab_alloc_bulk(s->p, c, b, want, 0);

		CU_ASSERT_EQUAL(lab_free_bulk(c, b, got), got);
	}
	lab_cache_destroy(c);
	return NULL;
}

/* Staging from several caches and callers without one at once, while the
 * warden drains: nothing lost, every due free checked or backed off. */
static void test_staging_concurrent(void)
{
	struct lab_pool *p = sampling_pool(LAB_QUALITY_SAMPLED, 1, 1 * LAB_MIB);
	struct stager s[THREADS];
	pthread_barrier_t bar;
	pthread_t t[THREADS];
	struct lab_pool_stats st;

	CU_ASSERT_PTR_NOT_NULL_FATAL(p);
	pthread_barrier_init(&bar, NULL, THREADS);
	for (int i = 0; i < THREADS; i++) {
		s[i] = (struct stager){ p, i != 0, &bar };
		pthread_create(&t[i], NULL, stager_main, &s[i]);
	}
	for (int i = 0; i < THREADS; i++)
		pthread_join(t[i], NULL);
	pthread_barrier_destroy(&bar);
	assert_every_due_free_accounted(p);
	assert_no_findings(p);
	lab_pool_stats(p, &st);
	CU_ASSERT(st.deep_checked > 0);
	CU_ASSERT_EQUAL(st.free, st.total);
	printf("  %llu frees, %llu deep-checked, %llu backed off\n",
	       (unsigned long long)st.sum.frees, (unsigned long long)st.deep_checked,
	       (unsigned long long)st.sample_backoffs);
	CU_ASSERT_EQUAL(lab_pool_destroy(p), 0);
}

/* A spent budget makes the sampler back off, counted. One burst of 256 frees
 * all due: at most the 64 a staging ring holds are picked (its entries are
 * published at the end of the call), at most the budget's few. */
static void test_backoff_counted(void)
{
	struct lab_pool *p = sampling_pool(LAB_QUALITY_SAMPLED, 1, 64 * LAB_MIB);
	struct lab_cache *c = lab_cache_create(p, "s", 512);
	struct lab_buf *b[256];
	struct lab_pool_stats st;

	CU_ASSERT_PTR_NOT_NULL_FATAL(c);
	CU_ASSERT_EQUAL(lab_pool_set_sample_budget(p, 0), -EINVAL);
	CU_ASSERT_EQUAL(lab_pool_set_sample_budget(p, 1), 0);
	CU_ASSERT_EQUAL_FATAL(lab_alloc_bulk(p, c, b, 256, 0), 256);
	CU_ASSERT_EQUAL(lab_free_bulk(c, b, 256), 256);
	lab_pool_stats(p, &st);
	CU_ASSERT(st.sample_backoffs >= 256 - 64);
	CU_ASSERT_EQUAL(st.sample_budget, 1);
	/* The budget alone: a burst of 64 into an empty staging ring, which
	 * holds them all, backs off past the budget of 1 per ms (unless the
	 * warden refilled it 63 times within the call: tried up to 100 times). */
	for (int round = 0; round < 100; round++) {
		uint64_t before;

		lab_pool_quality_check(p);
		lab_pool_stats(p, &st);
		before = st.sample_backoffs;
		CU_ASSERT_EQUAL_FATAL(lab_alloc_bulk(p, c, b, 64, 0), 64);
		CU_ASSERT_EQUAL(lab_free_bulk(c, b, 64), 64);
		lab_pool_stats(p, &st);
		if (st.sample_backoffs > before)
			break;
		CU_ASSERT(round < 99);
	}
	lab_cache_destroy(c);
	assert_every_due_free_accounted(p);
	CU_ASSERT_EQUAL(lab_pool_destroy(p), 0);
}

/* "full" with a quarantine far too small for the load: the freeing thread
 * checks the oldest itself, nothing goes back unchecked. */
static void test_full_never_unchecked(void)
{
	struct lab_pool *p = sampling_pool(LAB_QUALITY_FULL, 0, 1); /* 16 entries */
	struct lab_cache *c = lab_cache_create(p, "f", 64);
	struct lab_buf *b[64];
	struct lab_pool_stats st;

	CU_ASSERT_PTR_NOT_NULL_FATAL(c);
	for (int i = 0; i < 2000; i++) {
		unsigned int got = lab_alloc_bulk(p, c, b, 64, 0);

		CU_ASSERT_EQUAL(lab_free_bulk(c, b, got), got);
	}
	lab_cache_destroy(c);
	lab_pool_quality_check(p);
	lab_pool_stats(p, &st);
	CU_ASSERT_EQUAL(st.quarantine_skipped, 0);
	CU_ASSERT_EQUAL(st.deep_checked, st.sum.frees);
	CU_ASSERT(st.sample_effective_rate > 0.99 && st.sample_effective_rate < 1.01);
	assert_no_findings(p);
	assert_accounting(p);
	CU_ASSERT_EQUAL(lab_pool_destroy(p), 0);
}

/* A mempool's all-or-none allocation without a cache counts staged buffers
 * as available (they are counted as quarantined): right after every buffer
 * was freed, sampled, all of them can be allocated again at once, whether
 * the warden moved the staged ones yet or not (DPDK's mbuf_autotest). */
static void test_alloc_all_takes_staged(void)
{
	struct lab_pool *p = sampling_pool(LAB_QUALITY_SAMPLED, 1, 64 * LAB_MIB);
	static struct lab_buf *all[4096];
	struct lab_pool_stats st;
	unsigned int n;

	CU_ASSERT_PTR_NOT_NULL_FATAL(p);
	CU_ASSERT_EQUAL(lab_pool_set_sample_budget(p, 1u << 30), 0);
	lab_pool_stats(p, &st);
	n = (unsigned int)st.total;
	for (int round = 0; round < 20; round++) {
		for (unsigned int i = 0; i < n; i += 64)
			CU_ASSERT_EQUAL_FATAL(lab_alloc_bulk(p, NULL, all + i, 64, LAB_ALLOC_ALL |
							     LAB_ALLOC_ATOMIC), 64);
		for (unsigned int i = 0; i < n; i += 64)
			CU_ASSERT_EQUAL(lab_free_bulk(NULL, all + i, 64), 64);
	}
	assert_no_findings(p);
	assert_every_due_free_accounted(p);
	CU_ASSERT_EQUAL(lab_pool_destroy(p), 0);
}

int main(void)
{
	static const struct lab_test tests[] = {
		LAB_TEST(test_sampled_uaf_after_poison),
		LAB_TEST(test_staging_concurrent),
		LAB_TEST(test_backoff_counted),
		LAB_TEST(test_full_never_unchecked),
		LAB_TEST(test_alloc_all_takes_staged),
		{ NULL, NULL },
	};

	return lab_test_run("sampling", tests);
}
