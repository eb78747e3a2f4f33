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
 *
 * Each request also goes through virtio_blk's own limits (vblk_req_check,
 * with limits drawn from the same record: segment size and count, the
 * discard and write-zeroes limits, one mapped region): it is refused with a
 * reason, or its data lies inside the region and fits its segments, and a
 * range fits the device's limit.
 */
#include <errno.h>
#include <string.h>

#include <labyrinth/lab_blk.h>
#include <labyrinth/lab_pool.h>

#include "../../drivers/block/virtio_blk/vblk_internal.h"
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

/* virtio_blk's checks on what lib/blk would hand it: limits from the record. */
static void check_vblk(enum lab_blk_op op, struct lab_buf *buf, struct lab_buf *mapped,
		       uint64_t off, uint32_t len, unsigned int shift, unsigned int flags)
{
	struct lab_mem_region reg = { .va = mapped->buf_addr, .len = mapped->buf_len };
	struct vblk_limits l = {
		.seg_max = 1 + (shift >> 8) % 130,
		.seg_size = (flags & 0x20) ? 0 : 512u * (1 + shift % 256),
		.max_discard_sectors = (uint32_t)(off >> 40) & 0xffff,
		.max_write_zeroes_sectors = (uint32_t)(off >> 24) & 0xffff,
		.regions = &reg,
		.nregions = 1,
	};
	struct lab_blk_req req = { .op = op, .len = len, .offset = off, .range_len = len,
				   .data = buf ? lab_buf_data(buf) : NULL, .buf = buf };
	char why[192] = "";
	int n = vblk_req_check(&l, &req, why, sizeof(why));
	uintptr_t a = (uintptr_t)req.data, va = (uintptr_t)reg.va;

	if (n < 0) {
		FUZZ_CHECK(n == -EINVAL && why[0] != '\0');
		return;
	}
	switch (op) {
	case LAB_BLK_OP_READ:
	case LAB_BLK_OP_WRITE:
		FUZZ_CHECK(a >= va && a + len <= va + reg.len && len != 0);
		FUZZ_CHECK(n >= 1 && (uint32_t)n <= l.seg_max);
		FUZZ_CHECK((uint64_t)n * l.seg_size >= len && (uint64_t)(n - 1) * l.seg_size < len);
		break;
	case LAB_BLK_OP_FLUSH:
		FUZZ_CHECK(n == 0);
		break;
	default: {
		uint32_t lim = op == LAB_BLK_OP_DISCARD ? l.max_discard_sectors
							: l.max_write_zeroes_sectors;

		FUZZ_CHECK(n == 1 && len / 512 != 0 && (lim == 0 || len / 512 <= lim));
	}
	}
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
		if (r[0] % 6 < 5)
			check_vblk((enum lab_blk_op)(r[0] % 6), buf, b[0], off, len, shift, flags);
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
