/* Internal logging. Lines go to the owning context's callback, never to
 * stdio. Each line names its object: callers pass a short "who" such as
 * "camera yard" or "rtsp client 7", and the line reads "[who] message". */
#ifndef NL_CORE_LOG_H
#define NL_CORE_LOG_H

#include <stdarg.h>
#include <stddef.h>

#include "neolink/common.h"
#include "neolink/context.h"

/* Longest line delivered; longer ones are cut and end in "...". */
#define NL_LOG_LINE_MAX 1024

void nl__log(const nl_ctx *ctx, nl_log_level level, const char *who, const char *fmt, ...)
    NL_PRINTF(4, 5);
void nl__vlog(const nl_ctx *ctx, nl_log_level level, const char *who, const char *fmt,
              va_list ap);
/* True when a line at `level` would be delivered (skip expensive formatting). */
int nl__log_enabled(const nl_ctx *ctx, nl_log_level level);

#define NL_LOGE(ctx, who, ...) nl__log((ctx), NL_LOG_ERROR, (who), __VA_ARGS__)
#define NL_LOGW(ctx, who, ...) nl__log((ctx), NL_LOG_WARN, (who), __VA_ARGS__)
#define NL_LOGI(ctx, who, ...) nl__log((ctx), NL_LOG_INFO, (who), __VA_ARGS__)
#define NL_LOGD(ctx, who, ...) nl__log((ctx), NL_LOG_DEBUG, (who), __VA_ARGS__)
#define NL_LOGT(ctx, who, ...) nl__log((ctx), NL_LOG_TRACE, (who), __VA_ARGS__)

/* Copies src into dst (size n, always terminated) with every occurrence of
 * each non-empty secret replaced by "***". secrets is NULL-terminated.
 * Returns the length written. Used before any text that might carry a
 * password (URLs, XML bodies, config echoes) reaches a log line. */
size_t nl_redact(char *dst, size_t n, const char *src, const char *const *secrets);

/* Replaces the password in a URL's userinfo ("rtsp://u:p@h/") by "***". */
size_t nl_redact_url(char *dst, size_t n, const char *url);

#endif
