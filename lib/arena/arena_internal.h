/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef LAB_ARENA_INTERNAL_H
#define LAB_ARENA_INTERNAL_H

#include <pthread.h>
#include <stdatomic.h>

#include <labyrinth/lab_arena.h>
#include <labyrinth/lab_log.h>

LAB_LOG_DECLARE(arena);

#define SMALL_PAGE 4096u

/* One chamber slot. va is published last (release) so lock-free readers that
 * see a non-NULL va see the rest. */
struct chamber {
	_Atomic(void *) va;
	size_t len;
	size_t contig;       /* IOVA-contiguous unit */
	uint64_t iova;       /* IOVA of va when contig == len */
	uint64_t *page_iova; /* per 4 KiB page when contig < len (fallback pa) */
	int numa_node;
};

struct lab_arena {
	char name[32];
	size_t page_size;
	unsigned int max_chambers;
	unsigned int slots_used;        /* high-water mark of slot indices */
	enum lab_iova_mode iova_mode;
	enum lab_backing backing;
	int numa_node;
	unsigned int flags;
	char hugetlbfs_dir[256];        /* empty: memfd */
	unsigned int file_seq;
	int fd;                         /* shared arena: its one file (-1: none yet) */
	pthread_mutex_t lock;           /* grow/release only: never on a data path */
	struct lab_arena_stats st;
	struct chamber *ch;             /* max_chambers slots, never reallocated */
	uint8_t *base;                  /* reserved address range: slot i at base + i * page_size */
	size_t span;                    /* max_chambers * page_size */
};

/* The 4 KiB fallback, private or shared. */
static inline bool backing_is_4k(enum lab_backing b)
{
	return b == LAB_BACKING_ANON_4K || b == LAB_BACKING_MEMFD_4K;
}

/* hugetlb.c */
int hugetlbfs_find_mount(size_t page_size, char *dir, size_t dirlen);
long hugepages_free(size_t page_size);
long hugepages_total(size_t page_size);
/* Both map at @p at with MAP_FIXED (a slot of the arena's reservation). */
void *huge_map_file(const char *dir, const char *name, unsigned int seq, size_t len, void *at,
		    int *err);
void *huge_map_memfd(const char *name, size_t len, void *at, int *err);
/* A shared arena's file, sized @p span: a hugetlbfs file (unlinked, kept
 * open), a hugetlb memfd of @p page_size pages, or (@p page_size 0) a plain
 * memfd. @return the descriptor, or -errno. */
int shared_file(const char *dir, const char *name, size_t page_size, size_t span);
/* Map @p len bytes of @p fd at @p off, MAP_SHARED, at @p at (MAP_FIXED). */
void *map_fd_at(int fd, size_t len, off_t off, void *at, int *err);

/* iova.c */
int pagemap_pa(const void *va, uint64_t *pa);
bool pagemap_has_pfns(const void *va);
int chamber_fill_iova(struct chamber *c, enum lab_iova_mode mode);

#endif /* LAB_ARENA_INTERNAL_H */
