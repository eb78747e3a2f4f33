/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * virtio_blk: what the control side (virtio_blk.c), the data path
 * (vblk_io.c) and the fuzz target (tests/fuzz/fuzz_blk_req.c, through
 * vblk_req_check) share. The block device's wire format is virtio 1.1, 5.2.
 */
#ifndef LAB_VBLK_INTERNAL_H
#define LAB_VBLK_INTERNAL_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include <labyrinth/lab_arena.h>
#include <labyrinth/lab_blk_driver.h>

#include "../../common/virtio/virtqueue.h"

/* Feature bits (virtio 1.1, 5.2.3). */
#define VIRTIO_BLK_F_SIZE_MAX 1
#define VIRTIO_BLK_F_SEG_MAX 2
#define VIRTIO_BLK_F_RO 5
#define VIRTIO_BLK_F_BLK_SIZE 6
#define VIRTIO_BLK_F_FLUSH 9
#define VIRTIO_BLK_F_MQ 12
#define VIRTIO_BLK_F_DISCARD 13
#define VIRTIO_BLK_F_WRITE_ZEROES 14

/* Request types and status values (5.2.6). */
#define VIRTIO_BLK_T_IN 0u
#define VIRTIO_BLK_T_OUT 1u
#define VIRTIO_BLK_T_FLUSH 4u
#define VIRTIO_BLK_T_DISCARD 11u
#define VIRTIO_BLK_T_WRITE_ZEROES 13u
#define VIRTIO_BLK_S_OK 0u
#define VIRTIO_BLK_S_IOERR 1u
#define VIRTIO_BLK_S_UNSUPP 2u

/* struct virtio_blk_config (5.2.4), the fields read here, little-endian on
 * the wire (as is this machine: virtio 1.x is little-endian). */
struct vblk_config {
	uint64_t capacity;       /* 512-byte sectors */
	uint32_t size_max;       /* SIZE_MAX: bytes in one data descriptor */
	uint32_t seg_max;        /* SEG_MAX: data descriptors in one request */
	uint16_t cylinders;
	uint8_t heads, sectors;
	uint32_t blk_size;       /* BLK_SIZE: the logical block */
	uint8_t physical_block_exp, alignment_offset;
	uint16_t min_io_size;
	uint32_t opt_io_size;
	uint8_t writeback, unused0;
	uint16_t num_queues;     /* MQ */
	uint32_t max_discard_sectors, max_discard_seg, discard_sector_alignment;
	uint32_t max_write_zeroes_sectors, max_write_zeroes_seg;
	uint8_t write_zeroes_may_unmap, unused1[3];
} __attribute__((packed));
_Static_assert(sizeof(struct vblk_config) == 60, "virtio_blk_config is 60 bytes");

struct vblk_outhdr {
	uint32_t type;
	uint32_t ioprio;
	uint64_t sector;
};

/* DISCARD / WRITE_ZEROES carry one of these as their data. */
struct vblk_range {
	uint64_t sector;
	uint32_t num_sectors;
	uint32_t flags;
};

/* Each request's header, range and status in a pool buffer: one 64-byte
 * slot per request of the queue pair, so every byte the device reads or
 * writes besides the data is pool memory it already maps. */
#define VBLK_SLOT 64u
struct vblk_slot {
	struct vblk_outhdr hdr;
	struct vblk_range range;
	uint8_t status;
};
_Static_assert(sizeof(struct vblk_slot) <= VBLK_SLOT, "a request's slot fits 64 bytes");

/* What a request may be, past lib/blk's checks: the device's own limits. */
struct vblk_limits {
	uint32_t seg_max;            /* data descriptors per request */
	uint32_t seg_size;           /* bytes per data descriptor */
	uint32_t max_discard_sectors;
	uint32_t max_write_zeroes_sectors;
	const struct lab_mem_region *regions; /* the memory the device maps */
	unsigned int nregions;
};

/*
 * Check @p req against @p l. @return the number of data descriptors it takes
 * (0 for flush, 1 for a range), or -EINVAL with @p why (of @p whylen bytes)
 * saying what was wrong, naming the values: data outside the memory the
 * device maps, more segments than seg_max, a range over the device's
 * discard or write-zeroes limit.
 */
int vblk_req_check(const struct vblk_limits *l, const struct lab_blk_req *req, char *why,
		   size_t whylen);

struct vblk_qp;

struct vblk_dev {
	struct vhu_conn conn;
	char name[64];
	uint64_t features;
	struct vblk_config cfg;
	struct vblk_limits lim;
	unsigned int nq;             /* virtqueues we may use (queues=, at most the device's) */
	uint16_t ring_size;
	bool reconnect;
	bool ro;
	struct lab_shm *shm;         /* every virtqueue's rings */
	struct vblk_qp **qps;        /* per virtqueue: its queue pair, or NULL */
	struct lab_pool *pool;       /* the pool the device maps (NULL: none yet) */
	struct lab_mem_region regions[VHU_MAX_REGIONS]; /* the pool's, then the rings' */
	unsigned int nregions;
	bool mem_sent;               /* the device has the mem table */
	pthread_mutex_t lock;        /* conn, qps, pool: control path only */
	_Atomic uint32_t gen;        /* odd: the back-end is gone */
	_Atomic bool draining;       /* it hung up: new requests are refused */
	int peer_pidfd;              /* the back-end process (SO_PEERCRED), or -1 */
	int peer_pid;
	_Atomic bool stop;
	bool thread_on;
	pthread_t thread;
	uint64_t attaches;
};

struct vblk_qp {
	struct vq vq;
	struct vblk_dev *vd;
	struct lab_blk_qpair *qp;
	uint16_t published;          /* avail index the device has been told of */
	struct lab_cache *hdr_cache; /* their owner: a cache of one, so taking them moves
				      * no batch out of the pool's shared ring */
	struct lab_buf **hdr_bufs;   /* the slots' buffers, taken from the pool */
	unsigned int nhdr;
	struct vblk_slot **slot;     /* per request (index in qp->reqs): its slot */
	struct lab_blk_req **head;   /* per descriptor: the request whose chain starts there */
	uint64_t bad_used;           /* used entries that named no posted chain */
};

/* Data path (vblk_io.c). */
int vblk_submit(struct lab_blk_qpair *qp, struct lab_blk_req *req);
unsigned int vblk_poll(struct lab_blk_qpair *qp, unsigned int max);
/* Fail every request the rings hold with -EIO (the back-end is gone) and
 * reset them; the queue pair's own thread. */
void vblk_fail_all(struct vblk_qp *q);

#endif /* LAB_VBLK_INTERNAL_H */
