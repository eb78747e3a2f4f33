/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * labblk --metrics ADDR:PORT: the pools' and the warden's Prometheus page over
 * HTTP while the jobs run, served by lib/ctl's HTTP thread (never by a job),
 * and after them labblk's own families: each job thread's requests, bytes,
 * errors and requests in flight, named after node_exporter's disk figures.
 * The same option and the same checks as labfwd's; a run key of the command
 * line only (jobfile.c), as output is.
 *
 * Why the counters are copies: a job's counts and its queue pair's stats are
 * its thread's alone (plain adds, no lock on the data path). After each poll
 * the thread stores copies with relaxed atomics, one writer each; the HTTP
 * thread loads them. Each value is whole, and a page may show one job a poll
 * older than another, which a scrape cannot tell from timing anyway.
 */
#include <stdlib.h>
#include <string.h>

#include <labyrinth/lab_common.h>
#include <labyrinth/lab_ctl.h>

#include "labblk.h"

/* At option time: a bad address is a usage error before anything opens. */
int metrics_check(const struct run *r)
{
	char err[256];

	if (r->metrics == NULL)
		return 0;
	if (lab_metrics_http_check(r->metrics, r->metrics_remote, err, sizeof(err)) < 0) {
		fprintf(stderr, "labblk: --metrics %s\n", err);
		return -1;
	}
	return 0;
}

void metrics_publish(struct job *j, uint32_t inflight)
{
	for (int w = 0; w < 2; w++) {
		atomic_store_explicit(&j->pub.done[w], j->done_all[w], memory_order_relaxed);
		atomic_store_explicit(&j->pub.bytes[w], j->bytes_all[w], memory_order_relaxed);
	}
	atomic_store_explicit(&j->pub.errors, j->errors, memory_order_relaxed);
	atomic_store_explicit(&j->pub.inflight, inflight, memory_order_relaxed);
}

/* One job thread's figures, loaded once per page; v[] in blk_metrics[]'s order. */
struct job_snap {
	const char *name, *dev;
	unsigned int thread;
	uint64_t v[6];
};

static const struct blk_metric {
	const char *name, *type, *help;
} blk_metrics[] = {
	{ "labyrinth_blk_reads_completed_total", "counter", "Reads completed successfully." },
	{ "labyrinth_blk_writes_completed_total", "counter", "Writes completed successfully." },
	{ "labyrinth_blk_read_bytes_total", "counter", "Bytes read by successful reads." },
	{ "labyrinth_blk_written_bytes_total", "counter", "Bytes written by successful writes." },
	{ "labyrinth_blk_errors_total", "counter", "Requests that ended with an error." },
	{ "labyrinth_blk_io_now", "gauge", "Requests submitted and not yet completed." },
};

static void snap_job(struct job_snap *js, const struct job *j, unsigned int thread)
{
	js->name = j->o->name;
	js->dev = j->o->dev;
	js->thread = thread;
	js->v[0] = atomic_load_explicit(&j->pub.done[0], memory_order_relaxed);
	js->v[1] = atomic_load_explicit(&j->pub.done[1], memory_order_relaxed);
	js->v[2] = atomic_load_explicit(&j->pub.bytes[0], memory_order_relaxed);
	js->v[3] = atomic_load_explicit(&j->pub.bytes[1], memory_order_relaxed);
	js->v[4] = atomic_load_explicit(&j->pub.errors, memory_order_relaxed);
	js->v[5] = atomic_load_explicit(&j->pub.inflight, memory_order_relaxed);
}

/*
 * The jobs' families, on the HTTP thread. Labels: job (the section's name),
 * thread (the job thread's number in the run, from 0 across every section,
 * its index in fio's jobs[]: two sections may share a name and a device) and
 * device (the device string). The specs and jobs stay put while the server
 * runs: main closes it before it frees them.
 */
static void jobs_page(FILE *f, void *arg)
{
	const struct run *r = arg;
	struct job_snap *js;
	unsigned int n = 0, cap = 0;

	for (unsigned int k = 0; k < r->nspecs; k++)
		cap += r->specs[k].o.numjobs;
	js = calloc(cap ? cap : 1, sizeof(*js));
	if (js == NULL)
		return;
	for (unsigned int k = 0; k < r->nspecs; k++)
		for (unsigned int i = 0; i < r->specs[k].o.numjobs; i++, n++)
			snap_job(&js[n], &r->specs[k].jobs[i], n);
	for (size_t m = 0; m < sizeof(blk_metrics) / sizeof(blk_metrics[0]); m++) {
		const struct blk_metric *bm = &blk_metrics[m];

		fprintf(f, "# HELP %s %s\n# TYPE %s %s\n", bm->name, bm->help, bm->name,
			bm->type);
		for (unsigned int i = 0; i < n; i++) {
			fprintf(f, "%s{job=", bm->name);
			lab_metrics_label_value(f, js[i].name);
			fprintf(f, ",thread=\"%u\",device=", js[i].thread);
			lab_metrics_label_value(f, js[i].dev);
			fprintf(f, "} %llu\n", (unsigned long long)js[i].v[m]);
		}
	}
	free(js);
}

struct lab_metrics_http *metrics_open(const struct run *r, FILE *out)
{
	struct lab_metrics_http_opts mo;
	struct lab_metrics_http *h;

	lab_metrics_http_opts_init(&mo);
	mo.listen = r->metrics;
	mo.allow_remote = r->metrics_remote;
	mo.page_more = jobs_page;
	mo.page_more_arg = (void *)r;
	h = lab_metrics_http_open(&mo);
	if (h == NULL) {
		fprintf(stderr, "labblk: --metrics %s: %s\n", r->metrics, strerror(lab_errno));
		return NULL;
	}
	/* A scraper or a test waits for this line: the port is listening. */
	fprintf(out, "labblk: metrics http://%s/metrics\n", lab_metrics_http_addr(h));
	fflush(out);
	return h;
}
