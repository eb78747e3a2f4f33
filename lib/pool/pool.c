/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Pool create/destroy, chamber growth and shrinking (warden context), owner
 * caches. Everything here is control path: it may lock, allocate and log.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "pool_internal.h"

LAB_LOG_REGISTER(pool, NOTICE)

static_assert(offsetof(struct lab_pool, hot) == 0, "the fast path casts lab_pool to its hot part");

/* The pool's defaults, and so the config's (lab_config_defaults() reads
 * them): the values of config/labyrinth.conf, which the config suite checks. */
void lab_pool_opts_init(struct lab_pool_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->size = sizeof(*o);
	o->name = "labyrinth";
	o->cell_size = 2176; /* 2048 data room + 128 headroom, as RTE_MBUF_DEFAULT_BUF_SIZE */
	o->headroom = 128;
	o->initial = 8192;
	o->max = 65536;
	o->wm_min = (struct lab_count){ 2, true };
	o->wm_low = (struct lab_count){ 10, true };
	o->wm_high = (struct lab_count){ 25, true };
	o->reserve = (struct lab_count){ 2, true };
	o->page_size = 2 * LAB_MIB;
	o->iova_mode = LAB_IOVA_AUTO;
	o->numa_node = -1;
	o->hugepages = LAB_HUGEPAGES_AUTO;
	o->shrink_delay_ms = 1000;
	o->quality = LAB_QUALITY_SAMPLED;
	o->sample_rate = 1024;
	o->quarantine_bytes = 4 * LAB_MIB;
	o->leak_age_ms = 0;
	o->policy = LAB_POLICY_REPORT;
}

/* Resolve and check the options; the message names the values. An external
 * pool's cells are laid out by its caller (cell_size and headroom unused). */
int pool_check_opts(const struct lab_pool_opts *o, bool external, uint32_t *mn, uint32_t *lo,
		    uint32_t *hi, uint32_t *rs)
{
	const char *name = o->name ? o->name : "pool";

	if (o->size < sizeof(*o)) {
		LAB_LOG(ERR, pool, "pool '%s': options size %zu, want sizeof(struct lab_pool_opts) "
			"= %zu", name, o->size, sizeof(*o));
		return -EINVAL;
	}
	if (!external && (o->cell_size <= HDR_SIZE + o->headroom || o->headroom > UINT16_MAX)) {
		LAB_LOG(ERR, pool, "pool '%s': cell_size %u leaves no data room after the %u-byte "
			"header and headroom %u", name, o->cell_size, HDR_SIZE, o->headroom);
		return -EINVAL;
	}
	if (!external && o->align != 0 && ((o->align & (o->align - 1)) != 0 ||
					   o->align < LAB_CACHE_LINE || o->align > 65536)) {
		LAB_LOG(ERR, pool, "pool '%s': align %u must be a power of two from %u to 65536",
			name, o->align, LAB_CACHE_LINE);
		return -EINVAL;
	}
	if (o->initial == 0 || o->initial > o->max) {
		LAB_LOG(ERR, pool, "pool '%s': initial %u buffers must be 1..max (%u)", name,
			o->initial, o->max);
		return -EINVAL;
	}
	*mn = (uint32_t)lab_count_resolve(&o->wm_min, o->initial);
	*lo = (uint32_t)lab_count_resolve(&o->wm_low, o->initial);
	*hi = (uint32_t)lab_count_resolve(&o->wm_high, o->initial);
	*rs = (uint32_t)lab_count_resolve(&o->reserve, o->initial);
	if (*mn > *lo || *lo > *hi || *hi > o->max) {
		LAB_LOG(ERR, pool, "pool '%s': watermarks must satisfy min <= low <= high <= max: "
			"min %u, low %u, high %u, max %u", name, *mn, *lo, *hi, o->max);
		return -EINVAL;
	}
	if (*rs > o->initial || *rs > *mn) {
		LAB_LOG(ERR, pool, "pool '%s': reserve %u must not exceed min %u (it is the part "
			"below min that atomic callers may use) nor the size %u", name, *rs, *mn,
			o->initial);
		return -EINVAL;
	}
	return 0;
}

static size_t pool_align(const struct lab_pool_opts *o)
{
	return o->align != 0 ? o->align : LAB_CACHE_LINE;
}

/* Chambers max buffers can need under the worst layout (4 KiB units in the
 * fallback with iova=pa), before the backing is known. */
static uint32_t arena_chamber_bound(const struct lab_pool_opts *o)
{
	size_t stride = LAB_ALIGN_UP((size_t)o->cell_size + POOL_REDZONE, pool_align(o));
	size_t page = o->page_size ? o->page_size : 2 * LAB_MIB;
	size_t per = page / (stride > 4096 ? stride : 4096);

	return (uint32_t)((o->max + per - 1) / per + 1);
}

/* The chambers of the initial buffers on hugepages (each chamber a page of
 * cells side by side). The arena maps them at create, so that when the
 * hugepages run out part of the way it starts again on 4 KiB pages whole
 * (one notice) instead of the pool failing on a later grow. On 4 KiB pages a
 * chamber may hold fewer cells (none straddles a page): the pool grows the
 * rest from there. */
static uint32_t arena_initial_chambers(const struct lab_pool_opts *o, uint32_t max_chambers)
{
	size_t stride = LAB_ALIGN_UP((size_t)o->cell_size + POOL_REDZONE, pool_align(o));
	size_t page = o->page_size ? o->page_size : 2 * LAB_MIB;
	size_t per = page / stride;
	uint32_t n;

	if (per == 0)
		return 1;
	n = (uint32_t)((o->initial + per - 1) / per);
	return n == 0 ? 1 : n > max_chambers ? max_chambers : n;
}

static struct lab_arena *open_arena(const struct lab_pool_opts *o, uint32_t max_chambers)
{
	struct lab_arena_opts ao;

	lab_arena_opts_init(&ao);
	ao.name = o->name ? o->name : "pool";
	ao.page_size = o->page_size;
	ao.iova_mode = o->iova_mode;
	ao.numa_node = o->numa_node;
	ao.max_chambers = max_chambers;
	ao.initial_chambers = arena_initial_chambers(o, max_chambers);
	ao.flags = lab_hugepages_arena_flags(o->hugepages) | (o->shared ? LAB_ARENA_F_SHARED : 0);
	return lab_arena_create(&ao);
}

/* Write a new cell's header (room at room_off, room_len bytes), its shadow
 * entry and its redzone. @p room_iova: UINT64_MAX if unknown. */
void pool_init_cell(struct lab_pool *p, struct lab_buf *b, uint32_t idx, uint64_t room_iova)
{
	memset(b, 0, sizeof(*b));
	b->buf_addr = (char *)b + p->room_off;
	b->buf_iova = room_iova;
	b->pool = p;
	b->idx = idx;
	b->buf_len = p->room_len;
	b->data_off = (uint16_t)p->headroom;
	quality_init_cell(p, b);
}

/* Write the headers of a new chamber's cells and put them in the free ring. */
static void carve_chamber(struct lab_pool *p, int ch)
{
	const struct lab_cell_layout *l = &p->layout;
	unsigned int batch = 0;

	for (unsigned int c = 0; c < l->per_chamber; c++) {
		uint64_t iova;
		struct lab_buf *b = lab_arena_cell(p->arena, l, (unsigned int)ch, c, &iova);

		pool_init_cell(p, b, (uint32_t)ch * l->per_chamber + c, iova + HDR_SIZE);
		p->scratch[batch++] = b;
	}
	_lab_pool_put(p, p->scratch, batch);
}

/* Warden context: move the overflow list back into the ring. */
void pool_drain_overflow(struct lab_pool *p)
{
	struct lab_buf *b = atomic_exchange_explicit(&p->overflow, NULL, memory_order_acquire);
	unsigned int n = 0;

	/* Clear the link as it is read: a buffer must leave the pool with no
	 * next, or a chain-aware free (lab_free_frames) would follow it. */
	while (b != NULL) {
		struct lab_buf *next = b->next;

		b->next = NULL;
		p->scratch[n++] = b;
		b = next;
	}
	atomic_fetch_sub_explicit(&p->overflow_count, n, memory_order_relaxed);
	_lab_pool_put(p, p->scratch, n);
}

/* Warden context (or create): map one chamber and free its cells. */
int pool_grow_chamber(struct lab_pool *p)
{
	uint64_t total = atomic_load(&p->total);
	int ch;

	if (p->external)
		return -ENOSPC;
	if (total + p->layout.per_chamber > (uint64_t)p->max_chambers * p->layout.per_chamber)
		return -ENOSPC;
	ch = lab_arena_grow(p->arena);
	if (ch < 0) {
		p->grow_failures++;
		return ch;
	}
	carve_chamber(p, ch);
	atomic_fetch_add(&p->total, p->layout.per_chamber);
	return 0;
}

/*
 * Warden context: with free above high, take the surplus (never below high)
 * out of the ring, release every chamber all of whose cells are in hand, and
 * put the rest back. Chambers below min_chambers are kept.
 */
void pool_try_shrink(struct lab_pool *p)
{
	uint32_t free = lab_ring_count(p->hot.ring), per = p->layout.per_chamber;
	unsigned int got, kept = 0, slots;
	uint32_t chambers = (uint32_t)(atomic_load(&p->total) / per);

	if (p->external)
		return;
	slots = lab_arena_chamber_slots(p->arena);
	if (free <= p->wm_high || free - p->wm_high < per || chambers <= p->min_chambers)
		return;
	got = lab_ring_dequeue_burst(p->hot.ring, (void **)p->scratch, free - p->wm_high);
	memset(p->chamber_count, 0, slots * sizeof(uint32_t));
	for (unsigned int i = 0; i < got; i++)
		p->chamber_count[p->scratch[i]->idx / per]++;
	for (unsigned int ch = slots; ch-- > 0 && chambers > p->min_chambers;) {
		if (p->chamber_count[ch] != per)
			continue;
		p->chamber_count[ch] = UINT32_MAX; /* mark: released */
		chambers--;
	}
	for (unsigned int i = 0; i < got; i++)
		if (p->chamber_count[p->scratch[i]->idx / per] != UINT32_MAX)
			p->scratch[kept++] = p->scratch[i];
	_lab_pool_put(p, p->scratch, kept);
	for (unsigned int ch = 0; ch < slots; ch++) {
		if (p->chamber_count[ch] != UINT32_MAX)
			continue;
		atomic_fetch_sub(&p->total, per);
		for (uint32_t i = ch * per; i < (ch + 1) * per; i++)
			__atomic_store_n(&p->hot.shadow[i].buf, NULL, __ATOMIC_RELAXED); /* now bad */
		lab_arena_release(p->arena, ch);
		p->shrinks++;
		LAB_LOG(DEBUG, pool, "pool '%s': chamber %u released", p->name, ch);
	}
}

int pool_setup_hot(struct lab_pool *p, uint32_t mn, uint32_t lo, uint32_t rs)
{
	uint64_t cap = (uint64_t)p->max_chambers * p->layout.per_chamber;

	p->hot.ring = lab_ring_create((uint32_t)cap);
	p->scratch = calloc(cap, sizeof(*p->scratch));
	p->chamber_count = calloc(p->max_chambers + 1, sizeof(uint32_t));
	if (p->hot.ring == NULL || p->scratch == NULL || p->chamber_count == NULL)
		return -ENOMEM;
	p->hot.wm_min = mn;
	p->hot.wm_atomic = mn - rs;
	p->hot.wm_low = lo;
	return 0;
}

void pool_free(struct lab_pool *p)
{
	if (p->arena != NULL)
		lab_arena_destroy(p->arena);
	free(p->runs);
	lab_ring_free(p->hot.ring);
	free(p->scratch);
	free(p->chamber_count);
	quality_free(p);
	pool_nocache_fini(p);
	pthread_mutex_destroy(&p->lock);
	free(p);
}

/* The pool structure with its locks and the options every kind shares. */
struct lab_pool *pool_alloc(const struct lab_pool_opts *o, uint32_t hi)
{
	struct lab_pool *p = aligned_alloc(LAB_CACHE_LINE, LAB_ALIGN_UP(sizeof(*p), LAB_CACHE_LINE));

	if (p == NULL) {
		lab_errno = ENOMEM;
		return NULL;
	}
	memset(p, 0, sizeof(*p));
	if (pool_nocache_init(p) < 0) {
		free(p);
		lab_errno = ENOMEM;
		return NULL;
	}
	pthread_mutex_init(&p->lock, NULL);
	pthread_mutex_init(&p->quality_lock, NULL);
	pthread_mutex_init(&p->findings_lock, NULL);
	snprintf(p->name, sizeof(p->name), "%s", o->name ? o->name : "pool");
	p->cell_size = o->cell_size;
	p->headroom = o->headroom;
	p->room_off = HDR_SIZE;
	p->room_len = o->cell_size > HDR_SIZE ? o->cell_size - HDR_SIZE : 0;
	p->wm_high = hi;
	p->shrink_delay_ms = o->shrink_delay_ms;
	return p;
}

struct lab_pool *lab_pool_create(const struct lab_pool_opts *o)
{
	struct lab_arena_stats ast;
	uint32_t mn, lo, hi, rs;
	struct lab_pool *p;
	int rc;

	if (o == NULL || (rc = pool_check_opts(o, false, &mn, &lo, &hi, &rs)) < 0) {
		lab_errno = EINVAL;
		return NULL;
	}
	p = pool_alloc(o, hi);
	if (p == NULL)
		return NULL;
	p->arena = open_arena(o, arena_chamber_bound(o));
	if (p->arena == NULL)
		goto err;
	/* Every cell has a redzone after its data room, for the overrun checks. */
	if ((rc = lab_arena_layout(p->arena, o->cell_size + POOL_REDZONE, pool_align(o),
				   &p->layout)) < 0) {
		lab_errno = -rc;
		goto err;
	}
	p->max_chambers = (o->max + p->layout.per_chamber - 1) / p->layout.per_chamber;
	p->min_chambers = (o->initial + p->layout.per_chamber - 1) / p->layout.per_chamber;
	if ((rc = pool_setup_hot(p, mn, lo, rs)) < 0 || (rc = quality_setup(p, o)) < 0) {
		lab_errno = -rc;
		goto err;
	}
	/* The arena mapped chambers 0..n-1 at create; carve them, then grow the
	 * rest (on 4 KiB pages a chamber may hold fewer cells than estimated). */
	lab_arena_stats(p->arena, &ast);
	for (uint32_t i = 0; i < ast.chambers && i < p->min_chambers; i++) {
		carve_chamber(p, i);
		atomic_fetch_add(&p->total, p->layout.per_chamber);
	}
	for (uint32_t i = ast.chambers; i < p->min_chambers; i++) {
		if ((rc = pool_grow_chamber(p)) < 0) {
			LAB_LOG(ERR, pool, "pool '%s': cannot map the %u chambers of its initial %u "
				"buffers: %s", p->name, p->min_chambers, o->initial, strerror(-rc));
			lab_errno = -rc;
			goto err;
		}
	}
	if ((rc = warden_attach(p)) < 0) {
		lab_errno = -rc;
		goto err;
	}
	LAB_LOG(INFO, pool, "pool '%s': %llu buffers of %u bytes in %u chambers (max %u), "
		"min %u low %u high %u reserve %u", p->name,
		(unsigned long long)atomic_load(&p->total), p->cell_size, p->min_chambers,
		p->max_chambers * p->layout.per_chamber, mn, lo, hi, rs);
	return p;
err:
	pool_free(p);
	return NULL;
}

/* Registering the memory of @p p with someone else (@p what) needs it fixed. */
static int pool_fixed(const struct lab_pool *p, const char *what)
{
	if (p->external) {
		LAB_LOG(ERR, pool, "pool '%s' lives in its creator's memory (an external pool): "
			"register that memory instead", p->name);
		return -ENOTSUP;
	}
	if (p->min_chambers != p->max_chambers) {
		LAB_LOG(ERR, pool, "pool '%s' grows and shrinks between %u and %u buffers (%u and "
			"%u chambers): %s needs a fixed pool; set initial = max", p->name,
			p->min_chambers * p->layout.per_chamber,
			p->max_chambers * p->layout.per_chamber, p->min_chambers, p->max_chambers,
			what);
		return -EBUSY;
	}
	return 0;
}

int lab_pool_memory(const struct lab_pool *p, void **base, size_t *len)
{
	size_t span;
	int rc = pool_fixed(p, "registering its memory");

	if (rc < 0)
		return rc;
	lab_arena_span(p->arena, base, &span);
	*len = (size_t)p->max_chambers * lab_arena_page_size(p->arena);
	return 0;
}

int lab_pool_regions(const struct lab_pool *p, struct lab_mem_region *out, unsigned int max)
{
	int rc = pool_fixed(p, "sharing its memory (a peer maps it once)");

	if (rc < 0)
		return rc;
	rc = lab_arena_regions(p->arena, out, max);
	if (rc == -ENOTSUP)
		LAB_LOG(ERR, pool, "pool '%s' was not created shared: set lab_pool_opts.shared "
			"to give another process its memory", p->name);
	return rc;
}
