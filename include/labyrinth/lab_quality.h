/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * The pool's quality level and policy (docs/quality.md): the enums, their one
 * name table each and their parsers. lib/config maps quality.level and
 * quality.policy to these; the JSON, the metrics, --dump-config and the
 * control socket print these names. Included by lab_pool.h.
 */
#ifndef LAB_QUALITY_H
#define LAB_QUALITY_H

#include <labyrinth/lab_common.h>

#ifdef __cplusplus
extern "C" {
#endif

/** Buffer quality checking depth (docs/quality.md says what each level checks). */
enum lab_quality {
	LAB_QUALITY_OFF = 0, /**< no per-buffer state, no check (a double free corrupts) */
	LAB_QUALITY_SAMPLED, /**< ownership checked on every free; one buffer in
				  *   sample_rate gets the full treatment */
	LAB_QUALITY_FULL,    /**< every buffer: quarantine, poison, canaries, zeroing */
};

/** What a pool does with a finding, besides reporting it. */
enum lab_quality_policy {
	LAB_POLICY_REPORT = 0, /**< report and carry on (a suspect buffer still goes back) */
	LAB_POLICY_RETIRE,     /**< report; a buffer whose memory was found damaged is retired */
	LAB_POLICY_ABORT,      /**< report, then abort() (for debugging only) */
};

/** The quality levels' names, by value: "off", "sampled", "full". */
extern const struct lab_names lab_quality_names;

/** The policies' names, by value: "report", "retire", "abort". */
extern const struct lab_names lab_quality_policy_names;

/** "off", "sampled" or "full" ("?" for a value out of range). */
const char *lab_quality_name(enum lab_quality q);

/** Parse a quality level name (any case). @return the level or -EINVAL. */
int lab_quality_parse(const char *s);

/** "report", "retire" or "abort" ("unknown" for a value out of range). */
const char *lab_quality_policy_name(enum lab_quality_policy p);

/** Parse a policy name (any case; NULL is refused). @return the policy or -EINVAL. */
int lab_quality_policy_parse(const char *s);

#ifdef __cplusplus
}
#endif

#endif /* LAB_QUALITY_H */
