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
#include <labyrinth/lab_driver.h>
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

bool lab_devargs_key_known(const struct lab_devargs_key *k, const char *key)
{
	for (; k->name != NULL; k++)
		if (strcmp(k->name, key) == 0)
			return true;
	return false;
}

int lab_devargs_driver_name(const char *devstr, char *out, size_t len)
{
	size_t n = strcspn(devstr, ":");

	if (n >= len)
		return -ENAMETOOLONG;
	memcpy(out, devstr, n);
	out[n] = '\0';
	return 0;
}

bool lab_devargs_gives(const char *devstr, const char *key)
{
	size_t n = strlen(key);

	/* Each pair starts after the ':' or a ','; the same split as parsing. */
	for (const char *s = strchr(devstr, ':'); s != NULL; s = strchr(s + 1, ','))
		if (strncmp(s + 1, key, n) == 0 && s[1 + n] == '=')
			return true;
	return false;
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
	if (!lab_devargs_key_known(keys, tok)) {
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

int lab_devargs_parse(const char *devstr, const struct lab_driver_registry *reg,
		      struct lab_devargs *a, const struct lab_driver **drv)
{
	char names[256], *copy, *colon, *rest, *tok, *save = NULL;
	int rc;

	memset(a, 0, sizeof(*a));
	a->logtype = *reg->logtype;
	if (devstr == NULL || devstr[0] == '\0') {
		lab_driver_names(reg, names, sizeof(names));
		DA_ERR(a->logtype, "empty device string; expected DRIVER[:KEY=VALUE,...] with "
		       "DRIVER one of the %s drivers: %s", reg->what, names);
		return -EINVAL;
	}
	copy = strdup(devstr);
	if (copy == NULL)
		return -ENOMEM;
	colon = strchr(copy, ':');
	rest = colon != NULL ? colon + 1 : NULL;
	if (colon != NULL)
		*colon = '\0';
	rc = lab_driver_lookup(reg, copy, devstr, drv);
	if (rc < 0) {
		free(copy);
		return rc;
	}
	a->devstr = devstr;
	a->driver = copy; /* owns the copy: keys and values point into it */
	for (tok = rest != NULL ? strtok_r(rest, ",", &save) : NULL; tok != NULL && rc == 0;
	     tok = strtok_r(NULL, ",", &save))
		rc = add_pair(devstr, (*drv)->keys, a, tok);
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
