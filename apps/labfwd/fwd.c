/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The forwarding workers. Worker w polls RX queue w of every port, busy, and
 * sends what it received on TX queue w of the port's destination: no system
 * call of its own, no lock, no allocation. Its queues are one ownership
 * domain (one owner cache for RX and TX queue w of every port), so handing a
 * buffer from RX to TX changes no owner and costs nothing per packet; with
 * --owners queue each queue has its own cache and the hand-off is a checked
 * transfer (ownership is exclusive). What the TX ring does not take is, for a
 * live source, freed at once (dropped, as testpmd and DPDK's l2fwd do: the
 * wire does not wait); for a replay (--tx-retry, docs/labfwd.md) it is kept
 * and offered again first on that port's next turn, and the source is not
 * polled until it is all gone: back-pressure with no sleep, so a replay at
 * full speed loses nothing to a slower port. The stop flag is read before
 * every port's turn, so a worker ends within one burst of being told; what it
 * still holds then is freed and counted as dropped.
 */
#include <errno.h>
#include <sched.h>
#include <string.h>

#include "labfwd.h"

static inline void swap_macs(struct lab_buf *b)
{
	uint8_t *e = lab_buf_data(b), t[6];

	memcpy(t, e, 6);
	memcpy(e, e + 6, 6);
	memcpy(e + 6, t, 6);
}

/* l2fwd: destination 02:00:00:00:00:<dst port>, source the port's own MAC. */
static inline void l2fwd_macs(struct lab_buf *b, const uint8_t *src, unsigned int dst)
{
	uint8_t *e = lab_buf_data(b);

	e[0] = 0x02, e[1] = e[2] = e[3] = e[4] = 0, e[5] = (uint8_t)dst;
	memcpy(e + 6, src, 6);
}

/* What one port's last burst left unsent: b[off .. off + n). */
struct backlog {
	struct lab_buf *b[LAB_BURST_MAX];
	uint16_t off, n;
};

/* Free what is left of @p bl (a stop, or a source that drops): dropped. */
static void backlog_drop(struct fwd_worker *w, unsigned int i, struct backlog *bl,
			 struct lab_cache *o)
{
	if (bl->n == 0)
		return;
	lab_free_frames(o, bl->b + bl->off, bl->n);
	/* Only this worker writes it; the control thread reads it live. */
	atomic_store_explicit(&w->dropped[i],
			      atomic_load_explicit(&w->dropped[i], memory_order_relaxed) + bl->n,
			      memory_order_relaxed);
	bl->n = 0;
}

static void *worker_main(void *arg)
{
	struct fwd_worker *w = arg;
	struct fwd_ctx *c = w->ctx;
	const unsigned int np = c->nports, burst = c->o->burst, q = w->id;
	const enum fwd_mode mode = c->o->mode;
	struct lab_cache *rxo[FWD_MAX_PORTS], *txo[FWD_MAX_PORTS];
	struct lab_port *in[FWD_MAX_PORTS], *out[FWD_MAX_PORTS];
	struct lab_buf *b[LAB_BURST_MAX];
	struct backlog bl[FWD_MAX_PORTS]; /* 64 KiB of the worker's stack */
	unsigned int dst[FWD_MAX_PORTS], held = 0;
	bool keep[FWD_MAX_PORTS];

	for (unsigned int i = 0; i < np; i++) {
		dst[i] = (unsigned int)c->port[i].dst;
		in[i] = c->port[i].p;
		out[i] = c->port[dst[i]].p;
		rxo[i] = lab_port_rxq_owner(in[i], (uint16_t)q);
		txo[i] = lab_port_txq_owner(out[i], (uint16_t)q);
		keep[i] = c->port[i].keep;
		bl[i].n = 0;
	}
	if (c->o->tx_first) {
		/* testpmd's --tx-first: one burst of 64-byte frames out of every port,
		 * to start traffic circulating on looped ports. */
		for (unsigned int i = 0; i < np; i++) {
			struct lab_cache *o = lab_port_txq_owner(in[i], (uint16_t)q);
			unsigned int n = lab_alloc_bulk(c->pool, o, b, burst, 0);
			uint16_t s;

			for (unsigned int k = 0; k < n; k++) {
				lab_buf_reset(b[k], o->headroom);
				memset(lab_buf_data(b[k]), 0, 64);
				memcpy(lab_buf_data(b[k]), "\xff\xff\xff\xff\xff\xff\x02\x00\x00\x00\x01", 11);
				((uint8_t *)lab_buf_data(b[k]))[11] = (uint8_t)i;
				b[k]->data_len = 64;
			}
			s = lab_port_tx_burst(in[i], (uint16_t)q, b, (uint16_t)n);
			if (s < n)
				lab_free_frames(o, b + s, n - s);
		}
	}
	/* One port per iteration, round robin, and the stop flag before each:
	 * whatever a driver does (returns nothing for ever, or drops all it
	 * reads), a stop is seen within one rx_burst. */
	for (unsigned int i = 0; !atomic_load_explicit(&c->stop, memory_order_relaxed);
	     i = i + 1 < np ? i + 1 : 0) {
		struct backlog *k = &bl[i];
		uint16_t s;

		if (k->n == 0) {
			uint16_t n = lab_port_rx_burst(in[i], (uint16_t)q, k->b, (uint16_t)burst);
			unsigned int moved;

			if (n == 0)
				continue;
			if (mode == FWD_MACSWAP)
				for (uint16_t j = 0; j < n; j++)
					swap_macs(k->b[j]);
			else if (mode == FWD_L2FWD)
				for (uint16_t j = 0; j < n; j++)
					l2fwd_macs(k->b[j], c->port[dst[i]].mac, dst[i]);
			moved = lab_port_handoff(rxo[i], txo[i], k->b, n);
			if (lab_unlikely(moved != n))
				w->refused += n - moved; /* a finding: reported by the pool */
			k->off = 0;
			k->n = n;
		} else {
			held -= k->n; /* offered again: first, before the source is read */
		}
		s = lab_port_tx_burst(out[i], (uint16_t)q, k->b + k->off, k->n);
		k->off += s;
		k->n -= s;
		if (lab_unlikely(k->n != 0) && keep[i])
			held += k->n;
		else if (lab_unlikely(k->n != 0))
			backlog_drop(w, i, k, txo[i]);
		/* For the end condition: a replay is done only once this is 0. */
		if (held != atomic_load_explicit(&w->held, memory_order_relaxed))
			atomic_store_explicit(&w->held, held, memory_order_relaxed);
	}
	for (unsigned int i = 0; i < np; i++)
		backlog_drop(w, i, &bl[i], txo[i]);
	atomic_store_explicit(&w->held, 0, memory_order_relaxed);
	return NULL;
}

int fwd_workers_start(struct fwd_ctx *c)
{
	for (unsigned int i = 0; i < c->o->nworkers; i++) {
		struct fwd_worker *w = &c->w[i];
		pthread_attr_t attr;
		int rc;

		w->id = i;
		w->core = c->o->cores[i];
		w->ctx = c;
		pthread_attr_init(&attr);
		if (w->core >= 0) {
			cpu_set_t set;

			CPU_ZERO(&set);
			CPU_SET(w->core, &set);
			pthread_attr_setaffinity_np(&attr, sizeof(set), &set);
		}
		rc = pthread_create(&w->tid, &attr, worker_main, w);
		pthread_attr_destroy(&attr);
		if (rc != 0) {
			fprintf(stderr, "labfwd: cannot start worker %u on core %d: %s\n", i, w->core,
				strerror(rc));
			atomic_store(&c->stop, 1);
			return -rc;
		}
		w->started = true;
		{
			char name[32]; /* thread names are 15 characters at most */

			snprintf(name, sizeof(name), "labfwd-w%u", i);
			name[15] = '\0';
			pthread_setname_np(w->tid, name);
		}
	}
	return 0;
}

void fwd_workers_join(struct fwd_ctx *c)
{
	atomic_store(&c->stop, 1);
	for (unsigned int i = 0; i < c->o->nworkers; i++)
		if (c->w[i].started) {
			pthread_join(c->w[i].tid, NULL);
			c->w[i].started = false;
		}
}
