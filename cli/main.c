/* neolink-cli: argument dispatch only. Each verb lives in cli/cmd_<verb>.c and
 * uses the public API; the table is generated from those files by CMake. */
#include <stdio.h>
#include <string.h>

#include "neolink/version.h"
#include "verbs.h"

/* Verb names come from file names (cmd_import_config.c), so users may type
 * either "import-config" or "import_config". */
static int verb_matches(const char *typed, const char *name)
{
    for (; *typed && *name; typed++, name++) {
        char t = *typed == '-' ? '_' : *typed;
        if (t != *name)
            return 0;
    }
    return *typed == *name;
}

static void print_verb(FILE *out, const char *name)
{
    fputs("  ", out);
    int n = 0;
    for (; name[n]; n++)
        fputc(name[n] == '_' ? '-' : name[n], out);
    fprintf(out, "%*s", n < 14 ? 14 - n : 1, "");
}

static void usage(FILE *out)
{
    fprintf(out, "neolink-cli %s: Reolink (Baichuan) cameras to RTSP\n\n", nl_version_string());
    fprintf(out, "usage: neolink-cli VERB [options]\n\nverbs:\n");
    for (const nl_cli_verb *v = nl_cli_verbs; v->name; v++) {
        print_verb(out, v->name);
        fprintf(out, "%s\n", v->help);
    }
    fprintf(out, "\n'neolink-cli VERB --help' describes a verb's options.\n");
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
        usage(stdout);
        return 0;
    }
    if (!strcmp(argv[1], "--version") || !strcmp(argv[1], "version")) {
        printf("neolink-cli %s\n", nl_version_string());
        return 0;
    }
    for (const nl_cli_verb *v = nl_cli_verbs; v->name; v++)
        if (verb_matches(argv[1], v->name))
            return v->run(argc - 1, argv + 1);
    fprintf(stderr, "neolink-cli: unknown verb '%s' (try --help)\n", argv[1]);
    return 2;
}
