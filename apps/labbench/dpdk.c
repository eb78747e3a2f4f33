/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * DPDK's rte_mempool as the peer: the same object size and bursts, user-owned
 * caches of 512 objects (rte_mempool_cache_create, which is what an lcore's
 * default cache is) for the cached cases, no cache for the others.
 */
#include <limits.h>
#include <stdio.h>
#include <unistd.h>

#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_lcore.h>
#include <rte_mempool.h>

#include "bench.h"

static void *d_cache_new(void *pool)
{
	(void)pool;
	return rte_mempool_cache_create(512, SOCKET_ID_ANY);
}

static void d_cache_free(void *pool, void *cache)
{
	rte_mempool_cache_flush(cache, pool);
	rte_mempool_cache_free(cache);
}

static unsigned int d_get(void *pool, void *cache, void **objs, unsigned int n)
{
	return rte_mempool_generic_get(pool, objs, n, cache) == 0 ? n : 0;
}

static void d_put(void *pool, void *cache, void **objs, unsigned int n)
{
	rte_mempool_generic_put(pool, objs, n, cache);
}

static int eal_up;

/* Start DPDK's EAL once: no hugepages, no PCI, no shared files (nothing left
 * behind in the runtime directory), its own file prefix. */
int dpdk_eal_init(void)
{
	char prefix[64];
	char *argv[] = { "labbench", "--no-huge", "--no-shconf", "--no-pci", "-m", "1024", "-l", "0",
			 "--log-level=*:error", "--no-telemetry", prefix, NULL };

	if (eal_up)
		return 0;
	snprintf(prefix, sizeof(prefix), "--file-prefix=labbench-%d", (int)getpid());
	if (rte_eal_init(11, argv) < 0) {
		fprintf(stderr, "labbench: DPDK EAL init failed: %s\n", rte_strerror(rte_errno));
		return -1;
	}
	eal_up = 1;
	return 0;
}

int dpdk_setup(unsigned int nobjs, const char *ops, struct impl *im)
{
	char name[32];
	struct rte_mempool *mp;

	if (dpdk_eal_init() != 0)
		return -1;
	snprintf(name, sizeof(name), "b_%s", ops);
	mp = rte_mempool_create_empty(name, nobjs, 2048, 0, 0, SOCKET_ID_ANY, 0);
	if (mp == NULL || rte_mempool_set_ops_byname(mp, ops, NULL) != 0 ||
	    rte_mempool_populate_default(mp) < 0) {
		fprintf(stderr, "labbench: DPDK mempool '%s' failed: %s\n", ops,
			rte_strerror(rte_errno));
		return -1;
	}
	im->cache_new = d_cache_new;
	im->cache_free = d_cache_free;
	im->get = d_get;
	im->put = d_put;
	im->pool = mp;
	return 0;
}

/* Stop the EAL if it was started, and remove its runtime directory
 * (/var/run/dpdk/labbench-PID: empty under --no-shconf, but it would stay). */
void dpdk_eal_fini(void)
{
	char dir[PATH_MAX];

	if (!eal_up)
		return;
	snprintf(dir, sizeof(dir), "%s", rte_eal_get_runtime_dir());
	rte_eal_cleanup();
	rmdir(dir);
	eal_up = 0;
}
