/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef CTL_INTERNAL_H
#define CTL_INTERNAL_H

#include <stdio.h>

#include <labyrinth/lab_json.h>
#include <labyrinth/lab_log.h>

LAB_LOG_DECLARE(ctl);

/* Most pools and ports one reply or metrics page covers. */
#define CTL_MAX_OBJS 64

#endif
