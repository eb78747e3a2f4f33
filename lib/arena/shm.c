/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Shareable segments besides an arena: memory a device reaches that is not
 * the pool's buffers (a virtqueue's descriptor table, avail and used rings).
 * One memfd each, mapped MAP_SHARED and locked, listed as one region for a
 * vhost-user peer's mem table.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "arena_internal.h"

struct lab_shm {
	void *va;
	size_t len;
	int fd;
};

struct lab_shm *lab_shm_create(const char *name, size_t len, bool huge)
{
	size_t unit = huge ? 2 * LAB_MIB : SMALL_PAGE;
	struct lab_shm *s;
	int err = 0;

	if (len == 0) {
		LAB_LOG(ERR, arena, "shared segment '%s': length 0", name ? name : "shm");
		lab_errno = EINVAL;
		return NULL;
	}
	s = calloc(1, sizeof(*s));
	if (s == NULL) {
		lab_errno = ENOMEM;
		return NULL;
	}
	s->len = LAB_ALIGN_UP(len, unit);
	s->fd = shared_file(NULL, name ? name : "shm", huge ? unit : 0, s->len);
	if (s->fd < 0) {
		err = s->fd;
	} else {
		s->va = mmap(NULL, s->len, PROT_READ | PROT_WRITE, MAP_SHARED, s->fd, 0);
		if (s->va == MAP_FAILED) {
			err = -errno;
			s->va = NULL;
		}
	}
	if (err != 0) {
		LAB_LOG(ERR, arena, "shared segment '%s': cannot map %zu bytes of %s: %s",
			name ? name : "shm", s->len, huge ? "2 MiB hugepages" : "4 KiB pages",
			strerror(-err));
		lab_shm_destroy(s);
		lab_errno = -err;
		return NULL;
	}
	/* Fault it in (memfd pages are zero), locked where the limit allows. */
	(void)mlock(s->va, s->len);
	memset(s->va, 0, s->len);
	return s;
}

void *lab_shm_va(const struct lab_shm *s)
{
	return s->va;
}

void lab_shm_region(const struct lab_shm *s, struct lab_mem_region *r)
{
	*r = (struct lab_mem_region){ .va = s->va, .len = s->len, .fd = s->fd, .offset = 0,
				      .iova = (uint64_t)(uintptr_t)s->va };
}

void lab_shm_destroy(struct lab_shm *s)
{
	if (s == NULL)
		return;
	if (s->va != NULL)
		munmap(s->va, s->len);
	if (s->fd >= 0)
		close(s->fd);
	free(s);
}
