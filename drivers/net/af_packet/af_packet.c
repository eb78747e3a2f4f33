/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * af_packet: Linux packet sockets with TPACKET_V3 mmap rings. Each RX queue
 * is a socket with an RX ring of blocks (in a fanout group when there are
 * several), each TX queue a socket with a TX ring of fixed frames. Frames are
 * copied into pool buffers on RX and out of them on TX (for sharing without
 * copies see af_xdp). The kernel strips VLAN tags into the ring's aux data;
 * RX puts them back in the frame.
 *
 * The RX path makes no system call (the ring is polled in memory); TX makes
 * one sendto(MSG_DONTWAIT) per burst to kick the kernel, as DPDK's
 * net_af_packet does.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include <labyrinth/lab_log.h>
#include <labyrinth/lab_port_driver.h>

LAB_LOG_DECLARE(port);

#ifndef PACKET_IGNORE_OUTGOING
#define PACKET_IGNORE_OUTGOING 23
#endif

struct afp_rxq {
	int fd;
	uint8_t *map;
	size_t map_len;
	uint32_t block_size, blocks;
	uint32_t block;                 /* block being read */
	uint32_t left;                  /* packets left in it (0: not started) */
	struct tpacket3_hdr *next;      /* next packet in it */
	/* PACKET_STATISTICS resets on every read: the sums of all reads so far
	 * (control path, any thread: added atomically), and the drops a stats
	 * reset remembered as zero. */
	uint64_t drops, freezes, drops_base;
};

struct afp_txq {
	int fd;
	uint8_t *map;
	size_t map_len;
	uint32_t frame_size, frames;
	uint32_t frame;                 /* next frame to fill */
};

struct afp_port {
	char iface[IF_NAMESIZE];
	int ifindex;
	struct afp_rxq *rxq;
	struct afp_txq *txq;
	uint16_t nrx, ntx;
};

/*
 * The RX ring's default: 256 blocks of 64 KiB (16 MiB per queue). A block
 * retires when full or after the retire timeout (1 ms), so at a low rate each
 * block holds the frames of one timeout and the ring's slack is blocks x
 * timeout, not its bytes: 8 blocks left a reader that was not scheduled for a
 * few ms no room (the netns demo once lost 1040 of 15000 frames at 20 kpps).
 * 256 blocks ride out a 200 ms stall of labfwd there (measured: SIGSTOP).
 */
#define AFP_BLOCKSIZE (64u << 10)
#define AFP_BLOCKS    256u

static const struct lab_devargs_key afp_keys[] = {
	{ "iface", "network interface (required)" },
	{ "blocksize", "RX ring block bytes, a power of two 4K..8M (default 64K)" },
	{ "blocks", "RX ring blocks per queue, 2..1024 (default 256)" },
	{ "txframes", "TX ring frames per queue, 16..65536 (default 512)" },
	{ "fanout", "how several RX queues share traffic: hash, lb or cpu (default hash)" },
	{ "qdisc_bypass", "1: TX skips the qdisc layer (default 0)" },
	{ NULL, NULL },
};

static int sock_open(const struct afp_port *ap, uint16_t proto, const char *devstr)
{
	struct sockaddr_ll sll = { .sll_family = AF_PACKET, .sll_protocol = proto,
				   .sll_ifindex = ap->ifindex };
	int v = TPACKET_V3, fd = socket(AF_PACKET, SOCK_RAW, proto);

	if (fd < 0) {
		LAB_LOG(ERR, port, "%s: packet socket: %s%s", devstr, strerror(errno),
			errno == EPERM ? " (needs CAP_NET_RAW)" : "");
		return -errno;
	}
	if (setsockopt(fd, SOL_PACKET, PACKET_VERSION, &v, sizeof(v)) < 0 ||
	    bind(fd, (struct sockaddr *)&sll, sizeof(sll)) < 0) {
		int e = errno;

		LAB_LOG(ERR, port, "%s: TPACKET_V3 socket on '%s': %s", devstr, ap->iface,
			strerror(e));
		close(fd);
		return -e;
	}
	return fd;
}

static int ring_map(int fd, int opt, struct tpacket_req3 *req, uint8_t **map, size_t *len,
		    const char *devstr)
{
	if (setsockopt(fd, SOL_PACKET, opt, req, sizeof(*req)) < 0) {
		LAB_LOG(ERR, port, "%s: %s ring of %u x %u bytes: %s", devstr,
			opt == PACKET_RX_RING ? "RX" : "TX", req->tp_block_nr, req->tp_block_size,
			strerror(errno));
		return -errno;
	}
	*len = (size_t)req->tp_block_size * req->tp_block_nr;
	*map = mmap(NULL, *len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_LOCKED, fd, 0);
	if (*map == MAP_FAILED)
		*map = mmap(NULL, *len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (*map == MAP_FAILED) {
		*map = NULL;
		LAB_LOG(ERR, port, "%s: mapping the ring: %s", devstr, strerror(errno));
		return -errno;
	}
	return 0;
}

static int rxq_open(struct afp_port *ap, struct afp_rxq *r, uint64_t bs, uint64_t nb, int fanout,
		    uint16_t q, uint16_t port_id, const char *devstr)
{
	struct tpacket_req3 req = {
		.tp_block_size = (unsigned int)bs, .tp_block_nr = (unsigned int)nb,
		.tp_frame_size = 2048, .tp_frame_nr = (unsigned int)(bs / 2048 * nb),
		.tp_retire_blk_tov = 1, /* ms: a part-filled block reaches us soon */
		.tp_feature_req_word = TP_FT_REQ_FILL_RXHASH,
	};
	int one = 1, rc;

	r->fd = sock_open(ap, htons(ETH_P_ALL), devstr);
	if (r->fd < 0)
		return r->fd;
	/* Our own TX sockets' frames are not traffic to receive. */
	(void)setsockopt(r->fd, SOL_PACKET, PACKET_IGNORE_OUTGOING, &one, sizeof(one));
	rc = ring_map(r->fd, PACKET_RX_RING, &req, &r->map, &r->map_len, devstr);
	if (rc < 0)
		return rc;
	r->block_size = (uint32_t)bs;
	r->blocks = (uint32_t)nb;
	if (ap->nrx > 1 && fanout >= 0) {
		/* One group per port: two ports on one interface do not share traffic. */
		int arg = (int)((getpid() ^ (ap->ifindex << 8) ^ ((int)port_id << 3)) & 0xffff) |
			  (fanout << 16);

		if (setsockopt(r->fd, SOL_PACKET, PACKET_FANOUT, &arg, sizeof(arg)) < 0) {
			LAB_LOG(ERR, port, "%s: fanout group for RX queue %u: %s", devstr, q,
				strerror(errno));
			return -errno;
		}
	}
	return 0;
}

static int txq_open(struct afp_port *ap, struct afp_txq *t, uint64_t frames, uint32_t room,
		    int bypass, const char *devstr)
{
	const uint32_t off = TPACKET3_HDRLEN - sizeof(struct sockaddr_ll);
	struct tpacket_req3 req = { .tp_frame_size = 2048 };

	/* Frames big enough for a whole buffer's data, blocks of whole pages. */
	while (req.tp_frame_size < room + off)
		req.tp_frame_size *= 2;
	req.tp_block_size = req.tp_frame_size < 4096 ? 4096 : req.tp_frame_size;
	req.tp_frame_nr = (unsigned int)frames;
	req.tp_block_nr = (unsigned int)(frames * req.tp_frame_size / req.tp_block_size);
	if (req.tp_block_nr == 0)
		req.tp_block_nr = 1, req.tp_frame_nr = req.tp_block_size / req.tp_frame_size;
	t->fd = sock_open(ap, 0, devstr);
	if (t->fd < 0)
		return t->fd;
	if (bypass)
		(void)setsockopt(t->fd, SOL_PACKET, PACKET_QDISC_BYPASS, &bypass, sizeof(bypass));
	t->frame_size = req.tp_frame_size;
	t->frames = req.tp_frame_nr;
	return ring_map(t->fd, PACKET_TX_RING, &req, &t->map, &t->map_len, devstr);
}

/*
 * Add the kernel's PACKET_STATISTICS since the last read into @p r's sums.
 * tp_drops: frames that found no room in the ring (or no memory), lost;
 * tp_freeze_q_cnt: times the TPACKET_V3 ring was full and froze.
 */
static void rxq_stats_pull(struct afp_rxq *r)
{
	struct tpacket_stats_v3 ks;
	socklen_t len = sizeof(ks);

	if (r->fd < 0 || getsockopt(r->fd, SOL_PACKET, PACKET_STATISTICS, &ks, &len) < 0)
		return;
	__atomic_add_fetch(&r->drops, ks.tp_drops, __ATOMIC_RELAXED);
	__atomic_add_fetch(&r->freezes, ks.tp_freeze_q_cnt, __ATOMIC_RELAXED);
}

/* The kernel's RX drops into each RX queue's ring_full (as af_xdp counts its
 * RX ring's overflows): frames the ring had no room for because we did not
 * read it fast enough. */
static void afp_xstats(const struct lab_port *p, struct lab_port_stats *st, bool reset)
{
	struct afp_port *ap = lab_port_priv(p);

	for (uint16_t i = 0; ap != NULL && ap->rxq != NULL && i < ap->nrx; i++) {
		struct afp_rxq *r = &ap->rxq[i];
		uint64_t drops;

		rxq_stats_pull(r);
		drops = __atomic_load_n(&r->drops, __ATOMIC_RELAXED);
		if (reset)
			__atomic_store_n(&r->drops_base, drops, __ATOMIC_RELAXED);
		else
			st->rx[i].ring_full += drops - __atomic_load_n(&r->drops_base,
								       __ATOMIC_RELAXED);
	}
}

/* Say at close what the kernel dropped: a lost frame is never silent. */
static void rxq_report(struct afp_rxq *r, uint16_t q, const char *dev)
{
	rxq_stats_pull(r);
	if (r->drops != 0)
		LAB_LOG(WARNING, port, "%s: RX queue %u: the kernel dropped %llu frame(s) that "
			"found the ring full (it froze %llu time(s)); poll more often or give "
			"more 'blocks' (now %u of %u bytes)", dev, q,
			(unsigned long long)r->drops, (unsigned long long)r->freezes, r->blocks,
			r->block_size);
}

static void afp_close(struct lab_port *p)
{
	struct afp_port *ap = lab_port_priv(p);

	if (ap == NULL)
		return;
	for (uint16_t i = 0; ap->rxq != NULL && i < ap->nrx; i++) {
		rxq_report(&ap->rxq[i], i, lab_port_name(p));
		if (ap->rxq[i].map != NULL)
			munmap(ap->rxq[i].map, ap->rxq[i].map_len);
		if (ap->rxq[i].fd >= 0)
			close(ap->rxq[i].fd);
	}
	for (uint16_t i = 0; ap->txq != NULL && i < ap->ntx; i++) {
		if (ap->txq[i].map != NULL)
			munmap(ap->txq[i].map, ap->txq[i].map_len);
		if (ap->txq[i].fd >= 0)
			close(ap->txq[i].fd);
	}
	free(ap->rxq);
	free(ap->txq);
	free(ap);
	lab_port_set_priv(p, NULL);
}

static int afp_parse(const struct lab_devargs *a, uint64_t v[4], int *fanout, int *bypass)
{
	static const char *const modes[] = { "hash", "lb", "cpu", NULL };
	static const int mode_val[] = { PACKET_FANOUT_HASH, PACKET_FANOUT_LB, PACKET_FANOUT_CPU };
	uint64_t b;
	int rc, m;

	rc = lab_devargs_u64(a, "blocksize", AFP_BLOCKSIZE, 4096, 8 << 20, &v[0]);
	if (rc == 0 && !LAB_IS_POW2(v[0])) {
		LAB_LOG(ERR, port, "%s: key 'blocksize' = '%s': expected a power of two", a->devstr,
			lab_devargs_get(a, "blocksize"));
		rc = -EINVAL;
	}
	if (rc == 0)
		rc = lab_devargs_u64(a, "blocks", AFP_BLOCKS, 2, 1024, &v[1]);
	if (rc == 0)
		rc = lab_devargs_u64(a, "txframes", 512, 16, 65536, &v[2]);
	if (rc == 0)
		rc = lab_devargs_u64(a, "qdisc_bypass", 0, 0, 1, &b);
	m = lab_devargs_choice(a, "fanout", modes, 0);
	if (rc < 0 || m < 0)
		return rc < 0 ? rc : m;
	*fanout = mode_val[m];
	*bypass = (int)b;
	return 0;
}

static int afp_open(struct lab_port *p, const struct lab_devargs *a)
{
	char iface[IF_NAMESIZE];
	int ifindex = lab_devargs_iface(a, iface);
	struct afp_port *ap;
	uint64_t v[4];
	int rc, fanout, bypass;

	if (ifindex < 0)
		return ifindex;
	rc = afp_parse(a, v, &fanout, &bypass);
	if (rc < 0)
		return rc;
	ap = calloc(1, sizeof(*ap));
	if (ap == NULL)
		return -ENOMEM;
	lab_port_set_priv(p, ap);
	snprintf(ap->iface, sizeof(ap->iface), "%s", iface);
	ap->ifindex = ifindex;
	ap->rxq = calloc(p->nb_rxq, sizeof(*ap->rxq));
	ap->txq = calloc(p->nb_txq, sizeof(*ap->txq));
	if (ap->rxq == NULL || ap->txq == NULL)
		return -ENOMEM;
	ap->nrx = p->nb_rxq;
	ap->ntx = p->nb_txq;
	for (uint16_t i = 0; i < ap->nrx; i++)
		ap->rxq[i].fd = -1;
	for (uint16_t i = 0; i < ap->ntx; i++)
		ap->txq[i].fd = -1;
	for (uint16_t i = 0; i < ap->nrx && rc == 0; i++) {
		rc = rxq_open(ap, &ap->rxq[i], v[0], v[1], fanout, i, p->id, a->devstr);
		p->rxq[i].drv = &ap->rxq[i];
	}
	for (uint16_t i = 0; i < ap->ntx && rc == 0; i++) {
		rc = txq_open(ap, &ap->txq[i], v[2], lab_pool_data_room(p->txq[i].pool), bypass,
			      a->devstr);
		p->txq[i].drv = &ap->txq[i];
	}
	return rc;
}

static int afp_link(struct lab_port *p, struct lab_port_link *link)
{
	struct afp_port *ap = lab_port_priv(p);

	return lab_iface_link(ap->nrx ? ap->rxq[0].fd : -1, ap->iface, link);
}

/* Copy one frame into @p b, putting back a VLAN tag the kernel moved into
 * the aux data. @return 0, or the counter to bump. */
static uint64_t *frame_copy(struct lab_port_queue *q, struct lab_buf *b,
			    const struct tpacket3_hdr *h)
{
	const uint8_t *src = (const uint8_t *)h + h->tp_mac;
	bool vlan = (h->tp_status & TP_STATUS_VLAN_VALID) != 0;
	uint32_t len = h->tp_snaplen + (vlan ? 4 : 0);
	uint8_t *dst;

	if (h->tp_snaplen < h->tp_len)
		return &q->st.truncated;
	if (h->tp_snaplen < ETH_HLEN)
		return &q->st.errors;
	if (len > lab_rxq_room(q, b))
		return &q->st.oversize;
	lab_rxq_fill(q, b, len);
	dst = lab_buf_data(b);
	if (!vlan) {
		memcpy(dst, src, len);
	} else {
		uint16_t tpid = (h->tp_status & TP_STATUS_VLAN_TPID_VALID) ? h->hv1.tp_vlan_tpid
									   : ETH_P_8021Q;
		uint16_t tag[2] = { htons(tpid), htons((uint16_t)h->hv1.tp_vlan_tci) };

		memcpy(dst, src, 12);
		memcpy(dst + 12, tag, 4);
		memcpy(dst + 16, src + 12, h->tp_snaplen - 12);
	}
	b->hash = h->hv1.tp_rxhash;
	return NULL;
}

static uint16_t afp_rx(struct lab_port_queue *q, struct lab_buf **bufs, uint16_t n)
{
	struct afp_rxq *r = q->drv;
	uint16_t got = lab_rxq_take(q, bufs, n), k = 0;
	uint64_t bytes = 0;

	while (k < got) {
		struct tpacket_block_desc *bd =
			(struct tpacket_block_desc *)(r->map + (size_t)r->block * r->block_size);
		uint64_t *bad;

		if (r->left == 0) {
			if (!(__atomic_load_n(&bd->hdr.bh1.block_status, __ATOMIC_ACQUIRE) &
			      TP_STATUS_USER))
				break;
			r->left = bd->hdr.bh1.num_pkts;
			r->next = (struct tpacket3_hdr *)((uint8_t *)bd +
							  bd->hdr.bh1.offset_to_first_pkt);
		}
		if (r->left != 0) {
			bad = frame_copy(q, bufs[k], r->next);
			if (bad != NULL) {
				(*bad)++;
			} else {
				bytes += bufs[k]->data_len;
				k++;
			}
			r->next = (struct tpacket3_hdr *)((uint8_t *)r->next + r->next->tp_next_offset);
			r->left--;
		}
		if (r->left == 0) { /* done with the block: the kernel's again */
			__atomic_store_n(&bd->hdr.bh1.block_status, TP_STATUS_KERNEL,
					 __ATOMIC_RELEASE);
			r->block = (r->block + 1) % r->blocks;
		}
	}
	return lab_rxq_done(q, bufs, got, k, bytes);
}

static uint16_t afp_tx(struct lab_port_queue *q, struct lab_buf **bufs, uint16_t n)
{
	struct afp_txq *t = q->drv;
	const uint32_t off = TPACKET3_HDRLEN - sizeof(struct sockaddr_ll);
	uint64_t bytes = 0, ok = 0;
	uint16_t sent = 0;

	for (; sent < n; sent++) {
		struct tpacket3_hdr *h = (struct tpacket3_hdr *)(t->map +
								 (size_t)t->frame * t->frame_size);
		uint32_t st = __atomic_load_n(&h->tp_status, __ATOMIC_ACQUIRE);
		struct lab_buf *b = bufs[sent];
		uint32_t len;

		if (st == TP_STATUS_WRONG_FORMAT) {
			LAB_COUNT_ADD(q->st.errors, 1);
			st = TP_STATUS_AVAILABLE;
		}
		if (st != TP_STATUS_AVAILABLE)
			break; /* the ring is full: the rest stay the caller's */
		/* The frame is copied into the slot anyway, so a chain is
		 * linearized there (one test of next for a single buffer). */
		len = lab_likely(b->next == NULL) ? b->data_len : lab_buf_pkt_len(b);
		if (len > t->frame_size - off) {
			LAB_COUNT_ADD(q->st.oversize, 1);
		} else {
			if (lab_likely(b->next == NULL))
				memcpy((uint8_t *)h + off, lab_buf_data(b), len);
			else
				lab_buf_read(b, 0, (uint8_t *)h + off, len);
			h->tp_len = len;
			h->tp_next_offset = 0;
			__atomic_store_n(&h->tp_status, TP_STATUS_SEND_REQUEST, __ATOMIC_RELEASE);
			t->frame = (t->frame + 1) % t->frames;
			bytes += len;
			ok++;
		}
	}
	if (bytes != 0 && sendto(t->fd, NULL, 0, MSG_DONTWAIT, NULL, 0) < 0 &&
	    errno != EAGAIN && errno != ENOBUFS)
		LAB_COUNT_ADD(q->st.errors, 1);
	lab_free_frames(q->owner, bufs, sent);
	LAB_COUNT_ADD(q->st.packets, ok);
	LAB_COUNT_ADD(q->st.bytes, bytes);
	return sent;
}

static const struct lab_port_ops afp_ops = {
	.name = "af_packet",
	.keys = afp_keys,
	.open = afp_open,
	.close = afp_close,
	.start = lab_port_nop,
	.stop = lab_port_nop,
	.link = afp_link,
	.xstats = afp_xstats,
	.rx_burst = afp_rx,
	.tx_burst = afp_tx,
	.rx_ring_default = 512,
	.tx_ring_default = 512,
};

LAB_PORT_DRIVER_REGISTER(afp_ops);
