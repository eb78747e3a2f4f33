/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * External pools: the pool's ring, watermarks, warden, shadow and quality
 * levels over cells in memory the pool does not own (a DPDK mempool's memory,
 * handed over by its populate callback). The caller lays the cells out; the
 * pool writes each cell's header, shadow entry and redzone, and frees it.
 * Nothing grows or shrinks. Control path throughout.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "pool_internal.h"

struct lab_pool *lab_pool_create_external(const struct lab_pool_opts *o, uint32_t room_off,
					  uint32_t room_len)
{
	struct lab_pool_opts eo;
	uint32_t mn, lo, hi, rs;
	struct lab_pool *p;
	int rc;

	if (o == NULL || o->size < sizeof(*o)) {
		LAB_LOG(ERR, pool, "external pool: options missing or too short");
		lab_errno = EINVAL;
		return NULL;
	}
	eo = *o;
	eo.cell_size = 0;
	eo.headroom = 0;
	eo.initial = o->max; /* watermarks in percent are of the whole pool */
	if (room_off < HDR_SIZE || (uint64_t)room_off + room_len > UINT32_MAX - POOL_REDZONE) {
		LAB_LOG(ERR, pool, "pool '%s': room offset %u must leave the %u-byte header "
			"(room length %u)", o->name ? o->name : "pool", room_off, HDR_SIZE, room_len);
		lab_errno = EINVAL;
		return NULL;
	}
	if ((rc = pool_check_opts(&eo, true, &mn, &lo, &hi, &rs)) < 0) {
		lab_errno = EINVAL;
		return NULL;
	}
	p = pool_alloc(&eo, hi);
	if (p == NULL)
		return NULL;
	p->external = true;
	p->room_off = room_off;
	p->room_len = room_len;
	/* One virtual chamber of max cells: stats and the quarantine budget
	 * use the layout; nothing maps or releases it. */
	p->layout.per_chamber = o->max;
	p->layout.stride = (uint32_t)LAB_ALIGN_UP((size_t)room_off + room_len + POOL_REDZONE,
						  LAB_CACHE_LINE);
	p->max_chambers = 1;
	p->min_chambers = 1;
	if ((rc = pool_setup_hot(p, mn, lo, rs)) < 0 || (rc = quality_setup(p, &eo)) < 0 ||
	    (rc = warden_attach(p)) < 0) {
		lab_errno = -rc;
		pool_free(p);
		return NULL;
	}
	LAB_LOG(INFO, pool, "pool '%s': external, up to %u cells, room at +%u (%u bytes), "
		"min %u low %u high %u reserve %u", p->name, o->max, room_off, room_len, mn, lo, hi,
		rs);
	return p;
}

/* Address of cell @p i of a run. */
static inline uintptr_t run_cell(const struct ext_run *r, uint32_t i)
{
	return r->va + (uintptr_t)(i / r->per_page) * r->page_bytes +
	       (uintptr_t)(i % r->per_page) * r->stride;
}

/* Where a run starting at @p va goes in the sorted table: the first run at or
 * above it. Populate hands chunks in rising order, so this is usually the end;
 * a binary search keeps thousands of runs linear to add (a DPDK pool on 4 KiB
 * pages used to add one run per page and scan them all each time). */
static uint32_t run_slot(const struct lab_pool *p, uintptr_t va)
{
	uint32_t lo = 0, hi = p->nruns;

	if (hi == 0 || p->runs[hi - 1].va < va)
		return hi;
	while (lo < hi) {
		uint32_t mid = (lo + hi) / 2;

		if (p->runs[mid].va < va)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static int add_run(struct lab_pool *p, const struct ext_run *nr)
{
	uint32_t pos;
	struct ext_run *r;

	pthread_mutex_lock(&p->lock);
	pos = run_slot(p, nr->va);
	/* Runs never overlap: a cell belongs to one index. */
	if ((pos > 0 && p->runs[pos - 1].end > nr->va) ||
	    (pos < p->nruns && p->runs[pos].va < nr->end)) {
		pthread_mutex_unlock(&p->lock);
		LAB_LOG(ERR, pool, "pool '%s': cells at %p (%u of %u bytes) overlap cells added "
			"before", p->name, (void *)nr->va, nr->n, nr->stride);
		return -EEXIST;
	}
	if (p->nruns == p->runs_cap) {
		uint32_t cap = p->runs_cap ? 2 * p->runs_cap : 16;

		r = realloc(p->runs, cap * sizeof(*r));
		if (r == NULL) {
			pthread_mutex_unlock(&p->lock);
			return -ENOMEM;
		}
		p->runs = r;
		p->runs_cap = cap;
	}
	memmove(&p->runs[pos + 1], &p->runs[pos], (p->nruns - pos) * sizeof(*p->runs));
	p->runs[pos] = *nr;
	p->nruns++;
	pthread_mutex_unlock(&p->lock);
	return 0;
}

int lab_pool_add_cells_paged(struct lab_pool *p, void *va, uint64_t iova, uint32_t stride,
			     uint32_t n, uint32_t per_page, uint64_t page_bytes,
			     lab_cell_cb *cb, void *cb_arg)
{
	struct ext_run nr = { .va = (uintptr_t)va, .stride = stride, .n = n,
			      .per_page = per_page, .page_bytes = page_bytes };
	int rc;

	if (p == NULL || !p->external || n == 0)
		return -EINVAL;
	if (per_page == 0 || (uint64_t)per_page * stride > page_bytes) {
		LAB_LOG(ERR, pool, "pool '%s': %u cells of %u bytes per page do not fit in a "
			"%llu-byte page", p->name, per_page, stride, (unsigned long long)page_bytes);
		return -EINVAL;
	}
	if (stride < p->layout.stride || nr.va % LAB_CACHE_LINE || stride % LAB_CACHE_LINE ||
	    (per_page < n && page_bytes % LAB_CACHE_LINE)) {
		LAB_LOG(ERR, pool, "pool '%s': cells at %p, stride %u: want %u-byte aligned cells "
			"of at least %u bytes (header, room and redzone)", p->name, va, stride,
			(unsigned int)LAB_CACHE_LINE, (unsigned int)p->layout.stride);
		return -EINVAL;
	}
	if (n > p->layout.per_chamber - p->ext_next) {
		LAB_LOG(ERR, pool, "pool '%s': %u more cells would exceed its %u (has %u)",
			p->name, n, p->layout.per_chamber, p->ext_next);
		return -ENOSPC;
	}
	nr.first = p->ext_next;
	nr.end = run_cell(&nr, n - 1) + stride;
	if ((rc = add_run(p, &nr)) < 0)
		return rc;
	for (uint32_t i = 0; i < n;) {
		struct lab_buf *batch[64];
		unsigned int k = 0;

		for (; k < 64 && i < n; k++, i++) {
			uintptr_t cell = run_cell(&nr, i);
			struct lab_buf *b = (struct lab_buf *)cell;

			pool_init_cell(p, b, nr.first + i, iova == UINT64_MAX ? UINT64_MAX :
				       iova + (uint64_t)(cell - nr.va) + p->room_off);
			/* The owner's init while the cell is in cache, before
			 * anyone can take it: one pass over the memory. */
			if (cb != NULL)
				cb(b, cell - nr.va, cb_arg);
			batch[k] = b;
		}
		_lab_pool_put(p, batch, k);
	}
	p->ext_next += n;
	atomic_fetch_add(&p->total, n);
	return 0;
}

int lab_pool_add_cells(struct lab_pool *p, void *va, uint64_t iova, uint32_t stride, uint32_t n)
{
	return lab_pool_add_cells_paged(p, va, iova, stride, n, n ? n : 1,
					(uint64_t)stride * (n ? n : 1), NULL, NULL);
}

uint64_t lab_pool_available(const struct lab_pool *p)
{
	return pool_free_count(p) + pool_quarantined_count(p);
}

uint64_t lab_pool_check_in_flight(struct lab_pool *p, uint64_t expected)
{
	struct lab_pool_stats st;

	lab_pool_stats(p, &st);
	if (st.in_flight <= expected)
		return 0;
	LAB_LOG(WARNING, pool, "pool '%s': %llu buffer(s) in flight, %llu more than the %llu "
		"its owner accounts for", p->name, (unsigned long long)st.in_flight,
		(unsigned long long)(st.in_flight - expected), (unsigned long long)expected);
	quality_report_in_flight(p);
	return st.in_flight - expected;
}

void lab_pool_destroy_external(struct lab_pool *p)
{
	if (p == NULL || !p->external)
		return;
	warden_detach(p);
	LAB_LOG(INFO, pool, "pool '%s': destroyed (external: %llu buffers)", p->name,
		(unsigned long long)atomic_load(&p->total));
	pool_free(p);
}
