/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * A thin CUnit runner shared by every suite: it runs the basic runner in
 * verbose mode (so `make test` shows CUnit's run summaries), prints one
 * machine-readable LAB-RESULT line for scripts/test-summary.py, and turns the
 * outcome into an exit code, which CUnit's basic runner does not set.
 */
#ifndef LAB_TEST_H
#define LAB_TEST_H

#include <stdio.h>
#include <string.h>

#include <CUnit/CUnit.h>

struct lab_test {
	const char *name;
	void (*fn)(void);
};

#define LAB_TEST(fn) { #fn, fn }
#define LAB_TEST_END { NULL, NULL }

/** Exit code that tells meson a suite was skipped. */
#define LAB_TEST_SKIP 77

/** Run @p tests as suite @p suite; returns the process exit code. */
int lab_test_run(const char *suite, const struct lab_test *tests);

/** Report every test of @p tests skipped for @p reason; returns LAB_TEST_SKIP. */
int lab_test_skip(const char *suite, const struct lab_test *tests, const char *reason);

/* Capture labyrinth log output in memory (tests check messages). */
void lab_test_log_capture(void);
/* The text captured so far ("" if none). */
const char *lab_test_log_text(void);
/* Stop capturing and send logs to stderr again. */
void lab_test_log_release(void);

/* Fail the test, printing both, unless @p text contains @p want. */
#define LAB_TEST_HAS(text, want)                                                       \
	do {                                                                           \
		const char *lab_t_ = (text), *lab_w_ = (want);                         \
		if (strstr(lab_t_, lab_w_) == NULL) {                                  \
			fprintf(stderr, "wanted '%s' in:\n%s\n", lab_w_, lab_t_);      \
			CU_FAIL("text lacks " #want);                                  \
		}                                                                      \
	} while (0)

/* Run @p cmd with sh, its stdout and stderr into @p out (NUL-terminated, cut
 * at @p len). With LAB_TEST_VERBOSE set, a non-zero exit prints the command
 * and its output. Returns the exit status, or -1 if it did not exit. */
int lab_test_sh(const char *cmd, char *out, size_t len);

/** The number at the start of file @p path (a sysfs counter), or -1. */
long lab_test_read_long(const char *path);

/** Free 2 MiB hugepages now (0 when unknown). */
long lab_test_free_2m(void);

#endif
