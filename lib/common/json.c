/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The JSON reader (RFC 8259) on jansson, which is fuzzed upstream and refuses
 * what a strict reader must: invalid UTF-8, \u0000 in a string (it would cut
 * the string short: {"cmd":"pools\u0000junk"} must not run "pools"),
 * duplicate member names, numbers that overflow a double. On top of it: a
 * nesting limit (LAB_JSON_MAX_DEPTH), so a hostile request cannot make a deep
 * tree, and errors that name the byte offset. The result is copied into
 * lab_json nodes, the tree the callers walk. The writer (lab_json_write_str)
 * is ours: it never lets invalid UTF-8 through, so a reply that echoes a
 * request is still JSON.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include <labyrinth/lab_common.h>
#include <labyrinth/lab_json.h>

#define NOT_DEEP SIZE_MAX

/* The offset of the first '[' or '{' nested deeper than the limit, or
 * NOT_DEEP. Strings are skipped, escapes included; everything else is left to
 * jansson. On text that is not JSON the answer holds up to jansson's error,
 * and only the earlier of the two is reported. */
static size_t too_deep_at(const char *s, size_t len)
{
	bool in_str = false;
	int depth = 0;

	for (size_t i = 0; i < len; i++) {
		char c = s[i];

		if (in_str) {
			if (c == '\\')
				i++;
			else if (c == '"')
				in_str = false;
		} else if (c == '"') {
			in_str = true;
		} else if (c == '[' || c == '{') {
			if (++depth > LAB_JSON_MAX_DEPTH)
				return i;
		} else if (c == ']' || c == '}') {
			depth--;
		}
	}
	return NOT_DEEP;
}

static void set_err(char *err, size_t errlen, size_t pos, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static void set_err(char *err, size_t errlen, size_t pos, const char *fmt, ...)
{
	va_list ap;
	int o;

	if (err == NULL || errlen == 0)
		return;
	o = snprintf(err, errlen, "byte %zu: ", pos);
	if (o < 0 || (size_t)o >= errlen)
		return;
	va_start(ap, fmt);
	vsnprintf(err + o, errlen - (size_t)o, fmt, ap);
	va_end(ap);
}

/* jansson's error, in words a client of the socket can act on where its own
 * would puzzle (it names its flag for \u0000). */
static void jansson_err(const json_error_t *e, char *err, size_t errlen)
{
	static const struct {
		const char *jansson, *ours;
	} map[] = {
		{ "\\u0000 is not allowed without JSON_ALLOW_NUL",
		  "\\u0000 is not allowed in a string" },
		{ "NUL byte in object key not supported",
		  "\\u0000 is not allowed in a member name" },
		{ "unable to decode byte", "invalid UTF-8: byte" },
	};
	const char *text = e->text;

	for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++) {
		size_t n = strlen(map[i].jansson);

		if (strncmp(text, map[i].jansson, n) == 0) {
			set_err(err, errlen, (size_t)e->position, "%s%s", map[i].ours, text + n);
			return;
		}
	}
	set_err(err, errlen, (size_t)e->position, "%s", text);
}

static struct lab_json *copy(const json_t *v);

/* An array's or object's members, in document order. */
static int copy_members(struct lab_json *j, const json_t *v)
{
	struct lab_json **tail = &j->child;
	const char *key;
	size_t i;
	json_t *m;

	if (json_is_array(v)) {
		json_array_foreach(v, i, m) {
			if ((*tail = copy(m)) == NULL)
				return -ENOMEM;
			tail = &(*tail)->next;
			j->n++;
		}
		return 0;
	}
	json_object_foreach((json_t *)v, key, m) {
		if ((*tail = copy(m)) == NULL)
			return -ENOMEM;
		if (((*tail)->key = strdup(key)) == NULL)
			return -ENOMEM;
		tail = &(*tail)->next;
		j->n++;
	}
	return 0;
}

/* jansson's value as lab_json nodes (depth is bounded by too_deep_at). */
static struct lab_json *copy(const json_t *v)
{
	struct lab_json *j = calloc(1, sizeof(*j));

	if (j == NULL)
		return NULL;
	switch (json_typeof(v)) {
	case JSON_OBJECT:
	case JSON_ARRAY:
		j->type = json_is_object(v) ? LAB_JSON_OBJECT : LAB_JSON_ARRAY;
		if (copy_members(j, v) < 0)
			goto err;
		break;
	case JSON_STRING:
		j->type = LAB_JSON_STRING;
		j->str = strdup(json_string_value(v));
		if (j->str == NULL)
			goto err;
		break;
	case JSON_INTEGER:
	case JSON_REAL:
		j->type = LAB_JSON_NUMBER;
		j->num = json_number_value(v);
		break;
	case JSON_TRUE:
	case JSON_FALSE:
		j->type = LAB_JSON_BOOL;
		j->b = json_is_true(v);
		break;
	case JSON_NULL:
		j->type = LAB_JSON_NULL;
		break;
	}
	return j;
err:
	lab_json_free(j);
	return NULL;
}

struct lab_json *lab_json_parse(const char *text, size_t len, char *err, size_t errlen)
{
	/* Integers as doubles: lab_json holds a double, and a counter above
	 * 2^63 must not make a reply unreadable. */
	const size_t flags = JSON_DECODE_ANY | JSON_REJECT_DUPLICATES | JSON_DECODE_INT_AS_REAL;
	size_t deep = too_deep_at(text, len);
	struct lab_json *j = NULL;
	json_error_t e;
	json_t *v;

	if (err != NULL && errlen > 0)
		err[0] = '\0';
	v = json_loadb(text, len, flags, &e);
	if (deep != NOT_DEEP && (v != NULL || deep < (size_t)e.position)) {
		set_err(err, errlen, deep, "nested deeper than %d", LAB_JSON_MAX_DEPTH);
		lab_errno = EINVAL;
	} else if (v == NULL) {
		jansson_err(&e, err, errlen);
		lab_errno = json_error_code(&e) == json_error_out_of_memory ? ENOMEM : EINVAL;
	} else if ((j = copy(v)) == NULL) {
		set_err(err, errlen, 0, "out of memory");
		lab_errno = ENOMEM;
	}
	json_decref(v);
	return j;
}

void lab_json_free(struct lab_json *j)
{
	while (j != NULL) {
		struct lab_json *next = j->next;

		lab_json_free(j->child);
		free(j->key);
		free(j->str);
		free(j);
		j = next;
	}
}

const struct lab_json *lab_json_get(const struct lab_json *obj, const char *key)
{
	if (obj == NULL || obj->type != LAB_JSON_OBJECT)
		return NULL;
	for (const struct lab_json *m = obj->child; m != NULL; m = m->next)
		if (strcmp(m->key, key) == 0)
			return m;
	return NULL;
}

const struct lab_json *lab_json_at(const struct lab_json *arr, unsigned int i)
{
	const struct lab_json *m;

	if (arr == NULL || (arr->type != LAB_JSON_ARRAY && arr->type != LAB_JSON_OBJECT))
		return NULL;
	for (m = arr->child; m != NULL && i > 0; m = m->next)
		i--;
	return m;
}

const char *lab_json_str(const struct lab_json *obj, const char *key)
{
	const struct lab_json *m = lab_json_get(obj, key);

	return m != NULL && m->type == LAB_JSON_STRING ? m->str : NULL;
}

double lab_json_num(const struct lab_json *obj, const char *key, double dflt)
{
	const struct lab_json *m = lab_json_get(obj, key);

	return m != NULL && m->type == LAB_JSON_NUMBER ? m->num : dflt;
}

const struct lab_json *lab_json_path(const struct lab_json *obj, const char *path)
{
	char name[64];

	while (obj != NULL && *path != '\0') {
		size_t n = strcspn(path, ".");

		if (n >= sizeof(name))
			return NULL;
		memcpy(name, path, n);
		name[n] = '\0';
		obj = lab_json_get(obj, name);
		path += n + (path[n] == '.');
	}
	return obj;
}

/* The length of the valid UTF-8 sequence at @p s (RFC 3629: no overlong
 * forms, no surrogates, nothing above U+10FFFF), or 0. */
static size_t utf8_len(const unsigned char *s)
{
	size_t n;
	uint32_t cp;

	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		n = 2, cp = s[0] & 0x1f;
	else if (s[0] >= 0xe0 && s[0] <= 0xef)
		n = 3, cp = s[0] & 0x0f;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		n = 4, cp = s[0] & 0x07;
	else
		return 0;
	for (size_t i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80) /* a NUL ends the loop here too */
			return 0;
		cp = cp << 6 | (s[i] & 0x3f);
	}
	if ((n == 3 && cp < 0x800) || (n == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
	    (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return n;
}

/* Invalid UTF-8 (a request's bytes echoed in an error, a name cut short) is
 * written as U+FFFD, so what is written is always JSON. */
void lab_json_write_str(FILE *f, const char *s)
{
	const unsigned char *p = (const unsigned char *)s;

	fputc('"', f);
	while (*p != '\0') {
		size_t n = utf8_len(p);

		if (n == 0)
			fputs("\\ufffd", f);
		else if (*p == '"' || *p == '\\')
			fprintf(f, "\\%c", *p);
		else if (*p == '\n')
			fputs("\\n", f);
		else if (*p < 0x20)
			fprintf(f, "\\u%04x", *p);
		else
			fwrite(p, 1, n, f);
		p += n != 0 ? n : 1;
	}
	fputc('"', f);
}
