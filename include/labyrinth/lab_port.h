/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * Ports: network devices opened from a device string, polled in bursts.
 *
 *     struct lab_port_conf conf;
 *     lab_port_conf_init(&conf);
 *     conf.pool = pool;
 *     struct lab_port *p = lab_port_open("pcap:rx=in.pcap", &conf);
 *     lab_port_start(p);
 *     n = lab_port_rx_burst(p, 0, bufs, 32);
 *
 * Device strings are "driver:key=value,key=value" (see docs/drivers.md):
 * pcap:rx=in.pcap,tx=out.pcap, af_packet:iface=veth0, af_xdp:iface=veth0,queue=0,
 * ring:name=a, null:size=64.
 *
 * Ownership (docs/quality.md): each RX queue owns an owner cache of its pool
 * and every buffer it returns is held by that owner; each TX queue owns one
 * too. To send a received buffer, hand it on first:
 *
 *     lab_port_handoff(lab_port_rxq_owner(in, 0), lab_port_txq_owner(out, 0), bufs, n);
 *     sent = lab_port_tx_burst(out, 0, bufs, n);
 *     lab_free_frames(lab_port_txq_owner(out, 0), bufs + sent, n - sent);
 *
 * A frame may be a chain of buffers (lab_buf.h); lab_free_frames() frees
 * all of it, and lab_port_handoff() hands all of it on.
 *
 * Ownership domains (docs/architecture.md): queues polled by one thread may
 * share one owner cache, the caller's (lab_port_conf's rxq_owner and
 * txq_owner). A buffer moving inside a domain (RX queue to TX queue, or into
 * a ring port's peer queue of the same domain) changes no owner, so the
 * hand-off above costs nothing per packet; the free at TX completion is
 * still checked against the domain's owner. Across domains it is a checked
 * lab_buf_transfer().
 *
 * A queue is polled by one thread at a time (the thread that owns it); the
 * burst calls make no system call except where the driver must (af_packet's
 * TX kick, pcap's file and socket I/O) and never block.
 */
#ifndef LAB_PORT_H
#define LAB_PORT_H

#include <stdbool.h>
#include <stdint.h>

#include <labyrinth/lab_pool.h>

#ifdef __cplusplus
extern "C" {
#endif

/** Per-queue counters. RX queues use the rx_* ones, TX queues the tx_* ones. */
struct lab_port_qstats {
	uint64_t packets;      /**< packets received / sent */
	uint64_t bytes;        /**< their bytes (frame length, no FCS) */
	uint64_t rx_nobuf;     /**< RX descriptors a refill left empty (pool short),
				*   each counted once however many polls it stays empty */
	uint64_t oversize;     /**< frames larger than a buffer's data room, dropped */
	uint64_t truncated;    /**< frames captured short (caplen < len) or empty, dropped */
	uint64_t ring_full;    /**< TX: packets the ring had no room for, given back
				*   to the caller (who may retry them) */
	uint64_t errors;       /**< anything else: I/O errors, malformed records */
	uint64_t chained;      /**< of packets: frames of more than one buffer (a chain,
				*   lab_buf.h), received or sent whole (virtio, vhost) */
};

/** Queue stats of a port, as lab_port_stats() copies them. */
struct lab_port_stats {
	uint16_t nb_rxq, nb_txq;
	struct lab_port_qstats rx[64]; /**< per RX queue */
	struct lab_port_qstats tx[64]; /**< per TX queue */
	struct lab_port_qstats rx_total, tx_total;
};

/** Link state. */
struct lab_port_link {
	bool up;             /**< the device carries traffic */
	bool rx_done;        /**< a finite source (a pcap file without looping) is exhausted */
	uint32_t speed_mbps; /**< 0 when unknown */
};

/** One queue of a port. The burst functions run on it; only its thread touches it. */
struct lab_port_queue {
	struct lab_port *port;
	void *drv;               /**< the driver's state for this queue */
	struct lab_cache *owner; /**< the queue's owner cache */
	struct lab_pool *pool;   /**< its pool */
	uint16_t id;             /**< queue index */
	uint16_t port_id;        /**< port index, written into received buffers */
	uint32_t ring_size;      /**< descriptors */
	/* RX descriptors of a copying driver: buffers posted and waiting for a
	 * frame, a stack of ring_avail of them (lab_port_driver.h). */
	struct lab_buf **ring;
	uint32_t ring_avail;
	uint32_t ring_short;     /**< empty descriptors already counted in rx_nobuf */
	struct lab_port_qstats st __attribute__((aligned(LAB_CACHE_LINE)));
} __attribute__((aligned(LAB_CACHE_LINE)));

typedef uint16_t (*lab_port_burst_fn)(struct lab_port_queue *q, struct lab_buf **bufs,
				      uint16_t n);

/** A port. Only the first fields are public, for the inline bursts. */
struct lab_port {
	lab_port_burst_fn rx_burst;
	lab_port_burst_fn tx_burst;
	struct lab_port_queue *rxq;
	struct lab_port_queue *txq;
	uint16_t nb_rxq;
	uint16_t nb_txq;
	uint16_t id;
};

/** Most queues a port may have in each direction. */
#define LAB_PORT_MAX_QUEUES 64

/** Port configuration. Grows only at the end; set @c size to sizeof. */
struct lab_port_conf {
	size_t size;
	struct lab_pool *pool;     /**< pool of every RX queue (and TX owner) */
	uint16_t nb_rxq;           /**< RX queues (0: 1) */
	uint16_t nb_txq;           /**< TX queues (0: 1) */
	uint32_t rx_ring_size;     /**< RX descriptors per queue (0: the driver's default) */
	uint32_t tx_ring_size;     /**< TX descriptors per queue (0: the driver's default) */
	/**
	 * Ownership domains: rxq_owner[q] (txq_owner[q]) is the owner cache RX
	 * (TX) queue q uses instead of one the port makes, or NULL (the array,
	 * or one entry) for the port's own. The caches are the caller's: of
	 * @c pool, made with lab_cache_create(), polled by one thread (every
	 * queue sharing a cache must be polled by that cache's thread), and
	 * destroyed by the caller after lab_port_close(). Give RX queue q and TX
	 * queue q one cache (the same array for both) for a queue-pair domain;
	 * give one thread's queues of several ports one cache for a thread
	 * domain (labfwd's workers). lab_port_stop() and lab_port_close() free
	 * posted and waiting buffers into the queues' caches: with a shared
	 * cache, call them from its thread or while that thread is not polling
	 * (as labfwd does, after joining its workers).
	 */
	struct lab_cache *const *rxq_owner;
	struct lab_cache *const *txq_owner;
};

/** Defaults: one RX and one TX queue, driver ring sizes, no pool. */
void lab_port_conf_init(struct lab_port_conf *c);

/**
 * Open a port from a device string and set up its queues (stopped).
 * Control path.
 *
 * @return the port, or NULL with lab_errno: EINVAL for a bad device string
 *         (the message names the key, the value and what is allowed), ENXIO
 *         for an unknown driver (the message lists the registered ones),
 *         ENOMEM, or the driver's error (ENODEV for a missing interface, the
 *         errno of a file that cannot be opened, EPERM without privileges).
 */
struct lab_port *lab_port_open(const char *devstr, const struct lab_port_conf *conf);

/** Start: post RX descriptors (a full refill) and start the device. @return 0 or -errno. */
int lab_port_start(struct lab_port *p);

/**
 * Stop: the device stops, posted RX descriptors go back to the pool.
 * Buffers the application holds stay its own. @return 0 or -errno.
 */
int lab_port_stop(struct lab_port *p);

/** Stop if started, close the device, free the queues' owner caches. @return 0 or -errno. */
int lab_port_close(struct lab_port *p);

/** Link state. @return 0 or -errno. */
int lab_port_link(struct lab_port *p, struct lab_port_link *link);

/** Copy the queue counters and their totals. */
void lab_port_stats(const struct lab_port *p, struct lab_port_stats *st);

/**
 * Call @p fn for every open port, newest first, until it returns non-zero.
 * Control path: ports cannot close meanwhile (lab_port_close waits), so @p fn
 * must not open or close ports. Its counters are a snapshot.
 *
 * @return the first non-zero value @p fn returned, or 0.
 */
int lab_port_foreach(int (*fn)(struct lab_port *p, void *arg), void *arg);

/** Zero the queue counters (quiet point). */
void lab_port_stats_reset(struct lab_port *p);

/** The device string the port was opened with. */
const char *lab_port_name(const struct lab_port *p);

/** The driver's name ("pcap", "ring", ...). */
const char *lab_port_driver(const struct lab_port *p);

/** The owner cache of RX queue @p q: the holder of every buffer it returns. */
static inline struct lab_cache *lab_port_rxq_owner(const struct lab_port *p, uint16_t q)
{
	return p->rxq[q].owner;
}

/** The owner cache of TX queue @p q: the holder of buffers passed to lab_port_tx_burst(). */
static inline struct lab_cache *lab_port_txq_owner(const struct lab_port *p, uint16_t q)
{
	return p->txq[q].owner;
}

/**
 * Hand @p n buffers received on a queue owned by @p from to the owner @p to of
 * the queue that sends them (the port's form of lab_buf_transfer()), every
 * segment of a chained frame with its head. When
 * both queues are one ownership domain (one owner cache) no owner changes:
 * nothing is done or checked per packet, and the free at TX completion is
 * where a buffer the domain does not hold is caught (a foreign or double
 * free). Across domains, a checked lab_buf_transfer(). Called as
 * lab_port_handoff(from, to, bufs, n).
 *
 * @return buffers handed on (@p n unless a transfer across domains refused
 *         some: findings, queued for the warden).
 */
/* Internal: lab_port_handoff() across domains for a burst with a chain in
 * it (every segment changes owner). @return frames whose head was handed on. */
unsigned int _lab_port_handoff_chains(struct lab_cache *from, struct lab_cache *to,
				      struct lab_buf *const *bufs, unsigned int n,
				      const void *site);

static inline unsigned int lab_port_handoff_at(struct lab_cache *from, struct lab_cache *to,
					       struct lab_buf *const *bufs, unsigned int n,
					       const void *site)
{
	uintptr_t any = 0;

	if (lab_likely(from == to))
		return n;
	for (unsigned int i = 0; i < n; i++)
		any |= (uintptr_t)bufs[i]->next;
	if (lab_unlikely(any != 0))
		return _lab_port_handoff_chains(from, to, bufs, n, site);
	return lab_buf_transfer_at(from, to, bufs, n, site);
}

#define lab_port_handoff(from, to, bufs, n) lab_port_handoff_at(from, to, bufs, n, LAB_SITE())

/**
 * Receive up to @p n packets from RX queue @p q. The buffers are held by the
 * queue's owner (lab_port_rxq_owner()); data at lab_buf_data(), length
 * data_len, port and queue set (the ring driver leaves port and queue
 * unwritten unless opened with stamp=1: docs/drivers.md). Then the queue's descriptors are refilled on
 * the atomic path; a short refill counts rx_nobuf and is retried on the next
 * poll.
 *
 * @return packets received (0..n).
 */
static inline uint16_t lab_port_rx_burst(struct lab_port *p, uint16_t q, struct lab_buf **bufs,
					 uint16_t n)
{
	return p->rx_burst(&p->rxq[q], bufs, n);
}

/**
 * Send up to @p n packets on TX queue @p q. The buffers must be held by the
 * queue's owner (lab_port_txq_owner()) and come from its pool. Sent buffers
 * belong to the port (freed or handed on); the rest (the count returned
 * onward) are still the caller's, counted as ring_full.
 *
 * @return packets taken (0..n).
 */
static inline uint16_t lab_port_tx_burst(struct lab_port *p, uint16_t q, struct lab_buf **bufs,
					 uint16_t n)
{
	struct lab_port_queue *tq = &p->txq[q];
	uint16_t sent = p->tx_burst(tq, bufs, n);

	if (lab_unlikely(sent != n))
		LAB_COUNT_ADD(tq->st.ring_full, (uint64_t)(n - sent));
	return sent;
}

#ifdef __cplusplus
}
#endif

#endif
