/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Suite blk (labblk as a user runs it): data integrity with --verify on ram,
 * on a file and on a loop device the test makes and removes (root only;
 * skipped with the reason otherwise); the --json summary's fields; errors
 * for bad usage; exit 2 with per-I/O errors counted when the file is shorter
 * than the device claims; fio's habits: one job file run by fio and by labblk
 * and both JSON reports read by one parser (tests/scripts/fio_json.py), bad
 * job files, fio options labblk refuses by name.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../lab_test.h"

static char dir[PATH_MAX];

/* labblk with @p args (a shell fragment). */
static int run(const char *args, char *out, size_t len)
{
	char cmd[16000];

	snprintf(cmd, sizeof(cmd), "%s %s", LABBLK_BIN, args);
	return lab_test_sh(cmd, out, len);
}



static const char *file(const char *name, const char *size)
{
	static char path[PATH_MAX + 64];
	char cmd[2 * PATH_MAX];

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	snprintf(cmd, sizeof(cmd), "truncate -s %s %s", size, path);
	CU_ASSERT_EQUAL(system(cmd), 0);
	return path;
}

static void test_verify_ram(void)
{
	char out[16384];

	CU_ASSERT_EQUAL(run("--dev ram:size=32M --rw randwrite --bs 4096 --iodepth 16 "
			    "--runtime 1 --verify", out, sizeof(out)), 0);
	LAB_TEST_HAS(out, "verify: ");
	LAB_TEST_HAS(out, "0 mismatches: OK");
	LAB_TEST_HAS(out, "accounting OK");
	CU_ASSERT_EQUAL(run("--dev ram:size=32M,block=512 --rw randrw --rwmixread 70 --bs 8192 "
			    "--iodepth 8 --numjobs 2 --size 8M --verify", out, sizeof(out)), 0);
	LAB_TEST_HAS(out, "0 mismatches: OK");
	LAB_TEST_HAS(out, "  read ");
	LAB_TEST_HAS(out, "  write ");
	/* A read workload writes its range first, then checks every read. */
	CU_ASSERT_EQUAL(run("--dev ram:size=16M --rw read --bs 64K --iodepth 4 --verify", out,
			    sizeof(out)), 0);
	LAB_TEST_HAS(out, "verify: 256 blocks checked, 0 mismatches: OK");
}

static void test_verify_file(void)
{
	char cmd[2 * PATH_MAX], out[16384];
	const char *f = file("verify.img", "64M");

	snprintf(cmd, sizeof(cmd), "--dev uring:path=%s --rw randwrite --bs 4096 --iodepth 32 "
		 "--runtime 1 --verify", f);
	CU_ASSERT_EQUAL(run(cmd, out, sizeof(out)), 0);
	LAB_TEST_HAS(out, "0 mismatches: OK");
	LAB_TEST_HAS(out, "into registered buffers");
	/* One sequential pass of 128 KiB writes by two jobs under SQPOLL, every
	 * block read back and checked. */
	snprintf(cmd, sizeof(cmd), "--dev uring:path=%s,sqpoll=1 --rw write --bs 128K "
		 "--iodepth 8 --numjobs 2 --verify", f);
	CU_ASSERT_EQUAL(run(cmd, out, sizeof(out)), 0);
	LAB_TEST_HAS(out, "verify: 512 blocks checked, 0 mismatches: OK");
}

static void test_verify_loop_device(void)
{
	char cmd[3 * PATH_MAX], out[16384], loopdev[64] = "";
	const char *f;
	FILE *p;

	if (geteuid() != 0) {
		fprintf(stderr, "(skipped: loop devices need root) ");
		return;
	}
	f = file("loop.img", "64M");
	snprintf(cmd, sizeof(cmd), "losetup --find --show --direct-io=on %s 2>/dev/null", f);
	p = popen(cmd, "r");
	if (p == NULL || fgets(loopdev, sizeof(loopdev), p) == NULL || loopdev[0] != '/') {
		if (p != NULL)
			pclose(p);
		fprintf(stderr, "(skipped: losetup could not attach a loop device) ");
		return;
	}
	pclose(p);
	loopdev[strcspn(loopdev, "\n")] = '\0';
	snprintf(cmd, sizeof(cmd), "--dev uring:path=%s,qd=64 --rw randrw --bs 4096 "
		 "--iodepth 32 --runtime 1 --verify --json", loopdev);
	CU_ASSERT_EQUAL(run(cmd, out, sizeof(out)), 0);
	LAB_TEST_HAS(out, "0 mismatches: OK");
	LAB_TEST_HAS(out, "\"errors\": 0");
	LAB_TEST_HAS(out, "\"accounting\": \"ok\"");
	snprintf(cmd, sizeof(cmd), "--dev uring:path=%s --rw read --bs 128K --iodepth 8 --verify",
		 loopdev);
	CU_ASSERT_EQUAL(run(cmd, out, sizeof(out)), 0);
	LAB_TEST_HAS(out, "verify: 512 blocks checked, 0 mismatches: OK");
	snprintf(cmd, sizeof(cmd), "losetup -d %s", loopdev);
	CU_ASSERT_EQUAL(system(cmd), 0);
}

/* --json: one object on stdout with the documented fields; human lines on stderr. */
static void test_json_summary(void)
{
	char out[16384], *brace;
	FILE *p;
	size_t n;

	/* A size-based run (512 I/Os): a 0.3 s one that a busy machine kept
	 * its job thread from would have moved nothing (iops 0). */
	p = popen(LABBLK_BIN " --dev ram:size=8M --rw randread --iodepth 4 --size 2M --json "
		  "2>/dev/null", "r");
	CU_ASSERT_PTR_NOT_NULL_FATAL(p);
	n = fread(out, 1, sizeof(out) - 1, p);
	out[n] = '\0';
	CU_ASSERT_EQUAL(pclose(p), 0);
	brace = strchr(out, '{');
	CU_ASSERT_PTR_EQUAL(brace, out); /* nothing before the object */
	CU_ASSERT_EQUAL(strchr(out, '\n'), out + n - 1); /* one line */
	for (const char *const *k = (const char *const[]){ "\"iops\": ", "\"mbps\": ",
		"\"p50_us\": ", "\"p99_us\": ", "\"p999_us\": ", "\"max_us\": ", "\"errors\": 0",
		"\"read\": {", "\"device\": {\"driver\": \"ram\"", "\"ios\": 512,", NULL }; *k; k++)
		LAB_TEST_HAS(out, *k);
	/* It parses as JSON and the figures are consistent. */
	snprintf(out, sizeof(out), "%s --dev ram:size=8M --iodepth 4 --size 2M --json "
		 "2>/dev/null | /usr/bin/python3 -c 'import json,sys; d=json.load(sys.stdin); "
		 "assert d[\"iops\"] > 0 and d[\"p50_us\"] <= d[\"p99_us\"] <= d[\"p999_us\"] <= "
		 "d[\"max_us\"] and d[\"ios\"] == d[\"read\"][\"ios\"], d'", LABBLK_BIN);
	CU_ASSERT_EQUAL(system(out), 0);
}

static void test_bad_usage(void)
{
	char out[8192];

	CU_ASSERT_EQUAL(run("--rw read", out, sizeof(out)), 1);
	LAB_TEST_HAS(out, "--dev is required");
	CU_ASSERT_EQUAL(run("--dev ram --rw sideways", out, sizeof(out)), 1);
	LAB_TEST_HAS(out, "--rw 'sideways': expected read, write, randread, randwrite, rw or randrw");
	CU_ASSERT_EQUAL(run("--dev ram --bs 1000", out, sizeof(out)), 1);
	LAB_TEST_HAS(out, "--bs 1000 must be a multiple of the device's block size 4096");
	CU_ASSERT_EQUAL(run("--dev ram:size=1M --size 2M", out, sizeof(out)), 1);
	LAB_TEST_HAS(out, "--size 2097152 is larger than the device");
	CU_ASSERT_EQUAL(run("--dev ram --iodepth 0", out, sizeof(out)), 1);
	LAB_TEST_HAS(out, "--iodepth '0': expected a number from 1 to 4096");
	CU_ASSERT_EQUAL(run("--dev nvme:x=1", out, sizeof(out)), 1);
	LAB_TEST_HAS(out, "unknown driver 'nvme'; registered: ram");
	CU_ASSERT_PTR_NULL(strstr(out, "No such file"));
	CU_ASSERT_EQUAL(run("--dev ram --runtime -1", out, sizeof(out)), 1);
	LAB_TEST_HAS(out, "--runtime '-1'");
	/* One number parser: what strtod() also took is refused ("1e3", "inf"
	 * ran a workload; "0x1" ran one second). */
	for (const char *const *v = (const char *const[]){ "0x1", "inf", "nan", "' 1'", "+1",
							   "1e3", ".5", "s", NULL }; *v; v++) {
		char args[128], want[128];

		snprintf(args, sizeof(args), "--dev ram --runtime %s", *v);
		CU_ASSERT_EQUAL(run(args, out, sizeof(out)), 1);
		snprintf(want, sizeof(want), "--runtime '%s': expected seconds", (*v)[0] == '\'' ?
			 " 1" : *v);
		LAB_TEST_HAS(out, want);
		CU_ASSERT_PTR_NULL(strstr(out, "IOPS"));
	}
	CU_ASSERT_EQUAL(run("--dev ram --iodepth ' 4'", out, sizeof(out)), 1);
	LAB_TEST_HAS(out, "--iodepth ' 4': expected a number from 1 to 4096 (decimal digits");
	CU_ASSERT_EQUAL(run("--dev ram --numjobs +1", out, sizeof(out)), 1);
	LAB_TEST_HAS(out, "--numjobs '+1': expected a number");
	/* Fractions and fio's trailing 's' stay valid. */
	CU_ASSERT_EQUAL(run("--dev ram:size=4M --runtime 0.1s --iodepth 4", out, sizeof(out)), 0);
	LAB_TEST_HAS(out, "accounting OK");
	CU_ASSERT_EQUAL(run("--help", out, sizeof(out)), 0);
	LAB_TEST_HAS(out, "usage: labblk --dev DEVSTRING");
}

/* The file is cut short while the device was opened at full size: the reads
 * past the new end fail one by one, are counted, and every buffer comes back. */
static void test_short_file_errors(void)
{
	char cmd[3 * PATH_MAX], out[16384];
	const char *f = NULL;
	int rc = -1;

	/* Shrink the file once labblk has opened it at full size: its first
	 * line (on stderr, unbuffered, with --json) comes after the open and
	 * before the jobs start; wait for it (a ceiling of 30 s), not for a
	 * fixed time that a slow start could outlast. The last run's stderr
	 * goes first (the background shell empties it only once it runs). A
	 * machine so busy that the shrink came after the whole run (exit 0,
	 * no error) gets a run 4 and then 16 times as long. */
	for (double secs = 1.5; secs <= 24; secs *= 4) {
		f = file("short.img", "16M");
		snprintf(cmd, sizeof(cmd), "rm -f %s.err; %s --dev uring:path=%s --rw read --bs 4096 "
			 "--iodepth 8 --runtime %.1f --json 2>%s.err >/dev/null & pid=$!; n=0; "
			 "until grep -q time-based %s.err; do n=$((n + 1)); if [ $n -gt 600 ] || "
			 "! kill -0 $pid 2>/dev/null; then echo 'no first line'; break; fi; "
			 "sleep 0.05; done; truncate -s 1M %s; wait $pid; st=$?; cat %s.err; "
			 "exit $st", f, LABBLK_BIN, f, secs, f, f, f, f);
		rc = lab_test_sh(cmd, out, sizeof(out));
		if (rc != 0 || strstr(out, "Input/output error") != NULL)
			break;
		fprintf(stderr, "the shrink came after a %.1f s run%s\n", secs,
			secs < 24 ? "; again, 4 times as long" : "");
	}
	CU_ASSERT_EQUAL(rc, 2);
	CU_ASSERT_PTR_NULL(strstr(out, "no first line"));
	LAB_TEST_HAS(out, "(first: Input/output error)");
	LAB_TEST_HAS(out, "0 in flight after the run: accounting OK");
}

/* A workload that writes, on a device opened read-only: a setup error, refused
 * before the run (exit 1 naming the device and the workload), not a run that
 * moves nothing and exits 0. */
static void test_read_only_device_refuses_writes(void)
{
	char cmd[2 * PATH_MAX], out[16384];
	const char *f = file("ro.img", "16M");

	snprintf(cmd, sizeof(cmd), "--dev uring:path=%s,ro=1 --rw randwrite --runtime 1", f);
	CU_ASSERT_EQUAL(run(cmd, out, sizeof(out)), 1);
	LAB_TEST_HAS(out, ",ro=1' is read-only, but --rw randwrite writes: drop 'ro=1' or run a "
			  "read workload without --verify");
	CU_ASSERT_PTR_NULL(strstr(out, "IOPS"));
	/* --verify writes a read workload's range first. */
	snprintf(cmd, sizeof(cmd), "--dev uring:path=%s,ro=1 --rw read --verify", f);
	CU_ASSERT_EQUAL(run(cmd, out, sizeof(out)), 1);
	LAB_TEST_HAS(out, "but --rw read --verify writes");
	/* Reads are what a read-only device is for. */
	snprintf(cmd, sizeof(cmd), "--dev uring:path=%s,ro=1 --rw randread --size 1M", f);
	CU_ASSERT_EQUAL(run(cmd, out, sizeof(out)), 0);
	LAB_TEST_HAS(out, "  read ");
}

/* A workload that cannot write opens the device read-only (the JSON's
 * features say read_only); one that can opens it read-write. As uid 65534, a
 * root-owned 0444 file can then be measured. */
static void test_read_workload_opens_read_only(void)
{
	char cmd[3 * PATH_MAX], out[16384], sub[PATH_MAX + 8];
	const char *f;

	snprintf(sub, sizeof(sub), "%s/pub", dir);
	CU_ASSERT_EQUAL_FATAL(mkdir(sub, 0755), 0);
	f = file("pub/ro.img", "16M");
	snprintf(cmd, sizeof(cmd), "--dev uring:path=%s --rw randread --size 1M --json", f);
	CU_ASSERT_EQUAL(run(cmd, out, sizeof(out)), 0);
	LAB_TEST_HAS(out, "\"read_only\"]");
	snprintf(cmd, sizeof(cmd), "--dev uring:path=%s --rw randwrite --size 1M --json", f);
	CU_ASSERT_EQUAL(run(cmd, out, sizeof(out)), 0);
	CU_ASSERT_PTR_NULL(strstr(out, "read_only"));
	if (geteuid() != 0) {
		fprintf(stderr, "the uid 65534 check needs root (to become it): not run\n");
		return;
	}
	/* uid 65534 may reach the file (the test's directory 0711, this one 0755)
	 * and read it, not write it. */
	CU_ASSERT_EQUAL(chmod(dir, 0711), 0);
	CU_ASSERT_EQUAL(chmod(f, 0444), 0);
	snprintf(cmd, sizeof(cmd), "setpriv --reuid=65534 --regid=65534 --clear-groups %s "
		 "--dev uring:path=%s --rw read --bs 4096 --size 4M", LABBLK_BIN, f);
	CU_ASSERT_EQUAL(lab_test_sh(cmd, out, sizeof(out)), 0);
	LAB_TEST_HAS(out, "(1024 I/Os)");
	LAB_TEST_HAS(out, "accounting OK");
	snprintf(cmd, sizeof(cmd), "setpriv --reuid=65534 --regid=65534 --clear-groups %s "
		 "--dev uring:path=%s --rw write --bs 4096 --size 4M", LABBLK_BIN, f);
	CU_ASSERT_EQUAL(lab_test_sh(cmd, out, sizeof(out)), 1);
	LAB_TEST_HAS(out, "cannot open block device");
	LAB_TEST_HAS(out, "Permission denied");
	CU_ASSERT_EQUAL(chmod(dir, 0700), 0);
}

/* Write @p text to @p name in the test's directory. @return its path. */
static const char *job_file(const char *name, const char *text)
{
	static char path[PATH_MAX + 64];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "w");
	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	fputs(text, f);
	CU_ASSERT_EQUAL(fclose(f), 0);
	return path;
}

/* One job file, ${ENGINE} and ${FILE} from the environment, run by fio
 * (io_uring, else psync) and by labblk; one parser checks both reports. */
static void test_fio_job_file_both(void)
{
	char cmd[4 * PATH_MAX], out[16384], jf[PATH_MAX + 64];
	const char *img = file("fio.img", "16M"), *engine = "io_uring";

	snprintf(jf, sizeof(jf), "%s", job_file("both.fio",
		"; the same file for fio and labblk\n"
		"[global]\n"
		"ioengine=${ENGINE}\n"
		"filename=${FILE}\n"
		"bs=4k\n"
		"size=4M\n"
		"iodepth=8\n"
		"group_reporting\n"
		"\n"
		"[randread]\n"
		"rw=randread\n"));
	snprintf(cmd, sizeof(cmd), "ENGINE=labyrinth FILE=%s %s --output-format=json "
		 "--output %s/labblk.json %s", img, LABBLK_BIN, dir, jf);
	CU_ASSERT_EQUAL(lab_test_sh(cmd, out, sizeof(out)), 0);
	LAB_TEST_HAS(out, "accounting OK");
	snprintf(cmd, sizeof(cmd), "python3 %s/tests/scripts/fio_json.py %s/labblk.json randread "
		 "4194304 4k", LAB_SOURCE_ROOT, dir);
	CU_ASSERT_EQUAL(lab_test_sh(cmd, out, sizeof(out)), 0);
	if (system("command -v fio >/dev/null") != 0) {
		fprintf(stderr, "(fio not installed: its half not run) ");
		return;
	}
	if (system("fio --enghelp 2>/dev/null | grep -qw io_uring") != 0)
		engine = "psync";
	snprintf(cmd, sizeof(cmd), "ENGINE=%s FILE=%s fio --output-format=json --output=%s/fio.json "
		 "%s", engine, img, dir, jf);
	CU_ASSERT_EQUAL(lab_test_sh(cmd, out, sizeof(out)), 0);
	snprintf(cmd, sizeof(cmd), "python3 %s/tests/scripts/fio_json.py %s/fio.json randread "
		 "4194304 4k", LAB_SOURCE_ROOT, dir);
	CU_ASSERT_EQUAL(lab_test_sh(cmd, out, sizeof(out)), 0);
}

/* Two sections run together, each with its device; json+ adds the buckets;
 * --ramp_time and --rate_iops on the command line. */
static void test_fio_sections_and_options(void)
{
	char cmd[4 * PATH_MAX], out[16384];
	const char *jf = job_file("two.fio",
		"[global]\n"
		"dev=ram:size=8M\n"
		"iodepth=4\n"
		"[reader]\n"
		"rw=randread\n"
		"size=1M\n"
		"[writer]\n"
		"rw=write\n"
		"bs=8k\n"
		"size=2M\n");

	snprintf(cmd, sizeof(cmd), "%s --output-format=json+ %s 2>/dev/null | python3 -c '"
		 "import json,sys; d=json.load(sys.stdin); j=d[\"jobs\"]; "
		 "assert [x[\"jobname\"] for x in j] == [\"reader\", \"writer\"], j; "
		 "assert j[0][\"read\"][\"total_ios\"] == 256 and j[1][\"write\"][\"total_ios\"] == 256; "
		 "b = j[0][\"read\"][\"clat_ns\"][\"bins\"]; assert sum(b.values()) == 256, b; "
		 "assert d[\"global options\"][\"iodepth\"] == \"4\"; "
		 "assert j[1][\"job options\"] == {\"rw\": \"write\", \"bs\": \"8k\", "
		 "\"size\": \"2M\"}, j[1]'", LABBLK_BIN, jf);
	CU_ASSERT_EQUAL(lab_test_sh(cmd, out, sizeof(out)), 0);
	/* The normal layout: fio's lines per job. */
	snprintf(cmd, sizeof(cmd), "%s --output-format normal --name a --dev ram:size=4M "
		 "--size 1M --rw randwrite --ramp_time 0.1 --runtime 0.3", LABBLK_BIN);
	CU_ASSERT_EQUAL(lab_test_sh(cmd, out, sizeof(out)), 0);
	LAB_TEST_HAS(out, "a: (groupid=0, jobs=1): err= 0");
	LAB_TEST_HAS(out, "  write: IOPS=");
	LAB_TEST_HAS(out, "    clat percentiles (");
	LAB_TEST_HAS(out, "99.99th=[");
	/* At most rate_iops per second: the count is bounded by the process's
	 * wall time, which a slow machine can only lengthen. */
	snprintf(cmd, sizeof(cmd), "python3 -c 'import json,subprocess,time; t=time.monotonic(); "
		 "o=subprocess.run([\"%s\", \"--dev\", \"ram:size=4M\", \"--rate_iops\", "
		 "\"100\", \"--runtime\", \"0.5\", \"--iodepth\", \"4\", "
		 "\"--output-format=json\"], capture_output=True, check=True).stdout; "
		 "t=time.monotonic()-t; r=json.loads(o)[\"jobs\"][0][\"read\"]; "
		 "assert 0 < r[\"total_ios\"] <= 100 * t + 1, (r, t)'", LABBLK_BIN);
	CU_ASSERT_EQUAL(lab_test_sh(cmd, out, sizeof(out)), 0);
}

/* A bad job file: exit 1, one message naming file, line and key; no run. */
static void expect_job_error(const char *name, const char *text, const char *want)
{
	char cmd[2 * PATH_MAX], out[8192];
	const char *jf = text != NULL ? job_file(name, text) : name;

	snprintf(cmd, sizeof(cmd), "%s %s", LABBLK_BIN, jf);
	CU_ASSERT_EQUAL(lab_test_sh(cmd, out, sizeof(out)), 1);
	LAB_TEST_HAS(out, want);
	CU_ASSERT_PTR_NULL(strstr(out, "IOPS"));
}

static void test_fio_bad_job_files(void)
{
	char want[PATH_MAX + 128];

	snprintf(want, sizeof(want), "%s/nosect.fio:2: key 'bs' comes before any section", dir);
	expect_job_error("nosect.fio", "; no section\nbs=4k\n[a]\n", want);
	snprintf(want, sizeof(want), "%s/onlyglobal.fio: no job section", dir);
	expect_job_error("onlyglobal.fio", "[global]\ndev=ram\n", want);
	snprintf(want, sizeof(want), "%s/badnum.fio:3: bs '4x': expected a number", dir);
	expect_job_error("badnum.fio", "[a]\ndev=ram\nbs=4x\n", want);
	snprintf(want, sizeof(want), "%s/unknown.fio:4: unknown key 'norandommap' in [j]: not a "
		 "fio option labblk supports", dir);
	expect_job_error("unknown.fio", "[global]\ndev=ram\n[j]\nnorandommap\n", want);
	snprintf(want, sizeof(want), "%s/novar.fio:2: ${LABBLK_NO_SUCH_VAR}: the environment "
		 "variable LABBLK_NO_SUCH_VAR is not set", dir);
	expect_job_error("novar.fio", "[a]\nfilename=${LABBLK_NO_SUCH_VAR}\n", want);
	snprintf(want, sizeof(want), "%s/nodev.fio: job [a] has no filename= or dev=", dir);
	expect_job_error("nodev.fio", "[a]\nrw=read\n", want);
	snprintf(want, sizeof(want), "%s/cli.fio:2: key 'output' in [a]: a command-line option", dir);
	expect_job_error("cli.fio", "[a]\noutput=x\n", want);
	snprintf(want, sizeof(want), "%s/missing.fio", dir);
	expect_job_error(want, NULL, "missing.fio': No such file or directory");
}

/* fio options labblk does not have are refused by name, never ignored. */
static void test_fio_unknown_options(void)
{
	char out[8192];

	CU_ASSERT_EQUAL(run("--dev ram --norandommap", out, sizeof(out)), 1);
	LAB_TEST_HAS(out, "unknown option '--norandommap': not a fio option labblk supports");
	CU_ASSERT_EQUAL(run("--dev ram --output-format terse", out, sizeof(out)), 1);
	LAB_TEST_HAS(out, "--output-format 'terse': expected normal, json or json+");
	CU_ASSERT_EQUAL(run("--dev ram --ioengine libaio", out, sizeof(out)), 1);
	LAB_TEST_HAS(out, "--ioengine 'libaio': labblk has one engine, labyrinth");
	CU_ASSERT_EQUAL(run("--dev ram --filename /x", out, sizeof(out)), 1);
	LAB_TEST_HAS(out, "both dev 'ram' and filename '/x'");
	CU_ASSERT_EQUAL(run("--dev ram --json --output-format json", out, sizeof(out)), 1);
	LAB_TEST_HAS(out, "choose one");
}

int main(void)
{
	static const struct lab_test tests[] = {
		LAB_TEST(test_verify_ram),
		LAB_TEST(test_verify_file),
		LAB_TEST(test_verify_loop_device),
		LAB_TEST(test_json_summary),
		LAB_TEST(test_bad_usage),
		LAB_TEST(test_short_file_errors),
		LAB_TEST(test_read_only_device_refuses_writes),
		LAB_TEST(test_read_workload_opens_read_only),
		LAB_TEST(test_fio_job_file_both),
		LAB_TEST(test_fio_sections_and_options),
		LAB_TEST(test_fio_bad_job_files),
		LAB_TEST(test_fio_unknown_options),
		LAB_TEST_END,
	};
	char cmd[PATH_MAX + 16];
	int rc;

	snprintf(dir, sizeof(dir), "%s/lab-labblk-XXXXXX",
		 getenv("TMPDIR") ? getenv("TMPDIR") : "/var/tmp");
	if (mkdtemp(dir) == NULL) {
		perror(dir);
		return 1;
	}
	rc = lab_test_run("labblk", tests);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", dir);
	return rc;
}
