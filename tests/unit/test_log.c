/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <labyrinth/lab_log.h>

#include "../lab_test.h"

LAB_LOG_REGISTER(testcomp, NOTICE)
LAB_LOG_REGISTER(othercomp, WARNING)

#define capture lab_test_log_capture
#define captured lab_test_log_text
#define release lab_test_log_release

static void test_register_and_default_level(void)
{
	CU_ASSERT(lab_logtype_testcomp >= 0);
	CU_ASSERT(lab_logtype_othercomp >= 0);
	CU_ASSERT_NOT_EQUAL(lab_logtype_testcomp, lab_logtype_othercomp);
	CU_ASSERT_EQUAL(lab_log_get_level("testcomp"), LAB_LOG_NOTICE);
	CU_ASSERT_EQUAL(lab_log_register("testcomp", LAB_LOG_DEBUG), lab_logtype_testcomp);
	CU_ASSERT_EQUAL(lab_log_register("", LAB_LOG_DEBUG), -EINVAL);
	/* The library's own components are registered at load time. */
	CU_ASSERT(lab_log_get_level("arena") > 0);
	CU_ASSERT(lab_log_get_level("config") > 0);
}

static void test_level_filters_messages(void)
{
	capture();
	LAB_LOG(INFO, testcomp, "hidden %d", 1);
	LAB_LOG(NOTICE, testcomp, "shown %d", 2);
	CU_ASSERT_PTR_NULL(strstr(captured(), "hidden"));
	CU_ASSERT_PTR_NOT_NULL(strstr(captured(), "labyrinth: testcomp: NOTICE: shown 2\n"));
	CU_ASSERT_EQUAL(lab_log_set_level("testcomp", LAB_LOG_DEBUG), 0);
	LAB_LOG(DEBUG, testcomp, "now visible");
	CU_ASSERT_PTR_NOT_NULL(strstr(captured(), "DEBUG: now visible\n"));
	release();
	lab_log_set_level("testcomp", LAB_LOG_NOTICE);
}

static void test_levels_spec(void)
{
	CU_ASSERT_EQUAL(lab_log_set_levels("*:err,othercomp:debug"), 0);
	CU_ASSERT_EQUAL(lab_log_get_level("testcomp"), LAB_LOG_ERR);
	CU_ASSERT_EQUAL(lab_log_get_level("othercomp"), LAB_LOG_DEBUG);
	CU_ASSERT_EQUAL(lab_log_set_levels("info"), 0);
	CU_ASSERT_EQUAL(lab_log_get_level("testcomp"), LAB_LOG_INFO);
	CU_ASSERT_EQUAL(lab_log_get_level("othercomp"), LAB_LOG_INFO);
	lab_log_set_levels("notice");
}

static void test_bad_spec_names_the_item(void)
{
	capture();
	CU_ASSERT_EQUAL(lab_log_set_levels("testcomp:loud"), -EINVAL);
	CU_ASSERT_PTR_NOT_NULL(strstr(captured(), "unknown level 'loud'"));
	CU_ASSERT_EQUAL(lab_log_set_levels("nosuch:debug"), -ENOENT);
	CU_ASSERT_PTR_NOT_NULL(strstr(captured(), "unknown log type 'nosuch'"));
	CU_ASSERT_EQUAL(lab_log_set_level("nosuch", LAB_LOG_DEBUG), -ENOENT);
	release();
}

static void test_level_names(void)
{
	CU_ASSERT_EQUAL(lab_log_level_parse("Warning"), LAB_LOG_WARNING);
	CU_ASSERT_EQUAL(lab_log_level_parse("error"), LAB_LOG_ERR);
	CU_ASSERT_EQUAL(lab_log_level_parse("verbose"), -EINVAL);
	CU_ASSERT_STRING_EQUAL(lab_log_level_name(LAB_LOG_DEBUG), "DEBUG");
}

int main(void)
{
	static const struct lab_test tests[] = {
		LAB_TEST(test_register_and_default_level),
		LAB_TEST(test_level_filters_messages),
		LAB_TEST(test_levels_spec),
		LAB_TEST(test_bad_spec_names_the_item),
		LAB_TEST(test_level_names),
		LAB_TEST_END,
	};

	return lab_test_run("log", tests);
}
