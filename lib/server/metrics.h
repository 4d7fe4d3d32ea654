/* Prometheus text exposition (format 0.0.4) builder, and the metric
 * families neolink exports (docs/internals/OBSERVABILITY.md lists them with
 * their meaning).
 *
 * A family is a static descriptor: name, type, help, label names. The
 * builder writes "# HELP" and "# TYPE" once, before the family's first
 * sample, and enforces the format's rule that a family's samples form one
 * group: a sample of a family whose group already ended is refused. Label
 * values are escaped (\ " and newline), values are formatted so they parse
 * back to the same double, independent of the process locale.
 *
 * Errors are sticky: the first failure (output cap reached, a sample of a
 * closed family, wrong label count) is kept in p->err and every later call
 * does nothing, so a /metrics handler can write everything and check once.
 * The output is an nl_dbuf, whose cap bounds it.
 *
 * Usage on the loop thread (the values are read from live objects):
 *   nl_prom p;
 *   nl_prom_init(&p, resp->body);
 *   nl_prom_gauge(&p, nl_metric(NL_M_RTSP_CLIENTS), NULL, 3);
 *   const char *lv[] = {"yard", "main"};
 *   nl_prom_counter(&p, nl_metric(NL_M_CAMERA_FRAMES), lv, frames);
 *   if (nl_prom_finish(&p) < 0) ...
 * Nothing here allocates beyond the output buffer or blocks; any thread may
 * use its own nl_prom. */
#ifndef NL_SERVER_METRICS_H
#define NL_SERVER_METRICS_H

#include <stddef.h>
#include <stdint.h>

#include "core/dbuf.h"

#define NL_PROM_CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"
#define NL_PROM_MAX_LABELS   4
/* Families one exposition may hold (the once-per-family check). */
#define NL_PROM_MAX_FAMILIES 64

typedef enum nl_prom_type {
    NL_PROM_COUNTER,
    NL_PROM_GAUGE,
} nl_prom_type;

typedef struct nl_prom_family {
    const char *name;
    nl_prom_type type;
    const char *help;
    const char *labels[NL_PROM_MAX_LABELS + 1]; /* label names, NULL-terminated */
} nl_prom_family;

typedef struct nl_prom {
    nl_dbuf *out;
    const nl_prom_family *cur; /* family of the open group (HELP/TYPE written) */
    const nl_prom_family *done[NL_PROM_MAX_FAMILIES]; /* families already written */
    size_t ndone;
    int err;
} nl_prom;

void nl_prom_init(nl_prom *p, nl_dbuf *out);

/* Writes HELP and TYPE of fam if its group is not open yet: for a family
 * that may have no samples (an exposition then still documents it). */
int nl_prom_begin_family(nl_prom *p, const nl_prom_family *fam);

/* One sample. label_values has as many entries as fam->labels (NULL when
 * the family has none); each value is escaped. */
int nl_prom_sample(nl_prom *p, const nl_prom_family *fam, const char *const *label_values,
                   double value);
/* Counters are integers: no precision lost above 2^53. */
int nl_prom_counter(nl_prom *p, const nl_prom_family *fam, const char *const *label_values,
                    uint64_t value);
int nl_prom_gauge(nl_prom *p, const nl_prom_family *fam, const char *const *label_values,
                  double value);

/* The first error of the exposition (0 when all was written). */
int nl_prom_finish(const nl_prom *p);

/* Formats v as Prometheus reads it ("NaN", "+Inf", "-Inf", or the shortest
 * decimal that parses back to v, '.' as the decimal point whatever the
 * locale). Returns the length written; n >= 32 always suffices. */
size_t nl_prom_format_double(char *buf, size_t n, double v);

/* Appends s with label-value escaping (\ -> \\, " -> \", newline -> \n). */
int nl_prom_escape_label(nl_dbuf *out, const char *s);

/* True when name is a valid metric name ([a-zA-Z_:][a-zA-Z0-9_:]*) or,
 * with label set, a valid label name ([a-zA-Z_][a-zA-Z0-9_]*, not "__"). */
int nl_prom_valid_name(const char *name, int label);

/* ---------------------------------------------------------------- families */

/* Values of neolink_camera_state. */
typedef enum nl_camera_state_metric {
    NL_CAMERA_STATE_STOPPED = 0,    /* not running (disabled, or shutting down) */
    NL_CAMERA_STATE_CONNECTING = 1, /* TCP connect or login in progress */
    NL_CAMERA_STATE_CONNECTED = 2,  /* logged in, no stream running */
    NL_CAMERA_STATE_STREAMING = 3,  /* at least one stream delivering frames */
    NL_CAMERA_STATE_BACKOFF = 4,    /* failed; waiting before the next attempt */
} nl_camera_state_metric;

typedef enum nl_metric_id {
    NL_M_CAMERA_STATE,           /* gauge   {camera} */
    NL_M_CAMERA_RECONNECTS,      /* counter {camera} */
    NL_M_CAMERA_FRAMES,          /* counter {camera,stream} */
    NL_M_CAMERA_BYTES,           /* counter {camera,stream} */
    NL_M_CAMERA_LAST_FRAME_AGE,  /* gauge   {camera,stream} seconds */
    NL_M_VIEWERS,                /* gauge   {camera,stream} */
    NL_M_DROPPED_FRAMES,         /* counter {camera,stream} */
    NL_M_QUEUE_PEAK_BYTES,       /* gauge   {camera,stream} */
    NL_M_ARENA_BYTES,            /* gauge   {owner} */
    NL_M_TEARDOWN_SECONDS,       /* gauge   {stat="last"|"max"} */
    NL_M_WATCHDOG_HEARTBEAT_AGE, /* gauge   seconds */
    NL_M_ABANDONED_WORKERS,      /* counter */
    NL_M_CAMERA_STREAMS_ACTIVE,  /* gauge */
    NL_M_RTSP_CLIENTS,           /* gauge */
    NL_M__COUNT
} nl_metric_id;

/* The descriptor of a product family; NULL for an id out of range. */
const nl_prom_family *nl_metric(nl_metric_id id);

#endif
