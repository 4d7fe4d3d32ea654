/* RTSP paths per camera and who may watch. */
#include <string.h>

#include "neolink/config.h"
#include "neolink/error.h"
#include "test.h"

static nl_config_path paths[NL_CONFIG_PATHS_MAX];

static size_t list(const nl_config_camera *cam)
{
    memset(paths, 0, sizeof paths);
    return nl_config_camera_paths(cam, paths, NL_CONFIG_PATHS_MAX);
}

static void expect(size_t i, const char *path, nl_config_stream s, int transcoded, int alias)
{
    if (strcmp(paths[i].path, path) != 0)
        NL_FAIL("path %zu: '%s' != '%s'", i, paths[i].path, path);
    NL_ASSERT_EQ(paths[i].stream, s);
    NL_ASSERT_EQ(paths[i].transcoded, transcoded);
    NL_ASSERT_EQ(paths[i].alias, alias);
}

static void expect_aliases(size_t at, const char *name, const char *const forms[6],
                           nl_config_stream s, int transcoded)
{
    char p[NL_CONFIG_PATH_MAX];
    for (size_t k = 0; k < 6; k++) {
        snprintf(p, sizeof p, "/%s/%s", name, forms[k]);
        expect(at + k, p, s, transcoded, k > 0);
    }
}

static const char *const main_forms[6] = {"main", "mainStream", "MainStream",
                                          "Main", "Mainstream", "mainstream"};
static const char *const sub_forms[6] = {"sub", "subStream", "SubStream",
                                         "Sub", "Substream", "substream"};
static const char *const extern_forms[6] = {"extern", "externStream", "ExternStream",
                                            "Extern", "Externstream", "externstream"};

static void test_streams(void)
{
    nl_config_camera cam;
    nl_config_camera_defaults(&cam);
    cam.name = "yard";
    cam.host = "10.0.0.1";

    NL_ASSERT_EQ(list(&cam), 19); /* stream: all */
    expect(0, "/yard", NL_CFG_STREAM_MAIN, 0, 0);
    expect_aliases(1, "yard", main_forms, NL_CFG_STREAM_MAIN, 0);
    expect_aliases(7, "yard", sub_forms, NL_CFG_STREAM_SUB, 0);
    expect_aliases(13, "yard", extern_forms, NL_CFG_STREAM_EXTERN, 0);

    cam.stream = NL_CFG_STREAM_MAIN;
    NL_ASSERT_EQ(list(&cam), 7);
    expect(0, "/yard", NL_CFG_STREAM_MAIN, 0, 0);
    expect_aliases(1, "yard", main_forms, NL_CFG_STREAM_MAIN, 0);

    cam.stream = NL_CFG_STREAM_SUB;
    NL_ASSERT_EQ(list(&cam), 7);
    expect(0, "/yard", NL_CFG_STREAM_SUB, 0, 0);
    expect_aliases(1, "yard", sub_forms, NL_CFG_STREAM_SUB, 0);

    cam.stream = NL_CFG_STREAM_EXTERN;
    NL_ASSERT_EQ(list(&cam), 7);
    expect(0, "/yard", NL_CFG_STREAM_EXTERN, 0, 0);
    expect_aliases(1, "yard", extern_forms, NL_CFG_STREAM_EXTERN, 0);

    cam.stream = NL_CFG_STREAM_BOTH;
    NL_ASSERT_EQ(list(&cam), 13);
    expect(0, "/yard", NL_CFG_STREAM_MAIN, 0, 0);
    expect_aliases(1, "yard", main_forms, NL_CFG_STREAM_MAIN, 0);
    expect_aliases(7, "yard", sub_forms, NL_CFG_STREAM_SUB, 0);
}

static void test_transcode(void)
{
    nl_config_camera cam;
    nl_config_camera_defaults(&cam);
    cam.name = "yard";
    nl_config_transcode t = {.codec = NL_CFG_CODEC_H264};
    cam.transcode = &t;

    NL_ASSERT_EQ(list(&cam), 23);
    expect(0, "/yard", NL_CFG_STREAM_MAIN, 0, 0);
    expect_aliases(13, "yard", extern_forms, NL_CFG_STREAM_EXTERN, 0);
    expect(19, "/yard/main/h264", NL_CFG_STREAM_MAIN, 1, 0);
    expect(20, "/yard/sub/h264", NL_CFG_STREAM_SUB, 1, 0);
    expect(21, "/yard/extern/h264", NL_CFG_STREAM_EXTERN, 1, 0);
    expect(22, "/yard/h264", NL_CFG_STREAM_MAIN, 1, 0);

    /* replace: the plain paths are transcoded too. */
    t.replace = 1;
    t.codec = NL_CFG_CODEC_H265;
    cam.stream = NL_CFG_STREAM_SUB;
    NL_ASSERT_EQ(list(&cam), 9);
    expect(0, "/yard", NL_CFG_STREAM_SUB, 1, 0);
    expect_aliases(1, "yard", sub_forms, NL_CFG_STREAM_SUB, 1);
    expect(7, "/yard/sub/h265", NL_CFG_STREAM_SUB, 1, 0);
    expect(8, "/yard/h265", NL_CFG_STREAM_SUB, 1, 0);
}

static void test_limits(void)
{
    nl_config_camera cam;
    nl_config_camera_defaults(&cam);
    /* The longest name: every path still fits. */
    char name[NL_CONFIG_NAME_MAX + 1];
    memset(name, 'n', NL_CONFIG_NAME_MAX);
    name[NL_CONFIG_NAME_MAX] = '\0';
    cam.name = name;
    nl_config_transcode t = {.codec = NL_CFG_CODEC_H265};
    cam.transcode = &t;
    NL_ASSERT_EQ(list(&cam), 23);
    for (size_t i = 0; i < 23; i++)
        NL_ASSERT(strncmp(paths[i].path + 1, name, NL_CONFIG_NAME_MAX) == 0);
    char p[NL_CONFIG_PATH_MAX];
    snprintf(p, sizeof p, "/%s/externstream", name);
    expect(18, p, NL_CFG_STREAM_EXTERN, 0, 1);
    snprintf(p, sizeof p, "/%s/extern/h265", name);
    expect(21, p, NL_CFG_STREAM_EXTERN, 1, 0);

    /* A short array gets the first entries; the count is the total. */
    nl_config_path few[3];
    memset(few, 0, sizeof few);
    cam.name = "a";
    NL_ASSERT_EQ(nl_config_camera_paths(&cam, few, 3), 23);
    NL_ASSERT_STREQ(few[0].path, "/a");
    NL_ASSERT_STREQ(few[2].path, "/a/mainStream");
    NL_ASSERT_EQ(nl_config_camera_paths(&cam, NULL, 0), 23);
    NL_ASSERT_EQ(nl_config_camera_paths(NULL, few, 3), 0);
}

static void test_allows(void)
{
    char err[1024];
    nl_config *cfg = NULL;
    static const char doc[] = "users:\n"
                              "  - {name: viewer, pass: a}\n"
                              "  - {name: other, pass: b}\n"
                              "cameras:\n"
                              "  - {name: open, address: h}\n"
                              "  - {name: listed, address: h, permitted_users: [viewer]}\n"
                              "  - {name: public, address: h, permitted_users: [viewer, anyone]}\n";
    NL_ASSERT_OK(nl_config_load_string(&cfg, doc, strlen(doc), NULL, 0, err, sizeof err));
    const nl_config_camera *open = &cfg->cameras[0], *listed = &cfg->cameras[1],
                           *pub = &cfg->cameras[2];
    NL_ASSERT_EQ(nl_config_camera_allows(cfg, open, NULL), 0);
    NL_ASSERT_EQ(nl_config_camera_allows(cfg, open, "viewer"), 1);
    NL_ASSERT_EQ(nl_config_camera_allows(cfg, open, "other"), 1);
    NL_ASSERT_EQ(nl_config_camera_allows(cfg, open, "ghost"), 0);
    NL_ASSERT_EQ(nl_config_camera_allows(cfg, listed, NULL), 0);
    NL_ASSERT_EQ(nl_config_camera_allows(cfg, listed, "viewer"), 1);
    NL_ASSERT_EQ(nl_config_camera_allows(cfg, listed, "other"), 0);
    NL_ASSERT_EQ(nl_config_camera_allows(cfg, pub, NULL), 1);
    NL_ASSERT_EQ(nl_config_camera_allows(cfg, pub, "other"), 1);
    NL_ASSERT_EQ(nl_config_camera_allows(NULL, pub, "other"), 0);
    nl_config_free(&cfg);

    /* Without users there is no login: everyone may watch. */
    static const char nousers[] = "cameras:\n  - {name: a, address: h}\n";
    NL_ASSERT_OK(nl_config_load_string(&cfg, nousers, strlen(nousers), NULL, 0, err, sizeof err));
    NL_ASSERT_EQ(nl_config_camera_allows(cfg, &cfg->cameras[0], NULL), 1);
    NL_ASSERT_EQ(nl_config_camera_allows(cfg, &cfg->cameras[0], "x"), 1);
    nl_config_free(&cfg);
}

int main(void)
{
    NL_RUN(test_streams);
    NL_RUN(test_transcode);
    NL_RUN(test_limits);
    NL_RUN(test_allows);
    NL_DONE();
}
