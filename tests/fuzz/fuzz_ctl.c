/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * libFuzzer target: the control socket's request handling (lab_ctl_answer:
 * the JSON reader, the command table, every command's member checks) with a
 * pool present, as any local client of the socket could send. Promises: no
 * crash, no leak; every request gets exactly one reply line that is valid
 * JSON with a boolean "ok", and an "error" string when it is false; the
 * reader's verdict on the input matches the reply's (not JSON -> "bad
 * request").
 */
#include <string.h>

#include <labyrinth/lab_ctl.h>
#include <labyrinth/lab_json.h>
#include <labyrinth/lab_pool.h>

#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct lab_pool *pool;
	struct lab_json *req, *rep;
	const struct lab_json *ok;
	char *r;

	fuzz_quiet();
	if (pool == NULL) {
		struct lab_pool_opts o;

		lab_pool_opts_init(&o);
		o.name = "fz";
		o.initial = o.max = 256;
		o.cell_size = 2048 - 64;
		o.hugepages = LAB_HUGEPAGES_OFF;
		pool = lab_pool_create(&o);
		FUZZ_CHECK(pool != NULL);
	}
	r = lab_ctl_answer((const char *)data, size);
	FUZZ_CHECK(r != NULL);
	FUZZ_CHECK(strchr(r, '\n') == r + strlen(r) - 1);
	rep = lab_json_parse(r, strlen(r), NULL, 0);
	FUZZ_CHECK(rep != NULL && rep->type == LAB_JSON_OBJECT);
	ok = lab_json_get(rep, "ok");
	FUZZ_CHECK(ok != NULL && ok->type == LAB_JSON_BOOL);
	FUZZ_CHECK(ok->b || lab_json_str(rep, "error") != NULL);
	req = lab_json_parse((const char *)data, size, NULL, 0);
	if (req == NULL)
		FUZZ_CHECK(!ok->b && strncmp(lab_json_str(rep, "error"), "bad request", 11) == 0);
	lab_json_free(req);
	lab_json_free(rep);
	free(r);
	return 0;
}
