/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Prometheus text exposition format 0.0.4: for each metric family a HELP and
 * a TYPE line, then all its samples together (the format wants a family's
 * samples contiguous), so every pool and port is snapshotted first and the
 * families are written one after another. Counters end in _total; sizes are
 * in buffers, times in seconds; label values are escaped (\\, \", \n).
 */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <labyrinth/lab_config.h>
#include <labyrinth/lab_ctl.h>
#include <labyrinth/lab_pool.h>
#include <labyrinth/lab_port.h>

#include "ctl_internal.h"

struct pool_snap {
	char name[64];
	struct lab_pool_stats st;
};

struct port_snap {
	uint16_t id;
	char name[128];
	char driver[32];
	bool up;
	struct lab_port_stats st;
};

struct snaps {
	struct pool_snap pool[CTL_MAX_OBJS];
	struct port_snap port[CTL_MAX_OBJS];
	unsigned int npools, nports;
};

static int snap_pool(struct lab_pool *p, void *arg)
{
	struct snaps *s = arg;
	struct pool_snap *ps;

	if (s->npools == CTL_MAX_OBJS)
		return 1;
	ps = &s->pool[s->npools++];
	snprintf(ps->name, sizeof(ps->name), "%s", lab_pool_name(p));
	lab_pool_stats(p, &ps->st);
	return 0;
}

static int snap_port(struct lab_port *p, void *arg)
{
	struct snaps *s = arg;
	struct port_snap *ps;
	struct lab_port_link l;

	if (s->nports == CTL_MAX_OBJS)
		return 1;
	ps = &s->port[s->nports++];
	ps->id = p->id;
	snprintf(ps->name, sizeof(ps->name), "%s", lab_port_name(p));
	snprintf(ps->driver, sizeof(ps->driver), "%s", lab_port_driver(p));
	lab_port_link(p, &l);
	ps->up = l.up;
	lab_port_stats(p, &ps->st);
	return 0;
}

static void label_value(FILE *f, const char *v)
{
	fputc('"', f);
	for (; *v != '\0'; v++) {
		if (*v == '\\' || *v == '"')
			fprintf(f, "\\%c", *v);
		else if (*v == '\n')
			fputs("\\n", f);
		else
			fputc(*v, f);
	}
	fputc('"', f);
}

static void family(FILE *f, const char *name, const char *type, const char *help)
{
	fprintf(f, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* Pool figures, each a uint64_t or uint32_t of struct lab_pool_stats. */
static const struct pool_metric {
	const char *name, *type, *help;
	size_t off;
	bool u32;
} pool_metrics[] = {
#define U64(n, t, f, h) { "labyrinth_pool_" n, t, h, offsetof(struct lab_pool_stats, f), false }
#define U32(n, t, f, h) { "labyrinth_pool_" n, t, h, offsetof(struct lab_pool_stats, f), true }
	U64("reserve_in_use_buffers", "gauge", reserve_in_use, "Reserve buffers in use now (free "
								"below min)."),
	U64("capacity_buffers", "gauge", total, "Buffers in mapped chambers."),
	U64("chambers", "gauge", chambers, "Mapped chambers (hugepages)."),
	U32("owners", "gauge", owners, "Owner caches."),
	U32("sample_rate", "gauge", sample_rate, "Under sampled quality, one free in this many "
						 "is checked."),
	U64("allocs_total", "counter", sum.allocs, "Buffers handed out."),
	U64("frees_total", "counter", sum.frees, "Buffers given back."),
	U64("ring_refills_total", "counter", sum.ring_refills, "Owner-cache refills from the "
							      "shared ring."),
	U64("ring_flushes_total", "counter", sum.ring_flushes, "Owner-cache spills to the "
							      "shared ring."),
	U64("reserve_uses_total", "counter", sum.reserve_uses, "Buffers atomic callers took "
							      "below the min watermark."),
	U64("misses_total", "counter", sum.misses, "Buffers asked for and not given."),
	U64("warden_kicks_total", "counter", kicks, "Kicks (free below low) the warden "
						    "answered."),
	U64("grows_total", "counter", grows, "Chambers the warden added."),
	U64("shrinks_total", "counter", shrinks, "Chambers the warden released."),
	U64("grow_failures_total", "counter", grow_failures, "Grows that failed (no memory, "
							     "limit)."),
	U64("quarantine_skipped_total", "counter", quarantine_skipped,
	    "Frees picked for a deep check that were not deep-checked (unchecked; 0 by "
	    "design)."),
	U64("deep_checked_total", "counter", deep_checked,
	    "Frees deep-checked (poison, redzone, header); frees_total / this is the "
	    "effective sampling rate."),
	U64("sample_backoffs_total", "counter", sample_backoffs,
	    "Frees due for a deep sample that the sampler skipped (staging or quarantine "
	    "full, budget spent)."),
	U64("checked_at_once_total", "counter", checked_at_once,
	    "Frees under full checked at the free, without a hold (quarantine with no room)."),
	U32("sample_budget", "gauge", sample_budget, "Deep samples per ms at most."),
	U64("findings_dropped_total", "counter", findings_dropped,
	    "Finding records lost to a full queue (still counted in findings_total)."),
#undef U64
#undef U32
};

static uint64_t pool_value(const struct lab_pool_stats *st, const struct pool_metric *m)
{
	const char *p = (const char *)st + m->off;
	uint64_t v64;
	uint32_t v32;

	if (m->u32) {
		memcpy(&v32, p, sizeof(v32));
		return v32;
	}
	memcpy(&v64, p, sizeof(v64));
	return v64;
}

static void pool_sample(FILE *f, const char *metric, const char *pool, const char *lname,
			const char *lval, uint64_t v)
{
	fprintf(f, "%s{pool=", metric);
	label_value(f, pool);
	if (lname != NULL)
		fprintf(f, ",%s=\"%s\"", lname, lval);
	fprintf(f, "} %llu\n", (unsigned long long)v);
}

static void pool_families(FILE *f, const struct snaps *s)
{
	static const char *const states[] = { "free", "cached", "in_flight", "quarantined",
					      "retired" };
	static const char *const wms[] = { "min", "low", "high", "atomic" };

	family(f, "labyrinth_pool_buffers", "gauge", "Buffers by where they are.");
	for (unsigned int i = 0; i < s->npools; i++) {
		const struct lab_pool_stats *st = &s->pool[i].st;
		const uint64_t v[] = { st->free, st->cached, st->in_flight, st->quarantined,
				       st->retired };

		for (unsigned int k = 0; k < 5; k++)
			pool_sample(f, "labyrinth_pool_buffers", s->pool[i].name, "state",
				    states[k], v[k]);
	}
	family(f, "labyrinth_pool_watermark_buffers", "gauge",
	       "Watermarks: below min only atomic callers allocate (down to atomic), below low "
	       "the warden is kicked, it refills to high.");
	for (unsigned int i = 0; i < s->npools; i++) {
		const struct lab_pool_stats *st = &s->pool[i].st;
		const uint64_t v[] = { st->wm_min, st->wm_low, st->wm_high, st->wm_atomic };

		for (unsigned int k = 0; k < 4; k++)
			pool_sample(f, "labyrinth_pool_watermark_buffers", s->pool[i].name, "level",
				    wms[k], v[k]);
	}
	for (size_t m = 0; m < sizeof(pool_metrics) / sizeof(pool_metrics[0]); m++) {
		family(f, pool_metrics[m].name, pool_metrics[m].type, pool_metrics[m].help);
		for (unsigned int i = 0; i < s->npools; i++)
			pool_sample(f, pool_metrics[m].name, s->pool[i].name, NULL, NULL,
				    pool_value(&s->pool[i].st, &pool_metrics[m]));
	}
	family(f, "labyrinth_pool_quality_level", "gauge",
	       "1 for the pool's current quality level, 0 for the others.");
	for (unsigned int i = 0; i < s->npools; i++)
		for (int q = LAB_QUALITY_OFF; q <= LAB_QUALITY_FULL; q++)
			pool_sample(f, "labyrinth_pool_quality_level", s->pool[i].name, "level",
				    lab_quality_name(q), s->pool[i].st.quality == (enum lab_quality)q);
	family(f, "labyrinth_pool_findings_total", "counter", "Quality findings by kind.");
	for (unsigned int i = 0; i < s->npools; i++)
		for (unsigned int k = 0; k < LAB_FIND_KINDS; k++)
			pool_sample(f, "labyrinth_pool_findings_total", s->pool[i].name, "kind",
				    lab_finding_kind_name(k), s->pool[i].st.findings[k]);
}

static const struct port_metric {
	const char *name, *help;
	bool rx;
	size_t off;
} port_metrics[] = {
#define Q(n, rx, f, h) { "labyrinth_port_" n, h, rx, offsetof(struct lab_port_qstats, f) }
	Q("rx_packets_total", true, packets, "Packets received."),
	Q("rx_bytes_total", true, bytes, "Bytes received (frame length, no FCS)."),
	Q("rx_nobuf_total", true, rx_nobuf, "RX descriptors a refill left empty (pool short)."),
	Q("rx_oversize_total", true, oversize, "Frames larger than a buffer's data room, "
					       "dropped."),
	Q("rx_truncated_total", true, truncated, "Frames captured short or empty, dropped."),
	Q("rx_ring_full_total", true, ring_full, "Frames the kernel dropped: the RX ring was full "
						 "(af_packet, af_xdp)."),
	Q("rx_errors_total", true, errors, "Other RX errors."),
	Q("tx_packets_total", false, packets, "Packets sent."),
	Q("tx_bytes_total", false, bytes, "Bytes sent."),
	Q("tx_ring_full_total", false, ring_full, "Packets the TX ring had no room for."),
	Q("tx_errors_total", false, errors, "Other TX errors."),
#undef Q
};

/* A port's labels: its id (two ports may have the same device string, as
 * two ring ports of one name or two pcap ports replaying one file), then the
 * device string. */
static void port_labels(FILE *f, const char *metric, const struct port_snap *ps)
{
	fprintf(f, "%s{port=\"%u\",device=", metric, ps->id);
	label_value(f, ps->name);
}

static void port_families(FILE *f, const struct snaps *s)
{
	family(f, "labyrinth_port_link_up", "gauge", "1 if the port's link is up.");
	for (unsigned int i = 0; i < s->nports; i++) {
		port_labels(f, "labyrinth_port_link_up", &s->port[i]);
		fprintf(f, ",driver=\"%s\"} %d\n", s->port[i].driver, s->port[i].up);
	}
	for (size_t m = 0; m < sizeof(port_metrics) / sizeof(port_metrics[0]); m++) {
		const struct port_metric *pm = &port_metrics[m];

		family(f, pm->name, "counter", pm->help);
		for (unsigned int i = 0; i < s->nports; i++) {
			const struct lab_port_stats *st = &s->port[i].st;
			unsigned int nq = pm->rx ? st->nb_rxq : st->nb_txq;

			for (unsigned int q = 0; q < nq; q++) {
				const struct lab_port_qstats *qs = pm->rx ? &st->rx[q] : &st->tx[q];
				uint64_t v;

				memcpy(&v, (const char *)qs + pm->off, sizeof(v));
				port_labels(f, pm->name, &s->port[i]);
				fprintf(f, ",queue=\"%u\"} %llu\n", q, (unsigned long long)v);
			}
		}
	}
}

static void warden_families(FILE *f)
{
	struct lab_warden_stats w;

	lab_warden_stats(&w);
	family(f, "labyrinth_warden_running", "gauge", "1 while the warden thread runs.");
	fprintf(f, "labyrinth_warden_running %d\n", w.running);
	family(f, "labyrinth_warden_ticks_total", "counter", "Warden rounds over every pool.");
	fprintf(f, "labyrinth_warden_ticks_total %llu\n", (unsigned long long)w.ticks);
	family(f, "labyrinth_warden_last_tick_age_seconds", "gauge",
	       "Seconds since the warden's last round ended (far above its period: stuck).");
	fprintf(f, "labyrinth_warden_last_tick_age_seconds %.6f\n",
		(double)w.last_tick_age_us / 1e6);
}

void lab_ctl_metrics(FILE *f)
{
	struct snaps *s = calloc(1, sizeof(*s));

	if (s == NULL)
		return;
	lab_pool_foreach(snap_pool, s);
	lab_port_foreach(snap_port, s);
	pool_families(f, s);
	port_families(f, s);
	warden_families(f);
	free(s);
}
