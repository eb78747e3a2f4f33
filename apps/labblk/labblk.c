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
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <labyrinth/lab_blk.h>
#include <labyrinth/lab_common.h>
#include <labyrinth/lab_ctl.h>
#include <labyrinth/lab_devargs.h>
#include <labyrinth/lab_pool.h>
#include <labyrinth/lab_pool_stats_fields.h>

#include "labblk.h"

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

	if (!writes && lab_blk_driver_has_key(o->dev, "ro") && !lab_devargs_gives(o->dev, "ro")) {
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

/* The fixed pool of every job's buffers. @return it, or NULL after a message. */
static struct lab_pool *make_pool(const struct opts *o, struct lab_blk_dev *dev)
{
	struct lab_pool_opts po;
	struct lab_pool *pool;

	lab_pool_opts_init(&po);
	po.name = "labblk";
	po.wm_min = po.wm_low = po.wm_high = po.reserve = (struct lab_count){ 0, false };
	lab_blk_pool_opts(dev, o->bs, o->numjobs * o->iodepth, &po);
	pool = lab_pool_create(&po);
	if (pool == NULL)
		fprintf(stderr, "labblk: cannot create a pool of %u buffers of %u bytes (%s)\n",
			o->numjobs * o->iodepth, o->bs, strerror(lab_errno));
	return pool;
}

/* Give each job of @p s its region. @return 0, or -1 after a message. */
static int jobs_init(struct spec *s)
{
	const struct opts *o = &s->o;

	s->jobs = calloc(o->numjobs, sizeof(*s->jobs));
	if (s->jobs == NULL) {
		fprintf(stderr, "labblk: no memory for job '%s'\n", o->name);
		return -1;
	}
	for (unsigned int i = 0; i < o->numjobs; i++) {
		struct job *j = &s->jobs[i];

		j->o = o;
		j->stop = &s->stop;
		j->dev = s->dev;
		j->pool = s->pool;
		j->id = i;
		j->base = (uint64_t)i * s->region * o->bs;
		j->units = s->region;
		j->budget = s->region;
		j->rng = o->seed * 0x9e3779b97f4a7c15ull + i + 1;
		if (o->verify) {
			j->seq = calloc(s->region, sizeof(*j->seq));
			j->busy = calloc(s->region, 1);
			if (j->seq == NULL || j->busy == NULL) {
				fprintf(stderr, "labblk: no memory for the verify map\n");
				return -1;
			}
		}
	}
	return 0;
}

/* Open @p s's device and pool and check its sizes. @return 0, or -1 after a message. */
static int spec_open(struct spec *s, FILE *out)
{
	struct opts *o = &s->o;

	s->dev = open_dev(o);
	if (s->dev == NULL)
		return -1;
	if (opts_check_geometry(o, lab_blk_info(s->dev), lab_blk_size(s->dev)) < 0)
		return -1;
	s->pool = make_pool(o, s->dev);
	if (s->pool == NULL)
		return -1;
	s->region = o->size / o->numjobs / o->bs; /* units per job */
	fprintf(out, "labblk: %s%s%s: %s, bs %u, iodepth %u, %u job(s) over %llu bytes, %s%s\n",
		s->named ? o->name : "", s->named ? ": " : "", o->dev, rw_names[o->rw], o->bs, o->iodepth, o->numjobs,
		(unsigned long long)(s->region * o->bs * o->numjobs),
		o->runtime > 0 ? "time-based" : "one pass", o->verify ? ", verify" : "");
	return jobs_init(s);
}

/* Start every job, print progress each --status-interval, stop each
 * time-based section at its ramp plus runtime, and wait for every job. Each
 * section's secs: from its ramp's end to its last job's end. */
static void jobs_run(struct run *r)
{
	uint64_t start, last_ios = 0, last_bytes = 0, next_tick, tick;
	double ival = r->status_interval > 0 ? r->status_interval : 1;

	tick = (uint64_t)(ival * 1e9);
	start = lab_now_ns();
	for (unsigned int k = 0; k < r->nspecs; k++) {
		struct spec *s = &r->specs[k];
		uint64_t ramp = (uint64_t)(s->o.ramp_time * 1e9);

		s->end_ns = s->o.runtime > 0 ? start + ramp + (uint64_t)(s->o.runtime * 1e9) :
					       UINT64_MAX;
		for (unsigned int i = 0; i < s->o.numjobs; i++) {
			s->jobs[i].start_ns = start;
			s->jobs[i].count_from_ns = start + ramp;
			pthread_create(&s->jobs[i].tid, NULL, job_main, &s->jobs[i]);
		}
	}
	next_tick = start + tick;
	for (;;) {
		uint64_t now = lab_now_ns(), ios = 0, bytes = 0;
		bool done = true;

		for (unsigned int k = 0; k < r->nspecs; k++) {
			struct spec *s = &r->specs[k];
			bool all = true;
			uint64_t n;

			for (unsigned int i = 0; i < s->o.numjobs; i++) {
				struct job *j = &s->jobs[i];

				if (!j->joined && pthread_tryjoin_np(j->tid, NULL) == 0)
					j->joined = true;
				all &= j->joined;
				n = atomic_load_explicit(&j->prog_ios, memory_order_relaxed);
				ios += n;
				bytes += n * s->o.bs;
			}
			if (all && s->secs == 0) {
				uint64_t from = s->jobs[0].count_from_ns;

				s->secs = now > from ? (double)(now - from) / 1e9 : 1e-9;
			}
			if (now >= s->end_ns)
				atomic_store(&s->stop, true);
			done &= all;
		}
		if (done)
			break;
		if (now >= next_tick) {
			fprintf(stderr, "labblk: %3.*fs: %10.0f IOPS %9.1f MB/s\n",
				ival == (double)(uint64_t)ival ? 0 : 1, (double)(now - start) / 1e9, (double)(ios - last_ios) / ival,
				(double)(bytes - last_bytes) / ival / 1e6);
			last_ios = ios;
			last_bytes = bytes;
			next_tick += tick;
		}
		usleep(10000);
	}
}

/* Add @p s's figures to @p t. @return whether a job failed to start or was
 * refused; @p refused: the first refusal. */
static bool spec_collect(struct spec *s, struct totals *t, int *refused)
{
	bool bad = false;

	for (unsigned int i = 0; i < s->o.numjobs; i++) {
		struct job *j = &s->jobs[i];

		bad |= j->failed || j->refused != 0;
		if (j->refused != 0 && *refused == 0)
			*refused = j->refused;
		totals_add(t, j);
	}
	/* The workload's time, not the verify pass after it. */
	if (s->o.runtime > 0 && s->secs > s->o.runtime)
		s->secs = s->o.runtime;
	return bad;
}

/* Close @p s's device and pool. @return whether buffers were lost. */
static bool spec_close(struct spec *s)
{
	bool lost = false;

	for (unsigned int i = 0; s->jobs != NULL && i < s->o.numjobs; i++) {
		free(s->jobs[i].slots);
		free(s->jobs[i].free_slots);
		free(s->jobs[i].unsent);
		free(s->jobs[i].seq);
		free(s->jobs[i].busy);
	}
	free(s->jobs);
	s->jobs = NULL;
	if (s->dev != NULL)
		lost |= lab_blk_close(s->dev) < 0;
	if (s->pool != NULL)
		lost |= lab_pool_destroy(s->pool) < 0;
	return lost;
}

/* The report goes to --output or stdout; the human lines to stderr when
 * stdout carries JSON. */
static FILE *open_report(const struct run *r)
{
	FILE *f;

	if (r->output == NULL)
		return stdout;
	f = fopen(r->output, "w");
	if (f == NULL)
		fprintf(stderr, "labblk: --output '%s': %s\n", r->output, strerror(errno));
	return f;
}

static void close_all(struct run *r)
{
	for (unsigned int k = 0; k < r->nspecs; k++)
		spec_close(&r->specs[k]);
	opts_free(r);
}

int main(int argc, char **argv)
{
	static struct run r = { .global = { .rw = RW_RANDREAD, .rwmixread = 50, .bs = 4096,
					    .iodepth = 32, .numjobs = 1, .seed = 1 } };
	static struct totals t;
	struct lab_pool_stats ps = { 0 };
	struct lab_metrics_http *http = NULL;
	FILE *out, *rep;
	double secs = 0;
	bool bad = false, lost = false, accounted, verify = false;
	int refused = 0, rc = opts_parse(&r, argc, argv);

	if (rc != 0) {
		if (rc > 0)
			opts_usage(stdout);
		opts_free(&r);
		return rc > 0 ? 0 : 1;
	}
	/* Human lines on stderr when stdout carries JSON. */
	out = r.json || (r.fmt != OUT_NORMAL && r.output == NULL) ? stderr : stdout;
	for (unsigned int k = 0; k < r.nspecs; k++) {
		if (spec_open(&r.specs[k], out) < 0) {
			close_all(&r);
			return 1;
		}
	}
	rep = open_report(&r);
	if (rep == NULL) {
		close_all(&r);
		return 1;
	}
	if (r.metrics != NULL && (http = metrics_open(&r, out)) == NULL) {
		if (rep != stdout)
			fclose(rep);
		close_all(&r);
		return 1;
	}
	jobs_run(&r);
	lab_metrics_http_close(http);
	for (unsigned int k = 0; k < r.nspecs; k++) {
		bad |= spec_collect(&r.specs[k], &t, &refused);
		verify |= r.specs[k].o.verify;
		if (r.specs[k].secs > secs)
			secs = r.specs[k].secs;
	}
	for (unsigned int k = 0; k < r.nspecs; k++) {
		struct lab_pool_stats one;

		lab_pool_stats(r.specs[k].pool, &one);
		ps.total += one.total;
		ps.free += one.free;
		ps.cached += one.cached;
		ps.quarantined += one.quarantined;
		ps.retired += one.retired;
		ps.in_flight += one.in_flight;
	}
	accounted = ps.in_flight == 0 && ps.total == ps.free + ps.cached + ps.quarantined +
							 ps.retired;
	/* fio's report when asked for (--output-format, or a job file: a fio
	 * user's habit); labblk's summary after
	 * it, or on stderr when the report is JSON. */
	if (r.fmt_given || r.jobfile != NULL)
		report_fio(rep, &r);
	report_human(r.fmt == OUT_NORMAL && !r.json ? rep : out, verify, &t, secs, &ps, accounted);
	if (r.json)
		report_json(&r.specs[0].o, &t, secs,
			    r.specs[0].region * r.specs[0].o.bs * r.specs[0].o.numjobs,
			    lab_pool_accounting_name(&ps), r.specs[0].dev);
	if (rep != stdout && fclose(rep) != 0) {
		fprintf(stderr, "labblk: --output '%s': %s\n", r.output, strerror(errno));
		bad = true;
	}
	/* Buffers the device or the pool could not account for: exit 2 (a run
	 * that lost buffers), whatever else happened. */
	for (unsigned int k = 0; k < r.nspecs; k++)
		lost |= spec_close(&r.specs[k]);
	opts_free(&r);
	if (lost)
		fprintf(stderr, "labblk: buffers were lost: the device or the pool could not "
			"take every buffer back (see above)\n");
	if (bad && !lost && t.ios[0] + t.ios[1] == 0) {
		/* Nothing moved because the run could not start: not a measurement. */
		fprintf(stderr, "labblk: the run moved no I/O: %s (see above)\n",
			refused != 0 ? strerror(-refused) : "a job could not start");
		return 1;
	}
	if (bad || lost || t.errors || t.mismatches || (verify && t.verified == 0) ||
	    !accounted)
		return 2;
	return 0;
}
