/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Suite 'metrics': the Prometheus HTTP endpoint (lib/ctl/http.c) in-process
 * (listen addresses, loopback only unless allowed, 404/405, clients that
 * never send or never read), and labfwd --metrics and labblk --metrics as a
 * user runs them, scraped with curl and checked with promtool. Every wait has
 * a 60 s ceiling; nothing asserts a rate.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <labyrinth/lab_common.h>
#include <labyrinth/lab_ctl.h>

#include "lab_test.h"

static char dir[128];
static char out[1 << 17];

static void check_err(const char *listen, bool remote, int want_rc, const char *want)
{
	char err[256] = "";

	CU_ASSERT_EQUAL(lab_metrics_http_check(listen, remote, err, sizeof(err)), want_rc);
	if (want != NULL)
		LAB_TEST_HAS(err, want);
}

static void test_listen_addresses(void)
{
	check_err("9464", false, 0, NULL);
	check_err("127.0.0.1:0", false, 0, NULL);
	check_err("127.1.2.3:80", false, 0, NULL);
	check_err("localhost:9464", false, 0, NULL);
	check_err("[::1]:9464", false, 0, NULL);
	check_err("0.0.0.0:9464", true, 0, NULL);
	check_err("0.0.0.0:9464", false, -EPERM, "0.0.0.0 is not a loopback address");
	check_err("[::]:9464", false, -EPERM, "--metrics-remote");
	check_err("10.0.0.1:9464", false, -EPERM, "'10.0.0.1:9464'");
	check_err("127.0.0.1:65536", false, -EINVAL, "port '65536' is not a number 0..65535");
	check_err("127.0.0.1:", false, -EINVAL, "port '' is not a number");
	check_err("127.0.0.1:-1", false, -EINVAL, "port '-1'");
	check_err("example.com:80", false, -EINVAL, "'example.com' is not a numeric");
	check_err("::1:80", false, -EINVAL, "want PORT, ADDR:PORT or [IPV6]:PORT");
	check_err("[::1:80", false, -EINVAL, "want [IPV6]:PORT");
	check_err("", false, -EINVAL, "port '' is not a number");
}

static struct lab_metrics_http *serve(const char *listen, bool remote)
{
	struct lab_metrics_http_opts o;

	lab_metrics_http_opts_init(&o);
	o.listen = listen;
	o.allow_remote = remote;
	return lab_metrics_http_open(&o);
}

static int port_of(const struct lab_metrics_http *h)
{
	const char *c = strrchr(lab_metrics_http_addr(h), ':');

	return c != NULL ? atoi(c + 1) : -1;
}

static int connect_to(int port)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd >= 0 && connect(fd, (struct sockaddr *)&a, sizeof(a)) != 0) {
		close(fd);
		return -1;
	}
	return fd;
}

/* One request, the whole response (the server closes after it) into out. */
static size_t http(int port, const char *req)
{
	int fd = connect_to(port);
	size_t n = 0;
	ssize_t r;

	out[0] = '\0';
	CU_ASSERT_FATAL(fd >= 0);
	CU_ASSERT_EQUAL(send(fd, req, strlen(req), MSG_NOSIGNAL), (ssize_t)strlen(req));
	while (n + 1 < sizeof(out) && (r = read(fd, out + n, sizeof(out) - 1 - n)) > 0)
		n += (size_t)r;
	out[n] = '\0';
	close(fd);
	return n;
}

static void test_methods_and_paths(void)
{
	struct lab_metrics_http *h = serve("127.0.0.1:0", false), *again;
	char listen[64];
	int port;

	CU_ASSERT_PTR_NOT_NULL_FATAL(h);
	port = port_of(h);
	CU_ASSERT(port > 0);
	LAB_TEST_HAS(lab_metrics_http_addr(h), "127.0.0.1:");
	http(port, "GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
	LAB_TEST_HAS(out, "HTTP/1.1 200 OK");
	LAB_TEST_HAS(out, "text/plain; version=0.0.4");
	LAB_TEST_HAS(out, "# TYPE labyrinth_warden_ticks_total counter");
	http(port, "HEAD /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
	LAB_TEST_HAS(out, "HTTP/1.1 200 OK");
	CU_ASSERT_PTR_NULL(strstr(out, "# HELP"));
	http(port, "GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
	LAB_TEST_HAS(out, "HTTP/1.1 404 Not Found");
	http(port, "GET /metrics/x HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
	LAB_TEST_HAS(out, "HTTP/1.1 404 Not Found");
	http(port, "POST /metrics HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n"
		   "Connection: close\r\n\r\nabc");
	LAB_TEST_HAS(out, "HTTP/1.1 405 Method Not Allowed");
	LAB_TEST_HAS(out, "Allow: GET, HEAD");
	http(port, "DELETE /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
	LAB_TEST_HAS(out, "HTTP/1.1 405");
	/* The same port twice: the second says the address is in use. */
	snprintf(listen, sizeof(listen), "127.0.0.1:%d", port);
	again = serve(listen, false);
	CU_ASSERT_PTR_NULL(again);
	CU_ASSERT_EQUAL(lab_errno, EADDRINUSE);
	lab_metrics_http_close(h);
	lab_metrics_http_close(NULL);
	/* Refused addresses open nothing. */
	CU_ASSERT_PTR_NULL(serve("0.0.0.0:0", false));
	CU_ASSERT_EQUAL(lab_errno, EPERM);
	CU_ASSERT_PTR_NULL(serve("nope", false));
	CU_ASSERT_EQUAL(lab_errno, EINVAL);
	/* IPv6 loopback, and a wildcard address when allowed. */
	h = serve("[::1]:0", false);
	if (h != NULL) /* a kernel without IPv6 has no ::1 to bind */
		LAB_TEST_HAS(lab_metrics_http_addr(h), "[::1]:");
	lab_metrics_http_close(h);
	h = serve("0.0.0.0:0", true);
	CU_ASSERT_PTR_NOT_NULL_FATAL(h);
	http(port_of(h), "GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
	LAB_TEST_HAS(out, "HTTP/1.1 200 OK");
	lab_metrics_http_close(h);
}

/* A client that connects and never sends, one that sends half a request, and
 * one that asks and never reads (with a small receive buffer): each holds only
 * its own connection; the others are answered meanwhile. */
static void test_slow_clients(void)
{
	struct lab_metrics_http *h = serve("127.0.0.1:0", false);
	int idle, half, deaf, rcv = 1024, port;
	const char *req = "GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n";

	CU_ASSERT_PTR_NOT_NULL_FATAL(h);
	port = port_of(h);
	idle = connect_to(port);
	half = connect_to(port);
	deaf = socket(AF_INET, SOCK_STREAM, 0);
	CU_ASSERT_FATAL(idle >= 0 && half >= 0 && deaf >= 0);
	setsockopt(deaf, SOL_SOCKET, SO_RCVBUF, &rcv, sizeof(rcv));
	close(deaf);
	deaf = connect_to(port);
	CU_ASSERT_FATAL(deaf >= 0);
	CU_ASSERT(send(half, "GET /metr", 9, MSG_NOSIGNAL) == 9);
	/* Pipelined requests it never reads: replies pile up on its side only. */
	for (int i = 0; i < 50; i++)
		if (send(deaf, req, strlen(req), MSG_NOSIGNAL | MSG_DONTWAIT) < 0)
			break;
	for (int i = 0; i < 5; i++) {
		http(port, "GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
		LAB_TEST_HAS(out, "HTTP/1.1 200 OK");
	}
	close(idle);
	close(half);
	close(deaf);
	/* Closing stops the server with clients still attached to it. */
	idle = connect_to(port);
	lab_metrics_http_close(h);
	if (idle >= 0)
		close(idle);
}

/* ---- the apps ---- */

static int sh(const char *cmd)
{
	char full[4096];

	snprintf(full, sizeof(full), "export TMPDIR=%s LAB_RUNTIME_DIR=%s/rt; %s", dir, dir, cmd);
	return lab_test_sh(full, out, sizeof(out));
}

/* Start @p cmd in the background, its output into @p log; wait (60 s at most)
 * for its "metrics http://ADDR/metrics" line; ADDR into @p addr. */
static pid_t start_app(const char *cmd, const char *log, char *addr, size_t len)
{
	pid_t pid;

	unlink(log); /* not the last run's line */
	pid = fork();
	CU_ASSERT_FATAL(pid >= 0);
	if (pid == 0) {
		char full[4096];

		snprintf(full, sizeof(full), "export TMPDIR=%s LAB_RUNTIME_DIR=%s/rt; exec %s "
			 ">%s 2>&1", dir, dir, cmd, log);
		execl("/bin/sh", "sh", "-c", full, (char *)NULL);
		_exit(127);
	}
	addr[0] = '\0';
	for (int i = 0; i < 1200 && addr[0] == '\0'; i++) {
		FILE *f = fopen(log, "r");
		char line[512];

		while (f != NULL && fgets(line, sizeof(line), f) != NULL) {
			char *m = strstr(line, "metrics http://"), *e;

			if (m != NULL && (e = strstr(m, "/metrics\n")) != NULL && e > m + 15) {
				snprintf(addr, len, "%.*s", (int)(e - m - 15), m + 15);
				break;
			}
		}
		if (f != NULL)
			fclose(f);
		if (addr[0] == '\0')
			nanosleep(&(struct timespec){ 0, 50000000 }, NULL);
	}
	if (addr[0] == '\0') {
		char cat[256];

		snprintf(cat, sizeof(cat), "cat %s", log);
		sh(cat);
		fprintf(stderr, "no metrics line within 60 s:\n%s\n", out);
	}
	return pid;
}

/* SIGTERM, then its wait status; on anything but exit 0, its @p log is shown
 * (NULL: not). */
static int stop_app(pid_t pid, const char *log)
{
	char cat[256];
	int st = 0;

	kill(pid, SIGTERM);
	waitpid(pid, &st, 0);
	if (log != NULL && (!WIFEXITED(st) || WEXITSTATUS(st) != 0)) {
		snprintf(cat, sizeof(cat), "cat %s", log);
		sh(cat);
		fprintf(stderr, "wait status 0x%x; its output:\n%s\n", st, out);
	}
	return st;
}

/* Every sample's series (name and labels) once on the page in @p path. */
static void unique_series(const char *path)
{
	char cmd[512];

	snprintf(cmd, sizeof(cmd), "grep -v '^#' %s | sed 's/ [^ ]*$//' | sort | uniq -d", path);
	CU_ASSERT_EQUAL(sh(cmd), 0);
	CU_ASSERT_STRING_EQUAL(out, "");
}

/* The packets port 0 queue 0 has received, from a scrape of @p addr. */
static unsigned long long rx_packets(const char *addr)
{
	char cmd[512];

	snprintf(cmd, sizeof(cmd), "curl -sf http://%s/metrics | sed -n "
		 "'s/^labyrinth_port_rx_packets_total{port=\"0\",[^}]*} //p'", addr);
	if (sh(cmd) != 0)
		return 0;
	return strtoull(out, NULL, 10);
}

static void test_labfwd_metrics(void)
{
	char addr[96], cmd[1024], log[192], page[192];
	unsigned long long a, b = 0;
	int idle, deaf;
	pid_t pid;

	snprintf(log, sizeof(log), "%s/labfwd.log", dir);
	snprintf(page, sizeof(page), "%s/labfwd.prom", dir);
	/* Two ports on one device string: two series each, told apart by port. */
	snprintf(cmd, sizeof(cmd), "timeout -s KILL 120 %s -p null -p null -i 0 --ctl off "
		 "--metrics 127.0.0.1:0", LABFWD_BIN);
	pid = start_app(cmd, log, addr, sizeof(addr));
	CU_ASSERT_FATAL(addr[0] != '\0');
	snprintf(cmd, sizeof(cmd), "curl -sf -o %s http://%s/metrics && promtool check metrics "
		 "< %s", page, addr, page);
	CU_ASSERT_EQUAL(sh(cmd), 0);
	snprintf(cmd, sizeof(cmd), "grep -c '^labyrinth_port_rx_packets_total{port=\"[01]\","
		 "device=\"null\",queue=\"0\"}' %s", page);
	CU_ASSERT_EQUAL(sh(cmd), 0);
	CU_ASSERT_STRING_EQUAL(out, "2\n");
	unique_series(page);
	snprintf(cmd, sizeof(cmd), "curl -s -o /dev/null -w '%%{http_code}' http://%s/; "
		 "curl -s -o /dev/null -w ' %%{http_code}' -X POST http://%s/metrics", addr, addr);
	CU_ASSERT_EQUAL(sh(cmd), 0);
	CU_ASSERT_STRING_EQUAL(out, "404 405");
	/* Slow clients hold connections; the workers forward all along (the
	 * counter moves between two scrapes), and scrapes are answered. */
	idle = connect_to(atoi(strrchr(addr, ':') + 1));
	deaf = connect_to(atoi(strrchr(addr, ':') + 1));
	CU_ASSERT(idle >= 0 && deaf >= 0);
	CU_ASSERT(send(deaf, "GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n", 35, MSG_NOSIGNAL) == 35);
	a = rx_packets(addr);
	for (int i = 0; i < 600 && b <= a; i++) {
		nanosleep(&(struct timespec){ 0, 100000000 }, NULL);
		b = rx_packets(addr);
	}
	CU_ASSERT(b > a); /* a may be 0: the workers may not have started at once */
	close(idle);
	close(deaf);
	CU_ASSERT_EQUAL(stop_app(pid, log), 0);
	snprintf(cmd, sizeof(cmd), "cat %s", log);
	sh(cmd);
	LAB_TEST_HAS(out, "accounting: OK");
	/* Bad input: a message naming the value, exit 1, nothing started. */
	snprintf(cmd, sizeof(cmd), "%s -p null --ctl off --metrics 0.0.0.0:9464", LABFWD_BIN);
	CU_ASSERT_EQUAL(sh(cmd), 1);
	LAB_TEST_HAS(out, "labfwd: --metrics '0.0.0.0:9464': 0.0.0.0 is not a loopback address");
	snprintf(cmd, sizeof(cmd), "%s -p null --ctl off --metrics 127.0.0.1:http", LABFWD_BIN);
	CU_ASSERT_EQUAL(sh(cmd), 1);
	LAB_TEST_HAS(out, "port 'http' is not a number");
	snprintf(cmd, sizeof(cmd), "%s -p null --ctl off --metrics", LABFWD_BIN);
	CU_ASSERT_EQUAL(sh(cmd), 1);
	LAB_TEST_HAS(out, "option '--metrics' needs a value");
	/* With the flag, the wildcard address is served. */
	snprintf(cmd, sizeof(cmd), "timeout -s KILL 120 %s -p null -i 0 --ctl off --metrics "
		 "0.0.0.0:0 --metrics-remote --json", LABFWD_BIN);
	pid = start_app(cmd, log, addr, sizeof(addr));
	CU_ASSERT_FATAL(addr[0] != '\0');
	LAB_TEST_HAS(addr, "0.0.0.0:");
	snprintf(cmd, sizeof(cmd), "curl -sf http://127.0.0.1:%s/metrics | promtool check metrics",
		 strrchr(addr, ':') + 1);
	CU_ASSERT_EQUAL(sh(cmd), 0);
	CU_ASSERT_EQUAL(stop_app(pid, log), 0);
}

static void test_labblk_metrics(void)
{
	char addr[96], cmd[1024], log[192], page[192];
	pid_t pid;

	snprintf(log, sizeof(log), "%s/labblk.log", dir);
	snprintf(page, sizeof(page), "%s/labblk.prom", dir);
	snprintf(cmd, sizeof(cmd), "timeout -s KILL 120 %s --dev ram:size=16M --runtime 100 "
		 "--metrics 0", LABBLK_BIN);
	pid = start_app(cmd, log, addr, sizeof(addr));
	CU_ASSERT_FATAL(addr[0] != '\0');
	LAB_TEST_HAS(addr, "127.0.0.1:");
	snprintf(cmd, sizeof(cmd), "curl -sf -o %s http://%s/metrics && promtool check metrics "
		 "< %s && grep -c '^labyrinth_pool_allocs_total{pool=' %s", page, addr, page, page);
	CU_ASSERT_EQUAL(sh(cmd), 0);
	LAB_TEST_HAS(out, "1\n");
	unique_series(page);
	/* labblk has no signal handling of its own: SIGTERM ends it. */
	CU_ASSERT(WIFSIGNALED(stop_app(pid, NULL)));
	snprintf(cmd, sizeof(cmd), "%s --dev ram:size=16M --metrics 10.1.2.3:1", LABBLK_BIN);
	CU_ASSERT_EQUAL(sh(cmd), 1);
	LAB_TEST_HAS(out, "labblk: --metrics '10.1.2.3:1': 10.1.2.3 is not a loopback address");
}

int main(void)
{
	static const struct lab_test tests[] = {
		LAB_TEST(test_listen_addresses),
		LAB_TEST(test_methods_and_paths),
		LAB_TEST(test_slow_clients),
		LAB_TEST(test_labfwd_metrics),
		LAB_TEST(test_labblk_metrics),
		LAB_TEST_END,
	};
	char cmd[512];
	int rc;

	if (system("command -v curl >/dev/null && command -v promtool >/dev/null") != 0)
		return lab_test_skip("metrics", tests, "curl or promtool missing (make deps)");
	snprintf(dir, sizeof(dir), "/tmp/tools-metrics-test-%d", (int)getpid());
	snprintf(cmd, sizeof(cmd), "mkdir -p %s/rt && chmod 700 %s %s/rt", dir, dir, dir);
	if (system(cmd) != 0) {
		fprintf(stderr, "metrics tests: cannot make %s\n", dir);
		return 1;
	}
	rc = lab_test_run("metrics", tests);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "metrics tests: could not remove %s\n", dir);
	return rc;
}
