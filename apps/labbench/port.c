/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * labbench port: packets per second through a port, RX then TX at burst 32,
 * beside DPDK's driver of the same kind in the same run:
 *   null: null RX -> TX back to the same port (frees)     vs net_null
 *   ring: a looped ring port, 512 packets circulating      vs net_ring (rte_eth_from_rings)
 *   pcap: replay of a 1 M-frame file of 64-byte frames, RX and free
 *                                                         vs net_pcap rx_pcap=
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

static struct lab_port *open_port(const char *dev, struct lab_pool *p)
{
	struct lab_port_conf c;
	struct lab_port *port;

	lab_port_conf_init(&c);
	c.pool = p;
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
	uint64_t done = 0, t0 = now_ns();

	while (done < total) {
		uint16_t n = lab_port_rx_burst(port, 0, b, 32), s;

		lab_buf_transfer(rxo, txo, b, n);
		s = lab_port_tx_burst(port, 0, b, n);
		if (lab_unlikely(s != n))
			lab_free_bulk(txo, b + s, n - s);
		done += n;
	}
	return (double)done * 1e3 / (double)(now_ns() - t0);
}

static double lab_null(struct lab_pool *p)
{
	struct lab_port *port = open_port("null:size=64", p);
	double mpps;

	if (port == NULL)
		return 0;
	mpps = lab_rx_tx(port, P_PACKETS);
	lab_port_close(port);
	return mpps;
}

static double lab_ring(struct lab_pool *p)
{
	struct lab_port *port = open_port("ring:name=bench,loop=1", p);
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

static double lab_pcap(struct lab_pool *p, const char *file)
{
	struct lab_buf *b[32];
	char dev[300];
	struct lab_port *port;
	uint64_t done = 0, t0;

	snprintf(dev, sizeof(dev), "pcap:rx=%s", file);
	port = open_port(dev, p);
	if (port == NULL)
		return 0;
	t0 = now_ns();
	while (done < P_FILE_FRAMES) {
		uint16_t n = lab_port_rx_burst(port, 0, b, 32);

		lab_free_bulk(lab_port_rxq_owner(port, 0), b, n);
		done += n;
		if (n == 0) {
			struct lab_port_link l;

			lab_port_link(port, &l);
			if (l.rx_done)
				break;
		}
	}
	t0 = now_ns() - t0;
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

static void emit_port(const char *driver, const char *impl, double mpps, double peer)
{
	printf("{\"bench\":\"port\",\"driver\":\"%s\",\"impl\":\"%s\",\"burst\":32,"
	       "\"mpps\":%.2f", driver, impl, mpps);
	if (peer > 0)
		printf(",\"ratio_vs_dpdk\":%.2f", mpps / peer);
	printf("}\n");
	fflush(stdout);
}

int run_port_bench(void)
{
	static const char *const drivers[] = { "null", "ring", "pcap" };
	double lab[3] = { 0 }, dpdk[3] = { 0 };
	char file[64];
	struct lab_pool *p = port_bench_pool();
	int have_dpdk = 0;

	if (p == NULL)
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
	lab_pcap(p, file); /* the file into the page cache */
	for (int r = 0; r < P_ROUNDS; r++) {
		double v[3] = { lab_null(p), lab_ring(p), lab_pcap(p, file) };

		for (int i = 0; i < 3; i++)
			if (v[i] > lab[i])
				lab[i] = v[i];
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
	for (int i = 0; i < 3; i++) {
		emit_port(drivers[i], "labyrinth", lab[i], dpdk[i]);
		if (have_dpdk)
			emit_port(drivers[i], "dpdk", dpdk[i], 0);
	}
	unlink(file);
	return lab_pool_destroy(p) == 0 ? 0 : -1;
}
