/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Driver parameters: "key=value,..." in LABYRINTH_MEMPOOL (every labyrinth
 * mempool of the process) and in a mempool's pool_config string (that pool,
 * applied after). Keys are the pool's own settings under short names.
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

int lab_mp_parse(struct lab_config *cfg, const char *s, const char *source, const char *mp)
{
	char buf[512], *save = NULL;

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
		char *eq = strchr(item, '=');
		size_t k;

		if (eq == NULL || eq == item || eq[1] == '\0') {
			LAB_LOG(ERR, mempool, "mempool '%s': %s: '%s' is not key=value", mp, source,
				item);
			return -EINVAL;
		}
		*eq = '\0';
		for (k = 0; k < sizeof(keys) / sizeof(keys[0]); k++)
			if (strcmp(item, keys[k].key) == 0)
				break;
		if (k == sizeof(keys) / sizeof(keys[0])) {
			LAB_LOG(ERR, mempool, "mempool '%s': %s: unknown key '%s' (keys: quality, "
				"sample_rate, min, low, high, reserve, leak_age_ms, policy, "
				"quarantine, log)", mp, source, item);
			return -EINVAL;
		}
		if (lab_config_set(cfg, keys[k].config, eq + 1) < 0) {
			LAB_LOG(ERR, mempool, "mempool '%s': %s: %s=%s: %s", mp, source, item, eq + 1,
				lab_config_error());
			return -EINVAL;
		}
		if (strcmp(item, "log") == 0)
			lab_config_apply_logs(cfg);
	}
	return 0;
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
