/* Schema-driven structural pass; see yamlcheck.h. One explicit stack of
 * frames (one per open mapping or list that the schema knows), plus a depth
 * counter for subtrees being skipped, so nesting in the input costs no C
 * stack. */
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <yaml.h>

#include "config/units.h"
#include "config/yamlcheck.h"
#include "neolink/error.h"

/* Deeper than any path in the schema (root, cameras, [i], transcode). */
#define MAX_FRAMES 8
#define PATH_CAP   160

enum {
    FIELD_KEY = -1,  /* a mapping expects a key next */
    FIELD_SKIP = -2, /* a mapping's next value belongs to a bad key: skip it */
};

typedef struct frame {
    const cyaml_schema_value_t *schema; /* CYAML_MAPPING or CYAML_SEQUENCE */
    char path[PATH_CAP];                /* "" for the root, "cameras[1]" ... */
    int line;                           /* where the node starts */
    uint64_t seen;                      /* mapping: fields already given */
    int field;                          /* mapping: FIELD_* or index of the pending value */
    unsigned count;                     /* sequence: entries so far */
} frame;

typedef struct checker {
    const char *data;
    size_t len;
    nl__cfg_lines *lines;
    nl__cfg_diag *diag;
    frame stack[MAX_FRAMES];
    int depth;     /* frames in use */
    unsigned skip; /* > 0 while inside a skipped subtree */
    int have_root; /* the document's root node was seen */
    int root_is_map;
    int oom;
} checker;

char *nl__cfg_printable(char *out, size_t cap, const char *text, size_t len)
{
    const size_t limit = 40;
    size_t o = 0;
    for (size_t i = 0; i < len && o + 4 < cap; i++) {
        if (i == limit) {
            memcpy(out + o, "...", 3);
            o += 3;
            break;
        }
        unsigned char c = (unsigned char)text[i];
        out[o++] = (c < 0x20 || c == 0x7f) ? '?' : (char)c;
    }
    if (cap)
        out[o < cap ? o : cap - 1] = '\0';
    return out;
}

static int line_of(const yaml_mark_t *m)
{
    return (int)m->line + 1;
}

static void record(checker *c, const char *path, int line)
{
    if (!c->oom && nl__cfg_lines_put(c->lines, path, line) != 0)
        c->oom = 1;
}

static size_t field_count(const cyaml_schema_value_t *map)
{
    size_t n = 0;
    while (map->mapping.fields[n].key)
        n++;
    return n;
}

/* Edit distance of two short strings (cut to 32 bytes), for "did you mean". */
static unsigned distance(const char *a, const char *b)
{
    enum { N = 32 };
    size_t la = strlen(a), lb = strlen(b);
    if (la > N)
        la = N;
    if (lb > N)
        lb = N;
    unsigned row[N + 1];
    for (size_t j = 0; j <= lb; j++)
        row[j] = (unsigned)j;
    for (size_t i = 1; i <= la; i++) {
        unsigned diag = row[0];
        row[0] = (unsigned)i;
        for (size_t j = 1; j <= lb; j++) {
            unsigned up = row[j];
            unsigned cost = (a[i - 1] | 0x20) == (b[j - 1] | 0x20) ? 0 : 1;
            unsigned best = diag + cost;
            if (up + 1 < best)
                best = up + 1;
            if (row[j - 1] + 1 < best)
                best = row[j - 1] + 1;
            row[j] = best;
            diag = up;
        }
    }
    return row[lb];
}

static const char *suggest(const cyaml_schema_value_t *map, const char *key)
{
    const char *best = NULL;
    unsigned best_d = 0;
    size_t klen = strlen(key);
    unsigned limit = klen >= 6 ? 2 : 1;
    for (const cyaml_schema_field_t *f = map->mapping.fields; f->key; f++) {
        unsigned d = distance(key, f->key);
        if (d <= limit && (!best || d < best_d)) {
            best = f->key;
            best_d = d;
        }
    }
    if (best || klen < 4)
        return best;
    /* No near spelling: a key that one is a prefix of, such as "password"
     * for a user's "pass" (the shortest such key). */
    for (const cyaml_schema_field_t *f = map->mapping.fields; f->key; f++) {
        size_t flen = strlen(f->key);
        size_t n = flen < klen ? flen : klen;
        if (n >= 4 && !strncmp(f->key, key, n) && (!best || flen < strlen(best)))
            best = f->key;
    }
    return best;
}

static void join(char *out, const char *prefix, const char *key)
{
    if (*prefix)
        snprintf(out, PATH_CAP, "%s.%s", prefix, key);
    else
        snprintf(out, PATH_CAP, "%s", key);
}

static void enum_list(char *out, size_t cap, const cyaml_schema_value_t *v)
{
    size_t o = 0;
    out[0] = '\0';
    for (uint32_t i = 0; i < v->enumeration.count; i++) {
        const cyaml_strval_t *s = &v->enumeration.strings[i];
        int dup = 0;
        for (uint32_t j = 0; j < i; j++)
            dup |= v->enumeration.strings[j].val == s->val;
        if (dup)
            continue; /* list each value once, by its canonical spelling */
        int n = snprintf(out + o, cap - o, "%s%s", o ? "|" : "", s->str);
        if (n < 0 || (size_t)n >= cap - o)
            return;
        o += (size_t)n;
    }
}

static void check_int(checker *c, const cyaml_schema_value_t *v, const char *text, const char *path,
                      int line)
{
    char shown[48];
    int64_t n;
    int rc = nl__cfg_parse_int(text, &n);
    if (rc == 0 && v->type == CYAML_UINT && n < 0)
        rc = NL_EINVAL;
    if (rc == 0 && v->data_size < 8) {
        int64_t lim = (INT64_C(1) << (v->data_size * 8 - (v->type == CYAML_INT))) - 1;
        if (n > lim || (v->type == CYAML_INT && n < -lim - 1))
            rc = NL_ERANGE;
    }
    /* libcyaml reads integers with base 0, where "010" is octal 8: a
     * leading zero is refused rather than read two different ways. */
    const char *digits = text[0] == '-' ? text + 1 : text;
    if (rc == 0 && digits[0] == '0' && digits[1] != '\0')
        nl__cfg_error(c->diag, line, path,
                      "expected a whole number without leading zeros, "
                      "got '%s'",
                      nl__cfg_printable(shown, sizeof shown, text, strlen(text)));
    else if (rc == NL_ERANGE)
        nl__cfg_error(c->diag, line, path, "number out of range");
    else if (rc != 0)
        nl__cfg_error(c->diag, line, path, "expected a whole number, got '%s'",
                      nl__cfg_printable(shown, sizeof shown, text, strlen(text)));
}

static void check_scalar(checker *c, const cyaml_schema_value_t *v, const yaml_event_t *ev,
                         const char *path)
{
    const char *text = (const char *)ev->data.scalar.value;
    size_t len = ev->data.scalar.length;
    int line = line_of(&ev->start_mark);
    char shown[48];
    if (strlen(text) != len) {
        nl__cfg_error(c->diag, line, path, "contains a NUL character");
        return;
    }
    switch (v->type) {
    case CYAML_INT:
    case CYAML_UINT:
        check_int(c, v, text, path, line);
        break;
    case CYAML_BOOL: {
        int b;
        if (nl__cfg_parse_bool(text, &b) != 0)
            nl__cfg_error(c->diag, line, path, "expected true or false, got '%s'",
                          nl__cfg_printable(shown, sizeof shown, text, len));
        break;
    }
    case CYAML_ENUM: {
        int icase = (v->flags & CYAML_FLAG_CASE_INSENSITIVE) != 0;
        for (uint32_t i = 0; i < v->enumeration.count; i++) {
            const char *s = v->enumeration.strings[i].str;
            if (icase ? !strcasecmp(s, text) : !strcmp(s, text))
                return;
        }
        char list[128];
        enum_list(list, sizeof list, v);
        nl__cfg_error(c->diag, line, path, "expected one of %s, got '%s'", list,
                      nl__cfg_printable(shown, sizeof shown, text, len));
        break;
    }
    case CYAML_STRING:
        /* The value itself is never echoed: it may be a password. */
        if (len < v->string.min)
            nl__cfg_error(c->diag, line, path, "must not be empty");
        else if (len > v->string.max)
            nl__cfg_error(c->diag, line, path, "too long (at most %u bytes)",
                          (unsigned)v->string.max);
        break;
    default:
        /* No other scalar types are used by the schema. */
        nl__cfg_error(c->diag, line, path, "unsupported value type");
        break;
    }
}

static int is_start(yaml_event_type_t t)
{
    return t == YAML_MAPPING_START_EVENT || t == YAML_SEQUENCE_START_EVENT;
}

static void push(checker *c, const cyaml_schema_value_t *schema, const char *path, int line)
{
    if (c->depth >= MAX_FRAMES) {
        /* Cannot happen with the schema in schema.c; be safe anyway. */
        nl__cfg_error(c->diag, line, path, "nested too deeply");
        c->skip = 1;
        return;
    }
    frame *f = &c->stack[c->depth++];
    memset(f, 0, sizeof *f);
    f->schema = schema;
    snprintf(f->path, sizeof f->path, "%s", path);
    f->line = line;
    f->field = FIELD_KEY;
}

static const char *kind_name(yaml_event_type_t t)
{
    switch (t) {
    case YAML_MAPPING_START_EVENT:
        return "a mapping";
    case YAML_SEQUENCE_START_EVENT:
        return "a list";
    case YAML_ALIAS_EVENT:
        return "an alias";
    default:
        return "a single value";
    }
}

/* A node whose schema is `v`, at `path`. */
static void value(checker *c, const cyaml_schema_value_t *v, const yaml_event_t *ev,
                  const char *path)
{
    int line = line_of(&ev->start_mark);
    if (ev->type == YAML_ALIAS_EVENT) {
        nl__cfg_error(c->diag, line, path, "YAML aliases are not supported");
        return;
    }
    if (v->type == CYAML_MAPPING) {
        if (ev->type == YAML_MAPPING_START_EVENT) {
            push(c, v, path, line);
            return;
        }
        nl__cfg_error(c->diag, line, path, "expected a mapping (key: value lines), got %s",
                      kind_name(ev->type));
    } else if (v->type == CYAML_SEQUENCE) {
        if (ev->type == YAML_SEQUENCE_START_EVENT) {
            push(c, v, path, line);
            return;
        }
        nl__cfg_error(c->diag, line, path, "expected a list (write [] for an empty one), got %s",
                      kind_name(ev->type));
    } else if (ev->type == YAML_SCALAR_EVENT) {
        check_scalar(c, v, ev, path);
        return;
    } else {
        nl__cfg_error(c->diag, line, path, "expected a single value, got %s", kind_name(ev->type));
    }
    if (is_start(ev->type))
        c->skip = 1;
}

static void mapping_end(checker *c, frame *f)
{
    const cyaml_schema_field_t *fields = f->schema->mapping.fields;
    char path[PATH_CAP];
    for (size_t i = 0; fields[i].key; i++) {
        if ((fields[i].value.flags & CYAML_FLAG_OPTIONAL) || (i < 64 && (f->seen >> i) & 1))
            continue;
        join(path, f->path, fields[i].key);
        nl__cfg_error(c->diag, f->line, path, "required key is missing");
    }
}

static void mapping_key(checker *c, frame *f, const yaml_event_t *ev)
{
    int line = line_of(&ev->start_mark);
    char shown[48], path[PATH_CAP];
    if (ev->type != YAML_SCALAR_EVENT) {
        nl__cfg_error(c->diag, line, f->path[0] ? f->path : NULL,
                      "keys must be plain words, not %s", kind_name(ev->type));
        if (is_start(ev->type))
            c->skip = 1;
        f->field = FIELD_SKIP;
        return;
    }
    const char *key = (const char *)ev->data.scalar.value;
    const cyaml_schema_field_t *fields = f->schema->mapping.fields;
    size_t n = field_count(f->schema);
    size_t i = 0;
    while (i < n && (strlen(key) != ev->data.scalar.length || strcmp(fields[i].key, key)))
        i++;
    if (i == n) {
        nl__cfg_printable(shown, sizeof shown, key, ev->data.scalar.length);
        join(path, f->path, shown);
        const char *hint = suggest(f->schema, shown);
        if (hint)
            nl__cfg_error(c->diag, line, path, "unknown key (did you mean '%s'?)", hint);
        else
            nl__cfg_error(c->diag, line, path, "unknown key");
        f->field = FIELD_SKIP;
        return;
    }
    join(path, f->path, fields[i].key);
    if (i < 64 && (f->seen >> i) & 1) {
        nl__cfg_error(c->diag, line, path, "duplicate key (first given on line %d)",
                      nl__cfg_lines_get(c->lines, path));
        f->field = FIELD_SKIP;
        return;
    }
    if (i < 64)
        f->seen |= UINT64_C(1) << i;
    record(c, path, line);
    f->field = (int)i;
}

static void in_mapping(checker *c, frame *f, const yaml_event_t *ev)
{
    if (f->field == FIELD_KEY) {
        if (ev->type == YAML_MAPPING_END_EVENT) {
            mapping_end(c, f);
            c->depth--;
        } else {
            mapping_key(c, f, ev);
        }
        return;
    }
    if (f->field == FIELD_SKIP) {
        f->field = FIELD_KEY;
        if (is_start(ev->type))
            c->skip = 1;
        return;
    }
    const cyaml_schema_field_t *field = &f->schema->mapping.fields[f->field];
    char path[PATH_CAP];
    join(path, f->path, field->key);
    f->field = FIELD_KEY;
    value(c, &field->value, ev, path); /* may push: f stays valid (array) */
}

static void in_sequence(checker *c, frame *f, const yaml_event_t *ev)
{
    const cyaml_schema_value_t *seq = f->schema;
    if (ev->type == YAML_SEQUENCE_END_EVENT) {
        if (f->count < seq->sequence.min)
            nl__cfg_error(c->diag, f->line, f->path, "needs at least %u entries",
                          (unsigned)seq->sequence.min);
        c->depth--;
        return;
    }
    unsigned idx = f->count++;
    int line = line_of(&ev->start_mark);
    if (idx >= seq->sequence.max) {
        if (idx == seq->sequence.max)
            nl__cfg_error(c->diag, line, f->path, "too many entries (at most %u)",
                          (unsigned)seq->sequence.max);
        if (is_start(ev->type))
            c->skip = 1;
        return;
    }
    char path[PATH_CAP];
    /* Paths are bounded by the schema's depth; a cut path only shortens a
     * message, so truncation is acceptable here. */
    if (snprintf(path, sizeof path, "%s[%u]", f->path, idx) >= (int)sizeof path)
        path[sizeof path - 1] = '\0';
    record(c, path, line);
    value(c, seq->sequence.entry, ev, path);
}

static void root(checker *c, const cyaml_schema_value_t *schema, const yaml_event_t *ev)
{
    c->have_root = 1;
    int line = line_of(&ev->start_mark);
    if (ev->type == YAML_MAPPING_START_EVENT) {
        c->root_is_map = 1;
        push(c, schema, "", line);
        return;
    }
    if (ev->type == YAML_SCALAR_EVENT) {
        const char *s = (const char *)ev->data.scalar.value;
        int plain = ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE;
        if (plain && (!*s || !strcmp(s, "~") || !strcasecmp(s, "null")))
            return; /* an empty document: every setting at its default */
    }
    nl__cfg_error(c->diag, line, NULL, "expected a mapping of settings (key: value lines), got %s",
                  kind_name(ev->type));
    if (is_start(ev->type))
        c->skip = 1;
}

/* Line of a reader error, which libyaml reports as a byte offset. */
static int line_at(const checker *c, size_t offset)
{
    int line = 1;
    for (size_t i = 0; i < offset && i < c->len; i++)
        line += c->data[i] == '\n';
    return line;
}

static void syntax_error(checker *c, const yaml_parser_t *p)
{
    if (p->error == YAML_MEMORY_ERROR) {
        c->oom = 1;
        return;
    }
    const char *problem = p->problem ? p->problem : "malformed document";
    if (p->error == YAML_READER_ERROR) {
        nl__cfg_error(c->diag, line_at(c, p->problem_offset), NULL, "not valid UTF-8 text: %s",
                      problem);
        return;
    }
    int line = line_of(&p->problem_mark);
    size_t at = p->problem_mark.index;
    const char *hint = (at < c->len && c->data[at] == '\t') ? " (use spaces, not tabs)" : "";
    if (p->context)
        nl__cfg_error(c->diag, line, NULL, "YAML syntax error: %s: %s%s", p->context, problem,
                      hint);
    else
        nl__cfg_error(c->diag, line, NULL, "YAML syntax error: %s%s", problem, hint);
}

/* Feeds one event; returns 0 to go on, 1 when the document is finished. */
static int step(checker *c, const cyaml_schema_value_t *schema, const yaml_event_t *ev)
{
    switch (ev->type) {
    case YAML_STREAM_END_EVENT:
        return 1;
    case YAML_STREAM_START_EVENT:
    case YAML_DOCUMENT_END_EVENT:
    case YAML_NO_EVENT:
        return 0;
    case YAML_DOCUMENT_START_EVENT:
        if (c->have_root) {
            nl__cfg_error(c->diag, line_of(&ev->start_mark), NULL,
                          "only one YAML document is allowed (remove this '---')");
            return 1;
        }
        return 0;
    default:
        break;
    }
    if (c->skip) {
        if (is_start(ev->type))
            c->skip++;
        else if (ev->type == YAML_MAPPING_END_EVENT || ev->type == YAML_SEQUENCE_END_EVENT)
            c->skip--;
        return 0;
    }
    if (!c->have_root) {
        root(c, schema, ev);
        return 0;
    }
    if (c->depth == 0)
        return 0; /* cannot happen: the root's end closes the document */
    frame *f = &c->stack[c->depth - 1];
    if (f->schema->type == CYAML_MAPPING)
        in_mapping(c, f, ev);
    else
        in_sequence(c, f, ev);
    return 0;
}

int nl__cfg_check(const char *data, size_t len, const cyaml_schema_value_t *schema,
                  nl__cfg_lines *lines, nl__cfg_diag *diag, int *root_is_mapping)
{
    checker c;
    memset(&c, 0, sizeof c);
    c.data = data;
    c.len = len;
    c.lines = lines;
    c.diag = diag;
    *root_is_mapping = 0;

    yaml_parser_t p;
    if (!yaml_parser_initialize(&p))
        return NL_ENOMEM;
    yaml_parser_set_input_string(&p, (const unsigned char *)data, len);
    for (;;) {
        yaml_event_t ev;
        if (!yaml_parser_parse(&p, &ev)) {
            syntax_error(&c, &p);
            break;
        }
        int done = step(&c, schema, &ev);
        yaml_event_delete(&ev);
        if (done || c.oom)
            break;
    }
    yaml_parser_delete(&p);
    *root_is_mapping = c.root_is_map;
    return c.oom ? NL_ENOMEM : 0;
}
