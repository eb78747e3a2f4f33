/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * Run-time configuration: an INI file (read with libinih) whose every key can
 * be overridden on the command line as "section.key=value".
 *
 * @code
 * [pool]
 * size = 8192          ; buffers at start
 * max = 65536          ; buffers at most (the warden grows toward it)
 * cell_size = 2048     ; bytes per buffer, headroom included
 * headroom = 128
 * min = 5%             ; watermarks: a count or a percent of size
 * low = 10%
 * high = 25%
 * reserve = 2%         ; for atomic (RX refill) callers only
 * [arena]
 * page_size = 2M       ; 2M or 1G
 * iova = auto          ; auto | pa | va
 * hugepages = auto     ; auto (fall back to 4 KiB) | require | off
 * numa_node = -1
 * shared = 0           ; 1: memory a vhost-user peer can map (needs size = max)
 * [quality]
 * level = sampled      ; off | sampled | full
 * sample_rate = 1024   ; one buffer in N under sampled
 * quarantine = 4M      ; byte budget of the quarantine FIFO
 * leak_age_ms = 0      ; report buffers in flight longer than this (0: never)
 * policy = report      ; report | retire | abort
 * [log]
 * default = notice     ; every log type
 * arena = info         ; one key per log type
 * @endcode
 */
#ifndef LAB_CONFIG_H
#define LAB_CONFIG_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include <labyrinth/lab_arena.h>
#include <labyrinth/lab_pool.h>
#include <labyrinth/lab_quality.h>

#ifdef __cplusplus
extern "C" {
#endif

/** Length of the accumulated [log] level list. */
#define LAB_CONFIG_LOG_LEN 256

/** Everything a config file can say. Grows only at the end. */
struct lab_config {
	size_t size; /**< sizeof(struct lab_config) */
	char name[32];
	uint64_t pool_size;
	uint64_t pool_max;
	uint64_t cell_size;
	uint64_t headroom;
	struct lab_count wm_min, wm_low, wm_high, reserve;
	uint64_t page_size;
	enum lab_iova_mode iova_mode;
	enum lab_hugepages hugepages;
	int numa_node;
	enum lab_quality quality;
	uint64_t sample_rate;
	char log_levels[LAB_CONFIG_LOG_LEN]; /**< "type:level,..." in file order */
	uint64_t quarantine_bytes;           /**< [quality] quarantine: byte budget */
	uint64_t leak_age_ms;                /**< [quality] leak_age_ms: 0 = no leak reports */
	enum lab_quality_policy policy;      /**< [quality] policy */
	uint64_t shared;                     /**< [arena] shared: 1 = another process may
					      *   map the pool's memory (lab_pool_opts.shared) */
};

/**
 * Fill @p cfg with the built-in defaults (the values of config/labyrinth.conf):
 * those of lab_pool_opts_init(), which owns them.
 */
void lab_config_defaults(struct lab_config *cfg);

/**
 * Pool options from a config: the config's keys mapped onto lab_pool_opts
 * (lib/config knows lib/pool; lib/pool does not know lib/config). Fields no key
 * sets keep lab_pool_opts_init()'s values. @p o->name points into @p cfg,
 * which must outlive lab_pool_create().
 */
void lab_pool_opts_from_config(struct lab_pool_opts *o, const struct lab_config *cfg);

/**
 * Read @p path over @p cfg. Unknown sections and keys are errors.
 *
 * @return 0; -ENOENT/-EACCES if the file cannot be opened; -EISDIR for a
 *         directory, -EINVAL for anything else that is not a regular file (a
 *         FIFO, a device); -EINVAL on the first bad line, a key given twice
 *         in the file, a NUL byte or a line too long (the message, also in lab_config_error(), reads
 *         "FILE:LINE: key 'section.key': problem"); -EIO on a read error.
 */
int lab_config_load(struct lab_config *cfg, const char *path);

/**
 * Open a config file for reading, refusing anything that is not a regular
 * file before reading a byte: the open does not block on a FIFO, and a
 * directory or a device such as /dev/zero is never read.
 *
 * @return the stream, or NULL with lab_errno set: the open's errno (ENOENT,
 *         EACCES, ...), EISDIR for a directory, EINVAL for another kind of
 *         file. The message, naming @p path and the problem, is in
 *         lab_config_error().
 */
FILE *lab_config_fopen(const char *path);

/**
 * Read one line of a config file into @p buf (with its newline, if it fits).
 *
 * @param path, line  for the message only: the file's name and this line's number
 * @return the line's length; 0 at the end of the file; -EINVAL for a NUL byte
 *         or a line of @p size characters or more; -EIO on a read error. The
 *         message ("FILE:LINE: problem") is in lab_config_error().
 */
int lab_config_read_line(FILE *f, const char *path, int line, char *buf, size_t size);

/** One key a config file gave, and where. */
struct lab_config_seen_key {
	char name[96]; /**< "section.key" */
	int line;
};

/**
 * The keys one config file has given so far: a key given twice in one file is
 * an error (as in a device string or LABYRINTH_MEMPOOL), not "the last one
 * wins". Zero it before the file, lab_config_seen_free() after it. A later
 * source (the command line) still overrides the file.
 */
struct lab_config_seen {
	struct lab_config_seen_key *keys;
	size_t n, cap;
};

/**
 * Note that line @p line of @p path gives @p section.@p key.
 *
 * @return 0; -EEXIST if an earlier line of the file gave it (the message,
 *         "FILE:LINE: key 'section.key' given twice (first on line N): give
 *         each key once", is in lab_config_error()); -ENOMEM.
 */
int lab_config_seen_add(struct lab_config_seen *s, const char *path, int line,
			const char *section, const char *key);

/** The line that gave @p section.@p key, or 0 if none did. */
int lab_config_seen_line(const struct lab_config_seen *s, const char *section, const char *key);

/** Free what lab_config_seen_add() kept. */
void lab_config_seen_free(struct lab_config_seen *s);

/**
 * Set one key, "section.key", from text, as a command-line override.
 *
 * @return 0; -ENOENT for an unknown key; -EINVAL for a bad value (message in
 *         lab_config_error()).
 */
int lab_config_set(struct lab_config *cfg, const char *key, const char *value);

/** Parse "section.key=value" and apply it with lab_config_set(). */
int lab_config_set_arg(struct lab_config *cfg, const char *arg);

/**
 * Check the values against each other: headroom < cell_size, min <= low <= high
 * <= size, reserve <= size, size <= max.
 *
 * @return 0 or -EINVAL (message in lab_config_error(), naming the values).
 */
int lab_config_validate(const struct lab_config *cfg);

/** Apply the [log] levels to the running process. @return 0 or -errno. */
int lab_config_apply_logs(const struct lab_config *cfg);

/** Write @p cfg as an INI file that lab_config_load() reads back. */
void lab_config_dump(const struct lab_config *cfg, FILE *f);

/** The message of this thread's last config error ("" if none). */
const char *lab_config_error(void);

#ifdef __cplusplus
}
#endif

#endif /* LAB_CONFIG_H */
