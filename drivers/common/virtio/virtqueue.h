/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The driver side of a split virtqueue (virtio 1.1, 2.6) in memory a
 * vhost-user back-end maps: the ring layout, the free list of descriptors,
 * publishing the avail index with the kick the back-end asks for, and
 * handing the ring to the back-end. Shared by drivers/net/virtio_user (one
 * descriptor per frame) and drivers/block/virtio_blk (a chain per request);
 * what a used entry means stays with each driver.
 */
#ifndef LAB_VIRTQUEUE_H
#define LAB_VIRTQUEUE_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <labyrinth/lab_common.h>

#include "vhost_user.h"

struct lab_buf;

struct vq {
	uint16_t size, mask;
	uint16_t avail_idx;  /* what we publish next */
	uint16_t last_used;  /* the next used entry to read */
	uint16_t free_head, num_free;
	bool event_idx;
	uint16_t index;      /* virtqueue number */
	struct vring_desc *desc;
	_Atomic uint16_t *avail_flags, *avail_idx_p, *avail_ring, *used_event;
	_Atomic uint16_t *used_flags, *used_idx_p, *avail_event;
	struct vring_used_elem *used_ring;
	uint32_t *posted;          /* per descriptor: bytes posted (RX), 0 when free */
	struct lab_buf **cookie;   /* per descriptor: its buffer, NULL when free (and for the
				    * descriptors after a chain's head) */
	uint16_t *segs;            /* per chain head: its descriptors; 0 for one alone */
	uint16_t *link;            /* per descriptor of such a chain: the next one (our copy:
				    * the table is shared memory) */
	int kickfd, callfd;
	uint32_t gen;              /* the port generation its rings are in */
	_Atomic uint32_t gen_done; /* the same, for the control thread */
};

/* Bytes of one virtqueue in the ring segment: descriptors, avail (with
 * used_event), used (with avail_event), each on its own cache lines. */
size_t vq_bytes(uint16_t size);

/* Lay virtqueue @p index of @p size (a power of two) out at @p mem, every
 * descriptor free, calls from the back-end suppressed (we poll), and make its
 * kick and call eventfds. @return 0 or -errno; vq_fini() either way. */
int vq_init(struct vq *v, uint16_t index, uint16_t size, uint8_t *mem, bool event_idx);
void vq_fini(struct vq *v);

/* Empty rings from index 0, as a new back-end will start them (with no
 * back-end attached; the caller has taken back what the rings held). */
void vq_reset(struct vq *v);

/* Hand the back-end the ring: call, size, base 0, addresses, kick. */
int vq_hand_over(struct vhu_conn *c, struct vq *v);

/* Publish what was added since @p old and kick if the back-end asks for it.
 * @return whether it kicked (a system call). Once per burst or poll: out of
 * line (ThreadSanitizer refuses the fence it holds in an inline function). */
bool vq_publish(struct vq *v, uint16_t old);

static inline uint16_t vq_take_desc(struct vq *v)
{
	uint16_t id = v->free_head;

	v->free_head = v->desc[id].next;
	v->num_free--;
	return id;
}

/* The descriptors of chain @p id (segs[id] of them, set by whoever posted
 * it) back on the free list, followed through our own links. */
void vq_put_chain(struct vq *v, uint16_t id);

static inline void vq_put_desc(struct vq *v, uint16_t id)
{
	if (lab_unlikely(v->segs[id] != 0)) {
		vq_put_chain(v, id);
		return;
	}
	v->desc[id].next = v->free_head;
	v->free_head = id;
	v->num_free++;
	v->cookie[id] = NULL;
	v->posted[id] = 0;
}

#endif /* LAB_VIRTQUEUE_H */
