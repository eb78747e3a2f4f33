/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Suite 'netns': NIC drivers on a veth pair between two network namespaces
 * the test makes and removes (root only; skipped with the reason otherwise).
 * Frames go both ways; counts, bytes and every byte of every frame are
 * checked, VLAN tags included (the kernel strips them; the driver puts them
 * back). Ends with the pool whole.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <string.h>

#include "netns_helpers.h"
#include "port_helpers.h"

#define NFRAMES 1000
#define ETHERTYPE_TEST 0x88b5

static struct netns_pair ns;

/* Frame @p seq: sizes 60..1514, every fifth one VLAN-tagged (vid 42). */
static uint32_t make_frame(uint32_t seq, uint8_t *f, int dir)
{
	static const uint32_t sizes[] = { 60, 64, 128, 333, 512, 1000, 1500, 1514 };
	uint32_t len = sizes[seq % 8], o = 12;
	uint16_t et = htons(ETHERTYPE_TEST);

	memcpy(f, "\x02\x00\x00\x00\x00\x0b", 6);
	memcpy(f + 6, "\x02\x00\x00\x00\x00\x0a", 6);
	f[5] ^= (uint8_t)dir;
	if (seq % 5 == 0) {
		uint16_t tag[2] = { htons(0x8100), htons(42 | (3 << 13)) };

		memcpy(f + o, tag, 4);
		o += 4;
	}
	memcpy(f + o, &et, 2);
	o += 2;
	memcpy(f + o, &seq, 4);
	for (uint32_t i = o + 4; i < len; i++)
		f[i] = (uint8_t)(seq * 7 + i);
	return len;
}

/* The sequence number of a test frame, or -1 for other traffic. */
static int64_t frame_seq(const uint8_t *f, uint32_t len)
{
	uint32_t o = 12, seq;
	uint16_t et;

	memcpy(&et, f + o, 2);
	if (et == htons(0x8100)) {
		o += 4;
		memcpy(&et, f + o, 2);
	}
	if (et != htons(ETHERTYPE_TEST) || len < o + 6)
		return -1;
	memcpy(&seq, f + o + 2, 4);
	return seq;
}

static int wait_link_up(struct lab_port *p)
{
	for (int i = 0; i < 6000; i++) { /* 30 s */
		struct lab_port_link l;

		if (lab_port_link(p, &l) == 0 && l.up)
			return 0;
		sleep_ms(5);
	}
	return -1;
}

/* Send NFRAMES from @p tx to @p rx (all its RX queues), check each frame. */
static void send_and_check(struct lab_port *tx, struct lab_port *rx, int dir)
{
	static uint8_t want[1600];
	struct lab_cache *txo = lab_port_txq_owner(tx, 0);
	struct lab_port_stats st;
	uint64_t bytes_sent = 0, bytes_got = 0, t0 = lab_now_ns();
	uint32_t sent = 0, got = 0, bad = 0, tagged = 0;
	static uint8_t seen[NFRAMES];

	memset(seen, 0, sizeof(seen));
	while ((sent < NFRAMES || got < NFRAMES) && lab_now_ns() - t0 < 30000000000ull) {
		struct lab_buf *b[32];
		uint16_t n = 0;

		/* At most 128 ahead of what arrived: the veth's queue (256 with an
		 * XDP program) would drop what a receiver kept waiting by a busy
		 * machine's softirq left in it. */
		if (sent < NFRAMES && sent - got < 128) {
			uint16_t want_n = NFRAMES - sent < 32 ? (uint16_t)(NFRAMES - sent) : 32, s;

			n = (uint16_t)lab_alloc_bulk(lab_port_txq_owner(tx, 0)->pool, txo, b, want_n, 0);
			for (uint16_t i = 0; i < n; i++) {
				lab_buf_reset(b[i], 128);
				b[i]->data_len = make_frame(sent + i, lab_buf_data(b[i]), dir);
			}
			s = lab_port_tx_burst(tx, 0, b, n);
			for (uint16_t i = 0; i < s; i++)
				bytes_sent += b[i]->data_len;
			lab_free_bulk(txo, b + s, n - s);
			sent += s;
		}
		for (uint16_t q = 0; q < rx->nb_rxq; q++) {
			n = lab_port_rx_burst(rx, q, b, 32);
			for (uint16_t i = 0; i < n; i++) {
				int64_t seq = frame_seq(lab_buf_data(b[i]), b[i]->data_len);
				uint32_t len;

				if (seq < 0 || seq >= NFRAMES)
					continue;
				len = make_frame((uint32_t)seq, want, dir);
				if (len != b[i]->data_len || memcmp(want, lab_buf_data(b[i]), len) != 0 ||
				    seen[seq]++)
					bad++;
				got++;
				tagged += memcmp((uint8_t *)lab_buf_data(b[i]) + 12, "\x81\x00", 2) == 0;
				bytes_got += b[i]->data_len;
			}
			lab_free_bulk(lab_port_rxq_owner(rx, q), b, n);
		}
	}
	CU_ASSERT_EQUAL(sent, NFRAMES);
	CU_ASSERT_EQUAL(got, NFRAMES);
	CU_ASSERT_EQUAL(bad, 0);
	CU_ASSERT_EQUAL(tagged, NFRAMES / 5); /* the tags came back */
	CU_ASSERT_EQUAL(bytes_got, bytes_sent);
	lab_port_stats(tx, &st);
	CU_ASSERT_EQUAL(st.tx_total.packets, NFRAMES);
	CU_ASSERT_EQUAL(st.tx_total.bytes, bytes_sent);
	lab_port_stats(rx, &st);
	CU_ASSERT(st.rx_total.packets >= NFRAMES);
	if (got != NFRAMES || bad != 0) {
		fprintf(stderr, "dir %d: sent %u, got %u, bad %u; RX port: nobuf %llu, ring_full "
			"%llu, errors %llu\n", dir, sent, got, bad,
			(unsigned long long)st.rx_total.rx_nobuf,
			(unsigned long long)st.rx_total.ring_full,
			(unsigned long long)st.rx_total.errors);
	}
}

/* Open "DRIVER:iface=<veth of namespace i>EXTRA" inside namespace @p i. */
static struct lab_port *open_in(int i, const char *driver, const char *extra,
				struct lab_pool *p, uint16_t nrx)
{
	char dev[128];
	struct lab_port *port;

	snprintf(dev, sizeof(dev), "%s:iface=%s%s", driver, ns.ifc[i], extra);
	CU_ASSERT_EQUAL_FATAL(netns_enter(&ns, i), 0);
	port = port_open(dev, p, nrx, 1);
	CU_ASSERT_EQUAL_FATAL(netns_enter(&ns, -1), 0);
	return port;
}

/* Ports @p drv_a in namespace 0 and @p drv_b (with @p extra_b and @p nrx_b RX
 * queues) in namespace 1 on pool @p p; NFRAMES each way, every frame checked;
 * the pool whole at the end, with no quality finding. */
static void both_ways_on(struct lab_pool *p, const char *drv_a, uint16_t nrx_a, const char *drv_b,
			 const char *extra_b, uint16_t nrx_b)
{
	struct lab_port *a = open_in(0, drv_a, "", p, nrx_a);
	struct lab_port *b = open_in(1, drv_b, extra_b, p, nrx_b);

	CU_ASSERT_PTR_NOT_NULL_FATAL(a);
	CU_ASSERT_PTR_NOT_NULL_FATAL(b);
	CU_ASSERT_EQUAL(lab_port_start(a), 0);
	CU_ASSERT_EQUAL(lab_port_start(b), 0);
	CU_ASSERT_EQUAL(wait_link_up(a), 0);
	CU_ASSERT_EQUAL(wait_link_up(b), 0);
	send_and_check(a, b, 0);
	send_and_check(b, a, 1);
	CU_ASSERT_EQUAL(lab_port_close(a), 0);
	CU_ASSERT_EQUAL(lab_port_close(b), 0);
	lab_pool_quality_check(p);
	assert_no_findings(p);
	assert_pool_whole(p);
}

static void both_ways(const char *driver, const char *extra_b, uint16_t nrx_b)
{
	both_ways_on(port_pool(2048 - 64, 4096), driver, 1, driver, extra_b, nrx_b);
}

static void test_af_packet_both_ways(void)
{
	both_ways("af_packet", ",fanout=hash", 2);
}

static void test_pcap_live_both_ways(void)
{
	both_ways("pcap", ",snaplen=2048", 1);
}

/* af_xdp needs buffers of at least 2048 bytes from buf_addr (a UMEM chunk). */
static struct lab_pool *xdp_pool(uint32_t n, enum lab_quality q)
{
	struct lab_pool *p = port_pool(2176, n);

	if (p != NULL)
		lab_pool_set_quality(p, q, 1);
	return p;
}

/* Both ends af_xdp on one pool (two UMEMs over the same memory); the second
 * port has two RX queues (two sockets sharing its UMEM). Quality full: the
 * kernel writes only into buffers posted to it, never into freed ones. */
static void test_af_xdp_both_ways(void)
{
	both_ways_on(xdp_pool(4096, LAB_QUALITY_FULL), "af_xdp", 1, "af_xdp", "", 2);
}

/* af_xdp against af_packet: zero-copy RX and TX meet a copying driver, whose
 * frames the veth spreads over both queues: the af_xdp port binds both. */
static void test_af_xdp_with_af_packet(void)
{
	both_ways_on(xdp_pool(4096, LAB_QUALITY_OFF), "af_xdp", 2, "af_packet", "", 1);
	both_ways_on(xdp_pool(4096, LAB_QUALITY_OFF), "af_packet", 1, "af_xdp", ",mode=skb", 2);
}

/* A fill ring the pool cannot fill: rx_nobuf counts the missing buffers once,
 * traffic still flows on the ones posted, nothing is lost. */
static void test_af_xdp_rx_nobuf(void)
{
	struct lab_pool *p = xdp_pool(1024, LAB_QUALITY_OFF);
	struct lab_port_conf c;
	struct lab_port *a, *b;
	struct lab_port_stats st;
	char dev[64];

	CU_ASSERT_PTR_NOT_NULL_FATAL(p);
	lab_port_conf_init(&c);
	c.pool = p;
	c.rx_ring_size = 2048; /* more than the pool holds */
	c.tx_ring_size = 64;
	snprintf(dev, sizeof(dev), "af_xdp:iface=%s", ns.ifc[1]);
	CU_ASSERT_EQUAL_FATAL(netns_enter(&ns, 1), 0);
	b = lab_port_open(dev, &c);
	CU_ASSERT_EQUAL_FATAL(netns_enter(&ns, -1), 0);
	CU_ASSERT_PTR_NOT_NULL_FATAL(b);
	CU_ASSERT_EQUAL(lab_port_start(b), 0);
	lab_port_stats(b, &st);
	CU_ASSERT(st.rx_total.rx_nobuf > 0);
	CU_ASSERT(st.rx_total.rx_nobuf <= 2048);
	/* The TX side needs a few buffers: give back part of the fill ring by
	 * closing and reopening with a ring the pool can fill. */
	CU_ASSERT_EQUAL(lab_port_close(b), 0);
	c.rx_ring_size = 512;
	CU_ASSERT_EQUAL_FATAL(netns_enter(&ns, 1), 0);
	b = lab_port_open(dev, &c);
	CU_ASSERT_EQUAL_FATAL(netns_enter(&ns, -1), 0);
	CU_ASSERT_PTR_NOT_NULL_FATAL(b);
	a = open_in(0, "af_xdp", "", p, 1);
	CU_ASSERT_PTR_NOT_NULL_FATAL(a);
	CU_ASSERT_EQUAL(lab_port_start(a), 0);
	CU_ASSERT_EQUAL(lab_port_start(b), 0);
	CU_ASSERT_EQUAL(wait_link_up(a), 0);
	lab_port_stats(b, &st);
	CU_ASSERT_EQUAL(st.rx_total.rx_nobuf, 0);
	send_and_check(a, b, 0);
	CU_ASSERT_EQUAL(lab_port_close(a), 0);
	CU_ASSERT_EQUAL(lab_port_close(b), 0);
	assert_pool_whole(p);
}

/* Bad configurations: each refused with a message naming the problem. */
static void test_af_xdp_errors(void)
{
	struct lab_pool *growing, *small = port_pool(2048 - 64, 1024), *ok = xdp_pool(1024, 0);
	struct lab_pool_opts o;
	char dev[96];

	small_pool_opts(&o, 512, 4096, 8, 16, 32, 8);
	o.cell_size = 2176;
	growing = lab_pool_create(&o);
	CU_ASSERT_PTR_NOT_NULL_FATAL(growing);
	CU_ASSERT_PTR_NOT_NULL_FATAL(small);
	CU_ASSERT_PTR_NOT_NULL_FATAL(ok);
	CU_ASSERT_EQUAL_FATAL(netns_enter(&ns, 0), 0);
	lab_test_log_capture();
	snprintf(dev, sizeof(dev), "af_xdp:iface=%s", ns.ifc[0]);
	CU_ASSERT_PTR_NULL(port_open(dev, growing, 1, 1));
	CU_ASSERT_EQUAL(lab_errno, EINVAL);
	CU_ASSERT_PTR_NOT_NULL(strstr(lab_test_log_text(), "must be fixed (initial = max"));
	CU_ASSERT_PTR_NULL(port_open(dev, small, 1, 1));
	CU_ASSERT_PTR_NOT_NULL(strstr(lab_test_log_text(), "an AF_XDP chunk needs at least 2048"));
	CU_ASSERT_PTR_NULL(port_open("af_xdp:iface=nosuch0", ok, 1, 1));
	CU_ASSERT_EQUAL(lab_errno, ENODEV);
	CU_ASSERT_PTR_NOT_NULL(strstr(lab_test_log_text(), "no interface 'nosuch0'"));
	CU_ASSERT_PTR_NULL(port_open("af_xdp:queue=0", ok, 1, 1));
	CU_ASSERT_PTR_NOT_NULL(strstr(lab_test_log_text(), "'iface' is required"));
	snprintf(dev, sizeof(dev), "af_xdp:iface=%s,mode=fast", ns.ifc[0]);
	CU_ASSERT_PTR_NULL(port_open(dev, ok, 1, 1));
	CU_ASSERT_PTR_NOT_NULL(strstr(lab_test_log_text(), "'mode'"));
	CU_ASSERT_PTR_NOT_NULL(strstr(lab_test_log_text(), "native"));
	snprintf(dev, sizeof(dev), "af_xdp:iface=%s,queue=7", ns.ifc[0]);
	CU_ASSERT_PTR_NULL(port_open(dev, ok, 1, 1));
	CU_ASSERT_PTR_NOT_NULL(strstr(lab_test_log_text(), "queue 7"));
	/* veth has no zero-copy: asking for it fails instead of falling back. */
	snprintf(dev, sizeof(dev), "af_xdp:iface=%s,bind=zerocopy", ns.ifc[0]);
	CU_ASSERT_PTR_NULL(port_open(dev, ok, 1, 1));
	CU_ASSERT_PTR_NOT_NULL(strstr(lab_test_log_text(), "zerocopy"));
	{
		struct lab_port_conf c;

		lab_port_conf_init(&c);
		c.pool = ok;
		c.rx_ring_size = 1000;
		snprintf(dev, sizeof(dev), "af_xdp:iface=%s", ns.ifc[0]);
		CU_ASSERT_PTR_NULL(lab_port_open(dev, &c));
		CU_ASSERT_PTR_NOT_NULL(strstr(lab_test_log_text(), "RX ring size 1000: AF_XDP "
							"rings must be a power of two"));
	}
	lab_test_log_release();
	CU_ASSERT_EQUAL_FATAL(netns_enter(&ns, -1), 0);
	assert_pool_whole(growing);
	assert_pool_whole(small);
	assert_pool_whole(ok);
}

/* Send @p n test frames from @p tx (waiting, up to a ceiling, for TX room). */
static uint32_t send_frames(struct lab_port *tx, uint32_t n)
{
	struct lab_cache *txo = lab_port_txq_owner(tx, 0);
	uint64_t t0 = lab_now_ns();
	uint32_t sent = 0;

	while (sent < n && lab_now_ns() - t0 < 30000000000ull) {
		struct lab_buf *b[32];
		uint16_t k = n - sent < 32 ? (uint16_t)(n - sent) : 32, s;

		k = (uint16_t)lab_alloc_bulk(txo->pool, txo, b, k, 0);
		for (uint16_t i = 0; i < k; i++) {
			lab_buf_reset(b[i], 128);
			b[i]->data_len = make_frame(sent + i, lab_buf_data(b[i]), 0);
		}
		s = lab_port_tx_burst(tx, 0, b, k);
		lab_free_bulk(txo, b + s, k - s);
		sent += s;
	}
	return sent;
}

/* Receive the test frames @p rx has: until what it received and what its
 * kernel ring dropped make @p sent (a ceiling of 30 s), then until a poll
 * finds nothing 200 ms after the last frame (one more would be counted). The
 * quiet is judged after a poll, not before: a thread held off the CPU for
 * 200 ms would otherwise stop with frames still in the ring. */
static uint32_t drain_frames(struct lab_port *rx, uint32_t sent)
{
	uint64_t t0 = lab_now_ns(), last = t0;
	struct lab_port_stats st;
	uint32_t got = 0;

	for (;;) {
		struct lab_buf *b[32];
		uint16_t n = lab_port_rx_burst(rx, 0, b, 32);

		for (uint16_t i = 0; i < n; i++)
			got += frame_seq(lab_buf_data(b[i]), b[i]->data_len) >= 0;
		lab_free_bulk(lab_port_rxq_owner(rx, 0), b, n);
		if (n != 0) {
			last = lab_now_ns();
			continue;
		}
		lab_port_stats(rx, &st);
		if ((got + st.rx_total.ring_full >= sent || lab_now_ns() - t0 > 30000000000ull) &&
		    lab_now_ns() - last >= 200000000ull)
			return got;
		sleep_ms(1);
	}
}

/*
 * A receiver that is not polled while frames arrive, on a ring of two 4 KiB
 * blocks: the kernel drops what finds the ring full, and the port says so
 * (PACKET_STATISTICS -> RX ring_full, summed over reads, which reset it):
 * every frame sent was either received or counted as dropped.
 */
static void test_af_packet_kernel_drops(void)
{
	struct lab_pool *p = port_pool(2048 - 64, 4096);
	struct lab_port *a = open_in(0, "af_packet", "", p, 1);
	struct lab_port *b = open_in(1, "af_packet", ",blocksize=4096,blocks=2", p, 1);
	struct lab_port_stats st;
	uint32_t sent, got;
	uint64_t t0, changed, last = 0;

	CU_ASSERT_PTR_NOT_NULL_FATAL(a);
	CU_ASSERT_PTR_NOT_NULL_FATAL(b);
	CU_ASSERT_EQUAL(lab_port_start(a), 0);
	CU_ASSERT_EQUAL(lab_port_start(b), 0);
	CU_ASSERT_EQUAL(wait_link_up(a), 0);
	CU_ASSERT_EQUAL(wait_link_up(b), 0);
	lab_port_stats_reset(b);
	sent = send_frames(a, 500);
	CU_ASSERT_EQUAL(sent, 500);
	/*
	 * Wait until the kernel has dealt with every frame: its drop count has
	 * grown and then not changed for 200 ms (a ceiling of 30 s). How many
	 * frames the two blocks hold depends on their sizes (60 to 1514 bytes),
	 * so no drop count is known in advance; what was received is counted
	 * only by draining, after this.
	 */
	t0 = lab_now_ns();
	changed = t0;
	do {
		sleep_ms(5);
		lab_port_stats(b, &st);
		if (st.rx_total.ring_full != last) {
			last = st.rx_total.ring_full;
			changed = lab_now_ns();
		}
	} while ((last == 0 || lab_now_ns() - changed < 200000000ull) &&
		 lab_now_ns() - t0 < 30000000000ull);
	CU_ASSERT(st.rx_total.ring_full > 0);
	got = drain_frames(b, sent);
	lab_port_stats(b, &st);
	CU_ASSERT(got > 0);
	CU_ASSERT(got < sent);
	/* The silent namespaces carry nothing else: the counts add up exactly. */
	CU_ASSERT_EQUAL(got + st.rx_total.ring_full, sent);
	CU_ASSERT_EQUAL(st.rx_total.errors, 0);
	/* A stats reset starts the count again from zero. */
	lab_port_stats_reset(b);
	lab_port_stats(b, &st);
	CU_ASSERT_EQUAL(st.rx_total.ring_full, 0);
	lab_test_log_capture();
	CU_ASSERT_EQUAL(lab_port_close(b), 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(lab_test_log_text(), "the kernel dropped"));
	lab_test_log_release();
	CU_ASSERT_EQUAL(lab_port_close(a), 0);
	assert_pool_whole(p);
}

static void test_af_packet_bad_iface(void)
{
	struct lab_pool *p = port_pool(2048 - 64, 1024);

	lab_test_log_capture();
	CU_ASSERT_PTR_NULL(port_open("af_packet:iface=nosuch0", p, 1, 1));
	CU_ASSERT_EQUAL(lab_errno, ENODEV);
	CU_ASSERT_PTR_NOT_NULL(strstr(lab_test_log_text(), "no interface 'nosuch0'"));
	CU_ASSERT_PTR_NULL(port_open("af_packet:blocks=4", p, 1, 1));
	CU_ASSERT_PTR_NOT_NULL(strstr(lab_test_log_text(), "'iface' is required"));
	lab_test_log_release();
	assert_pool_whole(p);
}

int main(void)
{
	static const struct lab_test tests[] = {
		LAB_TEST(test_af_packet_both_ways),
		LAB_TEST(test_pcap_live_both_ways),
		LAB_TEST(test_af_xdp_both_ways),
		LAB_TEST(test_af_xdp_with_af_packet),
		LAB_TEST(test_af_xdp_rx_nobuf),
		LAB_TEST(test_af_xdp_errors),
		LAB_TEST(test_af_packet_kernel_drops),
		LAB_TEST(test_af_packet_bad_iface),
		LAB_TEST_END,
	};
	const char *why = netns_unavailable();

	/* LAB_TEST_LOG=port:debug shows the drivers' (and libbpf's) log while debugging. */
	if (getenv("LAB_TEST_LOG") != NULL)
		lab_log_set_levels(getenv("LAB_TEST_LOG"));
	int rc;

	if (why != NULL)
		return lab_test_skip("netns", tests, why);
	if (netns_pair_make(&ns) < 0) {
		netns_pair_remove(&ns);
		fprintf(stderr, "netns: cannot make the namespaces and veth pair\n");
		return 1;
	}
	rc = lab_test_run("netns", tests);
	netns_pair_remove(&ns);
	return rc;
}
