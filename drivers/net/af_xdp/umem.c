/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * af_xdp's UMEM and the sockets on it. The UMEM is the pool's whole memory,
 * registered once per port; every socket shares it (and its first socket's
 * fill and completion rings come with it). A socket binds one device queue,
 * zero-copy where the driver can, and records by index (posted[]) the
 * buffers its kernel side holds, so that close gives back what the kernel
 * never returned.
 */
#include <errno.h>
#include <linux/if_link.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <bpf/bpf.h>

#include "af_xdp_internal.h"

/* Register the pool's memory as the UMEM. */
int afx_umem_open(struct lab_port *p, struct afx_port *ap, const char *devstr, uint32_t fill,
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

/*
 * Bind socket @p s to its device queue with @p sc: zero-copy first, then copy,
 * when @p bmode is auto (0); only zero-copy (1) or only copy (2) otherwise.
 * @p first: the port's first socket, which sets ap->zerocopy and says so when
 * it falls back to copy. 0, or -errno after logging why.
 */
static int sock_bind(struct afx_port *ap, struct afx_sock *s, bool first,
		     struct xsk_socket_config *sc, int bmode, const char *devstr)
{
	uint32_t xdp_flags = sc->xdp_flags;
	int rc;

	for (int attempt = 0; attempt < 2; attempt++) {
		bool zc = bmode == 1 || (bmode == 0 && attempt == 0);

		sc->bind_flags = XDP_USE_NEED_WAKEUP | (zc ? XDP_ZEROCOPY : XDP_COPY);
		/* A socket closed just before on this queue is released by the
		 * kernel's deferred work: until then binding says EBUSY. */
		for (int wait = 0; wait < 200; wait++) {
			rc = xsk_socket__create_shared(&s->xsk, ap->iface, s->queue_id, ap->umem,
						       s->has_rx ? &s->r.rx : NULL,
						       s->has_tx ? &s->t.tx : NULL, &s->r.fill,
						       &s->t.comp, sc);
			if (rc != -EBUSY)
				break;
			nanosleep(&(struct timespec){ 0, 5000000 }, NULL);
		}
		if (rc == 0) {
			if (first)
				ap->zerocopy = zc;
			break;
		}
		s->xsk = NULL;
		if (!(zc && bmode == 0))
			break;
		if (first)
			LAB_LOG(NOTICE, port, "%s: zero-copy not available on '%s' queue %u (%s): "
				"copy mode, the kernel copies frames into the pool's buffers",
				devstr, ap->iface, s->queue_id, strerror(-rc));
	}
	if (rc < 0)
		LAB_LOG(ERR, port, "%s: XDP socket on '%s' queue %u (%s mode, %s): %s%s", devstr,
			ap->iface, s->queue_id, xdp_flags == XDP_FLAGS_DRV_MODE ? "native" :
			xdp_flags == XDP_FLAGS_SKB_MODE ? "skb" : "auto",
			bmode == 2 || (bmode == 0) ? "copy" : "zerocopy", strerror(-rc),
			rc == -EPERM ? " (needs CAP_NET_ADMIN, CAP_BPF and CAP_NET_RAW)" :
			rc == -EINVAL ? " (is the queue number below the device's queue count?)" :
			"");
	return rc;
}

/*
 * A bound socket joins its port queues: its RX side gets the XSKMAP entry the
 * program redirects to, and each side its record of what the kernel holds.
 */
static int sock_join(struct lab_port *p, struct afx_port *ap, uint16_t i, uint32_t rsz,
		     const char *devstr)
{
	struct afx_sock *s = &ap->sock[i];
	int rc;

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

int afx_sock_open(struct lab_port *p, struct afx_port *ap, uint16_t i, uint64_t queue,
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
	sc.libxdp_flags = XSK_LIBXDP_FLAGS__INHIBIT_PROG_LOAD; /* ours: afx_prog_attach() */
	rc = sock_bind(ap, s, i == 0, &sc, bmode, devstr);
	if (rc < 0)
		return rc;
	s->fd = xsk_socket__fd(s->xsk);
	return sock_join(p, ap, i, rsz, devstr);
}

/* Give back what a socket's kernel side still holds; the socket is gone. */
void afx_sock_release_bufs(struct lab_port *p, uint16_t i, struct afx_sock *s)
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
