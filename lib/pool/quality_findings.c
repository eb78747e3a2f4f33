/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Findings: what the quality checks found, counted per kind, queued by the
 * data path (one CAS, no system call, no lock) and reported by the warden or
 * a control-path caller (a log line with resolved code sites, the user's
 * callback, the abort policy). The bottom of the quality layer: it calls
 * nothing else in lib/pool (docs/architecture.md, "lib/pool's layers").
 */
#include <dlfcn.h>
#include <stdlib.h>
#include <string.h>

#include "pool_internal.h"

static const char *const kind_names[LAB_FIND_KINDS] = {
	[LAB_FIND_DOUBLE_FREE] = "double_free",
	[LAB_FIND_FOREIGN_FREE] = "foreign_free",
	[LAB_FIND_BAD_BUFFER] = "bad_buffer",
	[LAB_FIND_FOREIGN_TRANSFER] = "foreign_transfer",
	[LAB_FIND_USE_AFTER_FREE] = "use_after_free",
	[LAB_FIND_OVERRUN] = "overrun",
	[LAB_FIND_HEADER] = "header",
	[LAB_FIND_LEAK] = "leak",
};

static const char *const state_names[] = { "free", "cached", "in-flight", "quarantined" };

const char *lab_finding_kind_name(enum lab_finding_kind k)
{
	return (unsigned int)k < LAB_FIND_KINDS ? kind_names[k] : "unknown";
}

/* ------------------------------------------------------------------ findings */

void quality_site_name(const void *site, char *out, size_t len)
{
	Dl_info di;

	if (site == NULL) {
		snprintf(out, len, "-");
	} else if (dladdr(site, &di) != 0 && di.dli_sname != NULL) {
		snprintf(out, len, "%s+0x%lx", di.dli_sname,
			 (unsigned long)((const char *)site - (const char *)di.dli_saddr));
	} else if (dladdr(site, &di) != 0 && di.dli_fname != NULL) {
		const char *base = strrchr(di.dli_fname, '/');

		snprintf(out, len, "%s+0x%lx", base != NULL ? base + 1 : di.dli_fname,
			 (unsigned long)((const char *)site - (const char *)di.dli_fbase));
	} else {
		snprintf(out, len, "%p", site);
	}
}

/* The name of owner @p id, copied into @p buf under the owners' lock: a
 * cache created meanwhile writes its slot's name (TSan, a report while
 * another thread made a cache). Callers hold no p->lock. */
const char *quality_owner_name(struct lab_pool *p, uint16_t id, char *buf, size_t len)
{
	if (id == 0)
		return "no-cache";
	if (id >= POOL_MAX_OWNERS)
		return "?";
	pthread_mutex_lock(&p->lock);
	snprintf(buf, len, "%s", p->owner_names[id][0] ? p->owner_names[id] : "?");
	pthread_mutex_unlock(&p->lock);
	return buf;
}

/* Log one finding as one line of key=value pairs (findings_lock held). */
static void log_finding(struct lab_pool *p, const struct lab_finding *f)
{
	char site[128], asite[128], fsite[128], hn[24], cn[24];

	quality_site_name(f->site, site, sizeof(site));
	quality_site_name(f->alloc_site, asite, sizeof(asite));
	quality_site_name(f->free_site, fsite, sizeof(fsite));
	switch (f->kind) {
	case LAB_FIND_BAD_BUFFER:
		LAB_LOG(ERR, quality, "finding kind=bad_buffer pool=%s buf=%p idx=%s caller=%s "
			"site=%s (not a buffer of this pool, or its header was overwritten)",
			p->name, (const void *)f->buf, f->idx == UINT32_MAX ? "-" : "?",
			quality_owner_name(p, f->caller, cn, sizeof(cn)), site);
		break;
	case LAB_FIND_DOUBLE_FREE:
	case LAB_FIND_FOREIGN_FREE:
	case LAB_FIND_FOREIGN_TRANSFER:
		LAB_LOG(ERR, quality, "finding kind=%s pool=%s buf=%u state=%s owner=%s "
			"caller=%s site=%s %s=%s", kind_names[f->kind], p->name, f->idx,
			state_names[f->state & 3], quality_owner_name(p, f->holder, hn, sizeof(hn)),
			quality_owner_name(p, f->caller, cn, sizeof(cn)), site,
			f->state == LAB_BUF_IN_FLIGHT ? "alloc_site" : "free_site",
			f->state == LAB_BUF_IN_FLIGHT ? asite : fsite);
		break;
	case LAB_FIND_USE_AFTER_FREE:
	case LAB_FIND_OVERRUN:
	case LAB_FIND_HEADER:
		LAB_LOG(ERR, quality, "finding kind=%s pool=%s buf=%u owner=%s offset=%u "
			"bytes=%u alloc_site=%s free_site=%s", kind_names[f->kind], p->name,
			f->idx, quality_owner_name(p, f->holder, hn, sizeof(hn)), f->offset, f->bytes, asite,
			fsite);
		break;
	case LAB_FIND_LEAK:
	default:
		LAB_LOG(DEBUG, quality, "finding kind=%s pool=%s buf=%u owner=%s age_ms=%llu "
			"alloc_site=%s", kind_names[f->kind], p->name, f->idx,
			quality_owner_name(p, f->holder, hn, sizeof(hn)), (unsigned long long)f->age_ms, asite);
		break;
	}
}

/* Report one finding made on a control path (findings_lock held). */
void quality_report(struct lab_pool *p, const struct lab_finding *f)
{
	log_finding(p, f);
	if (p->finding_cb != NULL)
		p->finding_cb(f, p->finding_arg);
	if (atomic_load_explicit(&p->policy, memory_order_relaxed) == LAB_POLICY_ABORT) {
		LAB_LOG(ERR, quality, "pool '%s': policy abort: aborting on this finding", p->name);
		abort();
	}
}

/* Fill the shadow part of a finding for buffer index @p idx. */
void quality_fill(struct lab_pool *p, struct lab_finding *f, uint32_t idx)
{
	uint64_t w = atomic_load_explicit(&p->hot.shadow[idx].w, memory_order_relaxed);

	f->idx = idx;
	f->buf = __atomic_load_n(&p->hot.shadow[idx].buf, __ATOMIC_RELAXED);
	f->holder = word_owner(w);
	f->state = (uint8_t)(w & LAB_SH_STATE);
	if (f->state == LAB_BUF_IN_FLIGHT) {
		f->alloc_site = word_site(w);
	} else {
		f->free_site = word_site(w);
		if (f->state == LAB_BUF_QUARANTINED)
			f->alloc_site = cold_alloc_site(&p->cold[idx]);
	}
}

/*
 * Data path: count the finding and queue its record. One CAS claims a slot (a
 * full queue drops the record, never the count); no system call, no lock, no
 * wait. Under the abort policy the finding is logged and abort() called here,
 * so the core shows the bad caller.
 */
void quality_push(struct lab_pool *p, const struct lab_finding *f)
{
	uint64_t pos = atomic_load_explicit(&p->fq_head, memory_order_relaxed);
	struct finding_slot *slot;

	if (atomic_load_explicit(&p->policy, memory_order_relaxed) == LAB_POLICY_ABORT) {
		pthread_mutex_lock(&p->findings_lock);
		quality_report(p, f);
		pthread_mutex_unlock(&p->findings_lock);
	}
	/* Signed: pos may be stale (read before a preemption, or before the
	 * lock above) and the consumer past it by now. The queue is full only
	 * if even this pos is a whole queue ahead of the tail; a stale pos
	 * behind it is no sign of a full queue: the CAS fails and reloads it.
	 * Unsigned, that wrapped and dropped records from an empty queue. */
	do {
		if ((int64_t)(pos - atomic_load_explicit(&p->fq_tail, memory_order_acquire)) >=
		    POOL_FINDINGS_QUEUE) {
			atomic_fetch_add_explicit(&p->findings_dropped, 1, memory_order_relaxed);
			return;
		}
	} while (!atomic_compare_exchange_weak_explicit(&p->fq_head, &pos, pos + 1,
							memory_order_relaxed,
							memory_order_relaxed));
	slot = &p->fq[pos % POOL_FINDINGS_QUEUE];
	slot->f = *f;
	atomic_store_explicit(&slot->seq, pos + 1, memory_order_release);
}

void quality_record(struct lab_pool *p, enum lab_finding_kind kind, struct lab_buf *b,
		    uint32_t idx, uint16_t caller, const void *site)
{
	struct lab_finding f = { .kind = kind, .pool = p, .buf = b, .idx = UINT32_MAX,
				 .caller = caller, .site = site };

	atomic_fetch_add_explicit(&p->findings[kind], 1, memory_order_relaxed);
	if (idx != UINT32_MAX) {
		quality_fill(p, &f, idx);
		f.buf = b;
	}
	quality_push(p, &f);
}

/* Report what the data path queued (findings_lock held). */
unsigned int quality_report_queued(struct lab_pool *p)
{
	uint64_t tail = atomic_load_explicit(&p->fq_tail, memory_order_relaxed);
	unsigned int n = 0;

	for (;; tail++) {
		struct finding_slot *slot = &p->fq[tail % POOL_FINDINGS_QUEUE];
		struct lab_finding f;

		if (atomic_load_explicit(&slot->seq, memory_order_acquire) != tail + 1)
			break;
		f = slot->f;
		atomic_store_explicit(&p->fq_tail, tail + 1, memory_order_release);
		quality_report(p, &f);
		n++;
	}
	return n;
}

unsigned int lab_pool_report_findings(struct lab_pool *p)
{
	unsigned int n;

	if (p == NULL)
		return 0;
	pthread_mutex_lock(&p->findings_lock);
	n = quality_report_queued(p);
	pthread_mutex_unlock(&p->findings_lock);
	return n;
}

void lab_pool_set_finding_cb(struct lab_pool *p, lab_finding_cb cb, void *arg)
{
	pthread_mutex_lock(&p->findings_lock);
	p->finding_cb = cb;
	p->finding_arg = arg;
	pthread_mutex_unlock(&p->findings_lock);
}
