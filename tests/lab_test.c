/* SPDX-License-Identifier: BSD-3-Clause */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include <labyrinth/lab_log.h>

#include <CUnit/Basic.h>

#include "lab_test.h"

static unsigned int count(const struct lab_test *tests)
{
	unsigned int n = 0;

	while (tests[n].name != NULL)
		n++;
	return n;
}

int lab_test_run(const char *suite, const struct lab_test *tests)
{
	/* LAB_TEST_CASE=NAME (make check CASE=NAME) runs only that test. */
	const char *only = getenv("LAB_TEST_CASE");
	unsigned int run, failed, asserts_failed, added = 0;
	CU_pSuite s;

	if (only != NULL && only[0] == '\0')
		only = NULL;
	for (unsigned int i = 0; only != NULL && tests[i].name != NULL; i++)
		added += strcmp(tests[i].name, only) == 0;
	if (only != NULL && added == 0) {
		printf("%s: SKIPPED: no test '%s' in this suite (LAB_TEST_CASE)\n", suite, only);
		printf("LAB-RESULT suite=%s passed=0 failed=0 skipped=%u\n", suite, count(tests));
		return LAB_TEST_SKIP;
	}
	if (CU_initialize_registry() != CUE_SUCCESS)
		return 1;
	s = CU_add_suite(suite, NULL, NULL);
	added = 0;
	for (unsigned int i = 0; s != NULL && tests[i].name != NULL; i++) {
		if (only != NULL && strcmp(tests[i].name, only) != 0)
			continue;
		if (CU_add_test(s, tests[i].name, tests[i].fn) == NULL)
			s = NULL;
		added++;
	}
	if (s == NULL) {
		fprintf(stderr, "%s: cannot register tests: %s\n", suite, CU_get_error_msg());
		CU_cleanup_registry();
		return 1;
	}
	CU_basic_set_mode(CU_BRM_VERBOSE);
	CU_basic_run_tests();
	run = CU_get_number_of_tests_run();
	failed = CU_get_number_of_tests_failed();
	asserts_failed = CU_get_number_of_failures();
	CU_cleanup_registry();
	printf("\nLAB-RESULT suite=%s passed=%u failed=%u skipped=0\n", suite, run - failed,
	       failed);
	fflush(stdout);
	return (failed || asserts_failed || run != added) ? 1 : 0;
}

int lab_test_skip(const char *suite, const struct lab_test *tests, const char *reason)
{
	printf("%s: SKIPPED %u test(s): %s\n", suite, count(tests), reason);
	printf("LAB-RESULT suite=%s passed=0 failed=0 skipped=%u\n", suite, count(tests));
	fflush(stdout);
	return LAB_TEST_SKIP;
}

static char *logbuf, *logcopy;
static size_t loglen;
static FILE *logmem;

void lab_test_log_capture(void)
{
	logmem = open_memstream(&logbuf, &loglen);
	lab_log_set_stream(logmem);
}

/* A copy, taken with the stream detached: the warden may log while a test
 * reads, and a write to the memstream can move its buffer. */
const char *lab_test_log_text(void)
{
	lab_log_set_stream(NULL);
	fflush(logmem);
	free(logcopy);
	logcopy = strdup(logbuf ? logbuf : "");
	lab_log_set_stream(logmem);
	return logcopy ? logcopy : "";
}

void lab_test_log_release(void)
{
	lab_log_set_stream(NULL);
	fclose(logmem);
	free(logbuf);
	free(logcopy);
	logbuf = NULL;
	logcopy = NULL;
}

long lab_test_read_long(const char *path)
{
	FILE *f = fopen(path, "r");
	long v = -1;

	if (f != NULL) {
		if (fscanf(f, "%ld", &v) != 1)
			v = -1;
		fclose(f);
	}
	return v;
}

long lab_test_free_2m(void)
{
	long v = lab_test_read_long("/sys/kernel/mm/hugepages/hugepages-2048kB/free_hugepages");

	return v > 0 ? v : 0;
}

int lab_test_sh(const char *cmd, char *out, size_t len)
{
	char full[16384];
	size_t n = 0;
	FILE *p;
	int st;

	snprintf(full, sizeof(full), "{ %s ; } 2>&1", cmd);
	p = popen(full, "r");
	if (p == NULL)
		return -1;
	while (n + 1 < len && !feof(p) && !ferror(p))
		n += fread(out + n, 1, len - n - 1, p);
	out[n] = '\0';
	/* Read what does not fit to the end: a command blocked on a full pipe
	 * would never exit, and pclose() would wait for it for ever. */
	while (!feof(p) && !ferror(p)) {
		char rest[4096];

		if (fread(rest, 1, sizeof(rest), p) == 0 && ferror(p))
			break;
	}
	st = pclose(p);
	if (!WIFEXITED(st) || (WEXITSTATUS(st) != 0 && getenv("LAB_TEST_VERBOSE")))
		fprintf(stderr, "$ %s\n%s\n", cmd, out);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}
