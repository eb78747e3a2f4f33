/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Suite 'dpdk': the labyrinth mempool driver inside unmodified DPDK programs,
 * loaded as a plugin the way a user loads it (-d with a bare name and
 * LD_LIBRARY_PATH, since EAL refuses plugin paths under world-writable
 * directories). DPDK's own mempool and mbuf tests, testpmd forwarding on
 * net_null and net_pcap (output equal to input), telemetry, a fault program
 * (double free, write after free, overrun at quality full, cache off), and a
 * secondary process (refused with a message: unsupported, see docs/dpdk.md).
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <labyrinth/lab_pool_stats_fields.h>

#include "../lab_test.h"

static char dir[128];
static char out[1 << 20];
static char eal[512];

static int run(const char *cmd, char *o, size_t len)
{
	char full[8192];
	int rc;

	snprintf(full, sizeof(full), "cd %s && export LD_LIBRARY_PATH=%s && %s", dir, LAB_MP_DIR,
		 cmd);
	rc = lab_test_sh(full, o, len);
	if (rc != 0 || getenv("LAB_TEST_VERBOSE"))
		fprintf(stderr, "$ %s\n%s\n", cmd, o);
	return rc;
}

/* After `make install` EAL loads the installed plugin from its driver
 * directory by itself; loading the build's copy too would register the ops
 * twice. Then the installed copy is what is tested (and said so). */
static const char *plugin_arg = "-d librte_mempool_labyrinth.so";

/* EAL arguments for one process: no hugepages needed, its own prefix. */
static const char *eal_args(const char *prefix)
{
	snprintf(eal, sizeof(eal), "--no-huge -m 512 --no-pci -l 0-1 --file-prefix lab%d%s "
		 "%s --log-level=lib.eal:error", (int)getpid(), prefix, plugin_arg);
	return eal;
}

/* One of DPDK's own tests (dpdk-test), every pktmbuf pool on labyrinth. */
static void dpdk_autotest(const char *name, const char *prefix)
{
	char cmd[1024];

	snprintf(cmd, sizeof(cmd), "echo %s | dpdk-test %s --mbuf-pool-ops-name=labyrinth", name,
		 eal_args(prefix));
	CU_ASSERT_EQUAL(run(cmd, out, sizeof(out)), 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "Test OK"));
	CU_ASSERT_PTR_NULL(strstr(out, "Test Failed"));
}

static void test_dpdk_mempool_autotest(void)
{
	dpdk_autotest("mempool_autotest", "mp");
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "Testing labyrinth mempool handler"));
}

static void test_dpdk_mbuf_autotest(void)
{
	dpdk_autotest("mbuf_autotest", "mb");
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "ops_name: <labyrinth>"));
	/* mbuf_autotest leaks 3 mbufs of test_mbuf_reset and 2 of test_pktmbuf_pool:
	 * the driver names them (with their allocation sites) when the pools go. */
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "pool 'test_mbuf_reset': 3 buffer(s) in flight"));
}

/*
 * Run @p prog (a DPDK program that runs until SIGINT) in the background, wait
 * until its output has a line matching the extended regex @p until (or it
 * exits, or WAIT_CEILING seconds pass: a slow, busy machine gets time, a fast
 * one does not wait), run @p then meanwhile if given, then SIGINT it and wait
 * for it to end. @p o gets the program's output, then @p then's.
 * @return the program's exit status; 124 if the condition never came.
 */
#define WAIT_CEILING 120

static int run_until(const char *prog, const char *until, const char *then, char *o, size_t len)
{
	char cmd[8192];

	/* ':;' ends run()'s 'cd DIR && export ...' list first, so that only the
	 * program goes in the background and $! is its (timeout's) pid. The old
	 * log goes first: the background shell truncates it only when it gets
	 * to run, and the last program's lines would meet the condition. */
	snprintf(cmd, sizeof(cmd), ":; rm -f prog.log then.log; "
		 "timeout --preserve-status -s INT %d %s > prog.log 2>&1 & pid=$!; "
		 "i=0; ok=0; while [ $i -lt %d ]; do "
		 "if grep -Eq '%s' prog.log; then ok=1; break; fi; "
		 "kill -0 $pid 2>/dev/null || break; sleep 0.1; i=$((i + 1)); done; "
		 "%s > then.log 2>&1; kill -INT $pid 2>/dev/null; wait $pid; rc=$?; "
		 "cat prog.log then.log; [ $ok = 1 ] || { echo 'NOT SEEN: %s'; exit 124; }; "
		 "exit $rc", WAIT_CEILING + 60, prog, WAIT_CEILING * 10, until,
		 then != NULL ? then : "true", until);
	return run(cmd, o, len);
}

/* testpmd in io mode, until @p until shows in its output. */
static int testpmd(const char *prefix, const char *vdevs, const char *extra, const char *until)
{
	char cmd[2048];

	snprintf(cmd, sizeof(cmd), "dpdk-testpmd %s %s --mbuf-pool-ops-name=labyrinth -- "
		 "--no-flush-rx --total-num-mbufs=8192 --forward-mode=io --stats-period 1 -a %s",
		 eal_args(prefix), vdevs, extra);
	return run_until(cmd, until, NULL, out, sizeof(out));
}

/* The sum of the RX-packets figures of testpmd's last stats block. */
static unsigned long long last_rx_packets(const char *o)
{
	const char *last = NULL, *r;
	unsigned long long sum = 0;

	for (r = strstr(o, "NIC statistics for port"); r != NULL;
	     r = strstr(r + 1, "NIC statistics for port"))
		last = r;
	for (r = last; r != NULL && (r = strstr(r, "RX-packets:")) != NULL; r++)
		sum += strtoull(r + 11, NULL, 10);
	return sum;
}

/* Forwarding on a net_null pair: it moves frames (no rate asserted: a busy
 * machine is slow), and quits with every mbuf back and no finding. */
static void test_testpmd_null(void)
{
	const char *caches[] = { "--mbcache=250", "--mbcache=0" };

	for (int i = 0; i < 2; i++) {
		CU_ASSERT_EQUAL(testpmd("null", "--vdev net_null0 --vdev net_null1", caches[i],
					"Rx-pps: +[1-9]"), 0);
		CU_ASSERT_PTR_NOT_NULL(strstr(out, "preferred mempool ops selected: labyrinth"));
		CU_ASSERT(last_rx_packets(out) > 0);
		CU_ASSERT_PTR_NOT_NULL(strstr(out, "Bye..."));
		CU_ASSERT_PTR_NULL(strstr(out, "in flight"));
		CU_ASSERT_PTR_NULL(strstr(out, "finding"));
	}
}

/* A pool larger than EAL's memory (-m 128): populate runs out part way and
 * DPDK takes back every object it had handed over before freeing the pool.
 * No buffer was ever the application's: the only report is DPDK's cause, no
 * "in flight" leak and no quality finding. */
static void test_populate_out_of_memory(void)
{
	char cmd[2048];

	snprintf(cmd, sizeof(cmd), "dpdk-testpmd --no-huge -m 128 --no-pci -l 0-1 --file-prefix "
		 "lab%doom %s --log-level=lib.eal:error --vdev net_null0 "
		 "--mbuf-pool-ops-name=labyrinth -- --total-num-mbufs=300000 -a", (int)getpid(),
		 plugin_arg);
	CU_ASSERT_NOT_EQUAL(run(cmd, out, sizeof(out)), 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "preferred mempool ops selected: labyrinth"));
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "Creation of mbuf pool for socket 0 failed: Cannot "
					   "allocate memory"));
	CU_ASSERT_PTR_NULL(strstr(out, "in flight"));
	CU_ASSERT_PTR_NULL(strstr(out, "labyrinth: quality"));
	CU_ASSERT_PTR_NULL(strstr(out, "labyrinth: pool"));
}

/* A pcap through testpmd: every frame out, in order, byte for byte. Quits
 * once the port's stats show the file's last frame received. */
static void test_testpmd_pcap(void)
{
	char vdev[1024], cmd[1024];

	snprintf(vdev, sizeof(vdev), "--vdev net_pcap0,rx_pcap=%s,tx_pcap=%s/out.pcap",
		 LABFWD_SAMPLE, dir);
	CU_ASSERT_EQUAL(testpmd("pcap", vdev, "--mbcache=0", "RX-packets: +3000 "), 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "preferred mempool ops selected: labyrinth"));
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "Bye..."));
	snprintf(cmd, sizeof(cmd), "/usr/bin/python3 %s/tests/dpdk/pcap_frames.py %s out.pcap",
		 LAB_SOURCE_ROOT, LABFWD_SAMPLE);
	CU_ASSERT_EQUAL(run(cmd, out, sizeof(out)), 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "frames 3000 3000"));
}

/* Telemetry from a running testpmd, read with dpdk-telemetry.py once the
 * first stats line shows the pool is up and forwarding. */
static void test_telemetry(void)
{
	char prog[1024], query[1024];
	const struct lab_pool_stat_field *t;
	size_t n;

	snprintf(prog, sizeof(prog), "dpdk-testpmd %s --vdev net_null0 "
		 "--mbuf-pool-ops-name=labyrinth -- --total-num-mbufs=8192 --stats-period 1 -a",
		 eal_args("tel"));
	snprintf(query, sizeof(query), "printf '/labyrinth/list\\n/labyrinth/info,mb_pool_0\\n"
		 "/labyrinth/info,nosuch\\n' | /usr/bin/python3 /usr/bin/dpdk-telemetry.py "
		 "-f lab%dtel", (int)getpid());
	CU_ASSERT_EQUAL(run_until(prog, "Rx-pps:", query, out, sizeof(out)), 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "\"/labyrinth/list\": [\"mb_pool_0\"]"));
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "\"name\": \"mb_pool_0\""));
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "\"total\": 8192"));
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "\"wm_min\": 0"));
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "\"quality\": \"sampled\""));
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "\"double_free\": 0"));
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "\"/labyrinth/info\": null"));
	/* Every figure the pool stats table marks for telemetry, by its name. */
	t = lab_pool_stat_fields(&n);
	for (size_t i = 0; i < n; i++) {
		char want[96];

		if (!(t[i].writers & LAB_STAT_TEL))
			continue;
		snprintf(want, sizeof(want), "\"%s\": ", t[i].name);
		if (strstr(out, want) == NULL)
			fprintf(stderr, "telemetry: no %s\n", want);
		CU_ASSERT_PTR_NOT_NULL(strstr(out, want));
	}
}

static void test_fault_program(void)
{
	char cmd[1024];

	snprintf(cmd, sizeof(cmd), "LABYRINTH_MEMPOOL=quality=full %s fault %s", LAB_DPDK_APP,
		 eal_args("flt"));
	CU_ASSERT_EQUAL(run(cmd, out, sizeof(out)), 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "fault: OK"));
	CU_ASSERT_PTR_NULL(strstr(out, "CHECK FAILED"));
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "after the faults: available 507, in use 5"));
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "all freed: available 512, in use 0"));
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "finding kind=double_free pool=fault_pool"));
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "finding kind=use_after_free pool=fault_pool"));
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "finding kind=overrun pool=fault_pool"));
	/* Sites are resolved in the program that made the bad call. */
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "site=lab_dpdk_app"));
	/* Bad parameters: a message naming the variable, the key, and no pool. */
	snprintf(cmd, sizeof(cmd), "LABYRINTH_MEMPOOL=quality=ful %s fault %s", LAB_DPDK_APP,
		 eal_args("flt"));
	CU_ASSERT_EQUAL(run(cmd, out, sizeof(out)), 1);
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "mempool 'fault_pool': LABYRINTH_MEMPOOL: quality=ful"));
	snprintf(cmd, sizeof(cmd), "LABYRINTH_MEMPOOL=colour=red %s fault %s", LAB_DPDK_APP,
		 eal_args("flt"));
	CU_ASSERT_EQUAL(run(cmd, out, sizeof(out)), 1);
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "unknown key 'colour'"));
}

/* Secondary processes need hugepages (shared memory at one address). */
static void test_multi_process(void)
{
	char cmd[1024], prefix[64];
	FILE *f = fopen("/proc/meminfo", "r");
	unsigned long freep = 0;
	char line[128];

	while (f != NULL && fgets(line, sizeof(line), f))
		sscanf(line, "HugePages_Free: %lu", &freep);
	if (f != NULL)
		fclose(f);
	if (freep < 128) {
		printf("  multi-process: SKIPPED, %lu free hugepages (need 128)\n", freep);
		return;
	}
	snprintf(prefix, sizeof(prefix), "lab%dmp", (int)getpid());
	snprintf(cmd, sizeof(cmd), "%s primary -m 128 --no-pci -l 0 --file-prefix %s "
		 "%s --log-level=lib.eal:error; rc=$?; rm -f /dev/hugepages/%smap_*; exit $rc",
		 LAB_DPDK_APP, prefix, plugin_arg, prefix);
	CU_ASSERT_EQUAL(run(cmd, out, sizeof(out)), 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "secondary: allocation refused"));
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "DPDK multi-process is not supported"));
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "primary after the secondary: available 512"));
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "secondary: OK"));
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "primary: OK"));
}

int main(void)
{
	static const struct lab_test tests[] = {
		LAB_TEST(test_dpdk_mempool_autotest),
		LAB_TEST(test_dpdk_mbuf_autotest),
		LAB_TEST(test_testpmd_null),
		LAB_TEST(test_testpmd_pcap),
		LAB_TEST(test_populate_out_of_memory),
		LAB_TEST(test_telemetry),
		LAB_TEST(test_fault_program),
		LAB_TEST(test_multi_process),
		{ NULL, NULL },
	};
	int rc;

	snprintf(dir, sizeof(dir), "/tmp/lab-dpdk-XXXXXX");
	if (mkdtemp(dir) == NULL)
		return 1;
	if (access("/usr/bin/dpdk-testpmd", X_OK) != 0)
		return lab_test_skip("dpdk", tests, "dpdk-testpmd not installed (apt install dpdk)");
	if (access(LAB_PMD_DIR "/librte_mempool_labyrinth.so", R_OK) == 0) {
		printf("NOTICE: testing the installed plugin in %s (make install put it there; EAL "
		       "loads it by itself)\n", LAB_PMD_DIR);
		plugin_arg = "";
	}
	rc = lab_test_run("dpdk", tests);
	/* The temp directory, and the runtime directories EAL leaves behind. */
	snprintf(out, sizeof(out), "rm -rf %s /var/run/dpdk/lab%d*", dir, (int)getpid());
	if (system(out) != 0)
		fprintf(stderr, "cannot remove %s\n", dir);
	return rc;
}
