/* SPDX-License-Identifier: BSD-3-Clause */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

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
