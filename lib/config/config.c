/* Loading: read the file, run the line-aware structural pass, let libcyaml
 * fill the raw structs, then validate and convert them into an nl_config
 * that owns one arena. Scratch memory (line map, raw data) is released
 * before returning, success or not. */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cyaml/cyaml.h>

#include "config/diag.h"
#include "config/lines.h"
#include "config/schema.h"
#include "config/validate.h"
#include "config/yamlcheck.h"
#include "core/alloc.h"
#include "neolink/config.h"
#include "neolink/error.h"

/* Arena caps. The structural pass bounds what it records (list lengths are
 * capped by the schema), so a 1 MiB document stays far below these. */
#define SCRATCH_CAP ((size_t)32 << 20)
#define RESULT_CAP  ((size_t)16 << 20)

/* The public struct first, so an nl_config * is also a cfg_box *. */
typedef struct cfg_box {
    nl_config pub;
    nl_arena *arena;
} cfg_box;

/* libcyaml's first error message and the line of its backtrace. Only used
 * when libcyaml rejects what the structural pass accepted, which would be a
 * gap in yamlcheck.c; it still yields a located message. */
typedef struct cy_log {
    char msg[200];
    int line;
} cy_log;

static void cy_log_fn(cyaml_log_t level, void *ctx, const char *fmt, va_list args)
{
    cy_log *l = ctx;
    char buf[256];
    if (level < CYAML_LOG_ERROR)
        return;
    vsnprintf(buf, sizeof buf, fmt, args);
    const char *at = strstr(buf, "(line: ");
    if (at && !l->line) {
        int line = 0;
        for (at += 7; *at >= '0' && *at <= '9' && line < 10000000; at++)
            line = line * 10 + (*at - '0');
        l->line = line;
    }
    if (l->msg[0] || buf[0] == ' ' || strstr(buf, "Backtrace"))
        return;
    const char *m = strncmp(buf, "Load: ", 6) ? buf : buf + 6;
    size_t n = strlen(m);
    if (n >= sizeof l->msg)
        n = sizeof l->msg - 1;
    memcpy(l->msg, m, n);
    l->msg[n] = '\0';
    char *nl = strchr(l->msg, '\n');
    if (nl)
        *nl = '\0';
}

static void *cy_mem_fn(void *ctx, void *ptr, size_t size)
{
    (void)ctx;
    if (size == 0) {
        nl__free(ptr);
        return NULL;
    }
    return nl__realloc(ptr, size);
}

static const cyaml_config_t *cy_config(cy_log *log, cyaml_config_t *c)
{
    memset(c, 0, sizeof *c);
    c->log_fn = cy_log_fn;
    c->log_ctx = log;
    c->mem_fn = cy_mem_fn;
    c->log_level = CYAML_LOG_ERROR;
    c->flags = CYAML_CFG_NO_ALIAS; /* no alias expansion: no billion laughs */
    return c;
}

static int new_box(cfg_box **out)
{
    nl_arena *a = NULL;
    int rc = nl_arena_create(&a, NULL, RESULT_CAP, "config");
    if (rc < 0)
        return rc;
    cfg_box *box = nl_arena_alloc(a, sizeof *box);
    if (!box) {
        nl_arena_destroy(&a);
        return NL_ENOMEM;
    }
    box->arena = a;
    nl__cfg_defaults(&box->pub);
    *out = box;
    return 0;
}

static void free_box(cfg_box **box)
{
    if (!*box)
        return;
    nl_arena *a = (*box)->arena;
    *box = NULL;
    nl_arena_destroy(&a);
}

typedef struct load_args {
    const char *data;
    size_t len;
    const char *name;
    const char *base_dir;
    int world_readable;
    unsigned flags;
} load_args;

/* Runs libcyaml on a document the structural pass accepted. */
static int cyaml_pass(const load_args *a, nl__cfg_diag *diag, nl__raw_config **raw)
{
    cy_log log = {{0}, 0};
    cyaml_config_t cc;
    cyaml_err_t e = cyaml_load_data((const uint8_t *)a->data, a->len, cy_config(&log, &cc),
                                    &nl__cfg_schema, (cyaml_data_t **)raw, NULL);
    if (e == CYAML_OK)
        return 0;
    if (e == CYAML_ERR_OOM)
        return NL_ENOMEM;
    nl__cfg_error(diag, log.line, NULL, "rejected by the YAML loader: %s",
                  log.msg[0] ? log.msg : cyaml_strerror(e));
    return NL_ECONFIG;
}

static int load_doc(nl_config **out, const load_args *a, nl__cfg_diag *diag)
{
    nl_arena *scratch = NULL;
    cfg_box *box = NULL;
    nl__raw_config *raw = NULL;
    cy_log unused_log;
    cyaml_config_t cc;
    int root_is_map = 0;
    int rc = nl_arena_create(&scratch, NULL, SCRATCH_CAP, "config scratch");
    if (rc < 0)
        return rc;
    nl__cfg_lines *lines = nl__cfg_lines_new(scratch);
    if (!lines) {
        rc = NL_ENOMEM;
        goto done;
    }
    rc = nl__cfg_check(a->data, a->len, &nl__cfg_schema, lines, diag, &root_is_map);
    if (rc < 0)
        goto done;
    if (diag->errors) {
        rc = NL_ECONFIG;
        goto done;
    }
    if (root_is_map && (rc = cyaml_pass(a, diag, &raw)) < 0)
        goto done;
    if ((rc = new_box(&box)) < 0)
        goto done;
    nl__cfg_vctx v = {diag, lines, box->arena, a->base_dir, a->world_readable, 0};
    box->pub.source = nl__cfg_dup(&v, a->name);
    nl__cfg_validate(&v, raw, a->flags, &box->pub);
    if (v.oom)
        rc = NL_ENOMEM;
    else if (diag->errors)
        rc = NL_ECONFIG;
    else
        rc = 0;
done:
    if (raw)
        cyaml_free(cy_config(&unused_log, &cc), &nl__cfg_schema, raw, 0);
    nl_arena_destroy(&scratch);
    if (rc == 0) {
        box->pub.warning_count = diag->warnings;
        *out = &box->pub;
    } else {
        free_box(&box);
    }
    return rc;
}

static int too_big(nl__cfg_diag *diag)
{
    nl__cfg_error(diag, 0, NULL, "larger than %d bytes; not a configuration file?",
                  NL_CONFIG_MAX_FILE_SIZE);
    return NL_ECONFIG;
}

NL_EXPORT int nl_config_load_string(nl_config **out, const char *yaml, size_t len, const char *name,
                                    unsigned flags, char *err, size_t err_len)
{
    nl__cfg_diag diag;
    nl__cfg_diag_init(&diag, name ? name : "<string>", err, err_len);
    if (!out)
        return NL_EINVAL;
    *out = NULL;
    if (!yaml && len)
        return NL_EINVAL;
    int rc;
    if (len > NL_CONFIG_MAX_FILE_SIZE) {
        rc = too_big(&diag);
    } else {
        load_args a = {yaml ? yaml : "", len, diag.source, NULL, 0, flags};
        rc = load_doc(out, &a, &diag);
    }
    nl__cfg_diag_finish(&diag);
    return rc;
}

/* Reads at most NL_CONFIG_MAX_FILE_SIZE + 1 bytes (to detect larger files).
 * Pipes and /dev/stdin work too; they are simply never world-readable. */
static int read_file(int fd, char **buf, size_t *len)
{
    size_t cap = NL_CONFIG_MAX_FILE_SIZE + 1, n = 0;
    char *b = nl__malloc(cap);
    if (!b)
        return NL_ENOMEM;
    while (n < cap) {
        ssize_t r = read(fd, b + n, cap - n);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            int rc = nl_err_from_errno(errno);
            nl__free(b);
            return rc;
        }
        if (r == 0)
            break;
        n += (size_t)r;
    }
    *buf = b;
    *len = n;
    return 0;
}

NL_EXPORT int nl_config_load_file_ex(nl_config **out, const char *path, unsigned flags, char *err,
                                     size_t err_len)
{
    nl__cfg_diag diag;
    nl__cfg_diag_init(&diag, path ? path : "<null>", err, err_len);
    if (!out || !path)
        return NL_EINVAL;
    *out = NULL;
    int rc;
    char *data = NULL;
    size_t len = 0;
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
    struct stat st;
    if (fd < 0) {
        rc = nl_err_from_errno(errno);
    } else if (fstat(fd, &st) != 0) {
        rc = nl_err_from_errno(errno);
    } else if (S_ISDIR(st.st_mode)) {
        rc = NL_EINVAL;
    } else {
        rc = read_file(fd, &data, &len);
    }
    if (fd >= 0)
        close(fd);
    if (rc < 0) {
        nl__cfg_error(&diag, 0, NULL, "cannot read: %s",
                      rc == NL_EINVAL ? "is a directory" : nl_strerror(rc));
    } else if (len > NL_CONFIG_MAX_FILE_SIZE) {
        rc = too_big(&diag);
    } else {
        /* Relative password files are relative to the config's directory. */
        char dir[4096];
        const char *slash = strrchr(path, '/');
        if (!slash)
            snprintf(dir, sizeof dir, ".");
        else if (slash == path)
            snprintf(dir, sizeof dir, "/");
        else
            snprintf(dir, sizeof dir, "%.*s", (int)(slash - path), path);
        int world = S_ISREG(st.st_mode) && (st.st_mode & S_IROTH);
        load_args a = {data, len, path, dir, world, flags};
        rc = load_doc(out, &a, &diag);
    }
    nl__free(data);
    nl__cfg_diag_finish(&diag);
    return rc;
}

NL_EXPORT int nl_config_load_file(nl_config **out, const char *path, char *err, size_t err_len)
{
    return nl_config_load_file_ex(out, path, 0, err, err_len);
}

NL_EXPORT int nl_config_defaults(nl_config **out)
{
    if (!out)
        return NL_EINVAL;
    *out = NULL;
    cfg_box *box = NULL;
    int rc = new_box(&box);
    if (rc < 0)
        return rc;
    *out = &box->pub;
    return 0;
}

NL_EXPORT void nl_config_free(nl_config **cfg)
{
    if (!cfg || !*cfg)
        return;
    cfg_box *box = (cfg_box *)*cfg;
    *cfg = NULL;
    free_box(&box);
}
