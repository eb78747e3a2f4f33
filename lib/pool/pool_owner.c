/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Owner caches, stats and destroy: control path. The owners table is guarded
 * by the pool lock, which the data path never takes.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <labyrinth/lab_json.h>
#include <labyrinth/lab_pool_stats_fields.h>

#include "pool_internal.h"

struct lab_cache *lab_cache_create(struct lab_pool *p, const char *name, unsigned int size)
{
	struct lab_cache *c;
	unsigned int flush, id;

	if (size == 0)
		size = 256;
	if (size > LAB_BURST_MAX) {
		LAB_LOG(ERR, pool, "pool '%s': cache size %u exceeds %u", p->name, size,
			LAB_BURST_MAX);
		lab_errno = EINVAL;
		return NULL;
	}
	flush = size + size / 2;
	c = aligned_alloc(LAB_CACHE_LINE,
			  LAB_ALIGN_UP(sizeof(*c) + (flush + 1) * sizeof(c->objs[0]),
				       LAB_CACHE_LINE));
	if (c == NULL) {
		lab_errno = ENOMEM;
		return NULL;
	}
	memset(c, 0, sizeof(*c));
	c->pool = p;
	c->size = size;
	c->flush = flush;
	c->headroom = (uint16_t)p->headroom;
	pthread_mutex_lock(&p->lock);
	for (id = 1; id < POOL_MAX_OWNERS && p->owners[id] != NULL; id++)
		;
	if (id < POOL_MAX_OWNERS) {
		p->owners[id] = c;
		snprintf(p->owner_names[id], sizeof(p->owner_names[id]), "%s", name ? name : "?");
	}
	pthread_mutex_unlock(&p->lock);
	if (id == POOL_MAX_OWNERS) {
		LAB_LOG(ERR, pool, "pool '%s': all %d owner slots in use", p->name,
			POOL_MAX_OWNERS - 1);
		free(c);
		lab_errno = ENOSPC;
		return NULL;
	}
	c->owner = (uint16_t)id;
	c->sh_q = UINT32_MAX; /* no quality word is all ones: made at first use */
	quality_cache_init(c);
	return c;
}

void lab_cache_flush(struct lab_cache *c)
{
	uint32_t q = _lab_pool_q(&c->pool->hot);

	if (c->len) {
		if (LAB_Q_LEVEL(q) != LAB_QUALITY_OFF)
			_lab_shadow_set(&c->pool->hot, c->objs, c->len,
					~(LAB_SH_OWNER | LAB_SH_STATE), LAB_SH_KEY(0, LAB_BUF_FREE),
					LAB_SH_EP(LAB_Q_EPOCH(q)));
		_lab_pool_put(c->pool, c->objs, c->len);
		LAB_COUNT_ADD(c->st.ring_flushes, 1);
		LAB_CACHE_LEN_SET(c, 0);
	}
}

static void add_stats(struct lab_owner_stats *to, const struct lab_owner_stats *s)
{
	to->allocs += s->allocs;
	to->frees += s->frees;
	to->cache_hits += s->allocs - s->ring_allocs;
	to->ring_allocs += s->ring_allocs;
	to->ring_refills += s->ring_refills;
	to->ring_flushes += s->ring_flushes;
	to->reserve_uses += s->reserve_uses;
	to->misses += s->misses;
}

/* Remember what a departing owner still holds on balance (pool lock held). */
static void note_departed(struct lab_pool *p, const char *name, int64_t net)
{
	unsigned int i;

	if (net == 0)
		return;
	for (i = 0; i < p->ndeparted; i++)
		if (strcmp(p->departed[i].name, name) == 0)
			break;
	if (i == p->ndeparted) {
		if (i == POOL_MAX_OWNERS)
			i--; /* the last slot absorbs the rest */
		else
			p->ndeparted++;
		memcpy(p->departed[i].name, name, sizeof(p->departed[i].name));
	}
	p->departed[i].net += net;
}

void lab_cache_destroy(struct lab_cache *c)
{
	struct lab_pool *p;
	uint64_t ep;
	uint32_t q;

	if (c == NULL)
		return;
	p = c->pool;
	lab_cache_flush(c);
	/* What it still holds passes to owner 0 ("no-cache"): its id will be
	 * reused, and the next holder of the id must not be able to free them.
	 * A word keeps its epoch only if it is the current one (lab_pool_inline.h). */
	q = _lab_pool_q(&p->hot);
	ep = LAB_SH_EP(LAB_Q_EPOCH(q));
	for (uint32_t i = 0; LAB_Q_LEVEL(q) != LAB_QUALITY_OFF && i < p->hot.shadow_cap; i++) {
		struct lab_shadow *sh = &p->hot.shadow[i];
		uint64_t w = atomic_load_explicit(&sh->w, memory_order_relaxed);

		if (__atomic_load_n(&sh->buf, __ATOMIC_RELAXED) != NULL &&
		    (w & LAB_SH_OWNER) == LAB_SH_KEY(c->owner, 0) &&
		    (w & LAB_SH_STATE) != LAB_BUF_FREE)
			atomic_store_explicit(&sh->w, (w & ~(LAB_SH_OWNER | LAB_SH_EPOCH)) |
					      _lab_sh_keep_epoch(w, ep), memory_order_relaxed);
	}
	pthread_mutex_lock(&p->lock);
	add_stats(&p->retired, &c->st);
	note_departed(p, p->owner_names[c->owner], (int64_t)(c->st.allocs - c->st.frees));
	p->owners[c->owner] = NULL;
	pthread_mutex_unlock(&p->lock);
	free(c);
}

/* Sum every owner's counters; the caller holds the pool lock. */
static void sum_owners(struct lab_pool *p, struct lab_owner_stats *sum, uint64_t *cached,
		       uint32_t *owners)
{
	struct lab_owner_stats nc, snap;

	*sum = p->retired;
	pool_nocache_totals(p, &nc);
	add_stats(sum, &nc);
	*cached = 0;
	*owners = 0;
	for (unsigned int i = 1; i < POOL_MAX_OWNERS; i++) {
		struct lab_cache *c = p->owners[i];

		if (c == NULL)
			continue;
		/* Another thread's counters: a snapshot, exact when quiet. */
		lab_counters_load((uint64_t *)&snap, (const uint64_t *)&c->st,
				  sizeof(snap) / sizeof(uint64_t));
		add_stats(sum, &snap);
		*cached += __atomic_load_n(&c->len, __ATOMIC_RELAXED);
		(*owners)++;
	}
}

void lab_pool_stats(struct lab_pool *p, struct lab_pool_stats *st)
{
	memset(st, 0, sizeof(*st));
	pthread_mutex_lock(&p->lock);
	sum_owners(p, &st->sum, &st->cached, &st->owners);
	st->total = atomic_load(&p->total);
	/* Quarantine before ring: a buffer the warden moves from one to the
	 * other in between is then counted twice, not missed (quality_release). */
	st->quarantined = pool_quarantined_count(p);
	st->free = pool_free_count(p);
	st->retired = atomic_load(&p->retired_bufs);
	st->in_flight_signed = (int64_t)(st->total - st->free - st->cached - st->quarantined -
					 st->retired);
	st->in_flight = st->in_flight_signed > 0 ? (uint64_t)st->in_flight_signed : 0;
	st->chambers = p->external ? 0 : st->total / p->layout.per_chamber;
	st->grows = p->grows;
	st->shrinks = p->shrinks;
	st->grow_failures = p->grow_failures;
	st->kicks = p->kicks;
	pthread_mutex_unlock(&p->lock);
	st->wm_min = p->hot.wm_min;
	st->wm_low = p->hot.wm_low;
	st->wm_high = p->wm_high;
	st->wm_atomic = p->hot.wm_atomic;
	st->per_chamber = p->layout.per_chamber;
	st->quality = lab_pool_quality(p);
	st->sample_rate = (uint32_t)atomic_load(&p->hot.sample_rate);
	for (unsigned int k = 0; k < LAB_FIND_KINDS; k++)
		st->findings[k] = atomic_load_explicit(&p->findings[k], memory_order_relaxed);
	st->findings_dropped = atomic_load(&p->findings_dropped);
	st->quarantine_skipped = atomic_load(&p->quarantine_skipped);
	st->deep_checked = atomic_load(&p->deep_checked);
	st->sample_backoffs = atomic_load(&p->sample_backoffs);
	st->sample_budget = atomic_load(&p->sample_budget);
	st->staged = quality_staged_count(p);
	st->checked_at_once = atomic_load(&p->checked_at_once);
	st->sample_effective_rate = st->deep_checked != 0
				    ? (double)st->sum.frees / (double)st->deep_checked : 0;
	st->reserve = st->wm_min - st->wm_atomic;
	if (st->free < st->wm_min)
		st->reserve_in_use = st->wm_min - st->free < st->reserve ? st->wm_min - st->free
									   : st->reserve;
	for (unsigned int k = 0; k < LAB_FIND_KINDS; k++)
		st->findings_total += st->findings[k];
}

/*
 * An owner's counters: the table's "sum" rows, read from @p s as from the
 * snapshot's sum. Owners do not count cache hits (lab_pool_stats() fills
 * them in for the sum), so they are computed here the same way.
 */
static void json_owner(FILE *f, const char *name, const struct lab_owner_stats *s)
{
	struct lab_pool_stats st;
	const struct lab_pool_stat_field *t;
	size_t n;

	memset(&st, 0, sizeof(st));
	st.sum = *s;
	st.sum.cache_hits = s->allocs - s->ring_allocs;
	t = lab_pool_stat_fields(&n);
	fprintf(f, "{\"owner\":");
	lab_json_write_str(f, name);
	for (size_t i = 0; i < n; i++) {
		if (t[i].group != LAB_STAT_G_SUM || !(t[i].writers & LAB_STAT_JSON))
			continue;
		fprintf(f, ",\"%s\":", t[i].name);
		lab_pool_stat_write(f, &st, &t[i]);
	}
	fputc('}', f);
}

/* The table's rows of @p group that the pool's JSON prints, each after a comma
 * unless @p first. */
static void json_group(FILE *f, const struct lab_pool_stats *st, enum lab_stat_group group,
		       bool first)
{
	size_t n;
	const struct lab_pool_stat_field *t = lab_pool_stat_fields(&n);

	for (size_t i = 0; i < n; i++) {
		if (t[i].group != group || !(t[i].writers & LAB_STAT_JSON))
			continue;
		fprintf(f, "%s\"%s\":", first ? "" : ",", t[i].name);
		lab_pool_stat_write(f, st, &t[i]);
		first = false;
	}
}

/* The sections a reader of the control socket wants by name: the reserve,
 * the chambers and what the warden did for this pool. */
static void json_sections(struct lab_pool *p, const struct lab_pool_stats *st, FILE *f)
{
	struct lab_warden_stats w;

	lab_warden_stats(&w);
	fprintf(f, ",\"reserve\":{\"size\":%u,\"in_use\":%llu,\"uses\":%llu}",
		st->reserve, (unsigned long long)st->reserve_in_use,
		(unsigned long long)st->sum.reserve_uses);
	fprintf(f, ",\"memory\":{\"chambers\":%llu,\"max_chambers\":%u,\"per_chamber\":%u,"
		"\"page_size\":%zu,\"hugepages\":%s,\"data_room\":%u}",
		(unsigned long long)st->chambers, p->external ? 0 : p->max_chambers,
		st->per_chamber, p->arena != NULL ? lab_arena_page_size(p->arena) : 0,
		p->arena != NULL && lab_arena_is_huge(p->arena) ? "true" : "false", p->room_len);
	fprintf(f, ",\"warden\":{\"running\":%s,\"ticks\":%llu,\"last_tick_age_us\":%llu,"
		"\"kicks\":%llu,\"grows\":%llu,\"shrinks\":%llu,\"grow_failures\":%llu}",
		w.running ? "true" : "false", (unsigned long long)w.ticks,
		(unsigned long long)w.last_tick_age_us, (unsigned long long)st->kicks,
		(unsigned long long)st->grows, (unsigned long long)st->shrinks,
		(unsigned long long)st->grow_failures);
}

void lab_pool_stats_json(struct lab_pool *p, FILE *f)
{
	struct lab_pool_stats st;
	bool first = true;

	lab_pool_stats(p, &st);
	fprintf(f, "{\"pool\":");
	lab_json_write_str(f, p->name);
	json_group(f, &st, LAB_STAT_G_POOL, false);
	fprintf(f, ",\"sum\":");
	json_owner(f, "*", &st.sum);
	fprintf(f, ",\"quality\":\"%s\",\"findings\":{", lab_quality_name(st.quality));
	for (unsigned int k = 0; k < LAB_FIND_KINDS; k++)
		fprintf(f, "%s\"%s\":%llu", k ? "," : "", lab_finding_kind_name(k),
			(unsigned long long)st.findings[k]);
	fprintf(f, "},\"sampling\":{");
	json_group(f, &st, LAB_STAT_G_SAMPLING, true);
	fputc('}', f);
	json_sections(p, &st, f);
	fprintf(f, ",\"owners\":[");
	pthread_mutex_lock(&p->lock);
	for (unsigned int i = 1; i < POOL_MAX_OWNERS; i++) {
		if (p->owners[i] == NULL)
			continue;
		fprintf(f, "%s", first ? "" : ",");
		json_owner(f, p->owner_names[i], &p->owners[i]->st);
		first = false;
	}
	pthread_mutex_unlock(&p->lock);
	fprintf(f, "]}\n");
}

/*
 * Report the in-flight buffers, grouped by owner and allocation site from the
 * shadow (buffers of a destroyed cache appear under "no-cache"), then, per
 * departed owner, how many more it allocated than it freed. Needs a quiet
 * pool; the warden is detached.
 */
static void report_in_flight(struct lab_pool *p, uint64_t in_flight)
{
	struct lab_owner_stats nc;
	int64_t nocache;

	LAB_LOG(ERR, pool, "pool '%s': not destroyed: %llu buffer(s) still in flight", p->name,
		(unsigned long long)in_flight);
	quality_report_in_flight(p);
	pthread_mutex_lock(&p->lock);
	for (unsigned int i = 0; i < p->ndeparted; i++)
		if (p->departed[i].net > 0)
			LAB_LOG(ERR, pool, "pool '%s':   %lld net held by %s (destroyed)", p->name,
				(long long)p->departed[i].net, p->departed[i].name);
	pool_nocache_totals(p, &nc);
	nocache = (int64_t)(nc.allocs - nc.frees);
	if (nocache > 0)
		LAB_LOG(ERR, pool, "pool '%s':   %lld net held by callers without a cache", p->name,
			(long long)nocache);
	pthread_mutex_unlock(&p->lock);
}

int lab_pool_destroy(struct lab_pool *p)
{
	struct lab_pool_stats st;

	if (p == NULL)
		return -EINVAL;
	warden_detach(p);
	pool_drain_overflow(p);
	quality_tend(p, lab_now_ns(), true); /* empty the quarantine, report findings */
	lab_pool_stats(p, &st);
	if (st.owners) {
		LAB_LOG(ERR, pool, "pool '%s': not destroyed: %u owner cache(s) still exist; "
			"destroy them first", p->name, st.owners);
		warden_attach(p);
		return -EBUSY;
	}
	if (st.in_flight) {
		report_in_flight(p, st.in_flight);
		warden_attach(p);
		return -EBUSY;
	}
	if (st.in_flight_signed < 0)
		LAB_LOG(ERR, pool, "pool '%s': %lld buffer(s) counted twice at teardown (free, "
			"cached and quarantined exceed the %llu it holds): a double free the "
			"quality level did not check, or a pool bug; destroyed anyway", p->name,
			(long long)-st.in_flight_signed, (unsigned long long)st.total);
	else
		LAB_LOG(INFO, pool, "pool '%s': destroyed; all %llu buffers accounted for",
			p->name, (unsigned long long)st.total);
	pool_free(p);
	return 0;
}

const char *lab_pool_name(const struct lab_pool *p)
{
	return p->name;
}

uint32_t lab_pool_data_room(const struct lab_pool *p)
{
	return p->room_len - p->headroom;
}

struct lab_arena *lab_pool_arena(const struct lab_pool *p)
{
	return p->arena;
}
