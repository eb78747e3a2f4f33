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
	for (int i = 0; i < 400; i++) {
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
	uint64_t bytes_sent = 0, bytes_got = 0, t0 = now_ns_test();
	uint32_t sent = 0, got = 0, bad = 0, tagged = 0;
	static uint8_t seen[NFRAMES];

	memset(seen, 0, sizeof(seen));
	while ((sent < NFRAMES || got < NFRAMES) && now_ns_test() - t0 < 5000000000ull) {
		struct lab_buf *b[32];
		uint16_t n = 0;

		if (sent < NFRAMES) {
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
	if (got != NFRAMES || bad != 0)
		fprintf(stderr, "dir %d: sent %u, got %u, bad %u\n", dir, sent, got, bad);
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

/* A port of @p driver in each namespace (the second with @p extra_b and
 * @p nrx_b RX queues); NFRAMES each way, every frame checked. */
static void both_ways(const char *driver, const char *extra_b, uint16_t nrx_b)
{
	/* af_xdp: the UMEM chunk (2048 bytes at least) is a buffer's room. */
	struct lab_pool *p = port_pool(strcmp(driver, "af_xdp") == 0 ? 2176 : 2048 - 64, 4096);
	struct lab_port *a = open_in(0, driver, "", p, 1);
	struct lab_port *b = open_in(1, driver, extra_b, p, nrx_b);

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
	assert_pool_whole(p);
}

static void test_af_packet_both_ways(void)
{
	both_ways("af_packet", ",fanout=hash", 2);
}

static void test_pcap_live_both_ways(void)
{
	both_ways("pcap", ",snaplen=2048", 1);
}

static void test_af_xdp_both_ways(void)
{
	both_ways("af_xdp", "", 1);
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
		LAB_TEST(test_af_packet_bad_iface),
		LAB_TEST_END,
	};
	const char *why = netns_unavailable();
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
