/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * labblk's options, which are fio's keys: the same names on the command line
 * (--bs 4k, --bs=4k) and in a job file (bs=4k), read by one setter so that a
 * value means the same in both and a bad one gets the same message, naming
 * where it came from. As in fio, options before the first --name (or a job
 * file's [global]) are every job's defaults and each --name starts a job.
 * A fio option labblk does not have is refused by name, never ignored: a
 * run that silently dropped, say, --norandommap would measure something else
 * than the user asked for.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <labyrinth/lab_common.h>

#include "../cli.h"
#include "labblk.h"

const char *const rw_names[] = { "read", "write", "randread", "randwrite", "rw", "randrw",
				 NULL };

void opts_usage(FILE *f)
{
	fprintf(f,
"usage: labblk --dev DEVSTRING [options]\n"
"       labblk [options] JOBFILE        (fio's INI job format: [global], [job]...)\n"
"  --dev S         block device string: uring:path=FILE|/dev/X[,qd=N,sqpoll=1,...],\n"
"                  ram:size=256M[,block=4096]\n"
"  --filename F    a file or block device, as fio's: the device uring:path=F\n"
"  --name N        start a job named N; options before the first --name are\n"
"                  every job's defaults (fio's [global])\n"
"  --rw M          read, write, randread, randwrite, rw (mixed), randrw (default randread)\n"
"  --rwmixread N   percent of reads in rw and randrw (default 50)\n"
"  --bs N          bytes per request, a multiple of the block size (default 4096)\n"
"  --iodepth N     requests outstanding per job (default 32)\n"
"  --numjobs N     jobs (threads), each with its own queue pair (default 1)\n"
"  --runtime S     run this many seconds (time-based); without it each job moves\n"
"                  its share of --size once\n"
"  --ramp_time S   run S seconds before the figures start (added to --runtime)\n"
"  --rate_iops N   at most N I/Os per second per job\n"
"  --size N        bytes of the device to use, split between jobs (default: all)\n"
"  --verify        stamp writes with LBA and sequence and check every read\n"
"  --seed N        random offsets seed (default 1)\n"
"  --group_reporting       one set of figures for all jobs, not one per job\n"
"  --status-interval S     a progress line every S seconds (default 1)\n"
"  --output-format F       normal, json or json+ (fio's layouts; json+ adds the\n"
"                          latency histogram's buckets)\n"
"  --output FILE   the report into FILE instead of stdout\n"
"  --json          labblk's own summary as one JSON object on stdout (human\n"
"                  output on stderr)\n"
"  --metrics ADDR:PORT  serve GET /metrics (Prometheus) over HTTP during the run;\n"
"                  PORT alone is 127.0.0.1:PORT\n"
"  --metrics-remote  let --metrics listen on an address that is not loopback\n"
"  --time_based, --direct=1, --ioengine=labyrinth   accepted for fio compatibility\n");
}

static int parse_u64(const char *where, const char *v, uint64_t min, uint64_t max, uint64_t *out)
{
	if (v == NULL || lab_parse_size(v, out) < 0 || *out < min || *out > max) {
		fprintf(stderr, "labblk: %s '%s': expected a number from %llu to %llu (decimal "
			"digits, an optional K/M/G)\n", where, v ? v : "",
			(unsigned long long)min, (unsigned long long)max);
		return -1;
	}
	return 0;
}

static int parse_rw(const char *where, const char *v, enum rw_mode *rw)
{
	int i;

	for (i = 0; v != NULL && rw_names[i] != NULL && strcmp(rw_names[i], v) != 0; i++)
		;
	if (v != NULL && strcmp(v, "readwrite") == 0)
		i = RW_RW;
	if (v == NULL || (rw_names[i] == NULL && i != RW_RW)) {
		fprintf(stderr, "labblk: %s '%s': expected read, write, randread, "
			"randwrite, rw or randrw\n", where, v ? v : "");
		return -1;
	}
	*rw = (enum rw_mode)i;
	return 0;
}

/* lab_parse_secs(), as labfwd's seconds, with fio's optional 's'; @p zero:
 * 0 is allowed (--ramp_time 0). */
static int parse_secs(const char *where, const char *v, bool zero, double *out)
{
	char secs[32];
	size_t n = v ? strlen(v) : 0;

	n -= n > 0 && n < sizeof(secs) && v[n - 1] == 's';
	snprintf(secs, sizeof(secs), "%.*s", (int)n, v ? v : "");
	if (n >= sizeof(secs) || lab_parse_secs(secs, out) < 0 || (!zero && !(*out > 0)) ||
	    *out > 86400) {
		fprintf(stderr, "labblk: %s '%s': expected seconds, %s and at most 86400 (digits, "
			"an optional fraction: 2, 0.5)\n", where, v ? v : "",
			zero ? "0 or more" : "more than 0");
		return -1;
	}
	return 0;
}

/* A fio boolean: the key alone, or =1 / =0. */
static int parse_bool(const char *where, const char *v, bool *out)
{
	if (v == NULL || v[0] == '\0' || strcmp(v, "1") == 0) {
		*out = true;
		return 0;
	}
	if (strcmp(v, "0") == 0) {
		*out = false;
		return 0;
	}
	fprintf(stderr, "labblk: %s '%s': expected nothing, 1 or 0\n", where, v);
	return -1;
}

static int parse_format(const char *where, const char *v, struct run *r)
{
	static const char *const names[] = { "normal", "json", "json+", NULL };

	for (int i = 0; v != NULL && names[i] != NULL; i++) {
		if (strcmp(v, names[i]) == 0) {
			r->fmt = (enum out_fmt)i;
			r->fmt_given = true;
			return 0;
		}
	}
	fprintf(stderr, "labblk: %s '%s': expected normal, json or json+ (fio's terse and "
		"lists of formats are not supported)\n", where, v ? v : "");
	return -1;
}

/* fio's --direct (only 1) and --ioengine (only labyrinth). */
static int parse_fio_compat(const char *key, const char *where, const char *v)
{
	if (strcmp(key, "direct") == 0 && (v == NULL || strcmp(v, "1") != 0)) {
		fprintf(stderr, "labblk: %s '%s': give direct=0 in the device string instead "
			"(uring:path=...,direct=0)\n", where, v ? v : "");
		return -1;
	}
	if (strcmp(key, "ioengine") == 0 && (v == NULL || strcmp(v, "labyrinth") != 0)) {
		fprintf(stderr, "labblk: %s '%s': labblk has one engine, labyrinth (the device "
			"string's driver chooses the back end: --dev uring:..., ram:...)\n", where,
			v ? v : "");
		return -1;
	}
	return 0;
}

/* The string options: a copy kept in @p kv, pointed at by @p o. */
static int set_string(const char *key, const char *where, const char *v, struct opts *o)
{
	if (v == NULL || v[0] == '\0') {
		fprintf(stderr, "labblk: %s: needs a value\n", where);
		return -1;
	}
	if (strcmp(key, "filename") == 0 && strchr(v, ':') != NULL) {
		fprintf(stderr, "labblk: %s '%s': one file per job (fio's ':'-separated list "
			"is not supported)\n", where, v);
		return -1;
	}
	if (strcmp(key, "name") == 0)
		o->name = v;
	else if (strcmp(key, "dev") == 0)
		o->dev = v;
	else
		o->filename = v;
	return 0;
}

/* Keys of the run, not of one job: they may be given anywhere. */
static int set_run_key(struct run *r, const char *key, const char *v, const char *where)
{
	if (strcmp(key, "group_reporting") == 0)
		return parse_bool(where, v, &r->group_reporting);
	if (strcmp(key, "status-interval") == 0)
		return parse_secs(where, v, false, &r->status_interval);
	if (strcmp(key, "output-format") == 0)
		return parse_format(where, v, r);
	if (strcmp(key, "output") == 0) {
		if (v == NULL || v[0] == '\0') {
			fprintf(stderr, "labblk: %s: needs a file name\n", where);
			return -1;
		}
		r->output = v;
		return 0;
	}
	if (strcmp(key, "json") == 0)
		return parse_bool(where, v, &r->json);
	if (strcmp(key, "metrics") == 0) {
		r->metrics = v;
		return 0;
	}
	if (strcmp(key, "metrics-remote") == 0)
		return parse_bool(where, v, &r->metrics_remote);
	return 1;
}

static int set_job_key(struct opts *o, const char *key, const char *v, const char *where)
{
	uint64_t n;
	bool b;

	if (!strcmp(key, "name") || !strcmp(key, "dev") || !strcmp(key, "filename"))
		return set_string(key, where, v, o);
	if (!strcmp(key, "rw") || !strcmp(key, "readwrite"))
		return parse_rw(where, v, &o->rw);
	if (!strcmp(key, "rwmixread")) {
		if (parse_u64(where, v, 0, 100, &n) < 0)
			return -1;
		o->rwmixread = (uint32_t)n;
		return 0;
	}
	if (!strcmp(key, "bs")) {
		if (parse_u64(where, v, SECTOR, 64u << 20, &n) < 0)
			return -1;
		o->bs = (uint32_t)n;
		return 0;
	}
	if (!strcmp(key, "iodepth")) {
		if (parse_u64(where, v, 1, 4096, &n) < 0)
			return -1;
		o->iodepth = (uint32_t)n;
		return 0;
	}
	if (!strcmp(key, "numjobs")) {
		if (parse_u64(where, v, 1, 64, &n) < 0)
			return -1;
		o->numjobs = (uint32_t)n;
		return 0;
	}
	if (!strcmp(key, "runtime"))
		return parse_secs(where, v, false, &o->runtime);
	if (!strcmp(key, "ramp_time"))
		return parse_secs(where, v, true, &o->ramp_time);
	if (!strcmp(key, "rate_iops"))
		return parse_u64(where, v, 1, 1000000000, &o->rate_iops);
	if (!strcmp(key, "size"))
		return parse_u64(where, v, SECTOR, UINT64_MAX, &o->size);
	if (!strcmp(key, "seed"))
		return parse_u64(where, v, 0, UINT64_MAX, &o->seed);
	if (!strcmp(key, "verify"))
		return parse_bool(where, v, &o->verify);
	if (!strcmp(key, "time_based"))
		return parse_bool(where, v, &b); /* a --runtime is time-based already */
	if (!strcmp(key, "direct") || !strcmp(key, "ioengine"))
		return parse_fio_compat(key, where, v);
	return 1;
}

/* Record @p key=@p v in @p kv (a copy). Append-only: an option pointed at
 * one copy keeps it when the key is given again; the report takes the last. */
static const char *kv_add(struct kvlist *kv, const char *key, const char *v, const char *where)
{
	char *k, *val;

	if (kv->n == KV_MAX) {
		fprintf(stderr, "labblk: %s: more than %u keys in one section\n", where, KV_MAX);
		return NULL;
	}
	k = strdup(key);
	val = strdup(v != NULL ? v : "");
	if (k == NULL || val == NULL) {
		free(k);
		free(val);
		fprintf(stderr, "labblk: %s: out of memory\n", where);
		return NULL;
	}
	kv->e[kv->n].key = k;
	kv->e[kv->n].val = val;
	kv->n++;
	return val;
}

int opts_set(struct run *r, struct opts *o, struct kvlist *kv, const char *key, const char *val,
	     const char *where)
{
	const char *copy;
	int rc;

	/* The run's keys (where the report goes) are not options of a job. */
	rc = set_run_key(r, key, val, where);
	if (rc != 1)
		return rc;
	copy = kv_add(kv, key, val, where);
	if (copy == NULL)
		return -1;
	rc = set_job_key(o, key, val != NULL ? copy : NULL, where);
	if (rc != 0) {
		/* Not kept: an unknown or bad key is not an option of the run. */
		kv->n--;
		free(kv->e[kv->n].key);
		free(kv->e[kv->n].val);
	}
	return rc;
}

struct spec *opts_new_spec(struct run *r, const char *name)
{
	struct spec *s = realloc(r->specs, (r->nspecs + 1) * sizeof(*s));

	if (s == NULL) {
		fprintf(stderr, "labblk: out of memory for job '%s'\n", name);
		return NULL;
	}
	r->specs = s;
	s = &r->specs[r->nspecs];
	memset(s, 0, sizeof(*s));
	s->o = r->global;
	s->name_copy = strdup(name);
	if (s->name_copy == NULL) {
		fprintf(stderr, "labblk: out of memory for job '%s'\n", name);
		return NULL;
	}
	s->o.name = s->name_copy;
	s->named = true;
	r->nspecs++;
	return s;
}

static void kv_free(struct kvlist *kv)
{
	for (unsigned int i = 0; i < kv->n; i++) {
		free(kv->e[i].key);
		free(kv->e[i].val);
	}
}

void opts_free(struct run *r)
{
	kv_free(&r->global_kv);
	for (unsigned int i = 0; i < r->nspecs; i++) {
		kv_free(&r->specs[i].kv);
		free(r->specs[i].name_copy);
	}
	free(r->specs);
}

static const struct option longopts[] = {
	{ "name", required_argument, NULL, 0 },
	{ "dev", required_argument, NULL, 0 },
	{ "filename", required_argument, NULL, 0 },
	{ "rw", required_argument, NULL, 0 },
	{ "readwrite", required_argument, NULL, 0 },
	{ "rwmixread", required_argument, NULL, 0 },
	{ "bs", required_argument, NULL, 0 },
	{ "iodepth", required_argument, NULL, 0 },
	{ "numjobs", required_argument, NULL, 0 },
	{ "runtime", required_argument, NULL, 0 },
	{ "ramp_time", required_argument, NULL, 0 },
	{ "rate_iops", required_argument, NULL, 0 },
	{ "size", required_argument, NULL, 0 },
	{ "verify", optional_argument, NULL, 0 },
	{ "seed", required_argument, NULL, 0 },
	{ "time_based", optional_argument, NULL, 0 },
	{ "direct", required_argument, NULL, 0 },
	{ "ioengine", required_argument, NULL, 0 },
	{ "group_reporting", optional_argument, NULL, 0 },
	{ "status-interval", required_argument, NULL, 0 },
	{ "output-format", required_argument, NULL, 0 },
	{ "output", required_argument, NULL, 0 },
	{ "json", no_argument, NULL, 0 },
	{ "metrics", required_argument, NULL, 0 },
	{ "metrics-remote", no_argument, NULL, 0 },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

/* An unknown long option is named as one labblk does not support; the rest
 * as every app says it. */
static void bad_option(char **argv, int c)
{
	const char *w = argv[optind - 1];

	if (c == '?' && optopt == 0 && strncmp(w, "--", 2) == 0)
		cli_usage_error("labblk", "unknown option '%.*s': not a fio option labblk "
				"supports (those it has are in --help)", (int)strcspn(w, "="), w);
	else
		cli_bad_option("labblk", argv, c);
}

/* Each job section's device: --dev as given, or --filename as uring:path=.
 * @return 0, or -1 after a message. */
static int resolve_devs(struct run *r)
{
	for (unsigned int i = 0; i < r->nspecs; i++) {
		struct spec *s = &r->specs[i];

		if (s->o.dev != NULL && s->o.filename != NULL) {
			fprintf(stderr, "labblk: job '%s': both dev '%s' and filename '%s': give "
				"one (filename F is dev uring:path=F)\n", s->o.name, s->o.dev,
				s->o.filename);
			return -1;
		}
		if (s->o.filename != NULL) {
			snprintf(s->devbuf, sizeof(s->devbuf), "uring:path=%s", s->o.filename);
			s->o.dev = s->devbuf;
		}
		if (s->o.dev != NULL)
			continue;
		if (r->jobfile != NULL)
			fprintf(stderr, "labblk: %s: job [%s] has no filename= or dev= (in its "
				"section or in [global])\n", r->jobfile, s->o.name);
		else
			cli_usage_error("labblk", "--dev is required (a block device string such as "
					"uring:path=disk.img or ram:size=256M), or --filename");
		return -1;
	}
	return 0;
}

/* @return 0 to run, 1 for --help, -1 for bad usage. */
int opts_parse(struct run *r, int argc, char **argv)
{
	struct opts *o = &r->global;
	struct kvlist *kv = &r->global_kv;
	int c, idx = 0; /* getopt_long sets it only for a long option it knows */

	opterr = 0;
	while ((c = getopt_long(argc, argv, ":h", longopts, &idx)) != -1) {
		const char *key = longopts[idx].name;
		char where[64];

		if (c == 'h')
			return 1;
		if (c != 0) {
			bad_option(argv, c);
			return -1;
		}
		if (strcmp(key, "name") == 0) {
			struct spec *s = opts_new_spec(r, optarg);

			if (s == NULL)
				return -1;
			o = &s->o;
			kv = &s->kv;
			continue;
		}
		snprintf(where, sizeof(where), "--%s", key);
		if (opts_set(r, o, kv, key, optarg, where) != 0)
			return -1;
	}
	if (optind < argc)
		r->jobfile = argv[optind++];
	if (optind < argc) {
		cli_usage_error("labblk", "unexpected argument '%s' (one job file at most)",
				argv[optind]);
		return -1;
	}
	if (r->jobfile != NULL && r->nspecs != 0) {
		cli_usage_error("labblk", "--name and a job file (%s): give the jobs in one "
				"place", r->jobfile);
		return -1;
	}
	if (r->jobfile != NULL && jobfile_read(r, r->jobfile) < 0)
		return -1;
	if (r->nspecs == 0) {
		/* No --name: one job, named as the program. */
		if (opts_new_spec(r, "labblk") == NULL)
			return -1;
		r->specs[0].named = false;
	}
	if (r->json && r->fmt_given && r->fmt != OUT_NORMAL) {
		cli_usage_error("labblk", "--json (labblk's summary) and --output-format=%s: "
				"choose one", r->fmt == OUT_JSON ? "json" : "json+");
		return -1;
	}
	if (r->json && r->nspecs > 1) {
		cli_usage_error("labblk", "--json sums up one job; %u jobs take "
				"--output-format=json", r->nspecs);
		return -1;
	}
	if (metrics_check(r) < 0)
		return -1;
	return resolve_devs(r);
}

int opts_check_geometry(struct opts *o, const struct lab_blk_info *in, uint64_t dev_size)
{
	if (o->bs % in->block_size != 0 || o->bs > in->max_transfer) {
		fprintf(stderr, "labblk: --bs %u must be a multiple of the device's block size %u "
			"and at most its maximum transfer %u (%s)\n", o->bs, in->block_size,
			in->max_transfer, o->dev);
		return -1;
	}
	if (o->size == 0)
		o->size = dev_size;
	if (o->size > dev_size) {
		fprintf(stderr, "labblk: --size %llu is larger than the device (%llu bytes, %s)\n",
			(unsigned long long)o->size, (unsigned long long)dev_size, o->dev);
		return -1;
	}
	if (o->size / o->numjobs < o->bs) {
		fprintf(stderr, "labblk: --size %llu split between %u job(s) leaves less than one "
			"%u-byte block each\n", (unsigned long long)o->size, o->numjobs, o->bs);
		return -1;
	}
	if (o->iodepth > in->max_depth) {
		fprintf(stderr, "labblk: --iodepth %u is over the device's %u\n", o->iodepth,
			in->max_depth);
		return -1;
	}
	return 0;
}
