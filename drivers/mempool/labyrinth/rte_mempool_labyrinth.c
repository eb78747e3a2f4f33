/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The labyrinth page pool as a DPDK mempool driver ("labyrinth"): a second
 * front door to lib/pool, not a second pool. Each DPDK mempool is one
 * external labyrinth pool over the mempool's own memory: the same shared
 * ring, watermarks, warden, shadow metadata and quality levels.
 *
 * Object layout (populate): every object gets a cell
 *
 *   [struct lab_buf, 64 B | DPDK object header | object (elt) | trailer | redzone, 64 B]
 *
 * so the pool's header, shadow index and redzone sit outside everything DPDK
 * and the application own. For a pktmbuf pool the pool's "room" is the mbuf
 * data room (buf_addr .. + data room size); quality checks poison and check
 * only that room and the redzone, never the rte_mbuf, its private area or the
 * object header (rte_pktmbuf_init wrote them once and nobody rewrites them).
 * Other mempools have no room: their objects are checked for ownership (double
 * and bad frees) and their redzones and headers for overruns.
 *
 * DPDK contracts kept: enqueue never fails (a refused object is a finding and
 * stays out of the ring); dequeue is all or nothing (-ENOBUFS); get_count is
 * exact at rest and counts quarantined objects as available; populate may be
 * called many times and calls obj_cb for every object.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <rte_common.h>
#include <rte_eal.h>
#include <rte_lcore.h>
#include <rte_malloc.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>
#include <rte_telemetry.h>

#include <labyrinth/lab_config.h>
#include <labyrinth/lab_pool_stats_fields.h>
#include <labyrinth/lab_log.h>
#include <labyrinth/lab_pool_driver.h>

#include "lab_mempool.h"

LAB_LOG_REGISTER(mempool, NOTICE)

#define LAB_MP_MAGIC 0x6c61626d706f6f6cull /* "labmpool" */
#define LAB_MP_HDR 64u                      /* struct lab_buf before DPDK's header */

/*
 * Per mempool, in DPDK's shared memory (rte_zmalloc), so that a secondary
 * process reads the owner's pid and refuses clearly instead of following the
 * pool pointer into the primary's private heap.
 */
struct lab_mp {
	uint64_t magic;
	pid_t pid;              /* the process whose heap holds the pool */
	uint32_t obj_off;       /* object address - cell address */
	uint32_t stride;        /* cell size */
	struct lab_pool *pool;
	struct rte_mempool *mp;
	struct lab_mp *next;    /* the telemetry list */
	_Atomic uint32_t refused; /* calls refused in other processes */
	char params[LAB_MP_PARAMS_LEN];
};

static pid_t my_pid;

/* Pools for telemetry. The telemetry thread reads, alloc and free write. */
static struct {
	pthread_mutex_t lock;
	struct lab_mp *head;
	bool event_cb;
} L = { .lock = PTHREAD_MUTEX_INITIALIZER };

/* ------------------------------------------------------------- data path */

/* A secondary process (or any process that did not create the pool), or a
 * pool that is not labyrinth's reaching these ops through a mismatched ops
 * index: refused, said once per pool (and once for a pool that is not ours). */
static __rte_noinline int foreign_call(struct rte_mempool *mp, const char *what)
{
	static _Atomic uint32_t not_ours, said;
	struct lab_mp *m = mp->pool_data;

	if (m == NULL || m->magic != LAB_MP_MAGIC) {
		if (atomic_fetch_add_explicit(&not_ours, 1, memory_order_relaxed) == 0)
			LAB_LOG(ERR, mempool, "mempool '%s': %s refused in process %d: it is not a "
				"labyrinth mempool, yet its ops index (%d) names labyrinth here: the "
				"processes registered their mempool drivers in different orders "
				"(docs/dpdk.md, \"Multi-process\")", mp->name, what, (int)my_pid,
				mp->ops_index);
		return -ENOBUFS;
	}
	/* The count is shared; the message is said once in each process. */
	atomic_fetch_add_explicit(&m->refused, 1, memory_order_relaxed);
	if (atomic_fetch_add_explicit(&said, 1, memory_order_relaxed) == 0)
		LAB_LOG(ERR, mempool, "mempool '%s': %s refused in process %d: %s", mp->name,
			what, (int)my_pid, lab_mp_refusal[0] ? lab_mp_refusal :
			"the pool was created by another process and a labyrinth pool's ring, "
			"shadow and warden live in that process's private memory (DPDK "
			"multi-process: only get_count is supported, docs/dpdk.md)");
	return -ENOBUFS;
}

static int lab_mp_enqueue(struct rte_mempool *mp, void *const *obj_table, unsigned int n)
{
	struct lab_mp *m = mp->pool_data;
	const void *site = __builtin_return_address(0);
	struct lab_buf *bufs[64];

	if (unlikely(m == NULL || m->pid != my_pid)) {
		foreign_call(mp, "enqueue");
		return 0;
	}
	while (n > 0) {
		unsigned int k = n < RTE_DIM(bufs) ? n : RTE_DIM(bufs);

		for (unsigned int i = 0; i < k; i++)
			bufs[i] = (struct lab_buf *)((char *)obj_table[i] - m->obj_off);
		/* A refused object is a finding (queued for the warden) and is not
		 * put back: it is in the pool already, or it is not the pool's. */
		lab_free_bulk_to_at(m->pool, bufs, k, site);
		obj_table += k;
		n -= k;
	}
	return 0;
}

static int lab_mp_dequeue(struct rte_mempool *mp, void **obj_table, unsigned int n)
{
	struct lab_mp *m = mp->pool_data;

	if (unlikely(m == NULL || m->pid != my_pid))
		return foreign_call(mp, "dequeue");
	/* No owner cache: all or nothing from the shared ring. */
	if (lab_alloc_bulk_at(m->pool, NULL, (struct lab_buf **)obj_table, n, LAB_ALLOC_ALL,
			      __builtin_return_address(0)) != n)
		return -ENOBUFS;
	for (unsigned int i = 0; i < n; i++)
		obj_table[i] = (char *)obj_table[i] + m->obj_off;
	return 0;
}

/* In another process (dpdk-proc-info --show-mempool), the creator's count,
 * asked over DPDK's IPC: the same figure as its telemetry's "available". */
static __rte_noinline unsigned int foreign_count(const struct rte_mempool *mp)
{
	struct lab_mp *m = mp->pool_data;
	int64_t n;

	if (m == NULL || m->magic != LAB_MP_MAGIC || lab_mp_refusal[0] ||
	    rte_eal_process_type() != RTE_PROC_SECONDARY) {
		foreign_call((struct rte_mempool *)(uintptr_t)mp, "get_count");
		return 0;
	}
	/* One request per call: proc-info and rte_mempool_dump ask rarely. */
	n = lab_mp_primary_count(mp->name);
	if (n < 0) {
		foreign_call((struct rte_mempool *)(uintptr_t)mp, "get_count");
		return 0;
	}
	return (unsigned int)n;
}

static unsigned int lab_mp_get_count(const struct rte_mempool *mp)
{
	struct lab_mp *m = mp->pool_data;

	if (unlikely(m == NULL || m->pid != my_pid))
		return foreign_count(mp);
	return (unsigned int)lab_pool_available(m->pool);
}

int64_t lab_mp_local_count(const char *pool)
{
	int64_t n = -ENOENT;

	pthread_mutex_lock(&L.lock);
	for (struct lab_mp *m = L.head; m != NULL; m = m->next)
		if (m->pid == my_pid && strcmp(m->mp->name, pool) == 0)
			n = (int64_t)lab_pool_available(m->pool);
	pthread_mutex_unlock(&L.lock);
	return n;
}

/* ---------------------------------------------------------- control path */

static int spawn_ctrl(pthread_t *tid, const char *name, void *(*fn)(void *), void *arg)
{
	int rc = rte_ctrl_thread_create(tid, name, NULL, fn, arg);

	return rc > 0 ? -rc : rc;
}

/* Before DPDK frees a destroyed mempool's memory: check what is in
 * quarantine and report every finding while the objects still exist, and
 * report objects the application still holds (DPDK's per-lcore caches hold
 * some legitimately: it does not flush them into a pool it frees).
 * A pool whose populate failed never went live: DPDK has taken every object
 * out and freed the memory already (rte_mempool_populate_default's failure
 * path, rte_mempool_free_memchunks), so there is nothing to check, and the
 * objects it took are not held by anyone: its message is the only report. */
static void mempool_event(enum rte_mempool_event ev, struct rte_mempool *mp, void *arg)
{
	struct lab_mp *m;

	RTE_SET_USED(arg);
	if (ev != RTE_MEMPOOL_EVENT_DESTROY)
		return;
	pthread_mutex_lock(&L.lock);
	for (m = L.head; m != NULL && m->mp != mp; m = m->next)
		;
	pthread_mutex_unlock(&L.lock);
	if (m != NULL && m->pid == my_pid && mp->populated_size == 0) {
		LAB_LOG(DEBUG, mempool, "mempool '%s': destroyed before it was populated: "
			"nothing to check", mp->name);
	} else if (m != NULL && m->pid == my_pid) {
		lab_pool_quality_check(m->pool);
		/* DPDK's count is the pool's plus its caches'. */
		lab_pool_check_in_flight(m->pool, rte_mempool_avail_count(mp) -
					 lab_pool_available(m->pool));
	}
}

/*
 * The cell: [lab_buf | header | elt | trailer | redzone], cache-line aligned.
 * Without RTE_LIBRTE_MEMPOOL_DEBUG the trailer is only padding (DPDK spreads
 * objects over memory channels with it): the redzone goes right after the
 * object, over that padding.
 */
#ifdef RTE_LIBRTE_MEMPOOL_DEBUG
#define TRAILER_IS_PADDING 0
#else
#define TRAILER_IS_PADDING 1
#endif

static uint32_t cell_stride(const struct rte_mempool *mp)
{
	uint32_t tail = mp->trailer_size + LAB_POOL_REDZONE;

	if (TRAILER_IS_PADDING)
		tail = RTE_MAX(mp->trailer_size, LAB_POOL_REDZONE);
	return RTE_ALIGN_CEIL(LAB_MP_HDR + mp->header_size + mp->elt_size + tail,
			      RTE_CACHE_LINE_SIZE);
}

/* Where the pool's room is: the mbuf data room of a pktmbuf pool, else none. */
static void room_of(const struct rte_mempool *mp, uint32_t obj_off, uint32_t *off, uint32_t *len)
{
	const struct rte_pktmbuf_pool_private *pp;

	*off = obj_off + mp->elt_size + (TRAILER_IS_PADDING ? 0 : mp->trailer_size);
	*len = 0;
	if (mp->private_data_size < sizeof(*pp) || (!TRAILER_IS_PADDING && mp->trailer_size))
		return;
	pp = rte_mempool_get_priv((struct rte_mempool *)(uintptr_t)mp);
	if (pp->mbuf_data_room_size == 0 ||
	    sizeof(struct rte_mbuf) + pp->mbuf_priv_size + pp->mbuf_data_room_size != mp->elt_size)
		return;
	*off = obj_off + (uint32_t)sizeof(struct rte_mbuf) + pp->mbuf_priv_size;
	*len = pp->mbuf_data_room_size;
}

static int lab_mp_alloc(struct rte_mempool *mp)
{
	struct lab_pool_opts o;
	struct lab_config cfg;
	struct lab_mp *m;
	uint32_t room_off, room_len;
	unsigned int given = 0;
	int rc;

	lab_config_defaults(&cfg);
	snprintf(cfg.name, sizeof(cfg.name), "%s", mp->name);
	lab_mp_config_defaults(&cfg);
	if ((rc = lab_mp_parse(&cfg, getenv(LAB_MP_ENV), LAB_MP_ENV, mp->name, &given)) < 0 ||
	    (rc = lab_mp_parse(&cfg, mp->pool_config, "pool_config", mp->name, &given)) < 0)
		return rc;
	lab_mp_derive(&cfg, given, mp->size);
	m = rte_zmalloc_socket("labyrinth_mempool", sizeof(*m), RTE_CACHE_LINE_SIZE,
			       mp->socket_id);
	if (m == NULL)
		m = rte_zmalloc("labyrinth_mempool", sizeof(*m), RTE_CACHE_LINE_SIZE);
	if (m == NULL) {
		LAB_LOG(ERR, mempool, "mempool '%s': no memory for the driver's state", mp->name);
		return -ENOMEM;
	}
	m->magic = LAB_MP_MAGIC;
	m->pid = my_pid;
	m->mp = mp;
	m->obj_off = LAB_MP_HDR + mp->header_size;
	m->stride = cell_stride(mp);
	lab_mp_params_string(&cfg, m->params, sizeof(m->params));
	room_of(mp, m->obj_off, &room_off, &room_len);
	lab_pool_opts_from_config(&o, &cfg);
	o.name = mp->name;
	o.max = mp->size;
	lab_warden_set_spawner(spawn_ctrl);
	m->pool = lab_pool_create_external(&o, room_off, room_len);
	if (m->pool == NULL) {
		rc = -lab_errno;
		LAB_LOG(ERR, mempool, "mempool '%s': cannot create its labyrinth pool (%s)",
			mp->name, strerror(lab_errno));
		rte_free(m);
		return rc ? rc : -EINVAL;
	}
	pthread_mutex_lock(&L.lock);
	if (!L.event_cb && rte_mempool_event_callback_register(mempool_event, NULL) == 0)
		L.event_cb = true;
	m->next = L.head;
	L.head = m;
	pthread_mutex_unlock(&L.lock);
	mp->pool_data = m;
	LAB_LOG(INFO, mempool, "mempool '%s': %u objects in %u-byte cells (object at +%u, %s), "
		"%s", mp->name, mp->size, m->stride, m->obj_off,
		room_len ? "mbuf data room checked" : "no data room", m->params);
	return 0;
}

static void lab_mp_free(struct rte_mempool *mp)
{
	struct lab_mp *m = mp->pool_data;

	if (m == NULL || m->magic != LAB_MP_MAGIC)
		return;
	pthread_mutex_lock(&L.lock);
	for (struct lab_mp **pp = &L.head; *pp != NULL; pp = &(*pp)->next) {
		if (*pp == m) {
			*pp = m->next;
			break;
		}
	}
	pthread_mutex_unlock(&L.lock);
	/* DPDK has taken every object out (rte_mempool_free_memchunks) and
	 * freed the memory: forget the pool. The warden stops with the last. */
	if (m->pid == my_pid)
		lab_pool_destroy_external(m->pool);
	m->magic = 0;
	rte_free(m);
	mp->pool_data = NULL;
}

static ssize_t lab_mp_calc_mem_size(const struct rte_mempool *mp, uint32_t obj_num,
				    uint32_t pg_shift, size_t *min_chunk_size, size_t *align)
{
	/* DPDK's helper over the cell size instead of the object's. */
	struct rte_mempool tmp = *mp;

	tmp.trailer_size = cell_stride(mp) - mp->header_size - mp->elt_size;
	return rte_mempool_op_calc_mem_size_helper(&tmp, obj_num, pg_shift, 0, min_chunk_size,
						   align);
}

struct obj_init {
	struct rte_mempool *mp;
	rte_mempool_populate_obj_cb_t *obj_cb;
	void *obj_cb_arg;
	uint32_t obj_off;
	rte_iova_t va_iova; /* of the run's first cell */
};

static void obj_init(struct lab_buf *cell, uint64_t off, void *arg)
{
	struct obj_init *oi = arg;

	oi->obj_cb(oi->mp, oi->obj_cb_arg, (char *)cell + oi->obj_off,
		   oi->va_iova == RTE_BAD_IOVA ? RTE_BAD_IOVA : oi->va_iova + off + oi->obj_off);
}

/* Hand @p n cells from @p va (per_page a page, pages pg_sz apart) to the pool;
 * obj_cb runs on each as the pool adds it. */
static int add_cells(struct rte_mempool *mp, char *va, char *base, rte_iova_t iova,
		     uint32_t n, uint32_t per_page, size_t pg_sz,
		     rte_mempool_populate_obj_cb_t *obj_cb, void *obj_cb_arg)
{
	struct lab_mp *m = mp->pool_data;
	struct obj_init oi = { mp, obj_cb, obj_cb_arg, m->obj_off,
			       iova == RTE_BAD_IOVA ? RTE_BAD_IOVA : iova + (uint64_t)(va - base) };
	int rc;

	if (n == 0)
		return 0;
	if (per_page >= n) {
		per_page = n;
		pg_sz = (size_t)m->stride * n;
	}
	rc = lab_pool_add_cells_paged(m->pool, va, oi.va_iova == RTE_BAD_IOVA ? UINT64_MAX :
				      oi.va_iova, m->stride, n, per_page, pg_sz, obj_init, &oi);
	if (rc < 0)
		LAB_LOG(ERR, mempool, "mempool '%s': cannot add %u objects at %p: %s",
			mp->name, n, (void *)va, strerror(-rc));
	return rc;
}

/* Cells that fit in @p len bytes from the start of a page, per_page a page. */
static uint32_t cells_in(size_t len, uint32_t stride, uint32_t per_page, size_t pg_sz)
{
	uint64_t rest = len % pg_sz / stride;
	uint64_t n = len / pg_sz * per_page + (rest < per_page ? rest : per_page);

	return n < UINT32_MAX ? (uint32_t)n : UINT32_MAX;
}

/*
 * No cell crosses a page (pages need not be IOVA-contiguous): a head run up
 * to the first page boundary, then one run of whole pages. Two runs of pool
 * bookkeeping per chunk, whatever its page count (on 4 KiB pages an mbuf
 * takes a page to itself).
 */
static int lab_mp_populate(struct rte_mempool *mp, unsigned int max_objs, void *vaddr,
			   rte_iova_t iova, size_t len, rte_mempool_populate_obj_cb_t *obj_cb,
			   void *obj_cb_arg)
{
	struct lab_mp *m = mp->pool_data;
	char *base = vaddr, *head = RTE_PTR_ALIGN_CEIL(base, RTE_CACHE_LINE_SIZE), *body;
	uint32_t n_head, n_body, per_page;
	size_t pg_sz = 0;
	int rc;

	if ((rc = rte_mempool_get_page_size(mp, &pg_sz)) < 0)
		return rc;
	if ((size_t)(head - base) >= len)
		return 0;
	if (pg_sz == 0 || m->stride > pg_sz) {
		/* One run: pages are IOVA-contiguous or do not matter. */
		n_head = (uint32_t)RTE_MIN((len - (size_t)(head - base)) / m->stride,
					   (size_t)max_objs);
		rc = add_cells(mp, head, base, iova, n_head, n_head ? n_head : 1, 0, obj_cb,
			       obj_cb_arg);
		return rc < 0 ? rc : (int)n_head;
	}
	per_page = (uint32_t)(pg_sz / m->stride);
	body = RTE_PTR_ALIGN_CEIL(head, pg_sz);
	if (body > base + len)
		body = base + len;
	n_head = RTE_MIN((uint32_t)((size_t)(body - head) / m->stride), max_objs);
	n_body = RTE_MIN(cells_in(len - (size_t)(body - base), m->stride, per_page, pg_sz),
			 max_objs - n_head);
	if ((rc = add_cells(mp, head, base, iova, n_head, per_page, pg_sz, obj_cb,
			    obj_cb_arg)) < 0 ||
	    (rc = add_cells(mp, body, base, iova, n_body, per_page, pg_sz, obj_cb,
			    obj_cb_arg)) < 0)
		return rc;
	return (int)(n_head + n_body);
}

static int lab_mp_get_info(const struct rte_mempool *mp, struct rte_mempool_info *info)
{
	RTE_SET_USED(mp);
	info->contig_block_size = 0;
	return 0;
}

static const struct rte_mempool_ops lab_mp_ops = {
	.name = "labyrinth",
	.alloc = lab_mp_alloc,
	.free = lab_mp_free,
	.enqueue = lab_mp_enqueue,
	.dequeue = lab_mp_dequeue,
	.get_count = lab_mp_get_count,
	.calc_mem_size = lab_mp_calc_mem_size,
	.populate = lab_mp_populate,
	.get_info = lab_mp_get_info,
};

RTE_MEMPOOL_REGISTER_OPS(lab_mp_ops);

/* ------------------------------------------------------------- telemetry */

static int tel_list(const char *cmd, const char *params, struct rte_tel_data *d)
{
	RTE_SET_USED(cmd);
	RTE_SET_USED(params);
	rte_tel_data_start_array(d, RTE_TEL_STRING_VAL);
	pthread_mutex_lock(&L.lock);
	for (struct lab_mp *m = L.head; m != NULL; m = m->next)
		rte_tel_data_add_array_string(d, m->mp->name);
	pthread_mutex_unlock(&L.lock);
	return 0;
}

/* The stats table's telemetry rows, under the names every other writer uses.
 * Ratios are rounded: the dicts here carry integers. */
static void tel_figures(struct rte_tel_data *d, const struct lab_pool_stats *st)
{
	size_t n;
	const struct lab_pool_stat_field *t = lab_pool_stat_fields(&n);

	for (size_t i = 0; i < n; i++)
		if (t[i].writers & LAB_STAT_TEL)
			rte_tel_data_add_dict_u64(d, t[i].name, lab_pool_stat_u64(st, &t[i]));
}

static int tel_info(const char *cmd, const char *params, struct rte_tel_data *d)
{
	struct rte_tel_data *fd;
	struct lab_pool_stats st;
	struct lab_mp *m;
	int rc = 0;

	RTE_SET_USED(cmd);
	if (params == NULL || *params == '\0')
		return -EINVAL;
	pthread_mutex_lock(&L.lock);
	for (m = L.head; m != NULL && strcmp(m->mp->name, params) != 0; m = m->next)
		;
	if (m == NULL || m->pid != my_pid) {
		rc = -EINVAL;
		goto out;
	}
	fd = rte_tel_data_alloc();
	if (fd == NULL) {
		rc = -ENOMEM;
		goto out;
	}
	lab_pool_stats(m->pool, &st);
	rte_tel_data_start_dict(d);
	rte_tel_data_add_dict_string(d, "name", m->mp->name);
	rte_tel_data_add_dict_u64(d, "available", lab_pool_available(m->pool));
	rte_tel_data_add_dict_string(d, "quality", lab_quality_name(st.quality));
	tel_figures(d, &st);
	rte_tel_data_add_dict_u64(d, "cell_size", m->stride);
	rte_tel_data_add_dict_string(d, "params", m->params);
	rte_tel_data_start_dict(fd);
	for (unsigned int k = 0; k < LAB_FIND_KINDS; k++)
		rte_tel_data_add_dict_u64(fd, lab_finding_kind_name((enum lab_finding_kind)k),
					  st.findings[k]);
	rte_tel_data_add_dict_container(d, "findings", fd, 0);
out:
	pthread_mutex_unlock(&L.lock);
	return rc;
}

RTE_INIT(lab_mp_init)
{
	my_pid = getpid();
	rte_telemetry_register_cmd("/labyrinth/list", tel_list,
				   "Returns the names of the mempools on labyrinth. No parameters");
	rte_telemetry_register_cmd("/labyrinth/info", tel_info,
				   "Returns a labyrinth mempool's counts, watermarks, reserve and "
				   "findings. Parameters: mempool name");
}
