/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The control socket's thread: it polls the listening socket and its clients
 * and answers each request line (ctl_cmd.c). Every client socket is
 * non-blocking and holds at most one reply in flight: while a reply waits for
 * the client to read it, that client's requests wait too (it is not read), and
 * the thread serves the others. A reply that has not moved for stall_ms gives
 * the client up. When the process is out of file descriptors, a spare one
 * held for the purpose tells the next client "too many clients" (as libev and
 * nginx do) rather than leave the listening socket readable and the thread
 * spinning; without it, the thread stops accepting for a while (up to 1 s)
 * or until one of its own clients leaves. A failing poll() (the limit below
 * the descriptors it watches) is retried after a pause too.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <labyrinth/lab_common.h>
#include <labyrinth/lab_ctl.h>

#include "ctl_internal.h"

#define BACKOFF_MIN_MS 50
#define BACKOFF_MAX_MS 1000

static uint64_t now_ms(void)
{
	return lab_now_ns() / 1000000;
}

static void client_close(struct lab_ctl *c, struct ctl_client *cl)
{
	close(cl->fd);
	free(cl->out);
	*cl = (struct ctl_client){ .fd = -1 };
	c->accept_at = 0; /* a descriptor is free again: accept at once */
}

void ctl_clients_close(struct lab_ctl *c)
{
	for (int i = 0; i < LAB_CTL_MAX_CLIENTS; i++)
		if (c->cl[i].fd >= 0)
			client_close(c, &c->cl[i]);
}

/* For a client that is turned away: one short line into an empty socket
 * buffer, so a non-blocking send takes it whole. */
static void send_error(int fd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void send_error(int fd, const char *fmt, ...)
{
	char *msg = NULL, *line = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&line, &len);
	va_list ap;

	va_start(ap, fmt);
	if (vasprintf(&msg, fmt, ap) < 0)
		msg = NULL;
	va_end(ap);
	if (f != NULL && msg != NULL) {
		fputs("{\"ok\":false,\"error\":", f);
		lab_json_write_str(f, msg);
		fputs("}\n", f);
	}
	if (f != NULL && fclose(f) == 0 && send(fd, line, len, MSG_NOSIGNAL | MSG_DONTWAIT) < 0)
		LAB_LOG(DEBUG, ctl, "control socket: could not tell a client: %s", strerror(errno));
	free(line);
	free(msg);
}

/* Send what the socket takes of the reply. false: the client is gone. */
static bool client_flush(struct lab_ctl *c, struct ctl_client *cl)
{
	while (cl->out_off < cl->out_len) {
		ssize_t n = send(cl->fd, cl->out + cl->out_off, cl->out_len - cl->out_off,
				 MSG_NOSIGNAL | MSG_DONTWAIT);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return true;
		if (n <= 0) {
			client_close(c, cl);
			return false;
		}
		cl->out_off += (size_t)n;
		cl->moved_ms = now_ms();
	}
	free(cl->out);
	cl->out = NULL;
	cl->out_len = cl->out_off = 0;
	return true;
}

/* Answer one request and start sending the reply. false: the client is gone. */
static bool client_answer(struct lab_ctl *c, struct ctl_client *cl, const char *req, size_t len)
{
	static const char oom[] = "{\"ok\":false,\"error\":\"out of memory\"}\n";

	cl->out = lab_ctl_answer(req, len);
	if (cl->out == NULL)
		cl->out = strdup(oom);
	if (cl->out == NULL) {
		client_close(c, cl);
		return false;
	}
	cl->out_len = strlen(cl->out);
	cl->out_off = 0;
	cl->moved_ms = now_ms();
	return client_flush(c, cl);
}

/* Answer whole lines while the replies go out; a reply the client has not
 * read yet holds the rest. After the client half-closed, what is left
 * without a newline is its last request: answer it too, then close. */
static void client_lines(struct lab_ctl *c, struct ctl_client *cl)
{
	char *nl;

	while (cl->out == NULL && (nl = memchr(cl->buf, '\n', cl->len)) != NULL) {
		size_t n = (size_t)(nl - cl->buf) + 1;
		bool alive = client_answer(c, cl, cl->buf, n - 1);

		if (!alive)
			return;
		memmove(cl->buf, cl->buf + n, cl->len - n);
		cl->len -= n;
	}
	if (!cl->eof || cl->out != NULL)
		return;
	if (cl->len > 0) {
		size_t n = cl->len;

		cl->len = 0;
		if (!client_answer(c, cl, cl->buf, n) || cl->out != NULL)
			return;
	}
	client_close(c, cl);
}

static void client_read(struct lab_ctl *c, struct ctl_client *cl)
{
	ssize_t n = recv(cl->fd, cl->buf + cl->len, sizeof(cl->buf) - cl->len, MSG_DONTWAIT);

	if (n < 0 && (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK))
		return;
	if (n < 0) {
		client_close(c, cl);
		return;
	}
	if (n == 0)
		cl->eof = true;
	cl->len += (size_t)n;
	if (cl->len == sizeof(cl->buf) && memchr(cl->buf, '\n', cl->len) == NULL) {
		send_error(cl->fd, "request longer than %d bytes: closing", LAB_CTL_REQ_MAX - 1);
		client_close(c, cl);
		return;
	}
	client_lines(c, cl);
}

/* A reply ready to go out: send more, then answer what waited behind it. */
static void client_write(struct lab_ctl *c, struct ctl_client *cl)
{
	if (client_flush(c, cl) && cl->out == NULL)
		client_lines(c, cl);
}

static void client_event(struct lab_ctl *c, struct ctl_client *cl, short revents)
{
	if (cl->out != NULL && (revents & (POLLOUT | POLLERR | POLLHUP)))
		client_write(c, cl);
	else if (cl->out == NULL && (revents & (POLLIN | POLLERR | POLLHUP)))
		client_read(c, cl);
}

/* Stop accepting for a while: the process is out of descriptors, and the
 * listening socket stays readable until one is free. */
static void accept_backoff(struct lab_ctl *c, int err)
{
	if (c->backoff_ms == 0)
		LAB_LOG(WARNING, ctl, "control socket: cannot accept a client: %s; waiting for a "
			"file descriptor to be free (raise the limit: ulimit -n)", strerror(err));
	c->backoff_ms = c->backoff_ms == 0 ? BACKOFF_MIN_MS :
		c->backoff_ms * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS : c->backoff_ms * 2;
	c->accept_at = now_ms() + c->backoff_ms;
}

/* Out of descriptors: give the spare one up to tell a client so, then take
 * it back. */
static void accept_with_spare(struct lab_ctl *c)
{
	int fd, err = EMFILE;

	if (c->spare >= 0) {
		close(c->spare);
		c->spare = -1;
		fd = accept4(c->lfd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
		err = errno;
		if (fd >= 0) {
			if (!c->told_full)
				LAB_LOG(WARNING, ctl, "control socket: this process is out of file "
					"descriptors: turning clients away (raise the limit: "
					"ulimit -n)");
			c->told_full = true;
			send_error(fd, "too many clients: this process is out of file descriptors; "
				   "try again later");
			close(fd);
		}
		c->spare = open("/dev/null", O_RDONLY | O_CLOEXEC);
		if (fd >= 0 && c->spare >= 0)
			return;
		if (fd >= 0)
			err = errno;
	}
	if (err != EAGAIN && err != EWOULDBLOCK && err != EINTR)
		accept_backoff(c, err);
}

/* Peers: this user or root. Others are told why and closed. */
static void accept_one(struct lab_ctl *c)
{
	struct ucred cr = { .pid = 0, .uid = (uid_t)-1, .gid = (gid_t)-1 };
	socklen_t crlen = sizeof(cr);
	int fd;

	if (c->spare < 0) /* lost at the last shortage: take it back first */
		c->spare = open("/dev/null", O_RDONLY | O_CLOEXEC);
	fd = accept4(c->lfd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
	if (fd < 0) {
		if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM)
			accept_with_spare(c);
		return; /* EAGAIN, or ECONNABORTED: that client is gone */
	}
	c->backoff_ms = 0;
	c->told_full = false;
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cr, &crlen) < 0 ||
	    (cr.uid != geteuid() && cr.uid != 0)) {
		LAB_LOG(WARNING, ctl, "control socket: refused a client of uid %u (not this user)",
			(unsigned int)cr.uid);
		send_error(fd, "permission denied: uid %u is not the owner of this process",
			   (unsigned int)cr.uid);
		close(fd);
		return;
	}
	for (int i = 0; i < LAB_CTL_MAX_CLIENTS; i++) {
		if (c->cl[i].fd < 0) {
			c->cl[i].fd = fd;
			return;
		}
	}
	send_error(fd, "too many clients (%d): try again later", LAB_CTL_MAX_CLIENTS);
	close(fd);
}

/* Give up on clients whose reply has not moved for stall_ms; the poll
 * timeout that wakes the thread for the next such deadline or for the end of
 * an accept backoff (-1: none). */
static int deadlines(struct lab_ctl *c)
{
	uint64_t now = now_ms(), next = UINT64_MAX;

	for (int i = 0; i < LAB_CTL_MAX_CLIENTS; i++) {
		struct ctl_client *cl = &c->cl[i];
		uint64_t due = cl->moved_ms + c->stall_ms;

		if (cl->fd < 0 || cl->out == NULL)
			continue;
		if (due <= now) {
			LAB_LOG(NOTICE, ctl, "control socket: a client has not read its reply for "
				"%u ms: closing it", c->stall_ms);
			client_close(c, cl);
			continue;
		}
		next = due < next ? due : next;
	}
	if (c->accept_at > now && c->accept_at < next)
		next = c->accept_at;
	return next == UINT64_MAX ? -1 : (int)(next - now);
}

/* poll() failed: EINVAL when RLIMIT_NOFILE is now below the number of
 * descriptors to watch, or ENOMEM. Wait rather than spin; the wake pipe is
 * non-blocking, so a read tells whether to stop. true: stop. */
static bool poll_failed(struct lab_ctl *c, int err)
{
	struct timespec pause = { .tv_nsec = BACKOFF_MIN_MS * 2 * 1000000L };
	char x;

	if (err == EINTR)
		return false;
	if (!c->poll_warned)
		LAB_LOG(WARNING, ctl, "control socket: poll: %s; retrying every %d ms (raise the "
			"file descriptor limit: ulimit -n)", strerror(err), BACKOFF_MIN_MS * 2);
	c->poll_warned = true;
	nanosleep(&pause, NULL);
	return read(c->wake[0], &x, 1) == 1;
}

void *ctl_serve(void *arg)
{
	struct lab_ctl *c = arg;
	struct pollfd pf[LAB_CTL_MAX_CLIENTS + 2];

	for (;;) {
		int map[LAB_CTL_MAX_CLIENTS], n = 2, tmo = deadlines(c);

		pf[0] = (struct pollfd){ .fd = c->wake[0], .events = POLLIN };
		/* A negative fd is skipped by poll: no accepting during a backoff. */
		pf[1] = (struct pollfd){ .fd = c->accept_at > now_ms() ? -1 : c->lfd,
					 .events = POLLIN };
		for (int i = 0; i < LAB_CTL_MAX_CLIENTS; i++) {
			if (c->cl[i].fd < 0)
				continue;
			map[n - 2] = i;
			pf[n++] = (struct pollfd){ .fd = c->cl[i].fd,
						   .events = c->cl[i].out ? POLLOUT : POLLIN };
		}
		if (poll(pf, (nfds_t)n, tmo) < 0) {
			if (poll_failed(c, errno))
				break;
			continue;
		}
		c->poll_warned = false;
		if (pf[0].revents)
			break;
		for (int k = 2; k < n; k++)
			if (pf[k].revents)
				client_event(c, &c->cl[map[k - 2]], pf[k].revents);
		if (pf[1].revents & POLLIN)
			accept_one(c);
	}
	return NULL;
}
