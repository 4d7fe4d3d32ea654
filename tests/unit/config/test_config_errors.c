/* Every validation error: each case is a document and the exact report it
 * must produce (file, line, key path and message). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "neolink/config.h"
#include "neolink/error.h"
#include "test.h"

/* A valid camera entry to append where a case needs one (lines 1-3). */
#define CAM "cameras:\n  - name: cam\n    address: 10.0.0.1\n"

typedef struct err_case {
    const char *yaml;
    const char *report;
} err_case;

static const err_case structural[] = {
    /* Unknown keys, with and without a close known key. */
    {"bind_prot: 1\n" CAM, "config.yaml:1: bind_prot: unknown key (did you mean 'bind_port'?)\n"},
    {CAM "    adress: x\n",
     "config.yaml:4: cameras[0].adress: unknown key (did you mean 'address'?)\n"},
    {CAM "    pasword: x\n",
     "config.yaml:4: cameras[0].pasword: unknown key (did you mean 'password'?)\n"},
    {CAM "    colour: red\n", "config.yaml:4: cameras[0].colour: unknown key\n"},
    {CAM "    transcode:\n      codex: h264\n",
     "config.yaml:5: cameras[0].transcode.codex: unknown key (did you mean 'codec'?)\n"},
    {"users:\n  - name: a\n    password: x\n" CAM,
     "config.yaml:3: users[0].password: unknown key (did you mean 'pass'?)\n"},
    {CAM "    pass: x\n",
     "config.yaml:4: cameras[0].pass: unknown key (did you mean 'password'?)\n"},
    /* Duplicate and missing keys. */
    {"bind_port: 1\n" CAM "bind_port: 2\n",
     "config.yaml:5: bind_port: duplicate key (first given on line 1)\n"},
    {"cameras:\n  - name: a\n", "config.yaml:2: cameras[0].address: required key is missing\n"},
    {"cameras:\n  - address: b\n  - {}\n",
     "config.yaml:2: cameras[0].name: required key is missing\n"
     "config.yaml:3: cameras[1].name: required key is missing\n"
     "config.yaml:3: cameras[1].address: required key is missing\n"},
    /* Node kinds. */
    {"cameras: yard\n",
     "config.yaml:1: cameras: expected a list (write [] for an empty one), got a single value\n"},
    {"cameras:\n  name: x\n",
     "config.yaml:2: cameras: expected a list (write [] for an empty one), got a mapping\n"},
    {"bind: [a, b]\n" CAM, "config.yaml:1: bind: expected a single value, got a list\n"},
    {CAM "    reconnect: 5s\n",
     "config.yaml:4: cameras[0].reconnect: expected a mapping (key: value lines), got a single "
     "value\n"},
    {"- a\n", "config.yaml:1: expected a mapping of settings (key: value lines), got a list\n"},
    {"just text\n",
     "config.yaml:1: expected a mapping of settings (key: value lines), got a single value\n"},
    {"? [a]\n: b\n" CAM, "config.yaml:1: keys must be plain words, not a list\n"},
    /* Scalars. */
    {CAM "    channel_id: 0x10\n",
     "config.yaml:4: cameras[0].channel_id: expected a whole number, got '0x10'\n"},
    {CAM "    channel_id: 1.5\n",
     "config.yaml:4: cameras[0].channel_id: expected a whole number, got '1.5'\n"},
    {"bind_port: 99999999999999999999\n" CAM, "config.yaml:1: bind_port: number out of range\n"},
    {"bind_port: 010\n" CAM,
     "config.yaml:1: bind_port: expected a whole number without leading zeros, got '010'\n"},
    {CAM "    channel_id: -01\n",
     "config.yaml:4: cameras[0].channel_id: expected a whole number without leading zeros, got "
     "'-01'\n"},
    {CAM "    enabled: maybe\n",
     "config.yaml:4: cameras[0].enabled: expected true or false, got 'maybe'\n"},
    {CAM "    stream: mian\n",
     "config.yaml:4: cameras[0].stream: expected one of all|main|sub|extern|both, got 'mian'\n"},
    {CAM "    max_encryption: full\n",
     "config.yaml:4: cameras[0].max_encryption: expected one of none|bc|aes, got 'full'\n"},
    {CAM "    audio: mp3\n",
     "config.yaml:4: cameras[0].audio: expected one of aac|pcmu|pcma|off, got 'mp3'\n"},
    {CAM "    transcode: {hwaccel: cuda}\n",
     "config.yaml:4: cameras[0].transcode.hwaccel: expected one of auto|vaapi|software, got "
     "'cuda'\n"},
    {"log_level: verbose\n" CAM,
     "config.yaml:1: log_level: expected one of error|warn|info|debug|trace, got 'verbose'\n"},
    {"cameras:\n  - name: \"\"\n    address: x\n",
     "config.yaml:2: cameras[0].name: must not be empty\n"},
    {CAM "    keepalive:\n", "config.yaml:4: cameras[0].keepalive: must not be empty\n"},
    {"cameras:\n  - name: "
     "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\n    address: x\n",
     "config.yaml:2: cameras[0].name: too long (at most 64 bytes)\n"},
    {"bind: \"a\\0b\"\n" CAM, "config.yaml:1: bind: contains a NUL character\n"},
    /* Longer than the camera's login field: said by `check`, never quoted. */
    {CAM "    password: " "pppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppp\n",
     "config.yaml:4: cameras[0].password: the password is longer than 63 bytes (the camera's "
     "login field)\n"},
    {CAM "    username: " "uuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuu\n",
     "config.yaml:4: cameras[0].username: longer than 63 bytes (the camera's login field)\n"},

    /* Document level. */
    {"bind: &a x\nhttp: *a\n" CAM, "config.yaml:2: http: YAML aliases are not supported\n"},
    {CAM "---\n" CAM, "config.yaml:4: only one YAML document is allowed (remove this '---')\n"},
    {"bind: a: b\n", "config.yaml:1: YAML syntax error: mapping values are not allowed in this "
                     "context\n"},
    /* Mis-indented: libyaml closes the entry first, so it lacks its address. */
    {"cameras:\n  - name: a\n   address: b\n",
     "config.yaml:2: cameras[0].address: required key is missing\n"
     "config.yaml:3: YAML syntax error: while parsing a block collection: did not find expected "
     "'-' indicator\n"},
    {"cameras:\n\t- name: a\n",
     "config.yaml:2: YAML syntax error: while scanning for the next token: found character that "
     "cannot start any token (use spaces, not tabs)\n"},
    {CAM "    name2: \xff\n", "config.yaml:4: not valid UTF-8 text: invalid leading UTF-8 octet\n"},
};

static const err_case semantic[] = {
    {"", "config.yaml:1: cameras: no cameras configured (add at least one entry)\n"},
    {"bind_port: 8554\n\ncameras: []\n",
     "config.yaml:3: cameras: no cameras configured (add at least one entry)\n"},
    {"cameras:\n  - name: bad name\n    address: x\n",
     "config.yaml:2: cameras[0].name: only letters, digits, '-' and '_' are allowed (it is part "
     "of the RTSP path)\n"},
    {"cameras:\n  - name: a\n    address: 10.0.0.1:99999\n",
     "config.yaml:3: cameras[0].address: expected HOST[:PORT] (port 1-65535)\n"},
    {"cameras:\n  - name: a\n    address: 10.0.0.1 9000\n",
     "config.yaml:3: cameras[0].address: expected HOST[:PORT]\n"},
    {"cameras:\n  - name: a\n    address: fe80::1\n",
     "config.yaml:3: cameras[0].address: expected HOST[:PORT] (write IPv6 addresses as "
     "[ADDR]:PORT)\n"},
    {CAM "  - name: b\n    address: x\n  - name: cam\n    address: y\n",
     "config.yaml:6: cameras[2].name: duplicate camera name 'cam' (first on line 2)\n"},
    {"users:\n  - name: u\n    pass: a\n  - name: u\n    pass: b\n" CAM,
     "config.yaml:4: users[1].name: duplicate user name (first on line 2)\n"},
    {"users:\n  - name: anyone\n    pass: a\n" CAM,
     "config.yaml:2: users[0].name: 'anyone' is reserved (it means no login)\n"},
    {"users:\n  - name: \"a:b\"\n    pass: a\n" CAM,
     "config.yaml:2: users[0].name: must not contain ':', '\"', blanks or control characters\n"},
    {"users:\n  - name: u\n" CAM,
     "config.yaml:2: users[0].pass: required (or give pass_file or pass_env)\n"},
    {"users:\n  - name: u\n    pass: a\n    pass_env: B\n" CAM,
     "config.yaml:4: users[0].pass_env: give only one of pass, pass_file and pass_env\n"},
    {CAM "    password: a\n    password_file: /x\n",
     "config.yaml:5: cameras[0].password_file: give only one of password, password_file and "
     "password_env\n"},
    {CAM "    password_env: 1BAD\n",
     "config.yaml:4: cameras[0].password_env: not a valid environment variable name\n"},
    {CAM "    password_env: NL_TEST_SURELY_UNSET_VAR\n",
     "config.yaml:4: cameras[0].password_env: environment variable NL_TEST_SURELY_UNSET_VAR is "
     "not set\n"},
    {CAM "    password_file: /nonexistent/nl-pass\n",
     "config.yaml:4: cameras[0].password_file: cannot read /nonexistent/nl-pass: no such file or "
     "object\n"},
    {CAM "    password_file: \"/nonexistent/a\\nb\"\n",
     "config.yaml:4: cameras[0].password_file: cannot read /nonexistent/a?b: no such file or "
     "object\n"},
    {CAM "    password_file: /dev/null\n",
     "config.yaml:4: cameras[0].password_file: /dev/null is not a regular text file\n"},
    {"users:\n  - name: u\n    pass: p\n" CAM "    permitted_users: [u, ghost]\n",
     "config.yaml:7: cameras[0].permitted_users[1]: unknown user 'ghost' (not in users)\n"},
    {CAM "    permitted_users: []\n",
     "config.yaml:4: cameras[0].permitted_users: empty list (leave the key out to admit every "
     "user, or list 'anyone')\n"},
    /* Ranges. */
    {"bind_port: 0\n" CAM, "config.yaml:1: bind_port: must be between 1 and 65535\n"},
    {"bind: 0.0.0.0:8554\n" CAM,
     "config.yaml:1: bind: expected an IP address or host name (without a port)\n"},
    {"http: 127.0.0.1:http\n" CAM, "config.yaml:1: http: expected HOST[:PORT] or off\n"},
    {"max_clients: 0\n" CAM, "config.yaml:1: max_clients: must be between 1 and 100000\n"},
    {"shutdown_timeout: 0\n" CAM, "config.yaml:1: shutdown_timeout: must be between 1ms and 5m\n"},
    {"shutdown_timeout: -2s\n" CAM,
     "config.yaml:1: shutdown_timeout: expected a duration such as 2s, 500ms, 1.5s, 1m or 1h, "
     "got '-2s'\n"},
    {"watchdog_timeout: 500ms\n" CAM,
     "config.yaml:1: watchdog_timeout: must be between 1s and 1h\n"},
    {"watchdog_timeout: 99999999999h\n" CAM,
     "config.yaml:1: watchdog_timeout: duration out of range\n"},
    {CAM "    channel_id: 256\n",
     "config.yaml:4: cameras[0].channel_id: must be between 0 and 255\n"},
    {CAM "    channel_id: -1\n",
     "config.yaml:4: cameras[0].channel_id: must be between 0 and 255\n"},
    {CAM "    keepalive: 1ms\n",
     "config.yaml:4: cameras[0].keepalive: must be between 100ms and 10m\n"},
    {CAM "    keepalive_misses: 0\n",
     "config.yaml:4: cameras[0].keepalive_misses: must be between 1 and 100\n"},
    {CAM "    stall_timeout: 5x\n",
     "config.yaml:4: cameras[0].stall_timeout: expected a duration such as 2s, 500ms, 1.5s, 1m "
     "or 1h, got '5x'\n"},
    {CAM "    idle_linger: 25h\n",
     "config.yaml:4: cameras[0].idle_linger: must be between 0s and 24h\n"},
    {CAM "    reconnect: {min: 10s, max: 1s}\n",
     "config.yaml:4: cameras[0].reconnect.min: reconnect.min must not exceed reconnect.max\n"},
    {CAM "    reconnect:\n      max: 10ms\n",
     "config.yaml:5: cameras[0].reconnect.max: reconnect.min must not exceed reconnect.max\n"},
    {CAM "    max_clients: 0\n",
     "config.yaml:4: cameras[0].max_clients: must be between 1 and 100000\n"},
    {CAM "    transcode:\n      width: 641\n      height: 8\n      fps: 0\n",
     "config.yaml:5: cameras[0].transcode.width: must be an even number between 16 and 8192\n"
     "config.yaml:6: cameras[0].transcode.height: must be an even number between 16 and 8192\n"
     "config.yaml:7: cameras[0].transcode.fps: must be between 1 and 240\n"},
    {CAM "    transcode:\n      bitrate: 1Mbps\n",
     "config.yaml:5: cameras[0].transcode.bitrate: expected bits per second such as 1M, 800k or "
     "2000000\n"},
    {CAM "    transcode:\n      bitrate: 2G\n",
     "config.yaml:5: cameras[0].transcode.bitrate: must be between 16k and 1G\n"},
    {CAM "    transcode:\n      device: dri/renderD128\n",
     "config.yaml:5: cameras[0].transcode.device: expected an absolute path such as "
     "/dev/dri/renderD128\n"},
};

static void expect(const err_case *c)
{
    char err[4096];
    nl_config *cfg = (nl_config *)(uintptr_t)1;
    int rc =
        nl_config_load_string(&cfg, c->yaml, strlen(c->yaml), "config.yaml", 0, err, sizeof err);
    if (rc != NL_ECONFIG)
        NL_FAIL("rc %d for:\n%s\nreport:\n%s", rc, c->yaml, err);
    NL_ASSERT(cfg == NULL);
    if (strcmp(err, c->report) != 0)
        NL_FAIL("for:\n%s\nexpected:\n%sgot:\n%s", c->yaml, c->report, err);
    nl_test_checks++;
}

static void test_structural(void)
{
    for (size_t i = 0; i < sizeof structural / sizeof structural[0]; i++)
        expect(&structural[i]);
}

static void test_semantic(void)
{
    for (size_t i = 0; i < sizeof semantic / sizeof semantic[0]; i++)
        expect(&semantic[i]);
}

/* One document with several semantic problems: all of them, in order. */
static void test_all_reported(void)
{
    static const err_case c = {
        "bind_port: 70000\n"               /* 1 */
        "users:\n"                         /* 2 */
        "  - name: viewer\n"               /* 3 */
        "cameras:\n"                       /* 4 */
        "  - name: yard\n"                 /* 5 */
        "    address: 192.168.1.10:9000\n" /* 6 */
        "    permitted_users: [viewr]\n"   /* 7 */
        "  - name: yard\n"                 /* 8 */
        "    address: \"[::1]:0\"\n"       /* 9 */
        "    keepalive: 5 s\n",            /* 10 */
        "config.yaml:1: bind_port: must be between 1 and 65535\n"
        "config.yaml:3: users[0].pass: required (or give pass_file or pass_env)\n"
        "config.yaml:7: cameras[0].permitted_users[0]: unknown user 'viewr' (not in users)\n"
        "config.yaml:9: cameras[1].address: expected HOST[:PORT] (port 1-65535)\n"
        "config.yaml:10: cameras[1].keepalive: expected a duration such as 2s, 500ms, 1.5s, 1m "
        "or 1h, got '5 s'\n"
        "config.yaml:8: cameras[1].name: duplicate camera name 'yard' (first on line 5)\n",
    };
    expect(&c);
}

/* Lists longer than the caps are refused, and the report stays bounded. */
static void test_caps(void)
{
    size_t cap = 300 * 64 + 64;
    char *yaml = malloc(cap);
    size_t n = (size_t)snprintf(yaml, cap, "cameras:\n");
    for (int i = 0; i < 257; i++)
        n += (size_t)snprintf(yaml + n, cap - n, "  - {name: c%d, address: h}\n", i);
    err_case c = {yaml, "config.yaml:258: cameras: too many entries (at most 256)\n"};
    expect(&c);

    /* 300 unknown keys: 50 lines, then a count of the rest. */
    n = 0;
    for (int i = 0; i < 300; i++)
        n += (size_t)snprintf(yaml + n, cap - n, "zz%d: 1\n", i);
    char err[8192];
    nl_config *cfg = NULL;
    NL_ASSERT_EQ(nl_config_load_string(&cfg, yaml, n, "config.yaml", 0, err, sizeof err),
                 NL_ECONFIG);
    NL_ASSERT(strstr(err, "config.yaml:50: zz49: unknown key\n") != NULL);
    NL_ASSERT(strstr(err, "zz50") == NULL);
    NL_ASSERT(strstr(err, "config.yaml: ... and 250 more messages\n") != NULL);
    free(yaml);

    /* A document over 1 MiB is refused before parsing. */
    size_t big = NL_CONFIG_MAX_FILE_SIZE + 1;
    char *huge = malloc(big);
    memset(huge, '#', big);
    NL_ASSERT_EQ(nl_config_load_string(&cfg, huge, big, "big.yaml", 0, err, sizeof err),
                 NL_ECONFIG);
    NL_ASSERT_STREQ(err, "big.yaml: larger than 1048576 bytes; not a configuration file?\n");
    free(huge);

    /* A small error buffer gets a terminated prefix of the report. */
    char tiny[16];
    NL_ASSERT_EQ(
        nl_config_load_string(&cfg, "bind_prot: 1\n", 13, "config.yaml", 0, tiny, sizeof tiny),
        NL_ECONFIG);
    NL_ASSERT_STREQ(tiny, "config.yaml:1: ");
    NL_ASSERT_EQ(nl_config_load_string(&cfg, "bind_prot: 1\n", 13, NULL, 0, NULL, 0), NL_ECONFIG);
}

static void test_bad_arguments(void)
{
    char err[64];
    nl_config *cfg = NULL;
    NL_ASSERT_EQ(nl_config_load_string(NULL, "", 0, NULL, 0, err, sizeof err), NL_EINVAL);
    NL_ASSERT_EQ(nl_config_load_string(&cfg, NULL, 5, NULL, 0, err, sizeof err), NL_EINVAL);
    NL_ASSERT_EQ(nl_config_load_file(NULL, "x", err, sizeof err), NL_EINVAL);
    NL_ASSERT_EQ(nl_config_load_file(&cfg, NULL, err, sizeof err), NL_EINVAL);
    NL_ASSERT_EQ(nl_config_load_file(&cfg, "/nonexistent/config.yaml", err, sizeof err), NL_ENOENT);
    NL_ASSERT_STREQ(err, "/nonexistent/config.yaml: cannot read: no such file or object\n");
    NL_ASSERT(cfg == NULL);
    NL_ASSERT_EQ(nl_config_load_file(&cfg, "/", err, sizeof err), NL_EINVAL);
    NL_ASSERT_STREQ(err, "/: cannot read: is a directory\n");
}

int main(void)
{
    NL_RUN(test_structural);
    NL_RUN(test_semantic);
    NL_RUN(test_all_reported);
    NL_RUN(test_caps);
    NL_RUN(test_bad_arguments);
    NL_DONE();
}
