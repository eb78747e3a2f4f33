/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * af_xdp: XDP sockets (libxdp) whose UMEM is the pool's own memory. The pool
 * must be fixed (initial = max) so that its memory is one mapped range that
 * never changes (lab_pool_memory()); that range is registered as the UMEM in
 * unaligned-chunk mode, so every pool buffer is a chunk: its buf_addr is the
 * chunk address and the kernel writes a frame XDP_PACKET_HEADROOM bytes in.
 *
 * One XDP socket per device queue: port queue i binds device queue queue+i,
 * with an RX ring if i < nb_rxq and a TX ring if i < nb_txq. The RX side (rx
 * and fill rings) belongs to the RX queue's thread, the TX side (tx and
 * completion rings) to the TX queue's thread; they share no written state.
 *
 * Every buffer the kernel holds is recorded by index (posted[], per side), so
 * close gives back what the kernel never returned, and a descriptor naming
 * anything else is counted as an error and ignored.
 *
 * The driver's parts: the device string, open, close, link and kernel
 * counters (af_xdp.c); the UMEM and the sockets on it (umem.c); the RX and
 * TX bursts with the fill and completion rings (rxtx.c); the XDP program
 * (prog.c). This header is what they share.
 */
#ifndef AF_XDP_INTERNAL_H
#define AF_XDP_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>
#include <linux/if_xdp.h>
#include <net/if.h>

#include <xdp/xsk.h>

#include <labyrinth/lab_log.h>
#include <labyrinth/lab_port_driver.h>

LAB_LOG_DECLARE(port);

#ifndef XDP_PACKET_HEADROOM
#define XDP_PACKET_HEADROOM 256
#endif

/* The lab_buf header sits just before buf_addr (lab_pool.h). */
#define AFX_HDR ((uint64_t)sizeof(struct lab_buf))
#define AFX_MIN_CHUNK 2048u
#define AFX_MAX_CHUNK 4096u
#define AFX_BATCH 64u

struct afx_port;

/* RX side of one socket: the RX queue's thread only. */
struct afx_rx {
	struct xsk_ring_cons rx;
	struct xsk_ring_prod fill;
	struct lab_buf **posted; /* by buffer index: held by the kernel */
	uint32_t nposted, target;
} __attribute__((aligned(LAB_CACHE_LINE)));

/* TX side of one socket: the TX queue's thread only. */
struct afx_tx {
	struct xsk_ring_prod tx;
	struct xsk_ring_cons comp;
	struct lab_buf **posted; /* by buffer index: sent, not completed */
	uint32_t nposted;
} __attribute__((aligned(LAB_CACHE_LINE)));

struct afx_sock {
	struct afx_rx r;
	struct afx_tx t;
	struct afx_port *ap;
	struct xsk_socket *xsk;
	uint32_t queue_id;
	int fd;
	bool has_rx, has_tx;
	struct xdp_statistics base; /* kernel counters at the last stats reset */
};

struct afx_port {
	char iface[IF_NAMESIZE];
	struct xsk_umem *umem;
	uint8_t *base; /* UMEM start: the pool's memory */
	uint64_t len;
	uint32_t chunk;    /* chunk size registered */
	uint32_t capacity; /* buffer indexes 0..capacity-1 */
	bool zerocopy;
	int ctl_fd;        /* for link state ioctls */
	int ifindex;
	int map_fd, prog_fd, link_fd; /* XSKMAP, program, its bpf_link (or -1: legacy attach) */
	uint32_t xdp_flags;
	bool legacy_attached;
	struct afx_sock *sock;
	uint16_t nsock;
};

static inline uint64_t umem_off(const struct afx_port *ap, const void *p)
{
	return (uint64_t)((const uint8_t *)p - ap->base);
}

/*
 * The buffer whose chunk (buf_addr) is at UMEM offset @p chunk, if it is one
 * recorded in @p posted; the record is cleared. NULL for anything else.
 */
static inline struct lab_buf *posted_take(const struct afx_port *ap, struct lab_buf **posted,
					  uint64_t chunk)
{
	struct lab_buf *b;
	uint32_t idx;

	if (lab_unlikely(chunk < AFX_HDR || chunk + ap->chunk > ap->len))
		return NULL;
	b = (struct lab_buf *)(ap->base + chunk - AFX_HDR);
	idx = b->idx;
	if (lab_unlikely(idx >= ap->capacity || posted[idx] != b))
		return NULL;
	posted[idx] = NULL;
	return b;
}

/* umem.c: the pool's memory as the UMEM, one socket per device queue, and
 * giving back what a closed socket's kernel side held. */
int afx_umem_open(struct lab_port *p, struct afx_port *ap, const char *devstr, uint32_t fill,
		  uint32_t comp);
int afx_sock_open(struct lab_port *p, struct afx_port *ap, uint16_t i, uint64_t queue,
		  uint32_t xdp_flags, int bmode, const char *devstr);
void afx_sock_release_bufs(struct lab_port *p, uint16_t i, struct afx_sock *s);

/* rxtx.c: the bursts (the ops table's), and the fill and completion rings'
 * upkeep, which open and close also use. */
uint16_t afx_rx(struct lab_port_queue *q, struct lab_buf **bufs, uint16_t n);
uint16_t afx_tx(struct lab_port_queue *q, struct lab_buf **bufs, uint16_t n);
void afx_rx_refill(struct lab_port_queue *q, struct afx_sock *s);
void afx_tx_reap(struct lab_port_queue *q, struct afx_sock *s);

/* prog.c: the XDP program that redirects each device queue to its socket. */
int afx_prog_attach(struct afx_port *ap, uint32_t nq, const char *devstr);
void afx_prog_detach(struct afx_port *ap);

#endif /* AF_XDP_INTERNAL_H */
