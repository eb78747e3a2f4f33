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

/* Give each job its region of @p region units. @return 0, or -1 after a message. */
static int jobs_init(struct job *jobs, const struct opts *o, struct lab_blk_dev *dev,
		     struct lab_pool *pool, uint64_t region)
{
	for (unsigned int i = 0; i < o->numjobs; i++) {
		struct job *j = &jobs[i];

		j->o = o;
		j->dev = dev;
		j->pool = pool;
		j->id = i;
		j->base = (uint64_t)i * region * o->bs;
		j->units = region;
		j->budget = region;
		j->rng = o->seed * 0x9e3779b97f4a7c15ull + i + 1;
		if (o->verify) {
			j->seq = calloc(region, sizeof(*j->seq));
			j->busy = calloc(region, 1);
			if (j->seq == NULL || j->busy == NULL) {
				fprintf(stderr, "labblk: no memory for the verify map\n");
				return -1;
			}
		}
	}
	return 0;
}

/* Start the jobs, print progress each second, stop a time-based run at
 * --runtime, and wait for every job. @return the seconds from start to the
 * last job's end. */
static double jobs_run(struct job *jobs, const struct opts *o)
{
	uint64_t start, end, last_ios = 0, last_bytes = 0, next_tick;

	start = lab_now_ns();
	end = o->runtime > 0 ? start + (uint64_t)(o->runtime * 1e9) : UINT64_MAX;
	for (unsigned int i = 0; i < o->numjobs; i++)
		pthread_create(&jobs[i].tid, NULL, job_main, &jobs[i]);
	/* Progress each second, and the stop at runtime. */
	next_tick = start + 1000000000ull;
	for (;;) {
		uint64_t now = lab_now_ns(), ios = 0, bytes = 0;
		bool done = true;

		for (unsigned int i = 0; i < o->numjobs; i++) {
			if (!jobs[i].joined && pthread_tryjoin_np(jobs[i].tid, NULL) == 0)
				jobs[i].joined = true;
			done &= jobs[i].joined;
		}
		if (done)
			break;
		if (now >= end)
			atomic_store(&stop_flag, true);
		if (now >= next_tick) {
			for (unsigned int i = 0; i < o->numjobs; i++)
				ios += atomic_load_explicit(&jobs[i].prog_ios, memory_order_relaxed);
			bytes = ios * o->bs;
			fprintf(stderr, "labblk: %3.0fs: %10.0f IOPS %9.1f MB/s\n",
				(double)(now - start) / 1e9, (double)(ios - last_ios),
				(double)(bytes - last_bytes) / 1e6);
			last_ios = ios;
			last_bytes = bytes;
			next_tick += 1000000000ull;
		}
		usleep(10000);
	}
	return (double)(lab_now_ns() - start) / 1e9;
}

/* Add every job's figures to @p t and free the jobs' maps. @return whether a
 * job failed to start or was refused; @p refused: the first refusal. */
static bool jobs_collect(struct job *jobs, unsigned int n, struct totals *t, int *refused)
{
	bool bad = false;

	for (unsigned int i = 0; i < n; i++) {
		struct job *j = &jobs[i];

		bad |= j->failed || j->refused != 0;
		if (j->refused != 0 && *refused == 0)
			*refused = j->refused;
		totals_add(t, j);
		free(j->slots);
		free(j->free_slots);
		free(j->seq);
		free(j->busy);
	}
	return bad;
}

int main(int argc, char **argv)
{
	struct opts o = { .rw = RW_RANDREAD, .rwmixread = 50, .bs = 4096, .iodepth = 32,
			  .numjobs = 1, .seed = 1 };
	static struct totals t;
	struct lab_pool_stats ps;
	struct lab_metrics_http *http = NULL;
	struct lab_blk_dev *dev;
	struct lab_pool *pool;
	struct job *jobs;
	uint64_t region;
	FILE *out;
	double secs;
	bool bad, lost, accounted; /* bad: a job failed to start or was refused */
	int refused = 0, rc = opts_parse(&o, argc, argv);

	if (rc != 0) {
		if (rc > 0)
			opts_usage(stdout);
		return rc > 0 ? 0 : 1;
	}
	out = o.json ? stderr : stdout;
	dev = open_dev(&o);
	if (dev == NULL)
		return 1;
	if (opts_check_geometry(&o, lab_blk_info(dev), lab_blk_size(dev)) < 0) {
		lab_blk_close(dev);
		return 1;
	}
	pool = make_pool(&o, dev);
	if (pool == NULL) {
		lab_blk_close(dev);
		return 1;
	}
	if (o.metrics != NULL && (http = metrics_open(&o, out)) == NULL) {
		lab_blk_close(dev);
		lab_pool_destroy(pool);
		return 1;
	}
	jobs = calloc(o.numjobs, sizeof(*jobs));
	region = o.size / o.numjobs / o.bs; /* units per job */
	fprintf(out, "labblk: %s: %s, bs %u, iodepth %u, %u job(s) over %llu bytes, %s%s\n",
		o.dev, rw_names[o.rw], o.bs, o.iodepth, o.numjobs,
		(unsigned long long)(region * o.bs * o.numjobs),
		o.runtime > 0 ? "time-based" : "one pass", o.verify ? ", verify" : "");
	if (jobs_init(jobs, &o, dev, pool, region) < 0)
		return 1;
	secs = jobs_run(jobs, &o);
	lab_metrics_http_close(http);
	bad = jobs_collect(jobs, o.numjobs, &t, &refused);
	lab_pool_stats(pool, &ps);
	accounted = ps.in_flight == 0 && ps.total == ps.free + ps.cached + ps.quarantined +
							 ps.retired;
	if (o.runtime > 0 && secs > o.runtime)
		secs = o.runtime; /* the workload's time, not the verify pass after it */
	report_human(out, &o, &t, secs, &ps, accounted);
	if (o.json)
		report_json(&o, &t, secs, region * o.bs * o.numjobs, lab_pool_accounting_name(&ps),
			    dev);
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
