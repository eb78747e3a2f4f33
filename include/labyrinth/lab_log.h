/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * Logging: one log type per component, levels settable at run time, to stderr.
 *
 * A component registers its type once with LAB_LOG_REGISTER() at file scope and
 * logs with LAB_LOG(LEVEL, component, fmt, ...). Nothing on a fast path logs:
 * fast paths count, and a slow path (the warden, a stats call) reports.
 */
#ifndef LAB_LOG_H
#define LAB_LOG_H

#include <stdio.h>

#ifdef __cplusplus
extern "C" {
#endif

/** Log levels, most severe first (as syslog and DPDK order them). */
enum lab_log_level {
	LAB_LOG_ERR = 1,
	LAB_LOG_WARNING = 2,
	LAB_LOG_NOTICE = 3,
	LAB_LOG_INFO = 4,
	LAB_LOG_DEBUG = 5,
};

/** Maximum number of log types in one process. */
#define LAB_LOG_MAX_TYPES 32

/** Current level of each registered log type; read inline (relaxed) by LAB_LOG(). */
extern int lab_log_levels[LAB_LOG_MAX_TYPES];

/**
 * Register a log type (normally through LAB_LOG_REGISTER()).
 *
 * Registering an existing name returns its id.
 *
 * @return the type id (>= 0); -ENOSPC when LAB_LOG_MAX_TYPES are in use;
 *         -EINVAL for an empty or too long name.
 */
int lab_log_register(const char *name, enum lab_log_level default_level);

/**
 * Set the level of one type by name, or of all types with "*".
 *
 * @return 0; -ENOENT if no type has that name.
 */
int lab_log_set_level(const char *name, enum lab_log_level level);

/**
 * Apply a level list such as "warning", "arena:debug" or "*:notice,pool:debug".
 * A bare level applies to every type. Stops at the first bad item.
 *
 * @return 0; -EINVAL for an unknown level; -ENOENT for an unknown type (the
 *         message printed names the item).
 */
int lab_log_set_levels(const char *spec);

/**
 * Parse a level name ("err", "error", "warning", "warn", "notice", "info",
 * "debug"), case-insensitive.
 *
 * @return the level, or -EINVAL.
 */
int lab_log_level_parse(const char *s);

/** Name of a level ("ERR", ...). */
const char *lab_log_level_name(enum lab_log_level level);

/** Name of log type @p id (0, 1, ... in registration order), or NULL past the last. */
const char *lab_log_type_name(unsigned int id);

/** Level of a type by name; -ENOENT if unknown. */
int lab_log_get_level(const char *name);

/** Send log output to @p stream (NULL restores stderr). Meant for tests and apps. */
void lab_log_set_stream(FILE *stream);

/** Emit a message; use LAB_LOG() instead, which checks the level first. */
void lab_log_emit(int level, int type, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/** Define the log type variable of component @p comp and register it at load time. */
#define LAB_LOG_REGISTER(comp, level)                                                 \
	int lab_logtype_##comp = -1;                                                  \
	__attribute__((constructor)) static void lab_log_register_##comp(void)        \
	{                                                                             \
		lab_logtype_##comp = lab_log_register(#comp, LAB_LOG_##level);       \
	}

/** Declare a log type defined elsewhere with LAB_LOG_REGISTER(). */
#define LAB_LOG_DECLARE(comp) extern int lab_logtype_##comp

/** Log @p fmt at LEVEL (ERR, WARNING, NOTICE, INFO, DEBUG) for component @p comp. */
#define LAB_LOG(level, comp, ...)                                                     \
	do {                                                                          \
		int lab_lt_ = lab_logtype_##comp;                                     \
		if (lab_lt_ >= 0 &&                                                   \
		    LAB_LOG_##level <= __atomic_load_n(&lab_log_levels[lab_lt_],         \
						       __ATOMIC_RELAXED))           \
			lab_log_emit(LAB_LOG_##level, lab_lt_, __VA_ARGS__);          \
	} while (0)

#ifdef __cplusplus
}
#endif

#endif /* LAB_LOG_H */
