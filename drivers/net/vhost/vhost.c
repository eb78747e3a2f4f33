/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * vhost: the device side of virtio-net over vhost-user. We listen on a unix
 * socket (or, with client=1, connect to one, again whenever the peer goes);
 * a front-end (DPDK's net_virtio_user, a QEMU VM) connects, shares its
 * memory (SET_MEM_TABLE) and sets up its virtqueues; frames are copied
 * between its buffers and our pool's: the pool need not be shared.
 *
 * Threads: a small control thread per port accepts the peer and handles its
 * messages (blocking calls, logging: the slow path), so the data path makes
 * no system call except a call eventfd write when the peer asks for
 * interrupts. The thread changes a ring only after stopping the data path on
 * it (vhost_internal.h: vh_vq_enter/quiesce); it also logs the queues the
 * data path stopped, since nothing logs on the data path.
 *
 * Queue pair i is the peer's virtqueues 2i (its RX: our TX queue i) and
 * 2i+1 (its TX: our RX queue i). Everything the peer writes is hostile:
 * vhost_msg.c checks its messages, vhost_mem.c its memory table, vhost_vq.c
 * its rings and descriptors.
 *
 * Jumbo frames: a peer's frame longer than one pool buffer is copied into a
 * chain of them (lab_buf.h); with MRG_RXBUF a frame to the peer goes over
 * as many of its receive chains as it takes (num_buffers in the first).
 */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include <labyrinth/lab_log.h>
#include <labyrinth/lab_port_driver.h>

#include "vhost_internal.h"

LAB_LOG_DECLARE(port);

#define VH_POLL_MS 50   /* how often the control thread looks at its stop flag (and, with
			 * client=1 and no front-end, tries to connect) */
#define VH_MSG_SECS 2   /* a message's rest must come within this, once it has begun */

struct vh_port {
	struct vh_dev dev;
	char name[48];
	char path[108];
	int lfd, cfd;
	bool client;            /* we connect to a front-end that listens */
	bool thread_started;
	pthread_t thread;
	_Atomic bool stop;
	uint64_t err_base[2 * 64 + 1]; /* xstats reset: ctl_errors per ring, msg_errors */
};

static const struct lab_devargs_key vh_keys[] = {
	{ "path", "the vhost-user socket: we listen there, or with client=1 the front-end "
		  "does (required)" },
	{ "client", "0: listen at path, the front-end connects (default); 1: connect to a "
		    "front-end listening at path, and again whenever it goes" },
	{ NULL, NULL },
};

/* -------------------------------------------------------------- data path */

/* The longest frame taken from the peer as a chain of pool buffers (a 64 KiB
 * TSO frame and its headers, which this device does not offer, would be the
 * most a front-end sends); longer is dropped as oversize, so a hostile chain
 * of huge descriptors costs no more than this. */
#define VH_FRAME_MAX 65562u

/* The rest of a frame longer than head @p b's data room (it holds @p have
 * bytes): read on into buffers taken on the atomic path and chained to it.
 * @return 0, or -errno with the segments taken so far freed (the head stays
 * the caller's): -ENOBUFS (the pool is short), -EMSGSIZE (past VH_FRAME_MAX),
 * -EBADMSG (the queue broke), -EINVAL (the peer shortened the chain while we
 * read it). */
static int rx_rest(struct lab_port_queue *q, struct vh_vq *v, uint16_t head, struct lab_buf *b,
		   uint32_t have)
{
	struct lab_buf *last = b;
	int rc = -EMSGSIZE;

	while (rc == -EMSGSIZE && have < VH_FRAME_MAX) {
		struct lab_buf *s = lab_alloc_atomic(q->pool, q->owner);
		uint32_t len = 0;

		if (s == NULL) {
			rc = -ENOBUFS;
			break;
		}
		lab_rxq_fill(q, s, 0);
		last->next = s;
		last = s;
		rc = vh_vq_read_at(v, head, have, lab_buf_data(s), lab_rxq_room(q, s), &len);
		s->data_len = len;
		have += len;
	}
	if (rc == 0)
		return 0;
	if (b->next != NULL)
		lab_free_frames(q->owner, &b->next, 1);
	b->next = NULL;
	return rc;
}

static uint16_t vh_rx(struct lab_port_queue *q, struct lab_buf **bufs, uint16_t n)
{
	struct vh_vq *v = q->drv;
	uint16_t got, k = 0;
	uint64_t bytes = 0;

	if (!vh_vq_enter(v))
		return 0;
	got = lab_rxq_take(q, bufs, n);
	while (k < got) {
		struct lab_buf *b = bufs[k];
		uint32_t len = 0;
		uint16_t head;
		int rc = vh_vq_next(v, &head);

		if (rc <= 0) {
			if (rc < 0)
				LAB_COUNT_ADD(q->st.errors, 1);
			break;
		}
		lab_rxq_fill(q, b, 0);
		rc = vh_vq_read(v, head, lab_buf_data(b), lab_rxq_room(q, b), &len);
		b->data_len = len;
		if (lab_unlikely(rc == -EMSGSIZE)) {
			/* Longer than one buffer: the rest into a chain. */
			rc = rx_rest(q, v, head, b, len);
			if (rc == 0) {
				len = lab_buf_pkt_len(b);
				LAB_COUNT_ADD(q->st.chained, 1);
			}
		}
		if (lab_unlikely(rc == -EBADMSG)) {
			LAB_COUNT_ADD(q->st.errors, 1);
			break;
		}
		vh_vq_used(v, head, 0);
		if (lab_unlikely(rc == -EMSGSIZE || rc == -ENOBUFS)) {
			if (rc == -ENOBUFS)
				LAB_COUNT_ADD(q->st.rx_nobuf, 1);
			else
				LAB_COUNT_ADD(q->st.oversize, 1);
			continue;
		}
		if (lab_unlikely(rc < 0 || len == 0)) {
			LAB_COUNT_ADD(q->st.truncated, 1);
			continue;
		}
		bytes += len;
		k++;
	}
	vh_vq_flush(v);
	vh_vq_leave(v);
	return lab_rxq_done(q, bufs, got, k, bytes);
}

/* Frame @p b to the peer with MRG_RXBUF: over as many of its receive chains
 * as it takes, num_buffers in the first one's header (virtio 1.1, 5.1.6.4).
 * @return 0, -ENOSPC (the peer has not posted enough: nothing is taken from
 * its ring, the frame stays ours), -EBADMSG (the queue broke). */
static int tx_merge(struct vh_vq *v, const struct lab_buf *b, uint32_t flen, uint16_t *nbuf)
{
	struct vh_src src = { .seg = b, .left = flen };
	uint16_t avail0 = v->last_avail, used0 = v->used_idx, nb = 0;

	do {
		uint32_t written = 0;
		uint16_t head;
		int rc = vh_vq_next(v, &head);

		if (rc < 0)
			return -EBADMSG;
		if (rc == 1)
			rc = vh_vq_fill(v, head, nb == 0, &src, &written);
		else
			rc = -ENOSPC; /* the peer has posted no more */
		if (rc == -EBADMSG)
			return -EBADMSG;
		if (rc == 0 && written == 0 && src.left != 0)
			rc = -EMSGSIZE; /* a chain with no room at all */
		if (rc != 0) {
			/* Give back every chain we took, unpublished: on
			 * -ENOSPC the frame waits for more, else (a chain too
			 * small for the header) it is dropped. */
			v->last_avail = avail0;
			v->used_idx = used0;
			return rc == -ENOSPC ? -ENOSPC : -EMSGSIZE;
		}
		vh_vq_used(v, head, written);
		nb++;
	} while (src.left != 0);
	vh_vq_set_nbuf(&src, nb);
	*nbuf = nb;
	return 0;
}

static uint16_t vh_tx(struct lab_port_queue *q, struct lab_buf **bufs, uint16_t n)
{
	struct vh_port *vp = lab_port_priv(q->port);
	struct vh_vq *v = q->drv;
	uint64_t bytes = 0;
	uint16_t k;
	bool mrg;

	if (!vh_vq_enter(v))
		return 0;
	mrg = vp->dev.features & (1ull << VIRTIO_NET_F_MRG_RXBUF);
	for (k = 0; k < n; k++) {
		struct lab_buf *b = bufs[k];
		uint32_t written = 0, flen = b->data_len;
		uint16_t head, nbuf = 1;
		int rc;

		if (lab_unlikely(b->next != NULL))
			flen = lab_buf_pkt_len(b);
		if (mrg) {
			rc = tx_merge(v, b, flen, &nbuf);
			if (rc == -ENOSPC)
				break; /* the rest stay the caller's */
			if (lab_unlikely(rc == -EBADMSG)) {
				LAB_COUNT_ADD(q->st.errors, 1);
				break;
			}
			if (lab_unlikely(rc == -EMSGSIZE)) {
				LAB_COUNT_ADD(q->st.oversize, 1);
				continue;
			}
			if (nbuf > 1)
				LAB_COUNT_ADD(q->st.chained, 1);
			bytes += flen;
			continue;
		}
		rc = vh_vq_next(v, &head);
		if (rc <= 0) {
			if (rc < 0)
				LAB_COUNT_ADD(q->st.errors, 1);
			break;
		}
		if (lab_likely(b->next == NULL)) {
			rc = vh_vq_write(v, head, lab_buf_data(b), b->data_len, &written);
		} else {
			struct vh_src src = { .seg = b, .left = flen };

			rc = vh_vq_fill(v, head, true, &src, &written);
			if (rc == -EINVAL || (rc == 0 && src.left != 0))
				rc = -EMSGSIZE;
		}
		if (lab_unlikely(rc == -EBADMSG)) {
			LAB_COUNT_ADD(q->st.errors, 1);
			break;
		}
		if (lab_unlikely(rc == -EMSGSIZE)) {
			/* The peer's buffer is too small for this frame (and
			 * without MRG_RXBUF a frame takes one chain): the buffer
			 * stays for the next one, the frame is dropped. */
			v->last_avail--;
			LAB_COUNT_ADD(q->st.oversize, 1);
			continue;
		}
		vh_vq_used(v, head, written);
		bytes += flen;
	}
	vh_vq_flush(v);
	vh_vq_leave(v);
	lab_free_frames(q->owner, bufs, k);
	LAB_COUNT_ADD(q->st.packets, k); /* the rest: ring_full, by lab_port_tx_burst */
	LAB_COUNT_ADD(q->st.bytes, bytes);
	return k;
}

/* ---------------------------------------------------------- control thread */

static void disconnect(struct vh_port *vp)
{
	if (vp->cfd < 0)
		return;
	close(vp->cfd);
	vp->cfd = -1;
	vh_dev_reset(&vp->dev);
}

static void peer_accept(struct vh_port *vp)
{
	struct timeval tv = { .tv_sec = VH_MSG_SECS };
	int fd = accept4(vp->lfd, NULL, NULL, SOCK_CLOEXEC);

	if (fd < 0)
		return;
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	vp->cfd = fd;
	LAB_LOG(INFO, port, "%s: a vhost-user front-end connected on %s", vp->name, vp->path);
}

static int sockaddr_of(struct vh_port *vp, struct sockaddr_un *sa)
{
	if (strlen(vp->path) >= sizeof(sa->sun_path)) {
		LAB_LOG(ERR, port, "%s: socket path '%s' is longer than %zu bytes", vp->name,
			vp->path, sizeof(sa->sun_path) - 1);
		return -ENAMETOOLONG;
	}
	memset(sa, 0, sizeof(*sa));
	sa->sun_family = AF_UNIX;
	memcpy(sa->sun_path, vp->path, strlen(vp->path) + 1);
	return 0;
}

/* client=1: one try at the front-end's socket (quiet: it may not be there
 * yet, or gone for a while). @return whether we are connected. */
static bool peer_connect(struct vh_port *vp)
{
	struct timeval tv = { .tv_sec = VH_MSG_SECS };
	struct sockaddr_un sa;
	int fd;

	if (sockaddr_of(vp, &sa) < 0)
		return false;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return false;
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
		close(fd);
		return false;
	}
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	vp->cfd = fd;
	LAB_LOG(INFO, port, "%s: connected to the vhost-user front-end at %s", vp->name,
		vp->path);
	return true;
}

/* Read one message's header, with the descriptors that come with it. @return
 * 1, 0 (the peer closed), -errno (logged). */
static int recv_hdr(struct vh_port *vp, struct vhu_hdr *h, int *fds, unsigned int *nfds)
{
	char ctl[CMSG_SPACE(sizeof(int) * (VHU_MAX_REGIONS + 1))];
	struct iovec iov = { h, sizeof(*h) };
	struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl,
			    .msg_controllen = sizeof(ctl) };
	ssize_t n;

	*nfds = 0;
	do
		n = recvmsg(vp->cfd, &m, MSG_CMSG_CLOEXEC | MSG_WAITALL);
	while (n < 0 && errno == EINTR);
	for (struct cmsghdr *c = CMSG_FIRSTHDR(&m); n >= 0 && c != NULL; c = CMSG_NXTHDR(&m, c)) {
		if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
			continue;
		for (size_t i = 0; i < (c->cmsg_len - CMSG_LEN(0)) / sizeof(int); i++) {
			int fd;

			memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof(fd));
			if (*nfds < VHU_MAX_REGIONS + 1)
				fds[(*nfds)++] = fd;
			else
				close(fd);
		}
	}
	if (n == 0)
		return 0;
	if (n != (ssize_t)sizeof(*h) || (m.msg_flags & MSG_CTRUNC)) {
		LAB_LOG(ERR, port, "%s: vhost-user peer on %s: %s; closing the connection",
			vp->name, vp->path, n < 0 ? "no complete message header in time"
			: n != (ssize_t)sizeof(*h) ? "closed in the middle of a message header"
			: "more descriptors than any request carries");
		atomic_fetch_add(&vp->dev.msg_errors, 1);
		return -EPROTO;
	}
	return 1;
}

static int send_reply(struct vh_port *vp, const struct vhu_hdr *req, const struct vh_reply *r)
{
	struct {
		struct vhu_hdr h;
		uint8_t p[sizeof(r->u)];
	} __attribute__((packed)) out;
	size_t len = sizeof(out.h) + r->size;

	out.h = (struct vhu_hdr){ req->request, VHU_VERSION | VHU_REPLY, r->size };
	memcpy(out.p, &r->u, r->size);
	return send(vp->cfd, &out, len, MSG_NOSIGNAL) == (ssize_t)len ? 0 : -EIO;
}

/* One message: read, handled, answered. @return 0, or < 0 to disconnect. */
static int peer_message(struct vh_port *vp)
{
	uint8_t payload[VH_MAX_PAYLOAD];
	int fds[VHU_MAX_REGIONS + 1];
	struct vh_reply reply;
	struct vhu_hdr h;
	unsigned int nfds;
	int rc = recv_hdr(vp, &h, fds, &nfds);

	if (rc == 0)
		LAB_LOG(NOTICE, port, "%s: the vhost-user front-end on %s disconnected", vp->name,
			vp->path);
	if (rc <= 0)
		goto err_fds;
	if (h.size > VH_MAX_PAYLOAD) {
		LAB_LOG(ERR, port, "%s: vhost-user %s (request %u) from the peer on %s: payload "
			"of %u bytes, more than any request has (%zu); closing the connection",
			vp->name, vhu_req_name(h.request), h.request, vp->path, h.size,
			VH_MAX_PAYLOAD);
		atomic_fetch_add(&vp->dev.msg_errors, 1);
		rc = -EPROTO;
		goto err_fds;
	}
	if (h.size != 0 && recv(vp->cfd, payload, h.size, MSG_WAITALL) != (ssize_t)h.size) {
		LAB_LOG(ERR, port, "%s: vhost-user %s from the peer on %s: the %u-byte payload "
			"did not come (closed or stalled); closing the connection", vp->name,
			vhu_req_name(h.request), vp->path, h.size);
		atomic_fetch_add(&vp->dev.msg_errors, 1);
		rc = -EPROTO;
		goto err_fds;
	}
	rc = vh_msg_handle(&vp->dev, &h, payload, fds, nfds, &reply);
	if (rc == 0 && reply.send)
		rc = send_reply(vp, &h, &reply);
	return rc;
err_fds:
	for (unsigned int i = 0; i < nfds; i++)
		close(fds[i]);
	return rc < 0 ? rc : -ECONNRESET;
}

static void *control(void *arg)
{
	struct vh_port *vp = arg;

	while (!atomic_load(&vp->stop)) {
		struct pollfd pfd = { vp->cfd >= 0 ? vp->cfd : vp->lfd, POLLIN, 0 };
		int n;

		if (vp->cfd < 0 && vp->client && !peer_connect(vp)) {
			poll(NULL, 0, VH_POLL_MS); /* try again in a while */
			continue;
		}
		pfd.fd = vp->cfd >= 0 ? vp->cfd : vp->lfd;
		n = poll(&pfd, 1, VH_POLL_MS);

		vh_dev_log_broken(&vp->dev);
		if (n <= 0)
			continue;
		if (vp->cfd < 0)
			peer_accept(vp);
		else if (peer_message(vp) < 0)
			disconnect(vp);
	}
	return NULL;
}

/* ----------------------------------------------------------------- port */

static int listen_on(struct vh_port *vp)
{
	struct sockaddr_un sa;
	struct stat st;

	if (sockaddr_of(vp, &sa) < 0)
		return -ENAMETOOLONG;
	if (vp->client)
		return 0; /* the control thread connects */
	if (lstat(vp->path, &st) == 0 && !S_ISSOCK(st.st_mode)) {
		LAB_LOG(ERR, port, "%s: %s exists and is not a socket; give another path", vp->name,
			vp->path);
		return -EEXIST;
	}
	unlink(vp->path); /* a socket a previous run left */
	vp->lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (vp->lfd < 0 || bind(vp->lfd, (struct sockaddr *)&sa, sizeof(sa)) != 0 ||
	    listen(vp->lfd, 1) != 0) {
		int err = -errno;

		LAB_LOG(ERR, port, "%s: cannot listen on %s: %s", vp->name, vp->path,
			strerror(-err));
		return err;
	}
	return 0;
}

static int vh_open(struct lab_port *p, const struct lab_devargs *args)
{
	const char *path = lab_devargs_get(args, "path");
	struct vh_port *vp = calloc(1, sizeof(*vp));
	uint64_t client;
	int rc;

	if (vp == NULL)
		return -ENOMEM;
	vp->lfd = vp->cfd = -1;
	lab_port_set_priv(p, vp);
	snprintf(vp->name, sizeof(vp->name), "vhost port %u", p->id);
	vp->dev.name = vp->name;
	if (path == NULL || path[0] == '\0') {
		LAB_LOG(ERR, port, "%s: path= is required (the socket to listen on)", vp->name);
		return -EINVAL;
	}
	if (p->nb_rxq != p->nb_txq || p->nb_rxq > 64) {
		LAB_LOG(ERR, port, "%s: virtio-net queues come in pairs (at most 64): %u RX and "
			"%u TX queues asked for", vp->name, p->nb_rxq, p->nb_txq);
		return -EINVAL;
	}
	if ((rc = lab_devargs_u64(args, "client", 0, 0, 1, &client)) < 0)
		return rc;
	vp->client = client;
	if (strlen(path) >= sizeof(vp->path)) {
		LAB_LOG(ERR, port, "%s: socket path '%s' is longer than %zu bytes", vp->name, path,
			sizeof(vp->path) - 1);
		return -ENAMETOOLONG;
	}
	snprintf(vp->path, sizeof(vp->path), "%s", path);
	vp->dev.nq = p->nb_rxq;
	vp->dev.vq = calloc(2 * vp->dev.nq, sizeof(*vp->dev.vq));
	if (vp->dev.vq == NULL)
		return -ENOMEM;
	for (unsigned int i = 0; i < 2 * vp->dev.nq; i++)
		vh_vq_init(&vp->dev.vq[i]);
	for (uint16_t i = 0; i < p->nb_rxq; i++) {
		p->rxq[i].drv = &vp->dev.vq[2 * i + 1];
		p->txq[i].drv = &vp->dev.vq[2 * i];
	}
	if ((rc = listen_on(vp)) < 0)
		return rc;
	rc = pthread_create(&vp->thread, NULL, control, vp);
	if (rc != 0)
		return -rc;
	vp->thread_started = true;
	LAB_LOG(INFO, port, "%s: %s a vhost-user front-end %s %s, %u queue pair(s)", vp->name,
		vp->client ? "connecting to" : "listening for", vp->client ? "at" : "on",
		vp->path, vp->dev.nq);
	return 0;
}

static void vh_close(struct lab_port *p)
{
	struct vh_port *vp = lab_port_priv(p);

	if (vp == NULL)
		return;
	if (vp->thread_started) {
		atomic_store(&vp->stop, true);
		pthread_join(vp->thread, NULL);
	}
	if (vp->dev.vq != NULL)
		disconnect(vp);
	if (vp->lfd >= 0) {
		close(vp->lfd);
		unlink(vp->path);
	}
	free(vp->dev.vq);
	free(vp);
	lab_port_set_priv(p, NULL);
}

static int vh_link(struct lab_port *p, struct lab_port_link *link)
{
	struct vh_port *vp = lab_port_priv(p);

	link->up = atomic_load(&vp->dev.vq[0].live) && atomic_load(&vp->dev.vq[1].live);
	return 0;
}

/* Errors the control thread found (messages, rings that would not start):
 * each ring's into its queue's errors, the connection's into RX queue 0's. */
static void vh_xstats(const struct lab_port *p, struct lab_port_stats *st, bool reset)
{
	struct vh_port *vp = lab_port_priv(p);
	unsigned int nr = vp != NULL && vp->dev.vq != NULL ? 2 * vp->dev.nq : 0;

	for (unsigned int i = 0; i <= nr && nr != 0; i++) {
		uint64_t e = i < nr ? atomic_load(&vp->dev.vq[i].ctl_errors)
				    : atomic_load(&vp->dev.msg_errors);

		if (reset)
			vp->err_base[i] = e;
		else if (i == nr)
			st->rx[0].errors += e - vp->err_base[i];
		else if (i & 1)
			st->rx[i / 2].errors += e - vp->err_base[i];
		else
			st->tx[i / 2].errors += e - vp->err_base[i];
	}
}

static const struct lab_port_ops vh_ops = {
	.name = "vhost",
	.keys = vh_keys,
	.open = vh_open,
	.close = vh_close,
	.start = lab_port_nop,
	.stop = lab_port_nop,
	.link = vh_link,
	.rx_burst = vh_rx,
	.tx_burst = vh_tx,
	.rx_ring_default = 256,
	.tx_ring_default = 256,
	.xstats = vh_xstats,
};

LAB_PORT_DRIVER_REGISTER(vh_ops);
