/* SPDX-License-Identifier: BSD-3-Clause */
/* The ctl suite's helpers: a request answered in-process, and a server in a
 * test directory with its clients. */
#ifndef CTL_HELPERS_H
#define CTL_HELPERS_H

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <labyrinth/lab_ctl.h>
#include <labyrinth/lab_json.h>

#include "lab_test.h"

/* The reply to @p req: one line, and JSON. */
static inline struct lab_json *answer_n(const char *req, size_t len)
{
	char *r = lab_ctl_answer(req, len), err[128];
	struct lab_json *j;

	CU_ASSERT_PTR_NOT_NULL_FATAL(r);
	CU_ASSERT_EQUAL(r[strlen(r) - 1], '\n');
	CU_ASSERT_PTR_EQUAL(strchr(r, '\n'), r + strlen(r) - 1); /* one line */
	j = lab_json_parse(r, strlen(r), err, sizeof(err));
	if (j == NULL)
		fprintf(stderr, "reply not JSON (%s): %s", err, r);
	CU_ASSERT_PTR_NOT_NULL_FATAL(j);
	free(r);
	return j;
}

static inline struct lab_json *answer(const char *req)
{
	return answer_n(req, strlen(req));
}

static inline bool ok_of(const struct lab_json *j)
{
	const struct lab_json *ok = lab_json_get(j, "ok");

	return ok != NULL && ok->type == LAB_JSON_BOOL && ok->b;
}

/* @p req must be refused with an error that contains @p want. */
static inline void expect_error(const char *req, const char *want)
{
	struct lab_json *j = answer(req);

	CU_ASSERT_FALSE(ok_of(j));
	CU_ASSERT_PTR_NOT_NULL(lab_json_str(j, "error"));
	if (lab_json_str(j, "error") != NULL)
		LAB_TEST_HAS(lab_json_str(j, "error"), want);
	lab_json_free(j);
}

/* Read until @p lines newlines (or EOF); returns bytes read. */
static inline size_t read_lines(int fd, char *buf, size_t len, int lines)
{
	size_t n = 0;

	while (n + 1 < len && lines > 0) {
		ssize_t r = read(fd, buf + n, len - 1 - n);

		if (r <= 0)
			break;
		for (ssize_t i = 0; i < r; i++)
			lines -= buf[n + (size_t)i] == '\n';
		n += (size_t)r;
	}
	buf[n] = '\0';
	return n;
}

/* A server named "test" in directory @p d (created 0700 if missing). */
static inline struct lab_ctl *open_in(const char *d)
{
	struct lab_ctl_opts o;

	lab_ctl_opts_init(&o);
	o.name = "test";
	o.dir = d;
	return lab_ctl_open(&o);
}

#endif
