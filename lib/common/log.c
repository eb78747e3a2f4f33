/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Log types and levels. Registration happens in constructors before main(), and
 * level changes are rare control-plane events, so a mutex guards the name table
 * while readers of lab_log_levels[] (LAB_LOG()) take no lock: an int store is
 * atomic on every target we build for, and a stale level for one message is
 * harmless.
 */
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <labyrinth/lab_log.h>

#define LOG_NAME_MAX 24

int lab_log_levels[LAB_LOG_MAX_TYPES];

static char log_names[LAB_LOG_MAX_TYPES][LOG_NAME_MAX];
static int log_ntypes;
static FILE *log_stream;
static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;

static const struct {
	const char *name;
	int level;
} level_names[] = {
	{ "err", LAB_LOG_ERR },	      { "error", LAB_LOG_ERR },	  { "warning", LAB_LOG_WARNING },
	{ "warn", LAB_LOG_WARNING }, { "notice", LAB_LOG_NOTICE }, { "info", LAB_LOG_INFO },
	{ "debug", LAB_LOG_DEBUG },
};

static int find_type(const char *name)
{
	for (int i = 0; i < log_ntypes; i++)
		if (strcmp(log_names[i], name) == 0)
			return i;
	return -ENOENT;
}

int lab_log_register(const char *name, enum lab_log_level default_level)
{
	int id;

	if (name == NULL || name[0] == '\0' || strlen(name) >= LOG_NAME_MAX)
		return -EINVAL;
	pthread_mutex_lock(&log_lock);
	id = find_type(name);
	if (id < 0) {
		if (log_ntypes == LAB_LOG_MAX_TYPES) {
			id = -ENOSPC;
		} else {
			id = log_ntypes++;
			strcpy(log_names[id], name);
			__atomic_store_n(&lab_log_levels[id], default_level, __ATOMIC_RELAXED);
		}
	}
	pthread_mutex_unlock(&log_lock);
	return id;
}

int lab_log_level_parse(const char *s)
{
	for (size_t i = 0; i < sizeof(level_names) / sizeof(level_names[0]); i++)
		if (strcasecmp(s, level_names[i].name) == 0)
			return level_names[i].level;
	return -EINVAL;
}

const char *lab_log_level_name(enum lab_log_level level)
{
	static const char *const names[] = { "?", "ERR", "WARNING", "NOTICE", "INFO", "DEBUG" };

	if ((int)level < 1 || level > LAB_LOG_DEBUG)
		return "?";
	return names[level];
}

int lab_log_set_level(const char *name, enum lab_log_level level)
{
	int id, rc = 0;

	pthread_mutex_lock(&log_lock);
	if (strcmp(name, "*") == 0) {
		for (int i = 0; i < log_ntypes; i++)
			__atomic_store_n(&lab_log_levels[i], level, __ATOMIC_RELAXED);
	} else if ((id = find_type(name)) >= 0) {
		__atomic_store_n(&lab_log_levels[id], level, __ATOMIC_RELAXED);
	} else {
		rc = -ENOENT;
	}
	pthread_mutex_unlock(&log_lock);
	return rc;
}

const char *lab_log_type_name(unsigned int id)
{
	const char *name = NULL;

	pthread_mutex_lock(&log_lock);
	if (id < (unsigned int)log_ntypes)
		name = log_names[id];
	pthread_mutex_unlock(&log_lock);
	return name;
}

int lab_log_get_level(const char *name)
{
	int id;

	pthread_mutex_lock(&log_lock);
	id = find_type(name);
	if (id >= 0)
		id = lab_log_levels[id];
	pthread_mutex_unlock(&log_lock);
	return id;
}

/* A line to the log stream, not through a log type (the log's own errors). */
static void __attribute__((format(printf, 1, 2))) log_plain(const char *fmt, ...)
{
	va_list ap;

	pthread_mutex_lock(&log_lock);
	va_start(ap, fmt);
	vfprintf(log_stream ? log_stream : stderr, fmt, ap);
	va_end(ap);
	pthread_mutex_unlock(&log_lock);
}

/* Apply one "type:level" or bare "level" item. */
static int set_one(const char *item)
{
	char name[LOG_NAME_MAX + 1];
	const char *colon = strchr(item, ':');
	const char *lvl = colon ? colon + 1 : item;
	int level = lab_log_level_parse(lvl);
	int rc;

	if (level < 0) {
		log_plain("labyrinth: log: unknown level '%s' in '%s' (use err, warning, notice, "
			"info or debug)\n", lvl, item);
		return -EINVAL;
	}
	if (colon == NULL)
		return lab_log_set_level("*", level);
	if ((size_t)(colon - item) > LOG_NAME_MAX - 1)
		return -ENOENT;
	memcpy(name, item, colon - item);
	name[colon - item] = '\0';
	rc = lab_log_set_level(name, level);
	if (rc < 0)
		log_plain("labyrinth: log: unknown log type '%s' in '%s'\n", name, item);
	return rc;
}

int lab_log_set_levels(const char *spec)
{
	char *copy = strdup(spec), *save = NULL, *tok;
	int rc = 0;

	if (copy == NULL)
		return -ENOMEM;
	for (tok = strtok_r(copy, ", ", &save); tok != NULL && rc == 0;
	     tok = strtok_r(NULL, ", ", &save))
		rc = set_one(tok);
	free(copy);
	return rc;
}

/* The stream is swapped under the lock every message is written under, so a
 * message from another thread (the warden) never lands in a closed stream. */
void lab_log_set_stream(FILE *stream)
{
	pthread_mutex_lock(&log_lock);
	log_stream = stream;
	pthread_mutex_unlock(&log_lock);
}

void lab_log_emit(int level, int type, const char *fmt, ...)
{
	char buf[1024];
	FILE *f;
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	/* One fprintf per message, so lines from several threads do not interleave;
	 * a message may or may not end in a newline. */
	if (n > 0 && (size_t)n < sizeof(buf) && buf[n - 1] == '\n')
		buf[n - 1] = '\0';
	pthread_mutex_lock(&log_lock);
	f = log_stream ? log_stream : stderr;
	fprintf(f, "labyrinth: %s: %s: %s\n", log_names[type], lab_log_level_name(level), buf);
	fflush(f);
	pthread_mutex_unlock(&log_lock);
}
