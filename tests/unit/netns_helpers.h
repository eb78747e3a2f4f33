/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Two network namespaces joined by a veth pair, made by the test and removed
 * after it. A thread enters a namespace only while it opens a port: sockets
 * keep the namespace they were made in.
 */
#ifndef NETNS_HELPERS_H
#define NETNS_HELPERS_H

#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

struct netns_pair {
	char ns[2][32];
	char ifc[2][16];
	int self;
};

static inline int sh(const char *cmd)
{
	int rc = system(cmd);

	if (rc != 0)
		fprintf(stderr, "netns: '%s' failed (%d)\n", cmd, rc);
	return rc;
}

/* Why the namespaces cannot be made here, or NULL. */
static inline const char *netns_unavailable(void)
{
	if (geteuid() != 0)
		return "needs root to create network namespaces";
	if (system("ip netns list >/dev/null 2>&1") != 0)
		return "no 'ip netns' (install iproute2)";
	return NULL;
}

static inline int netns_pair_make(struct netns_pair *n)
{
	char cmd[512];
	int pid = (int)getpid();

	snprintf(n->ns[0], sizeof(n->ns[0]), "lab_a_%d", pid);
	snprintf(n->ns[1], sizeof(n->ns[1]), "lab_b_%d", pid);
	snprintf(n->ifc[0], sizeof(n->ifc[0]), "lva%d", pid);
	snprintf(n->ifc[1], sizeof(n->ifc[1]), "lvb%d", pid);
	n->self = open("/proc/self/ns/net", O_RDONLY);
	for (int i = 0; i < 2; i++) {
		snprintf(cmd, sizeof(cmd), "ip netns add %s && ip netns exec %s sh -c "
			 "'sysctl -qw net.ipv6.conf.all.disable_ipv6=1 "
			 "net.ipv6.conf.default.disable_ipv6=1'", n->ns[i], n->ns[i]);
		if (sh(cmd) != 0)
			return -1;
	}
	/* Two queues each way, for multi-queue drivers (af_xdp binds per queue). */
	snprintf(cmd, sizeof(cmd), "ip link add %s netns %s numtxqueues 2 numrxqueues 2 type veth "
		 "peer name %s netns %s numtxqueues 2 numrxqueues 2 && "
		 "ip -n %s link set %s up && ip -n %s link set %s up", n->ifc[0], n->ns[0],
		 n->ifc[1], n->ns[1], n->ns[0], n->ifc[0], n->ns[1], n->ifc[1]);
	return sh(cmd) == 0 && n->self >= 0 ? 0 : -1;
}

static inline void netns_pair_remove(struct netns_pair *n)
{
	char cmd[256];

	snprintf(cmd, sizeof(cmd), "ip netns del %s 2>/dev/null; ip netns del %s 2>/dev/null; true",
		 n->ns[0], n->ns[1]);
	(void)sh(cmd);
	if (n->self >= 0)
		close(n->self);
}

/* Enter namespace @p i (0, 1), or go back home with -1. */
static inline int netns_enter(const struct netns_pair *n, int i)
{
	char path[96];
	int fd, rc;

	if (i < 0)
		return setns(n->self, CLONE_NEWNET);
	snprintf(path, sizeof(path), "/run/netns/%s", n->ns[i]);
	fd = open(path, O_RDONLY);
	if (fd < 0)
		return -1;
	rc = setns(fd, CLONE_NEWNET);
	close(fd);
	return rc;
}

#endif
