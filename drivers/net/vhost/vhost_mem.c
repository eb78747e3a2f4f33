/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The peer's memory: a SET_MEM_TABLE's regions, each an fd mapped MAP_SHARED
 * from the file's start to the region's end (mmap_offset need not be page
 * aligned, so we map from 0 and step in, as DPDK's lib/vhost does), rounded
 * up to the file's block size (a hugepage on hugetlbfs). Every region is
 * checked before anything is mapped: a size of 0, an end that wraps, a
 * region past the end of its file, or two regions that overlap (in guest or
 * front-end addresses) refuses the whole table.
 */
#include <errno.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "vhost_internal.h"

void *vh_uva_to_va(const struct vh_mem *m, uint64_t uva, uint64_t len)
{
	for (unsigned int i = 0; i < m->n; i++) {
		const struct vh_region *r = &m->r[i];

		if (uva >= r->uva && uva - r->uva <= r->size && len <= r->size - (uva - r->uva))
			return r->va + (uva - r->uva);
	}
	return NULL;
}

static bool overlap(uint64_t a, uint64_t alen, uint64_t b, uint64_t blen)
{
	return a < b + blen && b < a + alen;
}

static int check_table(const struct vhu_mem *msg, const char **why)
{
	for (uint32_t i = 0; i < msg->nregions; i++) {
		const struct vhu_region *r = &msg->r[i];

		if (r->size == 0) {
			*why = "a region of size 0";
			return -EINVAL;
		}
		if (r->guest_addr + r->size < r->guest_addr || r->user_addr + r->size < r->user_addr ||
		    r->mmap_offset + r->size < r->mmap_offset || r->mmap_offset + r->size > SIZE_MAX / 2) {
			*why = "a region whose end wraps around the address space";
			return -EINVAL;
		}
		for (uint32_t j = 0; j < i; j++)
			if (overlap(r->guest_addr, r->size, msg->r[j].guest_addr, msg->r[j].size) ||
			    overlap(r->user_addr, r->size, msg->r[j].user_addr, msg->r[j].size)) {
				*why = "regions that overlap";
				return -EINVAL;
			}
	}
	return 0;
}

static int map_one(struct vh_region *out, const struct vhu_region *r, int fd, const char **why)
{
	struct stat st;
	uint64_t end = r->mmap_offset + r->size, len;
	size_t blk;
	void *p;

	if (fstat(fd, &st) != 0) {
		*why = "a region whose descriptor cannot be examined";
		return -EBADF;
	}
	if (!S_ISREG(st.st_mode) || (uint64_t)st.st_size < end) {
		*why = "a region that is not inside its file (or not a file)";
		return -EINVAL;
	}
	blk = st.st_blksize > 0 ? (size_t)st.st_blksize : 4096;
	if ((blk & (blk - 1)) != 0)
		blk = 4096;
	len = (end + blk - 1) & ~(uint64_t)(blk - 1);
	p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED) {
		*why = "a region that cannot be mapped";
		return -errno;
	}
	*out = (struct vh_region){ .gpa = r->guest_addr, .uva = r->user_addr, .size = r->size,
				   .va = (uint8_t *)p + r->mmap_offset, .map = p, .map_len = len };
	return 0;
}

int vh_mem_map(struct vh_mem *m, const struct vhu_mem *msg, const int *fds, const char **why)
{
	int rc = check_table(msg, why);

	vh_mem_unmap(m);
	for (uint32_t i = 0; rc == 0 && i < msg->nregions; i++) {
		rc = map_one(&m->r[i], &msg->r[i], fds[i], why);
		if (rc == 0)
			m->n = i + 1;
	}
	/* The mappings hold the memory; the descriptors are not needed. */
	for (uint32_t i = 0; i < msg->nregions; i++)
		close(fds[i]);
	if (rc < 0)
		vh_mem_unmap(m);
	return rc;
}

void vh_mem_unmap(struct vh_mem *m)
{
	for (unsigned int i = 0; i < m->n; i++)
		if (m->r[i].map != NULL)
			munmap(m->r[i].map, m->r[i].map_len);
	memset(m, 0, sizeof(*m));
}
