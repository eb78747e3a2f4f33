/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * The control socket: one UNIX stream socket per process, in a runtime
 * directory only its user can enter (mode 0700, the socket 0600), served by
 * a thread of its own. A client writes one JSON request per line and reads one
 * JSON reply per line:
 *
 *     {"cmd":"pools"}
 *     {"ok":true,"cmd":"pools","pools":[{"name":"labfwd","total":8192,...}]}
 *     {"cmd":"set","what":"quality","level":"full"}
 *     {"cmd":"nope"}
 *     {"ok":false,"error":"unknown command 'nope' (commands: help, info, ...)"}
 *
 * Commands: help, info, pools, pool (name), ports, set (what: quality with
 * level [rate] [pool], or log with level [type]), metrics (Prometheus text in
 * "text"). docs/observability.md has every reply's members. The thread only
 * reads stats and calls control-path setters; nothing it does touches the data
 * path. `labctl` is the command-line client.
 */
#ifndef LAB_CTL_H
#define LAB_CTL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#ifdef __cplusplus
extern "C" {
#endif

/** Longest request line, newline included; a longer one gets an error and the
 * connection is closed. */
#define LAB_CTL_REQ_MAX 4096

/** Most clients served at once; one more gets an error and is closed. */
#define LAB_CTL_MAX_CLIENTS 16

/** Default of lab_ctl_opts.stall_ms. */
#define LAB_CTL_STALL_MS 1000

/** Options. Grows only at the end; set @c size to sizeof. */
struct lab_ctl_opts {
	size_t size;
	const char *name; /**< the socket is <dir>/<name>.<pid>.sock (NULL: "lab") */
	const char *dir;  /**< runtime directory (NULL: lab_ctl_runtime_dir()) */
	const char *path; /**< the socket's whole path instead (its directory must
			   *   exist and is checked the same way) */
	unsigned int stall_ms; /**< a client whose reply has not moved for this long (it
				*   does not read) is closed; the others are served
				*   meanwhile (0: LAB_CTL_STALL_MS) */
};

/** Defaults: name "lab", the default runtime directory. */
void lab_ctl_opts_init(struct lab_ctl_opts *o);

/**
 * The default runtime directory: $LAB_RUNTIME_DIR if set, else
 * $XDG_RUNTIME_DIR/labyrinth, else /run/labyrinth for root, else
 * /tmp/labyrinth-<uid>.
 *
 * @return 0, or -ENAMETOOLONG.
 */
int lab_ctl_runtime_dir(char *buf, size_t len);

struct lab_ctl;

/**
 * Create the directory if needed (mode 0700), check it (a directory, not a
 * symbolic link, owned by this user, no access for group or others), bind the
 * socket (mode 0600) and start serving. A socket left in the directory by a
 * process that no longer runs is removed. Control path.
 *
 * @return the server, or NULL with lab_errno (the message names the path):
 *         EPERM for a directory others can reach or that another user owns,
 *         ENOTDIR, ENAMETOOLONG (a UNIX socket path has 107 bytes at most),
 *         EADDRINUSE if a live server answers at the path, or a system error.
 */
struct lab_ctl *lab_ctl_open(const struct lab_ctl_opts *o);

/** The socket's path. */
const char *lab_ctl_path(const struct lab_ctl *c);

/**
 * Connect to the control socket at @p path (the client side: labctl, tests).
 *
 * @return the connected descriptor (close it after), or -errno: ENOENT,
 *         ECONNREFUSED (no server: a dead process's socket), EACCES (the
 *         directory or socket mode keeps this user out), ENAMETOOLONG.
 */
int lab_ctl_connect(const char *path);

/** The pid in a socket file name "<name>.<pid>.sock" (no directory), or -1. */
long lab_ctl_sock_pid(const char *file);

/** Stop serving, close every client and remove the socket. NULL is fine. */
void lab_ctl_close(struct lab_ctl *c);

/**
 * Answer one request without a socket (what the server thread does for each
 * line; tests and fuzzers call it directly).
 *
 * @param req  the request's bytes (no newline needed)
 * @return the reply, one JSON object and a newline, NUL-terminated (free()
 *         it), or NULL on ENOMEM.
 */
char *lab_ctl_answer(const char *req, size_t len);

/**
 * Write the Prometheus text exposition format (version 0.0.4) of every pool,
 * port and the warden to @p f: what the "metrics" command returns. Control path.
 */
void lab_ctl_metrics(FILE *f);

/**
 * Write @p v to @p f as a Prometheus label value: in double quotes, with
 * backslash, double quote and newline escaped. For pages that add series of
 * their own beside lab_ctl_metrics() (labblk's).
 */
void lab_metrics_label_value(FILE *f, const char *v);

/** Default of lab_metrics_http_opts.timeout_s: an idle or slow HTTP client is
 * closed after this many seconds. */
#define LAB_METRICS_HTTP_TIMEOUT_S 10

/** Most HTTP clients served at once; more wait in the kernel's backlog. */
#define LAB_METRICS_HTTP_MAX_CLIENTS 16

/** Options of the Prometheus HTTP endpoint. Grows only at the end; set @c size. */
struct lab_metrics_http_opts {
	size_t size;
	const char *listen;     /**< "PORT", "ADDR:PORT" or "[IPV6]:PORT"; ADDR numeric or
				 *   "localhost", default 127.0.0.1; PORT 0: any free port */
	bool allow_remote;      /**< needed for an address that is not loopback */
	unsigned int timeout_s; /**< 0: LAB_METRICS_HTTP_TIMEOUT_S */
	/** The application's own families (NULL: none), written after
	 *  lab_ctl_metrics()'s on the server's thread for every page. It must
	 *  read the data path's figures as snapshots the workers publish (relaxed
	 *  atomics, say), never wait for a worker, and name families that the
	 *  library's page does not. */
	void (*page_more)(FILE *f, void *arg);
	void *page_more_arg;    /**< page_more's @p arg */
};

/** Defaults: listen on 127.0.0.1:9464, loopback only. */
void lab_metrics_http_opts_init(struct lab_metrics_http_opts *o);

/**
 * Check a listen address as lab_metrics_http_open() would, without opening
 * anything (an app's option parser calls it).
 *
 * @param err  the reason, naming @p listen, when the result is negative
 * @return 0, -EINVAL (not PORT, ADDR:PORT or [IPV6]:PORT; not a numeric
 *         address; a port outside 0..65535), or -EPERM (not loopback and
 *         @p allow_remote false).
 */
int lab_metrics_http_check(const char *listen, bool allow_remote, char *err, size_t len);

struct lab_metrics_http;

/**
 * Serve GET /metrics (the lab_ctl_metrics() page and page_more's families,
 * Prometheus text 0.0.4) over HTTP on a thread of its own; any other path
 * gets 404, any other method 405.
 * The page is built on that thread, from control-path snapshots: a slow
 * client can hold only its own connection, never a worker. Control path.
 *
 * @return the server, or NULL with lab_errno (and the reason logged):
 *         EINVAL or EPERM as lab_metrics_http_check(), EADDRINUSE, EACCES,
 *         ENOMEM, ENOTSUP in a build without libmicrohttpd.
 */
struct lab_metrics_http *lab_metrics_http_open(const struct lab_metrics_http_opts *o);

/** The address served, "ADDR:PORT" or "[IPV6]:PORT", with the port the kernel
 * chose for port 0. */
const char *lab_metrics_http_addr(const struct lab_metrics_http *h);

/** Stop serving (open connections are closed). NULL is fine. */
void lab_metrics_http_close(struct lab_metrics_http *h);

#ifdef __cplusplus
}
#endif

#endif
