/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ring: in-process port pairs. The first port opened with ring:name=X is end
 * 0 of link X, the second end 1; TX queue q of one end feeds RX queue q of the
 * other through a single-producer single-consumer ring (one thread polls a
 * queue). Buffers pass without copies: the sender hands each one to the
 * receiving queue's owner (lab_buf_transfer) before it enqueues it, unless
 * both queues are one ownership domain (one owner cache, polled by one
 * thread: lab_port_conf's rxq_owner/txq_owner), when no owner changes and
 * nothing is done per packet. ring:name=X,loop=1 is a single port whose TX
 * comes back on its own RX.
 *
 * Per packet the driver does what DPDK's net_ring does: a pointer through
 * the ring and a packet count. It does not touch the buffers: received
 * buffers keep the port and queue fields the sender left (nobody on the
 * receiving side needs them: the caller knows which queue it polled), and
 * the byte counters stay 0. stamp=1 writes port and queue into every
 * received buffer, bytes=1 counts bytes both ways; each reads or writes
 * every buffer's header, a cache line (and with 4 KiB pages a TLB entry)
 * the ring itself never needs.
 */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include <labyrinth/lab_log.h>
#include <labyrinth/lab_port_driver.h>

LAB_LOG_DECLARE(port);

/* Single producer, single consumer; each side keeps a copy of the other's
 * index on its own line and reloads it only when it seems short. */
struct spsc {
	uint32_t mask;
	_Atomic uint32_t head __attribute__((aligned(LAB_CACHE_LINE))); /* producer */
	uint32_t tail_seen;
	_Atomic uint32_t tail __attribute__((aligned(LAB_CACHE_LINE))); /* consumer */
	uint32_t head_seen;
	struct lab_buf *slot[] __attribute__((aligned(LAB_CACHE_LINE)));
};

struct ring_link {
	char name[64];
	unsigned int ends;           /* ends joined (1 or 2; 1 with loop), never reused */
	unsigned int left;           /* ends closed: the link goes when all have */
	bool loop;
	struct lab_port *_Atomic end[2];
	struct spsc *_Atomic dir[2][LAB_PORT_MAX_QUEUES]; /* dir[e][q]: into RX queue q of end e */
	struct ring_link *next;
};

struct ring_q {
	struct ring_link *link;
	unsigned int end; /* this port's end */
	struct spsc *r;   /* RX: the ring it reads; TX: the ring it writes */
	bool stamp;       /* RX: write port and queue into each buffer (stamp=1) */
	bool bytes;       /* count bytes (bytes=1) */
};

struct ring_port {
	struct ring_link *link;
	unsigned int end;
	bool stamp, bytes;
	struct ring_q *rxq, *txq;
};

static pthread_mutex_t links_lock = PTHREAD_MUTEX_INITIALIZER;
static struct ring_link *links;

static const struct lab_devargs_key ring_keys[] = {
	{ "name", "link name: the first two ports opened with it are its two ends" },
	{ "size", "slots per queue ring, a power of two 32..65536 (default 1024)" },
	{ "loop", "1: one port whose TX comes back on its own RX (default 0)" },
	{ "stamp", "1: write port and queue into every received buffer (default 0: as "
		   "DPDK's net_ring, buffers pass untouched)" },
	{ "bytes", "1: count bytes (reads every buffer's length; default 0: packets only, "
		   "as DPDK's net_ring)" },
	{ NULL, NULL },
};

static struct spsc *spsc_create(uint32_t size)
{
	struct spsc *r = aligned_alloc(LAB_CACHE_LINE,
				       LAB_ALIGN_UP(sizeof(*r) + size * sizeof(void *),
						    LAB_CACHE_LINE));

	if (r == NULL)
		return NULL;
	memset(r, 0, sizeof(*r));
	r->mask = size - 1;
	return r;
}

/* Room for @p n: the consumer's index is reloaded only when the copy seen
 * last leaves less than that. */
static inline uint32_t spsc_room(struct spsc *r, uint32_t n)
{
	uint32_t head = atomic_load_explicit(&r->head, memory_order_relaxed);
	uint32_t room = r->mask + 1 - (head - r->tail_seen);

	if (room < n) {
		r->tail_seen = atomic_load_explicit(&r->tail, memory_order_acquire);
		room = r->mask + 1 - (head - r->tail_seen);
	}
	return room;
}

static inline void spsc_put(struct spsc *r, struct lab_buf *const *b, uint32_t n)
{
	uint32_t head = atomic_load_explicit(&r->head, memory_order_relaxed);
	uint32_t idx = head & r->mask, first = n < r->mask + 1 - idx ? n : r->mask + 1 - idx;

	lab_ptr_copy(&r->slot[idx], b, first);
	lab_ptr_copy(&r->slot[0], b + first, n - first);
	atomic_store_explicit(&r->head, head + n, memory_order_release);
}

static inline uint32_t spsc_get(struct spsc *r, struct lab_buf **b, uint32_t n)
{
	uint32_t tail = atomic_load_explicit(&r->tail, memory_order_relaxed), idx, first;

	if (r->head_seen - tail < n)
		r->head_seen = atomic_load_explicit(&r->head, memory_order_acquire);
	if (r->head_seen - tail < n)
		n = r->head_seen - tail;
	if (n == 0)
		return 0;
	idx = tail & r->mask;
	first = n < r->mask + 1 - idx ? n : r->mask + 1 - idx;
	lab_ptr_copy(b, &r->slot[idx], first);
	lab_ptr_copy(b + first, &r->slot[0], n - first);
	atomic_store_explicit(&r->tail, tail + n, memory_order_release);
	return n;
}

static struct ring_link *link_find(const char *name)
{
	for (struct ring_link *l = links; l != NULL; l = l->next)
		if (strcmp(l->name, name) == 0)
			return l;
	return NULL;
}

/* Each end's TX queues must meet RX queues on the other end, one to one. */
static int link_check(const char *devstr, struct ring_link *l, struct lab_port *p)
{
	struct lab_port *o = l->loop ? p : atomic_load(&l->end[0]);

	if (p->nb_txq != o->nb_rxq || p->nb_rxq != o->nb_txq) {
		LAB_LOG(ERR, port, "%s: this end has %u RX / %u TX queues, the other end %u RX / "
			"%u TX: each end's TX queues must equal the other's RX queues", devstr,
			p->nb_rxq, p->nb_txq, o->nb_rxq, o->nb_txq);
		return -EINVAL;
	}
	if (p->rxq[0].pool != o->rxq[0].pool) {
		LAB_LOG(ERR, port, "%s: both ends must use one pool (buffers pass by ownership, "
			"without copies)", devstr);
		return -EINVAL;
	}
	return 0;
}

static int link_join(const struct lab_devargs *args, struct lab_port *p, struct ring_port *rp,
		     uint32_t size, bool loop)
{
	const char *name = lab_devargs_get(args, "name");
	struct ring_link *l = link_find(name);
	int rc;

	if (l != NULL && (l->ends == 2 || l->loop || loop)) {
		LAB_LOG(ERR, port, "%s: ring '%s' already has %s", args->devstr, name,
			l->loop ? "its looped port" : loop ? "an end (loop=1 needs a new name)"
							 : "two ends");
		return -EBUSY;
	}
	if (l == NULL) {
		l = calloc(1, sizeof(*l));
		if (l == NULL)
			return -ENOMEM;
		snprintf(l->name, sizeof(l->name), "%s", name);
		l->loop = loop;
		l->next = links;
		links = l;
	} else if ((rc = link_check(args->devstr, l, p)) < 0) {
		return rc;
	}
	rp->link = l;
	rp->end = l->ends++;
	if (loop && (rc = link_check(args->devstr, l, p)) < 0)
		return rc;
	/* This end writes the rings into the other end's RX queues. */
	for (uint16_t q = 0; q < p->nb_txq; q++) {
		l->dir[loop ? 0 : 1 - rp->end][q] = spsc_create(size);
		if (l->dir[loop ? 0 : 1 - rp->end][q] == NULL)
			return -ENOMEM;
	}
	return 0;
}

static void link_leave(struct ring_port *rp, struct lab_port *p)
{
	struct ring_link *l = rp->link, **pl;

	if (l == NULL)
		return;
	atomic_store(&l->end[rp->end], NULL);
	/* Buffers still in our RX rings were handed to our RX queues: free them. */
	for (uint16_t q = 0; q < p->nb_rxq; q++) {
		struct lab_buf *b[64];
		uint32_t n;

		struct spsc *r = atomic_load(&l->dir[l->loop ? 0 : rp->end][q]);

		while (r != NULL && (n = spsc_get(r, b, 64)) != 0)
			lab_free_frames(p->rxq[q].owner, b, n);
	}
	if (++l->left != l->ends)
		return;
	for (pl = &links; *pl != l; pl = &(*pl)->next)
		;
	*pl = l->next;
	for (int e = 0; e < 2; e++)
		for (int q = 0; q < LAB_PORT_MAX_QUEUES; q++)
			free(l->dir[e][q]);
	free(l);
}

static void ring_close(struct lab_port *p)
{
	struct ring_port *rp = lab_port_priv(p);

	if (rp == NULL)
		return;
	pthread_mutex_lock(&links_lock);
	link_leave(rp, p);
	pthread_mutex_unlock(&links_lock);
	free(rp->rxq);
	free(rp->txq);
	free(rp);
	lab_port_set_priv(p, NULL);
}

static int ring_open(struct lab_port *p, const struct lab_devargs *args)
{
	struct ring_port *rp;
	uint64_t size, loop, stamp, bytes;
	int rc;

	if (lab_devargs_get(args, "name") == NULL) {
		LAB_LOG(ERR, port, "%s: key 'name' is required (ring:name=LINK)", args->devstr);
		return -EINVAL;
	}
	rc = lab_devargs_u64(args, "size", 1024, 32, 65536, &size);
	if (rc == 0)
		rc = lab_devargs_u64(args, "loop", 0, 0, 1, &loop);
	if (rc == 0)
		rc = lab_devargs_u64(args, "stamp", 0, 0, 1, &stamp);
	if (rc == 0)
		rc = lab_devargs_u64(args, "bytes", 0, 0, 1, &bytes);
	if (rc == 0 && !LAB_IS_POW2(size)) {
		LAB_LOG(ERR, port, "%s: key 'size' = '%llu': expected a power of two",
			args->devstr, (unsigned long long)size);
		rc = -EINVAL;
	}
	if (rc < 0)
		return rc;
	rp = calloc(1, sizeof(*rp));
	if (rp == NULL)
		return -ENOMEM;
	rp->stamp = stamp != 0;
	rp->bytes = bytes != 0;
	rp->rxq = calloc(p->nb_rxq, sizeof(*rp->rxq));
	rp->txq = calloc(p->nb_txq, sizeof(*rp->txq));
	lab_port_set_priv(p, rp);
	if (rp->rxq == NULL || rp->txq == NULL)
		return -ENOMEM; /* ring_close frees */
	pthread_mutex_lock(&links_lock);
	rc = link_join(args, p, rp, (uint32_t)size, loop != 0);
	if (rc == 0) {
		for (uint16_t q = 0; q < p->nb_rxq; q++) {
			rp->rxq[q] = (struct ring_q){ rp->link, rp->end,
						      rp->link->dir[rp->link->loop ? 0 : rp->end][q],
						      rp->stamp, rp->bytes };
			p->rxq[q].drv = &rp->rxq[q];
		}
		for (uint16_t q = 0; q < p->nb_txq; q++) {
			rp->txq[q] = (struct ring_q){ rp->link, rp->end,
						      rp->link->dir[rp->link->loop ? 0 : 1 - rp->end][q],
						      false, rp->bytes };
			p->txq[q].drv = &rp->txq[q];
		}
		atomic_store(&rp->link->end[rp->end], p);
	}
	pthread_mutex_unlock(&links_lock);
	return rc;
}

static int ring_link_state(struct lab_port *p, struct lab_port_link *link)
{
	struct ring_port *rp = lab_port_priv(p);

	link->up = rp->link->loop || atomic_load(&rp->link->end[1 - rp->end]) != NULL;
	return 0;
}

static uint16_t ring_rx(struct lab_port_queue *q, struct lab_buf **bufs, uint16_t n)
{
	struct ring_q *rq = q->drv;
	uint64_t bytes = 0;
	uint16_t got;

	if (lab_unlikely(rq->r == NULL)) {
		/* The other end, opened after us, creates the rings we read. */
		rq->r = atomic_load_explicit(&rq->link->dir[rq->link->loop ? 0 : rq->end][q->id],
					     memory_order_acquire);
		if (rq->r == NULL)
			return 0;
	}
	got = (uint16_t)spsc_get(rq->r, bufs, n);
	LAB_COUNT_ADD(q->st.packets, got);
	if (lab_likely(!(rq->stamp | rq->bytes)))
		return got;
	for (uint16_t i = 0; i < got; i++) {
		if (rq->stamp) {
			bufs[i]->port = q->port_id;
			bufs[i]->queue = q->id;
		}
		bytes += bufs[i]->data_len;
	}
	if (rq->bytes)
		LAB_COUNT_ADD(q->st.bytes, bytes);
	return got;
}

/* Across ownership domains: hand the burst to the peer queue's owner. Out of
 * line, so the path inside one domain keeps its registers. @return the
 * buffers handed on, now the first of @p bufs. */
static __attribute__((noinline)) uint16_t ring_tx_handoff(struct lab_port_queue *q,
							   struct lab_cache *to,
							   struct lab_buf **bufs, uint16_t n)
{
	uint16_t k = (uint16_t)lab_buf_transfer_keep(q->owner, to, bufs, n);

	/* Rare: the transfer refused some buffers (not held by this queue;
	 * reported as findings). Only the ones this call handed on go in the
	 * ring: a buffer listed twice, or one the peer already holds, is held by
	 * the peer too, but enqueueing it again would deliver it twice. */
	if (lab_unlikely(k != n))
		LAB_COUNT_ADD(q->st.errors, n - k);
	return k;
}

static uint16_t ring_tx(struct lab_port_queue *q, struct lab_buf **bufs, uint16_t n)
{
	struct ring_q *tq = q->drv;
	struct lab_port *peer = tq->link->loop ? q->port
					       : atomic_load_explicit(&tq->link->end[1 - tq->end],
								      memory_order_acquire);
	struct lab_cache *to;
	uint64_t bytes = 0;
	uint32_t room;
	uint16_t k;

	if (lab_unlikely(peer == NULL))
		return 0;
	room = spsc_room(tq->r, n);
	if (n > room)
		n = (uint16_t)room;
	to = peer->rxq[q->id].owner;
	/* One ownership domain (the peer's RX queue has this queue's owner
	 * cache, so one thread polls both): no owner changes, nothing to do per
	 * packet; a buffer the domain does not hold is caught where it is freed. */
	k = to == q->owner ? n : ring_tx_handoff(q, to, bufs, n);
	if (lab_unlikely(tq->bytes)) {
		for (uint16_t i = 0; i < k; i++)
			bytes += bufs[i]->data_len;
		LAB_COUNT_ADD(q->st.bytes, bytes);
	}
	spsc_put(tq->r, bufs, k);
	LAB_COUNT_ADD(q->st.packets, k);
	return n;
}

static const struct lab_port_ops ring_ops = {
	.name = "ring",
	.keys = ring_keys,
	.open = ring_open,
	.close = ring_close,
	.start = lab_port_nop,
	.stop = lab_port_nop,
	.link = ring_link_state,
	.rx_burst = ring_rx,
	.tx_burst = ring_tx,
	.rx_ring_default = 0, /* receives the sender's buffers, posts none */
	.tx_ring_default = 1024,
};

LAB_PORT_DRIVER_REGISTER(ring_ops);
