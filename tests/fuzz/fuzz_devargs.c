/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * libFuzzer target: the device-string parser (lab_devargs.h) that every
 * driver class shares ("pcap:rx=a.pcap,loop=0", "uring:path=/dev/loop0").
 * Any string is parsed for a registry (lab_driver.h) of two drivers; on
 * success every key is read back as text, as a number and as a choice.
 * Promises: no crash, no leak, no read past the string; a parse either fails
 * with -EINVAL/-ENXIO or gives only the driver's keys, each once, with
 * non-empty values.
 */
#include <errno.h>
#include <string.h>

#include <labyrinth/lab_devargs.h>
#include <labyrinth/lab_driver.h>

#include "fuzz_common.h"

LAB_LOG_REGISTER(fuzz, NOTICE)

static const struct lab_devargs_key keys_a[] = {
	{ "path", "a file" }, { "qd", "depth" }, { "mode", "a or b" }, { NULL, NULL },
};
static const struct lab_devargs_key keys_b[] = {
	{ "name", "a name" }, { "size", "a size" }, { "loop", "0 or 1" }, { NULL, NULL },
};

LAB_DRIVER_REGISTRY_DEFINE(reg, "fuzz", lab_logtype_fuzz, NULL, 2);

/* The key tables stand in for the ops tables: the registry only keeps them. */
__attribute__((constructor)) static void fuzz_register(void)
{
	(void)lab_driver_register(&reg, "alpha", keys_a, keys_a);
	(void)lab_driver_register(&reg, "beta", keys_b, keys_b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const choices[] = { "a", "b", NULL };
	char *s = malloc(size + 1);
	struct lab_devargs a;
	const struct lab_driver *drv = NULL;
	int rc;

	fuzz_quiet();
	if (s == NULL)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	rc = lab_devargs_parse(s, &reg, &a, &drv);
	FUZZ_CHECK(rc == 0 || rc == -EINVAL || rc == -ENXIO);
	if (rc == 0) {
		const struct lab_devargs_key *k = drv->keys;
		uint64_t v;

		FUZZ_CHECK(drv->ops == keys_a || drv->ops == keys_b);
		FUZZ_CHECK(a.n <= 16);
		for (unsigned int i = 0; i < a.n; i++) {
			bool known = false;

			FUZZ_CHECK(a.kv[i].value != NULL && a.kv[i].value[0] != '\0');
			for (unsigned int j = 0; k[j].name != NULL; j++)
				known |= strcmp(k[j].name, a.kv[i].key) == 0;
			FUZZ_CHECK(known);
			for (unsigned int j = 0; j < i; j++)
				FUZZ_CHECK(strcmp(a.kv[i].key, a.kv[j].key) != 0);
			FUZZ_CHECK(lab_devargs_get(&a, a.kv[i].key) == a.kv[i].value);
			rc = lab_devargs_u64(&a, a.kv[i].key, 7, 1, 1u << 30, &v);
			FUZZ_CHECK(rc == -EINVAL || (rc == 0 && v >= 1 && v <= (1u << 30)));
			rc = lab_devargs_choice(&a, a.kv[i].key, choices, 0);
			FUZZ_CHECK(rc == -EINVAL || rc == 0 || rc == 1);
		}
		lab_devargs_free(&a);
	}
	free(s);
	return 0;
}
