/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The quality level's and policy's names: one table each, read by their
 * parsers here, by lib/config (quality.level, quality.policy, --dump-config),
 * by the stats JSON, the metrics and the control socket. They are the pool's
 * enums, so the pool owns their names; config only maps keys to them.
 */
#include <labyrinth/lab_quality.h>

static const char *const quality_names[] = {
	[LAB_QUALITY_OFF] = "off", [LAB_QUALITY_SAMPLED] = "sampled", [LAB_QUALITY_FULL] = "full",
};
const struct lab_names lab_quality_names = LAB_NAMES(quality_names);

static const char *const policy_names[] = {
	[LAB_POLICY_REPORT] = "report", [LAB_POLICY_RETIRE] = "retire",
	[LAB_POLICY_ABORT] = "abort",
};
const struct lab_names lab_quality_policy_names = LAB_NAMES(policy_names);

const char *lab_quality_name(enum lab_quality q)
{
	return lab_names_get(&lab_quality_names, q, "?");
}

int lab_quality_parse(const char *s)
{
	return lab_names_parse(&lab_quality_names, s);
}

const char *lab_quality_policy_name(enum lab_quality_policy p)
{
	return lab_names_get(&lab_quality_policy_names, p, "unknown");
}

int lab_quality_policy_parse(const char *s)
{
	return lab_names_parse(&lab_quality_policy_names, s);
}
