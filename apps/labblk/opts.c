/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * labblk's options: fio's names where they overlap (--rw, --bs, --iodepth,
 * --numjobs, --runtime, --size, --rwmixread), fio's --time_based, --direct=1
 * and --ioengine=labyrinth accepted, and the checks of the sizes against the
 * device once it is open.
 */
#include <getopt.h>
#include <stdio.h>
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
"  --dev S         block device string: uring:path=FILE|/dev/X[,qd=N,sqpoll=1,...],\n"
"                  ram:size=256M[,block=4096]\n"
"  --rw M          read, write, randread, randwrite, rw (mixed), randrw (default randread)\n"
"  --rwmixread N   percent of reads in rw and randrw (default 50)\n"
"  --bs N          bytes per request, a multiple of the block size (default 4096)\n"
"  --iodepth N     requests outstanding per job (default 32)\n"
"  --numjobs N     jobs (threads), each with its own queue pair (default 1)\n"
"  --runtime S     run this many seconds (time-based); without it each job moves\n"
"                  its share of --size once\n"
"  --size N        bytes of the device to use, split between jobs (default: all)\n"
"  --verify        stamp writes with LBA and sequence and check every read\n"
"  --seed N        random offsets seed (default 1)\n"
"  --json          the summary as one JSON object on stdout (human output on stderr)\n"
"  --metrics ADDR:PORT  serve GET /metrics (Prometheus) over HTTP during the run;\n"
"                  PORT alone is 127.0.0.1:PORT\n"
"  --metrics-remote  let --metrics listen on an address that is not loopback\n"
"  --time_based, --direct=1, --ioengine=labyrinth   accepted for fio compatibility\n");
}

static int parse_u64(const char *name, const char *v, uint64_t min, uint64_t max, uint64_t *out)
{
	if (lab_parse_size(v, out) < 0 || *out < min || *out > max) {
		fprintf(stderr, "labblk: --%s '%s': expected a number from %llu to %llu (decimal "
			"digits, an optional K/M/G)\n", name,
			v, (unsigned long long)min, (unsigned long long)max);
		return -1;
	}
	return 0;
}

static int parse_rw(const char *v, enum rw_mode *rw)
{
	int i;

	for (i = 0; rw_names[i] != NULL && strcmp(rw_names[i], v) != 0; i++)
		;
	if (strcmp(v, "readwrite") == 0)
		i = RW_RW;
	if (rw_names[i] == NULL && i != RW_RW) {
		fprintf(stderr, "labblk: --rw '%s': expected read, write, randread, "
			"randwrite, rw or randrw\n", v);
		return -1;
	}
	*rw = (enum rw_mode)i;
	return 0;
}

/* lab_parse_secs(), as labfwd's seconds, with fio's optional 's'. */
static int parse_runtime(const char *v, double *runtime)
{
	char secs[32];
	size_t n = strlen(v);

	n -= n > 0 && n < sizeof(secs) && v[n - 1] == 's';
	snprintf(secs, sizeof(secs), "%.*s", (int)n, v);
	if (n >= sizeof(secs) || lab_parse_secs(secs, runtime) < 0 || !(*runtime > 0) ||
	    *runtime > 86400) {
		fprintf(stderr, "labblk: --runtime '%s': expected seconds, more than 0 "
			"and at most 86400 (digits, an optional fraction: 2, 0.5)\n", v);
		return -1;
	}
	return 0;
}

/* fio's --direct (only 1) and --ioengine (only labyrinth), option @p c. */
static int parse_fio_compat(int c, const char *v)
{
	if (c == 'D' && strcmp(v, "1") != 0) {
		fprintf(stderr, "labblk: --direct '%s': give direct=0 in the device "
			"string instead (uring:path=...,direct=0)\n", v);
		return -1;
	}
	if (c == 'E' && strcmp(v, "labyrinth") != 0) {
		fprintf(stderr, "labblk: --ioengine '%s': labblk has one engine, the "
			"device string's driver\n", v);
		return -1;
	}
	return 0;
}

static const struct option longopts[] = {
	{ "dev", required_argument, NULL, 'd' },
	{ "rw", required_argument, NULL, 'r' },
	{ "readwrite", required_argument, NULL, 'r' },
	{ "rwmixread", required_argument, NULL, 'm' },
	{ "bs", required_argument, NULL, 'b' },
	{ "iodepth", required_argument, NULL, 'q' },
	{ "numjobs", required_argument, NULL, 'j' },
	{ "runtime", required_argument, NULL, 't' },
	{ "size", required_argument, NULL, 's' },
	{ "verify", no_argument, NULL, 'v' },
	{ "seed", required_argument, NULL, 'S' },
	{ "json", no_argument, NULL, 'J' },
	{ "time_based", no_argument, NULL, 'T' },
	{ "direct", required_argument, NULL, 'D' },
	{ "ioengine", required_argument, NULL, 'E' },
	{ "metrics", required_argument, NULL, 'M' },
	{ "metrics-remote", no_argument, NULL, 'R' },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

/* @return 0 to run, 1 for --help, -1 for bad usage. */
int opts_parse(struct opts *o, int argc, char **argv)
{
	uint64_t v;
	int c;

	opterr = 0;
	while ((c = getopt_long(argc, argv, ":h", longopts, NULL)) != -1) {
		switch (c) {
		case 'h':
			return 1;
		case 'd':
			o->dev = optarg;
			break;
		case 'r':
			if (parse_rw(optarg, &o->rw) < 0)
				return -1;
			break;
		case 'm':
			if (parse_u64("rwmixread", optarg, 0, 100, &v) < 0)
				return -1;
			o->rwmixread = (uint32_t)v;
			break;
		case 'b':
			if (parse_u64("bs", optarg, SECTOR, 64u << 20, &v) < 0)
				return -1;
			o->bs = (uint32_t)v;
			break;
		case 'q':
			if (parse_u64("iodepth", optarg, 1, 4096, &v) < 0)
				return -1;
			o->iodepth = (uint32_t)v;
			break;
		case 'j':
			if (parse_u64("numjobs", optarg, 1, 64, &v) < 0)
				return -1;
			o->numjobs = (uint32_t)v;
			break;
		case 't':
			if (parse_runtime(optarg, &o->runtime) < 0)
				return -1;
			break;
		case 's':
			if (parse_u64("size", optarg, SECTOR, UINT64_MAX, &o->size) < 0)
				return -1;
			break;
		case 'v':
			o->verify = true;
			break;
		case 'S':
			if (parse_u64("seed", optarg, 0, UINT64_MAX, &o->seed) < 0)
				return -1;
			break;
		case 'J':
			o->json = true;
			break;
		case 'T':
			break;
		case 'M':
			o->metrics = optarg;
			break;
		case 'R':
			o->metrics_remote = true;
			break;
		case 'D':
		case 'E':
			if (parse_fio_compat(c, optarg) < 0)
				return -1;
			break;
		default:
			cli_bad_option("labblk", argv, c);
			return -1;
		}
	}
	if (optind < argc) {
		cli_usage_error("labblk", "unexpected argument '%s'", argv[optind]);
		return -1;
	}
	if (o->dev == NULL) {
		cli_usage_error("labblk", "--dev is required (a block device string such as "
				"uring:path=disk.img or ram:size=256M)");
		return -1;
	}
	return metrics_check(o);
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
