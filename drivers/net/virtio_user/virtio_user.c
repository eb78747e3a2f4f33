/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * virtio_user: the driver side of a virtio-net device whose back-end is a
 * vhost-user peer on a unix socket (DPDK's net_vhost, OVS-DPDK, a VM's
 * back-end). The back-end maps the pool's memory (a shared, fixed pool:
 * lab_pool_regions()) and the rings (a lab_shm segment), so:
 *
 * - RX descriptors point straight at pool buffers, posted with
 *   lab_alloc_bulk(LAB_ALLOC_ATOMIC): the back-end writes the frame, after a
 *   12-byte virtio-net header, into the buffer the application then gets.
 *   The header goes in the headroom, so the frame starts where the pool's
 *   headroom ends, as for every other driver. A refill that finds the pool
 *   short leaves descriptors empty, counts them in rx_nobuf and tries again
 *   on the next poll.
 * - With MRG_RXBUF a frame may come over several buffers (num_buffers in the
 *   head's header, virtio 1.1 5.1.6.4): the used entries that follow are
 *   chained to the head (lab_buf.h), each one's data from its start.
 * - TX posts the caller's buffers (header in their headroom) and frees them
 *   when the back-end returns them on the used ring; a chain goes as one
 *   descriptor chain, whose links we keep a copy of (vq.segs, vq.link) since
 *   the table is shared memory.
 *
 * Split virtqueues (virtio 1.1, 2.6): queue 2i receives, 2i+1 sends. Calls
 * from the back-end are suppressed (we poll); kicks are sent only when the
 * back-end asks for them (VRING_USED_F_NO_NOTIFY, or EVENT_IDX's avail event).
 * Everything the back-end writes into the used rings is checked before use: a
 * descriptor id out of range or not posted, or a length larger than what was
 * posted, is counted in errors and the entry skipped; nothing is read or
 * written outside the buffer that was posted.
 *
 * A back-end that goes away (its socket hangs up) is waited for and
 * reconnected by a small control thread per port. The port's generation
 * (vu_port.gen) says which: odd while the back-end is gone, even while it
 * serves. Each queue's burst compares it with the generation it last saw (one
 * load per burst); when it changed, the burst itself gives every buffer its
 * rings hold back to its owner cache (only the queue's thread may use that
 * cache) and resets the rings, then acknowledges. The control thread
 * reconnects only once every queue has acknowledged, so no ring is reset or
 * handed to the new back-end while a burst still uses it; then it negotiates
 * again from base 0 and moves to the next even generation, and the next RX
 * burst posts buffers afresh.
 */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <labyrinth/lab_log.h>
#include <labyrinth/lab_port_driver.h>

#include "../../common/virtio/virtqueue.h"

LAB_LOG_DECLARE(port);

struct vu_port {
	struct vhu_conn conn;
	char name[48];
	uint64_t features;
	unsigned int nq;
	struct lab_shm *shm;
	struct vq *rx, *tx;
	uint16_t headroom;
	_Atomic uint32_t gen;      /* odd: the back-end is gone (see the top) */
	bool server;               /* we listen, the back-end connects */
	_Atomic bool stop;
	bool thread_on;
	pthread_t thread;
	uint64_t reconnects;
	struct lab_mem_region regions[VHU_MAX_REGIONS]; /* the pool's and the rings' */
	unsigned int nregions;
};

static const struct lab_devargs_key vu_keys[] = {
	{ "path", "the vhost-user socket (required)" },
	{ "server", "0: the back-end listens at path and we connect (default); 1: we listen "
		    "there and the back-end connects (and reconnects after a restart)" },
	{ NULL, NULL },
};

/* ------------------------------------------------------------- virtqueues */

/* Every buffer a virtqueue still holds goes back to its queue's owner. */
static void vq_drain(struct lab_port_queue *q, struct vq *v)
{
	for (uint16_t i = 0; v->cookie != NULL && i < v->size; i++)
		if (v->cookie[i] != NULL) {
			lab_free_frames(q->owner, &v->cookie[i], 1);
			v->cookie[i] = NULL;
			v->posted[i] = 0;
		}
}

/* The back-end changed (gone, or back): follow the port's generation. @return
 * whether the rings may be used now. One load when nothing changed. */
static inline bool vq_live(struct lab_port_queue *q, struct vu_port *vp, struct vq *v)
{
	uint32_t g = atomic_load_explicit(&vp->gen, memory_order_acquire);

	if (lab_likely(g == v->gen))
		return !(g & 1);
	vq_drain(q, v);
	/* Even: the features of the back-end now attached are final (written
	 * before the generation moved); odd: they may be being negotiated. */
	if (!(g & 1))
		v->event_idx = vp->features & (1ull << VIRTIO_RING_F_EVENT_IDX);
	vq_reset(v);
	lab_rxq_set_short(q, 0);
	v->gen = g;
	atomic_store_explicit(&v->gen_done, g, memory_order_release);
	return !(g & 1);
}

/* The next used entry, checked: the id names a descriptor we posted and the
 * length fits what we posted. @return its buffer, or NULL (counted; the
 * entry is consumed either way). */
static struct lab_buf *vq_used_one(struct lab_port_queue *q, struct vq *v, uint32_t *len)
{
	const struct vring_used_elem *e = &v->used_ring[v->last_used & v->mask];
	uint32_t id = e->id;
	struct lab_buf *b;

	*len = e->len;
	v->last_used++;
	if (lab_unlikely(id >= v->size || v->cookie[id] == NULL)) {
		LAB_COUNT_ADD(q->st.errors, 1);
		return NULL;
	}
	b = v->cookie[id];
	if (lab_unlikely(*len > v->posted[id]))
		*len = UINT32_MAX; /* the caller drops it */
	vq_put_desc(v, (uint16_t)id);
	return b;
}

/* --------------------------------------------------------------------- RX */

static void rx_refill(struct lab_port_queue *q, struct vu_port *vp, struct vq *v)
{
	uint16_t old = v->avail_idx;

	while (v->num_free != 0) {
		struct lab_buf *b[64];
		unsigned int want = v->num_free < 64 ? v->num_free : 64;
		unsigned int got = lab_alloc_bulk(q->pool, q->owner, b, want, LAB_ALLOC_ATOMIC);

		for (unsigned int i = 0; i < got; i++) {
			uint16_t id = vq_take_desc(v);
			uint32_t len = b[i]->buf_len - vp->headroom + VNET_HDR_LEN;

			v->desc[id] = (struct vring_desc){
				.addr = (uintptr_t)b[i]->buf_addr + vp->headroom - VNET_HDR_LEN,
				.len = len, .flags = VRING_DESC_F_WRITE };
			v->cookie[id] = b[i];
			v->posted[id] = len;
			atomic_store_explicit(&v->avail_ring[v->avail_idx & v->mask], id,
					      memory_order_relaxed);
			v->avail_idx++;
		}
		if (got < want)
			break;
	}
	lab_rxq_set_short(q, v->num_free);
	vq_publish(v, old);
}

/* num_buffers of the next used entry's frame (MRG_RXBUF), read from the
 * header the back-end wrote into our own buffer; 1 when the entry is bad (its
 * consumer, vq_used_one, counts that). */
static uint16_t rx_peek_nbuf(const struct vq *v, uint16_t headroom)
{
	const struct vring_used_elem *e = &v->used_ring[v->last_used & v->mask];
	uint32_t id = e->id;
	uint16_t nbuf;

	if (id >= v->size || v->cookie[id] == NULL || e->len < VNET_HDR_LEN ||
	    e->len > v->posted[id])
		return 1;
	memcpy(&nbuf, (uint8_t *)v->cookie[id]->buf_addr + headroom - VNET_HDR_LEN +
		      VNET_NUM_BUFFERS, sizeof(nbuf));
	return nbuf;
}

/* The nbuf - 1 buffers after @p head of a merged frame (virtio 1.1, 5.1.6.4:
 * the frame goes on in the next used entries, each buffer's data from its
 * start, where the header was in the head), chained to it. The caller has
 * seen that many entries published. @return the head, or NULL: an entry was
 * bad, the frame (all it took so far) is freed, counted in errors. */
static struct lab_buf *rx_merge(struct lab_port_queue *q, struct vu_port *vp, struct vq *v,
				struct lab_buf *head, uint16_t nbuf, uint64_t *bytes)
{
	struct lab_buf *last = head;

	for (uint16_t i = 1; i < nbuf; i++) {
		uint32_t len;
		struct lab_buf *s = vq_used_one(q, v, &len);

		if (s == NULL) /* counted by vq_used_one */
			goto err_frame;
		lab_rxq_fill(q, s, 0);
		last->next = s;
		last = s;
		if (lab_unlikely(len == UINT32_MAX || len == 0)) {
			LAB_COUNT_ADD(q->st.errors, 1);
			goto err_frame;
		}
		s->data_off = (uint16_t)(vp->headroom - VNET_HDR_LEN);
		s->data_len = len;
		*bytes += len;
	}
	LAB_COUNT_ADD(q->st.chained, 1);
	return head;
err_frame:
	lab_free_frames(q->owner, &head, 1);
	return NULL;
}

static uint16_t vu_rx(struct lab_port_queue *q, struct lab_buf **bufs, uint16_t n)
{
	struct vu_port *vp = lab_port_priv(q->port);
	struct vq *v = q->drv;
	uint16_t used, k = 0;
	uint64_t bytes = 0;
	bool mrg;

	if (lab_unlikely(!vq_live(q, vp, v)))
		return 0;
	mrg = vp->features & (1ull << VIRTIO_NET_F_MRG_RXBUF);
	used = atomic_load_explicit(v->used_idx_p, memory_order_acquire);
	while (k < n && v->last_used != used) {
		uint16_t nbuf = mrg ? rx_peek_nbuf(v, vp->headroom) : 1;
		uint64_t fb = 0;
		struct lab_buf *b;
		uint32_t len;

		if (lab_unlikely(nbuf != 1) && nbuf > (uint16_t)(used - v->last_used) &&
		    nbuf <= v->size - v->num_free) {
			/* Not all of the frame's entries are published yet:
			 * look again, else wait for the next burst. */
			used = atomic_load_explicit(v->used_idx_p, memory_order_acquire);
			if (nbuf > (uint16_t)(used - v->last_used))
				break;
		}
		b = vq_used_one(q, v, &len);
		if (b == NULL)
			continue;
		if (lab_unlikely(len == UINT32_MAX || len <= VNET_HDR_LEN || nbuf == 0 ||
				 nbuf > (uint16_t)(used - v->last_used + 1))) {
			/* A bad length, or a num_buffers of 0 or past what the
			 * back-end has returned (and could: more than we had
			 * posted): the head is dropped; the entries after it are
			 * taken as frames of their own. */
			LAB_COUNT_ADD(q->st.errors, 1);
			lab_free_bulk(q->owner, &b, 1);
			continue;
		}
		lab_rxq_fill(q, b, len - VNET_HDR_LEN);
		fb = len - VNET_HDR_LEN;
		if (lab_unlikely(nbuf != 1) && (b = rx_merge(q, vp, v, b, nbuf, &fb)) == NULL)
			continue;
		bytes += fb;
		bufs[k++] = b;
	}
	if (v->event_idx)
		atomic_store_explicit(v->used_event, (uint16_t)(v->last_used + 0x8000),
				      memory_order_relaxed);
	rx_refill(q, vp, v);
	LAB_COUNT_ADD(q->st.packets, k);
	LAB_COUNT_ADD(q->st.bytes, bytes);
	return k;
}

/* --------------------------------------------------------------------- TX */

/* Free what the back-end has sent. */
static void tx_reclaim(struct lab_port_queue *q, struct vq *v)
{
	uint16_t used = atomic_load_explicit(v->used_idx_p, memory_order_acquire);
	struct lab_buf *done[64];
	unsigned int nd = 0;

	while (v->last_used != used) {
		uint32_t len;
		struct lab_buf *b = vq_used_one(q, v, &len);

		if (b == NULL)
			continue;
		done[nd++] = b;
		if (nd == 64) {
			lab_free_frames(q->owner, done, nd);
			nd = 0;
		}
	}
	if (nd != 0)
		lab_free_frames(q->owner, done, nd);
	if (v->event_idx)
		atomic_store_explicit(v->used_event, (uint16_t)(v->last_used + 0x8000),
				      memory_order_relaxed);
}

/* Post frame @p b of @p nseg buffers as one descriptor chain (virtio 1.1,
 * 2.6.5: VRING_DESC_F_NEXT): the header and the head's data, then each
 * segment's data where it is. The caller has checked that nseg descriptors
 * are free. @return the chain's head descriptor. */
static uint16_t tx_post_chain(struct vq *v, struct lab_buf *b, uint16_t nseg)
{
	uint16_t head = vq_take_desc(v), id = head;
	uint8_t *data = lab_buf_data(b);

	v->desc[id] = (struct vring_desc){ .addr = (uintptr_t)(data - VNET_HDR_LEN),
					   .len = b->data_len + VNET_HDR_LEN };
	while ((b = b->next) != NULL) {
		uint16_t nx = vq_take_desc(v);

		v->desc[id].flags = VRING_DESC_F_NEXT;
		v->desc[id].next = nx;
		v->link[id] = nx;
		v->desc[nx] = (struct vring_desc){ .addr = (uintptr_t)lab_buf_data(b),
						   .len = b->data_len };
		id = nx;
	}
	v->segs[head] = nseg;
	return head;
}

static uint16_t vu_tx(struct lab_port_queue *q, struct lab_buf **bufs, uint16_t n)
{
	struct vq *v = q->drv;
	uint16_t old, k;
	uint64_t bytes = 0;

	if (lab_unlikely(!vq_live(q, lab_port_priv(q->port), v))) {
		/* No back-end: the frames cannot go; the caller keeps them
		 * (lab_port_tx_burst counts them in ring_full). */
		return 0;
	}
	old = v->avail_idx;
	tx_reclaim(q, v);
	for (k = 0; k < n && v->num_free != 0; k++) {
		struct lab_buf *b = bufs[k];
		uint8_t *data = lab_buf_data(b);
		uint32_t flen = b->data_len;
		uint16_t id;

		/* The header goes in the headroom: a buffer without room for it
		 * is not sendable; dropped and counted. */
		if (lab_unlikely(b->data_off < VNET_HDR_LEN)) {
			LAB_COUNT_ADD(q->st.errors, 1);
			lab_free_frames(q->owner, &b, 1);
			continue;
		}
		memset(data - VNET_HDR_LEN, 0, VNET_HDR_LEN);
		if (lab_likely(b->next == NULL)) {
			id = vq_take_desc(v);
			v->desc[id] = (struct vring_desc){ .addr = (uintptr_t)(data - VNET_HDR_LEN),
							   .len = flen + VNET_HDR_LEN };
		} else {
			unsigned int nseg = lab_buf_nb_segs(b);

			if (nseg > v->size) { /* could never fit the ring */
				LAB_COUNT_ADD(q->st.oversize, 1);
				lab_free_frames(q->owner, &b, 1);
				continue;
			}
			if (nseg > v->num_free)
				break; /* the ring is full: the rest stay the caller's */
			flen = lab_buf_pkt_len(b);
			id = tx_post_chain(v, b, (uint16_t)nseg);
			LAB_COUNT_ADD(q->st.chained, 1);
		}
		v->cookie[id] = b;
		v->posted[id] = flen + VNET_HDR_LEN;
		atomic_store_explicit(&v->avail_ring[v->avail_idx & v->mask], id,
				      memory_order_relaxed);
		v->avail_idx++;
		bytes += flen;
	}
	vq_publish(v, old);
	LAB_COUNT_ADD(q->st.packets, k); /* the rest: ring_full, by lab_port_tx_burst */
	LAB_COUNT_ADD(q->st.bytes, bytes);
	return k;
}

/* -------------------------------------------------------------- control */

/* Features: VERSION_1 is required; MRG_RXBUF, EVENT_IDX, MQ (for more than
 * one queue pair) and the protocol features are taken when offered; every
 * other bit the back-end offers is declined by leaving it out. */
static int negotiate(struct vu_port *vp)
{
	uint64_t dev, want, proto = 0;
	int rc;

	rc = vhu_send(&vp->conn, VHU_SET_OWNER, NULL, 0, NULL, 0);
	if (rc == 0)
		rc = vhu_get_u64(&vp->conn, VHU_GET_FEATURES, &dev);
	if (rc < 0)
		return rc;
	if (!(dev & (1ull << VIRTIO_F_VERSION_1))) {
		LAB_LOG(ERR, port, "%s: the back-end at %s does not offer VIRTIO_F_VERSION_1 "
			"(features 0x%llx); legacy virtio is not supported", vp->name,
			vp->conn.path, (unsigned long long)dev);
		return -ENOTSUP;
	}
	want = (1ull << VIRTIO_F_VERSION_1) | (1ull << VIRTIO_NET_F_MRG_RXBUF) |
	       (1ull << VIRTIO_RING_F_EVENT_IDX) | (1ull << VHOST_USER_F_PROTOCOL_FEATURES);
	if (vp->nq > 1)
		want |= 1ull << VIRTIO_NET_F_MQ;
	vp->features = dev & want;
	if (vp->nq > 1 && !(vp->features & (1ull << VIRTIO_NET_F_MQ) &&
			    vp->features & (1ull << VHOST_USER_F_PROTOCOL_FEATURES))) {
		LAB_LOG(ERR, port, "%s: %u queue pairs asked for, but the back-end at %s offers "
			"no multiqueue (features 0x%llx)", vp->name, vp->nq, vp->conn.path,
			(unsigned long long)dev);
		return -ENOTSUP;
	}
	if (vp->features & (1ull << VHOST_USER_F_PROTOCOL_FEATURES)) {
		rc = vhu_get_u64(&vp->conn, VHU_GET_PROTOCOL_FEATURES, &proto);
		if (rc < 0)
			return rc;
		proto &= vp->nq > 1 ? 1ull << VHU_PROTOCOL_F_MQ : 0;
		rc = vhu_set_u64(&vp->conn, VHU_SET_PROTOCOL_FEATURES, proto);
		if (rc < 0)
			return rc;
	}
	if (vp->nq > 1) {
		uint64_t qn = 0;

		if (!(proto & (1ull << VHU_PROTOCOL_F_MQ)) ||
		    (rc = vhu_get_u64(&vp->conn, VHU_GET_QUEUE_NUM, &qn)) < 0 || qn < vp->nq) {
			LAB_LOG(ERR, port, "%s: %u queue pairs asked for; the back-end at %s has %llu",
				vp->name, vp->nq, vp->conn.path, (unsigned long long)qn);
			return rc < 0 ? rc : -ENOTSUP;
		}
	}
	return vhu_set_u64(&vp->conn, VHU_SET_FEATURES, vp->features);
}

/* The memory and every ring to the back-end, from base 0, rings enabled. */
static int hand_over(struct vu_port *vp)
{
	int rc = vhu_set_mem_table(&vp->conn, vp->regions, vp->nregions);

	for (uint16_t i = 0; i < vp->nq && rc == 0; i++) {
		rc = vq_hand_over(&vp->conn, &vp->rx[i]);
		if (rc == 0)
			rc = vq_hand_over(&vp->conn, &vp->tx[i]);
	}
	for (uint16_t i = 0; i < 2 * vp->nq && rc == 0 &&
			     (vp->features & (1ull << VHOST_USER_F_PROTOCOL_FEATURES));
	     i++)
		rc = vhu_set_state(&vp->conn, VHU_SET_VRING_ENABLE, i, 1);
	return rc;
}

/* Every queue has drained and reset its rings for generation @p g (or we
 * are told to stop). */
static bool queues_follow(struct vu_port *vp, uint32_t g)
{
	for (;;) {
		bool all = true;

		for (unsigned int i = 0; i < vp->nq && all; i++)
			all = atomic_load_explicit(&vp->rx[i].gen_done, memory_order_acquire) == g &&
			      atomic_load_explicit(&vp->tx[i].gen_done, memory_order_acquire) == g;
		if (all)
			return true;
		if (atomic_load_explicit(&vp->stop, memory_order_relaxed))
			return false;
		usleep(1000);
	}
}

/* A back-end attached and handed the memory and rings. Client: connect
 * (tried every 100 ms); server: accept (waiting 100 ms at a time). */
static int attach(struct vu_port *vp)
{
	int rc = vp->server ? vhu_accept(&vp->conn, 100) : vhu_connect(&vp->conn, true);

	if (rc == 0 && (rc = negotiate(vp)) == 0)
		rc = hand_over(vp);
	if (rc < 0) {
		vhu_close(&vp->conn);
		if (!vp->server)
			usleep(100 * 1000);
	}
	return rc;
}

/*
 * The control thread: while a back-end is attached, watch its socket; when
 * it hangs up, move to an odd generation and wait for every queue to give its
 * buffers back and reset its rings (their bursts do it). While none is
 * attached (and from the start in server mode), attach one, and move to the
 * next even generation.
 */
static void *watch_main(void *arg)
{
	struct vu_port *vp = arg;

	while (!atomic_load_explicit(&vp->stop, memory_order_relaxed)) {
		if (vp->conn.fd >= 0) {
			struct pollfd pfd = { .fd = vp->conn.fd, .events = POLLRDHUP };
			uint32_t g;

			if (poll(&pfd, 1, 100) <= 0 ||
			    !(pfd.revents & (POLLRDHUP | POLLHUP | POLLERR)))
				continue;
			g = atomic_fetch_add_explicit(&vp->gen, 1, memory_order_acq_rel) + 1;
			LAB_LOG(WARNING, port, "%s: the back-end at %s hung up; link down, "
				"reconnecting when it is back", vp->name, vp->conn.path);
			vhu_close(&vp->conn);
			if (!queues_follow(vp, g))
				break;
		}
		while (!atomic_load_explicit(&vp->stop, memory_order_relaxed) && attach(vp) < 0)
			;
		if (vp->conn.fd < 0)
			break;
		atomic_fetch_add_explicit(&vp->gen, 1, memory_order_acq_rel);
		LAB_LOG(NOTICE, port, "%s: %s %s (attach %llu); link up", vp->name,
			vp->server ? "a back-end connected at" : "connected to", vp->conn.path,
			(unsigned long long)++vp->reconnects);
	}
	return NULL;
}

static int check_queues(struct lab_port *p, struct vu_port *vp)
{
	if (p->nb_rxq != p->nb_txq) {
		LAB_LOG(ERR, port, "%s: virtio-net queues come in pairs: %u RX and %u TX queues "
			"asked for", vp->name, p->nb_rxq, p->nb_txq);
		return -EINVAL;
	}
	for (uint16_t i = 0; i < p->nb_rxq; i++) {
		uint32_t sz[2] = { p->rxq[i].ring_size, p->txq[i].ring_size };

		for (int d = 0; d < 2; d++)
			if (sz[d] == 0 || sz[d] > 32768 || (sz[d] & (sz[d] - 1)) != 0) {
				LAB_LOG(ERR, port, "%s: ring size %u of %s queue %u: a split "
					"virtqueue needs a power of two, 1..32768", vp->name, sz[d],
					d ? "TX" : "RX", i);
				return -EINVAL;
			}
		if (p->rxq[i].pool != p->rxq[0].pool || p->txq[i].pool != p->rxq[0].pool) {
			LAB_LOG(ERR, port, "%s: all queues must use one pool (its memory is what "
				"the back-end maps)", vp->name);
			return -EINVAL;
		}
	}
	return 0;
}

/* The rings' shared segment (its region after the pool's @p nr in @p r,
 * all of them kept for the mem table) and the virtqueue slots. */
static int rings_alloc(struct lab_port *p, struct vu_port *vp, struct lab_mem_region *r, int nr)
{
	size_t ring_bytes = 0;

	for (uint16_t i = 0; i < vp->nq; i++)
		ring_bytes += vq_bytes((uint16_t)p->rxq[i].ring_size) +
			      vq_bytes((uint16_t)p->txq[i].ring_size);
	vp->shm = lab_shm_create("virtio-rings", ring_bytes, false);
	vp->rx = calloc(vp->nq, sizeof(*vp->rx));
	vp->tx = calloc(vp->nq, sizeof(*vp->tx));
	if (vp->shm == NULL || vp->rx == NULL || vp->tx == NULL)
		return -ENOMEM;
	lab_shm_region(vp->shm, &r[nr++]);
	vp->nregions = (unsigned int)nr;
	memcpy(vp->regions, r, sizeof(r[0]) * (size_t)nr);
	return 0;
}

/* Lay the virtqueues out in the segment and give each queue its own. */
static int rings_init(struct lab_port *p, struct vu_port *vp)
{
	uint8_t *mem = lab_shm_va(vp->shm);
	bool ev = vp->features & (1ull << VIRTIO_RING_F_EVENT_IDX);
	int rc;

	for (uint16_t i = 0; i < vp->nq; i++) {
		rc = vq_init(&vp->rx[i], (uint16_t)(2 * i), (uint16_t)p->rxq[i].ring_size, mem, ev);
		mem += vq_bytes((uint16_t)p->rxq[i].ring_size);
		if (rc == 0)
			rc = vq_init(&vp->tx[i], (uint16_t)(2 * i + 1),
				     (uint16_t)p->txq[i].ring_size, mem, ev);
		mem += vq_bytes((uint16_t)p->txq[i].ring_size);
		if (rc < 0)
			return rc;
		p->rxq[i].drv = &vp->rx[i];
		p->txq[i].drv = &vp->tx[i];
		if (vp->server) { /* in the odd generation already: nothing to give back */
			vp->rx[i].gen = vp->tx[i].gen = 1;
			atomic_store_explicit(&vp->rx[i].gen_done, 1, memory_order_relaxed);
			atomic_store_explicit(&vp->tx[i].gen_done, 1, memory_order_relaxed);
		}
	}
	return 0;
}

static int vu_open(struct lab_port *p, const struct lab_devargs *args)
{
	struct lab_mem_region r[VHU_MAX_REGIONS];
	const char *path = lab_devargs_get(args, "path");
	struct vu_port *vp;
	uint64_t server;
	int nr, rc;

	vp = calloc(1, sizeof(*vp));
	if (vp == NULL)
		return -ENOMEM;
	vp->conn.fd = -1;
	vp->conn.listen_fd = -1;
	lab_port_set_priv(p, vp);
	snprintf(vp->name, sizeof(vp->name), "virtio_user port %u", p->id);
	vp->conn.who = vp->name;
	if (path == NULL || path[0] == '\0') {
		LAB_LOG(ERR, port, "%s: path= is required (the back-end's socket)", vp->name);
		return -EINVAL;
	}
	snprintf(vp->conn.path, sizeof(vp->conn.path), "%s", path);
	if ((rc = lab_devargs_u64(args, "server", 0, 0, 1, &server)) < 0 ||
	    (rc = check_queues(p, vp)) < 0)
		return rc;
	vp->server = server;
	vp->nq = p->nb_rxq;
	vp->headroom = p->rxq[0].owner->headroom;
	if (vp->headroom < VNET_HDR_LEN) {
		LAB_LOG(ERR, port, "%s: the pool's headroom %u has no room for the %u-byte "
			"virtio-net header; use a headroom of at least %u", vp->name, vp->headroom,
			VNET_HDR_LEN, VNET_HDR_LEN);
		return -EINVAL;
	}
	nr = lab_pool_regions(p->rxq[0].pool, r, VHU_MAX_REGIONS - 1);
	if (nr < 0)
		return nr;
	if (nr > (int)VHU_MAX_REGIONS - 1) {
		LAB_LOG(ERR, port, "%s: the pool's memory is %d regions; a mem table holds %u "
			"with the rings", vp->name, nr, VHU_MAX_REGIONS);
		return -E2BIG;
	}
	if ((rc = rings_alloc(p, vp, r, nr)) < 0)
		return rc;
	/* Client: connect and negotiate now (a back-end that is not there is an
	 * error at open). Server: listen; the control thread attaches the first
	 * back-end to connect, and the link is down until then. */
	if (vp->server)
		rc = vhu_listen(&vp->conn);
	else if ((rc = vhu_connect(&vp->conn, false)) == 0)
		rc = negotiate(vp);
	if (rc < 0 || (rc = rings_init(p, vp)) < 0)
		return rc;
	if (vp->server) {
		atomic_store(&vp->gen, 1);
		LAB_LOG(INFO, port, "%s: listening at %s for a vhost-user back-end; link down "
			"until one connects", vp->name, vp->conn.path);
	} else if ((rc = hand_over(vp)) < 0) {
		return rc;
	} else {
		LAB_LOG(INFO, port, "%s: connected to %s, %u queue pair(s), features 0x%llx",
			vp->name, vp->conn.path, vp->nq, (unsigned long long)vp->features);
	}
	if ((rc = pthread_create(&vp->thread, NULL, watch_main, vp)) != 0) {
		LAB_LOG(ERR, port, "%s: cannot start the reconnect thread: %s", vp->name,
			strerror(rc));
		return -rc;
	}
	vp->thread_on = true;
	return 0;
}

/* Post the RX buffers, if a back-end is attached (else the first burst after
 * it attaches does). */
static int vu_start(struct lab_port *p)
{
	struct vu_port *vp = lab_port_priv(p);

	for (uint16_t i = 0; i < vp->nq; i++)
		if (vq_live(&p->rxq[i], vp, &vp->rx[i]))
			rx_refill(&p->rxq[i], vp, &vp->rx[i]);
	return 0;
}

static void vu_close(struct lab_port *p)
{
	struct vu_port *vp = lab_port_priv(p);

	if (vp == NULL)
		return;
	if (vp->thread_on) {
		atomic_store(&vp->stop, true);
		pthread_join(vp->thread, NULL);
	}
	/* Stop the back-end's use of each ring before its buffers go back. */
	for (uint16_t i = 0; vp->conn.fd >= 0 && vp->rx != NULL && i < 2 * vp->nq; i++) {
		uint32_t base;

		if (vhu_get_vring_base(&vp->conn, i, &base) < 0)
			break;
	}
	vhu_close(&vp->conn);
	vhu_unlisten(&vp->conn);
	for (uint16_t i = 0; vp->rx != NULL && i < vp->nq; i++) {
		vq_drain(&p->rxq[i], &vp->rx[i]);
		vq_drain(&p->txq[i], &vp->tx[i]);
		vq_fini(&vp->rx[i]);
		vq_fini(&vp->tx[i]);
	}
	free(vp->rx);
	free(vp->tx);
	lab_shm_destroy(vp->shm);
	free(vp);
	lab_port_set_priv(p, NULL);
}

/* Up while a back-end serves (an even generation): the control thread sees a
 * hang-up within its 100 ms poll. */
static int vu_link(struct lab_port *p, struct lab_port_link *link)
{
	struct vu_port *vp = lab_port_priv(p);

	link->up = !(atomic_load_explicit(&vp->gen, memory_order_acquire) & 1);
	return 0;
}

static const struct lab_port_ops vu_ops = {
	.name = "virtio_user",
	.keys = vu_keys,
	.open = vu_open,
	.close = vu_close,
	.start = vu_start,
	.stop = lab_port_nop,
	.link = vu_link,
	.rx_burst = vu_rx,
	.tx_burst = vu_tx,
	.rx_ring_default = 256,
	.tx_ring_default = 256,
	.flags = LAB_PORT_F_RX_OWN_DESC,
};

LAB_PORT_DRIVER_REGISTER(vu_ops);
