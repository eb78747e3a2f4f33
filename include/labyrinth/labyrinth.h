/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * Umbrella header: everything labyrinth exports.
 */
#ifndef LABYRINTH_H
#define LABYRINTH_H

#include <labyrinth/lab_common.h>
#include <labyrinth/lab_log.h>
#include <labyrinth/lab_fault.h>
#include <labyrinth/lab_arena.h>
#include <labyrinth/lab_config.h>

#endif
