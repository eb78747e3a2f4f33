/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * Common definitions shared by every labyrinth component: error reporting for
 * constructors, and small helpers used in public inline code.
 */
#ifndef LAB_COMMON_H
#define LAB_COMMON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/** Cache line size assumed for layout decisions (x86-64, most arm64). */
#define LAB_CACHE_LINE 64

/** Round @p x up to a multiple of @p a (a power of two). */
#define LAB_ALIGN_UP(x, a) (((x) + ((a) - 1)) & ~((__typeof__(x))(a) - 1))

/** True when @p x is a non-zero power of two. */
#define LAB_IS_POW2(x) ((x) != 0 && (((x) & ((x) - 1)) == 0))

/** Branch hints, for the fast path only. */
#define lab_likely(x) __builtin_expect(!!(x), 1)
#define lab_unlikely(x) __builtin_expect(!!(x), 0)

/**
 * Add @p v to a counter with one writer (the thread that owns it: an owner
 * cache, a port queue) that other threads read for stats. A relaxed load and
 * a relaxed store, not an atomic add: no lock prefix (gcc -O2 on x86-64 emits
 * mov, add, mov where `+=` gives one add to memory: the same load, add and
 * store), but a defined race (no torn or invented values) that
 * ThreadSanitizer can see is intended. Readers use lab_counters_load().
 */
#define LAB_COUNT_ADD(c, v)                                                           \
	__atomic_store_n(&(c), __atomic_load_n(&(c), __ATOMIC_RELAXED) + (v),         \
			 __ATOMIC_RELAXED)

/** Copy @p n 64-bit counters (a stats struct of uint64_t fields) that their
 * owner thread may be adding to with LAB_COUNT_ADD(): a snapshot. */
static inline void lab_counters_load(uint64_t *dst, const uint64_t *src, unsigned int n)
{
	for (unsigned int i = 0; i < n; i++)
		dst[i] = __atomic_load_n(&src[i], __ATOMIC_RELAXED);
}

/**
 * Copy @p n pointers from @p src to @p dst (arrays of any pointer type, not
 * overlapping), 16 bytes at a time, inline and call-free: the owner cache and
 * the shared ring move pointers with it (rte_mempool and rte_ring copy with
 * unrolled or vector code for the same reason). One pointer is a single move.
 */
static inline void lab_ptr_copy(void *dst, const void *src, unsigned int n)
{
	typedef uintptr_t lab_p1 __attribute__((may_alias));
	typedef uintptr_t lab_p2 __attribute__((vector_size(2 * sizeof(uintptr_t)),
						aligned(sizeof(uintptr_t)), may_alias));
	lab_p1 *d = dst;
	const lab_p1 *s = src;
	unsigned int i = 0;

	if (n == 1) {
		d[0] = s[0];
		return;
	}
	for (; i + 2 <= n; i += 2)
		*(lab_p2 *)(void *)&d[i] = *(const lab_p2 *)(const void *)&s[i];
	if (i < n)
		d[i] = s[i];
}

#define LAB_KIB ((size_t)1 << 10)
#define LAB_MIB ((size_t)1 << 20)
#define LAB_GIB ((size_t)1 << 30)

/**
 * Error number of the last failed labyrinth constructor in this thread.
 *
 * Functions returning int report errors as a negative errno; constructors that
 * return a pointer return NULL and set this to a positive errno value.
 */
extern __thread int lab_errno;

/**
 * Text for a labyrinth error number (positive or negative errno).
 *
 * @return a static string; never NULL.
 */
const char *lab_strerror(int err);

/**
 * Parse a size with an optional binary suffix: "4096", "2K", "2M", "1G" (also
 * "2KB"/"2MiB" forms; the suffix case-insensitive). The one number parser of
 * configuration files, device strings, LABYRINTH_MEMPOOL and the apps'
 * options: decimal digits only (a leading zero is not octal), directly
 * followed by the suffix; no sign, no hexadecimal, no whitespace.
 *
 * @return 0 on success; -EINVAL if @p s is empty, not a decimal number or has
 *         anything else (an unknown suffix, a space); -ERANGE if it overflows
 *         64 bits.
 */
int lab_parse_size(const char *s, uint64_t *out);

/**
 * Parse a duration in seconds: decimal digits with an optional fraction,
 * "2", "0.5", "1.25". The seconds of every app option and config key read
 * this way, as lab_parse_size() reads counts: it starts with a digit, and a
 * '.' is followed by a digit; no sign, no whitespace, no exponent ("1e3"), no
 * hexadecimal ("0x1"), no "inf" or "nan" (all of which strtod() takes). The
 * point is '.' whatever the locale.
 *
 * @return 0 on success; -EINVAL if @p s is not of that form; -ERANGE if it is
 *         too large for a double.
 */
int lab_parse_secs(const char *s, double *out);

/**
 * A count given as a number or as a percent of a whole: a pool's watermarks
 * and reserve (percent of its size), as config files and pool options give them.
 */
struct lab_count {
	uint64_t value;
	bool percent;
};

/** Resolve a count against the pool size (percent rounded down). */
uint64_t lab_count_resolve(const struct lab_count *c, uint64_t pool_size);

/**
 * The names of an enum whose values run from 0 to n - 1, one per value: the
 * one table that the enum's parser, its name function and every message
 * listing the valid values read, so a name is spelled in one place.
 */
struct lab_names {
	const char *const *name; /**< name[v] is value v's */
	unsigned int n;          /**< values (entries of name) */
};

/** A struct lab_names initializer over a static array of names. */
#define LAB_NAMES(array) { (array), sizeof(array) / sizeof((array)[0]) }

/**
 * Look @p s up in @p t, ignoring case.
 *
 * @return the value (0..n-1), or -EINVAL if @p s is NULL or no name of @p t.
 */
int lab_names_parse(const struct lab_names *t, const char *s);

/** The name of value @p v in @p t, or @p unknown if @p v is out of range. */
const char *lab_names_get(const struct lab_names *t, unsigned int v, const char *unknown);

/**
 * Write every name of @p t into @p buf, in value order, each between two
 * @p quote, separated by ", " and the last two by @p last: with quote "" and
 * last ", " "off, sampled, full"; with quote "\"" and last " or "
 * "\"off\", \"sampled\" or \"full\"". For messages that list the valid values.
 *
 * @return @p buf, truncated to @p len bytes with its NUL.
 */
const char *lab_names_list(const struct lab_names *t, const char *quote, const char *last,
			   char *buf, size_t len);

/**
 * Nanoseconds on CLOCK_MONOTONIC, for intervals, rates and deadlines: the one
 * clock helper of the library, drivers and apps. clock_gettime() of that
 * clock is served by the vDSO: no system call, so the data path may call it.
 *
 * @return nanoseconds since an unspecified start (boot, on Linux).
 */
uint64_t lab_now_ns(void);

#ifdef __cplusplus
}
#endif

#endif /* LAB_COMMON_H */
