/* SPDX-License-Identifier: BSD-3-Clause */
/* labctl's parts: the commands and the connection (labctl.c), the console
 * of labctl -i (console.c). */
#ifndef LABCTL_H
#define LABCTL_H

#include <stddef.h>

#include <labyrinth/lab_ctl.h>
#include <labyrinth/lab_json.h>

/* Longest console line completion looks at. */
#define LABCTL_LINE_MAX 4096
/* Most pool names and log types completion offers. */
#define LABCTL_NAMES_MAX 64

/* labctl.c */
/* The JSON request of a command's words (argv[0] the command), into @p req;
 * @p pool: set quality's --pool (NULL: every pool). Bad words: said, -1. */
int build_request(int argc, char **argv, const char *pool, char *req, size_t len);
/* Send @p req and print its reply as command @p cmd prints it; @return 0, or
 * 1 for an error reply (said on stderr). */
int one_shot(const char *cmd, const char *req);
/* The reply to @p req, or NULL (an error reply or none) without a word. */
struct lab_json *ask_quiet(const char *req);
const char *labctl_sock_path(void);

/* console.c */
/* Names only the process knows, NULL-terminated lists. */
struct console_names {
	const char *const *pools;
	const char *const *types;
};

/*
 * The completions of @p text, the word that starts at byte @p start of
 * @p line (what precedes it decides the list: commands, set's what, levels,
 * --pool, pool names, log types), at most @p max into @p out.
 * @return how many.
 */
size_t console_complete(const char *line, size_t start, const char *text,
			const struct console_names *names, const char **out, size_t max);
/* labctl -i: @return the exit status (1 if any command failed). */
int console_run(void);

#endif
