/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * fio's job files: INI sections, [global] for the defaults of the jobs that
 * follow it and one section per job, "key=value" or a bare "key" (a flag),
 * ';' and '#' comments, and ${VAR} replaced by the environment variable VAR
 * anywhere on a line, as fio does. The keys are the command line's, read by
 * the same setter (opts_set), so a value means the same in both; every error
 * names the file, the line and the key. Options given on the command line
 * before the job file are defaults under its [global], as in fio.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "labblk.h"

#define LINE_MAX_LEN 4096

static char *trim(char *s)
{
	char *e;

	while (isspace((unsigned char)*s))
		s++;
	e = s + strlen(s);
	while (e > s && isspace((unsigned char)e[-1]))
		*--e = '\0';
	return s;
}

/* Copy @p in to @p out with each ${VAR} replaced by its value.
 * @return 0, or -1 after a message naming @p path and @p line. */
static int expand(const char *in, char *out, size_t len, const char *path, unsigned int line)
{
	size_t n = 0;

	while (*in != '\0') {
		const char *val, *end;
		char name[128];
		size_t vl;

		if (in[0] != '$' || in[1] != '{') {
			if (n + 1 >= len)
				goto too_long;
			out[n++] = *in++;
			continue;
		}
		end = strchr(in + 2, '}');
		if (end == NULL || end == in + 2 || (size_t)(end - in - 2) >= sizeof(name)) {
			fprintf(stderr, "labblk: %s:%u: '%s': a ${ without a variable name and its "
				"closing }\n", path, line, in);
			return -1;
		}
		snprintf(name, sizeof(name), "%.*s", (int)(end - in - 2), in + 2);
		val = getenv(name);
		if (val == NULL) {
			fprintf(stderr, "labblk: %s:%u: ${%s}: the environment variable %s is not "
				"set\n", path, line, name, name);
			return -1;
		}
		vl = strlen(val);
		if (n + vl + 1 > len)
			goto too_long;
		memcpy(out + n, val, vl);
		n += vl;
		in = end + 1;
	}
	out[n] = '\0';
	return 0;
too_long:
	fprintf(stderr, "labblk: %s:%u: the line is longer than %d bytes with its variables "
		"replaced\n", path, line, LINE_MAX_LEN);
	return -1;
}

/* Keys of the command line only, as in fio: they say where the report of
 * the run goes, not what a job does. */
static bool command_line_only(const char *key)
{
	static const char *const keys[] = { "output", "output-format", "status-interval",
					    "json", "help", "metrics", "metrics-remote", NULL };

	for (int i = 0; keys[i] != NULL; i++)
		if (strcmp(key, keys[i]) == 0)
			return true;
	return false;
}

struct parser {
	struct run *r;
	const char *path;
	unsigned int line, jobs;
	char section[256];
	struct opts *o;     /* the section's: NULL before the first */
	struct kvlist *kv;
};

static int section(struct parser *p, char *s)
{
	size_t n = strlen(s);
	char *name;
	struct spec *sp;

	if (s[n - 1] != ']') {
		fprintf(stderr, "labblk: %s:%u: '%s': a section header is [name]\n", p->path,
			p->line, s);
		return -1;
	}
	s[n - 1] = '\0';
	name = trim(s + 1);
	if (*name == '\0' || strlen(name) >= sizeof(p->section)) {
		fprintf(stderr, "labblk: %s:%u: a section needs a name (of at most %zu "
			"characters): [global] or [jobname]\n", p->path, p->line,
			sizeof(p->section) - 1);
		return -1;
	}
	memcpy(p->section, name, strlen(name) + 1); /* its length checked above */
	if (strcmp(name, "global") == 0) {
		p->o = &p->r->global;
		p->kv = &p->r->global_kv;
		return 0;
	}
	sp = opts_new_spec(p->r, name);
	if (sp == NULL)
		return -1;
	p->o = &sp->o;
	p->kv = &sp->kv;
	p->jobs++;
	return 0;
}

static int key_line(struct parser *p, char *s)
{
	char *eq = strchr(s, '='), *key = s, *val = NULL, where[LINE_MAX_LEN + 300];
	int rc;

	if (eq != NULL) {
		*eq = '\0';
		val = trim(eq + 1);
	}
	key = trim(key);
	if (p->o == NULL) {
		fprintf(stderr, "labblk: %s:%u: key '%s' comes before any section: start with "
			"[global] or [jobname]\n", p->path, p->line, key);
		return -1;
	}
	if (*key == '\0') {
		fprintf(stderr, "labblk: %s:%u: '=%s' has no key\n", p->path, p->line,
			val ? val : "");
		return -1;
	}
	if (command_line_only(key)) {
		fprintf(stderr, "labblk: %s:%u: key '%s' in [%s]: a command-line option "
			"(--%s), not a job file key\n", p->path, p->line, key, p->section, key);
		return -1;
	}
	snprintf(where, sizeof(where), "%s:%u: %s", p->path, p->line, key);
	rc = opts_set(p->r, p->o, p->kv, key, val, where);
	if (rc == 1)
		fprintf(stderr, "labblk: %s:%u: unknown key '%s' in [%s]: not a fio option "
			"labblk supports (see labblk --help)\n", p->path, p->line, key, p->section);
	return rc == 0 ? 0 : -1;
}

static int parse_line(struct parser *p, char *raw)
{
	char buf[LINE_MAX_LEN], *s = trim(raw);

	if (*s == '\0' || *s == ';' || *s == '#')
		return 0;
	if (expand(s, buf, sizeof(buf), p->path, p->line) < 0)
		return -1;
	s = trim(buf);
	if (*s == '[')
		return section(p, s);
	return key_line(p, s);
}

int jobfile_read(struct run *r, const char *path)
{
	struct parser p = { .r = r, .path = path };
	char line[LINE_MAX_LEN + 2];
	FILE *f = fopen(path, "r");
	int rc = 0;

	if (f == NULL) {
		fprintf(stderr, "labblk: job file '%s': %s\n", path, strerror(errno));
		return -1;
	}
	while (rc == 0 && fgets(line, sizeof(line), f) != NULL) {
		p.line++;
		if (strchr(line, '\n') == NULL && !feof(f)) {
			fprintf(stderr, "labblk: %s:%u: the line is longer than %d bytes\n", path,
				p.line, LINE_MAX_LEN);
			rc = -1;
			break;
		}
		rc = parse_line(&p, line);
	}
	if (rc == 0 && ferror(f)) {
		fprintf(stderr, "labblk: job file '%s': %s\n", path, strerror(errno));
		rc = -1;
	}
	fclose(f);
	if (rc == 0 && p.jobs == 0) {
		fprintf(stderr, "labblk: %s: no job section: add one ([name] and its keys) after "
			"[global]\n", path);
		rc = -1;
	}
	return rc;
}
