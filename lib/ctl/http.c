/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * GET /metrics over HTTP for Prometheus (libmicrohttpd): the same page as the
 * control socket's "metrics" command, lab_ctl_metrics().
 *
 * Why it cannot hurt the data path: libmicrohttpd runs its own thread (all
 * signals blocked, like lab-ctl) that polls non-blocking sockets, and the
 * page is built on that thread from the pools' and ports' control-path
 * snapshots. A worker never builds, formats or sends anything here, and
 * nothing here waits on a worker. A client that connects and never sends, or
 * asks and never reads, holds one of LAB_METRICS_HTTP_MAX_CLIENTS slots until
 * its timeout, and the other clients are served meanwhile.
 *
 * Why loopback by default: the page tells anyone who can read it the shape of
 * the process (ports, device strings, pool sizes). Another address is an
 * explicit choice (allow_remote: --metrics-remote in the apps).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <labyrinth/lab_common.h>
#include <labyrinth/lab_ctl.h>

#include "ctl_internal.h"

void lab_metrics_http_opts_init(struct lab_metrics_http_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->size = sizeof(*o);
	o->listen = "127.0.0.1:9464";
}

static bool is_loopback(const struct sockaddr_storage *ss)
{
	if (ss->ss_family == AF_INET) {
		const struct sockaddr_in *a = (const struct sockaddr_in *)ss;

		return (ntohl(a->sin_addr.s_addr) >> 24) == 127;
	}
	return IN6_IS_ADDR_LOOPBACK(&((const struct sockaddr_in6 *)ss)->sin6_addr);
}

/* "PORT", "ADDR:PORT", "[ADDR6]:PORT"; ADDR numeric or "localhost". */
static int parse_listen(const char *s, bool allow_remote, struct sockaddr_storage *ss, char *err,
			size_t len)
{
	char host[64] = "127.0.0.1";
	const char *port = s, *colon = strrchr(s, ':');
	char *end;
	unsigned long p;

	memset(ss, 0, sizeof(*ss));
	if (s[0] == '[') {
		const char *rb = strchr(s, ']');

		if (rb == NULL || rb[1] != ':' || rb - s - 1 >= (long)sizeof(host)) {
			snprintf(err, len, "'%s': want [IPV6]:PORT, as [::1]:9464", s);
			return -EINVAL;
		}
		snprintf(host, sizeof(host), "%.*s", (int)(rb - s - 1), s + 1);
		port = rb + 2;
	} else if (colon != NULL) {
		if (colon - s >= (long)sizeof(host) || strchr(s, ':') != colon) {
			snprintf(err, len, "'%s': want PORT, ADDR:PORT or [IPV6]:PORT", s);
			return -EINVAL;
		}
		snprintf(host, sizeof(host), "%.*s", (int)(colon - s), s);
		port = colon + 1;
	}
	p = strtoul(port, &end, 10);
	if (port[0] < '0' || port[0] > '9' || *end != '\0' || p > 65535) {
		snprintf(err, len, "'%s': port '%s' is not a number 0..65535 (0: any free port)", s,
			 port);
		return -EINVAL;
	}
	if (strcmp(host, "localhost") == 0)
		snprintf(host, sizeof(host), "127.0.0.1");
	if (inet_pton(AF_INET, host, &((struct sockaddr_in *)ss)->sin_addr) == 1) {
		ss->ss_family = AF_INET;
		((struct sockaddr_in *)ss)->sin_port = htons((uint16_t)p);
	} else if (inet_pton(AF_INET6, host, &((struct sockaddr_in6 *)ss)->sin6_addr) == 1) {
		ss->ss_family = AF_INET6;
		((struct sockaddr_in6 *)ss)->sin6_port = htons((uint16_t)p);
	} else {
		snprintf(err, len, "'%s': address '%s' is not a numeric IPv4 or IPv6 address (nor "
			 "localhost)", s, host);
		return -EINVAL;
	}
	if (!allow_remote && !is_loopback(ss)) {
		snprintf(err, len, "'%s': %s is not a loopback address, and other hosts could read "
			 "this process's figures there; allow it explicitly (--metrics-remote)", s,
			 host);
		return -EPERM;
	}
	return 0;
}

int lab_metrics_http_check(const char *listen, bool allow_remote, char *err, size_t len)
{
	struct sockaddr_storage ss;

	return parse_listen(listen, allow_remote, &ss, err, len);
}

#ifdef LAB_HAVE_MICROHTTPD

#include <pthread.h>
#include <signal.h>

#include <microhttpd.h>

struct lab_metrics_http {
	struct MHD_Daemon *d;
	char addr[80];
};

static enum MHD_Result reply(struct MHD_Connection *conn, unsigned int status, const char *text)
{
	struct MHD_Response *r = MHD_create_response_from_buffer(strlen(text), (void *)text,
								 MHD_RESPMEM_PERSISTENT);
	enum MHD_Result rc;

	if (r == NULL)
		return MHD_NO;
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, "text/plain; charset=utf-8");
	if (status == MHD_HTTP_METHOD_NOT_ALLOWED)
		MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, "GET, HEAD");
	rc = MHD_queue_response(conn, status, r);
	MHD_destroy_response(r);
	return rc;
}

/* The page, built here on the server's thread (control path). */
static enum MHD_Result metrics_page(struct MHD_Connection *conn)
{
	struct MHD_Response *r;
	enum MHD_Result rc;
	char *page = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&page, &len);

	if (f == NULL)
		return reply(conn, MHD_HTTP_INTERNAL_SERVER_ERROR, "out of memory\n");
	lab_ctl_metrics(f);
	if (fclose(f) != 0) {
		free(page);
		return reply(conn, MHD_HTTP_INTERNAL_SERVER_ERROR, "out of memory\n");
	}
	r = MHD_create_response_from_buffer(len, page, MHD_RESPMEM_MUST_FREE);
	if (r == NULL) {
		free(page);
		return MHD_NO;
	}
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE,
				"text/plain; version=0.0.4; charset=utf-8");
	rc = MHD_queue_response(conn, MHD_HTTP_OK, r);
	MHD_destroy_response(r);
	return rc;
}

/* Every request is answered at its first call, before any body: only GET and
 * HEAD of /metrics have a page, and neither has a body to wait for. */
static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
				  const char *method, const char *version, const char *upload,
				  size_t *upload_len, void **state)
{
	(void)cls;
	(void)version;
	(void)upload;
	(void)state;
	*upload_len = 0;
	if (strcmp(url, "/metrics") != 0)
		return reply(conn, MHD_HTTP_NOT_FOUND, "not found: the metrics are at /metrics\n");
	if (strcmp(method, MHD_HTTP_METHOD_GET) != 0 && strcmp(method, MHD_HTTP_METHOD_HEAD) != 0)
		return reply(conn, MHD_HTTP_METHOD_NOT_ALLOWED,
			     "method not allowed: /metrics takes GET or HEAD\n");
	return metrics_page(conn);
}

static void mhd_log(void *cls, const char *fmt, va_list ap)
{
	char msg[256];

	(void)cls;
	vsnprintf(msg, sizeof(msg), fmt, ap);
	msg[strcspn(msg, "\n")] = '\0';
	LAB_LOG(WARNING, ctl, "metrics http: %s", msg);
}

static struct MHD_Daemon *start(const struct lab_metrics_http_opts *o,
				const struct sockaddr_storage *ss)
{
	unsigned int flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_POLL | MHD_USE_ERROR_LOG;
	unsigned int timeout = o->timeout_s ? o->timeout_s : LAB_METRICS_HTTP_TIMEOUT_S;
	uint16_t port = ntohs(((const struct sockaddr_in *)ss)->sin_port);
	struct MHD_Daemon *d;
	sigset_t all, old;

	if (ss->ss_family == AF_INET6) {
		flags |= MHD_USE_IPv6;
		port = ntohs(((const struct sockaddr_in6 *)ss)->sin6_port);
	}
	/* The server's thread takes our signal mask: none of the process's
	 * signals (SIGINT, SIGTERM for the main thread) may land on it. */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	/* The logger first: libmicrohttpd logs the later options' errors with it. */
	d = MHD_start_daemon(flags, port, NULL, NULL, on_request, NULL,
			     MHD_OPTION_EXTERNAL_LOGGER, mhd_log, NULL,
			     MHD_OPTION_SOCK_ADDR, (const struct sockaddr *)ss,
			     MHD_OPTION_CONNECTION_LIMIT, (unsigned int)LAB_METRICS_HTTP_MAX_CLIENTS,
			     MHD_OPTION_CONNECTION_TIMEOUT, timeout,
			     MHD_OPTION_END);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	return d;
}

/* "ADDR:PORT" as bound (port 0 becomes the port the kernel chose). */
static void bound_addr(struct lab_metrics_http *h)
{
	const union MHD_DaemonInfo *i = MHD_get_daemon_info(h->d, MHD_DAEMON_INFO_LISTEN_FD);
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	char host[INET6_ADDRSTRLEN] = "?";
	unsigned int port = 0;

	if (i == NULL || getsockname(i->listen_fd, (struct sockaddr *)&ss, &sl) != 0)
		return;
	if (ss.ss_family == AF_INET) {
		inet_ntop(AF_INET, &((struct sockaddr_in *)&ss)->sin_addr, host, sizeof(host));
		port = ntohs(((struct sockaddr_in *)&ss)->sin_port);
		snprintf(h->addr, sizeof(h->addr), "%s:%u", host, port);
	} else {
		inet_ntop(AF_INET6, &((struct sockaddr_in6 *)&ss)->sin6_addr, host, sizeof(host));
		port = ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
		snprintf(h->addr, sizeof(h->addr), "[%s]:%u", host, port);
	}
}

struct lab_metrics_http *lab_metrics_http_open(const struct lab_metrics_http_opts *o)
{
	struct sockaddr_storage ss;
	struct lab_metrics_http *h;
	char err[256];
	int rc;

	rc = parse_listen(o->listen, o->allow_remote, &ss, err, sizeof(err));
	if (rc < 0) {
		LAB_LOG(ERR, ctl, "metrics http: %s", err);
		lab_errno = -rc;
		return NULL;
	}
	h = calloc(1, sizeof(*h));
	if (h == NULL) {
		lab_errno = ENOMEM;
		return NULL;
	}
	errno = 0;
	h->d = start(o, &ss);
	if (h->d == NULL) {
		/* libmicrohttpd leaves bind()'s errno (EADDRINUSE, EACCES). */
		lab_errno = errno ? errno : EIO;
		LAB_LOG(ERR, ctl, "metrics http: cannot listen on %s: %s", o->listen,
			strerror(lab_errno));
		free(h);
		return NULL;
	}
	bound_addr(h);
	return h;
}

const char *lab_metrics_http_addr(const struct lab_metrics_http *h)
{
	return h->addr;
}

void lab_metrics_http_close(struct lab_metrics_http *h)
{
	if (h == NULL)
		return;
	MHD_stop_daemon(h->d);
	free(h);
}

#else /* !LAB_HAVE_MICROHTTPD */

/* Built without libmicrohttpd: the page is still there through the control
 * socket (labctl metrics); only the HTTP server is missing, and saying so is
 * the whole job of these. */
struct lab_metrics_http *lab_metrics_http_open(const struct lab_metrics_http_opts *o)
{
	(void)o;
	LAB_LOG(ERR, ctl, "metrics http: this build has no HTTP server: libmicrohttpd was not "
		"found at build time (install libmicrohttpd-dev and rebuild; meanwhile "
		"'labctl metrics' prints the same page)");
	lab_errno = ENOTSUP;
	return NULL;
}

const char *lab_metrics_http_addr(const struct lab_metrics_http *h)
{
	(void)h;
	return "";
}

void lab_metrics_http_close(struct lab_metrics_http *h)
{
	(void)h;
}

#endif
