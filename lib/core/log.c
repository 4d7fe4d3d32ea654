/* Internal logging: format one line on the stack, hand it to the context's
 * callback. Nothing is written to a stream (vsnprintf only formats), nothing
 * is allocated and there is no global state, so logging is safe on any
 * thread and cannot fail in a way the caller must handle. */
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

#include "core/context_int.h"
#include "core/log.h"

int nl__log_enabled(const nl_ctx *ctx, nl_log_level level)
{
    if (!ctx || !ctx->log_fn)
        return 0;
    /* The cast drops const only to read the atomic; nothing is written. */
    int cur = atomic_load_explicit(&((nl_ctx *)ctx)->level, memory_order_relaxed);
    return (int)level <= cur;
}

void nl__vlog(const nl_ctx *ctx, nl_log_level level, const char *who, const char *fmt, va_list ap)
{
    if (!nl__log_enabled(ctx, level))
        return;
    char line[NL_LOG_LINE_MAX];
    size_t len = 0;
    if (who && *who) {
        int w = snprintf(line, sizeof line, "[%s] ", who);
        len = w < 0 ? 0 : (size_t)w;
    }
    int m = 0;
    if (len < sizeof line - 1)
        m = vsnprintf(line + len, sizeof line - len, fmt, ap);
    size_t total = len + (m < 0 ? 0 : (size_t)m);
    if (total >= sizeof line) {
        /* Cut: mark it so a reader knows the line was longer. */
        memcpy(line + sizeof line - 4, "...", 4);
    } else {
        line[total] = '\0';
        /* Lines carry no trailing newline; drop one a caller added by habit. */
        while (total > 0 && (line[total - 1] == '\n' || line[total - 1] == '\r'))
            line[--total] = '\0';
    }
    ctx->log_fn(ctx->log_ud, level, line);
}

void nl__log(const nl_ctx *ctx, nl_log_level level, const char *who, const char *fmt, ...)
{
    if (!nl__log_enabled(ctx, level))
        return;
    va_list ap;
    va_start(ap, fmt);
    nl__vlog(ctx, level, who, fmt, ap);
    va_end(ap);
}

/* Appends s[0..n) to dst as far as it fits, keeping room for the NUL. */
static void put(char *dst, size_t cap, size_t *pos, const char *s, size_t n)
{
    if (*pos + 1 >= cap)
        return;
    size_t room = cap - 1 - *pos;
    if (n > room)
        n = room;
    memcpy(dst + *pos, s, n);
    *pos += n;
}

size_t nl_redact(char *dst, size_t n, const char *src, const char *const *secrets)
{
    if (!dst || n == 0)
        return 0;
    size_t pos = 0;
    if (!src) {
        dst[0] = '\0';
        return 0;
    }
    size_t i = 0;
    while (src[i]) {
        /* The longest secret matching here wins, so a secret that is the
         * prefix of another cannot leave the longer one's tail in the log. */
        size_t best = 0;
        for (const char *const *s = secrets; s && *s; s++) {
            size_t sl = strlen(*s);
            if (sl > best && strncmp(src + i, *s, sl) == 0)
                best = sl;
        }
        if (best) {
            put(dst, n, &pos, "***", 3);
            i += best;
        } else {
            put(dst, n, &pos, src + i, 1);
            i++;
        }
    }
    dst[pos] = '\0';
    return pos;
}

size_t nl_redact_url(char *dst, size_t n, const char *url)
{
    if (!dst || n == 0)
        return 0;
    if (!url) {
        dst[0] = '\0';
        return 0;
    }
    /* RFC 3986: the authority starts after "scheme://" and ends at the first
     * '/', '?' or '#'; userinfo is what precedes its last '@'. */
    const char *auth = strstr(url, "://");
    auth = auth ? auth + 3 : url;
    size_t alen = strcspn(auth, "/?#");
    const char *at = NULL;
    for (size_t k = 0; k < alen; k++) {
        if (auth[k] == '@')
            at = auth + k;
    }
    const char *colon = at ? memchr(auth, ':', (size_t)(at - auth)) : NULL;
    size_t pos = 0;
    if (!colon) {
        put(dst, n, &pos, url, strlen(url));
    } else {
        put(dst, n, &pos, url, (size_t)(colon + 1 - url));
        put(dst, n, &pos, "***", 3);
        put(dst, n, &pos, at, strlen(at));
    }
    dst[pos] = '\0';
    return pos;
}
