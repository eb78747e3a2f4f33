/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Config keys are one table; the file reader (libinih) and command-line
 * overrides both go through set_key(), so a key means the same in both places.
 */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "config_internal.h"

LAB_LOG_REGISTER(config, NOTICE)

/* K_ENUM: a value of an enum whose one name table (struct key's names) is
 * its owner's: lib/arena's for arena.iova and arena.hugepages, lib/pool's for
 * quality.level and quality.policy. */
enum kind { K_NAME, K_COUNT, K_SIZE, K_WMARK, K_PAGESIZE, K_ENUM, K_NODE };

struct key {
	const char *section;
	const char *key;
	enum kind kind;
	size_t off;
	uint64_t min, max;
	const struct lab_names *names; /* K_ENUM */
};

#define F(m) offsetof(struct lab_config, m)
static const struct key keys[] = {
	{ "pool", "name", K_NAME, F(name), 0, 0 },
	{ "pool", "size", K_COUNT, F(pool_size), 1, 1u << 30 },
	{ "pool", "max", K_COUNT, F(pool_max), 1, 1u << 30 },
	{ "pool", "cell_size", K_SIZE, F(cell_size), 64, 1u << 30 },
	{ "pool", "headroom", K_SIZE, F(headroom), 0, 1u << 30 },
	{ "pool", "min", K_WMARK, F(wm_min), 0, 1u << 30 },
	{ "pool", "low", K_WMARK, F(wm_low), 0, 1u << 30 },
	{ "pool", "high", K_WMARK, F(wm_high), 0, 1u << 30 },
	{ "pool", "reserve", K_WMARK, F(reserve), 0, 1u << 30 },
	{ "arena", "page_size", K_PAGESIZE, F(page_size), 0, 0 },
	{ "arena", "iova", K_ENUM, F(iova_mode), 0, 0, &lab_iova_mode_names },
	{ "arena", "hugepages", K_ENUM, F(hugepages), 0, 0, &lab_hugepages_names },
	{ "arena", "numa_node", K_NODE, F(numa_node), 0, 0 },
	{ "arena", "shared", K_COUNT, F(shared), 0, 1 },
	{ "quality", "level", K_ENUM, F(quality), 0, 0, &lab_quality_names },
	{ "quality", "sample_rate", K_COUNT, F(sample_rate), 1, 1u << 30 },
	{ "quality", "quarantine", K_SIZE, F(quarantine_bytes), 0, 1ull << 40 },
	{ "quality", "leak_age_ms", K_COUNT, F(leak_age_ms), 0, UINT32_MAX },
	{ "quality", "policy", K_ENUM, F(policy), 0, 0, &lab_quality_policy_names },
};
#undef F

static __thread char cfg_err[512];

const char *lab_config_error(void)
{
	return cfg_err;
}

char *config_error_buf(size_t *len)
{
	*len = sizeof(cfg_err);
	return cfg_err;
}

__attribute__((format(printf, 1, 2))) static int fail(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(cfg_err, sizeof(cfg_err), fmt, ap);
	va_end(ap);
	return -EINVAL;
}

/* The defaults are the pool's (lab_pool_opts_init()): one place for each value. */
void lab_config_defaults(struct lab_config *cfg)
{
	struct lab_pool_opts o;

	lab_pool_opts_init(&o);
	memset(cfg, 0, sizeof(*cfg));
	cfg->size = sizeof(*cfg);
	snprintf(cfg->name, sizeof(cfg->name), "%s", o.name);
	cfg->pool_size = o.initial;
	cfg->pool_max = o.max;
	cfg->cell_size = o.cell_size;
	cfg->headroom = o.headroom;
	cfg->wm_min = o.wm_min;
	cfg->wm_low = o.wm_low;
	cfg->wm_high = o.wm_high;
	cfg->reserve = o.reserve;
	cfg->page_size = o.page_size;
	cfg->iova_mode = o.iova_mode;
	cfg->hugepages = o.hugepages;
	cfg->numa_node = o.numa_node;
	cfg->shared = o.shared;
	cfg->quality = o.quality;
	cfg->sample_rate = o.sample_rate;
	cfg->quarantine_bytes = o.quarantine_bytes;
	cfg->leak_age_ms = o.leak_age_ms;
	cfg->policy = o.policy;
}

void lab_pool_opts_from_config(struct lab_pool_opts *o, const struct lab_config *cfg)
{
	lab_pool_opts_init(o);
	o->name = cfg->name;
	o->cell_size = (uint32_t)cfg->cell_size;
	o->headroom = (uint32_t)cfg->headroom;
	o->initial = (uint32_t)cfg->pool_size;
	o->max = (uint32_t)cfg->pool_max;
	o->wm_min = cfg->wm_min;
	o->wm_low = cfg->wm_low;
	o->wm_high = cfg->wm_high;
	o->reserve = cfg->reserve;
	o->page_size = cfg->page_size;
	o->iova_mode = cfg->iova_mode;
	o->numa_node = cfg->numa_node;
	o->hugepages = cfg->hugepages;
	o->shared = cfg->shared != 0;
	o->quality = cfg->quality;
	o->sample_rate = (uint32_t)cfg->sample_rate;
	o->quarantine_bytes = cfg->quarantine_bytes;
	o->leak_age_ms = cfg->leak_age_ms;
	o->policy = cfg->policy;
}

static int parse_number(const struct key *k, const char *v, uint64_t *out)
{
	int rc = lab_parse_size(v, out);

	if (rc < 0 || *out < k->min || *out > k->max)
		return fail("key '%s.%s': '%s' is not %s between %llu and %llu", k->section,
			    k->key, v, k->kind == K_SIZE ? "a size (bytes, or with K/M/G)" :
			    "a whole number", (unsigned long long)k->min,
			    (unsigned long long)k->max);
	return 0;
}

static int parse_wmark(const struct key *k, const char *v, struct lab_count *c)
{
	size_t n = strlen(v);
	char num[32];

	if (n > 0 && n < sizeof(num) && v[n - 1] == '%') {
		memcpy(num, v, n - 1);
		num[n - 1] = '\0';
		if (lab_parse_size(num, &c->value) < 0 || c->value > 100)
			return fail("key '%s.%s': '%s' is not a percent from 0%% to 100%%",
				    k->section, k->key, v);
		c->percent = true;
		return 0;
	}
	c->percent = false;
	return parse_number(k, v, &c->value);
}

static int parse_enum(const struct key *k, const char *v, void *field)
{
	int r = lab_names_parse(k->names, v);
	char list[128];

	if (r < 0)
		return fail("key '%s.%s': '%s' is not one of %s", k->section, k->key, v,
			    lab_names_list(k->names, "", ", ", list, sizeof(list)));
	*(int *)field = r;
	return 0;
}

static int parse_value(const struct key *k, const char *v, void *field)
{
	uint64_t n;
	char *end;
	long node;

	switch (k->kind) {
	case K_NAME:
		if (v[0] == '\0' || strlen(v) >= 32 || strchr(v, '/') != NULL)
			return fail("key '%s.%s': '%s' must be 1 to 31 characters, without '/'",
				    k->section, k->key, v);
		strcpy(field, v);
		return 0;
	case K_COUNT:
	case K_SIZE:
		return parse_number(k, v, field);
	case K_WMARK:
		return parse_wmark(k, v, field);
	case K_PAGESIZE:
		if (lab_parse_size(v, &n) < 0 || (n != 2 * LAB_MIB && n != LAB_GIB))
			return fail("key '%s.%s': '%s' is not a supported page size (2M or 1G)",
				    k->section, k->key, v);
		*(uint64_t *)field = n;
		return 0;
	case K_NODE:
		node = strtol(v, &end, 10);
		if (strcasecmp(v, "any") == 0)
			node = -1;
		else if (v[0] == '\0' || *end != '\0' || node < -1 || node > 1023)
			return fail("key '%s.%s': '%s' is not a NUMA node (-1 or 'any' for no "
				    "placement, else 0-1023)", k->section, k->key, v);
		*(int *)field = (int)node;
		return 0;
	default: /* K_ENUM */
		return parse_enum(k, v, field);
	}
}

/* [log] takes "default" and one key per registered log type. */
static int set_log(struct lab_config *cfg, const char *name, const char *v)
{
	size_t used = strlen(cfg->log_levels);
	int n;

	if (lab_log_level_parse(v) < 0)
		return fail("key 'log.%s': '%s' is not a level (err, warning, notice, info, "
			    "debug)", name, v);
	if (strcmp(name, "default") != 0 && lab_log_get_level(name) < 0)
		return fail("key 'log.%s': no log type is called '%s'", name, name);
	n = snprintf(cfg->log_levels + used, sizeof(cfg->log_levels) - used, "%s%s:%s",
		     used ? "," : "", strcmp(name, "default") == 0 ? "*" : name, v);
	if (n < 0 || (size_t)n >= sizeof(cfg->log_levels) - used) {
		cfg->log_levels[used] = '\0';
		return fail("key 'log.%s': too many log settings", name);
	}
	return 0;
}

int config_set_key(struct lab_config *cfg, const char *section, const char *key, const char *v)
{
	if (strcmp(section, "log") == 0)
		return set_log(cfg, key, v);
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		if (strcmp(keys[i].section, section) == 0 && strcmp(keys[i].key, key) == 0)
			return parse_value(&keys[i], v, (char *)cfg + keys[i].off);
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		if (strcmp(keys[i].section, section) == 0) {
			fail("key '%s.%s': unknown key in section [%s]", section, key, section);
			return -ENOENT;
		}
	fail("key '%s.%s': unknown section [%s] (sections: pool, arena, quality, log)", section,
	     key, section);
	return -ENOENT;
}

int lab_config_set(struct lab_config *cfg, const char *key, const char *value)
{
	const char *dot = strchr(key, '.');
	char section[32];

	cfg_err[0] = '\0';
	if (dot == NULL || dot == key || (size_t)(dot - key) >= sizeof(section)) {
		fail("key '%s': expected section.key (for example pool.size)", key);
		return -ENOENT;
	}
	memcpy(section, key, dot - key);
	section[dot - key] = '\0';
	return config_set_key(cfg, section, dot + 1, value);
}

int lab_config_set_arg(struct lab_config *cfg, const char *arg)
{
	const char *eq = strchr(arg, '=');
	char key[64];

	if (eq == NULL || (size_t)(eq - arg) >= sizeof(key))
		return fail("override '%s': expected section.key=value", arg);
	memcpy(key, arg, eq - arg);
	key[eq - arg] = '\0';
	return lab_config_set(cfg, key, eq + 1);
}

int lab_config_validate(const struct lab_config *cfg)
{
	uint64_t n = cfg->pool_size;
	uint64_t mn = lab_count_resolve(&cfg->wm_min, n), lo = lab_count_resolve(&cfg->wm_low, n);
	uint64_t hi = lab_count_resolve(&cfg->wm_high, n), rs = lab_count_resolve(&cfg->reserve, n);

	cfg_err[0] = '\0';
	if (cfg->headroom >= cfg->cell_size)
		return fail("pool.headroom %llu must be smaller than pool.cell_size %llu",
			    (unsigned long long)cfg->headroom, (unsigned long long)cfg->cell_size);
	if (n > cfg->pool_max)
		return fail("pool.size %llu exceeds pool.max %llu", (unsigned long long)n,
			    (unsigned long long)cfg->pool_max);
	if (mn > lo || lo > hi || hi > n)
		return fail("watermarks must satisfy min <= low <= high <= size: min %llu, low "
			    "%llu, high %llu, size %llu", (unsigned long long)mn,
			    (unsigned long long)lo, (unsigned long long)hi, (unsigned long long)n);
	if (rs > n)
		return fail("pool.reserve %llu exceeds pool.size %llu", (unsigned long long)rs,
			    (unsigned long long)n);
	return 0;
}

int lab_config_apply_logs(const struct lab_config *cfg)
{
	return cfg->log_levels[0] ? lab_log_set_levels(cfg->log_levels) : 0;
}
