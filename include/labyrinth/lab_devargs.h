/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * Device strings, "driver:key=value,key=value", shared by every class of
 * driver that is opened by one (ports, block devices). Every problem is
 * reported with the string, the key, the value and what is allowed.
 */
#ifndef LAB_DEVARGS_H
#define LAB_DEVARGS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/** One key a driver accepts in its device string. */
struct lab_devargs_key {
	const char *name;
	const char *help; /**< what the value is ("a pcap file to replay") */
};

/** Parsed "key=value" pairs of a device string, already checked against the
 * driver's keys. */
struct lab_devargs {
	const char *devstr;
	const char *driver;
	unsigned int n;
	struct {
		char *key;
		char *value;
	} kv[16];
	int logtype; /**< where messages about the string go (the class's log type) */
};

struct lab_driver;
struct lab_driver_registry;

/**
 * Parse @p devstr for a driver of the class whose registry is @p reg
 * (lab_driver.h).
 *
 * @return 0 with @p a filled and @p *drv set (free @p a with lab_devargs_free);
 *         -EINVAL (empty string, a pair not KEY=VALUE, an unknown key, an
 *         empty value, a key given twice, too many keys) or -ENXIO (no such
 *         driver: "unknown driver 'X'; registered: a, b"), each with a message
 *         naming the string and what is allowed.
 */
int lab_devargs_parse(const char *devstr, const struct lab_driver_registry *reg,
		      struct lab_devargs *a, const struct lab_driver **drv);

/**
 * The driver name of @p devstr (what comes before the first ':', or all of
 * it) into @p out, without looking it up.
 * @return 0, or -ENAMETOOLONG when it does not fit in @p len bytes.
 */
int lab_devargs_driver_name(const char *devstr, char *out, size_t len);

/**
 * Whether @p devstr gives @p key ("KEY=..." among its pairs), without
 * parsing it against a driver: lets an application add a key only where the
 * user did not give one.
 */
bool lab_devargs_gives(const char *devstr, const char *key);

/** Whether @p keys (ending with { NULL, NULL }) has one called @p key. */
bool lab_devargs_key_known(const struct lab_devargs_key *keys, const char *key);

/** Free what lab_devargs_parse() made. */
void lab_devargs_free(struct lab_devargs *a);

/** The value of @p key, or NULL when the string does not give it. */
const char *lab_devargs_get(const struct lab_devargs *a, const char *key);

/**
 * @p key as an unsigned integer in [@p min, @p max] (sizes like "64K" too);
 * @p def when absent.
 * @return 0, or -EINVAL with a message naming the key, the value and the range.
 */
int lab_devargs_u64(const struct lab_devargs *a, const char *key, uint64_t def, uint64_t min,
		    uint64_t max, uint64_t *out);

/**
 * @p key as one of @p choices (NULL-terminated); @p def (an index) when absent.
 * @return the index, or -EINVAL with a message naming the key, the value and the choices.
 */
int lab_devargs_choice(const struct lab_devargs *a, const char *key, const char *const *choices,
		       int def);

#ifdef __cplusplus
}
#endif

#endif /* LAB_DEVARGS_H */
