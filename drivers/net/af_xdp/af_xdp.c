/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * af_xdp: the device string, open (UMEM, program, sockets, in that order),
 * start, close, link state, the kernel's counters and the ops table. The
 * design, and what each file holds, is described in af_xdp_internal.h.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <linux/ethtool.h>
#include <linux/if_link.h>
#include <linux/sockios.h>
#include <linux/if_xdp.h>
#include <net/if.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <bpf/libbpf.h>
#include <xdp/libxdp.h>
#include <xdp/xsk.h>

#include "af_xdp_internal.h"

static const struct lab_devargs_key afx_keys[] = {
	{ "iface", "network interface (required)" },
	{ "queue", "first device queue: port queue i binds device queue queue+i (default 0)" },
	{ "mode", "XDP attach mode: auto, native or skb (default auto: native where the "
		  "driver has it, else skb)" },
	{ "bind", "auto (zero-copy where the driver can, else copy, saying so), zerocopy "
		  "(fail without it) or copy (default auto)" },
	{ NULL, NULL },
};

/*
 * libbpf and libxdp print to stderr by default: route them into the port log
 * (their warnings at INFO, the rest at DEBUG), since every failure that
 * matters comes back as an error we report ourselves, naming the port.
 */
__attribute__((format(printf, 2, 0))) static void lib_log(bool warn, const char *fmt,
							   va_list ap)
{
	char line[512];
	size_t n;

	vsnprintf(line, sizeof(line), fmt, ap);
	n = strlen(line);
	while (n > 0 && line[n - 1] == '\n')
		line[--n] = '\0';
	if (warn)
		LAB_LOG(INFO, port, "af_xdp: %s", line);
	else
		LAB_LOG(DEBUG, port, "af_xdp: %s", line);
}

__attribute__((format(printf, 2, 0))) static int bpf_print(enum libbpf_print_level level,
							  const char *fmt, va_list ap)
{
	lib_log(level == LIBBPF_WARN, fmt, ap);
	return 0;
}

__attribute__((format(printf, 2, 0))) static int xdp_print(enum libxdp_print_level level,
							  const char *fmt, va_list ap)
{
	lib_log(level == LIBXDP_WARN, fmt, ap);
	return 0;
}

static int afx_parse(const struct lab_devargs *a, uint64_t *queue, uint32_t *xdp_flags,
		     int *bmode)
{
	static const char *const modes[] = { "auto", "native", "skb", NULL };
	static const uint32_t mode_flags[] = { 0, XDP_FLAGS_DRV_MODE, XDP_FLAGS_SKB_MODE };
	static const char *const binds[] = { "auto", "zerocopy", "copy", NULL };
	int rc = lab_devargs_u64(a, "queue", 0, 0, 4095, queue), m, b;

	m = lab_devargs_choice(a, "mode", modes, 0);
	b = lab_devargs_choice(a, "bind", binds, 0);
	if (rc < 0 || m < 0 || b < 0)
		return rc < 0 ? rc : (m < 0 ? m : b);
	*xdp_flags = mode_flags[m];
	*bmode = b;
	return 0;
}

/* Say so when the device has RX queues this port does not bind: the program
 * passes their frames to the kernel stack, so the port never sees them. */
static void check_queue_count(const struct afx_port *ap, uint64_t queue, const char *devstr)
{
	struct ethtool_channels ch = { .cmd = ETHTOOL_GCHANNELS };
	struct ifreq ifr;
	uint32_t n;

	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ap->iface);
	ifr.ifr_data = (void *)&ch;
	if (ap->ctl_fd < 0 || ioctl(ap->ctl_fd, SIOCETHTOOL, &ifr) < 0)
		return;
	n = ch.rx_count + ch.combined_count;
	if (n > ap->nsock)
		LAB_LOG(NOTICE, port, "%s: '%s' has %u RX queues and this port binds %u (queues "
			"%llu-%llu): frames arriving on the others go to the kernel stack; open "
			"%u RX queues to see them all", devstr, ap->iface, n, ap->nsock,
			(unsigned long long)queue, (unsigned long long)(queue + ap->nsock - 1), n);
}

/* AF_XDP rings are powers of two. */
static int check_rings(const struct lab_port_queue *qs, uint16_t n, const char *dir,
		       const char *devstr)
{
	for (uint16_t i = 0; i < n; i++)
		if (!LAB_IS_POW2(qs[i].ring_size)) {
			LAB_LOG(ERR, port, "%s: %s ring size %u: AF_XDP rings must be a power of "
				"two", devstr, dir, qs[i].ring_size);
			return -EINVAL;
		}
	return 0;
}

static int afx_open(struct lab_port *p, const struct lab_devargs *a)
{
	char iface[IF_NAMESIZE];
	int ifindex = lab_devargs_iface(a, iface);
	struct afx_port *ap;
	uint32_t xdp_flags = 0, fill;
	uint64_t queue;
	int rc, bmode = 0;

	if (ifindex < 0)
		return ifindex;
	rc = afx_parse(a, &queue, &xdp_flags, &bmode);
	if (rc == 0)
		rc = check_rings(p->rxq, p->nb_rxq, "RX", a->devstr);
	if (rc == 0)
		rc = check_rings(p->txq, p->nb_txq, "TX", a->devstr);
	if (rc < 0)
		return rc;
	libbpf_set_print(bpf_print);
	libxdp_set_print(xdp_print);
	ap = calloc(1, sizeof(*ap));
	if (ap == NULL)
		return -ENOMEM;
	lab_port_set_priv(p, ap);
	snprintf(ap->iface, sizeof(ap->iface), "%s", iface);
	ap->ctl_fd = -1;
	ap->map_fd = ap->prog_fd = ap->link_fd = -1;
	ap->ifindex = ifindex;
	ap->xdp_flags = xdp_flags;
	ap->nsock = p->nb_rxq > p->nb_txq ? p->nb_rxq : p->nb_txq;
	ap->sock = aligned_alloc(LAB_CACHE_LINE, LAB_ALIGN_UP(ap->nsock * sizeof(*ap->sock),
							      LAB_CACHE_LINE));
	if (ap->sock == NULL)
		return -ENOMEM;
	memset(ap->sock, 0, ap->nsock * sizeof(*ap->sock));
	for (uint16_t i = 0; i < ap->nsock; i++)
		ap->sock[i].fd = -1;
	fill = p->nb_rxq ? p->rxq[0].ring_size : XSK_RING_PROD__DEFAULT_NUM_DESCS;
	rc = afx_umem_open(p, ap, a->devstr, fill,
		       p->nb_txq ? p->txq[0].ring_size : XSK_RING_CONS__DEFAULT_NUM_DESCS);
	if (rc == 0)
		rc = afx_prog_attach(ap, (uint32_t)queue + ap->nsock, a->devstr);
	for (uint16_t i = 0; rc == 0 && i < ap->nsock; i++)
		rc = afx_sock_open(p, ap, i, queue, xdp_flags, bmode, a->devstr);
	if (rc < 0)
		return rc;
	ap->ctl_fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	check_queue_count(ap, queue, a->devstr);
	LAB_LOG(INFO, port, "%s: %u socket(s) on '%s' queues %llu-%llu, %s, UMEM %llu bytes "
		"(chunk %u)", a->devstr, ap->nsock, ap->iface, (unsigned long long)queue,
		(unsigned long long)(queue + ap->nsock - 1), ap->zerocopy ? "zero-copy" : "copy mode",
		(unsigned long long)ap->len, ap->chunk);
	return 0;
}

static int afx_start(struct lab_port *p)
{
	/* Post the RX buffers now, from the control thread: the RX queue's
	 * owner is not yet polled by anyone. */
	for (uint16_t i = 0; i < p->nb_rxq; i++)
		afx_rx_refill(&p->rxq[i], p->rxq[i].drv);
	return 0;
}

/* Let queued TX frames go out (up to 100 ms) before the sockets close. */
static void tx_drain(struct lab_port *p, struct afx_port *ap)
{
	struct timespec ms = { 0, 1000000 };

	for (int waited = 0; waited < 100; waited++) {
		bool busy = false;

		for (uint16_t i = 0; i < p->nb_txq && i < ap->nsock; i++) {
			struct afx_sock *s = &ap->sock[i];

			if (s->xsk == NULL || s->t.nposted == 0)
				continue;
			(void)sendto(s->fd, NULL, 0, MSG_DONTWAIT, NULL, 0);
			afx_tx_reap(&p->txq[i], s);
			busy |= s->t.nposted != 0;
		}
		if (!busy)
			return;
		nanosleep(&ms, NULL);
	}
}

static void afx_close(struct lab_port *p)
{
	struct afx_port *ap = lab_port_priv(p);

	if (ap == NULL)
		return;
	if (ap->sock != NULL) {
		tx_drain(p, ap);
		for (uint16_t i = 0; i < ap->nsock; i++) {
			if (ap->sock[i].xsk != NULL)
				xsk_socket__delete(ap->sock[i].xsk);
			afx_sock_release_bufs(p, i, &ap->sock[i]);
		}
	}
	afx_prog_detach(ap);
	if (ap->umem != NULL)
		xsk_umem__delete(ap->umem);
	if (ap->ctl_fd >= 0)
		close(ap->ctl_fd);
	free(ap->sock);
	free(ap);
	lab_port_set_priv(p, NULL);
}

static int afx_link(struct lab_port *p, struct lab_port_link *link)
{
	struct afx_port *ap = lab_port_priv(p);

	return lab_iface_link(ap->ctl_fd, ap->iface, link);
}

/*
 * The kernel's own drops (XDP_STATISTICS) into the queue figures: frames it
 * found no fill buffer for -> rx_nobuf, frames our RX ring had no room for ->
 * ring_full (RX), other drops (a frame longer than the chunk) and invalid
 * descriptors -> errors.
 */
static void afx_xstats(const struct lab_port *p, struct lab_port_stats *st, bool reset)
{
	struct afx_port *ap = lab_port_priv(p);

	for (uint16_t i = 0; ap != NULL && i < ap->nsock; i++) {
		struct afx_sock *s = &ap->sock[i];
		struct xdp_statistics x;
		socklen_t len = sizeof(x);

		if (s->xsk == NULL || getsockopt(s->fd, SOL_XDP, XDP_STATISTICS, &x, &len) < 0)
			continue;
		if (reset) {
			s->base = x;
			continue;
		}
		if (s->has_rx) {
			st->rx[i].rx_nobuf += x.rx_fill_ring_empty_descs - s->base.rx_fill_ring_empty_descs;
			st->rx[i].ring_full += x.rx_ring_full - s->base.rx_ring_full;
			st->rx[i].errors += x.rx_dropped - s->base.rx_dropped +
					    x.rx_invalid_descs - s->base.rx_invalid_descs;
		}
		if (s->has_tx)
			st->tx[i].errors += x.tx_invalid_descs - s->base.tx_invalid_descs;
	}
}

static const struct lab_port_ops afx_ops = {
	.name = "af_xdp",
	.keys = afx_keys,
	.open = afx_open,
	.close = afx_close,
	.start = afx_start,
	.stop = lab_port_nop,
	.link = afx_link,
	.rx_burst = afx_rx,
	.tx_burst = afx_tx,
	.rx_ring_default = 1024, /* buffers posted to the fill ring per queue */
	.tx_ring_default = 1024,
	.flags = LAB_PORT_F_RX_OWN_DESC,
	.xstats = afx_xstats,
};

LAB_PORT_DRIVER_REGISTER(afx_ops);
