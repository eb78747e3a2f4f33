/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * A cell's index from its address alone, for the checks that cannot trust
 * its header (it may be what was overwritten): in an arena's chambers, or in
 * the runs of cells an external pool was given. At the bottom of lib/pool
 * with the rings: it calls nothing else here (docs/architecture.md,
 * "lib/pool's layers").
 */
#include "pool_internal.h"

/* Index of a cell from its address alone (its header may be damaged). */
static uint32_t ext_index(struct lab_pool *p, const struct lab_buf *b)
{
	uintptr_t a = (uintptr_t)b;
	uint32_t lo = 0, hi = p->nruns;

	while (lo < hi) {
		uint32_t mid = (lo + hi) / 2;
		const struct ext_run *r = &p->runs[mid];
		uint64_t page, in_page, i;

		if (a < r->va) {
			hi = mid;
		} else if (a >= r->end) {
			lo = mid + 1;
		} else {
			page = (a - r->va) / r->page_bytes;
			in_page = (a - r->va) % r->page_bytes;
			if (in_page % r->stride || in_page / r->stride >= r->per_page)
				return UINT32_MAX;
			i = page * r->per_page + in_page / r->stride;
			return i < r->n ? r->first + (uint32_t)i : UINT32_MAX;
		}
	}
	return UINT32_MAX;
}

/* Index of a buffer from its address alone (its header may be damaged). */
uint32_t pool_buf_index(struct lab_pool *p, const struct lab_buf *b)
{
	const struct lab_cell_layout *l = &p->layout;
	struct lab_chamber_info ci;
	int ch;
	size_t off;

	if (p->external)
		return ext_index(p, b);
	ch = lab_arena_find(p->arena, b);
	if (ch < 0 || lab_arena_chamber(p->arena, (unsigned int)ch, &ci) < 0)
		return UINT32_MAX;
	off = (size_t)((const char *)b - (const char *)ci.va);
	return (uint32_t)ch * l->per_chamber + (uint32_t)(off / l->unit) * l->per_unit +
	       (uint32_t)(off % l->unit / l->stride);
}

/* Shadow entries that may name a buffer (the leak scan's range). */
uint32_t pool_slots(const struct lab_pool *p)
{
	if (p->external)
		return p->ext_next;
	return lab_arena_chamber_slots(p->arena) * p->layout.per_chamber;
}
