/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Driver parameters: "key=value,..." in LABYRINTH_MEMPOOL (every labyrinth
 * mempool of the process) and in a mempool's pool_config string (that pool,
 * applied after). Keys are the pool's own settings under short names, values
 * parsed as the configuration parses them (lab_config_set: lab_parse_size for
 * numbers); a key given twice in one string is refused, as in device strings.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <labyrinth/lab_log.h>

#include "lab_mempool.h"

LAB_LOG_DECLARE(mempool);

static const struct {
	const char *key, *config;
} keys[] = {
	{ "quality", "quality.level" },
	{ "sample_rate", "quality.sample_rate" },
	{ "min", "pool.min" },
	{ "low", "pool.low" },
	{ "high", "pool.high" },
	{ "reserve", "pool.reserve" },
	{ "leak_age_ms", "quality.leak_age_ms" },
	{ "policy", "quality.policy" },
	{ "quarantine", "quality.quarantine" },
	{ "log", "log.default" },
};

void lab_mp_config_defaults(struct lab_config *cfg)
{
	cfg->wm_min = (struct lab_count){ 0, false };
	cfg->wm_low = (struct lab_count){ 0, false };
	cfg->wm_high = (struct lab_count){ 0, false };
	cfg->reserve = (struct lab_count){ 0, false };
}

#define NKEYS (sizeof(keys) / sizeof(keys[0]))

/* One "key=value" item: @return the key's index, or -EINVAL after a message. */
static int parse_item(struct lab_config *cfg, char *item, unsigned int seen, const char *source,
		      const char *mp)
{
	char *eq = strchr(item, '=');
	size_t k;

	if (eq == NULL || eq == item || eq[1] == '\0') {
		LAB_LOG(ERR, mempool, "mempool '%s': %s: '%s' is not key=value", mp, source, item);
		return -EINVAL;
	}
	*eq = '\0';
	for (k = 0; k < NKEYS; k++)
		if (strcmp(item, keys[k].key) == 0)
			break;
	if (k == NKEYS) {
		LAB_LOG(ERR, mempool, "mempool '%s': %s: unknown key '%s' (keys: quality, "
			"sample_rate, min, low, high, reserve, leak_age_ms, policy, quarantine, "
			"log)", mp, source, item);
		return -EINVAL;
	}
	if (seen & (1u << k)) {
		LAB_LOG(ERR, mempool, "mempool '%s': %s: key '%s' given twice", mp, source, item);
		return -EINVAL;
	}
	if (lab_config_set(cfg, keys[k].config, eq + 1) < 0) {
		LAB_LOG(ERR, mempool, "mempool '%s': %s: %s=%s: %s", mp, source, item, eq + 1,
			lab_config_error());
		return -EINVAL;
	}
	if (strcmp(item, "log") == 0)
		lab_config_apply_logs(cfg);
	return (int)k;
}

int lab_mp_parse(struct lab_config *cfg, const char *s, const char *source, const char *mp,
		 unsigned int *given)
{
	char buf[512], *save = NULL;
	unsigned int seen = 0;

	if (s == NULL || *s == '\0')
		return 0;
	if (strlen(s) >= sizeof(buf)) {
		LAB_LOG(ERR, mempool, "mempool '%s': %s is %zu bytes long (at most %zu)", mp,
			source, strlen(s), sizeof(buf) - 1);
		return -EINVAL;
	}
	snprintf(buf, sizeof(buf), "%s", s);
	for (char *item = strtok_r(buf, ",", &save); item != NULL;
	     item = strtok_r(NULL, ",", &save)) {
		int k = parse_item(cfg, item, seen, source, mp);

		if (k < 0)
			return k;
		seen |= 1u << k;
	}
	*given |= seen;
	return 0;
}

static int key_index(const char *key)
{
	for (size_t k = 0; k < NKEYS; k++)
		if (strcmp(keys[k].key, key) == 0)
			return (int)k;
	return -1;
}

/* @p c times @p f, capped at 100% or @p size buffers. */
static struct lab_count count_times(const struct lab_count *c, uint64_t f, uint64_t size)
{
	uint64_t cap = c->percent ? 100 : size;

	/* value > cap / f: capped before the product could wrap. */
	return (struct lab_count){ c->value > cap / f ? cap : c->value * f, c->percent };
}

void lab_mp_derive(struct lab_config *cfg, unsigned int given, uint64_t size)
{
	unsigned int min = 1u << key_index("min"), low = 1u << key_index("low"),
		     high = 1u << key_index("high");

	if ((given & min) && !(given & low))
		cfg->wm_low = count_times(&cfg->wm_min, 2, size);
	if ((given & (min | low)) && !(given & high)) {
		cfg->wm_high = count_times(&cfg->wm_min, 3, size);
		/* Never below low (given or derived): high = max(3 x min, low). */
		if (lab_count_resolve(&cfg->wm_high, size) < lab_count_resolve(&cfg->wm_low, size))
			cfg->wm_high = cfg->wm_low;
	}
}

static void count_str(const struct lab_count *c, char *out, size_t len)
{
	snprintf(out, len, "%llu%s", (unsigned long long)c->value, c->percent ? "%" : "");
}

void lab_mp_params_string(const struct lab_config *cfg, char *out, size_t len)
{
	char mn[24], lo[24], hi[24], rs[24];

	count_str(&cfg->wm_min, mn, sizeof(mn));
	count_str(&cfg->wm_low, lo, sizeof(lo));
	count_str(&cfg->wm_high, hi, sizeof(hi));
	count_str(&cfg->reserve, rs, sizeof(rs));
	snprintf(out, len, "quality=%s sample_rate=%llu min=%s low=%s high=%s reserve=%s "
		 "policy=%s", lab_quality_name(cfg->quality),
		 (unsigned long long)cfg->sample_rate, mn, lo, hi, rs,
		 lab_quality_policy_name(cfg->policy));
}
