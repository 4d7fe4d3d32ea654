/**
 * @file common.h
 * Types and macros shared by every libneolink header: the export macro,
 * log levels and the log callback type.
 *
 * Thread-safety: everything here is plain data; nothing blocks.
 */
#ifndef NEOLINK_COMMON_H
#define NEOLINK_COMMON_H

#include <stddef.h>
#include <stdint.h>

#if defined(NL_BUILDING_LIBRARY) && defined(__GNUC__)
#define NL_EXPORT __attribute__((visibility("default")))
#else
#define NL_EXPORT
#endif

#if defined(__GNUC__)
#define NL_PRINTF(fmt_idx, args_idx) __attribute__((format(printf, fmt_idx, args_idx)))
#define NL_WARN_UNUSED __attribute__((warn_unused_result))
#else
#define NL_PRINTF(fmt_idx, args_idx)
#define NL_WARN_UNUSED
#endif

/**
 * Marks a declaration deprecated since a version, with advice:
 * NL_DEPRECATED(0.4, "use nl_x instead"). Deprecated API stays for at least
 * one minor release before removal (docs/API.md).
 */
#if defined(__GNUC__)
#define NL_DEPRECATED(since, msg) __attribute__((deprecated("since " #since ": " msg)))
#else
#define NL_DEPRECATED(since, msg)
#endif

#ifdef __cplusplus
extern "C" {
#endif

/** Log levels, most severe first. A context logs every line at or above its level. */
typedef enum nl_log_level {
    NL_LOG_ERROR = 0,
    NL_LOG_WARN = 1,
    NL_LOG_INFO = 2,
    NL_LOG_DEBUG = 3,
    NL_LOG_TRACE = 4,
} nl_log_level;

/**
 * Log sink installed per library context (never process-wide).
 *
 * @param ud     the pointer given with the callback
 * @param level  severity of the line
 * @param line   one complete line without a trailing newline, already prefixed
 *               with the object it is about (e.g. "[camera yard] login ok").
 *               Valid only for the duration of the call.
 *
 * Called on whichever thread produced the line (normally the loop thread,
 * occasionally a worker thread); it must not call back into the library.
 */
typedef void (*nl_log_fn)(void *ud, nl_log_level level, const char *line);

#ifdef __cplusplus
}
#endif
#endif
