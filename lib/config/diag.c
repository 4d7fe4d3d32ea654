/* Diagnostics collector: formats each message as one line into the caller's
 * buffer. Messages never contain secret values: callers pass key names and
 * non-secret values only. */
#include <stdio.h>
#include <string.h>

#include "config/diag.h"

void nl__cfg_diag_init(nl__cfg_diag *d, const char *source, char *buf, size_t cap)
{
    memset(d, 0, sizeof *d);
    d->source = source ? source : "<string>";
    d->buf = cap ? buf : NULL;
    d->cap = d->buf ? cap : 0;
    if (d->buf)
        d->buf[0] = '\0';
}

/* Appends formatted text, keeping the buffer NUL-terminated; text that does
 * not fit is cut. */
static void append(nl__cfg_diag *d, const char *fmt, ...) NL_PRINTF(2, 3);

static void appendv(nl__cfg_diag *d, const char *fmt, va_list ap)
{
    if (!d->buf || d->len + 1 >= d->cap)
        return;
    int n = vsnprintf(d->buf + d->len, d->cap - d->len, fmt, ap);
    if (n < 0)
        return;
    d->len += (size_t)n;
    if (d->len >= d->cap)
        d->len = d->cap - 1;
}

static void append(nl__cfg_diag *d, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    appendv(d, fmt, ap);
    va_end(ap);
}

static void emit(nl__cfg_diag *d, const char *kind, int line, const char *key, const char *fmt,
                 va_list ap)
{
    if (d->written >= NL_CFG_DIAG_MAX_LINES) {
        d->dropped++;
        return;
    }
    d->written++;
    if (line > 0)
        append(d, "%s:%d: %s", d->source, line, kind);
    else
        append(d, "%s: %s", d->source, kind);
    /* Keys, paths and values quoted from the document may hold control
     * characters (YAML escapes such as "\n"); each message must stay one
     * printable line. */
    char msg[1024];
    vsnprintf(msg, sizeof msg, fmt, ap);
    for (char *p = msg; *p; p++)
        if ((unsigned char)*p < 0x20 || *p == 0x7f)
            *p = '?';
    if (key && *key)
        append(d, "%s: ", key);
    append(d, "%s\n", msg);
}

void nl__cfg_error(nl__cfg_diag *d, int line, const char *key, const char *fmt, ...)
{
    va_list ap;
    d->errors++;
    va_start(ap, fmt);
    emit(d, "", line, key, fmt, ap);
    va_end(ap);
}

void nl__cfg_warn(nl__cfg_diag *d, int line, const char *key, const char *fmt, ...)
{
    va_list ap;
    d->warnings++;
    va_start(ap, fmt);
    emit(d, "warning: ", line, key, fmt, ap);
    va_end(ap);
}

void nl__cfg_diag_finish(nl__cfg_diag *d)
{
    if (d->dropped)
        append(d, "%s: ... and %u more messages\n", d->source, d->dropped);
}
