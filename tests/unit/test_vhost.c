/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Suite vhost: the vhost port (the device side of virtio-net over
 * vhost-user) against DPDK's net_virtio_user in dpdk-testpmd (io forwarding
 * on its one port, so every frame we send comes back), and against a
 * hostile front-end played by this program over a raw socket: malformed
 * messages, bad descriptors, a peer that leaves mid-handshake. Each must give
 * a log line naming what was wrong, a counter, no crash and no leaked
 * descriptor or buffer. No hugepages, no namespaces: unix sockets and
 * memfds only.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <labyrinth/lab_log.h>

#include "../lab_test.h"
#include "../../drivers/common/virtio/virtio_defs.h"
#include "port_helpers.h"
#include "testpmd_helpers.h"

#define log_capture lab_test_log_capture
#define log_text lab_test_log_text
#define log_release lab_test_log_release

#define FRAMES 20000
#define SECS(s) ((uint64_t)(s) * 1000000000ull)

static char sock[108];
static pid_t backend;

static int count_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	int n = 0;

	if (d == NULL)
		return -1;
	while (readdir(d) != NULL)
		n++;
	closedir(d);
	return n;
}

/* --------------------------------------------------------------- testpmd */

/* testpmd with net_virtio_user connecting to our socket, forwarding its port
 * to itself. No hugepages: with --no-huge and --single-file-segments, DPDK
 * backs its memory with a memfd, which it can share (with --in-memory it
 * could not: "Failed to set memory table"). The link is up before testpmd
 * forwards: --no-flush-rx keeps it from dropping what we send meanwhile. */
static pid_t start_testpmd(void)
{
	char vdev[200], prefix[64];
	char *argv[] = { "dpdk-testpmd", "-l", "0-1", "--no-pci", "--file-prefix", prefix,
			 "--single-file-segments", "--no-huge", "-m", "256", "--vdev", vdev, "--",
			 "--no-flush-rx", "--forward-mode=io", "--auto-start", "--nb-cores=1",
			 "--total-num-mbufs=4096", "--stats-period", "3600", NULL };

	snprintf(vdev, sizeof(vdev), "net_virtio_user0,path=%s,queues=1,server=0", sock);
	snprintf(prefix, sizeof(prefix), "lab-vhost-%d", (int)getpid());
	return testpmd_spawn(argv);
}

static bool wait_link(struct lab_port *port, pid_t peer, uint64_t secs)
{
	uint64_t until = lab_now_ns() + SECS(secs);
	struct lab_port_link link = { 0 };

	while (lab_now_ns() < until) {
		if (lab_port_link(port, &link) == 0 && link.up)
			return true;
		if (peer > 0 && waitpid(peer, NULL, WNOHANG) == peer)
			return false;
		sleep_ms(10);
	}
	return false;
}

/* Until testpmd forwards: the link is up a little before, and testpmd's port
 * start drops what its RX ring holds then. Probes until one comes back,
 * then until none has come for 200 ms. */
static bool warm_up(struct lab_pool *p, struct lab_port *port)
{
	struct lab_cache *txo = lab_port_txq_owner(port, 0);
	uint64_t until = lab_now_ns() + SECS(60), quiet = 0;
	bool back = false;

	while (lab_now_ns() < until && (!back || lab_now_ns() < quiet)) {
		struct lab_buf *b[8];
		uint16_t r;

		if (!back && lab_alloc_bulk(p, txo, b, 1, 0) == 1) {
			frame_stamp(b[0], txo->headroom, UINT32_MAX);
			if (lab_port_tx_burst(port, 0, b, 1) != 1)
				lab_free_bulk(txo, b, 1);
		}
		r = lab_port_rx_burst(port, 0, b, 8);
		if (r != 0) {
			back = true;
			quiet = lab_now_ns() + 200000000ull;
		}
		lab_free_bulk(lab_port_rxq_owner(port, 0), b, r);
		sleep_ms(5);
	}
	return back;
}

/* FRAMES frames out through our vhost port into testpmd's virtio_user and
 * back: each comes back once, intact and in order; the buffers all go home. */
static void test_loop_through_testpmd(void)
{
	struct lab_pool *p;
	struct lab_port_stats ps;
	uint32_t sent = 0, got = 0, next = 0, bad = 0;
	uint64_t until;
	struct lab_cache *txo;
	struct lab_port *port;
	char dev[160];

	if (access("/usr/bin/dpdk-testpmd", X_OK) != 0) {
		printf("\n    skipped: dpdk-testpmd not installed (apt install dpdk)\n");
		return;
	}
	p = port_pool(2048, 4096);
	CU_ASSERT_PTR_NOT_NULL_FATAL(p);
	snprintf(dev, sizeof(dev), "vhost:path=%s", sock);
	port = port_open(dev, p, 1, 1);
	CU_ASSERT_PTR_NOT_NULL_FATAL(port);
	CU_ASSERT_EQUAL_FATAL(lab_port_start(port), 0);
	backend = start_testpmd();
	CU_ASSERT_FATAL(backend > 0);
	CU_ASSERT_FATAL(wait_link(port, backend, 60));
	CU_ASSERT_FATAL(warm_up(p, port));
	lab_port_stats_reset(port);
	txo = lab_port_txq_owner(port, 0);
	until = lab_now_ns() + SECS(60);
	while (got < FRAMES && lab_now_ns() < until) {
		struct lab_buf *b[32];
		unsigned int n = FRAMES - sent < 32 ? FRAMES - sent : 32;
		uint16_t s = 0, r;

		if (n != 0 && sent - got < 200) {
			n = lab_alloc_bulk(p, txo, b, n, 0);
			for (unsigned int i = 0; i < n; i++)
				frame_stamp(b[i], txo->headroom, sent + i);
			s = lab_port_tx_burst(port, 0, b, (uint16_t)n);
			if (s < n)
				lab_free_bulk(txo, b + s, n - s);
			sent += s;
		}
		r = lab_port_rx_burst(port, 0, b, 32);
		for (uint16_t i = 0; i < r; i++) {
			uint32_t seq = UINT32_MAX;

			bool intact = frame_intact(b[i], &seq);

			if (!intact || seq != next) {
				/* Say what came (a rare extra frame was seen once
				 * in a full make test: which, and how long?). */
				if (bad++ < 5)
					fprintf(stderr, "    frame %u: %s, seq %u, want %u, %u bytes "
						"in %u segment(s)\n", got + i, intact ? "intact" :
						"damaged", seq, next, lab_buf_pkt_len(b[i]),
						lab_buf_nb_segs(b[i]));
			}
			next = seq + 1;
		}
		got += r;
		lab_free_bulk(lab_port_rxq_owner(port, 0), b, r);
	}
	printf("\n    vhost -> net_virtio_user -> vhost: %u sent, %u back, %u out of order or "
	       "damaged\n", sent, got, bad);
	CU_ASSERT_EQUAL(sent, FRAMES);
	CU_ASSERT_EQUAL(got, FRAMES);
	CU_ASSERT_EQUAL(bad, 0);
	lab_port_stats(port, &ps);
	CU_ASSERT_EQUAL(ps.rx[0].errors, 0);
	CU_ASSERT_EQUAL(ps.tx[0].errors, 0);
	CU_ASSERT_EQUAL(ps.rx[0].packets, FRAMES);
	testpmd_stop(backend);
	backend = 0;
	lab_port_stop(port);
	CU_ASSERT_EQUAL(lab_port_close(port), 0);
	assert_pool_whole(p); /* and destroys it */
}

/* A shared, fixed pool: what virtio_user's back-end (ours) maps. */
static struct lab_pool *shared_pool(uint32_t n)
{
	struct lab_pool_opts o;

	small_pool_opts(&o, n, n, 8, 16, 32, 8);
	o.name = "vhost-peer";
	o.shared = true;
	return lab_pool_create(&o);
}

/* Receive up to @p n frames on @p port queue @p q into @p b, within 30 s. */
static unsigned int rx_some(struct lab_port *port, uint16_t q, struct lab_buf **b, unsigned int n)
{
	uint64_t until = lab_now_ns() + SECS(30);
	unsigned int got = 0;

	while (got < n && lab_now_ns() < until)
		got += lab_port_rx_burst(port, q, b + got, (uint16_t)(n - got));
	return got;
}

/* labyrinth's own virtio_user as the front-end, two queue pairs: frames go
 * virtio_user -> vhost, are copied into fresh buffers and sent back, and
 * come back intact, in order, on the queue they left by. */
static void test_pair_with_virtio_user(void)
{
	struct lab_pool *vp = shared_pool(2048), *hp = port_pool(2048, 2048);
	struct lab_port *host, *guest;
	uint32_t sent[2] = { 0 }, back[2] = { 0 }, bad = 0;
	char dev[160];

	CU_ASSERT_PTR_NOT_NULL_FATAL(vp);
	CU_ASSERT_PTR_NOT_NULL_FATAL(hp);
	snprintf(dev, sizeof(dev), "vhost:path=%s", sock);
	host = port_open(dev, hp, 2, 2);
	CU_ASSERT_PTR_NOT_NULL_FATAL(host);
	CU_ASSERT_EQUAL_FATAL(lab_port_start(host), 0);
	{
		/* No front-end yet: a burst is refused whole, and counted once. */
		struct lab_cache *o = lab_port_txq_owner(host, 0);
		struct lab_port_stats ps;
		struct lab_buf *b[4];

		CU_ASSERT_EQUAL_FATAL(lab_alloc_bulk(hp, o, b, 4, 0), 4);
		for (unsigned int i = 0; i < 4; i++)
			frame_stamp(b[i], o->headroom, i);
		CU_ASSERT_EQUAL(lab_port_tx_burst(host, 0, b, 4), 0);
		lab_free_bulk(o, b, 4);
		lab_port_stats(host, &ps);
		CU_ASSERT_EQUAL(ps.tx[0].ring_full, 4);
		lab_port_stats_reset(host);
	}
	snprintf(dev, sizeof(dev), "virtio_user:path=%s", sock);
	guest = port_open(dev, vp, 2, 2);
	CU_ASSERT_PTR_NOT_NULL_FATAL(guest);
	CU_ASSERT_EQUAL_FATAL(lab_port_start(guest), 0);
	CU_ASSERT_FATAL(wait_link(host, 0, 30));
	{
		/* The guest not polling: the host fills what its RX ring has
		 * posted, and what a burst could not place is refused and
		 * counted once in ring_full. The guest then takes them all. */
		struct lab_cache *o = lab_port_txq_owner(host, 0);
		uint64_t offered = 0, taken = 0, got = 0, until = lab_now_ns() + SECS(10);
		struct lab_port_stats ps;
		struct lab_buf *b[32];
		uint16_t s = 1;

		for (int i = 0; i < 1000 && s != 0; i++) {
			unsigned int n = lab_alloc_bulk(hp, o, b, 32, 0);

			for (unsigned int k = 0; k < n; k++)
				frame_stamp(b[k], o->headroom, k);
			s = lab_port_tx_burst(host, 0, b, (uint16_t)n);
			lab_free_bulk(o, b + s, n - s);
			offered += n;
			taken += s;
		}
		lab_port_stats(host, &ps);
		CU_ASSERT(offered > taken);
		CU_ASSERT_EQUAL(ps.tx[0].ring_full, offered - taken);
		while (got < taken && lab_now_ns() < until) {
			uint16_t r = lab_port_rx_burst(guest, 0, b, 32);

			lab_free_bulk(lab_port_rxq_owner(guest, 0), b, r);
			got += r;
		}
		CU_ASSERT_EQUAL(got, taken);
		lab_port_stats_reset(host);
	}
	for (uint32_t round = 0; round < 200; round++)
		for (uint16_t q = 0; q < 2; q++) {
			struct lab_cache *gto = lab_port_txq_owner(guest, q);
			struct lab_cache *hto = lab_port_txq_owner(host, q);
			struct lab_buf *b[16], *c[16];
			unsigned int n = lab_alloc_bulk(vp, gto, b, 16, 0), r, m;
			uint16_t s;

			for (unsigned int i = 0; i < n; i++)
				frame_stamp(b[i], gto->headroom, q * 1000000u + sent[q] + i);
			s = lab_port_tx_burst(guest, q, b, (uint16_t)n);
			lab_free_bulk(gto, b + s, n - s);
			sent[q] += s;
			r = rx_some(host, q, b, s);
			m = lab_alloc_bulk(hp, hto, c, r, 0);
			CU_ASSERT_EQUAL(m, r);
			for (unsigned int i = 0; i < m; i++) {
				lab_buf_reset(c[i], hto->headroom);
				memcpy(lab_buf_data(c[i]), lab_buf_data(b[i]), b[i]->data_len);
				c[i]->data_len = b[i]->data_len;
			}
			lab_free_bulk(lab_port_rxq_owner(host, q), b, r);
			s = lab_port_tx_burst(host, q, c, (uint16_t)m);
			lab_free_bulk(hto, c + s, m - s);
			r = rx_some(guest, q, b, s);
			for (unsigned int i = 0; i < r; i++) {
				uint32_t seq = UINT32_MAX;

				if (!frame_intact(b[i], &seq) || seq != q * 1000000u + back[q] + i)
					bad++;
			}
			back[q] += r;
			lab_free_bulk(lab_port_rxq_owner(guest, q), b, r);
		}
	printf("\n    virtio_user -> vhost -> virtio_user: queue 0 %u/%u, queue 1 %u/%u back, "
	       "%u damaged or out of order\n", back[0], sent[0], back[1], sent[1], bad);
	CU_ASSERT_EQUAL(sent[0], 3200);
	CU_ASSERT_EQUAL(back[0], sent[0]);
	CU_ASSERT_EQUAL(back[1], sent[1]);
	CU_ASSERT_EQUAL(bad, 0);
	lab_port_stop(guest);
	CU_ASSERT_EQUAL(lab_port_close(guest), 0);
	lab_port_stop(host);
	CU_ASSERT_EQUAL(lab_port_close(host), 0);
	assert_pool_whole(vp);
	assert_pool_whole(hp);
}

/* ------------------------------------------------------- jumbo, chained */

#define JUMBO_CELL (64 + 128 + 2048) /* header, headroom, a 2 KiB data room */
#define JUMBO_ROUNDS 150

/* Frame @p seq's length: mixed, from 60 B to 9000 B, most over 2 KiB. */
static uint32_t jumbo_len(uint32_t seq)
{
	static const uint32_t len[] = { 60, 9000, 1500, 2048, 2049, 4097, 7000, 1514, 8191, 3000 };

	return len[seq % (sizeof(len) / sizeof(len[0]))];
}

static uint8_t jumbo_byte(uint32_t seq, uint32_t i)
{
	return (uint8_t)(seq * 7u + i + (i >> 8));
}

/* Frame @p seq as a chain of buffers of @p c (the header's 14 bytes, then the
 * sequence number and a pattern). NULL if the pool is short. */
static struct lab_buf *jumbo_frame(struct lab_pool *p, struct lab_cache *c, uint32_t seq)
{
	uint32_t len = jumbo_len(seq), off = 0;
	struct lab_buf *head = NULL, *last = NULL;

	while (off < len) {
		struct lab_buf *b = lab_alloc(p, c);
		uint32_t room, k;
		uint8_t *d;

		if (b == NULL) {
			if (head != NULL)
				lab_free_frames(c, &head, 1);
			return NULL;
		}
		lab_buf_reset(b, c->headroom);
		room = b->buf_len - c->headroom;
		k = len - off < room ? len - off : room;
		d = lab_buf_data(b);
		for (uint32_t i = 0; i < k; i++)
			d[i] = jumbo_byte(seq, off + i);
		if (off == 0) {
			memset(d, 0xff, 6);
			memcpy(d + 6, "\x02\x00\x00\x00\x00\x01", 6);
			d[12] = 0x88;
			d[13] = 0xb5;
			memcpy(d + 14, &seq, sizeof(seq));
		}
		b->data_len = k;
		if (last == NULL)
			head = b;
		else
			last->next = b;
		last = b;
		off += k;
	}
	return head;
}

/* The frame is @p seq's, every byte. */
static bool jumbo_intact(const struct lab_buf *b, uint32_t seq)
{
	static uint8_t d[9000];
	uint32_t len = lab_buf_pkt_len(b), got;

	if (len != jumbo_len(seq) || (got = lab_buf_read(b, 0, d, len)) != len)
		return false;
	if (memcmp(d + 14, &seq, sizeof(seq)) != 0)
		return false;
	for (uint32_t i = 18; i < len; i++)
		if (d[i] != jumbo_byte(seq, i))
			return false;
	return true;
}

/* Our vhost port on @p hp and our virtio_user port on @p vp, @p nq queue
 * pairs each, started and linked (30 s ceiling). */
static void open_pair(struct lab_pool *hp, struct lab_pool *vp, uint16_t nq,
		      struct lab_port **host, struct lab_port **guest)
{
	char dev[160];

	snprintf(dev, sizeof(dev), "vhost:path=%s", sock);
	*host = port_open(dev, hp, nq, nq);
	CU_ASSERT_PTR_NOT_NULL_FATAL(*host);
	CU_ASSERT_EQUAL_FATAL(lab_port_start(*host), 0);
	snprintf(dev, sizeof(dev), "virtio_user:path=%s", sock);
	*guest = port_open(dev, vp, nq, nq);
	CU_ASSERT_PTR_NOT_NULL_FATAL(*guest);
	CU_ASSERT_EQUAL_FATAL(lab_port_start(*guest), 0);
	CU_ASSERT_FATAL(wait_link(*host, 0, 30));
}

static struct lab_pool *jumbo_pool(uint32_t n, bool shared)
{
	struct lab_pool_opts o;

	small_pool_opts(&o, n, n, 8, 16, 32, 8);
	o.name = shared ? "vhost-jumbo-peer" : "vhost-jumbo";
	o.cell_size = JUMBO_CELL;
	o.shared = shared;
	return lab_pool_create(&o);
}

/* One round on queue @p q: up to 8 jumbo frames guest -> host, each handed
 * back by the host as it came (a chain of its own buffers), host -> guest.
 * Adds the frames sent and those back intact and in order. */
static void jumbo_round(struct lab_port *guest, struct lab_port *host, struct lab_pool *vp,
			uint16_t q, uint32_t *sent, uint32_t *back, uint32_t *bad)
{
	struct lab_cache *gto = lab_port_txq_owner(guest, q), *hto = lab_port_txq_owner(host, q);
	struct lab_buf *b[8];
	unsigned int n = 0, r;
	uint16_t s;

	while (n < 8 && (b[n] = jumbo_frame(vp, gto, q * 1000000u + sent[q] + n)) != NULL)
		n++;
	s = lab_port_tx_burst(guest, q, b, (uint16_t)n);
	lab_free_frames(gto, b + s, n - s);
	sent[q] += s;
	r = rx_some(host, q, b, s);
	CU_ASSERT_EQUAL(r, s);
	lab_port_handoff(lab_port_rxq_owner(host, q), hto, b, r);
	s = lab_port_tx_burst(host, q, b, (uint16_t)r);
	lab_free_frames(hto, b + s, r - s);
	r = rx_some(guest, q, b, s);
	for (unsigned int i = 0; i < r; i++)
		*bad += !jumbo_intact(b[i], q * 1000000u + back[q] + i);
	back[q] += r;
	lab_free_frames(lab_port_rxq_owner(guest, q), b, r);
}

/* The chain helpers and the chain-aware free, on their own: length, segment
 * count, last segment, bytes read across segments, a burst that mixes single
 * buffers and chains freed whole (every segment back, every next cleared),
 * and a hand-off across owners moving every segment. */
static void test_chain_helpers(void)
{
	struct lab_pool *p = jumbo_pool(64, false);
	struct lab_cache *a, *c;
	struct lab_pool_stats st;
	struct lab_buf *f[3], *segs[8];
	uint8_t out[16];

	CU_ASSERT_PTR_NOT_NULL_FATAL(p);
	a = lab_cache_create(p, "chain-a", 0);
	c = lab_cache_create(p, "chain-b", 0);
	CU_ASSERT_PTR_NOT_NULL_FATAL(a);
	CU_ASSERT_PTR_NOT_NULL_FATAL(c);
	CU_ASSERT_EQUAL_FATAL(lab_alloc_bulk(p, a, segs, 8, 0), 8);
	for (int i = 0; i < 8; i++) {
		lab_buf_reset(segs[i], a->headroom);
		segs[i]->data_len = 3;
		memset(lab_buf_data(segs[i]), 'a' + i, 3);
	}
	/* f[0]: 1 segment; f[1]: 4 segments; f[2]: 3 segments. */
	f[0] = segs[0];
	f[1] = segs[1];
	segs[1]->next = segs[2];
	segs[2]->next = segs[3];
	segs[3]->next = segs[4];
	f[2] = segs[5];
	segs[5]->next = segs[6];
	segs[6]->next = segs[7];
	CU_ASSERT_EQUAL(lab_buf_pkt_len(f[0]), 3);
	CU_ASSERT_EQUAL(lab_buf_nb_segs(f[0]), 1);
	CU_ASSERT_PTR_EQUAL(lab_buf_last_seg(f[0]), f[0]);
	CU_ASSERT_EQUAL(lab_buf_pkt_len(f[1]), 12);
	CU_ASSERT_EQUAL(lab_buf_nb_segs(f[1]), 4);
	CU_ASSERT_PTR_EQUAL(lab_buf_last_seg(f[1]), segs[4]);
	/* From byte 4 (inside the second segment), 7 bytes over three. */
	CU_ASSERT_EQUAL(lab_buf_read(f[1], 4, out, 7), 7);
	CU_ASSERT_EQUAL(memcmp(out, "ccdddee", 7), 0);
	/* Past the end: what there is. */
	CU_ASSERT_EQUAL(lab_buf_read(f[1], 10, out, 16), 2);
	CU_ASSERT_EQUAL(lab_buf_read(f[1], 12, out, 16), 0);
	/* Hand-off across owners: every segment moves (a free by the new
	 * owner would otherwise be a foreign free, a finding). */
	CU_ASSERT_EQUAL(lab_port_handoff(a, c, f, 3), 3);
	for (int i = 0; i < 8; i++)
		CU_ASSERT_TRUE(lab_buf_held_by(c, segs[i]));
	CU_ASSERT_EQUAL(lab_free_frames(c, f, 3), 8);
	for (int i = 0; i < 8; i++)
		CU_ASSERT_PTR_NULL(segs[i]->next);
	lab_pool_quality_check(p);
	lab_pool_stats(p, &st);
	CU_ASSERT_EQUAL(st.in_flight, 0);
	CU_ASSERT_EQUAL(st.findings_total, 0);
	/* A burst of single buffers takes the plain path: all back too. */
	CU_ASSERT_EQUAL_FATAL(lab_alloc_bulk(p, a, segs, 8, 0), 8);
	for (int i = 0; i < 8; i++)
		lab_buf_reset(segs[i], a->headroom);
	CU_ASSERT_EQUAL(lab_free_frames(a, segs, 8), 8);
	lab_cache_destroy(a);
	lab_cache_destroy(c);
	assert_pool_whole(p);
}

/* labyrinth virtio_user <-> labyrinth vhost, 2 queue pairs, both pools of
 * 2 KiB buffers, frames of 60 B to 9000 B both ways: the guest sends chains
 * (a descriptor chain each), the host copies them into chains of its own,
 * sends them back over several of the guest's receive buffers (MRG_RXBUF,
 * num_buffers > 1) and the guest merges them into chains again. Every frame
 * comes back whole and in order on its queue, and every buffer is home. */
static void test_jumbo_mergeable(void)
{
	struct lab_pool *vp = jumbo_pool(2048, true), *hp = jumbo_pool(2048, false);
	uint32_t sent[2] = { 0 }, back[2] = { 0 }, bad = 0;
	struct lab_port_stats gs, hs;
	struct lab_port *host, *guest;

	CU_ASSERT_PTR_NOT_NULL_FATAL(vp);
	CU_ASSERT_PTR_NOT_NULL_FATAL(hp);
	open_pair(hp, vp, 2, &host, &guest);
	for (uint32_t round = 0; round < JUMBO_ROUNDS; round++)
		for (uint16_t q = 0; q < 2; q++)
			jumbo_round(guest, host, vp, q, sent, back, &bad);
	lab_port_stats(guest, &gs);
	lab_port_stats(host, &hs);
	printf("\n    jumbo virtio_user -> vhost -> virtio_user: queue 0 %u/%u, queue 1 %u/%u "
	       "back, %u damaged or out of order; chained: guest tx %llu rx %llu, host rx %llu "
	       "tx %llu\n", back[0], sent[0], back[1], sent[1], bad,
	       (unsigned long long)gs.tx_total.chained, (unsigned long long)gs.rx_total.chained,
	       (unsigned long long)hs.rx_total.chained, (unsigned long long)hs.tx_total.chained);
	CU_ASSERT_EQUAL(sent[0], 8 * JUMBO_ROUNDS);
	CU_ASSERT_EQUAL(sent[1], 8 * JUMBO_ROUNDS);
	CU_ASSERT_EQUAL(back[0], sent[0]);
	CU_ASSERT_EQUAL(back[1], sent[1]);
	CU_ASSERT_EQUAL(bad, 0);
	/* 6 of every 10 frames are longer than 2 KiB: each went as a chain
	 * both ways, and came back over several buffers (num_buffers > 1). */
	for (uint16_t q = 0; q < 2; q++) {
		CU_ASSERT_EQUAL(gs.tx[q].chained, sent[q] / 10 * 6);
		CU_ASSERT_EQUAL(hs.rx[q].chained, sent[q] / 10 * 6);
		CU_ASSERT_EQUAL(hs.tx[q].chained, sent[q] / 10 * 6);
		CU_ASSERT_EQUAL(gs.rx[q].chained, sent[q] / 10 * 6);
	}
	CU_ASSERT_EQUAL(gs.rx_total.errors + gs.tx_total.errors + hs.rx_total.errors +
			hs.tx_total.errors, 0);
	CU_ASSERT_EQUAL(gs.rx_total.oversize + hs.rx_total.oversize + hs.tx_total.oversize, 0);
	lab_port_stop(guest);
	CU_ASSERT_EQUAL(lab_port_close(guest), 0);
	lab_port_stop(host);
	CU_ASSERT_EQUAL(lab_port_close(host), 0);
	assert_pool_whole(vp);
	assert_pool_whole(hp);
}

/* The header the back-end wrote before frame @p seq in the shared pool's
 * memory (where virtio_user posted the buffer), found by the frame's first
 * 18 bytes; NULL if it is not there. */
static uint8_t *find_vnet_hdr(struct lab_pool *p, uint32_t seq)
{
	struct lab_mem_region r[8];
	uint8_t key[18];
	int nr = lab_pool_regions(p, r, 8);

	memset(key, 0xff, 6);
	memcpy(key + 6, "\x02\x00\x00\x00\x00\x01\x88\xb5", 8);
	memcpy(key + 14, &seq, sizeof(seq));
	for (int i = 0; i < nr && i < 8; i++) {
		uint8_t *m = r[i].va;

		for (size_t off = VNET_HDR_LEN; off + sizeof(key) <= r[i].len; off++)
			if (m[off] == 0xff && memcmp(m + off, key, sizeof(key)) == 0)
				return m + off - VNET_HDR_LEN;
	}
	return NULL;
}

/* A back-end that writes a bogus num_buffers (played by rewriting, between
 * our vhost's TX and virtio_user's RX, the header our vhost wrote): 0, and
 * more buffers than the ring has out. Each is counted in errors and its
 * buffer freed; the frame after them comes through; no buffer is lost. */
static void test_bogus_num_buffers(void)
{
	struct lab_pool *vp = jumbo_pool(1024, true), *hp = jumbo_pool(1024, false);
	struct lab_cache *hto;
	struct lab_port_stats gs;
	struct lab_port *host, *guest;
	static const uint16_t bogus[] = { 0, 0xffff, 300 };
	struct lab_buf *b[4];
	uint32_t seq = UINT32_MAX;
	unsigned int r;

	CU_ASSERT_PTR_NOT_NULL_FATAL(vp);
	CU_ASSERT_PTR_NOT_NULL_FATAL(hp);
	open_pair(hp, vp, 1, &host, &guest);
	hto = lab_port_txq_owner(host, 0);
	CU_ASSERT_EQUAL_FATAL(lab_alloc_bulk(hp, hto, b, 4, 0), 4);
	for (uint32_t i = 0; i < 4; i++)
		frame_stamp(b[i], hto->headroom, 0xb0b0 + i);
	CU_ASSERT_EQUAL_FATAL(lab_port_tx_burst(host, 0, b, 4), 4);
	for (uint32_t i = 0; i < 3; i++) {
		uint8_t *h = find_vnet_hdr(vp, 0xb0b0 + i);

		CU_ASSERT_PTR_NOT_NULL_FATAL(h);
		CU_ASSERT_EQUAL(h[VNET_NUM_BUFFERS], 1); /* what our vhost wrote */
		memcpy(h + VNET_NUM_BUFFERS, &bogus[i], 2);
	}
	r = rx_some(guest, 0, b, 1);
	CU_ASSERT_EQUAL_FATAL(r, 1);
	CU_ASSERT_TRUE(frame_intact(b[0], &seq));
	CU_ASSERT_EQUAL(seq, 0xb0b3);
	CU_ASSERT_PTR_NULL(b[0]->next);
	lab_free_frames(lab_port_rxq_owner(guest, 0), b, r);
	lab_port_stats(guest, &gs);
	CU_ASSERT_EQUAL(gs.rx[0].errors, 3);
	CU_ASSERT_EQUAL(gs.rx[0].packets, 1);
	CU_ASSERT_EQUAL(gs.rx[0].chained, 0);
	lab_port_stop(guest);
	CU_ASSERT_EQUAL(lab_port_close(guest), 0);
	lab_port_stop(host);
	CU_ASSERT_EQUAL(lab_port_close(host), 0);
	assert_pool_whole(vp);
	assert_pool_whole(hp);
}

/* Jumbo frames through DPDK: testpmd's net_vhost (2176-byte mbufs,
 * --max-pkt-len 9018) in io forwarding, our virtio_user with 2 KiB
 * buffers. Our chains go as descriptor chains, testpmd's vhost chains mbufs
 * (net_vhost has no scatter offload to ask for: it chains anyway), and its
 * vhost sends them back over several of our buffers (num_buffers > 1). */
static void test_jumbo_through_testpmd(void)
{
	char vdev[200], prefix[64], dev[160];
	char *argv[] = { "dpdk-testpmd", "--no-huge", "-m", "512", "--no-pci", "-l", "0-1",
			 "--file-prefix", prefix, "--vdev", vdev, "--", "--forward-mode=io",
			 "--auto-start", "--no-flush-rx", "--nb-cores=1", "--total-num-mbufs=8192",
			 "--mbuf-size=2176", "--max-pkt-len=9018",
			 "--stats-period", "3600", NULL };
	struct lab_pool *vp;
	struct lab_port *guest = NULL;
	struct lab_port_stats gs;
	uint32_t sent = 0, back = 0, bad = 0;
	uint64_t until;

	if (access("/usr/bin/dpdk-testpmd", X_OK) != 0) {
		printf("\n    skipped: dpdk-testpmd not installed (apt install dpdk)\n");
		return;
	}
	snprintf(vdev, sizeof(vdev), "net_vhost0,iface=%s,queues=1", sock);
	snprintf(prefix, sizeof(prefix), "lab-mseg-%d", (int)getpid());
	unlink(sock);
	backend = testpmd_spawn(argv);
	CU_ASSERT_FATAL(backend > 0);
	vp = jumbo_pool(4096, true);
	CU_ASSERT_PTR_NOT_NULL_FATAL(vp);
	snprintf(dev, sizeof(dev), "virtio_user:path=%s", sock);
	until = lab_now_ns() + SECS(60);
	log_capture(); /* the refusals while testpmd is not listening yet */
	while (guest == NULL && lab_now_ns() < until && waitpid(backend, NULL, WNOHANG) != backend) {
		guest = port_open(dev, vp, 1, 1);
		if (guest == NULL)
			sleep_ms(100);
	}
	log_release();
	CU_ASSERT_PTR_NOT_NULL_FATAL(guest);
	CU_ASSERT_EQUAL_FATAL(lab_port_start(guest), 0);
	CU_ASSERT_FATAL(warm_up(vp, guest));
	lab_port_stats_reset(guest);
	until = lab_now_ns() + SECS(120);
	while ((sent < 2000 || back < sent) && lab_now_ns() < until) {
		struct lab_cache *gto = lab_port_txq_owner(guest, 0);
		struct lab_buf *b[8];
		unsigned int n = 0, r;

		while (sent < 2000 && n < 8 && back + 64 > sent + n &&
		       (b[n] = jumbo_frame(vp, gto, sent + n)) != NULL)
			n++;
		r = lab_port_tx_burst(guest, 0, b, (uint16_t)n);
		lab_free_frames(gto, b + r, n - r);
		sent += r;
		r = lab_port_rx_burst(guest, 0, b, 8);
		for (unsigned int i = 0; i < r; i++)
			bad += !jumbo_intact(b[i], back + i);
		back += r;
		lab_free_frames(lab_port_rxq_owner(guest, 0), b, r);
	}
	lab_port_stats(guest, &gs);
	printf("\n    jumbo virtio_user -> testpmd net_vhost -> virtio_user: %u/%u back, %u damaged "
	       "or out of order; chained tx %llu rx %llu\n", back, sent, bad,
	       (unsigned long long)gs.tx[0].chained, (unsigned long long)gs.rx[0].chained);
	CU_ASSERT_EQUAL(sent, 2000);
	CU_ASSERT_EQUAL(back, sent);
	CU_ASSERT_EQUAL(bad, 0);
	CU_ASSERT_EQUAL(gs.tx[0].chained, sent / 10 * 6);
	CU_ASSERT(gs.rx[0].chained > 0);
	CU_ASSERT_EQUAL(gs.rx[0].errors, 0);
	testpmd_stop(backend);
	backend = 0;
	lab_port_stop(guest);
	CU_ASSERT_EQUAL(lab_port_close(guest), 0);
	unlink(sock);
	assert_pool_whole(vp);
}

/* Both ports polled (virtio_user attaches its back-end from its bursts)
 * until each link is up, within 30 s. */
static bool wait_both(struct lab_port *host, struct lab_port *guest)
{
	uint64_t until = lab_now_ns() + SECS(30);
	struct lab_port_link a = { 0 }, b = { 0 };

	while (lab_now_ns() < until) {
		struct lab_buf *x[8];
		uint16_t r = lab_port_rx_burst(guest, 0, x, 8);

		lab_free_bulk(lab_port_rxq_owner(guest, 0), x, r);
		if (lab_port_link(host, &a) == 0 && a.up && lab_port_link(guest, &b) == 0 && b.up)
			return true;
		sleep_ms(2);
	}
	return false;
}

/* 16 frames guest -> host -> guest on queue 0: how many came back intact. */
static unsigned int round_trip(struct lab_pool *vp, struct lab_pool *hp, struct lab_port *guest,
			       struct lab_port *host)
{
	struct lab_cache *gto = lab_port_txq_owner(guest, 0), *hto = lab_port_txq_owner(host, 0);
	struct lab_buf *b[16], *c[16];
	unsigned int n = lab_alloc_bulk(vp, gto, b, 16, 0), r, m, ok = 0;
	uint16_t s;

	for (unsigned int i = 0; i < n; i++)
		frame_stamp(b[i], gto->headroom, i);
	s = lab_port_tx_burst(guest, 0, b, (uint16_t)n);
	lab_free_bulk(gto, b + s, n - s);
	r = rx_some(host, 0, b, s);
	m = lab_alloc_bulk(hp, hto, c, r, 0);
	for (unsigned int i = 0; i < m; i++) {
		lab_buf_reset(c[i], hto->headroom);
		memcpy(lab_buf_data(c[i]), lab_buf_data(b[i]), b[i]->data_len);
		c[i]->data_len = b[i]->data_len;
	}
	lab_free_bulk(lab_port_rxq_owner(host, 0), b, r);
	s = lab_port_tx_burst(host, 0, c, (uint16_t)m);
	lab_free_bulk(hto, c + s, m - s);
	r = rx_some(guest, 0, b, s);
	for (unsigned int i = 0; i < r; i++) {
		uint32_t seq;

		ok += frame_intact(b[i], &seq) && seq == i;
	}
	lab_free_bulk(lab_port_rxq_owner(guest, 0), b, r);
	return ok;
}

/* client=1: we connect to a front-end that listens (virtio_user with
 * server=1), and connect again when it goes and a new one listens. */
static void test_client_reconnects(void)
{
	struct lab_pool *vp = shared_pool(1024), *hp = port_pool(2048, 1024);
	struct lab_port *host, *guest;
	struct lab_port_link link;
	char dev[160];

	CU_ASSERT_PTR_NOT_NULL_FATAL(vp);
	CU_ASSERT_PTR_NOT_NULL_FATAL(hp);
	snprintf(dev, sizeof(dev), "vhost:path=%s,client=1", sock);
	host = port_open(dev, hp, 1, 1); /* nobody listens yet: it keeps trying */
	CU_ASSERT_PTR_NOT_NULL_FATAL(host);
	CU_ASSERT_EQUAL_FATAL(lab_port_start(host), 0);
	for (int round = 0; round < 2; round++) {
		snprintf(dev, sizeof(dev), "virtio_user:path=%s,server=1", sock);
		guest = port_open(dev, vp, 1, 1);
		CU_ASSERT_PTR_NOT_NULL_FATAL(guest);
		CU_ASSERT_EQUAL_FATAL(lab_port_start(guest), 0);
		CU_ASSERT_FATAL(wait_both(host, guest));
		CU_ASSERT_EQUAL(round_trip(vp, hp, guest, host), 16);
		lab_port_stop(guest);
		CU_ASSERT_EQUAL(lab_port_close(guest), 0);
		/* The front-end gone: our link goes down. */
		for (int i = 0; i < 3000 && lab_port_link(host, &link) == 0 && link.up; i++)
			sleep_ms(10);
		CU_ASSERT_FALSE(link.up);
	}
	lab_port_stop(host);
	CU_ASSERT_EQUAL(lab_port_close(host), 0);
	assert_pool_whole(vp);
	assert_pool_whole(hp);
}

/* ------------------------------------------------------ the hostile peer */

#define RING 8
#define MEM_LEN (64u * 1024)
#define DESC_OFF 0
#define AVAIL_OFF 256
#define USED_OFF 512
#define BUF_OFF 4096

/* A front-end of our own: a socket and a memfd with one ring (the peer's
 * TX, virtqueue 1) and its buffers. */
struct peer {
	int fd, memfd;
	uint8_t *mem;
	uint16_t avail;
};

static int peer_send(struct peer *pr, uint32_t req, const void *payload, uint32_t size,
		     const int *fds, unsigned int nfds)
{
	struct vhu_hdr h = { req, VHU_VERSION, size };
	struct iovec iov[2] = { { &h, sizeof(h) }, { (void *)(uintptr_t)payload, size } };
	char ctl[CMSG_SPACE(sizeof(int) * 16)];
	struct msghdr m = { .msg_iov = iov, .msg_iovlen = size ? 2 : 1 };

	if (nfds > 0) {
		struct cmsghdr *c;

		memset(ctl, 0, sizeof(ctl));
		m.msg_control = ctl;
		m.msg_controllen = CMSG_SPACE(sizeof(int) * nfds);
		c = CMSG_FIRSTHDR(&m);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int) * nfds);
		memcpy(CMSG_DATA(c), fds, sizeof(int) * nfds);
	}
	return sendmsg(pr->fd, &m, MSG_NOSIGNAL) == (ssize_t)(sizeof(h) + size) ? 0 : -1;
}

static int peer_u64(struct peer *pr, uint32_t req, uint64_t v)
{
	return peer_send(pr, req, &v, sizeof(v), NULL, 0);
}

static int peer_state(struct peer *pr, uint32_t req, uint32_t idx, uint32_t num)
{
	struct vhu_state s = { idx, num };

	return peer_send(pr, req, &s, sizeof(s), NULL, 0);
}

static bool peer_connect(struct peer *pr)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };

	memset(pr, 0, sizeof(*pr));
	pr->memfd = -1;
	memcpy(sa.sun_path, sock, strlen(sock) + 1);
	pr->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	return pr->fd >= 0 && connect(pr->fd, (struct sockaddr *)&sa, sizeof(sa)) == 0;
}

/* The server saw the connection end (it closes on a refused message). */
static bool peer_closed_by_server(struct peer *pr)
{
	char c;
	struct timeval tv = { .tv_sec = 30 };

	setsockopt(pr->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	return recv(pr->fd, &c, 1, 0) == 0;
}

static void peer_close(struct peer *pr)
{
	if (pr->mem != NULL)
		munmap(pr->mem, MEM_LEN);
	if (pr->memfd >= 0)
		close(pr->memfd);
	if (pr->fd >= 0)
		close(pr->fd);
	pr->fd = pr->memfd = -1;
	pr->mem = NULL;
}

static uint64_t uva(struct peer *pr, size_t off)
{
	return (uintptr_t)pr->mem + off;
}

/* Handshake up to a live TX ring (virtqueue 1) of RING descriptors. */
static bool peer_setup(struct peer *pr)
{
	struct vhu_mem m = { .nregions = 1 };
	struct vhu_addr a = { .index = 1 };
	struct vhu_hdr h;
	uint64_t feat;

	pr->memfd = memfd_create("peer", MFD_CLOEXEC);
	if (pr->memfd < 0 || ftruncate(pr->memfd, MEM_LEN) != 0)
		return false;
	pr->mem = mmap(NULL, MEM_LEN, PROT_READ | PROT_WRITE, MAP_SHARED, pr->memfd, 0);
	if (pr->mem == MAP_FAILED) {
		pr->mem = NULL;
		return false;
	}
	m.r[0] = (struct vhu_region){ uva(pr, 0), MEM_LEN, uva(pr, 0), 0 };
	a.desc = uva(pr, DESC_OFF);
	a.avail = uva(pr, AVAIL_OFF);
	a.used = uva(pr, USED_OFF);
	if (peer_send(pr, VHU_SET_OWNER, NULL, 0, NULL, 0) != 0 ||
	    peer_send(pr, VHU_GET_FEATURES, NULL, 0, NULL, 0) != 0 ||
	    recv(pr->fd, &h, sizeof(h), MSG_WAITALL) != sizeof(h) || h.size != 8 ||
	    recv(pr->fd, &feat, 8, MSG_WAITALL) != 8 ||
	    peer_u64(pr, VHU_SET_FEATURES, 1ull << VIRTIO_F_VERSION_1) != 0 ||
	    peer_send(pr, VHU_SET_MEM_TABLE, &m, 8 + sizeof(m.r[0]), &pr->memfd, 1) != 0 ||
	    peer_state(pr, VHU_SET_VRING_NUM, 1, RING) != 0 ||
	    peer_state(pr, VHU_SET_VRING_BASE, 1, 0) != 0 ||
	    peer_send(pr, VHU_SET_VRING_ADDR, &a, sizeof(a), NULL, 0) != 0 ||
	    peer_u64(pr, VHU_SET_VRING_KICK, 1 | VHU_VRING_NOFD) != 0)
		return false;
	return (feat & (1ull << VIRTIO_F_VERSION_1)) != 0;
}

/* Post a chain: descriptors (addr offset into our memory, len, flags, next). */
static void peer_post(struct peer *pr, uint16_t head)
{
	uint16_t *ring = (uint16_t *)(pr->mem + AVAIL_OFF + 4);

	ring[pr->avail % RING] = head;
	pr->avail++;
	__atomic_store_n((uint16_t *)(pr->mem + AVAIL_OFF + 2), pr->avail, __ATOMIC_RELEASE);
}

static void peer_desc(struct peer *pr, uint16_t i, uint64_t addr, uint32_t len, uint16_t flags,
		      uint16_t next)
{
	struct vring_desc *d = (struct vring_desc *)(pr->mem + DESC_OFF);

	d[i] = (struct vring_desc){ addr, len, flags, next };
}

/* Poll @p port's RX queue until a frame comes or @p secs pass: how many came. */
static unsigned int rx_wait(struct lab_port *port, uint64_t secs)
{
	uint64_t until = lab_now_ns() + SECS(secs);
	struct lab_buf *b[8];
	unsigned int got = 0;

	do {
		uint16_t r = lab_port_rx_burst(port, 0, b, 8);

		got += r;
		lab_free_bulk(lab_port_rxq_owner(port, 0), b, r);
		if (r == 0 && secs != 0)
			sleep_ms(1);
	} while (got == 0 && lab_now_ns() < until);
	return got;
}

static bool log_wait(const char *want)
{
	uint64_t until = lab_now_ns() + SECS(30);

	while (lab_now_ns() < until) {
		if (strstr(log_text(), want) != NULL)
			return true;
		sleep_ms(5);
	}
	LAB_TEST_HAS(log_text(), want);
	return false;
}

/* A good frame, then a bad chain of the kind @p bad posts: the good one
 * arrives, the bad one stops the queue with an error and a log line. */
static void bad_chain(struct lab_port *port, void (*bad)(struct peer *), const char *want)
{
	struct lab_port_stats before, after;
	struct peer pr;

	CU_ASSERT_FATAL(peer_connect(&pr));
	CU_ASSERT_FATAL(peer_setup(&pr));
	memset(pr.mem + BUF_OFF, 0x5a, 64 + VNET_HDR_LEN);
	peer_desc(&pr, 0, uva(&pr, BUF_OFF), 64 + VNET_HDR_LEN, 0, 0);
	peer_post(&pr, 0);
	CU_ASSERT_EQUAL(rx_wait(port, 30), 1);
	lab_port_stats(port, &before);
	bad(&pr);
	CU_ASSERT_EQUAL(rx_wait(port, 0), 0);
	lab_port_stats(port, &after);
	CU_ASSERT_EQUAL(after.rx[0].errors, before.rx[0].errors + 1);
	CU_ASSERT(log_wait(want));
	/* Stopped: more good frames are not taken. */
	peer_desc(&pr, 3, uva(&pr, BUF_OFF), 64 + VNET_HDR_LEN, 0, 0);
	peer_post(&pr, 3);
	CU_ASSERT_EQUAL(rx_wait(port, 0), 0);
	peer_close(&pr);
}

static void outside(struct peer *pr)
{
	/* Its end past the region's end. */
	peer_desc(pr, 1, uva(pr, MEM_LEN - 32), 64, 0, 0);
	peer_post(pr, 1);
}

static void loop(struct peer *pr)
{
	peer_desc(pr, 1, uva(pr, BUF_OFF), 16, VRING_DESC_F_NEXT, 2);
	peer_desc(pr, 2, uva(pr, BUF_OFF), 16, VRING_DESC_F_NEXT, 1);
	peer_post(pr, 1);
}

static void jump(struct peer *pr)
{
	pr->avail += RING + 1;
	__atomic_store_n((uint16_t *)(pr->mem + AVAIL_OFF + 2), pr->avail, __ATOMIC_RELEASE);
}

static void indirect(struct peer *pr)
{
	peer_desc(pr, 1, uva(pr, BUF_OFF), 16, VRING_DESC_F_INDIRECT, 0);
	peer_post(pr, 1);
}

static void head_past(struct peer *pr)
{
	peer_post(pr, RING + 5);
}

/* Bad descriptors and rings: each stops the queue with its own message. */
static void test_bad_descriptors(void)
{
	struct lab_pool *p = port_pool(2048, 512);
	struct lab_port *port;
	char dev[160];
	int fds;

	CU_ASSERT_PTR_NOT_NULL_FATAL(p);
	snprintf(dev, sizeof(dev), "vhost:path=%s", sock);
	port = port_open(dev, p, 1, 1);
	CU_ASSERT_PTR_NOT_NULL_FATAL(port);
	CU_ASSERT_EQUAL_FATAL(lab_port_start(port), 0);
	fds = count_fds();
	log_capture();
	bad_chain(port, outside, "descriptor buffer outside the memory table");
	bad_chain(port, loop, "descriptor chain longer than the ring (a loop?)");
	bad_chain(port, jump, "avail index ran ahead of us by more than the ring size");
	bad_chain(port, indirect, "indirect descriptor");
	bad_chain(port, head_past, "avail ring entry names a descriptor past the ring");
	CU_ASSERT(log_wait("disconnected"));
	log_release();
	/* The last peer's close reached the server: its descriptors and
	 * mappings are gone. */
	for (int i = 0; i < 3000 && count_fds() != fds; i++)
		sleep_ms(10);
	CU_ASSERT_EQUAL(count_fds(), fds);
	lab_port_stop(port);
	CU_ASSERT_EQUAL(lab_port_close(port), 0);
	assert_pool_whole(p);
}

/* The server closed the connection after logging @p want. */
static void refused(struct peer *pr, const char *want)
{
	CU_ASSERT(peer_closed_by_server(pr));
	CU_ASSERT(log_wait(want));
	peer_close(pr);
}

/* Sizes, descriptors, indexes and requests that are wrong. */
static void bad_framing(const int *efd)
{
	struct vhu_hdr big = { VHU_SET_MEM_TABLE, VHU_VERSION, 1u << 20 };
	struct peer pr;

	CU_ASSERT_FATAL(peer_connect(&pr));
	CU_ASSERT_EQUAL(peer_send(&pr, VHU_SET_FEATURES, "abcd", 4, NULL, 0), 0);
	refused(&pr, "SET_FEATURES (request 2) from the peer refused: payload size wrong");
	CU_ASSERT_FATAL(peer_connect(&pr));
	CU_ASSERT_EQUAL(peer_send(&pr, VHU_SET_OWNER, NULL, 0, efd, 1), 0);
	refused(&pr, "descriptors sent with a request that takes none");
	CU_ASSERT_FATAL(peer_connect(&pr));
	CU_ASSERT_EQUAL(peer_send(&pr, VHU_SET_OWNER, NULL, 0, efd, 12), 0);
	refused(&pr, "more descriptors than any request carries");
	/* A header announcing a payload larger than any request's. */
	CU_ASSERT_FATAL(peer_connect(&pr));
	CU_ASSERT_EQUAL(send(pr.fd, &big, sizeof(big), MSG_NOSIGNAL), (ssize_t)sizeof(big));
	refused(&pr, "payload of 1048576 bytes, more than any request has");
	CU_ASSERT_FATAL(peer_connect(&pr));
	CU_ASSERT_EQUAL(peer_state(&pr, VHU_SET_VRING_NUM, 7, 256), 0);
	refused(&pr, "ring index past the device's rings (value 7)");
	CU_ASSERT_FATAL(peer_connect(&pr));
	CU_ASSERT_EQUAL(peer_send(&pr, 99, NULL, 0, NULL, 0), 0);
	refused(&pr, "unknown request (value 99)");
}

/* A mem table whose regions overlap, and one with fewer fds than regions. */
static void bad_tables(const int *efd)
{
	struct vhu_mem m = { .nregions = 2 };
	struct peer pr;

	m.r[0] = (struct vhu_region){ 0x100000, 0x10000, 0x100000, 0 };
	m.r[1] = (struct vhu_region){ 0x108000, 0x10000, 0x200000, 0 };
	CU_ASSERT_FATAL(peer_connect(&pr));
	CU_ASSERT_EQUAL(peer_send(&pr, VHU_SET_MEM_TABLE, &m, sizeof(m), efd, 2), 0);
	refused(&pr, "regions that overlap");
	CU_ASSERT_FATAL(peer_connect(&pr));
	CU_ASSERT_EQUAL(peer_send(&pr, VHU_SET_MEM_TABLE, &m, sizeof(m), efd, 1), 0);
	refused(&pr, "not one descriptor per region");
}

/* A peer that leaves mid-handshake (its memory mapped, rings half set up),
 * and one that leaves in the middle of a message. */
static void peers_leaving(void)
{
	struct peer pr;

	CU_ASSERT_FATAL(peer_connect(&pr));
	CU_ASSERT(peer_setup(&pr));
	peer_close(&pr);
	CU_ASSERT(log_wait("the vhost-user front-end on"));
	CU_ASSERT_FATAL(peer_connect(&pr));
	CU_ASSERT_EQUAL(send(pr.fd, "\x05\0\0", 3, MSG_NOSIGNAL), 3);
	peer_close(&pr);
	CU_ASSERT(log_wait("closed in the middle of a message header"));
}

/* Malformed messages: each refused by name, the connection closed, every
 * descriptor that came with them closed, and the port still takes a peer. */
static void test_bad_messages(void)
{
	struct lab_pool *p = port_pool(2048, 512);
	struct lab_port_stats st;
	struct lab_port *port;
	struct peer pr;
	char dev[160];
	int fds, efd[12];

	CU_ASSERT_PTR_NOT_NULL_FATAL(p);
	snprintf(dev, sizeof(dev), "vhost:path=%s", sock);
	port = port_open(dev, p, 1, 1);
	CU_ASSERT_PTR_NOT_NULL_FATAL(port);
	CU_ASSERT_EQUAL_FATAL(lab_port_start(port), 0);
	for (int i = 0; i < 12; i++)
		efd[i] = memfd_create("x", MFD_CLOEXEC);
	fds = count_fds();
	log_capture();
	bad_framing(efd);
	bad_tables(efd);
	peers_leaving();
	/* Each refusal was counted; every descriptor that came is closed. */
	for (int i = 0; i < 3000 && count_fds() != fds; i++)
		sleep_ms(10);
	CU_ASSERT_EQUAL(count_fds(), fds);
	lab_port_stats(port, &st);
	CU_ASSERT(st.rx[0].errors >= 9);
	log_release();

	/* The port still takes a peer that behaves. */
	CU_ASSERT_FATAL(peer_connect(&pr));
	CU_ASSERT_FATAL(peer_setup(&pr));
	peer_desc(&pr, 0, uva(&pr, BUF_OFF), 64 + VNET_HDR_LEN, 0, 0);
	peer_post(&pr, 0);
	CU_ASSERT_EQUAL(rx_wait(port, 30), 1);
	peer_close(&pr);
	for (int i = 0; i < 12; i++)
		close(efd[i]);
	lab_port_stop(port);
	CU_ASSERT_EQUAL(lab_port_close(port), 0);
	assert_pool_whole(p);
}

/* What it cannot work with is refused at open, naming it. */
static void test_refusals(void)
{
	struct lab_pool *p = port_pool(2048, 512);
	char dev[160];

	CU_ASSERT_PTR_NOT_NULL_FATAL(p);
	log_capture();
	CU_ASSERT_PTR_NULL(port_open("vhost:", p, 1, 1));
	LAB_TEST_HAS(log_text(), "path= is required");
	snprintf(dev, sizeof(dev), "vhost:path=%s", sock);
	CU_ASSERT_PTR_NULL(port_open(dev, p, 1, 2));
	LAB_TEST_HAS(log_text(), "queues come in pairs");
	CU_ASSERT_PTR_NULL(port_open("vhost:path=/proc/version", p, 1, 1));
	LAB_TEST_HAS(log_text(), "exists and is not a socket");
	log_release();
	assert_pool_whole(p);
}

int main(void)
{
	static const struct lab_test tests[] = {
		LAB_TEST(test_refusals),
		LAB_TEST(test_bad_messages),
		LAB_TEST(test_bad_descriptors),
		LAB_TEST(test_pair_with_virtio_user),
		LAB_TEST(test_chain_helpers),
		LAB_TEST(test_jumbo_mergeable),
		LAB_TEST(test_bogus_num_buffers),
		LAB_TEST(test_client_reconnects),
		LAB_TEST(test_loop_through_testpmd),
		LAB_TEST(test_jumbo_through_testpmd),
		LAB_TEST_END,
	};
	int rc;

	snprintf(sock, sizeof(sock), "/tmp/lab-vhost-%d.sock", (int)getpid());
	rc = lab_test_run("vhost", tests);
	testpmd_stop(backend);
	return rc;
}
