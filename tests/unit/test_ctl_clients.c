/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Suite 'ctl': control-socket clients that misbehave, against a live server.
 * One that pipelines requests and never reads its replies: the others are
 * served meanwhile, and it is given up on after stall_ms. A process out of
 * file descriptors: the server thread neither spins nor leaves clients
 * unanswered, and serves again once descriptors are free. A client that
 * half-closes after a last request without a newline: it is answered.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdint.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>

#include <labyrinth/lab_common.h>

#include "ctl_helpers.h"

#define CEILING_MS 30000 /* generous: a loaded machine still answers in well under */

static char dir[64];

static uint64_t now_ms(void)
{
	return lab_now_ns() / 1000000;
}

/* A pause between looks at a condition (not a wait for one). */
static void nap_ms(int ms)
{
	poll(NULL, 0, ms);
}

static struct lab_ctl *open_stall(const char *name, unsigned int stall_ms)
{
	struct lab_ctl_opts o;
	char d[128];

	snprintf(d, sizeof(d), "%s/%s", dir, name);
	lab_ctl_opts_init(&o);
	o.name = "test";
	o.dir = d;
	o.stall_ms = stall_ms;
	return lab_ctl_open(&o);
}

/* Read @p lines reply lines within the ceiling ("" if none came: timed
 * out, or closed). */
static void replies_of(int fd, char *buf, size_t len, int lines)
{
	struct timeval tmo = { .tv_sec = CEILING_MS / 1000 };

	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tmo, sizeof(tmo));
	read_lines(fd, buf, len, lines);
}

static void reply_of(int fd, char *buf, size_t len)
{
	replies_of(fd, buf, len, 1);
}

/* A client that pipelines 2000 requests and reads nothing. */
static int pipeliner(const char *path)
{
	static const char req[] = "{\"cmd\":\"help\"}\n";
	int fd = lab_ctl_connect(path), sent = 0;

	CU_ASSERT_FATAL(fd >= 0);
	for (int i = 0; i < 2000; i++)
		sent += send(fd, req, sizeof(req) - 1, MSG_DONTWAIT) == sizeof(req) - 1;
	CU_ASSERT(sent > 100);
	return fd;
}

/* Bytes the server has sent @p fd that it has not read. */
static int unread(int fd)
{
	int n = 0;

	return ioctl(fd, FIONREAD, &n) == 0 ? n : -1;
}

/* While a client that reads nothing is held, another is served, promptly. */
static void test_stalled_client_others_served(void)
{
	struct lab_ctl *c = open_stall("stall", 600000); /* held through the test, however slow */
	struct pollfd pf;
	char buf[4096];
	uint64_t t0;
	int a, b;

	CU_ASSERT_PTR_NOT_NULL_FATAL(c);
	a = pipeliner(lab_ctl_path(c));
	/* The server is answering it, and its replies pile up unread. */
	for (t0 = now_ms(); unread(a) < 65536 && now_ms() - t0 < CEILING_MS;)
		nap_ms(5);
	CU_ASSERT(unread(a) >= 65536);
	b = lab_ctl_connect(lab_ctl_path(c));
	CU_ASSERT_FATAL(b >= 0);
	for (int i = 0; i < 3; i++) {
		t0 = now_ms();
		CU_ASSERT_EQUAL(write(b, "{\"cmd\":\"info\"}\n", 15), 15);
		reply_of(b, buf, sizeof(buf));
		LAB_TEST_HAS(buf, "{\"ok\":true,\"cmd\":\"info\"");
		CU_ASSERT(now_ms() - t0 < CEILING_MS);
	}
	/* ... and the one that reads nothing is still held, not dropped. */
	pf = (struct pollfd){ .fd = a, .events = POLLRDHUP };
	CU_ASSERT_EQUAL(poll(&pf, 1, 0), 0);
	close(a);
	close(b);
	lab_ctl_close(c);
}

/* A client that reads nothing is given up on after stall_ms (1 s, the
 * default); it gets the replies sent so far, then the end of the stream. */
static void test_stalled_client_given_up(void)
{
	struct lab_ctl *c = open_stall("stall2", 0);
	struct pollfd pf;
	ssize_t n;
	int a;

	CU_ASSERT_PTR_NOT_NULL_FATAL(c);
	lab_test_log_capture();
	a = pipeliner(lab_ctl_path(c));
	pf = (struct pollfd){ .fd = a, .events = POLLRDHUP };
	CU_ASSERT_EQUAL(poll(&pf, 1, CEILING_MS), 1);
	CU_ASSERT(pf.revents & POLLRDHUP);
	for (size_t got = 0;; got += (size_t)n) {
		static char buf[1 << 16];

		n = read(a, buf, sizeof(buf));
		if (n <= 0) {
			/* ECONNRESET: its requests were left unread, as it
			 * would be over TCP. */
			CU_ASSERT(n == 0 || errno == ECONNRESET);
			CU_ASSERT(got > 65536);
			break;
		}
	}
	LAB_TEST_HAS(lab_test_log_text(), "a client has not read its reply for 1000 ms: closing it");
	lab_test_log_release();
	close(a);
	lab_ctl_close(c);
}

/* A last request without a newline, then a half-close: answered, in order
 * after the whole lines, then the server closes. An empty tail gets nothing. */
static void test_half_close(void)
{
	struct lab_ctl *c = open_stall("half", 0);
	char buf[8192];
	int fd;

	CU_ASSERT_PTR_NOT_NULL_FATAL(c);
	fd = lab_ctl_connect(lab_ctl_path(c));
	CU_ASSERT_FATAL(fd >= 0);
	CU_ASSERT_EQUAL(write(fd, "{\"cmd\":\"help\"}\n{\"cmd\":\"info\"}", 29), 29);
	CU_ASSERT_EQUAL(shutdown(fd, SHUT_WR), 0);
	replies_of(fd, buf, sizeof(buf), 2);
	CU_ASSERT_PTR_EQUAL(strstr(buf, "{\"ok\":true,\"cmd\":\"help\""), buf);
	LAB_TEST_HAS(buf, "}\n{\"ok\":true,\"cmd\":\"info\"");
	replies_of(fd, buf, sizeof(buf), 1);
	CU_ASSERT_STRING_EQUAL(buf, ""); /* then the end of the stream */
	close(fd);

	fd = lab_ctl_connect(lab_ctl_path(c));
	CU_ASSERT_FATAL(fd >= 0);
	CU_ASSERT_EQUAL(write(fd, "{\"cmd\":\"nope\"}", 14), 14);
	CU_ASSERT_EQUAL(shutdown(fd, SHUT_WR), 0);
	reply_of(fd, buf, sizeof(buf));
	LAB_TEST_HAS(buf, "{\"ok\":false,\"error\":\"unknown command 'nope'");
	close(fd);

	fd = lab_ctl_connect(lab_ctl_path(c));
	CU_ASSERT_FATAL(fd >= 0);
	CU_ASSERT_EQUAL(write(fd, "{\"cmd\":\"info\"}\n", 15), 15);
	CU_ASSERT_EQUAL(shutdown(fd, SHUT_WR), 0);
	reply_of(fd, buf, sizeof(buf));
	LAB_TEST_HAS(buf, "{\"ok\":true,\"cmd\":\"info\"");
	reply_of(fd, buf, sizeof(buf));
	CU_ASSERT_STRING_EQUAL(buf, "");
	close(fd);
	lab_ctl_close(c);
}

/* ---- out of file descriptors ---- */

/* The control thread's /proc files (there is one server open). */
static int ctl_thread_files(int *stat_fd, int *status_fd)
{
	DIR *d = opendir("/proc/self/task");
	struct dirent *e;
	int found = 0;

	while (d != NULL && (e = readdir(d)) != NULL) {
		char path[300], comm[32] = "";
		int fd;

		snprintf(path, sizeof(path), "/proc/self/task/%s/comm", e->d_name);
		fd = open(path, O_RDONLY);
		if (fd < 0)
			continue;
		if (read(fd, comm, sizeof(comm) - 1) > 0 && strcmp(comm, "lab-ctl\n") == 0) {
			snprintf(path, sizeof(path), "/proc/self/task/%s/stat", e->d_name);
			*stat_fd = open(path, O_RDONLY);
			snprintf(path, sizeof(path), "/proc/self/task/%s/status", e->d_name);
			*status_fd = open(path, O_RDONLY);
			found++;
		}
		close(fd);
	}
	if (d != NULL)
		closedir(d);
	return found;
}

/* CPU time of the thread (utime + stime), in ms; pread, so no descriptor is
 * needed while the process has none to spare. */
static long thread_cpu_ms(int stat_fd)
{
	char buf[1024], *p;
	unsigned long ut = 0, st = 0;
	ssize_t n = pread(stat_fd, buf, sizeof(buf) - 1, 0);

	if (n <= 0)
		return -1;
	buf[n] = '\0';
	p = strrchr(buf, ')');
	/* After the name: state, then 10 fields, then utime and stime. */
	if (p == NULL || sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu",
				&ut, &st) != 2)
		return -1;
	return (long)((ut + st) * 1000 / (unsigned long)sysconf(_SC_CLK_TCK));
}

/* How many times the thread has gone to sleep. */
static long thread_sleeps(int status_fd)
{
	char buf[4096], *p;
	ssize_t n = pread(status_fd, buf, sizeof(buf) - 1, 0);

	if (n <= 0)
		return -1;
	buf[n] = '\0';
	p = strstr(buf, "voluntary_ctxt_switches:");
	return p != NULL && p[-1] == '\n' ? strtol(p + 24, NULL, 10) : -1;
}

/* The thread is idle: over a wait that ends when it has gone to sleep four
 * more times (which a spinning thread does not), it takes little CPU. Only
 * pread and poll: no descriptor is needed. */
static void assert_idle(int stat_fd, int status_fd, const char *what)
{
	long cpu0 = thread_cpu_ms(stat_fd), sleeps0 = thread_sleeps(status_fd), cpu, sleeps;
	uint64_t t0 = now_ms();

	while ((sleeps = thread_sleeps(status_fd)) < sleeps0 + 4 && now_ms() - t0 < CEILING_MS)
		nap_ms(10);
	cpu = thread_cpu_ms(stat_fd);
	CU_ASSERT(sleeps0 >= 0 && sleeps >= sleeps0 + 4);
	CU_ASSERT(cpu0 >= 0 && cpu - cpu0 < 100);
	if (sleeps < sleeps0 + 4 || cpu - cpu0 >= 100)
		fprintf(stderr, "%s: lab-ctl slept %ld times and used %ld ms of CPU in %llu ms\n",
			what, sleeps - sleeps0, cpu - cpu0, (unsigned long long)(now_ms() - t0));
}

static int nofile(rlim_t soft)
{
	struct rlimit r;

	if (getrlimit(RLIMIT_NOFILE, &r) < 0)
		return -1;
	r.rlim_cur = soft;
	return setrlimit(RLIMIT_NOFILE, &r);
}

/* Connect a socket made earlier (connecting takes no new descriptor). */
static int connect_to(int fd, const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };

	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	return connect(fd, (struct sockaddr *)&sa, sizeof(sa));
}

/* The lowest free descriptor: every one below it is taken. */
static int lowest_free(void)
{
	int fd = open("/dev/null", O_RDONLY);

	close(fd);
	return fd;
}

static void test_out_of_descriptors(void)
{
	enum { SPARED = 4, WAITING = 12, MORE = LAB_CTL_MAX_CLIENTS - WAITING };
	int spared[SPARED], waiting[WAITING], more[MORE + 1], stat_fd = -1, status_fd = -1;
	struct rlimit old;
	struct lab_ctl *c = open_stall("nofile", 0);
	char buf[4096];

	CU_ASSERT_PTR_NOT_NULL_FATAL(c);
	CU_ASSERT_EQUAL_FATAL(ctl_thread_files(&stat_fd, &status_fd), 1);
	CU_ASSERT_FATAL(stat_fd >= 0 && status_fd >= 0);
	CU_ASSERT_EQUAL_FATAL(getrlimit(RLIMIT_NOFILE, &old), 0);
	/* Every client socket first: none can be made while the limit is low. */
	for (int i = 0; i < SPARED; i++)
		spared[i] = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	for (int i = 0; i < WAITING; i++)
		waiting[i] = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	for (int i = 0; i <= MORE; i++)
		more[i] = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	CU_ASSERT_FATAL(more[MORE] >= 0);

	lab_test_log_capture();
	/* No descriptor left but the server's spare: each client is told so. */
	CU_ASSERT_EQUAL_FATAL(nofile((rlim_t)lowest_free()), 0);
	for (int i = 0; i < SPARED; i++) {
		CU_ASSERT_EQUAL(connect_to(spared[i], lab_ctl_path(c)), 0);
		reply_of(spared[i], buf, sizeof(buf));
		LAB_TEST_HAS(buf, "{\"ok\":false,\"error\":\"too many clients: this process is out "
				  "of file descriptors; try again later\"}\n");
		reply_of(spared[i], buf, sizeof(buf));
		CU_ASSERT_STRING_EQUAL(buf, ""); /* and closed */
	}

	/* Not even the spare (the limit is below its number): the clients wait
	 * in the backlog, and the thread pauses between attempts rather than
	 * spin on a listening socket that stays readable. */
	CU_ASSERT_EQUAL_FATAL(nofile(3), 0);
	for (int i = 0; i < WAITING; i++)
		CU_ASSERT_EQUAL(connect_to(waiting[i], lab_ctl_path(c)), 0);
	assert_idle(stat_fd, status_fd, "accept fails");
	/* A limit below what poll() watches: poll fails, and the thread pauses
	 * too. */
	CU_ASSERT_EQUAL_FATAL(nofile(0), 0);
	assert_idle(stat_fd, status_fd, "poll fails");
	CU_ASSERT_EQUAL_FATAL(setrlimit(RLIMIT_NOFILE, &old), 0);
	/* Said once each, with what to do. */
	LAB_TEST_HAS(lab_test_log_text(), "this process is out of file descriptors: turning "
					  "clients away (raise the limit: ulimit -n)");
	LAB_TEST_HAS(lab_test_log_text(), "cannot accept a client: Too many open files; waiting");
	/* Valgrind keeps the kernel's limit as it was (it checks descriptors
	 * itself), so poll() does not fail under it; the thread is idle anyway. */
	if (getenv("LAB_SANITIZER") == NULL || strcmp(getenv("LAB_SANITIZER"), "memcheck") != 0)
		LAB_TEST_HAS(lab_test_log_text(), "poll: Invalid argument; retrying every 100 ms");
	lab_test_log_release();

	/* Descriptors again: the waiting clients are served... */
	for (int i = 0; i < WAITING; i++) {
		int fl = fcntl(waiting[i], F_GETFL);

		fcntl(waiting[i], F_SETFL, fl & ~O_NONBLOCK);
		CU_ASSERT_EQUAL(write(waiting[i], "{\"cmd\":\"info\"}\n", 15), 15);
		reply_of(waiting[i], buf, sizeof(buf));
		LAB_TEST_HAS(buf, "{\"ok\":true,\"cmd\":\"info\"");
	}
	/* ... and the client after a full table is told there are too many. */
	for (int i = 0; i <= MORE; i++) {
		CU_ASSERT_EQUAL(connect_to(more[i], lab_ctl_path(c)), 0);
	}
	CU_ASSERT_EQUAL(write(more[0], "{\"cmd\":\"info\"}\n", 15), 15);
	reply_of(more[0], buf, sizeof(buf));
	LAB_TEST_HAS(buf, "{\"ok\":true,\"cmd\":\"info\"");
	reply_of(more[MORE], buf, sizeof(buf));
	LAB_TEST_HAS(buf, "{\"ok\":false,\"error\":\"too many clients (16): try again later\"}");

	for (int i = 0; i < SPARED; i++)
		close(spared[i]);
	for (int i = 0; i < WAITING; i++)
		close(waiting[i]);
	for (int i = 0; i <= MORE; i++)
		close(more[i]);
	close(stat_fd);
	close(status_fd);
	lab_ctl_close(c);
}

int main(void)
{
	static const struct lab_test tests[] = {
		LAB_TEST(test_stalled_client_others_served),
		LAB_TEST(test_stalled_client_given_up),
		LAB_TEST(test_half_close),
		LAB_TEST(test_out_of_descriptors),
		LAB_TEST_END,
	};
	char cmd[160];
	int rc;

	/* Descriptors 0-2 taken, so a limit of 3 leaves none free. */
	for (int fd = 0; fd < 3; fd++)
		if (fcntl(fd, F_GETFD) < 0 && open("/dev/null", O_RDWR) != fd)
			return 1;
	snprintf(dir, sizeof(dir), "/tmp/lab-ctl-clients.XXXXXX");
	if (mkdtemp(dir) == NULL)
		return 1;
	rc = lab_test_run("ctl_clients", tests);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "ctl tests: could not remove %s\n", dir);
	return rc;
}
