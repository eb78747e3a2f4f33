/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Split virtqueues, driver side: layout, reset and hand-over (the control
 * path; the data path's helpers are inline in virtqueue.h).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "virtqueue.h"

size_t vq_bytes(uint16_t size)
{
	return LAB_ALIGN_UP(16u * size, 64) + LAB_ALIGN_UP(6u + 2u * size, 64) +
	       LAB_ALIGN_UP(6u + 8u * size, 64);
}

int vq_init(struct vq *v, uint16_t index, uint16_t size, uint8_t *mem, bool event_idx)
{
	uint8_t *avail = mem + LAB_ALIGN_UP(16u * size, 64);
	uint8_t *used = avail + LAB_ALIGN_UP(6u + 2u * size, 64);

	memset(v, 0, sizeof(*v));
	v->kickfd = v->callfd = -1;
	v->size = size;
	v->mask = size - 1;
	v->index = index;
	v->event_idx = event_idx;
	v->desc = (struct vring_desc *)mem;
	v->avail_flags = (_Atomic uint16_t *)avail;
	v->avail_idx_p = (_Atomic uint16_t *)(avail + 2);
	v->avail_ring = (_Atomic uint16_t *)(avail + 4);
	v->used_event = &v->avail_ring[size];
	v->used_flags = (_Atomic uint16_t *)used;
	v->used_idx_p = (_Atomic uint16_t *)(used + 2);
	v->used_ring = (struct vring_used_elem *)(used + 4);
	v->avail_event = (_Atomic uint16_t *)&v->used_ring[size];
	v->cookie = calloc(size, sizeof(*v->cookie));
	v->posted = calloc(size, sizeof(*v->posted));
	v->segs = calloc(size, sizeof(*v->segs));
	v->link = calloc(size, sizeof(*v->link));
	if (v->cookie == NULL || v->posted == NULL || v->segs == NULL || v->link == NULL)
		return -ENOMEM;
	for (uint16_t i = 0; i < size; i++)
		v->desc[i].next = (uint16_t)(i + 1);
	v->free_head = 0;
	v->num_free = size;
	/* We poll: no calls, please (EVENT_IDX: an event half the index space
	 * away, moved along as we consume). */
	if (event_idx)
		atomic_store_explicit(v->used_event, 0x8000, memory_order_relaxed);
	else
		atomic_store_explicit(v->avail_flags, VRING_AVAIL_F_NO_INTERRUPT,
				      memory_order_relaxed);
	v->kickfd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	v->callfd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	return v->kickfd < 0 || v->callfd < 0 ? -errno : 0;
}

void vq_fini(struct vq *v)
{
	if (v->kickfd >= 0)
		close(v->kickfd);
	if (v->callfd >= 0)
		close(v->callfd);
	free(v->cookie);
	free(v->posted);
	free(v->segs);
	free(v->link);
	v->cookie = NULL;
	v->posted = NULL;
	v->segs = v->link = NULL;
	v->kickfd = v->callfd = -1;
}

void vq_reset(struct vq *v)
{
	atomic_store_explicit(v->avail_flags, v->event_idx ? 0 : VRING_AVAIL_F_NO_INTERRUPT,
			      memory_order_relaxed);
	for (uint16_t i = 0; i < v->size; i++) {
		v->desc[i].next = (uint16_t)(i + 1);
		v->segs[i] = 0;
	}
	v->free_head = 0;
	v->num_free = v->size;
	v->avail_idx = 0;
	v->last_used = 0;
	atomic_store_explicit(v->avail_idx_p, 0, memory_order_relaxed);
	atomic_store_explicit(v->used_idx_p, 0, memory_order_relaxed);
	/* What the old back-end left in the used ring's flags and avail event
	 * would decide the first kick to the new one (a stale event far ahead
	 * means none, and a back-end that waits for kicks never starts). */
	atomic_store_explicit(v->used_flags, 0, memory_order_relaxed);
	atomic_store_explicit(v->avail_event, 0, memory_order_relaxed);
	if (v->event_idx)
		atomic_store_explicit(v->used_event, 0x8000, memory_order_relaxed);
}

void vq_put_chain(struct vq *v, uint16_t id)
{
	uint16_t n = v->segs[id], last = id;

	/* The free list runs through the table's next fields: rewrite them
	 * from our links, whatever the back-end may have left there. */
	for (uint16_t i = 1; i < n; i++) {
		v->desc[last].next = v->link[last];
		last = v->link[last];
	}
	v->desc[last].next = v->free_head;
	v->free_head = id;
	v->num_free += n;
	v->segs[id] = 0;
	v->cookie[id] = NULL;
	v->posted[id] = 0;
}

bool vq_publish(struct vq *v, uint16_t old)
{
	bool kick;

	if (v->avail_idx == old)
		return false;
	atomic_store_explicit(v->avail_idx_p, v->avail_idx, memory_order_release);
	/* The index store before the look at the peer's flags (virtio 1.1,
	 * 2.6.13.6): a full barrier, as every virtio driver has here. */
	atomic_thread_fence(memory_order_seq_cst);
	if (v->event_idx)
		kick = need_event(atomic_load_explicit(v->avail_event, memory_order_relaxed),
				  v->avail_idx, old);
	else
		kick = !(atomic_load_explicit(v->used_flags, memory_order_relaxed) &
			 VRING_USED_F_NO_NOTIFY);
	if (kick) {
		uint64_t one = 1;

		(void)!write(v->kickfd, &one, sizeof(one));
	}
	return kick;
}

int vq_hand_over(struct vhu_conn *c, struct vq *v)
{
	int rc = vhu_set_vring_fd(c, VHU_SET_VRING_CALL, v->index, v->callfd);

	if (rc == 0)
		rc = vhu_set_state(c, VHU_SET_VRING_NUM, v->index, v->size);
	if (rc == 0)
		rc = vhu_set_state(c, VHU_SET_VRING_BASE, v->index, 0);
	if (rc == 0)
		rc = vhu_set_vring_addr(c, v->index, v->desc, v->used_flags, v->avail_flags);
	if (rc == 0)
		rc = vhu_set_vring_fd(c, VHU_SET_VRING_KICK, v->index, v->kickfd);
	return rc;
}
