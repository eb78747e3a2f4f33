/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Suite 'ctl': labctl -i, the console. Its completion as a function (this
 * file includes apps/labctl/console.c, SPDK-style, and stubs what it calls of
 * labctl.c); then the binary against a server in this process: commands on
 * stdin (the replies, a failed command not ending the session, the exit
 * status), and, where script(1) gives it a terminal, TAB completion and the
 * history file.
 */
#include <errno.h>
#include <stdlib.h>
#include <sys/stat.h>

#include <labyrinth/lab_pool.h>

#include "ctl_helpers.h"
#include "pool_helpers.h"

#undef LABCTL_HAVE_EDITLINE
#include "../../apps/labctl/console.c"

/* labctl.c's parts the console calls: unused by the completion tests. */
int build_request(int argc, char **argv, const char *pool, char *req, size_t len)
{
	(void)argc, (void)argv, (void)pool, (void)req, (void)len;
	return -1;
}

int one_shot(const char *cmd, const char *req)
{
	(void)cmd, (void)req;
	return 1;
}

struct lab_json *ask_quiet(const char *req)
{
	(void)req;
	return NULL;
}

const char *labctl_sock_path(void)
{
	return "";
}

static char dir[64];
static char out[1 << 16];

/* The completions of the last word of @p line, space-joined, into @p buf. */
static const char *completions(const char *line, char *buf, size_t len)
{
	static const char *const pools[] = { "labfwd", "labblk", "other", NULL };
	static const char *const types[] = { "pool", "port", "ctl", NULL };
	const struct console_names n = { pools, types };
	const char *found[32];
	size_t start = strlen(line), k, o = 0;

	while (start > 0 && line[start - 1] != ' ')
		start--;
	k = console_complete(line, start, line + start, &n, found, 32);
	buf[0] = '\0';
	for (size_t i = 0; i < k; i++)
		o += (size_t)snprintf(buf + o, len - o, "%s%s", i ? " " : "", found[i]);
	return buf;
}

static void test_completion(void)
{
	static const struct {
		const char *line, *want;
	} cases[] = {
		{ "", "help info pools pool ports set metrics raw quit exit" },
		{ "po", "pools pool ports" },
		{ "  pools", "pools" },
		{ "x", "" },
		{ "set ", "quality log" },
		{ "set q", "quality" },
		{ "set quality ", "off sampled full" },
		{ "set quality s", "sampled" },
		{ "set quality full ", "--pool" },
		{ "set quality full 64 ", "--pool" },
		{ "set quality full 64 --pool ", "labfwd labblk other" },
		{ "set quality full --pool lab", "labfwd labblk" },
		{ "set quality full 64 --pool x ", "" },
		{ "set log ", "err warning notice info debug" },
		{ "set log d", "debug" },
		{ "set log debug ", "pool port ctl" },
		{ "set log debug p", "pool port" },
		{ "set log debug pool ", "" },
		{ "set nothing ", "" },
		{ "pool ", "labfwd labblk other" },
		{ "pool o", "other" },
		{ "pool other ", "" },
		{ "pools ", "" },
		{ "raw ", "" },
	};
	char buf[256];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const char *got = completions(cases[i].line, buf, sizeof(buf));

		/* fputs: GCC's -Wformat-overflow under UBSan takes got for NULL */
		if (strcmp(got, cases[i].want) != 0) {
			fputs(cases[i].line, stderr);
			fputs(": completions '", stderr);
			fputs(got, stderr);
			fputs("', want '", stderr);
			fputs(cases[i].want, stderr);
			fputs("'\n", stderr);
		}
		CU_ASSERT_STRING_EQUAL(got, cases[i].want);
	}
}

/* At most @p max found, the rest dropped; a line longer than the buffer is cut. */
static void test_completion_limits(void)
{
	static const char *const none[] = { NULL };
	const struct console_names n = { none, none };
	const char *found[2];
	char line[LABCTL_LINE_MAX + 100];

	CU_ASSERT_EQUAL(console_complete("", 0, "", &n, found, 2), 2);
	CU_ASSERT_STRING_EQUAL(found[0], "help");
	CU_ASSERT_STRING_EQUAL(found[1], "info");
	CU_ASSERT_EQUAL(console_complete("pool ", 5, "", &n, found, 2), 0);
	memset(line, 'a', sizeof(line) - 1);
	line[sizeof(line) - 1] = '\0';
	CU_ASSERT_EQUAL(console_complete(line, sizeof(line) - 1, "", &n, found, 2), 0);
}

static struct lab_pool *pool;
static struct lab_ctl *ctl;

static int console(const char *input, const char *env)
{
	char cmd[1024];

	snprintf(cmd, sizeof(cmd), "printf '%s' | %s %s -s %s -i", input, env, LABCTL_BIN,
		 lab_ctl_path(ctl));
	return lab_test_sh(cmd, out, sizeof(out));
}

static void test_stdin_commands(void)
{
	/* Each command's reply, in order, over one connection. */
	CU_ASSERT_EQUAL(console("pools\\n\\nset quality full --pool t\\nset log debug ctl\\n"
				"raw {\"cmd\": \"pool\", \"name\": \"t\"}\\n", ""), 0);
	LAB_TEST_HAS(out, "POOL ");
	LAB_TEST_HAS(out, "pools[0].quality                         full");
	LAB_TEST_HAS(out, "log.ctl                                  DEBUG");
	LAB_TEST_HAS(out, "reserve.size "); /* raw: the pool's reply, spaces and all */
	CU_ASSERT_EQUAL(lab_pool_quality(pool), LAB_QUALITY_FULL);
	/* A failed command is said and the session goes on; the exit status is 1. */
	CU_ASSERT_EQUAL(console("pool nosuch\\nfrobnicate now\\nset quality off\\n", ""), 1);
	LAB_TEST_HAS(out, "labctl: no pool named 'nosuch'");
	LAB_TEST_HAS(out, "'frobnicate' with 1 argument(s): not a command");
	LAB_TEST_HAS(out, "pools[0].quality                         off");
	CU_ASSERT_EQUAL(lab_pool_quality(pool), LAB_QUALITY_OFF);
	/* quit ends it: what follows is not sent. */
	CU_ASSERT_EQUAL(console("quit\\nset quality full\\n", ""), 0);
	CU_ASSERT_EQUAL(lab_pool_quality(pool), LAB_QUALITY_OFF);
	CU_ASSERT_EQUAL(console("", ""), 0); /* EOF at once */
	/* The console takes no command words, and needs a process. */
	snprintf(out, sizeof(out), "%s -s %s -i pools", LABCTL_BIN, lab_ctl_path(ctl));
	CU_ASSERT_EQUAL(lab_test_sh(out, out, sizeof(out)), 1);
	LAB_TEST_HAS(out, "the console (-i) takes its commands on its own input, not 'pools'");
	snprintf(out, sizeof(out), "echo pools | %s -s %s/none.sock -i", LABCTL_BIN, dir);
	CU_ASSERT_EQUAL(lab_test_sh(out, out, sizeof(out)), 1);
	LAB_TEST_HAS(out, "cannot connect to");
}

/* On a terminal (script(1) makes one): TAB completes, history is written. */
static void test_terminal(void)
{
	char cmd[1024], hist[128];

	if (system("command -v script >/dev/null") != 0) {
		fprintf(stderr, "no script(1): the terminal test is skipped\n");
		return;
	}
	snprintf(hist, sizeof(hist), "%s/history", dir);
	lab_pool_set_quality(pool, LAB_QUALITY_SAMPLED, 0);
	snprintf(cmd, sizeof(cmd), "printf 'set quality fu\\t\\npool \\t\\nquit\\n' | "
		 "LABCTL_HISTORY=%s timeout 60 script -qec '%s -s %s -i' /dev/null", hist,
		 LABCTL_BIN, lab_ctl_path(ctl));
	CU_ASSERT_EQUAL(lab_test_sh(cmd, out, sizeof(out)), 0);
	LAB_TEST_HAS(out, "labctl> ");
	LAB_TEST_HAS(out, "pools[0].quality                         full");
	LAB_TEST_HAS(out, "wm_min "); /* "pool \t": the only pool's name completed */
	CU_ASSERT_EQUAL(lab_pool_quality(pool), LAB_QUALITY_FULL);
	snprintf(cmd, sizeof(cmd), "cat %s", hist);
	CU_ASSERT_EQUAL(lab_test_sh(cmd, out, sizeof(out)), 0);
	LAB_TEST_HAS(out, "set\\040quality\\040full");
	LAB_TEST_HAS(out, "pool\\040t");
}

int main(void)
{
	static const struct lab_test tests[] = {
		LAB_TEST(test_completion),
		LAB_TEST(test_completion_limits),
		LAB_TEST(test_stdin_commands),
		LAB_TEST(test_terminal),
		LAB_TEST_END,
	};
	char cmd[128];
	int rc;

	snprintf(dir, sizeof(dir), "/tmp/lab-console-test.XXXXXX");
	if (mkdtemp(dir) == NULL)
		return 1;
	pool = small_pool(1024, 1024, 8, 16, 32, 8);
	ctl = open_in(dir);
	if (pool == NULL || ctl == NULL) {
		fprintf(stderr, "console tests: no pool or server: %s\n", strerror(lab_errno));
		return 1;
	}
	rc = lab_test_run("ctl", tests);
	lab_ctl_close(ctl);
	lab_pool_destroy(pool);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "console tests: could not remove %s\n", dir);
	return rc;
}
