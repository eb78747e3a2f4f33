/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The front-end (driver) side of the vhost-user protocol, as QEMU's
 * docs/interop/vhost-user.rst describes it: messages over a unix socket,
 * file descriptors with SCM_RIGHTS. Control path only.
 */
#ifndef LAB_VHOST_USER_H
#define LAB_VHOST_USER_H

#include <stdbool.h>
#include <stdint.h>

#include <labyrinth/lab_arena.h>

#include "virtio_defs.h"

struct vhu_conn {
	int fd;          /* the connected socket, -1 when not connected */
	int listen_fd;   /* server mode: the listening socket, else -1 */
	char path[108];  /* sun_path */
	const char *who; /* port name, for messages */
};

/* Connect to the back-end listening at @p c->path. @return 0 or -errno
 * (logged, naming the path, unless @p quiet: a reconnect's tries). */
int vhu_connect(struct vhu_conn *c, bool quiet);
void vhu_close(struct vhu_conn *c);
/* Server mode: listen at @p c->path (a stale socket file there is replaced),
 * then take one back-end's connection, waiting up to @p ms (-ETIMEDOUT). */
int vhu_listen(struct vhu_conn *c);
int vhu_accept(struct vhu_conn *c, int ms);
/* Stop listening and remove the socket file. */
void vhu_unlisten(struct vhu_conn *c);

/* One request without an answer; @p fds (up to VHU_MAX_REGIONS) ride along. */
int vhu_send(struct vhu_conn *c, enum vhu_request req, const void *payload, uint32_t size,
	     const int *fds, unsigned int nfds);
/* A request whose answer is one u64 (GET_FEATURES, GET_PROTOCOL_FEATURES,
 * GET_QUEUE_NUM). */
int vhu_get_u64(struct vhu_conn *c, enum vhu_request req, uint64_t *out);
int vhu_set_u64(struct vhu_conn *c, enum vhu_request req, uint64_t v);
/* SET_VRING_NUM, SET_VRING_BASE, SET_VRING_ENABLE. */
int vhu_set_state(struct vhu_conn *c, enum vhu_request req, uint32_t index, uint32_t num);
/* GET_VRING_BASE: stops the ring; *@p base is where the back-end stopped. */
int vhu_get_vring_base(struct vhu_conn *c, uint32_t index, uint32_t *base);
int vhu_set_vring_addr(struct vhu_conn *c, uint32_t index, const void *desc,
		       const void *used, const void *avail);
/* SET_VRING_KICK / SET_VRING_CALL with an eventfd. */
int vhu_set_vring_fd(struct vhu_conn *c, enum vhu_request req, uint32_t index, int fd);
/* GET_CONFIG (protocol feature CONFIG): @p size bytes (at most
 * VHU_CONFIG_MAX) of the device's config space from @p offset into @p out.
 * A back-end that cannot answers with an empty reply: -EPROTO, logged. */
int vhu_get_config(struct vhu_conn *c, uint32_t offset, void *out, uint32_t size);
/* SET_MEM_TABLE: the regions, with guest address = our address. */
int vhu_set_mem_table(struct vhu_conn *c, const struct lab_mem_region *r, unsigned int n);

#endif /* LAB_VHOST_USER_H */
