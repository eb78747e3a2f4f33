/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * af_xdp: the driver (the design is described in af_xdp_internal.h).
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <linux/bpf.h>
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

#include <bpf/bpf.h>
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


/* Register the pool's memory as the UMEM. */
static int umem_open(struct lab_port *p, struct afx_port *ap, const char *devstr, uint32_t fill,
		     uint32_t comp)
{
	struct lab_pool *pool = p->rxq[0].pool;
	uint32_t room = lab_pool_data_room(pool), buf_len;
	struct xsk_umem_config uc = { 0 };
	struct lab_pool_stats st;
	void *base;
	size_t len;
	int rc;

	for (uint16_t i = 0; i < p->nb_txq; i++)
		if (p->txq[i].pool != pool) {
			LAB_LOG(ERR, port, "%s: TX queue %u uses pool '%s', RX pool '%s': af_xdp "
				"registers one pool's memory, so every queue must share it", devstr,
				i, lab_pool_name(p->txq[i].pool), lab_pool_name(pool));
			return -EINVAL;
		}
	if (lab_pool_memory(pool, &base, &len) < 0) {
		LAB_LOG(ERR, port, "%s: the UMEM is the pool's memory, so pool '%s' must be fixed "
			"(initial = max buffers)", devstr, lab_pool_name(pool));
		return -EINVAL;
	}
	buf_len = room + p->rxq[0].owner->headroom;
	if (buf_len < AFX_MIN_CHUNK) {
		LAB_LOG(ERR, port, "%s: pool '%s' buffers have %u bytes from buf_addr; an AF_XDP "
			"chunk needs at least %u (cell_size >= %u)", devstr, lab_pool_name(pool),
			buf_len, AFX_MIN_CHUNK, AFX_MIN_CHUNK + (uint32_t)AFX_HDR);
		return -EINVAL;
	}
	lab_pool_stats(pool, &st);
	ap->base = base;
	ap->len = len;
	ap->chunk = buf_len < AFX_MAX_CHUNK ? buf_len : AFX_MAX_CHUNK;
	ap->capacity = (uint32_t)st.total;
	uc.fill_size = fill;
	uc.comp_size = comp;
	uc.frame_size = ap->chunk;
	uc.frame_headroom = 0;
	uc.flags = XDP_UMEM_UNALIGNED_CHUNK_FLAG;
	rc = xsk_umem__create(&ap->umem, base, len, &ap->sock[0].r.fill, &ap->sock[0].t.comp, &uc);
	if (rc < 0) {
		ap->umem = NULL;
		LAB_LOG(ERR, port, "%s: registering pool '%s' (%zu bytes at %p, chunk %u) as the "
			"UMEM: %s%s", devstr, lab_pool_name(pool), len, base, ap->chunk,
			strerror(-rc), rc == -EPERM ? " (needs CAP_NET_RAW, and CAP_IPC_LOCK or "
			"a memlock limit above the pool's size)" : "");
		return rc;
	}
	return 0;
}

static int sock_open(struct lab_port *p, struct afx_port *ap, uint16_t i, uint64_t queue,
		     uint32_t xdp_flags, int bmode, const char *devstr)
{
	struct afx_sock *s = &ap->sock[i];
	uint32_t rsz = i < p->nb_rxq ? p->rxq[i].ring_size : 0;
	uint32_t tsz = i < p->nb_txq ? p->txq[i].ring_size : 0;
	struct xsk_socket_config sc = { 0 };
	int rc;

	s->ap = ap;
	s->queue_id = (uint32_t)(queue + i);
	s->has_rx = i < p->nb_rxq;
	s->has_tx = i < p->nb_txq;
	sc.rx_size = s->has_rx ? rsz : XSK_RING_CONS__DEFAULT_NUM_DESCS;
	sc.tx_size = s->has_tx ? tsz : XSK_RING_PROD__DEFAULT_NUM_DESCS;
	sc.xdp_flags = xdp_flags;
	sc.libxdp_flags = XSK_LIBXDP_FLAGS__INHIBIT_PROG_LOAD; /* ours: prog_attach() */
	for (int attempt = 0; attempt < 2; attempt++) {
		bool zc = bmode == 1 || (bmode == 0 && attempt == 0);

		sc.bind_flags = XDP_USE_NEED_WAKEUP | (zc ? XDP_ZEROCOPY : XDP_COPY);
		/* A socket closed just before on this queue is released by the
		 * kernel's deferred work: until then binding says EBUSY. */
		for (int wait = 0; wait < 200; wait++) {
			rc = xsk_socket__create_shared(&s->xsk, ap->iface, s->queue_id, ap->umem,
						       s->has_rx ? &s->r.rx : NULL,
						       s->has_tx ? &s->t.tx : NULL, &s->r.fill,
						       &s->t.comp, &sc);
			if (rc != -EBUSY)
				break;
			nanosleep(&(struct timespec){ 0, 5000000 }, NULL);
		}
		if (rc == 0) {
			if (i == 0)
				ap->zerocopy = zc;
			break;
		}
		s->xsk = NULL;
		if (!(zc && bmode == 0))
			break;
		if (i == 0)
			LAB_LOG(NOTICE, port, "%s: zero-copy not available on '%s' queue %u (%s): "
				"copy mode, the kernel copies frames into the pool's buffers",
				devstr, ap->iface, s->queue_id, strerror(-rc));
	}
	if (rc < 0) {
		LAB_LOG(ERR, port, "%s: XDP socket on '%s' queue %u (%s mode, %s): %s%s", devstr,
			ap->iface, s->queue_id, xdp_flags == XDP_FLAGS_DRV_MODE ? "native" :
			xdp_flags == XDP_FLAGS_SKB_MODE ? "skb" : "auto",
			bmode == 2 || (bmode == 0) ? "copy" : "zerocopy", strerror(-rc),
			rc == -EPERM ? " (needs CAP_NET_ADMIN, CAP_BPF and CAP_NET_RAW)" :
			rc == -EINVAL ? " (is the queue number below the device's queue count?)" :
			"");
		return rc;
	}
	s->fd = xsk_socket__fd(s->xsk);
	if (s->has_rx) {
		int key = (int)s->queue_id;

		if (bpf_map_update_elem(ap->map_fd, &key, &s->fd, 0) < 0) {
			rc = -errno;
			LAB_LOG(ERR, port, "%s: adding queue %u's socket to the XSKMAP: %s", devstr,
				s->queue_id, strerror(-rc));
			return rc;
		}
		s->r.posted = calloc(ap->capacity, sizeof(*s->r.posted));
		s->r.target = rsz;
		p->rxq[i].drv = s;
	}
	if (s->has_tx) {
		s->t.posted = calloc(ap->capacity, sizeof(*s->t.posted));
		p->txq[i].drv = s;
	}
	if ((s->has_rx && s->r.posted == NULL) || (s->has_tx && s->t.posted == NULL))
		return -ENOMEM;
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
	rc = umem_open(p, ap, a->devstr, fill,
		       p->nb_txq ? p->txq[0].ring_size : XSK_RING_CONS__DEFAULT_NUM_DESCS);
	if (rc == 0)
		rc = afx_prog_attach(ap, (uint32_t)queue + ap->nsock, a->devstr);
	for (uint16_t i = 0; rc == 0 && i < ap->nsock; i++)
		rc = sock_open(p, ap, i, queue, xdp_flags, bmode, a->devstr);
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

/* Give back what a socket's kernel side still holds; the socket is gone. */
static void sock_release_bufs(struct lab_port *p, uint16_t i, struct afx_sock *s)
{
	struct afx_port *ap = s->ap;

	for (uint32_t idx = 0; s->r.posted != NULL && idx < ap->capacity; idx++)
		if (s->r.posted[idx] != NULL)
			lab_free_bulk(p->rxq[i].owner, &s->r.posted[idx], 1);
	for (uint32_t idx = 0; s->t.posted != NULL && idx < ap->capacity; idx++)
		if (s->t.posted[idx] != NULL)
			lab_free_bulk(p->txq[i].owner, &s->t.posted[idx], 1);
	free(s->r.posted);
	free(s->t.posted);
	s->r.posted = s->t.posted = NULL;
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
			sock_release_bufs(p, i, &ap->sock[i]);
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
