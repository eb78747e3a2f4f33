/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The device (back-end) side of virtio-net over vhost-user: what the port
 * driver (vhost.c), the message handler (vhost_msg.c), the peer's memory
 * (vhost_mem.c) and the virtqueue walker (vhost_vq.c) share. The fuzz
 * targets (tests/fuzz/fuzz_vhost_*.c) drive vhost_msg.c and vhost_vq.c
 * through this header too.
 *
 * Everything the peer writes, in messages or in its memory, is hostile:
 * each value is checked before it is used, and a bad one stops the queue it
 * concerns (data path) or ends the connection (messages), with a counter
 * and one log line naming what was wrong.
 */
#ifndef LAB_VHOST_INTERNAL_H
#define LAB_VHOST_INTERNAL_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <labyrinth/lab_buf.h>
#include <labyrinth/lab_common.h>

#include "../../common/virtio/virtio_defs.h"

/* The largest payload a request of ours carries: a full mem table. */
#define VH_MAX_PAYLOAD sizeof(struct vhu_mem)
/* A split virtqueue's largest size (virtio 1.1, 2.6). */
#define VH_MAX_RING 32768u

/* One region of the peer's memory, mapped here. */
struct vh_region {
	uint64_t gpa;    /* guest physical address: what descriptors hold */
	uint64_t uva;    /* the front-end's address: what SET_VRING_ADDR holds */
	uint64_t size;
	uint8_t *va;     /* our address of gpa */
	void *map;       /* what mmap gave (NULL: not ours to unmap, e.g. the fuzzer's) */
	size_t map_len;
};

struct vh_mem {
	unsigned int n;
	struct vh_region r[VHU_MAX_REGIONS];
};

/* One virtqueue of the peer's. The control thread changes it only while the
 * data path is out (vh_vq_quiesce); the data path enters with vh_vq_enter. */
struct vh_vq {
	_Atomic bool live;      /* started, enabled, rings translated, not broken */
	_Atomic int busy;       /* the data path is inside a burst */
	/* data path */
	uint16_t size, mask;
	uint16_t last_avail;    /* the next avail entry to take */
	uint16_t used_idx;      /* the next used entry to write */
	uint16_t used_pub;      /* what the peer has been shown of used_idx */
	struct vring_desc *desc;
	_Atomic uint16_t *avail_flags, *avail_idx, *avail_ring;
	_Atomic uint16_t *used_flags, *used_idx_p;
	struct vring_used_elem *used_ring;
	const struct vh_mem *mem;
	int callfd;
	const char *_Atomic broken; /* why the data path stopped it (set once) */
	uint64_t bad_value;         /* the offending value, for the log line */
	/* control path */
	uint32_t num;               /* SET_VRING_NUM, 0 until set */
	uint64_t desc_uva, avail_uva, used_uva;
	bool addr_set, started, enabled, broken_logged;
	int kickfd, errfd;
	_Atomic uint64_t ctl_errors; /* message errors naming this ring */
};

/* The device: one peer at a time, 2 * nq virtqueues. */
struct vh_dev {
	const char *name;       /* for messages: "vhost port 3" */
	unsigned int nq;        /* queue pairs */
	uint64_t features, protocol;
	bool owner, features_set;
	struct vh_mem mem;
	struct vh_vq *vq;       /* 2 * nq: 2i the peer's RX (our TX), 2i+1 its TX (our RX) */
	_Atomic uint64_t msg_errors; /* errors not tied to one ring */
};

#define VH_FEATURES ((1ull << VIRTIO_F_VERSION_1) | (1ull << VIRTIO_NET_F_MRG_RXBUF) | \
		     (1ull << VIRTIO_NET_F_MQ) | (1ull << VHOST_USER_F_PROTOCOL_FEATURES))
#define VH_PROTOCOL_FEATURES (1ull << VHU_PROTOCOL_F_MQ)

/* ---------------------------------------------------------------- memory */

/* Our address of [gpa, gpa + len) if all of it lies in one region, else NULL. */
static inline void *vh_gpa_to_va(const struct vh_mem *m, uint64_t gpa, uint64_t len)
{
	for (unsigned int i = 0; i < m->n; i++) {
		const struct vh_region *r = &m->r[i];

		if (gpa >= r->gpa && gpa - r->gpa <= r->size && len <= r->size - (gpa - r->gpa))
			return r->va + (gpa - r->gpa);
	}
	return NULL;
}

/* The same for a front-end address (vring addresses). */
void *vh_uva_to_va(const struct vh_mem *m, uint64_t uva, uint64_t len);

/* Check and map a SET_MEM_TABLE's regions (one fd each, taken: closed here
 * whatever happens). @return 0, or -errno with *@p why saying what was wrong. */
int vh_mem_map(struct vh_mem *m, const struct vhu_mem *msg, const int *fds, const char **why);
void vh_mem_unmap(struct vh_mem *m);

/* ------------------------------------------------------------- virtqueue */

void vh_vq_init(struct vh_vq *v);
/* Translate the rings' addresses and start the data path on @p v if it is
 * set up, started and enabled. @return 0 or -EFAULT (with *@p why). */
int vh_vq_activate(struct vh_vq *v, const struct vh_mem *m, const char **why);
/* Stop the data path on @p v and wait until it is out of any burst. */
void vh_vq_quiesce(struct vh_vq *v);
/* Close the ring's descriptors, forget its state (not its error count). */
void vh_vq_reset(struct vh_vq *v);

/* Data path: enter/leave a burst; false: the queue is not live. */
static inline bool vh_vq_enter(struct vh_vq *v)
{
	atomic_store_explicit(&v->busy, 1, memory_order_seq_cst);
	if (atomic_load_explicit(&v->live, memory_order_seq_cst))
		return true;
	atomic_store_explicit(&v->busy, 0, memory_order_release);
	return false;
}

static inline void vh_vq_leave(struct vh_vq *v)
{
	atomic_store_explicit(&v->busy, 0, memory_order_release);
}

/* Stop the queue from the data path: @p why (a constant string) and the
 * offending value are logged by the control thread. */
void vh_vq_break(struct vh_vq *v, const char *why, uint64_t value);

/* The next chain head the peer has made available. @return 1 (in *@p head),
 * 0 (none), -1 (the queue broke: a bad index). */
int vh_vq_next(struct vh_vq *v, uint16_t *head);
/* Copy the frame of a device-readable chain (after the virtio-net header),
 * from its byte @p off on, to @p dst. @return 0 (*@p len set), -EMSGSIZE
 * (more than @p cap bytes from @p off: *@p len is @p cap, the caller may read
 * on from off + cap), -EINVAL (the frame ends before @p off), -EBADMSG (the
 * queue broke). */
int vh_vq_read_at(struct vh_vq *v, uint16_t head, uint32_t off, uint8_t *dst, uint32_t cap,
		  uint32_t *len);

static inline int vh_vq_read(struct vh_vq *v, uint16_t head, uint8_t *dst, uint32_t cap,
			     uint32_t *len)
{
	return vh_vq_read_at(v, head, 0, dst, cap, len);
}

/* Where a frame being written to the peer is: a cursor over a buffer chain
 * (lab_buf.h), and where the first buffer's num_buffers went. */
struct vh_src {
	const struct lab_buf *seg;
	uint32_t off;         /* in seg's data */
	uint32_t left;        /* bytes of the frame not yet written */
	uint8_t *nbuf_at[2];  /* num_buffers' two bytes in the peer's memory */
};

/* Write into a device-writable chain: with @p first, a virtio-net header
 * (num_buffers 1) first; then frame bytes from @p src until the chain or the
 * frame ends (MRG_RXBUF: the frame goes on in the next chain, without a
 * header). @return 0 (*@p written set; src->left says what is left), -EINVAL
 * (no room for the header), -EBADMSG (the queue broke). */
int vh_vq_fill(struct vh_vq *v, uint16_t head, bool first, struct vh_src *src,
	       uint32_t *written);
/* Set the num_buffers of the header vh_vq_fill wrote (first == true). */
void vh_vq_set_nbuf(const struct vh_src *src, uint16_t nbuf);
/* Write a virtio-net header (num_buffers 1) and @p len bytes of @p src into
 * a device-writable chain. @return 0 (*@p written set), -EMSGSIZE, -EBADMSG. */
int vh_vq_write(struct vh_vq *v, uint16_t head, const uint8_t *src, uint32_t len,
		uint32_t *written);
/* Return a chain on the used ring (shown to the peer by vh_vq_flush). */
static inline void vh_vq_used(struct vh_vq *v, uint16_t head, uint32_t len)
{
	v->used_ring[v->used_idx & v->mask] = (struct vring_used_elem){ head, len };
	v->used_idx++;
}

/* Publish the used index; call the peer if it wants interrupts. */
void vh_vq_flush(struct vh_vq *v);

/* -------------------------------------------------------------- messages */

struct vh_reply {
	bool send;
	uint32_t size;
	union {
		uint64_t u64;
		struct vhu_state state;
	} u;
};

/* Handle one request (header checked here too). The @p nfds descriptors in
 * @p fds are taken: kept or closed, whatever happens. @return 0 (with
 * @p reply filled in if one is due), or -errno after a log line naming the
 * request and what was wrong: the caller ends the connection. */
int vh_msg_handle(struct vh_dev *d, const struct vhu_hdr *h, const void *payload, int *fds,
		  unsigned int nfds, struct vh_reply *reply);
/* Forget the peer: stop every queue, close its descriptors, unmap. */
void vh_dev_reset(struct vh_dev *d);
/* Log the queues the data path stopped since the last call. */
void vh_dev_log_broken(struct vh_dev *d);

#endif /* LAB_VHOST_INTERNAL_H */
