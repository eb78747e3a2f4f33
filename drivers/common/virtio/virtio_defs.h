/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * What every user of vhost-user here shares: the messages' numbers and wire
 * layout (QEMU's docs/interop/vhost-user.rst), the feature bits, and the
 * split virtqueue's structures (virtio 1.1, 2.6). drivers/net/virtio_user
 * and drivers/block/virtio_blk are driver (front-end) sides, drivers/net/vhost
 * the device (back-end) side of virtio-net; all include this one header.
 */
#ifndef LAB_VIRTIO_DEFS_H
#define LAB_VIRTIO_DEFS_H

#include <stdbool.h>
#include <stdint.h>

/* Requests (front-end to back-end). */
enum vhu_request {
	VHU_GET_FEATURES = 1,
	VHU_SET_FEATURES = 2,
	VHU_SET_OWNER = 3,
	VHU_RESET_OWNER = 4,
	VHU_SET_MEM_TABLE = 5,
	VHU_SET_VRING_NUM = 8,
	VHU_SET_VRING_ADDR = 9,
	VHU_SET_VRING_BASE = 10,
	VHU_GET_VRING_BASE = 11,
	VHU_SET_VRING_KICK = 12,
	VHU_SET_VRING_CALL = 13,
	VHU_SET_VRING_ERR = 14,
	VHU_GET_PROTOCOL_FEATURES = 15,
	VHU_SET_PROTOCOL_FEATURES = 16,
	VHU_GET_QUEUE_NUM = 17,
	VHU_SET_VRING_ENABLE = 18,
	VHU_GET_CONFIG = 24,
	VHU_SET_CONFIG = 25,
};

/* The request's name, for messages ("?" for a number not listed above). */
const char *vhu_req_name(enum vhu_request r);

/* Header flags: the version in the low two bits, then reply and need-reply. */
#define VHU_VERSION 0x1u
#define VHU_VERSION_MASK 0x3u
#define VHU_REPLY 0x4u
#define VHU_NEED_REPLY 0x8u

/* SET_VRING_KICK/CALL/ERR: the ring index in the low byte; this bit set
 * means no descriptor comes with the message (the ring is polled). */
#define VHU_VRING_IDX_MASK 0xffu
#define VHU_VRING_NOFD 0x100u

/* Feature bits (virtio 1.1, 5.1.3; vhost-user). */
#define VIRTIO_NET_F_MRG_RXBUF 15
#define VIRTIO_NET_F_MQ 22
#define VIRTIO_RING_F_INDIRECT_DESC 28
#define VIRTIO_RING_F_EVENT_IDX 29
#define VHOST_USER_F_PROTOCOL_FEATURES 30
#define VIRTIO_F_VERSION_1 32

#define VHU_PROTOCOL_F_MQ 0
#define VHU_PROTOCOL_F_CONFIG 9

/* The most regions a mem table carries without CONFIGURE_MEM_SLOTS. */
#define VHU_MAX_REGIONS 8

struct vhu_hdr {
	uint32_t request;
	uint32_t flags;
	uint32_t size;
} __attribute__((packed));

struct vhu_state {
	uint32_t index;
	uint32_t num;
};

struct vhu_addr {
	uint32_t index;
	uint32_t flags;
	uint64_t desc, used, avail, log;
};

struct vhu_region {
	uint64_t guest_addr, size, user_addr, mmap_offset;
};

struct vhu_mem {
	uint32_t nregions;
	uint32_t padding;
	struct vhu_region r[VHU_MAX_REGIONS];
};

/* GET_CONFIG / SET_CONFIG: a window of the device's config space. The
 * message carries the header and @p size bytes of region (QEMU sends and
 * expects exactly that much). */
#define VHU_CONFIG_MAX 256u
struct vhu_config {
	uint32_t offset;
	uint32_t size;
	uint32_t flags;
	uint8_t region[VHU_CONFIG_MAX];
};
#define VHU_CONFIG_HDR 12u

/* The virtio-net header: struct virtio_net_hdr_mrg_rxbuf, which VERSION_1
 * always has (12 bytes), and where its num_buffers field sits. */
#define VNET_HDR_LEN 12u
#define VNET_NUM_BUFFERS 10u

#define VRING_DESC_F_NEXT 1u
#define VRING_DESC_F_WRITE 2u
#define VRING_DESC_F_INDIRECT 4u
#define VRING_USED_F_NO_NOTIFY 1u
#define VRING_AVAIL_F_NO_INTERRUPT 1u

struct vring_desc {
	uint64_t addr;
	uint32_t len;
	uint16_t flags;
	uint16_t next;
};

struct vring_used_elem {
	uint32_t id;
	uint32_t len;
};

/* virtio 1.1, 2.6.7.2: does moving the index from @p old to @p new_idx pass
 * the peer's @p event? */
static inline bool need_event(uint16_t event, uint16_t new_idx, uint16_t old)
{
	return (uint16_t)(new_idx - event - 1) < (uint16_t)(new_idx - old);
}

#endif /* LAB_VIRTIO_DEFS_H */
