/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * labblk's report in fio's layouts (--output-format normal, json, json+), so
 * that the scripts and habits built around fio read it. The JSON has fio's
 * names, nesting and units for the fields labblk fills: "global options",
 * jobs[].jobname, "job options", and per direction io_bytes, io_kbytes,
 * bw_bytes, bw (KiB/s), iops, runtime (ms), total_ios, slat_ns, clat_ns
 * (with "percentile", and "bins" under json+) and lat_ns. Fields fio has
 * and labblk does not measure (CPU, disk_util, iodepth levels) are left out
 * rather than filled with zeros that would read as measurements.
 *
 * Entries: one per job thread, as fio prints one per numjobs clone; under
 * group_reporting one for the whole run, named after the first job.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "labblk.h"

/* fio's default percentile list. */
static const double pcts[] = { 1, 5, 10, 20, 30, 40, 50, 60, 70, 80, 90, 95, 99, 99.5, 99.9,
			       99.95, 99.99 };

struct entry {
	const char *name;
	const struct kvlist *kv; /* job options; NULL under group_reporting */
	unsigned int jobs;
	double secs;
	struct totals t;
};

static void json_str(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s != '\0'; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\')
			fprintf(f, "\\%c", c);
		else if (c < 0x20)
			fprintf(f, "\\u%04x", c);
		else
			fputc(c, f);
	}
	fputc('"', f);
}

/* The keys of @p kv as one object, each key once with its last value. */
static void json_kv(FILE *f, const struct kvlist *kv)
{
	bool first = true;

	fputc('{', f);
	for (unsigned int i = 0; kv != NULL && i < kv->n; i++) {
		unsigned int k;

		for (k = i + 1; k < kv->n && strcmp(kv->e[k].key, kv->e[i].key) != 0; k++)
			;
		if (k < kv->n)
			continue;
		fprintf(f, "%s\n      ", first ? "" : ",");
		json_str(f, kv->e[i].key);
		fputs(" : ", f);
		json_str(f, kv->e[i].val);
		first = false;
	}
	fputc('}', f);
}

static void json_stat(FILE *f, const char *name, const struct hist *h, bool pct, bool bins)
{
	fprintf(f, "\"%s\" : {\"min\" : %llu, \"max\" : %llu, \"mean\" : %f, \"stddev\" : %f, "
		"\"N\" : %llu", name, (unsigned long long)h->min_ns,
		(unsigned long long)h->max_ns, hist_mean(h), hist_stddev(h),
		(unsigned long long)h->count);
	if (pct && h->count != 0) {
		fputs(", \"percentile\" : {", f);
		for (size_t i = 0; i < sizeof(pcts) / sizeof(pcts[0]); i++)
			fprintf(f, "%s\"%f\" : %llu", i ? ", " : "", pcts[i],
				(unsigned long long)hist_pct_ns(h, pcts[i]));
		fputc('}', f);
	}
	if (bins && h->count != 0) {
		uint64_t ns, n;
		bool first = true;

		fputs(", \"bins\" : {", f);
		for (int i = hist_next(h, -1, &ns, &n); i >= 0; i = hist_next(h, i, &ns, &n)) {
			fprintf(f, "%s\"%llu\" : %llu", first ? "" : ", ", (unsigned long long)ns,
				(unsigned long long)n);
			first = false;
		}
		fputc('}', f);
	}
	fputc('}', f);
}

static void json_dir(FILE *f, const char *name, const struct entry *e, int w, bool plus)
{
	const struct totals *t = &e->t;
	double secs = e->secs > 0 ? e->secs : 1e-9;
	double bw = (double)t->bytes[w] / secs;

	fprintf(f, ",\n      \"%s\" : {\"io_bytes\" : %llu, \"io_kbytes\" : %llu, "
		"\"bw_bytes\" : %.0f, \"bw\" : %.0f, \"iops\" : %f, \"runtime\" : %.0f, "
		"\"total_ios\" : %llu, \"short_ios\" : 0, \"drop_ios\" : 0,\n        ", name,
		(unsigned long long)t->bytes[w], (unsigned long long)(t->bytes[w] / 1024), bw,
		bw / 1024, (double)t->ios[w] / secs, e->secs * 1000, (unsigned long long)t->ios[w]);
	json_stat(f, "slat_ns", &t->slat[w], false, false);
	fputs(",\n        ", f);
	json_stat(f, "clat_ns", &t->dir[w], true, plus);
	fputs(",\n        ", f);
	json_stat(f, "lat_ns", &t->lat[w], false, false);
	fputc('}', f);
}

static void report_json_fio(FILE *f, const struct run *r, const struct entry *es,
			    unsigned int n)
{
	time_t now = time(NULL);
	char when[64];

	strftime(when, sizeof(when), "%a %b %e %H:%M:%S %Y", localtime(&now));
	fprintf(f, "{\n  \"labblk version\" : \"labblk\",\n  \"timestamp\" : %lld,\n"
		"  \"time\" : \"%s\",\n  \"global options\" : ", (long long)now, when);
	json_kv(f, &r->global_kv);
	fputs(",\n  \"jobs\" : [", f);
	for (unsigned int i = 0; i < n; i++) {
		const struct entry *e = &es[i];

		fprintf(f, "%s\n    {\n      \"jobname\" : ", i ? "," : "");
		json_str(f, e->name);
		fprintf(f, ",\n      \"groupid\" : 0,\n      \"error\" : %d,\n      "
			"\"job options\" : ", e->t.errors ? -e->t.first_error : 0);
		json_kv(f, e->kv);
		json_dir(f, "read", e, 0, r->fmt == OUT_JSONPLUS);
		json_dir(f, "write", e, 1, r->fmt == OUT_JSONPLUS);
		fprintf(f, ",\n      \"job_runtime\" : %.0f\n    }", e->secs * 1000);
	}
	fputs("\n  ]\n}\n", f);
}

/* fio's short numbers: 341k, 1.2M. */
static const char *short_num(char *buf, size_t len, double v)
{
	if (v >= 1e6)
		snprintf(buf, len, "%.1fM", v / 1e6);
	else if (v >= 1e4)
		snprintf(buf, len, "%.1fk", v / 1e3);
	else
		snprintf(buf, len, "%.0f", v);
	return buf;
}

/* A unit for values around @p ns: nsec, usec or msec, so that the figures
 * keep their digits (fio picks one the same way). */
static double unit_of(uint64_t ns, const char **name)
{
	if (ns < 10000) {
		*name = "nsec";
		return 1;
	}
	if (ns < 10000000) {
		*name = "usec";
		return 1e3;
	}
	*name = "msec";
	return 1e6;
}

static void normal_stat(FILE *f, const char *label, const struct hist *h)
{
	const char *u;
	double d = unit_of((uint64_t)hist_mean(h), &u);

	fprintf(f, "    %4s (%s): min=%.0f, max=%.0f, avg=%.2f, stdev=%.2f\n", label, u,
		(double)h->min_ns / d, (double)h->max_ns / d, hist_mean(h) / d,
		hist_stddev(h) / d);
}

static void normal_dir(FILE *f, const char *name, const struct entry *e, int w)
{
	const struct totals *t = &e->t;
	double secs = e->secs > 0 ? e->secs : 1e-9, d;
	char iops[32];
	const char *u;

	if (t->ios[w] == 0)
		return;
	fprintf(f, "  %s: IOPS=%s, BW=%.1fMiB/s (%.1fMB/s)(%.1fMiB/%.0fmsec)\n", name,
		short_num(iops, sizeof(iops), (double)t->ios[w] / secs),
		(double)t->bytes[w] / secs / 1048576, (double)t->bytes[w] / secs / 1e6,
		(double)t->bytes[w] / 1048576, e->secs * 1000);
	normal_stat(f, "slat", &t->slat[w]);
	normal_stat(f, "clat", &t->dir[w]);
	normal_stat(f, "lat", &t->lat[w]);
	d = unit_of(hist_pct_ns(&t->dir[w], 50), &u);
	fprintf(f, "    clat percentiles (%s):\n", u);
	for (size_t i = 0; i < sizeof(pcts) / sizeof(pcts[0]); i++)
		fprintf(f, "%s%5.2fth=[%5.0f]%s", i % 4 == 0 ? "     | " : " ", pcts[i],
			(double)hist_pct_ns(&t->dir[w], pcts[i]) / d,
			i % 4 == 3 || i + 1 == sizeof(pcts) / sizeof(pcts[0]) ? ",\n" : ",");
}

static void report_normal(FILE *f, const struct entry *es, unsigned int n)
{
	for (unsigned int i = 0; i < n; i++) {
		const struct entry *e = &es[i];

		fprintf(f, "%s: (groupid=0, jobs=%u): err=%2d\n", e->name, e->jobs,
			e->t.errors ? -e->t.first_error : 0);
		normal_dir(f, "read", e, 0);
		normal_dir(f, "write", e, 1);
	}
}

void report_fio(FILE *f, const struct run *r)
{
	unsigned int n = 0, cap = 0;
	static struct entry one;
	struct entry *es;

	for (unsigned int k = 0; k < r->nspecs; k++)
		cap += r->specs[k].o.numjobs;
	es = r->group_reporting ? &one : calloc(cap, sizeof(*es));
	if (es == NULL) {
		fprintf(stderr, "labblk: no memory for the report\n");
		return;
	}
	if (r->group_reporting) {
		es->name = r->specs[0].o.name;
		es->kv = &r->specs[0].kv;
		n = 1;
	}
	for (unsigned int k = 0; k < r->nspecs; k++) {
		const struct spec *s = &r->specs[k];

		for (unsigned int i = 0; i < s->o.numjobs; i++) {
			struct entry *e = r->group_reporting ? es : &es[n++];

			if (!r->group_reporting) {
				e->name = s->o.name;
				e->kv = &s->kv;
			}
			e->jobs++;
			if (s->secs > e->secs)
				e->secs = s->secs;
			totals_add(&e->t, &s->jobs[i]);
		}
	}
	if (r->fmt == OUT_NORMAL)
		report_normal(f, es, n);
	else
		report_json_fio(f, r, es, n);
	if (!r->group_reporting)
		free(es);
}
