/* Prometheus text format 0.0.4 writer and the table of neolink's metric
 * families. See metrics.h. */
#include <inttypes.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "neolink/error.h"
#include "server/metrics.h"

void nl_prom_init(nl_prom *p, nl_dbuf *out)
{
    memset(p, 0, sizeof(*p));
    p->out = out;
}

int nl_prom_finish(const nl_prom *p)
{
    return p->err;
}

static void put(nl_prom *p, const char *s, size_t n)
{
    if (p->err)
        return;
    int rc = nl_dbuf_append(p->out, s, n);
    if (rc < 0)
        p->err = rc;
}

static void puts_(nl_prom *p, const char *s)
{
    put(p, s, strlen(s));
}

/* Appends s, escaping backslash and newline, and the double quote too when
 * `quote` is set (label values; HELP text keeps its quotes). */
static int escape(nl_dbuf *out, const char *s, bool quote)
{
    const char *run = s;
    for (; *s; s++) {
        const char *rep = NULL;
        if (*s == '\\')
            rep = "\\\\";
        else if (*s == '\n')
            rep = "\\n";
        else if (*s == '"' && quote)
            rep = "\\\"";
        if (!rep)
            continue;
        int rc = nl_dbuf_append(out, run, (size_t)(s - run));
        if (rc == 0)
            rc = nl_dbuf_append(out, rep, 2);
        if (rc < 0)
            return rc;
        run = s + 1;
    }
    return nl_dbuf_append(out, run, (size_t)(s - run));
}

int nl_prom_escape_label(nl_dbuf *out, const char *s)
{
    return escape(out, s, true);
}

int nl_prom_valid_name(const char *name, int label)
{
    if (!name || !*name)
        return 0;
    if (label && name[0] == '_' && name[1] == '_')
        return 0; /* reserved for Prometheus itself */
    for (const char *c = name; *c; c++) {
        bool alpha = (*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') || *c == '_';
        bool digit = *c >= '0' && *c <= '9';
        bool colon = *c == ':' && !label;
        if (!alpha && !colon && !(digit && c != name))
            return 0;
    }
    return 1;
}

/* Keeps only what a Go ParseFloat reads: digits, sign, exponent, and a
 * single '.' in place of whatever the locale uses as the decimal point
 * (',' or a multi-byte sequence). */
static size_t normalize(char *s)
{
    size_t w = 0;
    bool in_point = false;
    for (size_t r = 0; s[r]; r++) {
        char c = s[r];
        if ((c >= '0' && c <= '9') || c == '-' || c == '+' || c == 'e' || c == 'E') {
            s[w++] = c;
            in_point = false;
        } else if (!in_point) {
            s[w++] = '.';
            in_point = true;
        }
    }
    s[w] = '\0';
    return w;
}

size_t nl_prom_format_double(char *buf, size_t n, double v)
{
    if (n == 0)
        return 0;
    const char *special = NULL;
    if (isnan(v))
        special = "NaN";
    else if (isinf(v))
        special = v > 0 ? "+Inf" : "-Inf";
    if (special) {
        int w = snprintf(buf, n, "%s", special);
        return w < 0 ? 0 : (size_t)w < n ? (size_t)w : n - 1;
    }
    /* The shortest of 15..17 significant digits that reads back as v: 0.1
     * stays "0.1", and no value is rounded to a different double. The
     * round trip runs in the current locale on both sides, so it holds
     * whatever the decimal point is; normalize() then makes it '.'. */
    char tmp[40];
    for (int prec = 15; prec <= 17; prec++) {
        snprintf(tmp, sizeof tmp, "%.*g", prec, v);
        if (prec == 17 || strtod(tmp, NULL) == v)
            break;
    }
    size_t len = normalize(tmp);
    if (len >= n)
        len = n - 1;
    memcpy(buf, tmp, len);
    buf[len] = '\0';
    return len;
}

static const char *type_name(nl_prom_type t)
{
    return t == NL_PROM_COUNTER ? "counter" : "gauge";
}

int nl_prom_begin_family(nl_prom *p, const nl_prom_family *fam)
{
    if (p->err)
        return p->err;
    if (p->cur == fam)
        return 0;
    for (size_t i = 0; i < p->ndone; i++) {
        if (p->done[i] == fam) {
            /* Its group already ended: writing more would split the family. */
            p->err = NL_ESTATE;
            return p->err;
        }
    }
    if (p->ndone >= NL_PROM_MAX_FAMILIES) {
        p->err = NL_ELIMIT;
        return p->err;
    }
    if (!nl_prom_valid_name(fam->name, 0)) {
        p->err = NL_EINVAL;
        return p->err;
    }
    puts_(p, "# HELP ");
    puts_(p, fam->name);
    put(p, " ", 1);
    if (!p->err) {
        int rc = escape(p->out, fam->help ? fam->help : "", false);
        if (rc < 0)
            p->err = rc;
    }
    puts_(p, "\n# TYPE ");
    puts_(p, fam->name);
    put(p, " ", 1);
    puts_(p, type_name(fam->type));
    put(p, "\n", 1);
    p->done[p->ndone++] = fam;
    p->cur = fam;
    return p->err;
}

/* name{l1="v1",...} -- the part of a sample line before the value. */
static void sample_head(nl_prom *p, const nl_prom_family *fam, const char *const *values)
{
    puts_(p, fam->name);
    if (!fam->labels[0])
        return;
    put(p, "{", 1);
    for (size_t i = 0; fam->labels[i] && !p->err; i++) {
        if (i)
            put(p, ",", 1);
        puts_(p, fam->labels[i]);
        put(p, "=\"", 2);
        if (!p->err) {
            int rc = nl_prom_escape_label(p->out, values[i] ? values[i] : "");
            if (rc < 0)
                p->err = rc;
        }
        put(p, "\"", 1);
    }
    put(p, "}", 1);
}

static int begin_sample(nl_prom *p, const nl_prom_family *fam, const char *const *values)
{
    if (nl_prom_begin_family(p, fam) < 0)
        return p->err;
    if (fam->labels[0] && !values) {
        p->err = NL_EINVAL;
        return p->err;
    }
    sample_head(p, fam, values);
    put(p, " ", 1);
    return p->err;
}

int nl_prom_sample(nl_prom *p, const nl_prom_family *fam, const char *const *label_values,
                   double value)
{
    if (begin_sample(p, fam, label_values) < 0)
        return p->err;
    char num[40];
    size_t n = nl_prom_format_double(num, sizeof num, value);
    put(p, num, n);
    put(p, "\n", 1);
    return p->err;
}

int nl_prom_counter(nl_prom *p, const nl_prom_family *fam, const char *const *label_values,
                    uint64_t value)
{
    if (begin_sample(p, fam, label_values) < 0)
        return p->err;
    char num[24];
    int n = snprintf(num, sizeof num, "%" PRIu64 "\n", value);
    put(p, num, (size_t)n);
    return p->err;
}

int nl_prom_gauge(nl_prom *p, const nl_prom_family *fam, const char *const *label_values,
                  double value)
{
    return nl_prom_sample(p, fam, label_values, value);
}

/* ---------------------------------------------------------------- families */

#define CAM_STREAM                                                                                 \
    {                                                                                              \
        "camera", "stream", NULL                                                                   \
    }

static const nl_prom_family families[NL_M__COUNT] = {
    [NL_M_CAMERA_STATE] = {"neolink_camera_state",
                           NL_PROM_GAUGE,
                           "Camera connection state: 0 stopped, 1 connecting, 2 connected, "
                           "3 streaming, 4 waiting to reconnect.",
                           {"camera", NULL}},
    [NL_M_CAMERA_RECONNECTS] = {"neolink_camera_reconnects_total",
                                NL_PROM_COUNTER,
                                "Connections to the camera after the first one.",
                                {"camera", NULL}},
    [NL_M_CAMERA_FRAMES] = {"neolink_camera_frames_total", NL_PROM_COUNTER,
                            "Media frames received from the camera.", CAM_STREAM},
    [NL_M_CAMERA_BYTES] = {"neolink_camera_bytes_total", NL_PROM_COUNTER,
                           "Media payload bytes received from the camera.", CAM_STREAM},
    [NL_M_CAMERA_LAST_FRAME_AGE] = {"neolink_camera_last_frame_age_seconds", NL_PROM_GAUGE,
                                    "Seconds since the stream's last frame arrived.", CAM_STREAM},
    [NL_M_VIEWERS] = {"neolink_viewers", NL_PROM_GAUGE,
                      "RTSP clients currently playing the stream.", CAM_STREAM},
    [NL_M_DROPPED_FRAMES] = {"neolink_dropped_frames_total", NL_PROM_COUNTER,
                             "Frames skipped for slow clients (dropped back to a keyframe).",
                             CAM_STREAM},
    [NL_M_QUEUE_PEAK_BYTES] = {"neolink_queue_peak_bytes", NL_PROM_GAUGE,
                               "Largest client queue of the stream, in bytes.", CAM_STREAM},
    [NL_M_ARENA_BYTES] = {"neolink_arena_bytes",
                          NL_PROM_GAUGE,
                          "Bytes held by the arena of a camera session or client.",
                          {"owner", NULL}},
    [NL_M_TEARDOWN_SECONDS] = {"neolink_teardown_seconds",
                               NL_PROM_GAUGE,
                               "Duration of session teardowns: the last one and the longest.",
                               {"stat", NULL}},
    [NL_M_WATCHDOG_HEARTBEAT_AGE] = {"neolink_watchdog_heartbeat_age_seconds",
                                     NL_PROM_GAUGE,
                                     "Seconds since the event loop's heartbeat last moved.",
                                     {NULL}},
    [NL_M_ABANDONED_WORKERS] = {"neolink_abandoned_workers_total",
                                NL_PROM_COUNTER,
                                "Worker threads that missed their stop deadline.",
                                {NULL}},
    [NL_M_CAMERA_STREAMS_ACTIVE] = {"neolink_camera_streams_active",
                                    NL_PROM_GAUGE,
                                    "Camera streams currently open.",
                                    {NULL}},
    [NL_M_RTSP_CLIENTS] = {"neolink_rtsp_clients",
                           NL_PROM_GAUGE,
                           "RTSP client connections currently open.",
                           {NULL}},
};

const nl_prom_family *nl_metric(nl_metric_id id)
{
    if ((unsigned)id >= NL_M__COUNT)
        return NULL;
    return &families[id];
}
