/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * Block devices with poll-mode queue pairs, in the manner of SPDK's NVMe
 * driver: the application owns its queue pairs (one per thread), submits I/O
 * into labyrinth buffers and polls for completions. Nothing here blocks or
 * waits for the device: a submit either queues the request or fails at once
 * (-EINVAL for a bad request, -EAGAIN for a full queue pair), and
 * lab_blk_poll() returns the completions there are.
 *
 * Device strings (as ports have):
 *   uring:path=/dev/loop0,qd=128,sqpoll=1   io_uring on a block device or file
 *   uring:path=disk.img                     (O_DIRECT, fixed buffers by default)
 *   ram:size=256M,block=4096                memory, for tests and as the no-I/O limit
 *   virtio_blk:path=/run/vblk.sock,queues=2 a vhost-user-blk back-end (docs/block.md)
 *
 * Offsets and lengths are in bytes, multiples of the block size. Requests
 * reach the device at the next lab_blk_poll() on their queue pair (submission
 * is batched there, one system call for many requests, none under SQPOLL).
 */
#ifndef LAB_BLK_H
#define LAB_BLK_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include <labyrinth/lab_pool.h>

#ifdef __cplusplus
extern "C" {
#endif

struct lab_blk_dev;
struct lab_blk_qpair;

/** What a device can do (lab_blk_info::flags). */
#define LAB_BLK_F_FLUSH        (1u << 0) /**< flush reaches stable storage */
#define LAB_BLK_F_WRITE_ZEROES (1u << 1) /**< write-zeroes without a data buffer */
#define LAB_BLK_F_DISCARD      (1u << 2) /**< discard (deallocate; reads then give zeroes) */
#define LAB_BLK_F_FIXED_BUFS   (1u << 3) /**< the pool's memory is registered with the kernel */
#define LAB_BLK_F_SQPOLL       (1u << 4) /**< a kernel thread takes submissions (no system call) */
#define LAB_BLK_F_IOPOLL       (1u << 5) /**< completions are polled from the device */
#define LAB_BLK_F_DIRECT       (1u << 6) /**< O_DIRECT: no page cache */
#define LAB_BLK_F_READ_ONLY    (1u << 7) /**< writes are refused */

/** Properties of an open device. */
struct lab_blk_info {
	const char *devstr;    /**< the device string it was opened with */
	const char *driver;    /**< "uring", "ram" */
	uint32_t block_size;   /**< bytes; offsets and lengths are multiples of it */
	uint64_t block_count;  /**< blocks on the device */
	uint32_t max_transfer; /**< bytes one request may move */
	uint32_t mem_align;    /**< a buffer's data must be aligned to this */
	uint32_t max_depth;    /**< requests one queue pair may have outstanding, at most */
	uint32_t depth;        /**< the default depth of a queue pair */
	uint32_t flags;        /**< LAB_BLK_F_* */
};

/** Request kinds. */
enum lab_blk_op {
	LAB_BLK_OP_READ,
	LAB_BLK_OP_WRITE,
	LAB_BLK_OP_FLUSH,
	LAB_BLK_OP_WRITE_ZEROES,
	LAB_BLK_OP_DISCARD,
	LAB_BLK_OPS
};

/** "read", "write", "flush", "write-zeroes", "discard". */
const char *lab_blk_op_name(enum lab_blk_op op);

/**
 * Called from lab_blk_poll() on the queue pair's thread when a request ends.
 * @param status 0, or the request's own -errno (-EIO for a short transfer:
 *               the device or file ended before the request did)
 */
typedef void (*lab_blk_cb)(void *arg, int status);

/** Counters of one queue pair (kept by its thread only). */
struct lab_blk_qpair_stats {
	uint64_t submitted;       /**< requests accepted */
	uint64_t completed;       /**< requests ended (ok or not) */
	uint64_t errors;          /**< requests that ended with an error */
	uint64_t short_io;        /**< of those, short transfers */
	uint64_t invalid;         /**< requests refused at submit with -EINVAL */
	uint64_t busy;            /**< submits refused with -EAGAIN (queue pair full) */
	uint64_t bytes_read;      /**< by completed reads */
	uint64_t bytes_written;   /**< by completed writes */
	uint64_t fixed;           /**< reads and writes into registered buffers */
	uint64_t syscalls;        /**< system calls made by submit and poll */
	uint64_t submit_errors;   /**< failed submissions to the kernel (the requests stayed
				   *   queued and went on a later poll) */
	uint64_t ops[LAB_BLK_OPS]; /**< requests accepted, by kind */
};

/**
 * Open a block device. Control path.
 *
 * @param devstr "driver:key=value,..." (see the file comment and docs/block.md)
 * @return the device, or NULL with lab_errno: EINVAL (bad device string or
 *         key values, named in the message), ENXIO (no such driver: the
 *         message lists the registered ones), ENOENT (no such file),
 *         EACCES, ENOMEM, ENOTSUP (liburing missing, io_uring refused).
 */
struct lab_blk_dev *lab_blk_open(const char *devstr);

/**
 * Whether the driver that @p devstr names ("uring:path=x" names "uring")
 * accepts @p key in its device string: lets an application add a key (as
 * labblk adds "ro=1" for a workload that cannot write) only where it means
 * something. Control path.
 *
 * @return true or false (false also for a driver that is not registered).
 */
bool lab_blk_driver_has_key(const char *devstr, const char *key);

/**
 * Close a device. Control path. Refuses while queue pairs exist.
 * @return 0, -EBUSY (naming how many queue pairs), -EINVAL for NULL.
 */
int lab_blk_close(struct lab_blk_dev *d);

/** The device's properties. */
const struct lab_blk_info *lab_blk_info(const struct lab_blk_dev *d);

/** Bytes on the device (block_size * block_count). */
uint64_t lab_blk_size(const struct lab_blk_dev *d);

/**
 * Make a queue pair. It belongs to the thread that first submits to or polls
 * it; only that thread may use it. Control path.
 *
 * @param depth requests it may have outstanding (0: the device's default;
 *              at most info.max_depth)
 * @param pool  the pool its data buffers come from, or NULL. A fixed pool
 *              (initial = max) has its memory registered with the kernel
 *              once, where the driver can (io_uring fixed buffers); with any
 *              other pool, or NULL, ordinary buffers are used and a notice
 *              says so. Buffers of other pools are accepted too (not by
 *              virtio_blk, whose back-end maps this pool only).
 * @return the queue pair, or NULL with lab_errno EINVAL (depth), ENOMEM, or
 *         the driver's error (virtio_blk: ENOTSUP for a pool that is not
 *         shared, EINVAL for a second pool, EBUSY when every queue of the
 *         device has its queue pair).
 */
struct lab_blk_qpair *lab_blk_qpair_create(struct lab_blk_dev *d, uint32_t depth,
					   struct lab_pool *pool);

/**
 * Destroy a queue pair. Refuses while requests are outstanding (poll them
 * first: nothing is lost or left in the kernel with a buffer).
 * @return 0, -EBUSY (naming how many), -EINVAL for NULL.
 */
int lab_blk_qpair_destroy(struct lab_blk_qpair *qp);

/**
 * Read @p len bytes at byte @p offset into @p buf's data (lab_buf_data()).
 * The buffer stays its owner's; the device writes into it until the callback.
 *
 * @return 0 (the callback will run from lab_blk_poll()); -EINVAL at once,
 *         with a message, for a misaligned buffer, offset or length, a
 *         transfer over max_transfer or the buffer's room, a range past the
 *         end, or a NULL buffer (virtio_blk also: a buffer outside the pool
 *         its back-end maps, a range over the device's own limit); -EAGAIN
 *         at once if the queue pair is full (virtio_blk: or its back-end is
 *         away and reconnect=1 waits for it); -EIO at once when the device
 *         is gone (virtio_blk: its back-end hung up). The callback runs only
 *         for requests that returned 0.
 */
int lab_blk_read(struct lab_blk_qpair *qp, struct lab_buf *buf, uint64_t offset, uint32_t len,
		 lab_blk_cb cb, void *arg);

/** Write @p len bytes from @p buf's data at byte @p offset. As lab_blk_read(),
 * and -EINVAL on a read-only device. */
int lab_blk_write(struct lab_blk_qpair *qp, struct lab_buf *buf, uint64_t offset, uint32_t len,
		  lab_blk_cb cb, void *arg);

/** Make completed writes durable. -EINVAL where the device has no flush. */
int lab_blk_flush(struct lab_blk_qpair *qp, lab_blk_cb cb, void *arg);

/** Zero a range without a buffer. -EINVAL where the device cannot. */
int lab_blk_write_zeroes(struct lab_blk_qpair *qp, uint64_t offset, uint64_t len, lab_blk_cb cb,
			 void *arg);

/** Deallocate a range (it reads as zeroes after). -EINVAL where the device cannot. */
int lab_blk_discard(struct lab_blk_qpair *qp, uint64_t offset, uint64_t len, lab_blk_cb cb,
		    void *arg);

/**
 * Send queued requests to the device and run the callbacks of up to @p max
 * completed ones (0: as many as there are). Never waits for the device.
 *
 * @return completions processed.
 */
unsigned int lab_blk_poll(struct lab_blk_qpair *qp, unsigned int max);

/** Requests submitted and not yet completed. */
uint32_t lab_blk_outstanding(const struct lab_blk_qpair *qp);

/** The queue pair's depth. */
uint32_t lab_blk_qpair_depth(const struct lab_blk_qpair *qp);

/** The queue pair's counters. */
void lab_blk_qpair_stats(const struct lab_blk_qpair *qp, struct lab_blk_qpair_stats *st);

/** Write the device's properties as one JSON object (no newline). */
void lab_blk_info_json(const struct lab_blk_dev *d, FILE *f);

/**
 * Pool options for @p n buffers of @p io_size bytes each, data aligned as the
 * device needs it (cell = header + headroom + data, headroom = mem_align - 64
 * when the alignment is over 64). A fixed pool (initial = max), so its memory
 * can be registered. For a device that maps the pool itself (virtio_blk: a
 * vhost-user back-end) the pool is shared (lab_pool_opts.shared) and holds a
 * few buffers more, for the driver's request headers. Other fields are left
 * as @p o has them.
 */
void lab_blk_pool_opts(const struct lab_blk_dev *d, uint32_t io_size, uint32_t n,
		       struct lab_pool_opts *o);

#ifdef __cplusplus
}
#endif

#endif /* LAB_BLK_H */
