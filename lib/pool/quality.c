/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Buffer quality: exclusive ownership checked on every free and transfer (the
 * shadow word, see lab_pool_inline.h), quarantine with poison, redzone and
 * header checks, leak scans, and findings.
 *
 * The data path only checks the shadow word, poisons or stages a buffer it
 * picks and queues a finding (one CAS, no system call). Everything slow runs
 * in the warden (or in lab_pool_quality_check): verifying poison and
 * redzones, zeroing, leak scans, resolving code addresses and logging.
 *
 * The layer is four files (docs/architecture.md, "lib/pool's layers"): this
 * one (the level, its epochs, the shadow's setup and each cell's entry),
 * quality_findings.c, quality_quarantine.c and quality_free.c, each calling
 * only the ones before it.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "pool_internal.h"

LAB_LOG_REGISTER(quality, NOTICE)

/* ----------------------------------------------------------- configuration */

/*
 * Publish a level. From "off" to a checked level, a new shadow epoch first
 * (lab_pool_inline.h): words written before (at an earlier checked level, or
 * left stale by "off") stop being trusted. The epoch about to be reused is
 * cleared from every word first, so that no word 15 switches old can pass for
 * a current one; at "off" the data path writes no word, so only a thread
 * still inside a checked call from before could race, and that one writes its
 * own, older epoch. Caller holds quality_lock.
 */
static void set_level(struct lab_pool *p, enum lab_quality level)
{
	uint32_t old = _lab_pool_q(&p->hot), epoch = LAB_Q_EPOCH(old);

	if (LAB_Q_LEVEL(old) == LAB_QUALITY_OFF && level != LAB_QUALITY_OFF) {
		epoch = epoch % 15 + 1;
		for (uint32_t i = 0; i < p->hot.shadow_cap; i++) {
			_Atomic uint64_t *w = &p->hot.shadow[i].w;
			uint64_t v = atomic_load_explicit(w, memory_order_relaxed);

			while ((v & LAB_SH_EPOCH) == LAB_SH_EP(epoch) &&
			       !atomic_compare_exchange_weak_explicit(w, &v, v & ~LAB_SH_EPOCH,
								      memory_order_relaxed,
								      memory_order_relaxed))
				;
		}
	}
	/* Release: a thread that sees the new epoch sees the cleared words. */
	atomic_store_explicit(&p->hot.quality, (uint32_t)level | epoch << 8,
			      memory_order_release);
}


int lab_pool_set_quality(struct lab_pool *p, enum lab_quality level, uint32_t sample_rate)
{
	char want[64];

	if ((unsigned int)level > LAB_QUALITY_FULL || sample_rate > (1u << 30)) {
		LAB_LOG(ERR, quality, "pool '%s': bad quality setting: level %d (want %s), "
			"sample_rate %u (want 1..%u, or 0 to keep)", p->name, (int)level,
			lab_names_list(&lab_quality_names, "", " or ", want, sizeof(want)),
			sample_rate, 1u << 30);
		return -EINVAL;
	}
	if (sample_rate != 0)
		atomic_store_explicit(&p->hot.sample_rate, (int32_t)sample_rate,
				      memory_order_relaxed);
	/* One switch at a time (the epoch walk below); the warden's quality
	 * work holds the same lock. */
	pthread_mutex_lock(&p->quality_lock);
	set_level(p, level);
	pthread_mutex_unlock(&p->quality_lock);
	LAB_LOG(INFO, quality, "pool '%s': quality %s, sample rate 1/%d", p->name,
		lab_quality_name(level),
		atomic_load_explicit(&p->hot.sample_rate, memory_order_relaxed));
	return 0;
}

int lab_pool_set_sample_budget(struct lab_pool *p, uint32_t per_ms)
{
	if (per_ms == 0 || per_ms > (1u << 30)) {
		LAB_LOG(ERR, quality, "pool '%s': bad sample budget %u (want 1..%u deep "
			"samples per ms)", p->name, per_ms, 1u << 30);
		return -EINVAL;
	}
	atomic_store_explicit(&p->sample_budget, per_ms, memory_order_relaxed);
	/* The running ms too: a lower budget takes effect at once. */
	if (atomic_load_explicit(&p->sample_credit, memory_order_relaxed) > (int64_t)per_ms)
		atomic_store_explicit(&p->sample_credit, per_ms, memory_order_relaxed);
	return 0;
}

enum lab_quality lab_pool_quality(const struct lab_pool *p)
{
	return (enum lab_quality)LAB_Q_LEVEL(_lab_pool_q(&p->hot));
}

int lab_pool_set_policy(struct lab_pool *p, enum lab_quality_policy policy)
{
	char want[64];

	if ((unsigned int)policy > LAB_POLICY_ABORT) {
		LAB_LOG(ERR, quality, "pool '%s': bad policy %d (want %s)", p->name, (int)policy,
			lab_names_list(&lab_quality_policy_names, "", " or ", want, sizeof(want)));
		return -EINVAL;
	}
	atomic_store_explicit(&p->policy, (uint32_t)policy, memory_order_relaxed);
	return 0;
}

void lab_pool_set_leak_age(struct lab_pool *p, uint32_t ms)
{
	atomic_store_explicit(&p->leak_age_ms, ms, memory_order_relaxed);
}

/* A new cell: its shadow entry and its redzone. */
void quality_init_cell(struct lab_pool *p, struct lab_buf *b)
{
	struct lab_shadow *sh = &p->hot.shadow[b->idx];

	/* Relaxed, as every access: control-path scans read it while the
	 * warden grows or shrinks (a new cell reaches the data path only
	 * through the ring, which orders it). */
	__atomic_store_n(&sh->buf, b, __ATOMIC_RELAXED);
	/* Free, and known to be: a free of it before it is handed out is a
	 * double free at a checked level. */
	atomic_store_explicit(&sh->w, LAB_SH_EP(LAB_Q_EPOCH(_lab_pool_q(&p->hot))) |
			      LAB_SH_KEY(0, LAB_BUF_FREE), memory_order_relaxed);
	/* Field by field: a report of a stale pointer into a regrown chamber
	 * may read the sites meanwhile. */
	cold_sites_set(&p->cold[b->idx], NULL, NULL);
	p->cold[b->idx].since_ms = 0;
	p->cold[b->idx].leak_reported = 0;
	p->cold[b->idx].retired = 0;
	p->cold[b->idx].iova = b->buf_iova;
	memset((char *)b->buf_addr + b->buf_len, POOL_CANARY, POOL_REDZONE);
}

int quality_setup(struct lab_pool *p, const struct lab_pool_opts *o)
{
	uint64_t cap = (uint64_t)p->max_chambers * p->layout.per_chamber;
	size_t qbytes = o->quarantine_bytes ? o->quarantine_bytes : 4 * LAB_MIB;
	uint64_t qn = qbytes / p->layout.stride;

	if (o->sample_rate > (1u << 30) || (unsigned int)o->quality > LAB_QUALITY_FULL ||
	    (unsigned int)o->policy > LAB_POLICY_ABORT) {
		LAB_LOG(ERR, quality, "pool '%s': bad quality options: level %d, sample_rate %u "
			"(1..%u), policy %d", p->name, (int)o->quality, o->sample_rate,
			1u << 30, (int)o->policy);
		return -EINVAL;
	}
	/* The shadow lives outside the arena: no device can DMA over it. */
	p->hot.shadow = calloc(cap, sizeof(*p->hot.shadow));
	p->cold = calloc(cap, sizeof(*p->cold));
	p->hot.shadow_cap = (uint32_t)cap;
	p->quarantine_cap = (uint32_t)(qn < 16 ? 16 : qn > cap ? cap : qn);
	p->quarantine = lab_ring_create(p->quarantine_cap);
	p->nc_stage = lab_ring_create(POOL_STAGE_CAP);
	p->stage = aligned_alloc(LAB_CACHE_LINE, POOL_MAX_OWNERS * sizeof(*p->stage));
	if (p->hot.shadow == NULL || p->cold == NULL || p->quarantine == NULL ||
	    p->nc_stage == NULL || p->stage == NULL)
		return -ENOMEM;
	memset(p->stage, 0, POOL_MAX_OWNERS * sizeof(*p->stage));
	atomic_store(&p->sample_budget, o->sample_budget ? o->sample_budget : POOL_SAMPLE_BUDGET);
	atomic_store(&p->sample_credit, atomic_load(&p->sample_budget));
	/* Epoch 1 from the start: quality_init_cell stamps it on every cell. */
	atomic_store(&p->hot.quality, (uint32_t)o->quality | 1u << 8);
	atomic_store(&p->hot.sample_rate, (int32_t)(o->sample_rate ? o->sample_rate : 1024));
	atomic_store(&p->policy, (uint32_t)o->policy);
	atomic_store(&p->leak_age_ms, o->leak_age_ms);
	p->q_hold_ms = o->quarantine_hold_ms ? o->quarantine_hold_ms : QUARANTINE_HOLD_MS;
	return 0;
}

void quality_free(struct lab_pool *p)
{
	free(p->hot.shadow);
	free(p->cold);
	lab_ring_free(p->quarantine);
	lab_ring_free(p->nc_stage);
	free(p->stage);
	pthread_mutex_destroy(&p->quality_lock);
	pthread_mutex_destroy(&p->findings_lock);
}
