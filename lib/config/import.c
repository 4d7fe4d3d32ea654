/* neolink TOML -> libneolink YAML; see import.h and
 * docs/migrating-from-neolink.md for what each key becomes.
 *
 * The TOML tree is walked key by key, so every key of the input is either
 * taken (under its name or one of neolink's serde aliases) or named in a
 * warning with its line: nothing is dropped silently. The YAML is written
 * in our own key order; every string is double-quoted with escapes, so no
 * value (a password with '#' or ': ', a name like "no") can change meaning. */
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "config/import.h"
#include "config/toml.h"
#include "core/alloc.h"
#include "neolink/arena.h"
#include "neolink/config.h"
#include "neolink/config_import.h"
#include "neolink/error.h"

/* The TOML tree of a 1 MiB file stays well below this (see toml.h caps). */
#define SCRATCH_CAP ((size_t)32 << 20)
#define PATH_CAP    320

/* A warning held back until the end, so the report reads in line order
 * although keys are handled in our order, not the file's. Only as many are
 * kept as the report shows (the earliest by line); the rest are counted, so
 * a file of 60000 unknown keys costs no more memory than one of 60. */
#define NOTES_KEPT NL_CFG_DIAG_MAX_LINES
#define MSG_CAP    512

typedef struct note {
    int line;
    unsigned seq;
    char path[PATH_CAP];
    char msg[MSG_CAP];
} note;

typedef struct importer {
    nl__cfg_diag *diag;
    note *notes;      /* NOTES_KEPT slots */
    size_t kept;      /* slots in use */
    unsigned seq;     /* warnings made so far */
    unsigned dropped; /* warnings past what the report shows */
    nl_dbuf *out;
    nl_arena *a;
    int rc; /* first output failure */
    int cameras_started;
    const char *names[NL_CONFIG_MAX_CAMERAS]; /* camera names written so far */
    size_t name_count;
} importer;

/* ------------------------------------------------------------ output */

static void put(importer *im, const char *s, size_t n)
{
    if (im->rc)
        return;
    int rc = nl_dbuf_append(im->out, s, n);
    if (rc < 0)
        im->rc = rc;
}

/* A string literal, without its NUL. */
#define PUTS(im, lit) put((im), (lit), sizeof(lit) - 1)

static void putf(importer *im, const char *fmt, ...) NL_PRINTF(2, 3);

static void putf(importer *im, const char *fmt, ...)
{
    char buf[256];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    if (n > 0)
        put(im, buf, (size_t)n < sizeof buf ? (size_t)n : sizeof buf - 1);
}

/* Next code point of valid UTF-8 (the TOML reader checked it); *len gets
 * its byte count. */
static unsigned next_cp(const unsigned char *s, size_t *len)
{
    if (s[0] < 0x80) {
        *len = 1;
        return s[0];
    }
    size_t n = s[0] >= 0xf0 ? 4 : s[0] >= 0xe0 ? 3 : 2;
    unsigned cp = s[0] & (0x7f >> n);
    for (size_t i = 1; i < n; i++)
        cp = (cp << 6) | (s[i] & 0x3f);
    *len = n;
    return cp;
}

/* A YAML double-quoted scalar. Control characters, and the code points
 * YAML treats as line breaks or refuses in a document, become escapes;
 * everything else is copied as is. */
static void put_quoted(importer *im, const char *str)
{
    const unsigned char *s = (const unsigned char *)str;
    PUTS(im, "\"");
    size_t run = 0; /* bytes to copy verbatim, ending at s */
    while (*s) {
        size_t n;
        unsigned cp = next_cp(s, &n);
        const char *esc = NULL;
        char buf[12];
        if (cp == '"')
            esc = "\\\"";
        else if (cp == '\\')
            esc = "\\\\";
        else if (cp < 0x20 || (cp >= 0x7f && cp <= 0x9f))
            esc = (snprintf(buf, sizeof buf, "\\x%02x", cp), buf);
        else if (cp == 0x2028 || cp == 0x2029 || cp == 0xfeff || cp == 0xfffe || cp == 0xffff)
            esc = (snprintf(buf, sizeof buf, "\\u%04x", cp), buf);
        if (esc) {
            put(im, (const char *)s - run, run);
            put(im, esc, strlen(esc));
            run = 0;
        } else {
            run += n;
        }
        s += n;
    }
    put(im, (const char *)s - run, run);
    PUTS(im, "\"");
}

/* Length of the valid UTF-8 character at p, or 0 (the source name is the
 * caller's text and may be anything). */
static size_t utf8_char(const unsigned char *p)
{
    if (p[0] < 0x80)
        return 1;
    size_t n = p[0] >= 0xf0 ? 4 : p[0] >= 0xe0 ? 3 : p[0] >= 0xc2 ? 2 : 0;
    if (!n || p[0] > 0xf4)
        return 0;
    unsigned cp = p[0] & (0x7f >> n);
    for (size_t i = 1; i < n; i++) {
        if ((p[i] & 0xc0) != 0x80)
            return 0;
        cp = (cp << 6) | (p[i] & 0x3f);
    }
    if ((n == 3 && cp < 0x800) || (n == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
        (cp >= 0xd800 && cp <= 0xdfff))
        return 0;
    return n;
}

/* Text for a YAML comment: at most max bytes, cut only between characters.
 * Anything YAML could read as a line break (NEL, U+2028, U+2029, CR, LF) or
 * refuses in a document becomes '?': a camera name must never end the
 * comment and turn the rest of itself into settings. */
static void put_comment_text(importer *im, const char *s, size_t max)
{
    char buf[256];
    size_t o = 0;
    const unsigned char *p = (const unsigned char *)s;
    if (max > sizeof buf)
        max = sizeof buf;
    while (*p) {
        size_t n = utf8_char(p), len;
        unsigned cp = n ? next_cp(p, &len) : 0;
        int bad = !n || cp < 0x20 || (cp >= 0x7f && cp <= 0x9f) || cp == 0x2028 || cp == 0x2029 ||
                  cp == 0xfeff || cp == 0xfffe || cp == 0xffff;
        if (o + (bad ? 1 : n) > max)
            break;
        if (bad) {
            buf[o++] = '?';
            p += n ? n : 1;
        } else {
            memcpy(buf + o, p, n);
            o += n;
            p += n;
        }
    }
    put(im, buf, o);
}

/* ------------------------------------------------------------ messages */

/* "prefix.key" (or "key" at the top), cut to PATH_CAP: it only names a key
 * in a message. */
static const char *join(char *buf, const char *prefix, const char *key)
{
    size_t o = 0;
    for (const char *parts[3] = {prefix, *prefix ? "." : "", key}, **p = parts; p < parts + 3; p++)
        for (const char *s = *p; *s && o + 1 < PATH_CAP; s++)
            buf[o++] = *s;
    buf[o] = '\0';
    return buf;
}

/* Line order; warnings without a line last; ties in the order made. */
static int note_cmp(const void *pa, const void *pb)
{
    const note *a = pa, *b = pb;
    long la = a->line > 0 ? a->line : (long)INT_MAX + 1;
    long lb = b->line > 0 ? b->line : (long)INT_MAX + 1;
    if (la != lb)
        return la < lb ? -1 : 1;
    return a->seq < b->seq ? -1 : a->seq > b->seq;
}

static void warn(importer *im, int line, const char *path, const char *fmt, ...) NL_PRINTF(4, 5);

static void warn(importer *im, int line, const char *path, const char *fmt, ...)
{
    char msg[MSG_CAP];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    /* Keys may be quoted TOML keys holding any character; the report keeps
     * one printable line per message (the diag cleans only the message). */
    char key[PATH_CAP];
    size_t k = 0;
    for (; path[k] && k + 1 < sizeof key; k++)
        key[k] = ((unsigned char)path[k] < 0x20 || path[k] == 0x7f) ? '?' : path[k];
    key[k] = '\0';
    note n = {.line = line, .seq = im->seq++};
    note *slot = NULL;
    if (im->kept < NOTES_KEPT) {
        slot = &im->notes[im->kept++];
    } else {
        /* Full: the new warning replaces the last one in order if it comes
         * before it; either way one of the two is only counted. O(kept). */
        size_t last = 0;
        for (size_t i = 1; i < im->kept; i++)
            if (note_cmp(&im->notes[last], &im->notes[i]) < 0)
                last = i;
        im->dropped++;
        if (note_cmp(&n, &im->notes[last]) < 0)
            slot = &im->notes[last];
    }
    if (!slot)
        return;
    *slot = n;
    memcpy(slot->path, key, k + 1);
    snprintf(slot->msg, sizeof slot->msg, "%s", msg);
}

static void flush_notes(importer *im)
{
    qsort(im->notes, im->kept, sizeof *im->notes, note_cmp);
    for (size_t i = 0; i < im->kept; i++)
        nl__cfg_warn(im->diag, im->notes[i].line, im->notes[i].path, "%s", im->notes[i].msg);
    /* The report is full by now, so these only add to its "and N more". */
    for (unsigned i = 0; i < im->dropped; i++)
        nl__cfg_warn(im->diag, 0, NULL, "%s", "");
}

static const char *a_type(const nl__toml_value *v)
{
    switch (v->type) {
    case NL_TOML_ARRAY:
        return "an array";
    case NL_TOML_INT:
        return "an integer";
    default:
        return v->type == NL_TOML_TABLE    ? "a table"
               : v->type == NL_TOML_STRING ? "a string"
               : v->type == NL_TOML_FLOAT  ? "a float"
                                           : "a boolean";
    }
}

/* v (which may be NULL) if it has the wanted type, else NULL after a warning. */
static const nl__toml_value *want(importer *im, const nl__toml_value *v, const char *prefix,
                                  nl__toml_type type)
{
    if (!v || v->type == type)
        return v;
    char path[PATH_CAP];
    const char *name = type == NL_TOML_STRING  ? "a string"
                       : type == NL_TOML_INT   ? "an integer"
                       : type == NL_TOML_BOOL  ? "true or false"
                       : type == NL_TOML_TABLE ? "a table"
                                               : "an array";
    warn(im, v->line, join(path, prefix, v->key), "expected %s, got %s; ignored", name, a_type(v));
    return NULL;
}

/* Keeps the first of a key and its aliases. */
static void take(importer *im, const nl__toml_value **slot, const nl__toml_value *v,
                 const char *prefix)
{
    if (!*slot) {
        *slot = v;
        return;
    }
    char path[PATH_CAP];
    warn(im, v->line, join(path, prefix, v->key),
         "the same setting as '%s' on line %d (a neolink alias); ignored", (*slot)->key,
         (*slot)->line);
}

/* ------------------------------------------------------------ unsupported keys */

typedef struct unsupported {
    const char *key;
    const char *why;
    int quiet_off; /* no warning when the value is false or "none": nothing is lost */
} unsupported;

#define WHY_MQTT   "no MQTT client"
#define WHY_TLS    "RTSPS/TLS is not served; put a TLS proxy in front if needed"
#define WHY_UID    "cameras are reached at their address over TCP, not by UID over UDP"
#define WHY_BUFFER "frames are forwarded as they arrive, without a re-timing buffer"
#define WHY_SPLASH "no placeholder picture is served while a camera connects"
#define WHY_PAUSE  "streams are not paused on motion; on_demand stops them when nobody watches"

static const unsupported root_unsupported[] = {
    {"certificate", WHY_TLS, 0},     {"certificates", WHY_TLS, 0},
    {"tls_client_auth", WHY_TLS, 1}, {"tokio_console", "a debugging aid of the Rust program", 1},
    {"mqtt", WHY_MQTT, 0},           {NULL, NULL, 0},
};

static const unsupported camera_unsupported[] = {
    {"mqtt", WHY_MQTT, 0},
    {"discovery", WHY_UID, 0},
    {"max_discovery_retries", WHY_UID, 0},
    {"retries", WHY_UID, 0},
    {"max_retries", WHY_UID, 0},
    {"print_format", "camera status messages are not printed", 1},
    {"print", "camera status messages are not printed", 1},
    {"update_time", "the camera's clock is not set", 1},
    {"time", "the camera's clock is not set", 1},
    {"strict", "media packets are always checked", 1},
    {"buffer_duration", WHY_BUFFER, 0},
    {"duration", WHY_BUFFER, 0},
    {"buffer", WHY_BUFFER, 0},
    {"buffer_size", WHY_BUFFER, 0},
    {"size", WHY_BUFFER, 0},
    {"use_smoothing", WHY_BUFFER, 1},
    {"smoothing", WHY_BUFFER, 1},
    {"stretching", WHY_BUFFER, 1},
    {"debug", "set the top-level log_level: debug instead", 1},
    {"verbose", "set the top-level log_level: debug instead", 1},
    {"use_splash", WHY_SPLASH, 1},
    {"splash", WHY_SPLASH, 1},
    {"splash_pattern", WHY_SPLASH, 0},
    {"pattern", WHY_SPLASH, 0},
    {"push_notifications", "push notifications are not received", 1},
    {"push", "push notifications are not received", 1},
    {"push_noti", "push notifications are not received", 1},
    {NULL, NULL, 0},
};

static const unsupported no_rules[] = {{NULL, NULL, 0}};

static const unsupported pause_unsupported[] = {
    {"on_motion", WHY_PAUSE, 1},
    {"mode", WHY_PAUSE, 1},
    {NULL, NULL, 0},
};

static int is_off(const nl__toml_value *v)
{
    return (v->type == NL_TOML_BOOL && !v->u.b) ||
           (v->type == NL_TOML_STRING && !strcasecmp(v->u.str, "none"));
}

/* Warns about a key no rule took: "not supported" with the reason when it
 * is a neolink key, "unknown" otherwise. */
static void leftover(importer *im, const unsupported *rules, const nl__toml_value *v,
                     const char *prefix)
{
    char path[PATH_CAP];
    join(path, prefix, v->key);
    for (const unsupported *r = rules; r->key; r++) {
        if (strcmp(r->key, v->key))
            continue;
        if (r->quiet_off && is_off(v))
            return;
        warn(im, v->line, path, "not supported by libneolink (%s), ignored", r->why);
        return;
    }
    warn(im, v->line, path, "unknown neolink key, ignored");
}

/* ------------------------------------------------------------ users */

static void import_user(importer *im, const nl__toml_value *u, const char *prefix, int *started)
{
    const nl__toml_value *name = NULL, *pass = NULL;
    char path[PATH_CAP];
    for (const nl__toml_value *v = u->u.kids.first; v; v = v->next) {
        if (!strcmp(v->key, "name") || !strcmp(v->key, "username"))
            take(im, &name, v, prefix);
        else if (!strcmp(v->key, "pass") || !strcmp(v->key, "password"))
            take(im, &pass, v, prefix);
        else
            leftover(im, no_rules, v, prefix);
    }
    name = want(im, name, prefix, NL_TOML_STRING);
    pass = want(im, pass, prefix, NL_TOML_STRING);
    if (!name) {
        warn(im, u->line, prefix, "user without a name; left out");
        return;
    }
    if (!*started) {
        PUTS(im, "users:\n");
        *started = 1;
    }
    PUTS(im, "  - name: ");
    put_quoted(im, name->u.str);
    PUTS(im, "\n    pass: ");
    if (pass) {
        put_quoted(im, pass->u.str);
    } else {
        warn(im, u->line, join(path, prefix, "pass"), "no password; imported as an empty one");
        PUTS(im, "\"\"");
    }
    PUTS(im, "\n");
}

static void import_users(importer *im, const nl__toml_value *users)
{
    if (!want(im, users, "", NL_TOML_ARRAY))
        return;
    int started = 0;
    size_t i = 0;
    char prefix[PATH_CAP];
    for (const nl__toml_value *u = users->u.kids.first; u; u = u->next, i++) {
        snprintf(prefix, sizeof prefix, "users[%zu]", i);
        if (i == NL_CONFIG_MAX_USERS) {
            warn(im, u->line, prefix, "more than %d users; the rest are left out",
                 NL_CONFIG_MAX_USERS);
            break;
        }
        if (u->type != NL_TOML_TABLE) {
            warn(im, u->line, prefix, "expected a [[users]] table, got %s; ignored", a_type(u));
            continue;
        }
        import_user(im, u, prefix, &started);
    }
}

/* ------------------------------------------------------------ cameras */

enum {
    CF_NAME,
    CF_ADDRESS,
    CF_UID,
    CF_USERNAME,
    CF_PASSWORD,
    CF_STREAM,
    CF_PERMITTED,
    CF_CHANNEL,
    CF_MAXENC,
    CF_ENABLED,
    CF_IDLE,
    CF_PAUSE,
    CF_COUNT,
};

/* neolink's camera keys and their serde aliases (both spellings of the
 * Rust field name are accepted, as some old files used them). */
static const struct {
    const char *key;
    int field;
} camera_keys[] = {
    {"name", CF_NAME},
    {"address", CF_ADDRESS},
    {"camera_addr", CF_ADDRESS},
    {"uid", CF_UID},
    {"camera_uid", CF_UID},
    {"username", CF_USERNAME},
    {"password", CF_PASSWORD},
    {"pass", CF_PASSWORD},
    {"stream", CF_STREAM},
    {"permitted_users", CF_PERMITTED},
    {"channel_id", CF_CHANNEL},
    {"channel", CF_CHANNEL},
    {"max_encryption", CF_MAXENC},
    {"enabled", CF_ENABLED},
    {"enable", CF_ENABLED},
    {"idle_disconnect", CF_IDLE},
    {"idle", CF_IDLE},
    {"idle_disc", CF_IDLE},
    {"pause", CF_PAUSE},
};

typedef struct camera {
    const nl__toml_value *f[CF_COUNT];
    const char *prefix; /* "cameras[3]" */
    int line;
    int on_demand; /* 1 when idle_disconnect or pause.on_disconnect asked for it */
    int disabled;  /* stream = "none" */
    const char *stream;
    const char *maxenc;
} camera;

static int valid_name_char(int c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '-';
}

static int name_taken(const importer *im, const char *name)
{
    for (size_t i = 0; i < im->name_count; i++)
        if (!strcmp(im->names[i], name))
            return 1;
    return 0;
}

/* Our camera names are part of the URL path: [A-Za-z0-9_-], at most
 * NL_CONFIG_NAME_MAX bytes, unique. neolink allowed any string ("storage
 * shed"), so other characters become '_' (one per character, not per
 * byte) and a clash gets a number, each with a warning naming the new path. */
static const char *camera_name(importer *im, const camera *c, size_t index)
{
    char name[NL_CONFIG_NAME_MAX + 1];
    char path[PATH_CAP];
    const nl__toml_value *v = c->f[CF_NAME];
    size_t o = 0;
    if (v) {
        const unsigned char *s = (const unsigned char *)v->u.str;
        while (*s && o < NL_CONFIG_NAME_MAX) {
            size_t n;
            unsigned cp = next_cp(s, &n);
            name[o++] = cp < 0x80 && valid_name_char((int)cp) ? (char)cp : '_';
            s += n;
        }
    }
    name[o] = '\0';
    if (!v || !o) {
        snprintf(name, sizeof name, "camera%zu", index + 1);
        warn(im, v ? v->line : c->line, join(path, c->prefix, "name"),
             "%s; imported as '%s' (RTSP path /%s)", v ? "empty" : "missing", name, name);
    } else if (strcmp(name, v->u.str)) {
        warn(im, v->line, join(path, c->prefix, "name"),
             "'%.80s' cannot be an RTSP path here (letters, digits, '-' and '_', at most %d); "
             "imported as '%s' (RTSP path /%s)",
             v->u.str, NL_CONFIG_NAME_MAX, name, name);
    }
    if (name_taken(im, name)) {
        /* Room for "_" and any unsigned number after the base. */
        char base[NL_CONFIG_NAME_MAX - 10];
        size_t blen = strnlen(name, sizeof base - 1);
        memcpy(base, name, blen);
        base[blen] = '\0';
        for (unsigned k = 2; name_taken(im, name); k++)
            snprintf(name, sizeof name, "%s_%u", base, k);
        warn(im, v ? v->line : c->line, join(path, c->prefix, "name"),
             "an earlier camera has the same name; imported as '%s' (RTSP path /%s)", name, name);
    }
    char *copy = nl_arena_strdup(im->a, name);
    if (!copy) {
        im->rc = NL_ENOMEM;
        return NULL;
    }
    im->names[im->name_count++] = copy;
    return copy;
}

static void camera_stream(importer *im, camera *c)
{
    static const struct {
        const char *in, *out;
    } map[] = {
        {"all", "all"}, {"both", "both"},     {"main", "main"},     {"mainstream", "main"},
        {"sub", "sub"}, {"substream", "sub"}, {"extern", "extern"}, {"externstream", "extern"},
    };
    const nl__toml_value *v = want(im, c->f[CF_STREAM], c->prefix, NL_TOML_STRING);
    if (!v)
        return;
    char path[PATH_CAP];
    join(path, c->prefix, v->key);
    for (size_t i = 0; i < sizeof map / sizeof map[0]; i++)
        if (!strcasecmp(v->u.str, map[i].in)) {
            c->stream = map[i].out;
            return;
        }
    if (!strcasecmp(v->u.str, "none")) {
        c->disabled = 1;
        warn(im, v->line, path,
             "\"none\" serves no stream (for MQTT only in neolink); "
             "imported as enabled: false");
        return;
    }
    warn(im, v->line, path,
         "unknown stream '%.40s' (expected all, both, main, sub or extern); "
         "ignored, so all streams are served",
         v->u.str);
}

static void camera_encryption(importer *im, camera *c)
{
    const nl__toml_value *v = want(im, c->f[CF_MAXENC], c->prefix, NL_TOML_STRING);
    if (!v)
        return;
    if (!strcasecmp(v->u.str, "none"))
        c->maxenc = "none";
    else if (!strcasecmp(v->u.str, "aes"))
        c->maxenc = "aes";
    else if (!strcasecmp(v->u.str, "bcencrypt") || !strcasecmp(v->u.str, "bc"))
        c->maxenc = "bc";
    else {
        char path[PATH_CAP];
        warn(im, v->line, join(path, c->prefix, v->key),
             "unknown encryption '%.40s' (expected None, BCEncrypt or Aes); ignored", v->u.str);
    }
}

static void camera_pause(importer *im, camera *c)
{
    const nl__toml_value *p = want(im, c->f[CF_PAUSE], c->prefix, NL_TOML_TABLE);
    if (!p)
        return;
    char prefix[PATH_CAP], path[PATH_CAP];
    join(prefix, c->prefix, p->key);
    const nl__toml_value *on_client = NULL, *timeout = NULL;
    int on_motion = 0;
    for (const nl__toml_value *v = p->u.kids.first; v; v = v->next) {
        if (!strcmp(v->key, "on_disconnect") || !strcmp(v->key, "on_client")) {
            take(im, &on_client, v, prefix);
        } else if (!strcmp(v->key, "motion_timeout") || !strcmp(v->key, "timeout")) {
            take(im, &timeout, v, prefix);
        } else {
            if (!strcmp(v->key, "on_motion") && v->type == NL_TOML_BOOL && v->u.b)
                on_motion = 1;
            leftover(im, pause_unsupported, v, prefix);
        }
    }
    /* The timeout only matters when pausing on motion, which was reported. */
    if (timeout && on_motion)
        warn(im, timeout->line, join(path, prefix, timeout->key),
             "not supported by libneolink (%s), ignored", WHY_PAUSE);
    on_client = want(im, on_client, prefix, NL_TOML_BOOL);
    if (on_client && on_client->u.b)
        c->on_demand = 1;
}

/* Collects one [[cameras]] table's keys into c, warning about the rest. */
static void camera_keys_of(importer *im, const nl__toml_value *t, camera *c)
{
    for (const nl__toml_value *v = t->u.kids.first; v; v = v->next) {
        size_t k = 0, n = sizeof camera_keys / sizeof camera_keys[0];
        while (k < n && strcmp(camera_keys[k].key, v->key))
            k++;
        if (k < n)
            take(im, &c->f[camera_keys[k].field], v, c->prefix);
        else
            leftover(im, camera_unsupported, v, c->prefix);
    }
    static const nl__toml_type types[CF_COUNT] = {
        [CF_NAME] = NL_TOML_STRING,     [CF_ADDRESS] = NL_TOML_STRING,
        [CF_UID] = NL_TOML_STRING,      [CF_USERNAME] = NL_TOML_STRING,
        [CF_PASSWORD] = NL_TOML_STRING, [CF_STREAM] = NL_TOML_STRING,
        [CF_PERMITTED] = NL_TOML_ARRAY, [CF_CHANNEL] = NL_TOML_INT,
        [CF_MAXENC] = NL_TOML_STRING,   [CF_ENABLED] = NL_TOML_BOOL,
        [CF_IDLE] = NL_TOML_BOOL,       [CF_PAUSE] = NL_TOML_TABLE,
    };
    /* stream, max_encryption and pause check their own types. */
    for (int f = 0; f < CF_COUNT; f++)
        if (f != CF_STREAM && f != CF_MAXENC && f != CF_PAUSE)
            c->f[f] = want(im, c->f[f], c->prefix, types[f]);
    camera_stream(im, c);
    camera_encryption(im, c);
    camera_pause(im, c);
    if (c->f[CF_IDLE] && c->f[CF_IDLE]->u.b)
        c->on_demand = 1;
}

/* A camera reached only by UID cannot be imported: leave a note in the
 * YAML where it would have been. */
static void skipped_note(importer *im, const camera *c, const char *why)
{
    PUTS(im, "# camera ");
    if (c->f[CF_NAME])
        put_comment_text(im, c->f[CF_NAME]->u.str, 64);
    else
        put(im, c->prefix, strlen(c->prefix));
    putf(im, " (line %d of the neolink file) left out: %s\n", c->line, why);
}

/* IPv6 literals need brackets in our HOST[:PORT] ("fe80::1" would read as
 * host "fe80:" and port ":1"); neolink took the bare form too. */
static void put_address(importer *im, const camera *c)
{
    const char *a = c->f[CF_ADDRESS]->u.str;
    const char *colon = strchr(a, ':');
    if (a[0] != '[' && colon && strchr(colon + 1, ':')) {
        char path[PATH_CAP];
        size_t n = strlen(a);
        char *b = nl_arena_alloc(im->a, n + 3);
        if (!b) {
            im->rc = NL_ENOMEM;
            return;
        }
        b[0] = '[';
        memcpy(b + 1, a, n);
        b[n + 1] = ']';
        warn(im, c->f[CF_ADDRESS]->line, join(path, c->prefix, c->f[CF_ADDRESS]->key),
             "an IPv6 address without a port; imported in brackets");
        a = b;
    }
    put_quoted(im, a);
}

static void import_camera(importer *im, const nl__toml_value *t, size_t index, const char *prefix)
{
    camera c = {.prefix = prefix, .line = t->line};
    char path[PATH_CAP];
    camera_keys_of(im, t, &c);
    if (!c.f[CF_ADDRESS]) {
        if (c.f[CF_UID]) {
            warn(im, c.line, prefix,
                 "has only a uid: reaching cameras by UID (P2P/UDP) is not "
                 "supported by libneolink; left out (add its address)");
            skipped_note(im, &c, "reached by uid only; add `address: HOST[:PORT]`");
        } else {
            warn(im, c.line, prefix, "has no address; left out");
            skipped_note(im, &c, "no address");
        }
        return;
    }
    if (c.f[CF_UID])
        warn(im, c.f[CF_UID]->line, join(path, prefix, c.f[CF_UID]->key),
             "ignored: the camera is reached at its address");
    const char *name = camera_name(im, &c, index);
    if (!name)
        return;
    if (!im->cameras_started) {
        PUTS(im, "cameras:\n");
        im->cameras_started = 1;
    }
    PUTS(im, "  - name: ");
    put_quoted(im, name);
    PUTS(im, "\n    address: ");
    put_address(im, &c);
    if (c.f[CF_USERNAME]) {
        PUTS(im, "\n    username: ");
        put_quoted(im, c.f[CF_USERNAME]->u.str);
    }
    if (c.f[CF_PASSWORD]) {
        PUTS(im, "\n    password: ");
        put_quoted(im, c.f[CF_PASSWORD]->u.str);
    }
    if (c.f[CF_CHANNEL])
        putf(im, "\n    channel_id: %lld", (long long)c.f[CF_CHANNEL]->u.i);
    if (c.stream)
        putf(im, "\n    stream: %s", c.stream);
    if (c.f[CF_PERMITTED]) {
        const nl__toml_value *list = c.f[CF_PERMITTED];
        PUTS(im, "\n    permitted_users: [");
        int first = 1;
        for (const nl__toml_value *u = list->u.kids.first; u; u = u->next) {
            if (u->type != NL_TOML_STRING) {
                warn(im, u->line, join(path, prefix, list->key),
                     "an entry is %s, not a user name; left out", a_type(u));
                continue;
            }
            if (!first)
                PUTS(im, ", ");
            put_quoted(im, u->u.str);
            first = 0;
        }
        PUTS(im, "]");
    }
    if (c.maxenc)
        putf(im, "\n    max_encryption: %s", c.maxenc);
    if (c.disabled || (c.f[CF_ENABLED] && !c.f[CF_ENABLED]->u.b))
        PUTS(im, "\n    enabled: false");
    if (c.on_demand)
        PUTS(im, "\n    on_demand: true");
    PUTS(im, "\n");
}

static void import_cameras(importer *im, const nl__toml_value *cams)
{
    if (!want(im, cams, "", NL_TOML_ARRAY))
        return;
    size_t i = 0;
    char prefix[PATH_CAP];
    for (const nl__toml_value *t = cams->u.kids.first; t && !im->rc; t = t->next, i++) {
        snprintf(prefix, sizeof prefix, "cameras[%zu]", i);
        if (im->name_count == NL_CONFIG_MAX_CAMERAS) {
            warn(im, t->line, prefix, "more than %d cameras; the rest are left out",
                 NL_CONFIG_MAX_CAMERAS);
            break;
        }
        if (t->type != NL_TOML_TABLE) {
            warn(im, t->line, prefix, "expected a [[cameras]] table, got %s; ignored", a_type(t));
            continue;
        }
        import_camera(im, t, i, prefix);
    }
}

/* ------------------------------------------------------------ document */

static void import_root(importer *im, const nl__toml_value *root)
{
    const nl__toml_value *bind = NULL, *port = NULL, *users = NULL, *cams = NULL;
    for (const nl__toml_value *v = root->u.kids.first; v; v = v->next) {
        if (!strcmp(v->key, "bind") || !strcmp(v->key, "bind_addr"))
            take(im, &bind, v, "");
        else if (!strcmp(v->key, "bind_port"))
            take(im, &port, v, "");
        else if (!strcmp(v->key, "users"))
            users = v;
        else if (!strcmp(v->key, "cameras"))
            cams = v;
        else
            leftover(im, root_unsupported, v, "");
    }
    bind = want(im, bind, "", NL_TOML_STRING);
    port = want(im, port, "", NL_TOML_INT);
    if (bind) {
        PUTS(im, "bind: ");
        put_quoted(im, bind->u.str);
        PUTS(im, "\n");
    }
    if (port)
        putf(im, "bind_port: %lld\n", (long long)port->u.i);
    if (users)
        import_users(im, users);
    if (cams)
        import_cameras(im, cams);
    if (!im->cameras_started)
        warn(im, cams ? cams->line : 0, "cameras", "no camera could be imported");
}

int nl__import_neolink(const char *toml, size_t len, nl_dbuf *yaml, nl__cfg_diag *diag)
{
    if (len > NL_CONFIG_MAX_FILE_SIZE) {
        nl__cfg_error(diag, 0, NULL, "file larger than %d bytes", NL_CONFIG_MAX_FILE_SIZE);
        return NL_ETOOBIG;
    }
    nl_arena *a = NULL;
    int rc = nl_arena_create(&a, NULL, SCRATCH_CAP, "toml import");
    if (rc < 0) {
        nl__cfg_error(diag, 0, NULL, "out of memory");
        return NL_ENOMEM;
    }
    nl__toml_value *root;
    nl__toml_error err;
    rc = nl__toml_parse(a, toml, len, &root, &err);
    if (rc < 0) {
        nl__cfg_error(diag, err.line, NULL, "%s", err.msg);
        nl_arena_destroy(&a);
        return rc == NL_EARENA ? NL_ENOMEM : rc;
    }
    importer im = {.diag = diag, .out = yaml, .a = a};
    im.notes = nl_arena_alloc(a, NOTES_KEPT * sizeof *im.notes);
    if (!im.notes) {
        nl_arena_destroy(&a);
        nl__cfg_error(diag, 0, NULL, "out of memory");
        return NL_ENOMEM;
    }
    PUTS(&im, "# Imported from the neolink configuration ");
    put_comment_text(&im, diag->source, 200);
    PUTS(&im, ".\n# It holds the passwords of that file: keep it private (chmod 600).\n");
    import_root(&im, root);
    flush_notes(&im);
    nl_arena_destroy(&a);
    if (im.rc < 0) {
        nl__cfg_error(diag, 0, NULL, "%s",
                      im.rc == NL_ETOOBIG ? "the YAML would be too large" : "out of memory");
        return im.rc == NL_ETOOBIG ? NL_ETOOBIG : NL_ENOMEM;
    }
    return (int)diag->warnings;
}

NL_EXPORT int nl_config_import_neolink(const char *toml, size_t len, const char *name, char **yaml,
                                       size_t *yaml_len, char *msg, size_t msg_len)
{
    if (yaml)
        *yaml = NULL;
    if (yaml_len)
        *yaml_len = 0;
    nl__cfg_diag d;
    nl__cfg_diag_init(&d, name, msg, msg_len);
    if (!toml || !yaml)
        return NL_EINVAL;
    nl_dbuf out;
    nl_dbuf_init(&out, NL_IMPORT_YAML_MAX);
    int rc = nl__import_neolink(toml, len, &out, &d);
    if (rc >= 0 && nl_dbuf_append(&out, "", 1) < 0) {
        nl__cfg_error(&d, 0, NULL, "out of memory");
        rc = NL_ENOMEM;
    }
    nl__cfg_diag_finish(&d);
    if (rc < 0) {
        nl_dbuf_free(&out);
        return rc;
    }
    *yaml = (char *)out.data;
    if (yaml_len)
        *yaml_len = out.len - 1;
    return rc;
}

NL_EXPORT void nl_config_import_free(char **yaml)
{
    if (!yaml || !*yaml)
        return;
    nl__free(*yaml);
    *yaml = NULL;
}
