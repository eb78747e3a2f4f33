/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The control socket's server: the runtime directory and its checks, the
 * socket, and the thread that serves it (ctl_serve.c). Who may connect is decided twice:
 * by the file system (a 0700 directory, a 0600 socket) and by the peer's
 * credentials (SO_PEERCRED: this user or root), so a directory loosened by
 * hand still keeps other users out.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <labyrinth/lab_common.h>
#include <labyrinth/lab_ctl.h>
#include <labyrinth/lab_log.h>

#include "ctl_internal.h"

LAB_LOG_REGISTER(ctl, NOTICE)

void lab_ctl_opts_init(struct lab_ctl_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->size = sizeof(*o);
	o->name = "lab";
	o->stall_ms = LAB_CTL_STALL_MS;
}

int lab_ctl_runtime_dir(char *buf, size_t len)
{
	const char *e = getenv("LAB_RUNTIME_DIR"), *x = getenv("XDG_RUNTIME_DIR");
	int n;

	if (e != NULL && e[0] != '\0')
		n = snprintf(buf, len, "%s", e);
	else if (x != NULL && x[0] != '\0')
		n = snprintf(buf, len, "%s/labyrinth", x);
	else if (geteuid() == 0)
		n = snprintf(buf, len, "/run/labyrinth");
	else
		n = snprintf(buf, len, "/tmp/labyrinth-%u", (unsigned int)geteuid());
	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

/* The directory must keep everyone else out: ours, 0700 or tighter, real. */
static int dir_check(const char *dir, bool create)
{
	struct stat st;

	if (create && mkdir(dir, 0700) < 0 && errno != EEXIST) {
		LAB_LOG(ERR, ctl, "control socket: cannot create directory %s: %s", dir,
			strerror(errno));
		return -errno;
	}
	if (lstat(dir, &st) < 0) {
		LAB_LOG(ERR, ctl, "control socket: directory %s: %s", dir, strerror(errno));
		return -errno;
	}
	if (!S_ISDIR(st.st_mode)) {
		LAB_LOG(ERR, ctl, "control socket: %s is not a directory (a symbolic link or a "
			"file): remove it or choose another directory", dir);
		return -ENOTDIR;
	}
	if (st.st_uid != geteuid()) {
		LAB_LOG(ERR, ctl, "control socket: directory %s belongs to uid %u, not to this "
			"user (%u): choose another directory (LAB_RUNTIME_DIR)", dir,
			(unsigned int)st.st_uid, (unsigned int)geteuid());
		return -EPERM;
	}
	if (st.st_mode & 077) {
		LAB_LOG(ERR, ctl, "control socket: directory %s has mode %04o: other users could "
			"reach the socket; put it in a private directory (yours, mode 0700), "
			"such as $XDG_RUNTIME_DIR or one made with 'mkdir -m 700'", dir,
			(unsigned int)(st.st_mode & 07777));
		return -EPERM;
	}
	return 0;
}

/* Remove "<name>.<pid>.sock" files whose process is gone (killed before it
 * could remove its own). */
static void remove_stale(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;

	if (d == NULL)
		return;
	while ((e = readdir(d)) != NULL) {
		char path[PATH_MAX];
		long pid = lab_ctl_sock_pid(e->d_name);

		if (pid <= 0 || (kill((pid_t)pid, 0) == 0 || errno != ESRCH))
			continue;
		if (snprintf(path, sizeof(path), "%s/%s", dir, e->d_name) < (int)sizeof(path) &&
		    unlink(path) == 0)
			LAB_LOG(INFO, ctl, "control socket: removed %s (process %ld is gone)", path,
				pid);
	}
	closedir(d);
}

long lab_ctl_sock_pid(const char *file)
{
	size_t n = strlen(file);
	const char *dot;
	char *end;
	long pid;

	if (n < 6 || strcmp(file + n - 5, ".sock") != 0)
		return -1;
	for (dot = file + n - 6; dot > file && *dot != '.'; dot--)
		;
	if (*dot != '.')
		return -1;
	pid = strtol(dot + 1, &end, 10);
	return end == file + n - 5 && pid > 0 ? pid : -1;
}

static int sock_path(const struct lab_ctl_opts *o, char *path, size_t len, char *dir,
		     size_t dlen)
{
	int n;

	if (o->path != NULL) {
		const char *slash = strrchr(o->path, '/');

		n = snprintf(dir, dlen, "%.*s", slash != NULL ? (int)(slash - o->path) : 1,
			     slash != NULL ? o->path : ".");
		if (slash == o->path)
			snprintf(dir, dlen, "/");
		n = snprintf(path, len, "%s", o->path);
	} else {
		if (o->dir != NULL)
			snprintf(dir, dlen, "%s", o->dir);
		else if (lab_ctl_runtime_dir(dir, dlen) < 0)
			return -ENAMETOOLONG;
		n = snprintf(path, len, "%s/%s.%ld.sock", dir, o->name ? o->name : "lab",
			     (long)getpid());
	}
	if (n < 0 || (size_t)n >= len) {
		LAB_LOG(ERR, ctl, "control socket: path %s%s%s is too long (a UNIX socket path "
			"has %zu bytes at most): choose a shorter directory", o->path ? o->path : dir,
			o->path ? "" : "/", o->path ? "" : (o->name ? o->name : "lab"), len - 1);
		return -ENAMETOOLONG;
	}
	return 0;
}

int lab_ctl_connect(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd, err;

	if (strlen(path) >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	memcpy(sa.sun_path, path, strlen(path) + 1);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		err = errno;
		close(fd);
		return -err;
	}
	return fd;
}

/* Bind, refusing to take over a path where a live server answers. */
static int sock_bind(struct lab_ctl *c)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct stat st;
	int fd, probe;

	memcpy(sa.sun_path, c->path, strlen(c->path) + 1);
	probe = lab_ctl_connect(c->path);
	if (probe >= 0) {
		close(probe);
		LAB_LOG(ERR, ctl, "control socket: a server already answers at %s", c->path);
		return -EADDRINUSE;
	}
	if (lstat(c->path, &st) == 0 && S_ISSOCK(st.st_mode))
		unlink(c->path); /* a dead server's */
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -errno;
	/* The directory keeps others out while the mode is still the umask's. */
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || chmod(c->path, 0600) < 0 ||
	    listen(fd, LAB_CTL_MAX_CLIENTS) < 0 || lstat(c->path, &st) < 0) {
		int err = errno;

		LAB_LOG(ERR, ctl, "control socket: cannot serve at %s: %s", c->path,
			strerror(err));
		close(fd);
		return -err;
	}
	c->ino = st.st_ino;
	c->lfd = fd;
	return 0;
}

static int ctl_start(struct lab_ctl *c)
{
	sigset_t all, old;
	int rc;

	/* Signals belong to the application's threads, not to this one. */
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	rc = -pthread_create(&c->tid, NULL, ctl_serve, c);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (rc == 0)
		pthread_setname_np(c->tid, "lab-ctl");
	else
		LAB_LOG(ERR, ctl, "control socket: cannot start its thread: %s", strerror(-rc));
	return rc;
}

struct lab_ctl *lab_ctl_open(const struct lab_ctl_opts *o)
{
	struct lab_ctl_opts def;
	char dir[PATH_MAX];
	struct lab_ctl *c;
	int rc;

	if (o == NULL) {
		lab_ctl_opts_init(&def);
		o = &def;
	}
	c = calloc(1, sizeof(*c));
	if (c == NULL) {
		lab_errno = ENOMEM;
		return NULL;
	}
	c->lfd = c->wake[0] = c->wake[1] = -1;
	c->stall_ms = o->size >= offsetof(struct lab_ctl_opts, stall_ms) + sizeof(o->stall_ms) &&
		o->stall_ms > 0 ? o->stall_ms : LAB_CTL_STALL_MS;
	/* Best effort: without it a shortage pauses accepting instead. */
	c->spare = open("/dev/null", O_RDONLY | O_CLOEXEC);
	for (int i = 0; i < LAB_CTL_MAX_CLIENTS; i++)
		c->cl[i].fd = -1;
	rc = sock_path(o, c->path, sizeof(c->path), dir, sizeof(dir));
	if (rc == 0)
		rc = dir_check(dir, o->path == NULL);
	if (rc < 0)
		goto err;
	remove_stale(dir);
	rc = sock_bind(c);
	if (rc < 0)
		goto err;
	if (pipe2(c->wake, O_CLOEXEC | O_NONBLOCK) < 0) {
		rc = -errno;
		goto err_sock;
	}
	rc = ctl_start(c);
	if (rc < 0)
		goto err_sock;
	LAB_LOG(INFO, ctl, "control socket at %s", c->path);
	return c;
err_sock:
	unlink(c->path);
err:
	if (c->lfd >= 0)
		close(c->lfd);
	if (c->wake[0] >= 0) {
		close(c->wake[0]);
		close(c->wake[1]);
	}
	if (c->spare >= 0)
		close(c->spare);
	free(c);
	lab_errno = -rc;
	return NULL;
}

const char *lab_ctl_path(const struct lab_ctl *c)
{
	return c->path;
}

void lab_ctl_close(struct lab_ctl *c)
{
	struct stat st;

	if (c == NULL)
		return;
	if (write(c->wake[1], "x", 1) == 1)
		pthread_join(c->tid, NULL);
	ctl_clients_close(c);
	if (c->spare >= 0)
		close(c->spare);
	close(c->lfd);
	close(c->wake[0]);
	close(c->wake[1]);
	if (lstat(c->path, &st) == 0 && st.st_ino == c->ino)
		unlink(c->path);
	free(c);
}
