/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Suite 'port': device strings, the driver registry, RX refill on the atomic
 * path, and the null, ring and pcap drivers (replay round trip byte for byte,
 * hostile captures). Every test ends with the pool whole: nothing in flight.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <labyrinth/lab_port_driver.h>

#include "port_helpers.h"

static char dir[256];

static uint64_t findings(struct lab_pool *p)
{
	struct lab_pool_stats st;
	uint64_t n = 0;

	lab_pool_report_findings(p);
	lab_pool_stats(p, &st);
	for (int k = 0; k < LAB_FIND_KINDS; k++)
		n += st.findings[k];
	return n;
}

/* Open @p dev expecting failure with @p err and a message holding each of
 * the NULL-terminated @p words. */
static void expect_open_error(struct lab_pool *p, const char *dev, int err, const char *words[])
{
	struct lab_port *port;

	lab_test_log_capture();
	port = port_open(dev, p, 1, 1);
	CU_ASSERT_PTR_NULL(port);
	CU_ASSERT_EQUAL(lab_errno, err);
	for (int i = 0; words[i] != NULL; i++)
		LAB_TEST_HAS(lab_test_log_text(), words[i]);
	lab_test_log_release();
	if (port != NULL)
		lab_port_close(port);
}

static void test_device_string_errors(void)
{
	struct lab_pool *p = port_pool(2048 - 64, 1024);

	CU_ASSERT_PTR_NOT_NULL_FATAL(p);
	expect_open_error(p, "", EINVAL, (const char *[]){ "empty device string", "null", NULL });
	expect_open_error(p, "nosuch:x=1", ENXIO,
			  (const char *[]){ "unknown driver 'nosuch'; registered: null, ring, pcap",
					    NULL });
	expect_open_error(p, "null:colour=red", EINVAL,
			  (const char *[]){ "unknown key 'colour'", "allowed: size", NULL });
	expect_open_error(p, "null:size", EINVAL, (const char *[]){ "'size'", "KEY=VALUE", NULL });
	expect_open_error(p, "null:size=", EINVAL, (const char *[]){ "'size'", "empty", NULL });
	expect_open_error(p, "null:size=64,size=65", EINVAL,
			  (const char *[]){ "'size'", "twice", NULL });
	expect_open_error(p, "null:size=lots", EINVAL,
			  (const char *[]){ "'size' = 'lots'", "14 to", NULL });
	expect_open_error(p, "null:size=100000", EINVAL,
			  (const char *[]){ "'size' = '100000'", NULL });
	expect_open_error(p, "pcap:rx=/nonexistent/x.pcap", ENOENT,
			  (const char *[]){ "/nonexistent/x.pcap", NULL });
	expect_open_error(p, "pcap:tstamp=ps", EINVAL,
			  (const char *[]){ "'tstamp' = 'ps'", "us, ns", NULL });
	expect_open_error(p, "ring:size=64", EINVAL, (const char *[]){ "'name'", NULL });
	expect_open_error(p, "ring:name=x,size=100", EINVAL,
			  (const char *[]){ "'size' = '100'", "power of two", NULL });
	assert_pool_whole(p);
}

static uint16_t dummy_burst(struct lab_port_queue *q, struct lab_buf **b, uint16_t n)
{
	(void)q;
	(void)b;
	return n;
}

static int dummy_open(struct lab_port *p, const struct lab_devargs *a)
{
	(void)p;
	(void)a;
	return 0;
}

static void test_registry_rejects_incomplete(void)
{
	static const struct lab_devargs_key keys[] = { { NULL, NULL } };
	static const struct lab_port_ops no_tx = {
		.name = "no_tx", .keys = keys, .open = dummy_open, .rx_burst = dummy_burst,
	};
	static const struct lab_port_ops dup = {
		.name = "null", .keys = keys, .open = dummy_open, .close = (void *)dummy_open,
		.start = (void *)dummy_open, .stop = (void *)dummy_open,
		.link = (void *)dummy_open, .rx_burst = dummy_burst, .tx_burst = dummy_burst,
	};

	lab_test_log_capture();
	CU_ASSERT_EQUAL(lab_port_driver_register(&no_tx), -EINVAL);
	CU_ASSERT_PTR_NOT_NULL(strstr(lab_test_log_text(), "'no_tx'"));
	CU_ASSERT_PTR_NOT_NULL(strstr(lab_test_log_text(), "has no close"));
	CU_ASSERT_EQUAL(lab_port_driver_register(&dup), -EEXIST);
	CU_ASSERT_EQUAL(lab_port_driver_register(NULL), -EINVAL);
	lab_test_log_release();
}

static void test_null_rx_tx(void)
{
	struct lab_pool *p = port_pool(2048 - 64, 1024);
	struct lab_port *port = port_open("null:size=128", p, 1, 1);
	struct lab_port_stats st;
	struct lab_port_link link;
	struct lab_buf *b[32];
	uint16_t n;

	CU_ASSERT_PTR_NOT_NULL_FATAL(port);
	CU_ASSERT_STRING_EQUAL(lab_port_driver(port), "null");
	CU_ASSERT_EQUAL(lab_port_start(port), 0);
	CU_ASSERT_EQUAL(lab_port_link(port, &link), 0);
	CU_ASSERT_TRUE(link.up);
	for (int r = 0; r < 100; r++) {
		n = lab_port_rx_burst(port, 0, b, 32);
		CU_ASSERT_EQUAL_FATAL(n, 32);
		for (int i = 0; i < n; i++) {
			CU_ASSERT_EQUAL(b[i]->data_len, 128);
			CU_ASSERT_EQUAL(b[i]->port, port->id);
			CU_ASSERT_TRUE(lab_buf_held_by(lab_port_rxq_owner(port, 0), b[i]));
		}
		CU_ASSERT_EQUAL(lab_buf_transfer(lab_port_rxq_owner(port, 0),
						 lab_port_txq_owner(port, 0), b, n), n);
		CU_ASSERT_EQUAL(lab_port_tx_burst(port, 0, b, n), n);
	}
	lab_port_stats(port, &st);
	CU_ASSERT_EQUAL(st.rx[0].packets, 3200);
	CU_ASSERT_EQUAL(st.rx[0].bytes, 3200 * 128);
	CU_ASSERT_EQUAL(st.tx[0].packets, 3200);
	CU_ASSERT_EQUAL(st.rx_total.rx_nobuf, 0);
	CU_ASSERT_EQUAL(lab_port_close(port), 0);
	CU_ASSERT_EQUAL(findings(p), 0);
	assert_pool_whole(p);
}

/* A short refill leaves descriptors empty, counts rx_nobuf, and the next poll
 * after buffers come back fills them again. */
static void test_rx_refill_short_then_recovers(void)
{
	struct lab_pool *p = port_pool(2048 - 64, 1024);
	struct lab_port *port = port_open("null", p, 1, 1);
	struct lab_cache *hog = lab_cache_create(p, "hog", 256);
	struct lab_buf **held = calloc(1024, sizeof(*held)), *b[32], *rx[15 * 32];
	struct lab_port_stats st;
	unsigned int nheld = 0, got;
	uint16_t n;

	CU_ASSERT_PTR_NOT_NULL_FATAL(port);
	CU_ASSERT_EQUAL(lab_port_start(port), 0);
	CU_ASSERT_EQUAL(port->rxq[0].ring_avail, 512);
	/* Take everything else the atomic path would give. */
	while ((got = lab_alloc_bulk(p, hog, held + nheld, 32, LAB_ALLOC_ATOMIC)) != 0)
		nheld += got;
	n = lab_port_rx_burst(port, 0, b, 32);
	CU_ASSERT_EQUAL(n, 32);
	lab_port_stats(port, &st);
	CU_ASSERT_EQUAL(st.rx[0].rx_nobuf, 32);
	CU_ASSERT_EQUAL(port->rxq[0].ring_avail, 480);
	/* Polls go on and never block; the descriptors drain to zero, then a
	 * poll returns nothing at once. */
	for (int i = 0; i < 15; i++) {
		CU_ASSERT_EQUAL(lab_port_rx_burst(port, 0, rx + 32 * i, 32), 32);
	}
	CU_ASSERT_EQUAL(port->rxq[0].ring_avail, 0);
	CU_ASSERT_EQUAL(lab_port_rx_burst(port, 0, b, 32), 0);
	lab_port_stats(port, &st);
	CU_ASSERT_EQUAL(st.rx[0].rx_nobuf, 512); /* each empty descriptor once */
	lab_free_bulk(lab_port_rxq_owner(port, 0), rx, 15 * 32);
	lab_free_bulk(lab_port_rxq_owner(port, 0), b, 32);
	lab_free_bulk(hog, held, nheld);
	lab_cache_flush(hog);
	n = lab_port_rx_burst(port, 0, b, 32);
	CU_ASSERT_EQUAL(n, 32);
	CU_ASSERT_EQUAL(port->rxq[0].ring_avail, 512);
	lab_free_bulk(lab_port_rxq_owner(port, 0), b, n);
	lab_cache_destroy(hog);
	free(held);
	CU_ASSERT_EQUAL(lab_port_close(port), 0);
	CU_ASSERT_EQUAL(findings(p), 0);
	assert_pool_whole(p);
}

static void test_ring_pair_passes_ownership(void)
{
	struct lab_pool *p = port_pool(2048 - 64, 2048);
	struct lab_port *a = port_open("ring:name=pair,size=64,stamp=1,bytes=1", p, 2, 2);
	struct lab_port *b = port_open("ring:name=pair,size=64,stamp=1,bytes=1", p, 2, 2);
	struct lab_cache *txo;
	struct lab_buf *out[32], *in[64];
	struct lab_port_stats st;
	struct lab_port_link link;
	uint16_t n;

	CU_ASSERT_PTR_NOT_NULL_FATAL(a);
	CU_ASSERT_PTR_NOT_NULL_FATAL(b);
	CU_ASSERT_EQUAL(lab_port_start(a), 0);
	CU_ASSERT_EQUAL(lab_port_start(b), 0);
	CU_ASSERT_EQUAL(lab_port_link(a, &link), 0);
	CU_ASSERT_TRUE(link.up);
	txo = lab_port_txq_owner(a, 1);
	CU_ASSERT_EQUAL_FATAL(lab_alloc_bulk(p, txo, out, 32, 0), 32);
	for (int i = 0; i < 32; i++)
		out[i]->data_len = 60 + i;
	CU_ASSERT_EQUAL(lab_port_tx_burst(a, 1, out, 32), 32);
	CU_ASSERT_EQUAL(lab_port_rx_burst(b, 0, in, 64), 0);
	n = lab_port_rx_burst(b, 1, in, 64);
	CU_ASSERT_EQUAL_FATAL(n, 32);
	for (int i = 0; i < 32; i++) {
		CU_ASSERT_PTR_EQUAL(in[i], out[i]); /* no copy */
		CU_ASSERT_TRUE(lab_buf_held_by(lab_port_rxq_owner(b, 1), in[i]));
		CU_ASSERT_EQUAL(in[i]->port, b->id);
	}
	/* b's TX rings hold 64 (size is per end, for its TX rings): the rest stays the caller's, counted as ring_full. */
	CU_ASSERT_EQUAL(lab_buf_transfer(lab_port_rxq_owner(b, 1), lab_port_txq_owner(b, 1), in,
					 32), 32);
	CU_ASSERT_EQUAL(lab_port_tx_burst(b, 1, in, 32), 32);
	CU_ASSERT_EQUAL_FATAL(lab_alloc_bulk(p, lab_port_txq_owner(b, 1), in + 32, 32, 0), 32);
	CU_ASSERT_EQUAL(lab_port_tx_burst(b, 1, in + 32, 32), 32);
	CU_ASSERT_EQUAL_FATAL(lab_alloc_bulk(p, lab_port_txq_owner(b, 1), out, 8, 0), 8);
	CU_ASSERT_EQUAL(lab_port_tx_burst(b, 1, out, 8), 0);
	lab_port_stats(b, &st);
	CU_ASSERT_EQUAL(st.rx[1].bytes, 32 * 60 + 31 * 32 / 2);
	CU_ASSERT_EQUAL(st.tx[1].ring_full, 8);
	CU_ASSERT_EQUAL(st.tx[1].packets, 64);
	lab_free_bulk(lab_port_txq_owner(b, 1), out, 8);
	/* A buffer the sending queue does not hold is refused and counted. */
	CU_ASSERT_EQUAL_FATAL(lab_alloc_bulk(p, lab_port_rxq_owner(a, 0), out, 1, 0), 1);
	lab_test_log_capture();
	CU_ASSERT_EQUAL(lab_port_tx_burst(a, 0, out, 1), 1);
	CU_ASSERT_EQUAL(findings(p), 1);
	lab_test_log_release();
	lab_port_stats(a, &st);
	CU_ASSERT_EQUAL(st.tx[0].errors, 1);
	CU_ASSERT_EQUAL(lab_port_rx_burst(b, 0, in, 64), 0);
	lab_free_bulk(lab_port_rxq_owner(a, 0), out, 1);
	/* 64 buffers wait in a's RX ring 1: closing a frees them. */
	CU_ASSERT_EQUAL(lab_port_close(a), 0);
	CU_ASSERT_EQUAL(lab_port_close(b), 0);
	assert_pool_whole(p);
}

/*
 * A refused transfer must not put a buffer in the ring twice: neither one
 * listed twice in a burst nor one sent before and still waiting in the peer's
 * RX ring. Both are held by the receiving queue after the transfer, but only
 * the first copy was handed on by the sender.
 */
static void test_ring_tx_refused_sends_once(void)
{
	struct lab_pool *p = port_pool(2048 - 64, 2048);
	struct lab_port *a = port_open("ring:name=twice,size=64", p, 1, 1);
	struct lab_port *b = port_open("ring:name=twice,size=64", p, 1, 1);
	struct lab_buf *x[2], *burst[3], *again[1], *in[8];
	struct lab_port_stats st;
	uint16_t n;

	CU_ASSERT_PTR_NOT_NULL_FATAL(a);
	CU_ASSERT_PTR_NOT_NULL_FATAL(b);
	CU_ASSERT_EQUAL_FATAL(lab_alloc_bulk(p, lab_port_txq_owner(a, 0), x, 2, 0), 2);
	burst[0] = x[0];
	burst[1] = x[1];
	burst[2] = x[0];
	again[0] = x[1];
	lab_test_log_capture();
	CU_ASSERT_EQUAL(lab_port_tx_burst(a, 0, burst, 3), 3);
	CU_ASSERT_EQUAL(lab_port_tx_burst(a, 0, again, 1), 1);
	CU_ASSERT_EQUAL(findings(p), 2);
	lab_test_log_release();
	lab_port_stats(a, &st);
	CU_ASSERT_EQUAL(st.tx[0].packets, 2);
	CU_ASSERT_EQUAL(st.tx[0].errors, 2);
	n = lab_port_rx_burst(b, 0, in, 8);
	CU_ASSERT_EQUAL(n, 2);
	if (n >= 2) {
		CU_ASSERT_PTR_EQUAL(in[0], x[0]);
		CU_ASSERT_PTR_EQUAL(in[1], x[1]);
	}
	CU_ASSERT_EQUAL(lab_free_bulk(lab_port_rxq_owner(b, 0), in, n < 2 ? n : 2), 2);
	/* The old code's extra copies: freeing them would be double frees. */
	CU_ASSERT_EQUAL(lab_port_rx_burst(b, 0, in, 8), 0);
	CU_ASSERT_EQUAL(lab_port_close(a), 0);
	CU_ASSERT_EQUAL(lab_port_close(b), 0);
	assert_pool_whole(p);
}

/*
 * Without stamp=1 and bytes=1 the ring driver passes buffers untouched, as
 * DPDK's net_ring: the port and queue fields keep what the sender left, the
 * byte counters stay 0, the packets are counted.
 */
static void test_ring_leaves_buffers_untouched(void)
{
	struct lab_pool *p = port_pool(2048 - 64, 1024);
	struct lab_port *port = port_open("ring:name=plain,loop=1", p, 1, 1);
	struct lab_buf *out[8], *in[8];
	struct lab_port_stats st;

	CU_ASSERT_PTR_NOT_NULL_FATAL(port);
	CU_ASSERT_EQUAL_FATAL(lab_alloc_bulk(p, lab_port_txq_owner(port, 0), out, 8, 0), 8);
	for (int i = 0; i < 8; i++) {
		out[i]->port = 0xbeef;
		out[i]->queue = 7;
		out[i]->data_len = 100;
	}
	CU_ASSERT_EQUAL(lab_port_tx_burst(port, 0, out, 8), 8);
	CU_ASSERT_EQUAL_FATAL(lab_port_rx_burst(port, 0, in, 8), 8);
	for (int i = 0; i < 8; i++) {
		CU_ASSERT_PTR_EQUAL(in[i], out[i]);
		CU_ASSERT_EQUAL(in[i]->port, 0xbeef);
		CU_ASSERT_EQUAL(in[i]->queue, 7);
	}
	lab_port_stats(port, &st);
	CU_ASSERT_EQUAL(st.rx[0].packets, 8);
	CU_ASSERT_EQUAL(st.tx[0].packets, 8);
	CU_ASSERT_EQUAL(st.rx[0].bytes, 0);
	CU_ASSERT_EQUAL(st.tx[0].bytes, 0);
	CU_ASSERT_EQUAL(lab_free_bulk(lab_port_rxq_owner(port, 0), in, 8), 8);
	CU_ASSERT_EQUAL(lab_port_close(port), 0);
	CU_ASSERT_EQUAL(findings(p), 0);
	assert_pool_whole(p);
}

/*
 * One ownership domain: an RX queue and TX queue of a null port and both
 * ends of a ring link share one owner cache. Forwarding inside it needs no
 * transfer (the hand-off leaves the shadow as it was), and the frees at TX
 * completion (null TX, a ring's receiver) are accepted: no finding, every
 * buffer back. The caller's cache outlives the ports; closing them leaves it.
 */
static void test_domain_forward_then_free(void)
{
	struct lab_pool *p = port_pool(2048 - 64, 2048);
	struct lab_cache *dom = lab_cache_create(p, "domain", 0);
	struct lab_port *nul, *a, *b;
	struct lab_buf *buf[32], *in[32];
	struct lab_port_stats st;
	uint16_t n;

	CU_ASSERT_EQUAL_FATAL(lab_pool_quality(p), LAB_QUALITY_SAMPLED);
	CU_ASSERT_PTR_NOT_NULL_FATAL(dom);
	nul = port_open_dom("null:size=64", p, 1, 1, dom);
	a = port_open_dom("ring:name=dom", p, 1, 1, dom);
	b = port_open_dom("ring:name=dom", p, 1, 1, dom);
	CU_ASSERT_PTR_NOT_NULL_FATAL(nul);
	CU_ASSERT_PTR_NOT_NULL_FATAL(a);
	CU_ASSERT_PTR_NOT_NULL_FATAL(b);
	CU_ASSERT_PTR_EQUAL(lab_port_rxq_owner(nul, 0), dom);
	CU_ASSERT_PTR_EQUAL(lab_port_txq_owner(b, 0), dom);
	CU_ASSERT_EQUAL(lab_port_start(nul), 0);
	for (int r = 0; r < 50; r++) {
		/* null RX -> ring a TX -> ring b RX -> null TX (which frees). */
		n = lab_port_rx_burst(nul, 0, buf, 32);
		CU_ASSERT_EQUAL_FATAL(n, 32);
		CU_ASSERT_EQUAL(lab_port_handoff(lab_port_rxq_owner(nul, 0),
						 lab_port_txq_owner(a, 0), buf, n), n);
		CU_ASSERT_EQUAL(lab_port_tx_burst(a, 0, buf, n), n);
		CU_ASSERT_EQUAL_FATAL(lab_port_rx_burst(b, 0, in, 32), n);
		for (int i = 0; i < n; i++) {
			CU_ASSERT_PTR_EQUAL(in[i], buf[i]);
			CU_ASSERT_TRUE(lab_buf_held_by(dom, in[i]));
		}
		CU_ASSERT_EQUAL(lab_port_handoff(lab_port_rxq_owner(b, 0),
						 lab_port_txq_owner(nul, 0), in, n), n);
		CU_ASSERT_EQUAL(lab_port_tx_burst(nul, 0, in, n), n);
	}
	lab_port_stats(a, &st);
	CU_ASSERT_EQUAL(st.tx[0].packets, 50 * 32);
	CU_ASSERT_EQUAL(st.tx[0].errors, 0);
	lab_port_stats(nul, &st);
	CU_ASSERT_EQUAL(st.tx[0].packets, 50 * 32);
	CU_ASSERT_EQUAL(lab_port_close(nul), 0);
	CU_ASSERT_EQUAL(lab_port_close(a), 0);
	CU_ASSERT_EQUAL(lab_port_close(b), 0);
	CU_ASSERT_EQUAL(findings(p), 0);
	lab_cache_destroy(dom);
	assert_pool_whole(p);
}

static uint64_t finding_count(struct lab_pool *p, enum lab_finding_kind k)
{
	struct lab_pool_stats st;

	lab_pool_report_findings(p);
	lab_pool_stats(p, &st);
	return st.findings[k];
}

/*
 * Two domains (two threads' caches). A buffer received in domain A and sent
 * on a queue of domain B without a hand-off (lab_port_handoff across domains
 * is a transfer; here the caller skipped it) is freed by B at TX completion:
 * at "sampled" that free is refused as a foreign free, every time, and the
 * buffers stay A's. The same buffer passed inside one domain by a ring is
 * caught where B frees it too.
 */
static void test_domain_crossing_without_transfer_caught(void)
{
	struct lab_pool *p = port_pool(2048 - 64, 2048);
	struct lab_cache *da = lab_cache_create(p, "domain.a", 0);
	struct lab_cache *db = lab_cache_create(p, "domain.b", 0);
	struct lab_port *in, *out, *loop;
	struct lab_buf *buf[16], *back[16];
	struct lab_port_stats st;
	uint16_t n;

	CU_ASSERT_PTR_NOT_NULL_FATAL(da);
	CU_ASSERT_PTR_NOT_NULL_FATAL(db);
	in = port_open_dom("null:size=64", p, 1, 1, da);
	out = port_open_dom("null:size=64", p, 1, 1, db);
	loop = port_open_dom("ring:name=cross,loop=1", p, 1, 1, db);
	CU_ASSERT_PTR_NOT_NULL_FATAL(in);
	CU_ASSERT_PTR_NOT_NULL_FATAL(out);
	CU_ASSERT_PTR_NOT_NULL_FATAL(loop);
	CU_ASSERT_EQUAL(lab_port_start(in), 0);
	n = lab_port_rx_burst(in, 0, buf, 16);
	CU_ASSERT_EQUAL_FATAL(n, 16);
	lab_test_log_capture();
	/* null TX frees with B's cache: 16 foreign frees, nothing accepted. */
	CU_ASSERT_EQUAL(lab_port_tx_burst(out, 0, buf, n), n);
	CU_ASSERT_EQUAL(finding_count(p, LAB_FIND_FOREIGN_FREE), 16);
	/* Through a ring inside domain B: delivered, then refused at B's free. */
	CU_ASSERT_EQUAL(lab_port_tx_burst(loop, 0, buf, n), n);
	CU_ASSERT_EQUAL_FATAL(lab_port_rx_burst(loop, 0, back, 16), 16);
	CU_ASSERT_EQUAL(lab_free_bulk(lab_port_rxq_owner(loop, 0), back, 16), 0);
	CU_ASSERT_EQUAL(finding_count(p, LAB_FIND_FOREIGN_FREE), 32);
	LAB_TEST_HAS(lab_test_log_text(), "foreign");
	lab_test_log_release();
	lab_port_stats(loop, &st);
	CU_ASSERT_EQUAL(st.tx[0].errors, 0); /* no transfer inside a domain: none refused */
	for (int i = 0; i < 16; i++)
		CU_ASSERT_TRUE(lab_buf_held_by(da, buf[i]));
	/* Handed across properly, the same buffers are B's to free. */
	CU_ASSERT_EQUAL(lab_port_handoff(da, db, buf, n), n);
	CU_ASSERT_EQUAL(lab_port_tx_burst(out, 0, buf, n), n);
	CU_ASSERT_EQUAL(finding_count(p, LAB_FIND_FOREIGN_FREE), 32);
	CU_ASSERT_EQUAL(lab_port_close(in), 0);
	CU_ASSERT_EQUAL(lab_port_close(out), 0);
	CU_ASSERT_EQUAL(lab_port_close(loop), 0);
	lab_cache_destroy(da);
	lab_cache_destroy(db);
	assert_pool_whole(p);
}

/* A cache of another pool cannot be a queue's owner: a clear error. */
static void test_domain_cache_of_other_pool(void)
{
	struct lab_pool *p = port_pool(2048 - 64, 1024), *p2 = port_pool(2048 - 64, 1024);
	struct lab_cache *c2 = lab_cache_create(p2, "elsewhere", 0);
	struct lab_port *port;

	CU_ASSERT_PTR_NOT_NULL_FATAL(c2);
	lab_test_log_capture();
	port = port_open_dom("null", p, 1, 1, c2);
	CU_ASSERT_PTR_NULL(port);
	CU_ASSERT_EQUAL(lab_errno, EINVAL);
	LAB_TEST_HAS(lab_test_log_text(), "belongs to pool");
	lab_test_log_release();
	if (port != NULL)
		lab_port_close(port);
	lab_cache_destroy(c2);
	assert_pool_whole(p);
	assert_pool_whole(p2);
}

static void test_ring_refuses_bad_pairs(void)
{
	struct lab_pool *p = port_pool(2048 - 64, 1024), *p2 = port_pool(2048 - 64, 1024);
	struct lab_port *a = port_open("ring:name=bad", p, 1, 2);
	struct lab_port *c;
	struct lab_buf *b[16];

	CU_ASSERT_PTR_NOT_NULL_FATAL(a);
	expect_open_error(p, "ring:name=bad", EINVAL,
			  (const char *[]){ "1 RX / 1 TX", "1 RX / 2 TX", NULL });
	lab_test_log_capture();
	c = port_open("ring:name=bad", p2, 2, 1);
	CU_ASSERT_PTR_NULL(c);
	CU_ASSERT_PTR_NOT_NULL(strstr(lab_test_log_text(), "one pool"));
	lab_test_log_release();
	c = port_open("ring:name=bad", p, 2, 1);
	CU_ASSERT_PTR_NOT_NULL_FATAL(c);
	expect_open_error(p, "ring:name=bad", EBUSY, (const char *[]){ "two ends", NULL });
	/* A looped port sends to itself. */
	{
		struct lab_port *l = port_open("ring:name=self,loop=1", p, 1, 1);

		CU_ASSERT_PTR_NOT_NULL_FATAL(l);
		CU_ASSERT_EQUAL(lab_port_start(l), 0);
		CU_ASSERT_EQUAL(lab_alloc_bulk(p, lab_port_txq_owner(l, 0), b, 16, 0), 16);
		CU_ASSERT_EQUAL(lab_port_tx_burst(l, 0, b, 16), 16);
		CU_ASSERT_EQUAL(lab_port_rx_burst(l, 0, b, 16), 16);
		CU_ASSERT_EQUAL(lab_free_bulk(lab_port_rxq_owner(l, 0), b, 16), 16);
		CU_ASSERT_EQUAL(lab_port_close(l), 0);
	}
	CU_ASSERT_EQUAL(lab_port_close(a), 0);
	CU_ASSERT_EQUAL(lab_port_close(c), 0);
	CU_ASSERT_EQUAL(findings(p), 0);
	assert_pool_whole(p);
	assert_pool_whole(p2);
}

/* Drain RX queue 0 of @p in until its replay is done (or nothing for 1000
 * polls), sending everything to @p out's TX queue 0 (NULL: free it).
 * @return packets received. */
static uint64_t pump(struct lab_port *in, struct lab_port *out)
{
	struct lab_port_link link = { 0 };
	struct lab_buf *b[32];
	uint64_t total = 0;
	int idle = 0;

	while (idle < 1000) {
		uint16_t n = lab_port_rx_burst(in, 0, b, 32), s;

		total += n;
		idle = n ? 0 : idle + 1;
		if (n && out == NULL) {
			lab_free_bulk(lab_port_rxq_owner(in, 0), b, n);
		} else if (n) {
			lab_buf_transfer(lab_port_rxq_owner(in, 0), lab_port_txq_owner(out, 0), b, n);
			s = lab_port_tx_burst(out, 0, b, n);
			lab_free_bulk(lab_port_txq_owner(out, 0), b + s, n - s);
		}
		lab_port_link(in, &link);
		if (n == 0 && link.rx_done)
			break;
	}
	return total;
}

/* file -> pcap port -> ring pair -> pcap port -> file, compared byte for byte. */
static void roundtrip(const char *input)
{
	char in[512], devin[600], devout[600], out[512];
	struct lab_pool *p = port_pool(10240, 1024);
	struct lab_port *src, *r0, *r1, *dst;
	struct frames fi, fo;
	uint64_t n;
	int d;

	snprintf(in, sizeof(in), "%s/%s", dir, input);
	snprintf(out, sizeof(out), "%s/out_%s.pcap", dir, input);
	snprintf(devin, sizeof(devin), "pcap:rx=%s", in);
	snprintf(devout, sizeof(devout), "pcap:tx=%s,tstamp=ns", out);
	src = port_open(devin, p, 1, 1);
	r0 = port_open("ring:name=rt", p, 1, 1);
	r1 = port_open("ring:name=rt", p, 1, 1);
	dst = port_open(devout, p, 1, 1);
	CU_ASSERT_PTR_NOT_NULL_FATAL(src);
	CU_ASSERT_PTR_NOT_NULL_FATAL(dst);
	CU_ASSERT_PTR_NOT_NULL_FATAL(r0);
	CU_ASSERT_PTR_NOT_NULL_FATAL(r1);
	lab_port_start(src), lab_port_start(r0), lab_port_start(r1), lab_port_start(dst);
	n = 0;
	for (int round = 0; round < 100000; round++) {
		struct lab_port_link link;

		pump(src, r0); /* whole file into the ring (it holds 1024) */
		n += pump(r1, dst);
		lab_port_link(src, &link);
		if (link.rx_done && n >= 241)
			break;
	}
	CU_ASSERT_EQUAL(n, 241);
	CU_ASSERT_EQUAL(lab_port_close(src), 0);
	CU_ASSERT_EQUAL(lab_port_close(r0), 0);
	CU_ASSERT_EQUAL(lab_port_close(r1), 0);
	CU_ASSERT_EQUAL(lab_port_close(dst), 0);
	CU_ASSERT_EQUAL_FATAL(frames_read(in, &fi), 0);
	CU_ASSERT_EQUAL_FATAL(frames_read(out, &fo), 0);
	CU_ASSERT_EQUAL(fi.n, 241);
	d = frames_diff(&fi, &fo);
	if (d >= 0)
		fprintf(stderr, "%s: frame %d differs (%u in, %u out)\n", input, d, fi.n, fo.n);
	CU_ASSERT_EQUAL(d, -1);
	frames_free(&fi);
	frames_free(&fo);
	CU_ASSERT_EQUAL(findings(p), 0);
	assert_pool_whole(p);
}

static void test_pcap_roundtrip_us(void)
{
	roundtrip("mixed.pcap");
}

static void test_pcap_roundtrip_ns(void)
{
	roundtrip("mixed_ns.pcap");
}

static void test_pcap_roundtrip_pcapng(void)
{
	roundtrip("mixed.pcapng");
}

static struct lab_port *open_in(struct lab_pool *p, const char *file, const char *extra)
{
	char dev[600];

	snprintf(dev, sizeof(dev), "pcap:rx=%s/%s%s", dir, file, extra);
	return port_open(dev, p, 1, 1);
}

static void test_pcap_loop_and_oversize(void)
{
	struct lab_pool *p = port_pool(2048 - 64, 1024);
	struct lab_port *in = open_in(p, "mixed.pcap", ",loop=3,timing=fast");
	struct lab_port_stats st;

	CU_ASSERT_PTR_NOT_NULL_FATAL(in);
	CU_ASSERT_EQUAL(lab_port_start(in), 0);
	CU_ASSERT_EQUAL(pump(in, NULL), 3 * 240);
	lab_port_stats(in, &st);
	CU_ASSERT_EQUAL(st.rx[0].oversize, 3); /* the jumbo, each pass */
	CU_ASSERT_EQUAL(st.rx[0].errors, 0);
	CU_ASSERT_EQUAL(lab_port_close(in), 0);
	assert_pool_whole(p);
}

static void test_pcap_rate_limit(void)
{
	struct lab_pool *p = port_pool(10240, 1024);
	struct lab_port *in = open_in(p, "mixed.pcap", ",loop=0,pps=2000");
	struct lab_buf *b[32];
	uint64_t got = 0, t0, el;

	CU_ASSERT_PTR_NOT_NULL_FATAL(in);
	CU_ASSERT_EQUAL(lab_port_start(in), 0);
	t0 = lab_now_ns();
	/* 100 ms, and on until a frame came (30 s at most): a busy machine can
	 * hold this thread past the 100 ms before it polled once. */
	while ((el = lab_now_ns() - t0) < 100000000ull || (got == 0 && el < 30000000000ull)) {
		uint16_t n = lab_port_rx_burst(in, 0, b, 32);

		got += n;
		lab_free_bulk(lab_port_rxq_owner(in, 0), b, n);
	}
	/* A bound, not a speed: at most rate x time plus one burst. */
	CU_ASSERT(got <= 2000 * el / 1000000000ull + 32);
	CU_ASSERT(got > 0);
	CU_ASSERT_EQUAL(lab_port_close(in), 0);
	assert_pool_whole(p);
}

/* Write @p n Ethernet frames of @p len bytes to DIR/@p file, a nanosecond
 * pcap, frame i captured at @p ts_ns[i]. */
static void write_timed(const char *file, unsigned int n, const uint64_t *ts_ns, uint32_t len)
{
	static const unsigned char hdr[24] = { 0x4d, 0x3c, 0xb2, 0xa1, 2, 0, 4, 0, [16] = 0xff,
					       0xff, 0, 0, 1 };
	unsigned char frame[1514] = { [0] = 0x02, [6] = 0x02, [12] = 0x08, [13] = 0x00 };
	char path[512];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, file);
	f = fopen(path, "wb");
	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	fwrite(hdr, sizeof(hdr), 1, f);
	for (unsigned int i = 0; i < n; i++) {
		uint32_t r[4] = { (uint32_t)(ts_ns[i] / 1000000000ull),
				  (uint32_t)(ts_ns[i] % 1000000000ull), len, len };

		frame[14] = (unsigned char)i; /* which frame, to check the order */
		fwrite(r, sizeof(r), 1, f);
		fwrite(frame, len, 1, f);
	}
	CU_ASSERT_EQUAL_FATAL(fclose(f), 0);
}

/* Replay DIR/@p file with @p extra; record when each frame came, in ns after
 * the instant before the first poll (at most @p n frames; 60 s ceiling).
 * @return frames received; each carries its number in the file (of @p frames)
 * in byte 14, and they must come in order. */
static unsigned int timed_replay(struct lab_pool *p, const char *file, unsigned int frames,
				 const char *extra, uint64_t *at, unsigned int n)
{
	struct lab_port *in = open_in(p, file, extra);
	struct lab_port_link link = { 0 };
	unsigned int got = 0;
	uint64_t t0;

	CU_ASSERT_PTR_NOT_NULL_FATAL(in);
	CU_ASSERT_EQUAL(lab_port_start(in), 0);
	t0 = lab_now_ns();
	while (lab_now_ns() - t0 < 60000000000ull) {
		struct lab_buf *b[32];
		uint16_t k = lab_port_rx_burst(in, 0, b, 32);
		uint64_t now = lab_now_ns() - t0;

		for (uint16_t i = 0; i < k; i++) {
			CU_ASSERT_EQUAL(((unsigned char *)lab_buf_data(b[i]))[14], got % frames);
			if (got < n)
				at[got] = now;
			got++;
		}
		lab_free_bulk(lab_port_rxq_owner(in, 0), b, k);
		lab_port_link(in, &link);
		if (k == 0 && link.rx_done)
			break;
	}
	CU_ASSERT_TRUE(link.rx_done);
	CU_ASSERT_EQUAL(lab_port_close(in), 0);
	return got;
}

/* The capture's gaps are kept, scaled by multiplier; pps and mbps pace by
 * count and by length; loops (from the in-memory copy too) start with no
 * gap; limit ends the replay. Only lower bounds are asserted: a frame may
 * come late on a busy machine, never early (it is held until due). */
static void test_pcap_pacing(void)
{
	static const uint64_t ts[4] = { 5000000000ull, 5150000000ull, 5250000000ull,
					5250000000ull };
	static const uint64_t far[3] = { 1000000000ull, 87401000000000ull, 87401000000001ull };
	struct lab_pool *p = port_pool(10240, 1024);
	uint64_t at[16];

	write_timed("gaps.pcap", 4, ts, 60);
	/* capture timing (the default): 150 ms, then 100 ms, then none */
	CU_ASSERT_EQUAL(timed_replay(p, "gaps.pcap", 4, "", at, 16), 4);
	CU_ASSERT(at[1] >= 150000000ull);
	CU_ASSERT(at[2] >= 250000000ull);
	CU_ASSERT(at[3] >= 250000000ull);
	/* twice as fast */
	CU_ASSERT_EQUAL(timed_replay(p, "gaps.pcap", 4, ",multiplier=2", at, 16), 4);
	CU_ASSERT(at[2] >= 125000000ull);
	/* three passes, the later two from memory: each pass keeps its gaps
	 * (250 ms) and the passes follow each other with none */
	CU_ASSERT_EQUAL(timed_replay(p, "gaps.pcap", 4, ",loop=3", at, 16), 12);
	CU_ASSERT(at[11] >= 750000000ull);
	CU_ASSERT(at[5] >= 400000000ull);
	/* 20 packets per second: 50 ms apart */
	CU_ASSERT_EQUAL(timed_replay(p, "gaps.pcap", 4, ",pps=20", at, 16), 4);
	CU_ASSERT(at[3] >= 150000000ull);
	/* 1 Mbit/s: a 1000-byte frame has 8 ms on the wire */
	write_timed("big.pcap", 4, ts, 1000);
	CU_ASSERT_EQUAL(timed_replay(p, "big.pcap", 4, ",mbps=1", at, 16), 4);
	CU_ASSERT(at[3] >= 24000000ull);
	/* limit: two frames of the three passes, then the replay is over */
	CU_ASSERT_EQUAL(timed_replay(p, "gaps.pcap", 4, ",loop=3,limit=2,timing=fast", at, 16), 2);
	/* a day between two frames: timing=fast does not wait for it */
	write_timed("far.pcap", 3, far, 60);
	CU_ASSERT_EQUAL(timed_replay(p, "far.pcap", 3, ",timing=fast", at, 16), 3);
	CU_ASSERT_EQUAL(findings(p), 0);
	assert_pool_whole(p);
}

static void test_pcap_pacing_refused(void)
{
	struct lab_pool *p = port_pool(10240, 1024);
	char dev[600];

	snprintf(dev, sizeof(dev), "pcap:rx=%s/mixed.pcap,timing=slow", dir);
	expect_open_error(p, dev, EINVAL, (const char *[]){ "timing", "slow", NULL });
	snprintf(dev, sizeof(dev), "pcap:rx=%s/mixed.pcap,multiplier=0", dir);
	expect_open_error(p, dev, EINVAL, (const char *[]){ "multiplier '0'", NULL });
	snprintf(dev, sizeof(dev), "pcap:rx=%s/mixed.pcap,multiplier=2x", dir);
	expect_open_error(p, dev, EINVAL, (const char *[]){ "multiplier '2x'", NULL });
	snprintf(dev, sizeof(dev), "pcap:rx=%s/mixed.pcap,pps=10,mbps=5", dir);
	expect_open_error(p, dev, EINVAL, (const char *[]){ "give one pace", NULL });
	snprintf(dev, sizeof(dev), "pcap:rx=%s/mixed.pcap,timing=fast,multiplier=2", dir);
	expect_open_error(p, dev, EINVAL, (const char *[]){ "give one pace", NULL });
	snprintf(dev, sizeof(dev), "pcap:rx=%s/mixed.pcap,pps=0", dir);
	expect_open_error(p, dev, EINVAL, (const char *[]){ "pps", NULL });
	/* a live capture and a tx-only port have no replay to pace */
	expect_open_error(p, "pcap:iface=lo,pps=10", EINVAL, (const char *[]){ "rx=FILE", NULL });
	snprintf(dev, sizeof(dev), "pcap:tx=%s/none.pcap,timing=capture", dir);
	expect_open_error(p, dev, EINVAL, (const char *[]){ "rx=FILE", NULL });
	assert_pool_whole(p);
}

struct hostile {
	const char *file;
	int open_err;         /* expected lab_errno, 0: opens */
	const char *word;     /* in the message (open error, or the replay's end) */
	uint64_t packets, truncated, errors;
};

static void test_pcap_hostile_files(void)
{
	static const struct hostile h[] = {
		{ "bad_magic.pcap", EINVAL, "bad_magic.pcap", 0, 0, 0 },
		{ "short_header.pcap", EINVAL, "short_header.pcap", 0, 0, 0 },
		{ "linktype_raw.pcap", EINVAL, "link type RAW", 0, 0, 0 },
		{ "rec_header_cut.pcap", 0, "truncated dump file", 1, 0, 1 },
		{ "rec_cut_eof.pcap", 0, "truncated dump file", 1, 0, 1 },
		{ "caplen_gt_snaplen.pcap", 0, NULL, 2, 1, 0 },
		{ "caplen_gt_len.pcap", 0, NULL, 2, 0, 1 },
		{ "zero_len.pcap", 0, NULL, 2, 2, 0 },
		{ "truncated_rec.pcap", 0, NULL, 2, 1, 0 },
		{ "empty.pcap", 0, NULL, 0, 0, 0 },
	};
	struct lab_pool *p = port_pool(2048 - 64, 1024);

	for (size_t i = 0; i < sizeof(h) / sizeof(h[0]); i++) {
		struct lab_port_stats st;
		struct lab_port *in;

		lab_test_log_capture();
		/* loop=0 (forever) where the replay must end by itself: files that
		 * end in an error, and a file with no records */
		in = open_in(p, h[i].file, h[i].errors == 1 && h[i].packets == 1 ? ",loop=0"
					   : h[i].packets == 0 ? ",loop=0" : "");
		if (h[i].open_err != 0) {
			CU_ASSERT_PTR_NULL(in);
			CU_ASSERT_EQUAL(lab_errno, h[i].open_err);
		} else {
			CU_ASSERT_PTR_NOT_NULL_FATAL(in);
			CU_ASSERT_EQUAL(lab_port_start(in), 0);
			CU_ASSERT_EQUAL(pump(in, NULL), h[i].packets);
			lab_port_stats(in, &st);
			CU_ASSERT_EQUAL(st.rx[0].truncated, h[i].truncated);
			CU_ASSERT_EQUAL(st.rx[0].errors, h[i].errors);
			if (st.rx[0].packets != h[i].packets || st.rx[0].truncated != h[i].truncated ||
			    st.rx[0].errors != h[i].errors)
				fprintf(stderr, "%s: %llu packets, %llu truncated, %llu errors\n",
					h[i].file, (unsigned long long)st.rx[0].packets,
					(unsigned long long)st.rx[0].truncated,
					(unsigned long long)st.rx[0].errors);
			CU_ASSERT_EQUAL(lab_port_close(in), 0);
		}
		if (h[i].word != NULL && strstr(lab_test_log_text(), h[i].word) == NULL) {
			fprintf(stderr, "%s: message lacks '%s': %s\n", h[i].file, h[i].word,
				lab_test_log_text());
			CU_FAIL("message lacks a word");
		}
		lab_test_log_release();
	}
	assert_pool_whole(p);
}

/* How often @p word occurs in @p text. */
static int occurrences(const char *text, const char *word)
{
	int n = 0;

	for (const char *s = strstr(text, word); s != NULL; s = strstr(s + 1, word))
		n++;
	return n;
}

struct barren {
	const char *file;
	const char *loop;
	uint64_t records, truncated, oversize, errors; /* errors: the records' own + 1 */
};

/* A looped replay whose every record is dropped gives no frame on any pass:
 * it ends after the first (rx_done), counts one error and says why once,
 * instead of spinning inside rx_burst for good (loop=0 hung labfwd). */
static void check_barren(struct lab_pool *p, const struct barren *b)
{
	struct lab_port_link link = { 0 };
	struct lab_port_stats st;
	struct lab_port *in;
	char want[96];

	lab_test_log_capture();
	in = open_in(p, b->file, b->loop);
	CU_ASSERT_PTR_NOT_NULL_FATAL(in);
	CU_ASSERT_EQUAL(lab_port_start(in), 0);
	CU_ASSERT_EQUAL(pump(in, NULL), 0);
	lab_port_link(in, &link);
	CU_ASSERT_TRUE(link.rx_done);
	lab_port_stats(in, &st);
	CU_ASSERT_EQUAL(st.rx[0].packets, 0);
	CU_ASSERT_EQUAL(st.rx[0].truncated, b->truncated);
	CU_ASSERT_EQUAL(st.rx[0].oversize, b->oversize);
	CU_ASSERT_EQUAL(st.rx[0].errors, b->errors);
	CU_ASSERT_EQUAL(lab_port_stop(in), 0);
	CU_ASSERT_EQUAL(lab_port_close(in), 0);
	snprintf(want, sizeof(want), "stopped after pass 1: none of its %llu record(s) gave a frame",
		 (unsigned long long)b->records);
	CU_ASSERT_EQUAL(occurrences(lab_test_log_text(), want), 1);
	LAB_TEST_HAS(lab_test_log_text(), b->file);
	lab_test_log_release();
}

static void test_pcap_barren_loop(void)
{
	static const struct barren b[] = {
		{ "all_caplen_gt_len.pcap", ",loop=0", 1, 0, 0, 2 },
		{ "all_zero_len.pcap", ",loop=0", 5, 5, 0, 1 },
		{ "all_oversize.pcap", ",loop=0", 2, 0, 2, 1 },
		{ "all_zero_len.pcap", ",loop=3", 5, 5, 0, 1 },
		{ "big_zero_len.pcap", ",loop=0", 0, 0, 0, 1 }, /* counts filled in below */
	};
	/* pcap header: microsecond magic, 2.4, snaplen 65535, Ethernet */
	static const unsigned char hdr[24] = { 0xd4, 0xc3, 0xb2, 0xa1, 2, 0, 4, 0, [16] = 0xff,
					       0xff, 0, 0, 1 };
	static const unsigned char zeros[1 << 20]; /* 65536 empty records */
	struct lab_pool *p = port_pool(2048 - 64, 1024);
	struct barren big = b[4];
	char path[512];
	FILE *f;

	for (size_t i = 0; i < 4; i++)
		check_barren(p, &b[i]);
	/* Over the 64 MiB a looped file is cached up to: reopened each pass. */
	snprintf(path, sizeof(path), "%s/%s", dir, big.file);
	f = fopen(path, "wb");
	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	fwrite(hdr, sizeof(hdr), 1, f);
	for (int i = 0; i < 65; i++)
		fwrite(zeros, sizeof(zeros), 1, f);
	big.records = 65ull * sizeof(zeros) / 16;
	CU_ASSERT_EQUAL_FATAL(fclose(f), 0);
	big.truncated = big.records;
	check_barren(p, &big);
	unlink(path);
	assert_pool_whole(p);
}

static int suite_init(void)
{
	char cmd[600];

	snprintf(dir, sizeof(dir), "/tmp/lab_port_test.%d", (int)getpid());
	snprintf(cmd, sizeof(cmd), "/usr/bin/python3 %s/tests/port/make_pcaps.py %s",
		 LAB_SOURCE_ROOT, dir);
	return system(cmd) == 0 ? 0 : -1;
}

int main(void)
{
	static const struct lab_test tests[] = {
		LAB_TEST(test_device_string_errors),
		LAB_TEST(test_registry_rejects_incomplete),
		LAB_TEST(test_null_rx_tx),
		LAB_TEST(test_rx_refill_short_then_recovers),
		LAB_TEST(test_ring_pair_passes_ownership),
		LAB_TEST(test_ring_tx_refused_sends_once),
		LAB_TEST(test_ring_leaves_buffers_untouched),
		LAB_TEST(test_domain_forward_then_free),
		LAB_TEST(test_domain_crossing_without_transfer_caught),
		LAB_TEST(test_domain_cache_of_other_pool),
		LAB_TEST(test_ring_refuses_bad_pairs),
		LAB_TEST(test_pcap_roundtrip_us),
		LAB_TEST(test_pcap_roundtrip_ns),
		LAB_TEST(test_pcap_roundtrip_pcapng),
		LAB_TEST(test_pcap_loop_and_oversize),
		LAB_TEST(test_pcap_rate_limit),
		LAB_TEST(test_pcap_pacing),
		LAB_TEST(test_pcap_pacing_refused),
		LAB_TEST(test_pcap_hostile_files),
		LAB_TEST(test_pcap_barren_loop),
		LAB_TEST_END,
	};
	char cmd[600];
	int rc;

	if (suite_init() < 0) {
		fprintf(stderr, "port: cannot make the test captures: needs /usr/bin/python3 "
			"with python3-scapy (make deps installs it)\n");
		return 1;
	}
	rc = lab_test_run("port", tests);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", dir);
	return rc;
}
