/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef PORT_HELPERS_H
#define PORT_HELPERS_H

#include <pcap/pcap.h>
#include <stdlib.h>
#include <string.h>

#include <labyrinth/lab_port.h>

#include "pool_helpers.h"

/* A pool for ports: 4 KiB pages, @p cell bytes per cell, fixed size. */
static inline struct lab_pool *port_pool(uint32_t cell, uint32_t n)
{
	struct lab_pool_opts o;

	small_pool_opts(&o, n, n, 8, 16, 32, 8);
	o.cell_size = cell;
	return lab_pool_create(&o);
}

static inline struct lab_port *port_open(const char *dev, struct lab_pool *p, uint16_t nrx,
					 uint16_t ntx)
{
	struct lab_port_conf c;

	lab_port_conf_init(&c);
	c.pool = p;
	c.nb_rxq = nrx;
	c.nb_txq = ntx;
	return lab_port_open(dev, &c);
}

/* As port_open(), with every RX and TX queue in the ownership domain of
 * owner cache @p dom (the caller's: destroy it after closing the port). */
static inline struct lab_port *port_open_dom(const char *dev, struct lab_pool *p, uint16_t nrx,
					     uint16_t ntx, struct lab_cache *dom)
{
	struct lab_cache *owners[LAB_PORT_MAX_QUEUES];
	struct lab_port_conf c;

	for (int i = 0; i < LAB_PORT_MAX_QUEUES; i++)
		owners[i] = dom;
	lab_port_conf_init(&c);
	c.pool = p;
	c.nb_rxq = nrx;
	c.nb_txq = ntx;
	c.rxq_owner = owners;
	c.txq_owner = owners;
	return lab_port_open(dev, &c);
}

/* The pool is whole: nothing in flight, and it can be destroyed. */
static inline void assert_pool_whole(struct lab_pool *p)
{
	struct lab_pool_stats st;

	lab_pool_quality_check(p);
	lab_pool_stats(p, &st);
	assert_accounting(p);
	CU_ASSERT_EQUAL(st.in_flight, 0);
	CU_ASSERT_EQUAL(lab_pool_destroy(p), 0);
}

/* Every frame of a capture file, in order. */
struct frames {
	unsigned int n;
	uint32_t len[4096];
	unsigned char *data[4096];
};

static inline int frames_read(const char *file, struct frames *f)
{
	char eb[PCAP_ERRBUF_SIZE];
	pcap_t *pc = pcap_open_offline(file, eb);
	struct pcap_pkthdr *h;
	const u_char *d;

	f->n = 0;
	if (pc == NULL) {
		fprintf(stderr, "%s: %s\n", file, eb);
		return -1;
	}
	while (f->n < 4096 && pcap_next_ex(pc, &h, &d) == 1) {
		f->len[f->n] = h->caplen;
		f->data[f->n] = malloc(h->caplen);
		memcpy(f->data[f->n], d, h->caplen);
		f->n++;
	}
	pcap_close(pc);
	return 0;
}

static inline void frames_free(struct frames *f)
{
	for (unsigned int i = 0; i < f->n; i++)
		free(f->data[i]);
	f->n = 0;
}

/* Same frames, same order, byte for byte. @return the first index that
 * differs, or -1. */
static inline int frames_diff(const struct frames *a, const struct frames *b)
{
	unsigned int n = a->n < b->n ? a->n : b->n;

	for (unsigned int i = 0; i < n; i++)
		if (a->len[i] != b->len[i] || memcmp(a->data[i], b->data[i], a->len[i]) != 0)
			return (int)i;
	return a->n == b->n ? -1 : (int)n;
}

#endif
