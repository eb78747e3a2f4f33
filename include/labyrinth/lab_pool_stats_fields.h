/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * The one table of pool statistics: a row per figure of struct lab_pool_stats
 * (and of its nested owner sums) with its name, type, kind, unit, help and
 * where it sits in the snapshot. Every writer of pool figures (the pool's
 * JSON, the control socket, labfwd's reports and CSV, the Prometheus page,
 * DPDK telemetry) walks this table, so a new counter takes one row here plus
 * the snapshot code that fills it.
 *
 * One spelling per figure: the JSON key and the telemetry key are @c name;
 * the Prometheus name is labyrinth_pool_<name>, then _<unit> if the name does
 * not already end in it, then _total for a counter. Findings by kind are not
 * rows: their names come from lab_finding_kind_name(), the quality level's
 * from lab_quality_name().
 */
#ifndef LAB_POOL_STATS_FIELDS_H
#define LAB_POOL_STATS_FIELDS_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <labyrinth/lab_pool.h>

#ifdef __cplusplus
extern "C" {
#endif

/** How a figure is stored in the snapshot. */
enum lab_stat_type {
	LAB_STAT_U64,
	LAB_STAT_U32,
	LAB_STAT_I64,    /**< signed (in_flight_signed) */
	LAB_STAT_DOUBLE, /**< a ratio (sample_effective_rate) */
};

/** Prometheus' kind: a counter only grows (CSV rows show its change), a gauge is a level. */
enum lab_stat_kind {
	LAB_STAT_GAUGE,
	LAB_STAT_COUNTER,
};

/** The object of the pool's JSON a figure sits in. */
enum lab_stat_group {
	LAB_STAT_G_POOL,     /**< the top level */
	LAB_STAT_G_SUM,      /**< "sum" (every owner's counters) and each of "owners" */
	LAB_STAT_G_SAMPLING, /**< "sampling": what the sampler did */
};

/* Which writers print a figure (a row's @c writers). */
#define LAB_STAT_JSON      (1u << 0) /**< lab_pool_stats_json() */
#define LAB_STAT_CTL       (1u << 1) /**< the control socket's "pools" reply */
#define LAB_STAT_FWD       (1u << 2) /**< labfwd's summary, JSON and text */
#define LAB_STAT_LIVE      (1u << 3) /**< labfwd's live JSON line */
#define LAB_STAT_LIVE_TEXT (1u << 4) /**< labfwd's live text line */
#define LAB_STAT_CSV       (1u << 5) /**< labfwd's --stats-csv columns, in table order */
#define LAB_STAT_PROM      (1u << 6) /**< a Prometheus family of its own */
#define LAB_STAT_PROM_STATE (1u << 7) /**< labyrinth_pool_buffers{state="<name>"} */
#define LAB_STAT_PROM_WM   (1u << 8) /**< labyrinth_pool_watermark_buffers{level=...}:
				       *   the name without "wm_" */
#define LAB_STAT_TEL       (1u << 9) /**< DPDK telemetry's /labyrinth/info */

/** One figure. */
struct lab_pool_stat_field {
	const char *name;  /**< JSON and telemetry key; the stem of the Prometheus name */
	const char *help;  /**< one sentence: Prometheus' HELP, the docs' table */
	const char *unit;  /**< "buffers", "chambers", or NULL (events, ratios) */
	enum lab_stat_type type;
	enum lab_stat_kind kind;
	enum lab_stat_group group;
	unsigned int writers; /**< LAB_STAT_* flags */
	size_t off;           /**< offset in struct lab_pool_stats */
};

/**
 * The table, in the order writers print it (the CSV columns are its
 * LAB_STAT_CSV rows in this order).
 *
 * @param n set to the number of rows
 */
const struct lab_pool_stat_field *lab_pool_stat_fields(size_t *n);

/** A figure as an integer (a double is rounded, a negative signed one gives 0). */
uint64_t lab_pool_stat_u64(const struct lab_pool_stats *st, const struct lab_pool_stat_field *fd);

/** A figure as a double (for ratios and deltas). */
double lab_pool_stat_double(const struct lab_pool_stats *st,
			    const struct lab_pool_stat_field *fd);

/** Write a figure as a JSON number (a ratio with one decimal, as the reports always did). */
void lab_pool_stat_write(FILE *f, const struct lab_pool_stats *st,
			 const struct lab_pool_stat_field *fd);

/**
 * A figure's Prometheus name: labyrinth_pool_<name>[_<unit>][_total].
 *
 * @return the length it needs (as snprintf), the name written into @p buf.
 */
int lab_pool_stat_prom_name(const struct lab_pool_stat_field *fd, char *buf, size_t len);

/**
 * The accounting check of a snapshot, as the apps' JSON spells it: "ok" when
 * every buffer is back exactly once (in_flight_signed is 0), "LOST" when some
 * are still in flight, "COUNTED_TWICE" when more are counted than the pool
 * holds (a double free no check caught, or a pool bug).
 */
const char *lab_pool_accounting_name(const struct lab_pool_stats *st);

#ifdef __cplusplus
}
#endif

#endif /* LAB_POOL_STATS_FIELDS_H */
