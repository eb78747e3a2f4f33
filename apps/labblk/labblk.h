/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * labblk's parts: options and fio's keys (opts.c), fio job files (jobfile.c),
 * the jobs that issue I/O (job.c), the latency histogram (hist.c), the
 * summaries (report.c: labblk's own; report_fio.c: fio's layouts) and main
 * (labblk.c), which opens each job section's device, starts the jobs and
 * waits for them.
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

/* One job section (fio's [name] or --name): what its threads run. */
struct opts {
	const char *name;  /* fio's jobname */
	const char *dev;
	const char *filename; /* fio's --filename: the device is uring:path=FILE */
	enum rw_mode rw;
	uint32_t rwmixread;
	uint32_t bs;
	uint32_t iodepth;
	uint32_t numjobs;
	double runtime;    /* seconds; 0: size-based */
	uint64_t size;     /* bytes of the device used; 0: all */
	double ramp_time;  /* seconds run before the figures start */
	uint64_t rate_iops; /* per job thread; 0: as fast as it goes */
	bool verify;
	uint64_t seed;
};

/* The keys as given (fio's "global options" and "job options" in JSON). */
#define KV_MAX 32
struct kvlist {
	struct {
		char *key, *val;
	} e[KV_MAX];
	unsigned int n;
};

enum out_fmt { OUT_NORMAL, OUT_JSON, OUT_JSONPLUS };

/* What applies to the whole run, not one job section. */
struct run {
	enum out_fmt fmt;
	bool fmt_given;
	const char *output;    /* --output FILE, or stdout */
	bool group_reporting;  /* one figure set for all jobs, as fio's */
	bool json;             /* labblk's own summary object (--json) */
	double status_interval; /* seconds between progress lines */
	const char *jobfile;
	const char *metrics;   /* --metrics ADDR:PORT (metrics.c) */
	bool metrics_remote;   /* --metrics-remote */
	struct opts global;    /* [global] and the options before the first --name */
	struct kvlist global_kv;
	struct spec *specs;
	unsigned int nspecs;
};

struct hist {
	uint64_t n[HIST_BUCKETS];
	uint64_t count, min_ns, max_ns, sum_ns;
	double sumsq; /* for the standard deviation */
};

struct job;

/* One request slot: a buffer the job holds for the whole run. */
struct slot {
	struct job *job;
	struct lab_buf *buf;
	uint64_t offset;
	uint64_t t0;       /* issued (lab_blk_read/write called) */
	uint64_t t_sent;   /* the poll that sends it to the device began */
	uint64_t unit;
	uint32_t seq;
	bool write;
	bool check; /* a verify read: compare against seq */
};

struct job {
	const struct opts *o;
	const _Atomic bool *stop; /* its section's: a time-based run is over */
	uint64_t start_ns, count_from_ns; /* the run's start; the end of the ramp */
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
	struct slot **unsent;  /* issued since the last poll: t_sent to stamp */
	uint32_t nunsent;
	uint64_t issued, budget; /* size-based: requests to issue */
	/* results, read and write: completion (from sending to the callback),
	 * submission (from issue to sending) and total latency */
	struct hist clat[2], slat[2], lat[2];
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

/* One job section: its options, device, pool and job threads. */
struct spec {
	struct opts o;
	struct kvlist kv;  /* the keys its section set (fio's "job options") */
	char *name_copy;
	bool named;        /* by --name or a section, not the default */
	char devbuf[4200]; /* uring:path=FILE for --filename */
	struct lab_blk_dev *dev;
	struct lab_pool *pool;
	struct job *jobs;
	uint64_t region;   /* units per job */
	uint64_t end_ns;   /* time-based: when it stops */
	_Atomic bool stop;
	double secs;       /* measured: from the ramp's end to the last job's end */
};

/* The figures of some jobs together. */
struct totals {
	struct hist all, dir[2], slat[2], lat[2]; /* all, lat: issue to completion; dir: clat */
	uint64_t ios[2], bytes[2], errors, mismatches, verified, syscalls, fixed, submitted;
	int first_error;
};

static inline bool is_read_mode(enum rw_mode m)
{
	return m == RW_READ || m == RW_RANDREAD;
}

/* opts.c */
void opts_usage(FILE *f);
/* Fill @p r (its global defaults set) from the command line and the job file.
 * @return 0 to run, 1 for --help, -1 for bad usage (after a message). */
int opts_parse(struct run *r, int argc, char **argv);
/* Set fio key @p key to @p val in @p o (a job's options) or @p r (the run's);
 * @p where names it in messages ("--bs", "job.fio:4: bs"); @p kv records it.
 * @return 0, 1 if the key is not one labblk has, -1 after a message. */
int opts_set(struct run *r, struct opts *o, struct kvlist *kv, const char *key, const char *val,
	     const char *where);
/* A new job section named @p name from the current global options. @return it or NULL. */
struct spec *opts_new_spec(struct run *r, const char *name);
/* The keys' copies. */
void opts_free(struct run *r);
/* Sizes against the device. @return 0 or -1 with a message. */
int opts_check_geometry(struct opts *o, const struct lab_blk_info *in, uint64_t dev_size);

/* jobfile.c */
/* Read fio's INI job file @p path into @p r. @return 0, or -1 after a message
 * naming the file, the line and the key. */
int jobfile_read(struct run *r, const char *path);

/* hist.c */
void hist_add(struct hist *h, uint64_t ns);
void hist_merge(struct hist *to, const struct hist *from);
/* Percentile @p p (0..100) in microseconds. */
double hist_pct(const struct hist *h, double p);
/* Percentile @p p (0..100) in nanoseconds. */
uint64_t hist_pct_ns(const struct hist *h, double p);
double hist_mean(const struct hist *h);
double hist_stddev(const struct hist *h);
/* The bucket after @p i (start at -1) that holds samples, its upper value in
 * @p ns and its count in @p n. @return it, or -1 after the last. */
int hist_next(const struct hist *h, int i, uint64_t *ns, uint64_t *n);

/* job.c *//* A job's thread: its queue pair, buffers and phases (verify prefill, the
 * workload, verify read-back). */
void *job_main(void *arg);

/* report_fio.c */
/* fio's report of the run (--output-format) into @p f. */
void report_fio(FILE *f, const struct run *r);

/* report.c */
/* Add job @p j's figures to @p t. */
void totals_add(struct totals *t, const struct job *j);
/* The human summary into @p out. */
void report_human(FILE *out, bool verify, const struct totals *t, double secs,
		  const struct lab_pool_stats *ps, bool accounted);
/* The summary as one JSON object on stdout; @p used: bytes of the device used;
 * @p accounting: lab_pool_accounting_name() of the pools after the run. */
/* metrics.c: --metrics, Prometheus over HTTP while the jobs run */
int metrics_check(const struct run *r);
struct lab_metrics_http *metrics_open(const struct run *r, FILE *out);

void report_json(const struct opts *o, const struct totals *t, double secs, uint64_t used,
		 const char *accounting, const struct lab_blk_dev *dev);

#endif /* LABBLK_H */
