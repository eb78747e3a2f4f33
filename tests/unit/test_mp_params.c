/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The DPDK mempool driver's parameters (drivers/mempool/labyrinth/params.c,
 * LABYRINTH_MEMPOOL and pool_config) without DPDK: params.c is included here
 * and needs only the library. The docs' example is whole (low and high
 * derived from min), numbers read as everywhere else, a key given twice is
 * refused as in device strings.
 */
#include <errno.h>
#include <string.h>

#include <labyrinth/lab_log.h>
#include <labyrinth/lab_pool.h>

#include "../lab_test.h"

LAB_LOG_REGISTER(mempool, NOTICE)

#include "../../drivers/mempool/labyrinth/params.c"

/* Parse @p env then @p pool_config for a pool of @p size as lab_mp_alloc does. */
static int parse(struct lab_config *cfg, const char *env, const char *pool_config, uint64_t size)
{
	unsigned int given = 0;
	int rc;

	lab_config_defaults(cfg);
	lab_mp_config_defaults(cfg);
	rc = lab_mp_parse(cfg, env, LAB_MP_ENV, "mp", &given);
	if (rc == 0)
		rc = lab_mp_parse(cfg, pool_config, "pool_config", "mp", &given);
	if (rc == 0)
		lab_mp_derive(cfg, given, size);
	return rc;
}

static uint64_t resolve(const struct lab_count *c, uint64_t size)
{
	return lab_count_resolve(c, size);
}

/* docs/dpdk.md's example: min=1% alone gives low 2% and high 3%, which make
 * a valid pool (min <= low <= high <= size). */
static void test_min_alone_derives_low_and_high(void)
{
	struct lab_config cfg;
	struct lab_pool_opts o;
	struct lab_pool *p;

	CU_ASSERT_EQUAL(parse(&cfg, "quality=full,sample_rate=64,min=1%,leak_age_ms=5000", NULL,
			      8192), 0);
	CU_ASSERT_EQUAL(resolve(&cfg.wm_min, 8192), 81);
	CU_ASSERT(cfg.wm_low.percent && cfg.wm_low.value == 2);
	CU_ASSERT(cfg.wm_high.percent && cfg.wm_high.value == 3);
	/* The pool takes it (it refused low 0 < min before). */
	lab_pool_opts_from_config(&o, &cfg);
	o.name = "mp_params";
	o.initial = o.max = 1024;
	o.cell_size = 2048;
	o.hugepages = LAB_HUGEPAGES_OFF;
	p = lab_pool_create(&o);
	CU_ASSERT_PTR_NOT_NULL(p);
	if (p != NULL)
		CU_ASSERT_EQUAL(lab_pool_destroy(p), 0);
	/* A count: 2x and 3x, capped at the pool's size. */
	CU_ASSERT_EQUAL(parse(&cfg, "min=100", NULL, 250), 0);
	CU_ASSERT(!cfg.wm_low.percent && cfg.wm_low.value == 200);
	CU_ASSERT(!cfg.wm_high.percent && cfg.wm_high.value == 250);
	CU_ASSERT_EQUAL(parse(&cfg, "min=40%", NULL, 1000), 0);
	CU_ASSERT_EQUAL(cfg.wm_low.value, 80);
	CU_ASSERT_EQUAL(cfg.wm_high.value, 100);
	/* What is given stays; high is never below low. */
	CU_ASSERT_EQUAL(parse(&cfg, "min=10", "low=50", 1000), 0);
	CU_ASSERT_EQUAL(cfg.wm_low.value, 50);
	CU_ASSERT_EQUAL(cfg.wm_high.value, 50);
	CU_ASSERT_EQUAL(parse(&cfg, "min=10,high=500", NULL, 1000), 0);
	CU_ASSERT_EQUAL(cfg.wm_low.value, 20);
	CU_ASSERT_EQUAL(cfg.wm_high.value, 500);
	/* Nothing given: the driver's defaults, all 0. */
	CU_ASSERT_EQUAL(parse(&cfg, NULL, "", 1000), 0);
	CU_ASSERT_EQUAL(cfg.wm_low.value + cfg.wm_high.value + cfg.wm_min.value, 0);
}

/* Parse @p s and expect -EINVAL with @p want in the log. */
static void expect_bad(const char *s, const char *want)
{
	struct lab_config cfg;

	lab_test_log_capture();
	CU_ASSERT_EQUAL(parse(&cfg, s, NULL, 1000), -EINVAL);
	LAB_TEST_HAS(lab_test_log_text(), want);
	lab_test_log_release();
}

/* Numbers as everywhere (lab_parse_size: decimal, no spaces), and a key once
 * per string; the environment and pool_config may each set one. */
static void test_numbers_and_repeated_keys(void)
{
	struct lab_config cfg;

	expect_bad("min=0x10", "min=0x10: key 'pool.min': '0x10' is not a whole number");
	expect_bad("min= 5", "min= 5: key 'pool.min'");
	expect_bad("sample_rate=64 ", "sample_rate=64 : key 'quality.sample_rate'");
	expect_bad("min=5,min=6", "mempool 'mp': LABYRINTH_MEMPOOL: key 'min' given twice");
	expect_bad("quality=off,low=1,quality=full", "key 'quality' given twice");
	expect_bad("min", "'min' is not key=value");
	expect_bad("mim=5", "unknown key 'mim'");
	/* pool_config applies after the environment: not a repeat. */
	CU_ASSERT_EQUAL(parse(&cfg, "sample_rate=64", "sample_rate=128", 1000), 0);
	CU_ASSERT_EQUAL(cfg.sample_rate, 128);
}

int main(void)
{
	static const struct lab_test tests[] = {
		LAB_TEST(test_min_alone_derives_low_and_high),
		LAB_TEST(test_numbers_and_repeated_keys),
		LAB_TEST_END,
	};

	return lab_test_run("mp_params", tests);
}
