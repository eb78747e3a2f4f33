/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * A small DPDK application for the 'dpdk' suite, on the labyrinth mempool
 * driver loaded as a plugin (-d librte_mempool_labyrinth.so):
 *
 *   lab_dpdk_app fault   EAL-ARGS  double free, write after free, overrun
 *   lab_dpdk_app primary EAL-ARGS  a pool, then a secondary process on it
 *   lab_dpdk_app secondary EAL-ARGS (started by primary)
 *
 * Prints what it checks; exit 0 when every check held.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>

#define N_MBUF 512

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

static int primary(int argc, char **argv)
{
	struct rte_mempool *mp = rte_pktmbuf_pool_create_by_ops("shared_pool", N_MBUF, 0, 0,
							      RTE_MBUF_DEFAULT_BUF_SIZE,
							      SOCKET_ID_ANY, "labyrinth");
	struct rte_mbuf *m;
	char cmd[4096];
	size_t n = 0;
	int rc;

	if (mp == NULL) {
		printf("cannot create shared_pool: %s\n", rte_strerror(rte_errno));
		return 1;
	}
	m = rte_pktmbuf_alloc(mp);
	CHECK(m != NULL, "primary allocates");
	rte_pktmbuf_free(m);
	/* The secondary: the same arguments, as a secondary process. */
	n += (size_t)snprintf(cmd + n, sizeof(cmd) - n, "'%s' secondary", argv[0]);
	for (int i = 2; i < argc; i++)
		n += (size_t)snprintf(cmd + n, sizeof(cmd) - n, " '%s'", argv[i]);
	snprintf(cmd + n, sizeof(cmd) - n, " --proc-type=secondary");
	fflush(stdout);
	rc = system(cmd);
	CHECK(rc == 0, "secondary exit status %d", rc);
	counts(mp, N_MBUF, "primary after the secondary");
	rte_mempool_free(mp);
	return 0;
}

static int secondary(void)
{
	struct rte_mempool *mp = rte_mempool_lookup("shared_pool");

	CHECK(mp != NULL, "secondary finds shared_pool");
	if (mp == NULL)
		return 1;
	CHECK(rte_pktmbuf_alloc(mp) == NULL, "secondary allocation refused");
	printf("secondary: allocation refused, available %u\n", rte_mempool_avail_count(mp));
	return 0;
}

int main(int argc, char **argv)
{
	const char *mode = argc > 1 ? argv[1] : "";
	int rc;

	if (strcmp(mode, "fault") && strcmp(mode, "primary") && strcmp(mode, "secondary")) {
		fprintf(stderr, "usage: %s fault|primary|secondary EAL-ARGS\n", argv[0]);
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
		rc = secondary();
	rte_eal_cleanup();
	printf("%s: %s\n", mode, rc == 0 && failures == 0 ? "OK" : "FAILED");
	return rc == 0 && failures == 0 ? 0 : 1;
}
