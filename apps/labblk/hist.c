/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * labblk's latency histogram: 64 linear buckets per power of two of
 * nanoseconds (HdrHistogram's idea, fixed size), so a percentile is exact to
 * within 1/64 of its value whatever the spread, and merging jobs is a sum.
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
	h->count++;
	if (ns > h->max_ns)
		h->max_ns = ns;
}

void hist_merge(struct hist *to, const struct hist *from)
{
	for (unsigned int i = 0; i < HIST_BUCKETS; i++)
		to->n[i] += from->n[i];
	to->count += from->count;
	if (from->max_ns > to->max_ns)
		to->max_ns = from->max_ns;
}

/* Percentile @p p (0..100) in microseconds. */
double hist_pct(const struct hist *h, double p)
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
