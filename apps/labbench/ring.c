/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * labbench ring: the pool's shared free ring (lab_ring, RTS) beside DPDK's
 * rte_ring in its three multi-producer/multi-consumer modes and
 * ConcurrencyKit's ck_ring, where those are built in. Each thread dequeues a
 * burst and enqueues it back, so the ring stays half full, as a pool's free
 * ring does under alloc/free.
 *
 * Cases:
 *   st_b1, st_b32   one thread (the cost of the algorithm alone);
 *   mt_b32          two threads on two cores (contention);
 *   oversub_b32     three threads on two cores for a fixed time, so the
 *                   scheduler preempts threads in the middle of ring
 *                   operations: the latency tail shows which algorithms make
 *                   the others wait for a preempted thread.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <x86intrin.h>

#include <labyrinth/lab_ring.h>

#ifdef LAB_HAVE_DPDK
#include <rte_ring.h>
#endif
#ifdef LAB_HAVE_CK
#include <ck_ring.h>
#endif

#include "bench.h"

#define RING_SLOTS 16384u
#define ST_OBJS 8000000u
#define MT_OBJS 4000000u
#define OVERSUB_MS 400u
#define LAT_MAX 4000000u

struct ring_impl {
	const char *name;
	void *r;
	unsigned int (*enq)(void *r, void *const *objs, unsigned int n);
	unsigned int (*deq)(void *r, void **objs, unsigned int n);
};

static unsigned int l_enq(void *r, void *const *objs, unsigned int n)
{
	return lab_ring_enqueue_burst(r, objs, n);
}

static unsigned int l_deq(void *r, void **objs, unsigned int n)
{
	return lab_ring_dequeue_burst(r, objs, n);
}

#ifdef LAB_HAVE_DPDK
static unsigned int d_enq(void *r, void *const *objs, unsigned int n)
{
	return rte_ring_enqueue_burst(r, objs, n, NULL);
}

static unsigned int d_deq(void *r, void **objs, unsigned int n)
{
	return rte_ring_dequeue_burst(r, objs, n, NULL);
}
#endif

#ifdef LAB_HAVE_CK
/* ck_ring has no burst call: one CAS per object. */
struct ck_pair {
	struct ck_ring ring;
	struct ck_ring_buffer *buf;
};

static unsigned int c_enq(void *r, void *const *objs, unsigned int n)
{
	struct ck_pair *c = r;
	unsigned int i;

	for (i = 0; i < n; i++)
		if (!ck_ring_enqueue_mpmc(&c->ring, c->buf, objs[i]))
			break;
	return i;
}

static unsigned int c_deq(void *r, void **objs, unsigned int n)
{
	struct ck_pair *c = r;
	unsigned int i;

	for (i = 0; i < n; i++)
		if (!ck_ring_dequeue_mpmc(&c->ring, c->buf, &objs[i]))
			break;
	return i;
}
#endif

/* Fill to half: the objects are fake, 64-byte aligned, never dereferenced. */
static void fill_half(struct ring_impl *ri)
{
	void *objs[64];

	for (uintptr_t i = 0; i < RING_SLOTS / 2; i += 64) {
		for (unsigned int k = 0; k < 64; k++)
			objs[k] = (void *)((i + k + 1) * 64);
		ri->enq(ri->r, objs, 64);
	}
}

static double one_thread(struct ring_impl *ri, unsigned int burst)
{
	void *objs[64];
	double best = 1e30;

	for (int rep = 0; rep < 3; rep++) {
		unsigned int loops = ST_OBJS / burst;
		uint64_t t0 = lab_now_ns();

		for (unsigned int i = 0; i < loops; i++)
			ri->enq(ri->r, objs, ri->deq(ri->r, objs, burst));
		double ns = (double)(lab_now_ns() - t0) / ((double)loops * burst);

		if (ns < best)
			best = ns;
	}
	return best;
}

struct worker {
	struct ring_impl *ri;
	int cpu;
	_Atomic int *go;
	uint64_t deadline_ns; /* 0: run MT_OBJS objects */
	uint64_t objs;
	uint64_t *lat;        /* ticks per dequeue+enqueue, or NULL */
	unsigned int nlat;
};

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	void *objs[32];

	pin_cpu(w->cpu);
	while (!atomic_load(w->go))
		;
	for (uint64_t i = 0;; i++) {
		uint64_t t0 = __rdtsc();
		unsigned int got = w->ri->deq(w->ri->r, objs, 32), put = 0;

		/* A short enqueue can only be transient (the ring has room for
		 * every object): retry, as the pool's overflow list would keep them. */
		while (put < got)
			put += w->ri->enq(w->ri->r, objs + put, got - put);
		if (w->lat != NULL && w->nlat < LAT_MAX)
			w->lat[w->nlat++] = __rdtsc() - t0;
		w->objs += got;
		if (w->deadline_ns == 0 ? w->objs >= MT_OBJS
					: (i & 63) == 0 && lab_now_ns() >= w->deadline_ns)
			break;
	}
	return NULL;
}

/* n threads on the given CPUs; ns per object over all of them. */
static double run_threads(struct ring_impl *ri, unsigned int n, const int *cpus, int timed,
			  uint64_t **lat, unsigned int *nlat)
{
	struct worker w[3] = { 0 };
	pthread_t t[3];
	_Atomic int go = 0;
	uint64_t t0, objs = 0;

	for (unsigned int i = 0; i < n; i++) {
		w[i].ri = ri;
		w[i].cpu = cpus[i];
		w[i].go = &go;
		w[i].lat = lat != NULL ? lat[i] : NULL;
		pthread_create(&t[i], NULL, worker_main, &w[i]);
	}
	t0 = lab_now_ns();
	for (unsigned int i = 0; i < n; i++)
		w[i].deadline_ns = timed ? t0 + OVERSUB_MS * 1000000ull : 0;
	atomic_store(&go, 1);
	for (unsigned int i = 0; i < n; i++) {
		pthread_join(t[i], NULL);
		objs += w[i].objs;
		if (nlat != NULL)
			nlat[i] = w[i].nlat;
	}
	return (double)(lab_now_ns() - t0) / (double)objs;
}

static void run_oversub(struct ring_impl *ri, double tpn)
{
	static const int cpus[] = { 0, 0, 1 };
	uint64_t *lat[3], *all;
	unsigned int nlat[3], total = 0;
	double ns;

	for (int i = 0; i < 3; i++)
		lat[i] = malloc(LAT_MAX * sizeof(uint64_t));
	ns = run_threads(ri, 3, cpus, 1, lat, nlat);
	for (int i = 0; i < 3; i++)
		total += nlat[i];
	all = malloc((size_t)total * sizeof(uint64_t));
	for (unsigned int i = 0, k = 0; i < 3; i++)
		for (unsigned int j = 0; j < nlat[i]; j++)
			all[k++] = lat[i][j];
	qsort(all, total, sizeof(*all), cmp_u64);
	printf("{\"bench\":\"ring\",\"case\":\"oversub_b32\",\"impl\":\"%s\",\"burst\":32,"
	       "\"threads\":3,\"cpus\":2,\"ns_per_obj\":%.2f,\"mops\":%.2f,\"ops\":%u,"
	       "\"p50_ns\":%.0f,\"p9999_ns\":%.0f,\"max_ns\":%.0f}\n", ri->name, ns, 1000.0 / ns,
	       total, all[total / 2] / tpn, all[(uint64_t)total * 9999 / 10000] / tpn,
	       all[total - 1] / tpn);
	fflush(stdout);
	free(all);
	for (int i = 0; i < 3; i++)
		free(lat[i]);
}

static void run_ring_impl(struct ring_impl *ri, double tpn)
{
	static const int two[] = { 0, 1 };

	fill_half(ri);
	emit_bench("ring", "st_b1", ri->name, 1, 1, one_thread(ri, 1));
	emit_bench("ring", "st_b32", ri->name, 32, 1, one_thread(ri, 32));
	emit_bench("ring", "mt_b32", ri->name, 32, 2, run_threads(ri, 2, two, 0, NULL, NULL));
	run_oversub(ri, tpn);
}

int run_ring_bench(void)
{
	double tpn = tsc_per_ns();
	struct ring_impl lab = { "labyrinth_rts", lab_ring_create(RING_SLOTS), l_enq, l_deq };

	if (lab.r == NULL)
		return -1;
	run_ring_impl(&lab, tpn);
	lab_ring_free(lab.r);
#ifdef LAB_HAVE_DPDK
	static const struct {
		const char *name;
		unsigned int flags;
	} modes[] = {
		{ "dpdk_ring_mp_mc", 0 },
		{ "dpdk_ring_rts", RING_F_MP_RTS_ENQ | RING_F_MC_RTS_DEQ },
		{ "dpdk_ring_hts", RING_F_MP_HTS_ENQ | RING_F_MC_HTS_DEQ },
	};

	if (dpdk_eal_init() == 0) {
		for (unsigned int i = 0; i < 3; i++) {
			struct ring_impl d = { modes[i].name, NULL, d_enq, d_deq };

			/* RING_F_EXACT_SZ: the same usable size as ours. */
			d.r = rte_ring_create(modes[i].name, RING_SLOTS, SOCKET_ID_ANY,
					      modes[i].flags | RING_F_EXACT_SZ);
			if (d.r == NULL)
				continue;
			run_ring_impl(&d, tpn);
			rte_ring_free(d.r);
		}
	}
#else
	fprintf(stderr, "labbench: built without libdpdk: no rte_ring beside lab_ring\n");
#endif
#ifdef LAB_HAVE_CK
	struct ck_pair cp;
	struct ring_impl c = { "ck_ring_mpmc", &cp, c_enq, c_deq };

	cp.buf = calloc(RING_SLOTS, sizeof(*cp.buf));
	ck_ring_init(&cp.ring, RING_SLOTS);
	run_ring_impl(&c, tpn);
	free(cp.buf);
#else
	fprintf(stderr, "labbench: built without ConcurrencyKit: no ck_ring beside lab_ring\n");
#endif
	return 0;
}
