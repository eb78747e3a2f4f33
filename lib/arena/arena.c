/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The hugepage arena. Chambers live in a fixed slot table allocated at create,
 * so lock-free readers (IOVA lookups) never see it move; grow and release take
 * the arena mutex, which only the warden and set-up code ever hold.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/mman.h>
#include <sys/statfs.h>
#include <unistd.h>

#ifdef LAB_HAVE_NUMA
#include <numa.h>
#include <numaif.h>
#endif

#include <labyrinth/lab_fault.h>

#include "arena_internal.h"

LAB_LOG_REGISTER(arena, NOTICE)

static const char *size_name(size_t sz, char *buf, size_t len)
{
	if (sz >= LAB_GIB && sz % LAB_GIB == 0)
		snprintf(buf, len, "%zu GiB", sz / LAB_GIB);
	else if (sz >= LAB_MIB && sz % LAB_MIB == 0)
		snprintf(buf, len, "%zu MiB", sz / LAB_MIB);
	else
		snprintf(buf, len, "%zu KiB", sz / LAB_KIB);
	return buf;
}

void lab_arena_opts_init(struct lab_arena_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->size = sizeof(*o);
	o->page_size = 2 * LAB_MIB;
	o->initial_chambers = 1;
	o->iova_mode = LAB_IOVA_AUTO;
	o->numa_node = -1;
}

/* Take the caller's options over our defaults, accepting older (smaller) structs. */
static int opts_take(const struct lab_arena_opts *in, struct lab_arena_opts *o)
{
	lab_arena_opts_init(o);
	if (in == NULL)
		return 0;
	if (in->size == 0) {
		LAB_LOG(ERR, arena, "arena options: size field is 0; set it to "
			"sizeof(struct lab_arena_opts) (%zu)", sizeof(*in));
		return -EINVAL;
	}
	memcpy(o, in, in->size < sizeof(*o) ? in->size : sizeof(*o));
	o->size = sizeof(*o);
	if (o->page_size == 0)
		o->page_size = 2 * LAB_MIB;
	if (o->initial_chambers == 0)
		o->initial_chambers = 1;
	if (o->max_chambers == 0)
		o->max_chambers = LAB_ARENA_DEFAULT_MAX_CHAMBERS;
	return 0;
}

static int opts_check(const struct lab_arena_opts *o)
{
	const char *name = o->name ? o->name : "arena";

	if (o->page_size != 2 * LAB_MIB && o->page_size != LAB_GIB) {
		LAB_LOG(ERR, arena, "arena '%s': page size %zu is not supported (use 2M or 1G)",
			name, o->page_size);
		return -EINVAL;
	}
	if (o->initial_chambers > o->max_chambers) {
		LAB_LOG(ERR, arena, "arena '%s': initial_chambers %u exceeds max_chambers %u",
			name, o->initial_chambers, o->max_chambers);
		return -EINVAL;
	}
	if ((int)o->iova_mode < LAB_IOVA_AUTO || o->iova_mode > LAB_IOVA_VA) {
		LAB_LOG(ERR, arena, "arena '%s': bad IOVA mode %d", name, (int)o->iova_mode);
		return -EINVAL;
	}
	if (strlen(name) >= 32 || strchr(name, '/') != NULL) {
		LAB_LOG(ERR, arena, "arena name '%s' must be under 32 characters, without '/'",
			name);
		return -EINVAL;
	}
#ifdef LAB_HAVE_NUMA
	if (o->numa_node >= 0 && (numa_available() < 0 || o->numa_node > numa_max_node())) {
		LAB_LOG(ERR, arena, "arena '%s': NUMA node %d does not exist (nodes 0-%d)",
			name, o->numa_node, numa_available() < 0 ? 0 : numa_max_node());
		return -EINVAL;
	}
#else
	if (o->numa_node > 0) {
		LAB_LOG(ERR, arena, "arena '%s': NUMA node %d asked for, but labyrinth was "
			"built without libnuma (install libnuma-dev and rebuild)", name,
			o->numa_node);
		return -ENOTSUP;
	}
#endif
	return 0;
}

static void *slot_addr(const struct lab_arena *a, unsigned int slot)
{
	return a->base + (size_t)slot * a->page_size;
}

/*
 * Put a slot back to reserved (PROT_NONE, no memory): releases its chamber, and
 * restores the reservation after a failed MAP_FIXED, which may have unmapped it.
 * One mmap over the slot, so the range is never open to another mapping.
 */
static void slot_reserve(struct lab_arena *a, unsigned int slot)
{
	if (mmap(slot_addr(a, slot), a->page_size, PROT_NONE,
		 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_FIXED, -1, 0) == MAP_FAILED)
		LAB_LOG(ERR, arena, "arena '%s': cannot re-reserve slot %u: %s", a->name, slot,
			strerror(errno));
}

/*
 * Reserve max_chambers * page_size of address space, aligned to the page size
 * (hugetlb MAP_FIXED needs it), so that chambers sit side by side: the pool's
 * memory is one range that can be registered whole (an AF_XDP UMEM) and a
 * chamber is found from an address by a division. PROT_NONE + MAP_NORESERVE
 * costs no memory.
 */
static int reserve_span(struct lab_arena *a)
{
	size_t span = (size_t)a->max_chambers * a->page_size, len = span + a->page_size;
	uint8_t *va = mmap(NULL, len, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE,
			   -1, 0);
	uintptr_t start;

	if (va == MAP_FAILED) {
		LAB_LOG(ERR, arena, "arena '%s': cannot reserve %zu bytes of address space for %u "
			"chambers: %s", a->name, span, a->max_chambers, strerror(errno));
		return -errno;
	}
	start = LAB_ALIGN_UP((uintptr_t)va, a->page_size);
	if (start > (uintptr_t)va)
		munmap(va, start - (uintptr_t)va);
	if ((uintptr_t)va + len > start + span)
		munmap((void *)(start + span), (uintptr_t)va + len - (start + span));
	a->base = (uint8_t *)start;
	a->span = span;
	return 0;
}

/* A shared arena's file for its current backing, made on first use. */
static int shared_fd(struct lab_arena *a)
{
	int fd;

	if (a->fd >= 0)
		return 0;
	fd = shared_file(a->backing == LAB_BACKING_HUGETLBFS ? a->hugetlbfs_dir : NULL, a->name,
			 a->backing == LAB_BACKING_MEMFD ? a->page_size : 0, a->span);
	if (fd < 0)
		return fd;
	a->fd = fd;
	return 0;
}

/* The backing changes (hugepages gave none, or not enough): the file of the
 * old one goes, its chambers already unmapped. */
static void drop_fd(struct lab_arena *a)
{
	if (a->fd >= 0)
		close(a->fd);
	a->fd = -1;
}

/* Map one chamber's worth of memory from the arena's backing into @p slot. */
static void *map_memory(struct lab_arena *a, unsigned int slot, int *err)
{
	void *at = slot_addr(a, slot), *va;

	if (LAB_FAULT(LAB_FAULT_HUGEPAGE_MAP) && !backing_is_4k(a->backing)) {
		*err = -ENOMEM;
		slot_reserve(a, slot);
		return NULL;
	}
	if (a->flags & LAB_ARENA_F_SHARED) {
		*err = shared_fd(a);
		va = *err == 0 ? map_fd_at(a->fd, a->page_size, (off_t)slot * (off_t)a->page_size,
					   at, err)
			       : NULL;
		if (va == NULL)
			slot_reserve(a, slot);
		return va;
	}
	switch (a->backing) {
	case LAB_BACKING_HUGETLBFS:
		va = huge_map_file(a->hugetlbfs_dir, a->name, a->file_seq++, a->page_size, at, err);
		break;
	case LAB_BACKING_MEMFD:
		va = huge_map_memfd(a->name, a->page_size, at, err);
		break;
	default:
		va = mmap(at, a->page_size, PROT_READ | PROT_WRITE,
			  MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
		if (va == MAP_FAILED) {
			*err = -errno;
			va = NULL;
		}
		break;
	}
	if (va == NULL)
		slot_reserve(a, slot);
	return va;
}

/* Bind to the NUMA node (before the first touch), then fault in and lock. */
static int place_and_lock(struct lab_arena *a, void *va)
{
	static bool warned_mlock;

#ifdef LAB_HAVE_NUMA
	if (a->numa_node >= 0) {
		unsigned long mask[4] = { 0 };

		mask[a->numa_node / 64] |= 1UL << (a->numa_node % 64);
		if (mbind(va, a->page_size, MPOL_BIND, mask, 256, MPOL_MF_STRICT) != 0)
			LAB_LOG(WARNING, arena, "arena '%s': mbind to node %d failed: %s", a->name,
				a->numa_node, strerror(errno));
	}
#endif
	if (mlock(va, a->page_size) != 0) {
		/* Unlocked 4 KiB pages may move, which would make their physical
		 * addresses lies: pa mode cannot live without the lock. */
		if (backing_is_4k(a->backing) && a->iova_mode == LAB_IOVA_PA)
			return -errno;
		if (!warned_mlock) {
			warned_mlock = true;
			LAB_LOG(WARNING, arena, "arena '%s': mlock failed (%s): memory not locked; "
				"raise RLIMIT_MEMLOCK (ulimit -l) to lock it", a->name,
				strerror(errno));
		}
	}
	/* Fault every page in (mlock normally has, but AddressSanitizer turns
	 * mlock into a no-op), so pagemap finds each one present. */
	for (size_t off = 0; off < a->page_size; off += SMALL_PAGE)
		((volatile char *)va)[off] = 0;
	return 0;
}

static int chamber_node(void *va)
{
#ifdef LAB_HAVE_NUMA
	int node = -1;

	if (get_mempolicy(&node, NULL, 0, va, MPOL_F_NODE | MPOL_F_ADDR) == 0)
		return node;
#else
	(void)va;
#endif
	return -1;
}

/* Fill slot @p c for memory @p va that place_and_lock() has already handled. */
static int chamber_setup(struct lab_arena *a, struct chamber *c, void *va)
{
	int rc;

	c->len = a->page_size;
	c->contig = (backing_is_4k(a->backing) && a->iova_mode == LAB_IOVA_PA) ?
			    SMALL_PAGE : a->page_size;
	c->page_iova = NULL;
	atomic_store_explicit(&c->va, va, memory_order_relaxed);
	rc = chamber_fill_iova(c, a->iova_mode);
	if (rc < 0) {
		free(c->page_iova);
		c->page_iova = NULL;
		atomic_store_explicit(&c->va, NULL, memory_order_relaxed);
		return rc;
	}
	c->numa_node = chamber_node(va);
	return 0;
}

/* A hugetlbfs mount with size= has its own limit below the system's pool:
 * name it when it is what ran out. "" when the mount has none. */
static const char *mount_limit(const struct lab_arena *a, char *buf, size_t len)
{
	struct statfs sf;

	buf[0] = '\0';
	if (a->backing == LAB_BACKING_HUGETLBFS && statfs(a->hugetlbfs_dir, &sf) == 0 &&
	    sf.f_blocks > 0)
		snprintf(buf, len, "; the mount %s is limited to %llu pages, %llu free",
			 a->hugetlbfs_dir, (unsigned long long)sf.f_blocks,
			 (unsigned long long)sf.f_bfree);
	return buf;
}

static void report_grow_failure(struct lab_arena *a, int err)
{
	char sz[32], lim[320];

	size_name(a->page_size, sz, sizeof(sz));
	if (backing_is_4k(a->backing))
		LAB_LOG(ERR, arena, "arena '%s': cannot map a %s chamber of 4 KiB pages "
			"(%u mapped): %s", a->name, sz, a->st.chambers, strerror(-err));
	else
		LAB_LOG(ERR, arena, "arena '%s': cannot map a %s hugepage chamber: asked for 1 "
			"page, %ld of %ld free in the %s pool%s (%u mapped by this arena): %s",
			a->name, sz, hugepages_free(a->page_size), hugepages_total(a->page_size),
			sz, mount_limit(a, lim, sizeof(lim)), a->st.chambers, strerror(-err));
}

static int find_free_slot(const struct lab_arena *a)
{
	for (unsigned int i = 0; i < a->max_chambers; i++)
		if (atomic_load_explicit(&a->ch[i].va, memory_order_relaxed) == NULL)
			return (int)i;
	return -ENOSPC;
}

/*
 * Map, lock and publish one chamber; the caller holds the lock. @p quiet: a
 * failure is neither counted nor logged, because the caller starts the arena
 * again on 4 KiB pages and says so itself.
 */
static int grow_locked(struct lab_arena *a, void *premapped, bool quiet)
{
	int slot = premapped ? (int)(((uint8_t *)premapped - a->base) / a->page_size) :
			       find_free_slot(a);
	int err = 0;
	void *va = premapped;

	if (slot < 0) {
		a->st.grow_failures++;
		LAB_LOG(WARNING, arena, "arena '%s' is at its limit of %u chambers (max_chambers)",
			a->name, a->max_chambers);
		return slot;
	}
	if (va == NULL)
		va = map_memory(a, (unsigned int)slot, &err);
	if (va != NULL && (err = place_and_lock(a, va)) == 0 &&
	    (err = chamber_setup(a, &a->ch[slot], va)) == 0) {
		/* Publish: readers that see the address see the rest of the slot. */
		atomic_store_explicit(&a->ch[slot].va, va, memory_order_release);
		if ((unsigned int)slot >= a->slots_used)
			__atomic_store_n(&a->slots_used, slot + 1, __ATOMIC_RELEASE);
		a->st.chambers++;
		a->st.grows++;
		a->st.bytes += a->page_size;
		LAB_LOG(DEBUG, arena, "arena '%s': chamber %d mapped at %p, iova 0x%llx", a->name,
			slot, va, (unsigned long long)a->ch[slot].iova);
		return slot;
	}
	if (va != NULL)
		slot_reserve(a, (unsigned int)slot);
	if (quiet)
		return err ? err : -ENOMEM;
	a->st.grow_failures++;
	report_grow_failure(a, err ? err : -ENOMEM);
	return err ? err : -ENOMEM;
}

int lab_arena_grow(struct lab_arena *a)
{
	int rc;

	if (LAB_FAULT(LAB_FAULT_ARENA_GROW))
		return -ENOMEM;
	pthread_mutex_lock(&a->lock);
	rc = grow_locked(a, NULL, false);
	pthread_mutex_unlock(&a->lock);
	return rc;
}

/* Try the hugepage sources in order; on success return the first chamber's memory. */
static void *probe_huge(struct lab_arena *a, int *err)
{
	void *va;

	if (!(a->flags & LAB_ARENA_F_MEMFD) &&
	    (a->hugetlbfs_dir[0] != '\0' ||
	     hugetlbfs_find_mount(a->page_size, a->hugetlbfs_dir, sizeof(a->hugetlbfs_dir)) == 0)) {
		a->backing = LAB_BACKING_HUGETLBFS;
		va = map_memory(a, 0, err);
		if (va != NULL)
			return va;
		LAB_LOG(DEBUG, arena, "arena '%s': hugetlbfs at %s: %s", a->name, a->hugetlbfs_dir,
			strerror(-*err));
		drop_fd(a);
	}
	a->backing = LAB_BACKING_MEMFD;
	return map_memory(a, 0, err);
}

static int choose_iova_mode(struct lab_arena *a, enum lab_iova_mode want, void *va)
{
	bool pfns;

	/* Fault in one page so pagemap has something to say. */
	((volatile char *)va)[0] = 0;
	pfns = pagemap_has_pfns(va);
	if (want == LAB_IOVA_PA && !pfns) {
		LAB_LOG(ERR, arena, "arena '%s': iova=pa needs physical addresses, but "
			"/proc/self/pagemap gives no PFNs (run as root with CAP_SYS_ADMIN, or "
			"use iova=va)", a->name);
		return -EPERM;
	}
	if (want == LAB_IOVA_AUTO)
		want = (pfns && !backing_is_4k(a->backing)) ? LAB_IOVA_PA : LAB_IOVA_VA;
	a->iova_mode = want;
	return 0;
}

/* How to reserve pages of the arena's size: /proc/sys/vm/nr_hugepages is the
 * default (2 MiB) pool only, and 1 GiB pages are reserved in their own pool,
 * best at boot (memory fragments, so a late reservation may get none). */
static void reserve_advice(size_t page_size, char *buf, size_t len)
{
	if (page_size == LAB_GIB)
		snprintf(buf, len, "reserve some with 'echo 2 > /sys/kernel/mm/hugepages/"
			 "hugepages-1048576kB/nr_hugepages' (or 'hugepagesz=1G hugepages=2' on the "
			 "kernel command line), or use 2 MiB chambers");
	else
		snprintf(buf, len, "reserve some with 'make hugepages' or 'echo 256 > "
			 "/sys/kernel/mm/hugepages/hugepages-%zukB/nr_hugepages'",
			 page_size / LAB_KIB);
}

static void notice_fallback(struct lab_arena *a, int err)
{
	char sz[32], how[200];

	size_name(a->page_size, sz, sizeof(sz));
	reserve_advice(a->page_size, how, sizeof(how));
	LAB_LOG(NOTICE, arena, "arena '%s': no %s hugepages (%ld free of %ld reserved: %s); "
		"falling back to 4 KiB pages; %s", a->name, sz,
		hugepages_free(a->page_size) < 0 ? 0 : hugepages_free(a->page_size),
		hugepages_total(a->page_size) < 0 ? 0 : hugepages_total(a->page_size),
		strerror(-err), how);
}

/*
 * Hugepages gave the first @p got of @p want initial chambers, then ran out
 * (another process holds the rest of the pool, or a mount's size= is met).
 * Called with the arena's chambers already unmapped, so "free" is what the
 * other users of the pool leave.
 */
static void notice_partial(struct lab_arena *a, unsigned int got, unsigned int want, int err)
{
	char sz[32], how[200], lim[320];

	size_name(a->page_size, sz, sizeof(sz));
	reserve_advice(a->page_size, how, sizeof(how));
	LAB_LOG(NOTICE, arena, "arena '%s': %s hugepages gave only %u of %u initial chambers "
		"(%ld free of %ld reserved%s: %s); falling back to 4 KiB pages for the whole "
		"arena; %s", a->name, sz, got, want,
		hugepages_free(a->page_size) < 0 ? 0 : hugepages_free(a->page_size),
		hugepages_total(a->page_size) < 0 ? 0 : hugepages_total(a->page_size),
		mount_limit(a, lim, sizeof(lim)), strerror(-err), how);
}

/*
 * Decide backing and IOVA mode with the first chamber, which stays mapped.
 * @p try_huge: probe hugepages first (false: straight to 4 KiB pages).
 */
static int map_first(struct lab_arena *a, enum lab_iova_mode want, bool try_huge)
{
	void *va = NULL;
	int err = -ENOMEM, rc;

	if (try_huge)
		va = probe_huge(a, &err);
	if (va == NULL) {
		if (a->flags & LAB_ARENA_F_HUGE_ONLY) {
			report_grow_failure(a, err);
			return err;
		}
		if (try_huge)
			notice_fallback(a, err);
		drop_fd(a);
		a->backing = (a->flags & LAB_ARENA_F_SHARED) ? LAB_BACKING_MEMFD_4K
							     : LAB_BACKING_ANON_4K;
		va = map_memory(a, 0, &err);
		if (va == NULL) {
			report_grow_failure(a, err);
			return err;
		}
	}
	rc = choose_iova_mode(a, want, va);
	if (rc < 0) {
		slot_reserve(a, 0);
		return rc;
	}
	rc = grow_locked(a, va, false);
	return rc < 0 ? rc : 0;
}

/* Grow to @p n chambers; the first error, quiet or not as grow_locked(). */
static int grow_initial(struct lab_arena *a, unsigned int n, bool quiet)
{
	int rc = 0;

	pthread_mutex_lock(&a->lock);
	while (rc >= 0 && a->st.chambers < n)
		rc = LAB_FAULT(LAB_FAULT_ARENA_GROW) ? -ENOMEM : grow_locked(a, NULL, quiet);
	pthread_mutex_unlock(&a->lock);
	return rc < 0 ? rc : 0;
}

/* Unmap every chamber and clear the counts, before anyone else sees the arena. */
static void unmap_all(struct lab_arena *a)
{
	for (unsigned int i = 0; i < a->slots_used; i++) {
		struct chamber *c = &a->ch[i];

		if (atomic_load_explicit(&c->va, memory_order_relaxed) == NULL)
			continue;
		atomic_store_explicit(&c->va, NULL, memory_order_relaxed);
		slot_reserve(a, i);
		free(c->page_iova);
		c->page_iova = NULL;
	}
	a->slots_used = 0;
	drop_fd(a);
	a->st.chambers = 0;
	a->st.grows = 0;
	a->st.bytes = 0;
}

/*
 * Map the initial chambers. An arena has one backing (one IOVA mode, one kind
 * of chamber), so when hugepages run out part of the way (the first chamber
 * got one, a later one did not: the pool is nearly all in use elsewhere), the
 * "auto" arena starts again on 4 KiB pages whole, with one notice in place of
 * the failed grow's error. hugepages=require keeps the error and fails.
 */
static int map_initial(struct lab_arena *a, enum lab_iova_mode want, unsigned int n)
{
	bool try_huge = !(a->flags & LAB_ARENA_F_NO_HUGE), quiet;
	unsigned int got;
	int rc = map_first(a, want, try_huge);

	if (rc < 0)
		return rc;
	quiet = !backing_is_4k(a->backing) && !(a->flags & LAB_ARENA_F_HUGE_ONLY);
	rc = grow_initial(a, n, quiet);
	if (rc == 0 || !quiet)
		return rc < 0 ? -ENOMEM : 0;
	got = a->st.chambers;
	unmap_all(a);
	notice_partial(a, got, n, rc);
	rc = map_first(a, want, false);
	if (rc == 0)
		rc = grow_initial(a, n, false) < 0 ? -ENOMEM : 0;
	return rc;
}

struct lab_arena *lab_arena_create(const struct lab_arena_opts *opts)
{
	struct lab_arena_opts o;
	struct lab_arena *a;
	int rc;

	rc = opts_take(opts, &o);
	if (rc == 0)
		rc = opts_check(&o);
	if (rc < 0)
		goto err_opts;
	a = calloc(1, sizeof(*a));
	if (a == NULL)
		goto err_nomem;
	a->ch = calloc(o.max_chambers, sizeof(*a->ch));
	if (a->ch == NULL)
		goto err_slots;
	snprintf(a->name, sizeof(a->name), "%s", o.name ? o.name : "arena");
	if (o.hugetlbfs_dir != NULL)
		snprintf(a->hugetlbfs_dir, sizeof(a->hugetlbfs_dir), "%s", o.hugetlbfs_dir);
	a->page_size = o.page_size;
	a->max_chambers = o.max_chambers;
	a->numa_node = o.numa_node;
	a->flags = o.flags;
	a->fd = -1;
	a->st.max_chambers = o.max_chambers;
	pthread_mutex_init(&a->lock, NULL);
	rc = reserve_span(a);
	if (rc == 0)
		rc = map_initial(a, o.iova_mode, o.initial_chambers);
	if (rc < 0)
		goto err_map;
	LAB_LOG(INFO, arena, "arena '%s': %u chamber(s) of %zu bytes from %s, iova=%s", a->name,
		a->st.chambers, a->page_size, lab_backing_name(a->backing),
		lab_iova_mode_name(a->iova_mode));
	return a;

err_map:
	lab_arena_destroy(a);
	lab_errno = -rc;
	return NULL;
err_slots:
	free(a);
err_nomem:
	rc = -ENOMEM;
err_opts:
	lab_errno = -rc;
	return NULL;
}

void lab_arena_destroy(struct lab_arena *a)
{
	if (a == NULL)
		return;
	for (unsigned int i = 0; i < a->max_chambers; i++)
		free(a->ch[i].page_iova);
	if (a->base != NULL)
		munmap(a->base, a->span);
	drop_fd(a);
	pthread_mutex_destroy(&a->lock);
	free(a->ch);
	free(a);
}

int lab_arena_release(struct lab_arena *a, unsigned int index)
{
	struct chamber *c;
	void *va;

	if (index >= a->max_chambers)
		return -EINVAL;
	pthread_mutex_lock(&a->lock);
	c = &a->ch[index];
	va = atomic_load_explicit(&c->va, memory_order_relaxed);
	if (va == NULL) {
		pthread_mutex_unlock(&a->lock);
		return -ENOENT;
	}
	atomic_store_explicit(&c->va, NULL, memory_order_release);
	slot_reserve(a, index);
	/* A shared arena's file gives the pages back too (a peer that still
	 * maps them keeps its own reference until it unmaps). */
	if (a->fd >= 0 &&
	    fallocate(a->fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
		      (off_t)index * (off_t)a->page_size, (off_t)a->page_size) != 0)
		LAB_LOG(WARNING, arena, "arena '%s': chamber %u released, but its pages stay in "
			"the shared file: %s", a->name, index, strerror(errno));
	free(c->page_iova);
	c->page_iova = NULL;
	a->st.chambers--;
	a->st.releases++;
	a->st.bytes -= c->len;
	pthread_mutex_unlock(&a->lock);
	LAB_LOG(DEBUG, arena, "arena '%s': chamber %u released", a->name, index);
	return 0;
}
