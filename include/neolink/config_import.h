/**
 * @file config_import.h
 * Importing the configuration file of the original (Rust) neolink
 * (thirtythreeforty/neolink and its fork QuantumEntangledAndy/neolink),
 * which is TOML, as the YAML configuration this library reads.
 *
 * Every neolink key is either carried over (with its aliases: `pass` for
 * `password`, `channel` for `channel_id`, ...) or reported as a warning that
 * names the key and its line and says why it was left out, for example
 *
 *     neolink.toml:3: warning: mqtt: not supported by libneolink (no MQTT client), ignored
 *
 * Warnings never contain password values. The table of every key is in
 * docs/migrating-from-neolink.md.
 */
#ifndef NEOLINK_CONFIG_IMPORT_H
#define NEOLINK_CONFIG_IMPORT_H

#include <stddef.h>

#include "neolink/common.h"

#ifdef __cplusplus
extern "C" {
#endif

/**
 * Converts a neolink TOML configuration to YAML for nl_config_load_file().
 *
 * The YAML holds the cameras' and users' passwords as they were in the
 * TOML file (inline), so it is as secret as that file: store it with mode
 * 0600. The result is not validated here; load it (or run
 * `neolink-cli check`) to see what the library makes of it.
 *
 * @param toml     the TOML document (need not be NUL-terminated); not kept
 * @param len      its length, at most NL_CONFIG_MAX_FILE_SIZE bytes
 * @param name     names the document in messages (e.g. "neolink.toml");
 *                 NULL = "<string>"
 * @param yaml     receives the YAML text, NUL-terminated, owned by the caller
 *                 (free it with nl_config_import_free()); NULL on failure
 * @param yaml_len receives its length without the NUL; may be NULL
 * @param msg      receives every warning (and on failure the error), one per
 *                 line as "NAME:LINE: warning: KEY: message" or
 *                 "NAME:LINE: message"; NUL-terminated, cut to msg_len, at
 *                 most 50 lines and then a count of the rest; may be NULL
 * @param msg_len  size of msg
 * @return the number of warnings (0 or more) on success; NL_ECONFIG when
 *         the document is not valid TOML (msg names the line, e.g.
 *         "neolink.toml:12: expected '=' after key"); NL_ETOOBIG when len
 *         is over the limit; NL_EINVAL for a NULL toml or yaml; NL_ENOMEM.
 *
 * Threads: any thread; several imports may run at once.
 * Blocking: never (no I/O; the caller reads and writes the files).
 */
NL_EXPORT int nl_config_import_neolink(const char *toml, size_t len, const char *name, char **yaml,
                                       size_t *yaml_len, char *msg, size_t msg_len);

/**
 * Frees YAML text returned by nl_config_import_neolink() and sets *yaml to
 * NULL. NULL and a pointer to NULL are no-ops. Any thread; never blocks.
 */
NL_EXPORT void nl_config_import_free(char **yaml);

#ifdef __cplusplus
}
#endif
#endif
