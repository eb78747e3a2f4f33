/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef POOL_HELPERS_H
#define POOL_HELPERS_H

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <labyrinth/lab_arena.h>
#include <labyrinth/lab_log.h>
#include <labyrinth/lab_pool.h>

#include "../lab_test.h"

/* A small pool on 4 KiB pages (runs anywhere): 1024 cells per chamber, each
 * 1984 bytes plus the pool's 64-byte redzone. */
static inline void small_pool_opts(struct lab_pool_opts *o, uint32_t initial, uint32_t max,
				   uint32_t mn, uint32_t lo, uint32_t hi, uint32_t rs)
{
	lab_pool_opts_init(o);
	o->name = "t";
	o->cell_size = 2048 - 64;
	o->headroom = 128;
	o->initial = initial;
	o->max = max;
	o->wm_min = (struct lab_count){ mn, false };
	o->wm_low = (struct lab_count){ lo, false };
	o->wm_high = (struct lab_count){ hi, false };
	o->reserve = (struct lab_count){ rs, false };
	o->hugepages = LAB_HUGEPAGES_OFF;
	o->shrink_delay_ms = 50;
}

static inline struct lab_pool *small_pool(uint32_t initial, uint32_t max, uint32_t mn,
					  uint32_t lo, uint32_t hi, uint32_t rs)
{
	struct lab_pool_opts o;

	small_pool_opts(&o, initial, max, mn, lo, hi, rs);
	return lab_pool_create(&o);
}

/*
 * The accounting identity at a quiet point, both ways: the buffers the counts
 * say are held (total minus free, cached, quarantined and retired, unclamped)
 * must be what allocations minus frees say. @return 0; below 0 when buffers
 * are counted twice (too many free, cached or quarantined, or more frees than
 * allocations); above 0 when buffers are missing.
 */
static inline int64_t accounting_mismatch(struct lab_pool *p)
{
	struct timespec pause = { 0, 1000000 };
	struct lab_pool_stats st;
	int64_t net, d;

	/* A snapshot taken while the warden moves buffers out of quarantine
	 * counts a batch of them twice for a moment (never zero times): with
	 * any quarantined, a mismatch is looked at again until it goes or 5 s
	 * pass. A real one stays (a buffer in the ring twice is there for good). */
	for (int tries = 0;; tries++) {
		lab_pool_stats(p, &st);
		net = (int64_t)(st.sum.allocs - st.sum.frees);
		d = st.in_flight_signed < 0 ? st.in_flight_signed : st.in_flight_signed - net;
		if (d == 0 || st.quarantined == 0 || tries == 5000)
			break;
		nanosleep(&pause, NULL);
	}
	if (d != 0)
		fprintf(stderr, "accounting: %lld buffer(s) %s: total %llu free %llu cached %llu "
			"quarantined %llu retired %llu, held %lld, allocs %llu frees %llu\n",
			(long long)(d < 0 ? -d : d), d < 0 ? "counted twice" : "missing",
			(unsigned long long)st.total, (unsigned long long)st.free,
			(unsigned long long)st.cached, (unsigned long long)st.quarantined,
			(unsigned long long)st.retired, (long long)st.in_flight_signed,
			(unsigned long long)st.sum.allocs, (unsigned long long)st.sum.frees);
	return d;
}

static inline void assert_accounting(struct lab_pool *p)
{
	struct lab_pool_stats st;

	CU_ASSERT_EQUAL(accounting_mismatch(p), 0);
	lab_pool_stats(p, &st);
	CU_ASSERT_EQUAL(st.total, st.chambers * st.per_chamber);
}

/* The pool reported no finding of any kind. */
static inline void assert_no_findings(struct lab_pool *p)
{
	struct lab_pool_stats st;

	lab_pool_stats(p, &st);
	for (int k = 0; k < LAB_FIND_KINDS; k++)
		CU_ASSERT_EQUAL(st.findings[k], 0);
}

static inline void sleep_ms(unsigned int ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000 };

	nanosleep(&ts, NULL);
}

/* Wait (10 s ceiling) until the warden has poisoned and queued every sampled
 * free staged so far. @return true if it did. */
static inline bool wait_staged_empty(struct lab_pool *p)
{
	struct lab_pool_stats st;

	for (int i = 0; i < 100000; i++) {
		lab_pool_stats(p, &st);
		if (st.staged == 0)
			return true;
		if (i > 100)
			sleep_ms(1);
	}
	return false;
}

#endif
