/* SPDX-License-Identifier: BSD-3-Clause */
/* The measured loops, the same for every implementation. */
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <x86intrin.h>

#include <labyrinth/lab_common.h>
#include <labyrinth/lab_ring.h>

#include "bench.h"

#define REPEATS 3

unsigned int bench_bufs = 8000000u;

/* LAB_BENCH_BUFS: buffers per measured run (8 M unless set; the cli suite
 * sets a few thousand to see every row quickly). @return 0, or -1 (said why). */
int bench_bufs_init(void)
{
	const char *e = getenv("LAB_BENCH_BUFS");
	char *end;
	unsigned long v;

	if (e == NULL)
		return 0;
	v = strtoul(e, &end, 10);
	if (end == e || *end != '\0' || v < 64 || v > 1000000000ul) {
		fprintf(stderr, "labbench: LAB_BENCH_BUFS: want buffers per run, 64 to "
			"1000000000, not '%s'\n", e);
		return -1;
	}
	bench_bufs = (unsigned int)v;
	return 0;
}

/* Best of REPEATS runs of alloc+free bursts on one thread: ns per buffer. */
static double one_thread(struct impl *im, void *cache, unsigned int burst)
{
	void *objs[64];
	double best = 1e30;

	for (int r = 0; r < REPEATS; r++) {
		unsigned int loops = bench_bufs / burst, got;
		uint64_t t0 = lab_now_ns();

		for (unsigned int i = 0; i < loops; i++) {
			got = im->get(im->pool, cache, objs, burst);
			im->put(im->pool, cache, objs, got);
		}
		double ns = (double)(lab_now_ns() - t0) / ((double)loops * burst);

		if (ns < best)
			best = ns;
	}
	return best;
}

/* Bursts to measure: LAB_BENCH_BURSTS="1,4,8,16,32,64" (make plots' sweep),
 * else 1 and 32. */
static unsigned int bench_bursts(unsigned int *bursts, unsigned int max)
{
	const char *e = getenv("LAB_BENCH_BURSTS");
	char list[256], *save = NULL, *tok;
	unsigned int n = 0;

	/* Each burst read by lab_parse_size(), the one number parser: decimal
	 * digits, so " 4", "+4" and "0x4" are refused as elsewhere. */
	snprintf(list, sizeof(list), "%s", e != NULL ? e : "");
	for (tok = strtok_r(list, ",", &save); tok != NULL && n < max;
	     tok = strtok_r(NULL, ",", &save)) {
		uint64_t b;

		if (lab_parse_size(tok, &b) < 0 || b < 1 || b > 64) {
			fprintf(stderr, "labbench: LAB_BENCH_BURSTS '%s': want numbers 1..64 "
				"separated by commas, not '%s'\n", e, tok);
			exit(1);
		}
		bursts[n++] = (unsigned int)b;
	}
	if (n == 0) {
		bursts[n++] = 1;
		bursts[n++] = 32;
	}
	return n;
}

void run_throughput(struct impl *im, int cached)
{
	unsigned int bursts[16], nb = bench_bursts(bursts, 16);
	void *cache = cached ? im->cache_new(im->pool) : NULL;

	for (unsigned int i = 0; i < nb; i++) {
		char name[32];

		snprintf(name, sizeof(name), "%s_b%u", cached ? "cache" : "nocache", bursts[i]);
		emit(im, name, bursts[i], 1, one_thread(im, cache, bursts[i]));
	}
	if (cache != NULL)
		im->cache_free(im->pool, cache);
}

/* Two threads, each with its own cache, passing half of what they allocate
 * to the other, which frees it: cross-thread frees. */
struct cross_arg {
	struct impl *im;
	struct lab_ring *out, *in;
	unsigned long bufs;
	_Atomic int *go;
	int cpu;
	struct cross_arg *peer;
	void *_Atomic cache; /* this thread's, once made */
	_Atomic int *done;   /* threads past their loop: caches live until both are */
};

int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* TSC ticks per ns, against CLOCK_MONOTONIC over 50 ms. */
double tsc_per_ns(void)
{
	uint64_t t0 = lab_now_ns(), c0 = __rdtsc();

	while (lab_now_ns() - t0 < 50000000)
		;
	return (double)(__rdtsc() - c0) / (double)(lab_now_ns() - t0);
}

/* Pin the calling thread to one CPU. Every implementation's threads are
 * pinned the same way (DPDK's EAL pins its main thread to -l 0, and threads
 * it starts would inherit that, putting both "cross" threads on one core). */
void pin_cpu(int cpu)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	pthread_setaffinity_np(pthread_self(), sizeof(set), &set);
}

static void *cross_thread(void *arg)
{
	struct cross_arg *a = arg;
	void *cache, *peer;
	void *objs[64];

	pin_cpu(a->cpu);
	cache = a->im->cache_new(a->im->pool);
	atomic_store(&a->cache, cache);
	while (!atomic_load(a->go) || atomic_load(&a->peer->cache) == NULL)
		;
	peer = atomic_load(&a->peer->cache);
	for (unsigned int i = 0; i < bench_bufs / 2 / 32; i++) {
		unsigned int got = a->im->get(a->im->pool, cache, objs, 32), sent;

		a->bufs += got;
		/* The receiver is known: hand the half we send over to it first. */
		if (a->im->handoff != NULL)
			a->im->handoff(cache, peer, objs, got / 2);
		sent = lab_ring_enqueue_burst(a->out, objs, got / 2);
		if (a->im->handoff != NULL && sent < got / 2) /* not sent: take back */
			a->im->handoff(peer, cache, objs + sent, got / 2 - sent);
		a->im->put(a->im->pool, cache, objs + sent, got - sent);
		got = lab_ring_dequeue_burst(a->in, objs, 32);
		a->im->put(a->im->pool, cache, objs, got);
	}
	/* The peer may still hand buffers over to this cache: keep it until
	 * both loops are done. */
	atomic_fetch_add(a->done, 1);
	while (atomic_load(a->done) < 2)
		;
	a->im->cache_free(a->im->pool, cache);
	return NULL;
}

void run_cross(struct impl *im)
{
	struct lab_ring *r1 = lab_ring_create(4096), *r2 = lab_ring_create(4096);
	struct cross_arg a[2] = { { im, r1, r2, 0, NULL, 0, NULL, NULL, NULL },
				  { im, r2, r1, 0, NULL, 1, NULL, NULL, NULL } };
	double best = 1e30;
	void *objs[64];
	_Atomic int go, done;
	pthread_t t[2];

	for (int r = 0; r < REPEATS; r++) {
		uint64_t t0;
		unsigned int n;

		atomic_store(&go, 0);
		a[0].bufs = a[1].bufs = 0;
		a[0].go = a[1].go = &go;
		atomic_store(&done, 0);
		a[0].done = a[1].done = &done;
		a[0].peer = &a[1];
		a[1].peer = &a[0];
		atomic_store(&a[0].cache, NULL);
		atomic_store(&a[1].cache, NULL);
		pthread_create(&t[0], NULL, cross_thread, &a[0]);
		pthread_create(&t[1], NULL, cross_thread, &a[1]);
		t0 = lab_now_ns();
		atomic_store(&go, 1);
		pthread_join(t[0], NULL);
		pthread_join(t[1], NULL);
		double ns = (double)(lab_now_ns() - t0) / (double)(a[0].bufs + a[1].bufs);

		if (ns < best)
			best = ns;
		for (struct lab_ring *q = r1; q != NULL; q = q == r1 ? r2 : NULL)
			while ((n = lab_ring_dequeue_burst(q, objs, 64)) > 0)
				im->put(im->pool, NULL, objs, n);
	}
	emit(im, "cross_b32", 32, 2, best);
	lab_ring_free(r1);
	lab_ring_free(r2);
}

/*
 * No cache, three threads on two cores for a fixed time (as labbench ring's
 * oversub_b32): the scheduler preempts threads in the middle of an
 * allocation or a free, and the latency tail of one alloc + free shows
 * whether the others then wait for it (DPDK's ring_mp_mc does).
 */
#define OVERSUB_MS 300u /* 20 in short runs (LAB_BENCH_BUFS below 1 M) */
#define OVERSUB_LAT 4000000u

struct oversub_arg {
	struct impl *im;
	int cpu;
	_Atomic int *go;
	uint64_t deadline_ns, pairs;
	uint64_t *lat;
	unsigned int nlat;
};

static void *oversub_thread(void *arg)
{
	struct oversub_arg *a = arg;
	void *obj[1];

	pin_cpu(a->cpu);
	while (!atomic_load(a->go))
		;
	for (uint64_t i = 0;; i++) {
		uint64_t t0 = __rdtsc();
		unsigned int got = a->im->get(a->im->pool, NULL, obj, 1);

		if (got)
			a->im->put(a->im->pool, NULL, obj, got);
		if (a->nlat < OVERSUB_LAT)
			a->lat[a->nlat++] = __rdtsc() - t0;
		a->pairs += got;
		if ((i & 255) == 0 && lab_now_ns() >= a->deadline_ns)
			break;
	}
	return NULL;
}

void run_nocache_oversub(struct impl *im, double tpn)
{
	static const int cpus[] = { 0, 0, 1 };
	struct oversub_arg a[3];
	uint64_t *all, pairs = 0;
	unsigned int total = 0;
	pthread_t t[3];
	_Atomic int go = 0;
	uint64_t t0;

	uint64_t ms = bench_bufs >= 1000000u ? OVERSUB_MS : 20;

	t0 = lab_now_ns();
	for (int i = 0; i < 3; i++) {
		a[i] = (struct oversub_arg){ im, cpus[i], &go, t0 + 50000000ull + ms * 1000000ull,
					     0, malloc(OVERSUB_LAT * sizeof(uint64_t)), 0 };
		pthread_create(&t[i], NULL, oversub_thread, &a[i]);
	}
	/* Let all three be created and pinned (50 ms) before the clock runs. */
	while (lab_now_ns() - t0 < 50000000ull)
		;
	t0 = lab_now_ns();
	atomic_store(&go, 1);
	for (int i = 0; i < 3; i++) {
		pthread_join(t[i], NULL);
		total += a[i].nlat;
		pairs += a[i].pairs;
	}
	double ns = (double)(lab_now_ns() - t0) / (double)(pairs ? pairs : 1);

	all = malloc((size_t)total * sizeof(uint64_t));
	for (unsigned int i = 0, k = 0; i < 3; i++)
		for (unsigned int j = 0; j < a[i].nlat; j++)
			all[k++] = a[i].lat[j];
	qsort(all, total, sizeof(*all), cmp_u64);
	printf("{\"bench\":\"pool\",\"case\":\"nocache_oversub_b1\",\"impl\":\"%s\",", im->name);
	if (im->level != NULL)
		printf("\"level\":\"%s\",", im->level);
	printf("\"burst\":1,\"threads\":3,\"cpus\":2,\"ns_per_buf\":%.2f,\"mops\":%.2f,"
	       "\"p50_ns\":%.0f,\"p9999_ns\":%.0f,\"max_ns\":%.0f}\n", ns, 1000.0 / ns,
	       all[total / 2] / tpn, all[(uint64_t)total * 9999 / 10000] / tpn,
	       all[total - 1] / tpn);
	fflush(stdout);
	free(all);
	for (int i = 0; i < 3; i++)
		free(a[i].lat);
}
