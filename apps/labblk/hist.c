/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * labblk's latency histogram: 64 linear buckets per power of two of
 * nanoseconds (HdrHistogram's idea, fixed size), so a percentile is exact to
 * within 1/64 of its value whatever the spread, and merging jobs is a sum.
 * Each job thread has its own histograms: adding a sample is a few integer
 * operations on memory no other thread touches, with no allocation and no
 * lock; the main thread reads them only after joining the thread.
 */
#include <math.h>

#include "labblk.h"

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

void hist_add(struct hist *h, uint64_t ns)
{
	h->n[hist_index(ns)]++;
	if (h->count == 0 || ns < h->min_ns)
		h->min_ns = ns;
	h->count++;
	if (ns > h->max_ns)
		h->max_ns = ns;
	h->sum_ns += ns;
	h->sumsq += (double)ns * (double)ns;
}

void hist_merge(struct hist *to, const struct hist *from)
{
	if (from->count == 0)
		return;
	for (unsigned int i = 0; i < HIST_BUCKETS; i++)
		to->n[i] += from->n[i];
	if (to->count == 0 || from->min_ns < to->min_ns)
		to->min_ns = from->min_ns;
	to->count += from->count;
	if (from->max_ns > to->max_ns)
		to->max_ns = from->max_ns;
	to->sum_ns += from->sum_ns;
	to->sumsq += from->sumsq;
}

double hist_mean(const struct hist *h)
{
	return h->count ? (double)h->sum_ns / (double)h->count : 0;
}

/* The sample standard deviation, as fio prints it (n - 1). */
double hist_stddev(const struct hist *h)
{
	double n = (double)h->count, var;

	if (h->count < 2)
		return 0;
	var = (h->sumsq - (double)h->sum_ns * (double)h->sum_ns / n) / (n - 1);
	return var > 0 ? sqrt(var) : 0;
}

int hist_next(const struct hist *h, int i, uint64_t *ns, uint64_t *n)
{
	for (i++; i >= 0 && (unsigned int)i < HIST_BUCKETS; i++) {
		if (h->n[i] != 0) {
			uint64_t v = hist_value((unsigned int)i);

			*ns = v < h->max_ns ? v : h->max_ns;
			*n = h->n[i];
			return i;
		}
	}
	return -1;
}

/* Percentile @p p (0..100) in nanoseconds: the upper value of the bucket
 * that holds it, or the maximum if that is less. */
uint64_t hist_pct_ns(const struct hist *h, double p)
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

			return v < h->max_ns ? v : h->max_ns;
		}
	}
	return h->max_ns;
}

/* Percentile @p p (0..100) in microseconds. */
double hist_pct(const struct hist *h, double p)
{
	return (double)hist_pct_ns(h, p) / 1000.0;
}
