/* neolink TOML -> YAML import (lib/config/import.c): the exact YAML and
 * warnings for the sample files in tests/data/neolink, that the YAML loads
 * with the values neolink meant, aliases, escaping of awkward passwords,
 * name repair, caps, that no password reaches a message, and allocation
 * failure at every step. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "neolink/alloc.h"
#include "neolink/config.h"
#include "neolink/config_import.h"
#include "neolink/error.h"
#include "fail_alloc.h"
#include "test.h"

static char msg[16384];

static char *read_data(const char *name, size_t *len)
{
    char path[512];
    snprintf(path, sizeof path, "%s/neolink/%s", NL_TEST_DATA, name);
    FILE *f = fopen(path, "rb");
    if (!f)
        NL_FAIL("cannot open %s", path);
    char *buf = malloc(1 << 20);
    NL_ASSERT(buf);
    size_t n = fread(buf, 1, (1 << 20) - 1, f);
    fclose(f);
    buf[n] = '\0';
    if (len)
        *len = n;
    return buf;
}

/* Imports doc; fails the test unless it succeeds with `warnings` warnings. */
static char *import(const char *doc, size_t len, const char *name, int warnings)
{
    char *yaml = NULL;
    size_t ylen = 0;
    int rc = nl_config_import_neolink(doc, len, name, &yaml, &ylen, msg, sizeof msg);
    if (rc != warnings)
        NL_FAIL("import of %s: rc %d, expected %d warnings:\n%s", name, rc, warnings, msg);
    NL_ASSERT(yaml != NULL);
    NL_ASSERT_EQ(strlen(yaml), ylen);
    return yaml;
}

static char *import_str(const char *doc, int warnings)
{
    return import(doc, strlen(doc), "n.toml", warnings);
}

static nl_config *load_yaml(const char *yaml)
{
    char err[4096];
    nl_config *cfg = NULL;
    int rc = nl_config_load_string(&cfg, yaml, strlen(yaml), "imported.yaml", 0, err, sizeof err);
    if (rc != 0)
        NL_FAIL("imported YAML does not load: %d\n%s\n%s", rc, err, yaml);
    return cfg;
}

static const nl_config_camera *camera(const nl_config *cfg, const char *name)
{
    for (size_t i = 0; i < cfg->camera_count; i++)
        if (!strcmp(cfg->cameras[i].name, name))
            return &cfg->cameras[i];
    NL_FAIL("no camera %s", name);
}

static void no_secrets(const char *text, const char *const *secrets)
{
    for (; *secrets; secrets++)
        if (strstr(text, *secrets))
            NL_FAIL("secret '%s' in a message:\n%s", *secrets, text);
    nl_test_checks++;
}

static void test_basic(void)
{
    size_t len;
    char *toml = read_data("basic.toml", &len);
    char *want = read_data("basic.expected.yaml", NULL);
    char *yaml = import(toml, len, "basic.toml", 1);
    NL_ASSERT_STREQ(yaml, want);
    NL_ASSERT_STREQ(msg, "basic.toml:24: warning: cameras[1].name: 'storage shed' cannot be an "
                         "RTSP path here (letters, digits, '-' and '_', at most 64); imported "
                         "as 'storage_shed' (RTSP path /storage_shed)\n");

    nl_config *cfg = load_yaml(yaml);
    NL_ASSERT_STREQ(cfg->bind, "0.0.0.0");
    NL_ASSERT_EQ(cfg->bind_port, 8554);
    NL_ASSERT_EQ(cfg->user_count, 2);
    NL_ASSERT_STREQ(cfg->users[0].name, "me");
    NL_ASSERT_STREQ(cfg->users[0].pass.value, "mepass-secret");
    NL_ASSERT_STREQ(cfg->users[1].name, "someone"); /* from the `username` alias */
    NL_ASSERT_STREQ(cfg->users[1].pass.value, "someone-secret");
    NL_ASSERT_EQ(cfg->camera_count, 2);
    const nl_config_camera *d = camera(cfg, "driveway");
    NL_ASSERT_STREQ(d->host, "192.168.1.187");
    NL_ASSERT_EQ(d->port, 9000);
    NL_ASSERT_STREQ(d->username, "admin");
    NL_ASSERT_STREQ(d->password.value, "drive#way: secret");
    NL_ASSERT_EQ(d->stream, NL_CFG_STREAM_MAIN);
    NL_ASSERT_EQ(d->permitted_user_count, 1);
    NL_ASSERT_STREQ(d->permitted_users[0], "me");
    NL_ASSERT_EQ(d->channel_id, 0);
    NL_ASSERT_EQ(d->max_encryption, NL_CFG_ENC_AES);
    const nl_config_camera *s = camera(cfg, "storage_shed");
    NL_ASSERT_STREQ(s->host, "192.168.1.245");
    NL_ASSERT_EQ(s->channel_id, 2);
    NL_ASSERT_EQ(s->stream, NL_CFG_STREAM_BOTH);
    NL_ASSERT(s->permitted_users == NULL);
    nl_config_free(&cfg);

    static const char *const secrets[] = {"mepass-secret", "someone-secret", "drive#way",
                                          "shed-secret", NULL};
    no_secrets(msg, secrets);
    nl_config_import_free(&yaml);
    NL_ASSERT(yaml == NULL);
    nl_config_import_free(&yaml); /* a second free is a no-op */
    nl_config_import_free(NULL);
    free(want);
    free(toml);
}

static void test_fork(void)
{
    size_t len;
    char *toml = read_data("fork.toml", &len);
    char *want = read_data("fork.expected.yaml", NULL);
    char *want_msg = read_data("fork.expected.warnings", NULL);
    char *yaml = import(toml, len, "fork.toml", 15);
    NL_ASSERT_STREQ(yaml, want);
    NL_ASSERT_STREQ(msg, want_msg);
    /* A few of those lines, spelled out. */
    NL_ASSERT(strstr(msg, "fork.toml:10: warning: mqtt: not supported by libneolink (no MQTT "
                          "client), ignored\n"));
    NL_ASSERT(strstr(msg, "fork.toml:45: warning: cameras[1]: has only a uid: reaching cameras "
                          "by UID (P2P/UDP) is not supported by libneolink; left out (add its "
                          "address)\n"));
    NL_ASSERT(strstr(msg, "fork.toml:59: warning: cameras[2].unknown_key: unknown neolink key, "
                          "ignored\n"));
    /* Options switched off, or at neolink's default, are not worth a warning. */
    NL_ASSERT(!strstr(msg, "push_notifications"));
    NL_ASSERT(!strstr(msg, "print_format"));
    NL_ASSERT(!strstr(msg, "tls_client_auth"));
    NL_ASSERT(strstr(yaml, "# camera garden (line 45 of the neolink file) left out"));

    nl_config *cfg = load_yaml(yaml);
    NL_ASSERT_STREQ(cfg->bind, "127.0.0.1");
    NL_ASSERT_EQ(cfg->bind_port, 9554);
    NL_ASSERT_EQ(cfg->user_count, 1);
    NL_ASSERT_STREQ(cfg->users[0].pass.value, "viewer\\secret"); /* a literal string */
    NL_ASSERT_EQ(cfg->camera_count, 2);
    const nl_config_camera *f = camera(cfg, "front-door");
    NL_ASSERT_STREQ(f->host, "cam1.lan"); /* camera_addr alias; the uid is ignored */
    NL_ASSERT_EQ(f->port, 9000);
    NL_ASSERT_STREQ(f->password.value, "front-secret"); /* `pass` alias */
    NL_ASSERT_EQ(f->channel_id, 1);                     /* `channel` alias */
    NL_ASSERT_EQ(f->stream, NL_CFG_STREAM_SUB);
    NL_ASSERT_EQ(f->max_encryption, NL_CFG_ENC_BC);
    NL_ASSERT_EQ(f->on_demand, 1);
    NL_ASSERT_EQ(f->enabled, 1);
    NL_ASSERT_EQ(f->permitted_user_count, 2);
    NL_ASSERT_STREQ(f->permitted_users[1], "anyone");
    NL_ASSERT(nl_config_camera_allows(cfg, f, NULL));
    const nl_config_camera *g = camera(cfg, "Garage_Cam__2");
    NL_ASSERT_STREQ(g->host, "fe80::1");
    NL_ASSERT_EQ(g->enabled, 0); /* stream = "none" */
    NL_ASSERT_EQ(g->max_encryption, NL_CFG_ENC_NONE);
    nl_config_free(&cfg);

    static const char *const secrets[] = {"mqtt-secret",   "viewer\\secret", "front-secret",
                                          "garden-secret", "garage-secret",  NULL};
    no_secrets(msg, secrets);
    nl_config_import_free(&yaml);
    free(want_msg);
    free(want);
    free(toml);
}

static void test_broken(void)
{
    size_t len;
    char *toml = read_data("broken.toml", &len);
    char *yaml = (char *)1;
    size_t ylen = 7;
    int rc = nl_config_import_neolink(toml, len, "neolink.toml", &yaml, &ylen, msg, sizeof msg);
    NL_ASSERT_EQ(rc, NL_ECONFIG);
    NL_ASSERT(yaml == NULL);
    NL_ASSERT_EQ(ylen, 0);
    NL_ASSERT_STREQ(msg, "neolink.toml:12: expected '=' after key\n");
    free(toml);

    /* A syntax error never quotes the value: it may be a password. */
    static const char *const values[] = {"password = hunter2secret\n", "password = 12hunter2\n",
                                         "password = \"a\\qhunter2\"\n", "password = @hunter2\n",
                                         "password = 1e5hunter2\n"};
    for (size_t i = 0; i < sizeof values / sizeof values[0]; i++) {
        rc = nl_config_import_neolink(values[i], strlen(values[i]), "n.toml", &yaml, NULL, msg,
                                      sizeof msg);
        NL_ASSERT_EQ(rc, NL_ECONFIG);
        NL_ASSERT(!strncmp(msg, "n.toml:1: ", 10));
        static const char *const secrets[] = {"hunter2", NULL};
        no_secrets(msg, secrets);
    }

    rc = nl_config_import_neolink("a = \"x\n", 7, NULL, &yaml, NULL, msg, sizeof msg);
    NL_ASSERT_EQ(rc, NL_ECONFIG);
    NL_ASSERT_STREQ(msg, "<string>:1: newline in a single-line string (use \"\"\" for text over "
                         "several lines)\n");
}

/* Passwords and names that would change meaning in plain YAML survive. */
static void test_escaping(void)
{
    static const char *const pw[] = {
        "'single' and \"double\"",
        "back\\slash",
        "# hash",
        "key: value",
        "no",
        "~",
        "null",
        "- dash",
        "[1, 2]",
        "{a: b}",
        "&anchor *alias",
        "!tag",
        "%percent",
        "@at `tick`",
        "tab\there",
        "new\nline",
        "bell\x07",
        "del\x7f",
        "nel\xc2\x85",
        "ls\xe2\x80\xa8ps\xe2\x80\xa9",
        "bom\xef\xbb\xbf",
        "\xef\xbf\xbe",
        "caf\xc3\xa9 \xf0\x9f\x98\x80",
        " lead and trail ",
        "",
    };
    size_t n = sizeof pw / sizeof pw[0];
    char toml[8192];
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        o += (size_t)snprintf(toml + o, sizeof toml - o,
                              "[[cameras]]\nname = \"c%zu\"\naddress = \"h%zu\"\npassword = \"", i,
                              i);
        for (const unsigned char *s = (const unsigned char *)pw[i]; *s; s++) {
            if (*s == '"' || *s == '\\')
                o += (size_t)snprintf(toml + o, sizeof toml - o, "\\%c", *s);
            else if (*s < 0x20 || *s == 0x7f)
                o += (size_t)snprintf(toml + o, sizeof toml - o, "\\u%04x", *s);
            else
                toml[o++] = (char)*s;
        }
        o += (size_t)snprintf(toml + o, sizeof toml - o, "\"\n");
    }
    toml[o] = '\0';
    char *yaml = import_str(toml, 0);
    nl_config *cfg = load_yaml(yaml);
    NL_ASSERT_EQ(cfg->camera_count, n);
    for (size_t i = 0; i < n; i++) {
        NL_ASSERT_STREQ(cfg->cameras[i].password.value, pw[i]);
        NL_ASSERT_EQ(cfg->cameras[i].password.source, NL_CFG_SECRET_INLINE);
    }
    nl_config_free(&cfg);
    /* Control characters are escapes, never raw bytes in the YAML. */
    NL_ASSERT(strstr(yaml, "\"bell\\x07\""));
    NL_ASSERT(strstr(yaml, "\"new\\x0aline\""));
    NL_ASSERT(strstr(yaml, "\"ls\\u2028ps\\u2029\""));
    nl_config_import_free(&yaml);
}

static void test_aliases_and_types(void)
{
    char *yaml = import_str("bind_addr = \"10.0.0.1\"\n"
                            "bind = \"10.0.0.2\"\n"
                            "bind_port = \"8554\"\n"
                            "tokio_console = false\n"
                            "[[cameras]]\n"
                            "name = \"a\"\n"
                            "address = \"h:9001\"\n"
                            "camera_addr = \"other\"\n"
                            "password = \"p1-secret\"\n"
                            "pass = \"p2-secret\"\n"
                            "channel_id = 1.5\n"
                            "stream = \"MainStream\"\n"
                            "max_encryption = \"aes\"\n"
                            "enabled = \"yes\"\n"
                            "idle = true\n"
                            "permitted_users = [\"u\", 3]\n"
                            "pause = 1\n",
                            8);
    NL_ASSERT_STREQ(msg,
                    "n.toml:2: warning: bind: the same setting as 'bind_addr' on line 1 (a "
                    "neolink alias); ignored\n"
                    "n.toml:3: warning: bind_port: expected an integer, got a string; ignored\n"
                    "n.toml:8: warning: cameras[0].camera_addr: the same setting as 'address' on "
                    "line 7 (a neolink alias); ignored\n"
                    "n.toml:10: warning: cameras[0].pass: the same setting as 'password' on line "
                    "9 (a neolink alias); ignored\n"
                    "n.toml:11: warning: cameras[0].channel_id: expected an integer, got a float; "
                    "ignored\n"
                    "n.toml:14: warning: cameras[0].enabled: expected true or false, got a "
                    "string; ignored\n"
                    "n.toml:16: warning: cameras[0].permitted_users: an entry is an integer, not "
                    "a user name; left out\n"
                    "n.toml:17: warning: cameras[0].pause: expected a table, got an integer; "
                    "ignored\n");
    NL_ASSERT_STREQ(yaml, "# Imported from the neolink configuration n.toml.\n"
                          "# It holds the passwords of that file: keep it private (chmod 600).\n"
                          "bind: \"10.0.0.1\"\n"
                          "cameras:\n"
                          "  - name: \"a\"\n"
                          "    address: \"h:9001\"\n"
                          "    password: \"p1-secret\"\n"
                          "    stream: main\n"
                          "    permitted_users: [\"u\"]\n"
                          "    max_encryption: aes\n"
                          "    on_demand: true\n");
    static const char *const secrets[] = {"p1-secret", "p2-secret", NULL};
    no_secrets(msg, secrets);
    nl_config_import_free(&yaml);
}

static void test_names(void)
{
    char *yaml = import_str("[[cameras]]\nname = \"a b\"\naddress = \"h1\"\n"
                            "[[cameras]]\nname = \"a_b\"\naddress = \"h2\"\n"
                            "[[cameras]]\naddress = \"h3\"\n"
                            "[[cameras]]\nname = \"\xc3\xa9t\xc3\xa9\"\naddress = \"h4\"\n"
                            "[[cameras]]\nname = \"\"\naddress = \"h5\"\n",
                            5);
    nl_config *cfg = load_yaml(yaml);
    NL_ASSERT_EQ(cfg->camera_count, 5);
    NL_ASSERT_STREQ(cfg->cameras[0].name, "a_b");
    NL_ASSERT_STREQ(cfg->cameras[1].name, "a_b_2");
    NL_ASSERT_STREQ(cfg->cameras[2].name, "camera3");
    NL_ASSERT_STREQ(cfg->cameras[3].name, "_t_"); /* one '_' per character, not per byte */
    NL_ASSERT_STREQ(cfg->cameras[4].name, "camera5");
    nl_config_free(&cfg);
    NL_ASSERT(strstr(msg, "n.toml:5: warning: cameras[1].name: an earlier camera has the same "
                          "name; imported as 'a_b_2' (RTSP path /a_b_2)\n"));
    NL_ASSERT(strstr(msg, "n.toml:7: warning: cameras[2].name: missing; imported as 'camera3' "
                          "(RTSP path /camera3)\n"));
    NL_ASSERT(strstr(msg, "n.toml:13: warning: cameras[4].name: empty; imported as 'camera5'"));
    nl_config_import_free(&yaml);

    /* A long name is cut to 64 bytes; a clash then still fits. */
    char toml[1024];
    char longname[101];
    memset(longname, 'x', 100);
    longname[100] = '\0';
    snprintf(toml, sizeof toml,
             "[[cameras]]\nname = \"%s\"\naddress = \"h\"\n[[cameras]]\nname = \"%s\"\n"
             "address = \"h\"\n",
             longname, longname);
    yaml = import_str(toml, 3);
    cfg = load_yaml(yaml);
    NL_ASSERT_EQ(strlen(cfg->cameras[0].name), 64);
    NL_ASSERT_EQ(strlen(cfg->cameras[1].name), 55);
    NL_ASSERT(!strcmp(cfg->cameras[1].name + 53, "_2"));
    nl_config_free(&cfg);
    nl_config_import_free(&yaml);
}

static void test_users_and_skips(void)
{
    char *yaml = import_str("[[users]]\nname = \"nopass\"\n"
                            "[[users]]\npass = \"orphan-secret\"\n"
                            "[[users]]\nname = \"x\"\npass = \"x-secret\"\nrole = \"admin\"\n"
                            "[[cameras]]\nname = \"battery\"\nuid = \"UID1\"\n"
                            "[[cameras]]\nname = \"nowhere\"\n",
                            6);
    NL_ASSERT_STREQ(msg, "n.toml:1: warning: users[0].pass: no password; imported as an empty "
                         "one\n"
                         "n.toml:3: warning: users[1]: user without a name; left out\n"
                         "n.toml:8: warning: users[2].role: unknown neolink key, ignored\n"
                         "n.toml:9: warning: cameras[0]: has only a uid: reaching cameras by UID "
                         "(P2P/UDP) is not supported by libneolink; left out (add its address)\n"
                         "n.toml:9: warning: cameras: no camera could be imported\n"
                         "n.toml:12: warning: cameras[1]: has no address; left out\n");
    NL_ASSERT(strstr(yaml, "users:\n  - name: \"nopass\"\n    pass: \"\"\n  - name: \"x\"\n"
                           "    pass: \"x-secret\"\n# camera battery (line 9 of the neolink "
                           "file) left out: reached by uid only; add `address: HOST[:PORT]`\n"
                           "# camera nowhere (line 12 of the neolink file) left out: no "
                           "address\n"));
    NL_ASSERT(!strstr(yaml, "cameras:"));
    nl_config_import_free(&yaml);

    /* Wrong shapes for the lists. */
    yaml = import_str("users = 3\ncameras = [1, \"x\"]\n[mqtt]\nport = 1\n", 5);
    NL_ASSERT(strstr(msg, "n.toml:1: warning: users: expected an array, got an integer; "
                          "ignored\n"));
    NL_ASSERT(strstr(msg, "n.toml:2: warning: cameras[0]: expected a [[cameras]] table, got an "
                          "integer; ignored\n"));
    NL_ASSERT(strstr(msg, "n.toml:2: warning: cameras[1]: expected a [[cameras]] table, got a "
                          "string; ignored\n"));
    nl_config_import_free(&yaml);

    /* An empty document: only the header, and one warning. */
    yaml = import_str("", 1);
    NL_ASSERT_STREQ(msg, "n.toml: warning: cameras: no camera could be imported\n");
    nl_config_import_free(&yaml);
}

/* Text copied into YAML comments (a skipped camera's name, the source
 * name) can neither end the comment early nor break UTF-8 when cut. */
static void test_comments(void)
{
    char toml[512];
    snprintf(toml, sizeof toml,
             "[[cameras]]\nname = \"x\\u2028bind: evil\\u0085bind_port: 1\\nbind: y\"\n"
             "uid = \"U1\"\n"
             "[[cameras]]\nname = \"%s\xf0\x9f\x98\x80\"\nuid = \"U2\"\n"
             "[[cameras]]\nname = \"ok\"\naddress = \"h\"\n",
             "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa" /* 63 */);
    char *yaml = NULL;
    int rc = nl_config_import_neolink(toml, strlen(toml), "src\nbind: z \xff\xe2\x80\xa8.toml",
                                      &yaml, NULL, msg, sizeof msg);
    NL_ASSERT_EQ(rc, 2);
    NL_ASSERT(strstr(yaml, "# Imported from the neolink configuration src?bind: z ??.toml.\n"));
    NL_ASSERT(strstr(yaml, "# camera x?bind: evil?bind_port: 1?bind: y (line 1 of the neolink "
                           "file) left out"));
    NL_ASSERT(strstr(yaml,
                     "# camera aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa "
                     "(line 4"));
    nl_config *cfg = load_yaml(yaml);
    NL_ASSERT_STREQ(cfg->bind, "0.0.0.0");
    NL_ASSERT_EQ(cfg->bind_port, 8554);
    NL_ASSERT_EQ(cfg->camera_count, 1);
    nl_config_free(&cfg);
    nl_config_import_free(&yaml);

    /* A quoted key with control characters is named in one printable line. */
    yaml = import_str("\"a\tb\\u0001\" = 1\n", 2);
    NL_ASSERT_STREQ(msg, "n.toml:1: warning: a?b?: unknown neolink key, ignored\n"
                         "n.toml: warning: cameras: no camera could be imported\n");
    nl_config_import_free(&yaml);
}

static void test_limits(void)
{
    /* More cameras than a configuration may hold. */
    size_t cap = 300 * 48;
    char *toml = malloc(cap);
    NL_ASSERT(toml);
    size_t o = 0;
    for (int i = 0; i < 300; i++)
        o += (size_t)snprintf(toml + o, cap - o, "[[cameras]]\nname = \"c%d\"\naddress = \"h\"\n",
                              i);
    char *yaml = import(toml, o, "n.toml", 1);
    NL_ASSERT_STREQ(msg, "n.toml:769: warning: cameras[256]: more than 256 cameras; the rest are "
                         "left out\n");
    nl_config *cfg = load_yaml(yaml);
    NL_ASSERT_EQ(cfg->camera_count, NL_CONFIG_MAX_CAMERAS);
    nl_config_free(&cfg);
    nl_config_import_free(&yaml);
    free(toml);

    /* Too large, NULL arguments. */
    yaml = (char *)1;
    NL_ASSERT_EQ(nl_config_import_neolink("", NL_CONFIG_MAX_FILE_SIZE + 1, "big.toml", &yaml, NULL,
                                          msg, sizeof msg),
                 NL_ETOOBIG);
    NL_ASSERT(yaml == NULL);
    NL_ASSERT_STREQ(msg, "big.toml: file larger than 1048576 bytes\n");
    NL_ASSERT_EQ(nl_config_import_neolink(NULL, 0, NULL, &yaml, NULL, msg, sizeof msg), NL_EINVAL);
    NL_ASSERT_EQ(nl_config_import_neolink("", 0, NULL, NULL, NULL, msg, sizeof msg), NL_EINVAL);

    /* Many warnings: the report stops at 50 lines and counts the rest. */
    cap = 200 * 16;
    toml = malloc(cap);
    NL_ASSERT(toml);
    o = 0;
    for (int i = 0; i < 200; i++)
        o += (size_t)snprintf(toml + o, cap - o, "k%d = 1\n", i);
    yaml = import(toml, o, "n.toml", 201);
    size_t lines = 0;
    for (const char *p = msg; *p; p++)
        lines += *p == '\n';
    NL_ASSERT_EQ(lines, 51);
    NL_ASSERT(strstr(msg, "n.toml: ... and 151 more messages\n"));
    NL_ASSERT(!strncmp(msg, "n.toml:1: warning: k0: unknown neolink key, ignored\n", 52));
    NL_ASSERT(strstr(msg, "\nn.toml:50: warning: k49: unknown neolink key, ignored\nn.toml: ..."));
    nl_config_import_free(&yaml);

    /* The report shows the earliest lines even when they are handled last:
     * the camera on line 1 is converted after every top-level key. */
    o = (size_t)snprintf(toml, cap, "cameras = [{name = \"a b\", address = \"h\"}]\n");
    for (int i = 0; i < 100; i++)
        o += (size_t)snprintf(toml + o, cap - o, "k%d = 1\n", i);
    yaml = import(toml, o, "n.toml", 101);
    NL_ASSERT(!strncmp(msg, "n.toml:1: warning: cameras[0].name: 'a b' cannot", 48));
    NL_ASSERT(strstr(msg, "\nn.toml:50: warning: k48: unknown neolink key, ignored\nn.toml: ... "
                          "and 51 more messages\n"));
    nl_config_import_free(&yaml);
    free(toml);

    /* A small message buffer is cut, never overrun; NULL is fine too. */
    char small[16];
    memset(small, 'x', sizeof small);
    yaml = NULL;
    NL_ASSERT_EQ(nl_config_import_neolink("k = 1\n", 6, "n.toml", &yaml, NULL, small, sizeof small),
                 2);
    NL_ASSERT(memchr(small, '\0', sizeof small) != NULL);
    nl_config_import_free(&yaml);
    NL_ASSERT_EQ(nl_config_import_neolink("k = 1\n", 6, "n.toml", &yaml, NULL, NULL, 0), 2);
    nl_config_import_free(&yaml);
}

/* ------------------------------------------------------------ allocation failure */


static void test_oom(void)
{
    size_t len;
    char *toml = read_data("fork.toml", &len);
    nl_fail_alloc_arm(0, false);
    long base = nl_allocator_live();
    int done = 0;
    long n;
    for (n = 0; !done && n < 100000; n++) {
        nl_fail_alloc_arm(n + 1, true); /* n allocations succeed */
        char *yaml = (char *)1;
        int rc = nl_config_import_neolink(toml, len, "fork.toml", &yaml, NULL, msg, sizeof msg);
        nl_fail_alloc_arm(0, false);
        if (rc == NL_ENOMEM) {
            NL_ASSERT(yaml == NULL);
            NL_ASSERT(strstr(msg, "out of memory"));
        } else {
            NL_ASSERT_EQ(rc, 15);
            done = 1;
        }
        nl_config_import_free(&yaml);
        if (nl_allocator_live() != base)
            NL_FAIL("leak after failing allocation %ld", n);
        nl_test_checks++;
    }
    nl_allocator_set(NULL);
    NL_ASSERT(done);
    NL_ASSERT(n > 5);
    free(toml);
}

int main(void)
{
    NL_RUN(test_basic);
    NL_RUN(test_fork);
    NL_RUN(test_broken);
    NL_RUN(test_escaping);
    NL_RUN(test_aliases_and_types);
    NL_RUN(test_names);
    NL_RUN(test_users_and_skips);
    NL_RUN(test_comments);
    NL_RUN(test_limits);
    NL_RUN(test_oom);
    NL_DONE();
}
