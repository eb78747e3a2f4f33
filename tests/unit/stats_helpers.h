/* SPDX-License-Identifier: BSD-3-Clause */
/* The pool stats table (lab_pool_stats_fields.h) against what a writer
 * printed: shared by the ctl suite (pool JSON, the pools reply) and the
 * labfwd suite (its JSON lines and summary). */
#ifndef STATS_HELPERS_H
#define STATS_HELPERS_H

#include <stdio.h>

#include <labyrinth/lab_json.h>
#include <labyrinth/lab_pool_stats_fields.h>

#include "../lab_test.h"

/* @p obj has a number under every row of @p group (-1: any) that @p writer
 * prints; a missing one is named on stderr with @p where. */
static inline void has_rows(const struct lab_json *obj, unsigned int writer, int group,
			    const char *where)
{
	size_t n;
	const struct lab_pool_stat_field *t = lab_pool_stat_fields(&n);

	CU_ASSERT_PTR_NOT_NULL_FATAL(obj);
	for (size_t i = 0; i < n; i++) {
		const struct lab_json *v;

		if (!(t[i].writers & writer) || (group >= 0 && (int)t[i].group != group))
			continue;
		v = lab_json_get(obj, t[i].name);
		if (v == NULL || v->type != LAB_JSON_NUMBER)
			fprintf(stderr, "%s: no number '%s'\n", where, t[i].name);
		CU_ASSERT(v != NULL && v->type == LAB_JSON_NUMBER);
	}
}

#endif
