/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * IOVA from /proc/self/pagemap (Documentation/admin-guide/mm/pagemap.rst):
 * one 64-bit entry per virtual 4 KiB page; bit 63 "present", bits 0-54 the PFN.
 * Without CAP_SYS_ADMIN the kernel reports PFN 0 (since 4.2), which is how we
 * tell that "pa" is not available and "va" must be used.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

#include "arena_internal.h"

#define PM_PRESENT (1ULL << 63)
#define PM_PFN_MASK ((1ULL << 55) - 1)

int pagemap_pa(const void *va, uint64_t *pa)
{
	uint64_t ent;
	off_t off = (off_t)((uintptr_t)va / SMALL_PAGE) * 8;
	int fd = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -errno;
	n = pread(fd, &ent, sizeof(ent), off);
	close(fd);
	if (n != sizeof(ent))
		return -EIO;
	if (!(ent & PM_PRESENT))
		return -EFAULT;
	if ((ent & PM_PFN_MASK) == 0)
		return -EPERM;
	*pa = (ent & PM_PFN_MASK) * SMALL_PAGE + ((uintptr_t)va % SMALL_PAGE);
	return 0;
}

bool pagemap_has_pfns(const void *va)
{
	uint64_t pa;

	return pagemap_pa(va, &pa) == 0;
}

/*
 * Record the IOVA of a freshly mapped, locked chamber. A hugepage is physically
 * contiguous, so one address serves the chamber; 4 KiB fallback pages are not,
 * so pa mode keeps one address per page. Adjacent chambers are never assumed
 * contiguous with each other: each asks pagemap for its own.
 */
int chamber_fill_iova(struct chamber *c, enum lab_iova_mode mode)
{
	char *va = atomic_load_explicit(&c->va, memory_order_relaxed);
	size_t npages;
	int rc;

	if (mode == LAB_IOVA_VA) {
		c->iova = (uint64_t)(uintptr_t)va;
		return 0;
	}
	if (c->contig == c->len)
		return pagemap_pa(va, &c->iova);
	npages = c->len / SMALL_PAGE;
	c->page_iova = calloc(npages, sizeof(uint64_t));
	if (c->page_iova == NULL)
		return -ENOMEM;
	for (size_t i = 0; i < npages; i++) {
		rc = pagemap_pa(va + i * SMALL_PAGE, &c->page_iova[i]);
		if (rc < 0)
			return rc;
	}
	c->iova = c->page_iova[0];
	return 0;
}
