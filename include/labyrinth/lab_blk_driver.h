/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * The driver side of block devices: a const ops table and one registration
 * line, into the registry that port drivers use too (lab_driver.h). lib/blk
 * checks every request before the driver sees it (alignment, range, size,
 * queue depth), so a driver's submit only queues, and its poll reports each
 * completion with lab_blk_req_done().
 */
#ifndef LAB_BLK_DRIVER_H
#define LAB_BLK_DRIVER_H

#include <errno.h>
#include <pthread.h>

#include <labyrinth/lab_blk.h>
#include <labyrinth/lab_devargs.h>
#include <labyrinth/lab_driver.h>

#ifdef __cplusplus
extern "C" {
#endif

/** One request, owned by its queue pair (an array of depth of them). */
struct lab_blk_req {
	enum lab_blk_op op;
	uint32_t len;         /**< bytes (reads and writes; ranges: see range_len) */
	uint64_t offset;      /**< bytes */
	uint64_t range_len;   /**< write-zeroes and discard: bytes */
	void *data;           /**< reads and writes: lab_buf_data() of the buffer */
	struct lab_buf *buf;  /**< the buffer */
	lab_blk_cb cb;
	void *arg;
	struct lab_blk_req *next_free;
};

/** A device: public properties, then the driver's state. */
struct lab_blk_dev {
	struct lab_blk_info info;
	const struct lab_blk_ops *ops;
	struct lab_devargs args;
	char *devstr;
	void *drv;          /**< the driver's (set by open, freed by close) */
	unsigned int nb_qpairs; /**< under qp_lock */
	pthread_mutex_t qp_lock; /**< queue pair create/destroy, from any thread */
	bool notice_given;  /**< for drivers: a once-per-device notice was logged */
	/* Set by open, for lab_blk_pool_opts(): */
	bool pool_shared;        /**< the device maps the pool (vhost-user): make it shared */
	uint32_t pool_req_bytes; /**< pool memory the driver takes per request for itself
				  *   (virtio_blk: header and status), in whole buffers
				  *   per queue pair */
	uint32_t max_qpairs;     /**< queue pairs that may exist at once (0: no limit) */
};

/** A queue pair. */
struct lab_blk_qpair {
	struct lab_blk_dev *dev;
	struct lab_pool *pool;
	void *drv;          /**< the driver's (set by qpair_create) */
	uint32_t depth;
	uint32_t outstanding;
	struct lab_blk_req *free_reqs;
	struct lab_blk_qpair_stats st;
	struct lab_blk_req reqs[];
};

/** Driver callbacks; all required. */
struct lab_blk_ops {
	const char *name;
	const struct lab_devargs_key *keys; /**< accepted keys, ending with { NULL, NULL } */
	/** Parse @p a, open the device, fill d->info (block_size, block_count,
	 * max_transfer, mem_align, max_depth, depth, flags) and d->drv.
	 * @return 0 or -errno with a log line; on error close is not called. */
	int (*open)(struct lab_blk_dev *d, const struct lab_devargs *a);
	void (*close)(struct lab_blk_dev *d);
	/** qp->depth and qp->pool are set. @return 0 or -errno (with a log line). */
	int (*qpair_create)(struct lab_blk_qpair *qp);
	/** Called with nothing outstanding. */
	void (*qpair_destroy)(struct lab_blk_qpair *qp);
	/** Queue a checked request. @return 0, or -errno: the request is not
	 * taken (-EAGAIN: no room now; the caller gets it back). */
	int (*submit)(struct lab_blk_qpair *qp, struct lab_blk_req *req);
	/** Send what is queued; report up to @p max completions with
	 * lab_blk_req_done(). @return completions reported. */
	unsigned int (*poll)(struct lab_blk_qpair *qp, unsigned int max);
};

/**
 * End request @p req with @p res: the bytes transferred (>= 0) or -errno.
 * Counts it, runs its callback (0 when a read or write moved every byte,
 * -EIO for a short one, else the error) and returns the request to the free
 * list. The driver calls it from its poll.
 */
static inline void lab_blk_req_done(struct lab_blk_qpair *qp, struct lab_blk_req *req, int64_t res)
{
	lab_blk_cb cb = req->cb;
	void *arg = req->arg;
	int status = 0;

	qp->st.completed++;
	if (res < 0) {
		status = (int)res;
	} else if (req->op == LAB_BLK_OP_READ || req->op == LAB_BLK_OP_WRITE) {
		if ((uint64_t)res < req->len) {
			status = -EIO;
			qp->st.short_io++;
		}
		if (req->op == LAB_BLK_OP_READ)
			qp->st.bytes_read += (uint64_t)res;
		else
			qp->st.bytes_written += (uint64_t)res;
	}
	if (status < 0)
		qp->st.errors++;
	req->next_free = qp->free_reqs;
	qp->free_reqs = req;
	qp->outstanding--;
	cb(arg, status);
}

/**
 * Register a driver in the block registry (lab_driver.h).
 * @return 0, -EINVAL (incomplete table: the missing callback is named in the
 *         log), -EEXIST (the name is taken), -ENOSPC (the registry is full).
 */
int lab_blk_driver_register(const struct lab_blk_ops *ops);

/** Register @p ops when the program starts. */
#define LAB_BLK_DRIVER_REGISTER(ops) LAB_DRIVER_REGISTER(lab_blk_driver_register, ops)

/** The registry of block drivers: lookups and the list of names. */
const struct lab_driver_registry *lab_blk_drivers(void);

#ifdef __cplusplus
}
#endif

#endif /* LAB_BLK_DRIVER_H */
