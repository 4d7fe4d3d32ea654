/* Loading valid files: every key of tests/data/config/full.yaml, the
 * defaults, password sources and the world-readable warning. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "neolink/config.h"
#include "neolink/error.h"
#include "test.h"

#define MS INT64_C(1000000)
#define S  INT64_C(1000000000)

static nl_config *load(const char *path, unsigned flags, char *err, size_t len)
{
    nl_config *cfg = NULL;
    int rc = nl_config_load_file_ex(&cfg, path, flags, err, len);
    if (rc != 0)
        NL_FAIL("%s: rc %d (%s)\n%s", path, rc, nl_strerror(rc), err);
    NL_ASSERT(cfg != NULL);
    return cfg;
}

static void test_full(void)
{
    setenv("NL_TEST_ADMIN2_PASS", "admin2-env-secret", 1);
    setenv("NL_TEST_DOOR_PASS", "door-env-secret", 1);
    char err[2048];
    nl_config *cfg = load(NL_TEST_DATA "/config/full.yaml", 0, err, sizeof err);
    NL_ASSERT_STREQ(err, ""); /* no warning: no inline password */
    NL_ASSERT_EQ(cfg->warning_count, 0);
    NL_ASSERT_STREQ(cfg->source, NL_TEST_DATA "/config/full.yaml");
    NL_ASSERT_STREQ(cfg->bind, "127.0.0.2");
    NL_ASSERT_EQ(cfg->bind_port, 10554);
    NL_ASSERT_EQ(cfg->http_enabled, 1);
    NL_ASSERT_STREQ(cfg->http_host, "127.0.0.1");
    NL_ASSERT_EQ(cfg->http_port, 19090);
    NL_ASSERT_EQ(cfg->shutdown_timeout_ns, 1500 * MS);
    NL_ASSERT_EQ(cfg->watchdog_timeout_ns, 120 * S);
    NL_ASSERT_EQ(cfg->max_clients, 42);
    NL_ASSERT_EQ(cfg->log_level, NL_LOG_DEBUG);

    NL_ASSERT_EQ(cfg->user_count, 2);
    const nl_config_user *u = &cfg->users[0];
    NL_ASSERT_STREQ(u->name, "viewer");
    NL_ASSERT_STREQ(u->pass.value, "viewer-file-secret"); /* newline stripped */
    NL_ASSERT_EQ(u->pass.source, NL_CFG_SECRET_FILE);
    NL_ASSERT_STREQ(u->pass.ref, "secrets/viewer.pass");
    NL_ASSERT_EQ(u->line, 11);
    u = &cfg->users[1];
    NL_ASSERT_STREQ(u->name, "admin2");
    NL_ASSERT_STREQ(u->pass.value, "admin2-env-secret");
    NL_ASSERT_EQ(u->pass.source, NL_CFG_SECRET_ENV);
    NL_ASSERT_STREQ(u->pass.ref, "NL_TEST_ADMIN2_PASS");
    NL_ASSERT_EQ(u->line, 13);
    NL_ASSERT(nl_config_find_user(cfg, "admin2") == u);
    NL_ASSERT(nl_config_find_user(cfg, "nobody") == NULL);

    NL_ASSERT_EQ(cfg->camera_count, 2);
    const nl_config_camera *c = &cfg->cameras[0];
    NL_ASSERT_STREQ(c->name, "yard");
    NL_ASSERT_EQ(c->line, 16);
    NL_ASSERT_STREQ(c->host, "192.168.1.10");
    NL_ASSERT_EQ(c->port, 9001);
    NL_ASSERT_STREQ(c->username, "operator");
    NL_ASSERT_STREQ(c->password.value, "yard-file-secret"); /* CR LF stripped */
    NL_ASSERT_EQ(c->password.source, NL_CFG_SECRET_FILE);
    NL_ASSERT_STREQ(c->password.ref, "secrets/yard.pass");
    NL_ASSERT_EQ(c->channel_id, 3);
    NL_ASSERT_EQ(c->stream, NL_CFG_STREAM_BOTH);
    NL_ASSERT_EQ(c->permitted_user_count, 2);
    NL_ASSERT_STREQ(c->permitted_users[0], "viewer");
    NL_ASSERT_STREQ(c->permitted_users[1], "admin2");
    NL_ASSERT_EQ(c->max_encryption, NL_CFG_ENC_BC);
    NL_ASSERT_EQ(c->enabled, 1);
    NL_ASSERT_EQ(c->on_demand, 0);
    NL_ASSERT_EQ(c->idle_linger_ns, 30 * S);
    NL_ASSERT_EQ(c->keepalive_ns, 2500 * MS);
    NL_ASSERT_EQ(c->keepalive_misses, 7);
    NL_ASSERT_EQ(c->stall_timeout_ns, 20 * S);
    NL_ASSERT_EQ(c->reconnect_min_ns, 100 * MS);
    NL_ASSERT_EQ(c->reconnect_max_ns, 60 * S);
    NL_ASSERT_EQ(c->max_clients, 20);
    NL_ASSERT_EQ(c->audio, NL_CFG_AUDIO_PCMU);
    const nl_config_transcode *t = c->transcode;
    NL_ASSERT(t != NULL);
    NL_ASSERT_EQ(t->codec, NL_CFG_CODEC_H265);
    NL_ASSERT_EQ(t->width, 640);
    NL_ASSERT_EQ(t->height, 360);
    NL_ASSERT_EQ(t->fps, 15);
    NL_ASSERT_EQ(t->bitrate, 800000);
    NL_ASSERT_EQ(t->hwaccel, NL_CFG_HW_SOFTWARE);
    NL_ASSERT_STREQ(t->device, "/dev/dri/renderD129");
    NL_ASSERT_EQ(t->replace, 1);

    c = &cfg->cameras[1];
    NL_ASSERT_STREQ(c->name, "door-1");
    NL_ASSERT_EQ(c->line, 42);
    NL_ASSERT_STREQ(c->host, "fe80::1");
    NL_ASSERT_EQ(c->port, 9000);
    NL_ASSERT_STREQ(c->username, "admin");
    NL_ASSERT_STREQ(c->password.value, "door-env-secret");
    NL_ASSERT_EQ(c->password.source, NL_CFG_SECRET_ENV);
    NL_ASSERT_EQ(c->stream, NL_CFG_STREAM_SUB);
    NL_ASSERT_EQ(c->permitted_user_count, 1);
    NL_ASSERT_STREQ(c->permitted_users[0], "anyone");
    NL_ASSERT_EQ(c->max_encryption, NL_CFG_ENC_NONE);
    NL_ASSERT_EQ(c->enabled, 0);
    NL_ASSERT_EQ(c->on_demand, 1);
    NL_ASSERT_EQ(c->audio, NL_CFG_AUDIO_OFF);
    NL_ASSERT(c->transcode == NULL);
    NL_ASSERT_EQ(c->keepalive_ns, 5 * S);
    nl_config_free(&cfg);
    NL_ASSERT(cfg == NULL);
    nl_config_free(&cfg); /* pointer to NULL: no-op */
    nl_config_free(NULL);
}

static void check_defaults(const nl_config *cfg)
{
    NL_ASSERT_STREQ(cfg->bind, "0.0.0.0");
    NL_ASSERT_EQ(cfg->bind_port, 8554);
    NL_ASSERT_EQ(cfg->http_enabled, 1);
    NL_ASSERT_STREQ(cfg->http_host, "127.0.0.1");
    NL_ASSERT_EQ(cfg->http_port, 9090);
    NL_ASSERT_EQ(cfg->shutdown_timeout_ns, 2 * S);
    NL_ASSERT_EQ(cfg->watchdog_timeout_ns, 60 * S);
    NL_ASSERT_EQ(cfg->max_clients, 100);
    NL_ASSERT_EQ(cfg->log_level, -1);
    NL_ASSERT_EQ(cfg->user_count, 0);
    NL_ASSERT(cfg->users == NULL);
}

static void check_camera_defaults(const nl_config_camera *c)
{
    NL_ASSERT_EQ(c->port, 9000);
    NL_ASSERT_STREQ(c->username, "admin");
    NL_ASSERT_STREQ(c->password.value, "");
    NL_ASSERT_EQ(c->password.source, NL_CFG_SECRET_NONE);
    NL_ASSERT(c->password.ref == NULL);
    NL_ASSERT_EQ(c->channel_id, 0);
    NL_ASSERT_EQ(c->stream, NL_CFG_STREAM_ALL);
    NL_ASSERT(c->permitted_users == NULL);
    NL_ASSERT_EQ(c->permitted_user_count, 0);
    NL_ASSERT_EQ(c->max_encryption, NL_CFG_ENC_AES);
    NL_ASSERT_EQ(c->enabled, 1);
    NL_ASSERT_EQ(c->on_demand, 1);
    NL_ASSERT_EQ(c->idle_linger_ns, 10 * S);
    NL_ASSERT_EQ(c->keepalive_ns, 5 * S);
    NL_ASSERT_EQ(c->keepalive_misses, 5);
    NL_ASSERT_EQ(c->stall_timeout_ns, 10 * S);
    NL_ASSERT_EQ(c->reconnect_min_ns, 50 * MS);
    NL_ASSERT_EQ(c->reconnect_max_ns, 5 * S);
    NL_ASSERT_EQ(c->max_clients, 0);
    NL_ASSERT_EQ(c->audio, NL_CFG_AUDIO_AAC);
    NL_ASSERT(c->transcode == NULL);
}

static void test_defaults(void)
{
    char err[512];
    nl_config *cfg = load(NL_TEST_DATA "/config/minimal.yaml", 0, err, sizeof err);
    NL_ASSERT_STREQ(err, "");
    check_defaults(cfg);
    NL_ASSERT_EQ(cfg->camera_count, 1);
    const nl_config_camera *c = &cfg->cameras[0];
    NL_ASSERT_STREQ(c->name, "cam");
    NL_ASSERT_STREQ(c->host, "camera.local");
    NL_ASSERT_EQ(c->line, 2);
    check_camera_defaults(c);
    nl_config_free(&cfg);

    NL_ASSERT_OK(nl_config_defaults(&cfg));
    check_defaults(cfg);
    NL_ASSERT_EQ(cfg->camera_count, 0);
    NL_ASSERT(cfg->cameras == NULL);
    NL_ASSERT_STREQ(cfg->source, "");
    nl_config_free(&cfg);
    NL_ASSERT_EQ(nl_config_defaults(NULL), NL_EINVAL);

    nl_config_camera cam;
    memset(&cam, 0x5a, sizeof cam);
    nl_config_camera_defaults(&cam);
    NL_ASSERT(cam.name == NULL && cam.host == NULL);
    check_camera_defaults(&cam);

    /* An empty document (or a bare null) is all defaults; it needs the flag. */
    const char *empties[] = {"", "~\n", "# nothing\n", "---\n", "null\n"};
    for (size_t i = 0; i < sizeof empties / sizeof empties[0]; i++) {
        NL_ASSERT_EQ(nl_config_load_string(&cfg, empties[i], strlen(empties[i]), "e.yaml", 0, err,
                                           sizeof err),
                     NL_ECONFIG);
        NL_ASSERT_OK(nl_config_load_string(&cfg, empties[i], strlen(empties[i]), "e.yaml",
                                           NL_CONFIG_ALLOW_NO_CAMERAS, err, sizeof err));
        check_defaults(cfg);
        NL_ASSERT_EQ(cfg->camera_count, 0);
        NL_ASSERT_STREQ(cfg->source, "e.yaml");
        nl_config_free(&cfg);
    }

    /* Spellings: case-insensitive enums, YAML booleans, "http: off",
     * watchdog 0, an IPv6 bind. */
    const char *doc = "bind: \"::\"\nhttp: OFF\nwatchdog_timeout: 0\nlog_level: Warning\n"
                      "cameras:\n  - {name: a, address: h, stream: Main, audio: PCMA,"
                      " max_encryption: AES, on_demand: No, enabled: YES}\n";
    NL_ASSERT_OK(nl_config_load_string(&cfg, doc, strlen(doc), NULL, 0, err, sizeof err));
    NL_ASSERT_STREQ(cfg->bind, "::");
    NL_ASSERT_EQ(cfg->http_enabled, 0);
    NL_ASSERT_EQ(cfg->watchdog_timeout_ns, 0);
    NL_ASSERT_EQ(cfg->log_level, NL_LOG_WARN);
    NL_ASSERT_STREQ(cfg->source, "<string>");
    NL_ASSERT_EQ(cfg->cameras[0].stream, NL_CFG_STREAM_MAIN);
    NL_ASSERT_EQ(cfg->cameras[0].audio, NL_CFG_AUDIO_PCMA);
    NL_ASSERT_EQ(cfg->cameras[0].max_encryption, NL_CFG_ENC_AES);
    NL_ASSERT_EQ(cfg->cameras[0].on_demand, 0);
    NL_ASSERT_EQ(cfg->cameras[0].enabled, 1);
    nl_config_free(&cfg);
}

static void test_enum_names(void)
{
    NL_ASSERT_STREQ(nl_config_stream_name(NL_CFG_STREAM_ALL), "all");
    NL_ASSERT_STREQ(nl_config_stream_name(NL_CFG_STREAM_BOTH), "both");
    NL_ASSERT_STREQ(nl_config_stream_name(NL_CFG_STREAM_EXTERN), "extern");
    NL_ASSERT_STREQ(nl_config_stream_name((nl_config_stream)99), "?");
    NL_ASSERT_STREQ(nl_config_encryption_name(NL_CFG_ENC_BC), "bc");
    NL_ASSERT_STREQ(nl_config_audio_name(NL_CFG_AUDIO_PCMU), "pcmu");
    NL_ASSERT_STREQ(nl_config_audio_name(NL_CFG_AUDIO_OFF), "off");
    NL_ASSERT_STREQ(nl_config_codec_name(NL_CFG_CODEC_H265), "h265");
    NL_ASSERT_STREQ(nl_config_hwaccel_name(NL_CFG_HW_VAAPI), "vaapi");
}

/* Writes text to a fresh file in dir with the given mode; returns its path. */
static void write_file(const char *path, const char *text, mode_t mode)
{
    FILE *f = fopen(path, "w");
    if (!f)
        NL_FAIL("cannot create %s", path);
    fputs(text, f);
    fclose(f);
    NL_ASSERT_EQ(chmod(path, mode), 0);
}

static void test_secrets_and_warning(void)
{
    char dir[] = "/tmp/nl_config_test_XXXXXX";
    NL_ASSERT(mkdtemp(dir) != NULL);
    char cfg_path[256], pass_path[256], err[2048];
    snprintf(cfg_path, sizeof cfg_path, "%s/config.yaml", dir);
    snprintf(pass_path, sizeof pass_path, "%s/cam.pass", dir);
    write_file(pass_path, "file-pass\n\n", 0600);

    static const char doc[] = "users:\n"
                              "  - name: viewer\n"
                              "    pass: inline-user-secret\n"
                              "cameras:\n"
                              "  - name: a\n"
                              "    address: h\n"
                              "    password: \"inline-cam-secret\"\n"
                              "  - name: b\n"
                              "    address: h\n"
                              "    password_file: cam.pass\n" /* relative to the config */
                              "  - name: c\n"
                              "    address: h\n"
                              "    password: \"\"\n";
    write_file(cfg_path, doc, 0644);
    nl_config *cfg = load(cfg_path, 0, err, sizeof err);
    char expected[2048];
    snprintf(expected, sizeof expected,
             "%s:3: warning: users[0].pass: password written in a file that other users can "
             "read (chmod o-r the file, or use pass_file or pass_env)\n"
             "%s:7: warning: cameras[0].password: password written in a file that other users "
             "can read (chmod o-r the file, or use password_file or password_env)\n"
             "%s:13: warning: cameras[2].password: password written in a file that other users "
             "can read (chmod o-r the file, or use password_file or password_env)\n",
             cfg_path, cfg_path, cfg_path);
    NL_ASSERT_STREQ(err, expected);
    NL_ASSERT(strstr(err, "secret") == NULL); /* no value in any message */
    NL_ASSERT_EQ(cfg->warning_count, 3);
    NL_ASSERT_STREQ(cfg->users[0].pass.value, "inline-user-secret");
    NL_ASSERT_EQ(cfg->users[0].pass.source, NL_CFG_SECRET_INLINE);
    NL_ASSERT(cfg->users[0].pass.ref == NULL);
    NL_ASSERT_STREQ(cfg->cameras[0].password.value, "inline-cam-secret");
    NL_ASSERT_STREQ(cfg->cameras[1].password.value, "file-pass");
    NL_ASSERT_EQ(cfg->cameras[1].password.source, NL_CFG_SECRET_FILE);
    NL_ASSERT_STREQ(cfg->cameras[1].password.ref, "cam.pass");
    NL_ASSERT_STREQ(cfg->cameras[2].password.value, "");
    NL_ASSERT_EQ(cfg->cameras[2].password.source, NL_CFG_SECRET_INLINE);
    nl_config_free(&cfg);

    /* Not readable by others: no warning. */
    NL_ASSERT_EQ(chmod(cfg_path, 0640), 0);
    cfg = load(cfg_path, 0, err, sizeof err);
    NL_ASSERT_STREQ(err, "");
    NL_ASSERT_EQ(cfg->warning_count, 0);
    nl_config_free(&cfg);

    /* From memory there is no file mode, hence no warning; a relative
     * password file is relative to the working directory. */
    NL_ASSERT_EQ(nl_config_load_string(&cfg, doc, strlen(doc), "s.yaml", 0, err, sizeof err),
                 NL_ECONFIG);
    NL_ASSERT_STREQ(err, "s.yaml:10: cameras[1].password_file: cannot read cam.pass: no such "
                         "file or object\n");
    char cwd[512];
    NL_ASSERT(getcwd(cwd, sizeof cwd) != NULL);
    NL_ASSERT_EQ(chdir(dir), 0);
    NL_ASSERT_OK(nl_config_load_string(&cfg, doc, strlen(doc), "s.yaml", 0, err, sizeof err));
    NL_ASSERT_STREQ(err, "");
    NL_ASSERT_STREQ(cfg->cameras[1].password.value, "file-pass");
    nl_config_free(&cfg);
    NL_ASSERT_EQ(chdir(cwd), 0);

    /* Password file limits: 1024 bytes plus newlines is fine, 1025 is not;
     * a NUL byte inside is refused. (An RTSP user's: a camera's password
     * has the camera's own, shorter limit, checked below.) */
    char big[1100];
    memset(big, 'x', sizeof big);
    memcpy(big + NL_CONFIG_SECRET_MAX, "\r\n\n", 4);
    write_file(pass_path, big, 0600);
    static const char one[] = "users:\n  - name: u\n    pass_file: cam.pass\n"
                              "cameras:\n  - name: a\n    address: h\n";
    write_file(cfg_path, one, 0600);
    cfg = load(cfg_path, 0, err, sizeof err);
    NL_ASSERT_EQ(strlen(cfg->users[0].pass.value), NL_CONFIG_SECRET_MAX);
    nl_config_free(&cfg);
    big[NL_CONFIG_SECRET_MAX] = 'y';
    write_file(pass_path, big, 0600);
    NL_ASSERT_EQ(nl_config_load_file(&cfg, cfg_path, err, sizeof err), NL_ECONFIG);
    snprintf(expected, sizeof expected,
             "%s:3: users[0].pass_file: password file %s/cam.pass is longer than 1024 "
             "bytes\n",
             cfg_path, dir);
    NL_ASSERT_STREQ(err, expected);
    FILE *f = fopen(pass_path, "wb");
    fwrite("ab\0cd", 1, 5, f);
    fclose(f);
    NL_ASSERT_EQ(nl_config_load_file(&cfg, cfg_path, err, sizeof err), NL_ECONFIG);
    snprintf(expected, sizeof expected,
             "%s:3: users[0].pass_file: %s/cam.pass is not a regular text file\n", cfg_path,
             dir);
    NL_ASSERT_STREQ(err, expected);

    /* A camera's password from a file: at most the camera's 63 bytes. */
    static const char cam_doc[] = "cameras:\n  - name: a\n    address: h\n"
                                  "    password_file: cam.pass\n";
    write_file(cfg_path, cam_doc, 0600);
    char cam_pass[NL_CONFIG_CAMERA_CREDENTIAL_MAX + 3];
    memset(cam_pass, 'c', NL_CONFIG_CAMERA_CREDENTIAL_MAX + 1);
    memcpy(cam_pass + NL_CONFIG_CAMERA_CREDENTIAL_MAX + 1, "\n", 2);
    write_file(pass_path, cam_pass, 0600);
    NL_ASSERT_EQ(nl_config_load_file(&cfg, cfg_path, err, sizeof err), NL_ECONFIG);
    snprintf(expected, sizeof expected,
             "%s:4: cameras[0].password_file: the password is longer than 63 bytes (the "
             "camera's login field)\n",
             cfg_path);
    NL_ASSERT_STREQ(err, expected);

    /* Environment: set but empty is an empty password; too long is refused. */
    static const char env_doc[] = "cameras:\n  - name: a\n    address: h\n"
                                  "    password_env: NL_TEST_CAM_PASS\n";
    setenv("NL_TEST_CAM_PASS", "", 1);
    NL_ASSERT_OK(nl_config_load_string(&cfg, env_doc, strlen(env_doc), NULL, 0, err, sizeof err));
    NL_ASSERT_STREQ(cfg->cameras[0].password.value, "");
    NL_ASSERT_EQ(cfg->cameras[0].password.source, NL_CFG_SECRET_ENV);
    nl_config_free(&cfg);
    big[1050] = '\0';
    setenv("NL_TEST_CAM_PASS", big, 1);
    NL_ASSERT_EQ(nl_config_load_string(&cfg, env_doc, strlen(env_doc), NULL, 0, err, sizeof err),
                 NL_ECONFIG);
    NL_ASSERT_STREQ(err, "<string>:4: cameras[0].password_env: environment variable "
                         "NL_TEST_CAM_PASS is longer than 1024 bytes\n");
    unsetenv("NL_TEST_CAM_PASS");

    unlink(pass_path);
    unlink(cfg_path);
    rmdir(dir);
}

int main(void)
{
    NL_RUN(test_full);
    NL_RUN(test_defaults);
    NL_RUN(test_enum_names);
    NL_RUN(test_secrets_and_warning);
    NL_DONE();
}
