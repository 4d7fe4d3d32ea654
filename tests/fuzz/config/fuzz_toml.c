/* Fuzz target for the TOML reader and the neolink import: any bytes as a
 * neolink configuration. Checks the tree the reader builds (counts, lines,
 * UTF-8 strings), the import's contract (YAML exactly on success, a
 * terminated report of printable lines), and that every YAML it produces
 * is well-formed for the configuration loader: a syntax error, an unknown
 * or duplicate key there would be a bug in the importer, not in the input. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "config/toml.h"
#include "neolink/arena.h"
#include "neolink/config.h"
#include "neolink/config_import.h"
#include "neolink/error.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int valid_utf8(const unsigned char *s)
{
    while (*s) {
        size_t n = *s < 0x80 ? 0 : *s >= 0xf0 ? 3 : *s >= 0xe0 ? 2 : *s >= 0xc2 ? 1 : 9;
        if (n == 9)
            return 0;
        for (size_t i = 1; i <= n; i++)
            if ((s[i] & 0xc0) != 0x80)
                return 0;
        s += n + 1;
    }
    return 1;
}

/* Walks the tree; returns the number of nodes. The tree is at most a few
 * hundred levels deep: 16 nested values, each with up to 16 dotted key
 * parts, below a header of up to 16 parts. */
static size_t walk(const nl__toml_value *v, int max_line, int depth)
{
    if (depth > 32 * NL_TOML_MAX_DEPTH || v->line < 1 || v->line > max_line)
        abort();
    size_t nodes = 1;
    switch (v->type) {
    case NL_TOML_TABLE:
    case NL_TOML_ARRAY: {
        size_t count = 0;
        const nl__toml_value *last = NULL;
        for (const nl__toml_value *c = v->u.kids.first; c; c = c->next) {
            if ((v->type == NL_TOML_TABLE) != (c->key != NULL))
                abort();
            if (c->key && (nl__toml_get(v, c->key) == NULL || !valid_utf8((const void *)c->key)))
                abort();
            nodes += walk(c, max_line, depth + 1);
            last = c;
            count++;
        }
        if (count != v->u.kids.count || last != v->u.kids.last)
            abort();
        if (v->type == NL_TOML_TABLE && count > NL_TOML_MAX_TABLE_KEYS)
            abort();
        break;
    }
    case NL_TOML_STRING:
        if (!v->u.str || !valid_utf8((const unsigned char *)v->u.str))
            abort();
        break;
    case NL_TOML_BOOL:
        if (v->u.b != 0 && v->u.b != 1)
            abort();
        break;
    default:
        break;
    }
    return nodes;
}

static void check_report(const char *msg, size_t cap)
{
    if (memchr(msg, '\0', cap) == NULL)
        abort();
    for (const char *p = msg; *p; p++)
        if ((unsigned char)*p < 0x20 && *p != '\n')
            abort();
}

static int starts(const char *s, const char *prefix)
{
    return !strncmp(s, prefix, strlen(prefix));
}

/* Whether the loader's report on our YAML shows a mistake of the importer:
 * malformed YAML, or a key or shape the schema does not know. Only the start
 * of each message is looked at, because values the input chose (and so
 * any text at all) are quoted further on. Lines read
 * "fuzz.yaml:N: [warning: ][KEY: ]message", and KEY is one of the paths we
 * write, made of [A-Za-z0-9_.[]] only. */
static int importer_bug(const char *report)
{
    static const char *const whole[] = {"YAML syntax error", "not valid UTF-8", "YAML aliases",
                                        "expected a mapping of settings"};
    static const char *const keyed[] = {
        "unknown key",       "duplicate key",  "expected a mapping", "expected a list",
        "expected a single", "contains a NUL", "unsupported value",  "rejected by the YAML"};
    for (const char *line = report; *line;) {
        const char *end = strchr(line, '\n');
        const char *p = line;
        if (starts(p, "fuzz.yaml:"))
            p += 10;
        while (*p >= '0' && *p <= '9')
            p++;
        if (starts(p, ": "))
            p += 2;
        if (starts(p, "warning: "))
            p += 9;
        for (size_t i = 0; i < sizeof whole / sizeof whole[0]; i++)
            if (starts(p, whole[i]))
                return 1;
        const char *k = p;
        while ((*k >= 'a' && *k <= 'z') || (*k >= '0' && *k <= '9') || *k == '_' || *k == '.' ||
               *k == '[' || *k == ']')
            k++;
        if (k > p && starts(k, ": "))
            for (size_t i = 0; i < sizeof keyed / sizeof keyed[0]; i++)
                if (starts(k + 2, keyed[i]))
                    return 1;
        if (!end)
            break;
        line = end + 1;
    }
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* The reader on its own. */
    nl_arena *a = NULL;
    if (nl_arena_create(&a, NULL, 64u << 20, "fuzz") != 0)
        return 0;
    nl__toml_value *root = NULL;
    nl__toml_error err;
    int rc = nl__toml_parse(a, (const char *)data, size, &root, &err);
    if ((rc == 0) != (root != NULL) || memchr(err.msg, '\0', sizeof err.msg) == NULL)
        abort();
    if (rc != 0 && (rc != NL_ECONFIG || !err.msg[0]))
        abort();
    int lines = 1;
    for (size_t i = 0; i < size; i++)
        lines += data[i] == '\n';
    if (rc != 0 && (err.line < 1 || err.line > lines))
        abort();
    if (root && (root->type != NL_TOML_TABLE || walk(root, lines, 0) > NL_TOML_MAX_NODES))
        abort();
    nl_arena_destroy(&a);

    /* The import, and the YAML it writes. */
    static char msg[8192];
    memset(msg, 'x', sizeof msg);
    char *yaml = NULL;
    size_t ylen = 0;
    int irc = nl_config_import_neolink((const char *)data, size, "fuzz.toml", &yaml, &ylen, msg,
                                       sizeof msg);
    check_report(msg, sizeof msg);
    if ((irc >= 0) != (yaml != NULL) || (irc >= 0) != (rc == 0))
        abort();
    if (irc < 0 && irc != NL_ECONFIG && irc != NL_ENOMEM)
        abort();
    if (!yaml)
        return 0;
    if (strlen(yaml) != ylen || !valid_utf8((const unsigned char *)yaml))
        abort();
    static char err2[8192];
    nl_config *cfg = NULL;
    int lrc = nl_config_load_string(&cfg, yaml, ylen, "fuzz.yaml", NL_CONFIG_ALLOW_NO_CAMERAS, err2,
                                    sizeof err2);
    if (importer_bug(err2))
        abort();
    if ((lrc == 0) != (cfg != NULL))
        abort();
    nl_config_free(&cfg);
    nl_config_import_free(&yaml);
    return 0;
}
