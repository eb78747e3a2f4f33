/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The ram block driver: a device in anonymous memory, for tests and as the
 * limit with no I/O at all. A request is carried out at submit (a memcpy) and
 * its completion queued for the next poll, so callers see the same
 * submit-then-poll order as on a real device. Discarded ranges read as zeroes.
 *
 *   ram:size=256M,block=4096,align=512,max_io=1M,qd=128
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include <labyrinth/lab_blk_driver.h>
#include <labyrinth/lab_log.h>

LAB_LOG_DECLARE(blk);

struct ram_dev {
	uint8_t *mem;
	size_t size;
};

/* Completions waiting for the poll, in submit order. */
struct ram_qp {
	uint32_t head, tail, mask;
	struct {
		struct lab_blk_req *req;
		int64_t res;
	} done[];
};

static const struct lab_devargs_key ram_keys[] = {
	{ "size", "device size in bytes (K, M, G suffixes), default 64M" },
	{ "block", "block size: 512 to 65536, a power of two, default 4096" },
	{ "align", "buffer alignment the device demands, a power of two up to the block size, "
		   "default 512" },
	{ "max_io", "largest transfer in bytes, default 1M" },
	{ "qd", "default queue pair depth, default 128" },
	{ NULL, NULL },
};

static int ram_open(struct lab_blk_dev *d, const struct lab_devargs *a)
{
	uint64_t size, block, align, max_io, qd;
	struct ram_dev *rd;

	if (lab_devargs_u64(a, "size", 64ull << 20, 4096, 1ull << 40, &size) < 0 ||
	    lab_devargs_u64(a, "block", 4096, 512, 65536, &block) < 0 ||
	    lab_devargs_u64(a, "align", 512, 1, 65536, &align) < 0 ||
	    lab_devargs_u64(a, "max_io", 1u << 20, 512, 1u << 30, &max_io) < 0 ||
	    lab_devargs_u64(a, "qd", 128, 1, 65536, &qd) < 0)
		return -EINVAL;
	if (!LAB_IS_POW2(block) || !LAB_IS_POW2(align) || align > block) {
		LAB_LOG(ERR, blk, "%s: block %llu and align %llu must be powers of two, align at "
			"most the block size", a->devstr, (unsigned long long)block,
			(unsigned long long)align);
		return -EINVAL;
	}
	if (size % block != 0 || max_io % block != 0) {
		LAB_LOG(ERR, blk, "%s: size %llu and max_io %llu must be multiples of the block "
			"size %llu", a->devstr, (unsigned long long)size,
			(unsigned long long)max_io, (unsigned long long)block);
		return -EINVAL;
	}
	rd = calloc(1, sizeof(*rd));
	if (rd == NULL)
		return -ENOMEM;
	rd->size = size;
	rd->mem = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS |
		       MAP_NORESERVE, -1, 0);
	if (rd->mem == MAP_FAILED) {
		LAB_LOG(ERR, blk, "%s: cannot map %llu bytes: %s", a->devstr,
			(unsigned long long)size, strerror(errno));
		free(rd);
		return -ENOMEM;
	}
	d->drv = rd;
	d->info.block_size = (uint32_t)block;
	d->info.block_count = size / block;
	d->info.max_transfer = (uint32_t)max_io;
	d->info.mem_align = (uint32_t)align;
	d->info.max_depth = 65536;
	d->info.depth = (uint32_t)qd;
	d->info.flags = LAB_BLK_F_FLUSH | LAB_BLK_F_WRITE_ZEROES | LAB_BLK_F_DISCARD;
	return 0;
}

static void ram_close(struct lab_blk_dev *d)
{
	struct ram_dev *rd = d->drv;

	munmap(rd->mem, rd->size);
	free(rd);
}

static int ram_qpair_create(struct lab_blk_qpair *qp)
{
	uint32_t n = 1;
	struct ram_qp *q;

	while (n < qp->depth)
		n <<= 1;
	q = calloc(1, sizeof(*q) + n * sizeof(q->done[0]));
	if (q == NULL)
		return -ENOMEM;
	q->mask = n - 1;
	qp->drv = q;
	return 0;
}

static void ram_qpair_destroy(struct lab_blk_qpair *qp)
{
	free(qp->drv);
}

/* Requests arrive checked (range, alignment, depth): carry it out now. */
static int ram_submit(struct lab_blk_qpair *qp, struct lab_blk_req *req)
{
	struct ram_dev *rd = qp->dev->drv;
	struct ram_qp *q = qp->drv;
	int64_t res = req->len;

	switch (req->op) {
	case LAB_BLK_OP_READ:
		memcpy(req->data, rd->mem + req->offset, req->len);
		break;
	case LAB_BLK_OP_WRITE:
		memcpy(rd->mem + req->offset, req->data, req->len);
		break;
	case LAB_BLK_OP_WRITE_ZEROES:
	case LAB_BLK_OP_DISCARD:
		memset(rd->mem + req->offset, 0, req->range_len);
		res = 0;
		break;
	default:
		res = 0;
		break;
	}
	q->done[q->tail & q->mask].req = req;
	q->done[q->tail & q->mask].res = res;
	q->tail++;
	return 0;
}

static unsigned int ram_poll(struct lab_blk_qpair *qp, unsigned int max)
{
	struct ram_qp *q = qp->drv;
	uint32_t tail = q->tail; /* callbacks may submit more: those wait for the next poll */
	unsigned int n = 0;

	while (q->head != tail && n < max) {
		uint32_t i = q->head++ & q->mask;

		lab_blk_req_done(qp, q->done[i].req, q->done[i].res);
		n++;
	}
	return n;
}

static const struct lab_blk_ops ram_ops = {
	.name = "ram",
	.keys = ram_keys,
	.open = ram_open,
	.close = ram_close,
	.qpair_create = ram_qpair_create,
	.qpair_destroy = ram_qpair_destroy,
	.submit = ram_submit,
	.poll = ram_poll,
};

LAB_BLK_DRIVER_REGISTER(ram_ops);
