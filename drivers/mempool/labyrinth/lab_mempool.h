/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef LAB_MEMPOOL_H
#define LAB_MEMPOOL_H

#include <stddef.h>
#include <stdint.h>

#include <labyrinth/lab_config.h>

/* Parameters of every labyrinth mempool of the process, "key=value,..." */
#define LAB_MP_ENV "LABYRINTH_MEMPOOL"
#define LAB_MP_PARAMS_LEN 160

/* The driver's defaults on top of the pool's: no floor below which DPDK
 * callers are refused (DPDK's handlers hand out every object), no kicks. */
void lab_mp_config_defaults(struct lab_config *cfg);

/*
 * Apply "key=value,..." from @p source (the environment variable, or the
 * pool_config string of rte_mempool_set_ops_byname) to @p cfg, and add the
 * keys it gave to the bit set @p given (for lab_mp_derive). NULL or "" is
 * nothing to do. A key given twice in one string is refused. @return 0, or
 * -EINVAL with a message naming the source, the mempool, the item and the
 * problem.
 */
int lab_mp_parse(struct lab_config *cfg, const char *s, const char *source, const char *mp,
		 unsigned int *given);

/*
 * The watermarks not given, from those given (@p given from lab_mp_parse),
 * for a pool of @p size objects: low = 2 x min, high = 3 x min (and never
 * below low), each capped at 100% or the pool's size; so "min=1%" alone is a
 * whole setting.
 */
void lab_mp_derive(struct lab_config *cfg, unsigned int given, uint64_t size);

/* The settings in effect, for logs and telemetry. */
void lab_mp_params_string(const struct lab_config *cfg, char *out, size_t len);

/*
 * Multi-process (mp_sync.c). LAB_MP_LAYOUT changes whenever what processes
 * share changes shape: a secondary whose plugin has another version or
 * layout than the primary's refuses every labyrinth call.
 */
#define LAB_MP_LAYOUT_REV 1u
#define LAB_MP_LAYOUT (LAB_MP_LAYOUT_REV << 16 | (uint32_t)sizeof(void *) << 8)

/* Why this process refuses every labyrinth call (set in a secondary whose
 * plugin differs from the primary's), or "". */
extern char lab_mp_refusal[256];

/* The primary's available count of its pool @p pool, asked over DPDK's IPC;
 * -errno when it has no such labyrinth pool or does not answer. */
int64_t lab_mp_primary_count(const char *pool);

/* This process's available count of its own pool @p pool, or -ENOENT. */
int64_t lab_mp_local_count(const char *pool);

#endif
