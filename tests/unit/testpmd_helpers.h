/* SPDX-License-Identifier: BSD-3-Clause */
/* dpdk-testpmd as the other end of a virtio-over-vhost-user port, and the
 * numbered frames the virtio and vhost suites send through it. */
#ifndef TESTPMD_HELPERS_H
#define TESTPMD_HELPERS_H

#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <labyrinth/lab_buf.h>

#include "pool_helpers.h"

#define FRAME_LEN 128

/* testpmd with @p argv (argv[0] "dpdk-testpmd", NULL-terminated) in a child.
 * Its output goes to /dev/null, to the file LAB_TEST_TESTPMD_LOG names, or
 * with LAB_TEST_VERBOSE to ours. */
static inline pid_t testpmd_spawn(char *const argv[])
{
	pid_t pid = fork();

	if (pid == 0) {
		const char *logf = getenv("LAB_TEST_TESTPMD_LOG");
		int out = open(logf ? logf : "/dev/null", O_WRONLY | O_CREAT | O_APPEND, 0644);

		if (out >= 0 && getenv("LAB_TEST_VERBOSE") == NULL) {
			dup2(out, 1);
			dup2(out, 2);
		}
		execvp("dpdk-testpmd", argv);
		_exit(127);
	}
	return pid;
}

/* SIGINT (testpmd closes its ports), up to 10 s, then SIGKILL. */
static inline void testpmd_stop(pid_t pid)
{
	int st;

	if (pid <= 0)
		return;
	kill(pid, SIGINT);
	for (int i = 0; i < 1000 && waitpid(pid, &st, WNOHANG) == 0; i++)
		sleep_ms(10);
	if (waitpid(pid, &st, WNOHANG) == 0) {
		kill(pid, SIGKILL);
		waitpid(pid, &st, 0);
	}
}

/* Until testpmd @p pid listens on @p path (its start: seconds on a busy
 * machine), 60 s at most; false at once if it exits first. */
static inline bool testpmd_wait_socket(pid_t pid, const char *path)
{
	struct stat sb;

	for (int i = 0; i < 6000; i++) {
		if (stat(path, &sb) == 0 && S_ISSOCK(sb.st_mode))
			return true;
		if (waitpid(pid, NULL, WNOHANG) == pid)
			return false;
		sleep_ms(10);
	}
	return false;
}

/* A frame of FRAME_LEN bytes: broadcast, a local ethertype, @p seq and a
 * pattern derived from it. */
static inline void frame_stamp(struct lab_buf *b, uint16_t headroom, uint32_t seq)
{
	uint8_t *d;

	lab_buf_reset(b, headroom);
	d = lab_buf_data(b);
	memset(d, 0xff, 6);
	memcpy(d + 6, "\x02\x00\x00\x00\x00\x01", 6);
	d[12] = 0x88; /* local experimental ethertype */
	d[13] = 0xb5;
	memcpy(d + 14, &seq, sizeof(seq));
	for (uint32_t i = 18; i < FRAME_LEN; i++)
		d[i] = (uint8_t)(seq + i);
	b->data_len = FRAME_LEN;
}

/* Whether @p b is such a frame, whole; its number in *@p seq. */
static inline bool frame_intact(const struct lab_buf *b, uint32_t *seq)
{
	const uint8_t *d = lab_buf_data(b);

	if (b->data_len != FRAME_LEN)
		return false;
	memcpy(seq, d + 14, sizeof(*seq));
	for (uint32_t i = 18; i < FRAME_LEN; i++)
		if (d[i] != (uint8_t)(*seq + i))
			return false;
	return true;
}

#endif
