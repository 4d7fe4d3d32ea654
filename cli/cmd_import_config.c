/* neolink-cli import-config NEOLINK.TOML [-o CONFIG.YAML]: converts the
 * configuration of the original (Rust) neolink to this program's YAML.
 * Warnings (keys left out, and why) go to stderr; they name keys, never
 * passwords. The YAML does hold the passwords, so a file written with -o
 * is created with mode 0600 and only replaces the target once complete. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "neolink/config.h"
#include "neolink/config_import.h"
#include "neolink/error.h"

/* Declared in the generated verbs.h, which also defines the verb table. */
int nl_cli_cmd_import_config(int argc, char **argv);
extern const char nl_cli_help_import_config[];

const char nl_cli_help_import_config[] =
    "convert a neolink (Rust) TOML config to YAML (FILE [-o OUT])";

/* Room for the library's 50 message lines and its "... and N more". */
#define MSG_BUF 32768

static void usage(FILE *out)
{
    fprintf(out, "usage: neolink-cli import-config NEOLINK.TOML [-o CONFIG.YAML]\n"
                 "  Converts a neolink (thirtythreeforty/neolink or QuantumEntangledAndy/neolink)\n"
                 "  TOML configuration to YAML for 'neolink-cli serve'. Keys that have no\n"
                 "  equivalent are reported on stderr with their line and left out.\n"
                 "  NEOLINK.TOML  the file to read ('-' for stdin)\n"
                 "  -o, --output FILE  write the YAML to FILE (mode 0600) instead of stdout\n"
                 "Exit status: 0 converted (perhaps with warnings), 1 unreadable or invalid\n"
                 "TOML, 2 bad usage. Check the result with 'neolink-cli check CONFIG.YAML'.\n");
}

/* Reads at most NL_CONFIG_MAX_FILE_SIZE bytes (one more to detect a larger
 * file, which the library then refuses with a message). */
static char *read_input(const char *path, size_t *len)
{
    FILE *f = strcmp(path, "-") ? fopen(path, "rb") : stdin;
    if (!f) {
        fprintf(stderr, "neolink-cli import-config: %s: %s\n", path, strerror(errno));
        return NULL;
    }
    size_t cap = NL_CONFIG_MAX_FILE_SIZE + 1;
    char *buf = malloc(cap);
    size_t n = 0;
    if (buf) {
        size_t got;
        while (n < cap && (got = fread(buf + n, 1, cap - n, f)) > 0)
            n += got;
    }
    int bad = !buf || ferror(f);
    int saved = errno;
    if (f != stdin)
        fclose(f);
    if (bad) {
        fprintf(stderr, "neolink-cli import-config: %s: %s\n", path,
                buf ? strerror(saved) : "out of memory");
        free(buf);
        return NULL;
    }
    *len = n;
    return buf;
}

static int same_file(const char *a, const char *b)
{
    struct stat sa, sb;
    return stat(a, &sa) == 0 && stat(b, &sb) == 0 && sa.st_dev == sb.st_dev &&
           sa.st_ino == sb.st_ino;
}

/* 0 or an errno value. */
static int write_all(int fd, const char *text, size_t len)
{
    size_t off = 0;
    while (off < len) {
        ssize_t w = write(fd, text + off, len - off);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return w < 0 ? errno : EIO;
        off += (size_t)w;
    }
    return 0;
}

/* Writes text to a fresh 0600 file next to the target, then renames it over
 * the target, so a failure never leaves a half-written or world-readable
 * config. A symlink is followed (the link stays). Devices, pipes and
 * anything under /dev or /proc (/dev/stdout) are written to in place:
 * replacing them would break the system or lose the output. */
static int write_private(const char *path, const char *text, size_t len)
{
    struct stat st;
    int special = !strncmp(path, "/dev/", 5) || !strncmp(path, "/proc/", 6);
    if (special || (stat(path, &st) == 0 && !S_ISREG(st.st_mode))) {
        int fd = open(path, O_WRONLY | O_CLOEXEC);
        int err = fd < 0 ? errno : write_all(fd, text, len);
        if (fd >= 0 && close(fd) != 0 && !err)
            err = errno;
        if (err)
            fprintf(stderr, "neolink-cli import-config: %s: %s\n", path, strerror(err));
        return err ? -1 : 0;
    }
    char *real = realpath(path, NULL); /* NULL when it does not exist yet */
    const char *target = real ? real : path;
    size_t n = strlen(target);
    char *tmp = malloc(n + 8);
    if (!tmp) {
        fprintf(stderr, "neolink-cli import-config: out of memory\n");
        free(real);
        return -1;
    }
    memcpy(tmp, target, n);
    memcpy(tmp + n, ".XXXXXX", 8);
    int fd = mkstemp(tmp); /* creates the file with mode 0600 */
    int err = fd < 0 ? errno : write_all(fd, text, len);
    if (fd >= 0) {
        if (!err && fsync(fd) != 0)
            err = errno;
        if (close(fd) != 0 && !err)
            err = errno;
        if (!err && rename(tmp, target) != 0)
            err = errno;
        if (err)
            unlink(tmp);
    }
    if (err)
        fprintf(stderr, "neolink-cli import-config: %s: %s\n", path, strerror(err));
    free(tmp);
    free(real);
    return err ? -1 : 0;
}

int nl_cli_cmd_import_config(int argc, char **argv)
{
    const char *in = NULL, *out = NULL;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            usage(stdout);
            return 0;
        }
        if (!strcmp(a, "-o") || !strcmp(a, "--output")) {
            if (i + 1 >= argc) {
                fprintf(stderr, "neolink-cli import-config: %s needs a file name\n", a);
                return 2;
            }
            out = argv[++i];
        } else if (!strncmp(a, "--output=", 9)) {
            out = a + 9;
        } else if (a[0] == '-' && a[1]) {
            fprintf(stderr, "neolink-cli import-config: unknown option '%s'\n", a);
            usage(stderr);
            return 2;
        } else if (in) {
            fprintf(stderr, "neolink-cli import-config: only one input file may be given\n");
            return 2;
        } else {
            in = a;
        }
    }
    if (!in || (out && !*out)) {
        usage(stderr);
        return 2;
    }
    if (out && !strcmp(out, "-"))
        out = NULL;
    if (out && strcmp(in, "-") && same_file(in, out)) {
        fprintf(stderr, "neolink-cli import-config: refusing to overwrite the input file %s\n", in);
        return 2;
    }
    size_t len = 0;
    char *toml = read_input(in, &len);
    if (!toml)
        return 1;
    static char msg[MSG_BUF];
    char *yaml = NULL;
    size_t yaml_len = 0;
    int rc = nl_config_import_neolink(toml, len, strcmp(in, "-") ? in : "<stdin>", &yaml, &yaml_len,
                                      msg, sizeof msg);
    free(toml);
    fputs(msg, stderr); /* the error, or the warnings */
    if (rc < 0) {
        if (!msg[0])
            fprintf(stderr, "%s: %s\n", in, nl_strerror(rc));
        return 1;
    }
    int status = 0;
    if (out) {
        if (write_private(out, yaml, yaml_len) == 0)
            fprintf(stderr, "wrote %s (%d warning%s); check it with: neolink-cli check %s\n", out,
                    rc, rc == 1 ? "" : "s", out);
        else
            status = 1;
    } else if (fwrite(yaml, 1, yaml_len, stdout) != yaml_len || fflush(stdout) != 0) {
        fprintf(stderr, "neolink-cli import-config: writing the YAML: %s\n", strerror(errno));
        status = 1;
    }
    nl_config_import_free(&yaml);
    return status;
}
