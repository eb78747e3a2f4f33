/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <string.h>

#include <labyrinth/lab_common.h>

#include "../lab_test.h"

static void test_parse_size_suffixes(void)
{
	uint64_t v;

	CU_ASSERT_EQUAL(lab_parse_size("4096", &v), 0);
	CU_ASSERT_EQUAL(v, 4096);
	CU_ASSERT_EQUAL(lab_parse_size("2K", &v), 0);
	CU_ASSERT_EQUAL(v, 2048);
	CU_ASSERT_EQUAL(lab_parse_size("2M", &v), 0);
	CU_ASSERT_EQUAL(v, 2 * LAB_MIB);
	CU_ASSERT_EQUAL(lab_parse_size("2MiB", &v), 0);
	CU_ASSERT_EQUAL(v, 2 * LAB_MIB);
	CU_ASSERT_EQUAL(lab_parse_size("1g", &v), 0);
	CU_ASSERT_EQUAL(v, LAB_GIB);
	CU_ASSERT_EQUAL(lab_parse_size("16KB", &v), 0);
	CU_ASSERT_EQUAL(v, 16 * LAB_KIB);
	/* A leading zero is decimal, not octal: "010" in a config means ten. */
	CU_ASSERT_EQUAL(lab_parse_size("010", &v), 0);
	CU_ASSERT_EQUAL(v, 10);
}

static void test_parse_size_rejects(void)
{
	uint64_t v = 7;

	CU_ASSERT_EQUAL(lab_parse_size("", &v), -EINVAL);
	CU_ASSERT_EQUAL(lab_parse_size("abc", &v), -EINVAL);
	CU_ASSERT_EQUAL(lab_parse_size("-1", &v), -EINVAL);
	CU_ASSERT_EQUAL(lab_parse_size("12X", &v), -EINVAL);
	CU_ASSERT_EQUAL(lab_parse_size("2 M B", &v), -EINVAL);
	/* One way to read a number everywhere: decimal, no spaces. */
	CU_ASSERT_EQUAL(lab_parse_size("0x100", &v), -EINVAL);
	CU_ASSERT_EQUAL(lab_parse_size(" 16", &v), -EINVAL);
	CU_ASSERT_EQUAL(lab_parse_size("16 KB", &v), -EINVAL);
	CU_ASSERT_EQUAL(lab_parse_size("16 ", &v), -EINVAL);
	CU_ASSERT_EQUAL(lab_parse_size("+16", &v), -EINVAL);
	CU_ASSERT_EQUAL(lab_parse_size(NULL, &v), -EINVAL);
	CU_ASSERT_EQUAL(lab_parse_size("99999999999999999999", &v), -ERANGE);
	CU_ASSERT_EQUAL(lab_parse_size("17179869184G", &v), -ERANGE);
	CU_ASSERT_EQUAL(v, 7); /* untouched on error */
}

/* Seconds: digits and an optional fraction; none of the other forms strtod() takes. */
static void test_parse_secs(void)
{
	static const char *const bad[] = { "", ".5", "5.", "-1", "+1", " 1", "1 ", "0x1", "1e3",
					   "inf", "nan", "1,5", "1.2.3", "1s", "0x" };
	double v = 0;

	CU_ASSERT_EQUAL(lab_parse_secs("0", &v), 0);
	CU_ASSERT_EQUAL(v, 0);
	CU_ASSERT_EQUAL(lab_parse_secs("0.5", &v), 0);
	CU_ASSERT_EQUAL(v, 0.5);
	CU_ASSERT_EQUAL(lab_parse_secs("0.1", &v), 0);
	CU_ASSERT_EQUAL(v, 0.1);
	CU_ASSERT_EQUAL(lab_parse_secs("1.25", &v), 0);
	CU_ASSERT_EQUAL(v, 1.25);
	CU_ASSERT_EQUAL(lab_parse_secs("010", &v), 0);
	CU_ASSERT_EQUAL(v, 10);
	CU_ASSERT_EQUAL(lab_parse_secs("10000000", &v), 0);
	CU_ASSERT_EQUAL(v, 1e7);
	v = 7;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		CU_ASSERT_EQUAL(lab_parse_secs(bad[i], &v), -EINVAL);
		if (v != 7)
			fprintf(stderr, "lab_parse_secs took '%s'\n", bad[i]);
	}
	CU_ASSERT_EQUAL(lab_parse_secs(NULL, &v), -EINVAL);
	CU_ASSERT_EQUAL(v, 7); /* untouched on error */
}

static void test_strerror_either_sign(void)
{
	CU_ASSERT_STRING_EQUAL(lab_strerror(-ENOMEM), strerror(ENOMEM));
	CU_ASSERT_STRING_EQUAL(lab_strerror(ENOMEM), strerror(ENOMEM));
}

static void test_names_table(void)
{
	static const char *const names[] = { "off", "sampled", "full" };
	static const struct lab_names t = LAB_NAMES(names);
	char buf[64];

	CU_ASSERT_EQUAL(t.n, 3);
	for (unsigned int v = 0; v < t.n; v++) {
		CU_ASSERT_EQUAL(lab_names_parse(&t, lab_names_get(&t, v, "?")), (int)v);
	}
	CU_ASSERT_EQUAL(lab_names_parse(&t, "SAMPLED"), 1);
	CU_ASSERT_EQUAL(lab_names_parse(&t, "ful"), -EINVAL);
	CU_ASSERT_EQUAL(lab_names_parse(&t, ""), -EINVAL);
	CU_ASSERT_EQUAL(lab_names_parse(&t, NULL), -EINVAL);
	CU_ASSERT_STRING_EQUAL(lab_names_get(&t, 3, "?"), "?");
	CU_ASSERT_STRING_EQUAL(lab_names_list(&t, "", ", ", buf, sizeof(buf)),
			       "off, sampled, full");
	CU_ASSERT_STRING_EQUAL(lab_names_list(&t, "\"", " or ", buf, sizeof(buf)),
			       "\"off\", \"sampled\" or \"full\"");
	/* Truncated, never overrun. */
	CU_ASSERT_STRING_EQUAL(lab_names_list(&t, "", ", ", buf, 8), "off, sa");
}

int main(void)
{
	static const struct lab_test tests[] = {
		LAB_TEST(test_parse_size_suffixes),
		LAB_TEST(test_parse_size_rejects),
		LAB_TEST(test_parse_secs),
		LAB_TEST(test_strerror_either_sign),
		LAB_TEST(test_names_table),
		LAB_TEST_END,
	};

	return lab_test_run("common", tests);
}
