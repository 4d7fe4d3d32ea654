/**
 * @file context.h
 * The library context: where logs go and at which level. Two contexts are
 * fully independent, so two libneolink instances can share a process.
 *
 * The library installs no process-global handler (signals, av_log) unless the
 * host asks for it through an explicit call.
 */
#ifndef NEOLINK_CONTEXT_H
#define NEOLINK_CONTEXT_H

#include "neolink/common.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct nl_ctx nl_ctx;

/** Settings of a context; zero-initialise, then set what you need. */
typedef struct nl_ctx_config {
    nl_log_fn log_fn;      /**< NULL: logs are dropped */
    void *log_ud;          /**< passed to log_fn */
    nl_log_level log_level; /**< lines above this level are dropped (default ERROR=0) */
} nl_ctx_config;

/**
 * Creates a context. cfg may be NULL (no logging). Returns 0 or NL_ENOMEM.
 * Any thread; never blocks.
 */
NL_EXPORT int nl_ctx_create(nl_ctx **out, const nl_ctx_config *cfg);

/** Destroys a context and sets *ctx to NULL. Objects using it must be gone. */
NL_EXPORT void nl_ctx_destroy(nl_ctx **ctx);

/** Changes the level at run time. Any thread (the value is atomic). */
NL_EXPORT void nl_ctx_set_log_level(nl_ctx *ctx, nl_log_level level);

/** Parses "error", "warn", "info", "debug" or "trace"; returns the level or NL_EINVAL. */
NL_EXPORT int nl_log_level_parse(const char *name);

#ifdef __cplusplus
}
#endif
#endif
