/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * virtio_blk's data path. A request is one descriptor chain (virtio 1.1,
 * 5.2.6): the header, the data (pool buffers, straight: zero copy), or the
 * range of a discard or write-zeroes, then the status byte. Submit lays the
 * chain into the ring; the next poll publishes everything laid since the
 * last (one kick at most, and none when the device is still working through
 * the ring: EVENT_IDX), then reaps the used ring. Nothing here blocks, locks
 * or waits for the device; the only system call is the kick.
 *
 * The back-end is hostile memory-wise: a used entry naming a descriptor that
 * heads no chain of ours is counted and skipped, a chain is walked at most
 * ring-size steps, and a status byte other than OK/IOERR/UNSUPP is -EIO.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include <labyrinth/lab_log.h>

#include "vblk_internal.h"

LAB_LOG_DECLARE(blk);

/* Refused requests logged per queue pair before the rest are only counted
 * (as lib/blk does for its own checks). */
#define VBLK_LOGGED 16u

static bool in_regions(const struct vblk_limits *l, uintptr_t a, uint64_t len)
{
	for (unsigned int i = 0; i < l->nregions; i++) {
		uintptr_t va = (uintptr_t)l->regions[i].va;

		if (a >= va && a - va <= l->regions[i].len && len <= l->regions[i].len - (a - va))
			return true;
	}
	return false;
}

int vblk_req_check(const struct vblk_limits *l, const struct lab_blk_req *req, char *why,
		   size_t whylen)
{
	uint64_t sectors, limit;
	uint32_t nseg;

	switch (req->op) {
	case LAB_BLK_OP_READ:
	case LAB_BLK_OP_WRITE:
		if (req->len == 0 || l->seg_size == 0) {
			snprintf(why, whylen, "no data (%" PRIu32 " bytes, segments of %" PRIu32 ")",
				 req->len, l->seg_size);
			return -EINVAL;
		}
		if (!in_regions(l, (uintptr_t)req->data, req->len)) {
			snprintf(why, whylen, "%" PRIu32 " bytes at %p are not in the memory the "
				 "device maps (the pool its queue pairs were made with)", req->len,
				 req->data);
			return -EINVAL;
		}
		nseg = req->len / l->seg_size + (req->len % l->seg_size != 0);
		if (nseg > l->seg_max) {
			snprintf(why, whylen, "%" PRIu32 " bytes take %" PRIu32 " segments of %"
				 PRIu32 " bytes; the device takes %" PRIu32 " (seg_max)", req->len,
				 nseg, l->seg_size, l->seg_max);
			return -EINVAL;
		}
		return (int)nseg;
	case LAB_BLK_OP_FLUSH:
		return 0;
	case LAB_BLK_OP_WRITE_ZEROES:
	case LAB_BLK_OP_DISCARD:
		sectors = req->range_len / 512;
		limit = req->op == LAB_BLK_OP_DISCARD ? l->max_discard_sectors
						      : l->max_write_zeroes_sectors;
		if (sectors == 0 || (limit != 0 && sectors > limit) || sectors > UINT32_MAX) {
			snprintf(why, whylen, "%" PRIu64 " bytes at offset %" PRIu64 ": the device "
				 "takes 1 to %" PRIu64 " sectors of 512 bytes per request",
				 req->range_len, req->offset, limit ? limit : (uint64_t)UINT32_MAX);
			return -EINVAL;
		}
		return 1;
	default:
		snprintf(why, whylen, "unknown operation %d", (int)req->op);
		return -EINVAL;
	}
}

/* Take a descriptor and link it after @p prev (UINT16_MAX: it heads the chain). */
static inline uint16_t chain(struct vq *v, uint16_t prev, uint64_t addr, uint32_t len,
			     uint16_t flags)
{
	uint16_t id = vq_take_desc(v);

	if (prev != UINT16_MAX) {
		v->desc[prev].next = id;
		v->desc[prev].flags |= VRING_DESC_F_NEXT;
	}
	v->desc[id].addr = addr;
	v->desc[id].len = len;
	v->desc[id].flags = flags;
	return id;
}

static const uint32_t vtype[LAB_BLK_OPS] = {
	[LAB_BLK_OP_READ] = VIRTIO_BLK_T_IN,
	[LAB_BLK_OP_WRITE] = VIRTIO_BLK_T_OUT,
	[LAB_BLK_OP_FLUSH] = VIRTIO_BLK_T_FLUSH,
	[LAB_BLK_OP_WRITE_ZEROES] = VIRTIO_BLK_T_WRITE_ZEROES,
	[LAB_BLK_OP_DISCARD] = VIRTIO_BLK_T_DISCARD,
};

/* Lay the chain of @p req (@p nseg data segments) into the ring. */
static void lay(struct vblk_qp *q, struct lab_blk_req *req, int nseg)
{
	struct vq *v = &q->vq;
	struct vblk_slot *s = q->slot[req - q->qp->reqs];
	uint16_t head, id;

	s->hdr = (struct vblk_outhdr){ .type = vtype[req->op], .sector = req->offset / 512 };
	s->status = 0xff; /* not a status: what a device that wrote none leaves */
	head = id = chain(v, UINT16_MAX, (uintptr_t)&s->hdr, sizeof(s->hdr), 0);
	if (req->op == LAB_BLK_OP_READ || req->op == LAB_BLK_OP_WRITE) {
		uint16_t f = req->op == LAB_BLK_OP_READ ? VRING_DESC_F_WRITE : 0;
		uint32_t seg = q->vd->lim.seg_size;
		uint8_t *p = req->data;

		for (uint32_t left = req->len; nseg-- > 0; left -= seg, p += seg)
			id = chain(v, id, (uintptr_t)p, left < seg ? left : seg, f);
	} else if (req->op != LAB_BLK_OP_FLUSH) {
		s->range = (struct vblk_range){ .sector = req->offset / 512,
						.num_sectors = (uint32_t)(req->range_len / 512) };
		id = chain(v, id, (uintptr_t)&s->range, sizeof(s->range), 0);
	}
	chain(v, id, (uintptr_t)&s->status, 1, VRING_DESC_F_WRITE);
	q->head[head] = req;
	atomic_store_explicit(&v->avail_ring[v->avail_idx & v->mask], head, memory_order_relaxed);
	v->avail_idx++;
}

int vblk_submit(struct lab_blk_qpair *qp, struct lab_blk_req *req)
{
	struct vblk_qp *q = qp->drv;
	struct vblk_dev *vd = q->vd;
	uint32_t g = atomic_load_explicit(&vd->gen, memory_order_acquire);
	char why[192];
	int nseg;

	/* The back-end is going or gone (or back, and the poll has not
	 * followed yet). */
	if (lab_unlikely(g != q->vq.gen || (g & 1) ||
			 atomic_load_explicit(&vd->draining, memory_order_relaxed)))
		return vd->reconnect ? -EAGAIN : -EIO;
	nseg = vblk_req_check(&vd->lim, req, why, sizeof(why));
	if (lab_unlikely(nseg < 0)) {
		if (qp->st.invalid++ < VBLK_LOGGED)
			LAB_LOG(ERR, blk, "%s: %s refused: %s", qp->dev->devstr,
				lab_blk_op_name(req->op), why);
		return nseg;
	}
	if (q->vq.num_free < (unsigned int)nseg + 2)
		return -EAGAIN;
	lay(q, req, nseg);
	/* Data straight in pool memory the device has mapped once: what
	 * "fixed" (registered) buffers are for io_uring. */
	qp->st.fixed += nseg != 0 && req->op <= LAB_BLK_OP_WRITE;
	return 0;
}

/* The bytes a completed request moved, or its -errno. */
static int64_t result(const struct lab_blk_req *req, uint8_t status, uint32_t used_len)
{
	if (status == VIRTIO_BLK_S_UNSUPP)
		return -ENOTSUP;
	if (status != VIRTIO_BLK_S_OK)
		return -EIO;
	/* used_len counts what the device wrote: the data and the status. A
	 * back-end that leaves it 0 says nothing (Linux's driver ignores it);
	 * one that reports less than the data ends the read short. */
	if (req->op == LAB_BLK_OP_READ && used_len != 0 && used_len <= req->len)
		return used_len - 1;
	return req->op == LAB_BLK_OP_READ || req->op == LAB_BLK_OP_WRITE ? req->len : 0;
}

/* Give a chain's descriptors back: at most ring-size of them, whatever the
 * device did to the table. */
static void unchain(struct vq *v, uint16_t id)
{
	for (uint16_t n = 0; n < v->size; n++) {
		uint16_t flags = v->desc[id].flags, next = v->desc[id].next;

		vq_put_desc(v, id);
		if (!(flags & VRING_DESC_F_NEXT) || next >= v->size)
			break;
		id = next;
	}
}

static unsigned int reap(struct vblk_qp *q, unsigned int max)
{
	struct vq *v = &q->vq;
	uint16_t used = atomic_load_explicit(v->used_idx_p, memory_order_acquire);
	unsigned int n = 0;

	while (n < max && v->last_used != used) {
		const struct vring_used_elem *e = &v->used_ring[v->last_used & v->mask];
		uint32_t id = e->id, len = e->len;
		struct lab_blk_req *req;

		v->last_used++;
		if (lab_unlikely(id >= v->size || q->head[id] == NULL)) {
			q->bad_used++;
			continue;
		}
		req = q->head[id];
		q->head[id] = NULL;
		unchain(v, (uint16_t)id);
		lab_blk_req_done(q->qp, req, result(req, q->slot[req - q->qp->reqs]->status, len));
		n++;
	}
	if (v->event_idx)
		atomic_store_explicit(v->used_event, (uint16_t)(v->last_used + 0x8000),
				      memory_order_relaxed);
	return n;
}

void vblk_fail_all(struct vblk_qp *q)
{
	for (uint16_t id = 0; id < q->vq.size; id++) {
		struct lab_blk_req *req = q->head[id];

		if (req != NULL) {
			q->head[id] = NULL;
			lab_blk_req_done(q->qp, req, -EIO);
		}
	}
}

/* The back-end went (odd @p g) or came back (even): the first completes what
 * it finished and fails the rest, then empties the rings for the next one. */
static unsigned int follow(struct vblk_qp *q, uint32_t g)
{
	unsigned int n = 0;

	if (g & 1) {
		n = reap(q, UINT32_MAX);
		n += q->qp->outstanding;
		vblk_fail_all(q);
		vq_reset(&q->vq);
		q->published = 0;
	} else {
		q->vq.event_idx = q->vd->features & (1ull << VIRTIO_RING_F_EVENT_IDX);
	}
	q->vq.gen = g;
	atomic_store_explicit(&q->vq.gen_done, g, memory_order_release);
	return n;
}

unsigned int vblk_poll(struct lab_blk_qpair *qp, unsigned int max)
{
	struct vblk_qp *q = qp->drv;
	uint32_t g = atomic_load_explicit(&q->vd->gen, memory_order_acquire);

	if (lab_unlikely(g != q->vq.gen)) {
		unsigned int n = follow(q, g);

		if (g & 1)
			return n;
	}
	if (lab_unlikely(g & 1))
		return 0;
	if (vq_publish(&q->vq, q->published))
		qp->st.syscalls++;
	q->published = q->vq.avail_idx;
	return reap(q, max);
}
