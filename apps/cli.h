/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The apps' answer to a bad command line: one line on stderr naming what was
 * wrong and pointing at --help ("labfwd: unknown option '--foo'; try 'labfwd
 * --help'"), exit status 1. The help text goes to stdout, and only when it is
 * asked for (exit 0).
 *
 * getopt_long's own messages are off (opterr = 0) and the option string starts
 * with ':', so that it returns '?' for an unknown option and ':' for a missing
 * value, and cli_bad_option() says which.
 */
#ifndef LAB_APPS_CLI_H
#define LAB_APPS_CLI_H

#include <getopt.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

static inline __attribute__((format(printf, 2, 3))) void cli_usage_error(const char *prog,
									 const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: ", prog);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "; try '%s --help'\n", prog);
}

/* @p c is what getopt_long returned ('?' or ':'); argv[optind - 1] is the
 * word it was looking at, except inside a cluster of short options. */
static inline void cli_bad_option(const char *prog, char *const *argv, int c)
{
	const char *w = argv[optind - 1];
	bool is_long = strncmp(w, "--", 2) == 0 && (optopt == 0 || c == ':' || strchr(w, '='));
	int len = (int)strcspn(w, "=");

	if (c == ':' && is_long)
		cli_usage_error(prog, "option '%.*s' needs a value", len, w);
	else if (c == ':')
		cli_usage_error(prog, "option '-%c' needs a value", optopt);
	else if (is_long && optopt != 0)
		cli_usage_error(prog, "option '%.*s' takes no value", len, w);
	else if (is_long)
		cli_usage_error(prog, "unknown option '%.*s'", len, w);
	else
		cli_usage_error(prog, "unknown option '-%c'", optopt);
}

#endif
