/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Suite cli: the command line of every app. --help prints the usage on stdout
 * and exits 0, and so does SUBCOMMAND --help where an app has subcommands; a
 * bad option, a missing value or an unknown subcommand is one line on stderr
 * naming it and pointing at --help, exit 1, and nothing on stdout.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../lab_test.h"

static char out[16384], err[16384];

/* Run "@p bin @p args": stdout into out, stderr into err; the exit status. */
static int run(const char *bin, const char *args)
{
	char cmd[4096], errf[] = "/tmp/labcli-err-XXXXXX";
	FILE *f;
	size_t n;
	int fd = mkstemp(errf), rc;

	CU_ASSERT_FATAL(fd >= 0);
	close(fd);
	snprintf(cmd, sizeof(cmd), "%s %s 2>%s </dev/null", bin, args, errf);
	rc = lab_test_sh(cmd, out, sizeof(out));
	f = fopen(errf, "r");
	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	n = fread(err, 1, sizeof(err) - 1, f);
	err[n] = '\0';
	fclose(f);
	unlink(errf);
	return rc;
}

static int lines(const char *s)
{
	int n = 0;

	for (; *s; s++)
		n += *s == '\n';
	return n;
}

static const char *base(const char *bin)
{
	const char *s = strrchr(bin, '/');

	return s ? s + 1 : bin;
}

static void expect_help(const char *bin, const char *args, const char *want)
{
	CU_ASSERT_EQUAL(run(bin, args), 0);
	LAB_TEST_HAS(out, want);
	CU_ASSERT_STRING_EQUAL(err, "");
}

/* One line on stderr with @p needle and "try 'APP --help'"; exit 1. */
static void expect_usage_error(const char *bin, const char *args, const char *needle)
{
	char try[128];

	snprintf(try, sizeof(try), "; try '%s --help'\n", base(bin));
	CU_ASSERT_EQUAL(run(bin, args), 1);
	CU_ASSERT_EQUAL(lines(err), 1);
	LAB_TEST_HAS(err, needle);
	LAB_TEST_HAS(err, try);
	CU_ASSERT_STRING_EQUAL(out, "");
	if (lines(err) != 1)
		fprintf(stderr, "%s %s: want one line, got:\n%s", bin, args, err);
}

/* What every app shares: --help, -h, an unknown long and short option. */
static void expect_common(const char *bin, const char *missing_value)
{
	char usage[64], arg[128];

	snprintf(usage, sizeof(usage), "usage: %s", base(bin));
	expect_help(bin, "--help", usage);
	expect_help(bin, "-h", usage);
	expect_usage_error(bin, "--no-such-option", "unknown option '--no-such-option'");
	expect_usage_error(bin, "-Z", "unknown option '-Z'");
	expect_usage_error(bin, "--help=yes", "option '--help' takes no value");
	snprintf(arg, sizeof(arg), "option '%s' needs a value", missing_value);
	expect_usage_error(bin, missing_value, arg);
}

static void test_labfwd(void)
{
	char dir[] = "/tmp/labcli-XXXXXX", args[128];

	expect_common(LABFWD_BIN, "--port");
	expect_usage_error(LABFWD_BIN, "-p null stray", "unexpected argument 'stray'");
	/* A directory as the config: refused, one line, naming it. */
	CU_ASSERT_PTR_NOT_NULL_FATAL(mkdtemp(dir));
	snprintf(args, sizeof(args), "--config %s", dir);
	CU_ASSERT_EQUAL(run(LABFWD_BIN, args), 1);
	LAB_TEST_HAS(err, dir);
	LAB_TEST_HAS(err, "is a directory, not a regular file");
	CU_ASSERT_EQUAL(lines(err), 1);
	rmdir(dir);
}

/* Every long option of labfwd --help is in docs/labfwd.md (--tx-first was not). */
static void test_labfwd_options_documented(void)
{
	char *doc = NULL, *p, opt[64];
	size_t n = 0;
	FILE *f = fopen(LAB_SOURCE_ROOT "/docs/labfwd.md", "r");
	int found = 0;

	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	CU_ASSERT(getdelim(&doc, &n, '\0', f) > 0);
	fclose(f);
	CU_ASSERT_EQUAL_FATAL(run(LABFWD_BIN, "--help"), 0);
	for (p = strstr(out, " --"); p != NULL; p = strstr(p + 1, " --")) {
		int len = (int)strspn(p + 1, "-abcdefghijklmnopqrstuvwxyz");

		snprintf(opt, sizeof(opt), "%.*s", len, p + 1);
		found++;
		if (strstr(doc, opt) == NULL)
			fprintf(stderr, "labfwd %s is not in docs/labfwd.md\n", opt);
		CU_ASSERT_PTR_NOT_NULL(strstr(doc, opt));
	}
	CU_ASSERT(found > 20);
	free(doc);
}

static void test_labblk(void)
{
	expect_common(LABBLK_BIN, "--dev");
	expect_usage_error(LABBLK_BIN, "", "--dev is required");
	expect_usage_error(LABBLK_BIN, "--dev ram job.fio stray", "unexpected argument 'stray'");
}

static void test_labcheck(void)
{
	expect_common(LABCHECK_BIN, "--config");
	expect_usage_error(LABCHECK_BIN, "stray", "unexpected argument 'stray'");
}

static void test_labctl(void)
{
	expect_common(LABCTL_BIN, "--socket");
	/* COMMAND --help is the help, not a request. */
	expect_help(LABCTL_BIN, "pools --help", "usage: labctl");
	expect_usage_error(LABCTL_BIN, "", "no command given");
	expect_usage_error(LABCTL_BIN, "frobnicate", "'frobnicate' with 0 argument(s): not a command");
}

static void test_labbench(void)
{
	static const char *const benches[] = { "pool", "ring", "quality", "port" };
	char args[512], want[64];

	expect_help(LABBENCH_BIN, "--help", "usage: labbench pool|ring|quality|port");
	expect_help(LABBENCH_BIN, "-h", "usage: labbench pool|ring|quality|port");
	/* BENCH --help describes BENCH and runs nothing (no figures printed). */
	for (int i = 0; i < 4; i++) {
		snprintf(args, sizeof(args), "%s --help", benches[i]);
		snprintf(want, sizeof(want), "usage: labbench %s\n", benches[i]);
		expect_help(LABBENCH_BIN, args, want);
		CU_ASSERT_PTR_NULL(strstr(out, "\"impl\":\""));
	}
	expect_usage_error(LABBENCH_BIN, "", "which benchmark? one of pool, ring, quality, port");
	expect_usage_error(LABBENCH_BIN, "nosuch", "unknown benchmark 'nosuch'");
	expect_usage_error(LABBENCH_BIN, "--no-such-option", "unknown option '--no-such-option'");
	expect_usage_error(LABBENCH_BIN, "pool --fast", "'pool' takes no option: '--fast'");
	expect_usage_error(LABBENCH_BIN, "ring 5", "'ring' takes no argument: '5'");
	/* LAB_BENCH_BURSTS is read by the one number parser: these were taken
	 * as 4 by strtoul(). Refused before any figure is printed. */
	for (const char *const *v = (const char *const[]){ " 4", "+4", "0x4", "4, 8", NULL }; *v;
	     v++) {
		snprintf(args, sizeof(args), "LAB_BENCH_BURSTS='%s' %s", *v, LABBENCH_BIN);
		CU_ASSERT_EQUAL(run(args, "pool"), 1);
		LAB_TEST_HAS(err, "want numbers 1..64 separated by commas, not '");
		CU_ASSERT_PTR_NULL(strstr(out, "\"impl\":\""));
	}
}

/* The line of out that has @p a and @p b, or NULL. */
static const char *row(const char *a, const char *b)
{
	static char line[1024];

	for (const char *s = out; *s != '\0';) {
		const char *e = strchr(s, '\n');
		size_t n = e != NULL ? (size_t)(e - s) : strlen(s);

		if (n < sizeof(line)) {
			memcpy(line, s, n);
			line[n] = '\0';
			if (strstr(line, a) != NULL && strstr(line, b) != NULL)
				return line;
		}
		s += e != NULL ? n + 1 : n;
	}
	return NULL;
}

/* The rows the next turn compares against (issue 24), in short runs:
 * every quality level with ns_per_buf, "unchecked" where a level picks
 * frees for deep checks; labyrinth pool rows at off and at sampled. */
static void test_labbench_rows(void)
{
	static const char *const levels[] = { "raw", "floor", "floor_own", "off", "owner",
					      "sampled", "full" };
	static const char *const cases[] = { "cache_b1", "cache_b32", "nocache_b1", "nocache_b32",
					     "cross_b32", "nocache_oversub_b1" };
	char a[128], b[128];
	const char *r;

	CU_ASSERT_EQUAL(run("LAB_BENCH_BUFS=3200 " LABBENCH_BIN, "quality"), 0);
	for (int l = 0; l < 7; l++) {
		for (int bu = 1; bu <= 32; bu += 31) {
			snprintf(a, sizeof(a), "\"level\":\"%s\",", levels[l]);
			snprintf(b, sizeof(b), "\"case\":\"cache_b%d\"", bu);
			r = row(a, b);
			CU_ASSERT_PTR_NOT_NULL(r);
			if (r == NULL) {
				fprintf(stderr, "no quality row %s %s in:\n%s", a, b, out);
				continue;
			}
			LAB_TEST_HAS(r, "\"ns_per_buf\":");
			LAB_TEST_HAS(r, "\"ratio_vs_raw\":");
			CU_ASSERT_EQUAL(strstr(r, "\"unchecked\":") != NULL, l >= 4);
		}
	}
	/* A bad LAB_BENCH_SAMPLE_BUDGET is an error naming it, not the default. */
	CU_ASSERT_EQUAL(run("LAB_BENCH_BUFS=3200 LAB_BENCH_SAMPLE_BUDGET=abc " LABBENCH_BIN,
			    "quality"), 1);
	LAB_TEST_HAS(err, "LAB_BENCH_SAMPLE_BUDGET: want deep samples per ms, 1 to 1073741824, "
		     "not 'abc'");
	CU_ASSERT_EQUAL(run("LAB_BENCH_BUFS=3200 " LABBENCH_BIN, "pool"), 0);
	for (int l = 0; l < 2; l++) {
		for (int c = 0; c < 6; c++) {
			snprintf(a, sizeof(a), "\"case\":\"%s\",\"impl\":\"labyrinth\","
				 "\"level\":\"%s\",", cases[c], l == 0 ? "off" : "sampled");
			r = row(a, "\"ns_per_buf\":");
			CU_ASSERT_PTR_NOT_NULL(r);
			if (r == NULL)
				fprintf(stderr, "no pool row %s in:\n%s", a, out);
		}
	}
	LAB_TEST_HAS(out, "\"case\":\"latency\",\"impl\":\"labyrinth\",\"level\":\"sampled\"");
	/* peers have no level: their rows keep their fields as they were */
	CU_ASSERT_PTR_NULL(row("\"impl\":\"dpdk_", "\"level\""));
}

static void test_mksample(void)
{
	expect_help(MKSAMPLE_BIN, "--help", "usage: mksample OUT.pcap");
	expect_usage_error(MKSAMPLE_BIN, "--no-such-option", "bad arguments (--no-such-option)");
	expect_usage_error(MKSAMPLE_BIN, "", "bad arguments (no output file)");
	expect_usage_error(MKSAMPLE_BIN, "/tmp/labcli-never.pcap 0", "bad arguments (0)");
	CU_ASSERT_EQUAL(access("/tmp/labcli-never.pcap", F_OK), -1);
}

int main(void)
{
	static const struct lab_test tests[] = {
		LAB_TEST(test_labfwd),
		LAB_TEST(test_labfwd_options_documented),
		LAB_TEST(test_labblk),
		LAB_TEST(test_labcheck),
		LAB_TEST(test_labctl),
		LAB_TEST(test_labbench),
		LAB_TEST(test_labbench_rows),
		LAB_TEST(test_mksample),
		LAB_TEST_END,
	};

	return lab_test_run("cli", tests);
}
