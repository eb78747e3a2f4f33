/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The control socket's commands: one JSON request in, one JSON reply out.
 * Every reply is built in memory first (the pool list is held while pools
 * are read, and a slow client must not hold it), and every error names the
 * member or value that was wrong and what is allowed.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <labyrinth/lab_config.h>
#include <labyrinth/lab_ctl.h>
#include <labyrinth/lab_pool.h>
#include <labyrinth/lab_pool_stats_fields.h>
#include <labyrinth/lab_port.h>

#include "ctl_internal.h"

#define ERRLEN 512

typedef int (*cmd_fn)(const struct lab_json *req, FILE *f, char *err);

struct ctl_cmd {
	const char *name;
	const char *keys; /* members it takes besides "cmd", comma-separated */
	const char *help;
	cmd_fn fn;
};

static const struct ctl_cmd *cmd_table(size_t *n);

#define ERR(...) (snprintf(err, ERRLEN, __VA_ARGS__), -1)

static int cmd_help(const struct lab_json *req, FILE *f, char *err)
{
	size_t n;
	const struct ctl_cmd *t = cmd_table(&n);

	(void)req;
	(void)err;
	fputs(",\"commands\":[", f);
	for (size_t i = 0; i < n; i++) {
		fprintf(f, "%s{\"cmd\":\"%s\",\"takes\":\"%s\",\"help\":", i ? "," : "",
			t[i].name, t[i].keys);
		lab_json_write_str(f, t[i].help);
		fputc('}', f);
	}
	fputc(']', f);
	return 0;
}

static void log_levels(FILE *f)
{
	const char *name;

	fputs("{", f);
	for (unsigned int i = 0; (name = lab_log_type_name(i)) != NULL; i++)
		fprintf(f, "%s\"%s\":\"%s\"", i ? "," : "", name,
			lab_log_level_name((enum lab_log_level)lab_log_get_level(name)));
	fputs("}", f);
}

static int count_one(struct lab_pool *p, void *arg)
{
	(void)p;
	(*(unsigned int *)arg)++;
	return 0;
}

static int count_port(struct lab_port *p, void *arg)
{
	(void)p;
	(*(unsigned int *)arg)++;
	return 0;
}

static int cmd_info(const struct lab_json *req, FILE *f, char *err)
{
	struct lab_warden_stats w;
	unsigned int pools = 0, ports = 0;

	(void)req;
	(void)err;
	lab_pool_foreach(count_one, &pools);
	lab_port_foreach(count_port, &ports);
	lab_warden_stats(&w);
	fprintf(f, ",\"pid\":%ld,\"program\":", (long)getpid());
	lab_json_write_str(f, program_invocation_short_name);
	fprintf(f, ",\"pools\":%u,\"ports\":%u,\"warden\":{\"running\":%s,\"pools\":%u,"
		"\"period_us\":%u,\"ticks\":%llu,\"last_tick_age_us\":%llu},\"log\":",
		pools, ports, w.running ? "true" : "false", w.pools, w.period_us,
		(unsigned long long)w.ticks, (unsigned long long)w.last_tick_age_us);
	log_levels(f);
	return 0;
}

struct list_arg {
	FILE *f;
	unsigned int n;
};

static int pool_summary(struct lab_pool *p, void *arg)
{
	struct list_arg *a = arg;
	struct lab_pool_stats st;
	const struct lab_pool_stat_field *t;
	size_t n;

	lab_pool_stats(p, &st);
	fprintf(a->f, "%s{\"name\":", a->n++ ? "," : "");
	lab_json_write_str(a->f, lab_pool_name(p));
	fprintf(a->f, ",\"quality\":\"%s\"", lab_quality_name(st.quality));
	t = lab_pool_stat_fields(&n);
	for (size_t i = 0; i < n; i++) {
		if (!(t[i].writers & LAB_STAT_CTL))
			continue;
		fprintf(a->f, ",\"%s\":", t[i].name);
		lab_pool_stat_write(a->f, &st, &t[i]);
	}
	fputc('}', a->f);
	return 0;
}

static int cmd_pools(const struct lab_json *req, FILE *f, char *err)
{
	struct list_arg a = { .f = f };

	(void)req;
	(void)err;
	fputs(",\"pools\":[", f);
	lab_pool_foreach(pool_summary, &a);
	fputc(']', f);
	return 0;
}

static int pool_names(struct lab_pool *p, void *arg)
{
	struct list_arg *a = arg;

	fprintf(a->f, "%s'%s'", a->n++ ? ", " : "", lab_pool_name(p));
	return 0;
}

/* "no pool named 'x' (pools: 'a', 'b')" */
static int no_pool(const char *name, char *err)
{
	char *list = NULL;
	size_t len = 0;
	FILE *m = open_memstream(&list, &len);
	struct list_arg a = { .f = m };

	if (m != NULL) {
		lab_pool_foreach(pool_names, &a);
		fclose(m);
	}
	snprintf(err, ERRLEN, "no pool named '%s' (pools: %s)", name,
		 list != NULL && a.n ? list : "none");
	free(list);
	return -1;
}

struct pool_arg {
	const char *name;
	FILE *f;
	int found;
};

static int pool_full(struct lab_pool *p, void *arg)
{
	struct pool_arg *a = arg;
	char *js = NULL;
	size_t len = 0;
	FILE *m;

	if (strcmp(lab_pool_name(p), a->name) != 0)
		return 0;
	m = open_memstream(&js, &len);
	if (m == NULL)
		return -ENOMEM;
	lab_pool_stats_json(p, m);
	fclose(m);
	while (len > 0 && js[len - 1] == '\n')
		js[--len] = '\0';
	fputs(",\"pool\":", a->f);
	fputs(js, a->f);
	free(js);
	a->found = 1;
	return 1;
}

static int cmd_pool(const struct lab_json *req, FILE *f, char *err)
{
	struct pool_arg a = { .name = lab_json_str(req, "name"), .f = f };

	if (a.name == NULL)
		return ERR("pool: missing \"name\" (a string: the pool's name; \"pools\" lists them)");
	if (lab_pool_foreach(pool_full, &a) < 0)
		return ERR("pool: out of memory");
	return a.found ? 0 : no_pool(a.name, err);
}

static void qstats(FILE *f, const struct lab_port_qstats *q)
{
	fprintf(f, "{\"packets\":%llu,\"bytes\":%llu,\"nobuf\":%llu,\"oversize\":%llu,"
		"\"truncated\":%llu,\"ring_full\":%llu,\"errors\":%llu}",
		(unsigned long long)q->packets, (unsigned long long)q->bytes,
		(unsigned long long)q->rx_nobuf, (unsigned long long)q->oversize,
		(unsigned long long)q->truncated, (unsigned long long)q->ring_full,
		(unsigned long long)q->errors);
}

static int port_one(struct lab_port *p, void *arg)
{
	struct list_arg *a = arg;
	struct lab_port_stats *st = malloc(sizeof(*st));
	struct lab_port_link l;

	if (st == NULL)
		return -ENOMEM;
	lab_port_stats(p, st);
	lab_port_link(p, &l);
	fprintf(a->f, "%s{\"name\":", a->n++ ? "," : "");
	lab_json_write_str(a->f, lab_port_name(p));
	fprintf(a->f, ",\"driver\":\"%s\",\"id\":%u,\"link\":{\"up\":%s,\"rx_done\":%s,"
		"\"speed_mbps\":%u},\"rx\":", lab_port_driver(p), p->id, l.up ? "true" : "false",
		l.rx_done ? "true" : "false", l.speed_mbps);
	qstats(a->f, &st->rx_total);
	fputs(",\"tx\":", a->f);
	qstats(a->f, &st->tx_total);
	fputs(",\"rxq\":[", a->f);
	for (uint16_t q = 0; q < st->nb_rxq; q++) {
		fputs(q ? "," : "", a->f);
		qstats(a->f, &st->rx[q]);
	}
	fputs("],\"txq\":[", a->f);
	for (uint16_t q = 0; q < st->nb_txq; q++) {
		fputs(q ? "," : "", a->f);
		qstats(a->f, &st->tx[q]);
	}
	fputs("]}", a->f);
	free(st);
	return 0;
}

static int cmd_ports(const struct lab_json *req, FILE *f, char *err)
{
	struct list_arg a = { .f = f };

	(void)req;
	fputs(",\"ports\":[", f);
	if (lab_port_foreach(port_one, &a) < 0)
		return ERR("ports: out of memory");
	fputc(']', f);
	return 0;
}

struct quality_arg {
	const char *pool;
	int level;
	uint32_t rate;
	FILE *f;
	unsigned int n;
};

static int quality_one(struct lab_pool *p, void *arg)
{
	struct quality_arg *a = arg;
	struct lab_pool_stats st;

	if (a->pool != NULL && strcmp(a->pool, lab_pool_name(p)) != 0)
		return 0;
	lab_pool_set_quality(p, (enum lab_quality)a->level, a->rate);
	lab_pool_stats(p, &st);
	fprintf(a->f, "%s{\"name\":", a->n++ ? "," : "");
	lab_json_write_str(a->f, lab_pool_name(p));
	fprintf(a->f, ",\"quality\":\"%s\",\"sample_rate\":%u}", lab_quality_name(st.quality),
		st.sample_rate);
	return 0;
}

static int set_quality(const struct lab_json *req, FILE *f, char *err)
{
	const char *level = lab_json_str(req, "level");
	const struct lab_json *rate = lab_json_get(req, "rate");
	struct quality_arg a = { .pool = lab_json_str(req, "pool"), .f = f };
	char want[64];

	if (level == NULL || (a.level = lab_quality_parse(level)) < 0)
		return ERR("set quality: \"level\" %s%s%s (want %s)", level ? "'" : "is missing",
			   level ? level : "", level ? "' is unknown" : "",
			   lab_names_list(&lab_quality_names, "\"", " or ", want, sizeof(want)));
	if (rate != NULL) {
		if (rate->type != LAB_JSON_NUMBER || rate->num < 1 || rate->num > (1u << 30) ||
		    (double)(uint32_t)rate->num != rate->num)
			return ERR("set quality: bad \"rate\" (want a whole number 1..%u: one free "
				   "in that many is checked under sampled)", 1u << 30);
		a.rate = (uint32_t)rate->num;
	}
	if (lab_json_get(req, "pool") != NULL && a.pool == NULL)
		return ERR("set quality: \"pool\" must be a string (a pool's name)");
	fprintf(f, ",\"set\":\"quality\",\"pools\":[");
	lab_pool_foreach(quality_one, &a);
	if (a.n == 0)
		return a.pool != NULL ? no_pool(a.pool, err) : ERR("set quality: no pools");
	fputc(']', f);
	return 0;
}

static int set_log(const struct lab_json *req, FILE *f, char *err)
{
	const char *level = lab_json_str(req, "level"), *type = lab_json_str(req, "type");
	int lv = level != NULL ? lab_log_level_parse(level) : -EINVAL;

	if (lv < 0)
		return ERR("set log: \"level\" %s%s%s (want err, warning, notice, info or debug)",
			   level ? "'" : "is missing", level ? level : "", level ? "' is unknown" : "");
	if (lab_json_get(req, "type") != NULL && type == NULL)
		return ERR("set log: \"type\" must be a string (a log type, or \"*\")");
	if (lab_log_set_level(type != NULL ? type : "*", (enum lab_log_level)lv) < 0) {
		char types[256] = "";
		const char *name;
		size_t o = 0;

		for (unsigned int i = 0; (name = lab_log_type_name(i)) != NULL && o < sizeof(types);
		     i++)
			o += (size_t)snprintf(types + o, sizeof(types) - o, "%s%s", i ? ", " : "",
					      name);
		return ERR("set log: no log type '%s' (types: %s, or \"*\" for all)", type, types);
	}
	fputs(",\"set\":\"log\",\"log\":", f);
	log_levels(f);
	return 0;
}

static int cmd_set(const struct lab_json *req, FILE *f, char *err)
{
	const char *what = lab_json_str(req, "what");

	if (what != NULL && strcmp(what, "quality") == 0)
		return set_quality(req, f, err);
	if (what != NULL && strcmp(what, "log") == 0)
		return set_log(req, f, err);
	return ERR("set: \"what\" %s%s%s (want \"quality\" or \"log\")", what ? "'" : "is missing",
		   what ? what : "", what ? "' is unknown" : "");
}

static int cmd_metrics(const struct lab_json *req, FILE *f, char *err)
{
	char *text = NULL;
	size_t len = 0;
	FILE *m = open_memstream(&text, &len);

	(void)req;
	if (m == NULL)
		return ERR("metrics: out of memory");
	lab_ctl_metrics(m);
	fclose(m);
	fputs(",\"content_type\":\"text/plain; version=0.0.4\",\"text\":", f);
	lab_json_write_str(f, text);
	free(text);
	return 0;
}

static const struct ctl_cmd cmds[] = {
	{ "help", "", "the commands and what they take", cmd_help },
	{ "info", "", "the process: pid, program, pools, ports, warden, log levels", cmd_info },
	{ "pools", "", "every pool: buffer counts, watermarks, reserve, warden work, quality",
	  cmd_pools },
	{ "pool", "name",
	  "one pool in full: counts, watermarks, reserve, memory, warden, findings by kind, "
	  "owners",
	  cmd_pool },
	{ "ports", "", "every port: link and per-queue counters", cmd_ports },
	{ "set", "what,level,rate,pool,type",
	  "what=quality: level off|sampled|full, rate N, pool NAME (default all); "
	  "what=log: level err..debug, type NAME (default all)",
	  cmd_set },
	{ "metrics", "", "Prometheus text exposition format (0.0.4) in \"text\"", cmd_metrics },
};

static const struct ctl_cmd *cmd_table(size_t *n)
{
	*n = sizeof(cmds) / sizeof(cmds[0]);
	return cmds;
}

static const struct ctl_cmd *cmd_find(const char *name)
{
	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
		if (strcmp(cmds[i].name, name) == 0)
			return &cmds[i];
	return NULL;
}

static bool key_allowed(const char *keys, const char *key)
{
	size_t n = strlen(key);

	for (const char *k = keys; *k != '\0'; k += strcspn(k, ",") + (k[strcspn(k, ",")] != 0))
		if (strncmp(k, key, n) == 0 && (k[n] == ',' || k[n] == '\0'))
			return true;
	return false;
}

/* Parse and check a request; on failure @p err says why. */
static const struct ctl_cmd *request_check(const struct lab_json *j, const char *perr, char *err)
{
	const struct ctl_cmd *c;
	const char *name;

	if (j == NULL) {
		snprintf(err, ERRLEN, "bad request: not JSON (%s): send one JSON object per line, "
			 "such as {\"cmd\":\"help\"}", perr);
		return NULL;
	}
	name = lab_json_str(j, "cmd");
	if (j->type != LAB_JSON_OBJECT || name == NULL) {
		snprintf(err, ERRLEN, "bad request: want an object with \"cmd\" (a string), such as "
			 "{\"cmd\":\"help\"}");
		return NULL;
	}
	c = cmd_find(name);
	if (c == NULL) {
		char list[128] = "";
		size_t o = 0;

		for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]) && o < sizeof(list); i++)
			o += (size_t)snprintf(list + o, sizeof(list) - o, "%s%s", i ? ", " : "",
					      cmds[i].name);
		snprintf(err, ERRLEN, "unknown command '%.64s' (commands: %s)", name, list);
		return NULL;
	}
	for (const struct lab_json *m = j->child; m != NULL; m = m->next) {
		if (strcmp(m->key, "cmd") != 0 && !key_allowed(c->keys, m->key)) {
			snprintf(err, ERRLEN, "%s: unknown member '%.64s' (it takes: %s)", c->name,
				 m->key, c->keys[0] ? c->keys : "nothing");
			return NULL;
		}
	}
	return c;
}

/* The reply of a good request, or NULL with @p err set. */
static char *run(const struct ctl_cmd *c, const struct lab_json *j, char *err)
{
	char *out = NULL;
	size_t olen = 0;
	FILE *f = open_memstream(&out, &olen);
	int rc;

	if (f == NULL)
		return NULL;
	fprintf(f, "{\"ok\":true,\"cmd\":\"%s\"", c->name);
	rc = c->fn(j, f, err);
	fputs("}\n", f);
	if (fclose(f) != 0 || rc < 0) {
		free(out);
		return NULL;
	}
	return out;
}

char *lab_ctl_answer(const char *req, size_t len)
{
	char err[ERRLEN] = "", perr[128];
	struct lab_json *j = lab_json_parse(req, len, perr, sizeof(perr));
	const struct ctl_cmd *c = request_check(j, perr, err);
	char *out = c != NULL ? run(c, j, err) : NULL;
	size_t olen = 0;
	FILE *f;

	lab_json_free(j);
	if (out != NULL)
		return out;
	if (err[0] == '\0')
		return NULL; /* no memory */
	LAB_LOG(INFO, ctl, "control socket: request refused: %s", err);
	f = open_memstream(&out, &olen);
	if (f == NULL)
		return NULL;
	fputs("{\"ok\":false,\"error\":", f);
	lab_json_write_str(f, err);
	fputs("}\n", f);
	if (fclose(f) != 0) {
		free(out);
		return NULL;
	}
	return out;
}
