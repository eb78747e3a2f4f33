/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef PORT_INTERNAL_H
#define PORT_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>

#include <labyrinth/lab_log.h>
#include <labyrinth/lab_port_driver.h>

LAB_LOG_DECLARE(port);

/* A port: the public part first (the inline bursts read it), then ours. */
struct port_priv {
	struct lab_port pub;
	const struct lab_port_ops *ops;
	struct lab_port_conf conf;
	struct lab_devargs args;
	char *devstr;
	void *drv;
	bool started;
	uint64_t rx_given, tx_given; /* queues whose owner cache is the caller's (bit q) */
	struct port_priv *next; /* the open ports (lab_port_foreach) */
};

static inline struct port_priv *port_priv_of(const struct lab_port *p)
{
	return (struct port_priv *)(void *)((char *)p - offsetof(struct port_priv, pub));
}

const struct lab_port_ops *port_driver_find(const char *name);
void port_driver_names(char *out, size_t len);


#endif
