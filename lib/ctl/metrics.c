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
#include <labyrinth/lab_pool_stats_fields.h>
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

void lab_metrics_label_value(FILE *f, const char *v)
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

static void pool_sample(FILE *f, const char *metric, const char *pool, const char *lname,
			const char *lval, uint64_t v)
{
	fprintf(f, "%s{pool=", metric);
	lab_metrics_label_value(f, pool);
	if (lname != NULL)
		fprintf(f, ",%s=\"%s\"", lname, lval);
	fprintf(f, "} %llu\n", (unsigned long long)v);
}

/* A labelled family of the table's rows flagged @p flag: label value = the
 * row's name without @p strip. */
static void pool_labelled(FILE *f, const struct snaps *s, const char *metric, const char *help,
			  unsigned int flag, const char *label, const char *strip)
{
	size_t n, ls = strlen(strip);
	const struct lab_pool_stat_field *t = lab_pool_stat_fields(&n);

	family(f, metric, "gauge", help);
	for (unsigned int i = 0; i < s->npools; i++)
		for (size_t r = 0; r < n; r++)
			if (t[r].writers & flag)
				pool_sample(f, metric, s->pool[i].name, label,
					    strncmp(t[r].name, strip, ls) == 0 ? t[r].name + ls
									       : t[r].name,
					    lab_pool_stat_u64(&s->pool[i].st, &t[r]));
}

static void pool_families(FILE *f, const struct snaps *s)
{
	size_t n;
	const struct lab_pool_stat_field *t = lab_pool_stat_fields(&n);
	char name[128];

	pool_labelled(f, s, "labyrinth_pool_buffers", "Buffers by where they are.",
		      LAB_STAT_PROM_STATE, "state", "");
	pool_labelled(f, s, "labyrinth_pool_watermark_buffers",
		      "Watermarks: below min only atomic callers allocate (down to atomic), below "
		      "low the warden is kicked, it refills to high.", LAB_STAT_PROM_WM, "level",
		      "wm_");
	for (size_t r = 0; r < n; r++) {
		if (!(t[r].writers & LAB_STAT_PROM))
			continue;
		lab_pool_stat_prom_name(&t[r], name, sizeof(name));
		family(f, name, t[r].kind == LAB_STAT_COUNTER ? "counter" : "gauge", t[r].help);
		for (unsigned int i = 0; i < s->npools; i++)
			pool_sample(f, name, s->pool[i].name, NULL, NULL,
				    lab_pool_stat_u64(&s->pool[i].st, &t[r]));
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
	lab_metrics_label_value(f, ps->name);
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
