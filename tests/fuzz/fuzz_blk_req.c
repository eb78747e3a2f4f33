/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * libFuzzer target: block request validation (lib/blk). The input is a list
 * of requests on a ram device (so nothing outside the process is touched):
 * [op, offset (8 bytes), length (4 bytes), buffer shift (2 bytes), flags].
 * Each goes to lab_blk_read/write/flush/write_zeroes/discard; the queue pair
 * is polled now and then. Promises: no crash and no access outside the
 * device or a buffer (ASan); every call returns 0, -EINVAL or -EAGAIN; every
 * accepted request completes exactly once; the counters add up; at the end
 * nothing is outstanding and every buffer is back.
 */
#include <errno.h>
#include <string.h>

#include <labyrinth/lab_blk.h>
#include <labyrinth/lab_pool.h>

#include "../unit/blk_helpers.h"
#include "fuzz_common.h"

static struct lab_blk_dev *dev;
static struct lab_pool *pool;
static uint64_t completions;

static void on_done(void *arg, int status)
{
	(void)arg;
	FUZZ_CHECK(status <= 0);
	completions++;
}

static uint64_t get(const uint8_t *p, unsigned int n)
{
	uint64_t v = 0;

	for (unsigned int i = 0; i < n; i++)
		v |= (uint64_t)p[i] << (8 * i);
	return v;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct lab_blk_qpair_stats qs;
	struct lab_blk_qpair *qp;
	struct lab_pool_stats ps;
	struct lab_buf *b[8];
	uint64_t accepted = 0;
	unsigned int nb;

	fuzz_quiet();
	if (dev == NULL) {
		dev = lab_blk_open("ram:size=1M,block=512,max_io=64K,align=512");
		FUZZ_CHECK(dev != NULL);
		pool = blk_pool(dev, 16384, 64);
		FUZZ_CHECK(pool != NULL);
	}
	qp = lab_blk_qpair_create(dev, 4, pool);
	FUZZ_CHECK(qp != NULL);
	nb = lab_alloc_bulk(pool, NULL, b, 8, 0);
	FUZZ_CHECK(nb == 8);
	completions = 0;
	for (size_t at = 0; at + 16 <= size; at += 16) {
		const uint8_t *r = data + at;
		uint64_t off = get(r + 1, 8);
		uint32_t len = (uint32_t)get(r + 9, 4);
		unsigned int shift = (unsigned int)get(r + 13, 2), flags = r[15];
		struct lab_buf *buf = (flags & 0x80) ? NULL : b[flags & 7];
		int rc;

		if (flags & 0x40) { /* small, likely-valid numbers too */
			off %= 2u << 20;
			len %= 128u << 10;
		}
		if (buf != NULL) {
			lab_buf_reset(buf, 0);
			/* Move the data start: misaligned or past the room. */
			buf->data_off = (uint16_t)(buf->data_off + shift % 1024);
		}
		switch (r[0] % 6) {
		case 0:
			rc = lab_blk_read(qp, buf, off, len, on_done, NULL);
			break;
		case 1:
			rc = lab_blk_write(qp, buf, off, len, on_done, NULL);
			break;
		case 2:
			rc = lab_blk_flush(qp, on_done, NULL);
			break;
		case 3:
			rc = lab_blk_write_zeroes(qp, off, len, on_done, NULL);
			break;
		case 4:
			rc = lab_blk_discard(qp, off, len, on_done, NULL);
			break;
		default:
			lab_blk_poll(qp, r[1] % 8);
			continue;
		}
		FUZZ_CHECK(rc == 0 || rc == -EINVAL || rc == -EAGAIN);
		accepted += rc == 0;
	}
	for (int i = 0; i < 1000 && lab_blk_outstanding(qp) != 0; i++)
		lab_blk_poll(qp, 0);
	FUZZ_CHECK(lab_blk_outstanding(qp) == 0);
	FUZZ_CHECK(completions == accepted);
	lab_blk_qpair_stats(qp, &qs);
	FUZZ_CHECK(qs.submitted == accepted && qs.completed == accepted);
	FUZZ_CHECK(lab_blk_qpair_destroy(qp) == 0);
	FUZZ_CHECK(lab_free_bulk(NULL, b, nb) == nb);
	fuzz_pool_settled(pool, &ps);
	FUZZ_CHECK(ps.in_flight == 0);
	return 0;
}
