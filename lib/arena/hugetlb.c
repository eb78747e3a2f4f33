/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Hugepage sources: a hugetlbfs mount (as DPDK's EAL uses) or a hugetlb memfd.
 * Either way the backing file is mode 0600 and gone from the namespace as soon
 * as it is mapped, so nothing is left behind if the process dies.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/memfd.h>
#include <mntent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "arena_internal.h"

static size_t default_huge_size(void)
{
	FILE *f = fopen("/proc/meminfo", "r");
	char line[128];
	size_t kb = 0;

	if (f == NULL)
		return 2 * LAB_MIB;
	while (fgets(line, sizeof(line), f) != NULL)
		if (sscanf(line, "Hugepagesize: %zu kB", &kb) == 1)
			break;
	fclose(f);
	return kb ? kb * LAB_KIB : 2 * LAB_MIB;
}

/* Page size of a hugetlbfs mount from its options ("pagesize=2M"). */
static size_t mount_page_size(const char *opts)
{
	const char *p = strstr(opts, "pagesize=");
	uint64_t sz;
	char val[32];
	size_t n;

	if (p == NULL)
		return default_huge_size();
	p += strlen("pagesize=");
	n = strcspn(p, ",");
	if (n >= sizeof(val))
		return 0;
	memcpy(val, p, n);
	val[n] = '\0';
	return lab_parse_size(val, &sz) == 0 ? sz : 0;
}

int hugetlbfs_find_mount(size_t page_size, char *dir, size_t dirlen)
{
	/* getmntent_r() rather than a scanf of our own: it decodes the octal
	 * escapes /proc/mounts uses (a space in a mount point is "\040") and
	 * takes lines of any length without losing its place. */
	FILE *f = setmntent("/proc/mounts", "r");
	struct mntent m;
	char buf[4096];
	int rc = -ENOENT;

	if (f == NULL)
		return -errno;
	while (getmntent_r(f, &m, buf, sizeof(buf)) != NULL) {
		if (strcmp(m.mnt_type, "hugetlbfs") != 0 || mount_page_size(m.mnt_opts) != page_size)
			continue;
		if (strlen(m.mnt_dir) >= dirlen || access(m.mnt_dir, W_OK) != 0)
			continue;
		snprintf(dir, dirlen, "%s", m.mnt_dir);
		rc = 0;
		break;
	}
	endmntent(f);
	return rc;
}

static long read_hp_counter(size_t page_size, const char *what)
{
	char path[128];
	long v = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/sys/kernel/mm/hugepages/hugepages-%zukB/%s",
		 page_size / LAB_KIB, what);
	f = fopen(path, "r");
	if (f == NULL)
		return -1;
	if (fscanf(f, "%ld", &v) != 1)
		v = -1;
	fclose(f);
	return v;
}

long hugepages_free(size_t page_size)
{
	return read_hp_counter(page_size, "free_hugepages");
}

long hugepages_total(size_t page_size)
{
	return read_hp_counter(page_size, "nr_hugepages");
}

/*
 * A new file of @p len bytes, already gone from the namespace: on the
 * hugetlbfs mount @p dir (created 0600 with O_EXCL under a name with @p tag,
 * unlinked at once), or without @p dir a memfd of @p page_size hugepages, or
 * of 4 KiB pages when @p page_size is 0. @return the descriptor, or -errno.
 */
static int new_file(const char *dir, const char *name, const char *tag, size_t page_size,
		    size_t len)
{
	char path[512];
	int fd;

	if (dir != NULL) {
		snprintf(path, sizeof(path), "%s/labyrinth-%s-%d-%s", dir, name, (int)getpid(), tag);
		fd = open(path, O_CREAT | O_EXCL | O_RDWR | O_CLOEXEC, 0600);
		if (fd >= 0)
			unlink(path);
	} else if (page_size != 0) {
		fd = memfd_create(name, MFD_CLOEXEC | MFD_HUGETLB |
					((unsigned int)__builtin_ctzll(page_size) << MFD_HUGE_SHIFT));
	} else {
		fd = memfd_create(name, MFD_CLOEXEC);
	}
	if (fd < 0)
		return -errno;
	if (ftruncate(fd, (off_t)len) != 0) {
		int err = -errno;

		close(fd);
		return err;
	}
	return fd;
}

void *map_fd_at(int fd, size_t len, off_t off, void *at, int *err)
{
	/* hugetlbfs reserves the pages at mmap time, so a shortage fails here
	 * with ENOMEM instead of a SIGBUS on first touch. */
	void *va = mmap(at, len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED, fd, off);

	if (va == MAP_FAILED) {
		*err = -errno;
		return NULL;
	}
	return va;
}

/* One chamber of its own file, which goes when the mapping does. */
static void *map_new_file(const char *dir, const char *name, const char *tag, size_t page_size,
			  size_t len, void *at, int *err)
{
	int fd = new_file(dir, name, tag, page_size, len);
	void *va;

	if (fd < 0) {
		*err = fd;
		return NULL;
	}
	va = map_fd_at(fd, len, 0, at, err);
	close(fd);
	return va;
}

void *huge_map_file(const char *dir, const char *name, unsigned int seq, size_t len, void *at,
		    int *err)
{
	char tag[16];

	snprintf(tag, sizeof(tag), "%u", seq);
	return map_new_file(dir, name, tag, 0, len, at, err);
}

void *huge_map_memfd(const char *name, size_t len, void *at, int *err)
{
	return map_new_file(NULL, name, NULL, len, len, at, err);
}

int shared_file(const char *dir, const char *name, size_t page_size, size_t span)
{
	/* Sparse: hugetlbfs reserves pages when a range is mapped, memfd when
	 * it is touched; the size only bounds the offsets. */
	return new_file(dir, name, "shared", page_size, span);
}
