/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Suite 'ctl': the JSON reader (jansson under lab_json.h) and writer. What it
 * takes and refuses with the byte offset, the nesting limit, what a strict
 * RFC 8259 reader refuses (invalid UTF-8, \u0000, a member name twice), and
 * that every reply of the control socket is JSON even when it echoes bytes
 * that are not.
 */
#include <errno.h>

#include <labyrinth/lab_common.h>
#include <labyrinth/lab_json.h>

#include "ctl_helpers.h"

/* @p doc is refused with lab_errno EINVAL and an error containing @p why. */
static void refused(const char *doc, size_t len, const char *why)
{
	char err[256];
	struct lab_json *j = lab_json_parse(doc, len, err, sizeof(err));

	CU_ASSERT_PTR_NULL(j);
	CU_ASSERT_EQUAL(lab_errno, EINVAL);
	LAB_TEST_HAS(err, why);
	lab_json_free(j);
}

static void test_json_reader(void)
{
	static const char *const good[] = {
		"{}", "[]", " [1, -2.5e3, 0, true, false, null, \"x\"] ", "{\"a\":{\"b\":[{}]}}",
		"\"\\u00e9\\ud83d\\ude00\\n\"", "0.5", "-0", "1E+2", "\"\x7f\"",
	};
	static const struct {
		const char *doc, *why;
	} bad[] = {
		{ "", "byte 0: unexpected token near end of file" },
		{ "{", "byte 1: string or '}' expected" },
		{ "{\"a\" 1}", "byte 6: ':' expected near '1'" },
		{ "[1,]", "byte 4: unexpected token near ']'" },
		{ "01", "invalid token near '0'" },
		{ "1.", "invalid token near '1.'" },
		{ "\"a", "premature end of input" },
		{ "\"\\x\"", "invalid escape" },
		{ "\"\\ud800\"", "invalid Unicode '\\uD800'" },
		{ "{} x", "byte 4: end of file expected near 'x'" },
		{ "\"\x01\"", "control character 0x1" },
		{ "tru", "invalid token near 'tru'" },
		{ "{\"a\":1,}", "string or '}' expected near '}'" },
		{ "-", "invalid token" },
	};
	static const char vals[] =
		"{\"n\":-12.5,\"s\":\"a\\\"\\u00e9\\ud83d\\ude00\",\"o\":{\"k\":[1,2,3]},\"t\":true,"
		"\"z\":null,\"a\":0}";
	char err[128];
	struct lab_json *j;
	const struct lab_json *m;

	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		j = lab_json_parse(good[i], strlen(good[i]), err, sizeof(err));
		if (j == NULL)
			fprintf(stderr, "'%s': %s\n", good[i], err);
		CU_ASSERT_PTR_NOT_NULL(j);
		lab_json_free(j);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		refused(bad[i].doc, strlen(bad[i].doc), bad[i].why);
	/* Values, escapes, lookups; members in document order. */
	j = lab_json_parse(vals, strlen(vals), err, sizeof(err));
	CU_ASSERT_PTR_NOT_NULL_FATAL(j);
	CU_ASSERT_EQUAL(j->type, LAB_JSON_OBJECT);
	CU_ASSERT_EQUAL(j->n, 6);
	CU_ASSERT_EQUAL(lab_json_num(j, "n", 0), -12.5);
	CU_ASSERT_STRING_EQUAL(lab_json_str(j, "s"), "a\"\xc3\xa9\xf0\x9f\x98\x80");
	CU_ASSERT_EQUAL(lab_json_path(j, "o.k")->n, 3);
	CU_ASSERT_EQUAL(lab_json_at(lab_json_path(j, "o.k"), 2)->num, 3);
	CU_ASSERT_PTR_NULL(lab_json_at(lab_json_path(j, "o.k"), 3));
	CU_ASSERT_TRUE(lab_json_get(j, "t")->b);
	CU_ASSERT_EQUAL(lab_json_get(j, "z")->type, LAB_JSON_NULL);
	CU_ASSERT_PTR_NULL(lab_json_str(j, "n"));
	CU_ASSERT_EQUAL(lab_json_num(j, "missing", 7), 7);
	m = j->child;
	for (const char *k = "nsotza"; *k != '\0'; k++, m = m->next)
		CU_ASSERT_TRUE(m != NULL && m->key[0] == *k && m->key[1] == '\0');
	lab_json_free(j);
	/* A counter above 2^63 still reads (as a double). */
	j = lab_json_parse("18446744073709551615", 20, err, sizeof(err));
	CU_ASSERT_TRUE(j != NULL && j->num == 18446744073709551615.0);
	lab_json_free(j);
}

/* Depth: 32 levels parse, 33 do not, with the offset of the 33rd bracket;
 * brackets inside strings do not count; a syntax error before the limit is
 * the one reported. */
static void test_json_depth(void)
{
	char deep[3000], err[128];
	struct lab_json *j;

	for (int d = 32; d <= 33; d++) {
		memset(deep, '[', (size_t)d);
		memset(deep + d, ']', (size_t)d);
		j = lab_json_parse(deep, (size_t)(2 * d), err, sizeof(err));
		CU_ASSERT_EQUAL(j != NULL, d == 32);
		if (d == 33)
			LAB_TEST_HAS(err, "byte 32: nested deeper than 32");
		lab_json_free(j);
	}
	/* Far deeper than jansson's own limit: still ours. */
	memset(deep, '[', sizeof(deep));
	refused(deep, sizeof(deep), "byte 32: nested deeper than 32");
	snprintf(deep, sizeof(deep), "[\"%s\"]", "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[\\\"{{{{{");
	j = lab_json_parse(deep, strlen(deep), err, sizeof(err));
	CU_ASSERT_PTR_NOT_NULL(j);
	lab_json_free(j);
	memset(deep, '[', 40);
	deep[1] = 'x';
	refused(deep, 40, "byte 2: invalid token near 'x'");
}

/* What a strict reader refuses, and the old reader let through. */
static void test_json_strict(void)
{
	static const struct {
		const char *doc, *why;
	} bad[] = {
		{ "\"a\xff\"", "byte 2: invalid UTF-8: byte 0xff" },
		{ "\"\x80\"", "invalid UTF-8: byte 0x80" },
		{ "[\"\xc3\"]", "invalid UTF-8: byte 0xc3" },
		{ "\"\xc0\x80\"", "invalid UTF-8: byte 0xc0" },          /* overlong NUL */
		{ "\"\xed\xa0\x80\"", "invalid UTF-8: byte 0xed" },      /* a surrogate */
		{ "\"\xf4\x90\x80\x80\"", "invalid UTF-8: byte 0xf4" },  /* above U+10FFFF */
		{ "{\"cmd\":\"pools\\u0000junk\"}", "byte 24: \\u0000 is not allowed in a string" },
		{ "{\"a\\u0000b\":1}", "\\u0000 is not allowed in a member name" },
		{ "{\"a\":1,\"a\":2}", "duplicate object key near '\"a\"'" },
		{ "1e400", "real number overflow" },
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		refused(bad[i].doc, strlen(bad[i].doc), bad[i].why);
	/* A raw NUL byte, inside or after the value. */
	refused("\"a\0b\"", 5, "control character 0x0");
	refused("{}\0", 3, "byte 3: end of file expected");
}

static void written(const char *in, const char *want)
{
	char *out = NULL, err[128];
	size_t len = 0;
	FILE *f = open_memstream(&out, &len);
	struct lab_json *j;

	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	lab_json_write_str(f, in);
	fclose(f);
	CU_ASSERT_STRING_EQUAL(out, want);
	j = lab_json_parse(out, len, err, sizeof(err));
	if (j == NULL)
		fprintf(stderr, "written '%s' is not JSON: %s\n", out, err);
	CU_ASSERT_TRUE(j != NULL && j->type == LAB_JSON_STRING);
	lab_json_free(j);
	free(out);
}

/* The writer: escapes, valid UTF-8 kept, anything else as U+FFFD. */
static void test_json_writer(void)
{
	written("a\"b\\c\nd\x01\x1f\x7f", "\"a\\\"b\\\\c\\nd\\u0001\\u001f\x7f\"");
	written("\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80", "\"\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\"");
	written("a\xff" "b", "\"a\\ufffdb\"");
	written("\x80\xbf", "\"\\ufffd\\ufffd\"");
	written("x\xc3", "\"x\\ufffd\"");                      /* cut short at the end */
	written("\xe2\x82" "a", "\"\\ufffd\\ufffda\"");        /* cut short, then ASCII */
	written("\xc0\x80", "\"\\ufffd\\ufffd\"");             /* overlong */
	written("\xe0\x80\xaf", "\"\\ufffd\\ufffd\\ufffd\"");  /* overlong '/' */
	written("\xed\xa0\x80", "\"\\ufffd\\ufffd\\ufffd\"");  /* a surrogate */
	written("\xf4\x90\x80\x80", "\"\\ufffd\\ufffd\\ufffd\\ufffd\""); /* above U+10FFFF */
	written("\xf5\x80", "\"\\ufffd\\ufffd\"");
}

/* Through the control socket's request handling: refused, and the replies
 * (which echo the request) are JSON. */
static void test_requests_strict(void)
{
	char req[128];
	struct lab_json *j;
	const char *e;

	lab_test_log_capture();
	/* It must not run "pools". */
	j = answer("{\"cmd\":\"pools\\u0000junk\"}");
	CU_ASSERT_FALSE(ok_of(j));
	CU_ASSERT_PTR_NULL(lab_json_get(j, "pools"));
	LAB_TEST_HAS(lab_json_str(j, "error"), "bad request: not JSON (byte 24: \\u0000 is not "
					       "allowed in a string");
	lab_json_free(j);
	expect_error("{\"cmd\":\"p\xffols\"}", "bad request: not JSON (byte 9: invalid UTF-8: "
					       "byte 0xff");
	expect_error("{\"cmd\":\"pools\",\"cmd\":\"info\"}", "duplicate object key");
	expect_error("{\"cmd\":\"help\",\"x\\u0000\":1}", "\\u0000 is not allowed in a member");
	j = answer_n("{\"cmd\":\"pools\"}\0", 16);
	CU_ASSERT_FALSE(ok_of(j));
	CU_ASSERT_PTR_NULL(lab_json_get(j, "pools"));
	lab_json_free(j);
	/* A control character echoed in jansson's message is escaped. */
	expect_error("[\"a\" \x01]", "near '\x01'");
	/* The unknown command is echoed cut to 64 bytes, which here splits 'é':
	 * the half left over is written as U+FFFD, and the reply is JSON. */
	snprintf(req, sizeof(req), "{\"cmd\":\"%.63s\xc3\xa9\"}",
		 "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa");
	j = answer(req);
	CU_ASSERT_FALSE(ok_of(j));
	e = lab_json_str(j, "error");
	CU_ASSERT_PTR_NOT_NULL_FATAL(e);
	LAB_TEST_HAS(e, "unknown command 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
			"aaaaa\xef\xbf\xbd' (commands: help,");
	lab_json_free(j);
	lab_test_log_release();
}

int main(void)
{
	static const struct lab_test tests[] = {
		LAB_TEST(test_json_reader),
		LAB_TEST(test_json_depth),
		LAB_TEST(test_json_strict),
		LAB_TEST(test_json_writer),
		LAB_TEST(test_requests_strict),
		LAB_TEST_END,
	};

	return lab_test_run("ctl_json", tests);
}
