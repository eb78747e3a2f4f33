/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * What labfwd prints: a live line per interval (text or JSON) and the summary
 * at exit (per port and queue, the pool, the accounting check). Control
 * thread only: every figure comes from lab_port_stats() and lab_pool_stats().
 */
#include <string.h>
#include <unistd.h>

#include <labyrinth/lab_pool_stats_fields.h>

#include "labfwd.h"

/* Drops, but not ring_full: a TX ring's refusals are not losses when labfwd
 * offers them again (--tx-retry); what it freed unsent is fwd_dropped(). */
static uint64_t drops_of(const struct lab_port_qstats *q)
{
	return q->rx_nobuf + q->oversize + q->truncated + q->errors;
}

/* Packets received on port @p i that labfwd freed because TX refused them. */
static uint64_t fwd_dropped(const struct fwd_ctx *c, unsigned int i)
{
	uint64_t n = 0;

	for (unsigned int w = 0; w < c->o->nworkers; w++)
		n += atomic_load_explicit(&c->w[w].dropped[i], memory_order_relaxed);
	return n;
}

unsigned int fwd_held(struct fwd_ctx *c)
{
	unsigned int n = 0;

	for (unsigned int w = 0; w < c->o->nworkers; w++)
		n += atomic_load_explicit(&c->w[w].held, memory_order_relaxed);
	return n;
}

void fwd_snap_take(struct fwd_ctx *c, double t, struct fwd_snap *s)
{
	memset(s, 0, sizeof(*s));
	s->t = t;
	for (unsigned int i = 0; i < c->nports; i++) {
		struct lab_port_stats st;

		lab_port_stats(c->port[i].p, &st);
		s->rx += st.rx_total.packets;
		if (c->port[i].counted)
			s->src_rx += st.rx_total.packets;
		s->tx += st.tx_total.packets;
		s->nobuf += st.rx_total.rx_nobuf;
		s->drops += drops_of(&st.rx_total) + drops_of(&st.tx_total) + fwd_dropped(c, i);
	}
	lab_pool_stats(c->pool, &s->pool);
}

uint64_t fwd_rx_total(struct fwd_ctx *c)
{
	uint64_t rx = 0;

	for (unsigned int i = 0; i < c->nports; i++)
		for (uint16_t q = 0; q < c->port[i].p->nb_rxq; q++)
			rx += __atomic_load_n(&c->port[i].p->rxq[q].st.packets, __ATOMIC_RELAXED);
	return rx;
}

/*
 * The pool's figures of the stats table that @p writer prints (of @p group
 * only, unless it is -1): JSON members ("name":value, comma-separated) if
 * @p json, else " name value" for a person.
 */
static void pool_figures(FILE *f, const struct lab_pool_stats *ps, unsigned int writer,
			 int group, bool json)
{
	size_t n;
	const struct lab_pool_stat_field *t = lab_pool_stat_fields(&n);
	bool first = true;

	for (size_t i = 0; i < n; i++) {
		if (!(t[i].writers & writer) || (group >= 0 && t[i].group != (unsigned int)group))
			continue;
		if (json)
			fprintf(f, "%s\"%s\":", first ? "" : ",", t[i].name);
		else
			fprintf(f, " %s ", t[i].name);
		lab_pool_stat_write(f, ps, &t[i]);
		first = false;
	}
}

void fwd_live_line(struct fwd_ctx *c, const struct fwd_snap *a, const struct fwd_snap *b)
{
	double dt = b->t - a->t > 0 ? b->t - a->t : 1e-9;
	double rx = (double)(b->rx - a->rx) / dt, tx = (double)(b->tx - a->tx) / dt;
	char prog[64] = "";

	/* Progress counts each frame once, where its replay received it (not
	 * again on every ring port it crosses). */
	if (c->total_expected)
		snprintf(prog, sizeof(prog), "  %5.1f%% (%llu/%llu)",
			 100.0 * (double)b->src_rx / (double)c->total_expected,
			 (unsigned long long)b->src_rx, (unsigned long long)c->total_expected);
	if (c->o->json) {
		printf("{\"t\":%.3f,\"rx_pps\":%.0f,\"tx_pps\":%.0f,\"rx\":%llu,\"tx\":%llu,"
		       "\"drops\":%llu,\"pool\":{", b->t, rx, tx, (unsigned long long)b->rx,
		       (unsigned long long)b->tx, (unsigned long long)b->drops);
		pool_figures(stdout, &b->pool, LAB_STAT_LIVE, -1, true);
		printf("}");
		if (c->total_expected)
			printf(",\"progress\":%.4f", (double)b->src_rx / (double)c->total_expected);
		printf("}\n");
	} else {
		printf("%7.1f s  rx %8.3f Mpps  tx %8.3f Mpps  drops %llu  pool", b->t, rx / 1e6,
		       tx / 1e6, (unsigned long long)b->drops);
		pool_figures(stdout, &b->pool, LAB_STAT_LIVE_TEXT, -1, false);
		printf("%s\n", prog);
	}
	fflush(stdout);
}

static void qline(FILE *f, const char *dir, unsigned int q, const struct lab_port_qstats *s,
		  double secs)
{
	fprintf(f, "    %s%-2u %12llu pkts %14llu bytes %9.3f Mpps  nobuf %llu oversize %llu "
		"truncated %llu ring_full %llu errors %llu\n", dir, q,
		(unsigned long long)s->packets, (unsigned long long)s->bytes,
		secs > 0 ? (double)s->packets / secs / 1e6 : 0.0, (unsigned long long)s->rx_nobuf,
		(unsigned long long)s->oversize, (unsigned long long)s->truncated,
		(unsigned long long)s->ring_full, (unsigned long long)s->errors);
}

static void qjson(FILE *f, const struct lab_port_qstats *s, double secs)
{
	fprintf(f, "{\"packets\":%llu,\"bytes\":%llu,\"mpps\":%.3f,\"rx_nobuf\":%llu,"
		"\"oversize\":%llu,\"truncated\":%llu,\"ring_full\":%llu,\"errors\":%llu}",
		(unsigned long long)s->packets, (unsigned long long)s->bytes,
		secs > 0 ? (double)s->packets / secs / 1e6 : 0.0, (unsigned long long)s->rx_nobuf,
		(unsigned long long)s->oversize, (unsigned long long)s->truncated,
		(unsigned long long)s->ring_full, (unsigned long long)s->errors);
}

static void accounting_line(FILE *f, const struct lab_pool_stats *ps)
{
	if (ps->in_flight_signed == 0)
		fprintf(f, "  accounting: OK: every buffer is back in the pool\n");
	else if (ps->in_flight_signed > 0)
		fprintf(f, "  accounting: FAILED: %lld buffer(s) still in flight after every "
			"port closed: LOST\n", (long long)ps->in_flight_signed);
	else
		fprintf(f, "  accounting: FAILED: %lld buffer(s) counted twice (free, cached and "
			"quarantined exceed the %llu the pool holds): a double free no check "
			"caught, or a pool bug\n", (long long)-ps->in_flight_signed,
			(unsigned long long)ps->total);
}

/* Per port, the pool. Call with every port closed: the accounting check
 * needs every buffer back. @return 0, or -1 if buffers are still in flight
 * or counted twice. */
/* Port @p i's figures as a JSON object, after a comma unless it is the first. */
static void port_json(FILE *f, const struct fwd_ctx *c, unsigned int i, double secs)
{
	const struct lab_port_stats *st = c->port[i].final;

	fprintf(f, "%s{\"port\":%u,\"dev\":\"%s\",\"dst\":%d,\"rx\":", i ? "," : "", i,
		c->port[i].dev, c->port[i].dst);
	qjson(f, &st->rx_total, secs);
	fprintf(f, ",\"tx\":");
	qjson(f, &st->tx_total, secs);
	fprintf(f, ",\"rxq\":[");
	for (unsigned int q = 0; q < st->nb_rxq; q++) {
		fprintf(f, "%s", q ? "," : "");
		qjson(f, &st->rx[q], secs);
	}
	fprintf(f, "],\"txq\":[");
	for (unsigned int q = 0; q < st->nb_txq; q++) {
		fprintf(f, "%s", q ? "," : "");
		qjson(f, &st->tx[q], secs);
	}
	fprintf(f, "],\"tx_retry\":%s,\"dropped\":%llu}", c->port[i].keep ? "true" : "false",
		(unsigned long long)fwd_dropped(c, i));
}

/* The summary as one JSON object. */
static void summary_json(const struct fwd_ctx *c, FILE *f, const struct lab_pool_stats *ps,
			 double secs, uint64_t refused)
{
	fprintf(f, "{\"summary\":{\"seconds\":%.3f,\"ports\":[", secs);
	for (unsigned int i = 0; i < c->nports; i++)
		port_json(f, c, i, secs);
	fprintf(f, "],\"pool\":{\"name\":\"%s\",", lab_pool_name(c->pool));
	pool_figures(f, ps, LAB_STAT_FWD, LAB_STAT_G_POOL, true);
	fputc(',', f);
	pool_figures(f, ps, LAB_STAT_FWD, LAB_STAT_G_SUM, true);
	fprintf(f, ",\"quality\":\"%s\",\"findings\":{", lab_quality_name(ps->quality));
	for (int k = 0; k < LAB_FIND_KINDS; k++)
		fprintf(f, "%s\"%s\":%llu", k ? "," : "", lab_finding_kind_name(k),
			(unsigned long long)ps->findings[k]);
	fprintf(f, "},\"sampling\":{");
	pool_figures(f, ps, LAB_STAT_FWD, LAB_STAT_G_SAMPLING, true);
	fputc('}', f);
	fprintf(f, "},\"transfer_refused\":%llu,\"accounting\":\"%s\"}}\n",
		(unsigned long long)refused, lab_pool_accounting_name(ps));
}

/* The summary for a person. */
static void summary_text(const struct fwd_ctx *c, FILE *f, const struct lab_pool_stats *ps,
			 double secs, uint64_t refused)
{
	fprintf(f, "\nlabfwd summary: %.3f s, %u port(s), %u worker(s), burst %u\n", secs,
		c->nports, c->o->nworkers, c->o->burst);
	for (unsigned int i = 0; i < c->nports; i++) {
		const struct lab_port_stats *st = c->port[i].final;

		fprintf(f, "  port %u %s -> port %d\n", i, c->port[i].dev, c->port[i].dst);
		for (unsigned int q = 0; q < st->nb_rxq; q++)
			qline(f, "rx", q, &st->rx[q], secs);
		for (unsigned int q = 0; q < st->nb_txq; q++)
			qline(f, "tx", q, &st->tx[q], secs);
		/* Its traffic's fate at port dst's TX, where ring_full counts
		 * refusals (each retry again): what labfwd gave up on. */
		if (c->port[i].keep || fwd_dropped(c, i) != 0)
			fprintf(f, "    dropped %llu (refused by port %d's TX and freed)%s\n",
				(unsigned long long)fwd_dropped(c, i), c->port[i].dst,
				c->port[i].keep ? "; refusals offered again (--tx-retry)" : "");
	}
	/* One line per group of the stats table: the pool, its owners' sums, the sampler. */
	fprintf(f, "  pool '%s' (quality %s):", lab_pool_name(c->pool), lab_quality_name(ps->quality));
	pool_figures(f, ps, LAB_STAT_FWD, LAB_STAT_G_POOL, false);
	fprintf(f, "\n    owners:");
	pool_figures(f, ps, LAB_STAT_FWD, LAB_STAT_G_SUM, false);
	fprintf(f, "\n    sampling:");
	pool_figures(f, ps, LAB_STAT_FWD, LAB_STAT_G_SAMPLING, false);
	fprintf(f, "\n");
	fprintf(f, "    quality findings:");
	for (int k = 0; k < LAB_FIND_KINDS; k++)
		fprintf(f, " %s %llu", lab_finding_kind_name(k),
			(unsigned long long)ps->findings[k]);
	fprintf(f, "\n");
	if (refused)
		fprintf(f, "    transfers refused (buffers a queue did not hold): %llu\n",
			(unsigned long long)refused);
	accounting_line(f, ps);
}

int fwd_summary(struct fwd_ctx *c, FILE *f)
{
	struct lab_pool_stats ps;
	double secs = c->elapsed;
	uint64_t refused = 0;

	for (unsigned int i = 0; i < c->o->nworkers; i++)
		refused += c->w[i].refused;
	lab_pool_quality_check(c->pool);
	lab_pool_stats(c->pool, &ps);
	if (c->o->json)
		summary_json(c, f, &ps, secs, refused);
	else
		summary_text(c, f, &ps, secs, refused);
	fflush(f);
	/* Either direction fails: in_flight alone is clamped at 0, so buffers
	 * counted twice (an unchecked double free, a pool bug) would pass as OK. */
	return ps.in_flight_signed == 0 ? 0 : -1;
}
