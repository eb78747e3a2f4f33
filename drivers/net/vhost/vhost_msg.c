/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * vhost-user requests, back-end side (QEMU's docs/interop/vhost-user.rst).
 * Each request is checked before it changes anything: the version, a
 * payload of exactly the request's size (a mem table: its header plus at
 * least its regions, at most the full table), the descriptors it may carry
 * (one for KICK/CALL/ERR unless the no-fd bit is set, one per region for
 * SET_MEM_TABLE, none otherwise), a ring index below the number of rings,
 * and values in range. A request that fails a check is refused with a log
 * line naming it and what was wrong, and the caller ends the connection: a
 * peer that sends one bad request cannot be trusted with the next.
 *
 * A ring's data path is stopped (vh_vq_quiesce) before a request changes
 * the ring, and restarted (vh_vq_activate) after, so the control thread
 * never changes what a burst is reading.
 */
#include <errno.h>
#include <inttypes.h>
#include <string.h>
#include <unistd.h>

#include <labyrinth/lab_log.h>

#include "vhost_internal.h"

LAB_LOG_DECLARE(port);

static void close_fds(int *fds, unsigned int n)
{
	for (unsigned int i = 0; i < n; i++)
		if (fds[i] >= 0)
			close(fds[i]);
}

static int refuse(struct vh_dev *d, const struct vhu_hdr *h, const char *why, uint64_t value)
{
	LAB_LOG(ERR, port, "%s: vhost-user %s (request %u) from the peer refused: %s (value "
		"%" PRIu64 "); closing the connection", d->name, vhu_req_name(h->request),
		h->request, why, value);
	atomic_fetch_add(&d->msg_errors, 1);
	return -EPROTO;
}

/* The payload size request @p r must have (SET_MEM_TABLE: checked apart). */
static int64_t want_size(uint32_t r)
{
	switch (r) {
	case VHU_GET_FEATURES:
	case VHU_GET_PROTOCOL_FEATURES:
	case VHU_GET_QUEUE_NUM:
	case VHU_SET_OWNER:
	case VHU_RESET_OWNER:
		return 0;
	case VHU_SET_FEATURES:
	case VHU_SET_PROTOCOL_FEATURES:
	case VHU_SET_VRING_KICK:
	case VHU_SET_VRING_CALL:
	case VHU_SET_VRING_ERR:
		return sizeof(uint64_t);
	case VHU_SET_VRING_NUM:
	case VHU_SET_VRING_BASE:
	case VHU_GET_VRING_BASE:
	case VHU_SET_VRING_ENABLE:
		return sizeof(struct vhu_state);
	case VHU_SET_VRING_ADDR:
		return sizeof(struct vhu_addr);
	case VHU_SET_MEM_TABLE:
		return -2;
	}
	return -1;
}

static void activate(struct vh_dev *d, unsigned int i)
{
	struct vh_vq *v = &d->vq[i];
	const char *why = NULL;

	if (vh_vq_activate(v, &d->mem, &why) < 0) {
		LAB_LOG(ERR, port, "%s: virtqueue %u stays stopped: %s (desc 0x%" PRIx64 ", avail "
			"0x%" PRIx64 ", used 0x%" PRIx64 ", size %u)", d->name, i, why, v->desc_uva,
			v->avail_uva, v->used_uva, v->num);
		atomic_fetch_add(&v->ctl_errors, 1);
	}
}

static int set_mem_table(struct vh_dev *d, const struct vhu_hdr *h, const void *payload,
			 int *fds, unsigned int nfds)
{
	struct vhu_mem m = { 0 };
	const char *why = NULL;
	int rc;

	if (h->size < 8)
		return refuse(d, h, "payload shorter than a mem table's header", h->size);
	memcpy(&m, payload, h->size);
	if (m.nregions == 0 || m.nregions > VHU_MAX_REGIONS)
		return refuse(d, h, "number of regions not 1..8", m.nregions);
	if (h->size < 8 + m.nregions * sizeof(struct vhu_region))
		return refuse(d, h, "payload shorter than its regions", h->size);
	if (nfds != m.nregions)
		return refuse(d, h, "not one descriptor per region", nfds);
	for (unsigned int i = 0; i < 2 * d->nq; i++)
		vh_vq_quiesce(&d->vq[i]);
	rc = vh_mem_map(&d->mem, &m, fds, &why);
	for (unsigned int i = 0; i < nfds; i++)
		fds[i] = -1; /* taken by vh_mem_map */
	if (rc < 0)
		return refuse(d, h, why, (uint64_t)-rc);
	for (unsigned int i = 0; i < 2 * d->nq; i++)
		activate(d, i);
	return 0;
}

/* SET_VRING_KICK, CALL, ERR: the descriptor (or none) for ring @p v. */
static void ring_fd(struct vh_dev *d, struct vh_vq *v, uint32_t req, int fd)
{
	int *slot = req == VHU_SET_VRING_KICK ? &v->kickfd
		  : req == VHU_SET_VRING_CALL ? &v->callfd : &v->errfd;

	if (*slot >= 0)
		close(*slot);
	*slot = fd;
	if (req == VHU_SET_VRING_KICK) {
		/* The ring starts; without protocol features it is enabled too. */
		v->started = true;
		if (!(d->features & (1ull << VHOST_USER_F_PROTOCOL_FEATURES)))
			v->enabled = true;
	}
}

static int ring_request(struct vh_dev *d, const struct vhu_hdr *h, const void *payload,
			int *fds, unsigned int nfds, struct vh_reply *reply)
{
	struct vhu_state s;
	struct vhu_addr a;
	uint64_t u = 0;
	uint32_t idx;
	struct vh_vq *v;

	bool fdreq = h->request == VHU_SET_VRING_KICK || h->request == VHU_SET_VRING_CALL ||
		     h->request == VHU_SET_VRING_ERR;

	if (h->request == VHU_SET_VRING_ADDR) {
		memcpy(&a, payload, sizeof(a));
		idx = a.index;
	} else if (!fdreq) {
		memcpy(&s, payload, sizeof(s));
		idx = s.index;
	} else {
		memcpy(&u, payload, sizeof(u));
		idx = (uint32_t)(u & VHU_VRING_IDX_MASK);
	}
	if (idx >= 2 * d->nq)
		return refuse(d, h, "ring index past the device's rings", idx);
	if (fdreq && (u & ~(uint64_t)(VHU_VRING_IDX_MASK | VHU_VRING_NOFD)) != 0)
		return refuse(d, h, "unknown bits in the ring's descriptor request", u);
	if (fdreq && nfds != ((u & VHU_VRING_NOFD) ? 0u : 1u))
		return refuse(d, h, "descriptor count does not match the no-fd bit", nfds);
	v = &d->vq[idx];
	vh_vq_quiesce(v);
	switch (h->request) {
	case VHU_SET_VRING_NUM:
		if (s.num == 0 || s.num > VH_MAX_RING || (s.num & (s.num - 1)) != 0)
			return refuse(d, h, "ring size not a power of two 1..32768", s.num);
		v->num = s.num;
		break;
	case VHU_SET_VRING_BASE:
		if (s.num > UINT16_MAX)
			return refuse(d, h, "ring base past 65535", s.num);
		v->last_avail = (uint16_t)s.num;
		break;
	case VHU_GET_VRING_BASE:
		/* The ring stops; a new start begins clean. */
		reply->send = true;
		reply->size = sizeof(s);
		reply->u.state = (struct vhu_state){ idx, v->last_avail };
		v->started = false;
		atomic_store(&v->broken, NULL);
		v->broken_logged = false;
		if (v->kickfd >= 0)
			close(v->kickfd);
		v->kickfd = -1;
		return 0;
	case VHU_SET_VRING_ENABLE:
		if (s.num > 1)
			return refuse(d, h, "enable neither 0 nor 1", s.num);
		v->enabled = s.num == 1;
		break;
	case VHU_SET_VRING_ADDR:
		if (a.flags != 0)
			return refuse(d, h, "dirty-page logging asked for (not offered)", a.flags);
		v->desc_uva = a.desc;
		v->avail_uva = a.avail;
		v->used_uva = a.used;
		v->addr_set = true;
		break;
	default: /* KICK, CALL, ERR */
		ring_fd(d, v, h->request, nfds ? fds[0] : -1);
		if (nfds)
			fds[0] = -1;
		break;
	}
	activate(d, idx);
	return 0;
}

static int dev_request(struct vh_dev *d, const struct vhu_hdr *h, const void *payload,
		       struct vh_reply *reply)
{
	uint64_t u = 0;

	if (h->size == sizeof(u))
		memcpy(&u, payload, sizeof(u));
	switch (h->request) {
	case VHU_GET_FEATURES:
	case VHU_GET_PROTOCOL_FEATURES:
	case VHU_GET_QUEUE_NUM:
		reply->send = true;
		reply->size = sizeof(uint64_t);
		reply->u.u64 = h->request == VHU_GET_FEATURES ? VH_FEATURES
			     : h->request == VHU_GET_QUEUE_NUM ? d->nq : VH_PROTOCOL_FEATURES;
		return 0;
	case VHU_SET_FEATURES:
		if ((u & ~VH_FEATURES) != 0)
			return refuse(d, h, "features not offered", u & ~VH_FEATURES);
		if (!(u & (1ull << VIRTIO_F_VERSION_1)))
			return refuse(d, h, "VIRTIO_F_VERSION_1 missing (legacy virtio is not "
					    "supported)", u);
		d->features = u;
		d->features_set = true;
		return 0;
	case VHU_SET_PROTOCOL_FEATURES:
		if ((u & ~VH_PROTOCOL_FEATURES) != 0)
			return refuse(d, h, "protocol features not offered",
				      u & ~VH_PROTOCOL_FEATURES);
		d->protocol = u;
		return 0;
	case VHU_SET_OWNER:
		d->owner = true;
		return 0;
	case VHU_RESET_OWNER:
		vh_dev_reset(d);
		return 0;
	}
	return refuse(d, h, "unknown request", h->request);
}

int vh_msg_handle(struct vh_dev *d, const struct vhu_hdr *h, const void *payload, int *fds,
		  unsigned int nfds, struct vh_reply *reply)
{
	int64_t want = want_size(h->request);
	int rc;

	memset(reply, 0, sizeof(*reply));
	if ((h->flags & VHU_VERSION_MASK) != VHU_VERSION || (h->flags & VHU_REPLY))
		rc = refuse(d, h, "not a version 1 request (flags)", h->flags);
	else if (want == -1)
		rc = refuse(d, h, "unknown request", h->request);
	else if (h->size > VH_MAX_PAYLOAD || (want >= 0 && h->size != (uint64_t)want))
		rc = refuse(d, h, "payload size wrong for the request", h->size);
	else if (want == -2)
		rc = set_mem_table(d, h, payload, fds, nfds);
	else if (nfds > 1 || (nfds == 1 && h->request != VHU_SET_VRING_KICK &&
			      h->request != VHU_SET_VRING_CALL && h->request != VHU_SET_VRING_ERR))
		rc = refuse(d, h, "descriptors sent with a request that takes none", nfds);
	else if (h->request >= VHU_SET_VRING_NUM && h->request != VHU_GET_PROTOCOL_FEATURES &&
		 h->request != VHU_SET_PROTOCOL_FEATURES && h->request != VHU_GET_QUEUE_NUM)
		rc = ring_request(d, h, payload, fds, nfds, reply);
	else
		rc = dev_request(d, h, payload, reply);
	close_fds(fds, nfds); /* those not taken */
	for (unsigned int i = 0; i < nfds; i++)
		fds[i] = -1;
	if (rc < 0)
		memset(reply, 0, sizeof(*reply));
	return rc;
}

void vh_dev_reset(struct vh_dev *d)
{
	for (unsigned int i = 0; i < 2 * d->nq; i++)
		vh_vq_reset(&d->vq[i]);
	vh_mem_unmap(&d->mem);
	d->features = d->protocol = 0;
	d->owner = d->features_set = false;
}

void vh_dev_log_broken(struct vh_dev *d)
{
	for (unsigned int i = 0; i < 2 * d->nq; i++) {
		struct vh_vq *v = &d->vq[i];
		const char *why = atomic_load(&v->broken);

		if (why == NULL || v->broken_logged)
			continue;
		v->broken_logged = true;
		LAB_LOG(ERR, port, "%s: virtqueue %u (the peer's %s %u) stopped: %s (value 0x%"
			PRIx64 "); it stays stopped until the peer sets it up again", d->name, i,
			i & 1 ? "TX" : "RX", i / 2, why, v->bad_value);
	}
}
