/* SPDX-License-Identifier: BSD-3-Clause */
/* Pools for block devices in tests and the block fuzzer (no CUnit here). */
#ifndef BLK_HELPERS_H
#define BLK_HELPERS_H

#include <labyrinth/lab_blk.h>
#include <labyrinth/lab_pool.h>

/* Options for a fixed pool on 4 KiB pages, no watermarks, whose @p n buffers
 * suit @p d for @p io bytes each. */
static inline void blk_pool_opts(struct lab_blk_dev *d, uint32_t io, uint32_t n,
				 struct lab_pool_opts *o)
{
	lab_pool_opts_init(o);
	o->name = "blk";
	o->hugepages = LAB_HUGEPAGES_OFF;
	o->wm_min = o->wm_low = o->wm_high = o->reserve = (struct lab_count){ 0, false };
	lab_blk_pool_opts(d, io, n, o);
}

static inline struct lab_pool *blk_pool(struct lab_blk_dev *d, uint32_t io, uint32_t n)
{
	struct lab_pool_opts o;

	blk_pool_opts(d, io, n, &o);
	return lab_pool_create(&o);
}

#endif
