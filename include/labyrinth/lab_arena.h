/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * The hugepage arena: all the memory of one pool, as a list of chambers.
 *
 * A chamber is one hugepage (2 MiB by default, 1 GiB by option) mapped from
 * hugetlbfs or a hugetlb memfd, mode 0600 and unlinked at once, locked in
 * memory. Chambers are carved into fixed-size cells; no cell straddles a
 * chamber, so every cell has one IOVA. Where no hugepage can be had the arena
 * falls back to ordinary 4 KiB pages (one notice says so and how to reserve
 * hugepages).
 *
 * The arena reserves address space for max_chambers side by side at create
 * (PROT_NONE, no memory); chamber i, when mapped, is at base + i * page size,
 * so the whole arena is one range (see lab_arena_span()).
 *
 * Growing and releasing chambers are slow operations for the warden: they may
 * block, map memory and log. Address and IOVA lookups are lock-free reads.
 */
#ifndef LAB_ARENA_H
#define LAB_ARENA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <labyrinth/lab_common.h>

#ifdef __cplusplus
extern "C" {
#endif

/** IOVA returned for an address outside the arena. */
#define LAB_IOVA_BAD UINT64_MAX

/** How device addresses (IOVA) are derived. */
enum lab_iova_mode {
	LAB_IOVA_AUTO = 0, /**< "pa" when pagemap gives PFNs and memory is huge, else "va" */
	LAB_IOVA_PA,       /**< physical addresses from /proc/self/pagemap */
	LAB_IOVA_VA,       /**< the virtual address is the IOVA (IOMMU or no DMA) */
};

/** Where a chamber's memory comes from. */
enum lab_backing {
	LAB_BACKING_HUGETLBFS, /**< a file on a hugetlbfs mount, unlinked after mapping */
	LAB_BACKING_MEMFD,     /**< memfd_create(MFD_HUGETLB) */
	LAB_BACKING_ANON_4K,   /**< fallback: ordinary anonymous 4 KiB pages */
	LAB_BACKING_MEMFD_4K,  /**< fallback of a shared arena: memfd_create() of 4 KiB pages */
};

/** Never use hugepages: always the 4 KiB fallback. */
#define LAB_ARENA_F_NO_HUGE (1u << 0)
/** Require hugepages: fail instead of falling back. */
#define LAB_ARENA_F_HUGE_ONLY (1u << 1)
/** Skip the hugetlbfs mount search and use memfd_create(MFD_HUGETLB). */
#define LAB_ARENA_F_MEMFD (1u << 2)
/**
 * Shareable: the whole arena is one file (a hugetlbfs file, a hugetlb memfd,
 * or in the 4 KiB fallback a plain memfd), kept open, each chamber mapped
 * MAP_SHARED at its offset, so that another process (a vhost-user peer) can
 * map the same memory from the descriptor (lab_arena_regions()).
 */
#define LAB_ARENA_F_SHARED (1u << 3)

/** Default chamber limit when lab_arena_opts::max_chambers is 0. */
#define LAB_ARENA_DEFAULT_MAX_CHAMBERS 1024u

/** Arena creation options. Grows only at the end; set @c size to sizeof. */
struct lab_arena_opts {
	size_t size;                   /**< sizeof(struct lab_arena_opts) */
	const char *name;              /**< for messages and file names; NULL: "arena" */
	size_t page_size;              /**< chamber size: 2 MiB (0 = default) or 1 GiB */
	unsigned int initial_chambers; /**< mapped by create; at least 1 (0 = 1) */
	unsigned int max_chambers;     /**< limit on grow (0 = LAB_ARENA_DEFAULT_MAX_CHAMBERS) */
	enum lab_iova_mode iova_mode;  /**< LAB_IOVA_AUTO by default */
	int numa_node;                 /**< node to bind chambers to; -1 for no placement */
	const char *hugetlbfs_dir;     /**< NULL: the mount for page_size from /proc/mounts */
	unsigned int flags;            /**< LAB_ARENA_F_* */
};

/** Fill @p o with defaults (2 MiB chambers, auto IOVA, no NUMA placement). */
void lab_arena_opts_init(struct lab_arena_opts *o);

/** What the caller learns about one chamber. */
struct lab_chamber_info {
	unsigned int index;     /**< slot number, stable while the chamber lives */
	void *va;               /**< start address */
	size_t len;             /**< bytes (the page size) */
	size_t contig;          /**< bytes per IOVA-contiguous unit (len, or 4096 in fallback pa) */
	uint64_t iova;          /**< IOVA of va */
	int numa_node;          /**< node the memory sits on, -1 if unknown */
	enum lab_backing backing;
};

/** Arena-wide figures. */
struct lab_arena_stats {
	unsigned int chambers;     /**< mapped now */
	unsigned int max_chambers; /**< limit */
	uint64_t grows;            /**< successful grows, including the initial ones */
	uint64_t releases;         /**< chambers released */
	uint64_t grow_failures;    /**< grows refused (no memory, limit) */
	size_t bytes;              /**< mapped bytes */
};

struct lab_arena;

/**
 * Create an arena and map its initial chambers.
 *
 * Tries hugepages first (unless LAB_ARENA_F_NO_HUGE); if none can be had and
 * LAB_ARENA_F_HUGE_ONLY is not set, falls back to 4 KiB pages with one
 * notice. The same holds when hugepages give only some of the initial
 * chambers: the arena starts again on 4 KiB pages whole (one notice saying
 * how many hugepages gave, no error). The backing and IOVA mode are fixed
 * from then on.
 *
 * @return the arena, or NULL with lab_errno set: EINVAL (bad options: page
 *         size not 2 MiB or 1 GiB, initial > max, bad NUMA node), ENOMEM (no
 *         memory; the message names page size, pages asked for and free),
 *         EPERM (iova=pa but pagemap gives no PFNs), ENOTSUP (iova=pa on
 *         memory that cannot be locked).
 */
struct lab_arena *lab_arena_create(const struct lab_arena_opts *opts);

/** Unmap every chamber and free the arena. NULL is a no-op. */
void lab_arena_destroy(struct lab_arena *a);

/**
 * Map one more chamber (warden context: may block).
 *
 * @return the new chamber's index (>= 0); -ENOMEM when the system has no page
 *         to give (the message names page size and free pages; the arena stays
 *         usable); -ENOSPC when max_chambers are mapped.
 */
int lab_arena_grow(struct lab_arena *a);

/**
 * Unmap chamber @p index. The caller guarantees no cell of it is in use.
 *
 * @return 0; -EINVAL if @p index is out of range; -ENOENT if it is not mapped.
 */
int lab_arena_release(struct lab_arena *a, unsigned int index);

/** Fill @p info for chamber @p index. @return 0, -EINVAL or -ENOENT as release. */
int lab_arena_chamber(const struct lab_arena *a, unsigned int index,
		      struct lab_chamber_info *info);

/** Highest chamber index ever used, plus one (iterate 0..n-1, skipping -ENOENT). */
unsigned int lab_arena_chamber_slots(const struct lab_arena *a);

/**
 * The arena's reserved range: @p *base (aligned to the page size) and @p *len
 * (max_chambers * page size). Slots not mapped are PROT_NONE.
 */
void lab_arena_span(const struct lab_arena *a, void **base, size_t *len);

/** IOVA of @p addr, or LAB_IOVA_BAD if it is not inside a mapped chamber. */
uint64_t lab_arena_iova(const struct lab_arena *a, const void *addr);

/** Index of the chamber holding @p addr, or -ENOENT. */
int lab_arena_find(const struct lab_arena *a, const void *addr);

/** The IOVA mode in use (never LAB_IOVA_AUTO). */
enum lab_iova_mode lab_arena_iova_mode(const struct lab_arena *a);

/** True when chambers are hugepages, false in the 4 KiB fallback. */
bool lab_arena_is_huge(const struct lab_arena *a);

/** Chamber size in bytes. */
size_t lab_arena_page_size(const struct lab_arena *a);

/** Name given at create. */
const char *lab_arena_name(const struct lab_arena *a);

/** Copy the arena-wide figures. */
void lab_arena_stats(const struct lab_arena *a, struct lab_arena_stats *st);

/** How a chamber is carved into cells; the same for every chamber of an arena. */
struct lab_cell_layout {
	size_t cell_size;     /**< requested bytes per cell */
	size_t stride;        /**< cell_size rounded up to the alignment */
	size_t unit;          /**< IOVA-contiguous unit no cell may straddle */
	unsigned int per_unit;  /**< cells per unit */
	unsigned int per_chamber; /**< cells per chamber */
};

/**
 * Compute the carving of this arena's chambers into cells of @p cell_size
 * bytes aligned to @p align (a power of two, at least 8).
 *
 * @return 0; -EINVAL if align is not a power of two, cell_size is 0, or a cell
 *         does not fit an IOVA-contiguous unit (4 KiB in fallback pa mode).
 */
int lab_arena_layout(const struct lab_arena *a, size_t cell_size, size_t align,
		     struct lab_cell_layout *out);

/**
 * Address and IOVA of cell @p cell of chamber @p chamber under layout @p l.
 *
 * @return the address, or NULL if the chamber is not mapped or cell is out of
 *         range.
 */
void *lab_arena_cell(const struct lab_arena *a, const struct lab_cell_layout *l,
		     unsigned int chamber, unsigned int cell, uint64_t *iova);

/** The IOVA modes' names, by value: "auto", "pa", "va". */
extern const struct lab_names lab_iova_mode_names;

/** "pa", "va" or "auto" (also for a value out of range). */
const char *lab_iova_mode_name(enum lab_iova_mode m);

/** Parse "auto", "pa" or "va" (any case). @return the mode, or -EINVAL. */
int lab_iova_mode_parse(const char *s);

/**
 * Whether a pool's arena may fall back to 4 KiB pages: the option
 * (arena.hugepages) that lab_hugepages_arena_flags() turns into
 * lab_arena_opts::flags.
 */
enum lab_hugepages {
	LAB_HUGEPAGES_AUTO = 0, /**< hugepages if any, else 4 KiB with a notice */
	LAB_HUGEPAGES_REQUIRE,  /**< fail without hugepages */
	LAB_HUGEPAGES_OFF,      /**< always 4 KiB pages */
};

/** The hugepages options' names, by value: "auto", "require", "off". */
extern const struct lab_names lab_hugepages_names;

/** "auto", "require" or "off" ("?" for a value out of range). */
const char *lab_hugepages_name(enum lab_hugepages h);

/** Parse "auto", "require" or "off" (any case). @return the option, or -EINVAL. */
int lab_hugepages_parse(const char *s);

/** The lab_arena_opts::flags that carry out a hugepages setting. */
unsigned int lab_hugepages_arena_flags(enum lab_hugepages h);

/** "hugetlbfs", "memfd", "4k-fallback" or "memfd-4k". */
const char *lab_backing_name(enum lab_backing b);

/**
 * A range of shareable memory as a vhost-user SET_MEM_TABLE or ADD_MEM_REG
 * names it: @p len bytes at @p va in this process, the same bytes at @p
 * offset in the file @p fd (which stays the arena's or the segment's: dup()
 * it to keep it past their life).
 */
struct lab_mem_region {
	void *va;
	size_t len;
	int fd;
	uint64_t offset;
	uint64_t iova; /**< IOVA of va (the first byte) */
};

/**
 * The shareable regions of an arena created with LAB_ARENA_F_SHARED: one per
 * run of adjacent mapped chambers (one for an arena that never released a
 * chamber), lowest address first. Fills up to @p max of @p out.
 *
 * @return the number of regions (may exceed @p max: call again with room);
 *         -ENOTSUP for an arena that is not shared.
 */
int lab_arena_regions(const struct lab_arena *a, struct lab_mem_region *out, unsigned int max);

/**
 * A shareable segment of its own, for what a device must reach besides the
 * pool's buffers (virtqueue rings): @p len bytes (rounded up to 4 KiB, or to
 * 2 MiB with @p huge), zeroed, in a memfd mapped MAP_SHARED. NULL with
 * lab_errno set (ENOMEM, or EINVAL for a length of 0).
 */
struct lab_shm;
struct lab_shm *lab_shm_create(const char *name, size_t len, bool huge);
/** Its memory, and its region (one) for the peer. */
void *lab_shm_va(const struct lab_shm *s);
void lab_shm_region(const struct lab_shm *s, struct lab_mem_region *r);
/** Unmap and close. NULL is a no-op. */
void lab_shm_destroy(struct lab_shm *s);

#ifdef __cplusplus
}
#endif

#endif /* LAB_ARENA_H */
