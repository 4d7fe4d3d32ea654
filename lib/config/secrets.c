/* Password sources. Values are copied into the result arena and wiped when
 * the configuration is freed, so a freed config leaves no password in the
 * heap for a later allocation to expose. Messages name keys, file paths and
 * variable names, never a value. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config/secrets.h"
#include "neolink/error.h"

static void wipe(void *arg)
{
    char *s = arg;
    explicit_bzero(s, strlen(s));
}

/* Copies a secret into the result arena with a wipe-on-free handler. */
static const char *keep_secret(nl__cfg_vctx *v, const char *s, size_t n)
{
    char *copy = nl_arena_strndup(v->out, s, n);
    if (!copy || !nl_arena_on_destroy(v->out, wipe, copy)) {
        if (copy)
            explicit_bzero(copy, n);
        v->oom = 1;
        return "";
    }
    return copy;
}

int nl__cfg_read_secret_file(const char *path, char *buf, size_t cap)
{
    /* O_NONBLOCK: opening a FIFO by mistake must not hang the load; it is
     * then refused as not being a regular file. */
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
    if (fd < 0)
        return nl_err_from_errno(errno);
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        return NL_EINVAL;
    }
    size_t n = 0;
    int rc = 0;
    while (n < cap - 1) {
        ssize_t r = read(fd, buf + n, cap - 1 - n);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            rc = nl_err_from_errno(errno);
            break;
        }
        if (r == 0)
            break;
        n += (size_t)r;
    }
    if (rc == 0 && n == cap - 1) {
        char extra;
        ssize_t r = read(fd, &extra, 1);
        if (r > 0)
            rc = NL_ETOOBIG;
    }
    close(fd);
    if (rc < 0) {
        explicit_bzero(buf, n);
        return rc;
    }
    while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r'))
        n--;
    buf[n] = '\0';
    if (n > NL_CONFIG_SECRET_MAX)
        rc = NL_ETOOBIG;
    else if (memchr(buf, '\0', n))
        rc = NL_EINVAL;
    if (rc < 0) {
        explicit_bzero(buf, n);
        return rc;
    }
    return (int)n;
}

static int valid_env_name(const char *s)
{
    if (!((*s >= 'A' && *s <= 'Z') || (*s >= 'a' && *s <= 'z') || *s == '_'))
        return 0;
    for (; *s; s++) {
        char c = *s;
        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
              c == '_'))
            return 0;
    }
    return 1;
}

static void from_file(nl__cfg_vctx *v, const char *key_path, const char *file,
                      nl_config_secret *out)
{
    char full[4096 + 2 + 4096];
    const char *path = file;
    if (file[0] != '/' && v->base_dir && v->base_dir[0]) {
        snprintf(full, sizeof full, "%s/%s", v->base_dir, file);
        path = full;
    }
    char buf[NL_CONFIG_SECRET_MAX + 64];
    int n = nl__cfg_read_secret_file(path, buf, sizeof buf);
    if (n == NL_ETOOBIG) {
        nl__cfg_verr(v, key_path, "password file %s is longer than %d bytes", path,
                     NL_CONFIG_SECRET_MAX);
        return;
    }
    if (n == NL_EINVAL) {
        nl__cfg_verr(v, key_path, "%s is not a regular text file", path);
        return;
    }
    if (n < 0) {
        nl__cfg_verr(v, key_path, "cannot read %s: %s", path, nl_strerror(n));
        return;
    }
    out->value = keep_secret(v, buf, (size_t)n);
    explicit_bzero(buf, sizeof buf);
    out->source = NL_CFG_SECRET_FILE;
    out->ref = nl__cfg_dup(v, file);
}

static void from_env(nl__cfg_vctx *v, const char *key_path, const char *name, nl_config_secret *out)
{
    if (!valid_env_name(name)) {
        nl__cfg_verr(v, key_path, "not a valid environment variable name");
        return;
    }
    const char *val = getenv(name);
    if (!val) {
        nl__cfg_verr(v, key_path, "environment variable %s is not set", name);
        return;
    }
    size_t n = strlen(val);
    if (n > NL_CONFIG_SECRET_MAX) {
        nl__cfg_verr(v, key_path, "environment variable %s is longer than %d bytes", name,
                     NL_CONFIG_SECRET_MAX);
        return;
    }
    out->value = keep_secret(v, val, n);
    out->source = NL_CFG_SECRET_ENV;
    out->ref = nl__cfg_dup(v, name);
}

void nl__cfg_secret(nl__cfg_vctx *v, const char *prefix, const nl__cfg_secret_keys *keys,
                    const char *inl, const char *file, const char *env, int required,
                    nl_config_secret *out)
{
    char path[128];
    out->value = "";
    out->source = NL_CFG_SECRET_NONE;
    out->ref = NULL;
    int given = (inl != NULL) + (file != NULL) + (env != NULL);
    if (given > 1) {
        /* Point at the second source given, in key order. */
        const char *second = inl && file ? keys->file_key : keys->env_key;
        snprintf(path, sizeof path, "%s.%s", prefix, second);
        nl__cfg_verr(v, path, "give only one of %s, %s and %s", keys->inline_key, keys->file_key,
                     keys->env_key);
        return;
    }
    if (given == 0) {
        if (required) {
            snprintf(path, sizeof path, "%s.%s", prefix, keys->inline_key);
            nl__cfg_verr(v, path, "required (or give %s or %s)", keys->file_key, keys->env_key);
        }
        return;
    }
    if (file) {
        snprintf(path, sizeof path, "%s.%s", prefix, keys->file_key);
        from_file(v, path, file, out);
    } else if (env) {
        snprintf(path, sizeof path, "%s.%s", prefix, keys->env_key);
        from_env(v, path, env, out);
    } else {
        snprintf(path, sizeof path, "%s.%s", prefix, keys->inline_key);
        out->value = keep_secret(v, inl, strlen(inl));
        out->source = NL_CFG_SECRET_INLINE;
        if (v->world_readable)
            nl__cfg_vwarn(v, path,
                          "password written in a file that other users can read "
                          "(chmod o-r the file, or use %s or %s)",
                          keys->file_key, keys->env_key);
    }
}
