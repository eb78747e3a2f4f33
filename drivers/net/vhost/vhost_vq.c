/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The peer's split virtqueues (virtio 1.1, 2.6), walked from the device
 * side. The ring addresses are translated once, when the ring goes live,
 * over their whole length; after that every value the peer writes is
 * checked as it is read:
 *
 * - the avail index may run ahead of us by at most the ring size;
 * - a chain head, and every next, is below the ring size;
 * - a chain has at most ring-size descriptors (so a loop ends there);
 * - each descriptor's [addr, addr + len) lies inside one mapped region;
 * - descriptors point the right way (readable for the peer's TX, writable
 *   for its RX) and are not indirect (INDIRECT_DESC is not offered).
 *
 * A failure stops the queue (vh_vq_break) and leaves the reason for the
 * control thread to log: nothing logs on the data path. A frame longer
 * than the buffer it goes to is not the peer's fault: the caller reads on
 * into more buffers (vh_vq_read_at), writes on into the peer's next chain
 * (vh_vq_fill, MRG_RXBUF), or drops and counts the frame.
 */
#include <errno.h>
#include <sched.h>
#include <string.h>
#include <unistd.h>

#include "vhost_internal.h"

void vh_vq_init(struct vh_vq *v)
{
	memset(v, 0, sizeof(*v));
	v->callfd = v->kickfd = v->errfd = -1;
}

static void close_fd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

void vh_vq_reset(struct vh_vq *v)
{
	uint64_t errs = atomic_load(&v->ctl_errors);

	vh_vq_quiesce(v);
	close_fd(&v->callfd);
	close_fd(&v->kickfd);
	close_fd(&v->errfd);
	vh_vq_init(v);
	atomic_store(&v->ctl_errors, errs);
}

void vh_vq_quiesce(struct vh_vq *v)
{
	atomic_store_explicit(&v->live, false, memory_order_seq_cst);
	while (atomic_load_explicit(&v->busy, memory_order_seq_cst) != 0)
		sched_yield();
}

int vh_vq_activate(struct vh_vq *v, const struct vh_mem *m, const char **why)
{
	uint8_t *avail, *used;
	uint32_t n = v->num;

	vh_vq_quiesce(v);
	if (!v->started || !v->enabled || n == 0 || !v->addr_set ||
	    atomic_load(&v->broken) != NULL)
		return 0;
	v->desc = vh_uva_to_va(m, v->desc_uva, 16ull * n);
	avail = vh_uva_to_va(m, v->avail_uva, 6ull + 2ull * n);
	used = vh_uva_to_va(m, v->used_uva, 6ull + 8ull * n);
	if (v->desc == NULL || avail == NULL || used == NULL) {
		*why = "ring addresses outside the memory table";
		return -EFAULT;
	}
	if (((uintptr_t)v->desc & 15) || ((uintptr_t)avail & 1) || ((uintptr_t)used & 3)) {
		*why = "ring addresses not aligned (descriptors 16, avail 2, used 4 bytes)";
		return -EFAULT;
	}
	v->size = (uint16_t)n; /* n == 32768 fits; masks use size - 1 */
	v->mask = (uint16_t)(n - 1);
	v->avail_flags = (_Atomic uint16_t *)avail;
	v->avail_idx = (_Atomic uint16_t *)(avail + 2);
	v->avail_ring = (_Atomic uint16_t *)(avail + 4);
	v->used_flags = (_Atomic uint16_t *)used;
	v->used_idx_p = (_Atomic uint16_t *)(used + 2);
	v->used_ring = (struct vring_used_elem *)(used + 4);
	v->mem = m;
	/* Continue the used ring from where the avail ring was set to start
	 * (SET_VRING_BASE): nothing is in flight across a (re)start. */
	v->used_idx = v->used_pub = v->last_avail;
	atomic_store_explicit(v->used_idx_p, v->used_idx, memory_order_release);
	/* We poll: no kicks, please. */
	atomic_store_explicit(v->used_flags, VRING_USED_F_NO_NOTIFY, memory_order_relaxed);
	atomic_store_explicit(&v->live, true, memory_order_seq_cst);
	return 0;
}

void vh_vq_break(struct vh_vq *v, const char *why, uint64_t value)
{
	const char *none = NULL;

	atomic_store_explicit(&v->live, false, memory_order_relaxed);
	v->bad_value = value;
	atomic_compare_exchange_strong(&v->broken, &none, why);
}

int vh_vq_next(struct vh_vq *v, uint16_t *head)
{
	uint16_t avail = atomic_load_explicit(v->avail_idx, memory_order_acquire);
	uint16_t ahead = (uint16_t)(avail - v->last_avail), h;

	if (ahead == 0)
		return 0;
	if (lab_unlikely(ahead > v->num)) {
		vh_vq_break(v, "avail index ran ahead of us by more than the ring size", avail);
		return -1;
	}
	h = atomic_load_explicit(&v->avail_ring[v->last_avail & v->mask], memory_order_relaxed);
	if (lab_unlikely(h >= v->num)) {
		vh_vq_break(v, "avail ring entry names a descriptor past the ring", h);
		return -1;
	}
	v->last_avail++;
	*head = h;
	return 1;
}

/* Descriptor @p i, copied once: the peer may rewrite the table while we walk
 * it, so every check and use is of this copy (the barrier keeps the compiler
 * from reading the table again in its place). */
static inline struct vring_desc desc_read(const struct vh_vq *v, int i)
{
	struct vring_desc d = v->desc[i];

	__asm__ volatile("" ::: "memory");
	return d;
}

/* The descriptor after @p d in its chain, or -1 at the end; the queue
 * breaks (-2) on a bad next or a chain longer than the ring. */
static inline int chain_next(struct vh_vq *v, const struct vring_desc *d, uint32_t *count)
{
	if (!(d->flags & VRING_DESC_F_NEXT))
		return -1;
	if (lab_unlikely(d->next >= v->num)) {
		vh_vq_break(v, "descriptor chain's next is past the ring", d->next);
		return -2;
	}
	if (lab_unlikely(++*count >= v->num)) {
		vh_vq_break(v, "descriptor chain longer than the ring (a loop?)", *count);
		return -2;
	}
	return d->next;
}

/* Our address of descriptor @p d's buffer, checked: direction, not indirect,
 * inside one region. NULL: the queue broke. */
static inline uint8_t *desc_va(struct vh_vq *v, const struct vring_desc *d, uint16_t want_write)
{
	uint8_t *p;

	if (lab_unlikely(d->flags & VRING_DESC_F_INDIRECT)) {
		vh_vq_break(v, "indirect descriptor (INDIRECT_DESC was not offered)", d->addr);
		return NULL;
	}
	if (lab_unlikely((d->flags & VRING_DESC_F_WRITE) != want_write)) {
		vh_vq_break(v, want_write ? "read-only descriptor on a receive ring"
					  : "writable descriptor on a transmit ring", d->flags);
		return NULL;
	}
	p = vh_gpa_to_va(v->mem, d->addr, d->len);
	if (lab_unlikely(p == NULL))
		vh_vq_break(v, "descriptor buffer outside the memory table", d->addr);
	return p;
}

int vh_vq_read_at(struct vh_vq *v, uint16_t head, uint32_t off, uint8_t *dst, uint32_t cap,
		  uint32_t *len)
{
	uint32_t skip = VNET_HDR_LEN + off, out = 0, count = 0;
	bool too_long = false;
	int i = head;

	do {
		struct vring_desc d = desc_read(v, i);
		const uint8_t *p = desc_va(v, &d, 0);
		uint32_t n = d.len;

		if (p == NULL)
			return -EBADMSG;
		if (skip != 0) {
			uint32_t s = n < skip ? n : skip;

			p += s;
			n -= s;
			skip -= s;
		}
		if (n > cap - out) {
			too_long = true;
			n = cap - out;
		}
		memcpy(dst + out, p, n);
		out += n;
		i = chain_next(v, &d, &count);
	} while (i >= 0);
	if (i == -2)
		return -EBADMSG;
	*len = out;
	if (skip != 0)
		return -EINVAL; /* shorter than the virtio-net header */
	return too_long ? -EMSGSIZE : 0;
}

/* Copy from @p src into [p, p + n): as much as both have. @return bytes. */
static uint32_t src_copy(struct vh_src *src, uint8_t *p, uint32_t n)
{
	uint32_t done = 0;

	while (done < n && src->seg != NULL) {
		uint32_t have = src->seg->data_len - src->off;
		uint32_t k = have < n - done ? have : n - done;

		memcpy(p + done, (const uint8_t *)lab_buf_data(src->seg) + src->off, k);
		done += k;
		src->off += k;
		src->left -= k;
		if (src->off == src->seg->data_len) {
			src->seg = src->seg->next;
			src->off = 0;
		}
	}
	return done;
}

int vh_vq_fill(struct vh_vq *v, uint16_t head, bool first, struct vh_src *src,
	       uint32_t *written)
{
	uint8_t hdr[VNET_HDR_LEN] = { 0 };
	uint32_t hneed = first ? VNET_HDR_LEN : 0, hdone = 0, done = 0, count = 0;
	int i = head;

	hdr[VNET_NUM_BUFFERS] = 1; /* little-endian num_buffers = 1 */
	do {
		struct vring_desc d = desc_read(v, i);
		uint8_t *p = desc_va(v, &d, VRING_DESC_F_WRITE);
		uint32_t n = d.len, k;

		if (p == NULL)
			return -EBADMSG;
		k = hneed - hdone < n ? hneed - hdone : n;
		memcpy(p, hdr + hdone, k);
		/* Where num_buffers went, byte by byte (a header may straddle
		 * descriptors), for vh_vq_set_nbuf. */
		for (uint32_t j = 0; j < k; j++)
			if (hdone + j == VNET_NUM_BUFFERS || hdone + j == VNET_NUM_BUFFERS + 1)
				src->nbuf_at[hdone + j - VNET_NUM_BUFFERS] = p + j;
		hdone += k;
		k = src_copy(src, p + k, n - k);
		done += k;
		if (src->left == 0 && hdone == hneed)
			break;
		i = chain_next(v, &d, &count);
	} while (i >= 0);
	if (i == -2)
		return -EBADMSG;
	*written = hdone + done;
	return hdone < hneed ? -EINVAL : 0;
}

void vh_vq_set_nbuf(const struct vh_src *src, uint16_t nbuf)
{
	*src->nbuf_at[0] = (uint8_t)nbuf;
	*src->nbuf_at[1] = (uint8_t)(nbuf >> 8);
}

int vh_vq_write(struct vh_vq *v, uint16_t head, const uint8_t *src, uint32_t len,
		uint32_t *written)
{
	struct lab_buf b = { .buf_addr = (void *)(uintptr_t)src, .data_len = len };
	struct vh_src s = { .seg = len != 0 ? &b : NULL, .left = len };
	int rc = vh_vq_fill(v, head, true, &s, written);

	if (rc == -EINVAL)
		return -EMSGSIZE;
	return rc == 0 && s.left != 0 ? -EMSGSIZE : rc;
}

void vh_vq_flush(struct vh_vq *v)
{
	if (v->used_idx == v->used_pub)
		return;
	atomic_store_explicit(v->used_idx_p, v->used_idx, memory_order_release);
	v->used_pub = v->used_idx;
	/* The used index before the look at the peer's flags (virtio 1.1,
	 * 2.6.13.6), as the driver side does for its kicks. */
	atomic_thread_fence(memory_order_seq_cst);
	if (v->callfd >= 0 && !(atomic_load_explicit(v->avail_flags, memory_order_relaxed) &
				VRING_AVAIL_F_NO_INTERRUPT)) {
		uint64_t one = 1;

		(void)!write(v->callfd, &one, sizeof(one));
	}
}
