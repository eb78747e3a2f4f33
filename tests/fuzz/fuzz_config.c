/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * libFuzzer target: the config file parser (lab_config.h) and its
 * command-line form. The input is read as a config file; then each of its
 * lines is applied as a "section.key=value" override. Promises: no crash, no
 * leak; a refused file or key leaves an error message naming it; whatever
 * was accepted validates or is refused by lab_config_validate() with a
 * message, and dumps.
 */
#include <errno.h>
#include <string.h>

#include <labyrinth/lab_config.h>

#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static FILE *sink;
	struct lab_config cfg;
	char path[64], *text, *save = NULL;
	int fd, rc;

	fuzz_quiet();
	if (sink == NULL)
		sink = fopen("/dev/null", "w");
	lab_config_defaults(&cfg);
	fd = fuzz_file(data, size, path, sizeof(path));
	if (fd < 0)
		return 0;
	rc = lab_config_load(&cfg, path);
	close(fd);
	FUZZ_CHECK(rc == 0 || rc == -EINVAL);
	if (rc != 0)
		FUZZ_CHECK(lab_config_error()[0] != '\0');
	if (lab_config_validate(&cfg) != 0)
		FUZZ_CHECK(lab_config_error()[0] != '\0');
	lab_config_dump(&cfg, sink);

	text = malloc(size + 1);
	if (text == NULL)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	lab_config_defaults(&cfg);
	for (char *line = strtok_r(text, "\n", &save); line != NULL;
	     line = strtok_r(NULL, "\n", &save)) {
		rc = lab_config_set_arg(&cfg, line);
		FUZZ_CHECK(rc == 0 || rc == -EINVAL || rc == -ENOENT);
		if (rc != 0)
			FUZZ_CHECK(lab_config_error()[0] != '\0');
	}
	lab_config_validate(&cfg);
	lab_config_dump(&cfg, sink);
	free(text);
	return 0;
}
