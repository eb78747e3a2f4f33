/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * libFuzzer target: the device-string parser (lab_devargs.h) that every
 * driver class shares ("pcap:rx=a.pcap,loop=0", "uring:path=/dev/loop0").
 * Any string is parsed for a class of two drivers; on success every key is
 * read back as text, as a number and as a choice. Promises: no crash, no
 * leak, no read past the string; a parse either fails with -EINVAL/-ENXIO or
 * gives only the driver's keys, each once, with non-empty values.
 */
#include <errno.h>
#include <string.h>

#include <labyrinth/lab_devargs.h>

#include "fuzz_common.h"

LAB_LOG_REGISTER(fuzz, NOTICE)

static const struct lab_devargs_key keys_a[] = {
	{ "path", "a file" }, { "qd", "depth" }, { "mode", "a or b" }, { NULL, NULL },
};
static const struct lab_devargs_key keys_b[] = {
	{ "name", "a name" }, { "size", "a size" }, { "loop", "0 or 1" }, { NULL, NULL },
};

static const struct lab_devargs_key *find(const char *name, const void **drv)
{
	if (strcmp(name, "alpha") == 0) {
		*drv = keys_a;
		return keys_a;
	}
	if (strcmp(name, "beta") == 0) {
		*drv = keys_b;
		return keys_b;
	}
	return NULL;
}

static void names(char *out, size_t len)
{
	snprintf(out, len, "alpha, beta");
}

static const struct lab_devargs_class cls = {
	.what = "fuzz",
	.logtype = &lab_logtype_fuzz,
	.find = find,
	.names = names,
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const choices[] = { "a", "b", NULL };
	char *s = malloc(size + 1);
	struct lab_devargs a;
	const void *drv = NULL;
	int rc;

	fuzz_quiet();
	if (s == NULL)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	rc = lab_devargs_parse(s, &cls, &a, &drv);
	FUZZ_CHECK(rc == 0 || rc == -EINVAL || rc == -ENXIO);
	if (rc == 0) {
		const struct lab_devargs_key *k = drv;
		uint64_t v;

		FUZZ_CHECK(drv == keys_a || drv == keys_b);
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
