/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Shared by the libFuzzer targets (docs/testing.md): quiet logs, the input as
 * a file (the parsers under test read files), and a check that aborts (a
 * crash libFuzzer reports and minimizes) when a promise is broken.
 */
#ifndef LAB_FUZZ_COMMON_H
#define LAB_FUZZ_COMMON_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include <labyrinth/lab_log.h>
#include <labyrinth/lab_pool.h>

#define FUZZ_CHECK(cond)                                                              \
	do {                                                                          \
		if (!(cond)) {                                                        \
			fprintf(stderr, "%s:%d: broken promise: %s\n", __FILE__,      \
				__LINE__, #cond);                                     \
			abort();                                                      \
		}                                                                     \
	} while (0)

/* Messages are part of what is fuzzed (formatting the bad input into them),
 * so they are written, to a sink. */
static inline void fuzz_quiet(void)
{
	static FILE *sink;

	if (sink == NULL) {
		sink = fopen("/dev/null", "w");
		lab_log_set_stream(sink);
	}
}

/* @p data as a file: a memfd, named by its /proc/self/fd path in @p path.
 * @return the descriptor (close it after), or -1. */
static inline int fuzz_file(const uint8_t *data, size_t size, char *path, size_t len)
{
	int fd = memfd_create("fuzz", MFD_CLOEXEC);

	if (fd < 0)
		return -1;
	if (size != 0 && write(fd, data, size) != (ssize_t)size) {
		close(fd);
		return -1;
	}
	snprintf(path, len, "/proc/self/fd/%d", fd);
	return fd;
}

/* The pool's stats at a quiet point: the quarantine checked and emptied
 * first (what the warden would do later), so every freed buffer is free. */
static inline void fuzz_pool_settled(struct lab_pool *p, struct lab_pool_stats *ps)
{
	lab_pool_quality_check(p);
	lab_pool_stats(p, ps);
}

#endif
