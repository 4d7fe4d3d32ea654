/* Passwords given inline, by file or by environment variable: exactly one
 * source per entry, resolved at load time so a missing file or variable is a
 * configuration error, not a login failure minutes later. */
#ifndef NL_CONFIG_SECRETS_H
#define NL_CONFIG_SECRETS_H

#include "config/validate.h"

/* The three keys that may carry one secret, e.g. {"password",
 * "password_file", "password_env"}. */
typedef struct nl__cfg_secret_keys {
    const char *inline_key;
    const char *file_key;
    const char *env_key;
} nl__cfg_secret_keys;

/* Resolves the secret of the entry at `prefix` ("users[0]") from whichever
 * of inl/file/env is non-NULL. More than one source is an error; none is an
 * error when `required`, else *out becomes the empty NL_CFG_SECRET_NONE
 * secret. Errors and the inline-password warning go to v's diagnostics. */
void nl__cfg_secret(nl__cfg_vctx *v, const char *prefix, const nl__cfg_secret_keys *keys,
                    const char *inl, const char *file, const char *env, int required,
                    nl_config_secret *out);

/* Reads a password file into buf (cap bytes, NUL-terminated): at most
 * NL_CONFIG_SECRET_MAX bytes once the trailing CR/LF characters are stripped,
 * and at most cap - 1 bytes before (the room left for trailing newlines).
 * Returns the length, NL_ETOOBIG, NL_EINVAL (a NUL byte inside, or not a
 * regular file) or an errno-based code. */
int nl__cfg_read_secret_file(const char *path, char *buf, size_t cap);

#endif
