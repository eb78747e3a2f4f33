/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * A recursive-descent JSON reader (RFC 8259) with a depth limit, so a hostile
 * request on the control socket cannot run the stack out, and errors that
 * name the byte offset. Values are a tree of small nodes.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include <labyrinth/lab_common.h>
#include <labyrinth/lab_json.h>

struct reader {
	const char *s;
	size_t len, pos;
	char *err;
	size_t errlen;
	int oom;
};

static struct lab_json *fail(struct reader *r, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static struct lab_json *fail(struct reader *r, const char *fmt, ...)
{
	va_list ap;
	int o;

	if (r->err != NULL && r->errlen > 0 && r->err[0] == '\0') {
		o = snprintf(r->err, r->errlen, "byte %zu: ", r->pos);
		if (o >= 0 && (size_t)o < r->errlen) {
			va_start(ap, fmt);
			vsnprintf(r->err + o, r->errlen - (size_t)o, fmt, ap);
			va_end(ap);
		}
	}
	return NULL;
}

static struct lab_json *node(struct reader *r, enum lab_json_type t)
{
	struct lab_json *j = calloc(1, sizeof(*j));

	if (j == NULL) {
		r->oom = 1;
		return fail(r, "out of memory");
	}
	j->type = t;
	return j;
}

static void skip_ws(struct reader *r)
{
	while (r->pos < r->len && strchr(" \t\r\n", r->s[r->pos]) != NULL && r->s[r->pos] != '\0')
		r->pos++;
}

static int hex4(struct reader *r, unsigned int *out)
{
	*out = 0;
	if (r->len - r->pos < 4)
		return -1;
	for (int i = 0; i < 4; i++) {
		char c = r->s[r->pos++];

		*out <<= 4;
		if (c >= '0' && c <= '9')
			*out |= (unsigned int)(c - '0');
		else if (c >= 'a' && c <= 'f')
			*out |= (unsigned int)(c - 'a' + 10);
		else if (c >= 'A' && c <= 'F')
			*out |= (unsigned int)(c - 'A' + 10);
		else
			return -1;
	}
	return 0;
}

static size_t utf8_put(char *o, unsigned int cp)
{
	if (cp < 0x80) {
		o[0] = (char)cp;
		return 1;
	}
	if (cp < 0x800) {
		o[0] = (char)(0xc0 | (cp >> 6));
		o[1] = (char)(0x80 | (cp & 0x3f));
		return 2;
	}
	if (cp < 0x10000) {
		o[0] = (char)(0xe0 | (cp >> 12));
		o[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
		o[2] = (char)(0x80 | (cp & 0x3f));
		return 3;
	}
	o[0] = (char)(0xf0 | (cp >> 18));
	o[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
	o[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
	o[3] = (char)(0x80 | (cp & 0x3f));
	return 4;
}

/* \uXXXX, with a surrogate pair read as one code point. */
static int unicode_escape(struct reader *r, unsigned int *cp)
{
	unsigned int lo;

	if (hex4(r, cp) < 0)
		return -1;
	if (*cp >= 0xdc00 && *cp <= 0xdfff)
		return -1;
	if (*cp < 0xd800 || *cp > 0xdbff)
		return 0;
	if (r->len - r->pos < 2 || r->s[r->pos] != '\\' || r->s[r->pos + 1] != 'u')
		return -1;
	r->pos += 2;
	if (hex4(r, &lo) < 0 || lo < 0xdc00 || lo > 0xdfff)
		return -1;
	*cp = 0x10000 + ((*cp - 0xd800) << 10) + (lo - 0xdc00);
	return 0;
}

/* A string after its opening quote. Escapes never lengthen it (\uXXXX is six
 * bytes for at most four), so the input length bounds the output. */
static char *read_string(struct reader *r)
{
	static const char esc_in[] = "\"\\/bfnrt", esc_out[] = "\"\\/\b\f\n\r\t";
	size_t o = 0, start = r->pos;
	char *out;

	while (r->pos < r->len && r->s[r->pos] != '"')
		r->pos += r->s[r->pos] == '\\' ? 2 : 1;
	if (r->pos >= r->len)
		return (char *)fail(r, "unterminated string");
	out = malloc(r->pos - start + 1);
	if (out == NULL) {
		r->oom = 1;
		return (char *)fail(r, "out of memory");
	}
	r->pos = start;
	while (r->s[r->pos] != '"') {
		unsigned char c = (unsigned char)r->s[r->pos++];
		const char *e;
		unsigned int cp;

		if (c < 0x20) {
			r->pos--;
			free(out);
			return (char *)fail(r, "control character 0x%02x in a string", c);
		}
		if (c != '\\') {
			out[o++] = (char)c;
			continue;
		}
		c = (unsigned char)r->s[r->pos++];
		e = c != '\0' ? strchr(esc_in, c) : NULL;
		if (e != NULL) {
			out[o++] = esc_out[e - esc_in];
		} else if (c == 'u' && unicode_escape(r, &cp) == 0) {
			o += utf8_put(out + o, cp);
		} else {
			r->pos--;
			free(out);
			return (char *)fail(r, "bad escape in a string");
		}
	}
	r->pos++;
	out[o] = '\0';
	return out;
}

/* The number grammar of RFC 8259 section 6 (strtod alone takes more: hex, inf). */
static struct lab_json *read_number(struct reader *r)
{
	size_t p = r->pos, digits;
	char buf[64];
	struct lab_json *j;

#define DIGITS()                                                                      \
	do {                                                                          \
		digits = 0;                                                           \
		while (p < r->len && r->s[p] >= '0' && r->s[p] <= '9')                \
			p++, digits++;                                                \
	} while (0)
	if (p < r->len && r->s[p] == '-')
		p++;
	DIGITS();
	if (digits == 0 || (digits > 1 && r->s[p - digits] == '0'))
		return fail(r, "bad number");
	if (p < r->len && r->s[p] == '.') {
		p++;
		DIGITS();
		if (digits == 0)
			return fail(r, "bad number: no digits after '.'");
	}
	if (p < r->len && (r->s[p] == 'e' || r->s[p] == 'E')) {
		p++;
		if (p < r->len && (r->s[p] == '+' || r->s[p] == '-'))
			p++;
		DIGITS();
		if (digits == 0)
			return fail(r, "bad number: no digits in the exponent");
	}
#undef DIGITS
	if (p - r->pos >= sizeof(buf))
		return fail(r, "number longer than %zu characters", sizeof(buf) - 1);
	memcpy(buf, r->s + r->pos, p - r->pos);
	buf[p - r->pos] = '\0';
	j = node(r, LAB_JSON_NUMBER);
	if (j != NULL)
		j->num = strtod(buf, NULL);
	r->pos = p;
	return j;
}

static struct lab_json *read_value(struct reader *r, int depth);

/* An array or object after its opening bracket. */
static struct lab_json *read_members(struct reader *r, int depth, bool object)
{
	struct lab_json *j = node(r, object ? LAB_JSON_OBJECT : LAB_JSON_ARRAY), **tail;
	char close = object ? '}' : ']';

	if (j == NULL)
		return NULL;
	if (depth >= LAB_JSON_MAX_DEPTH) {
		free(j);
		return fail(r, "nested deeper than %d", LAB_JSON_MAX_DEPTH);
	}
	tail = &j->child;
	skip_ws(r);
	if (r->pos < r->len && r->s[r->pos] == close) {
		r->pos++;
		return j;
	}
	for (;;) {
		char *key = NULL;
		struct lab_json *v;

		skip_ws(r);
		if (object) {
			if (r->pos >= r->len || r->s[r->pos] != '"')
				goto err_syntax;
			r->pos++;
			key = read_string(r);
			if (key == NULL)
				goto err;
			skip_ws(r);
			if (r->pos >= r->len || r->s[r->pos] != ':') {
				free(key);
				goto err_syntax;
			}
			r->pos++;
		}
		v = read_value(r, depth + 1);
		if (v == NULL) {
			free(key);
			goto err;
		}
		v->key = key;
		*tail = v;
		tail = &v->next;
		j->n++;
		skip_ws(r);
		if (r->pos < r->len && r->s[r->pos] == ',') {
			r->pos++;
			continue;
		}
		if (r->pos < r->len && r->s[r->pos] == close) {
			r->pos++;
			return j;
		}
		goto err_syntax;
	}
err_syntax:
	fail(r, object ? "expected a member name in quotes, ',' or '}'" : "expected ',' or ']'");
err:
	lab_json_free(j);
	return NULL;
}

static struct lab_json *read_literal(struct reader *r)
{
	static const struct {
		const char *word;
		enum lab_json_type type;
		bool b;
	} lit[] = { { "true", LAB_JSON_BOOL, true },
		    { "false", LAB_JSON_BOOL, false },
		    { "null", LAB_JSON_NULL, false } };

	for (size_t i = 0; i < sizeof(lit) / sizeof(lit[0]); i++) {
		size_t n = strlen(lit[i].word);
		struct lab_json *j;

		if (r->len - r->pos < n || memcmp(r->s + r->pos, lit[i].word, n) != 0)
			continue;
		j = node(r, lit[i].type);
		if (j != NULL)
			j->b = lit[i].b;
		r->pos += n;
		return j;
	}
	return fail(r, "expected a value");
}

static struct lab_json *read_value(struct reader *r, int depth)
{
	struct lab_json *j;
	char c;

	skip_ws(r);
	if (r->pos >= r->len)
		return fail(r, "unexpected end of input");
	c = r->s[r->pos];
	if (c == '{' || c == '[') {
		r->pos++;
		return read_members(r, depth, c == '{');
	}
	if (c == '"') {
		r->pos++;
		j = node(r, LAB_JSON_STRING);
		if (j != NULL && (j->str = read_string(r)) == NULL) {
			free(j);
			j = NULL;
		}
		return j;
	}
	if (c == '-' || (c >= '0' && c <= '9'))
		return read_number(r);
	return read_literal(r);
}

struct lab_json *lab_json_parse(const char *text, size_t len, char *err, size_t errlen)
{
	struct reader r = { .s = text, .len = len, .err = err, .errlen = errlen };
	struct lab_json *j;

	if (err != NULL && errlen > 0)
		err[0] = '\0';
	j = read_value(&r, 0);
	if (j != NULL) {
		skip_ws(&r);
		if (r.pos != r.len) {
			fail(&r, "unexpected data after the value");
			lab_json_free(j);
			j = NULL;
		}
	}
	if (j == NULL)
		lab_errno = r.oom ? ENOMEM : EINVAL;
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

void lab_json_write_str(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s != '\0'; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\')
			fprintf(f, "\\%c", c);
		else if (c == '\n')
			fputs("\\n", f);
		else if (c < 0x20)
			fprintf(f, "\\u%04x", c);
		else
			fputc(c, f);
	}
	fputc('"', f);
}
