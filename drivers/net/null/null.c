/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * null: RX hands out posted buffers as packets of a fixed size (the data is
 * not written, as DPDK's net_null without copy), TX frees what it is given.
 * What is left is the framework's own cost per packet: descriptor take,
 * refill on the atomic path, the free.
 */
#include <errno.h>
#include <stdlib.h>

#include <labyrinth/lab_log.h>
#include <labyrinth/lab_port_driver.h>

LAB_LOG_DECLARE(port);

struct null_port {
	uint32_t size;
};

static const struct lab_devargs_key null_keys[] = {
	{ "size", "frame length of received packets, 14..data room (default 64)" },
	{ NULL, NULL },
};

static int null_open(struct lab_port *p, const struct lab_devargs *args)
{
	uint32_t room = lab_pool_data_room(p->rxq[0].pool);
	struct null_port *np;
	uint64_t size;
	int rc;

	rc = lab_devargs_u64(args, "size", 64, 14, room, &size);
	if (rc < 0)
		return rc;
	np = calloc(1, sizeof(*np));
	if (np == NULL)
		return -ENOMEM;
	np->size = (uint32_t)size;
	for (uint16_t i = 0; i < p->nb_rxq; i++)
		p->rxq[i].drv = np;
	for (uint16_t i = 0; i < p->nb_txq; i++)
		p->txq[i].drv = np;
	lab_port_set_priv(p, np);
	return 0;
}

static void null_close(struct lab_port *p)
{
	free(lab_port_priv(p));
}

static int null_link(struct lab_port *p, struct lab_port_link *link)
{
	(void)p;
	link->up = true;
	return 0;
}

static uint16_t null_rx(struct lab_port_queue *q, struct lab_buf **bufs, uint16_t n)
{
	const struct null_port *np = q->drv;
	uint16_t got = lab_rxq_take(q, bufs, n);

	for (uint16_t i = 0; i < got; i++)
		lab_rxq_fill(q, bufs[i], np->size);
	return lab_rxq_done(q, bufs, got, got, (uint64_t)got * np->size);
}

static uint16_t null_tx(struct lab_port_queue *q, struct lab_buf **bufs, uint16_t n)
{
	uint64_t bytes = 0;
	uintptr_t any = 0;

	/* A chain's bytes beyond its head are not counted: a sink needs no
	 * walk; the free below frees every segment. */
	for (uint16_t i = 0; i < n; i++) {
		bytes += bufs[i]->data_len;
		any |= (uintptr_t)bufs[i]->next;
	}
	/* A buffer the queue does not hold is refused (a finding) and stays the
	 * caller's problem; it was still "sent". */
	lab_free_frames_any(q->owner, bufs, n, any);
	LAB_COUNT_ADD(q->st.packets, n);
	LAB_COUNT_ADD(q->st.bytes, bytes);
	return n;
}

static const struct lab_port_ops null_ops = {
	.name = "null",
	.keys = null_keys,
	.open = null_open,
	.close = null_close,
	.start = lab_port_nop,
	.stop = lab_port_nop,
	.link = null_link,
	.rx_burst = null_rx,
	.tx_burst = null_tx,
	.rx_ring_default = 512,
	.tx_ring_default = 512,
};

LAB_PORT_DRIVER_REGISTER(null_ops);
