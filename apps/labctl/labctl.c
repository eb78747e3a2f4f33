/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * labctl: the command-line client of a labyrinth process's control socket
 * (lab_ctl.h). It finds the socket (-s PATH, -p PID, or the only live one in
 * the runtime directory), sends one JSON request per command and prints the
 * reply as a table, as key/value lines, as Prometheus text (metrics) or, with
 * --json, as the reply itself.
 *
 * Exit: 0; 1 for bad usage, no process to talk to, or an error reply.
 */
#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <labyrinth/lab_common.h>
#include <labyrinth/lab_ctl.h>
#include <labyrinth/lab_json.h>

#include "../cli.h"
#include "labctl.h"

static struct {
	const char *sock;
	long pid;
	bool json;
	double interval;
	long count; /* watch: rows, 0 = until interrupted */
	const char *pool;
	bool interactive;
} opt = { .interval = 1 };

static void usage(FILE *f)
{
	fprintf(f,
"usage: labctl [-s SOCKET | -p PID] [--json] COMMAND\n"
"  list                      the live control sockets in the runtime directory\n"
"  info                      the process: program, pools, ports, warden, log levels\n"
"  pools                     every pool: counts, watermarks, reserve, warden, quality\n"
"  pool NAME                 one pool in full (findings by kind, owners, memory)\n"
"  ports                     every port and queue: packets, bytes, drops\n"
"  set quality LEVEL [RATE] [--pool NAME]   off, sampled (1 in RATE) or full\n"
"  set log LEVEL [TYPE]      err, warning, notice, info or debug (TYPE: all)\n"
"  watch [-i S] [-n N]       a table of every pool each S seconds (default 1)\n"
"  metrics                   Prometheus text exposition format, for scraping\n"
"  raw JSON                  send a request as it is, print the reply\n"
"options:\n"
"  -i, --interactive         a console: the commands above, one per line, with\n"
"                            history and TAB completion on a terminal; from\n"
"                            stdin without one\n"
"  -s, --socket PATH         the socket (default: the only live one in the runtime\n"
"                            directory: $LAB_RUNTIME_DIR, $XDG_RUNTIME_DIR/labyrinth,\n"
"                            /run/labyrinth for root, else /tmp/labyrinth-<uid>)\n"
"  -p, --pid PID             the socket of process PID in that directory\n"
"      --json                print replies as they come (one JSON object per line)\n"
"  -i, --interval S          watch: seconds between rows (-i without a command:\n"
"                            the console)\n"
"  -n, --count N             watch: stop after N refreshes\n"
"      --pool NAME           set quality: only this pool\n"
"examples:\n"
"  labctl pools\n"
"  labctl set quality full\n"
"  labctl -p 4242 watch\n"
"  labctl metrics > /var/lib/node_exporter/labyrinth.prom\n");
}

/* Every live socket of the runtime directory (or the one of opt.pid), one per
 * line into @p out; returns how many. */
static int live_sockets(const char *dir, char paths[][256], int max)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int n = 0;

	if (d == NULL)
		return 0;
	while ((e = readdir(d)) != NULL && n < max) {
		long pid = lab_ctl_sock_pid(e->d_name);
		int fd;

		if (pid <= 0 || (opt.pid > 0 && pid != opt.pid))
			continue;
		if (snprintf(paths[n], 256, "%s/%s", dir, e->d_name) >= 256)
			continue;
		fd = lab_ctl_connect(paths[n]);
		if (fd < 0)
			continue; /* a process that died without removing it */
		close(fd);
		n++;
	}
	closedir(d);
	return n;
}

static int find_socket(char *path, size_t len)
{
	char dir[200], found[16][256];
	int n;

	if (opt.sock != NULL) {
		snprintf(path, len, "%s", opt.sock);
		return 0;
	}
	if (lab_ctl_runtime_dir(dir, sizeof(dir)) < 0) {
		fprintf(stderr, "labctl: the runtime directory's name is too long\n");
		return -1;
	}
	n = live_sockets(dir, found, 16);
	if (n == 1) {
		snprintf(path, len, "%s", found[0]);
		return 0;
	}
	if (n == 0 && opt.pid > 0)
		fprintf(stderr, "labctl: no control socket of process %ld in %s (is it running, "
			"as this user, with its socket there?)\n", opt.pid, dir);
	else if (n == 0)
		fprintf(stderr, "labctl: no labyrinth process to talk to: no live control socket "
			"in %s (start labfwd, or give -s PATH)\n", dir);
	else {
		fprintf(stderr, "labctl: %d processes have a control socket in %s; choose one "
			"with -p PID or -s PATH:\n", n, dir);
		for (int i = 0; i < n; i++)
			fprintf(stderr, "  %s\n", found[i]);
	}
	return -1;
}

static int conn = -1;
static FILE *conn_in;
static char sock_path[256];

const char *labctl_sock_path(void)
{
	return sock_path;
}

/* Send one request; return its reply's text (a static line) or NULL. */
static char *request(const char *req)
{
	static char *line;
	static size_t cap;
	size_t len = strlen(req);

	if (send(conn, req, len, MSG_NOSIGNAL) != (ssize_t)len ||
	    send(conn, "\n", 1, MSG_NOSIGNAL) != 1) {
		fprintf(stderr, "labctl: cannot send: %s\n", strerror(errno));
		return NULL;
	}
	if (getline(&line, &cap, conn_in) < 0) {
		fprintf(stderr, "labctl: the process closed the connection without replying\n");
		return NULL;
	}
	return line;
}

/* A request's reply as a tree; an error reply gives NULL (said on stderr
 * unless @p quiet). */
static struct lab_json *ask_q(const char *req, bool quiet)
{
	char *line = request(req), err[128];
	struct lab_json *j;
	const struct lab_json *ok;

	if (line == NULL)
		return NULL;
	j = lab_json_parse(line, strlen(line), err, sizeof(err));
	if (j == NULL) {
		if (!quiet)
			fprintf(stderr, "labctl: the reply is not JSON (%s): %s", err, line);
		return NULL;
	}
	ok = lab_json_get(j, "ok");
	if (ok == NULL || ok->type != LAB_JSON_BOOL || !ok->b) {
		const char *e = lab_json_str(j, "error");

		if (!quiet)
			fprintf(stderr, "labctl: %s\n", e != NULL ? e : "the reply has no \"ok\"");
		lab_json_free(j);
		return NULL;
	}
	return j;
}

static struct lab_json *ask(const char *req)
{
	return ask_q(req, false);
}

struct lab_json *ask_quiet(const char *req)
{
	return ask_q(req, true);
}

static unsigned long long num(const struct lab_json *o, const char *path)
{
	const struct lab_json *v = lab_json_path(o, path);

	return v != NULL && v->type == LAB_JSON_NUMBER ? (unsigned long long)v->num : 0;
}

static void pools_table(const struct lab_json *pools)
{
	printf("%-16s %9s %9s %8s %9s %8s %7s %7s %7s %13s %-8s %8s %9s %9s %7s\n", "POOL",
	       "TOTAL", "FREE", "CACHED", "INFLIGHT", "QUAR", "MIN", "LOW", "HIGH", "RESERVE-USED",
	       "QUALITY", "FINDINGS", "EFF-RATE", "BACKOFFS", "UNCHKD");
	for (const struct lab_json *p = pools ? pools->child : NULL; p != NULL; p = p->next) {
		char res[32];

		snprintf(res, sizeof(res), "%llu/%llu", num(p, "reserve_in_use"), num(p, "reserve"));
		/* EFF-RATE: one free in this many was deep-checked (0: none yet) */
		printf("%-16s %9llu %9llu %8llu %9llu %8llu %7llu %7llu %7llu %13s %-8s %8llu "
		       "%9llu %9llu %7llu\n",
		       lab_json_str(p, "name"), num(p, "total"), num(p, "free"), num(p, "cached"),
		       num(p, "in_flight"), num(p, "quarantined"), num(p, "wm_min"), num(p, "wm_low"),
		       num(p, "wm_high"), res, lab_json_str(p, "quality"), num(p, "findings_total"),
		       num(p, "sample_effective_rate"), num(p, "sample_backoffs"), num(p, "unchecked"));
	}
}

/* Every leaf as "path value", arrays as path[i]. */
static void flatten(const struct lab_json *j, char *path, size_t len)
{
	size_t o = strlen(path);
	unsigned int i = 0;

	switch (j->type) {
	case LAB_JSON_OBJECT:
	case LAB_JSON_ARRAY:
		for (const struct lab_json *m = j->child; m != NULL; m = m->next, i++) {
			if (o == 0 && m->key != NULL &&
			    (strcmp(m->key, "ok") == 0 || strcmp(m->key, "cmd") == 0))
				continue; /* the envelope */
			if (j->type == LAB_JSON_OBJECT)
				snprintf(path + o, len - o, "%s%s", o ? "." : "", m->key);
			else
				snprintf(path + o, len - o, "[%u]", i);
			flatten(m, path, len);
			path[o] = '\0';
		}
		break;
	case LAB_JSON_STRING:
		printf("%-40s %s\n", path, j->str);
		break;
	case LAB_JSON_NUMBER:
		printf("%-40s %.15g\n", path, j->num);
		break;
	case LAB_JSON_BOOL:
		printf("%-40s %s\n", path, j->b ? "true" : "false");
		break;
	case LAB_JSON_NULL:
		printf("%-40s null\n", path);
		break;
	}
}

static void ports_table(const struct lab_json *ports)
{
	printf("%-3s %-32s %-9s %-5s %14s %14s %14s %14s %10s %10s\n", "ID", "PORT", "DRIVER",
	       "LINK", "RX-PKTS", "RX-BYTES", "TX-PKTS", "TX-BYTES", "RX-NOBUF", "DROPS");
	for (const struct lab_json *p = ports ? ports->child : NULL; p != NULL; p = p->next) {
		const struct lab_json *up = lab_json_path(p, "link.up");
		unsigned long long drops = num(p, "rx.oversize") + num(p, "rx.truncated") +
					   num(p, "rx.errors") + num(p, "tx.ring_full") +
					   num(p, "tx.errors");

		printf("%-3llu %-32.32s %-9s %-5s %14llu %14llu %14llu %14llu %10llu %10llu\n",
		       num(p, "id"), lab_json_str(p, "name"), lab_json_str(p, "driver"),
		       up != NULL && up->b ? "up" : "down", num(p, "rx.packets"), num(p, "rx.bytes"),
		       num(p, "tx.packets"), num(p, "tx.bytes"), num(p, "rx.nobuf"), drops);
	}
}

static double now_s(void)
{
	return (double)lab_now_ns() / 1e9;
}

/* Packets of every port, both ways. */
static void port_packets(unsigned long long *rx, unsigned long long *tx)
{
	struct lab_json *j = ask("{\"cmd\":\"ports\"}");
	const struct lab_json *ports = lab_json_get(j, "ports");

	*rx = *tx = 0;
	for (const struct lab_json *p = ports ? ports->child : NULL; p != NULL; p = p->next) {
		*rx += num(p, "rx.packets");
		*tx += num(p, "tx.packets");
	}
	lab_json_free(j);
}

#define WATCH_FIELDS 4 /* kicks, grows, shrinks, misses: shown per interval */

static int watch(void)
{
	static const char *const ev[WATCH_FIELDS] = { "kicks", "grows", "shrinks", "misses" };
	unsigned long long prev[64][WATCH_FIELDS] = { { 0 } }, rx0, tx0, rx, tx;
	bool tty = isatty(STDOUT_FILENO);
	double t0 = now_s(), t = t0;

	port_packets(&rx0, &tx0);
	for (long row = 0; opt.count == 0 || row < opt.count; row++) {
		struct lab_json *j;
		const struct lab_json *p;
		double dt;
		unsigned int i = 0;

		nanosleep(&(struct timespec){ (time_t)opt.interval,
					      (long)((opt.interval - (double)(time_t)opt.interval) *
						     1e9) }, NULL);
		j = ask("{\"cmd\":\"pools\"}");
		if (j == NULL)
			return 1;
		port_packets(&rx, &tx);
		dt = now_s() - t;
		t += dt;
		if (tty)
			printf("\033[H\033[2J");
		if (tty || row % 20 == 0)
			printf("%8s %-14s %9s %8s %9s %8s %8s %6s %6s %7s %7s %9s %9s\n", "TIME",
			       "POOL", "FREE", "CACHED", "INFLIGHT", "QUAR", "RESERVE", "KICKS",
			       "GROWS", "SHRINKS", "MISSES", "RX-Mpps", "TX-Mpps");
		for (p = lab_json_get(j, "pools")->child; p != NULL && i < 64; p = p->next, i++) {
			unsigned long long d[WATCH_FIELDS];

			for (int k = 0; k < WATCH_FIELDS; k++) {
				unsigned long long v = num(p, ev[k]);

				d[k] = row ? v - prev[i][k] : 0;
				prev[i][k] = v;
			}
			printf("%8.1f %-14.14s %9llu %8llu %9llu %8llu %8llu %6llu %6llu %7llu %7llu "
			       "%9.3f %9.3f\n", t - t0, lab_json_str(p, "name"), num(p, "free"),
			       num(p, "cached"), num(p, "in_flight"), num(p, "quarantined"),
			       num(p, "reserve_in_use"), d[0], d[1], d[2], d[3],
			       (double)(rx - rx0) / dt / 1e6, (double)(tx - tx0) / dt / 1e6);
		}
		rx0 = rx;
		tx0 = tx;
		fflush(stdout);
		lab_json_free(j);
	}
	return 0;
}

/* Commands that send one request and print its reply. */
int one_shot(const char *cmd, const char *req)
{
	struct lab_json *j;
	char path[512] = "";

	if (opt.json) {
		char *line = request(req);

		if (line == NULL)
			return 1;
		fputs(line, stdout);
		return strncmp(line, "{\"ok\":true", 10) == 0 ? 0 : 1;
	}
	j = ask(req);
	if (j == NULL)
		return 1;
	if (strcmp(cmd, "pools") == 0)
		pools_table(lab_json_get(j, "pools"));
	else if (strcmp(cmd, "ports") == 0)
		ports_table(lab_json_get(j, "ports"));
	else if (strcmp(cmd, "metrics") == 0)
		fputs(lab_json_str(j, "text") ? lab_json_str(j, "text") : "", stdout);
	else
		flatten(lab_json_get(j, "pool") ? lab_json_get(j, "pool") : j, path, sizeof(path));
	lab_json_free(j);
	return 0;
}

/* The request of a command line, into @p req. */
int build_request(int argc, char **argv, const char *pool, char *req, size_t len)
{
	const char *cmd = argv[0];
	char *m = NULL;
	size_t mlen = 0;
	FILE *f;

	if (strcmp(cmd, "raw") == 0 && argc == 2)
		return snprintf(req, len, "%s", argv[1]) < (int)len ? 0 : -1;
	f = open_memstream(&m, &mlen);
	if (f == NULL)
		return -1;
	if ((strcmp(cmd, "info") == 0 || strcmp(cmd, "pools") == 0 || strcmp(cmd, "ports") == 0 ||
	     strcmp(cmd, "metrics") == 0 || strcmp(cmd, "help") == 0) && argc == 1) {
		fprintf(f, "{\"cmd\":\"%s\"}", cmd);
	} else if (strcmp(cmd, "pool") == 0 && argc == 2) {
		fputs("{\"cmd\":\"pool\",\"name\":", f);
		lab_json_write_str(f, argv[1]);
		fputc('}', f);
	} else if (strcmp(cmd, "set") == 0 && argc >= 3 && strcmp(argv[1], "quality") == 0 &&
		   argc <= 4) {
		fputs("{\"cmd\":\"set\",\"what\":\"quality\",\"level\":", f);
		lab_json_write_str(f, argv[2]);
		if (argc == 4) {
			char *end;
			unsigned long r = strtoul(argv[3], &end, 10);

			if (*end != '\0' || end == argv[3] || argv[3][0] == '-') {
				fprintf(stderr, "labctl: set quality: rate '%s': want a whole "
					"number (one free in that many is checked)\n", argv[3]);
				fclose(f);
				free(m);
				return -1;
			}
			fprintf(f, ",\"rate\":%lu", r);
		}
		if (pool != NULL) {
			fputs(",\"pool\":", f);
			lab_json_write_str(f, pool);
		}
		fputc('}', f);
	} else if (strcmp(cmd, "set") == 0 && (argc == 3 || argc == 4) &&
		   strcmp(argv[1], "log") == 0) {
		fputs("{\"cmd\":\"set\",\"what\":\"log\",\"level\":", f);
		lab_json_write_str(f, argv[2]);
		if (argc == 4) {
			fputs(",\"type\":", f);
			lab_json_write_str(f, argv[3]);
		}
		fputc('}', f);
	} else {
		fclose(f);
		free(m);
		cli_usage_error("labctl", "'%s' with %d argument(s): not a command", cmd,
				argc - 1);
		return -1;
	}
	fclose(f);
	snprintf(req, len, "%s", m);
	free(m);
	return 0;
}

static int list(void)
{
	char dir[200], found[64][256];
	int n;

	if (lab_ctl_runtime_dir(dir, sizeof(dir)) < 0)
		return 1;
	n = live_sockets(dir, found, 64);
	for (int i = 0; i < n; i++)
		printf("%s\n", found[i]);
	if (n == 0)
		fprintf(stderr, "labctl: no live control socket in %s\n", dir);
	return n > 0 ? 0 : 1;
}

static int parse_opts(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "socket", required_argument, NULL, 's' }, { "pid", required_argument, NULL, 'p' },
		{ "json", no_argument, NULL, 'j' },	    { "interval", required_argument, NULL, 'i' },
		{ "count", required_argument, NULL, 'n' },  { "pool", required_argument, NULL, 'P' },
		{ "interactive", no_argument, NULL, 'I' },
		{ "help", no_argument, NULL, 'h' },	    { NULL, 0, NULL, 0 },
	};
	char *end;
	int c;

	opterr = 0;
	while ((c = getopt_long(argc, argv, ":s:p:i:n:h", lo, NULL)) != -1) {
		/* -i with no command after the options: the console (a value
		 * that is not a number is the next word, not an interval). */
		if (c == ':' && optopt == 'i') {
			opt.interactive = true;
			continue;
		}
		switch (c) {
		case 's':
			opt.sock = optarg;
			break;
		case 'p':
			opt.pid = strtol(optarg, &end, 10);
			if (*end != '\0' || opt.pid <= 0) {
				fprintf(stderr, "labctl: pid '%s': want a process id\n", optarg);
				return -1;
			}
			break;
		case 'j':
			opt.json = true;
			break;
		case 'i':
			/* -i followed by another option or a word, not seconds:
			 * the console (labctl -i -s SOCK); give the word back. */
			if ((optarg[0] < '0' || optarg[0] > '9') && optarg[0] != '.' &&
			    optarg == argv[optind - 1]) {
				opt.interactive = true;
				optind--;
				break;
			}
			opt.interval = strtod(optarg, &end);
			if (*end != '\0' || !(opt.interval >= 0.05) || opt.interval > 86400) {
				fprintf(stderr, "labctl: interval '%s': want seconds, 0.05..86400\n",
					optarg);
				return -1;
			}
			break;
		case 'n':
			opt.count = strtol(optarg, &end, 10);
			if (*end != '\0' || opt.count <= 0) {
				fprintf(stderr, "labctl: count '%s': want a number > 0\n", optarg);
				return -1;
			}
			break;
		case 'P':
			opt.pool = optarg;
			break;
		case 'I':
			opt.interactive = true;
			break;
		case 'h':
			usage(stdout);
			exit(0);
		default:
			cli_bad_option("labctl", argv, c);
			return -1;
		}
	}
	return 0;
}

static const char *one_cmd;
static char one_req[LAB_CTL_REQ_MAX];

static int run_one(void)
{
	return strcmp(one_cmd, "watch") == 0 ? watch() : one_shot(one_cmd, one_req);
}

/* Find the socket, connect, run @p fn over the connection. */
static int connect_and(int (*fn)(void))
{
	int rc;

	if (find_socket(sock_path, sizeof(sock_path)) < 0)
		return 1;
	conn = lab_ctl_connect(sock_path);
	if (conn < 0) {
		fprintf(stderr, "labctl: cannot connect to %s: %s\n", sock_path, strerror(-conn));
		return 1;
	}
	conn_in = fdopen(dup(conn), "r");
	rc = fn();
	fclose(conn_in);
	close(conn);
	return rc;
}

int main(int argc, char **argv)
{
	if (parse_opts(argc, argv) < 0)
		return 1;
	/* getopt moved the options (anywhere: labctl watch -n 3) before the words. */
	argc -= optind;
	argv += optind;
	if (opt.interactive && argc > 0) {
		cli_usage_error("labctl", "the console (-i) takes its commands on its own input, "
				"not '%s'", argv[0]);
		return 1;
	}
	if (opt.interactive)
		return connect_and(console_run);
	if (argc == 0) {
		cli_usage_error("labctl", "no command given (list, info, pools, pool NAME, ports, "
				"set, watch, metrics, raw JSON; -i: the console)");
		return 1;
	}
	if (strcmp(argv[0], "list") == 0)
		return list();
	one_cmd = argv[0];
	if (strcmp(argv[0], "watch") != 0 &&
	    build_request(argc, argv, opt.pool, one_req, sizeof(one_req)) < 0)
		return 1;
	return connect_and(run_one);
}
