/* A fixed-size chained hash table in an arena. Lookups happen once per
 * loaded entry and once per message, so a simple FNV-1a hash is plenty. */
#include <stdint.h>
#include <string.h>

#include "config/lines.h"
#include "neolink/error.h"

#define BUCKETS      1024u
#define PATH_MAX_LEN 256u

typedef struct entry {
    struct entry *next;
    int line;
    char path[];
} entry;

struct nl__cfg_lines {
    nl_arena *arena;
    entry *bucket[BUCKETS];
};

static uint32_t hash(const char *s)
{
    uint32_t h = 2166136261u;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 16777619u;
    return h % BUCKETS;
}

nl__cfg_lines *nl__cfg_lines_new(nl_arena *a)
{
    nl__cfg_lines *m = nl_arena_alloc(a, sizeof *m);
    if (m)
        m->arena = a;
    return m;
}

static entry *find(const nl__cfg_lines *m, const char *path, uint32_t h)
{
    for (entry *e = m->bucket[h]; e; e = e->next)
        if (!strcmp(e->path, path))
            return e;
    return NULL;
}

int nl__cfg_lines_put(nl__cfg_lines *m, const char *path, int line)
{
    uint32_t h = hash(path);
    if (find(m, path, h))
        return 0;
    size_t n = strlen(path);
    entry *e = nl_arena_alloc(m->arena, sizeof *e + n + 1);
    if (!e)
        return NL_ENOMEM;
    memcpy(e->path, path, n + 1);
    e->line = line;
    e->next = m->bucket[h];
    m->bucket[h] = e;
    return 0;
}

int nl__cfg_lines_get(const nl__cfg_lines *m, const char *path)
{
    if (!m)
        return 0;
    const entry *e = find(m, path, hash(path));
    return e ? e->line : 0;
}

int nl__cfg_lines_near(const nl__cfg_lines *m, const char *path, int fallback)
{
    char buf[PATH_MAX_LEN];
    size_t n = strlen(path);
    if (n >= sizeof buf)
        return fallback;
    memcpy(buf, path, n + 1);
    while (n > 0) {
        int line = nl__cfg_lines_get(m, buf);
        if (line > 0)
            return line;
        /* Drop the last component: ".key" or "[index]". */
        while (n > 0 && buf[n - 1] != '.' && buf[n - 1] != '[')
            n--;
        if (n > 0)
            n--;
        buf[n] = '\0';
    }
    return fallback;
}
