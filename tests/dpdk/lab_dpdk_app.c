/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * A small DPDK application for the 'dpdk' suite, on the labyrinth mempool
 * driver loaded as a plugin (-d librte_mempool_labyrinth.so):
 *
 *   lab_dpdk_app fault   EAL-ARGS  double free, write after free, overrun
 *   lab_dpdk_app primary EAL-ARGS  a pool, then secondary processes on it: one
 *                                  with the same plugin, one that sees another
 *                                  plugin build's stamp in the shared state
 *   lab_dpdk_app secondary|secondary-stamp EAL-ARGS (started by primary)
 *
 * Prints what it checks; exit 0 when every check held.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_mbuf.h>
#include <rte_memzone.h>
#include <rte_mempool.h>

#define N_MBUF 512
#define N_HELD 12 /* by the primary while its secondaries run */

/* The plugin's shared stamp (drivers/mempool/labyrinth/mp_sync.c, struct
 * ops_order): the version string at byte 8 of memzone "lab_mp_ops". */
#define STAMP_MZ "lab_mp_ops"
#define STAMP_VERSION_OFF 8

static int failures;

#define CHECK(cond, ...)                                                             \
	do {                                                                         \
		if (!(cond)) {                                                       \
			failures++;                                                  \
			printf("CHECK FAILED: " __VA_ARGS__);                        \
			printf("\n");                                                \
		}                                                                    \
	} while (0)

static void counts(struct rte_mempool *mp, unsigned int avail, const char *when)
{
	unsigned int a = rte_mempool_avail_count(mp), u = rte_mempool_in_use_count(mp);

	printf("%s: available %u, in use %u\n", when, a, u);
	CHECK(a == avail && u == N_MBUF - avail, "%s: want available %u", when, avail);
}

/* Quality 'full' (LABYRINTH_MEMPOOL), no cache: every free is checked. */
static int fault(void)
{
	struct rte_mempool *mp = rte_pktmbuf_pool_create_by_ops("fault_pool", N_MBUF, 0, 0,
							      RTE_MBUF_DEFAULT_BUF_SIZE,
							      SOCKET_ID_ANY, "labyrinth");
	struct rte_mbuf *m[8];
	char *room;

	if (mp == NULL) {
		printf("cannot create fault_pool: %s\n", rte_strerror(rte_errno));
		return 1;
	}
	CHECK(rte_pktmbuf_alloc_bulk(mp, m, 8) == 0, "alloc 8");
	counts(mp, N_MBUF - 8, "after 8 allocations");
	/* Double free. */
	rte_pktmbuf_free(m[0]);
	rte_pktmbuf_free(m[0]);
	printf("fault: double free of mbuf %p\n", (void *)m[0]);
	/* Write after free: 4 bytes into the data, after the free. */
	room = rte_pktmbuf_mtod(m[1], char *);
	rte_pktmbuf_free(m[1]);
	memcpy(room + 100, "UAF!", 4);
	printf("fault: write after free into mbuf %p at data+100\n", (void *)m[1]);
	/* Overrun: 8 bytes past the end of the data room, then a free. */
	memset((char *)m[2]->buf_addr + m[2]->buf_len, 0x5a, 8);
	rte_pktmbuf_free(m[2]);
	printf("fault: 8-byte overrun past mbuf %p's data room\n", (void *)m[2]);
	/* The refused second free changed nothing: 3 freed, 5 held. */
	counts(mp, N_MBUF - 5, "after the faults");
	usleep(500 * 1000); /* the warden checks the quarantine and reports */
	rte_pktmbuf_free_bulk(&m[3], 5);
	counts(mp, N_MBUF, "after freeing the rest");
	/* Every mbuf can be taken again, the damaged ones included. */
	{
		struct rte_mbuf *all[N_MBUF];

		CHECK(rte_pktmbuf_alloc_bulk(mp, all, N_MBUF) == 0, "alloc all %u", N_MBUF);
		counts(mp, 0, "all allocated");
		CHECK(rte_pktmbuf_alloc(mp) == NULL, "one more than the pool");
		rte_pktmbuf_free_bulk(all, N_MBUF);
		counts(mp, N_MBUF, "all freed");
	}
	rte_mempool_free(mp);
	return 0;
}

/* Run this program again as a secondary process in @p mode. */
static int run_secondary(int argc, char **argv, const char *mode)
{
	char cmd[4096];
	size_t n = 0;
	int rc;

	n += (size_t)snprintf(cmd + n, sizeof(cmd) - n, "'%s' %s", argv[0], mode);
	for (int i = 2; i < argc; i++)
		n += (size_t)snprintf(cmd + n, sizeof(cmd) - n, " '%s'", argv[i]);
	snprintf(cmd + n, sizeof(cmd) - n, " --proc-type=secondary");
	fflush(stdout);
	rc = system(cmd);
	CHECK(rc == 0, "%s exit status %d", mode, rc);
	return rc;
}

/* Another plugin build in the secondary: the stamp it compares differs. */
static void secondary_other_build(int argc, char **argv)
{
	const struct rte_memzone *mz = rte_memzone_lookup(STAMP_MZ);
	char *version, saved[32];

	CHECK(mz != NULL, "memzone %s published by the plugin", STAMP_MZ);
	if (mz == NULL)
		return;
	version = (char *)mz->addr + STAMP_VERSION_OFF;
	memcpy(saved, version, sizeof(saved));
	snprintf(version, sizeof(saved), "0.0.0-other");
	run_secondary(argc, argv, "secondary-stamp");
	memcpy(version, saved, sizeof(saved));
}

static int primary(int argc, char **argv)
{
	struct rte_mempool *mp = rte_pktmbuf_pool_create_by_ops("shared_pool", N_MBUF, 0, 0,
							      RTE_MBUF_DEFAULT_BUF_SIZE,
							      SOCKET_ID_ANY, "labyrinth");
	struct rte_mbuf *held[N_HELD];

	if (mp == NULL) {
		printf("cannot create shared_pool: %s\n", rte_strerror(rte_errno));
		return 1;
	}
	CHECK(rte_pktmbuf_alloc_bulk(mp, held, N_HELD) == 0, "primary allocates %d", N_HELD);
	run_secondary(argc, argv, "secondary");
	secondary_other_build(argc, argv);
	counts(mp, N_MBUF - N_HELD, "primary after the secondaries");
	rte_pktmbuf_free_bulk(held, N_HELD);
	counts(mp, N_MBUF, "primary after freeing");
	rte_mempool_free(mp);
	return 0;
}

/* @p stamp_ok: the plugin builds match, so the count is the primary's. */
static int secondary(bool stamp_ok)
{
	struct rte_mempool *mp = rte_mempool_lookup("shared_pool");
	unsigned int avail;

	CHECK(mp != NULL, "secondary finds shared_pool");
	if (mp == NULL)
		return 1;
	CHECK(rte_pktmbuf_alloc(mp) == NULL, "secondary allocation refused");
	avail = rte_mempool_avail_count(mp);
	printf("secondary: allocation refused, available %u\n", avail);
	CHECK(avail == (stamp_ok ? N_MBUF - N_HELD : 0), "secondary count %u", avail);
	return 0;
}

int main(int argc, char **argv)
{
	const char *mode = argc > 1 ? argv[1] : "";
	int rc;

	if (strcmp(mode, "fault") && strcmp(mode, "primary") && strcmp(mode, "secondary") &&
	    strcmp(mode, "secondary-stamp")) {
		fprintf(stderr, "usage: %s fault|primary|secondary|secondary-stamp EAL-ARGS\n",
			argv[0]);
		return 2;
	}
	if (rte_eal_init(argc - 1, argv + 1) < 0) {
		fprintf(stderr, "%s: EAL init failed: %s\n", mode, rte_strerror(rte_errno));
		return 1;
	}
	if (strcmp(mode, "fault") == 0)
		rc = fault();
	else if (strcmp(mode, "primary") == 0)
		rc = primary(argc, argv);
	else
		rc = secondary(strcmp(mode, "secondary") == 0);
	rte_eal_cleanup();
	printf("%s: %s\n", mode, rc == 0 && failures == 0 ? "OK" : "FAILED");
	return rc == 0 && failures == 0 ? 0 : 1;
}
