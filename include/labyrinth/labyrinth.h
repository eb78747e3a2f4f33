/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * Umbrella header: everything labyrinth exports. Every public header of
 * include/labyrinth/ is here (suite install checks it).
 */
#ifndef LABYRINTH_H
#define LABYRINTH_H

#include <labyrinth/lab_common.h>
#include <labyrinth/lab_log.h>
#include <labyrinth/lab_fault.h>
#include <labyrinth/lab_json.h>
#include <labyrinth/lab_arena.h>
#include <labyrinth/lab_quality.h>
#include <labyrinth/lab_config.h>
#include <labyrinth/lab_ring.h>
#include <labyrinth/lab_buf.h>
#include <labyrinth/lab_pool.h>
#include <labyrinth/lab_pool_driver.h>
#include <labyrinth/lab_pool_stats_fields.h>
/* Internal (the inline fast path's fields, not API), named only because it is installed. */
#include <labyrinth/lab_pool_inline.h>
#include <labyrinth/lab_devargs.h>
#include <labyrinth/lab_driver.h>
#include <labyrinth/lab_port.h>
#include <labyrinth/lab_port_driver.h>
#include <labyrinth/lab_blk.h>
#include <labyrinth/lab_blk_driver.h>
#include <labyrinth/lab_ctl.h>

#endif
