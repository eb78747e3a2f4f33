/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * The driver registry that every class of driver shares (ports, block
 * devices): a driver is a name, the keys its device string accepts and its
 * class's const ops table. Each class keeps one registry (lib/port,
 * lib/blk), and each driver adds itself from a constructor with its class's
 * registration macro (LAB_PORT_DRIVER_REGISTER, LAB_BLK_DRIVER_REGISTER),
 * built on LAB_DRIVER_REGISTER below, as DPDK's mempool drivers do. The
 * registry refuses a table that lacks a required callback (the class says
 * which) or a name that is taken; a lookup of a name that is not there fails
 * with ENXIO and a message listing the names that are.
 *
 * A registry is defined statically (LAB_DRIVER_REGISTRY_DEFINE), so it is
 * ready before any constructor runs, whatever order the loader runs them in.
 * Registration happens at load time, before any thread: no lock.
 */
#ifndef LAB_DRIVER_H
#define LAB_DRIVER_H

#include <stddef.h>

#include <labyrinth/lab_devargs.h>

#ifdef __cplusplus
extern "C" {
#endif

/** One registered driver. */
struct lab_driver {
	const char *name;
	const struct lab_devargs_key *keys; /**< accepted keys, ending with { NULL, NULL } */
	const void *ops;                    /**< the class's ops table */
};

/** The drivers of one class. */
struct lab_driver_registry {
	const char *what;   /**< "port", "block device": for messages */
	const int *logtype; /**< the class's log type (a LAB_LOG_REGISTER variable) */
	/** The first required member @p ops lacks ("close"), or NULL when the
	 * table is complete; NULL when the class requires nothing more than a
	 * name and keys. */
	const char *(*missing)(const void *ops);
	unsigned int max; /**< room in drivers[] */
	unsigned int n;   /**< registered so far */
	struct lab_driver *drivers;
};

/** Define registry @p var (static) for class @p what with room for @p max drivers. */
#define LAB_DRIVER_REGISTRY_DEFINE(var, what_, logtype_, missing_, max_)               \
	static struct lab_driver var##_slots_[max_];                                   \
	static struct lab_driver_registry var = {                                      \
		.what = (what_),                                                       \
		.logtype = &(logtype_),                                                \
		.missing = (missing_),                                                 \
		.max = (max_),                                                         \
		.drivers = var##_slots_,                                               \
	}

/**
 * Add driver @p name (keys @p keys, table @p ops) to @p r. Control path, at
 * load time.
 *
 * @return 0; -EINVAL (no name or keys, or a required callback missing: the
 *         message names it), -EEXIST (the name is taken), -ENOSPC (the
 *         registry is full); each with a message in the class's log.
 */
int lab_driver_register(struct lab_driver_registry *r, const char *name,
			const struct lab_devargs_key *keys, const void *ops);

/** The driver called @p name, or NULL (no message). */
const struct lab_driver *lab_driver_find(const struct lab_driver_registry *r, const char *name);

/**
 * The driver called @p name, into @p *out.
 *
 * @param devstr the device string that named it, for the message, or NULL
 * @return 0, or -ENXIO with the message "unknown driver 'X'; registered: a, b"
 *         (after "device string 'S': " when @p devstr is given). ENXIO, not
 *         ENOENT: an app's strerror() line must not read "No such file or
 *         directory" for a driver name.
 */
int lab_driver_lookup(const struct lab_driver_registry *r, const char *name, const char *devstr,
		      const struct lab_driver **out);

/** The registered drivers' names in registration order, ", " between them, into @p out. */
void lab_driver_names(const struct lab_driver_registry *r, char *out, size_t len);

/**
 * Run @p fn(&ops) when the program starts: the body of each class's
 * registration macro. A registration error is logged by the registry; the
 * driver is then absent and a lookup lists what is there.
 */
#define LAB_DRIVER_REGISTER(fn, ops)                                                   \
	__attribute__((constructor)) static void lab_driver_register_##ops(void)       \
	{                                                                              \
		(void)fn(&(ops));                                                      \
	}

#ifdef __cplusplus
}
#endif

#endif /* LAB_DRIVER_H */
