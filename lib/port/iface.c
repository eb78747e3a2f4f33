/* SPDX-License-Identifier: BSD-3-Clause */
/* The "iface" key and link state of drivers on a network interface. */
#include <errno.h>
#include <net/if.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>

#include "port_internal.h"

int lab_devargs_iface(const struct lab_devargs *a, char name[IF_NAMESIZE])
{
	const char *iface = lab_devargs_get(a, "iface");
	unsigned int idx;

	if (iface == NULL || strlen(iface) >= IF_NAMESIZE) {
		LAB_LOG(ERR, port, "%s: key 'iface' is required (an interface name of at most %d "
			"characters)", a->devstr, IF_NAMESIZE - 1);
		return -EINVAL;
	}
	idx = if_nametoindex(iface);
	if (idx == 0) {
		LAB_LOG(ERR, port, "%s: no interface '%s' in this network namespace", a->devstr,
			iface);
		return -ENODEV;
	}
	snprintf(name, IF_NAMESIZE, "%s", iface);
	return (int)idx;
}

int lab_iface_link(int fd, const char *iface, struct lab_port_link *link)
{
	struct ifreq ifr;

	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", iface);
	if (fd < 0 || ioctl(fd, SIOCGIFFLAGS, &ifr) < 0)
		return fd < 0 ? -EBADF : -errno;
	link->up = (ifr.ifr_flags & IFF_UP) && (ifr.ifr_flags & IFF_RUNNING);
	return 0;
}
