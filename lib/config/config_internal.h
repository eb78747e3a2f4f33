/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef LAB_CONFIG_INTERNAL_H
#define LAB_CONFIG_INTERNAL_H

#include <labyrinth/lab_config.h>
#include <labyrinth/lab_log.h>

LAB_LOG_DECLARE(config);

/* config.c */
int config_set_key(struct lab_config *cfg, const char *section, const char *key, const char *v);
char *config_error_buf(size_t *len);

#endif
