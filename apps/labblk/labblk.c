/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * labblk: an I/O generator on labyrinth block devices, in the manner of
 * SPDK's perf and fio (options named as fio names them where they overlap).
 *
 *   labblk --dev uring:path=disk.img --rw randread --bs 4096 --iodepth 32 \
 *          --numjobs 1 --runtime 5 [--size 1G] [--rwmixread 70] [--verify] [--json]
 *
 * Each job is a thread with its own queue pair and owner cache; its iodepth
 * buffers come from one fixed pool (registered with the kernel by the uring
 * driver) and stay the job's for the run. Jobs split the first --size bytes
 * of the device between them. With --runtime the run is time-based; without,
 * each job moves its share of --size once.
 *
 * --verify stamps every 512-byte sector written with a magic, its LBA, the
 * write's sequence number and the job, and fills the rest from a generator
 * seeded by those; reads check it. Read workloads write their range first;
 * write workloads read back everything they wrote at the end. Two requests
 * never touch one block at once under --verify.
 *
 * Exit: 0; 1 bad usage, a device that cannot be opened or a run that moved no
 * I/O because a job could not start; 2 a run with I/O errors, verify
 * mismatches or a buffer not returned to the pool (lost buffers are 2 even
 * when no I/O moved).
 */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <labyrinth/lab_blk.h>
#include <labyrinth/lab_common.h>
#include <labyrinth/lab_log.h>
#include <labyrinth/lab_pool.h>

#include "../cli.h"

#define SECTOR 512u
#define VERIFY_MAGIC 0x6c6162626c6b7631ull /* "labblkv1" */
/* Latency histogram: 64 linear buckets per power of two of nanoseconds. */
#define HIST_SUB 64u
#define HIST_BUCKETS (HIST_SUB * 40u)

enum rw_mode { RW_READ, RW_WRITE, RW_RANDREAD, RW_RANDWRITE, RW_RW, RW_RANDRW };
static const char *const rw_names[] = { "read", "write", "randread", "randwrite", "rw",
					"randrw", NULL };

struct opts {
	const char *dev;
	enum rw_mode rw;
	uint32_t rwmixread;
	uint32_t bs;
	uint32_t iodepth;
	uint32_t numjobs;
	double runtime;    /* seconds; 0: size-based */
	uint64_t size;     /* bytes of the device used; 0: all */
	bool verify;
	bool json;
	uint64_t seed;
};

struct hist {
	uint64_t n[HIST_BUCKETS];
	uint64_t count, max_ns;
};

struct job;

/* One request slot: a buffer the job holds for the whole run. */
struct slot {
	struct job *job;
	struct lab_buf *buf;
	uint64_t offset;
	uint64_t t0;
	uint64_t unit;
	uint32_t seq;
	bool write;
	bool check; /* a verify read: compare against seq */
};

struct job {
	const struct opts *o;
	struct lab_blk_dev *dev;
	struct lab_pool *pool;
	unsigned int id;
	pthread_t tid;
	uint64_t base, units, cursor; /* region in bs units from base (bytes) */
	uint64_t rng;
	uint32_t *seq;     /* verify: last sequence written per unit (0: never) */
	uint8_t *busy;     /* verify: a request is on the unit */
	uint32_t next_seq;
	struct slot *slots;
	struct slot **free_slots;
	uint32_t nfree;
	uint64_t issued, budget; /* size-based: requests to issue */
	/* results */
	struct hist hist[2]; /* read, write */
	uint64_t ios[2], bytes[2];
	uint64_t errors, mismatches, verified;
	int first_error;
	struct lab_blk_qpair_stats qst;
	bool counting;     /* completions count toward the figures (the workload, not
			    * the verify prefill or read-back) */
	bool failed;       /* could not start */
	int refused;       /* -errno of the submit that stopped the job, or 0 */
	bool joined;
	_Atomic uint64_t prog_ios; /* for the progress line */
};

static _Atomic bool stop_flag;

static uint64_t xorshift(uint64_t *s)
{
	uint64_t x = *s;

	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	return *s = x;
}

static unsigned int hist_index(uint64_t v)
{
	unsigned int e;

	if (v < HIST_SUB)
		return (unsigned int)v;
	e = 63u - (unsigned int)__builtin_clzll(v); /* >= 6 */
	if (e - 5 >= HIST_BUCKETS / HIST_SUB)
		return HIST_BUCKETS - 1;
	return (e - 5) * HIST_SUB + (unsigned int)((v >> (e - 6)) & (HIST_SUB - 1));
}

/* The upper bound of bucket @p i, in ns. */
static uint64_t hist_value(unsigned int i)
{
	unsigned int e;

	if (i < HIST_SUB)
		return i;
	e = i / HIST_SUB + 5;
	return ((uint64_t)(HIST_SUB + i % HIST_SUB + 1) << (e - 6)) - 1;
}

static void hist_add(struct hist *h, uint64_t ns)
{
	h->n[hist_index(ns)]++;
	h->count++;
	if (ns > h->max_ns)
		h->max_ns = ns;
}

static void hist_merge(struct hist *to, const struct hist *from)
{
	for (unsigned int i = 0; i < HIST_BUCKETS; i++)
		to->n[i] += from->n[i];
	to->count += from->count;
	if (from->max_ns > to->max_ns)
		to->max_ns = from->max_ns;
}

/* Percentile @p p (0..100) in microseconds. */
static double hist_pct(const struct hist *h, double p)
{
	uint64_t want, seen = 0;

	if (h->count == 0)
		return 0;
	want = (uint64_t)ceil(p / 100.0 * (double)h->count);
	if (want == 0)
		want = 1;
	for (unsigned int i = 0; i < HIST_BUCKETS; i++) {
		seen += h->n[i];
		if (seen >= want) {
			uint64_t v = hist_value(i);

			return (double)(v < h->max_ns ? v : h->max_ns) / 1000.0;
		}
	}
	return (double)h->max_ns / 1000.0;
}

/* The verify pattern of one sector: a stamp, then generator bytes. */
static void stamp(uint8_t *p, uint32_t len, uint64_t byte_off, uint32_t seq, unsigned int job)
{
	for (uint32_t s = 0; s < len; s += SECTOR) {
		uint64_t *w = (uint64_t *)(void *)(p + s);
		uint64_t lba = (byte_off + s) / SECTOR;
		uint64_t g = (lba * 0x9e3779b97f4a7c15ull) ^ ((uint64_t)seq << 32) ^ job ^ 1;

		w[0] = VERIFY_MAGIC;
		w[1] = lba;
		w[2] = seq;
		w[3] = job;
		for (uint32_t i = 4; i < SECTOR / 8; i++)
			w[i] = xorshift(&g);
	}
}

/* @return the first byte that differs from the pattern, or -1. */
static long check_stamp(const uint8_t *p, uint32_t len, uint64_t byte_off, uint32_t seq,
			unsigned int job)
{
	uint8_t want[SECTOR];

	for (uint32_t s = 0; s < len; s += SECTOR) {
		stamp(want, SECTOR, byte_off + s, seq, job);
		if (memcmp(want, p + s, SECTOR) != 0)
			for (uint32_t i = 0; i < SECTOR; i++)
				if (want[i] != p[s + i])
					return (long)(s + i);
	}
	return -1;
}

static void on_done(void *arg, int status)
{
	struct slot *s = arg;
	struct job *j = s->job;
	uint64_t ns = lab_now_ns() - s->t0;
	int w = s->write;

	if (status < 0) {
		if (j->errors++ == 0)
			j->first_error = status;
	} else {
		if (j->counting) {
			hist_add(&j->hist[w], ns);
			j->ios[w]++;
			j->bytes[w] += j->o->bs;
			/* One writer: a plain add, published for the progress line. */
			atomic_store_explicit(&j->prog_ios, j->ios[0] + j->ios[1],
					      memory_order_relaxed);
		}
		if (s->check) {
			long at = check_stamp(lab_buf_data(s->buf), j->o->bs, s->offset, s->seq, j->id);

			j->verified++;
			if (at >= 0 && j->mismatches++ < 8)
				fprintf(stderr, "labblk: verify: job %u: block at byte %llu (written "
					"as sequence %u) differs at byte %ld of the %u-byte read\n",
					j->id, (unsigned long long)s->offset, s->seq, at, j->o->bs);
		}
	}
	if (j->busy != NULL)
		j->busy[s->unit] = 0;
	j->free_slots[j->nfree++] = s;
}

static bool is_read_mode(enum rw_mode m)
{
	return m == RW_READ || m == RW_RANDREAD;
}

static bool is_random(enum rw_mode m)
{
	return m == RW_RANDREAD || m == RW_RANDWRITE || m == RW_RANDRW;
}

/* Pick the next unit for a request: sequential, or random (under --verify,
 * one no request is on). @return false if every candidate is busy. */
static bool pick_unit(struct job *j, bool random, uint64_t *unit)
{
	uint64_t u;

	if (!random) {
		u = j->cursor;
		j->cursor = j->cursor + 1 == j->units ? 0 : j->cursor + 1;
	} else {
		u = xorshift(&j->rng) % j->units;
	}
	if (j->busy != NULL && j->busy[u]) {
		/* Probe forward a little; a full region waits for completions. */
		for (unsigned int k = 1; k <= 64 && j->busy[u]; k++)
			u = (u + 1) % j->units;
		if (j->busy[u])
			return false;
	}
	*unit = u;
	return true;
}

/* Issue one request. @return 0, -EAGAIN (nothing to do now), or an error. */
static int issue(struct job *j, struct lab_blk_qpair *qp, enum rw_mode mode, bool check_reads)
{
	const struct opts *o = j->o;
	bool write, random = is_random(mode);
	struct slot *s;
	uint64_t unit;
	int rc;

	if (j->nfree == 0)
		return -EAGAIN;
	switch (mode) {
	case RW_READ:
	case RW_RANDREAD:
		write = false;
		break;
	case RW_WRITE:
	case RW_RANDWRITE:
		write = true;
		break;
	default:
		write = xorshift(&j->rng) % 100 >= o->rwmixread;
		break;
	}
	if (!pick_unit(j, random, &unit))
		return -EAGAIN;
	s = j->free_slots[--j->nfree];
	s->unit = unit;
	s->offset = j->base + unit * o->bs;
	s->write = write;
	s->check = false;
	if (j->seq != NULL) {
		if (write) {
			s->seq = ++j->next_seq;
			j->seq[unit] = s->seq;
			stamp(lab_buf_data(s->buf), o->bs, s->offset, s->seq, j->id);
		} else {
			s->seq = j->seq[unit];
			s->check = check_reads && s->seq != 0;
		}
		j->busy[unit] = 1;
	}
	s->t0 = lab_now_ns();
	rc = write ? lab_blk_write(qp, s->buf, s->offset, o->bs, on_done, s) :
		     lab_blk_read(qp, s->buf, s->offset, o->bs, on_done, s);
	if (rc < 0) {
		if (j->busy != NULL)
			j->busy[unit] = 0;
		j->free_slots[j->nfree++] = s;
		return rc;
	}
	j->issued++;
	return 0;
}

/* Run @p mode until @p budget requests (0: until stop) are issued and done. */
static int run_phase(struct job *j, struct lab_blk_qpair *qp, enum rw_mode mode, uint64_t budget,
		     bool check_reads, bool timed)
{
	uint64_t start = j->issued;
	int rc = 0;

	for (;;) {
		bool more = timed ? !atomic_load_explicit(&stop_flag, memory_order_relaxed) :
				    j->issued - start < budget;

		while (more && (rc = issue(j, qp, mode, check_reads)) == 0)
			more = timed || j->issued - start < budget;
		if (rc < 0 && rc != -EAGAIN) {
			fprintf(stderr, "labblk: job %u: submit refused (%s): stopping\n", j->id,
				strerror(-rc));
			break;
		}
		lab_blk_poll(qp, 0);
		if (!more && lab_blk_outstanding(qp) == 0)
			break;
	}
	while (lab_blk_outstanding(qp) != 0)
		lab_blk_poll(qp, 0);
	return rc < 0 && rc != -EAGAIN ? rc : 0;
}

static void *job_main(void *arg)
{
	struct job *j = arg;
	const struct opts *o = j->o;
	struct lab_blk_qpair *qp;
	struct lab_buf **bufs;
	struct lab_cache *c;
	uint32_t n = o->iodepth;

	c = lab_cache_create(j->pool, "labblk", n < LAB_BURST_MAX ? n : LAB_BURST_MAX);
	qp = c != NULL ? lab_blk_qpair_create(j->dev, n, j->pool) : NULL;
	bufs = calloc(n, sizeof(*bufs));
	j->slots = calloc(n, sizeof(*j->slots));
	j->free_slots = calloc(n, sizeof(*j->free_slots));
	if (qp == NULL || bufs == NULL || j->slots == NULL || j->free_slots == NULL) {
		fprintf(stderr, "labblk: job %u: cannot make its queue pair or cache: %s\n", j->id,
			strerror(lab_errno ? lab_errno : ENOMEM));
		j->failed = true;
		goto out;
	}
	for (uint32_t got = 0; got < n;) {
		unsigned int k = lab_alloc_bulk(j->pool, c, bufs + got,
						n - got < LAB_BURST_MAX ? n - got : LAB_BURST_MAX, 0);

		if (k == 0) {
			fprintf(stderr, "labblk: job %u: the pool gave %u of %u buffers\n", j->id,
				got, n);
			lab_free_bulk(c, bufs, got);
			j->failed = true;
			goto out;
		}
		got += k;
	}
	for (uint32_t i = 0; i < n; i++) {
		j->slots[i] = (struct slot){ .job = j, .buf = bufs[i] };
		j->free_slots[j->nfree++] = &j->slots[i];
	}
	if (o->verify && is_read_mode(o->rw))
		j->refused = run_phase(j, qp, RW_WRITE, j->units, false, false);
	j->cursor = 0;
	/* Only the workload counts, not the prefill before it or the read-back after. */
	j->counting = true;
	if (j->refused == 0)
		j->refused = run_phase(j, qp, o->rw, j->budget, o->verify, o->runtime > 0);
	j->counting = false;
	if (o->verify && !is_read_mode(o->rw) && j->refused == 0) {
		/* Read back every unit written, checking it. */
		j->cursor = 0;
		j->refused = run_phase(j, qp, RW_READ, j->units, true, false);
	}
	lab_blk_qpair_stats(qp, &j->qst);
	lab_free_bulk(c, bufs, n);
out:
	if (qp != NULL)
		lab_blk_qpair_destroy(qp);
	if (c != NULL)
		lab_cache_destroy(c);
	free(bufs);
	return NULL;
}

static void usage(FILE *f)
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

/* @return 0 to run, 1 for --help, -1 for bad usage. */
static int parse_args(struct opts *o, int argc, char **argv)
{
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
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	uint64_t v;
	int c, i;

	opterr = 0;
	while ((c = getopt_long(argc, argv, ":h", longopts, NULL)) != -1) {
		switch (c) {
		case 'h':
			return 1;
		case 'd':
			o->dev = optarg;
			break;
		case 'r':
			for (i = 0; rw_names[i] != NULL && strcmp(rw_names[i], optarg) != 0; i++)
				;
			if (strcmp(optarg, "readwrite") == 0)
				i = RW_RW;
			if (rw_names[i] == NULL && i != RW_RW) {
				fprintf(stderr, "labblk: --rw '%s': expected read, write, randread, "
					"randwrite, rw or randrw\n", optarg);
				return -1;
			}
			o->rw = (enum rw_mode)i;
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
		case 't': {
			/* lab_parse_secs(), as labfwd's seconds, with fio's optional 's'. */
			char secs[32];
			size_t n = strlen(optarg);

			n -= n > 0 && n < sizeof(secs) && optarg[n - 1] == 's';
			snprintf(secs, sizeof(secs), "%.*s", (int)n, optarg);
			if (n >= sizeof(secs) || lab_parse_secs(secs, &o->runtime) < 0 ||
			    !(o->runtime > 0) || o->runtime > 86400) {
				fprintf(stderr, "labblk: --runtime '%s': expected seconds, more than 0 "
					"and at most 86400 (digits, an optional fraction: 2, 0.5)\n",
					optarg);
				return -1;
			}
			break;
		}
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
		case 'D':
			if (strcmp(optarg, "1") != 0) {
				fprintf(stderr, "labblk: --direct '%s': give direct=0 in the device "
					"string instead (uring:path=...,direct=0)\n", optarg);
				return -1;
			}
			break;
		case 'E':
			if (strcmp(optarg, "labyrinth") != 0) {
				fprintf(stderr, "labblk: --ioengine '%s': labblk has one engine, the "
					"device string's driver\n", optarg);
				return -1;
			}
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
	return 0;
}

/* Sizes against the device. @return 0 or -1 with a message. */
static int check_geometry(struct opts *o, const struct lab_blk_info *in, uint64_t dev_size)
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

struct totals {
	struct hist all, dir[2];
	uint64_t ios[2], bytes[2], errors, mismatches, verified, syscalls, fixed, submitted;
	int first_error;
};

static void print_dir(FILE *f, const char *name, const struct hist *h, uint64_t ios,
		      uint64_t bytes, double secs)
{
	fprintf(f, "  %-5s %10.0f IOPS %9.1f MB/s  lat us: p50 %.1f  p99 %.1f  p99.9 %.1f  "
		"max %.1f  (%llu I/Os)\n", name, (double)ios / secs, (double)bytes / secs / 1e6,
		hist_pct(h, 50), hist_pct(h, 99), hist_pct(h, 99.9), (double)h->max_ns / 1000.0,
		(unsigned long long)ios);
}

static void json_dir(FILE *f, const char *name, const struct hist *h, uint64_t ios,
		     uint64_t bytes, double secs)
{
	fprintf(f, "\"%s\": {\"ios\": %llu, \"iops\": %.1f, \"mbps\": %.2f, \"p50_us\": %.1f, "
		"\"p99_us\": %.1f, \"p999_us\": %.1f, \"max_us\": %.1f}", name,
		(unsigned long long)ios, (double)ios / secs, (double)bytes / secs / 1e6,
		hist_pct(h, 50), hist_pct(h, 99), hist_pct(h, 99.9), (double)h->max_ns / 1000.0);
}

/* Whether the device string @p dev gives key @p key. */
static bool dev_has_key(const char *dev, const char *key)
{
	size_t n = strlen(key);

	for (const char *s = strchr(dev, ':'); s != NULL; s = strchr(s + 1, ','))
		if (strncmp(s + 1, key, n) == 0 && s[1 + n] == '=')
			return true;
	return false;
}

/*
 * Open the device: read-only when the workload cannot write (a read workload
 * without --verify, whose prefill writes) and the driver has "ro" (unless the
 * string says), so that a file we may only read can be measured; and refuse
 * a workload that writes to a read-only device, which would move nothing.
 * @return the device, or NULL after a message.
 */
static struct lab_blk_dev *open_dev(const struct opts *o)
{
	bool writes = !is_read_mode(o->rw) || o->verify;
	char ro_dev[4096];
	const char *devstr = o->dev, *colon = strchr(o->dev, ':');
	struct lab_blk_dev *dev;

	if (!writes && lab_blk_driver_has_key(o->dev, "ro") && !dev_has_key(o->dev, "ro")) {
		snprintf(ro_dev, sizeof(ro_dev), "%s%sro=1", o->dev,
			 colon == NULL ? ":" : colon[1] != '\0' ? "," : "");
		devstr = ro_dev;
	}
	dev = lab_blk_open(devstr);
	if (dev == NULL) {
		fprintf(stderr, "labblk: cannot open block device '%s' %s(%s)\n", o->dev,
			devstr != o->dev ? "read-only " : "", strerror(lab_errno));
		return NULL;
	}
	if (writes && (lab_blk_info(dev)->flags & LAB_BLK_F_READ_ONLY)) {
		fprintf(stderr, "labblk: '%s' is read-only, but --rw %s%s writes: drop 'ro=1' or "
			"run a read workload without --verify\n", o->dev, rw_names[o->rw],
			o->verify ? " --verify" : "");
		lab_blk_close(dev);
		return NULL;
	}
	return dev;
}

int main(int argc, char **argv)
{
	struct opts o = { .rw = RW_RANDREAD, .rwmixread = 50, .bs = 4096, .iodepth = 32,
			  .numjobs = 1, .seed = 1 };
	static struct totals t;
	struct lab_pool_stats ps;
	struct lab_pool_opts po;
	struct lab_blk_dev *dev;
	struct lab_pool *pool;
	struct job *jobs;
	uint64_t start, end, last_ios = 0, last_bytes = 0, region, next_tick;
	FILE *out;
	double secs;
	bool bad = false, lost, accounted; /* bad: a job failed to start or was refused */
	int refused = 0, rc = parse_args(&o, argc, argv);

	if (rc != 0) {
		if (rc > 0)
			usage(stdout);
		return rc > 0 ? 0 : 1;
	}
	out = o.json ? stderr : stdout;
	dev = open_dev(&o);
	if (dev == NULL)
		return 1;
	if (check_geometry(&o, lab_blk_info(dev), lab_blk_size(dev)) < 0) {
		lab_blk_close(dev);
		return 1;
	}
	lab_pool_opts_init(&po);
	po.name = "labblk";
	po.wm_min = po.wm_low = po.wm_high = po.reserve = (struct lab_count){ 0, false };
	lab_blk_pool_opts(dev, o.bs, o.numjobs * o.iodepth, &po);
	pool = lab_pool_create(&po);
	if (pool == NULL) {
		fprintf(stderr, "labblk: cannot create a pool of %u buffers of %u bytes (%s)\n",
			o.numjobs * o.iodepth, o.bs, strerror(lab_errno));
		lab_blk_close(dev);
		return 1;
	}
	jobs = calloc(o.numjobs, sizeof(*jobs));
	region = o.size / o.numjobs / o.bs; /* units per job */
	fprintf(out, "labblk: %s: %s, bs %u, iodepth %u, %u job(s) over %llu bytes, %s%s\n",
		o.dev, rw_names[o.rw], o.bs, o.iodepth, o.numjobs,
		(unsigned long long)(region * o.bs * o.numjobs),
		o.runtime > 0 ? "time-based" : "one pass", o.verify ? ", verify" : "");
	for (unsigned int i = 0; i < o.numjobs; i++) {
		struct job *j = &jobs[i];

		j->o = &o;
		j->dev = dev;
		j->pool = pool;
		j->id = i;
		j->base = (uint64_t)i * region * o.bs;
		j->units = region;
		j->budget = region;
		j->rng = o.seed * 0x9e3779b97f4a7c15ull + i + 1;
		if (o.verify) {
			j->seq = calloc(region, sizeof(*j->seq));
			j->busy = calloc(region, 1);
			if (j->seq == NULL || j->busy == NULL) {
				fprintf(stderr, "labblk: no memory for the verify map\n");
				return 1;
			}
		}
	}
	start = lab_now_ns();
	end = o.runtime > 0 ? start + (uint64_t)(o.runtime * 1e9) : UINT64_MAX;
	for (unsigned int i = 0; i < o.numjobs; i++)
		pthread_create(&jobs[i].tid, NULL, job_main, &jobs[i]);
	/* Progress each second, and the stop at runtime. */
	next_tick = start + 1000000000ull;
	for (;;) {
		uint64_t now = lab_now_ns(), ios = 0, bytes = 0;
		bool done = true;

		for (unsigned int i = 0; i < o.numjobs; i++) {
			if (!jobs[i].joined && pthread_tryjoin_np(jobs[i].tid, NULL) == 0)
				jobs[i].joined = true;
			done &= jobs[i].joined;
		}
		if (done)
			break;
		if (now >= end)
			atomic_store(&stop_flag, true);
		if (now >= next_tick) {
			for (unsigned int i = 0; i < o.numjobs; i++)
				ios += atomic_load_explicit(&jobs[i].prog_ios, memory_order_relaxed);
			bytes = ios * o.bs;
			fprintf(stderr, "labblk: %3.0fs: %10.0f IOPS %9.1f MB/s\n",
				(double)(now - start) / 1e9, (double)(ios - last_ios),
				(double)(bytes - last_bytes) / 1e6);
			last_ios = ios;
			last_bytes = bytes;
			next_tick += 1000000000ull;
		}
		usleep(10000);
	}
	secs = (double)(lab_now_ns() - start) / 1e9;
	for (unsigned int i = 0; i < o.numjobs; i++) {
		struct job *j = &jobs[i];

		bad |= j->failed || j->refused != 0;
		if (j->refused != 0 && refused == 0)
			refused = j->refused;
		for (int w = 0; w < 2; w++) {
			hist_merge(&t.dir[w], &j->hist[w]);
			hist_merge(&t.all, &j->hist[w]);
			t.ios[w] += j->ios[w];
			t.bytes[w] += j->bytes[w];
		}
		if (j->errors && !t.errors)
			t.first_error = j->first_error;
		t.errors += j->errors;
		t.mismatches += j->mismatches;
		t.verified += j->verified;
		t.syscalls += j->qst.syscalls;
		t.fixed += j->qst.fixed;
		t.submitted += j->qst.submitted;
		free(j->slots);
		free(j->free_slots);
		free(j->seq);
		free(j->busy);
	}
	lab_pool_stats(pool, &ps);
	accounted = ps.in_flight == 0 && ps.total == ps.free + ps.cached + ps.quarantined +
							 ps.retired;
	if (o.runtime > 0 && secs > o.runtime)
		secs = o.runtime; /* the workload's time, not the verify pass after it */

	fprintf(out, "labblk: %.2f s, %llu I/Os, %.0f IOPS, %.1f MB/s, errors %llu%s%s%s\n", secs,
		(unsigned long long)(t.ios[0] + t.ios[1]), (double)(t.ios[0] + t.ios[1]) / secs,
		(double)(t.bytes[0] + t.bytes[1]) / secs / 1e6, (unsigned long long)t.errors,
		t.errors ? " (first: " : "", t.errors ? strerror(-t.first_error) : "",
		t.errors ? ")" : "");
	if (t.ios[0])
		print_dir(out, "read", &t.dir[0], t.ios[0], t.bytes[0], secs);
	if (t.ios[1])
		print_dir(out, "write", &t.dir[1], t.ios[1], t.bytes[1], secs);
	if (o.verify)
		fprintf(out, "  verify: %llu blocks checked, %llu mismatches: %s\n",
			(unsigned long long)t.verified, (unsigned long long)t.mismatches,
			t.mismatches || t.verified == 0 ? "FAILED" : "OK");
	fprintf(out, "  queue pairs: %llu requests, %llu into registered buffers, %llu system "
		"calls (%.3f per request)\n", (unsigned long long)t.submitted,
		(unsigned long long)t.fixed, (unsigned long long)t.syscalls,
		t.submitted ? (double)t.syscalls / (double)t.submitted : 0.0);
	fprintf(out, "  pool: %llu buffers, %llu in flight after the run: accounting %s\n",
		(unsigned long long)ps.total, (unsigned long long)ps.in_flight,
		accounted ? "OK" : "FAILED");
	if (o.json) {
		printf("{\"dev\": \"%s\", \"rw\": \"%s\", \"bs\": %u, \"iodepth\": %u, "
		       "\"numjobs\": %u, \"size\": %llu, \"runtime_s\": %.3f, \"ios\": %llu, "
		       "\"iops\": %.1f, \"mbps\": %.2f, \"p50_us\": %.1f, \"p99_us\": %.1f, "
		       "\"p999_us\": %.1f, \"max_us\": %.1f, \"errors\": %llu, ", o.dev,
		       rw_names[o.rw], o.bs, o.iodepth, o.numjobs,
		       (unsigned long long)(region * o.bs * o.numjobs), secs,
		       (unsigned long long)(t.ios[0] + t.ios[1]),
		       (double)(t.ios[0] + t.ios[1]) / secs,
		       (double)(t.bytes[0] + t.bytes[1]) / secs / 1e6, hist_pct(&t.all, 50),
		       hist_pct(&t.all, 99), hist_pct(&t.all, 99.9), (double)t.all.max_ns / 1000.0,
		       (unsigned long long)t.errors);
		json_dir(stdout, "read", &t.dir[0], t.ios[0], t.bytes[0], secs);
		printf(", ");
		json_dir(stdout, "write", &t.dir[1], t.ios[1], t.bytes[1], secs);
		if (o.verify)
			printf(", \"verify\": {\"checked\": %llu, \"mismatches\": %llu}",
			       (unsigned long long)t.verified, (unsigned long long)t.mismatches);
		printf(", \"syscalls\": %llu, \"fixed\": %llu, \"accounting\": %s, \"device\": ",
		       (unsigned long long)t.syscalls, (unsigned long long)t.fixed,
		       accounted ? "true" : "false");
		lab_blk_info_json(dev, stdout);
		printf("}\n");
	}
	free(jobs);
	/* Buffers the device or the pool could not account for: exit 2 (a run
	 * that lost buffers), whatever else happened. */
	lost = lab_blk_close(dev) < 0;
	lost |= lab_pool_destroy(pool) < 0;
	if (lost)
		fprintf(stderr, "labblk: buffers were lost: the device or the pool could not "
			"take every buffer back (see above)\n");
	if (bad && !lost && t.ios[0] + t.ios[1] == 0) {
		/* Nothing moved because the run could not start: not a measurement. */
		fprintf(stderr, "labblk: the run moved no I/O: %s (see above)\n",
			refused != 0 ? strerror(-refused) : "a job could not start");
		return 1;
	}
	if (bad || lost || t.errors || t.mismatches || (o.verify && t.verified == 0) ||
	    !accounted)
		return 2;
	return 0;
}
