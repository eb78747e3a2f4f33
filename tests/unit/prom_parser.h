/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * A small parser of the Prometheus text exposition format 0.0.4, enough to
 * hold `labctl metrics` to it: HELP and TYPE once per family and before its
 * samples, the samples of a family together, metric and label names
 * well-formed, label values quoted with only \\, \" and \n escaped, values
 * numbers, counters named _total and not negative, and no series (name and
 * labels) given twice.
 */
#ifndef PROM_PARSER_H
#define PROM_PARSER_H

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct prom {
	char families[64][96];
	char types[64][16];
	int nfam;
	int samples;
	const char **lines; /* the sample lines, for the duplicate check */
};

static inline bool prom_name_ok(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		char c = s[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == ':' ||
		      (i > 0 && c >= '0' && c <= '9')))
			return false;
	}
	return n > 0;
}

static inline int prom_family(struct prom *p, const char *name, size_t n)
{
	for (int i = 0; i < p->nfam; i++)
		if (strlen(p->families[i]) == n && strncmp(p->families[i], name, n) == 0)
			return i;
	return -1;
}

/* A sample line: name{label="value",...} value. Returns NULL or why not. */
static inline const char *prom_sample(struct prom *p, const char *l, int cur)
{
	size_t n = strcspn(l, "{ ");
	const char *s = l + n;
	char *end;

	if (!prom_name_ok(l, n))
		return "bad metric name";
	if (cur < 0 || prom_family(p, l, n) != cur)
		return "sample outside its family's HELP/TYPE block";
	if (*s == '{') {
		s++;
		while (*s != '}') {
			size_t ln = strcspn(s, "=");

			if (!prom_name_ok(s, ln) || s[ln] != '=' || s[ln + 1] != '"')
				return "bad label";
			s += ln + 2;
			while (*s != '"') {
				if (*s == '\0' || *s == '\n')
					return "unterminated label value";
				if (*s == '\\' && !strchr("\\\"n", s[1]))
					return "bad escape in a label value";
				s += *s == '\\' ? 2 : 1;
			}
			s++;
			if (*s == ',')
				s++;
			else if (*s != '}')
				return "expected ',' or '}' after a label";
		}
		s++;
	}
	if (*s != ' ')
		return "no space before the value";
	strtod(s + 1, &end);
	if (end == s + 1 || (*end != '\0' && *end != ' '))
		return "bad value";
	if (strcmp(p->types[cur], "counter") == 0 &&
	    (strncmp(l + n - 6, "_total", 6) != 0 || strtod(s + 1, NULL) < 0))
		return "a counter without _total, or negative";
	p->lines = realloc(p->lines, (size_t)(p->samples + 1) * sizeof(*p->lines));
	p->lines[p->samples++] = l;
	return NULL;
}

/* A series' key: the sample line up to its value. */
static inline size_t prom_key_len(const char *l)
{
	const char *sp = strrchr(l, ' ');

	return sp != NULL ? (size_t)(sp - l) : strlen(l);
}

static inline int prom_key_cmp(const void *a, const void *b)
{
	const char *x = *(const char *const *)a, *y = *(const char *const *)b;
	size_t nx = prom_key_len(x), ny = prom_key_len(y);
	int c = strncmp(x, y, nx < ny ? nx : ny);

	return c != 0 ? c : (nx > ny) - (nx < ny);
}

/* @return the first series given twice (a line of the page), or NULL. */
static inline const char *prom_duplicate(struct prom *p)
{
	qsort(p->lines, (size_t)p->samples, sizeof(*p->lines), prom_key_cmp);
	for (int i = 1; i < p->samples; i++)
		if (prom_key_cmp(&p->lines[i - 1], &p->lines[i]) == 0)
			return p->lines[i];
	return NULL;
}

static inline const char *prom_parse_lines(struct prom *p, char *text, int *line_no)
{
	int cur = -1;

	memset(p, 0, sizeof(*p));
	*line_no = 0;
	for (char *l = strtok(text, "\n"); l != NULL; l = strtok(NULL, "\n")) {
		const char *why;

		(*line_no)++;
		if (strncmp(l, "# HELP ", 7) == 0) {
			size_t n = strcspn(l + 7, " ");

			if (!prom_name_ok(l + 7, n) || prom_family(p, l + 7, n) >= 0 || p->nfam == 64)
				return "bad or repeated HELP";
			snprintf(p->families[p->nfam], sizeof(p->families[0]), "%.*s", (int)n, l + 7);
			cur = p->nfam++;
		} else if (strncmp(l, "# TYPE ", 7) == 0) {
			size_t n = strcspn(l + 7, " ");
			const char *t = l + 7 + n + 1;

			if (cur < 0 || prom_family(p, l + 7, n) != cur || p->types[cur][0])
				return "TYPE without its HELP, or repeated";
			if (strcmp(t, "counter") && strcmp(t, "gauge") && strcmp(t, "untyped"))
				return "unknown TYPE";
			snprintf(p->types[cur], sizeof(p->types[0]), "%s", t);
		} else if (l[0] == '#') {
			continue;
		} else if ((why = prom_sample(p, l, cur)) != NULL) {
			return why;
		}
	}
	if (prom_duplicate(p) != NULL)
		return "a series (name and labels) given twice";
	return NULL;
}

/* Parse the text format 0.0.4: HELP and TYPE once per family, before its
 * samples, samples of a family together, no series twice; returns NULL or
 * what was wrong. */
static inline const char *prom_parse(struct prom *p, char *text, int *line_no)
{
	const char *why = prom_parse_lines(p, text, line_no);

	free(p->lines);
	p->lines = NULL;
	return why;
}

#endif
