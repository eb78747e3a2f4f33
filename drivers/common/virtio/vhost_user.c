/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * vhost-user messages, front-end side. Each message is a 12-byte header
 * (request, flags with the version in the low bits, payload size) and the
 * payload; descriptors travel as SCM_RIGHTS. Replies are read with a time
 * limit, so a back-end that stops answering fails the call with a message
 * instead of hanging the caller; every reply is checked for its request,
 * its reply flag and its size before a byte of it is used.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include <labyrinth/lab_log.h>

#include "vhost_user.h"

LAB_LOG_DECLARE(port);

#define VHU_REPLY_SECS 5

static void set_timeouts(int fd)
{
	struct timeval tv = { .tv_sec = VHU_REPLY_SECS };

	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
}

int vhu_connect(struct vhu_conn *c, bool quiet)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd;

	if (strlen(c->path) >= sizeof(sa.sun_path)) {
		LAB_LOG(ERR, port, "%s: socket path '%s' is longer than %zu bytes", c->who, c->path,
			sizeof(sa.sun_path) - 1);
		return -ENAMETOOLONG;
	}
	memcpy(sa.sun_path, c->path, strlen(c->path) + 1);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
		int err = -errno;

		if (!quiet)
			LAB_LOG(ERR, port, "%s: cannot connect to the vhost-user back-end at %s: "
				"%s (is it listening there?)", c->who, c->path, strerror(-err));
		close(fd);
		return err;
	}
	set_timeouts(fd);
	c->fd = fd;
	return 0;
}

int vhu_listen(struct vhu_conn *c)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct stat st;
	int fd, err;

	if (strlen(c->path) >= sizeof(sa.sun_path)) {
		LAB_LOG(ERR, port, "%s: socket path '%s' is longer than %zu bytes", c->who, c->path,
			sizeof(sa.sun_path) - 1);
		return -ENAMETOOLONG;
	}
	memcpy(sa.sun_path, c->path, strlen(c->path) + 1);
	/* A socket file left by an earlier run: ours to replace. Anything
	 * else at the path is not. */
	if (lstat(c->path, &st) == 0) {
		if (!S_ISSOCK(st.st_mode)) {
			LAB_LOG(ERR, port, "%s: %s exists and is not a socket; not replacing it",
				c->who, c->path);
			return -EEXIST;
		}
		unlink(c->path);
	}
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0 || listen(fd, 1) != 0) {
		err = -errno;
		LAB_LOG(ERR, port, "%s: cannot listen at %s: %s", c->who, c->path, strerror(-err));
		close(fd);
		return err;
	}
	c->listen_fd = fd;
	return 0;
}

int vhu_accept(struct vhu_conn *c, int ms)
{
	struct pollfd pfd = { .fd = c->listen_fd, .events = POLLIN };
	int fd;

	if (poll(&pfd, 1, ms) <= 0)
		return -ETIMEDOUT;
	fd = accept4(c->listen_fd, NULL, NULL, SOCK_CLOEXEC);
	if (fd < 0)
		return -errno;
	set_timeouts(fd);
	c->fd = fd;
	return 0;
}

void vhu_unlisten(struct vhu_conn *c)
{
	if (c->listen_fd < 0)
		return;
	close(c->listen_fd);
	c->listen_fd = -1;
	unlink(c->path);
}

void vhu_close(struct vhu_conn *c)
{
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
}

const char *vhu_req_name(enum vhu_request r)
{
	switch (r) {
	case VHU_GET_FEATURES: return "GET_FEATURES";
	case VHU_SET_FEATURES: return "SET_FEATURES";
	case VHU_SET_OWNER: return "SET_OWNER";
	case VHU_RESET_OWNER: return "RESET_OWNER";
	case VHU_SET_MEM_TABLE: return "SET_MEM_TABLE";
	case VHU_SET_VRING_NUM: return "SET_VRING_NUM";
	case VHU_SET_VRING_ADDR: return "SET_VRING_ADDR";
	case VHU_SET_VRING_BASE: return "SET_VRING_BASE";
	case VHU_GET_VRING_BASE: return "GET_VRING_BASE";
	case VHU_SET_VRING_KICK: return "SET_VRING_KICK";
	case VHU_SET_VRING_CALL: return "SET_VRING_CALL";
	case VHU_SET_VRING_ERR: return "SET_VRING_ERR";
	case VHU_GET_PROTOCOL_FEATURES: return "GET_PROTOCOL_FEATURES";
	case VHU_SET_PROTOCOL_FEATURES: return "SET_PROTOCOL_FEATURES";
	case VHU_GET_QUEUE_NUM: return "GET_QUEUE_NUM";
	case VHU_SET_VRING_ENABLE: return "SET_VRING_ENABLE";
	case VHU_GET_CONFIG: return "GET_CONFIG";
	case VHU_SET_CONFIG: return "SET_CONFIG";
	}
	return "?";
}

int vhu_send(struct vhu_conn *c, enum vhu_request req, const void *payload, uint32_t size,
	     const int *fds, unsigned int nfds)
{
	struct vhu_hdr h = { .request = req, .flags = VHU_VERSION, .size = size };
	struct iovec iov[2] = { { &h, sizeof(h) }, { (void *)(uintptr_t)payload, size } };
	char ctl[CMSG_SPACE(sizeof(int) * VHU_MAX_REGIONS)];
	struct msghdr m = { .msg_iov = iov, .msg_iovlen = size ? 2 : 1 };
	ssize_t n;

	if (c->fd < 0)
		return -ENOTCONN;
	if (nfds > 0) {
		struct cmsghdr *cm;

		memset(ctl, 0, sizeof(ctl));
		m.msg_control = ctl;
		m.msg_controllen = CMSG_SPACE(sizeof(int) * nfds);
		cm = CMSG_FIRSTHDR(&m);
		cm->cmsg_level = SOL_SOCKET;
		cm->cmsg_type = SCM_RIGHTS;
		cm->cmsg_len = CMSG_LEN(sizeof(int) * nfds);
		memcpy(CMSG_DATA(cm), fds, sizeof(int) * nfds);
	}
	do
		n = sendmsg(c->fd, &m, MSG_NOSIGNAL);
	while (n < 0 && errno == EINTR);
	if (n != (ssize_t)(sizeof(h) + size)) {
		int err = n < 0 ? -errno : -EIO;

		LAB_LOG(ERR, port, "%s: vhost-user %s to %s failed: %s", c->who, vhu_req_name(req),
			c->path, strerror(-err));
		return err;
	}
	return 0;
}

static int recv_all(int fd, void *buf, size_t len)
{
	size_t got = 0;

	while (got < len) {
		ssize_t n = recv(fd, (char *)buf + got, len - got, 0);

		if (n == 0)
			return -ECONNRESET;
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return errno == EAGAIN ? -ETIMEDOUT : -errno;
		got += (size_t)n;
	}
	return 0;
}

/* The reply to @p req: checked header, then exactly @p size bytes. */
static int recv_reply(struct vhu_conn *c, enum vhu_request req, void *payload, uint32_t size)
{
	struct vhu_hdr h;
	int rc = recv_all(c->fd, &h, sizeof(h));

	if (rc == 0 && (h.request != req || !(h.flags & VHU_REPLY) ||
			(h.flags & 0x3u) != VHU_VERSION || h.size != size)) {
		LAB_LOG(ERR, port, "%s: bad vhost-user reply to %s from %s: request %u, flags "
			"0x%x, size %u (want request %u, version 1 with the reply flag, size %u)",
			c->who, vhu_req_name(req), c->path, h.request, h.flags, h.size, (unsigned)req,
			size);
		return -EPROTO;
	}
	if (rc == 0)
		rc = recv_all(c->fd, payload, size);
	if (rc == -ETIMEDOUT)
		LAB_LOG(ERR, port, "%s: no vhost-user reply to %s from %s within %d s", c->who,
			vhu_req_name(req), c->path, VHU_REPLY_SECS);
	else if (rc < 0 && rc != -EPROTO)
		LAB_LOG(ERR, port, "%s: no vhost-user reply to %s from %s: %s", c->who,
			vhu_req_name(req), c->path, strerror(-rc));
	return rc;
}

int vhu_get_u64(struct vhu_conn *c, enum vhu_request req, uint64_t *out)
{
	int rc = vhu_send(c, req, NULL, 0, NULL, 0);

	return rc < 0 ? rc : recv_reply(c, req, out, sizeof(*out));
}

int vhu_set_u64(struct vhu_conn *c, enum vhu_request req, uint64_t v)
{
	return vhu_send(c, req, &v, sizeof(v), NULL, 0);
}

int vhu_set_state(struct vhu_conn *c, enum vhu_request req, uint32_t index, uint32_t num)
{
	struct vhu_state s = { index, num };

	return vhu_send(c, req, &s, sizeof(s), NULL, 0);
}

int vhu_get_vring_base(struct vhu_conn *c, uint32_t index, uint32_t *base)
{
	struct vhu_state s = { index, 0 };
	int rc = vhu_send(c, VHU_GET_VRING_BASE, &s, sizeof(s), NULL, 0);

	if (rc == 0)
		rc = recv_reply(c, VHU_GET_VRING_BASE, &s, sizeof(s));
	if (rc == 0)
		*base = s.num;
	return rc;
}

int vhu_set_vring_addr(struct vhu_conn *c, uint32_t index, const void *desc, const void *used,
		       const void *avail)
{
	struct vhu_addr a = { .index = index, .desc = (uintptr_t)desc, .used = (uintptr_t)used,
			      .avail = (uintptr_t)avail };

	return vhu_send(c, VHU_SET_VRING_ADDR, &a, sizeof(a), NULL, 0);
}

int vhu_set_vring_fd(struct vhu_conn *c, enum vhu_request req, uint32_t index, int fd)
{
	uint64_t v = index;

	return vhu_send(c, req, &v, sizeof(v), &fd, 1);
}

int vhu_set_mem_table(struct vhu_conn *c, const struct lab_mem_region *r, unsigned int n)
{
	struct vhu_mem m = { .nregions = n };
	int fds[VHU_MAX_REGIONS];

	if (n == 0 || n > VHU_MAX_REGIONS) {
		LAB_LOG(ERR, port, "%s: %u memory regions to share; a vhost-user mem table holds "
			"1 to %u", c->who, n, VHU_MAX_REGIONS);
		return -E2BIG;
	}
	for (unsigned int i = 0; i < n; i++) {
		m.r[i] = (struct vhu_region){ .guest_addr = (uintptr_t)r[i].va, .size = r[i].len,
					      .user_addr = (uintptr_t)r[i].va,
					      .mmap_offset = r[i].offset };
		fds[i] = r[i].fd;
	}
	return vhu_send(c, VHU_SET_MEM_TABLE, &m, sizeof(m), fds, n);
}

int vhu_get_config(struct vhu_conn *c, uint32_t offset, void *out, uint32_t size)
{
	struct vhu_config m = { .offset = offset, .size = size };
	int rc;

	if (size > VHU_CONFIG_MAX)
		return -EINVAL;
	rc = vhu_send(c, VHU_GET_CONFIG, &m, VHU_CONFIG_HDR + size, NULL, 0);
	if (rc == 0)
		rc = recv_reply(c, VHU_GET_CONFIG, &m, VHU_CONFIG_HDR + size);
	if (rc == 0)
		memcpy(out, m.region, size);
	return rc;
}
