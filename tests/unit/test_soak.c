/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Suite soak: the pool under a long, mixed load. Two workers forward stamped
 * packets through two ring port pairs (W1: generate into A1, receive and check
 * from B2; W2: forward A2 -> B1) while the main thread, at random, switches
 * the quality level and sampling rate, exhausts the pool (takes every buffer it
 * can, the reserve too, holds them, gives them back: the warden grows), pauses
 * the traffic (the workers flush their caches; the pool goes quiet and the
 * warden shrinks it), injects double frees, and with fault injection built in, fails
 * arena growth and stalls the warden for a while.
 *
 * At the end every buffer is accounted for (nothing in flight or cached once
 * the ports are closed), every packet received is intact and in order, and
 * every finding the pool reported is one the test injected.
 *
 * LAB_SOAK_SECS sets the length (default 10: the CI run; `make soak
 * SOAK_SECS=600` for a long one). LAB_SOAK_SEED fixes the random choices.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <labyrinth/lab_fault.h>
#include <labyrinth/lab_pool.h>
#include <labyrinth/lab_port.h>

#include "../lab_test.h"
#include "pool_helpers.h"
#include "port_helpers.h"

#define BURST 32
#define MAX_INJECTED 4096

static struct {
	struct lab_pool *pool;
	struct lab_port *a1, *a2, *b1, *b2;
	atomic_bool stop, pause;
	/* W1 */
	uint64_t sent, received, corrupt, out_of_order;
	/* W2 */
	uint64_t forwarded, refused;
	/* the main thread's injections and what the pool reported */
	uint32_t injected_idx[MAX_INJECTED];
	unsigned int injected;
	pthread_mutex_t lock;
	uint32_t found_idx[MAX_INJECTED];
	int found_kind[MAX_INJECTED];
	unsigned int found, found_lost;
} S = { .lock = PTHREAD_MUTEX_INITIALIZER };

static void on_finding(const struct lab_finding *f, void *arg)
{
	(void)arg;
	pthread_mutex_lock(&S.lock);
	if (S.found < MAX_INJECTED) {
		S.found_idx[S.found] = f->idx;
		S.found_kind[S.found] = f->kind;
		S.found++;
	} else {
		S.found_lost++;
	}
	pthread_mutex_unlock(&S.lock);
}

/* A packet: 64 bytes, stamped with its sequence number and its complement. */
static void stamp(struct lab_buf *b, uint64_t seq, uint16_t headroom)
{
	uint64_t *d;

	lab_buf_reset(b, headroom);
	d = lab_buf_data(b);
	d[0] = 0x0200000000ffffffULL; /* broadcast-ish Ethernet bytes, not checked */
	d[1] = seq;
	d[2] = ~seq;
	b->data_len = 64;
}

static void *w1_main(void *arg)
{
	struct lab_cache *txo = lab_port_txq_owner(S.a1, 0), *rxo = lab_port_rxq_owner(S.b2, 0);
	struct lab_buf *b[BURST];
	uint64_t next_rx = 0;
	bool flushed = false;

	(void)arg;
	while (!atomic_load_explicit(&S.stop, memory_order_relaxed)) {
		unsigned int n = 0;
		uint16_t s, m;

		if (!atomic_load_explicit(&S.pause, memory_order_relaxed)) {
			n = lab_alloc_bulk(S.pool, txo, b, BURST, 0);
			flushed = false;
		} else if (!flushed) {
			/* Idle: give the caches back, so whole chambers can go. */
			lab_cache_flush(txo);
			lab_cache_flush(rxo);
			flushed = true;
		}

		for (unsigned int i = 0; i < n; i++)
			stamp(b[i], S.sent + i, txo->headroom);
		s = lab_port_tx_burst(S.a1, 0, b, (uint16_t)n);
		S.sent += s;
		if (s < n)
			lab_free_bulk(txo, b + s, n - s);
		m = lab_port_rx_burst(S.b2, 0, b, BURST);
		for (uint16_t i = 0; i < m; i++) {
			const uint64_t *d = lab_buf_data(b[i]);

			if (b[i]->data_len != 64 || d[2] != ~d[1])
				S.corrupt++;
			else if (d[1] < next_rx)
				S.out_of_order++;
			else
				next_rx = d[1] + 1;
		}
		S.received += m;
		lab_free_bulk(rxo, b, m);
	}
	return NULL;
}

static void *w2_main(void *arg)
{
	struct lab_cache *rxo = lab_port_rxq_owner(S.a2, 0), *txo = lab_port_txq_owner(S.b1, 0);
	struct lab_buf *b[BURST];
	bool flushed = false;

	(void)arg;
	while (!atomic_load_explicit(&S.stop, memory_order_relaxed)) {
		uint16_t n = lab_port_rx_burst(S.a2, 0, b, BURST), s;
		unsigned int moved;

		if (n == 0) {
			if (atomic_load_explicit(&S.pause, memory_order_relaxed) && !flushed) {
				lab_cache_flush(rxo);
				lab_cache_flush(txo);
				flushed = true;
			}
			continue;
		}
		flushed = false;
		moved = lab_buf_transfer(rxo, txo, b, n);
		S.refused += n - moved;
		s = lab_port_tx_burst(S.b1, 0, b, (uint16_t)moved);
		S.forwarded += s;
		if (s < moved)
			lab_free_bulk(txo, b + s, moved - s);
	}
	return NULL;
}

static uint64_t now_ms(void)
{
	return lab_now_ns() / 1000000;
}

static int by_index(const void *a, const void *b)
{
	const struct lab_buf *x = *(struct lab_buf *const *)a, *y = *(struct lab_buf *const *)b;

	return (x->idx > y->idx) - (x->idx < y->idx);
}

/* Take every buffer the pool gives (ordinary, then atomic: the reserve too),
 * hold them @p ms, give them back (@p sorted: in buffer order, so whole
 * chambers sit together in the ring's surplus and the warden can release
 * them; under traffic the FIFO ring spreads the working set over every
 * chamber, and a chamber goes only when all its cells are surplus).
 * @return how many were taken. */
static unsigned int exhaust(unsigned int ms, uint64_t *most, bool sorted)
{
	static struct lab_buf *held[16384];
	unsigned int n = 0;

	while (n < 16384 && (held[n] = lab_alloc(S.pool, NULL)) != NULL)
		n++;
	while (n < 16384 && (held[n] = lab_alloc_atomic(S.pool, NULL)) != NULL)
		n++;
	if (n > *most)
		*most = n;
	sleep_ms(ms);
	if (sorted)
		qsort(held, n, sizeof(held[0]), by_index);
	CU_ASSERT_EQUAL(lab_free_bulk(NULL, held, n), n);
	return n;
}

/* A double free: the second is refused (and reported); the buffer is not put
 * back twice. A worker may have taken it between the two frees: then the
 * second is a foreign free, refused just the same. Only at a checked level:
 * "off" keeps no per-buffer state, and a double free there corrupts the pool
 * (this thread is the only one that switches levels). */
static void inject_double_free(void)
{
	struct lab_buf *b;

	if (lab_pool_quality(S.pool) == LAB_QUALITY_OFF)
		return;
	b = lab_alloc(S.pool, NULL);
	if (b == NULL || S.injected == MAX_INJECTED) {
		if (b != NULL)
			lab_free(NULL, b);
		return;
	}
	S.injected_idx[S.injected++] = b->idx;
	CU_ASSERT_EQUAL(lab_free(NULL, b), 1);
	CU_ASSERT_EQUAL(lab_free(NULL, b), 0);
}

static bool was_injected(uint32_t idx)
{
	for (unsigned int i = 0; i < S.injected; i++)
		if (S.injected_idx[i] == idx)
			return true;
	return false;
}

/* The load has done what it is for: the pool exhausted (misses, the reserve
 * used), grown and shrunk, and the level switched. */
static bool load_done(uint64_t switches, uint64_t exhaustions)
{
	struct lab_pool_stats st;

	lab_pool_stats(S.pool, &st);
	return exhaustions > 0 && st.sum.misses > 0 && st.sum.reserve_uses > 0 && st.grows > 0 &&
	       st.shrinks > 0 && switches > 0;
}

static void test_soak(void)
{
	const char *env = getenv("LAB_SOAK_SECS"), *seed_env = getenv("LAB_SOAK_SEED");
	unsigned int secs = env ? (unsigned int)strtoul(env, NULL, 10) : 10;
	unsigned int seed = seed_env ? (unsigned int)strtoul(seed_env, NULL, 10) : (unsigned int)time(NULL);
	uint64_t t_end, switches = 0, exhaustions = 0, most = 0, faults = 0, quiets = 0, t0;
	struct lab_pool_stats st;
	struct lab_pool_opts o;
	struct lab_buf *b[BURST];
	pthread_t w1, w2;
	unsigned int dfound = 0;

	printf("\n    soak: %u s, seed %u (LAB_SOAK_SEED=%u repeats the choices)\n", secs, seed,
	       seed);
	srand(seed);
	small_pool_opts(&o, 2048, 8192, 64, 256, 1024, 32);
	o.name = "soak";
	o.shrink_delay_ms = 20;
	o.quality = LAB_QUALITY_SAMPLED;
	o.sample_rate = 8;
	o.quarantine_bytes = 256 << 10;
	S.pool = lab_pool_create(&o);
	CU_ASSERT_PTR_NOT_NULL_FATAL(S.pool);
	lab_pool_set_finding_cb(S.pool, on_finding, NULL);
	S.a1 = port_open("ring:name=soak-a,size=256", S.pool, 1, 1);
	S.a2 = port_open("ring:name=soak-a,size=256", S.pool, 1, 1);
	S.b1 = port_open("ring:name=soak-b,size=256", S.pool, 1, 1);
	S.b2 = port_open("ring:name=soak-b,size=256", S.pool, 1, 1);
	CU_ASSERT_FATAL(S.a1 && S.a2 && S.b1 && S.b2);
	CU_ASSERT_FATAL(lab_port_start(S.a1) == 0 && lab_port_start(S.a2) == 0 &&
			lab_port_start(S.b1) == 0 && lab_port_start(S.b2) == 0);
	atomic_store(&S.stop, false);
	CU_ASSERT_EQUAL_FATAL(pthread_create(&w1, NULL, w1_main, NULL), 0);
	CU_ASSERT_EQUAL_FATAL(pthread_create(&w2, NULL, w2_main, NULL), 0);

	t0 = now_ms();
	t_end = t0 + (uint64_t)secs * 1000;
	/* The length, and on until the load has done what it is for (a run of 5 s
	 * or more asks that below): a busy machine gets through fewer rounds in
	 * the time, and a quiet spell may pass before the warden shrinks. At most
	 * 60 s more. */
	while (now_ms() < t_end ||
	       (secs >= 5 && now_ms() < t_end + 60000 && !load_done(switches, exhaustions))) {
		int r = rand() % 100;

		if (r < 30) {
			static const uint32_t rates[] = { 1, 2, 8, 64, 1024 };

			lab_pool_set_quality(S.pool, (enum lab_quality)(rand() % 3),
					     rates[rand() % 5]);
			switches++;
		} else if (r < 45) {
			exhaust(5 + (unsigned int)(rand() % 60), &most, false);
			exhaustions++;
		} else if (r < 55) {
			inject_double_free();
		} else if (r < 60) {
			/* A quiet spell: no new packets, so the surplus sits in the
			 * ring above high and the warden shrinks the pool. */
			atomic_store(&S.pause, true);
			sleep_ms(20);
			exhaust(5, &most, true);
			sleep_ms(100 + (unsigned int)(rand() % 100));
			atomic_store(&S.pause, false);
			quiets++;
		} else if (r < 67 && lab_fault_available()) {
			lab_fault_set(rand() % 2 ? LAB_FAULT_ARENA_GROW : LAB_FAULT_WARDEN_STALL,
				      20 + (uint32_t)(rand() % 200));
			faults++;
		}
		sleep_ms(5 + (unsigned int)(rand() % 20));
	}
	atomic_store(&S.stop, true);
	pthread_join(w1, NULL);
	pthread_join(w2, NULL);
	lab_fault_set(LAB_FAULT_ARENA_GROW, 0);
	lab_fault_set(LAB_FAULT_WARDEN_STALL, 0);

	/* What is still in the rings goes back, then the ports close. */
	for (uint16_t n; (n = lab_port_rx_burst(S.a2, 0, b, BURST)) != 0;)
		lab_free_bulk(lab_port_rxq_owner(S.a2, 0), b, n);
	for (uint16_t n; (n = lab_port_rx_burst(S.b2, 0, b, BURST)) != 0;)
		lab_free_bulk(lab_port_rxq_owner(S.b2, 0), b, n);
	lab_port_stop(S.a1);
	lab_port_stop(S.a2);
	lab_port_stop(S.b1);
	lab_port_stop(S.b2);
	CU_ASSERT_EQUAL(lab_port_close(S.a1), 0);
	CU_ASSERT_EQUAL(lab_port_close(S.a2), 0);
	CU_ASSERT_EQUAL(lab_port_close(S.b1), 0);
	CU_ASSERT_EQUAL(lab_port_close(S.b2), 0);
	lab_pool_set_quality(S.pool, LAB_QUALITY_OFF, 0);
	lab_pool_quality_check(S.pool); /* checks the quarantine, reports every finding */
	lab_pool_stats(S.pool, &st);

	printf("    soak: %.1f s: %llu sent, %llu forwarded, %llu received (%.2f Mpps end to "
	       "end); %llu level switches, %llu exhaustions (up to %llu buffers held), %llu "
	       "quiet spells, %llu fault windows, %u double frees injected\n",
	       (double)(now_ms() - t0) / 1000.0, (unsigned long long)S.sent,
	       (unsigned long long)S.forwarded, (unsigned long long)S.received,
	       (double)S.received / ((double)(now_ms() - t0) * 1000.0),
	       (unsigned long long)switches, (unsigned long long)exhaustions,
	       (unsigned long long)most, (unsigned long long)quiets, (unsigned long long)faults,
	       S.injected);
	printf("    soak: pool: %llu chambers, %llu grows, %llu shrinks, %llu grow failures, "
	       "%llu kicks, %llu misses, %llu reserve uses, %llu quarantine skipped; "
	       "findings: %u reported\n",
	       (unsigned long long)st.chambers, (unsigned long long)st.grows,
	       (unsigned long long)st.shrinks, (unsigned long long)st.grow_failures,
	       (unsigned long long)st.kicks, (unsigned long long)st.sum.misses,
	       (unsigned long long)st.sum.reserve_uses,
	       (unsigned long long)st.quarantine_skipped, S.found);

	/* Every buffer accounted for. */
	assert_accounting(S.pool);
	CU_ASSERT_EQUAL(st.in_flight, 0);
	CU_ASSERT_EQUAL(st.cached, 0);
	CU_ASSERT_EQUAL(st.total, st.free + st.quarantined + st.retired);
	/* Packets: intact, in order, none invented. */
	CU_ASSERT(S.received > 0);
	CU_ASSERT_EQUAL(S.corrupt, 0);
	CU_ASSERT_EQUAL(S.out_of_order, 0);
	CU_ASSERT(S.received <= S.forwarded && S.forwarded <= S.sent);
	CU_ASSERT_EQUAL(S.refused, 0);
	/* The load did what it is for. */
	if (secs >= 5) {
		CU_ASSERT(exhaustions > 0 && st.sum.misses > 0 && st.sum.reserve_uses > 0);
		CU_ASSERT(st.grows > 0 && st.shrinks > 0);
		CU_ASSERT(switches > 0);
	}
	/* Every finding explained: each is one of the injected double frees (as
	 * a double free, or a foreign free when a worker had taken the buffer
	 * again), and every injected one was reported. */
	CU_ASSERT_EQUAL(S.found_lost, 0);
	for (unsigned int i = 0; i < S.found; i++) {
		bool ok = (S.found_kind[i] == LAB_FIND_DOUBLE_FREE ||
			   S.found_kind[i] == LAB_FIND_FOREIGN_FREE) &&
			  was_injected(S.found_idx[i]);

		if (!ok)
			printf("    soak: unexplained finding: kind %d, buffer %u\n",
			       S.found_kind[i], S.found_idx[i]);
		CU_ASSERT(ok);
		dfound += ok;
	}
	CU_ASSERT_EQUAL(dfound, S.injected);
	CU_ASSERT_EQUAL(st.findings[LAB_FIND_DOUBLE_FREE] + st.findings[LAB_FIND_FOREIGN_FREE],
			S.injected);
	CU_ASSERT_EQUAL(lab_pool_destroy(S.pool), 0);
}

int main(void)
{
	static const struct lab_test tests[] = {
		LAB_TEST(test_soak),
		LAB_TEST_END,
	};

	return lab_test_run("soak", tests);
}
