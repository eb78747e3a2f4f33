/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Block devices and queue pairs: the block driver registry (lab_driver.h),
 * opening a device from its device string, and the checks every request
 * passes before a driver sees it. A queue pair owns an array of requests (its
 * depth) and a free list: a submit takes one or fails at once, a completion
 * gives it back. No lock: a queue pair is one thread's.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <labyrinth/lab_blk_driver.h>
#include <labyrinth/lab_log.h>

LAB_LOG_REGISTER(blk, NOTICE)

/* Invalid requests logged per queue pair before the rest are only counted. */
#define INVALID_LOGGED 16u

static const char *const op_names[LAB_BLK_OPS] = {
	[LAB_BLK_OP_READ] = "read",
	[LAB_BLK_OP_WRITE] = "write",
	[LAB_BLK_OP_FLUSH] = "flush",
	[LAB_BLK_OP_WRITE_ZEROES] = "write-zeroes",
	[LAB_BLK_OP_DISCARD] = "discard",
};

const char *lab_blk_op_name(enum lab_blk_op op)
{
	return (unsigned int)op < LAB_BLK_OPS ? op_names[op] : "?";
}

/* The first callback a block driver must have and @p ops lacks, or NULL. */
static const char *missing_op(const void *ops)
{
	const struct lab_blk_ops *o = ops;

	if (o->open == NULL)
		return "open";
	if (o->close == NULL)
		return "close";
	if (o->qpair_create == NULL)
		return "qpair_create";
	if (o->qpair_destroy == NULL)
		return "qpair_destroy";
	if (o->submit == NULL)
		return "submit";
	if (o->poll == NULL)
		return "poll";
	return NULL;
}

LAB_DRIVER_REGISTRY_DEFINE(blk_drivers, "block device", lab_logtype_blk, missing_op, 8);

int lab_blk_driver_register(const struct lab_blk_ops *ops)
{
	return lab_driver_register(&blk_drivers, ops != NULL ? ops->name : NULL,
				   ops != NULL ? ops->keys : NULL, ops);
}

const struct lab_driver_registry *lab_blk_drivers(void)
{
	return &blk_drivers;
}

struct lab_blk_dev *lab_blk_open(const char *devstr)
{
	const struct lab_blk_ops *ops;
	const struct lab_driver *drv;
	struct lab_blk_dev *d;
	int rc;

	d = calloc(1, sizeof(*d));
	if (d == NULL) {
		lab_errno = ENOMEM;
		return NULL;
	}
	pthread_mutex_init(&d->qp_lock, NULL);
	rc = lab_devargs_parse(devstr, &blk_drivers, &d->args, &drv);
	if (rc < 0)
		goto err;
	ops = drv->ops;
	d->ops = ops;
	d->devstr = strdup(devstr);
	if (d->devstr == NULL) {
		rc = -ENOMEM;
		goto err;
	}
	d->info.devstr = d->devstr;
	d->info.driver = ops->name;
	rc = ops->open(d, &d->args);
	if (rc < 0)
		goto err;
	if (d->info.block_size == 0 || d->info.max_depth == 0 || d->info.mem_align == 0) {
		LAB_LOG(ERR, blk, "%s: driver '%s' gave no block size, depth or alignment", devstr,
			ops->name);
		ops->close(d);
		rc = -EINVAL;
		goto err;
	}
	LAB_LOG(INFO, blk, "%s: %llu blocks of %u bytes, max transfer %u, alignment %u, depth %u",
		devstr, (unsigned long long)d->info.block_count, d->info.block_size,
		d->info.max_transfer, d->info.mem_align, d->info.depth);
	return d;
err:
	lab_devargs_free(&d->args);
	pthread_mutex_destroy(&d->qp_lock);
	free(d->devstr);
	free(d);
	lab_errno = -rc;
	return NULL;
}

bool lab_blk_driver_has_key(const char *devstr, const char *key)
{
	const struct lab_driver *drv;
	char name[64];

	if (lab_devargs_driver_name(devstr, name, sizeof(name)) < 0)
		return false;
	drv = lab_driver_find(&blk_drivers, name);
	return drv != NULL && lab_devargs_key_known(drv->keys, key);
}

int lab_blk_close(struct lab_blk_dev *d)
{
	if (d == NULL)
		return -EINVAL;
	if (d->nb_qpairs != 0) {
		LAB_LOG(ERR, blk, "%s: not closed: %u queue pair(s) still exist", d->devstr,
			d->nb_qpairs);
		return -EBUSY;
	}
	d->ops->close(d);
	lab_devargs_free(&d->args);
	pthread_mutex_destroy(&d->qp_lock);
	free(d->devstr);
	free(d);
	return 0;
}

const struct lab_blk_info *lab_blk_info(const struct lab_blk_dev *d)
{
	return &d->info;
}

uint64_t lab_blk_size(const struct lab_blk_dev *d)
{
	return d->info.block_count * d->info.block_size;
}

struct lab_blk_qpair *lab_blk_qpair_create(struct lab_blk_dev *d, uint32_t depth,
					   struct lab_pool *pool)
{
	struct lab_blk_qpair *qp;
	int rc;

	if (depth == 0)
		depth = d->info.depth;
	if (depth == 0 || depth > d->info.max_depth) {
		LAB_LOG(ERR, blk, "%s: queue pair depth %u: expected 1 to %u", d->devstr, depth,
			d->info.max_depth);
		lab_errno = EINVAL;
		return NULL;
	}
	qp = calloc(1, sizeof(*qp) + depth * sizeof(qp->reqs[0]));
	if (qp == NULL) {
		lab_errno = ENOMEM;
		return NULL;
	}
	qp->dev = d;
	qp->pool = pool;
	qp->depth = depth;
	for (uint32_t i = depth; i-- > 0;) {
		qp->reqs[i].next_free = qp->free_reqs;
		qp->free_reqs = &qp->reqs[i];
	}
	/* Threads that share a device make their queue pairs at once (labblk
	 * --numjobs): one at a time into the driver, and the count kept right. */
	pthread_mutex_lock(&d->qp_lock);
	rc = d->ops->qpair_create(qp);
	if (rc == 0)
		d->nb_qpairs++;
	pthread_mutex_unlock(&d->qp_lock);
	if (rc < 0) {
		free(qp);
		lab_errno = -rc;
		return NULL;
	}
	return qp;
}

int lab_blk_qpair_destroy(struct lab_blk_qpair *qp)
{
	if (qp == NULL)
		return -EINVAL;
	if (qp->outstanding != 0) {
		LAB_LOG(ERR, blk, "%s: queue pair not destroyed: %u request(s) outstanding (poll "
			"them to completion first)", qp->dev->devstr, qp->outstanding);
		return -EBUSY;
	}
	pthread_mutex_lock(&qp->dev->qp_lock);
	qp->dev->ops->qpair_destroy(qp);
	qp->dev->nb_qpairs--;
	pthread_mutex_unlock(&qp->dev->qp_lock);
	free(qp);
	return 0;
}

/* A refused request: counted always, logged for the first few per queue pair. */
#define BAD_REQ(qp, op, fmt, ...)                                                      \
	({                                                                             \
		if ((qp)->st.invalid++ < INVALID_LOGGED)                               \
			LAB_LOG(ERR, blk, "%s: %s refused: " fmt, (qp)->dev->devstr,   \
				op_names[op], ##__VA_ARGS__);                          \
		else if ((qp)->st.invalid == INVALID_LOGGED + 1)                       \
			LAB_LOG(ERR, blk, "%s: further refused requests are counted, not " \
				"logged", (qp)->dev->devstr);                          \
		-EINVAL;                                                               \
	})

/* Range checks shared by every kind that names one. */
static int check_range(struct lab_blk_qpair *qp, enum lab_blk_op op, uint64_t offset,
		       uint64_t len)
{
	const struct lab_blk_info *in = &qp->dev->info;
	uint64_t size = in->block_count * in->block_size;

	if (offset % in->block_size != 0)
		return BAD_REQ(qp, op, "offset %llu is not a multiple of the block size %u",
			       (unsigned long long)offset, in->block_size);
	if (len == 0 || len % in->block_size != 0)
		return BAD_REQ(qp, op, "length %llu is not a positive multiple of the block size "
			       "%u", (unsigned long long)len, in->block_size);
	if (offset > size || len > size - offset)
		return BAD_REQ(qp, op, "%llu bytes at offset %llu go past the end of the device "
			       "(%llu bytes, %llu blocks)", (unsigned long long)len,
			       (unsigned long long)offset, (unsigned long long)size,
			       (unsigned long long)in->block_count);
	if ((in->flags & LAB_BLK_F_READ_ONLY) && op != LAB_BLK_OP_READ)
		return BAD_REQ(qp, op, "the device is read-only");
	return 0;
}

static int check_buf(struct lab_blk_qpair *qp, enum lab_blk_op op, struct lab_buf *b,
		     uint32_t len)
{
	const struct lab_blk_info *in = &qp->dev->info;
	uintptr_t data;

	if (b == NULL)
		return BAD_REQ(qp, op, "no buffer");
	data = (uintptr_t)lab_buf_data(b);
	if (data % in->mem_align != 0)
		return BAD_REQ(qp, op, "buffer data at %p is not aligned to %u bytes (buffer %u, "
			       "data_off %u)", (void *)data, in->mem_align, b->idx,
			       b->data_off);
	if (len > in->max_transfer)
		return BAD_REQ(qp, op, "%u bytes is over the device's maximum transfer of %u",
			       len, in->max_transfer);
	if (b->data_off > b->buf_len || len > b->buf_len - b->data_off)
		return BAD_REQ(qp, op, "%u bytes do not fit buffer %u (%u bytes from data_off "
			       "%u)", len, b->idx,
			       b->data_off <= b->buf_len ? b->buf_len - b->data_off : 0,
			       b->data_off);
	return 0;
}

static int submit(struct lab_blk_qpair *qp, struct lab_blk_req *tmpl)
{
	struct lab_blk_req *req = qp->free_reqs;
	int rc;

	if (req == NULL) {
		qp->st.busy++;
		return -EAGAIN;
	}
	qp->free_reqs = req->next_free;
	*req = *tmpl;
	rc = qp->dev->ops->submit(qp, req);
	if (rc < 0) {
		req->next_free = qp->free_reqs;
		qp->free_reqs = req;
		if (rc == -EAGAIN)
			qp->st.busy++;
		return rc;
	}
	qp->outstanding++;
	qp->st.submitted++;
	qp->st.ops[tmpl->op]++;
	return 0;
}

static int rw(struct lab_blk_qpair *qp, enum lab_blk_op op, struct lab_buf *b, uint64_t offset,
	      uint32_t len, lab_blk_cb cb, void *arg)
{
	struct lab_blk_req r;
	int rc;

	if ((rc = check_buf(qp, op, b, len)) < 0 || (rc = check_range(qp, op, offset, len)) < 0)
		return rc;
	r = (struct lab_blk_req){ .op = op, .len = len, .offset = offset, .range_len = len,
				  .data = lab_buf_data(b), .buf = b, .cb = cb, .arg = arg };
	return submit(qp, &r);
}

int lab_blk_read(struct lab_blk_qpair *qp, struct lab_buf *buf, uint64_t offset, uint32_t len,
		 lab_blk_cb cb, void *arg)
{
	return rw(qp, LAB_BLK_OP_READ, buf, offset, len, cb, arg);
}

int lab_blk_write(struct lab_blk_qpair *qp, struct lab_buf *buf, uint64_t offset, uint32_t len,
		  lab_blk_cb cb, void *arg)
{
	return rw(qp, LAB_BLK_OP_WRITE, buf, offset, len, cb, arg);
}

static int no_data_op(struct lab_blk_qpair *qp, enum lab_blk_op op, uint32_t flag,
		      uint64_t offset, uint64_t len, lab_blk_cb cb, void *arg)
{
	struct lab_blk_req r;
	int rc;

	if (!(qp->dev->info.flags & flag))
		return BAD_REQ(qp, op, "driver '%s' does not support it on this device",
			       qp->dev->info.driver);
	if (op != LAB_BLK_OP_FLUSH && (rc = check_range(qp, op, offset, len)) < 0)
		return rc;
	r = (struct lab_blk_req){ .op = op, .offset = offset, .range_len = len, .cb = cb,
				  .arg = arg };
	return submit(qp, &r);
}

int lab_blk_flush(struct lab_blk_qpair *qp, lab_blk_cb cb, void *arg)
{
	return no_data_op(qp, LAB_BLK_OP_FLUSH, LAB_BLK_F_FLUSH, 0, 0, cb, arg);
}

int lab_blk_write_zeroes(struct lab_blk_qpair *qp, uint64_t offset, uint64_t len, lab_blk_cb cb,
			 void *arg)
{
	return no_data_op(qp, LAB_BLK_OP_WRITE_ZEROES, LAB_BLK_F_WRITE_ZEROES, offset, len, cb,
			  arg);
}

int lab_blk_discard(struct lab_blk_qpair *qp, uint64_t offset, uint64_t len, lab_blk_cb cb,
		    void *arg)
{
	return no_data_op(qp, LAB_BLK_OP_DISCARD, LAB_BLK_F_DISCARD, offset, len, cb, arg);
}

unsigned int lab_blk_poll(struct lab_blk_qpair *qp, unsigned int max)
{
	return qp->dev->ops->poll(qp, max ? max : UINT32_MAX);
}

uint32_t lab_blk_outstanding(const struct lab_blk_qpair *qp)
{
	return qp->outstanding;
}

uint32_t lab_blk_qpair_depth(const struct lab_blk_qpair *qp)
{
	return qp->depth;
}

void lab_blk_qpair_stats(const struct lab_blk_qpair *qp, struct lab_blk_qpair_stats *st)
{
	*st = qp->st;
}

void lab_blk_info_json(const struct lab_blk_dev *d, FILE *f)
{
	static const char *const fl[] = { "flush", "write_zeroes", "discard", "fixed_bufs",
					  "sqpoll", "iopoll", "direct", "read_only" };
	const struct lab_blk_info *in = &d->info;
	bool first = true;

	fprintf(f, "{\"driver\": \"%s\", \"block_size\": %u, \"block_count\": %llu, "
		"\"max_transfer\": %u, \"mem_align\": %u, \"depth\": %u, \"max_depth\": %u, "
		"\"features\": [", in->driver, in->block_size,
		(unsigned long long)in->block_count, in->max_transfer, in->mem_align, in->depth,
		in->max_depth);
	for (unsigned int i = 0; i < sizeof(fl) / sizeof(fl[0]); i++)
		if (in->flags & (1u << i)) {
			fprintf(f, "%s\"%s\"", first ? "" : ", ", fl[i]);
			first = false;
		}
	fprintf(f, "]}");
}

void lab_blk_pool_opts(const struct lab_blk_dev *d, uint32_t io_size, uint32_t n,
		       struct lab_pool_opts *o)
{
	uint32_t align = d->info.mem_align > LAB_CACHE_LINE ? d->info.mem_align : LAB_CACHE_LINE;

	o->align = align;
	o->headroom = align - LAB_CACHE_LINE;
	o->cell_size = LAB_CACHE_LINE + o->headroom + LAB_ALIGN_UP(io_size, align);
	o->initial = n;
	o->max = n;
	/* A device that maps the pool (virtio_blk) needs it shared, and takes
	 * buffers for its own request headers: n requests' worth, plus one
	 * partly used buffer per queue pair. */
	if (d->pool_shared)
		o->shared = true;
	if (d->pool_req_bytes != 0) {
		uint32_t room = LAB_ALIGN_UP(io_size, align);
		uint32_t per = room / d->pool_req_bytes ? room / d->pool_req_bytes : 1;
		uint32_t qps = d->max_qpairs ? d->max_qpairs : n;

		o->initial = o->max = n + (n + per - 1) / per + (qps < n ? qps : n);
	}
}
