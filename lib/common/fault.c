/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Fault injection points (lab_fault.h). Each point is an atomic countdown of
 * passes still to fail (UINT32_MAX: until cleared) and a count of failures
 * injected. Only slow paths carry points: a pass costs one relaxed load.
 */
#include <errno.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include <labyrinth/lab_fault.h>
#include <labyrinth/lab_log.h>

LAB_LOG_REGISTER(fault, NOTICE)

static const char *const fault_names[LAB_FAULT_POINTS] = {
	[LAB_FAULT_ARENA_GROW] = "arena_grow",
	[LAB_FAULT_WARDEN_STALL] = "warden_stall",
	[LAB_FAULT_HUGEPAGE_MAP] = "hugepage_map",
	[LAB_FAULT_URING_SUBMIT] = "uring_submit",
	[LAB_FAULT_POOL_PUT_STALL] = "pool_put_stall",
};

const char *lab_fault_name(enum lab_fault_point p)
{
	return (unsigned int)p < LAB_FAULT_POINTS ? fault_names[p] : NULL;
}

#ifdef LAB_FAULT_INJECTION

static struct {
	_Atomic uint32_t armed;
	_Atomic uint64_t fired;
} faults[LAB_FAULT_POINTS];

bool lab_fault_available(void)
{
	return true;
}

bool lab_fault_hit(enum lab_fault_point p)
{
	uint32_t n = atomic_load_explicit(&faults[p].armed, memory_order_relaxed);

	while (n != 0) {
		if (n == LAB_FAULT_ALWAYS ||
		    atomic_compare_exchange_weak_explicit(&faults[p].armed, &n, n - 1,
							  memory_order_relaxed,
							  memory_order_relaxed)) {
			atomic_fetch_add_explicit(&faults[p].fired, 1, memory_order_relaxed);
			return true;
		}
	}
	return false;
}

int lab_fault_set(enum lab_fault_point p, uint32_t count)
{
	if ((unsigned int)p >= LAB_FAULT_POINTS)
		return -EINVAL;
	atomic_store_explicit(&faults[p].armed, count, memory_order_relaxed);
	return 0;
}

uint64_t lab_fault_fired(enum lab_fault_point p)
{
	if ((unsigned int)p >= LAB_FAULT_POINTS)
		return 0;
	return atomic_load_explicit(&faults[p].fired, memory_order_relaxed);
}

int lab_fault_parse(const char *spec)
{
	char *copy = strdup(spec), *save = NULL, *tok;
	int rc = 0;

	if (copy == NULL)
		return -ENOMEM;
	for (tok = strtok_r(copy, ", ", &save); tok != NULL && rc == 0;
	     tok = strtok_r(NULL, ", ", &save)) {
		char *eq = strchr(tok, '='), *end = NULL;
		unsigned long count = LAB_FAULT_ALWAYS;
		int p;

		if (eq != NULL) {
			*eq = '\0';
			errno = 0;
			count = strtoul(eq + 1, &end, 0);
			if (eq[1] == '\0' || eq[1] == '-' || *end != '\0' || errno != 0 ||
			    count == 0 || count > LAB_FAULT_ALWAYS) {
				LAB_LOG(ERR, fault, "fault '%s': count '%s' is not a number from 1 "
					"to %u", tok, eq + 1, LAB_FAULT_ALWAYS);
				rc = -EINVAL;
				break;
			}
		}
		for (p = 0; p < LAB_FAULT_POINTS; p++)
			if (strcmp(tok, fault_names[p]) == 0)
				break;
		if (p == LAB_FAULT_POINTS) {
			LAB_LOG(ERR, fault, "unknown fault point '%s' (points: arena_grow, "
				"warden_stall, hugepage_map, uring_submit)", tok);
			rc = -EINVAL;
			break;
		}
		lab_fault_set(p, (uint32_t)count);
		LAB_LOG(NOTICE, fault, "fault point '%s' armed for %s", tok,
			count == LAB_FAULT_ALWAYS ? "every pass" : eq + 1);
	}
	free(copy);
	return rc;
}

/* LAB_FAULT from the environment, before main(). Constructors run in no
 * promised order, so this one registers the log type itself (idempotent). */
__attribute__((constructor)) static void fault_from_env(void)
{
	const char *spec = getenv("LAB_FAULT");

	if (spec != NULL && spec[0] != '\0') {
		lab_logtype_fault = lab_log_register("fault", LAB_LOG_NOTICE);
		if (lab_fault_parse(spec) < 0)
			LAB_LOG(ERR, fault, "LAB_FAULT='%s' not applied", spec);
	}
}

#else /* !LAB_FAULT_INJECTION */

bool lab_fault_available(void)
{
	return false;
}

int lab_fault_set(enum lab_fault_point p, uint32_t count)
{
	(void)p;
	(void)count;
	return -ENOTSUP;
}

uint64_t lab_fault_fired(enum lab_fault_point p)
{
	(void)p;
	return 0;
}

int lab_fault_parse(const char *spec)
{
	LAB_LOG(ERR, fault, "fault injection '%s' asked for, but this build has none "
		"(meson setup -Dfault_injection=true)", spec);
	return -ENOTSUP;
}

#endif
