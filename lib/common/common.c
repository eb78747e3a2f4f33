/* SPDX-License-Identifier: BSD-3-Clause */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <labyrinth/lab_common.h>

__thread int lab_errno;

const char *lab_strerror(int err)
{
	return strerror(err < 0 ? -err : err);
}

static int suffix_shift(const char *s, unsigned int *shift)
{
	static const struct {
		const char *sfx;
		unsigned int shift;
	} sfx[] = {
		{ "", 0 },    { "b", 0 },    { "k", 10 },   { "kb", 10 },  { "kib", 10 },
		{ "m", 20 },  { "mb", 20 },  { "mib", 20 }, { "g", 30 },   { "gb", 30 },
		{ "gib", 30 }, { "t", 40 },  { "tb", 40 },  { "tib", 40 },
	};

	for (size_t i = 0; i < sizeof(sfx) / sizeof(sfx[0]); i++) {
		if (strcasecmp(s, sfx[i].sfx) == 0) {
			*shift = sfx[i].shift;
			return 0;
		}
	}
	return -EINVAL;
}

int lab_parse_size(const char *s, uint64_t *out)
{
	unsigned long long v;
	unsigned int shift;
	char *end;

	/* Decimal digits and a suffix, nothing else: every number a user gives
	 * (config, device strings, LABYRINTH_MEMPOOL, options) reads one way, so
	 * "0x10" and " 5" are refused rather than read as 16 and 5 here and not
	 * elsewhere. */
	if (s == NULL || !isdigit((unsigned char)*s))
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno == ERANGE)
		return -ERANGE;
	if (suffix_shift(end, &shift) < 0)
		return -EINVAL;
	if (shift && v > (UINT64_MAX >> shift))
		return -ERANGE;
	*out = (uint64_t)v << shift;
	return 0;
}

int lab_parse_secs(const char *s, double *out)
{
	double mant = 0, div = 1;
	const char *p = s;

	/* Checked by hand rather than by strtod(), which also takes " 1", "+1",
	 * "0x1", "1e3", "inf" and "nan", and reads the point from the locale. */
	if (s == NULL || !isdigit((unsigned char)*p))
		return -EINVAL;
	for (; isdigit((unsigned char)*p); p++)
		mant = mant * 10 + (*p - '0');
	if (*p == '.') {
		if (!isdigit((unsigned char)p[1]))
			return -EINVAL;
		for (p++; isdigit((unsigned char)*p); p++) {
			mant = mant * 10 + (*p - '0');
			div *= 10;
		}
	}
	if (*p != '\0')
		return -EINVAL;
	/* One division of two exact values (for up to 15 digits): 0.1 reads
	 * as the double nearest 0.1, as strtod() gives. */
	if (!isfinite(mant) || !isfinite(div))
		return -ERANGE;
	*out = mant / div;
	return 0;
}

uint64_t lab_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

int lab_names_parse(const struct lab_names *t, const char *s)
{
	for (unsigned int v = 0; s != NULL && v < t->n; v++)
		if (strcasecmp(s, t->name[v]) == 0)
			return (int)v;
	return -EINVAL;
}

const char *lab_names_get(const struct lab_names *t, unsigned int v, const char *unknown)
{
	return v < t->n ? t->name[v] : unknown;
}

const char *lab_names_list(const struct lab_names *t, const char *quote, const char *last,
			   char *buf, size_t len)
{
	size_t used = 0;

	if (len == 0)
		return buf;
	buf[0] = '\0';
	for (unsigned int v = 0; v < t->n && used < len; v++) {
		const char *sep = v == 0 ? "" : v + 1 == t->n ? last : ", ";
		int n = snprintf(buf + used, len - used, "%s%s%s%s", sep, quote, t->name[v], quote);

		if (n < 0)
			break;
		used += (size_t)n;
	}
	return buf;
}

uint64_t lab_count_resolve(const struct lab_count *c, uint64_t pool_size)
{
	return c->percent ? pool_size * c->value / 100 : c->value;
}
