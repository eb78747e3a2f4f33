/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * labbench port: packets per second through a port, RX then TX at burst 32,
 * beside DPDK's driver of the same kind in the same run:
 *   null: null RX -> TX back to the same port (frees)     vs net_null
 *   ring: a looped ring port, 512 packets circulating      vs net_ring (rte_eth_from_rings)
 *   pcap: replay of a 1 M-frame file of 64-byte frames, RX and free
 *                                                         vs net_pcap rx_pcap=
 * Labyrinth's rows come at quality "off" and at the default level ("sampled"),
 * each with a "level" field, the queues of a port one ownership domain (RX
 * queue 0 and TX queue 0 share one owner cache, "owners":"pair": the hand-off
 * from RX to TX changes no owner). One more ring row at the default level
 * gives each queue its own owner ("owners":"split"): what a checked transfer
 * across domains costs, twice per packet (RX to TX, TX to the peer's RX).
 * Best of 3 interleaved rounds. Figures, never pass/fail.
 */
#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <labyrinth/lab_log.h>
#include <labyrinth/lab_port.h>

#include "bench.h"

#define P_PACKETS 20000000ull
#define P_ROUNDS 3
#define P_FILE_FRAMES 1000000u

static struct lab_pool *port_bench_pool(void)
{
	struct lab_pool_opts o;

	lab_pool_opts_init(&o);
	o.name = "port";
	o.cell_size = 2048 + 128;
	o.headroom = 128;
	o.initial = 16384;
	o.max = 16384;
	return lab_pool_create(&o);
}

/* How a row is run: the pool's quality level, and whether RX queue 0 and TX
 * queue 0 share one owner cache (@c dom) or each has its own (NULL). */
struct port_run {
	enum lab_quality q;
	struct lab_cache *dom;
};

static struct lab_port *open_port(const char *dev, struct lab_pool *p, const struct port_run *r)
{
	struct lab_cache *const dom[1] = { r->dom };
	struct lab_port_conf c;
	struct lab_port *port;

	lab_port_conf_init(&c);
	c.pool = p;
	c.rxq_owner = dom;
	c.txq_owner = dom;
	lab_pool_set_quality(p, r->q, 0);
	port = lab_port_open(dev, &c);
	if (port == NULL || lab_port_start(port) != 0) {
		fprintf(stderr, "labbench port: cannot open '%s'\n", dev);
		return NULL;
	}
	return port;
}

/* RX a burst, hand it to the TX queue, TX it; until @p total packets. */
static double lab_rx_tx(struct lab_port *port, uint64_t total)
{
	struct lab_cache *rxo = lab_port_rxq_owner(port, 0), *txo = lab_port_txq_owner(port, 0);
	struct lab_buf *b[32];
	uint64_t done = 0, t0 = lab_now_ns();

	while (done < total) {
		uint16_t n = lab_port_rx_burst(port, 0, b, 32), s;

		lab_port_handoff(rxo, txo, b, n);
		s = lab_port_tx_burst(port, 0, b, n);
		if (lab_unlikely(s != n))
			lab_free_frames(txo, b + s, n - s);
		done += n;
	}
	return (double)done * 1e3 / (double)(lab_now_ns() - t0);
}

static double lab_null(struct lab_pool *p, const struct port_run *r)
{
	struct lab_port *port = open_port("null:size=64", p, r);
	double mpps;

	if (port == NULL)
		return 0;
	mpps = lab_rx_tx(port, P_PACKETS);
	lab_port_close(port);
	return mpps;
}

static double lab_ring(struct lab_pool *p, const struct port_run *r)
{
	struct lab_port *port = open_port("ring:name=bench,loop=1", p, r);
	struct lab_buf *b[512];
	double mpps;

	if (port == NULL)
		return 0;
	if (lab_alloc_bulk(p, lab_port_txq_owner(port, 0), b, 512, 0) != 512 ||
	    lab_port_tx_burst(port, 0, b, 512) != 512) {
		fprintf(stderr, "labbench port: cannot prime the ring\n");
		lab_port_close(port);
		return 0;
	}
	mpps = lab_rx_tx(port, P_PACKETS);
	lab_port_close(port); /* frees what circulates */
	return mpps;
}

static double lab_pcap(struct lab_pool *p, const struct port_run *r, const char *file)
{
	struct lab_buf *b[32];
	char dev[300];
	struct lab_port *port;
	uint64_t done = 0, t0;

	snprintf(dev, sizeof(dev), "pcap:rx=%s,timing=fast", file);
	port = open_port(dev, p, r);
	if (port == NULL)
		return 0;
	t0 = lab_now_ns();
	while (done < P_FILE_FRAMES) {
		uint16_t n = lab_port_rx_burst(port, 0, b, 32);

		lab_free_frames(lab_port_rxq_owner(port, 0), b, n);
		done += n;
		if (n == 0) {
			struct lab_port_link l;

			lab_port_link(port, &l);
			if (l.rx_done)
				break;
		}
	}
	t0 = lab_now_ns() - t0;
	lab_port_close(port);
	return (double)done * 1e3 / (double)t0;
}

/* 1 M frames of 64 bytes (the replay's input). */
static int make_file(const char *file)
{
	pcap_t *pc = pcap_open_dead(DLT_EN10MB, 65535);
	pcap_dumper_t *d = pc != NULL ? pcap_dump_open(pc, file) : NULL;
	struct pcap_pkthdr h = { .caplen = 64, .len = 64 };
	unsigned char f[64] = { 2, 0, 0, 0, 0, 1, 2, 0, 0, 0, 0, 2, 0x08, 0x00 };

	if (d == NULL) {
		fprintf(stderr, "labbench port: cannot write %s\n", file);
		return -1;
	}
	for (uint32_t i = 0; i < P_FILE_FRAMES; i++) {
		memcpy(f + 20, &i, 4);
		h.ts.tv_usec = (int)(i % 1000000);
		pcap_dump((u_char *)d, &h, f);
	}
	pcap_dump_close(d);
	pcap_close(pc);
	return 0;
}

static void emit_port(const char *driver, const char *impl, const char *level,
		      const char *owners, double mpps, double peer)
{
	printf("{\"bench\":\"port\",\"driver\":\"%s\",\"impl\":\"%s\",", driver, impl);
	if (level != NULL)
		printf("\"level\":\"%s\",\"owners\":\"%s\",", level, owners);
	printf("\"burst\":32,\"mpps\":%.2f", mpps);
	if (peer > 0)
		printf(",\"ratio_vs_dpdk\":%.2f", mpps / peer);
	printf("}\n");
	fflush(stdout);
}

/* Labyrinth's rows: null, ring, pcap at "off" and "sampled" (queue-pair
 * domain), then the ring at "sampled" with split owners. */
enum { L_ROWS = 7 };

static const struct { const char *driver, *level, *owners; enum lab_quality q; int drv; }
	lab_rows[L_ROWS] = {
		{ "null", "off", "pair", LAB_QUALITY_OFF, 0 },
		{ "ring", "off", "pair", LAB_QUALITY_OFF, 1 },
		{ "pcap", "off", "pair", LAB_QUALITY_OFF, 2 },
		{ "null", "sampled", "pair", LAB_QUALITY_SAMPLED, 0 },
		{ "ring", "sampled", "pair", LAB_QUALITY_SAMPLED, 1 },
		{ "pcap", "sampled", "pair", LAB_QUALITY_SAMPLED, 2 },
		{ "ring", "sampled", "split", LAB_QUALITY_SAMPLED, 1 },
	};

static double lab_row(struct lab_pool *p, int i, struct lab_cache *dom, const char *file)
{
	struct port_run r = { lab_rows[i].q,
			      strcmp(lab_rows[i].owners, "pair") == 0 ? dom : NULL };

	switch (lab_rows[i].drv) {
	case 0:
		return lab_null(p, &r);
	case 1:
		return lab_ring(p, &r);
	default:
		return lab_pcap(p, &r, file);
	}
}

int run_port_bench(void)
{
	static const char *const drivers[] = { "null", "ring", "pcap" };
	double lab[L_ROWS] = { 0 }, dpdk[3] = { 0 };
	char file[64];
	struct lab_pool *p = port_bench_pool();
	struct lab_cache *dom;
	int have_dpdk = 0;

	if (p == NULL)
		return -1;
	dom = lab_cache_create(p, "bench.pair", 256);
	if (dom == NULL)
		return -1;
	snprintf(file, sizeof(file), "/tmp/labbench_port_%d.pcap", (int)getpid());
	if (make_file(file) < 0)
		return -1;
#ifdef LAB_HAVE_DPDK
	have_dpdk = dpdk_port_setup() == 0;
#endif
	if (!have_dpdk)
		fprintf(stderr, "labbench port: no DPDK peers (built without libdpdk or EAL "
			"failed)\n");
	lab_row(p, 2, dom, file); /* the file into the page cache */
	for (int r = 0; r < P_ROUNDS; r++) {
		for (int i = 0; i < L_ROWS; i++) {
			double v = lab_row(p, i, dom, file);

			if (v > lab[i])
				lab[i] = v;
		}
#ifdef LAB_HAVE_DPDK
		if (have_dpdk) {
			double w[3] = { dpdk_port_null(P_PACKETS), dpdk_port_ring(P_PACKETS),
					dpdk_port_pcap(file, P_FILE_FRAMES) };

			for (int i = 0; i < 3; i++)
				if (w[i] > dpdk[i])
					dpdk[i] = w[i];
		}
#endif
	}
	for (int i = 0; i < L_ROWS; i++)
		emit_port(lab_rows[i].driver, "labyrinth", lab_rows[i].level, lab_rows[i].owners,
			  lab[i], dpdk[lab_rows[i].drv]);
	if (have_dpdk)
		for (int i = 0; i < 3; i++)
			emit_port(drivers[i], "dpdk", NULL, NULL, dpdk[i], 0);
	unlink(file);
	lab_pool_set_quality(p, LAB_QUALITY_SAMPLED, 0);
	lab_cache_destroy(dom);
	return lab_pool_destroy(p) == 0 ? 0 : -1;
}
