/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * labblk's parts: options (opts.c), the jobs that issue I/O (job.c), the
 * latency histogram (hist.c), the summary (report.c) and main (labblk.c),
 * which opens the device, starts the jobs and waits for them.
 */
#ifndef LABBLK_H
#define LABBLK_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include <labyrinth/lab_blk.h>
#include <labyrinth/lab_pool.h>

#define SECTOR 512u
#define VERIFY_MAGIC 0x6c6162626c6b7631ull /* "labblkv1" */
/* Latency histogram: 64 linear buckets per power of two of nanoseconds. */
#define HIST_SUB 64u
#define HIST_BUCKETS (HIST_SUB * 40u)

enum rw_mode { RW_READ, RW_WRITE, RW_RANDREAD, RW_RANDWRITE, RW_RW, RW_RANDRW };
extern const char *const rw_names[];

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
	const char *metrics;  /* --metrics ADDR:PORT (metrics.c) */
	bool metrics_remote;  /* --metrics-remote */
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

/* The figures of every job together. */
struct totals {
	struct hist all, dir[2];
	uint64_t ios[2], bytes[2], errors, mismatches, verified, syscalls, fixed, submitted;
	int first_error;
};

static inline bool is_read_mode(enum rw_mode m)
{
	return m == RW_READ || m == RW_RANDREAD;
}

/* opts.c */
void opts_usage(FILE *f);
/* @return 0 to run, 1 for --help, -1 for bad usage (after a message). */
int opts_parse(struct opts *o, int argc, char **argv);
/* Sizes against the device. @return 0 or -1 with a message. */
int opts_check_geometry(struct opts *o, const struct lab_blk_info *in, uint64_t dev_size);

/* hist.c */
void hist_add(struct hist *h, uint64_t ns);
void hist_merge(struct hist *to, const struct hist *from);
/* Percentile @p p (0..100) in microseconds. */
double hist_pct(const struct hist *h, double p);

/* job.c */
/* Set when a time-based run is over: the jobs finish what is in flight. */
extern _Atomic bool stop_flag;
/* A job's thread: its queue pair, buffers and phases (verify prefill, the
 * workload, verify read-back). */
void *job_main(void *arg);

/* report.c */
/* Add job @p j's figures to @p t. */
void totals_add(struct totals *t, const struct job *j);
/* The human summary into @p out. */
void report_human(FILE *out, const struct opts *o, const struct totals *t, double secs,
		  const struct lab_pool_stats *ps, bool accounted);
/* The summary as one JSON object on stdout; @p used: bytes of the device used;
 * @p accounting: lab_pool_accounting_name() of the pool after the run. */
/* metrics.c: --metrics, Prometheus over HTTP while the run lasts */
int metrics_check(const struct opts *o);
struct lab_metrics_http *metrics_open(const struct opts *o, FILE *out);

void report_json(const struct opts *o, const struct totals *t, double secs, uint64_t used,
		 const char *accounting, const struct lab_blk_dev *dev);

#endif /* LABBLK_H */
