/* Fuzz target for the configuration loader: any bytes as a YAML document.
 * Checks the loader's contract on every input: a config exactly when it
 * returns 0, a terminated report, and, for accepted inputs, consistent
 * queries. The first byte also picks the flags (it stays part of the
 * document, so seeds remain valid YAML). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cyaml/cyaml.h>

#include "config/diag.h"
#include "config/lines.h"
#include "config/schema.h"
#include "config/yamlcheck.h"
#include "neolink/arena.h"
#include "neolink/config.h"
#include "neolink/error.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void exercise(const nl_config *cfg)
{
    nl_config_path paths[NL_CONFIG_PATHS_MAX];
    for (size_t i = 0; i < cfg->camera_count; i++) {
        const nl_config_camera *c = &cfg->cameras[i];
        size_t n = nl_config_camera_paths(c, paths, NL_CONFIG_PATHS_MAX);
        if (n == 0 || n > NL_CONFIG_PATHS_MAX || paths[0].path[0] != '/')
            abort();
        if (!nl_config_camera_equal(c, c) || !c->host || !c->name)
            abort();
        (void)nl_config_camera_allows(cfg, c, NULL);
        for (size_t u = 0; u < cfg->user_count; u++)
            (void)nl_config_camera_allows(cfg, c, cfg->users[u].name);
    }
}

/* The loader's premise: whatever the structural pass accepts, libcyaml
 * loads. A disagreement is a gap in yamlcheck.c (it would surface to users
 * as a less precise "rejected by the YAML loader" message). */
static void check_passes_agree(const uint8_t *data, size_t size)
{
    nl_arena *a = NULL;
    if (size > NL_CONFIG_MAX_FILE_SIZE || nl_arena_create(&a, NULL, 0, "fuzz") < 0)
        return;
    nl__cfg_lines *lines = nl__cfg_lines_new(a);
    nl__cfg_diag diag;
    nl__cfg_diag_init(&diag, "fuzz.yaml", NULL, 0);
    int root = 0;
    if (lines &&
        nl__cfg_check((const char *)data, size, &nl__cfg_schema, lines, &diag, &root) == 0 &&
        diag.errors == 0 && root) {
        cyaml_config_t cc = {.log_fn = NULL,
                             .mem_fn = cyaml_mem,
                             .log_level = CYAML_LOG_ERROR,
                             .flags = CYAML_CFG_NO_ALIAS};
        cyaml_data_t *raw = NULL;
        cyaml_err_t e = cyaml_load_data(data, size, &cc, &nl__cfg_schema, &raw, NULL);
        if (e != CYAML_OK && e != CYAML_ERR_OOM)
            abort();
        if (raw)
            cyaml_free(&cc, &nl__cfg_schema, raw, 0);
    }
    nl_arena_destroy(&a);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    check_passes_agree(data, size);

    unsigned flags = (size && (data[0] & 1)) ? NL_CONFIG_ALLOW_NO_CAMERAS : 0;
    char err[4096];
    memset(err, 'x', sizeof err);
    nl_config *cfg = NULL;
    int rc =
        nl_config_load_string(&cfg, (const char *)data, size, "fuzz.yaml", flags, err, sizeof err);
    if (memchr(err, '\0', sizeof err) == NULL)
        abort();
    for (const char *p = err; *p; p++)
        if ((unsigned char)*p < 0x20 && *p != '\n')
            abort(); /* one printable line per message */
    if ((rc == 0) != (cfg != NULL))
        abort();
    if (rc != 0 && rc != NL_ECONFIG && rc != NL_ENOMEM)
        abort();
    if (cfg)
        exercise(cfg);
    nl_config_free(&cfg);

    /* The value parsers on their own, with a NUL-terminated prefix. */
    char text[64];
    size_t n = size < sizeof text - 1 ? size : sizeof text - 1;
    memcpy(text, data, n);
    text[n] = '\0';
    int64_t v;
    if (nl_config_parse_duration(text, &v) == 0 && v < 0)
        abort();
    if (nl_config_parse_size(text, &v) == 0 && v < 0)
        abort();
    return 0;
}
