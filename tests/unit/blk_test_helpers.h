/* SPDX-License-Identifier: BSD-3-Clause */
/* What the block suites (blk, virtio_blk) check with CUnit: data patterns,
 * open errors and their messages, a pool left whole. */
#ifndef BLK_TEST_HELPERS_H
#define BLK_TEST_HELPERS_H

#include <labyrinth/lab_blk.h>
#include <labyrinth/lab_common.h>
#include <labyrinth/lab_pool.h>

#include "../lab_test.h"
#include "pool_helpers.h"

/* A pattern that differs by @p seed and along the buffer (and per sector). */
static inline void fill(struct lab_buf *b, uint32_t len, unsigned int seed)
{
	uint8_t *p = lab_buf_data(b);

	for (uint32_t i = 0; i < len; i++)
		p[i] = (uint8_t)(seed * 31 + i * 7 + (i >> 9));
}

/* @return 0 if @p b holds fill()'s pattern for @p seed, else -1. */
static inline int check_fill(const struct lab_buf *b, uint32_t len, unsigned int seed)
{
	const uint8_t *p = lab_buf_data(b);

	for (uint32_t i = 0; i < len; i++)
		if (p[i] != (uint8_t)(seed * 31 + i * 7 + (i >> 9)))
			return -1;
	return 0;
}

/* Every buffer back in the pool and the identity holding; then destroy it. */
static inline void pool_quiet(struct lab_pool *p)
{
	struct lab_pool_stats st;

	assert_accounting(p);
	lab_pool_stats(p, &st);
	CU_ASSERT_EQUAL(st.in_flight, 0);
	CU_ASSERT_EQUAL(lab_pool_destroy(p), 0);
}

/* lab_blk_open(@p devstr) fails with lab_errno @p err and logs @p msg. */
static inline void expect_open_error(const char *devstr, int err, const char *msg)
{
	lab_test_log_capture();
	CU_ASSERT_PTR_NULL(lab_blk_open(devstr));
	CU_ASSERT_EQUAL(lab_errno, err);
	LAB_TEST_HAS(lab_test_log_text(), msg);
	lab_test_log_release();
}

#endif
