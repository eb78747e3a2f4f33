/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Looking at a running labfwd: the control socket (labctl talks to it), the
 * --stats-csv time series, and --storm, which induces an exhaustion storm so
 * that the pool's watermarks, the warden and the reserve can be watched at
 * work. Control thread only.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <labyrinth/lab_ctl.h>
#include <labyrinth/lab_pool_stats_fields.h>

#include "labfwd.h"

/* --metrics: Prometheus over HTTP, served by its own thread from the same
 * snapshots as the control socket's page (lib/ctl/http.c). */
static int metrics_open(struct fwd_ctx *c)
{
	struct lab_metrics_http_opts mo;

	if (c->o->metrics == NULL)
		return 0;
	lab_metrics_http_opts_init(&mo);
	mo.listen = c->o->metrics;
	mo.allow_remote = c->o->metrics_remote;
	c->http = lab_metrics_http_open(&mo);
	if (c->http == NULL) {
		fprintf(stderr, "labfwd: --metrics %s: %s\n", c->o->metrics, strerror(lab_errno));
		return -1;
	}
	/* A scraper or a test waits for this line: the port is listening (with
	 * port 0, it is the only place that says which). Never into the JSON. */
	fprintf(c->o->json ? stderr : stdout, "labfwd: metrics http://%s/metrics\n",
		lab_metrics_http_addr(c->http));
	fflush(c->o->json ? stderr : stdout);
	return 0;
}

int fwd_ctl_open(struct fwd_ctx *c)
{
	struct lab_ctl_opts co;

	if (metrics_open(c) < 0)
		return -1;

	if (c->o->ctl != NULL && strcmp(c->o->ctl, "off") == 0)
		return 0;
	lab_ctl_opts_init(&co);
	co.name = "labfwd";
	co.path = c->o->ctl;
	c->ctl = lab_ctl_open(&co);
	if (c->ctl == NULL) {
		/* The default socket is a convenience: say so and forward anyway. */
		fprintf(stderr, "labfwd: %s control socket: %s%s\n",
			c->o->ctl != NULL ? "cannot open the" : "notice: no",
			strerror(lab_errno), c->o->ctl != NULL ? "" : " (labctl cannot reach this "
			"process; --ctl PATH to choose another place, --ctl off to silence this)");
		return c->o->ctl != NULL ? -1 : 0;
	}
	if (!c->o->json) {
		printf("labfwd: control socket %s (labctl -s %s pools)\n", lab_ctl_path(c->ctl),
		       lab_ctl_path(c->ctl));
		/* At once, also into a file: a script waits for this line to know
		 * the ports are open (scripts/netns-demo.sh). */
		fflush(stdout);
	}
	return 0;
}

/* The columns of --stats-csv (docs/labfwd.md): the time, the stats table's
 * CSV rows in its order (gauges at the row's time, counters as the change
 * over the row's interval), then the ports' figures over it. */
static void csv_header(FILE *f)
{
	size_t n;
	const struct lab_pool_stat_field *t = lab_pool_stat_fields(&n);

	fputs("t_s", f);
	for (size_t i = 0; i < n; i++)
		if (t[i].writers & LAB_STAT_CSV)
			fprintf(f, ",%s", t[i].name);
	fputs(",rx_nobuf,rx_mpps,tx_mpps\n", f);
}

int fwd_csv_open(struct fwd_ctx *c)
{
	if (c->o->csv == NULL)
		return 0;
	c->csv = fopen(c->o->csv, "w");
	if (c->csv == NULL) {
		fprintf(stderr, "labfwd: --stats-csv '%s': %s\n", c->o->csv, strerror(errno));
		return -1;
	}
	csv_header(c->csv);
	fwd_snap_take(c, 0, &c->csv_prev);
	c->csv_next = c->o->csv_interval;
	return 0;
}

static void csv_row(struct fwd_ctx *c, double t)
{
	const struct fwd_snap *a = &c->csv_prev;
	const struct lab_pool_stats *p, *q = &a->pool;
	struct fwd_snap s;
	double dt;
	size_t n;
	const struct lab_pool_stat_field *tab = lab_pool_stat_fields(&n);

	fwd_snap_take(c, t, &s);
	p = &s.pool;
	dt = s.t - a->t > 0 ? s.t - a->t : 1e-9;
	fprintf(c->csv, "%.3f", s.t);
	for (size_t i = 0; i < n; i++) {
		if (!(tab[i].writers & LAB_STAT_CSV))
			continue;
		fputc(',', c->csv);
		if (tab[i].kind == LAB_STAT_COUNTER)
			fprintf(c->csv, "%llu", (unsigned long long)(lab_pool_stat_u64(p, &tab[i]) -
								     lab_pool_stat_u64(q, &tab[i])));
		else
			lab_pool_stat_write(c->csv, p, &tab[i]);
	}
	fprintf(c->csv, ",%llu,%.6f,%.6f\n", (unsigned long long)(s.nobuf - a->nobuf),
		(double)(s.rx - a->rx) / dt / 1e6, (double)(s.tx - a->tx) / dt / 1e6);
	c->csv_prev = s;
}

/* While the storm blows, take every buffer the pool gives an ordinary caller
 * (it stops at min; the warden grows toward max meanwhile) and hold it, so RX
 * refills live on the reserve. It asks only for what lies above min, so its
 * own requests are not counted as misses. */
static void storm_tick(struct fwd_ctx *c, double t)
{
	struct fwd_storm *s = &c->storm;
	struct lab_pool_stats st;

	if (s->done || c->o->storm_secs <= 0 || t < c->o->storm_at)
		return;
	if (t >= c->o->storm_at + c->o->storm_secs) {
		fwd_storm_end(c);
		return;
	}
	if (s->cache == NULL) {
		s->cap = (uint32_t)(c->o->cfg.pool_max > c->o->cfg.pool_size ? c->o->cfg.pool_max
									   : c->o->cfg.pool_size);
		s->held = calloc(s->cap, sizeof(*s->held));
		s->cache = s->held != NULL ? lab_cache_create(c->pool, "storm", 256) : NULL;
		if (s->cache == NULL) {
			fprintf(stderr, "labfwd: --storm: cannot make its owner: %s\n",
				strerror(s->held ? lab_errno : ENOMEM));
			free(s->held);
			s->held = NULL;
			s->done = true;
			return;
		}
	}
	lab_pool_stats(c->pool, &st);
	while (st.free > st.wm_min + LAB_BURST_MAX && s->n < s->cap) {
		uint32_t want = s->cap - s->n < LAB_BURST_MAX ? s->cap - s->n : LAB_BURST_MAX;
		unsigned int got = lab_alloc_bulk(c->pool, s->cache, s->held + s->n, want, 0);

		s->n += got;
		st.free -= got < st.free ? got : st.free;
		if (got == 0)
			break;
	}
	if (s->n > s->peak)
		s->peak = s->n;
}

void fwd_storm_end(struct fwd_ctx *c)
{
	struct fwd_storm *s = &c->storm;

	if (s->cache == NULL || s->done)
		return;
	for (uint32_t i = 0; i < s->n; i += LAB_BURST_MAX)
		lab_free_bulk(s->cache, s->held + i, s->n - i < LAB_BURST_MAX ? s->n - i
									 : LAB_BURST_MAX);
	lab_cache_destroy(s->cache);
	free(s->held);
	s->cache = NULL;
	s->held = NULL;
	s->done = true;
	if (!c->o->json)
		printf("labfwd: storm over: held up to %u buffers (everything above min)\n",
		       s->peak);
}

void fwd_observe_tick(struct fwd_ctx *c, double t)
{
	storm_tick(c, t);
	if (c->csv != NULL && t >= c->csv_next) {
		csv_row(c, t);
		c->csv_next += c->o->csv_interval;
		if (c->csv_next <= t) /* a stalled control thread: no burst of rows */
			c->csv_next = t + c->o->csv_interval;
	}
}

void fwd_observe_close(struct fwd_ctx *c)
{
	fwd_storm_end(c);
	if (c->csv != NULL && fclose(c->csv) != 0)
		fprintf(stderr, "labfwd: --stats-csv '%s': %s\n", c->o->csv, strerror(errno));
	c->csv = NULL;
	lab_ctl_close(c->ctl);
	c->ctl = NULL;
	lab_metrics_http_close(c->http);
	c->http = NULL;
}
