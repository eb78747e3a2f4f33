/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * The driver side of ports: a driver is a const ops table and one
 * registration line (as DPDK's mempool drivers are):
 *
 *     static const struct lab_port_ops null_ops = { .name = "null", ... };
 *     LAB_PORT_DRIVER_REGISTER(null_ops);
 *
 * The registry (lab_driver.h, shared with block drivers) refuses a table
 * missing a required callback.
 */
#ifndef LAB_PORT_DRIVER_H
#define LAB_PORT_DRIVER_H

#include <net/if.h>

#include <labyrinth/lab_devargs.h>
#include <labyrinth/lab_driver.h>
#include <labyrinth/lab_port.h>

#ifdef __cplusplus
extern "C" {
#endif

/** Driver callbacks. Required: name, keys, open, close, start, stop, link, rx_burst, tx_burst. */
struct lab_port_ops {
	const char *name;
	const struct lab_devargs_key *keys; /**< accepted keys, ending with { NULL, NULL } */
	/** Parse @p args, check the queue counts in p->nb_rxq/nb_txq (and the
	 * ring sizes in each queue), set up the device and each queue's drv.
	 * The queues' owner caches and RX descriptor arrays exist already.
	 * @return 0 or -errno (with a log line saying what and why); then
	 * close is called, so it must cope with a half-opened port. */
	int (*open)(struct lab_port *p, const struct lab_devargs *args);
	/** Release what open made. RX descriptors are drained by the framework. */
	void (*close)(struct lab_port *p);
	int (*start)(struct lab_port *p);
	int (*stop)(struct lab_port *p);
	int (*link)(struct lab_port *p, struct lab_port_link *link);
	lab_port_burst_fn rx_burst;
	lab_port_burst_fn tx_burst;
	/** RX descriptors per queue when the configuration says 0; 0 means the
	 * driver keeps no descriptors (it receives buffers it did not post, as
	 * the ring driver does). */
	uint32_t rx_ring_default;
	uint32_t tx_ring_default;
	/** LAB_PORT_F_* */
	uint32_t flags;
	/** Optional (control path): add counters the device keeps itself (drops
	 * a kernel counts) into the per-queue figures of @p st; with @p reset
	 * (and @p st NULL), remember the current values as zero instead. */
	void (*xstats)(const struct lab_port *p, struct lab_port_stats *st, bool reset);
};

/** The driver keeps its RX descriptors itself (a kernel fill ring): the
 * framework sets each RX queue's ring_size but allocates no ring array and
 * posts nothing at start; the driver posts in its start and counts rx_nobuf. */
#define LAB_PORT_F_RX_OWN_DESC (1u << 0)

/** A start or stop for drivers with nothing to do then. @return 0. */
int lab_port_nop(struct lab_port *p);

/**
 * The "iface" key of drivers on a network interface: copied into @p name.
 *
 * @return the interface index (> 0); -EINVAL if the key is missing or the
 *         name too long, -ENODEV if no such interface is in this network
 *         namespace (each with a message naming the device string).
 */
int lab_devargs_iface(const struct lab_devargs *a, char name[IF_NAMESIZE]);

/** Link state of interface @p iface (up and running), asked through any
 * socket @p fd. @return 0 or -errno. */
int lab_iface_link(int fd, const char *iface, struct lab_port_link *link);

/**
 * Register a driver in the port registry (lab_driver.h).
 * @return 0, -EINVAL (incomplete table: the missing callback is named in the
 *         log), -EEXIST (the name is taken), -ENOSPC (the registry is full).
 */
int lab_port_driver_register(const struct lab_port_ops *ops);

/** Register @p ops when the program starts. */
#define LAB_PORT_DRIVER_REGISTER(ops) LAB_DRIVER_REGISTER(lab_port_driver_register, ops)

/** The registry of port drivers: lookups and the list of names. */
const struct lab_driver_registry *lab_port_drivers(void);

/** The driver's private state of the port (set by open; freed by close). */
void *lab_port_priv(const struct lab_port *p);
void lab_port_set_priv(struct lab_port *p, void *priv);

/*
 * RX descriptors of a copying driver (pcap, af_packet, null): the queue's
 * ring holds ring_avail posted buffers; a frame takes the top one; after the
 * burst the taken ones are replaced on the atomic path.
 */

/**
 * After a refill, @p empty descriptors are left without a buffer: count in
 * rx_nobuf those not counted before, so each empty descriptor is counted once
 * however many polls it stays empty. For drivers that post buffers themselves
 * (LAB_PORT_F_RX_OWN_DESC) as lab_rxq_refill() does for the rest.
 */
static inline void lab_rxq_set_short(struct lab_port_queue *q, uint32_t empty)
{
	if (lab_unlikely(empty > q->ring_short))
		LAB_COUNT_ADD(q->st.rx_nobuf, empty - q->ring_short);
	q->ring_short = empty;
}

static inline void lab_rxq_refill(struct lab_port_queue *q);

/** Take @p n posted buffers (fewer if fewer are posted). Descriptors a
 * previous refill left empty are retried first. @return how many. */
static inline uint16_t lab_rxq_take(struct lab_port_queue *q, struct lab_buf **bufs, uint16_t n)
{
	if (lab_unlikely(q->ring_short != 0))
		lab_rxq_refill(q);
	if (n > q->ring_avail)
		n = (uint16_t)q->ring_avail;
	q->ring_avail -= n;
	lab_ptr_copy(bufs, &q->ring[q->ring_avail], n);
	return n;
}

/** Put back buffers taken and not filled (the top of the stack again). */
static inline void lab_rxq_untake(struct lab_port_queue *q, struct lab_buf *const *bufs,
				  uint16_t n)
{
	lab_ptr_copy(&q->ring[q->ring_avail], bufs, n);
	q->ring_avail += n;
}

/**
 * Refill the empty descriptors with lab_alloc_bulk on the atomic path. Never
 * waits: what the pool cannot give now is counted in rx_nobuf and tried again
 * on the next poll.
 */
static inline void lab_rxq_refill(struct lab_port_queue *q)
{
	uint32_t want = q->ring_size - q->ring_avail, got;

	if (want == 0)
		return;
	got = lab_alloc_bulk(q->pool, q->owner, &q->ring[q->ring_avail], want, LAB_ALLOC_ATOMIC);
	q->ring_avail += got;
	lab_rxq_set_short(q, want - got);
}

/**
 * End an RX burst of a copying driver: of the @p got buffers taken, the first
 * @p k were filled (@p bytes in all); the rest go back on the ring, the
 * counters move, the taken descriptors are refilled. @return k.
 */
static inline uint16_t lab_rxq_done(struct lab_port_queue *q, struct lab_buf **bufs, uint16_t got,
				    uint16_t k, uint64_t bytes)
{
	lab_rxq_untake(q, bufs + k, got - k);
	LAB_COUNT_ADD(q->st.packets, k);
	LAB_COUNT_ADD(q->st.bytes, bytes);
	lab_rxq_refill(q);
	return k;
}

/** Finish a received buffer: reset, set length, port and queue. */
static inline void lab_rxq_fill(struct lab_port_queue *q, struct lab_buf *b, uint32_t len)
{
	b->data_off = q->owner->headroom;
	b->data_len = len;
	b->next = NULL;
	b->port = q->port_id;
	b->queue = q->id;
}

/** Bytes a received frame may have: the data room after the headroom. */
static inline uint32_t lab_rxq_room(const struct lab_port_queue *q, const struct lab_buf *b)
{
	return b->buf_len - q->owner->headroom;
}

#ifdef __cplusplus
}
#endif

#endif
