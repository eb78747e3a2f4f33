/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * labfwd's options: the usage text, the command line and the config file
 * ([labfwd] takes the long options as keys). Each bad value is one message
 * naming the option and the value, and what would do.
 */
#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>

#include <labyrinth/lab_ctl.h>

#include "../cli.h"
#include "labfwd.h"

void fwd_usage(FILE *f)
{
	fprintf(f,
"usage: labfwd [options]            (no arguments at all: the embedded demo;\n"
"                                   otherwise at least one -p)\n"
"  -p, --port DEV          a port, repeatable: pcap:rx=in.pcap,tx=out.pcap,\n"
"                          af_packet:iface=veth0, af_xdp:iface=veth0,queue=0,\n"
"                          ring:name=a, null:size=64 (docs/drivers.md)\n"
"  -m, --map LIST          forwarding map 'src:dst,...' (default: pairs 0<->1,\n"
"                          2<->3, ...; an odd last port forwards to itself)\n"
"  -c, --cores LIST        worker cores, e.g. 1 or 0,1 or 0-1 (default: one worker\n"
"                          on the first CPU this process may use); each worker\n"
"                          polls its own RX queue of every port; each core once\n"
"  -b, --burst N           packets per burst, 1..%u (default 32)\n"
"      --mode M            io (forward as is), macswap (swap MACs) or l2fwd\n"
"                          (dst 02:00:00:00:00:<dst port>, src the port's own\n"
"                          02:00:00:00:01:<port>) (default io)\n"
"  -d, --duration S        stop after S seconds (default: no limit)\n"
"  -n, --packets N         stop after N packets received (default: no limit)\n"
"  -i, --stats-interval S  a live line every S seconds, 0 for none (default 1)\n"
"      --json              live lines and summary as JSON objects\n"
"      --ctl PATH|off      the control socket labctl talks to (default: in the\n"
"                          runtime dir, $LAB_RUNTIME_DIR or /run/labyrinth for\n"
"                          root: labfwd.<pid>.sock; docs/observability.md)\n"
"      --metrics ADDR:PORT serve GET /metrics (Prometheus) over HTTP; PORT alone\n"
"                          is 127.0.0.1:PORT (docs/observability.md)\n"
"      --metrics-remote    let --metrics listen on an address that is not\n"
"                          loopback (others could read this process's figures)\n"
"      --stats-csv FILE    a CSV row of pool and rate figures per interval\n"
"                          (columns: docs/labfwd.md)\n"
"      --csv-interval S    seconds per CSV row (default: the stats interval, or 1)\n"
"      --storm AT,SECS     from AT s for SECS s hold every buffer the pool gives\n"
"                          above min: an exhaustion storm that RX rides out on\n"
"                          the reserve while the warden grows the pool (with\n"
"                          --owners queue; a worker's one cache may not need it)\n"
"      --verify            at exit, check each pcap port that forwards to itself\n"
"                          (rx and tx files, loop > 0): the output must be the\n"
"                          input replayed loop times, byte for byte\n"
"      --tx-retry WHICH    whose packets a full TX ring does not lose: replay (a\n"
"                          pcap rx file: the rest of the burst is offered again\n"
"                          before the file is read on), all (every source: a\n"
"                          slow port holds up its sources) or none (drop, as\n"
"                          testpmd does) (default replay)\n"
"      --tx-first          each worker first sends one burst of 64-byte frames out\n"
"                          of every port (as testpmd's): traffic for looped ports\n"
"      --rx-ring N         RX descriptors per queue (default: the driver's)\n"
"      --tx-ring N         TX descriptors per queue (default: the driver's)\n"
"      --pool-size N       buffers at start (pool.size)\n"
"      --pool-max N        buffers at most (pool.max)\n"
"      --quality L         off, sampled or full (quality.level)\n"
"      --owners O          worker: each worker's queues (its RX and TX queue of\n"
"                          every port) share one owner cache, one ownership\n"
"                          domain: forwarding changes no owner; queue: a cache\n"
"                          per queue, a checked transfer per packet from RX to\n"
"                          TX (and into a ring port's peer) (default worker)\n"
"      --set K=V           any key of config/labyrinth.conf: --set pool.min=5%%\n"
"      --config FILE       read options from FILE first (config/labfwd.conf)\n"
"  -h, --help              this text\n"
"It stops at the limits above, on SIGINT, SIGTERM, SIGHUP or SIGPIPE, or when\n"
"every source is a replay that has ended and all of it is forwarded; then it\n"
"prints the summary.\n"
"examples:\n"
"  labfwd\n"
"  labfwd --port pcap:rx=in.pcap,tx=out.pcap --verify\n"
"  labfwd -p af_xdp:iface=veth1 -p af_xdp:iface=veth2 --mode l2fwd -c 1\n"
"  labfwd -p null:size=64 -p null:size=64 --duration 5 --json\n"
"  labfwd --config config/labfwd.conf --set quality.level=full\n", LAB_BURST_MAX);
}

/* A count: lab_parse_size(), the one number parser (decimal digits, an
 * optional K/M/G suffix: --rx-ring 1K), so " 8", "+5" and "0x1" are refused
 * here as in a config file or a device string. */
static int parse_u64(const char *what, const char *v, uint64_t min, uint64_t max, uint64_t *out)
{
	uint64_t x;

	if (lab_parse_size(v, &x) < 0 || x < min || x > max) {
		fprintf(stderr, "labfwd: %s '%s': expected a whole number %llu..%llu (decimal "
			"digits)\n", what, v, (unsigned long long)min, (unsigned long long)max);
		return -1;
	}
	*out = x;
	return 0;
}

/* Seconds, at most about 115 days: a bound that keeps sums of them exact enough. */
#define SECS_MAX 1e7

/* Seconds as lab_parse_secs() reads them: 2, 0.5; no sign, exponent or hex. */
static int parse_secs(const char *what, const char *v, double *out)
{
	double x;

	if (lab_parse_secs(v, &x) < 0 || x > SECS_MAX) {
		fprintf(stderr, "labfwd: %s '%s': expected seconds from 0 to %.0f (digits, an "
			"optional fraction: 2, 0.5)\n", what, v, SECS_MAX);
		return -1;
	}
	*out = x;
	return 0;
}

/* Whether @p tok is digits, with @p sep once between two runs of them
 * (sep '\0': digits only): what the sscanf() %u below may read, without the
 * sign and the spaces it would also take. */
static bool digits_sep(const char *tok, char sep)
{
	size_t a = strspn(tok, "0123456789"), b;

	if (a == 0)
		return false;
	if (tok[a] == '\0')
		return sep == '\0' || sep == '-';
	if (sep == '\0' || tok[a] != sep)
		return false;
	b = strspn(tok + a + 1, "0123456789");
	return b > 0 && tok[a + 1 + b] == '\0';
}

/* --storm AT,SECS */
static int parse_storm(struct fwd_opts *o, const char *v)
{
	char at[32];
	const char *comma = strchr(v, ',');

	if (comma == NULL || (size_t)(comma - v) >= sizeof(at)) {
		fprintf(stderr, "labfwd: storm '%s': expected AT,SECS (seconds after the start, "
			"how long), e.g. 2,3\n", v);
		return -1;
	}
	snprintf(at, sizeof(at), "%.*s", (int)(comma - v), v);
	if (parse_secs("storm start", at, &o->storm_at) < 0 ||
	    parse_secs("storm length", comma + 1, &o->storm_secs) < 0)
		return -1;
	return 0;
}

static int parse_map(struct fwd_opts *o, const char *v)
{
	char buf[512], *save = NULL, *tok;

	snprintf(buf, sizeof(buf), "%s", v);
	for (int i = 0; i < FWD_MAX_PORTS; i++)
		o->map[i] = -1;
	for (tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		unsigned int s, d;
		char extra;

		if (!digits_sep(tok, ':') || sscanf(tok, "%u:%u%c", &s, &d, &extra) != 2 || s >= FWD_MAX_PORTS ||
		    d >= FWD_MAX_PORTS) {
			fprintf(stderr, "labfwd: map '%s': entry '%s' is not 'src:dst' with ports "
				"0..%d\n", v, tok, FWD_MAX_PORTS - 1);
			return -1;
		}
		if (o->map[s] >= 0) {
			fprintf(stderr, "labfwd: map '%s': port %u is mapped twice\n", v, s);
			return -1;
		}
		o->map[s] = (int)d;
	}
	o->have_map = true;
	return 0;
}

static int parse_cores(struct fwd_opts *o, const char *v)
{
	char buf[256], *save = NULL, *tok;
	cpu_set_t allowed, seen;

	sched_getaffinity(0, sizeof(allowed), &allowed);
	CPU_ZERO(&seen);
	snprintf(buf, sizeof(buf), "%s", v);
	o->nworkers = 0;
	for (tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		unsigned int a, b;
		char extra;
		int n = sscanf(tok, "%u-%u%c", &a, &b, &extra);

		if (n == 1)
			b = a;
		if (!digits_sep(tok, '-') || (n != 1 && n != 2) || b < a || b >= CPU_SETSIZE) {
			fprintf(stderr, "labfwd: cores '%s': '%s' is not a core or a range a-b\n", v,
				tok);
			return -1;
		}
		for (unsigned int c = a; c <= b; c++) {
			if (!CPU_ISSET(c, &allowed)) {
				fprintf(stderr, "labfwd: cores '%s': core %u is not one this process "
					"may run on (%d online)\n", v, c, CPU_COUNT(&allowed));
				return -1;
			}
			/* Two busy-polling workers pinned to one core only take turns. */
			if (CPU_ISSET(c, &seen)) {
				fprintf(stderr, "labfwd: cores '%s': core %u is given twice (one worker "
					"per core: give each core once)\n", v, c);
				return -1;
			}
			CPU_SET(c, &seen);
			if (o->nworkers == FWD_MAX_WORKERS) {
				fprintf(stderr, "labfwd: cores '%s': at most %d workers\n", v,
					FWD_MAX_WORKERS);
				return -1;
			}
			o->cores[o->nworkers++] = (int)c;
		}
	}
	if (o->nworkers == 0) {
		fprintf(stderr, "labfwd: cores '%s': no core given\n", v);
		return -1;
	}
	return 0;
}

static int parse_mode(struct fwd_opts *o, const char *v)
{
	if (strcmp(v, "io") == 0)
		o->mode = FWD_IO;
	else if (strcmp(v, "macswap") == 0)
		o->mode = FWD_MACSWAP;
	else if (strcmp(v, "l2fwd") == 0)
		o->mode = FWD_L2FWD;
	else {
		fprintf(stderr, "labfwd: mode '%s': expected io, macswap or l2fwd\n", v);
		return -1;
	}
	return 0;
}

static int parse_owners(struct fwd_opts *o, const char *v)
{
	if (strcmp(v, "worker") == 0 || strcmp(v, "queue") == 0) {
		o->queue_owners = v[0] == 'q';
		return 0;
	}
	fprintf(stderr, "labfwd: owners '%s': expected worker or queue\n", v);
	return -1;
}

static int parse_retry(struct fwd_opts *o, const char *v)
{
	static const char *const names[] = { "replay", "all", "none" };

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (strcmp(v, names[i]) == 0) {
			o->retry = (enum fwd_retry)i;
			return 0;
		}
	fprintf(stderr, "labfwd: tx-retry '%s': expected replay, all or none\n", v);
	return -1;
}

/* --json, --verify, --tx-first: no value (the command line) or 0/1, yes/no,
 * true/false (a config file). */
static int parse_flag(struct fwd_opts *o, const char *name, const char *v)
{
	bool *b = name[0] == 'j' ? &o->json : name[0] == 'v' ? &o->verify :
		  name[0] == 'm' ? &o->metrics_remote : &o->tx_first;

	if (v == NULL || strcmp(v, "1") == 0 || strcmp(v, "yes") == 0 || strcmp(v, "true") == 0)
		*b = true;
	else if (strcmp(v, "0") == 0 || strcmp(v, "no") == 0 || strcmp(v, "false") == 0)
		*b = false;
	else {
		fprintf(stderr, "labfwd: %s '%s': expected 0 or 1\n", name, v);
		return -1;
	}
	return 0;
}

/* --set KEY=VALUE, or an option that is a configuration key under another
 * name (--pool-size is pool.size), or a configuration key itself. */
static int set_config(struct fwd_opts *o, const char *name, const char *v)
{
	static const char *const alias[][2] = { { "pool-size", "pool.size" },
						{ "pool-max", "pool.max" },
						{ "quality", "quality.level" } };
	const char *key = strcmp(name, "set") == 0 ? NULL : name;

	for (size_t i = 0; i < sizeof(alias) / sizeof(alias[0]); i++)
		if (strcmp(name, alias[i][0]) == 0)
			key = alias[i][1];
	if (key == NULL ? lab_config_set_arg(&o->cfg, v) < 0
			: lab_config_set(&o->cfg, key, v) < 0) {
		fprintf(stderr, "labfwd: %s\n", lab_config_error());
		return -1;
	}
	if (key == NULL ? strncmp(v, "pool.size=", 10) == 0 : strcmp(key, "pool.size") == 0)
		o->pool_size_given = true;
	return 0;
}

/* One option by its long name, from the command line or a config file. */
static int apply_opt(struct fwd_opts *o, const char *name, const char *v)
{
	uint64_t x;

	if (strcmp(name, "port") == 0) {
		if (o->nports == FWD_MAX_PORTS) {
			fprintf(stderr, "labfwd: at most %d ports\n", FWD_MAX_PORTS);
			return -1;
		}
		o->ports[o->nports++] = strdup(v);
		return 0;
	}
	if (strcmp(name, "map") == 0)
		return parse_map(o, v);
	if (strcmp(name, "cores") == 0)
		return parse_cores(o, v);
	if (strcmp(name, "burst") == 0) {
		if (parse_u64("burst", v, 1, LAB_BURST_MAX, &x) < 0)
			return -1;
		o->burst = (unsigned int)x;
		return 0;
	}
	if (strcmp(name, "mode") == 0)
		return parse_mode(o, v);
	if (strcmp(name, "owners") == 0)
		return parse_owners(o, v);
	if (strcmp(name, "duration") == 0)
		return parse_secs("duration", v, &o->duration);
	if (strcmp(name, "stats-interval") == 0)
		return parse_secs("stats-interval", v, &o->interval);
	if (strcmp(name, "csv-interval") == 0)
		return parse_secs("csv-interval", v, &o->csv_interval);
	if (strcmp(name, "metrics") == 0) {
		o->metrics = strdup(v);
		return 0;
	}
	if (strcmp(name, "ctl") == 0 || strcmp(name, "stats-csv") == 0) {
		*(name[0] == 'c' ? &o->ctl : &o->csv) = strdup(v);
		return 0;
	}
	if (strcmp(name, "storm") == 0)
		return parse_storm(o, v);
	if (strcmp(name, "packets") == 0)
		return parse_u64("packets", v, 0, UINT64_MAX, &o->packets);
	if (strcmp(name, "rx-ring") == 0 || strcmp(name, "tx-ring") == 0) {
		if (parse_u64(name, v, 0, 16384, &x) < 0)
			return -1;
		*(name[0] == 'r' ? &o->rx_ring : &o->tx_ring) = (uint32_t)x;
		return 0;
	}
	if (strcmp(name, "tx-retry") == 0)
		return parse_retry(o, v);
	if (strcmp(name, "json") == 0 || strcmp(name, "verify") == 0 ||
	    strcmp(name, "tx-first") == 0 || strcmp(name, "metrics-remote") == 0)
		return parse_flag(o, name, v);
	return set_config(o, name, v);
}

static char *trim(char *s)
{
	char *e;

	while (isspace((unsigned char)*s))
		s++;
	e = s + strlen(s);
	while (e > s && isspace((unsigned char)e[-1]))
		*--e = '\0';
	return s;
}

enum { OPT_MODE = 256, OPT_JSON, OPT_VERIFY, OPT_TXFIRST, OPT_RXR, OPT_TXR, OPT_PSIZE, OPT_PMAX, OPT_QUAL,
       OPT_SET, OPT_CONFIG, OPT_CTL, OPT_CSV, OPT_CSVI, OPT_STORM, OPT_OWNERS,
       OPT_METRICS, OPT_METRICS_REMOTE, OPT_TXRETRY };

static const struct option longopts[] = {
	{ "port", required_argument, NULL, 'p' },
	{ "map", required_argument, NULL, 'm' },
	{ "cores", required_argument, NULL, 'c' },
	{ "burst", required_argument, NULL, 'b' },
	{ "mode", required_argument, NULL, OPT_MODE },
	{ "duration", required_argument, NULL, 'd' },
	{ "packets", required_argument, NULL, 'n' },
	{ "stats-interval", required_argument, NULL, 'i' },
	{ "json", no_argument, NULL, OPT_JSON },
	{ "ctl", required_argument, NULL, OPT_CTL },
	{ "metrics", required_argument, NULL, OPT_METRICS },
	{ "metrics-remote", no_argument, NULL, OPT_METRICS_REMOTE },
	{ "stats-csv", required_argument, NULL, OPT_CSV },
	{ "csv-interval", required_argument, NULL, OPT_CSVI },
	{ "storm", required_argument, NULL, OPT_STORM },
	{ "verify", no_argument, NULL, OPT_VERIFY },
	{ "tx-first", no_argument, NULL, OPT_TXFIRST },
	{ "tx-retry", required_argument, NULL, OPT_TXRETRY },
	{ "rx-ring", required_argument, NULL, OPT_RXR },
	{ "tx-ring", required_argument, NULL, OPT_TXR },
	{ "pool-size", required_argument, NULL, OPT_PSIZE },
	{ "pool-max", required_argument, NULL, OPT_PMAX },
	{ "quality", required_argument, NULL, OPT_QUAL },
	{ "owners", required_argument, NULL, OPT_OWNERS },
	{ "set", required_argument, NULL, OPT_SET },
	{ "config", required_argument, NULL, OPT_CONFIG },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

static const char *opt_name(int c)
{
	for (const struct option *l = longopts; l->name; l++)
		if (l->val == c)
			return l->name;
	return "?";
}

/* A [labfwd] key of a config file: a long option, except set, config and help. */
static bool config_key(const char *k)
{
	for (const struct option *l = longopts; l->name; l++)
		if (strcmp(l->name, k) == 0)
			return l->val != OPT_SET && l->val != OPT_CONFIG && l->val != 'h';
	return false;
}

/* The line's key, unless it is 'port' in [labfwd] (which repeats), must not
 * have been given before in this file: the rule of lab_config_load(). */
static int seen_once(struct lab_config_seen *seen, const char *path, int ln,
		     const char *section, const char *key)
{
	if (strcmp(section, "labfwd") == 0 && strcmp(key, "port") == 0)
		return 0;
	if (lab_config_seen_add(seen, path, ln, section, key) < 0) {
		fprintf(stderr, "labfwd: %s\n", lab_config_error());
		return -1;
	}
	return 0;
}

/*
 * A labfwd config file: [labfwd] takes the long options as keys (port may
 * repeat, no other key; flags take 0 or 1); [pool], [arena], [quality] and
 * [log] take the keys of config/labyrinth.conf. ';' and '#' start comments.
 */
static int load_config(struct fwd_opts *o, const char *path)
{
	char line[1024], section[32] = "";
	struct lab_config_seen seen = { 0 };
	FILE *f = lab_config_fopen(path);
	int ln = 0, rc;

	if (f == NULL) {
		fprintf(stderr, "labfwd: %s\n", lab_config_error());
		return -1;
	}
	while ((rc = lab_config_read_line(f, path, ln + 1, line, sizeof(line))) > 0) {
		char *s, *eq, *c;

		ln++;
		for (c = line; *c; c++)
			if (*c == ';' || *c == '#') {
				*c = '\0';
				break;
			}
		s = trim(line);
		if (*s == '\0')
			continue;
		if (*s == '[') {
			char *end = strchr(s, ']');

			if (end == NULL || end[1] != '\0' || end - s - 1 >= (long)sizeof(section)) {
				fprintf(stderr, "labfwd: %s:%d: bad section header '%s'\n", path, ln, s);
				goto err;
			}
			*end = '\0';
			snprintf(section, sizeof(section), "%s", s + 1);
			continue;
		}
		eq = strchr(s, '=');
		if (eq == NULL || section[0] == '\0') {
			fprintf(stderr, "labfwd: %s:%d: expected 'key = value' inside a [section]\n",
				path, ln);
			goto err;
		}
		*eq = '\0';
		if (strcmp(section, "labfwd") == 0) {
			const char *k = trim(s);

			if (!config_key(k)) {
				fprintf(stderr, "labfwd: %s:%d: unknown key '%s' in [labfwd] (see "
					"labfwd --help: the long options)\n", path, ln, k);
				goto err;
			}
			if (seen_once(&seen, path, ln, section, k) < 0)
				goto err;
			if (apply_opt(o, k, trim(eq + 1)) < 0) {
				fprintf(stderr, "labfwd: %s:%d: in key '%s'\n", path, ln, k);
				goto err;
			}
		} else {
			char key[96];

			snprintf(key, sizeof(key), "%s.%s", section, trim(s));
			if (seen_once(&seen, path, ln, section, trim(s)) < 0)
				goto err;
			if (lab_config_set(&o->cfg, key, trim(eq + 1)) < 0) {
				fprintf(stderr, "labfwd: %s:%d: %s\n", path, ln, lab_config_error());
				goto err;
			}
			o->pool_size_given |= strcmp(key, "pool.size") == 0;
		}
	}
	if (rc < 0) {
		fprintf(stderr, "labfwd: %s\n", lab_config_error());
		goto err;
	}
	fclose(f);
	lab_config_seen_free(&seen);
	return 0;
err:
	fclose(f);
	lab_config_seen_free(&seen);
	return -1;
}

/* @return 0 to run, 1 for --help, -1 for bad usage. */
int fwd_parse_args(struct fwd_opts *o, int argc, char **argv)
{
	int c;

	/* The config file first, so the command line overrides it. */
	for (int i = 1; i < argc; i++) {
		const char *path = NULL;

		if (strcmp(argv[i], "--config") == 0 && i + 1 < argc)
			path = argv[i + 1];
		else if (strncmp(argv[i], "--config=", 9) == 0)
			path = argv[i] + 9;
		if (path != NULL && load_config(o, path) < 0)
			return -1;
	}
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":p:m:c:b:d:n:i:h", longopts, NULL)) != -1) {
		if (c == 'h')
			return 1;
		if (c == '?' || c == ':') {
			cli_bad_option("labfwd", argv, c);
			return -1;
		}
		if (c == OPT_CONFIG)
			continue;
		if (apply_opt(o, opt_name(c), optarg) < 0)
			return -1;
	}
	if (optind < argc) {
		cli_usage_error("labfwd", "unexpected argument '%s' (ports are given with -p)",
				argv[optind]);
		return -1;
	}
	/* After every option: --metrics-remote may come after --metrics. */
	if (o->metrics != NULL) {
		char err[256];

		if (lab_metrics_http_check(o->metrics, o->metrics_remote, err, sizeof(err)) < 0) {
			fprintf(stderr, "labfwd: --metrics %s\n", err);
			return -1;
		}
	}
	return 0;
}
