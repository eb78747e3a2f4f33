/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Reading and writing config files. libinih does the INI syntax; we feed it
 * lines through our own reader so that an error can name its line even though
 * inih's handler is not told the line number (INI_HANDLER_LINENO is 0 in
 * Debian's build).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#ifdef LAB_HAVE_INIH
#include <ini.h>
#endif

#include "config_internal.h"

struct load_ctx {
	struct lab_config *cfg;
	struct lab_config_seen seen;
	bool indented; /* the line last handed to inih starts with a space */
	FILE *f;
	const char *path;
	int line;      /* line last handed to inih */
	int err_line;  /* line of the first handler error, 0 if none */
	int err;
	char msg[512]; /* message of the first handler error */
	int read_err;  /* lab_config_read_line()'s error (its message in cfg_err), 0 if none */
};

static const char *file_kind(mode_t m)
{
	if (S_ISDIR(m))
		return "a directory";
	if (S_ISFIFO(m))
		return "a FIFO";
	if (S_ISCHR(m))
		return "a character device";
	if (S_ISBLK(m))
		return "a block device";
	if (S_ISSOCK(m))
		return "a socket";
	return "not a regular file";
}

/* O_NONBLOCK so that a FIFO cannot block the open, fstat before any read so
 * that a directory, a FIFO or /dev/zero is refused rather than read. */
FILE *lab_config_fopen(const char *path)
{
	size_t len;
	char *err = config_error_buf(&len);
	struct stat st;
	FILE *f;
	int fd, rc;

	fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
	if (fd < 0) {
		rc = errno;
		snprintf(err, len, "%s: cannot open config file: %s", path, strerror(rc));
		goto err;
	}
	if (fstat(fd, &st) < 0) {
		rc = errno;
		snprintf(err, len, "%s: cannot stat config file: %s", path, strerror(rc));
		goto err_close;
	}
	if (!S_ISREG(st.st_mode)) {
		rc = S_ISDIR(st.st_mode) ? EISDIR : EINVAL;
		snprintf(err, len, "%s: is %s, not a regular file: give the path of a config file",
			 path, file_kind(st.st_mode));
		goto err_close;
	}
	if (fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK) < 0 ||
	    (f = fdopen(fd, "r")) == NULL) {
		rc = errno;
		snprintf(err, len, "%s: cannot read config file: %s", path, strerror(rc));
		goto err_close;
	}
	return f;
err_close:
	close(fd);
err:
	lab_errno = rc;
	return NULL;
}

/* getc, not fgets: fgets cannot tell a NUL byte from the end of the string. */
int lab_config_read_line(FILE *f, const char *path, int line, char *buf, size_t size)
{
	size_t n = 0, len;
	char *err = config_error_buf(&len);
	int ch;

	while ((ch = getc(f)) != EOF) {
		if (ch == '\0') {
			snprintf(err, len, "%s:%d: NUL byte at column %zu: a config file is text",
				 path, line, n + 1);
			return -EINVAL;
		}
		if (n + 1 >= size && ch != '\n') {
			snprintf(err, len, "%s:%d: line too long (more than %zu characters)", path,
				 line, size - 1);
			return -EINVAL;
		}
		if (n + 1 < size)
			buf[n++] = (char)ch;
		if (ch == '\n')
			break;
	}
	if (ferror(f)) {
		snprintf(err, len, "%s:%d: cannot read config file: %s", path, line,
			 strerror(errno));
		return -EIO;
	}
	buf[n] = '\0';
	return (int)n;
}

static void seen_name(char *buf, size_t len, const char *section, const char *key)
{
	snprintf(buf, len, "%s.%s", section, key);
}

int lab_config_seen_line(const struct lab_config_seen *s, const char *section, const char *key)
{
	char name[sizeof(s->keys[0].name)];

	seen_name(name, sizeof(name), section, key);
	for (size_t i = 0; i < s->n; i++)
		if (strcmp(s->keys[i].name, name) == 0)
			return s->keys[i].line;
	return 0;
}

int lab_config_seen_add(struct lab_config_seen *s, const char *path, int line,
			const char *section, const char *key)
{
	int first = lab_config_seen_line(s, section, key);
	size_t len;
	char *err = config_error_buf(&len);

	if (first) {
		snprintf(err, len, "%s:%d: key '%s.%s' given twice (first on line %d): give each "
			 "key once", path, line, section, key, first);
		return -EEXIST;
	}
	/* A file holds a few dozen keys at most (each must be a known one), so a
	 * list searched from the start is enough. */
	if (s->n == s->cap) {
		size_t cap = s->cap ? 2 * s->cap : 16;
		struct lab_config_seen_key *k = realloc(s->keys, cap * sizeof(*k));

		if (k == NULL) {
			snprintf(err, len, "%s:%d: out of memory", path, line);
			return -ENOMEM;
		}
		s->keys = k;
		s->cap = cap;
	}
	seen_name(s->keys[s->n].name, sizeof(s->keys[s->n].name), section, key);
	s->keys[s->n++].line = line;
	return 0;
}

void lab_config_seen_free(struct lab_config_seen *s)
{
	free(s->keys);
	*s = (struct lab_config_seen){ 0 };
}

#ifdef LAB_HAVE_INIH
static char *read_line(char *str, int num, void *stream)
{
	struct load_ctx *c = stream;
	int rc;

	if (c->read_err)
		return NULL;
	rc = lab_config_read_line(c->f, c->path, c->line + 1, str, (size_t)num);
	if (rc <= 0) {
		c->read_err = rc;
		return NULL;
	}
	c->line++;
	c->indented = str[0] == ' ' || str[0] == '\t';
	return str;
}

static int on_key(void *user, const char *section, const char *key, const char *value)
{
	struct load_ctx *c = user;
	size_t len;
	int rc, first, prefix;

	if (c->err_line)
		return 0; /* keep only the first error */
	section = section[0] ? section : "(none)";
	/* inih reads an indented line as more of the key before it, and calls
	 * us with that key again: say so rather than "given twice". */
	first = lab_config_seen_line(&c->seen, section, key);
	if (first && c->indented) {
		snprintf(c->msg, sizeof(c->msg), "key '%s.%s': this indented line continues "
			 "its value from line %d: a value takes one line (remove the "
			 "indentation)", section, key, first);
		c->err_line = c->line;
		c->err = -EINVAL;
		return 0;
	}
	rc = lab_config_seen_add(&c->seen, c->path, c->line, section, key);
	if (rc == 0)
		rc = config_set_key(c->cfg, section, key, value);
	if (rc == 0)
		return 1;
	c->err_line = c->line;
	c->err = rc;
	/* lab_config_load() puts "FILE:LINE: " before the message;
	 * lab_config_seen_add()'s has it already. */
	prefix = rc == -EEXIST ? snprintf(NULL, 0, "%s:%d: ", c->path, c->line) : 0;
	snprintf(c->msg, sizeof(c->msg), "%s", config_error_buf(&len) + prefix);
	return 0;
}

int lab_config_load(struct lab_config *cfg, const char *path)
{
	struct load_ctx c = { .cfg = cfg, .path = path };
	char *err;
	size_t len;
	int rc;

	err = config_error_buf(&len);
	err[0] = '\0';
	c.f = lab_config_fopen(path);
	if (c.f == NULL) {
		LAB_LOG(ERR, config, "%s", err);
		return -lab_errno;
	}
	rc = ini_parse_stream(read_line, &c, on_key, &c);
	fclose(c.f);
	lab_config_seen_free(&c.seen);
	/* A line that could not be read ends the stream: the error is its
	 * message (already in err) unless an earlier line had one. */
	if (c.read_err < 0 && (rc <= 0 || rc > c.line)) {
		LAB_LOG(ERR, config, "%s", err);
		return c.read_err;
	}
	if (rc == 0)
		return 0;
	if (rc > 0 && rc == c.err_line)
		snprintf(err, len, "%s:%d: %s", path, rc, c.msg);
	else if (rc > 0)
		snprintf(err, len, "%s:%d: syntax error: expected '[section]' or 'key = value'",
			 path, rc);
	else
		snprintf(err, len, "%s: cannot read config file (out of memory)", path);
	LAB_LOG(ERR, config, "%s", err);
	return -EINVAL;
}
#else
int lab_config_load(struct lab_config *cfg, const char *path)
{
	size_t len;
	char *err = config_error_buf(&len);

	(void)cfg;
	snprintf(err, len, "%s: cannot read config files: labyrinth was built without libinih "
		 "(install libinih-dev and rebuild)", path);
	LAB_LOG(ERR, config, "%s", err);
	return -ENOTSUP;
}
#endif

static void dump_count(FILE *f, const char *key, const struct lab_count *c)
{
	fprintf(f, "%s = %llu%s\n", key, (unsigned long long)c->value, c->percent ? "%" : "");
}

void lab_config_dump(const struct lab_config *cfg, FILE *f)
{
	fprintf(f, "[pool]\nname = %s\nsize = %llu\nmax = %llu\ncell_size = %llu\n"
		"headroom = %llu\n", cfg->name, (unsigned long long)cfg->pool_size,
		(unsigned long long)cfg->pool_max, (unsigned long long)cfg->cell_size,
		(unsigned long long)cfg->headroom);
	dump_count(f, "min", &cfg->wm_min);
	dump_count(f, "low", &cfg->wm_low);
	dump_count(f, "high", &cfg->wm_high);
	dump_count(f, "reserve", &cfg->reserve);
	fprintf(f, "\n[arena]\npage_size = %lluK\niova = %s\nhugepages = %s\nnuma_node = %d\n"
		"shared = %llu\n",
		(unsigned long long)(cfg->page_size / LAB_KIB), lab_iova_mode_name(cfg->iova_mode),
		lab_hugepages_name(cfg->hugepages), cfg->numa_node,
		(unsigned long long)cfg->shared);
	fprintf(f, "\n[quality]\nlevel = %s\nsample_rate = %llu\nquarantine = %lluK\n"
		"leak_age_ms = %llu\npolicy = %s\n", lab_quality_name(cfg->quality),
		(unsigned long long)cfg->sample_rate,
		(unsigned long long)(cfg->quarantine_bytes / LAB_KIB),
		(unsigned long long)cfg->leak_age_ms, lab_quality_policy_name(cfg->policy));
	/* [log] always, so the dump shows where the levels go; with no level set
	 * it holds a comment only (the built-in default), which reads back as
	 * nothing set. */
	fprintf(f, "\n[log]\n");
	if (cfg->log_levels[0] == '\0')
		fprintf(f, "; default = notice (built in; one key per component: arena = "
			"debug)\n");
	if (cfg->log_levels[0] != '\0') {
		char copy[LAB_CONFIG_LOG_LEN], *save = NULL, *tok;

		snprintf(copy, sizeof(copy), "%s", cfg->log_levels);
		for (tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
			char *colon = strchr(tok, ':');

			*colon = '\0';
			fprintf(f, "%s = %s\n", strcmp(tok, "*") == 0 ? "default" : tok, colon + 1);
		}
	}
}
