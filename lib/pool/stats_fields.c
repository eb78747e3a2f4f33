/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The one table of pool statistics (lab_pool_stats_fields.h). Each row is
 * read from a snapshot by its offset: derived figures (reserve, cache_hits,
 * sample_effective_rate, findings_total, in_flight_signed) are computed once,
 * by lab_pool_stats(), and every writer prints that same value.
 */
#include <string.h>

#include <labyrinth/lab_pool_stats_fields.h>

#define OFF(f) offsetof(struct lab_pool_stats, f)
#define ROW(n, f, ty, k, g, u, w, h) \
	{ .name = n, .help = h, .unit = u, .type = LAB_STAT_##ty, .kind = LAB_STAT_##k, \
	  .group = LAB_STAT_G_##g, .writers = w, .off = OFF(f) }

/* Writers' sets, named once. */
#define JSON LAB_STAT_JSON
#define CTL LAB_STAT_CTL
#define FWD LAB_STAT_FWD
#define LIVE LAB_STAT_LIVE
#define CSV LAB_STAT_CSV
#define PROM LAB_STAT_PROM
#define STATE LAB_STAT_PROM_STATE
#define WM LAB_STAT_PROM_WM
#define TEL LAB_STAT_TEL

static const struct lab_pool_stat_field fields[] = {
	/* The CSV columns come in their documented order (docs/labfwd.md): the
	 * rows between them are not CSV columns. */
	ROW("total", total, U64, GAUGE, POOL, "buffers", JSON | CTL | FWD | CSV | PROM | TEL,
	    "Buffers in mapped chambers."),
	ROW("free", free, U64, GAUGE, POOL, "buffers",
	    JSON | CTL | FWD | LIVE | LAB_STAT_LIVE_TEXT | CSV | STATE | TEL,
	    "Buffers in the shared ring (and its overflow list)."),
	ROW("cached", cached, U64, GAUGE, POOL, "buffers",
	    JSON | CTL | FWD | LIVE | LAB_STAT_LIVE_TEXT | CSV | STATE,
	    "Buffers in owner caches."),
	ROW("in_flight", in_flight, U64, GAUGE, POOL, "buffers",
	    JSON | CTL | FWD | LIVE | LAB_STAT_LIVE_TEXT | CSV | STATE | TEL,
	    "Buffers held by owners (0 when the count is negative: see in_flight_signed)."),
	ROW("quarantined", quarantined, U64, GAUGE, POOL, "buffers",
	    JSON | CTL | FWD | LIVE | CSV | STATE | TEL,
	    "Buffers waiting for the warden's checks."),
	/* The pool's JSON shows the reserve in its "reserve" section (size, in_use, uses). */
	ROW("reserve_in_use", reserve_in_use, U64, GAUGE, POOL, "buffers", CTL | CSV | PROM,
	    "Reserve buffers in use now (free below min)."),
	ROW("wm_min", wm_min, U32, GAUGE, POOL, "buffers", JSON | CTL | CSV | WM | TEL,
	    "Below it only atomic callers allocate."),
	ROW("wm_low", wm_low, U32, GAUGE, POOL, "buffers", JSON | CTL | CSV | WM | TEL,
	    "Below it the warden is kicked."),
	ROW("wm_high", wm_high, U32, GAUGE, POOL, "buffers", JSON | CTL | CSV | WM | TEL,
	    "The warden refills up to it."),
	ROW("wm_atomic", wm_atomic, U32, GAUGE, POOL, "buffers", JSON | CSV | WM,
	    "Atomic callers allocate down to it."),
	/* Owner sums in the order of an owner's JSON object (sum, owners). */
	ROW("allocs", sum.allocs, U64, COUNTER, SUM, NULL, JSON | CTL | FWD | PROM | TEL,
	    "Buffers handed out."),
	ROW("frees", sum.frees, U64, COUNTER, SUM, NULL, JSON | CTL | FWD | PROM | TEL,
	    "Buffers given back."),
	ROW("cache_hits", sum.cache_hits, U64, COUNTER, SUM, NULL, JSON,
	    "Allocations served from an owner cache."),
	ROW("ring_refills", sum.ring_refills, U64, COUNTER, SUM, NULL, JSON | PROM,
	    "Owner-cache refills from the shared ring."),
	ROW("ring_flushes", sum.ring_flushes, U64, COUNTER, SUM, NULL, JSON | PROM,
	    "Owner-cache spills to the shared ring."),
	ROW("reserve_uses", sum.reserve_uses, U64, COUNTER, SUM, NULL,
	    JSON | CTL | FWD | LIVE | CSV | PROM | TEL,
	    "Buffers atomic callers took below the min watermark."),
	ROW("kicks", kicks, U64, COUNTER, POOL, NULL, JSON | CTL | FWD | LIVE | CSV | PROM | TEL,
	    "Kicks (free below low) the warden answered."),
	ROW("grows", grows, U64, COUNTER, POOL, NULL, JSON | CTL | FWD | LIVE | CSV | PROM,
	    "Chambers the warden added."),
	ROW("shrinks", shrinks, U64, COUNTER, POOL, NULL, JSON | CTL | FWD | LIVE | CSV | PROM,
	    "Chambers the warden released."),
	ROW("misses", sum.misses, U64, COUNTER, SUM, NULL,
	    JSON | CTL | FWD | LIVE | CSV | PROM | TEL, "Buffers asked for and not given."),
	/* The rest. */
	ROW("retired", retired, U64, GAUGE, POOL, "buffers", JSON | FWD | STATE | TEL,
	    "Buffers taken out of use by the retire policy."),
	ROW("in_flight_signed", in_flight_signed, I64, GAUGE, POOL, "buffers", JSON,
	    "total - free - cached - quarantined - retired, not clamped: below 0 when "
	    "buffers are counted twice."),
	ROW("chambers", chambers, U64, GAUGE, POOL, "chambers", JSON | PROM,
	    "Mapped chambers (hugepages)."),
	ROW("per_chamber", per_chamber, U32, GAUGE, POOL, "buffers", JSON,
	    "Buffers per chamber."),
	ROW("grow_failures", grow_failures, U64, COUNTER, POOL, NULL, JSON | PROM,
	    "Grows that failed (no memory, limit)."),
	/* Not in the pool's JSON: its "owners" is the list of owner caches. */
	ROW("owners", owners, U32, GAUGE, POOL, NULL, PROM, "Owner caches."),
	ROW("reserve", reserve, U32, GAUGE, POOL, "buffers", CTL | TEL,
	    "Reserve size: wm_min - wm_atomic."),
	ROW("findings_total", findings_total, U64, COUNTER, POOL, NULL, JSON | CTL | LIVE,
	    "Quality findings of every kind (by kind: findings)."),
	ROW("findings_dropped", findings_dropped, U64, COUNTER, POOL, NULL, JSON | PROM,
	    "Finding records lost to a full queue (still counted in findings)."),
	ROW("sample_rate", sample_rate, U32, GAUGE, SAMPLING, NULL,
	    JSON | CTL | FWD | PROM | TEL, "Under sampled quality, one free in this many is "
	    "checked."),
	ROW("sample_budget", sample_budget, U32, GAUGE, SAMPLING, NULL, JSON | PROM,
	    "Deep samples per ms at most."),
	ROW("sample_effective_rate", sample_effective_rate, DOUBLE, GAUGE, SAMPLING, NULL,
	    JSON | CTL | FWD | TEL,
	    "Frees per deep check over the pool's life (0: none checked yet)."),
	ROW("deep_checked", deep_checked, U64, COUNTER, SAMPLING, NULL,
	    JSON | CTL | FWD | PROM | TEL,
	    "Frees deep-checked (poison, redzone, header); frees / this is the effective "
	    "sampling rate."),
	ROW("sample_backoffs", sample_backoffs, U64, COUNTER, SAMPLING, NULL,
	    JSON | CTL | FWD | PROM | TEL,
	    "Frees due for a deep sample that the sampler skipped (staging or quarantine "
	    "full, budget spent)."),
	ROW("unchecked", quarantine_skipped, U64, COUNTER, SAMPLING, NULL,
	    JSON | CTL | FWD | PROM | TEL,
	    "Frees picked for a deep check that were not deep-checked (0 by design)."),
	ROW("staged", staged, U64, GAUGE, SAMPLING, "buffers", JSON,
	    "Sampled frees waiting for the warden to poison them (part of quarantined)."),
	ROW("checked_at_once", checked_at_once, U64, COUNTER, SAMPLING, NULL, JSON | PROM,
	    "Frees under full checked at the free, without a hold (quarantine with no room)."),
};

const struct lab_pool_stat_field *lab_pool_stat_fields(size_t *n)
{
	*n = sizeof(fields) / sizeof(fields[0]);
	return fields;
}

double lab_pool_stat_double(const struct lab_pool_stats *st,
			    const struct lab_pool_stat_field *fd)
{
	const char *p = (const char *)st + fd->off;
	uint64_t u64;
	uint32_t u32;
	int64_t i64;
	double d;

	switch (fd->type) {
	case LAB_STAT_U32:
		memcpy(&u32, p, sizeof(u32));
		return u32;
	case LAB_STAT_I64:
		memcpy(&i64, p, sizeof(i64));
		return (double)i64;
	case LAB_STAT_DOUBLE:
		memcpy(&d, p, sizeof(d));
		return d;
	case LAB_STAT_U64:
	default:
		memcpy(&u64, p, sizeof(u64));
		return (double)u64;
	}
}

uint64_t lab_pool_stat_u64(const struct lab_pool_stats *st, const struct lab_pool_stat_field *fd)
{
	const char *p = (const char *)st + fd->off;
	uint64_t u64;
	double d;

	switch (fd->type) {
	case LAB_STAT_U64:
		memcpy(&u64, p, sizeof(u64));
		return u64;
	case LAB_STAT_DOUBLE:
		d = lab_pool_stat_double(st, fd);
		return d > 0 ? (uint64_t)(d + 0.5) : 0;
	default:
		d = lab_pool_stat_double(st, fd);
		return d > 0 ? (uint64_t)d : 0;
	}
}

void lab_pool_stat_write(FILE *f, const struct lab_pool_stats *st,
			 const struct lab_pool_stat_field *fd)
{
	int64_t i64;

	switch (fd->type) {
	case LAB_STAT_DOUBLE:
		fprintf(f, "%.1f", lab_pool_stat_double(st, fd));
		break;
	case LAB_STAT_I64:
		memcpy(&i64, (const char *)st + fd->off, sizeof(i64));
		fprintf(f, "%lld", (long long)i64);
		break;
	default:
		fprintf(f, "%llu", (unsigned long long)lab_pool_stat_u64(st, fd));
		break;
	}
}

static int ends_with(const char *s, const char *tail)
{
	size_t ls = strlen(s), lt = strlen(tail);

	return ls >= lt && strcmp(s + ls - lt, tail) == 0;
}

int lab_pool_stat_prom_name(const struct lab_pool_stat_field *fd, char *buf, size_t len)
{
	const char *unit = fd->unit != NULL && !ends_with(fd->name, fd->unit) ? fd->unit : NULL;

	return snprintf(buf, len, "labyrinth_pool_%s%s%s%s", fd->name, unit ? "_" : "",
			unit ? unit : "", fd->kind == LAB_STAT_COUNTER ? "_total" : "");
}

const char *lab_pool_accounting_name(const struct lab_pool_stats *st)
{
	return st->in_flight_signed == 0 ? "ok" : st->in_flight_signed > 0 ? "LOST"
									    : "COUNTED_TWICE";
}
