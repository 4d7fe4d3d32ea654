/* neolink TOML -> libneolink YAML. The public entry point is
 * nl_config_import_neolink() (neolink/config_import.h); this is the part
 * that works on the library's own buffer and diagnostics types, so the
 * tests and the fuzz target can drive it directly. */
#ifndef NL_CONFIG_IMPORT_H
#define NL_CONFIG_IMPORT_H

#include <stddef.h>

#include "config/diag.h"
#include "core/dbuf.h"

/* Largest YAML text produced: each input byte becomes at most four ("\x01"),
 * plus the keys around the values. */
#define NL_IMPORT_YAML_MAX ((size_t)8 << 20)

/* Parses toml (len bytes, at most NL_CONFIG_MAX_FILE_SIZE) and appends the
 * equivalent YAML to *yaml (not NUL-terminated). Every neolink key that is
 * not carried over becomes a warning in diag naming the key and its line;
 * a TOML syntax error becomes one error with its line. Password values are
 * written to *yaml but never to diag.
 * Returns the number of warnings (>= 0), NL_ECONFIG for malformed TOML,
 * NL_ETOOBIG for input (or output) over the caps, NL_ENOMEM.
 * Any thread; never blocks. */
int nl__import_neolink(const char *toml, size_t len, nl_dbuf *yaml, nl__cfg_diag *diag);

#endif
