/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The warden: one control-plane thread per process, started with the first
 * pool and stopped with the last. The data path cannot wake it (waking would
 * be a system call), so it polls every pool's kick flag on a short period
 * (WARDEN_PERIOD_US) and does its slower housekeeping (shrinking) on the same
 * tick when due. It may block, map memory and log; it never touches an owner
 * cache, and nothing on the data path waits for it.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <labyrinth/lab_fault.h>

#include "pool_internal.h"

#define WARDEN_PERIOD_US 200

/* One per started thread, so a warden being stopped cannot be confused with
 * the next one started by a new pool while it winds down. */
struct warden_thread {
	pthread_t tid;
	_Atomic bool stop;
};

static struct {
	pthread_mutex_t lock; /* the pool list; held while tending, never by the data path */
	struct lab_pool *pools;
	unsigned int npools;
	struct warden_thread *cur;
	lab_thread_spawn_fn spawn;
	_Atomic uint64_t ticks;    /* tends done, every thread started so far */
	_Atomic uint64_t last_tick_ns;
} W = { .lock = PTHREAD_MUTEX_INITIALIZER };

void lab_warden_set_spawner(lab_thread_spawn_fn fn)
{
	pthread_mutex_lock(&W.lock);
	W.spawn = fn;
	pthread_mutex_unlock(&W.lock);
}

/* Refill toward high by growing, one chamber at a time, up to max. A run of
 * failures (the warden retries every tick) is logged when it starts and when
 * it ends, not on every tick. */
static void refill(struct lab_pool *p)
{
	int rc;

	while (lab_ring_count(p->hot.ring) < p->wm_high) {
		rc = pool_grow_chamber(p);
		if (rc < 0) {
			if (rc != -ENOSPC && p->grow_failing_since == 0) {
				p->grow_failing_since = p->grow_failures;
				LAB_LOG(WARNING, pool, "pool '%s': warden cannot grow: %s (retrying "
					"every tick; counted in grow_failures)", p->name,
					strerror(-rc));
			}
			return;
		}
		if (p->grow_failing_since != 0) {
			LAB_LOG(NOTICE, pool, "pool '%s': warden grows again after %llu failed "
				"attempt(s)", p->name,
				(unsigned long long)(p->grow_failures - p->grow_failing_since + 1));
			p->grow_failing_since = 0;
		}
		p->grows++;
	}
}

static void warden_tend(struct lab_pool *p, uint64_t now)
{
	uint32_t free;

	if (atomic_load_explicit(&p->overflow_count, memory_order_relaxed))
		pool_drain_overflow(p);
	/* Short: rings of threads without a cache that sat still for a tick
	 * come back to the shared ring before the pool grows. */
	if (lab_ring_count(p->hot.ring) < p->hot.wm_low)
		pool_nocache_reclaim(p, NULL, true);
	free = lab_ring_count(p->hot.ring);
	if (atomic_load_explicit(&p->hot.kick, memory_order_acquire)) {
		atomic_store_explicit(&p->hot.kick, 0, memory_order_relaxed);
		p->kicks++;
		refill(p);
	} else if (free < p->hot.wm_low) {
		refill(p);
	}
	free = lab_ring_count(p->hot.ring);
	if (free <= p->wm_high) {
		p->above_high_since_ns = 0;
	} else if (p->above_high_since_ns == 0) {
		p->above_high_since_ns = now;
	} else if (now - p->above_high_since_ns >= (uint64_t)p->shrink_delay_ms * 1000000) {
		pool_try_shrink(p);
		p->above_high_since_ns = now;
	}
}

static void *warden_main(void *arg)
{
	struct timespec period = { 0, WARDEN_PERIOD_US * 1000 };
	struct warden_thread *self = arg;

	while (!atomic_load(&self->stop)) {
		uint64_t now = lab_now_ns();

		if (LAB_FAULT(LAB_FAULT_WARDEN_STALL)) {
			/* Injected: a tick in which the warden tends nothing. */
			nanosleep(&period, NULL);
			continue;
		}
		pthread_mutex_lock(&W.lock);
		for (struct lab_pool *p = W.pools; p != NULL; p = p->next) {
			/* Stats snapshots read grows/kicks under the pool lock. */
			pthread_mutex_lock(&p->lock);
			warden_tend(p, now);
			pthread_mutex_unlock(&p->lock);
			/* Outside the pool lock: checks touch buffer memory, and the
			 * finding callback may take stats. */
			quality_tend(p, now, false);
		}
		pthread_mutex_unlock(&W.lock);
		atomic_fetch_add_explicit(&W.ticks, 1, memory_order_relaxed);
		atomic_store_explicit(&W.last_tick_ns, now, memory_order_relaxed);
		nanosleep(&period, NULL);
	}
	return NULL;
}

int warden_attach(struct lab_pool *p)
{
	struct warden_thread *t;
	int rc = 0;

	pthread_mutex_lock(&W.lock);
	if (W.cur == NULL) {
		t = calloc(1, sizeof(*t));
		if (t == NULL)
			rc = -ENOMEM;
		else if (W.spawn != NULL)
			rc = W.spawn(&t->tid, "lab-warden", warden_main, t);
		else if ((rc = -pthread_create(&t->tid, NULL, warden_main, t)) == 0)
			pthread_setname_np(t->tid, "lab-warden");
		if (rc == 0) {
			__atomic_store_n(&W.cur, t, __ATOMIC_RELAXED);
		} else {
			free(t);
			LAB_LOG(ERR, pool, "cannot start the warden thread: %s", strerror(-rc));
		}
	}
	if (rc == 0) {
		p->next = W.pools;
		W.pools = p;
		__atomic_store_n(&W.npools, W.npools + 1, __ATOMIC_RELAXED);
	}
	pthread_mutex_unlock(&W.lock);
	return rc;
}

void warden_detach(struct lab_pool *p)
{
	struct warden_thread *t = NULL;

	pthread_mutex_lock(&W.lock);
	for (struct lab_pool **pp = &W.pools; *pp != NULL; pp = &(*pp)->next) {
		if (*pp == p) {
			*pp = p->next;
			__atomic_store_n(&W.npools, W.npools - 1, __ATOMIC_RELAXED);
			break;
		}
	}
	if (W.npools == 0 && W.cur != NULL) {
		t = W.cur;
		__atomic_store_n(&W.cur, NULL, __ATOMIC_RELAXED);
		atomic_store(&t->stop, true);
	}
	pthread_mutex_unlock(&W.lock);
	if (t != NULL) {
		pthread_join(t->tid, NULL);
		free(t);
	}
}

int lab_pool_foreach(int (*fn)(struct lab_pool *p, void *arg), void *arg)
{
	int rc = 0;

	pthread_mutex_lock(&W.lock);
	for (struct lab_pool *p = W.pools; p != NULL && rc == 0; p = p->next)
		rc = fn(p, arg);
	pthread_mutex_unlock(&W.lock);
	return rc;
}

void lab_warden_stats(struct lab_warden_stats *st)
{
	uint64_t last;

	memset(st, 0, sizeof(*st));
	/* No lock: lab_pool_stats_json calls this inside lab_pool_foreach. */
	st->running = __atomic_load_n(&W.cur, __ATOMIC_RELAXED) != NULL;
	st->pools = __atomic_load_n(&W.npools, __ATOMIC_RELAXED);
	st->period_us = WARDEN_PERIOD_US;
	st->ticks = atomic_load_explicit(&W.ticks, memory_order_relaxed);
	last = atomic_load_explicit(&W.last_tick_ns, memory_order_relaxed);
	st->last_tick_age_us = last != 0 ? (lab_now_ns() - last) / 1000 : 0;
}
