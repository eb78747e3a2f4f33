/* SPDX-License-Identifier: BSD-3-Clause */
#include <ctype.h>
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <labyrinth/lab_config.h>
#include <labyrinth/lab_log.h>

#include "../lab_test.h"

static char path[64];

/* Write @p text to a fresh temporary file; its name is in path. */
static const char *write_conf(const char *text)
{
	int fd;

	snprintf(path, sizeof(path), "/tmp/labcfg-XXXXXX");
	fd = mkstemp(path);
	CU_ASSERT_FATAL(fd >= 0);
	CU_ASSERT_FATAL(write(fd, text, strlen(text)) == (ssize_t)strlen(text));
	close(fd);
	return path;
}

/* Load @p text and expect -EINVAL with a message holding each of the needles. */
static void expect_bad(const char *text, int line, const char *n1, const char *n2)
{
	struct lab_config cfg;
	char where[96];

	lab_config_defaults(&cfg);
	write_conf(text);
	CU_ASSERT_EQUAL(lab_config_load(&cfg, path), -EINVAL);
	snprintf(where, sizeof(where), "%s:%d: ", path, line);
	CU_ASSERT_PTR_NOT_NULL(strstr(lab_config_error(), where));
	if (strstr(lab_config_error(), where) == NULL)
		fprintf(stderr, "want '%s' in '%s'\n", where, lab_config_error());
	CU_ASSERT_PTR_NOT_NULL(strstr(lab_config_error(), n1));
	if (n2 != NULL)
		CU_ASSERT_PTR_NOT_NULL(strstr(lab_config_error(), n2));
	unlink(path);
}

static void test_shipped_default_file(void)
{
	struct lab_config file, builtin;

	lab_config_defaults(&builtin);
	lab_config_defaults(&file);
	CU_ASSERT_EQUAL_FATAL(lab_config_load(&file, LAB_SOURCE_ROOT "/config/labyrinth.conf"), 0);
	CU_ASSERT_EQUAL(lab_config_validate(&file), 0);
	/* The shipped file and the built-in defaults say the same thing. */
	CU_ASSERT_EQUAL(file.pool_size, builtin.pool_size);
	CU_ASSERT_EQUAL(file.pool_max, builtin.pool_max);
	CU_ASSERT_EQUAL(file.cell_size, builtin.cell_size);
	CU_ASSERT_EQUAL(file.headroom, builtin.headroom);
	CU_ASSERT(memcmp(&file.wm_low, &builtin.wm_low, sizeof(file.wm_low)) == 0);
	CU_ASSERT_EQUAL(file.page_size, builtin.page_size);
	CU_ASSERT_EQUAL(file.quality, builtin.quality);
	CU_ASSERT_STRING_EQUAL(file.log_levels, "*:notice");
}

static void test_good_file_every_kind(void)
{
	struct lab_config cfg;

	lab_config_defaults(&cfg);
	write_conf("# comment\n[pool]\nname = rxpool\nsize = 4096\nmax = 16K\n"
		   "cell_size = 4K\nheadroom = 256 ; inline comment\nmin = 64\nlow = 10%\n"
		   "high = 50%\nreserve = 32\n\n[arena]\npage_size = 1G\niova = va\n"
		   "hugepages = off\nnuma_node = 0\n[quality]\nlevel = full\nsample_rate = 7\n"
		   "[log]\narena = debug\ndefault = warning\n");
	CU_ASSERT_EQUAL_FATAL(lab_config_load(&cfg, path), 0);
	CU_ASSERT_STRING_EQUAL(cfg.name, "rxpool");
	CU_ASSERT_EQUAL(cfg.pool_size, 4096);
	CU_ASSERT_EQUAL(cfg.pool_max, 16384);
	CU_ASSERT_EQUAL(cfg.cell_size, 4096);
	CU_ASSERT_EQUAL(cfg.headroom, 256);
	CU_ASSERT(!cfg.wm_min.percent && cfg.wm_min.value == 64);
	CU_ASSERT(cfg.wm_low.percent && cfg.wm_low.value == 10);
	CU_ASSERT_EQUAL(lab_count_resolve(&cfg.wm_high, cfg.pool_size), 2048);
	CU_ASSERT_EQUAL(cfg.page_size, LAB_GIB);
	CU_ASSERT_EQUAL(cfg.iova_mode, LAB_IOVA_VA);
	CU_ASSERT_EQUAL(cfg.hugepages, LAB_HUGEPAGES_OFF);
	CU_ASSERT_EQUAL(cfg.numa_node, 0);
	CU_ASSERT_EQUAL(cfg.quality, LAB_QUALITY_FULL);
	CU_ASSERT_EQUAL(cfg.sample_rate, 7);
	CU_ASSERT_STRING_EQUAL(cfg.log_levels, "arena:debug,*:warning");
	CU_ASSERT_EQUAL(lab_config_validate(&cfg), 0);
	unlink(path);
}

static void test_bad_files_name_line_and_key(void)
{
	expect_bad("[pool]\nsize = 10\n\nsizee = 10\n", 4, "pool.sizee", "unknown key");
	expect_bad("[pool]\nsize = lots\n", 2, "pool.size", "'lots'");
	expect_bad("[pool]\nsize = 0\n", 2, "pool.size", "between 1");
	expect_bad("[pool]\nlow = 150%\n", 2, "pool.low", "percent");
	expect_bad("[arena]\niova = physical\n", 2, "arena.iova", "auto, pa, va");
	expect_bad("[arena]\npage_size = 4K\n", 2, "arena.page_size", "2M or 1G");
	expect_bad("[arena]\nhugepages = maybe\n", 2, "arena.hugepages", "require");
	expect_bad("[arena]\nnuma_node = -7\n", 2, "arena.numa_node", NULL);
	expect_bad("[quality]\nlevel = paranoid\n", 2, "quality.level", "sampled");
	expect_bad("[nosuch]\nkey = 1\n", 2, "unknown section [nosuch]", NULL);
	expect_bad("size = 1\n", 1, "unknown section", NULL);
	expect_bad("[log]\narena = loud\n", 2, "log.arena", "not a level");
	expect_bad("[log]\nnobody = debug\n", 2, "log.nobody", "no log type");
	expect_bad("[pool]\nname = a/b\n", 2, "pool.name", "without '/'");
	expect_bad("[pool]\nsize = 10\njust some words\n", 3, "syntax error", NULL);
	expect_bad("[pool\nsize = 10\n", 1, "syntax error", NULL);
}

static void test_first_error_wins(void)
{
	expect_bad("[pool]\nsize = x\nmax = y\n", 2, "pool.size", NULL);
}

/* One repeated-key rule, as in device strings and LABYRINTH_MEMPOOL: a key
 * given twice in one file is refused, naming both lines (it used to take the
 * last value silently). The command line after the file still overrides. */
static void test_key_given_twice(void)
{
	struct lab_config cfg;

	expect_bad("[pool]\nsize = 4096\nmax = 1M\n\nsize = 8192\n", 5,
		   "key 'pool.size' given twice (first on line 2): give each key once", NULL);
	/* The same section opened again is the same section. */
	expect_bad("[pool]\nsize = 4096\n[arena]\niova = va\n[pool]\nsize = 4096\n", 6,
		   "key 'pool.size' given twice (first on line 2)", NULL);
	expect_bad("[log]\ndefault = info\narena = debug\ndefault = debug\n", 4,
		   "key 'log.default' given twice (first on line 2)", NULL);
	/* The message is the file's, once: not "FILE:LINE: FILE:LINE: ...". */
	CU_ASSERT_PTR_NULL(strstr(lab_config_error() + 1, path));
	/* inih reads an indented line as more of the value before: said so. */
	expect_bad("[pool]\nsize = 4096\n  max = 5\n", 3,
		   "key 'pool.size': this indented line continues its value from line 2", NULL);
	/* The same key name in two sections is two keys. */
	lab_config_defaults(&cfg);
	write_conf("[log]\ndefault = info\n[pool]\nsize = 4096\n[quality]\nlevel = full\n");
	CU_ASSERT_EQUAL(lab_config_load(&cfg, path), 0);
	CU_ASSERT_EQUAL(lab_config_set(&cfg, "pool.size", "2048"), 0);
	CU_ASSERT_EQUAL(cfg.pool_size, 2048);
	/* A second load of the same file is a later source, not a repeat. */
	CU_ASSERT_EQUAL(lab_config_load(&cfg, path), 0);
	CU_ASSERT_EQUAL(cfg.pool_size, 4096);
	unlink(path);
}

static void test_seen_api(void)
{
	struct lab_config_seen seen = { 0 };
	char key[16];

	for (int i = 0; i < 40; i++) { /* past the first allocation */
		snprintf(key, sizeof(key), "k%d", i);
		CU_ASSERT_EQUAL(lab_config_seen_add(&seen, "f.conf", i + 1, "s", key), 0);
	}
	CU_ASSERT_EQUAL(lab_config_seen_line(&seen, "s", "k17"), 18);
	CU_ASSERT_EQUAL(lab_config_seen_line(&seen, "t", "k17"), 0);
	CU_ASSERT_EQUAL(lab_config_seen_add(&seen, "f.conf", 99, "s", "k17"), -EEXIST);
	CU_ASSERT_STRING_EQUAL(lab_config_error(), "f.conf:99: key 's.k17' given twice (first on "
				 "line 18): give each key once");
	lab_config_seen_free(&seen);
	CU_ASSERT_PTR_NULL(seen.keys);
	CU_ASSERT_EQUAL(seen.n, 0);
}

static void test_missing_file(void)
{
	struct lab_config cfg;

	lab_config_defaults(&cfg);
	CU_ASSERT_EQUAL(lab_config_load(&cfg, "/nonexistent/labyrinth.conf"), -ENOENT);
	CU_ASSERT_PTR_NOT_NULL(strstr(lab_config_error(), "/nonexistent/labyrinth.conf"));
}

static void test_command_line_overrides(void)
{
	struct lab_config cfg;

	lab_config_defaults(&cfg);
	write_conf("[pool]\nsize = 4096\n");
	CU_ASSERT_EQUAL_FATAL(lab_config_load(&cfg, path), 0);
	CU_ASSERT_EQUAL(lab_config_set_arg(&cfg, "pool.size=1024"), 0);
	CU_ASSERT_EQUAL(cfg.pool_size, 1024);
	CU_ASSERT_EQUAL(lab_config_set(&cfg, "quality.level", "off"), 0);
	CU_ASSERT_EQUAL(cfg.quality, LAB_QUALITY_OFF);
	CU_ASSERT_EQUAL(lab_config_set(&cfg, "log.config", "debug"), 0);
	CU_ASSERT_EQUAL(lab_config_set(&cfg, "pool.nokey", "1"), -ENOENT);
	CU_ASSERT_PTR_NOT_NULL(strstr(lab_config_error(), "pool.nokey"));
	CU_ASSERT_EQUAL(lab_config_set(&cfg, "size", "1"), -ENOENT);
	CU_ASSERT_PTR_NOT_NULL(strstr(lab_config_error(), "section.key"));
	CU_ASSERT_EQUAL(lab_config_set_arg(&cfg, "pool.size"), -EINVAL);
	CU_ASSERT_EQUAL(lab_config_set_arg(&cfg, "pool.size=-3"), -EINVAL);
	CU_ASSERT_EQUAL(cfg.pool_size, 1024); /* a refused value changes nothing */
	unlink(path);
}

static void test_validate_names_values(void)
{
	struct lab_config cfg;

	lab_config_defaults(&cfg);
	cfg.wm_min = (struct lab_count){ 500, false };
	cfg.wm_low = (struct lab_count){ 100, false };
	CU_ASSERT_EQUAL(lab_config_validate(&cfg), -EINVAL);
	CU_ASSERT_PTR_NOT_NULL(strstr(lab_config_error(), "min 500, low 100"));

	lab_config_defaults(&cfg);
	cfg.reserve = (struct lab_count){ 9000, false };
	CU_ASSERT_EQUAL(lab_config_validate(&cfg), -EINVAL);
	CU_ASSERT_PTR_NOT_NULL(strstr(lab_config_error(), "reserve 9000 exceeds pool.size 8192"));

	lab_config_defaults(&cfg);
	cfg.headroom = 4096;
	CU_ASSERT_EQUAL(lab_config_validate(&cfg), -EINVAL);
	CU_ASSERT_PTR_NOT_NULL(strstr(lab_config_error(), "headroom 4096"));

	lab_config_defaults(&cfg);
	cfg.pool_size = 100000;
	CU_ASSERT_EQUAL(lab_config_validate(&cfg), -EINVAL);
	CU_ASSERT_PTR_NOT_NULL(strstr(lab_config_error(), "exceeds pool.max"));
}

static void test_dump_reads_back(void)
{
	struct lab_config a, b;
	FILE *f;

	lab_config_defaults(&a);
	lab_config_set(&a, "pool.size", "1000");
	lab_config_set(&a, "pool.low", "77");
	lab_config_set(&a, "arena.iova", "pa");
	lab_config_set(&a, "arena.page_size", "1G");
	lab_config_set(&a, "log.arena", "info");
	write_conf("");
	f = fopen(path, "w");
	CU_ASSERT_FATAL(f != NULL);
	lab_config_dump(&a, f);
	fclose(f);
	lab_config_defaults(&b);
	CU_ASSERT_EQUAL_FATAL(lab_config_load(&b, path), 0);
	CU_ASSERT_EQUAL(memcmp(&a, &b, sizeof(a)), 0);
	unlink(path);
}

/* Anything but a regular file is refused before a byte is read, naming the
 * path and what it is: a directory, a FIFO (whose open must not block: no
 * writer ever comes), /dev/zero (which would never end). */
static void expect_refused(const char *file, int err, const char *kind)
{
	struct lab_config cfg;

	lab_config_defaults(&cfg);
	CU_ASSERT_EQUAL(lab_config_load(&cfg, file), -err);
	CU_ASSERT_PTR_NOT_NULL(strstr(lab_config_error(), file));
	CU_ASSERT_PTR_NOT_NULL(strstr(lab_config_error(), kind));
	CU_ASSERT_PTR_NOT_NULL(strstr(lab_config_error(), "not a regular file"));
	CU_ASSERT_PTR_NULL(lab_config_fopen(file));
	CU_ASSERT_EQUAL(lab_errno, err);
}

static void test_not_a_regular_file(void)
{
	char dir[] = "/tmp/labcfg-dir-XXXXXX", fifo[64];

	CU_ASSERT_PTR_NOT_NULL_FATAL(mkdtemp(dir));
	expect_refused(dir, EISDIR, "is a directory");
	snprintf(fifo, sizeof(fifo), "%s/fifo", dir);
	CU_ASSERT_EQUAL_FATAL(mkfifo(fifo, 0600), 0);
	expect_refused(fifo, EINVAL, "is a FIFO");
	expect_refused("/dev/zero", EINVAL, "is a character device");
	unlink(fifo);
	rmdir(dir);
}

static void test_nul_byte_refused(void)
{
	static const char text[] = "[pool]\nsize = 10\0junk\n";
	struct lab_config cfg;
	int fd;

	snprintf(path, sizeof(path), "/tmp/labcfg-XXXXXX");
	fd = mkstemp(path);
	CU_ASSERT_FATAL(fd >= 0);
	CU_ASSERT_FATAL(write(fd, text, sizeof(text) - 1) == (ssize_t)sizeof(text) - 1);
	close(fd);
	lab_config_defaults(&cfg);
	CU_ASSERT_EQUAL(lab_config_load(&cfg, path), -EINVAL);
	CU_ASSERT_PTR_NOT_NULL(strstr(lab_config_error(), ":2: NUL byte at column 10"));
	unlink(path);
}

/* A line longer than the reader's buffer is "too long", not a syntax error on
 * its tail; a line that just fits is read whole. */
static void test_long_line(void)
{
	char text[600], buf[16];
	FILE *f;

	snprintf(text, sizeof(text), "[pool]\nname = %0500d\n", 7);
	expect_bad(text, 2, "line too long (more than", NULL);
	CU_ASSERT_PTR_NULL(strstr(lab_config_error(), "expected"));
	write_conf("0123456789abcde\n0123456789abcdef\n");
	f = lab_config_fopen(path);
	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	CU_ASSERT_EQUAL(lab_config_read_line(f, path, 1, buf, sizeof(buf)), 15);
	CU_ASSERT_STRING_EQUAL(buf, "0123456789abcde");
	CU_ASSERT_EQUAL(lab_config_read_line(f, path, 2, buf, sizeof(buf)), -EINVAL);
	CU_ASSERT_PTR_NOT_NULL(strstr(lab_config_error(), ":2: line too long (more than 15 "));
	fclose(f);
	unlink(path);
}

/* The defaults dump with a [log] section too, and read back unchanged. */
static void test_dump_defaults_has_log(void)
{
	struct lab_config a, b;
	char text[4096];
	size_t n;
	FILE *f;

	lab_config_defaults(&a);
	write_conf("");
	f = fopen(path, "w+");
	CU_ASSERT_FATAL(f != NULL);
	lab_config_dump(&a, f);
	rewind(f);
	n = fread(text, 1, sizeof(text) - 1, f);
	text[n] = '\0';
	fclose(f);
	CU_ASSERT_PTR_NOT_NULL(strstr(text, "\n[log]\n; default = notice"));
	lab_config_defaults(&b);
	CU_ASSERT_EQUAL(lab_config_load(&b, path), 0);
	CU_ASSERT_EQUAL(memcmp(&a, &b, sizeof(a)), 0);
	unlink(path);
}

static void test_apply_logs(void)
{
	struct lab_config cfg;

	lab_config_defaults(&cfg);
	CU_ASSERT_EQUAL(lab_config_set(&cfg, "log.default", "err"), 0);
	CU_ASSERT_EQUAL(lab_config_set(&cfg, "log.arena", "debug"), 0);
	CU_ASSERT_EQUAL(lab_config_apply_logs(&cfg), 0);
	CU_ASSERT_EQUAL(lab_log_get_level("config"), LAB_LOG_ERR);
	CU_ASSERT_EQUAL(lab_log_get_level("arena"), LAB_LOG_DEBUG);
	lab_log_set_levels("notice");
}

/* The config keys whose value is an enum, and the one name table of each. */
static const struct enum_key {
	const char *key;     /* "section.key" */
	const char *short_key;
	const struct lab_names *names;
	size_t off;          /* the field in struct lab_config */
	int (*parse)(const char *s);
} enum_keys[] = {
	{ "arena.iova", "iova", &lab_iova_mode_names, offsetof(struct lab_config, iova_mode),
	  lab_iova_mode_parse },
	{ "arena.hugepages", "hugepages", &lab_hugepages_names,
	  offsetof(struct lab_config, hugepages), lab_hugepages_parse },
	{ "quality.level", "level", &lab_quality_names, offsetof(struct lab_config, quality),
	  lab_quality_parse },
	{ "quality.policy", "policy", &lab_quality_policy_names,
	  offsetof(struct lab_config, policy), lab_quality_policy_parse },
};
#define N_ENUM_KEYS (sizeof(enum_keys) / sizeof(enum_keys[0]))

/* Every name of every table parses back to its value, by the owner's parser
 * and through the config key, in any case, and --dump-config writes it; a
 * bad name is refused with the input and the list of valid names. */
static void test_enum_names_round_trip(void)
{
	struct lab_config cfg;
	char want[160], line[64], upper[32], *dump;
	size_t len;
	FILE *f;

	for (size_t k = 0; k < N_ENUM_KEYS; k++) {
		const struct enum_key *e = &enum_keys[k];

		CU_ASSERT_FATAL(e->names->n >= 2);
		for (unsigned int v = 0; v < e->names->n; v++) {
			const char *name = e->names->name[v];

			CU_ASSERT_EQUAL(e->parse(name), (int)v);
			for (size_t i = 0; i <= strlen(name); i++)
				upper[i] = (char)toupper((unsigned char)name[i]);
			CU_ASSERT_EQUAL(e->parse(upper), (int)v);
			lab_config_defaults(&cfg);
			CU_ASSERT_EQUAL(lab_config_set(&cfg, e->key, upper), 0);
			CU_ASSERT_EQUAL(*(int *)((char *)&cfg + e->off), (int)v);
			f = open_memstream(&dump, &len);
			CU_ASSERT_FATAL(f != NULL);
			lab_config_dump(&cfg, f);
			fclose(f);
			snprintf(line, sizeof(line), "\n%s = %s\n", e->short_key, name);
			CU_ASSERT_PTR_NOT_NULL(strstr(dump, line));
			free(dump);
		}
		CU_ASSERT_EQUAL(e->parse("bogus"), -EINVAL);
		CU_ASSERT_EQUAL(e->parse(""), -EINVAL);
		lab_config_defaults(&cfg);
		CU_ASSERT_EQUAL(lab_config_set(&cfg, e->key, "bogus"), -EINVAL);
		/* The list spelled out here, not by lab_names_list(): what a user reads. */
		len = (size_t)snprintf(want, sizeof(want), "key '%s': 'bogus' is not one of ",
				       e->key);
		for (unsigned int v = 0; v < e->names->n; v++)
			len += (size_t)snprintf(want + len, sizeof(want) - len, "%s%s",
						v ? ", " : "", e->names->name[v]);
		CU_ASSERT_STRING_EQUAL(lab_config_error(), want);
	}
	CU_ASSERT_STRING_EQUAL(lab_quality_name(LAB_QUALITY_FULL), "full");
	CU_ASSERT_STRING_EQUAL(lab_quality_name((enum lab_quality)7), "?");
	CU_ASSERT_STRING_EQUAL(lab_quality_policy_name((enum lab_quality_policy)7), "unknown");
	CU_ASSERT_STRING_EQUAL(lab_hugepages_name(LAB_HUGEPAGES_REQUIRE), "require");
	CU_ASSERT_EQUAL(lab_quality_policy_parse(NULL), -EINVAL);
}

/* Check one "key = value ; a | b (note) | c" line against @p t: the first
 * word of each '|' part, in order, is the table's names. */
static void check_doc_line(const char *file, int ln, const char *comment,
			   const struct lab_names *t)
{
	char copy[256], *save = NULL, *part;
	unsigned int v = 0;

	snprintf(copy, sizeof(copy), "%s", comment);
	for (part = strtok_r(copy, "|", &save); part; part = strtok_r(NULL, "|", &save), v++) {
		part += strspn(part, " \t");
		part[strcspn(part, " \t(\n")] = '\0';
		if (v >= t->n || strcmp(part, t->name[v]) != 0) {
			fprintf(stderr, "%s:%d: '%s' where the table has '%s'\n", file, ln, part,
				v < t->n ? t->name[v] : "(no more names)");
			CU_FAIL("a documented list of names differs from its table");
			return;
		}
	}
	CU_ASSERT_EQUAL(v, t->n);
}

/* The hand-written lists of valid names (the shipped config file, the
 * quality docs, the lab_config.h example) match the name tables. */
static void test_doc_name_lists(void)
{
	static const struct {
		const char *file;
		unsigned int keys; /* bit k: enum_keys[k] must be listed */
	} docs[] = {
		{ LAB_SOURCE_ROOT "/config/labyrinth.conf", 0xf },
		{ LAB_SOURCE_ROOT "/include/labyrinth/lab_config.h", 0xf },
		{ LAB_SOURCE_ROOT "/docs/quality.md", 0xc },
	};
	char line[512];

	for (size_t d = 0; d < sizeof(docs) / sizeof(docs[0]); d++) {
		FILE *f = fopen(docs[d].file, "r");
		unsigned int found = 0;
		int ln = 0;

		CU_ASSERT_PTR_NOT_NULL_FATAL(f);
		while (fgets(line, sizeof(line), f) != NULL) {
			const char *p = line + strspn(line, " *"), *semi = strchr(p, ';');

			ln++;
			for (size_t k = 0; semi && strchr(semi, '|') && k < N_ENUM_KEYS; k++) {
				size_t n = strlen(enum_keys[k].short_key);

				if (strncmp(p, enum_keys[k].short_key, n) != 0 ||
				    p[n + strspn(p + n, " ")] != '=')
					continue;
				check_doc_line(docs[d].file, ln, semi + 1, enum_keys[k].names);
				found |= 1u << k;
			}
		}
		fclose(f);
		CU_ASSERT_EQUAL(found, docs[d].keys);
		if (found != docs[d].keys)
			fprintf(stderr, "%s: lists of names found 0x%x, want 0x%x\n",
				docs[d].file, found, docs[d].keys);
	}
}

/* The defaults live in lib/pool (lab_pool_opts_init()); the config's are
 * read from them, and mapping them back gives the pool's options unchanged. */
static void test_defaults_are_the_pools(void)
{
	struct lab_pool_opts want, got;
	struct lab_config cfg;

	lab_pool_opts_init(&want);
	lab_config_defaults(&cfg);
	lab_pool_opts_from_config(&got, &cfg);
	CU_ASSERT_STRING_EQUAL(got.name, want.name);
	CU_ASSERT_PTR_EQUAL(got.name, cfg.name); /* points into the config */
	got.name = want.name;
	CU_ASSERT_EQUAL(memcmp(&got, &want, sizeof(got)), 0);
	CU_ASSERT_EQUAL(cfg.pool_size, want.initial);
	CU_ASSERT_EQUAL(cfg.quality, LAB_QUALITY_SAMPLED);
	CU_ASSERT_EQUAL(cfg.hugepages, LAB_HUGEPAGES_AUTO);
}

int main(void)
{
	static const struct lab_test tests[] = {
		LAB_TEST(test_shipped_default_file),
		LAB_TEST(test_good_file_every_kind),
		LAB_TEST(test_bad_files_name_line_and_key),
		LAB_TEST(test_first_error_wins),
		LAB_TEST(test_key_given_twice),
		LAB_TEST(test_seen_api),
		LAB_TEST(test_missing_file),
		LAB_TEST(test_command_line_overrides),
		LAB_TEST(test_validate_names_values),
		LAB_TEST(test_dump_reads_back),
		LAB_TEST(test_apply_logs),
		LAB_TEST(test_dump_defaults_has_log),
		LAB_TEST(test_not_a_regular_file),
		LAB_TEST(test_nul_byte_refused),
		LAB_TEST(test_long_line),
		LAB_TEST(test_enum_names_round_trip),
		LAB_TEST(test_doc_name_lists),
		LAB_TEST(test_defaults_are_the_pools),
		LAB_TEST_END,
	};

	/* Errors are expected here; keep the run summary readable. */
	lab_log_set_level("config", LAB_LOG_ERR + 0);
	lab_log_set_stream(fopen("/dev/null", "w"));
	return lab_test_run("config", tests);
}
