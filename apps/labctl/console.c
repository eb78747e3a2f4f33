/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * labctl -i: a console over one connection to the control socket. Each line
 * is a labctl command (the words labctl takes after its options), sent as
 * the same JSON request and printed the same way: a thin client, the socket
 * stays the one interface. On a terminal, lines are edited with libedit (BSD,
 * like this project; GNU readline would make the binary GPL), with history
 * kept across sessions and completion of commands, levels, pool names and
 * log types (the names asked of the process as completion needs them).
 * Without a terminal it reads commands from stdin, one per line, so a script
 * can drive it.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <labyrinth/lab_json.h>

#include "labctl.h"

#ifdef LABCTL_HAVE_EDITLINE
#include <editline/readline.h>
#endif

#define CONSOLE_WORDS 16

static const char *const commands[] = { "help", "info", "pools", "pool", "ports", "set",
					"metrics", "raw", "quit", "exit", NULL };
static const char *const set_what[] = { "quality", "log", NULL };
static const char *const levels[] = { "off", "sampled", "full", NULL };
static const char *const log_levels[] = { "err", "warning", "notice", "info", "debug", NULL };
static const char *const pool_opt[] = { "--pool", NULL };

/* Split @p s (modified) at spaces and tabs; @return the number of words. */
static int split(char *s, char **w, int max)
{
	int n = 0;

	for (char *t = strtok(s, " \t\r\n"); t != NULL && n < max; t = strtok(NULL, " \t\r\n"))
		w[n++] = t;
	return n;
}

/* The list the word after @p w[0..n) is taken from (NULL: none). @p dyn: 1
 * for pool names, 2 for log types, which only the process knows. */
static const char *const *choices(char **w, int n, int *dyn)
{
	*dyn = 0;
	if (n == 0)
		return commands;
	if (strcmp(w[0], "pool") == 0 && n == 1)
		*dyn = 1;
	else if (strcmp(w[0], "set") == 0 && n == 1)
		return set_what;
	else if (strcmp(w[0], "set") == 0 && strcmp(w[1], "quality") == 0) {
		if (strcmp(w[n - 1], "--pool") == 0)
			*dyn = 1;
		else if (n == 2)
			return levels;
		else if (n <= 4)
			return pool_opt;
	} else if (strcmp(w[0], "set") == 0 && strcmp(w[1], "log") == 0) {
		if (n == 2)
			return log_levels;
		if (n == 3)
			*dyn = 2;
	}
	return NULL;
}

size_t console_complete(const char *line, size_t start, const char *text,
			const struct console_names *names, const char **out, size_t max)
{
	char buf[LABCTL_LINE_MAX], *w[CONSOLE_WORDS];
	const char *const *list;
	size_t k = 0, len = strlen(text);
	int n, dyn;

	snprintf(buf, sizeof(buf), "%.*s", (int)(start < sizeof(buf) ? start : sizeof(buf) - 1),
		 line);
	n = split(buf, w, CONSOLE_WORDS);
	list = choices(w, n, &dyn);
	if (dyn == 1)
		list = names->pools;
	else if (dyn == 2)
		list = names->types;
	for (size_t i = 0; list != NULL && list[i] != NULL && k < max; i++)
		if (strncmp(list[i], text, len) == 0)
			out[k++] = list[i];
	return k;
}

/* One console line; @return 0, 1 for a command that failed, -1 to quit. */
static int console_line(char *line)
{
	char *w[CONSOLE_WORDS], *raw, req[LAB_CTL_REQ_MAX];
	const char *pool = NULL;
	int n, m = 0;

	raw = line + strspn(line, " \t");
	if (strncmp(raw, "raw", 3) == 0 && (raw[3] == ' ' || raw[3] == '\t')) {
		/* The JSON as typed, spaces and all. */
		char *args[2] = { "raw", raw + 4 };

		raw[strcspn(raw, "\r\n")] = '\0';
		if (build_request(2, args, NULL, req, sizeof(req)) < 0)
			return 1;
		return one_shot("raw", req);
	}
	n = split(line, w, CONSOLE_WORDS);
	if (n == 0)
		return 0;
	if (strcmp(w[0], "quit") == 0 || strcmp(w[0], "exit") == 0)
		return -1;
	/* --pool NAME, as on labctl's command line. */
	for (int i = 0; i < n; i++) {
		if (strcmp(w[i], "--pool") == 0 && i + 1 < n)
			pool = w[++i];
		else
			w[m++] = w[i];
	}
	if (build_request(m, w, pool, req, sizeof(req)) < 0)
		return 1;
	return one_shot(w[0], req);
}

#ifdef LABCTL_HAVE_EDITLINE

/* Names the process has now, for completion (pool names, log types). */
static struct {
	char *pools[LABCTL_NAMES_MAX + 1];
	char *types[LABCTL_NAMES_MAX + 1];
	const char *found[256];
	size_t nfound, next;
} comp;

static void names_free(void)
{
	for (int i = 0; comp.pools[i] != NULL; i++)
		free(comp.pools[i]);
	for (int i = 0; comp.types[i] != NULL; i++)
		free(comp.types[i]);
	memset(comp.pools, 0, sizeof(comp.pools));
	memset(comp.types, 0, sizeof(comp.types));
}

static void names_fetch(void)
{
	struct lab_json *j;
	const struct lab_json *m;
	int k = 0;

	names_free();
	j = ask_quiet("{\"cmd\":\"pools\"}");
	m = lab_json_get(j, "pools");
	for (m = m != NULL ? m->child : NULL; m != NULL && k < LABCTL_NAMES_MAX; m = m->next)
		if (lab_json_str(m, "name") != NULL)
			comp.pools[k++] = strdup(lab_json_str(m, "name"));
	lab_json_free(j);
	j = ask_quiet("{\"cmd\":\"info\"}");
	m = lab_json_get(j, "log");
	k = 0;
	for (m = m != NULL ? m->child : NULL; m != NULL && k < LABCTL_NAMES_MAX; m = m->next)
		comp.types[k++] = strdup(m->key);
	lab_json_free(j);
}

static char *generator(const char *text, int state)
{
	(void)text;
	if (state == 0)
		comp.next = 0;
	return comp.next < comp.nfound ? strdup(comp.found[comp.next++]) : NULL;
}

static char **complete(const char *text, int start, int end)
{
	struct console_names n;

	(void)end;
	rl_attempted_completion_over = 1; /* never file names */
	names_fetch();
	n.pools = (const char *const *)comp.pools;
	n.types = (const char *const *)comp.types;
	comp.nfound = console_complete(rl_line_buffer, (size_t)start, text, &n, comp.found,
				       sizeof(comp.found) / sizeof(comp.found[0]));
	return rl_completion_matches(text, generator);
}

/* $LABCTL_HISTORY (empty: none), else ~/.labctl_history. */
static const char *history_path(char *buf, size_t len)
{
	const char *e = getenv("LABCTL_HISTORY"), *home = getenv("HOME");

	if (e != NULL)
		return e[0] != '\0' ? e : NULL;
	if (home == NULL || snprintf(buf, len, "%s/.labctl_history", home) >= (int)len)
		return NULL;
	return buf;
}

static int console_tty(void)
{
	char hbuf[512], *line;
	const char *hist = history_path(hbuf, sizeof(hbuf));
	int rc, status = 0;

	rl_readline_name = "labctl";
	rl_attempted_completion_function = complete;
	using_history();
	stifle_history(1000);
	if (hist != NULL)
		read_history(hist);
	printf("labctl: connected to %s; commands as labctl takes them (help: the process's "
	       "list, TAB completes, quit or ^D leaves)\n", labctl_sock_path());
	while ((line = readline("labctl> ")) != NULL) {
		if (line[strspn(line, " \t")] != '\0')
			add_history(line);
		rc = console_line(line);
		free(line);
		fflush(stdout);
		if (rc < 0)
			break;
		status |= rc;
	}
	if (hist != NULL && write_history(hist) != 0)
		fprintf(stderr, "labctl: cannot write the history to %s\n", hist);
	names_free();
	return status;
}

#endif /* LABCTL_HAVE_EDITLINE */

int console_run(void)
{
	char *line = NULL;
	size_t cap = 0;
	int rc, status = 0;

#ifdef LABCTL_HAVE_EDITLINE
	if (isatty(STDIN_FILENO))
		return console_tty();
#endif
	/* A script's commands, one per line: no prompt, no history. */
	while (getline(&line, &cap, stdin) >= 0) {
		rc = console_line(line);
		fflush(stdout);
		if (rc < 0)
			break;
		status |= rc;
	}
	free(line);
	return status;
}
