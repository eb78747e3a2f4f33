/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Suite 'ctl': the control socket and labctl (the JSON reader is in
 * test_ctl_json.c, clients that misbehave in test_ctl_clients.c). Every command
 * and every kind of bad request, answered in-process (lab_ctl_answer) against
 * a pool and a ring port pair with known figures; the socket itself (line
 * framing, an oversized line, the directory and socket modes, a loosened
 * directory, another user kept out by the file system and by peer
 * credentials, a second server, a dead server's socket, removal at close);
 * and labctl against this process, its `metrics` output checked by a small
 * Prometheus text-format parser. The pool stats table: every row well-formed
 * and documented, and printed by every in-process writer marked for it.
 */
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>

#include <labyrinth/lab_ctl.h>
#include <labyrinth/lab_json.h>
#include <labyrinth/lab_pool_stats_fields.h>

#include "ctl_helpers.h"
#include "port_helpers.h"
#include "stats_helpers.h"
#include "prom_parser.h"

static char dir[64];

/* ---- commands, in-process ---- */

/* A pool "ctlpool", a ring pair with 100 packets sent one way. */
static struct lab_pool *pool;
static struct lab_port *pa, *pb;

static void setup_traffic(void)
{
	struct lab_pool_opts o;
	struct lab_buf *b[100];
	unsigned int n;

	small_pool_opts(&o, 1024, 1024, 8, 16, 32, 8);
	o.name = "ctlpool";
	pool = lab_pool_create(&o);
	CU_ASSERT_PTR_NOT_NULL_FATAL(pool);
	pa = port_open("ring:name=ctl,size=256,bytes=1", pool, 1, 1);
	pb = port_open("ring:name=ctl,size=256,bytes=1", pool, 1, 1);
	CU_ASSERT_PTR_NOT_NULL_FATAL(pa);
	CU_ASSERT_PTR_NOT_NULL_FATAL(pb);
	CU_ASSERT_EQUAL(lab_port_start(pa), 0);
	CU_ASSERT_EQUAL(lab_port_start(pb), 0);
	n = lab_alloc_bulk(pool, lab_port_txq_owner(pa, 0), b, 100, 0);
	CU_ASSERT_EQUAL_FATAL(n, 100);
	for (unsigned int i = 0; i < n; i++)
		b[i]->data_len = 60;
	CU_ASSERT_EQUAL(lab_port_tx_burst(pa, 0, b, 100), 100);
	n = 0;
	while (n < 100) {
		unsigned int got = lab_port_rx_burst(pb, 0, b + n, 100 - n);

		CU_ASSERT_FATAL(got > 0);
		n += got;
	}
	lab_free_bulk(lab_port_rxq_owner(pb, 0), b, n);
}

static void teardown_traffic(void)
{
	CU_ASSERT_EQUAL(lab_port_close(pa), 0);
	CU_ASSERT_EQUAL(lab_port_close(pb), 0);
	assert_pool_whole(pool);
}

static const struct lab_json *find_named(const struct lab_json *arr, const char *name)
{
	for (const struct lab_json *m = arr != NULL ? arr->child : NULL; m != NULL; m = m->next)
		if (lab_json_str(m, "name") != NULL && strcmp(lab_json_str(m, "name"), name) == 0)
			return m;
	return NULL;
}

static void test_commands(void)
{
	struct lab_pool_stats st;
	struct lab_json *j;
	const struct lab_json *p, *q;

	struct lab_warden_stats w;

	setup_traffic();
	/* The warden has started with the pool: let it finish a round (a ceiling
	 * of 30 s: a loaded machine can keep a new thread waiting), then take
	 * the figures the answers are checked against. */
	for (int i = 0; i < 30000; i++) {
		lab_warden_stats(&w);
		if (w.ticks > 0)
			break;
		sleep_ms(1);
	}
	lab_pool_stats(pool, &st);

	j = answer("{\"cmd\":\"pools\"}");
	CU_ASSERT_TRUE(ok_of(j));
	CU_ASSERT_STRING_EQUAL(lab_json_str(j, "cmd"), "pools");
	p = find_named(lab_json_get(j, "pools"), "ctlpool");
	CU_ASSERT_PTR_NOT_NULL_FATAL(p);
	CU_ASSERT_EQUAL(lab_json_num(p, "total", -1), (double)st.total);
	CU_ASSERT_EQUAL(lab_json_num(p, "wm_min", -1), 8);
	CU_ASSERT_EQUAL(lab_json_num(p, "wm_low", -1), 16);
	CU_ASSERT_EQUAL(lab_json_num(p, "wm_high", -1), 32);
	CU_ASSERT_EQUAL(lab_json_num(p, "reserve", -1), 8);
	CU_ASSERT_EQUAL(lab_json_num(p, "in_flight", -1), 0);
	CU_ASSERT_EQUAL(lab_json_num(p, "allocs", -1), (double)st.sum.allocs);
	CU_ASSERT_EQUAL(lab_json_num(p, "free", -1) + lab_json_num(p, "cached", -1) +
				lab_json_num(p, "quarantined", -1),
			(double)st.total);
	lab_json_free(j);

	j = answer("{\"cmd\":\"pool\",\"name\":\"ctlpool\"}");
	CU_ASSERT_TRUE(ok_of(j));
	p = lab_json_get(j, "pool");
	CU_ASSERT_STRING_EQUAL(lab_json_str(p, "pool"), "ctlpool");
	CU_ASSERT_EQUAL(lab_json_num(lab_json_get(p, "reserve"), "size", -1), 8);
	CU_ASSERT_EQUAL(lab_json_num(lab_json_get(p, "memory"), "chambers", -1),
			(double)st.chambers);
	CU_ASSERT_EQUAL(lab_json_num(lab_json_get(p, "memory"), "page_size", -1),
			(double)lab_arena_page_size(lab_pool_arena(pool)));
	CU_ASSERT_FALSE(lab_json_path(p, "memory.hugepages")->b);
	CU_ASSERT_TRUE(lab_json_path(p, "warden.running")->b);
	CU_ASSERT(lab_json_num(lab_json_get(p, "warden"), "ticks", 0) > 0);
	CU_ASSERT_EQUAL(lab_json_get(p, "findings")->n, LAB_FIND_KINDS);
	for (unsigned int k = 0; k < LAB_FIND_KINDS; k++)
		CU_ASSERT_EQUAL(lab_json_num(lab_json_get(p, "findings"), lab_finding_kind_name(k),
					     -1), 0);
	CU_ASSERT(lab_json_get(p, "owners")->n >= 4); /* each queue's owner */
	lab_json_free(j);

	j = answer("{\"cmd\":\"ports\"}");
	CU_ASSERT_TRUE(ok_of(j));
	p = find_named(lab_json_get(j, "ports"), "ring:name=ctl,size=256,bytes=1");
	CU_ASSERT_PTR_NOT_NULL_FATAL(p);
	CU_ASSERT_STRING_EQUAL(lab_json_str(p, "driver"), "ring");
	q = lab_json_get(j, "ports");
	CU_ASSERT_EQUAL(q->n, 2);
	/* One port sent the 100, the other received them: in some order. */
	CU_ASSERT_EQUAL(lab_json_num(lab_json_get(lab_json_at(q, 0), "tx"), "packets", -1) +
				lab_json_num(lab_json_get(lab_json_at(q, 1), "tx"), "packets", -1),
			100);
	CU_ASSERT_EQUAL(lab_json_num(lab_json_get(lab_json_at(q, 0), "rx"), "packets", -1) +
				lab_json_num(lab_json_get(lab_json_at(q, 1), "rx"), "packets", -1),
			100);
	CU_ASSERT_EQUAL(lab_json_num(lab_json_at(lab_json_get(lab_json_at(q, 0), "rxq"), 0),
				     "bytes", -1) +
				lab_json_num(lab_json_at(lab_json_get(lab_json_at(q, 1), "rxq"), 0),
					     "bytes", -1),
			6000);
	lab_json_free(j);

	j = answer("{\"cmd\":\"info\"}");
	CU_ASSERT_TRUE(ok_of(j));
	CU_ASSERT_EQUAL(lab_json_num(j, "pid", -1), (double)getpid());
	CU_ASSERT(lab_json_num(j, "pools", 0) >= 1);
	CU_ASSERT_EQUAL(lab_json_num(j, "ports", 0), 2);
	CU_ASSERT_PTR_NOT_NULL(lab_json_path(j, "log.pool"));
	lab_json_free(j);

	j = answer("{\"cmd\":\"help\"}");
	CU_ASSERT_TRUE(ok_of(j));
	CU_ASSERT_EQUAL(lab_json_get(j, "commands")->n, 7);
	lab_json_free(j);
	teardown_traffic();
}

static void test_set(void)
{
	struct lab_json *j;
	const struct lab_json *p;

	pool = small_pool(1024, 1024, 8, 16, 32, 8);
	CU_ASSERT_PTR_NOT_NULL_FATAL(pool);
	j = answer("{\"cmd\":\"set\",\"what\":\"quality\",\"level\":\"full\",\"pool\":\"t\"}");
	CU_ASSERT_TRUE(ok_of(j));
	CU_ASSERT_EQUAL(lab_pool_quality(pool), LAB_QUALITY_FULL);
	p = find_named(lab_json_get(j, "pools"), "t");
	CU_ASSERT_STRING_EQUAL(lab_json_str(p, "quality"), "full");
	lab_json_free(j);
	j = answer("{\"cmd\":\"set\",\"what\":\"quality\",\"level\":\"sampled\",\"rate\":64}");
	CU_ASSERT_TRUE(ok_of(j));
	CU_ASSERT_EQUAL(lab_pool_quality(pool), LAB_QUALITY_SAMPLED);
	CU_ASSERT_EQUAL(lab_json_num(find_named(lab_json_get(j, "pools"), "t"), "sample_rate", 0),
			64);
	lab_json_free(j);

	j = answer("{\"cmd\":\"set\",\"what\":\"log\",\"level\":\"debug\",\"type\":\"ctl\"}");
	CU_ASSERT_TRUE(ok_of(j));
	CU_ASSERT_EQUAL(lab_log_get_level("ctl"), LAB_LOG_DEBUG);
	CU_ASSERT_STRING_EQUAL(lab_json_str(lab_json_get(j, "log"), "ctl"), "DEBUG");
	lab_json_free(j);
	j = answer("{\"cmd\":\"set\",\"what\":\"log\",\"level\":\"notice\"}");
	CU_ASSERT_TRUE(ok_of(j));
	CU_ASSERT_EQUAL(lab_log_get_level("ctl"), LAB_LOG_NOTICE);
	CU_ASSERT_EQUAL(lab_log_get_level("pool"), LAB_LOG_NOTICE);
	lab_json_free(j);
	CU_ASSERT_EQUAL(lab_pool_destroy(pool), 0);
}

static void test_bad_requests(void)
{
	pool = small_pool(1024, 1024, 8, 16, 32, 8);
	CU_ASSERT_PTR_NOT_NULL_FATAL(pool);
	lab_test_log_capture();
	expect_error("", "bad request: not JSON (byte 0: unexpected token near end of file)");
	expect_error("pools", "not JSON (byte 5: invalid token near 'pools')");
	expect_error("{\"cmd\":\"pools\"", "not JSON (byte 14: '}' expected near end of file)");
	expect_error("[\"pools\"]", "want an object with \"cmd\"");
	expect_error("{\"cmd\":7}", "want an object with \"cmd\" (a string)");
	expect_error("{\"cmd\":\"nope\"}", "unknown command 'nope' (commands: help, info, pools, "
					   "pool, ports, set, metrics)");
	expect_error("{\"cmd\":\"pools\",\"name\":\"t\"}", "pools: unknown member 'name' (it "
							    "takes: nothing)");
	expect_error("{\"cmd\":\"pool\"}", "pool: missing \"name\"");
	expect_error("{\"cmd\":\"pool\",\"name\":5}", "pool: missing \"name\" (a string");
	expect_error("{\"cmd\":\"pool\",\"name\":\"zz\"}", "no pool named 'zz' (pools: ");
	expect_error("{\"cmd\":\"pool\",\"name\":\"t\",\"x\":1}", "pool: unknown member 'x' "
								  "(it takes: name)");
	expect_error("{\"cmd\":\"set\"}", "set: \"what\" is missing (want \"quality\" or "
					  "\"log\")");
	expect_error("{\"cmd\":\"set\",\"what\":\"speed\"}", "\"what\" 'speed' is unknown");
	expect_error("{\"cmd\":\"set\",\"what\":\"quality\"}", "\"level\" is missing");
	expect_error("{\"cmd\":\"set\",\"what\":\"quality\",\"level\":\"most\"}",
		     "\"level\" 'most' is unknown (want \"off\", \"sampled\" or \"full\")");
	expect_error("{\"cmd\":\"set\",\"what\":\"quality\",\"level\":\"full\",\"rate\":0}",
		     "bad \"rate\" (want a whole number 1..1073741824");
	expect_error("{\"cmd\":\"set\",\"what\":\"quality\",\"level\":\"full\",\"rate\":1.5}",
		     "bad \"rate\"");
	expect_error("{\"cmd\":\"set\",\"what\":\"quality\",\"level\":\"full\",\"rate\":\"9\"}",
		     "bad \"rate\"");
	expect_error("{\"cmd\":\"set\",\"what\":\"quality\",\"level\":\"full\","
		     "\"rate\":2147483648}", "bad \"rate\"");
	expect_error("{\"cmd\":\"set\",\"what\":\"quality\",\"level\":\"full\",\"pool\":\"zz\"}",
		     "no pool named 'zz'");
	expect_error("{\"cmd\":\"set\",\"what\":\"log\",\"level\":\"loud\"}",
		     "\"level\" 'loud' is unknown (want err, warning");
	expect_error("{\"cmd\":\"set\",\"what\":\"log\",\"level\":\"info\",\"type\":\"zz\"}",
		     "no log type 'zz' (types: ");
	/* Nothing changed by a refused set. */
	CU_ASSERT_EQUAL(lab_pool_quality(pool), LAB_QUALITY_SAMPLED);
	lab_test_log_release();
	CU_ASSERT_EQUAL(lab_pool_destroy(pool), 0);
}

/* ---- the socket ---- */

static void test_socket(void)
{
	char d[200], path[256], buf[8192];
	struct lab_ctl *c;
	struct stat st;
	int fd;

	snprintf(d, sizeof(d), "%s/rt", dir);
	c = open_in(d);
	CU_ASSERT_PTR_NOT_NULL_FATAL(c);
	snprintf(path, sizeof(path), "%s/test.%d.sock", d, (int)getpid());
	CU_ASSERT_STRING_EQUAL(lab_ctl_path(c), path);
	/* The modes: the directory 0700, the socket 0600. */
	CU_ASSERT_EQUAL(stat(d, &st), 0);
	CU_ASSERT_EQUAL(st.st_mode & 07777, 0700);
	CU_ASSERT_EQUAL(lstat(path, &st), 0);
	CU_ASSERT_TRUE(S_ISSOCK(st.st_mode));
	CU_ASSERT_EQUAL(st.st_mode & 07777, 0600);
	CU_ASSERT_EQUAL(st.st_uid, geteuid());

	/* Two requests in one write, then one in two writes. */
	fd = lab_ctl_connect(path);
	CU_ASSERT_FATAL(fd >= 0);
	CU_ASSERT_EQUAL(write(fd, "{\"cmd\":\"help\"}\n{\"cmd\":\"nope\"}\n", 30), 30);
	read_lines(fd, buf, sizeof(buf), 2);
	LAB_TEST_HAS(buf, "{\"ok\":true,\"cmd\":\"help\"");
	LAB_TEST_HAS(buf, "}\n{\"ok\":false,\"error\":\"unknown command 'nope'");
	CU_ASSERT_EQUAL(write(fd, "{\"cmd\":", 7), 7);
	usleep(20000);
	CU_ASSERT_EQUAL(write(fd, "\"info\"}\n", 8), 8);
	read_lines(fd, buf, sizeof(buf), 1);
	LAB_TEST_HAS(buf, "{\"ok\":true,\"cmd\":\"info\"");
	/* A line longer than LAB_CTL_REQ_MAX: an error, then the connection closes. */
	memset(buf, ' ', sizeof(buf));
	CU_ASSERT_EQUAL(write(fd, buf, LAB_CTL_REQ_MAX + 10), LAB_CTL_REQ_MAX + 10);
	read_lines(fd, buf, sizeof(buf), 2);
	LAB_TEST_HAS(buf, "\"error\":\"request longer than 4095 bytes: closing\"");
	CU_ASSERT_EQUAL(read(fd, buf, 16), 0);
	close(fd);

	/* A second server at the same path is refused; the first still answers. */
	lab_test_log_capture();
	CU_ASSERT_PTR_NULL(open_in(d));
	CU_ASSERT_EQUAL(lab_errno, EADDRINUSE);
	LAB_TEST_HAS(lab_test_log_text(), "a server already answers at");
	lab_test_log_release();
	fd = lab_ctl_connect(path);
	CU_ASSERT(fd >= 0);
	close(fd);

	/* Close removes the socket. */
	lab_ctl_close(c);
	CU_ASSERT_EQUAL(lstat(path, &st), -1);
	CU_ASSERT_EQUAL(errno, ENOENT);
}

/* A socket named for a process that is gone is removed by the next open. */
static void test_stale_socket(void)
{
	char d[70], stale[100];
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct lab_ctl *c;
	pid_t dead = fork();
	int fd;

	if (dead == 0)
		_exit(0);
	waitpid(dead, NULL, 0);
	snprintf(d, sizeof(d), "%s/rt", dir);
	snprintf(stale, sizeof(stale), "%s/labfwd.%d.sock", d, (int)dead);
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", stale);
	fd = socket(AF_UNIX, SOCK_STREAM, 0);
	CU_ASSERT_EQUAL(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	close(fd); /* as if killed: the file stays */
	CU_ASSERT_EQUAL(access(stale, F_OK), 0);
	c = open_in(d);
	CU_ASSERT_PTR_NOT_NULL(c);
	CU_ASSERT_EQUAL(access(stale, F_OK), -1);
	lab_ctl_close(c);
}

/* Directories others could reach, or not ours, or not directories: refused. */
static void test_bad_directory(void)
{
	char d[256], link[300], cmd[700];

	snprintf(d, sizeof(d), "%s/loose", dir);
	CU_ASSERT_EQUAL(mkdir(d, 0755), 0);
	CU_ASSERT_EQUAL(chmod(d, 0755), 0);
	lab_test_log_capture();
	CU_ASSERT_PTR_NULL(open_in(d));
	CU_ASSERT_EQUAL(lab_errno, EPERM);
	LAB_TEST_HAS(lab_test_log_text(), "has mode 0755: other users could reach the socket; "
					  "put it in a private directory (yours, mode 0700), such "
					  "as $XDG_RUNTIME_DIR");
	/* Never advise to chmod a shared directory such as /tmp. */
	CU_ASSERT_PTR_NULL(strstr(lab_test_log_text(), "chmod"));
	snprintf(link, sizeof(link), "%s/link", dir);
	snprintf(cmd, sizeof(cmd), "mkdir -m 700 %s/real && ln -s %s/real %s", dir, dir, link);
	CU_ASSERT_EQUAL(system(cmd), 0);
	CU_ASSERT_PTR_NULL(open_in(link));
	CU_ASSERT_EQUAL(lab_errno, ENOTDIR);
	LAB_TEST_HAS(lab_test_log_text(), "is not a directory (a symbolic link or a file)");
	if (geteuid() == 0) {
		CU_ASSERT_EQUAL(chmod(d, 0700), 0);
		CU_ASSERT_EQUAL(chown(d, 65534, 65534), 0);
		CU_ASSERT_PTR_NULL(open_in(d));
		CU_ASSERT_EQUAL(lab_errno, EPERM);
		LAB_TEST_HAS(lab_test_log_text(), "belongs to uid 65534, not to this user");
	}
	lab_test_log_release();
}

/* As uid 65534 in a child: the connect result, and what the server said. */
static int connect_as_nobody(const char *path, char *reply, size_t len)
{
	int pfd[2], status;
	ssize_t n;
	pid_t pid;

	if (pipe(pfd) < 0)
		return -1;
	pid = fork();
	if (pid == 0) {
		char buf[512] = "";
		int fd, e;

		close(pfd[0]);
		if (setgid(65534) < 0 || setuid(65534) < 0)
			_exit(100);
		fd = lab_ctl_connect(path);
		e = fd < 0 ? -fd : 0;
		if (fd >= 0) {
			/* The server's one line, then it has closed the connection
			 * (ECONNRESET if the request got there before the close). */
			read_lines(fd, buf, sizeof(buf), 1);
			if (send(fd, "{\"cmd\":\"pools\"}\n", 16, MSG_NOSIGNAL) == 16) {
				ssize_t r = read(fd, buf + strlen(buf), 64);

				if (r > 0 || (r < 0 && errno != ECONNRESET))
					e = 99;
			}
		}
		if (write(pfd[1], buf, strlen(buf)) < 0)
			_exit(101);
		_exit(e);
	}
	close(pfd[1]);
	n = read(pfd[0], reply, len - 1);
	reply[n > 0 ? n : 0] = '\0';
	close(pfd[0]);
	waitpid(pid, &status, 0);
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static void test_other_user(void)
{
	char d[256], reply[512];
	struct lab_ctl *c;
	int rc;

	if (geteuid() != 0) {
		fprintf(stderr, "other-user check needs root (to become uid 65534): not run\n");
		return;
	}
	snprintf(d, sizeof(d), "%s/rt2", dir);
	c = open_in(d);
	CU_ASSERT_PTR_NOT_NULL_FATAL(c);
	/* The file system keeps uid 65534 out: the directory is 0700. */
	memset(reply, 0, sizeof(reply));
	rc = connect_as_nobody(lab_ctl_path(c), reply, sizeof(reply));
	CU_ASSERT_EQUAL(rc, EACCES);
	/* Loosened by hand: the peer's credentials still keep it out. */
	CU_ASSERT_EQUAL(chmod(d, 0711), 0);
	CU_ASSERT_EQUAL(chmod(lab_ctl_path(c), 0666), 0);
	lab_test_log_capture();
	memset(reply, 0, sizeof(reply));
	rc = connect_as_nobody(lab_ctl_path(c), reply, sizeof(reply));
	CU_ASSERT_EQUAL(rc, 0);
	LAB_TEST_HAS(reply, "{\"ok\":false,\"error\":\"permission denied: uid 65534 is not the "
			    "owner of this process\"}");
	CU_ASSERT_PTR_NULL(strstr(reply, "\"pools\""));
	LAB_TEST_HAS(lab_test_log_text(), "refused a client of uid 65534");
	lab_test_log_release();
	lab_ctl_close(c);
}

/* ---- the pool stats table (lab_pool_stats_fields.h) and its writers ---- */

/* Every row well-formed and named once; every name in the docs' table. */
static void test_stats_table(void)
{
	size_t n, dlen = 0;
	const struct lab_pool_stat_field *t = lab_pool_stat_fields(&n);
	char a[128], b[128], *doc = NULL;
	FILE *f = fopen(LAB_SOURCE_ROOT "/docs/observability.md", "r");

	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	CU_ASSERT(getdelim(&doc, &dlen, '\0', f) > 0);
	fclose(f);
	CU_ASSERT(n >= 30);
	for (size_t i = 0; i < n; i++) {
		size_t size = t[i].type == LAB_STAT_U32 ? 4 : 8;

		CU_ASSERT(t[i].name != NULL && t[i].name[0] != '\0');
		CU_ASSERT(t[i].help != NULL && t[i].help[0] != '\0');
		CU_ASSERT(t[i].writers != 0);
		CU_ASSERT(t[i].off + size <= sizeof(struct lab_pool_stats));
		snprintf(a, sizeof(a), "| `%s` |", t[i].name);
		if (strstr(doc, a) == NULL)
			fprintf(stderr, "docs/observability.md: no row for '%s'\n", t[i].name);
		CU_ASSERT_PTR_NOT_NULL(strstr(doc, a));
		lab_pool_stat_prom_name(&t[i], a, sizeof(a));
		for (size_t k = 0; k < i; k++) {
			CU_ASSERT(strcmp(t[i].name, t[k].name) != 0);
			lab_pool_stat_prom_name(&t[k], b, sizeof(b));
			CU_ASSERT(strcmp(a, b) != 0);
		}
		/* A family of its own: counters end in _total (once), gauges do not,
		 * and no name is one of the labelled families'. */
		if (t[i].writers & LAB_STAT_PROM) {
			size_t l = strlen(a);

			CU_ASSERT_EQUAL(l > 6 && strcmp(a + l - 6, "_total") == 0,
					t[i].kind == LAB_STAT_COUNTER);
			CU_ASSERT_PTR_NULL(strstr(a, "_total_total"));
			CU_ASSERT(strcmp(a, "labyrinth_pool_findings_total") != 0);
			CU_ASSERT(strcmp(a, "labyrinth_pool_buffers") != 0);
			CU_ASSERT(strcmp(a, "labyrinth_pool_watermark_buffers") != 0);
			CU_ASSERT(strcmp(a, "labyrinth_pool_quality_level") != 0);
		}
	}
	free(doc);
}

/* The pool's JSON, the control socket's pools reply and the Prometheus page
 * each print every row of the table they are marked for. (labfwd's writers:
 * the labfwd suite; DPDK telemetry: the dpdk suite.) */
static void test_stats_writers(void)
{
	struct lab_pool_opts o;
	struct lab_pool *tp;
	struct lab_cache *c;
	struct lab_buf *b[8];
	struct lab_json *j;
	char *text = NULL, want[256], name[128];
	size_t len = 0, n;
	const struct lab_pool_stat_field *t = lab_pool_stat_fields(&n);
	FILE *f;

	small_pool_opts(&o, 1024, 1024, 8, 16, 32, 8);
	o.name = "tblpool";
	tp = lab_pool_create(&o);
	CU_ASSERT_PTR_NOT_NULL_FATAL(tp);
	c = lab_cache_create(tp, "tblq", 32);
	CU_ASSERT_PTR_NOT_NULL_FATAL(c);
	CU_ASSERT_EQUAL(lab_alloc_bulk(tp, c, b, 8, 0), 8);

	f = open_memstream(&text, &len);
	lab_pool_stats_json(tp, f);
	fclose(f);
	j = lab_json_parse(text, len, want, sizeof(want));
	CU_ASSERT_PTR_NOT_NULL_FATAL(j);
	has_rows(j, LAB_STAT_JSON, LAB_STAT_G_POOL, "pool JSON");
	has_rows(lab_json_get(j, "sum"), LAB_STAT_JSON, LAB_STAT_G_SUM, "pool JSON sum");
	has_rows(lab_json_at(lab_json_get(j, "owners"), 0), LAB_STAT_JSON, LAB_STAT_G_SUM,
		 "pool JSON owners[0]");
	has_rows(lab_json_get(j, "sampling"), LAB_STAT_JSON, LAB_STAT_G_SAMPLING,
		 "pool JSON sampling");
	CU_ASSERT_EQUAL(lab_json_num(lab_json_at(lab_json_get(j, "owners"), 0), "allocs", -1), 8);
	lab_json_free(j);
	free(text);

	j = answer("{\"cmd\":\"pools\"}");
	CU_ASSERT_PTR_NOT_NULL_FATAL(j);
	has_rows(find_named(lab_json_get(j, "pools"), "tblpool"), LAB_STAT_CTL, -1, "ctl pools");
	lab_json_free(j);

	text = NULL;
	f = open_memstream(&text, &len);
	lab_ctl_metrics(f);
	fclose(f);
	for (size_t i = 0; i < n; i++) {
		if (t[i].writers & LAB_STAT_PROM) {
			lab_pool_stat_prom_name(&t[i], name, sizeof(name));
			snprintf(want, sizeof(want), "\n%s{pool=\"tblpool\"} ", name);
		} else if (t[i].writers & LAB_STAT_PROM_STATE) {
			snprintf(want, sizeof(want), "\nlabyrinth_pool_buffers{pool=\"tblpool\","
				 "state=\"%s\"} ", t[i].name);
		} else if (t[i].writers & LAB_STAT_PROM_WM) {
			snprintf(want, sizeof(want), "\nlabyrinth_pool_watermark_buffers{pool="
				 "\"tblpool\",level=\"%s\"} ", t[i].name + strlen("wm_"));
		} else {
			continue;
		}
		if (strstr(text, want) == NULL)
			fprintf(stderr, "metrics: no sample%s", want);
		CU_ASSERT_PTR_NOT_NULL(strstr(text, want));
	}
	free(text);

	lab_free_bulk(c, b, 8);
	lab_cache_destroy(c);
	CU_ASSERT_EQUAL(lab_pool_destroy(tp), 0);
}

/* ---- labctl, and its metrics as Prometheus text ---- */

static void test_prom_parser_rejects(void)
{
	static const char *const bad[] = {
		"x 1\n",
		"# HELP a h\n# TYPE a gauge\nb 1\n",
		"# HELP a h\n# TYPE a counter\na 1\n",
		"# HELP a h\n# TYPE a gauge\na{l=\"v} 1\n",
		"# HELP a h\n# TYPE a gauge\na{l=v} 1\n",
		"# HELP a h\n# TYPE a gauge\na one\n",
		"# HELP a h\n# TYPE a gauge\na 1\n# HELP a h\n",
		"# HELP a h\n# TYPE a gauge\na{p=\"x\"} 1\na{p=\"y\"} 1\na{p=\"x\"} 2\n",
	};
	struct prom p;
	char buf[256];
	int ln;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(buf, sizeof(buf), "%s", bad[i]);
		CU_ASSERT_PTR_NOT_NULL(prom_parse(&p, buf, &ln));
	}
	snprintf(buf, sizeof(buf), "# HELP a_total h\n# TYPE a_total counter\n"
		 "a_total{x=\"q\\\"\\\\\"} 3\n");
	CU_ASSERT_PTR_NULL(prom_parse(&p, buf, &ln));
}

static char out[1 << 18];

static int labctl(const char *path, const char *args)
{
	char cmd[1024];

	snprintf(cmd, sizeof(cmd), "%s -s %s %s", LABCTL_BIN, path, args);
	return lab_test_sh(cmd, out, sizeof(out));
}

static void test_labctl(void)
{
	static char text[sizeof(out)];
	char d[256], sample[256], cmd[512];
	struct lab_pool_stats st;
	struct lab_ctl *c;
	struct prom p;
	const char *why;
	int ln;

	setup_traffic();
	snprintf(d, sizeof(d), "%s/rt3", dir);
	c = open_in(d);
	CU_ASSERT_PTR_NOT_NULL_FATAL(c);

	/* Each command line, its exit status and a piece of what it prints
	 * (errors: the server's message, exit 1). */
	static const struct {
		const char *args;
		int rc;
		const char *want;
	} runs[] = {
		{ "pools", 0, "ctlpool " },
		{ "pool ctlpool", 0, "reserve.size                             8\n" },
		{ "ports", 0, "ring:name=ctl,size=256,bytes=1" },
		{ "set quality full --pool ctlpool", 0, "pools[0].quality                         full" },
		{ "--json pools", 0, "{\"ok\":true,\"cmd\":\"pools\"" },
		{ "watch -n 2 -i 0.1", 0, "RX-Mpps" },
		{ "set quality most", 1, "labctl: set quality: \"level\" 'most' is unknown" },
		{ "pool nosuch", 1, "labctl: no pool named 'nosuch'" },
		{ "frobnicate", 1, "'frobnicate' with 0 argument(s): not a command" },
	};

	for (size_t i = 0; i < sizeof(runs) / sizeof(runs[0]); i++) {
		CU_ASSERT_EQUAL(labctl(lab_ctl_path(c), runs[i].args), runs[i].rc);
		LAB_TEST_HAS(out, runs[i].want);
	}
	CU_ASSERT_EQUAL(lab_pool_quality(pool), LAB_QUALITY_FULL);
	snprintf(cmd, sizeof(cmd), "LAB_RUNTIME_DIR=%s/empty %s pools", dir, LABCTL_BIN);
	CU_ASSERT_EQUAL(lab_test_sh(cmd, out, sizeof(out)), 1);
	LAB_TEST_HAS(out, "no labyrinth process to talk to: no live control socket");
	/* The runtime directory's only socket is found without -s. */
	snprintf(cmd, sizeof(cmd), "LAB_RUNTIME_DIR=%s %s info", d, LABCTL_BIN);
	CU_ASSERT_EQUAL(lab_test_sh(cmd, out, sizeof(out)), 0);
	snprintf(sample, sizeof(sample), " %d\n", (int)getpid());
	LAB_TEST_HAS(out, "pid ");
	LAB_TEST_HAS(out, sample);

	/* metrics: valid text format, and the figures are this pool's and ports'. */
	CU_ASSERT_EQUAL(labctl(lab_ctl_path(c), "metrics"), 0);
	memcpy(text, out, sizeof(text));
	why = prom_parse(&p, text, &ln);
	if (why != NULL)
		fprintf(stderr, "metrics line %d: %s\n%s\n", ln, why, out);
	CU_ASSERT_PTR_NULL(why);
	CU_ASSERT(p.nfam >= 25);
	CU_ASSERT(p.samples >= 40);
	lab_pool_stats(pool, &st);
	snprintf(sample, sizeof(sample), "labyrinth_pool_total_buffers{pool=\"ctlpool\"} %llu\n",
		 (unsigned long long)st.total);
	LAB_TEST_HAS(out, sample);
	LAB_TEST_HAS(out, "labyrinth_pool_watermark_buffers{pool=\"ctlpool\",level=\"min\"} 8\n");
	LAB_TEST_HAS(out, "labyrinth_pool_quality_level{pool=\"ctlpool\",level=\"full\"} 1\n");
	LAB_TEST_HAS(out, "labyrinth_pool_findings_total{pool=\"ctlpool\",kind=\"double_free\"} 0\n");
	/* pa and pb have one device string: the port id tells their series apart
	 * (prom_parse refuses a series given twice). */
	for (int i = 0; i < 2; i++) {
		snprintf(sample, sizeof(sample), "labyrinth_port_rx_packets_total{port=\"%u\","
			 "device=\"ring:name=ctl,size=256,bytes=1\",queue=\"0\"} %d\n",
			 i == 0 ? pa->id : pb->id, i == 0 ? 0 : 100);
		LAB_TEST_HAS(out, sample);
	}
	LAB_TEST_HAS(out, "labyrinth_warden_running 1\n");
	lab_ctl_close(c);
	teardown_traffic();
}

int main(void)
{
	static const struct lab_test tests[] = {
		LAB_TEST(test_commands),
		LAB_TEST(test_set),
		LAB_TEST(test_bad_requests),
		LAB_TEST(test_socket),
		LAB_TEST(test_stale_socket),
		LAB_TEST(test_bad_directory),
		LAB_TEST(test_other_user),
		LAB_TEST(test_stats_table),
		LAB_TEST(test_stats_writers),
		LAB_TEST(test_prom_parser_rejects),
		LAB_TEST(test_labctl),
		LAB_TEST_END,
	};
	char cmd[160];
	int rc;

	snprintf(dir, sizeof(dir), "/tmp/lab-ctl-test.XXXXXX");
	if (mkdtemp(dir) == NULL)
		return 1;
	chmod(dir, 0755); /* uid 65534 may enter it, to reach the inner directories */
	rc = lab_test_run("ctl", tests);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "ctl tests: could not remove %s\n", dir);
	return rc;
}
