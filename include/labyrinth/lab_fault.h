/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * Fault injection: make a named slow-path operation fail on purpose, to prove
 * that the data path keeps running, counts what it could not do, never blocks,
 * and recovers when the fault clears (docs/testing.md).
 *
 * Compiled in only with `meson setup -Dfault_injection=true` (refused for
 * release builds). Without it every point is the constant 0 and lab_fault_set()
 * returns -ENOTSUP. Points can also be armed at start from the environment:
 * LAB_FAULT="arena_grow,warden_stall=50" (bare name: until cleared; =N: the
 * next N passes).
 */
#ifndef LAB_FAULT_H
#define LAB_FAULT_H

#include <stdbool.h>
#include <stdint.h>

#include <labyrinth/lab_common.h>

#ifdef __cplusplus
extern "C" {
#endif

enum lab_fault_point {
	LAB_FAULT_ARENA_GROW,    /**< lab_arena_grow() fails with -ENOMEM */
	LAB_FAULT_WARDEN_STALL,  /**< the warden sleeps through a tick without tending */
	LAB_FAULT_HUGEPAGE_MAP,  /**< mapping a hugepage chamber fails with -ENOMEM */
	LAB_FAULT_URING_SUBMIT,  /**< io_uring_enter for submission fails with -EAGAIN */
	LAB_FAULT_POOL_PUT_STALL, /**< _lab_pool_put spins after publishing an overflow push
				   *   (a preempted thread) for as long as the point is armed */
	LAB_FAULT_POINTS
};

/** Arm a point until lab_fault_set(p, 0). */
#define LAB_FAULT_ALWAYS UINT32_MAX

/** True when this build has fault injection compiled in. */
bool lab_fault_available(void);

/**
 * Arm point @p p for its next @p count passes (LAB_FAULT_ALWAYS: until
 * cleared; 0: clear). Any thread, any time.
 * @return 0; -EINVAL for an unknown point; -ENOTSUP without fault injection.
 */
int lab_fault_set(enum lab_fault_point p, uint32_t count);

/** Times point @p p has fired since start (0 without fault injection). */
uint64_t lab_fault_fired(enum lab_fault_point p);

/** The point's name ("arena_grow", ...), or NULL. */
const char *lab_fault_name(enum lab_fault_point p);

/**
 * Arm points from a spec "name[=count],..." (the LAB_FAULT variable's syntax).
 * @return 0, -EINVAL with a message naming the bad item, or -ENOTSUP.
 */
int lab_fault_parse(const char *spec);

#ifdef LAB_FAULT_INJECTION
/** Library internal: does point @p p fire on this pass? */
bool lab_fault_hit(enum lab_fault_point p);
#define LAB_FAULT(p) lab_unlikely(lab_fault_hit(p))
#else
#define LAB_FAULT(p) 0
#endif

#ifdef __cplusplus
}
#endif

#endif /* LAB_FAULT_H */
