/* Key path -> line number map of one YAML document, e.g.
 * "cameras[1].address" -> 12. libcyaml does not report where a loaded value
 * came from, so the structural pass (yamlcheck.c) records every key and
 * sequence entry it sees, and the semantic checks look lines up here.
 * Entries live in the caller's scratch arena. */
#ifndef NL_CONFIG_LINES_H
#define NL_CONFIG_LINES_H

#include "neolink/arena.h"

typedef struct nl__cfg_lines nl__cfg_lines;

/* Creates an empty map in arena a; NULL when out of memory. */
nl__cfg_lines *nl__cfg_lines_new(nl_arena *a);

/* Records path at line (1-based). The first record of a path wins.
 * Returns 0 or NL_ENOMEM. */
int nl__cfg_lines_put(nl__cfg_lines *m, const char *path, int line);

/* Line of path, or 0 when it was not in the document. m may be NULL. */
int nl__cfg_lines_get(const nl__cfg_lines *m, const char *path);

/* Line of path, or of its nearest recorded parent ("a[1].b.c" -> "a[1].b" ->
 * "a[1]" -> "a"), or `fallback`. */
int nl__cfg_lines_near(const nl__cfg_lines *m, const char *path, int fallback);

#endif
