/* Semantic checks and conversion of the raw libcyaml data (schema.h) into the
 * public nl_config, whose memory lives in one arena. Every message names the
 * key's path and its line, found through the line map of the structural
 * pass. */
#ifndef NL_CONFIG_VALIDATE_H
#define NL_CONFIG_VALIDATE_H

#include <stdint.h>

#include "config/diag.h"
#include "config/lines.h"
#include "config/schema.h"
#include "neolink/arena.h"
#include "neolink/config.h"

typedef struct nl__cfg_vctx {
    nl__cfg_diag *diag;
    const nl__cfg_lines *lines;
    nl_arena *out;        /* where the result's memory comes from */
    const char *base_dir; /* relative password files are relative to this; NULL = cwd */
    int world_readable;   /* the file is readable by other users (inline password warning) */
    int oom;              /* an allocation failed: the load fails with NL_ENOMEM */
} nl__cfg_vctx;

/* Reports an error about the key at `path` ("cameras[1].address"), on the
 * line of that key or, when it is absent, of its nearest parent. */
void nl__cfg_verr(nl__cfg_vctx *v, const char *path, const char *fmt, ...) NL_PRINTF(3, 4);

/* Same, as a warning. */
void nl__cfg_vwarn(nl__cfg_vctx *v, const char *path, const char *fmt, ...) NL_PRINTF(3, 4);

/* Copies s into the result arena (NULL stays NULL); sets v->oom on failure. */
const char *nl__cfg_dup(nl__cfg_vctx *v, const char *s);

/* Parses the duration at `path` (text NULL = keep *out) and checks
 * min <= value <= max. Returns 0 or -1 after reporting. */
int nl__cfg_duration(nl__cfg_vctx *v, const char *path, const char *text, int64_t min, int64_t max,
                     int64_t *out);

/* Checks an optional integer (NULL = keep *out) against [min, max]. */
int nl__cfg_range(nl__cfg_vctx *v, const char *path, const int64_t *val, int64_t min, int64_t max,
                  int64_t *out);

/* Converts cameras[idx] into *cam (starting from the camera defaults).
 * permitted_users are copied but checked against the users later. */
void nl__cfg_camera(nl__cfg_vctx *v, const nl__raw_camera *r, unsigned idx, nl_config_camera *cam);

/* Converts and checks the whole document (raw may be NULL for an empty one)
 * into *cfg, whose defaults the caller has already filled. */
void nl__cfg_validate(nl__cfg_vctx *v, const nl__raw_config *raw, unsigned flags, nl_config *cfg);

/* Fills every default of a whole configuration (no cameras, no users). */
void nl__cfg_defaults(nl_config *cfg);

#endif
