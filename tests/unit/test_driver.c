/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Suite 'driver': the driver registry every driver class shares
 * (lab_driver.h). A registry of this test's own class checks registration
 * (by constructor, as drivers do), refusals (a taken name, a missing
 * callback, a full registry) and lookups (an unknown name lists the
 * registered ones); then the two real classes, ports and block devices, are
 * checked to hold their drivers, each in its own registry, and to parse
 * device strings through it. Also the device-string helpers that spare an
 * application parsing one by hand.
 */
#include <errno.h>
#include <string.h>

#include <labyrinth/lab_blk_driver.h>
#include <labyrinth/lab_devargs.h>
#include <labyrinth/lab_driver.h>
#include <labyrinth/lab_log.h>
#include <labyrinth/lab_port_driver.h>

#include "../lab_test.h"

LAB_LOG_REGISTER(drvtest, NOTICE)

/* A class of this test: its ops table has one required callback. */
struct toy_ops {
	const char *name;
	const struct lab_devargs_key *keys;
	int (*go)(void);
};

static const char *toy_missing(const void *ops)
{
	return ((const struct toy_ops *)ops)->go == NULL ? "go" : NULL;
}

LAB_DRIVER_REGISTRY_DEFINE(toys, "toy", lab_logtype_drvtest, toy_missing, 3);

static int toy_register(const struct toy_ops *ops)
{
	return lab_driver_register(&toys, ops->name, ops->keys, ops);
}

static int go(void)
{
	return 1;
}

static const struct lab_devargs_key toy_keys[] = { { "speed", "how fast" }, { NULL, NULL } };
static const struct toy_ops alpha = { .name = "alpha", .keys = toy_keys, .go = go };
static const struct toy_ops beta = { .name = "beta", .keys = toy_keys, .go = go };
#define TOY_REGISTER(ops) LAB_DRIVER_REGISTER(toy_register, ops)
TOY_REGISTER(alpha);
TOY_REGISTER(beta);

static void test_constructor_registers(void)
{
	const struct lab_driver *d = lab_driver_find(&toys, "beta");
	char names[64];

	CU_ASSERT_EQUAL(toys.n, 2);
	CU_ASSERT_PTR_NOT_NULL_FATAL(d);
	CU_ASSERT_STRING_EQUAL(d->name, "beta");
	CU_ASSERT_PTR_EQUAL(d->ops, &beta);
	CU_ASSERT_PTR_EQUAL(d->keys, toy_keys);
	lab_driver_names(&toys, names, sizeof(names));
	CU_ASSERT_STRING_EQUAL(names, "alpha, beta");
}

static void test_duplicate_name_refused(void)
{
	static const struct toy_ops again = { .name = "alpha", .keys = toy_keys, .go = go };

	lab_test_log_capture();
	CU_ASSERT_EQUAL(toy_register(&again), -EEXIST);
	LAB_TEST_HAS(lab_test_log_text(), "toy driver 'alpha' not registered: the name is taken");
	lab_test_log_release();
	CU_ASSERT_EQUAL(toys.n, 2);
	/* The first table keeps the name. */
	CU_ASSERT_PTR_EQUAL(lab_driver_find(&toys, "alpha")->ops, &alpha);
}

static void test_incomplete_table_refused(void)
{
	static const struct toy_ops no_go = { .name = "lazy", .keys = toy_keys };
	static const struct toy_ops no_keys = { .name = "keyless", .go = go };
	static const struct toy_ops no_name = { .keys = toy_keys, .go = go };

	lab_test_log_capture();
	CU_ASSERT_EQUAL(toy_register(&no_go), -EINVAL);
	LAB_TEST_HAS(lab_test_log_text(), "toy driver 'lazy' not registered: its ops table has "
		     "no go");
	CU_ASSERT_EQUAL(toy_register(&no_keys), -EINVAL);
	LAB_TEST_HAS(lab_test_log_text(), "'keyless' not registered: its ops table has no keys");
	CU_ASSERT_EQUAL(toy_register(&no_name), -EINVAL);
	LAB_TEST_HAS(lab_test_log_text(), "'?' not registered: its ops table has no name");
	CU_ASSERT_EQUAL(lab_driver_register(&toys, "nothing", toy_keys, NULL), -EINVAL);
	LAB_TEST_HAS(lab_test_log_text(), "toy driver 'nothing' not registered: no ops table");
	lab_test_log_release();
	CU_ASSERT_EQUAL(toys.n, 2);
	CU_ASSERT_PTR_NULL(lab_driver_find(&toys, "lazy"));
}

static void test_full_registry_refused(void)
{
	static const struct toy_ops gamma = { .name = "gamma", .keys = toy_keys, .go = go };
	static const struct toy_ops delta = { .name = "delta", .keys = toy_keys, .go = go };

	/* Room for three: gamma fills it (tests run in order; it stays). */
	CU_ASSERT_EQUAL(toy_register(&gamma), 0);
	lab_test_log_capture();
	CU_ASSERT_EQUAL(toy_register(&delta), -ENOSPC);
	LAB_TEST_HAS(lab_test_log_text(), "toy driver 'delta' not registered: 3 drivers already");
	lab_test_log_release();
	CU_ASSERT_EQUAL(toys.n, 3);
	CU_ASSERT_PTR_NULL(lab_driver_find(&toys, "delta"));
}

static void test_lookup_unknown_lists_names(void)
{
	const struct lab_driver *d = &toys.drivers[0];

	CU_ASSERT_EQUAL(lab_driver_lookup(&toys, "alpha", NULL, &d), 0);
	CU_ASSERT_PTR_EQUAL(d->ops, &alpha);
	lab_test_log_capture();
	CU_ASSERT_EQUAL(lab_driver_lookup(&toys, "omega", NULL, &d), -ENXIO);
	CU_ASSERT_PTR_NULL(d);
	LAB_TEST_HAS(lab_test_log_text(), "unknown toy driver 'omega'; registered: alpha, beta, "
		     "gamma");
	CU_ASSERT_EQUAL(lab_driver_lookup(&toys, "omega", "omega:speed=3", &d), -ENXIO);
	LAB_TEST_HAS(lab_test_log_text(), "device string 'omega:speed=3': unknown driver "
		     "'omega'; registered: alpha, beta, gamma");
	lab_test_log_release();
}

/* Ports and block devices each have their registry, filled by the drivers'
 * constructors in the library, and parse device strings through it. */
static void test_both_classes_registered(void)
{
	const struct lab_driver_registry *ports = lab_port_drivers(), *blks = lab_blk_drivers();
	const struct lab_driver *null_drv = lab_driver_find(ports, "null");
	const struct lab_driver *ram_drv = lab_driver_find(blks, "ram");
	const struct lab_driver *d;
	struct lab_devargs a;

	CU_ASSERT_PTR_NOT_NULL_FATAL(null_drv);
	CU_ASSERT_PTR_NOT_NULL(lab_driver_find(ports, "ring"));
	CU_ASSERT_STRING_EQUAL(((const struct lab_port_ops *)null_drv->ops)->name, "null");
	CU_ASSERT_PTR_NOT_NULL_FATAL(ram_drv);
	CU_ASSERT_STRING_EQUAL(((const struct lab_blk_ops *)ram_drv->ops)->name, "ram");
	/* One registry per class: a name of one class is unknown in the other. */
	CU_ASSERT_PTR_NULL(lab_driver_find(ports, "ram"));
	CU_ASSERT_PTR_NULL(lab_driver_find(blks, "null"));
	CU_ASSERT_EQUAL(lab_devargs_parse("null:size=64", ports, &a, &d), 0);
	CU_ASSERT_PTR_EQUAL(d, null_drv);
	CU_ASSERT_STRING_EQUAL(lab_devargs_get(&a, "size"), "64");
	lab_devargs_free(&a);
	lab_test_log_capture();
	CU_ASSERT_EQUAL(lab_devargs_parse("null:size=64", blks, &a, &d), -ENXIO);
	LAB_TEST_HAS(lab_test_log_text(), "unknown driver 'null'; registered: ram");
	lab_test_log_release();
	CU_ASSERT_EQUAL(lab_devargs_parse("ram:size=1M", blks, &a, &d), 0);
	CU_ASSERT_PTR_EQUAL(d, ram_drv);
	lab_devargs_free(&a);
}

static void test_devargs_helpers(void)
{
	char name[8];

	CU_ASSERT_EQUAL(lab_devargs_driver_name("uring:path=/x", name, sizeof(name)), 0);
	CU_ASSERT_STRING_EQUAL(name, "uring");
	CU_ASSERT_EQUAL(lab_devargs_driver_name("null", name, sizeof(name)), 0);
	CU_ASSERT_STRING_EQUAL(name, "null");
	CU_ASSERT_EQUAL(lab_devargs_driver_name("af_packet:iface=x", name, sizeof(name)),
			-ENAMETOOLONG);
	CU_ASSERT_TRUE(lab_devargs_gives("uring:path=/x,ro=1", "ro"));
	CU_ASSERT_TRUE(lab_devargs_gives("uring:ro=0", "ro"));
	CU_ASSERT_FALSE(lab_devargs_gives("uring:path=/ro=1", "ro"));
	CU_ASSERT_FALSE(lab_devargs_gives("uring:rof=1", "ro"));
	CU_ASSERT_FALSE(lab_devargs_gives("ro", "ro"));
	CU_ASSERT_TRUE(lab_devargs_key_known(toy_keys, "speed"));
	CU_ASSERT_FALSE(lab_devargs_key_known(toy_keys, "spee"));
	/* uring is built only with liburing. */
	if (lab_driver_find(lab_blk_drivers(), "uring") != NULL)
		CU_ASSERT_TRUE(lab_blk_driver_has_key("uring:path=/x", "ro"));
	CU_ASSERT_FALSE(lab_blk_driver_has_key("ram:size=1M", "ro"));
	CU_ASSERT_FALSE(lab_blk_driver_has_key("nvme:x=1", "ro"));
}

int main(void)
{
	static const struct lab_test tests[] = {
		LAB_TEST(test_constructor_registers),
		LAB_TEST(test_duplicate_name_refused),
		LAB_TEST(test_incomplete_table_refused),
		LAB_TEST(test_full_registry_refused),
		LAB_TEST(test_lookup_unknown_lists_names),
		LAB_TEST(test_both_classes_registered),
		LAB_TEST(test_devargs_helpers),
		LAB_TEST_END,
	};

	return lab_test_run("driver", tests);
}
