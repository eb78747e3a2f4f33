/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * virtio_blk: a virtio-blk driver whose device is a vhost-user-blk back-end
 * on a unix socket (qemu-storage-daemon's vhost-user-blk export, SPDK's
 * vhost target), in the manner of SPDK's bdev_virtio. No kernel in the I/O
 * path: the back-end maps the pool's memory (a shared, fixed pool:
 * lab_pool_regions()) and the rings (a lab_shm segment), reads each
 * request's header and writes its status in a pool buffer, and moves the
 * data straight from and into the caller's pool buffers.
 *
 *   virtio_blk:path=/run/vblk.sock,queues=2,reconnect=1
 *
 * One virtqueue per queue pair (virtqueue k for the k-th queue pair that
 * exists); the device's num_queues bounds how many may exist at once.
 *
 * The back-end going away (its socket hangs up) is seen by a small control
 * thread per device, which moves the device's generation to odd. Each queue
 * pair's next poll (one atomic load when nothing changed) then completes
 * what the back-end had finished, fails every other request it holds with
 * -EIO (none hangs, the caller gets every buffer back through its callback),
 * and resets its rings. Submits are refused with -EIO from then on, or, with
 * reconnect=1, with -EAGAIN while the control thread connects again (every
 * 100 ms), negotiates, hands the memory and the reset rings over from base 0
 * once every queue pair has followed, and moves to the next even generation.
 */
#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <labyrinth/lab_log.h>

#include "vblk_internal.h"

LAB_LOG_DECLARE(blk);

/* Ring size of every virtqueue: libvhost-user's (QEMU's) largest. A request
 * takes 2 descriptors plus its data segments, so the deepest queue pair of
 * one-segment requests fits with room to spare. */
#define VBLK_RING 1024u
#define VBLK_MAX_DEPTH 256u
/* How long a back-end that hung up may take to exit before its requests are
 * failed anyway (see peer_gone). */
#define VBLK_EXIT_MS 5000

static const struct lab_devargs_key vblk_keys[] = {
	{ "path", "the vhost-user-blk back-end's socket (required)" },
	{ "queues", "queue pairs that may exist at once, one virtqueue each (default: the "
		    "device's num_queues)" },
	{ "reconnect", "1: when the back-end goes away, connect again when it is back; 0: "
		       "fail requests from then on (default 0)" },
	{ "seg", "bytes per data descriptor, splitting larger transfers (default: the device's "
		 "size_max, else the whole transfer)" },
	{ "max_io", "largest transfer in bytes (default 1M; at most seg_max segments)" },
	{ "qd", "default queue pair depth (default 128, at most 256)" },
	{ "ro", "1: refuse writes (a device offering VIRTIO_BLK_F_RO is read-only anyway)" },
	{ NULL, NULL },
};

#define BIT(f) (1ull << (f))

/* Features taken when offered; VERSION_1 and the protocol features (for
 * GET_CONFIG) are required. */
static const uint64_t vblk_want =
	BIT(VIRTIO_F_VERSION_1) | BIT(VIRTIO_BLK_F_SIZE_MAX) | BIT(VIRTIO_BLK_F_SEG_MAX) |
	BIT(VIRTIO_BLK_F_BLK_SIZE) | BIT(VIRTIO_BLK_F_FLUSH) | BIT(VIRTIO_BLK_F_DISCARD) |
	BIT(VIRTIO_BLK_F_WRITE_ZEROES) | BIT(VIRTIO_BLK_F_MQ) | BIT(VIRTIO_BLK_F_RO) |
	BIT(VIRTIO_RING_F_EVENT_IDX) | BIT(VHOST_USER_F_PROTOCOL_FEATURES);

/* Owner, features, protocol features and the config space of the back-end
 * now connected, into @p feat and @p cfg. */
static int negotiate(struct vblk_dev *vd, uint64_t *feat, struct vblk_config *cfg)
{
	uint64_t dev, proto;
	int rc;

	rc = vhu_send(&vd->conn, VHU_SET_OWNER, NULL, 0, NULL, 0);
	if (rc == 0)
		rc = vhu_get_u64(&vd->conn, VHU_GET_FEATURES, &dev);
	if (rc < 0)
		return rc;
	if ((dev & (BIT(VIRTIO_F_VERSION_1) | BIT(VHOST_USER_F_PROTOCOL_FEATURES))) !=
	    (BIT(VIRTIO_F_VERSION_1) | BIT(VHOST_USER_F_PROTOCOL_FEATURES))) {
		LAB_LOG(ERR, blk, "%s: the back-end offers features 0x%" PRIx64 ": VERSION_1 "
			"and vhost-user protocol features (for GET_CONFIG) are needed", vd->name,
			dev);
		return -ENOTSUP;
	}
	*feat = dev & vblk_want;
	rc = vhu_get_u64(&vd->conn, VHU_GET_PROTOCOL_FEATURES, &proto);
	if (rc < 0)
		return rc;
	if (!(proto & BIT(VHU_PROTOCOL_F_CONFIG))) {
		LAB_LOG(ERR, blk, "%s: the back-end has no GET_CONFIG (protocol features 0x%"
			PRIx64 "): cannot read the capacity", vd->name, proto);
		return -ENOTSUP;
	}
	proto &= BIT(VHU_PROTOCOL_F_CONFIG) | BIT(VHU_PROTOCOL_F_MQ);
	rc = vhu_set_u64(&vd->conn, VHU_SET_PROTOCOL_FEATURES, proto);
	if (rc == 0)
		rc = vhu_set_u64(&vd->conn, VHU_SET_FEATURES, *feat);
	if (rc == 0)
		rc = vhu_get_config(&vd->conn, 0, cfg, sizeof(*cfg));
	return rc;
}

/* The device's properties from its config space and the device string. */
static int describe(struct lab_blk_dev *d, struct vblk_dev *vd, const struct lab_devargs *a)
{
	const struct vblk_config *c = &vd->cfg;
	uint64_t queues, seg, max_io, qd, ro, dq;
	uint32_t bs = vd->features & BIT(VIRTIO_BLK_F_BLK_SIZE) ? c->blk_size : 512;

	dq = vd->features & BIT(VIRTIO_BLK_F_MQ) ? c->num_queues : 1;
	if (lab_devargs_u64(a, "queues", dq, 1, 1024, &queues) < 0 ||
	    lab_devargs_u64(a, "seg", 0, 0, 1u << 30, &seg) < 0 ||
	    lab_devargs_u64(a, "max_io", 1u << 20, 512, 1u << 30, &max_io) < 0 ||
	    lab_devargs_u64(a, "qd", 128, 1, VBLK_MAX_DEPTH, &qd) < 0 ||
	    lab_devargs_u64(a, "ro", 0, 0, 1, &ro) < 0)
		return -EINVAL;
	if (bs < 512 || bs > 65536 || !LAB_IS_POW2(bs)) {
		LAB_LOG(ERR, blk, "%s: the device's block size %" PRIu32 " is not a power of two "
			"from 512 to 65536", vd->name, bs);
		return -ENOTSUP;
	}
	if (queues > dq || dq == 0) {
		LAB_LOG(ERR, blk, "%s: queues=%" PRIu64 ", but the device has %" PRIu64
			" (export it with num-queues=%" PRIu64 ")", vd->name, queues, dq, queues);
		return -EINVAL;
	}
	vd->nq = (unsigned int)queues;
	vd->lim.seg_max = vd->features & BIT(VIRTIO_BLK_F_SEG_MAX) ? c->seg_max : 1;
	if (vd->lim.seg_max == 0 || vd->lim.seg_max > VBLK_RING - 2)
		vd->lim.seg_max = VBLK_RING - 2;
	if (seg == 0)
		seg = vd->features & BIT(VIRTIO_BLK_F_SIZE_MAX) && c->size_max ? c->size_max
									   : max_io;
	if (seg % 512 != 0 || (vd->features & BIT(VIRTIO_BLK_F_SIZE_MAX) && c->size_max &&
			       seg > c->size_max)) {
		LAB_LOG(ERR, blk, "%s: seg=%" PRIu64 " must be a multiple of 512 and at most the "
			"device's size_max %" PRIu32, vd->name, seg, c->size_max);
		return -EINVAL;
	}
	vd->lim.seg_size = (uint32_t)seg;
	if (max_io > (uint64_t)vd->lim.seg_max * seg)
		max_io = (uint64_t)vd->lim.seg_max * seg;
	vd->lim.max_discard_sectors = c->max_discard_sectors;
	vd->lim.max_write_zeroes_sectors = c->max_write_zeroes_sectors;
	vd->ro = ro || (vd->features & BIT(VIRTIO_BLK_F_RO));
	d->info.block_size = bs;
	d->info.block_count = c->capacity * 512 / bs;
	d->info.max_transfer = (uint32_t)(max_io / bs * bs);
	/* The back-end opens its image with O_DIRECT (cache.direct=on): data
	 * aligned to the block is what it can pass on without a bounce buffer. */
	d->info.mem_align = bs;
	d->info.max_depth = VBLK_MAX_DEPTH;
	d->info.depth = (uint32_t)qd;
	d->info.flags = (vd->features & BIT(VIRTIO_BLK_F_FLUSH) ? LAB_BLK_F_FLUSH : 0) |
			(vd->features & BIT(VIRTIO_BLK_F_DISCARD) ? LAB_BLK_F_DISCARD : 0) |
			(vd->features & BIT(VIRTIO_BLK_F_WRITE_ZEROES) ? LAB_BLK_F_WRITE_ZEROES
								       : 0) |
			(vd->ro ? LAB_BLK_F_READ_ONLY : 0);
	d->pool_shared = true;
	d->pool_req_bytes = VBLK_SLOT;
	d->max_qpairs = vd->nq;
	return 0;
}

/* Hand the back-end the memory and every queue pair's ring, enabled. Lock held. */
static int hand_over(struct vblk_dev *vd)
{
	int rc = 0;

	if (vd->pool != NULL) {
		rc = vhu_set_mem_table(&vd->conn, vd->regions, vd->nregions);
		vd->mem_sent = rc == 0;
	}
	for (unsigned int k = 0; k < vd->nq && rc == 0; k++)
		if (vd->qps[k] != NULL) {
			rc = vq_hand_over(&vd->conn, &vd->qps[k]->vq);
			if (rc == 0)
				rc = vhu_set_state(&vd->conn, VHU_SET_VRING_ENABLE, k, 1);
		}
	return rc;
}

/* Connect again, to a device like the first. Lock held. */
static int attach(struct vblk_dev *vd)
{
	struct vblk_config cfg;
	uint64_t feat;
	int rc = vhu_connect(&vd->conn, true);

	if (rc == 0)
		rc = negotiate(vd, &feat, &cfg);
	if (rc == 0 && (feat != vd->features || cfg.capacity != vd->cfg.capacity ||
			cfg.blk_size != vd->cfg.blk_size)) {
		LAB_LOG(ERR, blk, "%s: the back-end back at %s is another device (features 0x%"
			PRIx64 ", %" PRIu64 " sectors; before 0x%" PRIx64 ", %" PRIu64 "); not "
			"attaching it", vd->name, vd->conn.path, feat, cfg.capacity, vd->features,
			vd->cfg.capacity);
		rc = -ENODEV;
	}
	if (rc == 0)
		rc = hand_over(vd);
	if (rc < 0)
		vhu_close(&vd->conn);
	return rc;
}

/* Remember the back-end's process (SO_PEERCRED, pidfd_open: Linux 5.3),
 * to know when it has stopped touching our memory. */
static void peer_watch(struct vblk_dev *vd)
{
	struct ucred cr;
	socklen_t len = sizeof(cr);

	if (vd->peer_pidfd >= 0)
		close(vd->peer_pidfd);
	vd->peer_pidfd = -1;
	vd->peer_pid = 0;
	if (getsockopt(vd->conn.fd, SOL_SOCKET, SO_PEERCRED, &cr, &len) == 0 && cr.pid > 0) {
		vd->peer_pid = cr.pid;
		vd->peer_pidfd = (int)syscall(SYS_pidfd_open, cr.pid, 0);
	}
}

/*
 * A hang-up is not the end of the back-end's writes: qemu-storage-daemon,
 * told to quit, shuts the socket first and then lets the requests it has
 * started finish, writing their data and status into our buffers. So its
 * requests are failed only once its process has exited (their completions
 * until then are reaped as usual), or after VBLK_EXIT_MS if it lives on (a
 * back-end that only dropped the connection), said in the log.
 */
static void peer_gone(struct vblk_dev *vd)
{
	struct pollfd pfd = { .fd = vd->peer_pidfd, .events = POLLIN };

	if (vd->peer_pidfd < 0) {
		usleep(VBLK_EXIT_MS * 1000);
		return;
	}
	if (poll(&pfd, 1, VBLK_EXIT_MS) <= 0)
		LAB_LOG(WARNING, blk, "%s: the back-end (pid %d) hung up but still runs after "
			"%d ms; failing its requests anyway (it may still write into their "
			"buffers)", vd->name, vd->peer_pid, VBLK_EXIT_MS);
	close(vd->peer_pidfd);
	vd->peer_pidfd = -1;
}

static bool hung_up(int fd)
{
	struct pollfd pfd = { .fd = fd, .events = POLLRDHUP };

	return poll(&pfd, 1, 0) > 0 && (pfd.revents & (POLLRDHUP | POLLHUP | POLLERR));
}

/* Every queue pair has followed generation @p g (or we are told to stop). */
static bool qps_follow(struct vblk_dev *vd, uint32_t g)
{
	while (!atomic_load_explicit(&vd->stop, memory_order_relaxed)) {
		bool all = true;

		pthread_mutex_lock(&vd->lock);
		for (unsigned int k = 0; k < vd->nq && all; k++)
			all = vd->qps[k] == NULL ||
			      atomic_load_explicit(&vd->qps[k]->vq.gen_done,
						   memory_order_acquire) == g;
		pthread_mutex_unlock(&vd->lock);
		if (all)
			return true;
		usleep(1000);
	}
	return false;
}

/* The control thread: watch the socket; on a hang-up move to an odd
 * generation; with reconnect=1 attach the back-end again once every queue
 * pair has followed, and move to the next even one. */
static void *watch_main(void *arg)
{
	struct vblk_dev *vd = arg;

	while (!atomic_load_explicit(&vd->stop, memory_order_relaxed)) {
		struct pollfd pfd = { .fd = vd->conn.fd, .events = POLLRDHUP };
		uint32_t g;

		if (poll(&pfd, 1, 100) <= 0 || !(pfd.revents & (POLLRDHUP | POLLHUP | POLLERR)))
			continue;
		atomic_store(&vd->draining, true);
		LAB_LOG(WARNING, blk, "%s: the back-end at %s hung up: requests it has not "
			"finished when it exits fail with -EIO; %s", vd->name, vd->conn.path,
			vd->reconnect ? "new ones wait (-EAGAIN) until it is back" :
					"new ones are refused with -EIO (reconnect=1 waits for it)");
		peer_gone(vd);
		pthread_mutex_lock(&vd->lock);
		g = atomic_fetch_add_explicit(&vd->gen, 1, memory_order_acq_rel) + 1;
		vhu_close(&vd->conn);
		vd->mem_sent = false;
		pthread_mutex_unlock(&vd->lock);
		if (!vd->reconnect || !qps_follow(vd, g))
			break;
		for (;;) {
			int rc;

			if (atomic_load_explicit(&vd->stop, memory_order_relaxed))
				return NULL;
			pthread_mutex_lock(&vd->lock);
			rc = attach(vd);
			if (rc == 0) {
				peer_watch(vd);
				atomic_store(&vd->draining, false);
				atomic_fetch_add_explicit(&vd->gen, 1, memory_order_acq_rel);
			}
			pthread_mutex_unlock(&vd->lock);
			if (rc == 0)
				break;
			usleep(100 * 1000);
		}
		LAB_LOG(NOTICE, blk, "%s: connected to %s again (attach %" PRIu64 ")", vd->name,
			vd->conn.path, ++vd->attaches);
	}
	return NULL;
}

static void vblk_free(struct vblk_dev *vd)
{
	if (vd->thread_on) {
		atomic_store(&vd->stop, true);
		pthread_join(vd->thread, NULL);
	}
	vhu_close(&vd->conn);
	if (vd->peer_pidfd >= 0)
		close(vd->peer_pidfd);
	lab_shm_destroy(vd->shm);
	free(vd->qps);
	pthread_mutex_destroy(&vd->lock);
	free(vd);
}

static int vblk_open(struct lab_blk_dev *d, const struct lab_devargs *a)
{
	const char *path = lab_devargs_get(a, "path");
	struct vblk_dev *vd;
	uint64_t rec;
	int rc;

	if (path == NULL || path[0] == '\0') {
		LAB_LOG(ERR, blk, "%s: path= is required (the vhost-user-blk back-end's socket)",
			a->devstr);
		return -EINVAL;
	}
	if (lab_devargs_u64(a, "reconnect", 0, 0, 1, &rec) < 0)
		return -EINVAL;
	vd = calloc(1, sizeof(*vd));
	if (vd == NULL)
		return -ENOMEM;
	pthread_mutex_init(&vd->lock, NULL);
	vd->conn.fd = vd->conn.listen_fd = -1;
	vd->peer_pidfd = -1;
	vd->reconnect = rec;
	snprintf(vd->name, sizeof(vd->name), "virtio_blk %.50s", path);
	snprintf(vd->conn.path, sizeof(vd->conn.path), "%s", path);
	vd->conn.who = vd->name;
	vd->ring_size = VBLK_RING;
	rc = vhu_connect(&vd->conn, false);
	if (rc == 0) {
		peer_watch(vd);
		rc = negotiate(vd, &vd->features, &vd->cfg);
	}
	if (rc == 0)
		rc = describe(d, vd, a);
	if (rc == 0) {
		vd->shm = lab_shm_create("virtio-blk-rings", vd->nq * vq_bytes(VBLK_RING), false);
		vd->qps = calloc(vd->nq, sizeof(*vd->qps));
		if (vd->shm == NULL || vd->qps == NULL)
			rc = -ENOMEM;
	}
	if (rc == 0 && (rc = -pthread_create(&vd->thread, NULL, watch_main, vd)) < 0)
		LAB_LOG(ERR, blk, "%s: cannot start its control thread: %s", vd->name,
			strerror(-rc));
	if (rc < 0) {
		vblk_free(vd);
		return rc;
	}
	vd->thread_on = true;
	d->drv = vd;
	LAB_LOG(INFO, blk, "%s: features 0x%" PRIx64 ", %" PRIu64 " sectors, block %" PRIu32
		", seg_max %" PRIu32 " of %" PRIu32 " bytes, %u queue(s)", vd->name, vd->features,
		vd->cfg.capacity, d->info.block_size, vd->lim.seg_max, vd->lim.seg_size, vd->nq);
	return 0;
}

static void vblk_close(struct lab_blk_dev *d)
{
	vblk_free(d->drv);
	d->drv = NULL;
}

/* The pool's memory for the device's mem table: the first queue pair's pool,
 * which every other must share while one exists. Lock held. */
static int take_pool(struct vblk_dev *vd, struct lab_blk_qpair *qp)
{
	int nr;

	if (qp->pool == NULL) {
		LAB_LOG(ERR, blk, "%s: a queue pair needs a pool: the device reads and writes "
			"its buffers (lab_blk_pool_opts() makes a suitable one)", vd->name);
		return -EINVAL;
	}
	if (vd->pool != NULL) {
		if (qp->pool == vd->pool)
			return 0;
		LAB_LOG(ERR, blk, "%s: every queue pair must use one pool (the memory the device "
			"maps); destroy the others to change it", vd->name);
		return -EINVAL;
	}
	nr = lab_pool_regions(qp->pool, vd->regions, VHU_MAX_REGIONS - 1);
	if (nr < 0)
		return nr;
	if (nr > (int)VHU_MAX_REGIONS - 1) {
		LAB_LOG(ERR, blk, "%s: the pool's memory is %d regions; a mem table holds %u with "
			"the rings", vd->name, nr, VHU_MAX_REGIONS);
		return -E2BIG;
	}
	lab_shm_region(vd->shm, &vd->regions[nr]);
	vd->nregions = (unsigned int)nr + 1;
	vd->lim.regions = vd->regions;
	vd->lim.nregions = (unsigned int)nr; /* data lives in the pool, never in the rings */
	vd->pool = qp->pool;
	vd->mem_sent = false;
	return 0;
}

/* Slots for @p q's requests, in buffers of the pool: as few as hold depth
 * slots, owned by a cache of their own. */
static int take_slots(struct vblk_qp *q, struct lab_blk_qpair *qp)
{
	uint32_t room = lab_pool_data_room(qp->pool), per = room / VBLK_SLOT;

	if (per == 0) {
		LAB_LOG(ERR, blk, "%s: the pool's buffers hold %u bytes; a request's header "
			"needs %u", q->vd->name, room, VBLK_SLOT);
		return -EINVAL;
	}
	q->hdr_bufs = calloc((qp->depth + per - 1) / per, sizeof(*q->hdr_bufs));
	q->slot = calloc(qp->depth, sizeof(*q->slot));
	q->hdr_cache = lab_cache_create(qp->pool, "virtio_blk headers", 1);
	if (q->hdr_bufs == NULL || q->slot == NULL || q->hdr_cache == NULL)
		return -ENOMEM;
	for (unsigned int want = (qp->depth + per - 1) / per; q->nhdr < want; q->nhdr++)
		if (lab_alloc_bulk(qp->pool, q->hdr_cache, &q->hdr_bufs[q->nhdr], 1, 0) != 1) {
			LAB_LOG(ERR, blk, "%s: no pool buffer for the request headers of a queue "
				"pair of depth %u (lab_blk_pool_opts() counts them in)",
				q->vd->name, qp->depth);
			return -ENOMEM;
		}
	for (uint32_t i = 0; i < qp->depth; i++) {
		uint8_t *base = lab_buf_data(q->hdr_bufs[i / per]);

		q->slot[i] = (struct vblk_slot *)(base + (i % per) * VBLK_SLOT);
		memset(q->slot[i], 0, VBLK_SLOT);
	}
	return 0;
}

static void qp_free(struct vblk_qp *q)
{
	if (q->nhdr != 0)
		lab_free_bulk(q->hdr_cache, q->hdr_bufs, q->nhdr);
	if (q->hdr_cache != NULL)
		lab_cache_destroy(q->hdr_cache);
	vq_fini(&q->vq);
	free(q->hdr_bufs);
	free(q->slot);
	free(q->head);
	free(q);
}

/* Give virtqueue @p k to the back-end now, if one is attached. Lock held. */
static int start_vq(struct vblk_dev *vd, unsigned int k, uint32_t g)
{
	int rc = 0;

	if (g & 1)
		return 0; /* the control thread hands it over when one is */
	if (!vd->mem_sent) {
		rc = vhu_set_mem_table(&vd->conn, vd->regions, vd->nregions);
		vd->mem_sent = rc == 0;
	}
	if (rc == 0)
		rc = vq_hand_over(&vd->conn, &vd->qps[k]->vq);
	if (rc == 0)
		rc = vhu_set_state(&vd->conn, VHU_SET_VRING_ENABLE, k, 1);
	return rc;
}

static int vblk_qpair_create(struct lab_blk_qpair *qp)
{
	struct vblk_dev *vd = qp->dev->drv;
	struct vblk_qp *q;
	unsigned int k;
	uint32_t g;
	int rc;

	pthread_mutex_lock(&vd->lock);
	for (k = 0; k < vd->nq && vd->qps[k] != NULL; k++)
		;
	if (k == vd->nq) {
		LAB_LOG(ERR, blk, "%s: all %u queue(s) are in use by queue pairs (queues=%u)",
			vd->name, vd->nq, vd->nq);
		rc = -EBUSY;
		goto out;
	}
	if ((rc = take_pool(vd, qp)) < 0)
		goto out;
	q = calloc(1, sizeof(*q));
	if (q == NULL) {
		rc = -ENOMEM;
		goto out;
	}
	q->vd = vd;
	q->qp = qp;
	rc = vq_init(&q->vq, (uint16_t)k, VBLK_RING,
		     (uint8_t *)lab_shm_va(vd->shm) + k * vq_bytes(VBLK_RING),
		     vd->features & BIT(VIRTIO_RING_F_EVENT_IDX));
	q->head = calloc(VBLK_RING, sizeof(*q->head));
	if (rc == 0 && q->head == NULL)
		rc = -ENOMEM;
	if (rc == 0)
		rc = take_slots(q, qp);
	g = atomic_load_explicit(&vd->gen, memory_order_acquire);
	q->vq.gen = g;
	atomic_store_explicit(&q->vq.gen_done, g, memory_order_relaxed);
	vd->qps[k] = q;
	if (rc == 0 && (rc = start_vq(vd, k, g)) < 0)
		LAB_LOG(ERR, blk, "%s: cannot hand virtqueue %u to the back-end: %s", vd->name, k,
			strerror(-rc));
	if (rc < 0) {
		vd->qps[k] = NULL;
		qp_free(q);
	} else {
		qp->drv = q;
	}
out:
	if (rc < 0 && vd->pool != NULL) {
		bool any = false;

		for (unsigned int i = 0; i < vd->nq; i++)
			any |= vd->qps[i] != NULL;
		if (!any)
			vd->pool = NULL;
	}
	pthread_mutex_unlock(&vd->lock);
	return rc;
}

static void vblk_qpair_destroy(struct lab_blk_qpair *qp)
{
	struct vblk_qp *q = qp->drv;
	struct vblk_dev *vd = q->vd;
	bool any = false;
	uint32_t base;

	pthread_mutex_lock(&vd->lock);
	/* Stop the back-end's use of the ring before its memory goes (unless
	 * it has hung up, and the control thread has not seen it yet). */
	if (!(atomic_load(&vd->gen) & 1) && vd->conn.fd >= 0 && !hung_up(vd->conn.fd))
		vhu_get_vring_base(&vd->conn, q->vq.index, &base);
	vd->qps[q->vq.index] = NULL;
	for (unsigned int i = 0; i < vd->nq; i++)
		any |= vd->qps[i] != NULL;
	if (!any)
		vd->pool = NULL; /* the next queue pair may bring another */
	pthread_mutex_unlock(&vd->lock);
	qp_free(q);
}

static const struct lab_blk_ops vblk_ops = {
	.name = "virtio_blk",
	.keys = vblk_keys,
	.open = vblk_open,
	.close = vblk_close,
	.qpair_create = vblk_qpair_create,
	.qpair_destroy = vblk_qpair_destroy,
	.submit = vblk_submit,
	.poll = vblk_poll,
};

LAB_BLK_DRIVER_REGISTER(vblk_ops);
