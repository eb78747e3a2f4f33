/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The warden's side of quality: the quarantine FIFO and the staging rings of
 * sampled frees, the deep checks of each buffer that leaves them (header,
 * poison, redzone), zeroing and release, and the leak scan. All of it runs in
 * the warden or in lab_pool_quality_check(), except the bounded release an
 * all-or-none allocation or a "full" free makes when the FIFO is full
 * (findings queued, not reported). Calls down into the findings and the
 * shared ring only (docs/architecture.md, "lib/pool's layers").
 */
#include <stdlib.h>
#include <string.h>

#include "pool_internal.h"

/* ------------------------------------------------------- the warden's checks */

/* Whether every byte of [m, m+len) is @p v: 64 bytes per step, one branch
 * per step (the common case of every check, done before the detailed scan). */
static bool pattern_clean(const uint8_t *m, size_t len, uint8_t v)
{
	typedef uint64_t v2u64 __attribute__((vector_size(16)));
	uint64_t p64 = 0x0101010101010101ull * v;
	v2u64 pat = { p64, p64 }, acc = { 0, 0 };
	size_t i = 0;
	uint64_t tail = 0;

	for (; i + 64 <= len; i += 64) {
		v2u64 x[4];

		memcpy(x, m + i, sizeof(x));
		acc |= (x[0] ^ pat) | (x[1] ^ pat) | (x[2] ^ pat) | (x[3] ^ pat);
		if (lab_unlikely((acc[0] | acc[1]) != 0))
			return false;
	}
	for (; i < len; i++)
		tail |= (uint64_t)(m[i] ^ v);
	return tail == 0;
}

/* First differing byte and count of differing bytes of [m, m+len) against
 * the byte @p v. @return len if none differ. */
static size_t scan_pattern(const uint8_t *m, size_t len, uint8_t v, uint32_t *changed,
			   size_t *last)
{
	uint64_t pat = 0x0101010101010101ull * v;
	size_t first = len, i = 0;

	*changed = 0;
	*last = 0;
	if (lab_likely(pattern_clean(m, len, v)))
		return len;
	for (; i + 8 <= len; i += 8) {
		uint64_t x;

		memcpy(&x, m + i, 8);
		if (lab_likely(x == pat))
			continue;
		for (size_t j = i; j < i + 8; j++) {
			if (m[j] != v) {
				first = first < j ? first : j;
				*last = j;
				(*changed)++;
			}
		}
	}
	for (; i < len; i++) {
		if (m[i] != v) {
			first = first < i ? first : i;
			*last = i;
			(*changed)++;
		}
	}
	return first;
}

/* The fixed header fields, as the pool wrote them. */
static void expected_header(struct lab_pool *p, struct lab_buf *b, uint32_t idx,
			    struct lab_buf *e)
{
	*e = *b;
	e->buf_addr = (char *)b + p->room_off;
	e->buf_iova = p->cold[idx].iova;
	e->pool = p;
	e->idx = idx;
	e->buf_len = p->room_len;
}

/* Count one finding of a quarantine check and report it (the warden, with
 * findings_lock held) or queue it for the warden (@p queued: the data path). */
static void warden_found(struct lab_pool *p, struct lab_finding *f, enum lab_finding_kind kind,
			 uint32_t offset, uint32_t bytes, bool queued)
{
	f->kind = kind;
	f->offset = offset;
	f->bytes = bytes;
	atomic_fetch_add_explicit(&p->findings[kind], 1, memory_order_relaxed);
	if (queued)
		quality_push(p, f);
	else
		quality_report(p, f);
}

/* Check one buffer out of quarantine. @return true if it is sound. */
static bool check_quarantined(struct lab_pool *p, struct lab_buf *b, uint32_t idx, bool queued)
{
	struct lab_finding f = { .pool = p };
	struct lab_buf e;
	const uint8_t *room, *rz;
	uint32_t changed, hdr_changed = 0, room_len;
	size_t first, last, hdr_first = SIZE_MAX;
	bool sound = true;

	quality_fill(p, &f, idx);
	f.buf = b;
	f.free_site = cold_free_site(&p->cold[idx]);
	f.alloc_site = cold_alloc_site(&p->cold[idx]);
	/* The header first: the buffer's own fields say where its room is. */
	expected_header(p, b, idx, &e);
	for (size_t i = 0; i < offsetof(struct lab_buf, data_off); i++) {
		if (((const uint8_t *)b)[i] != ((const uint8_t *)&e)[i]) {
			hdr_first = hdr_first < i ? hdr_first : i;
			hdr_changed++;
		}
	}
	if (hdr_changed) {
		warden_found(p, &f, LAB_FIND_HEADER, (uint32_t)hdr_first, hdr_changed, queued);
		memcpy(b, &e, offsetof(struct lab_buf, data_off)); /* repair it */
		sound = false;
	}
	room = (const uint8_t *)b + p->room_off;
	room_len = p->room_len;
	first = scan_pattern(room, room_len, POOL_POISON, &changed, &last);
	if (changed) {
		warden_found(p, &f, LAB_FIND_USE_AFTER_FREE, (uint32_t)first, changed, queued);
		sound = false;
	}
	rz = room + room_len;
	scan_pattern(rz, POOL_REDZONE, POOL_CANARY, &changed, &last);
	if (changed) {
		warden_found(p, &f, LAB_FIND_OVERRUN, (uint32_t)last + 1, changed, queued);
		memset((uint8_t *)rz, POOL_CANARY, POOL_REDZONE);
		sound = false;
	}
	return sound;
}

/*
 * Leak scan: buffers in flight, untouched, since at least the leak age. A
 * scan sets the mark bit (LAB_SH_SCAN) of each word in flight that lacks it,
 * with a CAS, and notes the time; every allocation, free and hand-off writes
 * a word without the mark. So a word that still has it at a later scan has
 * been in flight since the scan that set it, with no generation to count:
 * an owner whose store overwrites the mark only restarts that buffer's
 * clock. Reported per buffer and logged grouped by owner and allocation site
 * (findings_lock held).
 */
struct leak_group {
	uint16_t owner;
	const void *site;
	uint32_t count;
	uint64_t oldest_ms;
	char idx[96];
};

static void log_groups(struct lab_pool *p, struct leak_group *g, unsigned int ng,
		       const char *what)
{
	for (unsigned int i = 0; i < ng; i++) {
		char site[128], on[24];

		quality_site_name(g[i].site, site, sizeof(site));
		LAB_LOG(ERR, quality, "pool '%s': %s owner=%s alloc_site=%s count=%u "
			"oldest_ms=%llu bufs=%s%s", p->name, what,
			quality_owner_name(p, g[i].owner, on, sizeof(on)), site,
			g[i].count, (unsigned long long)g[i].oldest_ms, g[i].idx,
			strlen(g[i].idx) >= sizeof(g[i].idx) - 12 ? ",..." : "");
	}
}

static unsigned int group_add(struct leak_group *g, unsigned int ng, unsigned int max,
			      uint16_t owner, const void *site, uint32_t idx, uint64_t age)
{
	unsigned int i;

	for (i = 0; i < ng; i++)
		if (g[i].owner == owner && g[i].site == site)
			break;
	if (i == ng) {
		if (ng == max)
			i = max - 1; /* the last group absorbs the rest */
		else
			memset(&g[ng++], 0, sizeof(*g));
		g[i].owner = owner;
		g[i].site = site;
	}
	g[i].count++;
	g[i].oldest_ms = g[i].oldest_ms > age ? g[i].oldest_ms : age;
	if (strlen(g[i].idx) < sizeof(g[i].idx) - 12)
		snprintf(g[i].idx + strlen(g[i].idx), sizeof(g[i].idx) - strlen(g[i].idx), "%s%u",
			 g[i].idx[0] ? "," : "", idx);
	return ng;
}

static unsigned int leak_scan(struct lab_pool *p, uint64_t now_ms, uint32_t age_ms)
{
	struct leak_group g[16];
	unsigned int ng = 0, found = 0;
	uint32_t slots = pool_slots(p), q = _lab_pool_q(&p->hot);

	for (uint32_t i = 0; i < slots && i < p->hot.shadow_cap; i++) {
		struct shadow_cold *cold = &p->cold[i];
		uint64_t w = atomic_load_explicit(&p->hot.shadow[i].w, memory_order_relaxed);
		struct lab_finding f = { .kind = LAB_FIND_LEAK, .pool = p };

		/* Only words the shadow knows: "off" writes none. */
		if (__atomic_load_n(&p->hot.shadow[i].buf, __ATOMIC_RELAXED) == NULL ||
		    !word_known(w, q) || (w & LAB_SH_STATE) != LAB_BUF_IN_FLIGHT)
			continue;
		if (!(w & LAB_SH_SCAN)) {
			/* Lost to the owner's store: it moved, not a leak. */
			if (atomic_compare_exchange_strong_explicit(&p->hot.shadow[i].w, &w,
								    w | LAB_SH_SCAN,
								    memory_order_relaxed,
								    memory_order_relaxed)) {
				cold->since_ms = now_ms;
				cold->leak_reported = 0;
			}
			continue;
		}
		if (cold->leak_reported || now_ms - cold->since_ms < age_ms)
			continue;
		cold->leak_reported = 1;
		quality_fill(p, &f, i);
		f.age_ms = now_ms - cold->since_ms;
		warden_found(p, &f, LAB_FIND_LEAK, 0, 0, false);
		ng = group_add(g, ng, 16, f.holder, f.alloc_site, i, f.age_ms);
		found++;
	}
	log_groups(p, g, ng, "leak:");
	return found;
}

/*
 * Check @p n buffers taken out of quarantine (counted in q_in_check), zero
 * their rooms and free them (or retire them). The warden reports what it
 * finds (findings_lock held); the data path (@p queued) queues it instead.
 */
void quality_release_bufs(struct lab_pool *p, struct lab_buf **batch, unsigned int n, bool queued)
{
	unsigned int keep = 0;
	uint32_t qw;

	for (unsigned int i = 0; i < n; i++) {
		struct lab_buf *b = batch[i];
		/* From the address: the header may be what was overwritten. */
		uint32_t idx = pool_buf_index(p, b);

		if (idx >= p->hot.shadow_cap) { /* cannot happen: it came from the pool */
			if (!queued)
				LAB_LOG(ERR, quality, "pool '%s': quarantined %p is not "
					"in the arena; dropped", p->name, (void *)b);
			atomic_fetch_sub_explicit(&p->q_in_check, 1, memory_order_relaxed);
			continue;
		}
		atomic_fetch_add_explicit(&p->deep_checked, 1, memory_order_relaxed);
		if (!check_quarantined(p, b, idx, queued) &&
		    atomic_load_explicit(&p->policy, memory_order_relaxed) == LAB_POLICY_RETIRE) {
			p->cold[idx].retired = 1;
			atomic_fetch_add_explicit(&p->retired_bufs, 1, memory_order_relaxed);
			atomic_fetch_sub_explicit(&p->q_in_check, 1, memory_order_relaxed);
			continue;
		}
		memset(b->buf_addr, 0, b->buf_len);
		batch[keep++] = b;
	}
	/* The header is sound now (check_quarantined repairs it). Known free if
	 * the word is of the current epoch, else not known. */
	qw = _lab_pool_q(&p->hot);
	_lab_shadow_set(&p->hot, batch, keep, ~(LAB_SH_OWNER | LAB_SH_STATE),
			LAB_SH_KEY(0, LAB_BUF_FREE), LAB_SH_EP(LAB_Q_EPOCH(qw)));
	_lab_pool_put(p, batch, keep);
	atomic_fetch_sub_explicit(&p->q_in_check, keep, memory_order_relaxed);
}

/*
 * Take up to @p want buffers out of @p r (the FIFO or the no-cache staging
 * ring), counted as in check before they leave it (and until they are in the
 * ring or the FIFO): a stats snapshot taken meanwhile may count a buffer
 * twice for a moment, never zero times, so it never shows a buffer in transit
 * as in flight. Only what @p r holds is counted: a caller that counted its
 * whole request made every snapshot of an idle pool taken meanwhile show a
 * batch of buffers that do not exist (the warden asks for POOL_STAGE_CAP of
 * an empty staging ring every tick: "64 counted twice" at a quiet point), and
 * an all-or-none allocation wait for them (nc_in_transit). Another consumer
 * may still take some first: those were in transit, counted twice a moment.
 */
static unsigned int take_counted(struct lab_pool *p, struct lab_ring *r, struct lab_buf **batch,
				 unsigned int want)
{
	uint32_t there = lab_ring_count(r);
	unsigned int got;

	if (want > there)
		want = there;
	if (want == 0)
		return 0;
	atomic_fetch_add_explicit(&p->q_in_check, want, memory_order_relaxed);
	got = lab_ring_dequeue_burst(r, (void **)batch, want);
	if (got < want)
		atomic_fetch_sub_explicit(&p->q_in_check, want - got, memory_order_relaxed);
	return got;
}

/*
 * Take up to @p out buffers from the quarantine FIFO (oldest first), check
 * each, zero its room and free it (or retire it). The warden reports what it
 * finds (findings_lock held); the data path (@p queued) queues it instead:
 * no lock, no system call, bounded work. @return buffers taken.
 */
uint32_t quality_release(struct lab_pool *p, uint32_t out, bool queued)
{
	struct lab_buf *batch[64];
	uint32_t done = 0;

	while (done < out) {
		unsigned int got = take_counted(p, p->quarantine, batch,
						out - done < 64 ? out - done : 64);

		if (got == 0)
			break;
		quality_release_bufs(p, batch, got, queued);
		done += got;
	}
	return done;
}

/* Poison sampled buffers the warden took from a staging ring and queue them
 * in the FIFO for their check after the hold time. The room from the pool's
 * layout, not the header: the header may be what was overwritten. What the
 * FIFO has no room for (the data path under "full" filled it meanwhile) is
 * checked now: picked, so never left unchecked. @return buffers queued. */
static unsigned int stage_poison(struct lab_pool *p, struct lab_buf **b, unsigned int n,
				 bool counted)
{
	unsigned int k;

	/* In check first (unless the caller counted them before it took them),
	 * so a snapshot, or an all-or-none allocation, never misses them in
	 * transit. */
	if (!counted)
		atomic_fetch_add_explicit(&p->q_in_check, n, memory_order_relaxed);
	for (unsigned int i = 0; i < n; i++)
		memset((uint8_t *)b[i] + p->room_off, POOL_POISON, p->room_len);
	k = lab_ring_enqueue_burst(p->quarantine, (void *const *)b, n);
	atomic_fetch_sub_explicit(&p->q_in_check, k, memory_order_relaxed);
	if (k < n)
		quality_release_bufs(p, b + k, n - k, false);
	return k;
}

/*
 * Move what the owners staged into the quarantine, poisoned, while the FIFO
 * has room (quality_lock held: the one consumer of every staging ring). A
 * staging ring left full makes its owner back off, counted: the bound on
 * deep work, never a buffer picked and left unchecked.
 */
static void stage_drain(struct lab_pool *p)
{
	struct lab_buf *batch[POOL_STAGE_CAP];
	uint32_t inq = lab_ring_count(p->quarantine);
	uint32_t room = inq < p->quarantine_cap ? p->quarantine_cap - inq : 0;
	unsigned int got;

	for (unsigned int id = 1; id < POOL_MAX_OWNERS && room != 0; id++) {
		struct sample_stage *st = &p->stage[id];
		uint32_t tail = atomic_load_explicit(&st->tail, memory_order_relaxed);
		uint32_t n = atomic_load_explicit(&st->head, memory_order_acquire) - tail;

		if (n == 0)
			continue;
		n = n < room ? n : room;
		for (uint32_t i = 0; i < n; i++) {
			const struct stage_entry *e = &st->e[(tail + i) % POOL_STAGE_CAP];
			/* From the address: the header may be what was overwritten
			 * (it passed the free's check, so it is the pool's). */
			uint32_t idx = pool_buf_index(p, e->buf);

			/* The free site is the one its quarantined word holds. */
			batch[i] = e->buf;
			cold_sites_set(&p->cold[idx], e->alloc_site, word_site(
				atomic_load_explicit(&p->hot.shadow[idx].w, memory_order_relaxed)));
		}
		room -= stage_poison(p, batch, n, false);
		atomic_store_explicit(&st->tail, tail + n, memory_order_release);
	}
	while (room != 0) {
		unsigned int want = room < POOL_STAGE_CAP ? room : POOL_STAGE_CAP;

		/* Counted in check before they leave the staging ring, and only
		 * what is there: every tick comes here, and a count of a whole
		 * batch of an empty ring would show an idle pool's snapshot 64
		 * buffers quarantined twice over (take_counted). */
		got = take_counted(p, p->nc_stage, batch, want);
		if (got == 0)
			break;
		room -= stage_poison(p, batch, got, true);
	}
}

/*
 * Data path, all-or-none allocation without a cache that found the ring
 * short: take up to @p out staged sampled frees of callers without a cache
 * before the warden does, poison and check them at once (header and redzone;
 * no hold, so a write after those frees is not caught: counted in
 * checked_at_once), zero and free them. Findings queued. @return taken.
 */
uint32_t quality_release_staged(struct lab_pool *p, uint32_t out)
{
	struct lab_buf *batch[POOL_STAGE_CAP];
	uint32_t done = 0;
	unsigned int got;

	while (done < out) {
		unsigned int want = out - done < POOL_STAGE_CAP ? out - done : POOL_STAGE_CAP;

		/* In check first, so a snapshot never misses them in transit. */
		got = take_counted(p, p->nc_stage, batch, want);
		if (got == 0)
			break;
		/* Their sites are in shadow_cold already (quarantine_mark). */
		for (unsigned int i = 0; i < got; i++)
			memset((uint8_t *)batch[i] + p->room_off, POOL_POISON, p->room_len);
		atomic_fetch_add_explicit(&p->checked_at_once, got, memory_order_relaxed);
		quality_release_bufs(p, batch, got, true);
		done += got;
	}
	return done;
}

uint64_t quality_staged_count(const struct lab_pool *p)
{
	uint64_t n = lab_ring_count(p->nc_stage);

	for (unsigned int id = 1; id < POOL_MAX_OWNERS; id++)
		n += (uint32_t)(atomic_load_explicit(&p->stage[id].head, memory_order_acquire) -
				atomic_load_explicit(&p->stage[id].tail, memory_order_acquire));
	return n;
}

/* Whether a staging ring holds anything. */
static bool stage_busy(struct lab_pool *p)
{
	return quality_staged_count(p) != 0;
}

/*
 * The warden's quality work, every period (or all of it now, with @p drain):
 * release the oldest quarantined buffers beyond half the budget (all of them
 * when free runs below low), each checked, zeroed and put back or retired;
 * scan for leaks; report what the data path queued.
 */
unsigned int quality_tend(struct lab_pool *p, uint64_t now_ns, bool drain)
{
	uint32_t inq, out = 0;
	uint32_t age = atomic_load_explicit(&p->leak_age_ms, memory_order_relaxed);
	uint64_t now_ms = now_ns / 1000000;

	/* The warden and lab_pool_quality_check() both come here: the hold
	 * clock (q_aged, q_hold_tick_ns) is theirs to share under the lock. */
	pthread_mutex_lock(&p->quality_lock);
	/* KFENCE's bound: the budget of deep samples, refilled each ms (not
	 * added up: an idle ms does not buy a burst later). */
	if (now_ns - p->credit_ns >= 1000000) {
		atomic_store_explicit(&p->sample_credit,
				      atomic_load_explicit(&p->sample_budget, memory_order_relaxed),
				      memory_order_relaxed);
		p->credit_ns = now_ns;
	}
	pthread_mutex_lock(&p->findings_lock);
	stage_drain(p);
	inq = lab_ring_count(p->quarantine);
	/* FIFO: the oldest first. Beyond half the budget they go at once; the
	 * rest after QUARANTINE_HOLD_MS to 2x that (the ones already there at the
	 * previous hold tick; quarantine_hold_ms), so an idle pool gets its buffers
	 * back. */
	if (drain || lab_ring_count(p->hot.ring) < p->hot.wm_low)
		out = inq;
	else if (inq > p->quarantine_cap / 2)
		out = inq - p->quarantine_cap / 2;
	if (now_ns - p->q_hold_tick_ns >= p->q_hold_ms * 1000000ull) {
		out = out > p->q_aged ? out : p->q_aged < inq ? p->q_aged : inq;
		p->q_aged = inq - out;
		p->q_hold_tick_ns = now_ns;
	} else {
		p->q_aged = p->q_aged > out ? p->q_aged - out : 0;
	}
	quality_report_queued(p);
	quality_release(p, out, false);
	/* Everything now: what was staged behind a full FIFO too (a FIFO of 16
	 * takes 64 owners' staging in 128 rounds; the bound only stops owners
	 * that keep staging meanwhile from holding the caller here). */
	for (int round = 0; drain && round < 1024 && stage_busy(p); round++) {
		stage_drain(p);
		quality_release(p, lab_ring_count(p->quarantine), false);
	}
	if (age != 0 && (drain || now_ms - p->last_leak_scan_ms >= (age / 4 < 1000 ? age / 4 : 1000))) {
		p->last_leak_scan_ms = now_ms;
		leak_scan(p, now_ms, age);
	}
	pthread_mutex_unlock(&p->findings_lock);
	pthread_mutex_unlock(&p->quality_lock);
	return out;
}

unsigned int lab_pool_quality_check(struct lab_pool *p)
{
	return p == NULL ? 0 : quality_tend(p, lab_now_ns(), true);
}

/* Destroy: list what is still in flight, grouped by owner and alloc site. */
void quality_report_in_flight(struct lab_pool *p)
{
	struct leak_group g[16];
	unsigned int ng = 0;
	uint32_t slots = pool_slots(p), q = _lab_pool_q(&p->hot);

	if (LAB_Q_LEVEL(q) == LAB_QUALITY_OFF) {
		LAB_LOG(WARNING, quality, "pool '%s': quality off: the holders of buffers in "
			"flight are not recorded (a checked level records them)", p->name);
		return;
	}
	for (uint32_t i = 0; i < slots && i < p->hot.shadow_cap; i++) {
		uint64_t w = atomic_load_explicit(&p->hot.shadow[i].w, memory_order_relaxed);

		if (__atomic_load_n(&p->hot.shadow[i].buf, __ATOMIC_RELAXED) != NULL &&
		    word_known(w, q) && (w & LAB_SH_STATE) == LAB_BUF_IN_FLIGHT)
			ng = group_add(g, ng, 16, word_owner(w), word_site(w), i, 0);
	}
	log_groups(p, g, ng, "  in flight:");
}
