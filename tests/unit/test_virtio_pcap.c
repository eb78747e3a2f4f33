/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Suites virtio and vhost: 100 000 frames of a pcap (mixed traffic, 60 to
 * 1514 bytes, made by mksample at test time) through labfwd and dpdk-testpmd
 * over vhost-user, out and back, frame for frame:
 *
 *   labfwd pcap <-> labfwd virtio_user  ~  testpmd net_vhost (io forwarding)
 *   labfwd pcap <-> labfwd vhost        ~  testpmd net_virtio_user (io forwarding)
 *
 * Nothing may be lost on either side. labfwd's replay waits for a full
 * virtio/vhost TX ring (its --tx-retry default for replays); testpmd drops on
 * a short TX unless told to retry, so it reads "set fwd io retry" and a long
 * retry budget from a --cmdline-file. labfwd ends at -n 200000: the replay's
 * 100 000 frames received from the file plus the same 100 000 received back
 * from the peer, by which time every one is written to out.pcap (a worker
 * finishes its burst before it sees the stop). -d 90 is the ceiling.
 *
 * testpmd runs --no-huge (no hugepage files) with a file prefix of its own;
 * its runtime directory is removed after each run.
 */
#include <errno.h>
#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../lab_test.h"
#include "testpmd_helpers.h"

#define NFRAMES 100000

static char dir[128], sock[160], in_pcap[192], cmdfile[192], tplog[192];
static pid_t backend;
static unsigned int runs;
static char out[1 << 16];

/* testpmd's DPDK files for @p prefix: its runtime directory and, had it
 * used hugepages, their files. */
static void dpdk_files_remove(const char *prefix)
{
	char cmd[512];

	snprintf(cmd, sizeof(cmd), "rm -rf /var/run/dpdk/%s /dev/hugepages/%s*", prefix, prefix);
	if (system(cmd) != 0)
		fprintf(stderr, "could not remove %s's DPDK files\n", prefix);
}

static void stop_backend(const char *prefix)
{
	testpmd_stop(backend);
	backend = 0;
	unlink(sock);
	dpdk_files_remove(prefix);
}


/* testpmd_spawn(), but its output always into tplog: we read it. */
static pid_t spawn_logged(char *const argv[])
{
	pid_t pid = fork();

	if (pid == 0) {
		int fd = open(tplog, O_WRONLY | O_CREAT | O_TRUNC, 0644);

		if (fd >= 0) {
			dup2(fd, 1);
			dup2(fd, 2);
		}
		execvp(argv[0], argv);
		_exit(127);
	}
	return pid;
}

/* Until testpmd's log says its forwarding has started, in retry mode (for up
 * to 60 s: its link check alone waits up to 9 s for a peer). */
static bool wait_forwarding(void)
{
	static char text[1 << 16];

	for (int i = 0; i < 6000; i++) {
		FILE *f = fopen(tplog, "r");
		size_t n = f ? fread(text, 1, sizeof(text) - 1, f) : 0;

		if (f)
			fclose(f);
		text[n] = '\0';
		if (strstr(text, "io packet forwarding with retry - ports="))
			return true;
		if (waitpid(backend, NULL, WNOHANG) == backend)
			break;
		sleep_ms(10);
	}
	fprintf(stderr, "\n    testpmd did not start forwarding; its log:\n%s\n", text);
	return false;
}

/* out.pcap against in.pcap, frame by frame, streaming (each is ~73 MB).
 * @return -1 when equal, else the index of the first differing or missing
 * frame (said on stderr). */
static long pcap_compare(const char *a, const char *b)
{
	char ea[PCAP_ERRBUF_SIZE], eb[PCAP_ERRBUF_SIZE];
	pcap_t *pa = pcap_open_offline(a, ea), *pb = pcap_open_offline(b, eb);
	long i = 0, diff = -1;

	if (pa == NULL || pb == NULL) {
		fprintf(stderr, "cannot read %s: %s\n", pa ? b : a, pa ? eb : ea);
		diff = 0;
		goto out;
	}
	for (;; i++) {
		struct pcap_pkthdr *ha, *hb;
		const u_char *da, *db;
		int ra = pcap_next_ex(pa, &ha, &da), rb = pcap_next_ex(pb, &hb, &db);

		if (ra != 1 && rb != 1)
			break;
		if (ra != 1 || rb != 1 || ha->caplen != hb->caplen ||
		    memcmp(da, db, ha->caplen) != 0) {
			fprintf(stderr, "\n    first difference: frame %ld (from 0): %s\n", i,
				ra != 1 ? "extra in the output" : rb != 1 ? "missing in the output"
				: "length or bytes differ");
			diff = i;
			break;
		}
	}
out:
	if (pa)
		pcap_close(pa);
	if (pb)
		pcap_close(pb);
	return diff;
}

/* labfwd: the replay on port 0, @p peer_dev on port 1, each forwarding to
 * the other; its output file @p o. @return its exit status (output in out). */
static int run_labfwd(const char *peer_dev, const char *extra, const char *o)
{
	char cmd[1024];

	snprintf(cmd, sizeof(cmd), "timeout -s KILL 150 %s -p pcap:rx=%s,tx=%s -p %s %s "
		 "-n %u -d 90 -i 0 --ctl off", LABFWD_BIN, in_pcap, o, peer_dev, extra,
		 2 * NFRAMES);
	return lab_test_sh(cmd, out, sizeof(out));
}

/* The summary says both ports received all, nothing dropped, every buffer home. */
static void check_summary(const char *o)
{
	char want[64];

	snprintf(want, sizeof(want), "rx0        %u pkts", NFRAMES);
	LAB_TEST_HAS(out, want);
	CU_ASSERT_PTR_NOT_NULL(strstr(strstr(out, want) + 1, want)); /* port 1 too */
	LAB_TEST_HAS(out, "dropped 0 (refused by port 1's TX and freed)");
	LAB_TEST_HAS(out, "accounting: OK");
	CU_ASSERT_EQUAL(pcap_compare(in_pcap, o), -1);
}

/* testpmd with @p vdev and io forwarding of its one port to itself, retrying
 * a short TX for up to a second (100 000 x 10 us) before it would drop. Its
 * output goes to tplog (read by wait_forwarding). */
static pid_t start_testpmd(const char *vdev, char *prefix, size_t plen)
{
	char cmdline[256], vd[256];
	char *argv[] = { "dpdk-testpmd", "--no-huge", "--single-file-segments", "-m", "512",
			 "--no-pci", "-l", "0-1", "--file-prefix", prefix, "--vdev", vd, "--",
			 "--forward-mode=io", "--auto-start", "--no-flush-rx", "--nb-cores=1",
			 "--total-num-mbufs=8192", "--stats-period", "3600", cmdline, NULL };

	snprintf(prefix, plen, "lab-pcap100k-%d-%u", (int)getpid(), runs++);
	snprintf(vd, sizeof(vd), "%s", vdev);
	snprintf(cmdline, sizeof(cmdline), "--cmdline-file=%s", cmdfile);
	unlink(sock);
	unlink(tplog);
	return spawn_logged(argv);
}

/* labfwd virtio_user (driver) <-> testpmd net_vhost (device, listening). The
 * socket file appears a moment before testpmd listens: labfwd, which fails
 * at once on a refused connection, is run again then (for up to 30 s). */
static void test_virtio_user_to_net_vhost(void)
{
	char prefix[64], vdev[256], dev[256], o[192];
	uint64_t until = lab_now_ns() + 30ull * 1000000000ull;
	int rc;

	snprintf(vdev, sizeof(vdev), "net_vhost0,iface=%s,queues=1", sock);
	backend = start_testpmd(vdev, prefix, sizeof(prefix));
	CU_ASSERT_FATAL(backend > 0);
	if (!testpmd_wait_socket(backend, sock)) {
		CU_FAIL("testpmd's net_vhost socket did not appear");
		stop_backend(prefix);
		return;
	}
	snprintf(dev, sizeof(dev), "virtio_user:path=%s", sock);
	snprintf(o, sizeof(o), "%s/out-virtio.pcap", dir);
	while ((rc = run_labfwd(dev, "--set arena.shared=1 --pool-size 8192 --pool-max 8192",
				o)) == 1 && strstr(out, "Connection refused") && lab_now_ns() < until)
		sleep_ms(20);
	stop_backend(prefix);
	CU_ASSERT_EQUAL(rc, 0);
	check_summary(o);
	unlink(o);
}

/* testpmd net_virtio_user (driver) <-> labfwd vhost (device). testpmd gives
 * the device its rings when it probes it, and only later starts the port,
 * and frames written into its RX ring in between are lost (the first 256
 * with labfwd listening, 1 to 256 with labfwd connecting to a testpmd
 * listening, in our runs; testpmd's RX-packets short by as many, labfwd's TX
 * not). So the replay must not meet a testpmd still starting: testpmd
 * listens (server=1) and, as that waits in its probe for a front-end, a
 * first labfwd with only the vhost port connects, testpmd starts forwarding,
 * that labfwd goes, and the replaying labfwd connects to testpmd running
 * (which sets the device up again for the new back-end). */
static void test_net_virtio_user_to_vhost(void)
{
	char prefix[64], vdev[256], dev[256], o[192], cmd[512];
	pid_t first;

	snprintf(vdev, sizeof(vdev), "net_virtio_user0,path=%s,queues=1,server=1", sock);
	backend = start_testpmd(vdev, prefix, sizeof(prefix));
	CU_ASSERT_FATAL(backend > 0);
	if (!testpmd_wait_socket(backend, sock)) {
		CU_FAIL("testpmd's net_virtio_user socket did not appear");
		stop_backend(prefix);
		return;
	}
	snprintf(dev, sizeof(dev), "vhost:path=%s,client=1", sock);
	snprintf(cmd, sizeof(cmd), "exec %s -p %s -i 0 --ctl off >%s/first.log 2>&1", LABFWD_BIN,
		 dev, dir);
	first = fork();
	if (first == 0) {
		execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
		_exit(127);
	}
	CU_ASSERT_FATAL(first > 0);
	if (!wait_forwarding()) {
		CU_FAIL("testpmd did not start forwarding");
		kill(first, SIGKILL);
		waitpid(first, NULL, 0);
		stop_backend(prefix);
		return;
	}
	{
		int st = -1;

		kill(first, SIGINT); /* a clean stop: summary, every buffer home */
		waitpid(first, &st, 0);
		CU_ASSERT(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	}
	snprintf(o, sizeof(o), "%s/out-vhost.pcap", dir);
	CU_ASSERT_EQUAL(run_labfwd(dev, "", o), 0);
	stop_backend(prefix);
	check_summary(o);
	unlink(o);
}

static int setup(void)
{
	char cmd[512];
	FILE *f;

	snprintf(dir, sizeof(dir), "/tmp/lab-pcap100k-%d", (int)getpid());
	snprintf(sock, sizeof(sock), "%s/vh.sock", dir);
	snprintf(in_pcap, sizeof(in_pcap), "%s/in.pcap", dir);
	snprintf(cmdfile, sizeof(cmdfile), "%s/retry.cmd", dir);
	snprintf(tplog, sizeof(tplog), "%s/testpmd.log", dir);
	if (mkdir(dir, 0700) < 0)
		return -1;
	snprintf(cmd, sizeof(cmd), "%s %s %u", MKSAMPLE_BIN, in_pcap, NFRAMES);
	if (lab_test_sh(cmd, out, sizeof(out)) != 0) {
		fprintf(stderr, "%s: %s\n", cmd, out);
		return -1;
	}
	f = fopen(cmdfile, "w");
	if (f == NULL)
		return -1;
	fputs("set fwd io retry\nset burst tx delay 10 retry 100000\n", f);
	return fclose(f);
}

int main(void)
{
	static const struct lab_test tests[] = {
		LAB_TEST(test_virtio_user_to_net_vhost),
		LAB_TEST(test_net_virtio_user_to_vhost),
		LAB_TEST_END,
	};
	char cmd[256];
	int rc;

	if (access("/usr/bin/dpdk-testpmd", X_OK) != 0)
		return lab_test_skip("virtio_pcap", tests,
				     "dpdk-testpmd not installed (apt install dpdk)");
	if (setup() < 0) {
		fprintf(stderr, "virtio_pcap: cannot set up %s: %s\n", dir, strerror(errno));
		return 1;
	}
	rc = lab_test_run("virtio_pcap", tests);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", dir);
	return rc;
}
