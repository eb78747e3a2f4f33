/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * DPDK's side of labbench port: net_null, net_ring (rte_eth_from_rings, one
 * ring looped back as labyrinth's ring:loop=1) and net_pcap, with an mbuf
 * pool that has the main lcore's cache, at burst 32.
 */
#include <stdio.h>

#include <rte_bus_vdev.h>
#include <rte_errno.h>
#include <rte_eth_ring.h>
#include <rte_ethdev.h>
#include <rte_mbuf.h>
#include <rte_ring.h>

#include "bench.h"

static struct rte_mempool *mp;

int dpdk_port_setup(void)
{
	if (dpdk_eal_init() != 0)
		return -1;
	mp = rte_pktmbuf_pool_create("port_bench", 16383, 512, 0, 2048 + RTE_PKTMBUF_HEADROOM,
				     SOCKET_ID_ANY);
	if (mp == NULL) {
		fprintf(stderr, "labbench port: DPDK mbuf pool: %s\n", rte_strerror(rte_errno));
		return -1;
	}
	return 0;
}

static int port_up(uint16_t port)
{
	struct rte_eth_conf conf = { 0 };

	if (rte_eth_dev_configure(port, 1, 1, &conf) != 0 ||
	    rte_eth_rx_queue_setup(port, 0, 512, SOCKET_ID_ANY, NULL, mp) != 0 ||
	    rte_eth_tx_queue_setup(port, 0, 512, SOCKET_ID_ANY, NULL) != 0 ||
	    rte_eth_dev_start(port) != 0) {
		fprintf(stderr, "labbench port: DPDK port %u will not start\n", port);
		return -1;
	}
	return 0;
}

static int vdev_port(const char *name, const char *args, uint16_t *port)
{
	if (rte_vdev_init(name, args) != 0 || rte_eth_dev_get_port_by_name(name, port) != 0) {
		fprintf(stderr, "labbench port: DPDK vdev %s,%s: %s\n", name, args,
			rte_strerror(rte_errno));
		return -1;
	}
	return port_up(*port);
}

static void port_down(uint16_t port, const char *vdev)
{
	rte_eth_dev_stop(port);
	rte_eth_dev_close(port);
	if (vdev != NULL)
		rte_vdev_uninit(vdev);
}

static double rx_tx(uint16_t port, uint64_t total)
{
	struct rte_mbuf *b[32];
	uint64_t done = 0, t0 = lab_now_ns();

	while (done < total) {
		uint16_t n = rte_eth_rx_burst(port, 0, b, 32);
		uint16_t s = rte_eth_tx_burst(port, 0, b, n);

		if (unlikely(s != n))
			rte_pktmbuf_free_bulk(b + s, n - s);
		done += n;
	}
	return (double)done * 1e3 / (double)(lab_now_ns() - t0);
}

double dpdk_port_null(uint64_t total)
{
	static uint16_t port;
	static int up;
	double mpps;

	if (!up && vdev_port("net_null_lb", "size=64", &port) != 0)
		return 0;
	up = 1;
	mpps = rx_tx(port, total);
	return mpps;
}

double dpdk_port_ring(uint64_t total)
{
	static struct rte_ring *r;
	static int port = -1;
	struct rte_mbuf *b[512];
	double mpps;

	if (port < 0) {
		r = rte_ring_create("lb_loop", 1024, SOCKET_ID_ANY, RING_F_SP_ENQ | RING_F_SC_DEQ);
		port = r != NULL ? rte_eth_from_rings("lb_ring", &r, 1, &r, 1, SOCKET_ID_ANY) : -1;
		if (port < 0 || port_up((uint16_t)port) != 0) {
			fprintf(stderr, "labbench port: DPDK net_ring: %s\n", rte_strerror(rte_errno));
			port = -1;
			return 0;
		}
	}
	if (rte_pktmbuf_alloc_bulk(mp, b, 512) != 0 ||
	    rte_eth_tx_burst((uint16_t)port, 0, b, 512) != 512)
		return 0;
	mpps = rx_tx((uint16_t)port, total);
	for (uint16_t n; (n = rte_eth_rx_burst((uint16_t)port, 0, b, 512)) != 0;)
		rte_pktmbuf_free_bulk(b, n);
	return mpps;
}

double dpdk_port_pcap(const char *file, uint64_t frames)
{
	static int round;
	char name[32], args[300];
	struct rte_mbuf *b[32];
	uint64_t done = 0, t0;
	uint16_t port;
	int idle = 0;

	snprintf(name, sizeof(name), "net_pcap_lb%d", round++);
	snprintf(args, sizeof(args), "rx_pcap=%s", file);
	if (vdev_port(name, args, &port) != 0)
		return 0;
	t0 = lab_now_ns();
	while (done < frames && idle < 1000) {
		uint16_t n = rte_eth_rx_burst(port, 0, b, 32);

		rte_pktmbuf_free_bulk(b, n);
		done += n;
		idle = n ? 0 : idle + 1;
	}
	t0 = lab_now_ns() - t0;
	port_down(port, name);
	return (double)done * 1e3 / (double)t0;
}
