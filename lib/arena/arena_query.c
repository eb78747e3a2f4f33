/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Read-side arena calls: lookups, figures and the carving of chambers into
 * cells. Lookups are lock-free: a slot's address is published last (release),
 * so a reader that sees it sees the slot filled in.
 */
#include <errno.h>
#include <string.h>
#include <strings.h>

#include "arena_internal.h"

static void *slot_va(const struct lab_arena *a, unsigned int i)
{
	return atomic_load_explicit(&a->ch[i].va, memory_order_acquire);
}

int lab_arena_chamber(const struct lab_arena *a, unsigned int index,
		      struct lab_chamber_info *info)
{
	const struct chamber *c;
	void *va;

	if (index >= a->max_chambers)
		return -EINVAL;
	va = slot_va(a, index);
	if (va == NULL)
		return -ENOENT;
	c = &a->ch[index];
	info->index = index;
	info->va = va;
	info->len = c->len;
	info->contig = c->contig;
	info->iova = c->iova;
	info->numa_node = c->numa_node;
	info->backing = a->backing;
	return 0;
}

unsigned int lab_arena_chamber_slots(const struct lab_arena *a)
{
	return __atomic_load_n(&a->slots_used, __ATOMIC_ACQUIRE);
}

int lab_arena_find(const struct lab_arena *a, const void *addr)
{
	uintptr_t off = (uintptr_t)addr - (uintptr_t)a->base;
	unsigned int i;

	/* Chambers sit side by side in the reservation: one division. */
	if ((uintptr_t)addr < (uintptr_t)a->base || off >= a->span)
		return -ENOENT;
	i = (unsigned int)(off / a->page_size);
	return slot_va(a, i) != NULL ? (int)i : -ENOENT;
}

void lab_arena_span(const struct lab_arena *a, void **base, size_t *len)
{
	*base = a->base;
	*len = a->span;
}

static uint64_t chamber_iova(const struct chamber *c, size_t off)
{
	if (c->contig == c->len)
		return c->iova + off;
	return c->page_iova[off / SMALL_PAGE] + off % SMALL_PAGE;
}

uint64_t lab_arena_iova(const struct lab_arena *a, const void *addr)
{
	int i = lab_arena_find(a, addr);

	if (i < 0)
		return LAB_IOVA_BAD;
	return chamber_iova(&a->ch[i], (uintptr_t)addr - (uintptr_t)slot_va(a, (unsigned int)i));
}

enum lab_iova_mode lab_arena_iova_mode(const struct lab_arena *a)
{
	return a->iova_mode;
}

bool lab_arena_is_huge(const struct lab_arena *a)
{
	return !backing_is_4k(a->backing);
}

size_t lab_arena_page_size(const struct lab_arena *a)
{
	return a->page_size;
}

const char *lab_arena_name(const struct lab_arena *a)
{
	return a->name;
}

void lab_arena_stats(const struct lab_arena *a, struct lab_arena_stats *st)
{
	struct lab_arena *w = (struct lab_arena *)a; /* the lock is not part of the value */

	pthread_mutex_lock(&w->lock);
	*st = a->st;
	pthread_mutex_unlock(&w->lock);
}

int lab_arena_layout(const struct lab_arena *a, size_t cell_size, size_t align,
		     struct lab_cell_layout *out)
{
	size_t unit = (backing_is_4k(a->backing) && a->iova_mode == LAB_IOVA_PA) ?
			      SMALL_PAGE : a->page_size;
	size_t stride;

	if (cell_size == 0 || !LAB_IS_POW2(align) || align < 8) {
		LAB_LOG(ERR, arena, "arena '%s': bad cell layout: size %zu, align %zu (align "
			"must be a power of two >= 8)", a->name, cell_size, align);
		return -EINVAL;
	}
	stride = LAB_ALIGN_UP(cell_size, align);
	if (stride > unit) {
		LAB_LOG(ERR, arena, "arena '%s': a %zu-byte cell does not fit the %zu-byte "
			"IOVA-contiguous unit of %s memory (use hugepages, iova=va or smaller "
			"cells)", a->name, stride, unit, lab_backing_name(a->backing));
		return -EINVAL;
	}
	out->cell_size = cell_size;
	out->stride = stride;
	out->unit = unit;
	out->per_unit = (unsigned int)(unit / stride);
	out->per_chamber = out->per_unit * (unsigned int)(a->page_size / unit);
	return 0;
}

void *lab_arena_cell(const struct lab_arena *a, const struct lab_cell_layout *l,
		     unsigned int chamber, unsigned int cell, uint64_t *iova)
{
	size_t off;
	char *va;

	if (chamber >= a->max_chambers || cell >= l->per_chamber)
		return NULL;
	va = slot_va(a, chamber);
	if (va == NULL)
		return NULL;
	off = (size_t)(cell / l->per_unit) * l->unit + (size_t)(cell % l->per_unit) * l->stride;
	if (iova != NULL)
		*iova = chamber_iova(&a->ch[chamber], off);
	return va + off;
}

static const char *const iova_names[] = {
	[LAB_IOVA_AUTO] = "auto", [LAB_IOVA_PA] = "pa", [LAB_IOVA_VA] = "va",
};
const struct lab_names lab_iova_mode_names = LAB_NAMES(iova_names);

const char *lab_iova_mode_name(enum lab_iova_mode m)
{
	return lab_names_get(&lab_iova_mode_names, m, "auto");
}

int lab_iova_mode_parse(const char *s)
{
	return lab_names_parse(&lab_iova_mode_names, s);
}

static const char *const hugepages_names[] = {
	[LAB_HUGEPAGES_AUTO] = "auto", [LAB_HUGEPAGES_REQUIRE] = "require",
	[LAB_HUGEPAGES_OFF] = "off",
};
const struct lab_names lab_hugepages_names = LAB_NAMES(hugepages_names);

const char *lab_hugepages_name(enum lab_hugepages h)
{
	return lab_names_get(&lab_hugepages_names, h, "?");
}

int lab_hugepages_parse(const char *s)
{
	return lab_names_parse(&lab_hugepages_names, s);
}

unsigned int lab_hugepages_arena_flags(enum lab_hugepages h)
{
	if (h == LAB_HUGEPAGES_OFF)
		return LAB_ARENA_F_NO_HUGE;
	if (h == LAB_HUGEPAGES_REQUIRE)
		return LAB_ARENA_F_HUGE_ONLY;
	return 0;
}

const char *lab_backing_name(enum lab_backing b)
{
	switch (b) {
	case LAB_BACKING_HUGETLBFS:
		return "hugetlbfs";
	case LAB_BACKING_MEMFD:
		return "memfd";
	case LAB_BACKING_MEMFD_4K:
		return "memfd-4k";
	case LAB_BACKING_ANON_4K:
		break;
	}
	return "4k-fallback";
}

int lab_arena_regions(const struct lab_arena *a, struct lab_mem_region *out, unsigned int max)
{
	unsigned int n = 0, slots = __atomic_load_n(&a->slots_used, __ATOMIC_ACQUIRE);

	if (!(a->flags & LAB_ARENA_F_SHARED) || a->fd < 0)
		return -ENOTSUP;
	for (unsigned int i = 0; i < slots;) {
		unsigned int j = i;

		if (atomic_load_explicit(&a->ch[i].va, memory_order_acquire) == NULL) {
			i++;
			continue;
		}
		while (j < slots && atomic_load_explicit(&a->ch[j].va, memory_order_acquire) != NULL)
			j++;
		if (n < max) {
			out[n] = (struct lab_mem_region){
				.va = a->base + (size_t)i * a->page_size,
				.len = (size_t)(j - i) * a->page_size,
				.fd = a->fd,
				.offset = (uint64_t)i * a->page_size,
			};
			out[n].iova = lab_arena_iova(a, out[n].va);
		}
		n++;
		i = j;
	}
	return (int)n;
}
