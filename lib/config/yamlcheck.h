/* Structural pass over a YAML document, driven by the libcyaml schema.
 *
 * libcyaml stops at the first problem and does not say on which line a
 * loaded value was written. This pass reads the document once with libyaml's
 * event parser and, for the same schema libcyaml will load with, reports
 * every syntax error, unknown key (with a "did you mean" hint), duplicate
 * key, missing required key, wrong node kind, malformed scalar (strict
 * integers, booleans, enum spellings, string lengths) and overlong list, each
 * with its line. It also records the line of every key and list entry for
 * the semantic checks that run after libcyaml has loaded the data.
 *
 * When it reports no error, libcyaml accepts the document (the scalar rules
 * here are at least as strict as libcyaml's). Bounded: iterative, no
 * recursion; subtrees it cannot use are skipped with a counter; aliases are
 * rejected (no expansion bombs). */
#ifndef NL_CONFIG_YAMLCHECK_H
#define NL_CONFIG_YAMLCHECK_H

#include <stddef.h>

#include <cyaml/cyaml.h>

#include "config/diag.h"
#include "config/lines.h"

/* Checks data[0..len) against schema (a MAPPING, usually with
 * CYAML_FLAG_POINTER). Problems go to diag; key lines go to lines.
 * *root_is_mapping is set to 1 when the document holds a mapping (0 for an
 * empty document, which is not an error). Returns 0 or NL_ENOMEM. */
int nl__cfg_check(const char *data, size_t len, const cyaml_schema_value_t *schema,
                  nl__cfg_lines *lines, nl__cfg_diag *diag, int *root_is_mapping);

/* Writes a printable, shortened copy of untrusted text (a key or value from
 * the document) for a message: control bytes become '?', more than 40 bytes
 * end in "...". Returns out. */
char *nl__cfg_printable(char *out, size_t cap, const char *text, size_t len);

#endif
