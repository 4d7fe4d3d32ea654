/* Diagnostics of one configuration load: every error and warning becomes one
 * line "SOURCE:LINE: KEY: message" (or "SOURCE:LINE: warning: KEY: message")
 * appended to the caller's buffer. The count is capped so a hostile file
 * cannot make the report itself unbounded. */
#ifndef NL_CONFIG_DIAG_H
#define NL_CONFIG_DIAG_H

#include <stdarg.h>
#include <stddef.h>

#include "neolink/common.h"

/* Lines written at most; later ones are only counted. */
#define NL_CFG_DIAG_MAX_LINES 50

typedef struct nl__cfg_diag {
    const char *source; /* file name as the user gave it */
    char *buf;          /* caller's buffer, may be NULL */
    size_t cap, len;
    unsigned errors, warnings;
    unsigned written, dropped;
} nl__cfg_diag;

/* Empties buf (when cap > 0) and resets the counters. */
void nl__cfg_diag_init(nl__cfg_diag *d, const char *source, char *buf, size_t cap);

/* Reports an error. line 0 leaves the line out; key NULL leaves the key out. */
void nl__cfg_error(nl__cfg_diag *d, int line, const char *key, const char *fmt, ...)
    NL_PRINTF(4, 5);

/* Reports a warning (does not make the load fail). */
void nl__cfg_warn(nl__cfg_diag *d, int line, const char *key, const char *fmt, ...) NL_PRINTF(4, 5);

/* Appends "SOURCE: ... and N more" when lines were dropped. Call once at the end. */
void nl__cfg_diag_finish(nl__cfg_diag *d);

#endif
