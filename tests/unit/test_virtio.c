/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Suite virtio: the virtio_user port against a real vhost-user back-end,
 * DPDK's net_vhost in dpdk-testpmd (io forwarding on its one port, so every
 * frame we send comes back), and its refusals of what it cannot work with.
 * Unix sockets only: no namespaces, no hugepages (testpmd runs --no-huge).
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <labyrinth/lab_log.h>

#include "../lab_test.h"
#include "port_helpers.h"
#include "testpmd_helpers.h"

#define log_capture lab_test_log_capture
#define log_text lab_test_log_text
#define log_release lab_test_log_release

#define FRAMES 20000

static char sock[108];
static pid_t backend;

/* A shared, fixed pool: what the back-end may map. */
static struct lab_pool *shared_pool(uint32_t n)
{
	struct lab_pool_opts o;

	small_pool_opts(&o, n, n, 8, 16, 32, 8);
	o.name = "virtio";
	o.shared = true;
	return lab_pool_create(&o);
}

static void stop_testpmd(pid_t pid);

/* testpmd with net_vhost on @p sock, forwarding its port to itself: it
 * listens there, or with @p client connects (and reconnects) to us there. */
static pid_t start_testpmd_as(bool client)
{
	char vdev[200], prefix[64];
	char *argv[] = { "dpdk-testpmd", "--no-huge", "-m", "512", "--no-pci", "-l", "0-1",
			 "--file-prefix", prefix, "--vdev", vdev, "--", "--forward-mode=io",
			 "--auto-start", "--no-flush-rx", "--nb-cores=1", "--total-num-mbufs=8192",
			 "--stats-period", "3600", NULL };
	static unsigned int runs;

	/* One back-end at a time: one a failed test left running goes first. */
	if (backend > 0)
		stop_testpmd(backend);
	backend = 0;
	snprintf(vdev, sizeof(vdev), "net_vhost0,iface=%s,queues=1%s", sock,
		 client ? ",client=1" : "");
	snprintf(prefix, sizeof(prefix), "lab-virtio-%d-%u", (int)getpid(), runs++);
	if (!client)
		unlink(sock);
	return testpmd_spawn(argv);
}

static pid_t start_testpmd(void)
{
	return start_testpmd_as(false);
}

/* The back-end goes, and its socket file (a listening testpmd's, or ours
 * after we closed). */
static void stop_testpmd(pid_t pid)
{
	testpmd_stop(pid);
	unlink(sock);
}


struct run {
	uint32_t sent, got, bad;
};

/* @p frames out (numbered from @p seq0, at most 200 in flight) and back, for
 * up to @p secs seconds. */
static struct run run_frames(struct lab_port *port, struct lab_pool *p, uint32_t frames,
			     uint32_t seq0, unsigned int secs)
{
	struct lab_cache *txo = lab_port_txq_owner(port, 0), *rxo = lab_port_rxq_owner(port, 0);
	uint64_t until = lab_now_ns() + secs * 1000000000ull;
	struct run r = { 0, 0, 0 };
	uint32_t next = seq0;

	while (r.got < frames && lab_now_ns() < until) {
		struct lab_buf *b[32];
		unsigned int n = frames - r.sent < 32 ? frames - r.sent : 32;
		uint16_t s = 0, k;

		if (n != 0 && r.sent - r.got < 200) {
			n = lab_alloc_bulk(p, txo, b, n, 0);
			for (unsigned int i = 0; i < n; i++)
				frame_stamp(b[i], txo->headroom, seq0 + r.sent + i);
			s = lab_port_tx_burst(port, 0, b, (uint16_t)n);
			if (s < n)
				lab_free_bulk(txo, b + s, n - s);
			r.sent += s;
		}
		k = lab_port_rx_burst(port, 0, b, 32);
		for (uint16_t i = 0; i < k; i++) {
			uint32_t seq = UINT32_MAX;

			if (!frame_intact(b[i], &seq) || seq != next)
				r.bad++;
			next = seq + 1;
		}
		r.got += k;
		lab_free_bulk(rxo, b, k);
	}
	return r;
}

/* Poll the port (its queues follow the back-end's comings and goings in
 * their bursts) until its link is @p up, for up to @p secs seconds. */
static bool wait_link(struct lab_port *port, bool up, unsigned int secs)
{
	uint64_t until = lab_now_ns() + secs * 1000000000ull;
	struct lab_cache *rxo = lab_port_rxq_owner(port, 0);

	while (lab_now_ns() < until) {
		struct lab_port_link link = { 0 };
		struct lab_buf *b[32];
		uint16_t k = lab_port_rx_burst(port, 0, b, 32);

		lab_free_bulk(rxo, b, k);
		lab_port_tx_burst(port, 0, b, 0);
		if (lab_port_link(port, &link) == 0 && link.up == up)
			return true;
		sleep_ms(1);
	}
	return false;
}

/* The back-end's socket file appears when it binds, a moment before it
 * listens: a connection refused in that moment is tried again (for up to
 * 30 s on a busy machine); the driver itself fails at once, as it should. */
static struct lab_port *open_on(struct lab_pool *p)
{
	uint64_t until = lab_now_ns() + 30ull * 1000000000ull;
	struct lab_port *port;
	char dev[160];

	snprintf(dev, sizeof(dev), "virtio_user:path=%s", sock);
	log_capture();
	while ((port = port_open(dev, p, 1, 1)) == NULL && lab_now_ns() < until &&
	       strstr(log_text(), "Connection refused") != NULL) {
		log_release();
		sleep_ms(20);
		log_capture();
	}
	if (port == NULL)
		fprintf(stderr, "%s", log_text());
	log_release();
	return port;
}

/* FRAMES frames out through virtio_user, back through testpmd's net_vhost:
 * each comes back once, intact and in order; the buffers all go home. */
static void test_loop_through_testpmd(void)
{
	struct lab_pool *p = shared_pool(4096);
	struct lab_port_link link = { 0 };
	struct lab_port_stats ps;
	struct lab_port *port;
	struct run r;

	CU_ASSERT_PTR_NOT_NULL_FATAL(p);
	backend = start_testpmd();
	CU_ASSERT_FATAL(backend > 0);
	CU_ASSERT_FATAL(testpmd_wait_socket(backend, sock));
	port = open_on(p);
	CU_ASSERT_PTR_NOT_NULL_FATAL(port);
	CU_ASSERT_EQUAL_FATAL(lab_port_start(port), 0);
	CU_ASSERT_EQUAL(lab_port_link(port, &link), 0);
	CU_ASSERT_TRUE(link.up);
	r = run_frames(port, p, FRAMES, 0, 60);
	printf("\n    virtio_user -> net_vhost -> virtio_user: %u sent, %u back, %u out of "
	       "order or damaged\n", r.sent, r.got, r.bad);
	CU_ASSERT_EQUAL(r.sent, FRAMES);
	CU_ASSERT_EQUAL(r.got, FRAMES);
	CU_ASSERT_EQUAL(r.bad, 0);
	lab_port_stats(port, &ps);
	CU_ASSERT_EQUAL(ps.rx[0].errors, 0);
	CU_ASSERT_EQUAL(ps.tx[0].errors, 0);
	lab_port_stop(port);
	CU_ASSERT_EQUAL(lab_port_close(port), 0);
	stop_testpmd(backend);
	backend = 0;
	assert_pool_whole(p); /* and destroys it */
}

/* Kill the back-end (as a crash would), see the link go down, start another
 * (testpmd as a client of ours with @p client), see the link come up and
 * 2 000 frames go out and back in order; then close, and every buffer of @p p
 * is home (the pool is destroyed). */
static void restart_and_close(struct lab_port *port, struct lab_pool *p, bool client)
{
	struct run r;

	kill(backend, SIGKILL);
	waitpid(backend, NULL, 0);
	backend = 0;
	CU_ASSERT_TRUE(wait_link(port, false, 30));
	backend = start_testpmd_as(client);
	CU_ASSERT_FATAL(backend > 0 && (client || testpmd_wait_socket(backend, sock)));
	CU_ASSERT_TRUE_FATAL(wait_link(port, true, 60));
	r = run_frames(port, p, 2000, 1000000, 60);
	printf("\n    %s, after the back-end's restart: %u sent, %u back, %u out of order or "
	       "damaged\n", client ? "server mode" : "client mode", r.sent, r.got, r.bad);
	CU_ASSERT_EQUAL(r.got, 2000);
	CU_ASSERT_EQUAL(r.bad, 0);
	lab_port_stop(port);
	CU_ASSERT_EQUAL(lab_port_close(port), 0);
	stop_testpmd(backend);
	backend = 0;
	assert_pool_whole(p); /* and destroys it */
}

/* The back-end dies mid-run and comes back: the link goes down, the port
 * gives back what its rings held, reconnects by itself, and forwarding
 * resumes; at the end every buffer is home. */
static void test_backend_restart(void)
{
	struct lab_pool *p = shared_pool(4096);
	struct lab_port *port;
	struct run r;

	CU_ASSERT_PTR_NOT_NULL_FATAL(p);
	backend = start_testpmd();
	CU_ASSERT_FATAL(backend > 0 && testpmd_wait_socket(backend, sock));
	port = open_on(p);
	CU_ASSERT_PTR_NOT_NULL_FATAL(port);
	CU_ASSERT_EQUAL_FATAL(lab_port_start(port), 0);
	r = run_frames(port, p, 2000, 0, 60);
	CU_ASSERT_EQUAL(r.got, 2000);
	/* Frames in its rings when it dies are lost with it; ours come home. */
	run_frames(port, p, 100, 0, 0);
	restart_and_close(port, p, false);
}

/* server=1: we listen, testpmd's net_vhost connects as a client; the link is
 * down until it does, up while it serves, and after it dies and starts again
 * it connects again and forwarding resumes. */
static void test_server_mode(void)
{
	struct lab_pool *p = shared_pool(4096);
	struct lab_port_link link = { 0 };
	struct lab_port *port;
	char dev[160];
	struct run r;

	CU_ASSERT_PTR_NOT_NULL_FATAL(p);
	snprintf(dev, sizeof(dev), "virtio_user:path=%s,server=1", sock);
	port = port_open(dev, p, 1, 1);
	CU_ASSERT_PTR_NOT_NULL_FATAL(port);
	CU_ASSERT_EQUAL_FATAL(lab_port_start(port), 0);
	CU_ASSERT_EQUAL(lab_port_link(port, &link), 0);
	CU_ASSERT_FALSE(link.up);
	{
		/* No back-end: a burst is refused whole, and counted once. */
		struct lab_cache *txo = lab_port_txq_owner(port, 0);
		struct lab_port_stats ps;
		struct lab_buf *b[4];

		CU_ASSERT_EQUAL_FATAL(lab_alloc_bulk(p, txo, b, 4, 0), 4);
		for (unsigned int i = 0; i < 4; i++)
			frame_stamp(b[i], txo->headroom, i);
		CU_ASSERT_EQUAL(lab_port_tx_burst(port, 0, b, 4), 0);
		lab_free_bulk(txo, b, 4);
		lab_port_stats(port, &ps);
		CU_ASSERT_EQUAL(ps.tx[0].ring_full, 4);
	}
	backend = start_testpmd_as(true);
	CU_ASSERT_FATAL(backend > 0);
	CU_ASSERT_TRUE_FATAL(wait_link(port, true, 60));
	r = run_frames(port, p, 2000, 0, 60);
	CU_ASSERT_EQUAL(r.got, 2000);
	CU_ASSERT_EQUAL(r.bad, 0);
	restart_and_close(port, p, true);
}

/* What it cannot work with is refused at open, each with a message naming it. */
static void test_refusals(void)
{
	struct lab_pool *shared = shared_pool(1024), *plain = port_pool(2048, 1024);
	char dev[160];

	CU_ASSERT_PTR_NOT_NULL_FATAL(shared);
	CU_ASSERT_PTR_NOT_NULL_FATAL(plain);
	log_capture();
	CU_ASSERT_PTR_NULL(port_open("virtio_user:", shared, 1, 1));
	CU_ASSERT_PTR_NOT_NULL(strstr(log_text(), "path= is required"));
	snprintf(dev, sizeof(dev), "virtio_user:path=%s.none", sock);
	CU_ASSERT_PTR_NULL(port_open(dev, shared, 1, 1));
	CU_ASSERT_PTR_NOT_NULL(strstr(log_text(), "cannot connect to the vhost-user back-end"));
	CU_ASSERT_PTR_NULL(port_open(dev, plain, 1, 1));
	CU_ASSERT_PTR_NOT_NULL(strstr(log_text(), "was not created shared"));
	CU_ASSERT_PTR_NULL(port_open(dev, shared, 1, 2));
	CU_ASSERT_PTR_NOT_NULL(strstr(log_text(), "queues come in pairs"));
	log_release();
	assert_pool_whole(shared); /* and destroys it */
	assert_pool_whole(plain);
}

int main(void)
{
	static const struct lab_test tests[] = {
		LAB_TEST(test_refusals),
		LAB_TEST(test_loop_through_testpmd),
		LAB_TEST(test_backend_restart),
		LAB_TEST(test_server_mode),
		LAB_TEST_END,
	};
	int rc;

	snprintf(sock, sizeof(sock), "/tmp/lab-virtio-%d.sock", (int)getpid());
	if (access("/usr/bin/dpdk-testpmd", X_OK) != 0)
		return lab_test_skip("virtio", tests, "dpdk-testpmd not installed (apt install dpdk)");
	rc = lab_test_run("virtio", tests);
	stop_testpmd(backend);
	return rc;
}
