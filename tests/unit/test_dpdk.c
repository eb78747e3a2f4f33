/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Suite 'dpdk': the labyrinth mempool driver inside unmodified DPDK programs,
 * loaded as a plugin the way a user loads it (-d with a bare name and
 * LD_LIBRARY_PATH, since EAL refuses plugin paths under world-writable
 * directories). DPDK's own mempool and mbuf tests, testpmd forwarding on
 * net_null and net_pcap (output equal to input), telemetry, a fault program
 * (double free, write after free, overrun at quality full, cache off), and
 * DPDK's multi-process tools (proc-info, dumpcap, pdump) against a testpmd
 * primary on labyrinth and on ring_mp_mc in the same run (docs/dpdk.md).
 */
#include <errno.h>
#include <stdbool.h>
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
		 "{ %s; } > then.log 2>&1; kill -INT $pid 2>/dev/null; wait $pid; rc=$?; "
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

/* ------------------------------------------------------- multi-process */

/* Secondary processes need hugepages (shared memory at one address). */
#define MP_PAGES 128

static bool mp_hugepages(const char *what)
{
	long freep = lab_test_free_2m();

	if (freep >= MP_PAGES)
		return true;
	printf("  %s: SKIPPED, %ld free hugepages (need %d)\n", what, freep, MP_PAGES);
	return false;
}

static char mp_prefix[64];

/* EAL arguments of a primary on hugepages, prefix lab<pid>mp<name>. */
static const char *mp_eal(const char *name)
{
	snprintf(mp_prefix, sizeof(mp_prefix), "lab%dmp%s", (int)getpid(), name);
	snprintf(eal, sizeof(eal), "-m 128 --no-pci -l 0-1 --file-prefix %s %s "
		 "--log-level=lib.eal:error", mp_prefix, plugin_arg);
	return eal;
}

/* The primary's hugepage files: DPDK leaves them behind when it exits. */
static void mp_cleanup(void)
{
	char cmd[256], o[256];

	snprintf(cmd, sizeof(cmd), "rm -f /dev/hugepages/%s*", mp_prefix);
	run(cmd, o, sizeof(o));
}

/*
 * A primary testpmd on @p ops' pools, interactive (-i) on the fifo "in" (so
 * the test can send it commands: "start"), ports up, not forwarding: the
 * sample on net_pcap0 (looped when @p loop: infinite_rx holds every frame in
 * an mbuf) to a net_null that receives nothing, so port 0 only receives. The
 * sample is copied next to it: net_pcap hands a secondary its device
 * arguments cut at 63 characters, and the tools probe the primary's devices
 * (docs/dpdk.md, "Multi-process").
 */
static void mp_primary(char *cmd, size_t len, const char *name, const char *ops, bool loop)
{
	snprintf(cmd, len, "dpdk-testpmd %s --vdev net_pcap0,rx_pcap=s.pcap,tx_pcap=/dev/null,"
		 "infinite_rx=%d --vdev net_null1,no-rx=1 --mbuf-pool-ops-name=%s -- "
		 "--total-num-mbufs=8192 --mbcache=0 --no-flush-rx -i 0<>in", mp_eal(name), loop,
		 ops);
}

static const char *mp_ops[] = { "labyrinth", "ring_mp_mc" };

/* The sample, and the fifo mp_primary reads its commands from. */
static void mp_copy_sample(void)
{
	char cmd[1024];

	snprintf(cmd, sizeof(cmd), ":; cp %s s.pcap && rm -f in && mkfifo in", LABFWD_SAMPLE);
	CU_ASSERT_EQUAL(run(cmd, out, sizeof(out)), 0);
}

/* A figure after @p key in @p o, or -1. */
static long long figure(const char *o, const char *key)
{
	const char *p = strstr(o, key);

	return p != NULL ? strtoll(p + strlen(key), NULL, 10) : -1;
}

/*
 * dpdk-proc-info --show-mempool on a quiet primary (testpmd -i, ports up,
 * not forwarding; net_pcap's infinite_rx holds the sample's frames in mbufs):
 * the ops name is the primary's, and the counts are the primary's telemetry
 * (labyrinth) and the same as on ring_mp_mc. proc-info closes the ports and
 * net_pcap then crashes it at exit (DPDK 22.11, docs/dpdk.md): stdbuf keeps
 * what it printed before, and its exit status is not asserted.
 */
static void test_mp_proc_info(void)
{
	long long avail[2], in_use[2];
	char prog[2048], then[1024], want[64];

	if (!mp_hugepages("multi-process proc-info"))
		return;
	mp_copy_sample();
	for (int i = 0; i < 2; i++) {
		mp_primary(prog, sizeof(prog), i ? "pir" : "pil", mp_ops[i], true);
		snprintf(then, sizeof(then), "stdbuf -oL dpdk-proc-info --file-prefix %s %s "
			 "--log-level=lib.eal:error -- --show-mempool=mb_pool_0; printf "
			 "'/labyrinth/info,mb_pool_0\\n' | /usr/bin/python3 /usr/bin/dpdk-telemetry.py "
			 "-f %s", mp_prefix, plugin_arg, mp_prefix);
		CU_ASSERT_EQUAL(run_until(prog, "testpmd> ", then, out, sizeof(out)), 0);
		mp_cleanup();
		snprintf(want, sizeof(want), "ops_name %s\n", mp_ops[i]);
		CU_ASSERT_PTR_NOT_NULL(strstr(out, want));
		avail[i] = figure(out, "Count: avail (");
		in_use[i] = figure(out, "in use (");
		printf("  proc-info on %s: available %lld, in use %lld\n", mp_ops[i], avail[i],
		       in_use[i]);
		CU_ASSERT(in_use[i] > 0);
		CU_ASSERT_EQUAL(avail[i] + in_use[i], 8192);
		if (i == 0)
			CU_ASSERT_EQUAL(avail[i], figure(out, "\"available\": "));
		CU_ASSERT_PTR_NOT_NULL(strstr(out, "Bye..."));
	}
	CU_ASSERT_EQUAL(avail[0], avail[1]);
	CU_ASSERT_EQUAL(in_use[0], in_use[1]);
}

/* The loader argument of a tool that takes no EAL arguments (dumpcap). */
static const char *preload(void)
{
	return plugin_arg[0] ? "LD_PRELOAD=librte_mempool_labyrinth.so " : "";
}

/*
 * The capture tests start the tool on a quiet primary, wait until it has
 * enabled the capture (@p ready in its log), then have the primary forward
 * the sample once (3000 frames) and the tool end on a quiet primary again.
 * Ending a capture while the primary forwards crashes the primary now and
 * then in DPDK 22.11, whatever the mempool: its pdump callback copies into
 * the tool's pool as the tool frees it (fixed in DPDK 25.11, "pdump: fix
 * races in callbacks"; docs/dpdk.md).
 */
#define MP_START "i=0; while [ $i -lt %d ] && ! grep -q '%s' tool.log; do " \
		 "kill -0 $t 2>/dev/null || break; sleep 0.1; i=$((i + 1)); done; " \
		 "echo start > in; "

/*
 * dpdk-dumpcap -c 1000: 1000 frames or more, each the sample's, in order; on
 * labyrinth and on ring_mp_mc alike (before the plugin matched the processes'
 * ops orders, ring_mp_mc captured none: every copy was dropped).
 */
static void test_mp_dumpcap(void)
{
	char prog[2048], then[2048];

	if (!mp_hugepages("multi-process dumpcap"))
		return;
	mp_copy_sample();
	for (int i = 0; i < 2; i++) {
		mp_primary(prog, sizeof(prog), i ? "dcr" : "dcl", mp_ops[i], false);
		snprintf(then, sizeof(then), "rm -f d.pcapng; %stimeout -s INT %d dpdk-dumpcap "
			 "--file-prefix %s -i 0 -c 1000 -w d.pcapng > tool.log 2>&1 & t=$!; "
			 MP_START "wait $t; cat tool.log; /usr/bin/python3 "
			 "%s/tests/dpdk/capture_frames.py s.pcap d.pcapng 1000 && echo DUMPCAP-OK",
			 preload(), WAIT_CEILING, mp_prefix, WAIT_CEILING * 10, "Packets captured:",
			 LAB_SOURCE_ROOT);
		CU_ASSERT_EQUAL(run_until(prog, "testpmd> ", then, out, sizeof(out)), 0);
		mp_cleanup();
		printf("  dumpcap on %s: %s\n", mp_ops[i], strstr(out, "DUMPCAP-OK") ?
		       "1000 frames or more, the sample's" : "FAILED");
		if (strstr(out, "DUMPCAP-OK") == NULL) /* what the primary and the tool said */
			fprintf(stderr, "%s\n", strlen(out) > 3000 ? out + strlen(out) - 3000 : out);
		CU_ASSERT_PTR_NOT_NULL(strstr(out, "DUMPCAP-OK"));
		CU_ASSERT_PTR_NOT_NULL(strstr(out, "Bye..."));
		CU_ASSERT_PTR_NULL(strstr(out, "finding"));
		CU_ASSERT_PTR_NULL(strstr(out, "refused"));
	}
}

/*
 * dpdk-pdump with rx-dev=FILE.pcap. pdump hot-plugs its output device into
 * the primary too (DPDK 22.11 attaches a secondary's device in every
 * process), and testpmd then refuses "start" with a port it has not started:
 * so the primary forwards the looped sample first, pdump attaches, the file
 * grows to a megabyte, forwarding stops ("stop", then the tool ends on a quiet
 * primary, as above): 1000 frames or more, each the sample's, in order.
 */
static void test_mp_pdump(void)
{
	char prog[2048], then[2048];

	if (!mp_hugepages("multi-process pdump"))
		return;
	mp_copy_sample();
	for (int i = 0; i < 2; i++) {
		mp_primary(prog, sizeof(prog), i ? "pdr" : "pdl", mp_ops[i], true);
		snprintf(then, sizeof(then), "rm -f p.pcap; echo start > in; timeout -s INT %d "
			 "stdbuf -oL dpdk-pdump --file-prefix %s %s --log-level=lib.eal:error -- "
			 "--pdump 'port=0,queue=*,rx-dev=p.pcap' > tool.log 2>&1 & t=$!; i=0; "
			 "while [ $i -lt %d ] && [ $(stat -c %%s p.pcap 2>/dev/null || echo 0) "
			 "-lt 1000000 ]; do kill -0 $t 2>/dev/null || break; sleep 0.1; "
			 "i=$((i + 1)); done; echo stop > in; i=0; while [ $i -lt %d ] && "
			 "! grep -qF 'Done.' prog.log; do sleep 0.1; i=$((i + 1)); done; "
			 "kill -INT $t; wait $t; cat tool.log; /usr/bin/python3 "
			 "%s/tests/dpdk/capture_frames.py s.pcap p.pcap 1000 && echo PDUMP-OK",
			 WAIT_CEILING, mp_prefix, plugin_arg, WAIT_CEILING * 10, WAIT_CEILING * 10,
			 LAB_SOURCE_ROOT);
		CU_ASSERT_EQUAL(run_until(prog, "testpmd> ", then, out, sizeof(out)), 0);
		mp_cleanup();
		printf("  pdump on %s: %s\n", mp_ops[i], strstr(out, "PDUMP-OK") ?
		       "1000 frames or more, the sample's" : "FAILED");
		if (strstr(out, "PDUMP-OK") == NULL) /* what the primary and the tool said */
			fprintf(stderr, "%s\n", strlen(out) > 3000 ? out + strlen(out) - 3000 : out);
		CU_ASSERT_PTR_NOT_NULL(strstr(out, "PDUMP-OK"));
		CU_ASSERT_PTR_NOT_NULL(strstr(out, "Bye..."));
		CU_ASSERT_PTR_NULL(strstr(out, "finding"));
	}
}

/* Our program: a secondary gets the primary's count and is refused the rest;
 * one that sees another plugin build's stamp refuses everything, naming both. */
static void test_multi_process(void)
{
	char cmd[1024];

	if (!mp_hugepages("multi-process"))
		return;
	mp_eal("app");
	snprintf(cmd, sizeof(cmd), "%s primary -m 128 --no-pci -l 0 --file-prefix %s "
		 "%s --log-level=lib.eal:error; rc=$?; rm -f /dev/hugepages/%s*; exit $rc",
		 LAB_DPDK_APP, mp_prefix, plugin_arg, mp_prefix);
	CU_ASSERT_EQUAL(run(cmd, out, sizeof(out)), 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "secondary: allocation refused, available 500"));
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "DPDK multi-process: only get_count is supported"));
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "secondary: allocation refused, available 0"));
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "runs labyrinth plugin 0.0.0-other"));
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "and this process " LAB_VERSION ","));
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "primary after the secondaries: available 500"));
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "primary after freeing: available 512"));
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "secondary: OK"));
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "secondary-stamp: OK"));
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "primary: OK"));
	CU_ASSERT_PTR_NULL(strstr(out, "CHECK FAILED"));
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
		LAB_TEST(test_mp_proc_info),
		LAB_TEST(test_mp_dumpcap),
		LAB_TEST(test_mp_pdump),
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
	snprintf(out, sizeof(out), "rm -rf %s /var/run/dpdk/lab%d* /dev/hugepages/lab%dmp*", dir,
		 (int)getpid(), (int)getpid());
	if (system(out) != 0)
		fprintf(stderr, "cannot remove %s\n", dir);
	return rc;
}
