/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The owner-cache path with the shadow checks compiled out (LAB_POOL_UNCHECKED):
 * the "raw" baseline of labbench quality. Only for a pool no checked code
 * frees into: a double free here corrupts the pool.
 */
#define LAB_POOL_UNCHECKED
#include <labyrinth/lab_pool.h>

#include "bench.h"

unsigned int raw_alloc(struct lab_pool *p, struct lab_cache *c, struct lab_buf **b, unsigned int n)
{
	return lab_alloc_bulk(p, c, b, n, 0);
}

void raw_free(struct lab_cache *c, struct lab_buf **b, unsigned int n)
{
	lab_free_bulk(c, b, n);
}
