/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Suite blk: block devices and queue pairs on the ram and uring drivers.
 * Device strings and their errors; properties; read, write, flush,
 * write-zeroes and discard round trips; every bad request refused at submit
 * with -EINVAL and a message; a full queue pair refused with -EAGAIN at once;
 * per-I/O errors from a file cut short behind the device's back and from a
 * closed descriptor; and after each, every pool buffer accounted for.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <labyrinth/lab_blk.h>
#include <labyrinth/lab_log.h>
#include <labyrinth/lab_pool.h>

#include "../lab_test.h"
#include "blk_helpers.h"
#include "blk_test_helpers.h"

static char dir[PATH_MAX];

/* Completion bookkeeping for one test. */
struct done {
	unsigned int n;
	int last;
	unsigned int errors;
	int statuses[256];
};

static void on_done(void *arg, int status)
{
	struct done *d = arg;

	if (d->n < 256)
		d->statuses[d->n] = status;
	d->n++;
	d->last = status;
	if (status < 0)
		d->errors++;
}

/* Poll until @p want completions or a generous bound (never blocks: the
 * device is fast; the bound only keeps a broken driver from hanging the suite). */
static void poll_until(struct lab_blk_qpair *qp, struct done *d, unsigned int want)
{
	struct timespec t0, t;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (unsigned long i = 0; d->n < want; i++) {
		lab_blk_poll(qp, 0);
		clock_gettime(CLOCK_MONOTONIC, &t);
		if (t.tv_sec - t0.tv_sec > 30)
			break;
		if (i > 1000)
			usleep(10);
	}
	CU_ASSERT_EQUAL(d->n, want);
}

static int all_zero(const struct lab_buf *b, uint32_t len)
{
	const uint8_t *p = lab_buf_data(b);

	for (uint32_t i = 0; i < len; i++)
		if (p[i] != 0)
			return -1;
	return 0;
}

static char *mkfile(const char *name, size_t size)
{
	static char path[PATH_MAX + 64];
	int fd;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
	CU_ASSERT_FATAL(fd >= 0);
	CU_ASSERT_FATAL(ftruncate(fd, (off_t)size) == 0);
	close(fd);
	return path;
}

static void test_device_string_errors(void)
{
	char ds[2 * PATH_MAX];

	expect_open_error("", EINVAL, "empty device string");
	expect_open_error("nvme:x=1", ENXIO, "unknown driver 'nvme'; registered: "
			  "ram, uring");
	expect_open_error("ram:speed=9", EINVAL, "unknown key 'speed' for driver 'ram'");
	expect_open_error("ram:block=1000", EINVAL, "must be powers of two");
	expect_open_error("ram:size=10000", EINVAL, "must be multiples of the block size");
	expect_open_error("ram:size=lots", EINVAL, "key 'size' = 'lots'");
	expect_open_error("uring:qd=8", EINVAL, "key 'path' is required");
	snprintf(ds, sizeof(ds), "uring:path=%s/absent.img", dir);
	expect_open_error(ds, ENOENT, "cannot open");
	expect_open_error("uring:path=/dev/null", EINVAL, "neither a block device nor a regular "
			  "file");
	snprintf(ds, sizeof(ds), "uring:path=%s,block=1000", mkfile("geom.img", 1 << 20));
	expect_open_error(ds, EINVAL, "must be a power of two and a multiple of the native");
}

static void test_ram_properties(void)
{
	struct lab_blk_dev *d = lab_blk_open("ram:size=8M,block=4096,align=4096,max_io=64K");
	const struct lab_blk_info *in;
	char json[512];
	FILE *f;

	CU_ASSERT_PTR_NOT_NULL_FATAL(d);
	in = lab_blk_info(d);
	CU_ASSERT_STRING_EQUAL(in->driver, "ram");
	CU_ASSERT_EQUAL(in->block_size, 4096);
	CU_ASSERT_EQUAL(in->block_count, 2048);
	CU_ASSERT_EQUAL(in->max_transfer, 65536);
	CU_ASSERT_EQUAL(in->mem_align, 4096);
	CU_ASSERT_EQUAL(lab_blk_size(d), 8u << 20);
	CU_ASSERT(in->flags & LAB_BLK_F_FLUSH);
	CU_ASSERT(in->flags & LAB_BLK_F_DISCARD);
	f = fmemopen(json, sizeof(json), "w");
	lab_blk_info_json(d, f);
	fclose(f);
	CU_ASSERT_PTR_NOT_NULL(strstr(json, "\"block_size\": 4096, \"block_count\": 2048"));
	CU_ASSERT_PTR_NOT_NULL(strstr(json, "\"flush\", \"write_zeroes\", \"discard\""));
	CU_ASSERT_EQUAL(lab_blk_close(d), 0);
}

/* Write, flush, read back, zero, discard: the same on any device. */
static void roundtrip(const char *devstr, uint32_t io, unsigned int nbuf, bool want_fixed)
{
	struct lab_blk_dev *d = lab_blk_open(devstr);
	struct lab_blk_qpair_stats st;
	struct lab_blk_qpair *qp;
	struct lab_buf *bufs[64];
	struct lab_cache *c;
	struct lab_pool *p;
	struct done dn = { 0 };
	uint64_t sys0;
	bool ranges;

	CU_ASSERT_PTR_NOT_NULL_FATAL(d);
	/* An IOPOLL ring takes reads and writes only. */
	ranges = (lab_blk_info(d)->flags & LAB_BLK_F_FLUSH) != 0;
	CU_ASSERT_FATAL(nbuf <= 64 && (uint64_t)nbuf * io <= lab_blk_size(d));
	p = blk_pool(d, io, 64);
	CU_ASSERT_PTR_NOT_NULL_FATAL(p);
	c = lab_cache_create(p, "io", 64);
	qp = lab_blk_qpair_create(d, 32, p);
	CU_ASSERT_PTR_NOT_NULL_FATAL(qp);
	CU_ASSERT_EQUAL(lab_pool_data_room(p) % lab_blk_info(d)->mem_align, 0);
	CU_ASSERT_EQUAL_FATAL(lab_alloc_bulk(p, c, bufs, nbuf, 0), nbuf);
	for (unsigned int i = 0; i < nbuf; i++) {
		fill(bufs[i], io, i + 1);
		/* Beyond the depth the queue pair refuses: poll, retry. */
		while (lab_blk_write(qp, bufs[i], (uint64_t)i * io, io, on_done, &dn) == -EAGAIN)
			lab_blk_poll(qp, 0);
	}
	/* Batched: the queued writes go with one system call at most. (A count
	 * over the whole test also holds the enters that reap completions, one
	 * per completion when they trickle in, as under ASan: timing, not
	 * batching, so not asserted.) */
	lab_blk_qpair_stats(qp, &st);
	sys0 = st.syscalls;
	lab_blk_poll(qp, 0);
	lab_blk_qpair_stats(qp, &st);
	if (want_fixed && nbuf <= 32)
		CU_ASSERT(st.syscalls - sys0 <= 1);
	poll_until(qp, &dn, nbuf);
	CU_ASSERT_EQUAL(dn.errors, 0);
	CU_ASSERT_EQUAL(lab_blk_flush(qp, on_done, &dn), ranges ? 0 : -EINVAL);
	if (!ranges)
		dn.n++;
	poll_until(qp, &dn, nbuf + 1);
	for (unsigned int i = 0; i < nbuf; i++)
		memset(lab_buf_data(bufs[i]), 0xee, io);
	for (unsigned int i = 0; i < nbuf; i++)
		while (lab_blk_read(qp, bufs[i], (uint64_t)i * io, io, on_done, &dn) == -EAGAIN)
			lab_blk_poll(qp, 0);
	poll_until(qp, &dn, 2 * nbuf + 1);
	CU_ASSERT_EQUAL(dn.errors, 0);
	for (unsigned int i = 0; i < nbuf; i++)
		CU_ASSERT_EQUAL(check_fill(bufs[i], io, i + 1), 0);
	if (!ranges)
		goto out;
	/* Zero the first buffer's range, discard the second's: both read as zeroes. */
	CU_ASSERT_EQUAL(lab_blk_write_zeroes(qp, 0, io, on_done, &dn), 0);
	CU_ASSERT_EQUAL(lab_blk_discard(qp, io, io, on_done, &dn), 0);
	poll_until(qp, &dn, 2 * nbuf + 3);
	CU_ASSERT_EQUAL(dn.errors, 0);
	CU_ASSERT_EQUAL(lab_blk_read(qp, bufs[0], 0, io, on_done, &dn), 0);
	CU_ASSERT_EQUAL(lab_blk_read(qp, bufs[1], io, io, on_done, &dn), 0);
	poll_until(qp, &dn, 2 * nbuf + 5);
	CU_ASSERT_EQUAL(all_zero(bufs[0], io), 0);
	CU_ASSERT_EQUAL(all_zero(bufs[1], io), 0);
	CU_ASSERT_EQUAL(check_fill(bufs[2], io, 3), 0);

	lab_blk_qpair_stats(qp, &st);
	CU_ASSERT_EQUAL(st.submitted, 2 * nbuf + 5);
	CU_ASSERT_EQUAL(st.completed, st.submitted);
	CU_ASSERT_EQUAL(st.errors, 0);
	CU_ASSERT_EQUAL(st.bytes_written, (uint64_t)nbuf * io);
	CU_ASSERT_EQUAL(st.bytes_read, (uint64_t)(nbuf + 2) * io);
	CU_ASSERT_EQUAL(st.ops[LAB_BLK_OP_FLUSH], 1);
	CU_ASSERT_EQUAL(st.ops[LAB_BLK_OP_DISCARD], 1);
	if (want_fixed) {
		CU_ASSERT(lab_blk_info(d)->flags & LAB_BLK_F_FIXED_BUFS);
		CU_ASSERT_EQUAL(st.fixed, 2 * nbuf + 2);
	}
out:
	lab_free_bulk(c, bufs, nbuf);
	CU_ASSERT_EQUAL(lab_blk_outstanding(qp), 0);
	CU_ASSERT_EQUAL(lab_blk_qpair_destroy(qp), 0);
	CU_ASSERT_EQUAL(lab_blk_close(d), 0);
	lab_cache_destroy(c);
	pool_quiet(p);
}

static void test_ram_roundtrip(void)
{
	roundtrip("ram:size=4M,block=512,align=512", 4096, 48, false);
}

static void test_uring_file_roundtrip(void)
{
	char ds[2 * PATH_MAX];

	snprintf(ds, sizeof(ds), "uring:path=%s,qd=32", mkfile("rt.img", 4 << 20));
	roundtrip(ds, 4096, 48, true);
	snprintf(ds, sizeof(ds), "uring:path=%s,qd=32", mkfile("rt128.img", 16 << 20));
	roundtrip(ds, 128 << 10, 8, true);
}

static void test_uring_variants(void)
{
	char ds[2 * PATH_MAX];
	const char *f = mkfile("var.img", 4 << 20);
	struct lab_blk_dev *d;
	bool iopoll_ok;

	/* The page cache, no registered file, SQPOLL. */
	snprintf(ds, sizeof(ds), "uring:path=%s,direct=0", f);
	roundtrip(ds, 4096, 16, true);
	snprintf(ds, sizeof(ds), "uring:path=%s,regfile=0", f);
	roundtrip(ds, 4096, 16, true);
	snprintf(ds, sizeof(ds), "uring:path=%s,sqpoll=1,sqpoll_idle=10", f);
	roundtrip(ds, 4096, 16, true);
	/* Polled completions where the file supports them; else a notice, and it
	 * works interrupt-driven. */
	snprintf(ds, sizeof(ds), "uring:path=%s,iopoll=1", f);
	lab_test_log_capture();
	roundtrip(ds, 4096, 16, true);
	iopoll_ok = strstr(lab_test_log_text(), "has no poll queues") == NULL;
	d = lab_blk_open(ds);
	lab_test_log_release();
	CU_ASSERT_PTR_NOT_NULL_FATAL(d);
	CU_ASSERT_EQUAL(!!(lab_blk_info(d)->flags & LAB_BLK_F_IOPOLL), iopoll_ok);
	lab_blk_close(d);
	/* Without O_DIRECT there is nothing to poll. */
	snprintf(ds, sizeof(ds), "uring:path=%s,iopoll=1,direct=0", f);
	lab_test_log_capture();
	d = lab_blk_open(ds);
	CU_ASSERT_PTR_NOT_NULL(strstr(lab_test_log_text(), "iopoll needs O_DIRECT"));
	lab_test_log_release();
	CU_ASSERT_PTR_NOT_NULL_FATAL(d);
	CU_ASSERT_FALSE(lab_blk_info(d)->flags & LAB_BLK_F_IOPOLL);
	lab_blk_close(d);
}

/* A pool that can grow cannot be registered: ordinary buffers, a notice. */
static void test_uring_growing_pool_falls_back(void)
{
	char ds[2 * PATH_MAX];
	struct lab_blk_qpair_stats st;
	struct lab_blk_qpair *qp;
	struct lab_pool_opts o;
	struct lab_blk_dev *d;
	struct lab_buf *b;
	struct lab_pool *p;
	struct done dn = { 0 };

	snprintf(ds, sizeof(ds), "uring:path=%s", mkfile("grow.img", 1 << 20));
	d = lab_blk_open(ds);
	CU_ASSERT_PTR_NOT_NULL_FATAL(d);
	blk_pool_opts(d, 4096, 64, &o);
	o.max = 4096;
	p = lab_pool_create(&o);
	CU_ASSERT_PTR_NOT_NULL_FATAL(p);
	lab_test_log_capture();
	qp = lab_blk_qpair_create(d, 8, p);
	CU_ASSERT_PTR_NOT_NULL(strstr(lab_test_log_text(), "pool memory not registered with "
				      "io_uring (the pool can grow or shrink"));
	lab_test_log_release();
	CU_ASSERT_PTR_NOT_NULL_FATAL(qp);
	CU_ASSERT_FALSE(lab_blk_info(d)->flags & LAB_BLK_F_FIXED_BUFS);
	b = lab_alloc(p, NULL);
	fill(b, 4096, 9);
	CU_ASSERT_EQUAL(lab_blk_write(qp, b, 8192, 4096, on_done, &dn), 0);
	poll_until(qp, &dn, 1);
	memset(lab_buf_data(b), 0, 4096);
	CU_ASSERT_EQUAL(lab_blk_read(qp, b, 8192, 4096, on_done, &dn), 0);
	poll_until(qp, &dn, 2);
	CU_ASSERT_EQUAL(dn.errors, 0);
	CU_ASSERT_EQUAL(check_fill(b, 4096, 9), 0);
	lab_blk_qpair_stats(qp, &st);
	CU_ASSERT_EQUAL(st.fixed, 0);
	lab_free(NULL, b);
	CU_ASSERT_EQUAL(lab_blk_qpair_destroy(qp), 0);
	CU_ASSERT_EQUAL(lab_blk_close(d), 0);
	pool_quiet(p);
}

static void expect_refused(int rc, const char *msg)
{
	CU_ASSERT_EQUAL(rc, -EINVAL);
	LAB_TEST_HAS(lab_test_log_text(), msg);
}

static void test_bad_requests(void)
{
	struct lab_blk_dev *d = lab_blk_open("ram:size=1M,block=4096,align=4096,max_io=16K");
	struct lab_blk_qpair_stats st;
	struct lab_blk_qpair *qp;
	struct lab_buf *b;
	struct lab_pool *p;
	struct done dn = { 0 };
	uint16_t off;

	CU_ASSERT_PTR_NOT_NULL_FATAL(d);
	p = blk_pool(d, 32768, 8);
	qp = lab_blk_qpair_create(d, 4, p);
	CU_ASSERT_PTR_NOT_NULL_FATAL(qp);
	b = lab_alloc(p, NULL);
	CU_ASSERT_PTR_NOT_NULL_FATAL(b);
	off = b->data_off;
	lab_test_log_capture();
	b->data_off = (uint16_t)(off + 512);
	expect_refused(lab_blk_read(qp, b, 0, 4096, on_done, &dn), "is not aligned to 4096 bytes");
	b->data_off = off;
	expect_refused(lab_blk_read(qp, b, 512, 4096, on_done, &dn),
		       "read refused: offset 512 is not a multiple of the block size 4096");
	expect_refused(lab_blk_write(qp, b, 0, 1000, on_done, &dn),
		       "write refused: length 1000 is not a positive multiple");
	expect_refused(lab_blk_read(qp, b, 0, 0, on_done, &dn), "length 0 is not a positive");
	expect_refused(lab_blk_read(qp, b, 1 << 20, 4096, on_done, &dn),
		       "4096 bytes at offset 1048576 go past the end of the device (1048576 "
		       "bytes, 256 blocks)");
	expect_refused(lab_blk_read(qp, b, (1 << 20) - 4096, 8192, on_done, &dn), "go past the end");
	expect_refused(lab_blk_read(qp, b, UINT64_MAX - 4095, 4096, on_done, &dn), "go past the end");
	expect_refused(lab_blk_read(qp, b, 0, 20480, on_done, &dn),
		       "20480 bytes is over the device's maximum transfer of 16384");
	expect_refused(lab_blk_read(qp, NULL, 0, 4096, on_done, &dn), "no buffer");
	expect_refused(lab_blk_write_zeroes(qp, 4096, 0, on_done, &dn), "length 0");
	expect_refused(lab_blk_discard(qp, 0, 2 << 20, on_done, &dn), "go past the end");
	b->data_off = (uint16_t)(off + 20480);
	expect_refused(lab_blk_read(qp, b, 0, 16384, on_done, &dn),
		       "16384 bytes do not fit buffer 0 (12288 bytes from data_off");
	b->data_off = off;
	lab_test_log_release();
	lab_blk_qpair_stats(qp, &st);
	CU_ASSERT_EQUAL(st.invalid, 12);
	CU_ASSERT_EQUAL(st.submitted, 0);
	CU_ASSERT_EQUAL(lab_blk_outstanding(qp), 0);
	CU_ASSERT_EQUAL(lab_blk_poll(qp, 0), 0);
	CU_ASSERT_EQUAL(dn.n, 0);
	/* A good one still goes through. */
	CU_ASSERT_EQUAL(lab_blk_read(qp, b, 0, 16384, on_done, &dn), 0);
	poll_until(qp, &dn, 1);
	lab_free(NULL, b);
	CU_ASSERT_EQUAL(lab_blk_qpair_destroy(qp), 0);
	CU_ASSERT_EQUAL(lab_blk_close(d), 0);
	pool_quiet(p);
}

static void test_full_queue_and_teardown_order(void)
{
	struct lab_blk_dev *d = lab_blk_open("ram:size=1M");
	struct lab_blk_qpair_stats st;
	struct lab_blk_qpair *qp;
	struct lab_buf *b[5];
	struct lab_pool *p;
	struct done dn = { 0 };

	CU_ASSERT_PTR_NOT_NULL_FATAL(d);
	lab_test_log_capture();
	CU_ASSERT_PTR_NULL(lab_blk_qpair_create(d, 70000, NULL));
	CU_ASSERT_EQUAL(lab_errno, EINVAL);
	CU_ASSERT_PTR_NOT_NULL(strstr(lab_test_log_text(), "queue pair depth 70000: expected 1 "
				      "to 65536"));
	lab_test_log_release();
	p = blk_pool(d, 4096, 8);
	qp = lab_blk_qpair_create(d, 4, p);
	CU_ASSERT_PTR_NOT_NULL_FATAL(qp);
	CU_ASSERT_EQUAL(lab_blk_qpair_depth(qp), 4);
	CU_ASSERT_EQUAL_FATAL(lab_alloc_bulk(p, NULL, b, 5, 0), 5);
	for (int i = 0; i < 4; i++)
		CU_ASSERT_EQUAL(lab_blk_read(qp, b[i], (uint64_t)i * 4096, 4096, on_done, &dn), 0);
	CU_ASSERT_EQUAL(lab_blk_read(qp, b[4], 0, 4096, on_done, &dn), -EAGAIN);
	CU_ASSERT_EQUAL(lab_blk_flush(qp, on_done, &dn), -EAGAIN);
	CU_ASSERT_EQUAL(lab_blk_outstanding(qp), 4);
	lab_test_log_capture();
	CU_ASSERT_EQUAL(lab_blk_qpair_destroy(qp), -EBUSY);
	CU_ASSERT_PTR_NOT_NULL(strstr(lab_test_log_text(), "4 request(s) outstanding"));
	CU_ASSERT_EQUAL(lab_blk_close(d), -EBUSY);
	CU_ASSERT_PTR_NOT_NULL(strstr(lab_test_log_text(), "1 queue pair(s) still exist"));
	lab_test_log_release();
	/* Two at a time: max bounds the callbacks run. */
	CU_ASSERT_EQUAL(lab_blk_poll(qp, 2), 2);
	CU_ASSERT_EQUAL(lab_blk_read(qp, b[4], 0, 4096, on_done, &dn), 0);
	poll_until(qp, &dn, 5);
	lab_blk_qpair_stats(qp, &st);
	CU_ASSERT_EQUAL(st.busy, 2);
	CU_ASSERT_EQUAL(st.submitted, 5);
	lab_free_bulk(NULL, b, 5);
	CU_ASSERT_EQUAL(lab_blk_qpair_destroy(qp), 0);
	CU_ASSERT_EQUAL(lab_blk_close(d), 0);
	pool_quiet(p);
}

/* The descriptor the device opened on @p path (found in /proc/self/fd). */
static int fd_of(const char *path)
{
	char link[PATH_MAX + 32], target[PATH_MAX];
	struct dirent *e;
	DIR *dp = opendir("/proc/self/fd");
	int fd = -1;

	while (dp != NULL && (e = readdir(dp)) != NULL) {
		ssize_t n;

		snprintf(link, sizeof(link), "/proc/self/fd/%s", e->d_name);
		n = readlink(link, target, sizeof(target) - 1);
		if (n > 0) {
			target[n] = '\0';
			if (strcmp(target, path) == 0)
				fd = atoi(e->d_name);
		}
	}
	if (dp != NULL)
		closedir(dp);
	return fd;
}

/* Per-I/O errors: a file cut short behind the device's back, then the
 * descriptor closed under it. Each request gets its own status; no buffer is
 * lost. */
static void test_uring_io_errors(void)
{
	char ds[2 * PATH_MAX], path[PATH_MAX + 64];
	struct lab_blk_qpair_stats st;
	struct lab_blk_qpair *qp;
	struct lab_blk_dev *d;
	struct lab_buf *b[8];
	struct lab_pool *p;
	struct done dn = { 0 };
	int fd;

	snprintf(path, sizeof(path), "%s", mkfile("short.img", 1 << 20));
	snprintf(ds, sizeof(ds), "uring:path=%s,regfile=0", path);
	d = lab_blk_open(ds);
	CU_ASSERT_PTR_NOT_NULL_FATAL(d);
	CU_ASSERT_EQUAL(lab_blk_info(d)->block_count * lab_blk_info(d)->block_size, 1 << 20);
	p = blk_pool(d, 4096, 16);
	qp = lab_blk_qpair_create(d, 8, p);
	CU_ASSERT_PTR_NOT_NULL_FATAL(qp);
	CU_ASSERT_EQUAL_FATAL(lab_alloc_bulk(p, NULL, b, 8, 0), 8);

	/* The file shrinks to 64 KiB: a read inside gets data, one at the new end
	 * gets nothing, one straddling it gets half: -EIO for both, counted short. */
	CU_ASSERT_EQUAL_FATAL(truncate(path, 64 << 10), 0);
	CU_ASSERT_EQUAL(lab_blk_read(qp, b[0], 0, 4096, on_done, &dn), 0);
	CU_ASSERT_EQUAL(lab_blk_read(qp, b[1], 512 << 10, 4096, on_done, &dn), 0);
	lab_test_log_capture();
	CU_ASSERT_EQUAL(lab_blk_read(qp, b[2], (64 << 10) - 4096, 8192, on_done, &dn), -EINVAL);
	lab_test_log_release();
	CU_ASSERT_EQUAL(lab_blk_read(qp, b[2], (64 << 10) - 4096, 4096, on_done, &dn), 0);
	poll_until(qp, &dn, 3);
	CU_ASSERT_EQUAL(dn.statuses[0], 0);
	CU_ASSERT_EQUAL(dn.statuses[1], -EIO);
	CU_ASSERT_EQUAL(dn.statuses[2], 0);
	/* Past the end of the device as opened: refused at submit. */
	lab_test_log_capture();
	CU_ASSERT_EQUAL(lab_blk_read(qp, b[3], 1 << 20, 4096, on_done, &dn), -EINVAL);
	CU_ASSERT_PTR_NOT_NULL(strstr(lab_test_log_text(), "go past the end of the device"));
	lab_test_log_release();

	/* The descriptor closed under the device: each request fails -EBADF. */
	fd = fd_of(path);
	CU_ASSERT_FATAL(fd >= 0);
	close(fd);
	for (int i = 3; i < 7; i++)
		CU_ASSERT_EQUAL(lab_blk_read(qp, b[i], 0, 4096, on_done, &dn), 0);
	CU_ASSERT_EQUAL(lab_blk_write(qp, b[7], 0, 4096, on_done, &dn), 0);
	poll_until(qp, &dn, 8);
	for (int i = 3; i < 8; i++)
		CU_ASSERT_EQUAL(dn.statuses[i], -EBADF);
	lab_blk_qpair_stats(qp, &st);
	CU_ASSERT_EQUAL(st.completed, 8);
	CU_ASSERT_EQUAL(st.errors, 6);
	CU_ASSERT_EQUAL(st.short_io, 1);
	CU_ASSERT_EQUAL(st.invalid, 2);
	CU_ASSERT_EQUAL(lab_blk_outstanding(qp), 0);
	lab_free_bulk(NULL, b, 8);
	CU_ASSERT_EQUAL(lab_blk_qpair_destroy(qp), 0);
	CU_ASSERT_EQUAL(lab_blk_close(d), 0); /* closes an fd already closed: harmless */
	pool_quiet(p);
}

int main(void)
{
	static const struct lab_test tests[] = {
		LAB_TEST(test_device_string_errors),
		LAB_TEST(test_ram_properties),
		LAB_TEST(test_ram_roundtrip),
		LAB_TEST(test_uring_file_roundtrip),
		LAB_TEST(test_uring_variants),
		LAB_TEST(test_uring_growing_pool_falls_back),
		LAB_TEST(test_bad_requests),
		LAB_TEST(test_full_queue_and_teardown_order),
		LAB_TEST(test_uring_io_errors),
		LAB_TEST_END,
	};
	char cmd[PATH_MAX + 16];
	int rc;

	snprintf(dir, sizeof(dir), "%s/lab-blk-XXXXXX", getenv("TMPDIR") ? getenv("TMPDIR") : "/var/tmp");
	if (mkdtemp(dir) == NULL) {
		perror(dir);
		return 1;
	}
	rc = lab_test_run("blk", tests);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", dir);
	return rc;
}
