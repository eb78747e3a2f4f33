/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Device strings: "driver:key=value,key=value", for every driver class
 * (ports, block devices). Every problem is reported with the string, the key,
 * the value and what is allowed.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <labyrinth/lab_common.h>
#include <labyrinth/lab_devargs.h>
#include <labyrinth/lab_log.h>

/* An error about device string @p a, in its class's log. */
#define DA_ERR(lt, ...)                                                               \
	do {                                                                          \
		int lt_ = (lt);                                                       \
		if (lt_ >= 0 && LAB_LOG_ERR <= lab_log_levels[lt_])                   \
			lab_log_emit(LAB_LOG_ERR, lt_, __VA_ARGS__);                  \
	} while (0)

static void keys_text(const struct lab_devargs_key *k, char *out, size_t len)
{
	size_t o = 0;

	out[0] = '\0';
	for (; k->name != NULL && o < len; k++)
		o += (size_t)snprintf(out + o, len - o, "%s%s (%s)", o ? ", " : "", k->name,
				      k->help);
	if (out[0] == '\0')
		snprintf(out, len, "none");
}

static int key_known(const struct lab_devargs_key *k, const char *key)
{
	for (; k->name != NULL; k++)
		if (strcmp(k->name, key) == 0)
			return 1;
	return 0;
}

static int add_pair(const char *devstr, const struct lab_devargs_key *keys, struct lab_devargs *a,
		    char *tok)
{
	char *eq = strchr(tok, '='), allowed[1024];

	if (eq == NULL || eq == tok) {
		DA_ERR(a->logtype, "device string '%s': '%s' is not KEY=VALUE", devstr, tok);
		return -EINVAL;
	}
	*eq = '\0';
	if (!key_known(keys, tok)) {
		keys_text(keys, allowed, sizeof(allowed));
		DA_ERR(a->logtype, "device string '%s': unknown key '%s' for driver '%s' "
			"(allowed: %s)", devstr, tok, a->driver, allowed);
		return -EINVAL;
	}
	if (eq[1] == '\0') {
		DA_ERR(a->logtype, "device string '%s': key '%s' has an empty value", devstr, tok);
		return -EINVAL;
	}
	if (lab_devargs_get(a, tok) != NULL) {
		DA_ERR(a->logtype, "device string '%s': key '%s' given twice", devstr, tok);
		return -EINVAL;
	}
	if (a->n == sizeof(a->kv) / sizeof(a->kv[0])) {
		DA_ERR(a->logtype, "device string '%s': more than %zu keys", devstr,
			sizeof(a->kv) / sizeof(a->kv[0]));
		return -EINVAL;
	}
	a->kv[a->n].key = tok;
	a->kv[a->n].value = eq + 1;
	a->n++;
	return 0;
}

int lab_devargs_parse(const char *devstr, const struct lab_devargs_class *cls,
		      struct lab_devargs *a, const void **drv)
{
	char names[256], *copy, *colon, *rest, *tok, *save = NULL;
	const struct lab_devargs_key *keys;
	int rc = 0;

	memset(a, 0, sizeof(*a));
	a->logtype = *cls->logtype;
	cls->names(names, sizeof(names));
	if (devstr == NULL || devstr[0] == '\0') {
		DA_ERR(a->logtype, "empty device string; expected DRIVER[:KEY=VALUE,...] with "
		       "DRIVER one of the %s drivers: %s", cls->what, names);
		return -EINVAL;
	}
	copy = strdup(devstr);
	if (copy == NULL)
		return -ENOMEM;
	colon = strchr(copy, ':');
	rest = colon != NULL ? colon + 1 : NULL;
	if (colon != NULL)
		*colon = '\0';
	keys = cls->find(copy, drv);
	if (keys == NULL) {
		/* ENXIO, not ENOENT: an app's strerror() line must not read "No
		 * such file or directory" for a driver name. */
		DA_ERR(a->logtype, "device string '%s': unknown driver '%s'; registered: %s",
		       devstr, copy, names);
		free(copy);
		return -ENXIO;
	}
	a->devstr = devstr;
	a->driver = copy; /* owns the copy: keys and values point into it */
	for (tok = rest != NULL ? strtok_r(rest, ",", &save) : NULL; tok != NULL && rc == 0;
	     tok = strtok_r(NULL, ",", &save))
		rc = add_pair(devstr, keys, a, tok);
	if (rc < 0)
		lab_devargs_free(a);
	return rc;
}

void lab_devargs_free(struct lab_devargs *a)
{
	free((char *)a->driver);
	memset(a, 0, sizeof(*a));
}

const char *lab_devargs_get(const struct lab_devargs *a, const char *key)
{
	for (unsigned int i = 0; i < a->n; i++)
		if (strcmp(a->kv[i].key, key) == 0)
			return a->kv[i].value;
	return NULL;
}

int lab_devargs_u64(const struct lab_devargs *a, const char *key, uint64_t def, uint64_t min,
		    uint64_t max, uint64_t *out)
{
	const char *v = lab_devargs_get(a, key);

	if (v == NULL) {
		*out = def;
		return 0;
	}
	if (lab_parse_size(v, out) < 0 || *out < min || *out > max) {
		DA_ERR(a->logtype, "device string '%s': key '%s' = '%s': expected a number from "
			"%llu to %llu", a->devstr, key, v, (unsigned long long)min,
			(unsigned long long)max);
		return -EINVAL;
	}
	return 0;
}

int lab_devargs_choice(const struct lab_devargs *a, const char *key, const char *const *choices,
		       int def)
{
	const char *v = lab_devargs_get(a, key);
	char allowed[256];
	size_t o = 0;

	if (v == NULL)
		return def;
	for (int i = 0; choices[i] != NULL; i++)
		if (strcmp(v, choices[i]) == 0)
			return i;
	allowed[0] = '\0';
	for (int i = 0; choices[i] != NULL && o < sizeof(allowed); i++)
		o += (size_t)snprintf(allowed + o, sizeof(allowed) - o, "%s%s", i ? ", " : "",
				      choices[i]);
	DA_ERR(a->logtype, "device string '%s': key '%s' = '%s': expected one of %s", a->devstr,
		key, v, allowed);
	return -EINVAL;
}
