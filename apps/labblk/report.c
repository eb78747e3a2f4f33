/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * labblk's summary: every job's figures added up, then the human lines
 * (stdout, or stderr under --json) and the JSON object (stdout).
 */
#include <stdio.h>
#include <string.h>

#include "labblk.h"

void totals_add(struct totals *t, const struct job *j)
{
	for (int w = 0; w < 2; w++) {
		hist_merge(&t->dir[w], &j->clat[w]);
		hist_merge(&t->slat[w], &j->slat[w]);
		hist_merge(&t->lat[w], &j->lat[w]);
		hist_merge(&t->all, &j->lat[w]);
		t->ios[w] += j->ios[w];
		t->bytes[w] += j->bytes[w];
	}
	if (j->errors && !t->errors)
		t->first_error = j->first_error;
	t->errors += j->errors;
	t->mismatches += j->mismatches;
	t->verified += j->verified;
	t->syscalls += j->qst.syscalls;
	t->fixed += j->qst.fixed;
	t->submitted += j->qst.submitted;
}

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

void report_human(FILE *out, bool verify, const struct totals *t, double secs,
		  const struct lab_pool_stats *ps, bool accounted)
{
	fprintf(out, "labblk: %.2f s, %llu I/Os, %.0f IOPS, %.1f MB/s, errors %llu%s%s%s\n", secs,
		(unsigned long long)(t->ios[0] + t->ios[1]), (double)(t->ios[0] + t->ios[1]) / secs,
		(double)(t->bytes[0] + t->bytes[1]) / secs / 1e6, (unsigned long long)t->errors,
		t->errors ? " (first: " : "", t->errors ? strerror(-t->first_error) : "",
		t->errors ? ")" : "");
	if (t->ios[0])
		print_dir(out, "read", &t->lat[0], t->ios[0], t->bytes[0], secs);
	if (t->ios[1])
		print_dir(out, "write", &t->lat[1], t->ios[1], t->bytes[1], secs);
	if (verify)
		fprintf(out, "  verify: %llu blocks checked, %llu mismatches: %s\n",
			(unsigned long long)t->verified, (unsigned long long)t->mismatches,
			t->mismatches || t->verified == 0 ? "FAILED" : "OK");
	fprintf(out, "  queue pairs: %llu requests, %llu into registered buffers, %llu system "
		"calls (%.3f per request)\n", (unsigned long long)t->submitted,
		(unsigned long long)t->fixed, (unsigned long long)t->syscalls,
		t->submitted ? (double)t->syscalls / (double)t->submitted : 0.0);
	fprintf(out, "  pool: %llu buffers, %llu in flight after the run: accounting %s\n",
		(unsigned long long)ps->total, (unsigned long long)ps->in_flight,
		accounted ? "OK" : "FAILED");
}

void report_json(const struct opts *o, const struct totals *t, double secs, uint64_t used,
		 const char *accounting, const struct lab_blk_dev *dev)
{
	printf("{\"dev\": \"%s\", \"rw\": \"%s\", \"bs\": %u, \"iodepth\": %u, "
	       "\"numjobs\": %u, \"size\": %llu, \"runtime_s\": %.3f, \"ios\": %llu, "
	       "\"iops\": %.1f, \"mbps\": %.2f, \"p50_us\": %.1f, \"p99_us\": %.1f, "
	       "\"p999_us\": %.1f, \"max_us\": %.1f, \"errors\": %llu, ", o->dev,
	       rw_names[o->rw], o->bs, o->iodepth, o->numjobs,
	       (unsigned long long)used, secs,
	       (unsigned long long)(t->ios[0] + t->ios[1]),
	       (double)(t->ios[0] + t->ios[1]) / secs,
	       (double)(t->bytes[0] + t->bytes[1]) / secs / 1e6, hist_pct(&t->all, 50),
	       hist_pct(&t->all, 99), hist_pct(&t->all, 99.9), (double)t->all.max_ns / 1000.0,
	       (unsigned long long)t->errors);
	json_dir(stdout, "read", &t->lat[0], t->ios[0], t->bytes[0], secs);
	printf(", ");
	json_dir(stdout, "write", &t->lat[1], t->ios[1], t->bytes[1], secs);
	if (o->verify)
		printf(", \"verify\": {\"checked\": %llu, \"mismatches\": %llu}",
		       (unsigned long long)t->verified, (unsigned long long)t->mismatches);
	printf(", \"syscalls\": %llu, \"fixed\": %llu, \"accounting\": \"%s\", \"device\": ",
	       (unsigned long long)t->syscalls, (unsigned long long)t->fixed, accounting);
	lab_blk_info_json(dev, stdout);
	printf("}\n");
}
