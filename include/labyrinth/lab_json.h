/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * A JSON reader (RFC 8259, on jansson) for the control socket's requests and
 * replies: labctl and the tests read replies with it, the socket reads
 * requests. Whole documents only, depth at most LAB_JSON_MAX_DEPTH. Refused:
 * invalid UTF-8, \u0000 in a string, a member name given twice, a number
 * that overflows a double. Control path: it allocates.
 */
#ifndef LAB_JSON_H
#define LAB_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#ifdef __cplusplus
extern "C" {
#endif

/** Deepest nesting of arrays and objects a document may have. */
#define LAB_JSON_MAX_DEPTH 32

enum lab_json_type {
	LAB_JSON_NULL,
	LAB_JSON_BOOL,
	LAB_JSON_NUMBER,
	LAB_JSON_STRING,
	LAB_JSON_ARRAY,
	LAB_JSON_OBJECT,
};

/** One value. Arrays and objects hold their members as a list (@c child, @c next). */
struct lab_json {
	enum lab_json_type type;
	char *key;               /**< member name, inside an object; else NULL */
	char *str;               /**< a string's value (valid UTF-8, NUL-terminated, no
				  *   NUL inside: \u0000 is refused) */
	double num;              /**< a number's value */
	bool b;                  /**< a boolean's value */
	unsigned int n;          /**< members of an array or object */
	struct lab_json *child;  /**< first member */
	struct lab_json *next;   /**< next member of the parent */
};

/**
 * Parse one JSON document (surrounding whitespace allowed, nothing else).
 *
 * @param err  receives "byte N: what was wrong" on failure (may be NULL): N is
 *             where the reader stopped, the bad token "near" it is named
 * @return the tree (free with lab_json_free()), or NULL with lab_errno EINVAL
 *         (bad syntax, too deep) or ENOMEM.
 */
struct lab_json *lab_json_parse(const char *text, size_t len, char *err, size_t errlen);

/** Free a tree from lab_json_parse() (NULL is fine). */
void lab_json_free(struct lab_json *j);

/** An object's member by name (the first one), or NULL if absent or @p obj is not an object. */
const struct lab_json *lab_json_get(const struct lab_json *obj, const char *key);

/** An array's (or object's) i-th member, or NULL. */
const struct lab_json *lab_json_at(const struct lab_json *arr, unsigned int i);

/** The string member @p key of @p obj, or NULL if absent or not a string. */
const char *lab_json_str(const struct lab_json *obj, const char *key);

/** The number member @p key of @p obj, or @p dflt if absent or not a number. */
double lab_json_num(const struct lab_json *obj, const char *key, double dflt);

/** Follow a path of member names separated by '.' ("pool.warden.kicks"). */
const struct lab_json *lab_json_path(const struct lab_json *obj, const char *path);

/** Write @p s as a JSON string, quoted and escaped; bytes that are not valid
 * UTF-8 are written as U+FFFD, so the output is always JSON. */
void lab_json_write_str(FILE *f, const char *s);

#ifdef __cplusplus
}
#endif

#endif
