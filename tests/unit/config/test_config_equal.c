/* nl_config_camera_equal: what a reload counts as a change. */
#include <string.h>

#include "neolink/config.h"
#include "neolink/error.h"
#include "test.h"

static nl_config *load(const char *doc)
{
    char err[1024];
    nl_config *cfg = NULL;
    int rc = nl_config_load_string(&cfg, doc, strlen(doc), "r.yaml", 0, err, sizeof err);
    if (rc != 0)
        NL_FAIL("rc %d: %s", rc, err);
    return cfg;
}

static const nl_config_camera *find(const nl_config *cfg, const char *name)
{
    for (size_t i = 0; i < cfg->camera_count; i++)
        if (!strcmp(cfg->cameras[i].name, name))
            return &cfg->cameras[i];
    NL_FAIL("no camera %s", name);
}

static void test_reload(void)
{
    static const char before[] = "users: [{name: v, pass: p}]\n"
                                 "cameras:\n"
                                 "  - {name: a, address: h1, password: x, permitted_users: [v],\n"
                                 "     transcode: {codec: h264, width: 640}}\n"
                                 "  - {name: b, address: h2}\n"
                                 "  - {name: c, address: h3, keepalive: 5s}\n";
    /* a moved to the end (other lines), b unchanged but respelled with
     * explicit defaults, c's keepalive changed. */
    static const char after[] = "# a comment shifts every line\n"
                                "users: [{name: v, pass: p}]\n"
                                "cameras:\n"
                                "  - name: b\n"
                                "    address: h2:9000\n"
                                "    username: admin\n"
                                "    stream: all\n"
                                "    reconnect: {min: 50ms, max: 5s}\n"
                                "  - {name: c, address: h3, keepalive: 6s}\n"
                                "  - {name: a, address: h1, password: x, permitted_users: [v],\n"
                                "     transcode: {codec: h264, width: 640}}\n";
    nl_config *x = load(before), *y = load(after);
    NL_ASSERT(find(x, "a")->line != find(y, "a")->line);
    NL_ASSERT_EQ(nl_config_camera_equal(find(x, "a"), find(y, "a")), 1);
    NL_ASSERT_EQ(nl_config_camera_equal(find(x, "b"), find(y, "b")), 1);
    NL_ASSERT_EQ(nl_config_camera_equal(find(x, "c"), find(y, "c")), 0);
    NL_ASSERT_EQ(nl_config_camera_equal(find(x, "a"), find(x, "b")), 0);
    NL_ASSERT_EQ(nl_config_camera_equal(find(x, "a"), find(x, "a")), 1);
    NL_ASSERT_EQ(nl_config_camera_equal(NULL, NULL), 1);
    NL_ASSERT_EQ(nl_config_camera_equal(find(x, "a"), NULL), 0);
    nl_config_free(&x);
    nl_config_free(&y);
}

/* Changing any one setting makes the camera differ. */
static void test_every_field(void)
{
    nl_config_camera base;
    nl_config_camera_defaults(&base);
    base.name = "cam";
    base.host = "10.0.0.1";
    static const char *const users_a[] = {"u1", "u2"};
    static const char *const users_b[] = {"u1", "u3"};
    base.permitted_users = users_a;
    base.permitted_user_count = 2;
    nl_config_transcode tbase = {NL_CFG_CODEC_H264,     640, 360, 15, 800000, NL_CFG_HW_AUTO,
                                 "/dev/dri/renderD128", 0};
    base.transcode = &tbase;

    /* Equal to a copy whose strings live elsewhere. */
    nl_config_camera c = base;
    char name[] = "cam", host[] = "10.0.0.1";
    c.name = name;
    c.host = host;
    nl_config_transcode tcopy = tbase;
    c.transcode = &tcopy;
    NL_ASSERT_EQ(nl_config_camera_equal(&base, &c), 1);
    c.line = 99; /* the position in the file is not a setting */
    NL_ASSERT_EQ(nl_config_camera_equal(&base, &c), 1);

#define DIFFERS(stmt)                                                                              \
    do {                                                                                           \
        nl_config_camera m = base;                                                                 \
        nl_config_transcode mt = tbase;                                                            \
        m.transcode = &mt;                                                                         \
        stmt;                                                                                      \
        if (nl_config_camera_equal(&base, &m) != 0 || nl_config_camera_equal(&m, &base) != 0)      \
            NL_FAIL("change not detected: %s", #stmt);                                             \
        nl_test_checks++;                                                                          \
    } while (0)

    DIFFERS(m.name = "cam2");
    DIFFERS(m.host = "10.0.0.2");
    DIFFERS(m.port = 9001);
    DIFFERS(m.username = "root");
    DIFFERS(m.password.value = "x");
    DIFFERS(m.password.source = NL_CFG_SECRET_INLINE);
    DIFFERS(m.password.ref = "VAR");
    DIFFERS(m.channel_id = 1);
    DIFFERS(m.stream = NL_CFG_STREAM_MAIN);
    DIFFERS(m.permitted_users = users_b);
    DIFFERS(m.permitted_user_count = 1);
    DIFFERS((m.permitted_users = NULL, m.permitted_user_count = 0));
    DIFFERS(m.max_encryption = NL_CFG_ENC_BC);
    DIFFERS(m.enabled = 0);
    DIFFERS(m.on_demand = 0);
    DIFFERS(m.idle_linger_ns = 1);
    DIFFERS(m.keepalive_ns = 1);
    DIFFERS(m.keepalive_misses = 1);
    DIFFERS(m.stall_timeout_ns = 1);
    DIFFERS(m.reconnect_min_ns = 1);
    DIFFERS(m.reconnect_max_ns = 1);
    DIFFERS(m.max_clients = 3);
    DIFFERS(m.audio = NL_CFG_AUDIO_OFF);
    DIFFERS(m.transcode = NULL);
    DIFFERS(mt.codec = NL_CFG_CODEC_H265);
    DIFFERS(mt.width = 320);
    DIFFERS(mt.height = 180);
    DIFFERS(mt.fps = 10);
    DIFFERS(mt.bitrate = 1);
    DIFFERS(mt.hwaccel = NL_CFG_HW_VAAPI);
    DIFFERS(mt.device = NULL);
    DIFFERS(mt.replace = 1);
#undef DIFFERS
}

int main(void)
{
    NL_RUN(test_reload);
    NL_RUN(test_every_field);
    NL_DONE();
}
