/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The io_uring block driver: one ring per queue pair, on a block device or a
 * regular file, opened O_DIRECT.
 *
 *   uring:path=/dev/loop0,qd=128,sqpoll=1
 *
 * - Fixed buffers: a queue pair made with a fixed pool registers the pool's
 *   memory with its ring once (IORING_REGISTER_BUFFERS, in pieces of at most
 *   1 GiB); reads and writes into it are READ_FIXED / WRITE_FIXED, so the
 *   kernel neither pins nor maps pages per I/O. Buffers outside it (another
 *   pool, a growing pool) use ordinary READ / WRITE; a notice says so once.
 * - The file is registered too (IOSQE_FIXED_FILE) unless regfile=0.
 * - Submission is batched: submit only fills SQEs, poll sends them with one
 *   io_uring_enter; under SQPOLL a kernel thread takes them with no system
 *   call at all while it is awake.
 * - Completion is polled: the ring is created R_DISABLED and enabled by its
 *   first user, single-issuer with deferred task work where the kernel has it
 *   (6.1+), so the kernel posts completions only when the owner asks, and
 *   the TASKRUN flag tells the owner when asking is worth a system call.
 * - IOPOLL (iopoll=1) where the file supports it, checked with one read at
 *   open: otherwise a notice and interrupt-driven completion.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/falloc.h>
#include <linux/fs.h>
#include <linux/stat.h>
#include <liburing.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

#include <labyrinth/lab_fault.h>
#include <labyrinth/lab_blk_driver.h>
#include <labyrinth/lab_log.h>

LAB_LOG_DECLARE(blk);

#define FIXED_CHUNK (1ull << 30) /* the kernel's limit on one registered buffer */
#define CQE_BATCH 64u
/* Polls with requests out and no sign of a completion before poll enters the
 * kernel anyway (a safety net under the TASKRUN flag). */
#define IDLE_ENTER 65536u

struct uring_dev {
	int fd;
	bool sqpoll, iopoll, fixedbufs, regfile;
	uint32_t sqpoll_idle_ms;
	int sqpoll_cpu;
};

struct uring_qp {
	struct io_uring ring;
	bool enabled;      /* the ring was created disabled: its owner enables it */
	bool taskrun_flag; /* the kernel raises IORING_SQ_TASKRUN when it has work for us */
	int fd;            /* 0 (the registered index) or the descriptor */
	uint8_t fd_flags;  /* IOSQE_FIXED_FILE or 0 */
	uintptr_t base;    /* registered memory [base, base + len) */
	size_t len;
	uint32_t idle_polls;
	bool enter_failed; /* a failed io_uring_enter was logged for this queue pair */
};

static const struct lab_devargs_key uring_keys[] = {
	{ "path", "a block device or a regular file (required)" },
	{ "qd", "default queue pair depth, default 128" },
	{ "sqpoll", "1: a kernel thread polls the submission queue (no system call to submit)" },
	{ "sqpoll_idle", "ms the SQPOLL thread spins before sleeping, default 1000" },
	{ "sqpoll_cpu", "CPU to pin the SQPOLL thread to, default none" },
	{ "iopoll", "1: poll the device for completions (needs O_DIRECT and a polled queue)" },
	{ "direct", "0: go through the page cache (default 1: O_DIRECT)" },
	{ "fixedbufs", "0: do not register the pool's memory (default 1)" },
	{ "regfile", "0: do not register the file with the ring (default 1)" },
	{ "block", "block size to present (a multiple of the native one), default the native" },
	{ "max_io", "largest transfer in bytes, default 1M" },
	{ "ro", "1: open read-only" },
	{ NULL, NULL },
};

static int sys_statx(int fd, struct statx *sx)
{
	return (int)syscall(SYS_statx, fd, "", AT_EMPTY_PATH, STATX_BASIC_STATS | STATX_DIOALIGN,
			    sx);
}

/* Whether the block device under it has poll queues (queue/io_poll is 1):
 * without them every polled request fails -EOPNOTSUPP. */
static bool io_poll_queues(uint32_t major, uint32_t minor)
{
	char path[96];
	int c = EOF;

	/* The device's own queue, or its disk's when it is a partition. */
	for (unsigned int i = 0; i < 2 && c == EOF; i++) {
		FILE *f;

		snprintf(path, sizeof(path), "/sys/dev/block/%u:%u/%squeue/io_poll", major, minor,
			 i ? "../" : "");
		f = fopen(path, "r");
		if (f != NULL) {
			c = fgetc(f);
			fclose(f);
		}
	}
	return c == '1';
}

/* Size, native block and buffer alignment of what fd is. */
static int probe_geometry(const char *devstr, const char *path, int fd, bool direct,
			  uint64_t *size, uint32_t *block, uint32_t *align, bool *pollable)
{
	struct statx sx;

	memset(&sx, 0, sizeof(sx));
	if (sys_statx(fd, &sx) < 0) {
		LAB_LOG(ERR, blk, "%s: statx '%s': %s", devstr, path, strerror(errno));
		return -errno;
	}
	if (S_ISBLK(sx.stx_mode)) {
		int lbs = 0;

		if (ioctl(fd, BLKGETSIZE64, size) < 0 || ioctl(fd, BLKSSZGET, &lbs) < 0 || lbs <= 0) {
			LAB_LOG(ERR, blk, "%s: cannot read the size of block device '%s': %s",
				devstr, path, strerror(errno));
			return -EIO;
		}
		*block = (uint32_t)lbs;
		*pollable = io_poll_queues(sx.stx_rdev_major, sx.stx_rdev_minor);
		*align = (sx.stx_mask & STATX_DIOALIGN) && sx.stx_dio_mem_align ?
				 sx.stx_dio_mem_align : (uint32_t)lbs;
	} else if (S_ISREG(sx.stx_mode)) {
		*size = sx.stx_size;
		*pollable = io_poll_queues(sx.stx_dev_major, sx.stx_dev_minor);
		if (direct && (sx.stx_mask & STATX_DIOALIGN) && sx.stx_dio_offset_align) {
			*block = sx.stx_dio_offset_align;
			*align = sx.stx_dio_mem_align;
		} else {
			*block = 512;
			*align = direct ? 512 : 8;
		}
	} else {
		LAB_LOG(ERR, blk, "%s: '%s' is neither a block device nor a regular file", devstr,
			path);
		return -EINVAL;
	}
	if (*align < 8)
		*align = 8;
	return 0;
}

/* The device string's keys. */
struct uring_opts {
	uint64_t qd, sqpoll, idle, cpu, iopoll, direct, fixedbufs, regfile, block, max_io, ro;
};

static int uring_parse(const struct lab_devargs *a, struct uring_opts *o)
{
	if (lab_devargs_u64(a, "qd", 128, 1, 32768, &o->qd) < 0 ||
	    lab_devargs_u64(a, "sqpoll", 0, 0, 1, &o->sqpoll) < 0 ||
	    lab_devargs_u64(a, "sqpoll_idle", 1000, 1, 60000, &o->idle) < 0 ||
	    lab_devargs_u64(a, "sqpoll_cpu", UINT32_MAX, 0, UINT32_MAX, &o->cpu) < 0 ||
	    lab_devargs_u64(a, "iopoll", 0, 0, 1, &o->iopoll) < 0 ||
	    lab_devargs_u64(a, "direct", 1, 0, 1, &o->direct) < 0 ||
	    lab_devargs_u64(a, "fixedbufs", 1, 0, 1, &o->fixedbufs) < 0 ||
	    lab_devargs_u64(a, "regfile", 1, 0, 1, &o->regfile) < 0 ||
	    lab_devargs_u64(a, "block", 0, 0, 65536, &o->block) < 0 ||
	    lab_devargs_u64(a, "max_io", 1u << 20, 512, 1u << 30, &o->max_io) < 0 ||
	    lab_devargs_u64(a, "ro", 0, 0, 1, &o->ro) < 0)
		return -EINVAL;
	return 0;
}

/* Open @p path as asked; O_DIRECT falls back to the page cache (with a
 * notice) where the file system has no direct I/O. @return fd or -errno. */
static int uring_open_file(const char *devstr, const char *path, struct uring_opts *o)
{
	int flags = (o->ro ? O_RDONLY : O_RDWR) | O_CLOEXEC | (o->direct ? O_DIRECT : 0);
	int fd = open(path, flags);

	if (fd < 0 && errno == EINVAL && o->direct) {
		LAB_LOG(NOTICE, blk, "%s: '%s' cannot be opened O_DIRECT (its file system has no "
			"direct I/O): using the page cache", devstr, path);
		o->direct = 0;
		fd = open(path, flags & ~O_DIRECT);
	}
	if (fd < 0) {
		int rc = -errno;

		LAB_LOG(ERR, blk, "%s: cannot open '%s' %s: %s", devstr, path,
			o->ro ? "read-only" : "read-write", strerror(errno));
		return rc;
	}
	return fd;
}

/* The block size asked for against the device's, max_io against it, and
 * iopoll where it cannot work (dropped, with a notice). */
static int uring_settle(const char *devstr, const char *path, struct uring_opts *o,
			uint32_t *nblock, bool pollable)
{
	if (o->block != 0) {
		if (!LAB_IS_POW2(o->block) || o->block % *nblock != 0) {
			LAB_LOG(ERR, blk, "%s: block %llu must be a power of two and a multiple of "
				"the native block size %u of '%s'", devstr,
				(unsigned long long)o->block, *nblock, path);
			return -EINVAL;
		}
		*nblock = (uint32_t)o->block;
	}
	if (o->max_io % *nblock != 0) {
		LAB_LOG(ERR, blk, "%s: max_io %llu is not a multiple of the block size %u",
			devstr, (unsigned long long)o->max_io, *nblock);
		return -EINVAL;
	}
	if (o->iopoll && !o->direct) {
		LAB_LOG(NOTICE, blk, "%s: iopoll needs O_DIRECT: completions are not polled",
			devstr);
		o->iopoll = 0;
	}
	if (o->iopoll && !pollable) {
		LAB_LOG(NOTICE, blk, "%s: the block device under '%s' has no poll queues "
			"(queue/io_poll is 0): completions are interrupt-driven, not polled",
			devstr, path);
		o->iopoll = 0;
	}
	return 0;
}

static int uring_open(struct lab_blk_dev *d, const struct lab_devargs *a)
{
	const char *path = lab_devargs_get(a, "path");
	uint32_t nblock = 0, align = 0;
	struct uring_opts o;
	uint64_t size = 0;
	bool pollable = false;
	struct uring_dev *ud = NULL;
	struct io_uring probe;
	int fd, rc;

	if (path == NULL) {
		LAB_LOG(ERR, blk, "%s: key 'path' is required (a block device or a file)",
			a->devstr);
		return -EINVAL;
	}
	if (uring_parse(a, &o) < 0)
		return -EINVAL;
	/* io_uring may be missing or disabled (kernel.io_uring_disabled). */
	rc = io_uring_queue_init(2, &probe, 0);
	if (rc < 0) {
		LAB_LOG(ERR, blk, "%s: io_uring is not available here: %s", a->devstr,
			strerror(-rc));
		return -ENOTSUP;
	}
	io_uring_queue_exit(&probe);
	fd = uring_open_file(a->devstr, path, &o);
	if (fd < 0)
		return fd;
	rc = probe_geometry(a->devstr, path, fd, o.direct, &size, &nblock, &align, &pollable);
	if (rc == 0)
		rc = uring_settle(a->devstr, path, &o, &nblock, pollable);
	if (rc == 0 && (ud = calloc(1, sizeof(*ud))) == NULL)
		rc = -ENOMEM;
	if (rc < 0) {
		close(fd);
		return rc;
	}
	ud->fd = fd;
	ud->sqpoll = o.sqpoll;
	ud->sqpoll_idle_ms = (uint32_t)o.idle;
	ud->sqpoll_cpu = o.cpu == UINT32_MAX ? -1 : (int)o.cpu;
	ud->iopoll = o.iopoll;
	ud->fixedbufs = o.fixedbufs;
	ud->regfile = o.regfile;
	d->drv = ud;
	d->info.block_size = nblock;
	d->info.block_count = size / nblock;
	d->info.max_transfer = (uint32_t)o.max_io;
	d->info.mem_align = align;
	d->info.max_depth = 32768;
	d->info.depth = (uint32_t)o.qd;
	/* An IOPOLL ring takes reads and writes only. */
	d->info.flags = (o.iopoll ? LAB_BLK_F_IOPOLL :
				    LAB_BLK_F_FLUSH | LAB_BLK_F_WRITE_ZEROES | LAB_BLK_F_DISCARD) |
			(o.sqpoll ? LAB_BLK_F_SQPOLL : 0) | (o.direct ? LAB_BLK_F_DIRECT : 0) |
			(o.ro ? LAB_BLK_F_READ_ONLY : 0);
	return 0;
}

static void uring_close(struct lab_blk_dev *d)
{
	struct uring_dev *ud = d->drv;

	close(ud->fd);
	free(ud);
}

/* Create the ring with the best flags this kernel takes. */
static int ring_init(struct lab_blk_qpair *qp, struct uring_qp *q)
{
	struct uring_dev *ud = qp->dev->drv;
	static const unsigned int tries[] = {
		IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN | IORING_SETUP_TASKRUN_FLAG,
		IORING_SETUP_COOP_TASKRUN | IORING_SETUP_TASKRUN_FLAG,
		0,
	};
	struct io_uring_params p;
	int rc = -EINVAL;

	for (unsigned int i = 0; i < sizeof(tries) / sizeof(tries[0]); i++) {
		memset(&p, 0, sizeof(p));
		p.flags = IORING_SETUP_R_DISABLED | IORING_SETUP_CQSIZE |
			  (ud->iopoll ? IORING_SETUP_IOPOLL : 0);
		p.cq_entries = 2 * qp->depth;
		if (ud->sqpoll) {
			/* Task work runs on the SQPOLL thread: no deferral flags. */
			p.flags |= IORING_SETUP_SQPOLL;
			p.sq_thread_idle = ud->sqpoll_idle_ms;
			if (ud->sqpoll_cpu >= 0) {
				p.flags |= IORING_SETUP_SQ_AFF;
				p.sq_thread_cpu = (uint32_t)ud->sqpoll_cpu;
			}
			i = sizeof(tries) / sizeof(tries[0]) - 1;
		}
		p.flags |= tries[i];
		rc = io_uring_queue_init_params(qp->depth, &q->ring, &p);
		if (rc == 0) {
			q->taskrun_flag = (p.flags & IORING_SETUP_TASKRUN_FLAG) != 0;
			return 0;
		}
		if (rc != -EINVAL)
			break;
	}
	LAB_LOG(ERR, blk, "%s: io_uring with %u entries%s refused: %s", qp->dev->devstr,
		qp->depth, ud->sqpoll ? " and SQPOLL" : "", strerror(-rc));
	return rc;
}

/* Register the pool's memory, or say once why not. */
static void register_pool(struct lab_blk_qpair *qp, struct uring_qp *q)
{
	struct lab_blk_dev *d = qp->dev;
	struct uring_dev *ud = d->drv;
	struct iovec iov[64];
	const char *why = NULL;
	void *base;
	size_t len;
	unsigned int n = 0;
	int rc;

	if (!ud->fixedbufs)
		why = "fixedbufs=0";
	else if (qp->pool == NULL)
		why = "the queue pair was made without a pool";
	else if (lab_pool_memory(qp->pool, &base, &len) < 0)
		why = "the pool can grow or shrink (make it fixed: initial = max)";
	else if (len > FIXED_CHUNK * (sizeof(iov) / sizeof(iov[0])))
		why = "the pool is over 64 GiB";
	if (why == NULL) {
		for (size_t o = 0; o < len; o += FIXED_CHUNK, n++) {
			iov[n].iov_base = (char *)base + o;
			iov[n].iov_len = len - o < FIXED_CHUNK ? len - o : FIXED_CHUNK;
		}
		rc = io_uring_register_buffers(&q->ring, iov, n);
		if (rc == 0) {
			q->base = (uintptr_t)base;
			q->len = len;
			d->info.flags |= LAB_BLK_F_FIXED_BUFS;
			return;
		}
		why = strerror(-rc);
	}
	if (!d->notice_given) {
		LAB_LOG(NOTICE, blk, "%s: pool memory not registered with io_uring (%s): ordinary "
			"buffers, pinned by the kernel for each I/O", d->devstr, why);
		d->notice_given = true;
	}
}

static int uring_qpair_create(struct lab_blk_qpair *qp)
{
	struct uring_dev *ud = qp->dev->drv;
	struct uring_qp *q;
	int rc;

	q = calloc(1, sizeof(*q));
	if (q == NULL)
		return -ENOMEM;
	rc = ring_init(qp, q);
	if (rc < 0) {
		free(q);
		return rc;
	}
	register_pool(qp, q);
	q->fd = ud->fd;
	if (ud->regfile) {
		rc = io_uring_register_files(&q->ring, &ud->fd, 1);
		if (rc == 0) {
			q->fd = 0;
			q->fd_flags = IOSQE_FIXED_FILE;
		} else {
			LAB_LOG(NOTICE, blk, "%s: file not registered with io_uring: %s",
				qp->dev->devstr, strerror(-rc));
		}
	}
	qp->drv = q;
	return 0;
}

static void uring_qpair_destroy(struct lab_blk_qpair *qp)
{
	struct uring_qp *q = qp->drv;

	io_uring_queue_exit(&q->ring);
	free(q);
}

/* The owner's first use enables the ring (single issuer: this thread). */
static inline void ring_enable(struct lab_blk_qpair *qp, struct uring_qp *q)
{
	if (lab_unlikely(!q->enabled)) {
		/* liburing 2.3 declares io_uring_enable_rings() but does not export it. */
		syscall(__NR_io_uring_register, q->ring.ring_fd, IORING_REGISTER_ENABLE_RINGS,
			NULL, 0);
		q->enabled = true;
		qp->st.syscalls++;
	}
}

static int uring_submit(struct lab_blk_qpair *qp, struct lab_blk_req *req)
{
	struct uring_qp *q = qp->drv;
	struct io_uring_sqe *sqe;
	uintptr_t data = (uintptr_t)req->data;
	bool fixed = data - q->base < q->len && data + req->len - q->base <= q->len;

	ring_enable(qp, q);
	sqe = io_uring_get_sqe(&q->ring);
	if (lab_unlikely(sqe == NULL))
		return -EAGAIN; /* cannot happen: SQ entries >= depth >= outstanding */
	switch (req->op) {
	case LAB_BLK_OP_READ:
		if (fixed)
			io_uring_prep_read_fixed(sqe, q->fd, req->data, req->len, req->offset,
						 (int)((data - q->base) / FIXED_CHUNK));
		else
			io_uring_prep_read(sqe, q->fd, req->data, req->len, req->offset);
		break;
	case LAB_BLK_OP_WRITE:
		if (fixed)
			io_uring_prep_write_fixed(sqe, q->fd, req->data, req->len, req->offset,
						  (int)((data - q->base) / FIXED_CHUNK));
		else
			io_uring_prep_write(sqe, q->fd, req->data, req->len, req->offset);
		break;
	case LAB_BLK_OP_FLUSH:
		io_uring_prep_fsync(sqe, q->fd, IORING_FSYNC_DATASYNC);
		break;
	case LAB_BLK_OP_WRITE_ZEROES:
		io_uring_prep_fallocate(sqe, q->fd, FALLOC_FL_ZERO_RANGE | FALLOC_FL_KEEP_SIZE,
					(off_t)req->offset, (off_t)req->range_len);
		break;
	case LAB_BLK_OP_DISCARD:
		io_uring_prep_fallocate(sqe, q->fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
					(off_t)req->offset, (off_t)req->range_len);
		break;
	default:
		return -EINVAL;
	}
	if (fixed && (req->op == LAB_BLK_OP_READ || req->op == LAB_BLK_OP_WRITE))
		qp->st.fixed++;
	sqe->flags |= q->fd_flags;
	io_uring_sqe_set_data(sqe, req);
	return 0;
}

/*
 * Send the queued SQEs (and, without SQPOLL, reap). A failed io_uring_enter
 * (-EAGAIN/-EBUSY when the kernel is short of memory or has too many
 * completions waiting, -EINTR) loses nothing: the SQEs stay in the ring and
 * go on a later poll. It is counted, and logged once per queue pair.
 */
static void ring_enter(struct lab_blk_qpair *qp, struct uring_qp *q, bool sqpoll)
{
	int rc;

	if (LAB_FAULT(LAB_FAULT_URING_SUBMIT))
		rc = -EAGAIN;
	else if (sqpoll)
		rc = io_uring_submit(&q->ring);
	else
		rc = io_uring_submit_and_get_events(&q->ring);
	if (lab_likely(rc >= 0))
		return;
	qp->st.submit_errors++;
	if (!q->enter_failed) {
		q->enter_failed = true;
		LAB_LOG(WARNING, blk, "%s: io_uring_enter failed: %s (requests stay queued and "
			"are sent on a later poll; counted in submit_errors)", qp->dev->devstr,
			strerror(-rc));
	}
}

static unsigned int uring_poll(struct lab_blk_qpair *qp, unsigned int max)
{
	struct uring_dev *ud = qp->dev->drv;
	struct uring_qp *q = qp->drv;
	struct io_uring_cqe *cqes[CQE_BATCH];
	struct {
		struct lab_blk_req *req;
		int res;
	} done[CQE_BATCH];
	unsigned int pending, got, total = 0;
	bool enter;

	ring_enable(qp, q);
	pending = io_uring_sq_ready(&q->ring);
	enter = pending != 0;
	if (ud->sqpoll) {
		/* The kernel thread takes them, and completes them; liburing
		 * enters only to wake the thread when it sleeps. */
		if (pending != 0) {
			if (IO_URING_READ_ONCE(*q->ring.sq.kflags) & IORING_SQ_NEED_WAKEUP)
				qp->st.syscalls++;
			ring_enter(qp, q, true);
		}
		enter = false;
	} else if (qp->outstanding > pending) {
		/* Requests in the kernel: is there completion work for us? */
		if (ud->iopoll || !q->taskrun_flag)
			enter = true;
		else if (IO_URING_READ_ONCE(*q->ring.sq.kflags) &
			 (IORING_SQ_TASKRUN | IORING_SQ_CQ_OVERFLOW))
			enter = true;
		else if (++q->idle_polls >= IDLE_ENTER)
			enter = true;
	}
	if (enter) {
		ring_enter(qp, q, false);
		qp->st.syscalls++;
		q->idle_polls = 0;
	}
	while (total < max) {
		unsigned int want = max - total < CQE_BATCH ? max - total : CQE_BATCH;

		got = io_uring_peek_batch_cqe(&q->ring, cqes, want);
		if (got == 0)
			break;
		for (unsigned int i = 0; i < got; i++) {
			done[i].req = io_uring_cqe_get_data(cqes[i]);
			done[i].res = cqes[i]->res;
		}
		io_uring_cq_advance(&q->ring, got);
		/* Callbacks may submit: the CQ is already given back. */
		for (unsigned int i = 0; i < got; i++)
			lab_blk_req_done(qp, done[i].req, done[i].res);
		total += got;
		q->idle_polls = 0;
		if (got < want)
			break;
	}
	return total;
}

static const struct lab_blk_ops uring_ops = {
	.name = "uring",
	.keys = uring_keys,
	.open = uring_open,
	.close = uring_close,
	.qpair_create = uring_qpair_create,
	.qpair_destroy = uring_qpair_destroy,
	.submit = uring_submit,
	.poll = uring_poll,
};

LAB_BLK_DRIVER_REGISTER(uring_ops);
