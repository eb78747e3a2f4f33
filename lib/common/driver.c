/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The driver registry of every driver class (lab_driver.h): a small array per
 * class, filled by constructors at load time and only read afterwards, so a
 * linear search by name is all a lookup needs (a class has a handful).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <labyrinth/lab_driver.h>
#include <labyrinth/lab_log.h>

/* An error in the class's log (the class's own LAB_LOG variable is not in
 * scope here, only its value). */
#define REG_ERR(r, ...)                                                               \
	do {                                                                          \
		int lt_ = *(r)->logtype;                                              \
		if (lt_ >= 0 && LAB_LOG_ERR <= lab_log_levels[lt_])                   \
			lab_log_emit(LAB_LOG_ERR, lt_, __VA_ARGS__);                  \
	} while (0)

int lab_driver_register(struct lab_driver_registry *r, const char *name,
			const struct lab_devargs_key *keys, const void *ops)
{
	const char *miss = NULL;

	if (ops == NULL) {
		REG_ERR(r, "%s driver '%s' not registered: no ops table", r->what,
			name != NULL ? name : "?");
		return -EINVAL;
	}
	if (name == NULL || name[0] == '\0')
		miss = "name";
	else if (keys == NULL)
		miss = "keys";
	else if (r->missing != NULL)
		miss = r->missing(ops);
	if (miss != NULL) {
		REG_ERR(r, "%s driver '%s' not registered: its ops table has no %s", r->what,
			name != NULL ? name : "?", miss);
		return -EINVAL;
	}
	if (lab_driver_find(r, name) != NULL) {
		REG_ERR(r, "%s driver '%s' not registered: the name is taken", r->what, name);
		return -EEXIST;
	}
	if (r->n == r->max) {
		REG_ERR(r, "%s driver '%s' not registered: %u drivers already", r->what, name,
			r->max);
		return -ENOSPC;
	}
	r->drivers[r->n++] = (struct lab_driver){ .name = name, .keys = keys, .ops = ops };
	return 0;
}

const struct lab_driver *lab_driver_find(const struct lab_driver_registry *r, const char *name)
{
	for (unsigned int i = 0; i < r->n; i++)
		if (strcmp(r->drivers[i].name, name) == 0)
			return &r->drivers[i];
	return NULL;
}

int lab_driver_lookup(const struct lab_driver_registry *r, const char *name, const char *devstr,
		      const struct lab_driver **out)
{
	char names[256];

	*out = lab_driver_find(r, name);
	if (*out != NULL)
		return 0;
	lab_driver_names(r, names, sizeof(names));
	if (devstr != NULL)
		REG_ERR(r, "device string '%s': unknown driver '%s'; registered: %s", devstr,
			name, names);
	else
		REG_ERR(r, "unknown %s driver '%s'; registered: %s", r->what, name, names);
	return -ENXIO;
}

void lab_driver_names(const struct lab_driver_registry *r, char *out, size_t len)
{
	size_t o = 0;

	out[0] = '\0';
	for (unsigned int i = 0; i < r->n && o < len; i++)
		o += (size_t)snprintf(out + o, len - o, "%s%s", i ? ", " : "", r->drivers[i].name);
}
