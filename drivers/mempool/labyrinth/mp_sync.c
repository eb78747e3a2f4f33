/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * DPDK multi-process: one mempool ops order in every process.
 *
 * A mempool stores its driver as an index into rte_mempool_ops_table, and
 * that table is filled per process, in the order the drivers' constructors
 * run. Debian's DPDK 22.11 links librte_mempool_dpaa into dpdk-testpmd, so
 * testpmd registers "dpaa" first and the plugins from the driver directory
 * after it, while dpdk-dumpcap, dpdk-pdump and dpdk-proc-info link no
 * mempool driver and register "dpaa" when its plugin's turn comes. The same
 * index then names another driver in each process: testpmd's ring_mp_mc
 * (3) is ring_sp_sc in proc-info, and dumpcap's capture pool, ring_mp_mc
 * (2), is dpaa2 in testpmd, whose dequeue fails, so the primary drops every
 * packet it should copy for dumpcap (docs/dpdk.md, "Multi-process").
 *
 * The fix works by design, for DPDK's own drivers as well as ours: the
 * primary publishes its table's names in a memzone, and a secondary puts its
 * own table in that order before the application runs (an ops struct is
 * only callbacks and a name, so moving one is safe while no mempool of this
 * process uses it; none does before rte_eal_init returns). A driver the
 * primary has and the secondary lacks keeps its slot with callbacks that
 * refuse and say which driver to load.
 *
 * The hook is a bus without devices: EAL probes buses (rte_bus_probe) after
 * it has attached the shared memory and before rte_eal_init returns, which
 * is the only point a plugin gets called there. The bus API is internal to
 * DPDK 22.11 and bus_driver.h is not installed by Debian, so the struct's
 * leading members are declared here as DPDK 22.11 lays them out (the same
 * since 17.11); the members after them stay zero, which EAL 22.11 reads as
 * "not implemented" (it checks each for NULL before a call:
 * eal_common_bus.c, eal_common_dev.c, eal_common_devargs.c).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <rte_bus.h>
#include <rte_dev.h>
#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_memzone.h>
#include <rte_mempool.h>
#include <rte_version.h>

#include <labyrinth/lab_log.h>

#include "lab_mempool.h"

LAB_LOG_DECLARE(mempool);

#if RTE_VERSION < RTE_VERSION_NUM(22, 11, 0, 0) || RTE_VERSION >= RTE_VERSION_NUM(23, 0, 0, 0)
#error "struct rte_bus below is DPDK 22.11's: check lib/eal/include/bus_driver.h"
#endif

#define OPS_MZ "lab_mp_ops"
#define OPS_MAGIC 0x6c61626f70736f72ull /* "labopsor" */
#define COUNT_MSG "lab_mp_count"

/* Written once by the primary, read by every secondary. */
struct ops_order {
	uint64_t magic;
	char version[32];       /* the primary's plugin: LAB_MP_VERSION */
	uint32_t layout;        /* and its shared layout: LAB_MP_LAYOUT */
	int32_t pid;
	uint32_t num_ops;
	char names[RTE_MEMPOOL_MAX_OPS_IDX][RTE_MEMPOOL_OPS_NAMESIZE];
};

/* Why this process refuses every labyrinth call, or "" */
char lab_mp_refusal[256];

/* ------------------------------------------------ ops this process lacks */

static const char *ops_name(const struct rte_mempool *mp)
{
	return rte_mempool_ops_table.ops[mp->ops_index].name;
}

static int missing_refuse(const struct rte_mempool *mp)
{
	LAB_LOG(ERR, mempool, "mempool '%s' uses the mempool driver '%s', which the primary "
		"process loaded and process %d did not: load the same drivers in every process "
		"(-d librte_mempool_<name>.so)", mp->name, ops_name(mp), (int)getpid());
	return -ENOTSUP;
}

static int missing_alloc(struct rte_mempool *mp)
{
	return missing_refuse(mp);
}

static void missing_free(struct rte_mempool *mp)
{
	missing_refuse(mp);
}

static int missing_enqueue(struct rte_mempool *mp, void *const *o, unsigned int n)
{
	RTE_SET_USED(o);
	RTE_SET_USED(n);
	return missing_refuse(mp);
}

static int missing_dequeue(struct rte_mempool *mp, void **o, unsigned int n)
{
	RTE_SET_USED(o);
	RTE_SET_USED(n);
	return missing_refuse(mp);
}

static unsigned int missing_get_count(const struct rte_mempool *mp)
{
	missing_refuse(mp);
	return 0;
}

static void set_missing(struct rte_mempool_ops *ops, const char *name)
{
	memset(ops, 0, sizeof(*ops));
	snprintf(ops->name, sizeof(ops->name), "%s", name);
	ops->alloc = missing_alloc;
	ops->free = missing_free;
	ops->enqueue = missing_enqueue;
	ops->dequeue = missing_dequeue;
	ops->get_count = missing_get_count;
}

/* ------------------------------------------------------ the ops order */

static void publish(void)
{
	const struct rte_memzone *mz = rte_memzone_reserve(OPS_MZ, sizeof(struct ops_order),
							   SOCKET_ID_ANY, 0);
	struct ops_order *o;

	if (mz == NULL) {
		LAB_LOG(ERR, mempool, "cannot reserve memzone '%s' (%s): secondary processes "
			"cannot match this process's mempool ops order", OPS_MZ,
			rte_strerror(rte_errno));
		return;
	}
	o = mz->addr;
	snprintf(o->version, sizeof(o->version), "%s", LAB_MP_VERSION);
	o->layout = LAB_MP_LAYOUT;
	o->pid = (int32_t)getpid();
	rte_spinlock_lock(&rte_mempool_ops_table.sl);
	o->num_ops = rte_mempool_ops_table.num_ops;
	for (uint32_t i = 0; i < o->num_ops; i++)
		memcpy(o->names[i], rte_mempool_ops_table.ops[i].name, RTE_MEMPOOL_OPS_NAMESIZE);
	rte_spinlock_unlock(&rte_mempool_ops_table.sl);
	o->magic = OPS_MAGIC;
}

static int find_local(const struct rte_mempool_ops *t, uint32_t n, const char *name)
{
	for (uint32_t i = 0; i < n; i++)
		if (strncmp(t[i].name, name, RTE_MEMPOOL_OPS_NAMESIZE) == 0)
			return (int)i;
	return -1;
}

/* This process's table in @p o's order, then the drivers only it has.
 * @return the number of ops, or -ENOSPC. */
static int reorder(const struct ops_order *o, struct rte_mempool_ops *t, uint32_t n,
		   struct rte_mempool_ops *out, unsigned int *missing)
{
	bool used[RTE_MEMPOOL_MAX_OPS_IDX] = { false };
	uint32_t k = 0;

	*missing = 0;
	for (; k < o->num_ops && k < RTE_MEMPOOL_MAX_OPS_IDX; k++) {
		int i = find_local(t, n, o->names[k]);

		if (i < 0) {
			set_missing(&out[k], o->names[k]);
			(*missing)++;
			continue;
		}
		out[k] = t[i];
		used[i] = true;
	}
	for (uint32_t i = 0; i < n; i++) {
		if (used[i])
			continue;
		if (k == RTE_MEMPOOL_MAX_OPS_IDX)
			return -ENOSPC;
		out[k++] = t[i];
	}
	return (int)k;
}

static void refuse(const char *why)
{
	snprintf(lab_mp_refusal, sizeof(lab_mp_refusal), "%s", why);
	LAB_LOG(ERR, mempool, "process %d refuses every labyrinth mempool call: %s",
		(int)getpid(), why);
}

static void adopt(void)
{
	const struct rte_memzone *mz = rte_memzone_lookup(OPS_MZ);
	struct rte_mempool_ops out[RTE_MEMPOOL_MAX_OPS_IDX];
	const struct ops_order *o;
	unsigned int missing;
	char why[256];
	int n;

	if (mz == NULL || ((const struct ops_order *)mz->addr)->magic != OPS_MAGIC) {
		LAB_LOG(WARNING, mempool, "the primary process did not load the labyrinth "
			"plugin: this process keeps its own mempool ops order, and a mempool of the "
			"primary may name another driver here (docs/dpdk.md, \"Multi-process\")");
		return;
	}
	o = mz->addr;
	if (strcmp(o->version, LAB_MP_VERSION) != 0 || o->layout != LAB_MP_LAYOUT) {
		snprintf(why, sizeof(why), "the primary (pid %d) runs labyrinth plugin %s, layout "
			 "%#x, and this process %s, layout %#x: load the same build in both",
			 (int)o->pid, o->version, o->layout, LAB_MP_VERSION, LAB_MP_LAYOUT);
		refuse(why);
		return;
	}
	rte_spinlock_lock(&rte_mempool_ops_table.sl);
	n = reorder(o, rte_mempool_ops_table.ops, rte_mempool_ops_table.num_ops, out, &missing);
	if (n > 0) {
		memcpy(rte_mempool_ops_table.ops, out, sizeof(out[0]) * (size_t)n);
		rte_mempool_ops_table.num_ops = (uint32_t)n;
	}
	rte_spinlock_unlock(&rte_mempool_ops_table.sl);
	if (n < 0) {
		snprintf(why, sizeof(why), "the primary's %u mempool drivers and this process's "
			 "others do not fit in DPDK's %d ops slots", o->num_ops,
			 RTE_MEMPOOL_MAX_OPS_IDX);
		refuse(why);
		return;
	}
	LAB_LOG(INFO, mempool, "mempool ops in the primary's order (%u drivers, %u of them "
		"not loaded here)", o->num_ops, missing);
}

/* -------------------------------------------- counts asked of the primary */

static int count_request(const struct rte_mp_msg *req, const void *peer)
{
	struct rte_mp_msg reply;
	char name[RTE_MEMPOOL_NAMESIZE];
	int64_t count;

	snprintf(name, sizeof(name), "%.*s", req->len_param, (const char *)req->param);
	count = lab_mp_local_count(name);
	memset(&reply, 0, sizeof(reply));
	snprintf(reply.name, sizeof(reply.name), "%s", COUNT_MSG);
	memcpy(reply.param, &count, sizeof(count));
	reply.len_param = sizeof(count);
	return rte_mp_reply(&reply, peer);
}

int64_t lab_mp_primary_count(const char *pool)
{
	struct timespec ts = { .tv_sec = 5 };
	struct rte_mp_reply reply = { 0 };
	struct rte_mp_msg req;
	int64_t count = -EIO;

	memset(&req, 0, sizeof(req));
	snprintf(req.name, sizeof(req.name), "%s", COUNT_MSG);
	req.len_param = (int)strnlen(pool, RTE_MEMPOOL_NAMESIZE);
	memcpy(req.param, pool, (size_t)req.len_param);
	if (rte_mp_request_sync(&req, &reply, &ts) == 0 && reply.nb_received == 1 &&
	    reply.msgs[0].len_param == sizeof(count))
		memcpy(&count, reply.msgs[0].param, sizeof(count));
	free(reply.msgs);
	return count;
}

/* ------------------------------------------------------------ the bus */

/* DPDK 22.11's struct rte_bus up to find_device; the rest stays zero. */
struct rte_bus {
	RTE_TAILQ_ENTRY(rte_bus) next;
	const char *name;
	int (*scan)(void);
	int (*probe)(void);
	struct rte_device *(*find_device)(const struct rte_device *start, rte_dev_cmp_t cmp,
					  const void *data);
	void *rest[24];
};

void rte_bus_register(struct rte_bus *bus);

static int bus_scan(void)
{
	return 0;
}

static int bus_probe(void)
{
	if (rte_eal_process_type() == RTE_PROC_PRIMARY) {
		publish();
		if (rte_mp_action_register(COUNT_MSG, count_request) < 0 && rte_errno != EEXIST)
			LAB_LOG(WARNING, mempool, "cannot answer secondaries' counts (%s)",
				rte_strerror(rte_errno));
	} else {
		adopt();
	}
	return 0;
}

static struct rte_device *bus_find_device(const struct rte_device *start, rte_dev_cmp_t cmp,
					  const void *data)
{
	RTE_SET_USED(start);
	RTE_SET_USED(cmp);
	RTE_SET_USED(data);
	return NULL;
}

static struct rte_bus lab_mp_bus = {
	.name = "labyrinth_mp",
	.scan = bus_scan,
	.probe = bus_probe,
	.find_device = bus_find_device,
};

RTE_INIT(lab_mp_bus_init)
{
	rte_bus_register(&lab_mp_bus);
}
