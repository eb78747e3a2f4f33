/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Suite virtio_blk: the virtio_blk driver against qemu-storage-daemon's
 * vhost-user-blk export of an image file, which the test starts on a
 * temporary image with a socket of its own and kills on every way out (an
 * atexit handler, and PR_SET_PDEATHSIG should the test itself be killed).
 *
 * Every operation, with the image compared afterwards (cmp) against a
 * reference that the same operations wrote through uring; large I/O split
 * into segments; two queues; a read-only export; a back-end whose reads fail
 * (VIRTIO_BLK_S_IOERR); requests refused before submission; the daemon
 * killed mid-run (every request completes, the failed ones with -EIO, every
 * buffer back) and started again (reconnect=1); labblk --verify on it.
 * Skipped, with the reason, where qemu-storage-daemon is not installed.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <labyrinth/lab_blk.h>
#include <labyrinth/lab_log.h>
#include <labyrinth/lab_pool.h>

#include "../lab_test.h"
#include "blk_helpers.h"
#include "blk_test_helpers.h"

#define QSD "qemu-storage-daemon"
#define IMG_SIZE (32u << 20)
#define WAIT_SECS 60

static char dir[80];
static pid_t daemons[4];

struct done {
	unsigned int n, errors, eio;
	int last;
};

static void on_done(void *arg, int status)
{
	struct done *d = arg;

	d->n++;
	d->last = status;
	if (status < 0)
		d->errors++;
	if (status == -EIO)
		d->eio++;
}

static double now_s(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + t.tv_nsec / 1e9;
}

/* Poll until @p want completions, or WAIT_SECS (a broken driver must not
 * hang the suite; a slow machine must not fail it). */
static void poll_until(struct lab_blk_qpair *qp, struct done *d, unsigned int want)
{
	double t0 = now_s();

	while (d->n < want && now_s() - t0 < WAIT_SECS)
		if (lab_blk_poll(qp, 0) == 0)
			usleep(50);
	CU_ASSERT_EQUAL(d->n, want);
}

static char *path_in(const char *name)
{
	static char p[4][160];
	static unsigned int k;
	char *s = p[k++ % 4];

	snprintf(s, sizeof(p[0]), "%s/%s", dir, name);
	return s;
}

static void mkimage(const char *name, size_t size)
{
	int fd = open(path_in(name), O_RDWR | O_CREAT | O_TRUNC, 0600);

	CU_ASSERT_FATAL(fd >= 0);
	CU_ASSERT_FATAL(ftruncate(fd, (off_t)size) == 0);
	close(fd);
}

static void qsd_kill(unsigned int slot)
{
	if (daemons[slot] > 0) {
		kill(daemons[slot], SIGKILL);
		waitpid(daemons[slot], NULL, 0);
		daemons[slot] = 0;
	}
}

static void cleanup(void)
{
	char cmd[128];

	for (unsigned int i = 0; i < 4; i++)
		qsd_kill(i);
	if (dir[0] != '\0') {
		snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
		if (system(cmd) != 0)
			fprintf(stderr, "could not remove %s\n", dir);
	}
}

/*
 * Start the daemon in @p slot exporting image @p img at socket @p sock, with
 * the command (plus discard=unmap, so a discard reaches the file).
 * @p blockdev replaces the --blockdev value when given. Waits for the socket.
 */
static void qsd_start(unsigned int slot, const char *img, const char *sock, bool writable,
		      unsigned int queues, const char *blockdev)
{
	char bd[512], ex[512], log[160];
	double t0 = now_s();
	pid_t pid;

	if (blockdev != NULL)
		snprintf(bd, sizeof(bd), "%s", blockdev);
	else
		snprintf(bd, sizeof(bd), "driver=file,node-name=d0,filename=%s,cache.direct=on,"
			 "aio=io_uring,discard=unmap", path_in(img));
	snprintf(ex, sizeof(ex), "type=vhost-user-blk,id=e0,node-name=d0,addr.type=unix,"
		 "addr.path=%s,writable=%s,num-queues=%u", path_in(sock), writable ? "on" : "off",
		 queues);
	snprintf(log, sizeof(log), "%s.log", path_in(sock));
	unlink(path_in(sock));
	pid = fork();
	CU_ASSERT_FATAL(pid >= 0);
	if (pid == 0) {
		int fd = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0600);

		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (fd >= 0) {
			dup2(fd, 1);
			dup2(fd, 2);
		}
		execlp(QSD, QSD, "--blockdev", bd, "--export", ex, (char *)NULL);
		_exit(127);
	}
	daemons[slot] = pid;
	for (;;) {
		struct stat st;

		if (stat(path_in(sock), &st) == 0 && S_ISSOCK(st.st_mode))
			return;
		if (waitpid(pid, NULL, WNOHANG) == pid || now_s() - t0 > WAIT_SECS) {
			char out[2048];

			daemons[slot] = 0;
			snprintf(out, sizeof(out), "cat %s >&2", log);
			(void)!system(out);
			CU_FAIL_FATAL("qemu-storage-daemon did not come up");
		}
		usleep(10 * 1000);
	}
}

static struct lab_blk_dev *open_sock(const char *sock, const char *extra)
{
	char devstr[256];

	snprintf(devstr, sizeof(devstr), "virtio_blk:path=%s%s", path_in(sock), extra);
	return lab_blk_open(devstr);
}

/* Properties from GET_CONFIG, and the device strings it refuses. */
static void test_properties_and_refusals(void)
{
	const struct lab_blk_info *in;
	struct lab_blk_dev *d;
	struct lab_blk_qpair *qp;
	struct lab_pool_opts o;
	struct lab_pool *p;
	char devstr[256];

	mkimage("props.img", IMG_SIZE);
	qsd_start(0, "props.img", "props.sock", true, 2, NULL);
	d = open_sock("props.sock", "");
	CU_ASSERT_PTR_NOT_NULL_FATAL(d);
	in = lab_blk_info(d);
	CU_ASSERT_STRING_EQUAL(in->driver, "virtio_blk");
	CU_ASSERT_EQUAL(in->block_size, 512);
	CU_ASSERT_EQUAL((uint64_t)in->block_count * in->block_size, IMG_SIZE);
	CU_ASSERT_EQUAL(in->flags & (LAB_BLK_F_FLUSH | LAB_BLK_F_DISCARD |
				     LAB_BLK_F_WRITE_ZEROES | LAB_BLK_F_READ_ONLY),
			LAB_BLK_F_FLUSH | LAB_BLK_F_DISCARD | LAB_BLK_F_WRITE_ZEROES);
	/* seg_max (126 from QEMU) times the segment bounds the transfer. */
	CU_ASSERT_EQUAL(in->max_transfer, 1u << 20);
	/* The pool must be one the daemon can map. */
	blk_pool_opts(d, 4096, 8, &o);
	CU_ASSERT(o.shared);
	o.shared = false;
	p = lab_pool_create(&o);
	CU_ASSERT_PTR_NOT_NULL_FATAL(p);
	lab_test_log_capture();
	qp = lab_blk_qpair_create(d, 8, p);
	CU_ASSERT_PTR_NULL(qp);
	LAB_TEST_HAS(lab_test_log_text(), "shared");
	lab_test_log_release();
	CU_ASSERT_EQUAL(lab_pool_destroy(p), 0);
	CU_ASSERT_EQUAL(lab_blk_close(d), 0);

	expect_open_error("virtio_blk:queues=1", EINVAL, "path= is required");
	snprintf(devstr, sizeof(devstr), "virtio_blk:path=%s", path_in("none.sock"));
	expect_open_error(devstr, ENOENT, "cannot connect to the vhost-user back-end");
	snprintf(devstr, sizeof(devstr), "virtio_blk:path=%s,queues=3", path_in("props.sock"));
	expect_open_error(devstr, EINVAL, "queues=3, but the device has 2");
	snprintf(devstr, sizeof(devstr), "virtio_blk:path=%s,seg=1000", path_in("props.sock"));
	expect_open_error(devstr, EINVAL, "seg=1000 must be a multiple of 512");
	snprintf(devstr, sizeof(devstr), "virtio_blk:path=%s,qd=1000", path_in("props.sock"));
	expect_open_error(devstr, EINVAL, "qd");
	qsd_kill(0);
}

/* The same requests on two devices, in order: @p seed names the data. */
struct step {
	enum lab_blk_op op;
	uint64_t offset;
	uint32_t len;
};

static const struct step steps[] = {
	{ LAB_BLK_OP_WRITE, 0, 4096 },
	{ LAB_BLK_OP_WRITE, 8192, 131072 },
	{ LAB_BLK_OP_WRITE, 1u << 20, 131072 },
	{ LAB_BLK_OP_WRITE, 3u << 20, 4096 },
	{ LAB_BLK_OP_WRITE, (32u << 20) - 131072, 131072 },
	{ LAB_BLK_OP_FLUSH, 0, 0 },
	{ LAB_BLK_OP_WRITE_ZEROES, 16384, 65536 },
	{ LAB_BLK_OP_DISCARD, (1u << 20) + 65536, 65536 },
	{ LAB_BLK_OP_WRITE, 5u << 20, 131072 },
	{ LAB_BLK_OP_FLUSH, 0, 0 },
};

static void run_steps(struct lab_blk_dev *d, bool check_reads)
{
	const unsigned int n = sizeof(steps) / sizeof(steps[0]);
	struct lab_blk_qpair_stats st;
	struct lab_blk_qpair *qp;
	struct lab_buf *b[16];
	struct lab_pool *p;
	struct done dn = { 0 };
	unsigned int k = 0;

	p = blk_pool(d, 131072, 16);
	CU_ASSERT_PTR_NOT_NULL_FATAL(p);
	qp = lab_blk_qpair_create(d, 16, p);
	CU_ASSERT_PTR_NOT_NULL_FATAL(qp);
	CU_ASSERT_EQUAL_FATAL(lab_alloc_bulk(p, NULL, b, 16, 0), 16);
	/* One at a time: the order of overlapping writes and zeroes matters. */
	for (unsigned int i = 0; i < n; i++) {
		const struct step *s = &steps[i];
		int rc;

		switch (s->op) {
		case LAB_BLK_OP_WRITE:
			fill(b[i], s->len, i + 1);
			rc = lab_blk_write(qp, b[i], s->offset, s->len, on_done, &dn);
			break;
		case LAB_BLK_OP_FLUSH:
			rc = lab_blk_flush(qp, on_done, &dn);
			break;
		case LAB_BLK_OP_WRITE_ZEROES:
			rc = lab_blk_write_zeroes(qp, s->offset, s->len, on_done, &dn);
			break;
		default:
			rc = lab_blk_discard(qp, s->offset, s->len, on_done, &dn);
			break;
		}
		CU_ASSERT_EQUAL(rc, 0);
		poll_until(qp, &dn, ++k);
	}
	CU_ASSERT_EQUAL(dn.errors, 0);
	if (check_reads) {
		/* Read the last write back; and what write-zeroes and discard left. */
		memset(lab_buf_data(b[15]), 0xee, 131072);
		CU_ASSERT_EQUAL(lab_blk_read(qp, b[15], 5u << 20, 131072, on_done, &dn), 0);
		CU_ASSERT_EQUAL(lab_blk_read(qp, b[14], 16384, 65536, on_done, &dn), 0);
		poll_until(qp, &dn, k + 2);
		CU_ASSERT_EQUAL(dn.errors, 0);
		CU_ASSERT_EQUAL(check_fill(b[15], 131072, 9), 0);
		for (uint32_t i = 0; i < 65536; i++)
			if (((uint8_t *)lab_buf_data(b[14]))[i] != 0) {
				CU_FAIL("write-zeroes left data");
				break;
			}
		lab_blk_qpair_stats(qp, &st);
		CU_ASSERT_EQUAL(st.completed, n + 2);
		CU_ASSERT_EQUAL(st.ops[LAB_BLK_OP_DISCARD], 1);
		CU_ASSERT_EQUAL(st.ops[LAB_BLK_OP_WRITE_ZEROES], 1);
		CU_ASSERT_EQUAL(st.bytes_written, 4096 * 2 + 131072 * 4);
		CU_ASSERT_EQUAL(st.bytes_read, 131072 + 65536);
	}
	lab_free_bulk(NULL, b, 16);
	CU_ASSERT_EQUAL(lab_blk_qpair_destroy(qp), 0);
	CU_ASSERT_EQUAL(lab_blk_close(d), 0);
	pool_quiet(p);
}

/* Every operation through the daemon, then the image against the same
 * operations done through uring: byte for byte. Segments of 4 KiB, so each
 * 128 KiB request is 32 data descriptors. */
static void test_every_op_matches_uring(void)
{
	char cmd[400], out[512];
	struct lab_blk_dev *d;

	mkimage("ops.img", IMG_SIZE);
	mkimage("ref.img", IMG_SIZE);
	qsd_start(0, "ops.img", "ops.sock", true, 1, NULL);
	d = open_sock("ops.sock", ",seg=4096");
	CU_ASSERT_PTR_NOT_NULL_FATAL(d);
	CU_ASSERT_EQUAL(lab_blk_info(d)->max_transfer, 126u * 4096 / 512 * 512);
	run_steps(d, true);
	qsd_kill(0);
	snprintf(cmd, sizeof(cmd), "uring:path=%s", path_in("ref.img"));
	d = lab_blk_open(cmd);
	CU_ASSERT_PTR_NOT_NULL_FATAL(d);
	run_steps(d, false);
	snprintf(cmd, sizeof(cmd), "cmp %s %s", path_in("ops.img"), path_in("ref.img"));
	CU_ASSERT_EQUAL(lab_test_sh(cmd, out, sizeof(out)), 0);
}

/* Two queue pairs, one virtqueue each: each writes its half, the other reads
 * it back. A third is refused: the export has two queues. */
static void test_two_queues(void)
{
	struct lab_blk_qpair *qp[2];
	struct lab_buf *b[8];
	struct done dn[2] = { { 0 }, { 0 } };
	struct lab_blk_dev *d;
	struct lab_pool *p;

	mkimage("mq.img", IMG_SIZE);
	qsd_start(0, "mq.img", "mq.sock", true, 2, NULL);
	d = open_sock("mq.sock", "");
	CU_ASSERT_PTR_NOT_NULL_FATAL(d);
	p = blk_pool(d, 65536, 8);
	CU_ASSERT_PTR_NOT_NULL_FATAL(p);
	qp[0] = lab_blk_qpair_create(d, 4, p);
	qp[1] = lab_blk_qpair_create(d, 4, p);
	CU_ASSERT_PTR_NOT_NULL_FATAL(qp[0]);
	CU_ASSERT_PTR_NOT_NULL_FATAL(qp[1]);
	lab_test_log_capture();
	CU_ASSERT_PTR_NULL(lab_blk_qpair_create(d, 4, p));
	CU_ASSERT_EQUAL(lab_errno, EBUSY);
	LAB_TEST_HAS(lab_test_log_text(), "all 2 queue(s) are in use");
	lab_test_log_release();
	CU_ASSERT_EQUAL_FATAL(lab_alloc_bulk(p, NULL, b, 8, 0), 8);
	for (unsigned int i = 0; i < 8; i++) {
		fill(b[i], 65536, 100 + i);
		CU_ASSERT_EQUAL(lab_blk_write(qp[i & 1], b[i], (uint64_t)i << 20, 65536, on_done,
					      &dn[i & 1]), 0);
	}
	poll_until(qp[0], &dn[0], 4);
	poll_until(qp[1], &dn[1], 4);
	for (unsigned int i = 0; i < 8; i++) {
		memset(lab_buf_data(b[i]), 0, 65536);
		CU_ASSERT_EQUAL(lab_blk_read(qp[!(i & 1)], b[i], (uint64_t)i << 20, 65536, on_done,
					     &dn[!(i & 1)]), 0);
	}
	poll_until(qp[0], &dn[0], 8);
	poll_until(qp[1], &dn[1], 8);
	CU_ASSERT_EQUAL(dn[0].errors + dn[1].errors, 0);
	for (unsigned int i = 0; i < 8; i++)
		CU_ASSERT_EQUAL(check_fill(b[i], 65536, 100 + i), 0);
	lab_free_bulk(NULL, b, 8);
	CU_ASSERT_EQUAL(lab_blk_qpair_destroy(qp[0]), 0);
	CU_ASSERT_EQUAL(lab_blk_qpair_destroy(qp[1]), 0);
	CU_ASSERT_EQUAL(lab_blk_close(d), 0);
	pool_quiet(p);
	qsd_kill(0);
}

/* writable=off: VIRTIO_BLK_F_RO, writes refused at submit by name; reads go. */
static void test_read_only_export(void)
{
	struct lab_blk_qpair *qp;
	struct lab_buf *b;
	struct done dn = { 0 };
	struct lab_blk_dev *d;
	struct lab_pool *p;

	mkimage("ro.img", IMG_SIZE);
	qsd_start(0, "ro.img", "ro.sock", false, 1, NULL);
	d = open_sock("ro.sock", "");
	CU_ASSERT_PTR_NOT_NULL_FATAL(d);
	CU_ASSERT(lab_blk_info(d)->flags & LAB_BLK_F_READ_ONLY);
	p = blk_pool(d, 4096, 4);
	qp = lab_blk_qpair_create(d, 4, p);
	CU_ASSERT_PTR_NOT_NULL_FATAL(qp);
	b = lab_alloc(p, NULL);
	CU_ASSERT_PTR_NOT_NULL_FATAL(b);
	lab_test_log_capture();
	CU_ASSERT_EQUAL(lab_blk_write(qp, b, 0, 4096, on_done, &dn), -EINVAL);
	LAB_TEST_HAS(lab_test_log_text(), "write refused: the device is read-only");
	CU_ASSERT_EQUAL(lab_blk_write_zeroes(qp, 0, 4096, on_done, &dn), -EINVAL);
	lab_test_log_release();
	CU_ASSERT_EQUAL(lab_blk_read(qp, b, 4096, 4096, on_done, &dn), 0);
	poll_until(qp, &dn, 1);
	CU_ASSERT_EQUAL(dn.errors, 0);
	lab_free_bulk(NULL, &b, 1);
	CU_ASSERT_EQUAL(lab_blk_qpair_destroy(qp), 0);
	CU_ASSERT_EQUAL(lab_blk_close(d), 0);
	pool_quiet(p);
	qsd_kill(0);
}

/* A back-end whose reads fail (blkdebug injects EIO): VIRTIO_BLK_S_IOERR is
 * the request's -EIO. Requests the device cannot take are refused before
 * submission, naming the values. */
static void test_device_errors_and_refusals(void)
{
	struct lab_blk_qpair_stats st;
	struct lab_blk_qpair *qp;
	struct lab_pool *p, *other;
	struct lab_buf *b[4], *ob;
	struct done dn = { 0 };
	struct lab_blk_dev *d;
	char bd[512];

	mkimage("err.img", IMG_SIZE);
	snprintf(bd, sizeof(bd), "driver=raw,node-name=d0,file.driver=blkdebug,"
		 "file.image.driver=file,file.image.filename=%s,"
		 "file.inject-error.0.event=read_aio,file.inject-error.0.errno=5",
		 path_in("err.img"));
	qsd_start(0, "err.img", "err.sock", true, 1, bd);
	d = open_sock("err.sock", "");
	CU_ASSERT_PTR_NOT_NULL_FATAL(d);
	p = blk_pool(d, 4096, 4);
	other = blk_pool(d, 4096, 1);
	CU_ASSERT_PTR_NOT_NULL_FATAL(other);
	qp = lab_blk_qpair_create(d, 4, p);
	CU_ASSERT_PTR_NOT_NULL_FATAL(qp);
	CU_ASSERT_EQUAL_FATAL(lab_alloc_bulk(p, NULL, b, 4, 0), 4);
	for (unsigned int i = 0; i < 4; i++)
		CU_ASSERT_EQUAL(lab_blk_read(qp, b[i], (uint64_t)i * 4096, 4096, on_done, &dn), 0);
	poll_until(qp, &dn, 4);
	CU_ASSERT_EQUAL(dn.eio, 4);

	lab_test_log_capture();
	CU_ASSERT_EQUAL(lab_blk_read(qp, b[0], IMG_SIZE, 4096, on_done, &dn), -EINVAL);
	LAB_TEST_HAS(lab_test_log_text(), "4096 bytes at offset 33554432 go past the end");
	CU_ASSERT_EQUAL(lab_blk_read(qp, b[0], 100, 4096, on_done, &dn), -EINVAL);
	LAB_TEST_HAS(lab_test_log_text(), "offset 100 is not a multiple of the block size 512");
	/* QEMU takes 32768 sectors (16 MiB) per discard. */
	CU_ASSERT_EQUAL(lab_blk_discard(qp, 0, 32u << 20, on_done, &dn), -EINVAL);
	LAB_TEST_HAS(lab_test_log_text(), "33554432 bytes at offset 0: the device takes 1 to "
			"32768 sectors");
	/* A buffer the daemon has not mapped. */
	ob = lab_alloc(other, NULL);
	CU_ASSERT_PTR_NOT_NULL_FATAL(ob);
	CU_ASSERT_EQUAL(lab_blk_write(qp, ob, 0, 4096, on_done, &dn), -EINVAL);
	LAB_TEST_HAS(lab_test_log_text(), "are not in the memory the device maps");
	lab_test_log_release();
	lab_blk_qpair_stats(qp, &st);
	CU_ASSERT_EQUAL(st.submitted, 4);
	CU_ASSERT_EQUAL(st.completed, 4);
	CU_ASSERT_EQUAL(st.errors, 4);
	CU_ASSERT_EQUAL(st.invalid, 4);
	lab_free_bulk(NULL, &ob, 1);
	lab_free_bulk(NULL, b, 4);
	CU_ASSERT_EQUAL(lab_blk_qpair_destroy(qp), 0);
	CU_ASSERT_EQUAL(lab_blk_close(d), 0);
	pool_quiet(p);
	pool_quiet(other);
	qsd_kill(0);
}

/* One buffer kept busy with reads. */
struct busy {
	struct done *dn;
	bool busy;
};

static void busy_done(void *arg, int status)
{
	struct busy *k = arg;

	k->busy = false;
	on_done(k->dn, status);
}

/* Every idle buffer of @p k gets a read. @return 0 or the refusal. */
static int submit_idle(struct lab_blk_qpair *qp, struct lab_buf **b, struct busy *k,
		       unsigned int n)
{
	for (unsigned int i = 0; i < n; i++)
		if (!k[i].busy) {
			int rc = lab_blk_read(qp, b[i], (uint64_t)i * 4096, 4096, busy_done, &k[i]);

			if (rc == -EAGAIN)
				break;
			if (rc < 0)
				return rc;
			k[i].busy = true;
		}
	return 0;
}

/* The daemon killed with requests in flight: it is stopped (SIGSTOP) with
 * 32 reads published and then killed, so exactly those 32 fail with -EIO;
 * nothing is outstanding after, every buffer is back, and new requests are
 * refused with -EIO. With reconnect=1 they wait (-EAGAIN) and the daemon
 * started again is attached: I/O goes on. */
static void kill_midrun(bool reconnect)
{
	struct lab_blk_qpair_stats st;
	struct lab_blk_qpair *qp;
	struct lab_buf *b[32];
	struct done dn = { 0 };
	struct busy k[32];
	struct lab_blk_dev *d;
	struct lab_pool *p;
	unsigned int before;
	double t0;
	int rc;

	for (unsigned int i = 0; i < 32; i++)
		k[i] = (struct busy){ &dn, false };
	mkimage("kill.img", IMG_SIZE);
	qsd_start(0, "kill.img", "kill.sock", true, 1, NULL);
	d = open_sock("kill.sock", reconnect ? ",reconnect=1" : "");
	CU_ASSERT_PTR_NOT_NULL_FATAL(d);
	p = blk_pool(d, 4096, 32);
	qp = lab_blk_qpair_create(d, 32, p);
	CU_ASSERT_PTR_NOT_NULL_FATAL(qp);
	CU_ASSERT_EQUAL_FATAL(lab_alloc_bulk(p, NULL, b, 32, 0), 32);
	t0 = now_s();
	while (dn.n < 2000 && now_s() - t0 < WAIT_SECS) {
		CU_ASSERT_EQUAL_FATAL(submit_idle(qp, b, k, 32), 0);
		lab_blk_poll(qp, 0);
	}
	CU_ASSERT(dn.n >= 2000);
	CU_ASSERT_EQUAL(dn.errors, 0);
	/* Let the daemon finish what it has, freeze it, then give it 32 more. */
	poll_until(qp, &dn, dn.n + lab_blk_outstanding(qp));
	kill(daemons[0], SIGSTOP);
	before = dn.n;
	CU_ASSERT_EQUAL(submit_idle(qp, b, k, 32), 0);
	CU_ASSERT_EQUAL(lab_blk_outstanding(qp), 32);
	lab_blk_poll(qp, 0);
	qsd_kill(0);
	t0 = now_s();
	while (lab_blk_outstanding(qp) != 0 && now_s() - t0 < WAIT_SECS)
		if (lab_blk_poll(qp, 0) == 0)
			usleep(1000);
	CU_ASSERT_EQUAL(lab_blk_outstanding(qp), 0);
	CU_ASSERT_EQUAL(dn.n, before + 32);
	CU_ASSERT_EQUAL(dn.eio, 32);
	CU_ASSERT_EQUAL(dn.errors, 32);
	lab_blk_qpair_stats(qp, &st);
	CU_ASSERT_EQUAL(st.completed, st.submitted);
	CU_ASSERT_EQUAL(st.completed, dn.n);
	CU_ASSERT_EQUAL(st.errors, 32);
	rc = lab_blk_read(qp, b[0], 0, 4096, on_done, &dn);
	CU_ASSERT_EQUAL(rc, reconnect ? -EAGAIN : -EIO);
	if (reconnect) {
		/* Started again: the next submit that is taken completes. */
		before = dn.n;
		qsd_start(0, "kill.img", "kill.sock", true, 1, NULL);
		t0 = now_s();
		while ((rc = lab_blk_read(qp, b[0], 0, 4096, on_done, &dn)) == -EAGAIN &&
		       now_s() - t0 < WAIT_SECS) {
			lab_blk_poll(qp, 0);
			usleep(1000);
		}
		CU_ASSERT_EQUAL(rc, 0);
		poll_until(qp, &dn, before + 1);
		CU_ASSERT_EQUAL(dn.last, 0);
		qsd_kill(0);
	}
	lab_free_bulk(NULL, b, 32);
	/* Nothing outstanding: teardown with the daemon gone works. */
	CU_ASSERT_EQUAL(lab_blk_qpair_destroy(qp), 0);
	CU_ASSERT_EQUAL(lab_blk_close(d), 0);
	pool_quiet(p);
}

static void test_daemon_killed(void)
{
	kill_midrun(false);
}

static void test_daemon_restarted_reconnect(void)
{
	kill_midrun(true);
}

/* labblk, unchanged, on the driver: write-then-read verify, random mixed
 * verify with two jobs (two queues), and its accounting line. */
static void test_labblk_verify(void)
{
	static const char *const runs[] = {
		"--rw write --bs 64K --verify",
		"--rw randrw --bs 4k --iodepth 32 --runtime 1 --verify --numjobs 2",
		"--rw randread --bs 4k --iodepth 32 --runtime 1",
	};
	char cmd[512], out[8192];

	mkimage("labblk.img", IMG_SIZE);
	qsd_start(0, "labblk.img", "labblk.sock", true, 2, NULL);
	for (unsigned int i = 0; i < sizeof(runs) / sizeof(runs[0]); i++) {
		snprintf(cmd, sizeof(cmd), "%s --dev virtio_blk:path=%s %s 2>&1", LABBLK_BIN,
			 path_in("labblk.sock"), runs[i]);
		CU_ASSERT_EQUAL(lab_test_sh(cmd, out, sizeof(out)), 0);
		LAB_TEST_HAS(out, "errors 0");
		LAB_TEST_HAS(out, "accounting OK");
		if (strstr(runs[i], "--verify"))
			LAB_TEST_HAS(out, "0 mismatches: OK");
	}
	qsd_kill(0);
}

int main(void)
{
	static const struct lab_test tests[] = {
		LAB_TEST(test_properties_and_refusals),
		LAB_TEST(test_every_op_matches_uring),
		LAB_TEST(test_two_queues),
		LAB_TEST(test_read_only_export),
		LAB_TEST(test_device_errors_and_refusals),
		LAB_TEST(test_daemon_killed),
		LAB_TEST(test_daemon_restarted_reconnect),
		LAB_TEST(test_labblk_verify),
		LAB_TEST_END,
	};
	const char *tmp = getenv("TMPDIR") ? getenv("TMPDIR") : "/var/tmp";
	char out[256];

	if (lab_test_sh("command -v " QSD, out, sizeof(out)) != 0)
		return lab_test_skip("virtio_blk", tests, QSD " not found (Debian package "
				     "qemu-system-common: make deps)");
	/* A unix socket path holds 107 bytes: a long TMPDIR falls back to /var/tmp. */
	if (strlen(tmp) > 40)
		tmp = "/var/tmp";
	snprintf(dir, sizeof(dir), "%s/lab-vblk-XXXXXX", tmp);
	if (mkdtemp(dir) == NULL) {
		perror(dir);
		return 1;
	}
	atexit(cleanup);
	return lab_test_run("virtio_blk", tests);
}
